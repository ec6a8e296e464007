/*
 * test_compress.c - the parallel gzip and the zstd stages: the bytes depend
 * on level, block size and input only (never on the thread count or on how
 * writes were cut), they decompress to the input, and a failing next stage
 * stops the chain with its error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "derrick/sink.h"
#include "derrick/util.h"
#include "tap.h"

/* A sink that keeps what it is given, and can be told to fail. */
struct mem_sink {
	struct dk_sink base;
	struct strbuf sb;
	size_t fail_after;      /* fail the write that would go past this; 0 = never */
	int fail_close;
	int closes;
};

static int mem_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct mem_sink *m = (struct mem_sink *)s;

	if (m->fail_after && m->sb.len + len > m->fail_after)
		return dk_fail(err, DK_E_IO, "test blob: No space left on device");
	sb_add(&m->sb, buf, len);
	return 0;
}

static int mem_close(struct dk_sink *s, struct dk_err *err)
{
	struct mem_sink *m = (struct mem_sink *)s;

	m->closes++;
	if (m->fail_close)
		return dk_fail(err, DK_E_IO, "test blob: close failed");
	return 0;
}

static void mem_free(struct dk_sink *s)
{
	struct mem_sink *m = (struct mem_sink *)s;

	sb_release(&m->sb);
	free(m);
}

static const struct dk_sink_ops mem_ops = { mem_write, mem_close, mem_free };

static struct mem_sink *mem_sink(void)
{
	struct mem_sink *m = dk_xcalloc(1, sizeof(*m));

	m->base.ops = &mem_ops;
	m->sb = (struct strbuf)STRBUF_INIT;
	return m;
}

/* Test inputs: the three kinds of data a layer holds. */
enum kind { RANDOM, TEXT, ZEROS };

static unsigned char *make_input(enum kind k, size_t len, uint64_t seed)
{
	static const char *words[] = { "import ", "numpy", " as np\n", "def ", "self", "(x):\n",
				       "    return ", "None", "\n", "class ", "Array", "# comment\n" };
	unsigned char *p = dk_xmalloc(len ? len : 1);
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < len;) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (k == ZEROS) {
			p[i++] = 0;
		} else if (k == RANDOM) {
			p[i++] = (unsigned char)(x >> 32);
		} else {
			const char *w = words[(x >> 33) % 12];

			while (*w && i < len)
				p[i++] = (unsigned char)*w++;
		}
	}
	return p;
}

/* Write patterns: one call, or odd sizes that straddle block boundaries. */
static const size_t odd_sizes[] = { 1, 7, 4093, 65537, 3, 131071, 2, 131073, 17, 300000 };

static int feed(struct dk_sink *s, const unsigned char *in, size_t len, int odd, struct dk_err *err)
{
	size_t i = 0;

	for (size_t off = 0; off < len; i++) {
		size_t n = odd ? odd_sizes[i % 10] : len;

		if (n > len - off)
			n = len - off;
		if (dk_sink_write(s, in + off, n, err) < 0)
			return -1;
		off += n;
	}
	return 0;
}

/* Run in through a gzip stage made by `make` and return what came out (NULL on error). */
static char *run_gzip_stage(struct dk_sink *(*make)(struct dk_sink *, int, int, size_t),
			    const unsigned char *in, size_t len, int level, int threads, size_t block,
			    int odd, size_t *outlen)
{
	struct mem_sink *m = mem_sink();
	struct dk_sink *gz = make(&m->base, level, threads, block);
	struct dk_err err;
	char *out = NULL;

	if (feed(gz, in, len, odd, &err) == 0 && dk_sink_close(gz, &err) == 0) {
		CHECK(m->closes == 1);
		*outlen = m->sb.len;
		out = sb_detach(&m->sb);
	}
	dk_sink_free(gz);
	dk_sink_free(&m->base);
	return out;
}

static char *gzip_par(const unsigned char *in, size_t len, int level, int threads, size_t block,
		      int odd, size_t *outlen)
{
	return run_gzip_stage(dk_sink_gzip_par, in, len, level, threads, block, odd, outlen);
}

/* Deflate with `flush` into out + *n, offering what gz.c offers. */
static int ref_deflate(z_stream *zs, unsigned char *out, size_t *n, size_t cap, int flush)
{
	int rc;

	zs->next_out = out + *n;
	zs->avail_out = (uInt)(cap - *n);
	rc = deflate(zs, flush);
	*n = (size_t)(zs->next_out - out);
	CHECK(zs->avail_out != 0);
	return rc;
}

