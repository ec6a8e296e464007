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

long dk_retry_delay(const struct dk_reg_opts *o, int attempt, const struct dk_http_resp *resp)
{
	int retries = o->retries >= 0 ? o->retries : DK_RETRIES_DEFAULT;
	long base = o->backoff_ms > 0 ? o->backoff_ms : DK_BACKOFF_MS_DEFAULT;
	const char *ra = resp ? dk_http_header(resp, "retry-after") : NULL;
	long d;

	if (attempt >= retries || (resp && !dk_retry_transient(resp)))
		return -1;
	if (ra) {
		char *end;
		long secs = strtol(ra, &end, 10);

		if (end != ra && secs >= 0)
			return (secs > DK_RETRY_AFTER_MAX_S ? DK_RETRY_AFTER_MAX_S : secs) * 1000;
		/* an HTTP date: honour it roughly by waiting the longest backoff */
		return DK_BACKOFF_MAX_MS;
	}
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
