/*
 * http.c - a thin layer over a libcurl easy handle.  See http.h.
 *
 * One handle per dk_http keeps connections (and TLS sessions) alive
 * between requests to the same registry.  A dk_http is used by one thread
 * at a time; parallel uploads each get their own.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "derrick/http.h"

struct dk_http {
	CURL *curl;
	struct dk_http_tls tls;
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct dk_http *dk_http_new(const struct dk_http_tls *tls)
{
	struct dk_http *h = dk_xcalloc(1, sizeof(*h));

	pthread_once(&global_once, global_init);
	h->curl = curl_easy_init();
	if (!h->curl)
		dk_oom("curl_easy_init");       /* it fails for want of memory (or of a TLS library) */
	if (tls)
		h->tls = *tls;
	else
		h->tls.verify = 1;
	return h;
}

void dk_http_free(struct dk_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

struct xfer {
	const struct dk_http_req *req;
	struct dk_http_resp *resp;
	struct dk_err *err;
	uint64_t sent;
};

static size_t read_body(char *buf, size_t size, size_t nitems, void *data)
{
	struct xfer *x = data;
	const struct dk_http_req *r = x->req;
	size_t want = size * nitems;
	uint64_t total = r->body_fd >= 0 ? r->body_size : r->body_len;
	uint64_t left = total - x->sent;

	if (want > left)
		want = (size_t)left;
	if (!want)
		return 0;
	if (r->body_fd >= 0) {
		ssize_t n;

		do
			n = pread(r->body_fd, buf, want, (off_t)(r->body_off + x->sent));
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)n;
	} else {
		memcpy(buf, (const char *)r->body + x->sent, want);
	}
	x->sent += want;
	return want;
}

static size_t write_body(char *buf, size_t size, size_t nitems, void *data)
{
	struct xfer *x = data;
	size_t n = size * nitems;

	if (x->req->out) {
		/* only a successful answer's body is content; an error's is kept to read its message */
		if (x->resp->status >= 200 && x->resp->status < 300) {
			if (dk_sink_write(x->req->out, buf, n, x->err) < 0) {
				x->resp->sink_failed = 1;
				return 0;
			}
			return n;
		}
	}
	if (x->resp->body.len + n > (x->req->max_body ? x->req->max_body : 65536)) {
		x->resp->body_truncated = 1;
		return 0;
	}
	sb_add(&x->resp->body, buf, n);
	return n;
}

static void clear_headers(struct dk_http_resp *resp)
{
	for (size_t i = 0; i < resp->n_headers; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->headers);
	resp->headers = NULL;
	resp->n_headers = 0;
}

