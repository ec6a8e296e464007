/*
 * layermap.h - what one layer does to the image's tree, path by path: the
 * directories it writes, its symlinks with their targets, its other files,
 * and the whiteouts it holds.  No contents, modes or owners: just what a
 * later layer needs to know about the layers below it, which paths are
 * symlinks (symlinks.h), and what replaced them.
 *
 * A base image's layer is read once to make its map (dk_layer_map_read_blob);
 * the build caches keep maps by diff_id (lcache.h, rcache.h) so that no
 * later build, on any runner, reads that layer again.  A layer derrick
 * writes gets its map from its entries.
 *
 * Encoded form (the bytes the caches keep): the line
 * "derrick-layer-map-2 sha256:<hex of the layer's diff_id>\n", then one
 * record per path, in the canonical order of dk_layer_map_finish: an op
 * letter (w whiteout, o opaque directory, d directory, l symlink, f any
 * other entry), the path, a NUL, and for a symlink its target and a NUL.
 * Paths are bytes, so any name a tar can hold fits.
 */
#ifndef DERRICK_LAYERMAP_H
#define DERRICK_LAYERMAP_H

#include <stddef.h>

#include "derrick/digest.h"
#include "derrick/entry.h"
#include "derrick/err.h"

enum dk_map_op {
	DK_MAP_WHITEOUT,        /* the path, and all below it, is deleted from the layers below */
	DK_MAP_OPAQUE,          /* what the layers below hold in this directory is hidden */
	DK_MAP_DIR,
	DK_MAP_SYMLINK,
	DK_MAP_OTHER,           /* a file, hardlink, device or fifo */
};

struct dk_map_rec {
	enum dk_map_op op;
	char *path;             /* clean in-image path, "" for the root ("usr/bin") */
	char *target;           /* DK_MAP_SYMLINK: the target as the layer stores it; else NULL */
};

struct dk_layer_map {
	struct dk_map_rec *v;
	size_t n, alloc;
};

void dk_layer_map_init(struct dk_layer_map *m);
void dk_layer_map_release(struct dk_layer_map *m);

/*
 * Record an entry as a layer holds it (path as stored: "./", "/" and a
 * trailing '/' are cleaned): ".wh.NAME" becomes the whiteout of NAME,
 * ".wh..wh..opq" the opaque mark of its directory, other ".wh..wh." names
 * (AUFS's own) and paths that climb out with ".." are left out.
 */
void dk_layer_map_add(struct dk_layer_map *m, const char *path, enum dk_etype type, const char *link);

/*
 * Put the records in canonical order: whiteouts and opaque marks first (the
 * OCI spec applies them to the layers below only), then the entries, each
 * group by path; of two entries for one path the later added stays, as
 * when a tar is extracted.
 */
void dk_layer_map_finish(struct dk_layer_map *m);

/* The map (finished) of a layer made of the entries l: m must be initialised and empty. */
void dk_layer_map_from_entries(const struct dk_entries *l, struct dk_layer_map *m);

/*
 * The map of a stored layer (a tar blob, compressed or not), read once
 * by libarchive (dk_tar_read_blob), in the pass that also checks that it
 * decompresses to `diff_id`: 0 and m filled (initialised, empty,
 * finished), or -1 with DK_E_CORRUPT (not a tar, a stream that does not
 * decompress, or another diff_id) or DK_E_IO.
 */
int dk_layer_map_read_blob(const char *blob, const char *diff_id, struct dk_layer_map *m, struct dk_err *err);

/* The encoded form of the finished map m of the layer `diff_id` (a new buffer of *len bytes). */
char *dk_layer_map_encode(const struct dk_layer_map *m, const char *diff_id, size_t *len);

/*
 * Decode len bytes into m (initialised, empty) and finish it: 0, or -1
 * with DK_E_CORRUPT when they are not a map of the layer `diff_id`.
 */
int dk_layer_map_decode(const char *buf, size_t len, const char *diff_id, struct dk_layer_map *m,
			struct dk_err *err);

#endif
