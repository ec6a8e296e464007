/*
 * fetch.h - downloads by URL that are not registry requests (wheels and
 * their index pages, Debian mirrors): a file into the blob cache, verified
 * by sha256 (and size) before it becomes visible, or a bounded body into
 * memory.
 *
 * Transfers go through libcurl (http.h) with the registry flags' TLS
 * options and retry policy (registry.h's struct dk_reg_opts: --tls-verify,
 * --cert-dir, --retries): https always; plain http:// only with
 * --tls-verify=false, as for registries, or allow_http; file:// read directly.  Redirects
 * are followed (at most DK_FETCH_MAX_REDIRECTS; a user:password in the URL
 * does not travel to another host).  Credentials come from the URL's
 * userinfo or from ~/.netrc (libcurl reads it, per host).  Messages never
 * show a credential: URLs in them are redacted (dk_http_redact).
 */
#ifndef DERRICK_FETCH_H
#define DERRICK_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/blobs.h"
#include "derrick/digest.h"
#include "derrick/err.h"

#define DK_FETCH_MAX_REDIRECTS 10

struct dk_reg_opts;

struct dk_fetch_opts {
	const struct dk_reg_opts *reg;  /* TLS and retries; NULL: verify TLS, default retries */
	int no_netrc;                   /* do not read ~/.netrc */
	const char *netrc_file;         /* another netrc than ~/.netrc, or NULL */
	/*
	 * Plain http:// is fine without --tls-verify=false: what is fetched is
	 * trusted through a digest from a signed index (a Debian mirror, which
	 * apt reads over http too), not through the connection.
	 */
	int allow_http;
};

struct dk_fetch;

/* A download session (keeps connections between transfers); one thread at a time. */
int dk_fetch_open(const struct dk_fetch_opts *o, struct dk_fetch **out, struct dk_err *err);
void dk_fetch_free(struct dk_fetch *f);

/*
 * Make the file at url (http, https, file) the blob "sha256:<sha256>" of
 * cache.  Already there: nothing is fetched.  Otherwise it is downloaded
 * into a temporary file of the cache, checked against size (bytes; -1:
 * unknown) and sha256 (64 lower-case hex), and renamed into place only
 * when both match, so the cache never holds a wrong or partial file.
 * Transient failures (connection errors, 429, 5xx) are retried as for
 * registries.  Errors name the URL (redacted) and the HTTP status
 * ("GET https://host/x.whl: HTTP 404"; DK_E_NOTFOUND for 404 and 410,
 * DK_E_AUTH for 401 and 403, DK_E_REMOTE otherwise) or the mismatch
 * (DK_E_CORRUPT).
 */
int dk_fetch_blob(struct dk_fetch *f, const struct dk_blobs *cache, const char *url,
		  const char sha256[DK_SHA256_HEX], int64_t size, struct dk_err *err);
/*
 * dk_fetch_blob for a file pinned by something else than a lock: a
 * mismatch says "URL: MISMATCH: sha256 GOT, expected WANT" (or the sizes),
 * MISMATCH naming what pinned it ("main/binary-amd64/Packages.xz does not
 * match URL/InRelease"); NULL: the lock's wording, as dk_fetch_blob.
 */
int dk_fetch_blob_from(struct dk_fetch *f, const struct dk_blobs *cache, const char *url,
		       const char sha256[DK_SHA256_HEX], int64_t size, const char *mismatch, struct dk_err *err);

/*
 * GET url (http or https) into memory, following redirects and retrying
 * as dk_fetch_blob does; accept is the Accept header's value, or NULL for
 * none.  On success *body (len bytes, NUL-terminated), and when asked for
 * (not NULL) *content_type (NULL when the server sent none) and *final_url
 * (the URL that answered, which relative links are resolved against; it
 * may hold the userinfo given) are new strings for the caller.  A body
 * larger than max bytes is an error (DK_E_REMOTE); so is any status but
 * 200, named as for dk_fetch_blob.
 */
int dk_fetch_mem(struct dk_fetch *f, const char *url, const char *accept, size_t max, char **body, size_t *len,
		 char **content_type, char **final_url, struct dk_err *err);

/* A simple-index page: dk_fetch_mem with at most DK_PYINDEX_MAX_PAGE bytes (pyindex.h's DK_PYINDEX_ACCEPT). */
int dk_fetch_page(struct dk_fetch *f, const char *url, const char *accept, char **body, size_t *len,
		  char **content_type, char **final_url, struct dk_err *err);

#endif