/*
 * The format written out the slow, obvious way from its description: one
 * fresh deflate per block, primed with the 32 KiB before it, each block
 * but the last padded to a byte boundary as pigz does.
 */
static unsigned char *ref_gzip(const unsigned char *in, size_t len, int level, size_t block,
			       size_t *outlen)
{
	size_t n = 10, off = 0;
	unsigned char *out = dk_xmalloc(64 + len + len / 8 + (len / block + 1) * 64);
	uLong crc = crc32(0, Z_NULL, 0);

	memcpy(out, "\x1f\x8b\x08\0\0\0\0\0\0\x03", 10);
	out[8] = level == 9 ? 2 : level < 2 ? 4 : 0;
	do {
		size_t b = len - off < block ? len - off : block;
		size_t d = off < 32768 ? off : 32768, start = n, cap;
		int bits = 0;
		z_stream zs;

		memset(&zs, 0, sizeof(zs));
		deflateInit2(&zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
		if (d)
			deflateSetDictionary(&zs, in + off - d, (uInt)d);
		zs.next_in = (unsigned char *)in + off;
		zs.avail_in = (uInt)b;
		/* what gz.c offers: at level 0 the output space shapes stored blocks */
		cap = start + deflateBound(&zs, (uLong)b) + 16;
		if (off + b == len) {
			CHECK(ref_deflate(&zs, out, &n, cap, Z_FINISH) == Z_STREAM_END);
		} else {
			CHECK(ref_deflate(&zs, out, &n, cap, Z_BLOCK) == Z_OK);
			deflatePending(&zs, NULL, &bits);
			if (bits & 1)
				CHECK(ref_deflate(&zs, out, &n, cap, Z_SYNC_FLUSH) == Z_OK);
			else if (bits & 7) {
				while (bits & 7) {
					CHECK(deflatePrime(&zs, 10, 2) == Z_OK);
					deflatePending(&zs, NULL, &bits);
				}
				CHECK(ref_deflate(&zs, out, &n, cap, Z_BLOCK) == Z_OK);
			}
			deflatePending(&zs, NULL, &bits);
			CHECK(bits == 0);
		}
		CHECK(n > start || b == 0);
		deflateEnd(&zs);
		off += b;
	} while (off < len);
	crc = crc32(crc, in, (uInt)len);
	for (int i = 0; i < 4; i++) {
		out[n + i] = (unsigned char)(crc >> (8 * i));
		out[n + 4 + i] = (unsigned char)((uint32_t)len >> (8 * i));
	}
	*outlen = n + 8;
	return out;
}

/* Plain one-shot zlib gzip with our header: what dk_sink_gzip wrote before. */
static unsigned char *plain_gzip(const unsigned char *in, size_t len, int level, size_t *outlen)
{
	z_stream zs;
	gz_header h;
	size_t cap = len + len / 8 + 128;
	unsigned char *out = dk_xmalloc(cap);

	memset(&zs, 0, sizeof(zs));
	memset(&h, 0, sizeof(h));
	h.os = 3;
	deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	deflateSetHeader(&zs, &h);
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* 1 when gz is one gzip member that inflates to exactly in. */
static int gunzips_to(const void *gz, size_t gzlen, const unsigned char *in, size_t len)
{
	unsigned char *back = dk_xmalloc(len + 1);
	z_stream zs;
	int ok;

	memset(&zs, 0, sizeof(zs));
	inflateInit2(&zs, 16 + 15);
	zs.next_in = (unsigned char *)gz;
	zs.avail_in = (uInt)gzlen;
	zs.next_out = back;
	zs.avail_out = (uInt)len + 1;
	ok = inflate(&zs, Z_FINISH) == Z_STREAM_END && zs.avail_in == 0 &&
	     zs.total_out == len && memcmp(back, in, len) == 0;
	inflateEnd(&zs);
	free(back);
	return ok;
}

/* Every thread count and write pattern gives the reference's bytes. */
static void check_gzip_case(const unsigned char *in, size_t len, int level, size_t block)
{
	static const int threads[] = { 1, 2, 3, 8 };
	size_t reflen, n;
	unsigned char *ref = ref_gzip(in, len, level, block, &reflen);

	CHECK(gunzips_to(ref, reflen, in, len));
	for (int t = 0; t < 4; t++) {
		for (int odd = 0; odd < 2; odd++) {
			char *got = gzip_par(in, len, level, threads[t], block, odd, &n);

			CHECK(got && n == reflen && memcmp(got, ref, n) == 0);
			if (got && (n != reflen || memcmp(got, ref, n)))
				printf("#   len %zu level %d block %zu threads %d odd %d\n",
				       len, level, block, threads[t], odd);
			free(got);
		}
	}
	free(ref);
}

#define BLK ((size_t)65536)

static void test_gzip_bytes_do_not_depend_on_threads(void)
{
	static const size_t sizes[] = { 0, 1, BLK - 1, BLK, BLK + 1, 2 * BLK, 21 * BLK + 123 };

	for (int k = RANDOM; k <= ZEROS; k++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
			unsigned char *in = make_input(k, sizes[i], i + 1);

			check_gzip_case(in, sizes[i], 6, BLK);
			free(in);
		}
	}
}

/* Byte-sized writes: every block is filled one call at a time. */
static void test_gzip_one_byte_writes(void)
{
	size_t len = 3 * 40000 + 5, n, reflen;
	unsigned char *in = make_input(TEXT, len, 7);
	unsigned char *ref = ref_gzip(in, len, 6, 40000, &reflen);
	struct mem_sink *m = mem_sink();
	struct dk_sink *gz = dk_sink_gzip_par(&m->base, 6, 3, 40000);
	struct dk_err err;

	for (size_t i = 0; i < len; i++)
		CHECK(dk_sink_write(gz, in + i, 1, &err) == 0);
	CHECK(dk_sink_close(gz, &err) == 0);
	n = m->sb.len;
	CHECK(n == reflen && memcmp(m->sb.buf, ref, n) == 0);
	dk_sink_free(gz);
	dk_sink_free(&m->base);
	free(ref);
	free(in);
}

/* Blocks smaller than the window: the dictionary spans several blocks. */
static void test_gzip_small_blocks_keep_the_window(void)
{
	size_t len = 200000, n, whole;
	unsigned char *in = make_input(TEXT, len, 3);
	unsigned char *one = plain_gzip(in, len, 6, &whole);
	char *got;

	check_gzip_case(in, len, 6, 1000);
	check_gzip_case(in, 5000, 6, 1);
	got = gzip_par(in, len, 6, 3, 1000, 1, &n);
	/* each block costs a sync marker and a fresh Huffman table, nothing more */
	CHECK(got && n < whole + whole / 4);
	free(got);
	free(one);
	free(in);
}

static void test_gzip_levels(void)
{
	size_t len = 5 * BLK + 99, n6, nd;
	unsigned char *in = make_input(TEXT, len, 11);
	char *six, *dflt;

	for (int level = 0; level <= 9; level += 3)
		check_gzip_case(in, len, level, BLK);
	check_gzip_case(in, len, 1, BLK);
	six = gzip_par(in, len, 6, 2, BLK, 0, &n6);
	dflt = gzip_par(in, len, -1, 2, BLK, 0, &nd);
	CHECK(six && dflt && n6 == nd && memcmp(six, dflt, n6) == 0);
	free(six);
	free(dflt);
	free(in);
}

/* Up to one block, the format is exactly plain zlib's gzip (the old format). */
static void test_gzip_one_block_is_plain_zlib(void)
{
	static const size_t sizes[] = { 0, 1, 50000, DK_GZIP_BLOCK_DEFAULT };
	static const int levels[] = { 1, 6, 9 };

	for (size_t i = 0; i < 4; i++) {
		unsigned char *in = make_input(TEXT, sizes[i], 5);

		for (int l = 0; l < 3; l++) {
			size_t n, pn;
			char *got = gzip_par(in, sizes[i], levels[l], 4, 0, 1, &n);
			unsigned char *plain = plain_gzip(in, sizes[i], levels[l], &pn);

			CHECK(got && n == pn && memcmp(got, plain, n) == 0);
			free(got);
			free(plain);
		}
		free(in);
	}
}

/* dk_sink_gzip is the parallel format at one thread and the default block. */
static void test_gzip_entry_points_agree(void)
{
	size_t len = 9 * DK_GZIP_BLOCK_DEFAULT + 5, n, pn;
	unsigned char *in = make_input(TEXT, len, 9);
	struct mem_sink *m = mem_sink();
	struct dk_sink *gz = dk_sink_gzip(&m->base, 6);
	struct dk_err err;
	char *par = gzip_par(in, len, 6, 0, DK_GZIP_BLOCK_DEFAULT, 1, &pn);

	CHECK(feed(gz, in, len, 1, &err) == 0);
	CHECK(dk_sink_close(gz, &err) == 0);
	n = m->sb.len;
	CHECK(par && n == pn && memcmp(m->sb.buf, par, n) == 0);
	CHECK(gunzips_to(m->sb.buf, n, in, len));
	dk_sink_free(gz);
	dk_sink_free(&m->base);
	free(par);
	free(in);
}

/* Feed until the next stage fails; the failure must stick and keep its text. */
static void check_fails_downstream(struct dk_sink *s, struct mem_sink *m, const unsigned char *in,
				   size_t len)
{
	struct dk_err err;
	int rc = feed(s, in, len, 1, &err);

	if (rc == 0)
		rc = dk_sink_close(s, &err);
	CHECK(rc < 0);
	CHECK(err.code == DK_E_IO);
	CHECK(strstr(err.msg, "No space left") != NULL);
	memset(&err, 0, sizeof(err));
	CHECK(dk_sink_write(s, in, 10, &err) < 0);
	CHECK(err.code == DK_E_IO && strstr(err.msg, "No space left") != NULL);
	CHECK(dk_sink_close(s, &err) < 0);
	CHECK(err.code == DK_E_IO);
	CHECK(m->closes == 0);
}

static void test_gzip_next_stage_errors_propagate(void)
{
	size_t len = 40 * BLK;
	unsigned char *in = make_input(RANDOM, len, 13);
	static const int threads[] = { 1, 2, 8 };
	static const size_t fail_at[] = { 5, 100000, 39 * BLK };

	for (int t = 0; t < 3; t++) {
		for (int f = 0; f < 3; f++) {
			struct mem_sink *m = mem_sink();
			struct dk_sink *gz = dk_sink_gzip_par(&m->base, 1, threads[t], BLK);

			m->fail_after = fail_at[f];
			check_fails_downstream(gz, m, in, len);
			dk_sink_free(gz);
			dk_sink_free(&m->base);
		}
	}
	free(in);
}

static void test_gzip_close_error_of_next_stage(void)
{
	struct mem_sink *m = mem_sink();
	struct dk_sink *gz = dk_sink_gzip_par(&m->base, 6, 2, 0);
	struct dk_err err;

	CHECK(dk_sink_write(gz, "abc", 3, &err) == 0);
	m->fail_close = 1;
	CHECK(dk_sink_close(gz, &err) < 0);
	CHECK(err.code == DK_E_IO && strstr(err.msg, "close failed") != NULL);
	dk_sink_free(gz);
	dk_sink_free(&m->base);
}

/* Freeing mid-stream, with workers busy, must neither hang nor leak. */
static void test_gzip_free_without_close(void)
{
	size_t len = 30 * BLK;
	unsigned char *in = make_input(TEXT, len, 17);
	struct dk_err err;

	for (int threads = 1; threads <= 8; threads *= 2) {
		struct mem_sink *m = mem_sink();
		struct dk_sink *gz = dk_sink_gzip_par(&m->base, 9, threads, BLK);

		CHECK(feed(gz, in, len, 1, &err) == 0);
		dk_sink_free(gz);
		dk_sink_free(&m->base);
		/* and before any write at all */
		dk_sink_free(dk_sink_gzip_par(NULL, 6, threads, 0));
	}
	free(in);
}

static void test_gzip_misuse_is_an_error(void)
{
	struct mem_sink *m = mem_sink();
	struct dk_sink *gz = dk_sink_gzip_par(&m->base, 6, 2, 0);
	struct dk_err err;

	CHECK(dk_sink_close(gz, &err) == 0);
	CHECK(dk_sink_write(gz, "x", 1, &err) < 0 && err.code == DK_E_INTERNAL);
	CHECK(dk_sink_close(gz, &err) < 0 && err.code == DK_E_INTERNAL);
	dk_sink_free(gz);
	dk_sink_free(&m->base);
}

static char *zstd_run(const unsigned char *in, size_t len, int level, int threads, int odd,
		      size_t *outlen)
{
	struct mem_sink *m = mem_sink();
	struct dk_sink *z = dk_sink_zstd(&m->base, level, threads);
	struct dk_err err;
	char *out = NULL;

	if (feed(z, in, len, odd, &err) == 0 && dk_sink_close(z, &err) == 0) {
		CHECK(m->closes == 1);
		*outlen = m->sb.len;
		out = sb_detach(&m->sb);
	} else {
		printf("#   zstd: %s\n", err.msg);
	}
	dk_sink_free(z);
	dk_sink_free(&m->base);
	return out;
}

/*
 * 1 when z is one zstd frame that decompresses to in, with a checksum and
 * neither a content size nor a dictionary ID (RFC 8878 3.1.1.1.1: the
 * Frame_Header_Descriptor after the 4-byte magic number).
 */
static int unzstds_to(const void *z, size_t zlen, const unsigned char *in, size_t len)
{
	const unsigned char *p = z;
	ZSTD_DStream *ds = ZSTD_createDStream();
	unsigned char *back = dk_xmalloc(len + 1);
	ZSTD_inBuffer ib = { z, zlen, 0 };
	ZSTD_outBuffer ob = { back, len + 1, 0 };
	size_t rc = 1;
	int ok;

	ok = zlen > 5 && (p[4] & 0x04) && (p[4] & 0xc3) == 0 && !(p[4] & 0x20) &&
	     ZSTD_getFrameContentSize(z, zlen) == ZSTD_CONTENTSIZE_UNKNOWN &&
	     ZSTD_findFrameCompressedSize(z, zlen) == zlen;
	while (ok && rc != 0 && ib.pos < ib.size) {
		rc = ZSTD_decompressStream(ds, &ob, &ib);
		if (ZSTD_isError(rc))
			ok = 0;
	}
	ok = ok && rc == 0 && ob.pos == len && memcmp(back, in, len) == 0;
	ZSTD_freeDStream(ds);
	free(back);
	return ok;
}

/* Big enough for several libzstd jobs at level 3 (8 MiB each). */
#define ZBIG ((size_t)20 << 20)

static void test_zstd_bytes_do_not_depend_on_workers(void)
{
	static const size_t sizes[] = { 0, 1, 100000, ZBIG };
	static const int threads[] = { 2, 4, 0, -3 };

	for (size_t i = 0; i < 4; i++) {
		unsigned char *in = make_input(i == 3 ? TEXT : RANDOM, sizes[i], i + 21);
		size_t n1, n;
		char *one = zstd_run(in, sizes[i], 3, 1, 0, &n1);

		CHECK(one && unzstds_to(one, n1, in, sizes[i]));
		for (int t = 0; t < 4; t++) {
			char *got = zstd_run(in, sizes[i], 3, threads[t], t & 1, &n);

			CHECK(got && n == n1 && memcmp(got, one, n) == 0);
			free(got);
		}
		free(one);
		free(in);
	}
}

static void test_zstd_next_stage_errors_propagate(void)
{
	size_t len = 3 << 20;
	unsigned char *in = make_input(RANDOM, len, 23);

	for (int threads = 1; threads <= 4; threads *= 4) {
		struct mem_sink *m = mem_sink();
		struct dk_sink *z = dk_sink_zstd(&m->base, 3, threads);

		m->fail_after = 1000;
		check_fails_downstream(z, m, in, len);
		dk_sink_free(z);
		dk_sink_free(&m->base);
	}
	free(in);
}

static void test_zstd_free_without_close(void)
{
	size_t len = 3 << 20;
	unsigned char *in = make_input(TEXT, len, 29);
	struct mem_sink *m = mem_sink();
	struct dk_sink *z = dk_sink_zstd(&m->base, 3, 2);
	struct dk_err err;

	CHECK(feed(z, in, len, 1, &err) == 0);
	dk_sink_free(z);
	dk_sink_free(&m->base);
	free(in);
}

/* Run in through the members (libdeflate) stage. */
static char *gzip_members(const unsigned char *in, size_t len, int level, int threads, size_t block,
			  int odd, size_t *outlen)
{
	return run_gzip_stage(dk_sink_gzip_members, in, len, level, threads, block, odd, outlen);
}

/* 1 when gz is a series of gzip members that, inflated one after another, give in. */
static int members_gunzip_to(const void *gz, size_t gzlen, const unsigned char *in, size_t len,
			     size_t *members)
{
	unsigned char *back = dk_xmalloc(len + 1);
	z_stream zs;
	int rc = Z_OK;

	*members = 0;
	memset(&zs, 0, sizeof(zs));
	inflateInit2(&zs, 16 + 15);
	zs.next_in = (unsigned char *)gz;
	zs.avail_in = (uInt)gzlen;
	zs.next_out = back;
	zs.avail_out = (uInt)len + 1;
	while (zs.avail_in) {
		rc = inflate(&zs, Z_FINISH);
		if (rc != Z_STREAM_END)
			break;
		(*members)++;
		inflateReset(&zs);
	}
	rc = rc == Z_STREAM_END && zs.total_out == 0 && (size_t)(zs.next_out - back) == len &&
	     memcmp(back, in, len) == 0;
	inflateEnd(&zs);
	free(back);
	return rc;
}

static void test_members_bytes_do_not_depend_on_threads(void)
{
	static const size_t lens[] = { 0, 1, 100000, 100001, 350000 };
	const size_t block = 100000;

	for (size_t l = 0; l < 5; l++) {
		unsigned char *in = make_input(l % 2 ? RANDOM : TEXT, lens[l], l + 1);
		size_t reflen, n, members;
		char *ref = gzip_members(in, lens[l], 6, 1, block, 0, &reflen);

		CHECK(ref != NULL);
		CHECK(ref && members_gunzip_to(ref, reflen, in, lens[l], &members));
		/* one member per started block, and one for empty input */
		CHECK(members == (lens[l] ? (lens[l] + block - 1) / block : 1));
		for (int t = 2; t <= 5; t += 3) {
			for (int odd = 0; odd < 2; odd++) {
				char *got = gzip_members(in, lens[l], 6, t, block, odd, &n);

				CHECK(got && ref && n == reflen && memcmp(got, ref, n) == 0);
				free(got);
			}
		}
		free(ref);
		free(in);
	}
}

static void test_members_header_is_fixed(void)
{
	unsigned char *in = make_input(TEXT, 5000, 9);
	size_t n, m;
	char *a = gzip_members(in, 5000, 6, 1, 0, 0, &n);
	const unsigned char *h = (const unsigned char *)a;

	CHECK(a && n > 18);
	/* magic, deflate, no name or extra fields, mtime 0 */
	CHECK(a && h[0] == 0x1f && h[1] == 0x8b && h[2] == 8 && h[3] == 0);
	CHECK(a && h[4] == 0 && h[5] == 0 && h[6] == 0 && h[7] == 0);
	CHECK(a && members_gunzip_to(a, n, in, 5000, &m) && m == 1);
	free(a);
	free(in);
}

static void test_members_next_stage_errors_propagate(void)
{
	unsigned char *in = make_input(RANDOM, 3000000, 4);
	struct mem_sink *m = mem_sink();
	struct dk_sink *gz = dk_sink_gzip_members(&m->base, 6, 3, 0);
	struct dk_err err;
	int rc;

	m->fail_after = 1500000;
	rc = feed(gz, in, 3000000, 1, &err);
	if (rc == 0)
		rc = dk_sink_close(gz, &err);
	CHECK(rc < 0);
	CHECK(strstr(err.msg, "No space left on device") != NULL);
	dk_sink_free(gz);
	dk_sink_free(&m->base);
	free(in);
}

int main(void)
{
	RUN(test_gzip_bytes_do_not_depend_on_threads);
	RUN(test_gzip_one_byte_writes);
	RUN(test_gzip_small_blocks_keep_the_window);
	RUN(test_gzip_levels);
	RUN(test_gzip_one_block_is_plain_zlib);
	RUN(test_gzip_entry_points_agree);
	RUN(test_gzip_next_stage_errors_propagate);
	RUN(test_gzip_close_error_of_next_stage);
	RUN(test_gzip_free_without_close);
	RUN(test_gzip_misuse_is_an_error);
	RUN(test_zstd_bytes_do_not_depend_on_workers);
	RUN(test_zstd_next_stage_errors_propagate);
	RUN(test_zstd_free_without_close);
	RUN(test_members_bytes_do_not_depend_on_threads);
	RUN(test_members_header_is_fixed);
	RUN(test_members_next_stage_errors_propagate);
	return tap_done();
}
