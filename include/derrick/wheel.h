/*
 * wheel.h - a Python wheel (.whl), verified and installed as layer entries.
 *
 * A wheel is opened once (dk_wheel_open): its size and sha256 are checked
 * against what the caller expects, the zip is read twice by libarchive (the
 * central directory and the local headers must list the same members with
 * the same bytes), its names are checked, and every member is checked
 * against RECORD.  Then the caller may look at the info (Requires-Python)
 * before dk_wheel_install turns it into entries under the image paths of
 * struct dk_wheel_opts, as the "Binary distribution format" specification
 * says and pypa/installer does (README, "Wheels").  Nothing runs, nothing
 * is compiled: no .pyc.
 */
#ifndef DERRICK_WHEEL_H
#define DERRICK_WHEEL_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/digest.h"
#include "derrick/entry.h"
#include "derrick/err.h"

/* One wheel to install. */
struct dk_wheel_file {
	const char *path;       /* the .whl on disk */
	const char *filename;   /* its wheel file name ("pkg-1.0-py3-none-any.whl"), which
				   the checks use; NULL: the last component of path (a blob
				   cache names files by hash, so callers of the cache pass it) */
	const char *sha256;     /* expected sha256, 64 lowercase hex digits, or NULL */
	int64_t size;           /* expected size in bytes, or -1 */
};

/* What a verified wheel says about itself.  Strings are owned by the wheel. */
struct dk_wheel_info {
	const char *filename;   /* the wheel file name the checks used */
	const char *dist;       /* the file name's distribution part ("my_pkg") */
	const char *dist_info;  /* the ".dist-info" directory's name */
	const char *name;       /* METADATA's Name */
	const char *version;    /* METADATA's Version */
	const char *requires_python; /* METADATA's Requires-Python, or NULL: the caller checks it */
	int root_is_purelib;    /* WHEEL's Root-Is-Purelib is "true" */
	int wheel_minor;        /* the minor of WHEEL's Wheel-Version (the major is 1) */
	uint64_t size;          /* the file's size and sha256 (hex), as read */
	char sha256[DK_DIGEST_HEX + 1];
	size_t files;           /* regular files in the zip, RECORD included */
};

struct dk_wheel;

/*
 * Where a wheel goes.  All absolute paths in the image ("/usr/local"); the
 * entries get them without the leading '/'.
 *   prefix:        scripts and entry-point wrappers in PREFIX/bin, .data/data
 *                  in PREFIX, .data/headers in PREFIX/include/pythonX.Y/DIST
 *                  (DIST: the file name's distribution part, as installer does)
 *   site_packages: the archive root, .data/purelib and .data/platlib
 *   interpreter:   the shebang of scripts ("#!python" rewritten) and wrappers
 *   python:        "X.Y", for the headers directory
 *   check:         called with each wheel's info after it is verified and
 *                  before it is installed (Requires-Python); NULL for none.
 *                  0, or -1 with err set, which stops the install.
 */
struct dk_wheel_opts {
	const char *prefix;
	const char *site_packages;
	const char *interpreter;
	const char *python;
	int (*check)(const struct dk_wheel_info *info, void *arg, struct dk_err *err);
	void *check_arg;
};

/*
 * Open and verify the wheel f: expected size, then sha256 (one streaming
 * pass), then the zip and RECORD checks listed at the top.  The members'
 * contents are copied to the spool file of `spool` (created when its
 * spool_fd is -1), the list later given to dk_wheel_install.  *out is a new
 * wheel to free with dk_wheel_free.  0, or -1 with err naming the wheel file
 * and the member: DK_E_CORRUPT for a wheel that fails a check, DK_E_NOTFOUND
 * or DK_E_IO for the file, DK_E_CHANGED when it changed while read.
 */
int dk_wheel_open(const struct dk_wheel_file *f, struct dk_entries *spool, struct dk_wheel **out,
		  struct dk_err *err);

const struct dk_wheel_info *dk_wheel_info(const struct dk_wheel *w);

/*
 * Add w's files to `out` (the list given to dk_wheel_open) as entries at
 * their image paths, with the generated entry-point wrappers, INSTALLER
 * ("derrick\n") and a new RECORD (sorted bytewise, LF line ends), and
 * every parent directory (0755).  Files are 0644, or 0755 for scripts,
 * wrappers and members whose zip mode has an execute bit.  Two members that
 * land on one path are an error naming it (DK_E_CORRUPT); bad options are
 * DK_E_USAGE.  0, or -1 with err set (entries may have been added).
 */
int dk_wheel_install(const struct dk_wheel *w, const struct dk_wheel_opts *o, struct dk_entries *out,
		     struct dk_err *err);

void dk_wheel_free(struct dk_wheel *w);

/*
 * Open, verify, check (o->check) and install the n wheels of `files` into
 * `out`, as above.  Two wheels that write one path (a file, or a file where
 * the other has a directory) are DK_E_CORRUPT naming the path and both
 * wheels; directories they share (namespace packages) are fine.  Each
 * entry's owner is its wheel's number in `files`, from 1.  Sets
 * out->input_hash to the sha256 of the wheels' sha256s, file names and the
 * options.  0, or -1 with err set (out may hold some entries; it is still
 * the caller's to release).
 */
int dk_wheels_install(const struct dk_wheel_file *files, size_t n, const struct dk_wheel_opts *o,
		      struct dk_entries *out, struct dk_err *err);

#endif
