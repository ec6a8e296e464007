/*
 * retry.c - when and how long to wait before trying a registry request
 * again.  See retry.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "derrick/registry.h"
#include "derrick/retry.h"

int dk_retry_transient(const struct dk_http_resp *resp)
{
	if (resp->curl_code)
		return !resp->sink_failed && dk_http_transient(resp->curl_code);
	return resp->status == 429 || resp->status >= 500;
}

/*
 * Milliseconds to wait that a Retry-After asks for (RFC 9110 §10.2.3:
 * delay-seconds or an HTTP-date), capped at DK_RETRY_AFTER_MAX_S; -1 when
 * there is none that can be read.
 */
static long retry_after_ms(const struct dk_http_resp *resp)
{
	const long max = DK_RETRY_AFTER_MAX_S * 1000L;
	const char *ra = dk_http_header(resp, "retry-after"), *p;
	const char *date;
	time_t when, sent;
	long secs = 0, ms;

	if (!ra)
		return -1;
	for (p = ra; *p >= '0' && *p <= '9'; p++)
		secs = secs > DK_RETRY_AFTER_MAX_S ? secs : secs * 10 + (*p - '0');
	if (p != ra && !*p)
		return secs > DK_RETRY_AFTER_MAX_S ? max : secs * 1000;
	if (dk_http_date(ra, &when) < 0)
		return -1;
	/* the date is on the server's clock: count from its Date when it sent one, else to the ms from ours */
	date = dk_http_header(resp, "date");
	if (date && dk_http_date(date, &sent) == 0) {
		ms = when - sent > DK_RETRY_AFTER_MAX_S ? max : (long)(when - sent) * 1000;
	} else {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		ms = when - now.tv_sec > DK_RETRY_AFTER_MAX_S ? max :
		     (long)(when - now.tv_sec) * 1000 - now.tv_nsec / 1000000;
	}
	return ms < 0 ? 0 : ms > max ? max : ms;
}

long dk_retry_delay(const struct dk_reg_opts *o, int attempt, const struct dk_http_resp *resp)
{
	int retries = o->retries >= 0 ? o->retries : DK_RETRIES_DEFAULT;
	long base = o->backoff_ms > 0 ? o->backoff_ms : DK_BACKOFF_MS_DEFAULT;
	long d;

	if (attempt >= retries || (resp && !dk_retry_transient(resp)))
		return -1;
	if (resp && (d = retry_after_ms(resp)) >= 0)
		return d;
	d = base << (attempt < 10 ? attempt : 10);
	if (d > DK_BACKOFF_MAX_MS)
		d = DK_BACKOFF_MAX_MS;
	/* half fixed, half random: parallel uploads spread out */
	return d / 2 + (long)(random() % (d / 2 + 1));
}

void dk_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
