/*
 * compress-bench.c - how fast, and how small, each way of compressing a
 * layer is on this machine.  Not built by default and not a test: run it by
 * hand when choosing a default (see the build line below).
 *
 *   gcc -std=gnu11 -D_GNU_SOURCE -O2 -pthread -Iinclude -Isrc/layer bench/compress-bench.c \
 *       src/base/err.c src/base/util.c src/base/digest.c src/layer/sink.c src/layer/compress.c src/layer/gzip.c src/layer/zstd.c \
 *       -lz -lzstd -ldeflate -lcrypto -o /tmp/compress-bench
 *   /tmp/compress-bench -r 3 layer.tar zlib:6 gzm:6:2:1024 ldf:6:2:1024 zstd:3:2
 *
 * The file is read into memory first, so the disk is out of the picture;
 * the stages are fed 64 KiB writes, as the tar writer would.  FILE "-"
 * streams standard input through one run of each spec instead, e.g.
 * `tar -c ... | compress-bench - pipe-gzm:6:2:1024` for a whole layer build.
 * Specs:
 *
 *   zlib:L          one zlib gzip stream, one thread (derrick's first gz.c)
 *   zstd:L:T        dk_sink_zstd with T workers
 *   gzm:L:T:B       dk_sink_gzip_members: libdeflate, one gzip member per
 *                   B KiB block, T threads, streamed like the others
 *   ldf:L:T:B       libdeflate the same way but straight from memory, no
 *                   sink, no copies: a best case to compare gzm with
 *   pipe-zlib:L, pipe-gzm:L:T:B, pipe-zstd:L:T
 *                   the same inside a layer's chain, SHA-256 before and after
 *
 * (BENCHMARKS.md also has "gz:L:T:B", the pigz-identical parallel zlib stage:
 * derrick never used it for a layer, so it was removed with its spec.)
 *
 * For each spec: the median wall time of the runs, input MB/s at that
 * median, CPU seconds (all threads), output bytes, and the first hex digits
 * of the output's SHA-256, so runs at different thread counts can be seen
 * to give the same bytes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <libdeflate.h>
#include <zlib.h>

#include "derrick/digest.h"
#include "derrick/sink.h"
#include "derrick/util.h"

#define FEED 65536
#define MAX_RUNS 15

/* The end of the chain: counts and hashes what it gets, keeps nothing. */
struct count_sink {
	struct dk_sink base;
	struct dk_sha256 h;
	uint64_t n;
	char digest[DK_DIGEST_SIZE];
};

static int count_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct count_sink *c = (struct count_sink *)s;

	(void)err;
	c->n += len;
	dk_sha256_update(&c->h, buf, len);
	return 0;
}

static int count_close(struct dk_sink *s, struct dk_err *err)
{
	struct count_sink *c = (struct count_sink *)s;

	(void)err;
	dk_sha256_final(&c->h, c->digest);
	return 0;
}

static void count_free(struct dk_sink *s)
{
	struct count_sink *c = (struct count_sink *)s;

	if (c->h.ctx)
		dk_sha256_abort(&c->h);
	free(c);
}

static const struct dk_sink_ops count_ops = { count_write, count_close, count_free };

/* The old single-stream gz.c, kept here as the baseline. */
struct zlib_sink {
	struct dk_sink base;
	z_stream zs;
	unsigned char out[65536];
};

static int zlib_pump(struct zlib_sink *z, int flush, struct dk_err *err)
{
	for (;;) {
		int rc;

		z->zs.next_out = z->out;
		z->zs.avail_out = sizeof(z->out);
		rc = deflate(&z->zs, flush);
		if (rc == Z_STREAM_ERROR)
			return dk_fail(err, DK_E_INTERNAL, "deflate failed");
		if (dk_sink_write(z->base.next, z->out, sizeof(z->out) - z->zs.avail_out, err) < 0)
			return -1;
		if (flush == Z_FINISH ? rc == Z_STREAM_END : z->zs.avail_out != 0)
			return 0;
	}
}

static int zlib_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct zlib_sink *z = (struct zlib_sink *)s;

	z->zs.next_in = (unsigned char *)buf;
	z->zs.avail_in = (uInt)len;
	return zlib_pump(z, Z_NO_FLUSH, err);
}

