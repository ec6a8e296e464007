/*
 * image.c - reading descriptors, manifests and indexes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/compress.h"
#include "derrick/image.h"
#include "derrick/util.h"

int dk_media_is_index(const char *mt)
{
	return !strcmp(mt, DK_MT_OCI_INDEX) || !strcmp(mt, DK_MT_DOCKER_LIST);
}

int dk_media_is_manifest(const char *mt)
{
	return !strcmp(mt, DK_MT_OCI_MANIFEST) || !strcmp(mt, DK_MT_DOCKER_MANIFEST);
}

int dk_media_is_image_config(const char *mt)
{
	return !strcmp(mt, DK_MT_OCI_CONFIG) || !strcmp(mt, DK_MT_DOCKER_CONFIG);
}

const char *dk_layer_media_oci(const char *mt)
{
	/* the same bytes under the OCI name: Docker's types predate OCI's */
	if (!strcmp(mt, "application/vnd.docker.image.rootfs.diff.tar.gzip"))
		return DK_MT_LAYER_GZIP;
	if (!strcmp(mt, "application/vnd.docker.image.rootfs.diff.tar"))
		return DK_MT_LAYER_TAR;
	return mt;
}

int dk_layer_media_known(const char *mt)
{
	mt = dk_layer_media_oci(mt);
	return !strcmp(mt, DK_MT_LAYER_TAR) || dk_compressor_by_media_type(mt) != NULL;
}

int dk_desc_from_json(json_t *o, const char *where, struct dk_desc *d, struct dk_err *err)
{
	json_t *mt = json_object_get(o, "mediaType");
	json_t *dg = json_object_get(o, "digest");
	json_t *sz = json_object_get(o, "size");

	memset(d, 0, sizeof(*d));
	if (!json_is_object(o))
		return dk_fail(err, DK_E_CORRUPT, "%s: descriptor is not an object", where);
	if (!json_is_string(mt) || strlen(json_string_value(mt)) >= sizeof(d->media_type))
		return dk_fail(err, DK_E_CORRUPT, "%s: descriptor has no valid mediaType", where);
	if (!json_is_string(dg) || !dk_digest_valid(json_string_value(dg)))
		return dk_fail(err, DK_E_CORRUPT, "%s: descriptor digest %s%s%s is not a sha256 digest",
			       where, json_is_string(dg) ? "\"" : "", json_is_string(dg) ? json_string_value(dg) : "(missing)",
			       json_is_string(dg) ? "\"" : "");
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return dk_fail(err, DK_E_CORRUPT, "%s: descriptor has no valid size", where);
	strcpy(d->media_type, json_string_value(mt));
	strcpy(d->digest, json_string_value(dg));
	d->size = (uint64_t)json_integer_value(sz);
	return 0;
}

json_t *dk_desc_to_json(const struct dk_desc *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "mediaType", json_string(d->media_type));
	json_object_set_new(o, "digest", json_string(d->digest));
	json_object_set_new(o, "size", json_integer((json_int_t)d->size));
	return o;
}

int dk_manifest_parse(const struct dk_manifest_blob *m, const char *where,
		      struct dk_manifest *out, struct dk_err *err)
{
	json_error_t jerr;
	json_t *layers;
	size_t i;
	json_t *l;

	memset(out, 0, sizeof(*out));
	out->root = json_loadb(m->bytes, m->len, 0, &jerr);
	if (!out->root)
		return dk_fail(err, DK_E_CORRUPT, "%s: manifest %s is not valid JSON: %s",
			       where, m->desc.digest, jerr.text);
	if (!dk_media_is_manifest(m->desc.media_type)) {
		dk_fail(err, DK_E_CORRUPT, "%s: %s is a %s, not an image manifest", where,
			m->desc.digest, m->desc.media_type);
		goto fail;
	}
	if (json_integer_value(json_object_get(out->root, "schemaVersion")) != 2) {
		dk_fail(err, DK_E_CORRUPT, "%s: manifest %s: schemaVersion is not 2", where, m->desc.digest);
		goto fail;
	}
	if (dk_desc_from_json(json_object_get(out->root, "config"), where, &out->config, err) < 0)
		goto fail;
	layers = json_object_get(out->root, "layers");
	if (!json_is_array(layers)) {
		dk_fail(err, DK_E_CORRUPT, "%s: manifest %s has no layers array", where, m->desc.digest);
		goto fail;
	}
	out->layers = dk_xcalloc(json_array_size(layers) + 1, sizeof(*out->layers));
	json_array_foreach(layers, i, l) {
		if (dk_desc_from_json(l, where, &out->layers[i], err) < 0)
			goto fail;
		out->n_layers++;
	}
	out->annotations = json_object_get(out->root, "annotations");
	out->artifact_type = json_string_value(json_object_get(out->root, "artifactType"));
	if (!out->artifact_type && !dk_media_is_image_config(out->config.media_type))
		out->artifact_type = json_string_value(json_object_get(json_object_get(out->root, "config"),
								       "mediaType"));
	if (json_object_get(out->root, "subject")) {
		char *w = dk_xasprintf("%s: manifest %s: subject", where, m->desc.digest);
		int rc = dk_desc_from_json(json_object_get(out->root, "subject"), w, &out->subject, err);

		free(w);
		if (rc < 0)
			goto fail;
		out->has_subject = 1;
	}
	return 0;
fail:
	dk_manifest_free(out);
	return -1;
}

