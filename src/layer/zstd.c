/*
 * zstd.c - zstd: its row in the compressor table, and its compressing and
 * decompressing stages (libzstd streaming).
 *
 * Reproducibility: libzstd's multi-threaded mode cuts the input into jobs
 * of a size derived from the level alone, so its output is the same for
 * any number of workers >= 1 - but it is not the single-threaded format
 * (nbWorkers = 0).  We therefore always ask for at least one worker, even
 * on one core, and never flush mid-stream (a flush would cut a job where
 * the writes happened to stop).  No dictionary; a checksum; no content
 * size, since we stream and do not know it.
 */
#include <stdlib.h>

#include <archive.h>
#include <zstd.h>

#include "derrick/sink.h"
#include "derrick/util.h"
#include "compressors.h"

struct zst_sink {
	struct dk_sink base;
	ZSTD_CCtx *cc;
	const char *setup_err;  /* why the context could not be set up, if it could not */
	size_t setup_code;
	int closed;
	struct dk_sink_failure fail;
	size_t out_size;
	unsigned char *out;
};

/* Compress `in` with `op`, pushing output downstream until zstd is done. */
static int zst_pump(struct zst_sink *z, ZSTD_inBuffer *in, ZSTD_EndDirective op,
		    struct dk_err *err)
{
	for (;;) {
		ZSTD_outBuffer out = { z->out, z->out_size, 0 };
		size_t rc = ZSTD_compressStream2(z->cc, &out, in, op);

		if (ZSTD_isError(rc))
			return dk_fail(err, DK_E_INTERNAL, "zstd: %s", ZSTD_getErrorName(rc));
		if (out.pos && dk_sink_write(z->base.next, z->out, out.pos, err) < 0)
			return -1;
		/* e_end: rc is what is left to flush; e_continue: done when input is */
		if (op == ZSTD_e_end ? rc == 0 : in->pos == in->size)
			return 0;
	}
}

static int zst_check(struct zst_sink *z, struct dk_err *err)
{
	if (z->fail.failed)
		return dk_sink_failed(&z->fail, err);
	if (z->setup_err) {
		dk_fail(err, DK_E_INTERNAL, "zstd: cannot set %s: %s", z->setup_err,
			ZSTD_getErrorName(z->setup_code));
		return dk_sink_failed(&z->fail, err);
	}
	if (z->closed)
		return dk_fail(err, DK_E_INTERNAL, "zstd: stream already closed");
	return 0;
}

static int zst_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct zst_sink *z = (struct zst_sink *)s;
	ZSTD_inBuffer in = { buf, len, 0 };

	if (zst_check(z, err) < 0)
		return -1;
	if (zst_pump(z, &in, ZSTD_e_continue, err) < 0)
		return dk_sink_failed(&z->fail, err);
	return 0;
}

static int zst_close(struct dk_sink *s, struct dk_err *err)
{
	struct zst_sink *z = (struct zst_sink *)s;
	ZSTD_inBuffer in = { NULL, 0, 0 };

	if (zst_check(z, err) < 0)
		return -1;
	z->closed = 1;
	if (zst_pump(z, &in, ZSTD_e_end, err) < 0)
		return dk_sink_failed(&z->fail, err);
	/* release the workers and their buffers now rather than at free */
	ZSTD_freeCCtx(z->cc);
	z->cc = NULL;
	return dk_sink_close(s->next, err);
}

static void zst_free(struct dk_sink *s)
{
	struct zst_sink *z = (struct zst_sink *)s;

	ZSTD_freeCCtx(z->cc);   /* joins libzstd's workers, NULL is fine */
	free(z->out);
	free(z);
}

static const struct dk_sink_ops zst_ops = { zst_write, zst_close, zst_free };

/* Set one parameter; the first failure is kept and reported on first use. */
static void zst_set(struct zst_sink *z, ZSTD_cParameter p, int v, const char *what)
{
	size_t rc;

	if (z->setup_err || !z->cc)
		return;
	rc = ZSTD_CCtx_setParameter(z->cc, p, v);
	if (ZSTD_isError(rc)) {
		z->setup_err = what;
		z->setup_code = rc;
	}
}

struct dk_sink *dk_sink_zstd(struct dk_sink *next, int level, int threads)
{
	struct zst_sink *z = dk_xcalloc(1, sizeof(*z));

