/*
 * registry_src.c - reading images from a registry (see registry.c): the
 * manifest, resolved from an index to the wanted platform, small blobs into
 * memory, layer blobs into the shared blob cache, each checked against its
 * digest and size before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "derrick/blobs.h"
#include "derrick/image.h"
#include "derrick/log.h"
#include "derrick/progress.h"
#include "derrick/transport.h"
#include "derrick/util.h"
#include "registry_transport.h"

static const char *const accept_manifests[] = {
	"Accept: " DK_MT_OCI_MANIFEST ", " DK_MT_OCI_INDEX ", " DK_MT_DOCKER_MANIFEST ", " DK_MT_DOCKER_LIST,
	NULL,
};

struct reg_src {
	struct dk_image_src base;
	struct dk_registry *reg;
	char *scope;
	struct dk_transport_opts o;
	char *cache_root;
	struct dk_blobs cache;
	int cache_open;         /* under lock: blob_file runs on several threads */
	pthread_mutex_t lock;
	struct regt_pool pool;
};

/* GET a manifest by tag or digest, checked against `want_digest` when given. */
static int fetch_manifest(struct reg_src *s, const char *reference, const char *want_digest,
			  struct dk_manifest_blob *out, struct dk_err *err)
{
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	char *path = dk_xasprintf("/v2/%s/manifests/%s", s->base.ref.docker.repository, reference);
	char *what = dk_xasprintf("%s: manifest %s", s->base.ref.text, reference);
	const char *ct, *hd;
	char got[DK_DIGEST_SIZE];
	int rc = -1;

	call.method = "GET";
	call.path = path;
	call.scope = s->scope;
	call.headers = accept_manifests;
	call.body.body_fd = -1;
	call.body.max_body = DK_MANIFEST_MAX;
	memset(out, 0, sizeof(*out));
	if (dk_reg_do(s->reg, &call, &resp, err) < 0) {
		dk_err_prefix(err, "%s", s->base.ref.text);
		goto done;
	}
	if (resp.status != 200) {
		dk_reg_fail(s->reg, &resp, what, err);
		goto release;
	}
	if (resp.body_truncated) {
		const char *cl = dk_http_header(&resp, "content-length");
		uint64_t n = cl ? strtoull(cl, NULL, 10) : 0;
		char mt[128];

		ct = dk_http_header(&resp, "content-type");
		snprintf(mt, sizeof(mt), "%.*s", ct ? (int)strcspn(ct, ";") : 0, ct ? ct : "");
		dk_doc_check_size(dk_doc_of_media(mt), s->base.ref.text, reference,
				  n > DK_MANIFEST_MAX ? n : DK_SIZE_OVER, err);
		goto release;
	}
	dk_sha256_buf(resp.body.buf, resp.body.len, got);
	hd = regt_header_digest(&resp);
	if ((want_digest && strcmp(got, want_digest)) || (hd && strcmp(got, hd))) {
		dk_fail(err, DK_E_CORRUPT, "%s: content hashes to %s, expected %s", what, got,
			want_digest ? want_digest : hd);
		goto release;
	}
	ct = dk_http_header(&resp, "content-type");
	out->desc.size = resp.body.len;
	memcpy(out->desc.digest, got, DK_DIGEST_SIZE);
	snprintf(out->desc.media_type, sizeof(out->desc.media_type), "%.*s",
		 ct ? (int)strcspn(ct, ";") : 0, ct ? ct : "");
	if (!out->desc.media_type[0] || !strcmp(out->desc.media_type, "application/json")) {
		/* some registries omit it: the document names itself */
		json_t *j = json_loadb(resp.body.buf, resp.body.len, 0, NULL);
		const char *mt = json_string_value(json_object_get(j, "mediaType"));

		snprintf(out->desc.media_type, sizeof(out->desc.media_type), "%s",
			 mt ? mt : json_object_get(j, "manifests") ? DK_MT_OCI_INDEX : DK_MT_OCI_MANIFEST);
		json_decref(j);
	}
	if (strstr(out->desc.media_type, "application/vnd.docker.distribution.manifest.v1")) {
		dk_fail(err, DK_E_CORRUPT, "%s: Docker schema 1 manifests are obsolete and not supported", what);
		goto release;
	}
	out->len = resp.body.len;
	out->bytes = sb_detach(&resp.body);
	rc = 0;
release:
	dk_http_resp_release(&resp);
done:
	free(path);
	free(what);
	return rc;
}