static size_t read_header(char *buf, size_t size, size_t nitems, void *data)
{
	struct xfer *x = data;
	size_t n = size * nitems, len = n;
	struct dk_http_resp *resp = x->resp;
	const char *colon;
	struct dk_http_header *hd;

	while (len && (buf[len - 1] == '\r' || buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	/* a new status line starts a new header block (after a 100 Continue) */
	if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
		clear_headers(resp);
		resp->status = strtol(memchr(buf, ' ', len) ? (char *)memchr(buf, ' ', len) + 1 : buf, NULL, 10);
		return n;
	}
	/* an obsolete folded line continues the previous header's value (RFC 9112 §5.2) */
	if (len && (buf[0] == ' ' || buf[0] == '\t') && resp->n_headers) {
		size_t skip = 0;
		char *v;

		while (buf[skip] == ' ' || buf[skip] == '\t')
			skip++;
		hd = &resp->headers[resp->n_headers - 1];
		v = dk_xasprintf("%s %.*s", hd->value, (int)(len - skip), buf + skip);
		free(hd->value);
		hd->value = v;
		return n;
	}
	colon = memchr(buf, ':', len);
	if (!colon)
		return n;
	resp->headers = dk_xrealloc(resp->headers, (resp->n_headers + 1) * sizeof(*resp->headers));
	hd = &resp->headers[resp->n_headers++];
	hd->name = dk_xstrndup(buf, (size_t)(colon - buf));
	for (char *p = hd->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	colon++;
	while (colon < buf + len && (*colon == ' ' || *colon == '\t'))
		colon++;
	hd->value = dk_xstrndup(colon, (size_t)(buf + len - colon));
	return n;
}

static int on_progress(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = data;

	(void)dltotal;
	(void)ultotal;
	if (x->req->progress)
		x->req->progress(x->req->progress_ctx, (uint64_t)(ulnow > dlnow ? ulnow : dlnow));
	return 0;
}

char *dk_http_redact(const char *url)
{
	size_t n = strcspn(url, "?#");
	const char *host = strstr(url, "://"), *at;

	host = host && (size_t)(host - url) < n ? host + 3 : url;
	at = memchr(host, '@', (size_t)(url + n - host));
	/* userinfo ends at the last '@' before the path */
	if (at && at < host + strcspn(host, "/?#")) {
		const char *last = at;

		while ((at = memchr(last + 1, '@', (size_t)(host + strcspn(host, "/?#") - last - 1))))
			last = at;
		return dk_xasprintf("%.*s***%.*s", (int)(host - url), url, (int)(url + n - last), last);
	}
	return dk_xstrndup(url, n);
}

static void set_tls(struct dk_http *h)
{
	CURL *c = h->curl;

	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, h->tls.verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, h->tls.verify ? 2L : 0L);
	if (h->tls.ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->tls.ca_file);
	if (h->tls.cert_file)
		curl_easy_setopt(c, CURLOPT_SSLCERT, h->tls.cert_file);
	if (h->tls.key_file)
		curl_easy_setopt(c, CURLOPT_SSLKEY, h->tls.key_file);
}

int dk_http_do(struct dk_http *h, const struct dk_http_req *req, struct dk_http_resp *resp,
	       struct dk_err *err)
{
	struct xfer x = { req, resp, err, 0 };
	struct curl_slist *hl = NULL;
	CURL *c = h->curl;
	CURLcode rc;
	int upload = req->has_body;

	memset(resp, 0, sizeof(*resp));
	resp->body = (struct strbuf)STRBUF_INIT;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "derrick/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a transfer that stalls (under 1 byte/s for a minute) is a failure to retry */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	set_tls(h);
	if (req->netrc) {
		curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
		if (req->netrc_file)
			curl_easy_setopt(c, CURLOPT_NETRC_FILE, req->netrc_file);
	}
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, read_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
		upload = 1;
	}
	if (upload) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(req->body_fd >= 0 ? req->body_size : req->body_len));
		/* no "Expect: 100-continue" round trip: registries answer directly */
		hl = curl_slist_append(hl, "Expect:");
	}
	for (const char *const *p = req->headers; p && *p; p++)
		hl = curl_slist_append(hl, *p);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	h->errbuf[0] = '\0';
	rc = curl_easy_perform(c);
	curl_slist_free_all(hl);
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && resp->body_truncated)) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		resp->method = dk_xstrdup(req->method);
		resp->url = dk_xstrdup(req->url);
		return 0;
	}
	resp->curl_code = (int)rc;
	if (resp->sink_failed)
		return -1;      /* err already says what the sink hit */
	{
		char *u = dk_http_redact(req->url);

		dk_fail(err, rc == CURLE_COULDNT_RESOLVE_HOST ? DK_E_NOTFOUND : DK_E_IO, "%s %s: %s",
			req->method, u, h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
		free(u);
	}
	return -1;
}

void dk_http_resp_release(struct dk_http_resp *resp)
{
	clear_headers(resp);
	free(resp->method);
	free(resp->url);
	resp->method = resp->url = NULL;
	sb_release(&resp->body);
}

const char *dk_http_header_next(const struct dk_http_resp *resp, const char *name, size_t *pos)
{
	for (size_t i = *pos; i < resp->n_headers; i++)
		if (!strcmp(resp->headers[i].name, name)) {
			*pos = i + 1;
			return resp->headers[i].value;
		}
	*pos = resp->n_headers;
	return NULL;
}

