/*
 * image.h - OCI image JSON: descriptors, manifests, configs.
 *
 * Reading checks structure (and the caller checks digests); writing builds
 * the JSON with jansson in a fixed key order, so the same image always
 * serialises to the same bytes.
 */
#ifndef DERRICK_IMAGE_H
#define DERRICK_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/err.h"
#include "derrick/ref.h"
#include "derrick/transport.h"

struct json_t;

#define DK_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

/* Read {mediaType, digest, size} from a JSON object; `where` names it in errors. */
int dk_desc_from_json(struct json_t *o, const char *where, struct dk_desc *d, struct dk_err *err);
/* A new JSON object for a descriptor, keys in the spec's order. */
struct json_t *dk_desc_to_json(const struct dk_desc *d);

/*
 * A parsed image manifest: an image, or an artifact (image-spec v1.1: an
 * artifactType, or a config that is not an image config), whose "layers"
 * are blobs of any media type.
 */
struct dk_manifest {
	struct dk_desc config;
	struct dk_desc *layers;
	size_t n_layers;
	struct json_t *annotations;     /* borrowed reference or NULL */
	const char *artifact_type;      /* NULL for an image; else artifactType, or the config's media type */
	struct dk_desc subject;         /* the manifest this one refers to, when has_subject */
	int has_subject;
	struct json_t *root;            /* owns everything above */
};

int dk_manifest_parse(const struct dk_manifest_blob *m, const char *where,
		      struct dk_manifest *out, struct dk_err *err);
void dk_manifest_free(struct dk_manifest *m);

/*
 * Pick the manifest for a platform from an index's bytes: the entry that
 * dk_platform_match ranks best (the first of equals), attestations skipped.
 * 0 with *out, or -1: DK_E_NOTFOUND naming the platforms the index has,
 * DK_E_CORRUPT for an index that is not one.
 */
int dk_index_select(const char *bytes, size_t len, const char *where,
		    const struct dk_platform *want, struct dk_desc *out, struct dk_err *err);
/*
 * A platform object ({"os", "architecture", "variant"}, as in an index entry
 * or at the top of an image config) into *out: 0, or -1 when os or
 * architecture is missing or a field is too long.
 */
int dk_platform_from_json(struct json_t *p, struct dk_platform *out);

/* 1 for media types that are image indexes (OCI or Docker list). */
int dk_media_is_index(const char *mt);
/* 1 for media types that are single-image manifests (OCI or Docker v2). */
int dk_media_is_manifest(const char *mt);
/* 1 for media types of image configs (OCI or Docker): what a manifest of an image, not an artifact, has. */
int dk_media_is_image_config(const char *mt);

/* An uncompressed layer (the compressed kinds' media types are their rows', compress.h). */
#define DK_MT_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"

/* A layer media type under its OCI name: Docker's are mapped, others returned as they are (not copied). */
const char *dk_layer_media_oci(const char *mt);
/* 1 for the layer media types derrick reads: an uncompressed tar or a compressor's (OCI or Docker names). */
int dk_layer_media_known(const char *mt);

/* The JSON documents that have a size limit, and the limit each has. */
enum dk_doc {
	DK_DOC_MANIFEST,        /* DK_MANIFEST_MAX: what registries accept */
	DK_DOC_INDEX,           /* DK_MANIFEST_MAX, as a manifest */
	DK_DOC_CONFIG,          /* DK_CONFIG_MAX: what derrick reads */
};
/* A size that is not known, only that it is over the limit (a download cut short). */
#define DK_SIZE_OVER UINT64_MAX

/* The kind of document a manifest media type is: an index or a manifest. */
enum dk_doc dk_doc_of_media(const char *mt);
/*
 * 0 when a document of `size` bytes is within the limit of its kind; else
 * -1 with DK_E_CORRUPT and "WHERE: manifest DIGEST: N bytes, over the 4 MiB
 * limit registries accept" (digest may be a tag; size may be DK_SIZE_OVER).
 */
int dk_doc_check_size(enum dk_doc kind, const char *where, const char *digest, uint64_t size,
		      struct dk_err *err);

/* Serialise JSON compactly with preserved key order: the bytes are the identity. */
char *dk_json_dump(struct json_t *j, size_t *len);

#endif
