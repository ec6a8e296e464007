/*
 * walk.h - turn a source (a directory tree or one file) into layer entries.
 */
#ifndef DERRICK_WALK_H
#define DERRICK_WALK_H

#include <sys/stat.h>

#include "derrick/entry.h"
#include "derrick/err.h"

struct dk_ignore;

/*
 * What derrick itself writes while it builds: output layouts and archives,
 * staging directories, the build cache, the digest file.  A walk never
 * packs them, nor anything below them, whatever the patterns say ('!'
 * included): a layer holding them would change from build to build.
 */
struct dk_own_paths;

/* An empty list (never NULL); free with dk_own_paths_free (NULL is fine). */
struct dk_own_paths *dk_own_paths_new(void);
void dk_own_paths_free(struct dk_own_paths *op);

/*
 * Add a file or directory derrick writes; it need not exist yet.  A walk
 * matches it by (device, inode) when it exists then, and by its path with
 * the symlinks of its existing parents resolved; a relative path is taken
 * from the current directory now.  Its parent directory is added as with
 * dk_own_paths_add_temp_dir: temporaries are made beside what is written.
 */
void dk_own_paths_add(struct dk_own_paths *op, const char *path);

/*
 * Add a directory derrick makes temporaries in ($TMPDIR): the entries in
 * it named like derrick's temporaries ("derrick-WORD-XXXXXX", with or
 * without a leading '.', WORD lowercase letters, X letters or digits) are
 * derrick's own work too, this build's or another's (one running beside
 * it, or one that was killed and left its staging directory behind).
 */
void dk_own_paths_add_temp_dir(struct dk_own_paths *op, const char *dir);

/* The list as seen from one walk's root. */
struct dk_own_view;

/*
 * Resolve op for a walk of `root` into *out (free with dk_own_view_free).
 * Fails with DK_E_SPEC when root itself is, or lies inside, a path derrick
 * writes.
 */
int dk_own_view_open(const struct dk_own_paths *op, const char *root, struct dk_own_view **out,
		     struct dk_err *err);
void dk_own_view_free(struct dk_own_view *v);

/*
 * 1 when the entry `name` (lstat `st`, path `rel` from the root) in the
 * directory whose stat is `dir` is derrick's own, else 0.
 */
int dk_own_view_has(const struct dk_own_view *v, const struct stat *dir, const char *name,
		    const char *rel, const struct stat *st);

struct dk_walk_stats {
	size_t files, dirs, symlinks;
	size_t skipped_special;  /* sockets, fifos, devices: never put in a layer */
	size_t stale_pyc;        /* timestamp-checked .pyc files (see README) */
	size_t own;              /* derrick's own outputs, staging and caches, left out */
};

/*
 * Walk `source` and add its entries below the in-layer path `dest` ("" is
 * the root).  A directory source contributes its contents (dest becomes
 * that directory); a file source becomes the file `dest`.  `ig` and `own`
 * may be NULL; what `own` lists is left out whatever `ig` says, and a
 * source that is or lies in one of its paths fails with DK_E_SPEC.
 * Symlinks inside the tree are kept as symlinks, never followed; the
 * source itself may be a symlink to a directory or file.  A path that
 * goes away (or stops being what it was) between its directory's listing
 * and its stat, readlink or opendir is DK_E_CHANGED, naming it, as a file
 * that changes while it is read (tarw.h): reading the source again may
 * succeed.
 *
 * Test hook: when DERRICK_TEST_PAUSE_WALK_FIFO names a fifo, the walk reads
 * one line from it after listing each directory and before looking at its
 * entries (util.h, dk_test_pause), so that a test can remove one there.
 */
int dk_walk(const char *source, const char *dest, const struct dk_ignore *ig,
	    const struct dk_own_paths *own, struct dk_entries *out, struct dk_walk_stats *stats,
	    struct dk_err *err);

#endif
