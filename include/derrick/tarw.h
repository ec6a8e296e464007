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

#include "derrick/digest.h"
#include "derrick/entry.h"
#include "derrick/err.h"
#include "derrick/sink.h"

struct archive;

struct dk_tar_opts {
	int64_t mtime;     /* every entry's mtime (SOURCE_DATE_EPOCH) */
	uint32_t uid, gid;
	int file_mode;     /* -1: 0644, or 0755 when any execute bit is set */
	int dir_mode;      /* -1: 0755 */
};

/*
 * Write the finished entry list `l` as one tar stream into `out`.  A file
 * read from disk (e->src) must be the file the walk saw (inode, size,
 * mtime, ctime) from before its first byte to after its last, and when
 * its content hash is set (e->content, from the build-cache key) its bytes
 * must hash to it: otherwise DK_E_CHANGED, naming the file, and what was
 * written to `out` must be thrown away.
 */
int dk_tar_write(const struct dk_entries *l, const struct dk_tar_opts *opts,
		 struct dk_sink *out, struct dk_err *err);

/*
 * The SHA-256 of file entry e's content as 64 lowercase hex digits and a
 * NUL in `hex`, read as dk_tar_write reads it: from e->src, under the same
 * checks (DK_E_CHANGED naming the file), or from `spool_fd` at
 * e->spool_off.  0, or -1 with err set (DK_E_IO for a failed read).
 */
int dk_tar_hash_content(const struct dk_entry *e, int spool_fd, char hex[DK_DIGEST_HEX + 1],
			struct dk_err *err);

/*
 * Read a tar (any compression libarchive knows) into entries below the
 * in-layer path `dest`; contents are copied to a spool file.  Paths are
 * cleaned ("./", leading "/"); ".." components are refused.  Sets
 * out->input_hash (the build-cache key is made of it): the tar is read
 * once, and a tar that changed meanwhile is DK_E_CHANGED.
 */
int dk_tar_read(const char *tarfile, const char *dest, struct dk_entries *out,
		struct dk_err *err);

/*
 * Read every entry of the libarchive reader `a` (opened by the caller on
 * a tar stream) into `out`, below the in-layer path o->dest, as
 * dk_tar_read does: contents are appended to out's spool (made when it
 * has none), hardlinks resolved in archive order.  o->what names the input
 * at the start of errors ("tar FILE"), o->name in warnings.  keep_attrs:
 * each entry keeps its mode bits and numeric owner (entry.h).  strict:
 * an absolute member name is refused too.  0, or -1 with err set
 * (DK_E_CORRUPT naming the entry); entries added so far stay in out.
 */
struct dk_tar_read_opts {
	const char *what, *name, *dest;
	int keep_attrs, strict;
};
int dk_tar_read_archive(struct archive *a, const struct dk_tar_read_opts *o, struct dk_entries *out,
			struct dk_err *err);

/*
 * The input of a tar reader: `path` opened for the libarchive reader `a`
 * (archive_read_open), every byte hashed on its way in.  After the last
 * header, dk_tar_input_finish hashes what is left of the file and gives
 * its SHA-256 (64 hex digits and a NUL in hex), the hash of exactly the
 * bytes the entries came from; a file whose inode, size, mtime or ctime
 * moved since the open is DK_E_CHANGED.  Free `*in` (NULL is fine) after
 * archive_read_free(a).  0, or -1 with err set (*in may be set then).
 */
struct dk_tar_input;
int dk_tar_input_open(struct archive *a, const char *path, struct dk_tar_input **in, struct dk_err *err);
int dk_tar_input_finish(struct dk_tar_input *in, char hex[DK_DIGEST_HEX + 1], struct dk_err *err);
void dk_tar_input_free(struct dk_tar_input *in);

#endif
