/*
 * sink.h - a byte stream written through a chain of small stages, the way
 * libarchive chains its write filters.  A layer is one pass through
 *
 *     tar -> hash (diff_id) -> gzip -> hash (digest) -> file
 *
 * and each arrow is a dk_sink.  Closing a sink flushes it and closes the
 * next one; freeing a sink frees only that stage, so results (a hash, a
 * byte count) can be read after the chain is closed.
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

/* Passes bytes through unchanged, counting them and hashing them. */
struct dk_sink *dk_sink_hash(struct dk_sink *next);
/* Valid after dk_sink_close(). */
const char *dk_sink_hash_digest(const struct dk_sink *s);
uint64_t dk_sink_hash_size(const struct dk_sink *s);

/*
 * gzip at a fixed level with a header that carries no name and a zero
 * mtime, so the same input always gives the same bytes (gz.c).
 * Same as dk_sink_gzip_par(next, level, 1, DK_GZIP_BLOCK_DEFAULT): one
 * format, so a digest never depends on which entry point made it.
 */
struct dk_sink *dk_sink_gzip(struct dk_sink *next, int level);

/*
 * gzip, compressed in parallel the way pigz does it: the input is cut into
 * blocks of block_size bytes by offset, each deflated on its own with the
 * 32 KiB of input before it as a preset dictionary and joined into one
 * DEFLATE stream in one gzip member.  The bytes depend on level, block_size
 * and the input only, never on threads or on how the writes were cut.
 *
 * level: 0..9, or -1 for zlib's default (6).  threads: worker threads; 1
 * compresses in the caller's thread, <= 0 means one per online CPU (capped
 * at DK_GZIP_THREADS_MAX).  block_size: 0 means DK_GZIP_BLOCK_DEFAULT;
 * larger than DK_GZIP_BLOCK_MAX is clamped.  At most 2 * threads blocks are
 * held in memory.  Output reaches `next` in order, from the caller's thread.
 */
#define DK_GZIP_BLOCK_DEFAULT ((size_t)128 * 1024)
#define DK_GZIP_BLOCK_MAX ((size_t)64 * 1024 * 1024)
#define DK_GZIP_THREADS_MAX 64
struct dk_sink *dk_sink_gzip_par(struct dk_sink *next, int level, int threads, size_t block_size);

/*
 * gzip as a series of members, one per block of block_size bytes (0: 1 MiB),
 * each compressed alone by libdeflate: about three times zlib's speed at a
 * slightly smaller size (BENCHMARKS.md), read by every gzip reader (RFC 1952
 * allows any number of members; eStargz layers are made the same way).  The
 * bytes depend on level, block size, libdeflate's version and the input,
 * never on threads.  Levels 1-12 (libdeflate's).
 */
#define DK_GZIP_MEMBER_BLOCK ((size_t)1024 * 1024)
struct dk_sink *dk_sink_gzip_members(struct dk_sink *next, int level, int threads, size_t block_size);

/*
 * zstd (zst.c): one frame with a checksum, no dictionary and no content
 * size (we stream).  Always run with at least one worker thread: libzstd's
 * multi-threaded format is the same for every worker count but differs
 * from its single-threaded one, so threads <= 1 means one worker.
 * level: as ZSTD_c_compressionLevel (0 = zstd's default, 3).
 */
#define DK_ZSTD_THREADS_MAX 64
struct dk_sink *dk_sink_zstd(struct dk_sink *next, int level, int threads);

#endif