	z->base.ops = &zst_ops;
	z->base.next = next;
	z->cc = ZSTD_createCCtx();
	if (!z->cc) {
		struct dk_err e;

		dk_fail(&e, DK_E_INTERNAL, "zstd: libzstd cannot start compressing");
		dk_sink_failed(&z->fail, &e);
	}
	z->out_size = ZSTD_CStreamOutSize();
	z->out = dk_xmalloc(z->out_size);
	if (threads < 1)
		threads = 1;
	if (threads > DK_ZSTD_THREADS_MAX)
		threads = DK_ZSTD_THREADS_MAX;
	zst_set(z, ZSTD_c_compressionLevel, level, "the level");
	/* fails when libzstd was built without threads: no silent fallback to 0 */
	zst_set(z, ZSTD_c_nbWorkers, threads, "the worker count");
	zst_set(z, ZSTD_c_checksumFlag, 1, "the checksum flag");
	zst_set(z, ZSTD_c_contentSizeFlag, 0, "the content size flag");
	return &z->base;
}

struct unzstd_sink {
	struct dk_sink base;
	ZSTD_DStream *ds;
	size_t hint;            /* ZSTD_decompressStream's last answer: 0 at the end of a frame */
	const char *what;
	struct dk_sink_failure fail;
	unsigned char out[1 << 16];
};

static int unzstd_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct unzstd_sink *z = (struct unzstd_sink *)s;
	ZSTD_inBuffer in = { buf, len, 0 };
	ZSTD_outBuffer out;

	if (z->fail.failed)
		return dk_sink_failed(&z->fail, err);
	/* a full output buffer may mean more is held inside, unless the frame just ended */
	do {
		out = (ZSTD_outBuffer){ z->out, sizeof(z->out), 0 };
		z->hint = ZSTD_decompressStream(z->ds, &out, &in);
		if (ZSTD_isError(z->hint)) {
			dk_fail(err, DK_E_CORRUPT, "%s: not a valid zstd stream: %s", z->what,
				ZSTD_getErrorName(z->hint));
			return dk_sink_failed(&z->fail, err);
		}
		if (out.pos && dk_sink_write(s->next, z->out, out.pos, err) < 0)
			return dk_sink_failed(&z->fail, err);
	} while (in.pos < in.size || (out.pos == out.size && z->hint != 0));
	return 0;
}

static int unzstd_close(struct dk_sink *s, struct dk_err *err)
{
	struct unzstd_sink *z = (struct unzstd_sink *)s;

	if (z->fail.failed)
		return dk_sink_failed(&z->fail, err);
	if (z->hint != 0) {
		dk_fail(err, DK_E_CORRUPT, "%s: truncated zstd stream", z->what);
		return dk_sink_failed(&z->fail, err);
	}
	return dk_sink_close(s->next, err);
}

static void unzstd_free(struct dk_sink *s)
{
	struct unzstd_sink *z = (struct unzstd_sink *)s;

	ZSTD_freeDStream(z->ds);
	free(z);
}

static const struct dk_sink_ops unzstd_ops = { unzstd_write, unzstd_close, unzstd_free };

struct dk_sink *dk_sink_unzstd(struct dk_sink *next, const char *what)
{
	struct unzstd_sink *z = dk_xcalloc(1, sizeof(*z));

	z->base.ops = &unzstd_ops;
	z->base.next = next;
	z->what = what;
	z->hint = 1;            /* no frame yet: an empty stream is a truncated one */
	z->ds = ZSTD_createDStream();
	if (!z->ds) {
		struct dk_err e;

		dk_fail(&e, DK_E_INTERNAL, "%s: libzstd cannot start decompressing", what);
		dk_sink_failed(&z->fail, &e);
	}
	return &z->base;
}

static char *zstd_cache_id(int level)
{
	/* another library version may compress differently: it is part of the identity */
	return dk_xasprintf("zstd/libzstd-%s/level-%d", ZSTD_versionString(), level);
}

const struct dk_compressor dk_compressor_zstd = {
	.name = "zstd", .media_type = DK_MT_LAYER_ZSTD, .magic = "\x28\xb5\x2f\xfd", .magic_len = 4,
	.default_level = 3, .min_level = 1, .max_level = 19,
	.compress = dk_sink_zstd, .decompress = dk_sink_unzstd, .cache_id = zstd_cache_id,
	.read_filter = archive_read_support_filter_zstd,
};
