/*
 * rcache.c - the registry build cache.  See rcache.h.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/blobs.h"
#include "derrick/image.h"
#include "derrick/log.h"
#include "derrick/rcache.h"
#include "derrick/util.h"

#define ARTIFACT_TYPE "application/vnd.derrick.layer-cache.v1"
#define EMPTY_TYPE "application/vnd.oci.empty.v1+json"
#define ANN_KEY "io.derrick.cache.key"
#define ANN_DIFF_ID "io.derrick.diff_id"
/* layer maps: an artifact whose one blob is the map, tagged by the layer's diff_id */
#define MAP_TYPE "application/vnd.derrick.layer-map.v1"
#define MAP_TAG "derrick-map-"
#define MAP_MAX ((uint64_t)256 << 20)

struct dk_rcache {
	struct dk_ref ref;              /* docker://HOST/REPO */
	int mode;
	const struct dk_transport_opts *o;
	struct dk_image_src *src;
	struct dk_blobs blobs;          /* where the empty config blob is kept as a file */
};

struct dk_rcache *dk_rcache_open(const char *text, int mode, const struct dk_transport_opts *o,
				 const char *blob_dir)
{
	struct dk_rcache *c = dk_xcalloc(1, sizeof(*c));
	struct dk_err err;

	c->mode = mode;
	c->o = o;
	if (dk_ref_parse(text, &c->ref, &err) < 0 || !dk_ref_is_remote(&c->ref)) {
		if (c->ref.transport)
			dk_fail(&err, DK_E_REF, "%s: the cache must be a registry repository (docker://HOST/REPO)", text);
		goto fail;
	}
	if (dk_blobs_open(&c->blobs, blob_dir, 1, &err) < 0 || dk_image_src_open(&c->ref, o, &c->src, &err) < 0)
		goto fail;
	return c;
fail:
	(void)text;
	dk_warn("registry cache: %s: building without it", err.msg);
	dk_rcache_close(c);
	return NULL;
}

void dk_rcache_close(struct dk_rcache *c)
{
	if (!c)
		return;
	dk_image_src_close(c->src);
	if (c->blobs.root)
		dk_blobs_close(&c->blobs);
	dk_ref_free(&c->ref);
	free(c);
}

struct dk_image_src *dk_rcache_src(struct dk_rcache *c)
{
	return c->src;
}

/* "docker://HOST/REPO:<prefix><hex>" for a digest. */
static char *tag_ref(const struct dk_rcache *c, const char *prefix, const char *digest)
{
	char *tag = dk_xasprintf("%s%s", prefix, dk_digest_hex(digest));
	char *text = dk_ref_with_tag(&c->ref, tag);

	free(tag);
	return text;
}

/* "docker://HOST/REPO:derrick-<hex>" for a key. */
static char *entry_ref(const struct dk_rcache *c, const char *key)
{
	return tag_ref(c, "derrick-", key);
}

/* The manifest tagged `text`, parsed: 0, or -1 with err (DK_E_NOTFOUND for a plain miss). */
static int fetch_entry(struct dk_rcache *c, const char *text, struct dk_manifest_blob *mb, struct dk_manifest *m,
		       struct dk_err *err)
{
	struct dk_ref ref;
	struct dk_image_src *src = NULL;
	/* an entry is a single manifest, never an index: the platform is not consulted */
	struct dk_platform any = { "linux", "amd64", "" };
	int rc = 0;

	if (dk_ref_parse(text, &ref, err) < 0)
		return -1;
	if (dk_image_src_open(&ref, c->o, &src, err) < 0 || dk_image_src_get_manifest(src, &any, mb, err) < 0 ||
	    dk_manifest_parse(mb, text, m, err) < 0)
		rc = -1;
	dk_image_src_close(src);
	dk_ref_free(&ref);
	return rc;
}

/* Read an entry: 0 with res filled, -1 with a reason in err (a miss). */
static int read_entry(struct dk_rcache *c, const char *key, struct dk_layer_result *res,
		      struct dk_err *err)
{
	char *text = entry_ref(c, key);
	struct dk_manifest_blob mb = { 0 };
	struct dk_manifest m = { 0 };
	const char *k, *diff_id;
	int rc = -1;

