/*
 * retry.h - the one retry policy of every registry request: which failures
 * are worth another try, how many tries, and how long to wait before each.
 * dk_reg_do retries whole requests with it; a chunked upload resumes broken
 * chunks and restarts whole uploads with it.
 */
#ifndef DERRICK_RETRY_H
#define DERRICK_RETRY_H

#include "derrick/http.h"

#define DK_RETRIES_DEFAULT 4            /* retries after the first attempt */
#define DK_BACKOFF_MS_DEFAULT 200       /* the first retry's delay, doubling with each ... */
#define DK_BACKOFF_MAX_MS 10000         /* ... up to this */
#define DK_RETRY_AFTER_MAX_S 60         /* a longer Retry-After is cut to this */

struct dk_reg_opts;

/*
 * 1 when a request that ended with resp is worth another try: a transient
 * transport failure (see dk_http_transient; not when our own sink failed),
 * 429 or a 5xx.  0 otherwise, a 4xx above all.
 */
int dk_retry_transient(const struct dk_http_resp *resp);

/*
 * Milliseconds to wait before retry number `attempt` (0 for the first) of a
 * request that ended with resp, or -1 when there is no retry: resp is not
 * worth one (dk_retry_transient), or o's retries (o->retries, < 0:
 * DK_RETRIES_DEFAULT) are used up.  resp NULL: a failure the caller already
 * judged worth a retry.  A Retry-After is honoured, up to
 * DK_RETRY_AFTER_MAX_S, in seconds or as an HTTP date (any of RFC 9110's
 * three forms, counted from the answer's Date when it has one; a date past
 * means now); otherwise, or when it cannot be read, the delay doubles from
 * o->backoff_ms (<= 0: DK_BACKOFF_MS_DEFAULT) up to DK_BACKOFF_MAX_MS, with
 * jitter so parallel transfers do not retry in lockstep.
 */
long dk_retry_delay(const struct dk_reg_opts *o, int attempt, const struct dk_http_resp *resp);

/* Sleep for ms milliseconds, resumed after signals. */
void dk_sleep_ms(long ms);

#endif
