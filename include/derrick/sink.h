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
 */
struct dk_sink *dk_sink_gzip(struct dk_sink *next, int level);

#endif