static int rsrc_get_manifest(struct dk_image_src *base, const struct dk_platform *want,
			     struct dk_manifest_blob *out, struct dk_err *err)
{
	struct reg_src *s = (struct reg_src *)base;
	const struct dk_dockerref *d = &base->ref.docker;
	struct dk_desc pick;

	if (fetch_manifest(s, dk_dockerref_reference(d), d->digest, out, err) < 0)
		return -1;
	if (!dk_media_is_index(out->desc.media_type) || !want)
		return 0;
	if (dk_index_select(out->bytes, out->len, base->ref.text, want, &pick, err) < 0) {
		dk_manifest_blob_free(out);
		return -1;
	}
	dk_manifest_blob_free(out);
	if (dk_doc_check_size(DK_DOC_MANIFEST, base->ref.text, pick.digest, pick.size, err) < 0 ||
	    fetch_manifest(s, pick.digest, pick.digest, out, err) < 0)
		return -1;
	if (out->desc.size != pick.size) {
		dk_manifest_blob_free(out);
		return dk_fail(err, DK_E_CORRUPT, "%s: manifest %s has %zu bytes, the index says %llu",
			       base->ref.text, pick.digest, out->len, (unsigned long long)pick.size);
	}
	return 0;
}

static int rsrc_read_blob(struct dk_image_src *base, const struct dk_desc *d, size_t max,
			  char **buf, size_t *len, struct dk_err *err)
{
	struct reg_src *s = (struct reg_src *)base;
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	char *path = dk_xasprintf("/v2/%s/blobs/%s", base->ref.docker.repository, d->digest);
	char *what = dk_xasprintf("%s: blob %s", base->ref.text, d->digest);
	char got[DK_DIGEST_SIZE];
	int rc = -1;

	call.method = "GET";
	call.path = path;
	call.scope = s->scope;
	call.body.body_fd = -1;
	call.body.max_body = max;
	if (dk_reg_do(s->reg, &call, &resp, err) < 0) {
		dk_err_prefix(err, "%s", what);
		goto done;
	}
	if (resp.status != 200) {
		dk_reg_fail(s->reg, &resp, what, err);
	} else if (resp.body_truncated) {
		dk_fail(err, DK_E_CORRUPT, "%s: larger than %zu bytes", what, max);
	} else {
		dk_sha256_buf(resp.body.buf, resp.body.len, got);
		if (strcmp(got, d->digest) || resp.body.len != d->size) {
			dk_fail(err, DK_E_CORRUPT, "%s: the registry served %zu bytes hashing to %s (expected %llu bytes)",
				what, resp.body.len, got, (unsigned long long)d->size);
		} else {
			*len = resp.body.len;
			*buf = sb_detach(&resp.body);
			rc = 0;
		}
	}
	dk_http_resp_release(&resp);
done:
	free(path);
	free(what);
	return rc;
}

/*
 * A download writes through a relay into (hash -> file).  A retry
 * truncates the file and replaces the hash stage; the relay, which the
 * HTTP request holds on to, stays the same.
 */
struct download {
	struct dk_sink relay;
	int fd;
	struct dk_sink *file, *hash;
};

static int relay_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct download *dl = (struct download *)s;

	return dk_sink_write(dl->hash, buf, len, err);
}

static int relay_close(struct dk_sink *s, struct dk_err *err)
{
	(void)s;
	(void)err;
	return 0;
}

static void relay_free(struct dk_sink *s)
{
	(void)s;
}

static const struct dk_sink_ops relay_ops = { relay_write, relay_close, relay_free };

static void download_sinks(struct download *dl)
{
	dk_sink_free(dl->hash);
	dk_sink_free(dl->file);
	dl->file = dk_sink_fd(dl->fd, "blob download");
	dl->hash = dk_sink_hash(dl->file);
}

/* A retry starts the file over. */
static int download_rewind(void *ctx, struct dk_err *err)
{
	struct download *dl = ctx;

	if (ftruncate(dl->fd, 0) < 0 || lseek(dl->fd, 0, SEEK_SET) < 0)
		return dk_fail_errno(err, DK_E_IO, "restart blob download");
	download_sinks(dl);
	return 0;
}