void dk_manifest_free(struct dk_manifest *m)
{
	free(m->layers);
	json_decref(m->root);
	memset(m, 0, sizeof(*m));
}

int dk_platform_from_json(json_t *p, struct dk_platform *out)
{
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch = json_string_value(json_object_get(p, "architecture"));
	const char *variant = json_string_value(json_object_get(p, "variant"));

	memset(out, 0, sizeof(*out));
	if (!os || !arch || strlen(os) >= sizeof(out->os) || strlen(arch) >= sizeof(out->arch) ||
	    (variant && strlen(variant) >= sizeof(out->variant)))
		return -1;
	strcpy(out->os, os);
	strcpy(out->arch, arch);
	strcpy(out->variant, variant ? variant : "");
	return 0;
}

/*
 * BuildKit's attestations (SBOM, provenance) sit in the index beside the
 * images, as platform unknown/unknown with this annotation: never an image
 * to run or build on.
 */
static int is_attestation(json_t *m)
{
	return json_object_get(json_object_get(m, "annotations"), "vnd.docker.reference.type") != NULL;
}

/* "linux/amd64, linux/arm64/v8": the platforms an index offers, for an error. */
static void list_platforms(json_t *ms, struct strbuf *sb)
{
	size_t i;
	json_t *m;

	json_array_foreach(ms, i, m) {
		struct dk_platform p;
		char s[100];

		if (is_attestation(m))
			continue;
		if (dk_platform_from_json(json_object_get(m, "platform"), &p) < 0)
			snprintf(s, sizeof(s), "an entry without a platform");
		else
			dk_platform_format(&p, s, sizeof(s));
		sb_join(sb, ", ", s);
	}
}

int dk_index_select(const char *bytes, size_t len, const char *where,
		    const struct dk_platform *want, struct dk_desc *out, struct dk_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(bytes, len, 0, &jerr);
	json_t *ms, *m, *best = NULL;
	size_t i;
	int best_rank = 0, rc = -1;

	if (!root)
		return dk_fail(err, DK_E_CORRUPT, "%s: index is not valid JSON: %s", where, jerr.text);
	ms = json_object_get(root, "manifests");
	if (!json_is_array(ms)) {
		dk_fail(err, DK_E_CORRUPT, "%s: index has no manifests array", where);
		goto out;
	}
	/* the best rank wins; among equals, the first in the index (containerd's order) */
	json_array_foreach(ms, i, m) {
		struct dk_platform have;
		int rank;

		if (is_attestation(m) || dk_platform_from_json(json_object_get(m, "platform"), &have) < 0)
			continue;
		rank = dk_platform_match(want, &have);
		if (rank > best_rank) {
			best = m;
			best_rank = rank;
		}
	}
	if (best) {
		rc = dk_desc_from_json(best, where, out, err);
	} else {
		struct strbuf has = STRBUF_INIT;
		char plat[100];

		list_platforms(ms, &has);
		dk_platform_format(want, plat, sizeof(plat));
		dk_fail(err, DK_E_NOTFOUND, "%s: the image index has no manifest for %s (it has %s)", where, plat,
			has.len ? has.buf : "no images");
		sb_release(&has);
	}
out:
	json_decref(root);
	return rc;
}

static const struct {
	const char *name;
	uint64_t max;
	const char *who;        /* whose limit it is */
} doc_limits[] = {
	[DK_DOC_MANIFEST] = { "manifest", DK_MANIFEST_MAX, "registries accept" },
	[DK_DOC_INDEX] = { "image index", DK_MANIFEST_MAX, "registries accept" },
	[DK_DOC_CONFIG] = { "image config", DK_CONFIG_MAX, "derrick reads" },
};

enum dk_doc dk_doc_of_media(const char *mt)
{
	return dk_media_is_index(mt) ? DK_DOC_INDEX : DK_DOC_MANIFEST;
}

int dk_doc_check_size(enum dk_doc kind, const char *where, const char *digest, uint64_t size,
		      struct dk_err *err)
{
	const char *name = doc_limits[kind].name, *who = doc_limits[kind].who;
	unsigned mib = (unsigned)(doc_limits[kind].max >> 20);

	if (size <= doc_limits[kind].max)
		return 0;
	if (size == DK_SIZE_OVER)
		return dk_fail(err, DK_E_CORRUPT, "%s: %s %s is over the %u MiB limit %s", where, name, digest,
			       mib, who);
	return dk_fail(err, DK_E_CORRUPT, "%s: %s %s: %llu bytes, over the %u MiB limit %s", where, name, digest,
		       (unsigned long long)size, mib, who);
}

char *dk_json_dump(json_t *j, size_t *len)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (!s)
		dk_oom("json");
	*len = strlen(s);
	return s;
}
