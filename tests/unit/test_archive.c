/*
 * test_archive.c - the archive destinations and sources through the
 * transport wrappers: what a commit writes reads back, and a commit that
 * cannot write the whole image writes nothing and leaves an existing file.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/config.h"
#include "derrick/image.h"
#include "derrick/transport.h"
#include "derrick/util.h"
#include "tap.h"

static char dir[64];
static struct dk_transport_opts opts;

/* A one-layer image: an empty tar (two zero records) and a config naming its diff_id. */
struct image {
	struct dk_desc config, layer;
	char *config_path, *layer_path;
	struct dk_manifest_blob m;
};

static char *put_file(const char *name, const void *data, size_t len)
{
	char *path = dk_path_join(dir, name);
	struct dk_err err;

	if (dk_write_file_atomic(path, data, len, 0644, &err) < 0)
		fprintf(stdout, "# %s\n", err.msg);
	return path;
}

static void make_image(struct image *im, const char *diff_id_override)
{
	static const char zeros[1024];
	char *cfg;

	memset(im, 0, sizeof(*im));
	im->layer_path = put_file("layer", zeros, sizeof(zeros));
	strcpy(im->layer.media_type, "application/vnd.oci.image.layer.v1.tar");
	dk_sha256_buf(zeros, sizeof(zeros), im->layer.digest);
	im->layer.size = sizeof(zeros);
	cfg = dk_xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
			   diff_id_override ? diff_id_override : im->layer.digest);
	im->config_path = put_file("config", cfg, strlen(cfg));
	strcpy(im->config.media_type, DK_MT_OCI_CONFIG);
	dk_sha256_buf(cfg, strlen(cfg), im->config.digest);
	im->config.size = strlen(cfg);
	free(cfg);
	im->m.bytes = dk_manifest_make(&im->config, &im->layer, 1, NULL, &im->m.len);
	strcpy(im->m.desc.media_type, DK_MT_OCI_MANIFEST);
	dk_sha256_buf(im->m.bytes, im->m.len, im->m.desc.digest);
	im->m.desc.size = im->m.len;
}

static void free_image(struct image *im)
{
	free(im->config_path);
	free(im->layer_path);
	dk_manifest_blob_free(&im->m);
}

/*
 * Open `ref`, give it the config (and the layer unless skip_layer) and the
 * manifest m, and commit: what the commit returned, err set.
 */
static int write_image(const char *ref, const struct image *im, const struct dk_manifest_blob *m, int skip_layer,
		       struct dk_err *err)
{
	struct dk_image_dst *d = NULL;
	struct dk_ref r;
	int rc;

	if (dk_ref_parse(ref, &r, err) < 0)
		return -1;
	rc = dk_image_dst_open(&r, &opts, &d, err);
	dk_ref_free(&r);
	if (rc == 0 && !skip_layer)
		rc = dk_transfer_blob(d, &im->layer, NULL, im->layer_path, err);
	if (rc == 0)
		rc = dk_transfer_blob(d, &im->config, NULL, im->config_path, err);
	if (rc == 0)
		rc = dk_image_dst_put_manifest(d, m, err);
	if (rc == 0)
		rc = dk_image_dst_commit(d, err);
	dk_image_dst_close(d);
	return rc;
}

/* How many .derrick-tmp-* files are in dir. */
static int temporaries(void)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (dp && (de = readdir(dp)))
		n += !strncmp(de->d_name, ".derrick-tmp-", 13);
	if (dp)
		closedir(dp);
	return n;
}

static char *slurp(const char *name)
{
	char *path = dk_path_join(dir, name), *buf = NULL;
	size_t len;
	struct dk_err err;

	if (dk_read_file(path, 1 << 20, &buf, &len, &err) < 0)
		buf = NULL;
	free(path);
	return buf;
}

