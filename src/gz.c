/*
 * gz.c - a gzip stage for the sink chain (zlib), parallel and still
 * reproducible, using pigz's scheme.
 *
 * Reproducibility lives in two places.  The header: zlib would otherwise
 * write the OS it was built on, and tools like gzip(1) add the file name
 * and mtime, so we write every header byte ourselves (no name, mtime 0,
 * OS 3).  The cutting: the input is split into blocks at fixed offsets
 * (every block_size bytes), and block i is deflated alone, primed with the
 * 32 KiB of input before it (deflateSetDictionary) and ended on a byte
 * boundary between two DEFLATE blocks (Z_BLOCK plus padding, or
 * Z_SYNC_FLUSH), so the pieces concatenate into one raw DEFLATE stream.
 * The last block ends with Z_FINISH instead.  Each piece is a pure function of
 * (level, block, the 32 KiB before it), so which thread made it, and when,
 * cannot show in the output.  An input of one block or less gives exactly
 * the bytes of a plain one-shot zlib gzip stream; any input gives the bytes
 * of `pigz -n` with the same level and block size.
 *
 * Threads: the caller's thread fills blocks and writes finished pieces
 * downstream in order; workers only compress.  A ring of 2 * threads job
 * slots bounds memory.  Downstream sinks are therefore only ever called
 * from the caller's thread, and their errors come back from our write or
 * close like any other stage's.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libdeflate.h>
#include <zlib.h>

#include "derrick/sink.h"
#include "derrick/util.h"

/* DEFLATE's window: the most of the previous input a block can refer to. */
#define GZ_WINDOW 32768

enum job_state { JOB_FREE, JOB_FILLING, JOB_QUEUED, JOB_DONE };

struct gz_job {
	unsigned char *in;      /* `dict` bytes of preset dictionary, then the block */
	size_t dict;
	size_t len;             /* bytes of block after the dictionary */
	int last;               /* end the stream (Z_FINISH), not just the block */
	unsigned char *out;
	size_t out_alloc;
	size_t out_len;
	uLong crc;              /* CRC-32 of the block alone */
	int zrc;                /* Z_OK, or what deflate said when it failed */
	enum job_state state;   /* under gz_sink.mu once workers run */
};

struct gz_worker {
	struct gz_sink *g;
	z_stream zs;
	struct libdeflate_compressor *ld;       /* members mode */
	pthread_t tid;
};

struct gz_sink {
	struct dk_sink base;
	int level;
	int members;            /* one gzip member per block, by libdeflate (no dictionary) */
	size_t block;
	struct gz_job *slots;
	size_t nslots;
	struct gz_worker *workers;
	int nworkers;           /* z_streams set up; workers[0] compresses inline */
	int running;            /* threads started; 0 means compress inline */
	uint64_t fill;          /* sequence number of the job being filled */
	uint64_t queued;        /* jobs submitted (sequence numbers < queued) */
	uint64_t taken;         /* jobs a worker has picked up (under mu) */
	uint64_t written;       /* jobs whose output went downstream */
	uLong crc;
	uint64_t total;
	int header_done;
	int closed;
	int failed;
	struct dk_err fail_err; /* replayed by every call after a failure */
	int stop;               /* under mu: workers exit */
	pthread_mutex_t mu;
	pthread_cond_t work;    /* a job was queued, or stop was set */
	pthread_cond_t done;    /* a job became JOB_DONE */
};

static struct gz_job *slot(struct gz_sink *g, uint64_t seq)
{
	return &g->slots[seq % g->nslots];
}

/*
 * Run deflate with `flush` until it has done all it will, growing the
 * output buffer as needed.  The first size offered is deflateBound() and
 * it doubles from there, never "whatever the reused buffer holds", because
 * at level 0 zlib sizes its stored blocks by the output space it is given:
 * every run must offer the same space to get the same bytes.
 */
static int deflate_all(z_stream *zs, struct gz_job *j, int flush, size_t *cap)
{
	for (;;) {
		int rc;

		if (j->out_alloc < *cap) {
			j->out = dk_xrealloc(j->out, *cap);
			j->out_alloc = *cap;
		}
		zs->next_out = j->out + j->out_len;
		zs->avail_out = (uInt)(*cap - j->out_len);
		rc = deflate(zs, flush);
		j->out_len = *cap - zs->avail_out;
		if (rc == Z_STREAM_ERROR)
			return rc;
		if (flush == Z_FINISH ? rc == Z_STREAM_END : zs->avail_out != 0)
			return Z_OK;
		*cap *= 2;
	}
}

