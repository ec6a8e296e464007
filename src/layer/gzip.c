/*
 * gzip.c - gzip: its row in the compressor table, a parallel compressing
 * stage (libdeflate) that is still reproducible, and the decompressing
 * stage (zlib's inflate).
 *
 * Reproducibility: the input is cut into blocks at fixed offsets (every
 * block_size bytes), and each block becomes one complete gzip member,
 * compressed alone by libdeflate with a header that holds no name and a
 * zero mtime.  A member is a pure function of (level, block), so which
 * thread made it, and when, cannot show in the output.  Members rather
 * than one stream because libdeflate has no streaming API, and it is
 * 2.5 times faster than pigz on the same cores at a slightly smaller size
 * (BENCHMARKS.md); RFC 1952 readers take any number of members.
 *
 * Threads: the caller's thread fills blocks and writes finished members
 * downstream in order; workers only compress.  A ring of 2 * threads job
 * slots bounds memory.  Downstream sinks are therefore only ever called
 * from the caller's thread, and their errors come back from our write or
 * close like any other stage's.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <libdeflate.h>
#include <zlib.h>

#include "derrick/sink.h"
#include "derrick/util.h"
#include "compressors.h"

enum job_state { JOB_FREE, JOB_FILLING, JOB_QUEUED, JOB_DONE };

struct gz_job {
	unsigned char *in;      /* the block */
	size_t len;
	unsigned char *out;     /* its member */
	size_t out_alloc;
	size_t out_len;         /* 0: libdeflate failed */
	enum job_state state;   /* under gz_sink.mu once workers run */
};

struct gz_worker {
	struct gz_sink *g;
	struct libdeflate_compressor *ld;
	pthread_t tid;
};

struct gz_sink {
	struct dk_sink base;
	int level;
	size_t block;
	struct gz_job *slots;
	size_t nslots;
	struct gz_worker *workers;
	int nworkers;           /* compressors set up; workers[0] compresses inline */
	int running;            /* threads started; 0 means compress inline */
	uint64_t fill;          /* sequence number of the job being filled */
	uint64_t queued;        /* jobs submitted (sequence numbers < queued) */
	uint64_t taken;         /* jobs a worker has picked up (under mu) */
	uint64_t written;       /* jobs whose output went downstream */
	int closed;
	struct dk_sink_failure fail;
	int stop;               /* under mu: workers exit */
	pthread_mutex_t mu;
	pthread_cond_t work;    /* a job was queued, or stop was set */
	pthread_cond_t done;    /* a job became JOB_DONE */
};

static struct gz_job *slot(struct gz_sink *g, uint64_t seq)
{
	return &g->slots[seq % g->nslots];
}

