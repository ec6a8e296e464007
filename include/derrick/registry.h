/*
 * registry.h - talking to one registry over the OCI distribution API:
 * choosing https or http, authenticating (Basic, or the Bearer token flow
 * with tokens cached per scope), retrying what is worth retrying, and
 * turning the registry's error answers into one readable line.
 */
#ifndef DERRICK_REGISTRY_H
#define DERRICK_REGISTRY_H

#include <stdint.h>

#include "derrick/creds.h"
#include "derrick/err.h"
#include "derrick/http.h"
#include "derrick/retry.h"

struct dk_reg_opts {
	struct dk_creds_opts creds;
	int tls_verify;         /* 0: no certificate checks, and plain HTTP allowed */
	const char *cert_dir;   /* CA files (.crt), a client pair (.cert + .key) */
	/* the retry policy's knobs (retry.h) */
	int retries;            /* retries after the first attempt; < 0: DK_RETRIES_DEFAULT */
	int backoff_ms;         /* first retry delay; <= 0: DK_BACKOFF_MS_DEFAULT */
};

struct dk_registry;

/*
 * Open `registry` (host[:port] as written in references) reached at
 * `endpoint`, checking that /v2/ answers: the probe also learns whether
 * and how it wants authentication.
 */
int dk_registry_open(const char *registry, const char *endpoint, const struct dk_reg_opts *o,
		     struct dk_registry **out, struct dk_err *err);
void dk_registry_free(struct dk_registry *r);
/* "https://host:port" or "http://host:port" as probed. */
const char *dk_registry_base(const struct dk_registry *r);
const char *dk_registry_name(const struct dk_registry *r);

struct dk_reg_call {
	const char *method;
	const char *path;       /* "/v2/..." or an absolute URL (an upload Location) */
	const char *scope;      /* token scopes, space separated: "repository:a:pull,push repository:b:pull" */
	const char *const *headers;
	struct dk_http_req body; /* only the body and output fields are used */
	int no_retry;           /* the caller handles failures itself (chunk uploads) */
	/* called before a retry when the output went to a sink, to start it over */
	int (*rewind)(void *ctx, struct dk_err *err);
	void *rewind_ctx;
	/* the connection to use (parallel transfers each have one); NULL: the registry's own */
	struct dk_http *http;
};

/*
 * Perform a call with authentication, redirects (GET/HEAD; the
 * Authorization header never goes to another host) and retries as the
 * retry policy says (retry.h: connection errors, 429 and 5xx).  0 when an
 * answer arrived (check its status); -1 with err set otherwise, resp then
 * released but its curl_code and status kept (see dk_retry_transient).
 * Safe to call from several threads when each passes its own `http`.
 */
int dk_reg_do(struct dk_registry *r, const struct dk_reg_call *call, struct dk_http_resp *resp,
	      struct dk_err *err);

/* The longest token lifetime believed, in seconds (a day): tokens live for minutes. */
#define DK_TOKEN_TTL_MAX 86400
/*
 * Read a token server's answer (JSON; RFC 6750 and the distribution token
 * spec): 0 with *token the "token", else the "access_token" (a new string,
 * non-empty), and *ttl its "expires_in" in seconds, 60 when absent or not
 * a positive integer, at most DK_TOKEN_TTL_MAX; or -1 with DK_E_AUTH and
 * *token NULL.  The message never quotes the answer (it holds secrets).
 */
int dk_reg_token_answer(const char *body, size_t len, char **token, int64_t *ttl, struct dk_err *err);

/*
 * Describe a failed answer in one line: "WHAT: HTTP 404 MANIFEST_UNKNOWN:
 * manifest unknown" (the registry's error code and message when it sent
 * some), and for a 401 or 403 what it means, from its challenges and what
 * we sent: no credentials, credentials refused, an account lacking pull or
 * push permission on a repository (403, or a Bearer error
 * "insufficient_scope"), or only schemes derrick does not speak.
 * Returns -1.
 */
int dk_reg_fail(const struct dk_registry *r, const struct dk_http_resp *resp, const char *what,
		struct dk_err *err);

/*
 * Check that the credentials are accepted: an authenticated GET /v2/
 * (through the token server when the registry uses one) must answer 200.
 */
int dk_registry_check_auth(struct dk_registry *r, struct dk_err *err);

/* A fresh dk_http with this registry's TLS settings (for parallel transfers). */
struct dk_http *dk_registry_http(const struct dk_registry *r);

#endif
