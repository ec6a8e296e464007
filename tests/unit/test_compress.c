/*
 * test_compress.c - the compressor table and its stages: the gzip members
 * (libdeflate) and zstd stages write bytes that depend on level, block size
 * and input only (never on the thread count or on how writes were cut);
 * the gunzip and unzstd stages give the input back, however their input is
 * cut, and refuse corrupt and truncated streams; a failing next stage stops
 * every stage with its error.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include "derrick/compress.h"
#include "derrick/layer.h"
#include "derrick/sink.h"
#include "derrick/util.h"
#include "tap.h"

/* The two rows, looked up by name once in main(). */
static const struct dk_compressor *GZIP, *ZSTD;

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

static int feed(struct dk_sink *s, const void *buf, size_t len, int odd, struct dk_err *err)
{
	const unsigned char *in = buf;
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

/*
 * Run in through `stage` (whose next stage is m) and return what came out,
 * or NULL on error, with the error in *err.  Frees the stage and m.
 */
static char *drain_into(struct dk_sink *stage, struct mem_sink *m, const void *in, size_t len, int odd,
			size_t *outlen, struct dk_err *err)
{
	char *out = NULL;

	if (feed(stage, in, len, odd, err) == 0 && dk_sink_close(stage, err) == 0) {
		CHECK(m->closes == 1);
		*outlen = m->sb.len;
		out = sb_detach(&m->sb);
	}
	dk_sink_free(stage);
	dk_sink_free(&m->base);
	return out;
}

static char *gzip_members(const unsigned char *in, size_t len, int level, int threads, size_t block,
			  int odd, size_t *outlen)
{
	struct mem_sink *m = mem_sink();
	struct dk_err err;

	return drain_into(dk_sink_gzip_members(&m->base, level, threads, block), m, in, len, odd, outlen, &err);
}

static char *zstd_run(const unsigned char *in, size_t len, int level, int threads, int odd,
		      size_t *outlen)
{
	struct mem_sink *m = mem_sink();
	struct dk_err err;
	char *out = drain_into(dk_sink_zstd(&m->base, level, threads), m, in, len, odd, outlen, &err);

	if (!out)
		printf("#   zstd: %s\n", err.msg);
	return out;
}

/* Decompress through `kind`'s stage; NULL with *err on error. */
static char *decompress(const struct dk_compressor *kind, const void *in, size_t len, int odd, size_t *outlen,
			struct dk_err *err)
{
	struct mem_sink *m = mem_sink();

	return drain_into(kind->decompress(&m->base, "test blob"), m, in, len, odd, outlen, err);
}

/* 1 when `kind`'s stage turns z back into exactly in, whole or cut into odd writes. */
static int decompresses_to(const struct dk_compressor *kind, const void *z, size_t zlen,
			   const unsigned char *in, size_t len)
{
	int ok = 1;

	for (int odd = 0; odd < 2; odd++) {
		struct dk_err err;
		size_t n = 0;
		char *back = decompress(kind, z, zlen, odd, &n, &err);

		if (!back)
			printf("#   %s: %s\n", kind->name, err.msg);
		ok = ok && back && n == len && memcmp(back, in, len) == 0;
		free(back);
	}
	return ok;
}

/* 1 when gz, inflated by zlib one member after another, gives exactly in; counts the members. */
static int gunzips_to(const void *gz, size_t gzlen, const unsigned char *in, size_t len, size_t *members)
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
	rc = rc == Z_STREAM_END && (size_t)(zs.next_out - back) == len && memcmp(back, in, len) == 0;
	inflateEnd(&zs);
	free(back);
	return rc;
}

/*
 * The members format written out the slow, obvious way from its
 * description: one libdeflate gzip member per block, even for no input.
 */
static unsigned char *ref_members(const unsigned char *in, size_t len, int level, size_t block,
				  size_t *outlen)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
	size_t n = 0, off = 0, cap = 0;
	unsigned char *out = NULL;

	do {
		size_t b = len - off < block ? len - off : block;
		size_t bound = libdeflate_gzip_compress_bound(c, b), got;

		out = dk_xrealloc(out, cap += bound);
		got = libdeflate_gzip_compress(c, in + off, b, out + n, bound);
		CHECK(got > 0);
		n += got;
		off += b;
	} while (off < len);
	libdeflate_free_compressor(c);
	*outlen = n;
	return out;
}