/* The block as one complete gzip member, header and trailer included. */
static void compress_job(struct gz_worker *w, struct gz_job *j)
{
	size_t cap = libdeflate_gzip_compress_bound(w->ld, j->len);

	if (j->out_alloc < cap) {
		j->out = dk_xrealloc(j->out, cap);
		j->out_alloc = cap;
	}
	j->out_len = libdeflate_gzip_compress(w->ld, j->in, j->len, j->out, cap);
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

/* A failure stops the workers for good: nothing more will be written. */
static int gz_failed(struct gz_sink *g, struct dk_err *err)
{
	pool_stop(g);
	return dk_sink_failed(&g->fail, err);
}

/* Send one finished member downstream. */
static int emit(struct gz_sink *g, struct gz_job *j, struct dk_err *err)
{
	if (!j->out_len)
		return dk_fail(err, DK_E_INTERNAL, "gzip: libdeflate failed on a block");
	return dk_sink_write(g->base.next, j->out, j->out_len, err);
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

static int submit(struct gz_sink *g, struct dk_err *err)
{
	struct gz_job *j = slot(g, g->fill);

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
		j->in = dk_xmalloc(g->block);
	j->len = 0;
	j->state = JOB_FILLING;
}

/* Move on to the next slot once the job using it before has gone out. */
static int start_next(struct gz_sink *g, struct dk_err *err)
{
	if (g->fill + 1 >= g->nslots && drain(g, g->fill + 1 - g->nslots + 1, err) < 0)
		return -1;
	job_init(g, slot(g, ++g->fill));
	return 0;
}

static int gz_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct gz_sink *g = (struct gz_sink *)s;
	const unsigned char *p = buf;

	if (g->fail.failed)
		return gz_failed(g, err);
	if (g->closed)
		return dk_fail(err, DK_E_INTERNAL, "gzip: write after close");
	while (len) {
		struct gz_job *j = slot(g, g->fill);
		size_t n;

		/*
		 * a full block goes out only once more input comes, so that an
		 * input of whole blocks ends without an empty member
		 */
		if (j->len == g->block) {
			if (submit(g, err) < 0 || start_next(g, err) < 0)
				return gz_failed(g, err);
			continue;
		}
		n = g->block - j->len;
		if (n > len)
			n = len;
		memcpy(j->in + j->len, p, n);
		j->len += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int gz_close(struct dk_sink *s, struct dk_err *err)
{
	struct gz_sink *g = (struct gz_sink *)s;

	if (g->fail.failed)
		return gz_failed(g, err);
	if (g->closed)
		return dk_fail(err, DK_E_INTERNAL, "gzip: closed twice");
	g->closed = 1;
	if (submit(g, err) < 0 || drain(g, g->queued, err) < 0)
		return gz_failed(g, err);
	pool_stop(g);
	return dk_sink_close(s->next, err);
}

static void gz_free(struct dk_sink *s)
{
	struct gz_sink *g = (struct gz_sink *)s;

	pool_stop(g);
	for (int i = 0; i < g->nworkers; i++)
		libdeflate_free_compressor(g->workers[i].ld);
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

/* One libdeflate compressor per worker; a failure is reported by the first write or close. */
static void workers_init(struct gz_sink *g, int n)
{
	g->workers = dk_xcalloc((size_t)n, sizeof(*g->workers));
	for (; g->nworkers < n; g->nworkers++) {
		struct gz_worker *w = &g->workers[g->nworkers];
		struct dk_err e;

		w->g = g;
		w->ld = libdeflate_alloc_compressor(g->level);
		if (!w->ld) {
			dk_fail(&e, DK_E_INTERNAL, "gzip: libdeflate cannot compress at level %d", g->level);
			dk_sink_failed(&g->fail, &e);
			return;
		}
	}
}

struct dk_sink *dk_sink_gzip_members(struct dk_sink *next, int level, int threads, size_t block_size)
{
	struct gz_sink *g = dk_xcalloc(1, sizeof(*g));

	g->base.ops = &gz_ops;
	g->base.next = next;
	g->level = level;
	g->block = block_size ? block_size : DK_GZIP_MEMBER_BLOCK;
	if (g->block > DK_GZIP_BLOCK_MAX)
		g->block = DK_GZIP_BLOCK_MAX;
	threads = clamp_threads(threads);
	g->nslots = 2 * (size_t)threads;
	g->slots = dk_xcalloc(g->nslots, sizeof(*g->slots));
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->work, NULL);
	pthread_cond_init(&g->done, NULL);
	workers_init(g, threads);
	if (threads > 1 && !g->fail.failed)
		pool_start(g, threads);
	job_init(g, slot(g, 0));
	return &g->base;
}

struct gunzip_sink {
	struct dk_sink base;
	z_stream zs;
	int zr;                 /* inflate's last answer: Z_STREAM_END at the end of a member */
	const char *what;
	struct dk_sink_failure fail;
	unsigned char out[1 << 16];
};

/* Inflate len bytes (at most UINT_MAX) into the next stage, member after member. */
static int gunzip_piece(struct gunzip_sink *g, const unsigned char *p, size_t len, struct dk_err *err)
{
	g->zs.next_in = (unsigned char *)p;
	g->zs.avail_in = (uInt)len;
	for (;;) {
		size_t n;

		if (g->zr == Z_STREAM_END) {
			if (!g->zs.avail_in)
				return 0;
			inflateReset(&g->zs);   /* another member follows */
		}
		g->zs.next_out = g->out;
		g->zs.avail_out = sizeof(g->out);
		g->zr = inflate(&g->zs, Z_NO_FLUSH);
		/* Z_BUF_ERROR only says that this input ended mid-member */
		if (g->zr != Z_OK && g->zr != Z_STREAM_END && g->zr != Z_BUF_ERROR)
			return dk_fail(err, DK_E_CORRUPT, "%s: not a valid gzip stream", g->what);
		n = sizeof(g->out) - g->zs.avail_out;
		if (n && dk_sink_write(g->base.next, g->out, n, err) < 0)
			return -1;
		if (g->zr != Z_STREAM_END && !g->zs.avail_in && g->zs.avail_out)
			return 0;
	}
}

static int gunzip_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct gunzip_sink *g = (struct gunzip_sink *)s;
	const unsigned char *p = buf;

	if (g->fail.failed)
		return dk_sink_failed(&g->fail, err);
	while (len) {
		size_t n = len > UINT_MAX ? UINT_MAX : len;

		if (gunzip_piece(g, p, n, err) < 0)
			return dk_sink_failed(&g->fail, err);
		p += n;
		len -= n;
	}
	return 0;
}

static int gunzip_close(struct dk_sink *s, struct dk_err *err)
{
	struct gunzip_sink *g = (struct gunzip_sink *)s;

	if (g->fail.failed)
		return dk_sink_failed(&g->fail, err);
	if (g->zr != Z_STREAM_END) {
		dk_fail(err, DK_E_CORRUPT, "%s: truncated gzip stream", g->what);
		return dk_sink_failed(&g->fail, err);
	}
	return dk_sink_close(s->next, err);
}

static void gunzip_free(struct dk_sink *s)
{
	struct gunzip_sink *g = (struct gunzip_sink *)s;

	inflateEnd(&g->zs);
	free(g);
}

static const struct dk_sink_ops gunzip_ops = { gunzip_write, gunzip_close, gunzip_free };

struct dk_sink *dk_sink_gunzip(struct dk_sink *next, const char *what)
{
	struct gunzip_sink *g = dk_xcalloc(1, sizeof(*g));

	g->base.ops = &gunzip_ops;
	g->base.next = next;
	g->what = what;
	/* 16 + 15: gzip only (no zlib or raw streams), the largest window */
	if (inflateInit2(&g->zs, 16 + 15) != Z_OK) {
		struct dk_err e;

		dk_fail(&e, DK_E_INTERNAL, "%s: zlib cannot start inflating", what);
		dk_sink_failed(&g->fail, &e);
	}
	return &g->base;
}

static struct dk_sink *gzip_compress(struct dk_sink *next, int level, int threads)
{
	return dk_sink_gzip_members(next, level, threads, DK_GZIP_MEMBER_BLOCK);
}

static char *gzip_cache_id(int level)
{
	/* another library version may compress differently: it is part of the identity */
	return dk_xasprintf("gzip/libdeflate-%s/members/level-%d/block-%zu", LIBDEFLATE_VERSION_STRING, level,
			    DK_GZIP_MEMBER_BLOCK);
}

const struct dk_compressor dk_compressor_gzip = {
	.name = "gzip", .media_type = DK_MT_LAYER_GZIP, .magic = "\x1f\x8b", .magic_len = 2,
	.default_level = 6, .min_level = 1, .max_level = 9,
	.compress = gzip_compress, .decompress = dk_sink_gunzip, .cache_id = gzip_cache_id,
	.read_filter = archive_read_support_filter_gzip,
};
