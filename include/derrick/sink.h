/*
 * sink.h - a byte stream written through a chain of small stages, the way
 * libarchive chains its write filters.  A layer is one pass through
 *
 *     tar -> hash (diff_id) -> gzip -> hash (digest) -> file
 *
 * and each arrow is a dk_sink; reading a layer back is file -> gunzip ->
 * hash.  Closing a sink flushes it and closes the next one; freeing a sink
 * frees only that stage, so results (a hash, a byte count) can be read
 * after the chain is closed.
 */
#ifndef DERRICK_SINK_H
#define DERRICK_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/digest.h"
#include "derrick/err.h"

struct dk_sink;

struct dk_sink_ops {
	int (*write)(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err);
	int (*close)(struct dk_sink *s, struct dk_err *err);
	void (*free)(struct dk_sink *s);
};

struct dk_sink {
	const struct dk_sink_ops *ops;
	struct dk_sink *next;   /* where this stage's output goes; NULL at the end */
};

int dk_sink_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err);
int dk_sink_close(struct dk_sink *s, struct dk_err *err);
void dk_sink_free(struct dk_sink *s);

/* The end of a chain: writes to an open file descriptor (not closed). */
struct dk_sink *dk_sink_fd(int fd, const char *what);

/*
 * The start of a chain: writes into s all that fd gives until end of file,
 * without closing either.  A read error is DK_E_IO, naming `what`; a
 * stage's error comes back as it is.
 */
int dk_sink_write_fd(struct dk_sink *s, int fd, const char *what, struct dk_err *err);

/*
 * A stage's first failure, replayed by every later call so that a broken
 * chain keeps saying why.  dk_sink_failed() records *err as the failure,
 * or, once one is recorded, copies it into *err (err may be NULL); it
 * always returns -1.
 */
struct dk_sink_failure {
	int failed;
	struct dk_err err;
};
int dk_sink_failed(struct dk_sink_failure *f, struct dk_err *err);

/* Passes bytes through unchanged, counting them and hashing them. */
struct dk_sink *dk_sink_hash(struct dk_sink *next);
/* Valid after dk_sink_close(). */
const char *dk_sink_hash_digest(const struct dk_sink *s);
uint64_t dk_sink_hash_size(const struct dk_sink *s);

/*
 * gzip as a series of members, one per block of block_size bytes (0: 1 MiB),
 * each compressed alone by libdeflate: about three times zlib's speed at a
 * slightly smaller size (BENCHMARKS.md), read by every gzip reader (RFC 1952
 * allows any number of members; eStargz layers are made the same way).  The
 * bytes depend on level, block size, libdeflate's version and the input,
 * never on threads.  Levels 0-12 (libdeflate's).  threads: worker threads;
 * 1 compresses in the caller's thread, <= 0 means one per online CPU
 * (capped at DK_GZIP_THREADS_MAX).  block_size larger than
 * DK_GZIP_BLOCK_MAX is clamped.  At most 2 * threads blocks are held in
 * memory.  Output reaches `next` in order, from the caller's thread.
 */
#define DK_GZIP_MEMBER_BLOCK ((size_t)1024 * 1024)
#define DK_GZIP_BLOCK_MAX ((size_t)64 * 1024 * 1024)
#define DK_GZIP_THREADS_MAX 64
struct dk_sink *dk_sink_gzip_members(struct dk_sink *next, int level, int threads, size_t block_size);

/*
 * gunzip (gzip.c, zlib's inflate): passes the decompressed bytes of any
 * number of gzip members, one after another, to `next`.  Input that is not
 * gzip fails with DK_E_CORRUPT, and so does a close before the last member
 * ended; `what` (not copied) names the stream in those messages.
 */
struct dk_sink *dk_sink_gunzip(struct dk_sink *next, const char *what);

/*
 * zstd (zstd.c): one frame with a checksum, no dictionary and no content
 * size (we stream).  Always run with at least one worker thread: libzstd's
 * multi-threaded format is the same for every worker count but differs
 * from its single-threaded one, so threads <= 1 means one worker.
 * level: as ZSTD_c_compressionLevel (0 = zstd's default, 3).
 */
#define DK_ZSTD_THREADS_MAX 64
struct dk_sink *dk_sink_zstd(struct dk_sink *next, int level, int threads);

/*
 * unzstd (zstd.c): passes the decompressed bytes of any number of zstd
 * frames to `next`; errors as dk_sink_gunzip's.
 */
struct dk_sink *dk_sink_unzstd(struct dk_sink *next, const char *what);

#endif