static int zlib_close(struct dk_sink *s, struct dk_err *err)
{
	if (zlib_pump((struct zlib_sink *)s, Z_FINISH, err) < 0)
		return -1;
	return dk_sink_close(s->next, err);
}

static void zlib_free(struct dk_sink *s)
{
	deflateEnd(&((struct zlib_sink *)s)->zs);
	free(s);
}

static const struct dk_sink_ops zlib_ops = { zlib_write, zlib_close, zlib_free };

static struct dk_sink *zlib_sink(struct dk_sink *next, int level)
{
	struct zlib_sink *z = dk_xcalloc(1, sizeof(*z));
	gz_header h;

	z->base.ops = &zlib_ops;
	z->base.next = next;
	memset(&h, 0, sizeof(h));
	h.os = 3;
	if (deflateInit2(&z->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	deflateSetHeader(&z->zs, &h);
	return &z->base;
}

struct spec {
	const char *text;
	char kind[16];
	int level, threads;
	size_t block;
	int pipe;
};

static int parse_spec(const char *text, struct spec *sp)
{
	int n, block = 0;

	memset(sp, 0, sizeof(*sp));
	sp->text = text;
	sp->threads = 1;
	if (!strncmp(text, "pipe-", 5)) {
		sp->pipe = 1;
		text += 5;
	}
	n = sscanf(text, "%15[a-z]:%d:%d:%d", sp->kind, &sp->level, &sp->threads, &block);
	sp->block = (size_t)block * 1024;
	if (!strcmp(sp->kind, "zlib"))
		return n == 2 ? 0 : -1;
	if (!strcmp(sp->kind, "zstd"))
		return n == 3 ? 0 : -1;
	if (!strcmp(sp->kind, "gzm"))
		return n == 4 ? 0 : -1;
	if (!strcmp(sp->kind, "ldf"))
		return n == 4 && !sp->pipe ? 0 : -1;
	return -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int feed_stdin(struct dk_sink *s, size_t *len, struct dk_err *err)
{
	static unsigned char buf[FEED];
	ssize_t n;

	*len = 0;
	while ((n = dk_read(0, buf, sizeof(buf))) > 0) {
		if (dk_sink_write(s, buf, (size_t)n, err) < 0)
			return -1;
		*len += (size_t)n;
	}
	return n < 0 ? dk_fail_errno(err, DK_E_IO, "standard input") : 0;
}

struct result {
	double wall, cpu;
	uint64_t size;
	char digest[DK_DIGEST_SIZE];
};

/* A NULL `in` means: read standard input, and say how much there was in *len. */
static void run_sink(const struct spec *sp, const unsigned char *in, size_t *len, struct result *r)
{
	struct count_sink *end = dk_xcalloc(1, sizeof(*end));
	struct dk_sink *c, *head, *out_hash = NULL, *in_hash = NULL;
	struct dk_err err;

	end->base.ops = &count_ops;
	dk_sha256_init(&end->h);
	/* in a layer the compressed stream is hashed twice: for the name and the check */
	head = sp->pipe ? (out_hash = dk_sink_hash(&end->base)) : &end->base;
	if (!strcmp(sp->kind, "zlib"))
		c = zlib_sink(head, sp->level);
	else if (!strcmp(sp->kind, "gzm"))
		c = dk_sink_gzip_members(head, sp->level, sp->threads, sp->block);
	else
		c = dk_sink_zstd(head, sp->level, sp->threads);
	head = sp->pipe ? (in_hash = dk_sink_hash(c)) : c;
	if (!in && feed_stdin(head, len, &err) < 0)
		goto fail;
	for (size_t off = 0; in && off < *len; off += FEED) {
		if (dk_sink_write(head, in + off, *len - off < FEED ? *len - off : FEED, &err) < 0)
			goto fail;
	}
	if (dk_sink_close(head, &err) < 0)
		goto fail;
	r->size = end->n;
	memcpy(r->digest, end->digest, DK_DIGEST_SIZE);
	dk_sink_free(in_hash);
	dk_sink_free(c);
	dk_sink_free(out_hash);
	dk_sink_free(&end->base);
	return;
fail:
	fprintf(stderr, "compress-bench: %s: %s\n", sp->text, err.msg);
	exit(1);
}

/* libdeflate: blocks handed out by an atomic counter, compressed in place. */
struct ldf_run {
	const unsigned char *in;
	size_t len, block, nblocks, bound;
	int level;
	unsigned char *out;
	size_t *sizes;
	atomic_size_t next;
};

static void *ldf_worker(void *arg)
{
	struct ldf_run *lr = arg;
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(lr->level);
	size_t i;

	if (!c)
		abort();
	while ((i = atomic_fetch_add(&lr->next, 1)) < lr->nblocks) {
		size_t off = i * lr->block;
		size_t n = lr->len - off < lr->block ? lr->len - off : lr->block;

		lr->sizes[i] = libdeflate_gzip_compress(c, lr->in + off, n,
							lr->out + i * lr->bound, lr->bound);
	}
	libdeflate_free_compressor(c);
	return NULL;
}

static void run_ldf(const struct spec *sp, const unsigned char *in, size_t len, struct result *r)
{
	struct ldf_run lr = { .in = in, .len = len, .block = sp->block, .level = sp->level };
	pthread_t tids[64];
	struct dk_sha256 h;
	int t;

	lr.nblocks = len ? (len + lr.block - 1) / lr.block : 1;
	lr.bound = libdeflate_gzip_compress_bound(NULL, lr.block);
	lr.out = dk_xmalloc(lr.nblocks * lr.bound);
	lr.sizes = dk_xcalloc(lr.nblocks, sizeof(*lr.sizes));
	atomic_init(&lr.next, 0);
	for (t = 0; t < sp->threads && t < 64; t++)
		pthread_create(&tids[t], NULL, ldf_worker, &lr);
	while (t--)
		pthread_join(tids[t], NULL);
	dk_sha256_init(&h);
	r->size = 0;
	for (size_t i = 0; i < lr.nblocks; i++) {
		dk_sha256_update(&h, lr.out + i * lr.bound, lr.sizes[i]);
		r->size += lr.sizes[i];
	}
	dk_sha256_final(&h, r->digest);
	free(lr.out);
	free(lr.sizes);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void bench(const struct spec *sp, const unsigned char *in, size_t len, int runs)
{
	double walls[MAX_RUNS], cpus[MAX_RUNS];
	struct result r, first;

	for (int i = 0; i < runs; i++) {
		double w = now(), c = cpu_now();

		if (!strcmp(sp->kind, "ldf"))
			run_ldf(sp, in, len, &r);
		else
			run_sink(sp, in, &len, &r);
		walls[i] = now() - w;
		cpus[i] = cpu_now() - c;
		if (i == 0)
			first = r;
		else if (r.size != first.size || strcmp(r.digest, first.digest))
			fprintf(stderr, "compress-bench: %s: output changed between runs!\n", sp->text);
	}
	qsort(walls, (size_t)runs, sizeof(*walls), cmp_double);
	qsort(cpus, (size_t)runs, sizeof(*cpus), cmp_double);
	printf("%-22s %8.3f s %8.1f MB/s %7.2f cpu-s %12llu B %6.2f%%  %.12s\n", sp->text,
	       walls[runs / 2], len / 1e6 / walls[runs / 2], cpus[runs / 2],
	       (unsigned long long)first.size, 100.0 * first.size / (len ? len : 1),
	       first.digest + 7);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int runs = 3, opt;
	char *data;
	size_t len;
	struct dk_err err;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r')
			goto usage;
		runs = atoi(optarg);
		if (runs < 1 || runs > MAX_RUNS)
			goto usage;
	}
	if (argc - optind < 2)
		goto usage;
	if (!strcmp(argv[optind], "-")) {
		data = NULL;
		len = 0;
		runs = 1;
	} else if (dk_read_file(argv[optind], (size_t)1 << 34, &data, &len, &err) < 0) {
		fprintf(stderr, "compress-bench: %s\n", err.msg);
		return 1;
	} else {
		printf("# %s: %zu bytes, median of %d runs\n", argv[optind], len, runs);
	}
	for (int i = optind + 1; i < argc; i++) {
		struct spec sp;

		if (parse_spec(argv[i], &sp) < 0 || (!data && (i > optind + 1 || !strcmp(sp.kind, "ldf")))) {
			fprintf(stderr, "compress-bench: bad spec '%s'\n", argv[i]);
			return 2;
		}
		bench(&sp, (unsigned char *)data, len, runs);
	}
	free(data);
	return 0;
usage:
	fprintf(stderr, "usage: compress-bench [-r RUNS] FILE SPEC...\n");
	return 2;
}