/* Every thread count and write pattern gives the reference's bytes, which decompress to in. */
static void check_members_case(const unsigned char *in, size_t len, int level, size_t block)
{
	static const int threads[] = { 1, 2, 3, 8 };
	size_t reflen, n, members;
	unsigned char *ref = ref_members(in, len, level, block, &reflen);

	CHECK(gunzips_to(ref, reflen, in, len, &members));
	/* one member per started block, and one for empty input */
	CHECK(members == (len ? (len + block - 1) / block : 1));
	CHECK(decompresses_to(GZIP, ref, reflen, in, len));
	for (int t = 0; t < 4; t++) {
		for (int odd = 0; odd < 2; odd++) {
			char *got = gzip_members(in, len, level, threads[t], block, odd, &n);

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

static void test_members_bytes_do_not_depend_on_threads(void)
{
	static const size_t sizes[] = { 0, 1, BLK - 1, BLK, BLK + 1, 2 * BLK, 21 * BLK + 123 };

	for (int k = RANDOM; k <= ZEROS; k++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
			unsigned char *in = make_input(k, sizes[i], i + 1);

			check_members_case(in, sizes[i], 6, BLK);
			free(in);
		}
	}
}

/* Byte-sized writes: every block is filled one call at a time. */
static void test_members_one_byte_writes(void)
{
	size_t len = 3 * 40000 + 5, n, reflen;
	unsigned char *in = make_input(TEXT, len, 7);
	unsigned char *ref = ref_members(in, len, 6, 40000, &reflen);
	struct mem_sink *m = mem_sink();
	struct dk_sink *gz = dk_sink_gzip_members(&m->base, 6, 3, 40000);
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

/* Every level libdeflate has, and the layers' default block size (block 0). */
static void test_members_levels_and_default_block(void)
{
	size_t len = 5 * BLK + 99, n, reflen;
	unsigned char *in = make_input(TEXT, len, 11);
	unsigned char *ref = ref_members(in, len, 6, DK_GZIP_MEMBER_BLOCK, &reflen);
	char *got = gzip_members(in, len, 6, 2, 0, 1, &n);

	for (int level = 0; level <= 12; level += 3)
		check_members_case(in, len, level, BLK);
	check_members_case(in, len, 1, BLK);
	CHECK(got && n == reflen && memcmp(got, ref, n) == 0);
	free(got);
	free(ref);
	free(in);
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
	CHECK(a && gunzips_to(a, n, in, 5000, &m) && m == 1 && decompresses_to(GZIP, a, n, in, 5000));
	free(a);
	free(in);
}

/* Feed until the next stage fails; the failure must stick and keep its text. */
static void check_fails_downstream(struct dk_sink *s, struct mem_sink *m, const void *in, size_t len)
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

static void test_members_next_stage_errors_propagate(void)
{
	size_t len = 40 * BLK;
	unsigned char *in = make_input(RANDOM, len, 13);
	static const int threads[] = { 1, 2, 8 };
	static const size_t fail_at[] = { 5, 100000, 39 * BLK };

	for (int t = 0; t < 3; t++) {
		for (int f = 0; f < 3; f++) {
			struct mem_sink *m = mem_sink();
			struct dk_sink *gz = dk_sink_gzip_members(&m->base, 1, threads[t], BLK);

			m->fail_after = fail_at[f];
			check_fails_downstream(gz, m, in, len);
			dk_sink_free(gz);
			dk_sink_free(&m->base);
		}
	}
	free(in);
}

static void test_members_close_error_of_next_stage(void)
{
	struct mem_sink *m = mem_sink();
	struct dk_sink *gz = dk_sink_gzip_members(&m->base, 6, 2, 0);
	struct dk_err err;

	CHECK(dk_sink_write(gz, "abc", 3, &err) == 0);
	m->fail_close = 1;
	CHECK(dk_sink_close(gz, &err) < 0);
	CHECK(err.code == DK_E_IO && strstr(err.msg, "close failed") != NULL);
	dk_sink_free(gz);
	dk_sink_free(&m->base);
}

/* Freeing mid-stream, with workers busy, must neither hang nor leak. */
static void test_members_free_without_close(void)
{
	size_t len = 30 * BLK;
	unsigned char *in = make_input(TEXT, len, 17);
	struct dk_err err;

	for (int threads = 1; threads <= 8; threads *= 2) {
		struct mem_sink *m = mem_sink();
		struct dk_sink *gz = dk_sink_gzip_members(&m->base, 9, threads, BLK);

		CHECK(feed(gz, in, len, 1, &err) == 0);
		dk_sink_free(gz);
		dk_sink_free(&m->base);
		/* and before any write at all */
		dk_sink_free(dk_sink_gzip_members(NULL, 6, threads, 0));
	}
	free(in);
}

static void test_members_misuse_is_an_error(void)
{
	struct mem_sink *m = mem_sink();
	struct dk_sink *gz = dk_sink_gzip_members(&m->base, 6, 2, 0);
	struct dk_err err;

	CHECK(dk_sink_close(gz, &err) == 0);
	CHECK(dk_sink_write(gz, "x", 1, &err) < 0 && err.code == DK_E_INTERNAL);
	CHECK(dk_sink_close(gz, &err) < 0 && err.code == DK_E_INTERNAL);
	dk_sink_free(gz);
	dk_sink_free(&m->base);
	/* a level libdeflate does not have is an error, not an abort */
	m = mem_sink();
	gz = dk_sink_gzip_members(&m->base, 13, 2, 0);
	CHECK(dk_sink_write(gz, "x", 1, &err) < 0 && err.code == DK_E_INTERNAL);
	CHECK(strstr(err.msg, "level 13") != NULL);
	CHECK(dk_sink_close(gz, &err) < 0 && strstr(err.msg, "level 13") != NULL);
	CHECK(m->closes == 0);
	dk_sink_free(gz);
	dk_sink_free(&m->base);
}

/*
 * 1 when z is one zstd frame that decompresses to in, with a checksum and
 * neither a content size nor a dictionary ID (RFC 8878 3.1.1.1.1: the
 * Frame_Header_Descriptor after the 4-byte magic number).
 */
static int one_zstd_frame(const void *z, size_t zlen, const unsigned char *in, size_t len)
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
	ok = ok && rc == 0 && ob.pos == len && memcmp(back, in, len) == 0 && decompresses_to(ZSTD, z, zlen, in, len);
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

		CHECK(one && one_zstd_frame(one, n1, in, sizes[i]));
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

/* A gzip stream the way zlib writes it, with a file name in its header, for gunzip to read. */
static unsigned char *zlib_gzip(const unsigned char *in, size_t len, size_t *outlen)
{
	z_stream zs;
	gz_header h;
	size_t cap = len + len / 8 + 128;
	unsigned char *out = dk_xmalloc(cap);

	memset(&zs, 0, sizeof(zs));
	memset(&h, 0, sizeof(h));
	h.name = (Bytef *)"layer.tar";
	h.time = 1234567890;
	deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
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

/* Each row's stages: what one compresses, the other gives back, however either is fed. */
static void test_round_trips_through_every_row(void)
{
	static const size_t sizes[] = { 0, 1, 70000, 3 * DK_GZIP_MEMBER_BLOCK + 5 };
	const struct dk_compressor *rows[] = { GZIP, ZSTD };

	for (int r = 0; r < 2; r++) {
		for (size_t i = 0; i < 4; i++) {
			unsigned char *in = make_input(i % 2 ? RANDOM : TEXT, sizes[i], i + 31);
			struct mem_sink *m = mem_sink();
			struct dk_err err;
			size_t n = 0;
			char *z = drain_into(rows[r]->compress(&m->base, rows[r]->default_level, 2), m, in,
					     sizes[i], 1, &n, &err);

			CHECK(z && dk_compressor_by_magic(z, n) == rows[r]);
			CHECK(z && decompresses_to(rows[r], z, n, in, sizes[i]));
			free(z);
			free(in);
		}
	}
}

/* 1 when stream a then stream b, as one input, decompress through `kind` to in; frees a and b. */
static int pair_decompresses_to(const struct dk_compressor *kind, void *a, size_t na, void *b, size_t nb,
				const unsigned char *in, size_t len)
{
	unsigned char *both = dk_xmalloc(na + nb);
	int ok;

	memcpy(both, a, na);
	memcpy(both + na, b, nb);
	ok = decompresses_to(kind, both, na + nb, in, len);
	free(both);
	free(a);
	free(b);
	return ok;
}

/* gunzip reads gzip from anyone (names, mtimes, one stream), and members from several writers in a row. */
static void test_gunzip_reads_any_gzip(void)
{
	size_t len = 300000, n1, n2;
	unsigned char *in = make_input(TEXT, len, 37);
	unsigned char *a = zlib_gzip(in, 100000, &n1);
	char *b = gzip_members(in + 100000, len - 100000, 6, 2, BLK, 0, &n2);

	CHECK(decompresses_to(GZIP, a, n1, in, 100000));
	CHECK(pair_decompresses_to(GZIP, a, n1, b, n2, in, len));
	free(in);
}

/* unzstd reads one frame after another. */
static void test_unzstd_reads_several_frames(void)
{
	size_t len = 200000, n1, n2;
	unsigned char *in = make_input(TEXT, len, 41);
	char *a = zstd_run(in, 50000, 3, 1, 0, &n1);
	char *b = zstd_run(in + 50000, len - 50000, 19, 2, 0, &n2);

	CHECK(pair_decompresses_to(ZSTD, a, n1, b, n2, in, len));
	free(in);
}

/* Decompress bad input through `kind`; the error must say `want`, stick, and never close the next stage. */
static void check_refused(const struct dk_compressor *kind, const void *z, size_t zlen, const char *want)
{
	for (int odd = 0; odd < 2; odd++) {
		struct mem_sink *m = mem_sink();
		struct dk_sink *d = kind->decompress(&m->base, "test blob");
		struct dk_err err;
		int rc = feed(d, z, zlen, odd, &err);

		if (rc == 0)
			rc = dk_sink_close(d, &err);
		CHECK(rc < 0 && err.code == DK_E_CORRUPT);
		CHECK(strstr(err.msg, "test blob: ") == err.msg && strstr(err.msg, want) != NULL);
		if (!strstr(err.msg, want))
			printf("#   %s: got \"%s\", want \"%s\"\n", kind->name, err.msg, want);
		memset(&err, 0, sizeof(err));
		CHECK(dk_sink_write(d, "x", 1, &err) < 0 && err.code == DK_E_CORRUPT && strstr(err.msg, want));
		CHECK(dk_sink_close(d, &err) < 0 && err.code == DK_E_CORRUPT);
		CHECK(m->closes == 0);
		dk_sink_free(d);
		dk_sink_free(&m->base);
	}
}

/* Corrupt, truncated, empty and foreign input: DK_E_CORRUPT from both decompressing stages. */
static void test_decompress_refuses_bad_input(void)
{
	const struct dk_compressor *rows[] = { GZIP, ZSTD };
	size_t len = 400000;
	unsigned char *in = make_input(TEXT, len, 43);

	for (int r = 0; r < 2; r++) {
		const char *invalid = r ? "not a valid zstd stream" : "not a valid gzip stream";
		const char *truncated = r ? "truncated zstd stream" : "truncated gzip stream";
		struct mem_sink *m = mem_sink();
		struct dk_err err;
		size_t n;
		unsigned char *z = (unsigned char *)drain_into(rows[r]->compress(&m->base, 6, 1), m, in, len, 0,
							       &n, &err);

		CHECK(z != NULL);
		check_refused(rows[r], z, n - 1, truncated);
		check_refused(rows[r], z, n / 2, truncated);
		check_refused(rows[r], z, 0, truncated);
		check_refused(rows[r], "this is not compressed", 22, invalid);
		/* a damaged checksum: gzip's CRC-32 is followed by the size, zstd's ends the frame */
		z[n - (r ? 2 : 6)] ^= 0x40;
		check_refused(rows[r], z, n, invalid);
		z[n - (r ? 2 : 6)] ^= 0x40;
		/* garbage after the end */
		z = dk_xrealloc(z, n + 8);
		memcpy(z + n, "trailing", 8);
		check_refused(rows[r], z, n + 8, invalid);
		free(z);
	}
	free(in);
}

static void test_decompress_next_stage_errors_propagate(void)
{
	const struct dk_compressor *rows[] = { GZIP, ZSTD };
	size_t len = 2 << 20;
	unsigned char *in = make_input(TEXT, len, 47);

	for (int r = 0; r < 2; r++) {
		struct mem_sink *m = mem_sink();
		struct dk_err err;
		size_t n;
		char *z = drain_into(rows[r]->compress(&m->base, rows[r]->default_level, 2), m, in, len, 0, &n,
				     &err);
		struct dk_sink *d;

		m = mem_sink();
		m->fail_after = 100000;
		d = rows[r]->decompress(&m->base, "test blob");
		check_fails_downstream(d, m, z, n);
		dk_sink_free(d);
		dk_sink_free(&m->base);
		free(z);
	}
	free(in);
}

/* The table: the lookups, the names list, and the levels users see (README, --help). */
static void test_the_table(void)
{
	char *names = dk_compressor_names("\"");
	unsigned char zeros[4] = { 0 };

	CHECK(GZIP && ZSTD && GZIP != ZSTD);
	CHECK(GZIP->magic_len <= DK_COMPRESS_MAGIC_MAX && ZSTD->magic_len <= DK_COMPRESS_MAGIC_MAX);
	CHECK(dk_compressor_default() == GZIP);
	CHECK(dk_compressor_by_name("lz4") == NULL && dk_compressor_by_name("") == NULL);
	CHECK(dk_compressor_by_media_type(DK_MT_LAYER_GZIP) == GZIP);
	CHECK(dk_compressor_by_media_type(DK_MT_LAYER_ZSTD) == ZSTD);
	CHECK(dk_compressor_by_media_type("application/vnd.oci.image.layer.v1.tar") == NULL);
	CHECK(dk_compressor_by_magic("\x1f\x8b\x08\x00", 4) == GZIP);
	CHECK(dk_compressor_by_magic("\x28\xb5\x2f\xfd", 4) == ZSTD);
	CHECK(dk_compressor_by_magic("\x28\xb5\x2f", 3) == NULL);
	CHECK(dk_compressor_by_magic(zeros, 4) == NULL && dk_compressor_by_magic(zeros, 0) == NULL);
	CHECK_STR(names, "\"gzip\" or \"zstd\"");
	free(names);
	CHECK(GZIP->default_level == 6 && GZIP->min_level == 1 && GZIP->max_level == 9);
	CHECK(ZSTD->default_level == 3 && ZSTD->min_level == 1 && ZSTD->max_level == 19);
}

/* The build-cache key's text for each row: part of every key, so pinned. */
static void test_cache_ids(void)
{
	struct dk_compress gz = { GZIP, 6, 4 }, zs = { ZSTD, 19, 1 };
	char *a = dk_compress_id(&gz), *b = dk_compress_id(&zs);
	char *want_a = dk_xasprintf("gzip/libdeflate-%s/members/level-6/block-1048576", LIBDEFLATE_VERSION_STRING);
	char *want_b = dk_xasprintf("zstd/libzstd-%s/level-19", ZSTD_versionString());

	CHECK_STR(a, want_a);
	CHECK_STR(b, want_b);
	free(a);
	free(b);
	free(want_a);
	free(want_b);
}

/* Write buf to a new temporary file; return its path (static buffer). */
static const char *temp_file(const void *buf, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/dk-compress-XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0 && write(fd, buf, len) == (ssize_t)len);
	close(fd);
	return path;
}

/* A stored layer's diff_id: its decompressed bytes' SHA-256, whichever row wrote it. */
static void test_layer_diff_id(void)
{
	const struct dk_compressor *rows[] = { GZIP, ZSTD };
	size_t len = 3 * DK_GZIP_MEMBER_BLOCK + 17;
	unsigned char *in = make_input(TEXT, len, 53);
	char want[DK_DIGEST_SIZE], got[DK_DIGEST_SIZE];
	struct dk_err err;
	const char *path;

	dk_sha256_buf(in, len, want);
	for (int r = 0; r < 2; r++) {
		struct dk_compress c = { rows[r], rows[r]->default_level, 2 };
		struct mem_sink *m = mem_sink();
		size_t n;
		char *z = drain_into(dk_compress_sink(&c, &m->base), m, in, len, 1, &n, &err);

		path = temp_file(z, n);
		CHECK(dk_layer_diff_id(path, got, &err) == 0);
		CHECK_STR(got, want);
		unlink(path);
		path = temp_file(z, n - 3);
		CHECK(dk_layer_diff_id(path, got, &err) < 0 && err.code == DK_E_CORRUPT);
		CHECK(strstr(err.msg, path) && strstr(err.msg, "truncated"));
		unlink(path);
		free(z);
	}
	path = temp_file(in, 100);
	CHECK(dk_layer_diff_id(path, got, &err) < 0 && err.code == DK_E_CORRUPT);
	CHECK(strstr(err.msg, "not compressed with gzip or zstd") != NULL);
	unlink(path);
	CHECK(dk_layer_diff_id(path, got, &err) < 0 && err.code == DK_E_IO);
	free(in);
}

int main(void)
{
	GZIP = dk_compressor_by_name("gzip");
	ZSTD = dk_compressor_by_name("zstd");
	RUN(test_the_table);
	RUN(test_cache_ids);
	RUN(test_members_bytes_do_not_depend_on_threads);
	RUN(test_members_one_byte_writes);
	RUN(test_members_levels_and_default_block);
	RUN(test_members_header_is_fixed);
	RUN(test_members_next_stage_errors_propagate);
	RUN(test_members_close_error_of_next_stage);
	RUN(test_members_free_without_close);
	RUN(test_members_misuse_is_an_error);
	RUN(test_zstd_bytes_do_not_depend_on_workers);
	RUN(test_zstd_next_stage_errors_propagate);
	RUN(test_zstd_free_without_close);
	RUN(test_round_trips_through_every_row);
	RUN(test_gunzip_reads_any_gzip);
	RUN(test_unzstd_reads_several_frames);
	RUN(test_decompress_refuses_bad_input);
	RUN(test_decompress_next_stage_errors_propagate);
	RUN(test_layer_diff_id);
	return tap_done();
}