/*
 * End a block that is not the last on a byte boundary, so that the next
 * piece can follow it, the way pigz does: finish the deflate block
 * (Z_BLOCK) and pad the 0-7 bits left over with empty fixed-Huffman
 * blocks (10 bits each), falling back to a sync marker (an empty stored
 * block, 4 bytes and some bits) when the count is odd and 10-bit steps
 * cannot reach a byte boundary.  This saves about 3 bytes a block over
 * Z_SYNC_FLUSH, and makes the whole output byte for byte what
 * `pigz -n -LEVEL -b BLOCK/1024` writes (checked on a 211 MB tar).
 */
static int end_on_byte(z_stream *zs, struct gz_job *j, size_t *cap)
{
	int bits, rc = deflate_all(zs, j, Z_BLOCK, cap);

	if (rc == Z_OK)
		rc = deflatePending(zs, NULL, &bits);
	if (rc != Z_OK || !(bits & 7))
		return rc;
	if (bits & 1)
		return deflate_all(zs, j, Z_SYNC_FLUSH, cap);
	do {
		/* BFINAL 0, BTYPE 01, then the 7-bit end-of-block code 0 */
		rc = deflatePrime(zs, 10, 2);
		if (rc == Z_OK)
			rc = deflatePending(zs, NULL, &bits);
	} while (rc == Z_OK && (bits & 7));
	return rc == Z_OK ? deflate_all(zs, j, Z_BLOCK, cap) : rc;
}

/*
 * libdeflate: the block alone (no dictionary: libdeflate has no such API)
 * as one complete gzip member, header and trailer included.
 */
static void compress_member(struct libdeflate_compressor *ld, struct gz_job *j)
{
	size_t cap = libdeflate_gzip_compress_bound(ld, j->len);

	if (j->out_alloc < cap) {
		j->out = dk_xrealloc(j->out, cap);
		j->out_alloc = cap;
	}
	j->out_len = libdeflate_gzip_compress(ld, j->in + j->dict, j->len, j->out, cap);
	j->zrc = j->out_len ? Z_OK : Z_BUF_ERROR;
}

/* Deflate one block: a pure function of the job (input, dictionary, last). */
static void compress_block(z_stream *zs, struct gz_job *j)
{
	size_t cap;

	j->crc = crc32(crc32(0L, Z_NULL, 0), j->in + j->dict, (uInt)j->len);
	j->out_len = 0;
	j->zrc = deflateReset(zs);
	if (j->zrc == Z_OK && j->dict)
		j->zrc = deflateSetDictionary(zs, j->in, (uInt)j->dict);
	if (j->zrc != Z_OK)
		return;
	/* the bound is for Z_FINISH; the padding adds at most 5 bytes */
	cap = deflateBound(zs, (uLong)j->len) + 16;
	zs->next_in = j->in + j->dict;
	zs->avail_in = (uInt)j->len;
	if (j->last)
		j->zrc = deflate_all(zs, j, Z_FINISH, &cap);
	else
		j->zrc = end_on_byte(zs, j, &cap);
}

static void compress_job(struct gz_worker *w, struct gz_job *j)
{
	if (w->g->members)
		compress_member(w->ld, j);
	else
		compress_block(&w->zs, j);
}

