/* test_digest.c - SHA-256 digests, the hashing sink, gzip determinism. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "derrick/digest.h"
#include "derrick/sink.h"
#include "derrick/util.h"
#include "tap.h"

#define ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void test_known_vectors(void)
{
	char d[DK_DIGEST_SIZE];

	dk_sha256_buf("abc", 3, d);
	CHECK_STR(d, ABC);
	dk_sha256_buf("", 0, d);
	CHECK_STR(d, EMPTY);
}

static void test_streaming_equals_oneshot(void)
{
	struct dk_sha256 h;
	char a[DK_DIGEST_SIZE], b[DK_DIGEST_SIZE];
	char buf[10000];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	dk_sha256_buf(buf, sizeof(buf), a);
	dk_sha256_init(&h);
	for (size_t i = 0; i < sizeof(buf); i += 333)
		dk_sha256_update(&h, buf + i, sizeof(buf) - i < 333 ? sizeof(buf) - i : 333);
	dk_sha256_final(&h, b);
	CHECK_STR(b, a);
}

static void test_digest_valid(void)
{
	CHECK(dk_digest_valid(ABC));
	CHECK(!dk_digest_valid("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	CHECK(!dk_digest_valid("sha256:ba78"));
	CHECK(!dk_digest_valid("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	CHECK(!dk_digest_valid("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	CHECK(!dk_digest_valid(NULL));
	CHECK_STR(dk_digest_hex(ABC), ABC + 7);
}

static void test_file_digest(void)
{
	char path[] = "/tmp/dk-digest-XXXXXX";
	int fd = mkstemp(path);
	char d[DK_DIGEST_SIZE];
	uint64_t size = 0;
	struct dk_err err;

	CHECK(fd >= 0);
	CHECK(write(fd, "abc", 3) == 3);
	close(fd);
	CHECK(dk_sha256_file(path, d, &size, &err) == 0);
	CHECK_STR(d, ABC);
	CHECK(size == 3);
	unlink(path);
	CHECK(dk_sha256_file(path, d, &size, &err) < 0);
	CHECK(err.code == DK_E_NOTFOUND);
	CHECK(strstr(err.msg, path) != NULL);
}

static void test_hash_sink_counts_and_passes_through(void)
{
	struct dk_sink *inner = dk_sink_hash(NULL);
	struct dk_sink *outer = dk_sink_hash(inner);
	struct dk_err err;

	CHECK(dk_sink_write(outer, "a", 1, &err) == 0);
	CHECK(dk_sink_write(outer, "bc", 2, &err) == 0);
	CHECK(dk_sink_close(outer, &err) == 0);
	CHECK_STR(dk_sink_hash_digest(outer), ABC);
	CHECK_STR(dk_sink_hash_digest(inner), ABC);
	CHECK(dk_sink_hash_size(inner) == 3);
	dk_sink_free(outer);
	dk_sink_free(inner);
}

/* Compress buf through the layers' gzip sink into a temp file; return its contents. */
static unsigned char *gzip_bytes(const void *buf, size_t len, size_t *outlen)
{
	char path[] = "/tmp/dk-gz-XXXXXX";
	int fd = mkstemp(path);
	struct dk_sink *file = dk_sink_fd(fd, "test");
	struct dk_sink *gz = dk_sink_gzip_members(file, 6, 1, 0);
	struct dk_err err;
	char *data = NULL;

	CHECK(dk_sink_write(gz, buf, len, &err) == 0);
	CHECK(dk_sink_close(gz, &err) == 0);
	dk_sink_free(gz);
	dk_sink_free(file);
	close(fd);
	CHECK(dk_read_file(path, 1 << 24, &data, outlen, &err) == 0);
	unlink(path);
	return (unsigned char *)data;
}

static void test_gzip_header_is_fixed_and_roundtrips(void)
{
	char in[50000];
	unsigned char back[60000];
	size_t n, n2;
	unsigned char *a, *b;
	uLongf backlen;
	z_stream zs;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = "derrick layers "[i % 15];
	a = gzip_bytes(in, sizeof(in), &n);
	b = gzip_bytes(in, sizeof(in), &n2);
	CHECK(n == n2 && memcmp(a, b, n) == 0);
	/* magic, deflate, no FNAME/FEXTRA/FCOMMENT flags, mtime 0, OS "unknown" (libdeflate's) */
	CHECK(a[0] == 0x1f && a[1] == 0x8b && a[2] == 8);
	CHECK(a[3] == 0);
	CHECK(a[4] == 0 && a[5] == 0 && a[6] == 0 && a[7] == 0);
	CHECK(a[9] == 255);
	memset(&zs, 0, sizeof(zs));
	CHECK(inflateInit2(&zs, 16 + 15) == Z_OK);
	zs.next_in = a;
	zs.avail_in = (uInt)n;
	zs.next_out = back;
	zs.avail_out = sizeof(back);
	CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END);
	backlen = zs.total_out;
	inflateEnd(&zs);
	CHECK(backlen == sizeof(in) && memcmp(back, in, sizeof(in)) == 0);
	free(a);
	free(b);
}

int main(void)
{
	RUN(test_known_vectors);
	RUN(test_streaming_equals_oneshot);
	RUN(test_digest_valid);
	RUN(test_file_digest);
	RUN(test_hash_sink_counts_and_passes_through);
	RUN(test_gzip_header_is_fixed_and_roundtrips);
	return tap_done();
}
