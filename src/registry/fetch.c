/*
 * fetch.c - files over HTTP(S), or from file:// URLs, into the blob cache
 * or memory.  See fetch.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "derrick/fetch.h"
#include "derrick/http.h"
#include "derrick/pyindex.h"
#include "derrick/registry.h"
#include "derrick/retry.h"
#include "derrick/sink.h"
#include "derrick/util.h"

struct dk_fetch {
	struct dk_fetch_opts o;
	struct dk_reg_opts reg;         /* o.reg's, or the defaults */
	struct dk_http_tls tls;
	char *ca_bundle;
	struct dk_http *http;
};

int dk_fetch_open(const struct dk_fetch_opts *o, struct dk_fetch **out, struct dk_err *err)
{
	struct dk_fetch *f = dk_xcalloc(1, sizeof(*f));

	if (o)
		f->o = *o;
	if (f->o.reg) {
		f->reg = *f->o.reg;
	} else {
		f->reg.tls_verify = 1;
		f->reg.retries = -1;
	}
	f->tls.verify = f->reg.tls_verify;
	if (dk_http_tls_cert_dir(f->reg.cert_dir, &f->tls, &f->ca_bundle, err) < 0) {
		dk_fetch_free(f);
		return -1;
	}
	f->http = dk_http_new(&f->tls);
	*out = f;
	return 0;
}

void dk_fetch_free(struct dk_fetch *f)
{
	if (!f)
		return;
	dk_http_free(f->http);
	if (f->ca_bundle) {
		unlink(f->ca_bundle);
		free(f->ca_bundle);
	}
	free((char *)f->tls.cert_file);
	free((char *)f->tls.key_file);
	free(f);
}

static int scheme_is(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return !strncasecmp(url, scheme, n) && !strncmp(url + n, "://", 3);
}

/* The scheme policy: https always, http only with --tls-verify=false (as for registries) or allow_http. */
static int check_scheme(const struct dk_fetch *f, const char *url, int file_ok, struct dk_err *err)
{
	char *u;
	int rc = 0;

	if (scheme_is(url, "https") || (file_ok && scheme_is(url, "file")))
		return 0;
	u = dk_http_redact(url);
	if (scheme_is(url, "http")) {
		if (!f->reg.tls_verify || f->o.allow_http)
			rc = 0;
		else
			rc = dk_fail(err, DK_E_USAGE, "%s: plain HTTP is refused (use https, or --tls-verify=false "
				     "to allow it)", u);
	} else {
		rc = dk_fail(err, DK_E_USAGE, "%s: only https%s URLs can be fetched", u,
			     file_ok ? ", http and file" : " and http");
	}
	free(u);
	return rc;
}

/* An HTTP status that ends a transfer: the error naming the URL and the status. */
static int status_fail(const char *url, long status, struct dk_err *err)
{
	char *u = dk_http_redact(url);
	enum dk_code code = status == 404 || status == 410 ? DK_E_NOTFOUND :
			    status == 401 || status == 403 ? DK_E_AUTH : DK_E_REMOTE;
	int rc = dk_fail(err, code, "GET %s: HTTP %ld%s", u, status,
			 code == DK_E_AUTH ? " (credentials come from the URL or ~/.netrc)" : "");

	free(u);
	return rc;
}

/* A sink stage that fails once more than max bytes pass (a server sending more than the lock says). */
struct cap_sink {
	struct dk_sink base;
	uint64_t max, n;
	const char *what;
};

static int cap_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct cap_sink *c = (struct cap_sink *)s;

	c->n += len;
	if (c->n > c->max)
		return dk_fail(err, DK_E_CORRUPT, "%s: more than the %llu bytes expected", c->what,
			       (unsigned long long)c->max);
	return dk_sink_write(s->next, buf, len, err);
}

static int cap_close(struct dk_sink *s, struct dk_err *err)
{
	return dk_sink_close(s->next, err);
}

static void cap_free(struct dk_sink *s)
{
	free(s);
}

static const struct dk_sink_ops cap_ops = { cap_write, cap_close, cap_free };

static struct dk_sink *cap_sink(struct dk_sink *next, uint64_t max, const char *what)
{
	struct cap_sink *c = dk_xcalloc(1, sizeof(*c));

	c->base.ops = &cap_ops;
	c->base.next = next;
	c->max = max;
	c->what = what;
	return &c->base;
}

/*
 * The next URL after a redirect answer, or NULL when resp is not one.  A
 * user:password@ of the old URL is kept only on the same origin.
 */
static char *redirect_target(const char *url, const struct dk_http_resp *resp)
{
	const char *loc = dk_http_header(resp, "location");

	if (!loc || (resp->status != 301 && resp->status != 302 && resp->status != 303 &&
		     resp->status != 307 && resp->status != 308))
		return NULL;
	return dk_http_resolve(url, loc);
}