static void test_round_trip(void)
{
	struct image im;
	struct dk_err err;
	struct dk_ref r;
	struct dk_image_src *s = NULL;
	struct dk_manifest_blob got;
	struct dk_manifest m;
	struct dk_platform amd64 = { "linux", "amd64", "" };
	char *ref, *buf = NULL, *path = NULL;
	size_t len;

	make_image(&im, NULL);
	/* oci-archive: the manifest comes back byte for byte */
	ref = dk_xasprintf("oci-archive:%s/o.tar:v1", dir);
	CHECK(write_image(ref, &im, &im.m, 0, &err) == 0);
	CHECK(dk_ref_parse(ref, &r, &err) == 0);
	CHECK(dk_image_src_open(&r, &opts, &s, &err) == 0);
	memset(&got, 0, sizeof(got));
	CHECK(s && dk_image_src_get_manifest(s, &amd64, &got, &err) == 0);
	CHECK(got.len == im.m.len && got.bytes && !memcmp(got.bytes, im.m.bytes, got.len));
	dk_manifest_blob_free(&got);
	dk_image_src_close(s);
	dk_ref_free(&r);
	free(ref);
	/* docker-archive: the config as it was; the layer's digest is its diff_id */
	ref = dk_xasprintf("docker-archive:%s/d.tar:app:1", dir);
	CHECK(write_image(ref, &im, &im.m, 0, &err) == 0);
	CHECK(dk_ref_parse(ref, &r, &err) == 0);
	s = NULL;
	CHECK(dk_image_src_open(&r, &opts, &s, &err) == 0);
	memset(&got, 0, sizeof(got));
	CHECK(s && dk_image_src_get_manifest(s, &amd64, &got, &err) == 0);
	CHECK(dk_manifest_parse(&got, ref, &m, &err) == 0);
	CHECK_STR(m.config.digest, im.config.digest);
	CHECK(m.n_layers == 1);
	if (m.n_layers == 1) {
		CHECK_STR(m.layers[0].digest, im.layer.digest);
		CHECK_STR(m.layers[0].media_type, "application/vnd.oci.image.layer.v1.tar");
		CHECK(dk_image_src_blob_file(s, &m.layers[0], &path, &err) == 0);
	}
	CHECK(dk_image_src_read_blob(s, &m.config, DK_CONFIG_MAX, &buf, &len, &err) == 0);
	CHECK(len == im.config.size);
	CHECK(path && access(path, R_OK) == 0);
	dk_manifest_free(&m);
	dk_manifest_blob_free(&got);
	dk_image_src_close(s);
	/* the unpacked archive is gone with the source */
	CHECK(path && access(path, F_OK) < 0);
	free(path);
	free(buf);
	dk_ref_free(&r);
	free(ref);
	free_image(&im);
}

static void test_failed_writes_leave_nothing(void)
{
	struct image im;
	struct dk_err err;
	struct dk_manifest_blob index;
	char *ref, *old;

	make_image(&im, NULL);
	free(put_file("keep.tar", "old", 3));
	/* a blob that never came: the existing file stays */
	ref = dk_xasprintf("oci-archive:%s/keep.tar", dir);
	CHECK(write_image(ref, &im, &im.m, 1, &err) < 0);
	CHECK(strstr(err.msg, "was not given") != NULL);
	free(ref);
	ref = dk_xasprintf("docker-archive:%s/keep.tar", dir);
	CHECK(write_image(ref, &im, &im.m, 1, &err) < 0);
	CHECK(strstr(err.msg, "was not given") != NULL);
	free(ref);
	old = slurp("keep.tar");
	CHECK_STR(old, "old");
	free(old);
	/* an index cannot go into a docker-archive: no file appears */
	index = im.m;
	strcpy(index.desc.media_type, DK_MT_OCI_INDEX);
	ref = dk_xasprintf("docker-archive:%s/index.tar", dir);
	CHECK(write_image(ref, &im, &index, 0, &err) < 0);
	CHECK(err.code == DK_E_USAGE);
	CHECK(strstr(err.msg, "one platform") != NULL);
	free(ref);
	old = slurp("index.tar");
	CHECK(old == NULL);
	free(old);
	CHECK(temporaries() == 0);
	free_image(&im);
}

static void test_diff_id_checked(void)
{
	struct image im;
	struct dk_err err;
	char *ref, *got;

	/* a config whose diff_id is not what the layer unpacks to is not written as a docker-archive */
	make_image(&im, "sha256:0000000000000000000000000000000000000000000000000000000000000000");
	ref = dk_xasprintf("docker-archive:%s/bad.tar", dir);
	CHECK(write_image(ref, &im, &im.m, 0, &err) < 0);
	CHECK(err.code == DK_E_CORRUPT);
	CHECK(strstr(err.msg, "unpacks to") != NULL);
	got = slurp("bad.tar");
	CHECK(got == NULL);
	free(got);
	CHECK(temporaries() == 0);
	free(ref);
	free_image(&im);
}

int main(void)
{
	char *cache;

	strcpy(dir, "/tmp/derrick-test-archive-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	cache = dk_path_join(dir, "cache");
	opts.cache_dir = cache;
	RUN(test_round_trip);
	RUN(test_failed_writes_leave_nothing);
	RUN(test_diff_id_checked);
	dk_rm_rf(dir);
	free(cache);
	return tap_done();
}