const char *dk_http_header(const struct dk_http_resp *resp, const char *name)
{
	size_t pos = 0;

	return dk_http_header_next(resp, name, &pos);
}

int dk_http_date(const char *s, time_t *t)
{
	/* curl_getdate reads all three forms (and a few more, harmlessly) */
	time_t v = curl_getdate(s, NULL);

	if (v == -1)
		return -1;
	*t = v;
	return 0;
}

int dk_http_transient(int code)
{
	switch (code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_SEND_FAIL_REWIND:    /* a reused connection dropped under a body we stream */
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

char *dk_http_origin(const char *url)
{
	const char *p = strstr(url, "://");
	size_t n;

	if (!p)
		return dk_xstrdup("");
	p += 3;
	n = strcspn(p, "/?#");
	return dk_xstrndup(url, (size_t)(p - url) + n);
}

char *dk_http_resolve(const char *base, const char *loc)
{
	char *origin, *out;

	if (strstr(loc, "://"))
		return dk_xstrdup(loc);
	origin = dk_http_origin(base);
	if (loc[0] == '/') {
		out = dk_xasprintf("%s%s", origin, loc);
	} else {
		/* relative to the base's directory: rare for registries, but legal */
		const char *q = base + strcspn(base, "?#");
		const char *slash = q;

		while (slash > base && slash[-1] != '/')
			slash--;
		out = dk_xasprintf("%.*s%s", (int)(slash - base), base, loc);
	}
	free(origin);
	return out;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

int dk_http_tls_cert_dir(const char *dir, struct dk_http_tls *tls, char **bundle_path, struct dk_err *err)
{
	struct strbuf bundle = STRBUF_INIT;
	DIR *d;
	struct dirent *de;
	int n_ca = 0;

	if (!dir)
		return 0;
	d = opendir(dir);
	if (!d)
		return dk_fail_errno(err, DK_E_NOTFOUND, "--cert-dir %s", dir);
	while ((de = readdir(d))) {
		char *p = dk_path_join(dir, de->d_name);

		if (has_suffix(de->d_name, ".crt")) {
			char *pem;
			size_t len;

			if (dk_read_file(p, 1 << 22, &pem, &len, err) < 0) {
				free(p);
				closedir(d);
				sb_release(&bundle);
				return dk_err_prefix(err, "--cert-dir");
			}
			sb_add(&bundle, pem, len);
			sb_addc(&bundle, '\n');
			free(pem);
			n_ca++;
		} else if (has_suffix(de->d_name, ".cert") && !tls->cert_file) {
			char *key = dk_xasprintf("%.*s.key", (int)(strlen(p) - 5), p);

			if (access(key, R_OK) == 0) {
				tls->cert_file = p;
				tls->key_file = key;
				p = NULL;
			} else {
				free(key);
			}
		}
		free(p);
	}
	closedir(d);
	if (n_ca) {
		char *sys, *tmp;
		size_t len;
		struct dk_err ignored;
		int fd;

		/* CAINFO replaces the system store: keep its CAs in the bundle */
		if (dk_read_file("/etc/ssl/certs/ca-certificates.crt", 1 << 24, &sys, &len, &ignored) == 0) {
			sb_add(&bundle, sys, len);
			free(sys);
		}
		tmp = dk_tmp_path("derrick-ca-XXXXXX");
		fd = mkstemp(tmp);
		if (fd < 0 || dk_write_all(fd, bundle.buf, bundle.len, tmp, err) < 0) {
			if (fd < 0)
				dk_fail_errno(err, DK_E_IO, "create %s", tmp);
			else
				close(fd);
			free(tmp);
			sb_release(&bundle);
			return -1;
		}
		close(fd);
		*bundle_path = tmp;
		tls->ca_file = tmp;
	}
	sb_release(&bundle);
	return 0;
}