/*
 * One GET with redirects and retries.  start() is called before every
 * attempt to give the request its output (NULL: body in memory); *final is
 * the URL that answered.  0 with resp filled (a 2xx), else -1 with err set.
 */
struct attempt {
	int (*start)(void *ctx, struct dk_http_req *req, struct dk_err *err);
	void *ctx;
};

static int get(struct dk_fetch *f, const char *url, const char *const *headers, size_t max_body,
	       const struct attempt *a, struct dk_http_resp *resp, char **final, struct dk_err *err)
{
	char *cur = dk_xstrdup(url);
	int hops = 0, attempt = 0;

	for (;;) {
		struct dk_http_req req = { .method = "GET", .url = cur, .headers = headers, .body_fd = -1,
					   .max_body = max_body, .netrc = !f->o.no_netrc,
					   .netrc_file = f->o.netrc_file };
		char *next;
		long delay;
		int rc;

		if (check_scheme(f, cur, 0, err) < 0)
			break;
		if (a && a->start(a->ctx, &req, err) < 0)
			break;
		rc = dk_http_do(f->http, &req, resp, err);
		if (rc == 0 && resp->status >= 200 && resp->status < 300) {
			*final = cur;
			return 0;
		}
		if (rc == 0 && (next = redirect_target(cur, resp))) {
			dk_http_resp_release(resp);
			if (++hops > DK_FETCH_MAX_REDIRECTS) {
				char *u = dk_http_redact(url);

				dk_fail(err, DK_E_REMOTE, "GET %s: more than %d redirects", u, DK_FETCH_MAX_REDIRECTS);
				free(u);
				free(next);
				break;
			}
			free(cur);
			cur = next;
			continue;
		}
		delay = dk_retry_delay(&f->reg, attempt++, resp);
		if (delay < 0) {
			if (rc == 0)
				status_fail(cur, resp->status, err);
			dk_http_resp_release(resp);
			break;
		}
		dk_http_resp_release(resp);
		dk_sleep_ms(delay);
	}
	free(cur);
	return -1;
}

/* ---- blobs ---- */

struct blob_dl {
	const struct dk_blobs *cache;
	const char *what;               /* the redacted URL */
	int64_t size;
	int fd;
	char *tmp;
	struct dk_sink *hash, *cap, *file;
};

static void blob_dl_drop(struct blob_dl *d)
{
	dk_sink_free(d->cap);
	dk_sink_free(d->hash);
	dk_sink_free(d->file);
	d->cap = d->hash = d->file = NULL;
	dk_blobs_discard(d->fd, d->tmp);
	d->fd = -1;
	d->tmp = NULL;
}

/* Each attempt writes a new temporary file through hash (and size cap) stages. */
static int blob_dl_start(void *ctx, struct dk_http_req *req, struct dk_err *err)
{
	struct blob_dl *d = ctx;

	blob_dl_drop(d);
	d->fd = dk_blobs_tmp(d->cache, &d->tmp, err);
	if (d->fd < 0)
		return -1;
	d->file = dk_sink_fd(d->fd, d->tmp);
	d->hash = dk_sink_hash(d->file);
	d->cap = cap_sink(d->hash, d->size >= 0 ? (uint64_t)d->size : UINT64_MAX, d->what);
	req->out = d->cap;
	return 0;
}

/* file:// : the local file through the same stages. */
static int blob_dl_local(struct blob_dl *d, const char *url, struct dk_err *err)
{
	const char *path = url + strlen("file://");
	char *dec;
	int n, fd, rc;

	if (strncmp(path, "/", 1) && strncasecmp(path, "localhost/", 10))
		return dk_fail(err, DK_E_USAGE, "%s: a file URL names a local path (file:///...)", d->what);
	if (!strncasecmp(path, "localhost/", 10))
		path += 9;
	dec = curl_easy_unescape(NULL, path, 0, &n);
	if (!dec)
		dk_oom("curl_easy_unescape");
	if ((size_t)n != strlen(dec)) {
		curl_free(dec);
		return dk_fail(err, DK_E_USAGE, "%s: a NUL in the path", d->what);
	}
	fd = open(dec, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = dk_fail_errno(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_IO, "%s", dec);
		curl_free(dec);
		return rc;
	}
	curl_free(dec);
	{
		struct dk_http_req req = { 0 };

		rc = blob_dl_start(d, &req, err);
	}
	if (rc == 0)
		rc = dk_sink_write_fd(d->cap, fd, d->what, err);
	close(fd);
	return rc;
}

