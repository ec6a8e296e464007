/*
 * lower.h - the file tree of an image's layers applied in order, as an
 * unpacker sees it: which paths exist, and what they are.  A "delete" is
 * checked against it, so that it names something a layer below has.
 */
#ifndef DERRICK_LOWER_H
#define DERRICK_LOWER_H

#include "derrick/listing.h"

struct dk_lower;

struct dk_lower *dk_lower_new(void);
void dk_lower_free(struct dk_lower *t);

/*
 * Put `layer` on top, as the OCI image spec applies a layer: its
 * whiteouts (".wh.NAME", ".wh..wh..opq") delete from what is below, a
 * non-directory replaces a directory with all below it, and its paths are
 * added (the last of a path in the listing wins).
 */
void dk_lower_apply(struct dk_lower *t, const struct dk_listing *layer);

/*
 * What is at in-layer path `path` (cleaned, no leading '/'): the record
 * type ('f', 'd', 'l', 'h', 'o'), 'd' for a directory only implied by
 * paths below it, or 0 when nothing is there.
 */
char dk_lower_type(const struct dk_lower *t, const char *path);

/*
 * The nearest ancestor of `path` that is a symlink in the tree (a new
 * string), with its target in *target (owned by the tree), or NULL.
 */
char *dk_lower_symlink_above(const struct dk_lower *t, const char *path, const char **target);

#endif
