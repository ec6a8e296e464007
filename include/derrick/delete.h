/*
 * delete.h - the layer key "delete": paths of the layers below that a
 * layer deletes, written as OCI whiteouts.  It is the only way derrick
 * writes whiteouts: a source file with such a name is refused (entry.h).
 */
#ifndef DERRICK_DELETE_H
#define DERRICK_DELETE_H

#include "derrick/entry.h"
#include "derrick/err.h"

struct dk_spec_layer;
struct dk_symview;

/*
 * Add the whiteouts of l's "delete" list to the finished list `out` and
 * finish it again.  A path the layer itself makes a directory (or puts
 * anything below) gets an opaque whiteout in that directory, so only the
 * layer's own contents show there; a path it makes a file or symlink needs
 * none (its entry replaces what is below); any other path gets ".wh.NAME"
 * beside it.  0, or -1 with err set.
 */
int dk_delete_whiteouts(const struct dk_spec_layer *l, struct dk_entries *out, struct dk_err *err);

/*
 * Check that every path of l's "delete" list exists in `below`, the tree of
 * the layers under this one (symlinks.h: the one the layer is placed on).
 * 0, or -1 with err naming the first that does not (DK_E_NOTFOUND), and
 * the symlink in the way when there is one.
 */
int dk_delete_check(const struct dk_spec_layer *l, const struct dk_symview *below, struct dk_err *err);

#endif
