/*
 * listing.h - the paths a layer holds (what a "delete" checks against):
 * read from a layer blob in one pass, or from a layer's entries, and kept
 * under the cache directory by diff_id, so a base layer is read once per
 * cache however often it is built on.
 */
#ifndef DERRICK_LISTING_H
#define DERRICK_LISTING_H

#include <stddef.h>

#include "derrick/entry.h"
#include "derrick/err.h"

struct dk_desc;
struct dk_image_src;

/* One path of a layer, as its tar has it. */
struct dk_listing_rec {
	char type;      /* 'f' file, 'd' directory, 'l' symlink, 'h' hardlink, 'o' device, fifo, socket */
	char *path;     /* cleaned in-layer path: no leading '/' or "./"; whiteouts keep their ".wh." names */
	char *link;     /* the symlink's target ('l'), else NULL */
};

struct dk_listing {
	struct dk_listing_rec *v;
	size_t n, alloc;
};

void dk_listing_free(struct dk_listing *l);
/* Append a record; path and link (NULL for none) are copied. */
void dk_listing_add(struct dk_listing *l, char type, const char *path, const char *link);

/* The listing of a finished entry list: what the layer written from it will hold. */
void dk_listing_of_entries(const struct dk_entries *e, struct dk_listing *out);

/*
 * List the layer blob file `blob` (gzip, zstd, any compression libarchive
 * reads, or none) and check that its uncompressed bytes have `diff_id`
 * (a listing is kept by diff_id: one of other bytes must not be).
 * Entries whose names would climb out with ".." are left out.  0, or -1
 * with err set (DK_E_CORRUPT for a blob that is no tar or has other bytes).
 */
int dk_listing_read_blob(const char *blob, const char *diff_id, struct dk_listing *out, struct dk_err *err);

/*
 * The listing of the layer `d` of image `src`, whose diff_id is `diff_id`:
 * from cache_dir/listings/<hex> when there, else read from the blob (which
 * the source may have to download) and stored there.  cache_dir may be NULL
 * (no cache: always read).  0, or -1 with err set.
 */
int dk_listing_of_layer(struct dk_image_src *src, const struct dk_desc *d, const char *diff_id,
			const char *cache_dir, struct dk_listing *out, struct dk_err *err);

#endif
