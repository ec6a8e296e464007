/*
 * tarscan.h - what a tar stream holds (names, types, link targets), read
 * as the stream goes past, without unpacking it: the last stage of
 *
 *     blob -> decompress -> hash (diff_id) -> tar scan
 *
 * so that a base image's layer is read once, in one pass, in fixed memory
 * (src/layer/tarscan.c).  It reads ustar, GNU (long names, old sparse
 * files) and pax (path, linkpath, size) headers; file contents are skipped.
 */
#ifndef DERRICK_TARSCAN_H
#define DERRICK_TARSCAN_H

#include "derrick/entry.h"
#include "derrick/err.h"
#include "derrick/sink.h"

struct dk_tar_item {
	const char *path;       /* as stored: it may start with "./" or "/" and end with '/' */
	enum dk_etype type;     /* DK_ENT_FILE also for devices and fifos (any other non-directory) */
	const char *link;       /* the symlink's or hardlink's target, else NULL */
};

/* Called once per entry; a non-zero return (with err set) stops the scan with that error. */
typedef int (*dk_tar_scan_fn)(void *ctx, const struct dk_tar_item *item, struct dk_err *err);

/*
 * A sink that calls fn(ctx, ...) for every entry of the tar stream written
 * to it.  What follows the end-of-archive blocks is ignored.  A header
 * whose checksum is wrong, a number that does not parse, an extended
 * header over 1 MiB, or a stream that ends inside an entry is DK_E_CORRUPT,
 * with a message naming `what` (not copied) and the offset.
 */
struct dk_sink *dk_sink_tar_scan(dk_tar_scan_fn fn, void *ctx, const char *what);

#endif