	if (fetch_entry(c, text, &mb, &m, err) < 0)
		goto out;
	k = json_string_value(json_object_get(m.annotations, ANN_KEY));
	diff_id = m.n_layers == 1 ?
		json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(m.root, "layers"), 0),
								  "annotations"), ANN_DIFF_ID)) : NULL;
	if (!k || strcmp(k, key) || !dk_digest_valid(diff_id) ||
	    !dk_compressor_by_media_type(m.layers[0].media_type)) {
		dk_fail(err, DK_E_CORRUPT, "entry %s is not a derrick cache entry for this key", text);
		goto out;
	}
	snprintf(res->media_type, sizeof(res->media_type), "%s", m.layers[0].media_type);
	memcpy(res->digest, m.layers[0].digest, DK_DIGEST_SIZE);
	memcpy(res->diff_id, diff_id, DK_DIGEST_SIZE);
	res->size = m.layers[0].size;
	res->tar_size = 0;
	rc = 0;
out:
	dk_manifest_free(&m);
	dk_manifest_blob_free(&mb);
	free(text);
	return rc;
}

int dk_rcache_get(struct dk_rcache *c, const char *key, struct dk_layer_result *res)
{
	struct dk_err err;
	struct dk_desc d;
	int has;

	if (!c || !(c->mode & DK_RCACHE_READ))
		return 0;
	if (read_entry(c, key, res, &err) < 0) {
		/* a plain miss is the registry's 404: quiet; anything else is worth a warning */
		if (err.code != DK_E_NOTFOUND)
			dk_warn("registry cache: %s", err.msg);
		return 0;
	}
	snprintf(d.media_type, sizeof(d.media_type), "%s", res->media_type);
	memcpy(d.digest, res->digest, DK_DIGEST_SIZE);
	d.size = res->size;
	has = dk_image_src_has_blob(c->src, &d, &err);
	if (has != 1) {
		dk_warn("registry cache: the entry for %s points at blob %s, which %s: ignoring it",
			dk_digest_hex(key), res->digest, has == 0 ? "the cache repository does not have" : err.msg);
		return 0;
	}
	return 1;
}

/*
 * An artifact manifest of `type` with the empty config `cfg` and the one
 * blob `blob`, whose annotations are `blob_ann` (taken); the manifest's
 * own annotations are `ann` (taken).
 */
static char *artifact_manifest(const char *type, const struct dk_desc *cfg, const struct dk_desc *blob,
			       json_t *blob_ann, json_t *ann, size_t *len)
{
	json_t *root = json_object(), *layer = dk_desc_to_json(blob), *layers = json_array();
	char *s;

	json_object_set_new(layer, "annotations", blob_ann);
	json_array_append_new(layers, layer);
	json_object_set_new(root, "schemaVersion", json_integer(2));
	json_object_set_new(root, "mediaType", json_string(DK_MT_OCI_MANIFEST));
	json_object_set_new(root, "artifactType", json_string(type));
	json_object_set_new(root, "config", dk_desc_to_json(cfg));
	json_object_set_new(root, "layers", layers);
	json_object_set_new(root, "annotations", ann);
	s = dk_json_dump(root, len);
	json_decref(root);
	return s;
}

/*
 * Tag `text` (a reference in the cache repository) as an artifact of
 * `type` whose one blob is `blob`, held in the local file `path` (uploaded
 * when the repository lacks it); takes blob_ann and ann as above.  Warns
 * on failure.
 */
static void put_entry(struct dk_rcache *c, const char *text, const char *type, const struct dk_desc *blob,
		      const char *path, json_t *blob_ann, json_t *ann)
{
	struct dk_transport_opts quiet;
	struct dk_desc descs[2];
	const char *locals[2];
	struct dk_image_src *srcs[2] = { NULL, NULL };
	struct dk_manifest_blob mb;
	struct dk_image_dst *dst = NULL;
	struct dk_ref ref;
	struct dk_err err;
	char *cfg_path = NULL;

	memset(&mb, 0, sizeof(mb));
	quiet = *c->o;
	quiet.progress = 0;
	/* the empty config every artifact manifest of this kind shares */
	strcpy(descs[0].media_type, EMPTY_TYPE);
	descs[0].size = 2;
	descs[1] = *blob;
	if (dk_blobs_put_bytes(&c->blobs, "{}", 2, descs[0].digest, &err) < 0 ||
	    dk_ref_parse(text, &ref, &err) < 0) {
		json_decref(blob_ann);
		json_decref(ann);
		goto fail;
	}
	cfg_path = dk_blobs_path(&c->blobs, descs[0].digest);
	locals[0] = cfg_path;
	locals[1] = path;
	mb.bytes = artifact_manifest(type, &descs[0], blob, blob_ann, ann, &mb.len);
	strcpy(mb.desc.media_type, DK_MT_OCI_MANIFEST);
	dk_sha256_buf(mb.bytes, mb.len, mb.desc.digest);
	mb.desc.size = mb.len;
	if (dk_image_dst_open(&ref, &quiet, &dst, &err) < 0 ||
	    dk_transfer_blobs(dst, descs, locals, srcs, 2, &quiet, &err) < 0 ||
	    dk_image_dst_put_manifest(dst, &mb, &err) < 0 || dk_image_dst_commit(dst, &err) < 0) {
		dk_ref_free(&ref);
		goto fail;
	}
	dk_verbose("registry cache: recorded %s", text);
	dk_ref_free(&ref);
	goto out;
fail:
	dk_warn("registry cache: could not record %s: %s", text, err.msg);
out:
	dk_image_dst_close(dst);
	dk_manifest_blob_free(&mb);
	free(cfg_path);
}

