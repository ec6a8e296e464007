/*
 * archive.h - what the two archive transports (oci_archive.c,
 * docker_archive.c) share; private to src/transport/.
 *
 * Writing: the archive is built in a temporary file beside FILE and renamed
 * over it only when complete, so a failure leaves nothing new and an
 * existing FILE untouched.  Every header is made from scratch: mtime 0,
 * uid/gid 0, no user or group names, mode 0644 (0755 for directories);
 * the transports add the entries sorted by name.  Same image, same bytes.
 *
 * Reading: the archive is unpacked once, with libarchive, into a private
 * directory under the cache's tmp/ (removed again on close), every member
 * hashed on its way; links are kept as names, never made on disk.
 */
#ifndef DERRICK_ARCHIVE_TRANSPORT_H
#define DERRICK_ARCHIVE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/sink.h"
#include "derrick/transport.h"

/* ------------------------------------------------------------ writing */

struct arch_w;

/*
 * Start writing the archive `path` (`what`, the reference, names it in
 * errors): 0 and *out, or -1 (the temporary file could not be made).
 */
int arch_w_open(const char *path, const char *what, struct arch_w **out, struct dk_err *err);
/* A directory entry "name/". */
int arch_w_dir(struct arch_w *w, const char *name, struct dk_err *err);
/* A file entry holding len bytes of data. */
int arch_w_bytes(struct arch_w *w, const char *name, const void *data, size_t len, struct dk_err *err);
/* A file entry holding the file `path`'s bytes as they are. */
int arch_w_file(struct arch_w *w, const char *name, const char *path, struct dk_err *err);
/*
 * A file entry of exactly `size` bytes that the caller writes into the
 * sink returned (NULL and err set on failure); closing the sink fails when
 * it got another number of bytes.  Free it after closing.
 */
struct dk_sink *arch_w_entry(struct arch_w *w, const char *name, uint64_t size, struct dk_err *err);
/* Finish, fsync and rename over the path: 0 or -1; w is freed either way. */
int arch_w_commit(struct arch_w *w, struct dk_err *err);
/* Throw the temporary file away (NULL is fine). */
void arch_w_abort(struct arch_w *w);

/* ------------------------------------------------------------ reading */

struct arch_member {
	char *name;                     /* cleaned: no "./", no leading '/' */
	char *path;                     /* the unpacked file; NULL for a link */
	char *link;                     /* a symlink's or hard link's target member, cleaned */
	char digest[DK_DIGEST_SIZE];    /* of the file's bytes */
	uint64_t size;
};

struct arch_r {
	char *file;                     /* the archive */
	char *dir;                      /* where it is unpacked */
	struct arch_member *v;
	size_t n;
};

/*
 * Unpack the archive `file` (a tar, or one compressed with gzip, bzip2, xz or zstd) into a new
 * private directory: 0, or -1 with err naming the reference `what`, the
 * file and the member that is truncated or corrupt.  Close with
 * arch_r_close, which removes the directory.
 */
int arch_r_open(const char *file, const char *what, const struct dk_transport_opts *o, struct arch_r *r,
		struct dk_err *err);
void arch_r_close(struct arch_r *r);
/* The regular file member `name` names, links followed; NULL when there is none. */
const struct arch_member *arch_r_find(const struct arch_r *r, const char *name);
/* The regular file member holding a blob of that digest; NULL when there is none. */
const struct arch_member *arch_r_by_digest(const struct arch_r *r, const char *digest);
/*
 * An error from code that read the unpacked files names them by the
 * private directory: say "FILE member NAME" instead.
 */
void arch_r_fix_err(const struct arch_r *r, struct dk_err *err);

/* ------------------------------------------------------------ destinations */

/*
 * What an archive destination is given before its commit: the blobs' files
 * (which stay where they are until then) and the manifests, the last one
 * being the image the archive names.
 */
struct arch_blob {
	char digest[DK_DIGEST_SIZE];
	char *path;
	uint64_t size;
};

struct arch_dst {
	struct dk_image_dst base;
	struct arch_blob *blobs;
	size_t n_blobs;
	struct dk_manifest_blob *manifests;
	size_t n_manifests;
	int (*write)(struct arch_dst *d, struct arch_w *w, struct dk_err *err);     /* the entries */
};

/*
 * A destination whose commit writes the archive at ref's path through
 * `write`: 0 and *out, or -1 when the path cannot be written (a directory,
 * a missing parent).  Nothing is changed on disk before the commit.
 */
int arch_dst_open(const struct dk_ref *ref, int (*write)(struct arch_dst *, struct arch_w *, struct dk_err *),
		  struct dk_image_dst **out, struct dk_err *err);
/* The file holding the blob `digest`, or NULL. */
const char *arch_dst_blob(const struct arch_dst *d, const char *digest);
/* Read the blob `digest` (a small JSON) as given: 0 and *buf, or -1. */
int arch_dst_read(const struct arch_dst *d, const char *digest, size_t max, char **buf, size_t *len,
		  struct dk_err *err);

#endif
