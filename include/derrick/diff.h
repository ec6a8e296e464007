/*
 * diff.h - what changes between two images, from their manifests and
 * configs alone: no layer is read, so comparing two images in a registry
 * costs two manifests and two configs.
 */
#ifndef DERRICK_DIFF_H
#define DERRICK_DIFF_H

#include "derrick/err.h"
#include "derrick/transport.h"

struct json_t;

/*
 * Compare the images `old` and `new` name (any transports; an index is
 * resolved to `want`).  0 and *out, a JSON document the caller owns:
 *
 *   old, new         {image, manifest_digest, config_digest}
 *   layers           {shared, added, removed}: arrays of {digest, size,
 *                    media_type, diff_id}, in NEW's order (removed: OLD's);
 *                    an added layer whose diff_id an OLD layer has (the
 *                    same tar compressed otherwise) also has
 *                    "same_diff_id_as": that OLD layer's digest
 *   download_bytes   what a host holding OLD downloads to run NEW: the
 *                    sizes of NEW's layers OLD lacks, each distinct
 *                    digest once (the manifest and config not counted)
 *   saved_bytes      NEW's layer bytes that host already has
 *   config           only what changed, by key: env and labels as
 *                    {added: {K: V}, removed: {K: V}, changed: {K:
 *                    {old, new}}}; exposed_ports and volumes as {added:
 *                    [..], removed: [..]}; entrypoint, cmd, user, workdir
 *                    as {old, new} (JSON null when unset)
 *
 * -1 with err set when either image cannot be read.
 */
int dk_diff(const char *old, const char *new, const struct dk_platform *want, const struct dk_transport_opts *o,
	    struct json_t **out, struct dk_err *err);

#endif