int dk_fetch_blob(struct dk_fetch *f, const struct dk_blobs *cache, const char *url,
		  const char sha256[DK_SHA256_HEX], int64_t size, struct dk_err *err)
{
	return dk_fetch_blob_from(f, cache, url, sha256, size, NULL, err);
}

int dk_fetch_blob_from(struct dk_fetch *f, const struct dk_blobs *cache, const char *url,
		       const char sha256[DK_SHA256_HEX], int64_t size, const char *mismatch, struct dk_err *err)
{
	char digest[DK_DIGEST_SIZE];
	struct blob_dl d = { cache, NULL, size, -1, NULL, NULL, NULL, NULL };
	struct attempt a = { blob_dl_start, &d };
	struct dk_http_resp resp;
	char *final = NULL;
	int rc;

	snprintf(digest, sizeof(digest), "sha256:%s", sha256);
	if (!dk_digest_valid(digest))
		return dk_fail(err, DK_E_INTERNAL, "dk_fetch_blob: \"%.80s\" is not a sha256", sha256);
	if (dk_blobs_has(cache, digest))
		return 0;
	d.what = dk_http_redact(url);
	if (check_scheme(f, url, 1, err) < 0) {
		rc = -1;
	} else if (scheme_is(url, "file")) {
		rc = blob_dl_local(&d, url, err);
	} else {
		rc = get(f, url, NULL, 0, &a, &resp, &final, err);
		if (rc == 0)
			dk_http_resp_release(&resp);
	}
	if (rc == 0)
		rc = dk_sink_close(d.cap, err);
	if (rc == 0) {
		const char *got = dk_sink_hash_digest(d.hash);
		uint64_t n = dk_sink_hash_size(d.hash);

		if (size >= 0 && n != (uint64_t)size && mismatch)
			rc = dk_fail(err, DK_E_CORRUPT, "%s: %s: %llu bytes, expected %lld", d.what, mismatch,
				     (unsigned long long)n, (long long)size);
		else if (size >= 0 && n != (uint64_t)size)
			rc = dk_fail(err, DK_E_CORRUPT, "%s: %llu bytes, the lock says %lld: not the locked file",
				     d.what, (unsigned long long)n, (long long)size);
		else if (strcmp(got, digest) && mismatch)
			rc = dk_fail(err, DK_E_CORRUPT, "%s: %s: sha256 %s, expected %s", d.what, mismatch,
				     dk_digest_hex(got), sha256);
		else if (strcmp(got, digest))
			rc = dk_fail(err, DK_E_CORRUPT, "%s: sha256 %s, the lock says %s: not the locked file",
				     d.what, dk_digest_hex(got), sha256);
	}
	if (rc == 0) {
		rc = dk_blobs_commit(cache, d.fd, d.tmp, digest, err);
		d.fd = -1;
		d.tmp = NULL;
	}
	blob_dl_drop(&d);
	free((char *)d.what);
	free(final);
	return rc;
}

/* ---- bodies in memory ---- */

int dk_fetch_mem(struct dk_fetch *f, const char *url, const char *accept, size_t max, char **body, size_t *len,
		 char **content_type, char **final_url, struct dk_err *err)
{
	char *accept_h = accept ? dk_xasprintf("Accept: %s", accept) : NULL;
	const char *headers[] = { accept_h, NULL };
	struct dk_http_resp resp;
	const char *ct;
	char *final = NULL;
	int rc;

	*body = NULL;
	*len = 0;
	if (content_type)
		*content_type = NULL;
	if (final_url)
		*final_url = NULL;
	rc = get(f, url, accept_h ? headers : NULL, max, NULL, &resp, &final, err);
	free(accept_h);
	if (rc < 0)
		return -1;
	if (resp.status != 200 || resp.body_truncated) {
		char *u = dk_http_redact(final);

		if (resp.body_truncated)
			rc = dk_fail(err, DK_E_REMOTE, "GET %s: larger than %zu bytes", u, max);
		else
			rc = dk_fail(err, DK_E_REMOTE, "GET %s: HTTP %ld, expected 200", u, resp.status);
		free(u);
		free(final);
		dk_http_resp_release(&resp);
		return rc;
	}
	ct = dk_http_header(&resp, "content-type");
	if (content_type)
		*content_type = ct ? dk_xstrdup(ct) : NULL;
	*len = resp.body.len;
	*body = resp.body.len ? sb_detach(&resp.body) : dk_xstrdup("");
	if (final_url)
		*final_url = final;
	else
		free(final);
	dk_http_resp_release(&resp);
	return 0;
}

int dk_fetch_page(struct dk_fetch *f, const char *url, const char *accept, char **body, size_t *len,
		  char **content_type, char **final_url, struct dk_err *err)
{
	return dk_fetch_mem(f, url, accept, DK_PYINDEX_MAX_PAGE, body, len, content_type, final_url, err);
}
