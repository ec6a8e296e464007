/*
 * tarread.h - what a stored layer holds (names, types, link targets), read
 * by libarchive in one pass that also checks the layer's diff_id:
 *
 *     blob -> decompress -> hash (diff_id) -> tar reader
 *
 * It is the one reader of base layers (src/layer/tarread.c): their maps
 * (layermap.h) are made from it, and through them the tree of the layers
 * below (symlinks.h) that placing a layer and "delete" are checked against.
 * File contents are skipped, never kept: memory does not grow with the layer.
 */
#ifndef DERRICK_TARREAD_H
#define DERRICK_TARREAD_H

struct archive;

#include "derrick/entry.h"
#include "derrick/err.h"

struct dk_tar_item {
	const char *path;       /* as stored: it may start with "./" or "/" and end with '/' */
	enum dk_etype type;     /* DK_ENT_FILE also for devices and fifos (any other non-directory) */
	const char *link;       /* the symlink's or hardlink's target, else NULL */
	struct archive *reader; /* for dk_tar_item_read, during the callback only */
};

/*
 * The contents of the entry `it` (a regular file) during its callback, at
 * most max bytes: 0 with *data (a new NUL-terminated buffer) and *len, or
 * -1 with err set (DK_E_CORRUPT for a damaged entry, DK_E_USAGE when it is
 * larger than max).
 */
int dk_tar_item_read(const struct dk_tar_item *it, size_t max, char **data, size_t *len, struct dk_err *err);

/* Called once per entry; a non-zero return (with err set) stops the read with that error. */
typedef int (*dk_tar_item_fn)(void *ctx, const struct dk_tar_item *item, struct dk_err *err);

/*
 * Call fn(ctx, ...) for every entry of the layer blob file `blob`
 * (compressed by a compressor of the table, compress.h, or not), and
 * check that its uncompressed bytes are those of `diff_id` (what follows
 * the tar's end-of-archive blocks counts too).  Names are passed as the
 * tar stores them, byte for byte.  0, or -1 with err set: DK_E_IO when the file
 * cannot be opened, DK_E_CORRUPT naming the blob for a stream that does
 * not decompress, a damaged tar, or other bytes than diff_id's (fn may
 * have been called for entries before the damage was seen).
 */
int dk_tar_read_blob(const char *blob, const char *diff_id, dk_tar_item_fn fn, void *ctx, struct dk_err *err);

#endif
