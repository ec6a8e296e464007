/*
 * http.h - one HTTP exchange at a time over libcurl.
 *
 * This layer knows nothing of registries: it sends a request (body from
 * memory or from a file range), collects the status and headers, and puts
 * the response body in memory or into a sink.  It never follows redirects
 * and never retries: the registry layer decides both, because only it
 * knows which headers may travel to another host and how to restart a
 * half-done transfer.
 */
#ifndef DERRICK_HTTP_H
#define DERRICK_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "derrick/err.h"
#include "derrick/sink.h"
#include "derrick/util.h"

struct dk_http_tls {
	int verify;             /* 0: accept any certificate (--tls-verify=false) */
	const char *ca_file;    /* extra CA bundle (from --cert-dir), or NULL */
	const char *cert_file;  /* client certificate, or NULL */
	const char *key_file;
};

struct dk_http_req {
	const char *method;             /* GET HEAD PUT POST PATCH DELETE */
	const char *url;
	const char *const *headers;     /* "Name: value" lines, NULL-terminated, or NULL */
	/* body: from memory ... */
	const void *body;
	size_t body_len;
	/* ... or from a file range (body_fd >= 0) */
	int body_fd;
	uint64_t body_off, body_size;
	int has_body;                   /* send a body (possibly empty) */
	/* response body: into `out` when set, else kept in memory up to max_body */
	struct dk_sink *out;
	size_t max_body;
	/* credentials for the URL's host from a netrc file (libcurl reads it): ~/.netrc, or netrc_file */
	int netrc;
	const char *netrc_file;
	/* progress: called with bytes sent/received so far */
	void (*progress)(void *ctx, uint64_t now);
	void *progress_ctx;
};

struct dk_http_header {
	char *name;                     /* lower-cased */
	char *value;
};

struct dk_http_resp {
	long status;                    /* 0 when no response arrived */
	char *method, *url;             /* the request answered (copies), when an answer arrived */
	int curl_code;                  /* CURLE_* of a transport failure */
	struct dk_http_header *headers;
	size_t n_headers;
	struct strbuf body;
	int body_truncated;             /* the body went past max_body */
	int sink_failed;                /* writing into out failed (err says why) */
};

/*
 * --cert-dir DIR as skopeo reads it: every *.crt is a CA added to the
 * system's (in a temporary bundle: CAINFO replaces the system store), and
 * NAME.cert with NAME.key is a client certificate.  Fills tls->ca_file with
 * the bundle's path, also given in *bundle_path (the caller unlinks and
 * frees it; left alone when DIR has no CA), and tls->cert_file and
 * tls->key_file (new strings the caller frees; left alone when set or
 * absent).  dir NULL: nothing to do.
 */
int dk_http_tls_cert_dir(const char *dir, struct dk_http_tls *tls, char **bundle_path, struct dk_err *err);

struct dk_http;

struct dk_http *dk_http_new(const struct dk_http_tls *tls);
void dk_http_free(struct dk_http *h);

/*
 * Perform one request.  Returns 0 when a response arrived (any status),
 * -1 on a transport failure (connection refused, TLS, DNS...) with err
 * set and resp->curl_code filled, so callers can tell transient ones.
 */
int dk_http_do(struct dk_http *h, const struct dk_http_req *req, struct dk_http_resp *resp,
	       struct dk_err *err);
void dk_http_resp_release(struct dk_http_resp *resp);

/*
 * The first header called `name` (lower case), or NULL: for headers that
 * come once (Location, Content-Type, Retry-After...).  The value belongs to
 * resp.
 */
const char *dk_http_header(const struct dk_http_resp *resp, const char *name);

/*
 * Every header called `name` (lower case), in the order they came, for
 * headers that may repeat (WWW-Authenticate): start with *pos = 0; each
 * call returns the next value (owned by resp) and moves *pos past it, NULL
 * after the last.
 */
const char *dk_http_header_next(const struct dk_http_resp *resp, const char *name, size_t *pos);

/*
 * An HTTP date in any of the three forms RFC 9110 accepts (IMF-fixdate
 * "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850, asctime) into *t (Unix
 * seconds).  0, or -1 when s is not a date.
 */
int dk_http_date(const char *s, time_t *t);

/* 1 when a transport failure is worth retrying (reset, timeout...), 0 for DNS or TLS errors. */
int dk_http_transient(int curl_code);

/* Resolve a (possibly relative) Location against the URL it answered. */
char *dk_http_resolve(const char *base, const char *location);

/*
 * A URL as messages and logs may show it (new string): without its query
 * and fragment (upload state, signed tokens) and with any user:password@
 * replaced by "***@", so a credential given in the URL is never printed.
 */
char *dk_http_redact(const char *url);

/* The "scheme://host[:port]" part of an absolute URL (new string). */
char *dk_http_origin(const char *url);

#endif
