/*
 * tarw.h - write entries as a normalised tar stream (libarchive), and read
 * a prebuilt tar back into entries (the reader is the "tar" layer source,
 * src/source/tar.c).
 *
 * The normalisation rules (README, "Reproducibility") live in tarw.c and
 * nowhere else: whatever the input, every header is built from scratch.
 */
#ifndef DERRICK_TARW_H
#define DERRICK_TARW_H

#include <stdint.h>
#include <time.h>

#include "derrick/entry.h"
#include "derrick/err.h"
#include "derrick/sink.h"

struct dk_tar_opts {
	int64_t mtime;     /* every entry's mtime (SOURCE_DATE_EPOCH) */
	uint32_t uid, gid;
	int file_mode;     /* -1: 0644, or 0755 when any execute bit is set */
	int dir_mode;      /* -1: 0755 */
};

/* Write the finished entry list `l` as one tar stream into `out`. */
int dk_tar_write(const struct dk_entries *l, const struct dk_tar_opts *opts,
		 struct dk_sink *out, struct dk_err *err);

/*
 * Read a tar (any compression libarchive knows) into entries below the
 * in-layer path `dest`; contents are copied to a spool file.  Paths are
 * cleaned ("./", leading "/"); ".." components are refused.
 */
int dk_tar_read(const char *tarfile, const char *dest, struct dk_entries *out,
		struct dk_err *err);

#endif
