/*
 * oci_archive.c - the "oci-archive:FILE[:TAG]" transport: an OCI image
 * layout (layout.c) in one tar file, as skopeo and podman read and write
 * it.  The tag is the org.opencontainers.image.ref.name annotation of the
 * image's entry in index.json.
 *
 * Written (archive.h: sorted, fixed headers, in a temporary file renamed
 * over FILE): blobs/, blobs/sha256/, every blob, index.json naming the
 * image, oci-layout.  Writing replaces FILE: it holds one image.
 * Read: unpacked into a private directory and read as the layout it is.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "archive.h"
#include "derrick/image.h"
#include "derrick/transport.h"
#include "derrick/util.h"

#define REF_NAME "org.opencontainers.image.ref.name"
#define LAYOUT_JSON "{\"imageLayoutVersion\":\"1.0.0\"}"

/* "FILE[:TAG]" after the prefix: like skopeo, FILE ends at the first ':'. */
int dk_oci_archive_parse(const char *text, const char *rest, struct dk_ref *r, struct dk_err *err)
{
	return dk_path_tag_parse(text, rest, "archive file name", r, err);
}

/* ------------------------------------------------------------ source */

struct oa_src {
	struct dk_image_src base;
	struct arch_r ar;
	struct dk_image_src *layout;    /* the unpacked layout */
};

static int fixed(struct oa_src *s, int rc, struct dk_err *err)
{
	if (rc < 0)
		arch_r_fix_err(&s->ar, err);
	return rc;
}

static int oas_get_manifest(struct dk_image_src *base, const struct dk_platform *want,
			    struct dk_manifest_blob *out, struct dk_err *err)
{
	struct oa_src *s = (struct oa_src *)base;

	return fixed(s, dk_image_src_get_manifest(s->layout, want, out, err), err);
}

/* The member holding blob d was hashed as it was unpacked: a blob that is not what its name says is named here. */
static int check_member(struct oa_src *s, const struct dk_desc *d, struct dk_err *err)
{
	char *name = dk_xasprintf("blobs/sha256/%s", dk_digest_valid(d->digest) ? dk_digest_hex(d->digest) : "");
	const struct arch_member *m = arch_r_find(&s->ar, name);
	int rc = 0;

	if (m && strcmp(m->digest, d->digest))
		rc = dk_fail(err, DK_E_CORRUPT, "%s: %s member %s is corrupt: its content hashes to %s",
			     s->base.ref.text, s->ar.file, name, m->digest);
	free(name);
	return rc;
}

static int oas_read_blob(struct dk_image_src *base, const struct dk_desc *d, size_t max, char **buf,
			 size_t *len, struct dk_err *err)
{
	struct oa_src *s = (struct oa_src *)base;

	if (check_member(s, d, err) < 0)
		return -1;
	return fixed(s, dk_image_src_read_blob(s->layout, d, max, buf, len, err), err);
}

static int oas_blob_file(struct dk_image_src *base, const struct dk_desc *d, char **path, struct dk_err *err)
{
	struct oa_src *s = (struct oa_src *)base;

	if (check_member(s, d, err) < 0)
		return -1;
	return fixed(s, dk_image_src_blob_file(s->layout, d, path, err), err);
}

static int oas_has_blob(struct dk_image_src *base, const struct dk_desc *d, struct dk_err *err)
{
	struct oa_src *s = (struct oa_src *)base;

	return fixed(s, dk_image_src_has_blob(s->layout, d, err), err);
}

static void oas_close(struct dk_image_src *base)
{
	struct oa_src *s = (struct oa_src *)base;

	dk_image_src_close(s->layout);
	arch_r_close(&s->ar);
	dk_ref_free(&s->base.ref);
	free(s);
}

static const struct dk_image_src_ops oas_ops = {
	oas_get_manifest, oas_read_blob, oas_blob_file, oas_has_blob, oas_close, NULL,
};

int dk_oci_archive_src_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			    struct dk_image_src **out, struct dk_err *err)
{
	struct oa_src *s = dk_xcalloc(1, sizeof(*s));
	struct dk_ref inner;
	int rc;

	s->base.ops = &oas_ops;
	dk_ref_copy(&s->base.ref, ref);
	if (arch_r_open(ref->path, ref->text, o, &s->ar, err) < 0) {
		oas_close(&s->base);
		return -1;
	}
	/* the layout's messages name the reference as the user wrote it */
	dk_ref_copy(&inner, ref);
	free(inner.path);
	inner.path = dk_xstrdup(s->ar.dir);
	rc = fixed(s, dk_layout_src_open(&inner, o, &s->layout, err), err);
	dk_ref_free(&inner);
	if (rc < 0) {
		oas_close(&s->base);
		return -1;
	}
	*out = &s->base;
	return 0;
}

/* ------------------------------------------------------------ destination */