static int ensure_cache(struct reg_src *s, struct dk_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (!s->cache_open) {
		s->cache_root = dk_cache_dir(&s->o);
		if (dk_blobs_open(&s->cache, s->cache_root, 1, err) < 0)
			rc = dk_err_prefix(err, "blob cache");
		else
			s->cache_open = 1;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int rsrc_blob_file(struct dk_image_src *base, const struct dk_desc *d, char **out, struct dk_err *err)
{
	struct reg_src *s = (struct reg_src *)base;
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	struct download dl = { { &relay_ops, NULL }, -1, NULL, NULL };
	struct dk_http *h;
	char *tmp = NULL, *path = NULL, *what = NULL;
	struct stat st;
	int rc = -1;

	if (ensure_cache(s, err) < 0)
		return -1;
	*out = dk_blobs_path(&s->cache, d->digest);
	/* blobs enter the cache only verified, by rename: a present one is whole */
	if (stat(*out, &st) == 0 && (uint64_t)st.st_size == d->size) {
		dk_verbose("%s: blob %s from the cache", base->ref.text, d->digest);
		return 0;
	}
	dl.fd = dk_blobs_tmp(&s->cache, &tmp, err);
	if (dl.fd < 0)
		goto out;
	download_sinks(&dl);
	path = dk_xasprintf("/v2/%s/blobs/%s", base->ref.docker.repository, d->digest);
	what = dk_xasprintf("%s: blob %s", base->ref.text, d->digest);
	call.method = "GET";
	call.path = path;
	call.scope = s->scope;
	call.body.body_fd = -1;
	call.body.out = &dl.relay;
	call.rewind = download_rewind;
	call.rewind_ctx = &dl;
	call.http = h = regt_pool_get(&s->pool);
	rc = dk_reg_do(s->reg, &call, &resp, err);
	regt_pool_put(&s->pool, h);
	if (rc < 0) {
		dk_err_prefix(err, "%s", what);
		goto out;
	}
	rc = -1;
	if (resp.status != 200) {
		dk_reg_fail(s->reg, &resp, what, err);
		dk_http_resp_release(&resp);
		goto out;
	}
	dk_http_resp_release(&resp);
	if (dk_sink_close(dl.hash, err) < 0)
		goto out;
	if (strcmp(dk_sink_hash_digest(dl.hash), d->digest) || dk_sink_hash_size(dl.hash) != d->size) {
		dk_fail(err, DK_E_CORRUPT, "%s: the registry served %llu bytes hashing to %s (expected %llu bytes)",
			what, (unsigned long long)dk_sink_hash_size(dl.hash), dk_sink_hash_digest(dl.hash),
			(unsigned long long)d->size);
		goto out;
	}
	rc = dk_blobs_commit(&s->cache, dl.fd, tmp, d->digest, err);
	dl.fd = -1;
	tmp = NULL;
	if (rc == 0)
		dk_verbose("%s: fetched blob %s", base->ref.text, d->digest);
out:
	dk_sink_free(dl.hash);
	dk_sink_free(dl.file);
	if (tmp)
		dk_blobs_discard(dl.fd, tmp);
	free(path);
	free(what);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

static int rsrc_has_blob(struct dk_image_src *base, const struct dk_desc *d, struct dk_err *err)
{
	struct reg_src *s = (struct reg_src *)base;

	return regt_head_blob(s->reg, NULL, &base->ref, s->scope, d, err);
}

static void rsrc_close(struct dk_image_src *base)
{
	struct reg_src *s = (struct reg_src *)base;

	regt_pool_free(&s->pool);
	pthread_mutex_destroy(&s->lock);
	dk_registry_free(s->reg);
	if (s->cache_open)
		dk_blobs_close(&s->cache);
	free(s->cache_root);
	free(s->scope);
	dk_ref_free(&base->ref);
	free(s);
}

static const struct dk_image_src_ops rsrc_ops = {
	rsrc_get_manifest, rsrc_read_blob, rsrc_blob_file, rsrc_has_blob, rsrc_close,
};

int dk_registry_src_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			 struct dk_image_src **out, struct dk_err *err)
{
	struct reg_src *s = dk_xcalloc(1, sizeof(*s));

	s->base.ops = &rsrc_ops;
	dk_ref_copy(&s->base.ref, ref);
	if (o)
		s->o = *o;
	s->scope = dk_xasprintf("repository:%s:pull", ref->docker.repository);
	pthread_mutex_init(&s->lock, NULL);
	regt_pool_init(&s->pool, NULL);
	if (regt_open(ref, o, &s->reg, err) < 0) {
		rsrc_close(&s->base);
		return -1;
	}
	s->pool.reg = s->reg;
	*out = &s->base;
	return 0;
}
