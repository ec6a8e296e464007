/* test_util.c - the helpers every module shares: strbuf, joins, base64, temp paths, retries. */
#include <stdlib.h>
#include <string.h>

#include "derrick/registry.h"
#include "derrick/retry.h"
#include "derrick/util.h"
#include "tap.h"

static void test_strbuf_buf_never_null(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	CHECK(sb.buf && !*sb.buf && !sb.alloc);
	sb_reset(&sb);
	CHECK_STR(sb.buf, "");
	sb_addf(&sb, "%d-%s", 7, "x");
	CHECK_STR(sb.buf, "7-x");
	sb_release(&sb);
	CHECK(sb.buf && !*sb.buf && !sb.len && !sb.alloc);
	s = sb_detach(&sb);     /* an empty strbuf still hands out a string of its own */
	CHECK_STR(s, "");
	free(s);
	CHECK(sb.buf && !*sb.buf);
}

static void test_sb_join(void)
{
	static const char *const items[] = { "a", "b", "c" };
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < 3; i++)
		sb_join(&sb, ", ", items[i]);
	CHECK_STR(sb.buf, "a, b, c");
	sb_release(&sb);
}

static void check_join(const char *a, const char *b, const char *want)
{
	char *p = dk_path_join(a, b);

	CHECK_STR(p, want);
	free(p);
}

static void test_path_join(void)
{
	check_join("a", "b", "a/b");
	check_join("a/", "/b", "a/b");
	check_join("a//", "b/c", "a/b/c");
	check_join("/", "b", "/b");
	check_join("/", "", "/");
	check_join("", "b", "b");
	check_join("a", "", "a");
	check_join("", "", "");
}

static void check_b64(const char *in, const char *want, size_t want_len)
{
	size_t len = 99;
	char *out = dk_base64_decode(in, &len);

	CHECK(out != NULL);
	if (out) {
		CHECK(len == want_len && !memcmp(out, want, len) && !out[len]);
		free(out);
	}
}

static void test_base64(void)
{
	static const char *const bad[] = { "Y", "YWJj===", "ab=c", " YWJj", "YWJj\n", "SEKRET!!", NULL };
	char *e;
	size_t len;

	e = dk_base64_encode("alice:s3cret", 12);
	CHECK_STR(e, "YWxpY2U6czNjcmV0");
	free(e);
	e = dk_base64_encode("a", 1);
	CHECK_STR(e, "YQ==");
	free(e);
	e = dk_base64_encode("", 0);
	CHECK_STR(e, "");
	free(e);
	check_b64("YWxpY2U6czNjcmV0", "alice:s3cret", 12);
	check_b64("YQ==", "a", 1);
	check_b64("YQ", "a", 1);        /* padding left off */
	check_b64("YWI=", "ab", 2);
	check_b64("YWI", "ab", 2);
	check_b64("AA==", "\0", 1);
	check_b64("", "", 0);
	for (size_t i = 0; bad[i]; i++) {
		char *out = dk_base64_decode(bad[i], &len);

		CHECK(out == NULL);
		free(out);
	}
}

static void test_tmp_path(void)
{
	char *p;

	setenv("TMPDIR", "/var/tmp/", 1);
	p = dk_tmp_path("x-XXXXXX");
	CHECK_STR(p, "/var/tmp/x-XXXXXX");
	free(p);
	setenv("TMPDIR", "", 1);
	p = dk_tmp_path("x-XXXXXX");
	CHECK_STR(p, "/tmp/x-XXXXXX");
	free(p);
	unsetenv("TMPDIR");
	p = dk_tmp_path("x-XXXXXX");
	CHECK_STR(p, "/tmp/x-XXXXXX");
	free(p);
}

/* An answer as dk_http_do leaves it: a status, maybe a Retry-After (h). */
static struct dk_http_resp answer(long status, int curl_code, struct dk_http_header *h)
{
	struct dk_http_resp r = { 0 };

	r.status = status;
	r.curl_code = curl_code;
	r.body = (struct strbuf)STRBUF_INIT;
	r.headers = h;
	r.n_headers = h ? 1 : 0;
	return r;
}

static void test_retry_policy(void)
{
	struct dk_http_header two = { "retry-after", "2" }, hour = { "retry-after", "3600" };
	struct dk_reg_opts o = { .retries = -1 };
	struct dk_http_resp r503 = answer(503, 0, NULL), r429 = answer(429, 0, &two),
			    r404 = answer(404, 0, NULL), far = answer(429, 0, &hour),
			    reset = answer(0, 56 /* CURLE_RECV_ERROR */, NULL),
			    dns = answer(0, 6 /* CURLE_COULDNT_RESOLVE_HOST */, NULL);
	int n = 0;

	while (dk_retry_delay(&o, n, &r503) >= 0)
		n++;
	CHECK(n == DK_RETRIES_DEFAULT);
	o.retries = 2;
	CHECK(dk_retry_delay(&o, 1, &r503) >= 0 && dk_retry_delay(&o, 2, &r503) < 0);
	CHECK(dk_retry_delay(&o, 0, &r429) == 2000);
	CHECK(dk_retry_delay(&o, 0, &far) == DK_RETRY_AFTER_MAX_S * 1000L);
	CHECK(dk_retry_delay(&o, 0, &r404) < 0);
	CHECK(dk_retry_delay(&o, 0, &reset) >= 0);
	CHECK(dk_retry_delay(&o, 0, &dns) < 0);
	/* backoff: half fixed, half random, doubling, capped */
	for (int i = 0; i < 20; i++) {
		long d0 = dk_retry_delay(&o, 0, NULL);
		long d1 = dk_retry_delay(&o, 1, NULL);

		CHECK(d0 >= DK_BACKOFF_MS_DEFAULT / 2 && d0 <= DK_BACKOFF_MS_DEFAULT);
		CHECK(d1 >= DK_BACKOFF_MS_DEFAULT && d1 <= 2 * DK_BACKOFF_MS_DEFAULT);
	}
	o.retries = 20;
	CHECK(dk_retry_delay(&o, 15, NULL) <= DK_BACKOFF_MAX_MS);
	o.retries = 0;
	CHECK(dk_retry_delay(&o, 0, &r503) < 0);
}

int main(void)
{
	RUN(test_strbuf_buf_never_null);
	RUN(test_sb_join);
	RUN(test_path_join);
	RUN(test_base64);
	RUN(test_tmp_path);
	RUN(test_retry_policy);
	return tap_done();
}