static void *worker_main(void *arg)
{
	struct gz_worker *w = arg;
	struct gz_sink *g = w->g;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		struct gz_job *j;

		while (!g->stop && g->taken == g->queued)
			pthread_cond_wait(&g->work, &g->mu);
		if (g->stop)
			break;
		j = slot(g, g->taken++);
		pthread_mutex_unlock(&g->mu);
		compress_job(w, j);
		pthread_mutex_lock(&g->mu);
		j->state = JOB_DONE;
		pthread_cond_signal(&g->done);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

/*
 * Start up to n workers.  Fewer (even none) is fine: the output is the same
 * whoever compresses, so a failed pthread_create only costs speed.
 */
static void pool_start(struct gz_sink *g, int n)
{
	sigset_t all, old;

	/* signals are the main program's business: keep them off our threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (g->running < n &&
	       pthread_create(&g->workers[g->running].tid, NULL, worker_main,
			      &g->workers[g->running]) == 0)
		g->running++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Stop and join the workers; queued jobs nobody took are dropped. */
static void pool_stop(struct gz_sink *g)
{
	if (!g->running)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = 1;
	pthread_cond_broadcast(&g->work);
	pthread_mutex_unlock(&g->mu);
	for (int i = 0; i < g->running; i++)
		pthread_join(g->workers[i].tid, NULL);
	g->running = 0;
}

/* Remember the first failure and return -1; later calls report it again. */
static int gz_failed(struct gz_sink *g, struct dk_err *err)
{
	if (!g->failed) {
		g->failed = 1;
		if (err)
			g->fail_err = *err;
		pool_stop(g);
	} else if (err) {
		*err = g->fail_err;
	}
	return -1;
}

/* The header zlib itself would write with deflateSetHeader(all zero, os 3). */
static int write_header(struct gz_sink *g, struct dk_err *err)
{
	unsigned char h[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

	/* XFL as deflate.c computes it: 2 = slowest, 4 = fastest */
	h[8] = g->level == 9 ? 2 : g->level < 2 ? 4 : 0;
	g->header_done = 1;
	return dk_sink_write(g->base.next, h, sizeof(h), err);
}

/* Send one finished job downstream and fold its CRC into the stream's. */
static int emit(struct gz_sink *g, struct gz_job *j, struct dk_err *err)
{
	if (j->zrc != Z_OK)
		return dk_fail(err, DK_E_INTERNAL, "gzip: deflate failed (zlib error %d)", j->zrc);
	if (g->members)         /* each block is a complete member: header, trailer and all */
		return dk_sink_write(g->base.next, j->out, j->out_len, err);
	if (!g->header_done && write_header(g, err) < 0)
		return -1;
	if (dk_sink_write(g->base.next, j->out, j->out_len, err) < 0)
		return -1;
	g->crc = crc32_combine(g->crc, j->crc, (z_off_t)j->len);
	return 0;
}

/*
 * Write every finished job downstream, in order, and block until at least
 * `upto` jobs have been written.
 */
static int drain(struct gz_sink *g, uint64_t upto, struct dk_err *err)
{
	while (g->written < g->queued) {
		struct gz_job *j = slot(g, g->written);
		enum job_state st;

		pthread_mutex_lock(&g->mu);
		while (j->state != JOB_DONE && g->written < upto)
			pthread_cond_wait(&g->done, &g->mu);
		st = j->state;
		pthread_mutex_unlock(&g->mu);
		if (st != JOB_DONE)
			break;
		if (emit(g, j, err) < 0)
			return -1;
		j->state = JOB_FREE;    /* no worker looks at it until it is queued again */
		g->written++;
	}
	return 0;
}

static int submit(struct gz_sink *g, int last, struct dk_err *err)
{
	struct gz_job *j = slot(g, g->fill);

	j->last = last;
	if (!g->running) {
		compress_job(&g->workers[0], j);
		j->state = JOB_DONE;
		g->queued++;
	} else {
		pthread_mutex_lock(&g->mu);
		j->state = JOB_QUEUED;
		g->queued++;
		pthread_cond_signal(&g->work);
		pthread_mutex_unlock(&g->mu);
	}
	return drain(g, 0, err);
}

static void job_init(struct gz_sink *g, struct gz_job *j)
{
	if (!j->in)
		j->in = dk_xmalloc(GZ_WINDOW + g->block);
	j->dict = 0;
	j->len = 0;
	j->state = JOB_FILLING;
}

/*
 * Move on to the next slot once the job using it before has gone out, and
 * prime it with the last 32 KiB of the input so far: the tail of the
 * previous slot, whose buffer holds the input just before this block
 * (its own dictionary, then its block), written or not.
 */
static int start_next(struct gz_sink *g, struct dk_err *err)
{
	struct gz_job *prev = slot(g, g->fill);
	struct gz_job *j;
	size_t have = prev->dict + prev->len;
	size_t d = g->members ? 0 : have < GZ_WINDOW ? have : GZ_WINDOW;

	if (g->fill + 1 >= g->nslots && drain(g, g->fill + 1 - g->nslots + 1, err) < 0)
		return -1;
	j = slot(g, ++g->fill);
	job_init(g, j);
	memcpy(j->in, prev->in + have - d, d);
	j->dict = d;
	return 0;
}

static int gz_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct gz_sink *g = (struct gz_sink *)s;
	const unsigned char *p = buf;

	if (g->failed)
		return gz_failed(g, err);
	if (g->closed)
		return dk_fail(err, DK_E_INTERNAL, "gzip: write after close");
	while (len) {
		struct gz_job *j = slot(g, g->fill);
		size_t n;

		/* a full block goes out only now that we know it is not the last */
		if (j->len == g->block) {
			if (submit(g, 0, err) < 0 || start_next(g, err) < 0)
				return gz_failed(g, err);
			continue;
		}
		n = g->block - j->len;
		if (n > len)
			n = len;
		memcpy(j->in + j->dict + j->len, p, n);
		j->len += n;
		g->total += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int write_trailer(struct gz_sink *g, struct dk_err *err)
{
	unsigned char t[8];
	uint32_t isize = (uint32_t)g->total;   /* RFC 1952: the size mod 2^32 */

	for (int i = 0; i < 4; i++) {
		t[i] = (unsigned char)(g->crc >> (8 * i));
		t[4 + i] = (unsigned char)(isize >> (8 * i));
	}
	return dk_sink_write(g->base.next, t, sizeof(t), err);
}

static int gz_close(struct dk_sink *s, struct dk_err *err)
{
	struct gz_sink *g = (struct gz_sink *)s;

	if (g->failed)
		return gz_failed(g, err);
	if (g->closed)
		return dk_fail(err, DK_E_INTERNAL, "gzip: closed twice");
	g->closed = 1;
	if (submit(g, 1, err) < 0 || drain(g, g->queued, err) < 0 ||
	    (!g->members && write_trailer(g, err) < 0))
		return gz_failed(g, err);
	pool_stop(g);
	return dk_sink_close(s->next, err);
}

static void gz_free(struct dk_sink *s)
{
	struct gz_sink *g = (struct gz_sink *)s;

	pool_stop(g);
	for (int i = 0; i < g->nworkers; i++) {
		if (g->members)
			libdeflate_free_compressor(g->workers[i].ld);
		else
			deflateEnd(&g->workers[i].zs);
	}
	for (size_t i = 0; i < g->nslots; i++) {
		free(g->slots[i].in);
		free(g->slots[i].out);
	}
	pthread_cond_destroy(&g->done);
	pthread_cond_destroy(&g->work);
	pthread_mutex_destroy(&g->mu);
	free(g->slots);
	free(g->workers);
	free(g);
}

static const struct dk_sink_ops gz_ops = { gz_write, gz_close, gz_free };

/* threads <= 0: one per online CPU; never more than DK_GZIP_THREADS_MAX */
static int clamp_threads(int threads)
{
	long n = threads;

	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 0)
		n = 1;
	return n > DK_GZIP_THREADS_MAX ? DK_GZIP_THREADS_MAX : (int)n;
}

static void workers_init(struct gz_sink *g, int n)
{
	g->workers = dk_xcalloc((size_t)n, sizeof(*g->workers));
	for (int i = 0; i < n; i++) {
		g->workers[i].g = g;
		if (g->members) {
			g->workers[i].ld = libdeflate_alloc_compressor(g->level);
			if (!g->workers[i].ld) {
				fprintf(stderr, "derrick: libdeflate init failed (level %d)\n", g->level);
				abort();
			}
			g->nworkers++;
			continue;
		}
		/* windowBits -15: raw DEFLATE, we write the gzip wrapper ourselves */
		if (deflateInit2(&g->workers[i].zs, g->level, Z_DEFLATED, -15, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK) {
			/* a bad level is a caller bug, anything else is out of memory */
			fprintf(stderr, "derrick: zlib init failed (level %d)\n", g->level);
			abort();
		}
		g->nworkers++;
	}
}

static struct dk_sink *gzip_new(struct dk_sink *next, int level, int threads, size_t block_size,
				int members)
{
	struct gz_sink *g = dk_xcalloc(1, sizeof(*g));

	g->base.ops = &gz_ops;
	g->base.next = next;
	g->members = members;
	/* the level is part of the header (XFL), so pin zlib's default to its value */
	g->level = level == Z_DEFAULT_COMPRESSION ? 6 : level;
	g->block = block_size ? block_size : members ? DK_GZIP_MEMBER_BLOCK : DK_GZIP_BLOCK_DEFAULT;
	if (g->block > DK_GZIP_BLOCK_MAX)
		g->block = DK_GZIP_BLOCK_MAX;
	threads = clamp_threads(threads);
	g->nslots = 2 * (size_t)threads;
	g->slots = dk_xcalloc(g->nslots, sizeof(*g->slots));
	g->crc = crc32(0L, Z_NULL, 0);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->work, NULL);
	pthread_cond_init(&g->done, NULL);
	workers_init(g, threads);
	if (threads > 1)
		pool_start(g, threads);
	job_init(g, slot(g, 0));
	return &g->base;
}

struct dk_sink *dk_sink_gzip_par(struct dk_sink *next, int level, int threads, size_t block_size)
{
	return gzip_new(next, level, threads, block_size, 0);
}

struct dk_sink *dk_sink_gzip_members(struct dk_sink *next, int level, int threads, size_t block_size)
{
	return gzip_new(next, level, threads, block_size, 1);
}

struct dk_sink *dk_sink_gzip(struct dk_sink *next, int level)
{
	return dk_sink_gzip_par(next, level, 1, DK_GZIP_BLOCK_DEFAULT);
}
