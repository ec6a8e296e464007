/*
 * test_retry.c - the retry policy: which answers are retried, and how long
 * dk_retry_delay waits, Retry-After in seconds and as an HTTP date in each
 * of RFC 9110's three forms included.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "derrick/registry.h"
#include "derrick/retry.h"
#include "derrick/util.h"
#include "tap.h"

static struct dk_reg_opts opts = { .retries = 4, .backoff_ms = 100 };

static void add_header(struct dk_http_resp *resp, const char *name, const char *value)
{
	resp->headers = dk_xrealloc(resp->headers, (resp->n_headers + 1) * sizeof(*resp->headers));
	resp->headers[resp->n_headers].name = dk_xstrdup(name);
	resp->headers[resp->n_headers++].value = dk_xstrdup(value);
}

/* The delay for the first retry of an answer `status` with these headers (NULL: absent). */
static long delay_for(long status, const char *retry_after, const char *date)
{
	struct dk_http_resp resp;
	long d;

	memset(&resp, 0, sizeof(resp));
	resp.status = status;
	if (date)
		add_header(&resp, "date", date);
	if (retry_after)
		add_header(&resp, "retry-after", retry_after);
	d = dk_retry_delay(&opts, 0, &resp);
	dk_http_resp_release(&resp);
	return d;
}

/* t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
static char *imf(time_t t)
{
	struct tm tm;
	char buf[64];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	return dk_xstrdup(buf);
}

static void test_seconds(void)
{
	CHECK(delay_for(429, "5", NULL) == 5000);
	CHECK(delay_for(429, "0", NULL) == 0);
	CHECK(delay_for(503, "1", NULL) == 1000);
	CHECK(delay_for(429, "3600", NULL) == DK_RETRY_AFTER_MAX_S * 1000L);
	CHECK(delay_for(429, "99999999999999999999999999", NULL) == DK_RETRY_AFTER_MAX_S * 1000L);
}

/* The three date forms, counted from the answer's own Date (the server's clock). */
static void test_http_dates(void)
{
	const char *date = "Sun, 06 Nov 1994 08:49:37 GMT";

	CHECK(delay_for(429, "Sun, 06 Nov 1994 08:50:07 GMT", date) == 30000);        /* IMF-fixdate */
	CHECK(delay_for(429, "Sunday, 06-Nov-94 08:49:49 GMT", date) == 12000);       /* RFC 850 */
	CHECK(delay_for(429, "Sun Nov  6 08:49:44 1994", date) == 7000);              /* asctime */
	CHECK(delay_for(503, "Sun, 06 Nov 1994 08:49:40 GMT", date) == 3000);
	/* capped as the seconds form is */
	CHECK(delay_for(429, "Sun, 06 Nov 1994 10:00:00 GMT", date) == DK_RETRY_AFTER_MAX_S * 1000L);
	/* a date past, or now: retry now */
	CHECK(delay_for(429, "Sun, 06 Nov 1994 08:00:00 GMT", date) == 0);
	CHECK(delay_for(429, date, date) == 0);
}

/* Without a Date header, the date counts from our clock. */
static void test_date_without_date_header(void)
{
	time_t now = time(NULL);
	char *in20 = imf(now + 20), *past = imf(now - 3600), *far = imf(now + 86400);
	long d = delay_for(429, in20, NULL);

	/* counted to the millisecond from our clock (a second may tick between formatting and reading it) */
	CHECK(d > 18500 && d <= 20000);
	CHECK(delay_for(429, past, NULL) == 0);
	CHECK(delay_for(429, far, NULL) == DK_RETRY_AFTER_MAX_S * 1000L);
	/* an unusable Date header is ignored, not trusted */
	d = delay_for(429, in20, "yesterday-ish");
	CHECK(d > 18500 && d <= 20000);
	free(in20);
	free(past);
	free(far);
}

/* What cannot be read falls back to the backoff, never to a flat wait. */
static void test_unreadable(void)
{
	const char *bad[] = { "soon", "-5", "", "1.5", "Sun, 99 Foo 1994 08:49:37 GMT" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		long d = delay_for(429, bad[i], NULL);

		if (!(d >= 50 && d <= 100))
			printf("#   Retry-After \"%s\": %ld ms\n", bad[i], d);
		CHECK(d >= 50 && d <= 100);
	}
	/* no Retry-After: the backoff, half fixed half random, doubling */
	CHECK(delay_for(429, NULL, NULL) >= 50 && delay_for(429, NULL, NULL) <= 100);
}

/* Only transient answers are retried, Retry-After or not; and only so many times. */
static void test_what_is_retried(void)
{
	struct dk_http_resp resp;

	CHECK(delay_for(404, "1", NULL) == -1);
	CHECK(delay_for(401, "Sun, 06 Nov 1994 08:50:07 GMT", NULL) == -1);
	CHECK(delay_for(500, NULL, NULL) >= 0);
	memset(&resp, 0, sizeof(resp));
	resp.status = 429;
	add_header(&resp, "retry-after", "2");
	CHECK(dk_retry_delay(&opts, 3, &resp) == 2000);
	CHECK(dk_retry_delay(&opts, 4, &resp) == -1);
	dk_http_resp_release(&resp);
	/* a failure the caller judged worth retrying: the backoff, up to its maximum */
	CHECK(dk_retry_delay(&opts, 1, NULL) >= 100 && dk_retry_delay(&opts, 1, NULL) <= 200);
	{
		struct dk_reg_opts many = { .retries = 20, .backoff_ms = 100 };
		long d = dk_retry_delay(&many, 15, NULL);

		CHECK(d >= DK_BACKOFF_MAX_MS / 2 && d <= DK_BACKOFF_MAX_MS);
	}
}

int main(void)
{
	RUN(test_seconds);
	RUN(test_http_dates);
	RUN(test_date_without_date_header);
	RUN(test_unreadable);
	RUN(test_what_is_retried);
	return tap_done();
}
