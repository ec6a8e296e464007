/*
 * copy.c - one image, or an image index with every image it names, from a
 * source transport to a destination transport.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/copy.h"
#include "derrick/image.h"
#include "derrick/util.h"

/* Indexes of indexes are rare; a loop of them is a corrupt source. */
#define MAX_DEPTH 4

struct copy {
	struct dk_image_src *src;
	struct dk_image_dst *dst;
	const struct dk_transport_opts *o;
	const char *where;
	struct dk_err *err;
};

/* An image's blobs: layers, then the config (a registry may check the config's references last). */
static int copy_blobs(struct copy *c, const struct dk_manifest_blob *mb)
{
	struct dk_manifest m;
	struct dk_desc *descs;
	struct dk_image_src **srcs;
	int rc;

	if (dk_manifest_parse(mb, c->where, &m, c->err) < 0)
		return -1;
	descs = dk_xcalloc(m.n_layers + 1, sizeof(*descs));
	srcs = dk_xcalloc(m.n_layers + 1, sizeof(*srcs));
	memcpy(descs, m.layers, m.n_layers * sizeof(*descs));
	descs[m.n_layers] = m.config;
	for (size_t i = 0; i <= m.n_layers; i++)
		srcs[i] = c->src;
	rc = dk_transfer_blobs(c->dst, descs, NULL, srcs, m.n_layers + 1, c->o, c->err);
	free(srcs);
	free(descs);
	dk_manifest_free(&m);
	return rc;
}

static int copy_doc(struct copy *c, const struct dk_manifest_blob *mb, int depth);

/* Every manifest an index names, each stored before the index that names it. */
static int copy_children(struct copy *c, const struct dk_manifest_blob *index, int depth)
{
	json_error_t jerr;
	json_t *root = json_loadb(index->bytes, index->len, 0, &jerr), *ms, *e;
	size_t i;
	int rc = 0;

	if (!root)
		return dk_fail(c->err, DK_E_CORRUPT, "%s: index %s is not valid JSON: %s", c->where,
			       index->desc.digest, jerr.text);
	ms = json_object_get(root, "manifests");
	if (!json_is_array(ms))
		rc = dk_fail(c->err, DK_E_CORRUPT, "%s: index %s has no manifests array", c->where, index->desc.digest);
	if (rc == 0 && depth >= MAX_DEPTH)
		rc = dk_fail(c->err, DK_E_CORRUPT, "%s: index %s: indexes nested over %d deep", c->where,
			     index->desc.digest, MAX_DEPTH);
	json_array_foreach(ms, i, e) {
		struct dk_manifest_blob child;
		struct dk_desc d;

		if (rc < 0 || (rc = dk_desc_from_json(e, c->where, &d, c->err)) < 0)
			break;
		if (!dk_media_is_index(d.media_type) && !dk_media_is_manifest(d.media_type)) {
			rc = dk_fail(c->err, DK_E_CORRUPT, "%s: index %s names %s of media type %s, not a manifest",
				     c->where, index->desc.digest, d.digest, d.media_type);
			break;
		}
		rc = dk_image_src_read_manifest(c->src, &d, &child, c->err);
		if (rc == 0)
			rc = copy_doc(c, &child, depth + 1);
		if (rc == 0)
			rc = dk_image_dst_put_child(c->dst, &child, c->err);
		dk_manifest_blob_free(&child);
	}
	json_decref(root);
	return rc;
}

/* What a manifest or index needs in the destination before it is stored there. */
static int copy_doc(struct copy *c, const struct dk_manifest_blob *mb, int depth)
{
	if (dk_media_is_index(mb->desc.media_type))
		return copy_children(c, mb, depth);
	return copy_blobs(c, mb);
}

int dk_copy_image(const char *src_text, const char *dst_text, const struct dk_platform *want,
		  const struct dk_transport_opts *o, struct dk_copy_result *res, struct dk_err *err)
{
	struct dk_ref sref, dref;
	struct copy c = { NULL, NULL, o, src_text, err };
	struct dk_manifest_blob mb;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&mb, 0, sizeof(mb));
	memset(&dref, 0, sizeof(dref));
	if (dk_ref_parse(src_text, &sref, err) < 0)
		return -1;
	if (dk_ref_parse(dst_text, &dref, err) < 0)
		goto out;
	if (dk_image_src_open(&sref, o, &c.src, err) < 0 ||
	    dk_image_src_get_manifest(c.src, want, &mb, err) < 0)
		goto out;
	if (dk_media_is_index(mb.desc.media_type) && !dk_ref_holds_index(&dref)) {
		dk_fail(err, DK_E_USAGE, "%s is a multi-platform image and %s holds one platform's image: "
			"choose one with --platform", src_text, dst_text);
		goto out;
	}
	if (dk_image_dst_open(&dref, o, &c.dst, err) < 0)
		goto out;
	if (copy_doc(&c, &mb, 0) < 0 ||
	    dk_image_dst_put_manifest(c.dst, &mb, err) < 0 ||
	    dk_image_dst_commit(c.dst, err) < 0)
		goto out;
	res->manifest = mb.desc;
	res->notes = c.dst->notes;
	res->n_notes = c.dst->n_notes;
	c.dst->notes = NULL;
	c.dst->n_notes = 0;
	rc = 0;
out:
	dk_manifest_blob_free(&mb);
	dk_image_dst_close(c.dst);
	dk_image_src_close(c.src);
	dk_ref_free(&dref);
	dk_ref_free(&sref);
	return rc;
}

void dk_copy_result_free(struct dk_copy_result *res)
{
	free(res->notes);
	memset(res, 0, sizeof(*res));
}
