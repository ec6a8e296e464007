/*
 * walk.h - turn a source (a directory tree or one file) into layer entries.
 */
#ifndef DERRICK_WALK_H
#define DERRICK_WALK_H

#include "derrick/entry.h"
#include "derrick/err.h"

struct dk_ignore;

struct dk_walk_stats {
	size_t files, dirs, symlinks;
	size_t skipped_special;  /* sockets, fifos, devices: never put in a layer */
	size_t stale_pyc;        /* timestamp-checked .pyc files (see README) */
};

/*
 * Walk `source` and add its entries below the in-layer path `dest` ("" is
 * the root).  A directory source contributes its contents (dest becomes
 * that directory); a file source becomes the file `dest`.  `ig` may be
 * NULL.  Symlinks inside the tree are kept as symlinks, never followed; the
 * source itself may be a symlink to a directory or file.
 */
int dk_walk(const char *source, const char *dest, const struct dk_ignore *ig,
	    struct dk_entries *out, struct dk_walk_stats *stats, struct dk_err *err);

#endif
