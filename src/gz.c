/*
 * gz.c - a gzip stage for the sink chain (zlib).
 *
 * Reproducibility lives in the header: zlib would otherwise write the OS it
 * was built on, and tools like gzip(1) add the file name and mtime.  We set
 * every header field ourselves: no name, mtime 0, OS 3 (Unix) everywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "derrick/sink.h"
#include "derrick/util.h"

#define GZ_OUT 65536

struct gz_sink {
	struct dk_sink base;
	z_stream zs;
	gz_header hdr;
	int open;
	unsigned char out[GZ_OUT];
};

/* Run deflate over the pending input with flush mode `flush`, pushing output downstream. */
static int gz_pump(struct gz_sink *g, int flush, struct dk_err *err)
{
	for (;;) {
		int rc;
		size_t have;

		g->zs.next_out = g->out;
		g->zs.avail_out = GZ_OUT;
		rc = deflate(&g->zs, flush);
		if (rc == Z_STREAM_ERROR)
			return dk_fail(err, DK_E_INTERNAL, "gzip: deflate failed");
		have = GZ_OUT - g->zs.avail_out;
		if (have && dk_sink_write(g->base.next, g->out, have, err) < 0)
			return -1;
		if (flush == Z_FINISH ? rc == Z_STREAM_END : g->zs.avail_out != 0)
			return 0;
	}
}

static int gz_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct gz_sink *g = (struct gz_sink *)s;
	const unsigned char *p = buf;

	/* avail_in is 32 bits wide: feed very large writes in slices. */
	while (len) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;

		g->zs.next_in = (unsigned char *)p;
		g->zs.avail_in = (uInt)n;
		if (gz_pump(g, Z_NO_FLUSH, err) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int gz_close(struct dk_sink *s, struct dk_err *err)
{
	struct gz_sink *g = (struct gz_sink *)s;

	g->zs.next_in = NULL;
	g->zs.avail_in = 0;
	if (gz_pump(g, Z_FINISH, err) < 0)
		return -1;
	return dk_sink_close(s->next, err);
}

static void gz_free(struct dk_sink *s)
{
	struct gz_sink *g = (struct gz_sink *)s;

	if (g->open)
		deflateEnd(&g->zs);
	free(g);
}

static const struct dk_sink_ops gz_ops = { gz_write, gz_close, gz_free };

struct dk_sink *dk_sink_gzip(struct dk_sink *next, int level)
{
	struct gz_sink *g = dk_xcalloc(1, sizeof(*g));

	g->base.ops = &gz_ops;
	g->base.next = next;
	/* windowBits 15 + 16 asks zlib for a gzip wrapper rather than zlib's own. */
	if (deflateInit2(&g->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		fputs("derrick: zlib init failed\n", stderr);
		abort();
	}
	g->open = 1;
	memset(&g->hdr, 0, sizeof(g->hdr));
	g->hdr.time = 0;
	g->hdr.os = 3;
	deflateSetHeader(&g->zs, &g->hdr);
	return &g->base;
}