static int has_manifest(const struct arch_dst *d, const char *digest)
{
	for (size_t i = 0; i < d->n_manifests; i++)
		if (!strcmp(d->manifests[i].desc.digest, digest))
			return 1;
	return 0;
}

/* Every blob a manifest names was given (an index's manifests, an image's config and layers). */
static int check_complete(const struct arch_dst *d, const struct dk_manifest_blob *mb, struct dk_err *err)
{
	const char *where = d->base.ref.text;
	struct dk_manifest m;
	int rc = 0;

	if (dk_media_is_index(mb->desc.media_type)) {
		json_t *root = json_loadb(mb->bytes, mb->len, 0, NULL), *e;
		size_t i;

		json_array_foreach(json_object_get(root, "manifests"), i, e) {
			const char *dg = json_string_value(json_object_get(e, "digest"));

			if (!dg || !has_manifest(d, dg)) {
				rc = dk_fail(err, DK_E_NOTFOUND, "%s: manifest %s of index %s was not given", where,
					     dk_str_or(dg, "(none)"), mb->desc.digest);
				break;
			}
		}
		json_decref(root);
		return rc;
	}
	if (dk_manifest_parse(mb, where, &m, err) < 0)
		return -1;
	if (!arch_dst_blob(d, m.config.digest))
		rc = dk_fail(err, DK_E_NOTFOUND, "%s: config %s was not given", where, m.config.digest);
	for (size_t i = 0; rc == 0 && i < m.n_layers; i++)
		if (!arch_dst_blob(d, m.layers[i].digest))
			rc = dk_fail(err, DK_E_NOTFOUND, "%s: layer %s was not given", where, m.layers[i].digest);
	dk_manifest_free(&m);
	return rc;
}

struct oa_blob {
	const char *digest;
	const char *path;               /* a file, or */
	const struct dk_manifest_blob *bytes;   /* a manifest held in memory */
};

static int by_digest(const void *a, const void *b)
{
	return strcmp(((const struct oa_blob *)a)->digest, ((const struct oa_blob *)b)->digest);
}

static char *index_json(const struct arch_dst *d, size_t *len)
{
	json_t *index = json_object(), *ms = json_array();
	json_t *entry = dk_desc_to_json(&d->manifests[d->n_manifests - 1].desc);
	char *text;

	if (d->base.ref.tag) {
		json_t *ann = json_object();

		json_object_set_new(ann, REF_NAME, json_string(d->base.ref.tag));
		json_object_set_new(entry, "annotations", ann);
	}
	json_array_append_new(ms, entry);
	json_object_set_new(index, "schemaVersion", json_integer(2));
	json_object_set_new(index, "mediaType", json_string(DK_MT_OCI_INDEX));
	json_object_set_new(index, "manifests", ms);
	text = dk_json_dump(index, len);
	json_decref(index);
	return text;
}

/* The entries in name order: blobs/, blobs/sha256/, the blobs, index.json, oci-layout. */
static int oad_write(struct arch_dst *d, struct arch_w *w, struct dk_err *err)
{
	struct oa_blob *v = dk_xcalloc(d->n_blobs + d->n_manifests, sizeof(*v));
	size_t n = 0, len;
	char *index = NULL;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < d->n_manifests; i++)
		rc = check_complete(d, &d->manifests[i], err);
	for (size_t i = 0; i < d->n_blobs; i++)
		v[n++] = (struct oa_blob){ d->blobs[i].digest, d->blobs[i].path, NULL };
	for (size_t i = 0; i < d->n_manifests; i++)
		if (!arch_dst_blob(d, d->manifests[i].desc.digest))
			v[n++] = (struct oa_blob){ d->manifests[i].desc.digest, NULL, &d->manifests[i] };
	qsort(v, n, sizeof(*v), by_digest);
	if (rc == 0)
		rc = arch_w_dir(w, "blobs", err);
	if (rc == 0)
		rc = arch_w_dir(w, "blobs/sha256", err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *name;

		/* a manifest given twice (two platforms' may be equal) is written once */
		if (i && !strcmp(v[i].digest, v[i - 1].digest))
			continue;
		name = dk_xasprintf("blobs/sha256/%s", dk_digest_hex(v[i].digest));
		rc = v[i].path ? arch_w_file(w, name, v[i].path, err) :
				 arch_w_bytes(w, name, v[i].bytes->bytes, v[i].bytes->len, err);
		free(name);
	}
	if (rc == 0) {
		index = index_json(d, &len);
		rc = arch_w_bytes(w, "index.json", index, len, err);
	}
	if (rc == 0)
		rc = arch_w_bytes(w, "oci-layout", LAYOUT_JSON, strlen(LAYOUT_JSON), err);
	free(index);
	free(v);
	return rc;
}

int dk_oci_archive_dst_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			    struct dk_image_dst **out, struct dk_err *err)
{
	(void)o;
	return arch_dst_open(ref, oad_write, out, err);
}