void dk_rcache_put(struct dk_rcache *c, const char *key, const struct dk_layer_result *res,
		   const char *path)
{
	struct dk_desc d;
	json_t *blob_ann, *ann;
	char *text;

	if (!c || !(c->mode & DK_RCACHE_WRITE))
		return;
	text = entry_ref(c, key);
	snprintf(d.media_type, sizeof(d.media_type), "%s", res->media_type);
	memcpy(d.digest, res->digest, DK_DIGEST_SIZE);
	d.size = res->size;
	blob_ann = json_object();
	json_object_set_new(blob_ann, ANN_DIFF_ID, json_string(res->diff_id));
	ann = json_object();
	json_object_set_new(ann, ANN_KEY, json_string(key));
	put_entry(c, text, ARTIFACT_TYPE, &d, path, blob_ann, ann);
	free(text);
}

/* ------------------------------------------------------------ layer maps */

int dk_rcache_get_map(struct dk_rcache *c, const char *diff_id, char **buf, size_t *len)
{
	struct dk_manifest_blob mb = { 0 };
	struct dk_manifest m = { 0 };
	struct dk_err err;
	char *text;
	const char *id;
	int hit = 0;

	if (!c || !(c->mode & DK_RCACHE_READ))
		return 0;
	text = tag_ref(c, MAP_TAG, diff_id);
	if (fetch_entry(c, text, &mb, &m, &err) < 0) {
		if (err.code != DK_E_NOTFOUND)
			dk_warn("registry cache: %s", err.msg);
		goto out;
	}
	id = json_string_value(json_object_get(m.annotations, ANN_DIFF_ID));
	if (!m.artifact_type || strcmp(m.artifact_type, MAP_TYPE) || !id || strcmp(id, diff_id) || m.n_layers != 1 ||
	    strcmp(m.layers[0].media_type, MAP_TYPE) || m.layers[0].size > MAP_MAX) {
		dk_warn("registry cache: %s is not a derrick layer map for this diff_id", text);
		goto out;
	}
	if (dk_image_src_read_blob(c->src, &m.layers[0], (size_t)MAP_MAX, buf, len, &err) < 0) {
		dk_warn("registry cache: %s: %s", text, err.msg);
		goto out;
	}
	hit = 1;
out:
	dk_manifest_free(&m);
	dk_manifest_blob_free(&mb);
	free(text);
	return hit;
}

void dk_rcache_put_map(struct dk_rcache *c, const char *diff_id, const char *buf, size_t len)
{
	struct dk_desc d;
	struct dk_err err;
	json_t *ann;
	char *text, *path;

	if (!c || !(c->mode & DK_RCACHE_WRITE))
		return;
	text = tag_ref(c, MAP_TAG, diff_id);
	strcpy(d.media_type, MAP_TYPE);
	d.size = len;
	if (dk_blobs_put_bytes(&c->blobs, buf, len, d.digest, &err) < 0) {
		dk_warn("registry cache: could not record %s: %s", text, err.msg);
		free(text);
		return;
	}
	path = dk_blobs_path(&c->blobs, d.digest);
	ann = json_object();
	json_object_set_new(ann, ANN_DIFF_ID, json_string(diff_id));
	put_entry(c, text, MAP_TYPE, &d, path, json_object(), ann);
	free(path);
	free(text);
}
