/*
 * rcache.h - the build cache kept in a registry, for CI runners that start
 * with an empty disk.
 *
 * An entry says "the layer whose key is K is this blob": a small OCI
 * manifest in the cache repository, tagged "derrick-<hex of K>", whose one
 * layer is the cached blob itself (so the registry keeps the blob, and a
 * push to the same registry can mount it) with its diff_id as an
 * annotation, and whose config is the empty descriptor.  The key is the
 * local build cache's (lcache.h): it names the layer's content and options
 * exactly, and costs reading the sources, not compressing them.
 *
 * Anything wrong with the cache - unreachable, missing, malformed, an
 * entry pointing at a blob that is not there - is a warning and a miss,
 * never a failed build.
 */
#ifndef DERRICK_RCACHE_H
#define DERRICK_RCACHE_H

#include "derrick/err.h"
#include "derrick/layer.h"
#include "derrick/transport.h"

#define DK_RCACHE_READ 1
#define DK_RCACHE_WRITE 2

struct dk_rcache;

/* NULL (after a warning) when the cache cannot be used. */
struct dk_rcache *dk_rcache_open(const char *ref, int mode, const struct dk_transport_opts *o,
				 const char *blob_dir);
void dk_rcache_close(struct dk_rcache *c);

/* The cache repository as a source: to mount from, or download from. */
struct dk_image_src *dk_rcache_src(struct dk_rcache *c);

/* 1 and res filled on a hit whose blob the cache repository holds; 0 otherwise. */
int dk_rcache_get(struct dk_rcache *c, const char *key, struct dk_layer_result *res);

/* Record key -> the blob at `path` (uploaded when the repository lacks it). Warns on failure. */
void dk_rcache_put(struct dk_rcache *c, const char *key, const struct dk_layer_result *res,
		   const char *path);

/*
 * Layer maps (layermap.h) by the layer's diff_id, so that a runner with an
 * empty disk need not download a base layer to learn its symlinks: each a
 * small artifact tagged "derrick-map-<hex of the diff_id>", of type
 * application/vnd.derrick.layer-map.v1, whose one blob is the encoded map
 * and whose diff_id is an annotation.  get: 1 and *buf (a new buffer of
 * *len bytes, checked against its digest, not decoded), or 0 for a miss
 * (a warning when something is wrong).  put warns on failure.
 */
int dk_rcache_get_map(struct dk_rcache *c, const char *diff_id, char **buf, size_t *len);
void dk_rcache_put_map(struct dk_rcache *c, const char *diff_id, const char *buf, size_t len);

#endif
