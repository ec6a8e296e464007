/*
 * inspect.h - describe an image without running or unpacking it.
 */
#ifndef DERRICK_INSPECT_H
#define DERRICK_INSPECT_H

#include "derrick/err.h"
#include "derrick/ref.h"
#include "derrick/transport.h"

struct json_t;

/*
 * A JSON document describing the image `ref` names (resolved to `want`
 * when it is an index): manifest digest and media type, platform, config
 * digest, layers (digest, size, diff_id, created_by), labels, env,
 * entrypoint, cmd, annotations.  An artifact (see struct dk_manifest) is
 * described instead by manifest digest and media type, artifact_type,
 * config and subject (descriptors: media_type, digest, size; subject null
 * when none), blobs (descriptors with their annotations) and annotations;
 * "artifact_type" is in no image's document.  With `want` NULL, an index
 * is described as itself: manifest digest and media type, "manifests"
 * (descriptors with their platform, {os, architecture[, variant]}, or null)
 * and annotations; "manifests" is in no other document.  Values a document
 * lacks are JSON null.  The caller owns the result.
 */
int dk_inspect(const char *ref, const struct dk_platform *want, const struct dk_transport_opts *o,
	       struct json_t **out, struct dk_err *err);

#endif
