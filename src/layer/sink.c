/*
 * sink.c - the generic chain plus its simplest stages: a file descriptor
 * at either end and a hashing pass-through.
 */
#include <stdlib.h>

#include "derrick/sink.h"
#include "derrick/util.h"

/* dk_sink_write_fd's reads: big enough that the calls cost nothing next to the stages. */
#define READ_CHUNK ((size_t)1 << 16)

int dk_sink_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	return len ? s->ops->write(s, buf, len, err) : 0;
}

int dk_sink_close(struct dk_sink *s, struct dk_err *err)
{
	return s->ops->close(s, err);
}

void dk_sink_free(struct dk_sink *s)
{
	if (s)
		s->ops->free(s);
}

static int close_next(struct dk_sink *s, struct dk_err *err)
{
	return s->next ? dk_sink_close(s->next, err) : 0;
}

struct fd_sink {
	struct dk_sink base;
	int fd;
	const char *what;
};

static int fd_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct fd_sink *f = (struct fd_sink *)s;

	return dk_write_all(f->fd, buf, len, f->what, err);
}

static int fd_close(struct dk_sink *s, struct dk_err *err)
{
	(void)s;
	(void)err;
	return 0;
}

static void plain_free(struct dk_sink *s)
{
	free(s);
}

static const struct dk_sink_ops fd_ops = { fd_write, fd_close, plain_free };

struct dk_sink *dk_sink_fd(int fd, const char *what)
{
	struct fd_sink *f = dk_xcalloc(1, sizeof(*f));

	f->base.ops = &fd_ops;
	f->fd = fd;
	f->what = what;
	return &f->base;
}

struct hash_sink {
	struct dk_sink base;
	struct dk_sha256 h;
	uint64_t size;
	char digest[DK_DIGEST_SIZE];
};

static int hash_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct hash_sink *h = (struct hash_sink *)s;

	dk_sha256_update(&h->h, buf, len);
	h->size += len;
	return s->next ? dk_sink_write(s->next, buf, len, err) : 0;
}

static int hash_close(struct dk_sink *s, struct dk_err *err)
{
	struct hash_sink *h = (struct hash_sink *)s;

	if (h->h.ctx)
		dk_sha256_final(&h->h, h->digest);
	return close_next(s, err);
}

static void hash_free(struct dk_sink *s)
{
	struct hash_sink *h = (struct hash_sink *)s;

	if (h->h.ctx)
		dk_sha256_abort(&h->h);
	free(h);
}

static const struct dk_sink_ops hash_ops = { hash_write, hash_close, hash_free };

struct dk_sink *dk_sink_hash(struct dk_sink *next)
{
	struct hash_sink *h = dk_xcalloc(1, sizeof(*h));

	h->base.ops = &hash_ops;
	h->base.next = next;
	dk_sha256_init(&h->h);
	return &h->base;
}

const char *dk_sink_hash_digest(const struct dk_sink *s)
{
	return ((const struct hash_sink *)s)->digest;
}

uint64_t dk_sink_hash_size(const struct dk_sink *s)
{
	return ((const struct hash_sink *)s)->size;
}

int dk_sink_write_fd(struct dk_sink *s, int fd, const char *what, struct dk_err *err)
{
	unsigned char *buf = dk_xmalloc(READ_CHUNK);
	ssize_t n;
	int rc = 0;

	while (rc == 0 && (n = dk_read(fd, buf, READ_CHUNK)) != 0) {
		if (n < 0)
			rc = dk_fail_errno(err, DK_E_IO, "read %s", what);
		else
			rc = dk_sink_write(s, buf, (size_t)n, err);
	}
	free(buf);
	return rc;
}

int dk_sink_failed(struct dk_sink_failure *f, struct dk_err *err)
{
	if (!f->failed) {
		f->failed = 1;
		if (err)
			f->err = *err;
	} else if (err) {
		*err = f->err;
	}
	return -1;
}
