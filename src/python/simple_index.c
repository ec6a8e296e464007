/*
 * simple_index.c - a "simple" repository's project page into a list of
 * files.  See pyindex.h.
 *
 * The HTML form is read by a small anchor scanner rather than an HTML
 * library: PEP 503 pages are a flat list of <a> elements, and all that is
 * needed is each anchor's attributes and text, with HTML's character
 * references.  It is fuzzed (fuzz_pyindex).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "derrick/http.h"
#include "derrick/pyindex.h"
#include "derrick/pytags.h"
#include "derrick/util.h"
#include "lock_int.h"

char *dk_pyindex_page_url(const char *index_url, const char *project)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(index_url);
	char *name;

	while (n && index_url[n - 1] == '/')
		n--;
	sb_add(&sb, index_url, n);
	sb_addc(&sb, '/');
	name = dk_pyname_normalize(project);
	sb_adds(&sb, name);
	free(name);
	sb_addc(&sb, '/');
	return sb_detach(&sb);
}

void dk_pyindex_release(struct dk_pyindex_page *page)
{
	for (size_t i = 0; i < page->n_files; i++) {
		free(page->files[i].filename);
		free(page->files[i].url);
		free(page->files[i].requires_python);
	}
	free(page->files);
	page->files = NULL;
	page->n_files = 0;
}

/* what and why may quote the server's text (a file name, an API version, a Content-Type) */
static int page_fail(struct dk_err *err, const char *page_url, const char *what, const char *why)
{
	char *u = dk_http_redact(page_url), *w = dk_lock_printable(dk_str_or(what, "")), *y = dk_lock_printable(why);
	int rc = dk_fail(err, DK_E_REMOTE, "%s: %s%s%s", u, w, what ? ": " : "", y);

	free(u);
	free(w);
	free(y);
	return rc;
}

/*
 * href resolved against base (libcurl's RFC 3986 resolution), its fragment
 * taken off and returned in *frag (a new string, or NULL).  NULL when it
 * cannot be resolved.
 */
static char *resolve(const char *base, const char *href, char **frag)
{
	CURLU *u = curl_url();
	char *abs = NULL, *f = NULL, *out = NULL;

	*frag = NULL;
	if (!u)
		dk_oom("curl_url");
	if (curl_url_set(u, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, href, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_FRAGMENT, &f, 0) == CURLUE_OK && f) {
		*frag = dk_xstrdup(f);
		curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	}
	if (curl_url_get(u, CURLUPART_URL, &abs, 0) == CURLUE_OK)
		out = dk_xstrdup(abs);
out:
	curl_free(abs);
	curl_free(f);
	curl_url_cleanup(u);
	return out;
}

/* The last component of a URL's path, percent-decoded. */
static char *url_filename(const char *url)
{
	size_t end = strcspn(url, "?#"), start = end;
	char *enc, *dec;
	int n;

	while (start > 0 && url[start - 1] != '/')
		start--;
	enc = dk_xstrndup(url + start, end - start);
	dec = curl_easy_unescape(NULL, enc, 0, &n);
	free(enc);
	if (!dec)
		return dk_xstrdup("");
	enc = dk_xstrndup(dec, (size_t)n);
	curl_free(dec);
	return enc;
}

/* "sha256=HEX" fragments and JSON hashes: a malformed sha256 is an error, other algorithms are ignored. */
static int set_sha256(struct dk_pyindex_file *f, const char *hex, size_t n, const char *page_url,
		      struct dk_err *err)
{
	if (dk_lock_sha256(hex, n, f->sha256) < 0)
		return page_fail(err, page_url, f->filename, "a sha256 that is not 64 hex digits");
	return 0;
}

static struct dk_pyindex_file *add_file(struct dk_pyindex_page *page)
{
	struct dk_pyindex_file *f;

	page->files = dk_xrealloc(page->files, (page->n_files + 1) * sizeof(*page->files));
	f = &page->files[page->n_files++];
	memset(f, 0, sizeof(*f));
	f->size = -1;
	return f;
}

/* ---- PEP 691 JSON ---- */

static int json_file(json_t *e, size_t i, const char *page_url, struct dk_pyindex_page *page,
		     struct dk_err *err)
{
	json_t *name = json_object_get(e, "filename"), *url = json_object_get(e, "url");
	json_t *hashes = json_object_get(e, "hashes"), *rp = json_object_get(e, "requires-python");
	json_t *yanked = json_object_get(e, "yanked"), *size = json_object_get(e, "size");
	struct dk_pyindex_file *f;
	char what[64], *frag;

	snprintf(what, sizeof(what), "files[%zu]", i);
	if (!json_is_object(e) || !json_is_string(name) || !json_is_string(url) || !json_is_object(hashes) ||
	    strlen(json_string_value(name)) != json_string_length(name) ||
	    strlen(json_string_value(url)) != json_string_length(url))
		return page_fail(err, page_url, what, "expected filename, url (strings) and hashes (an object)");
	f = add_file(page);
	f->filename = dk_xstrdup(json_string_value(name));
	f->url = resolve(page_url, json_string_value(url), &frag);
	free(frag);
	if (!f->url)
		return page_fail(err, page_url, f->filename, "a url that cannot be resolved");
	if (json_object_get(hashes, "sha256")) {
		json_t *h = json_object_get(hashes, "sha256");

		if (!json_is_string(h))
			return page_fail(err, page_url, f->filename, "hashes.sha256 is not a string");
		if (set_sha256(f, json_string_value(h), json_string_length(h), page_url, err) < 0)
			return -1;
	}
	if (json_is_string(rp) && strlen(json_string_value(rp)) == json_string_length(rp))
		f->requires_python = dk_xstrdup(json_string_value(rp));
	else if (rp && !json_is_null(rp))
		return page_fail(err, page_url, f->filename, "requires-python is not a string");
	/* PEP 691: yanked is false, true or the reason */
	f->yanked = json_is_true(yanked) || json_is_string(yanked);
	if (size) {
		if (!json_is_integer(size) || json_integer_value(size) < 0)
			return page_fail(err, page_url, f->filename, "size is not a non-negative integer");
		f->size = json_integer_value(size);
	}
	return 0;
}

int dk_pyindex_parse_json(const char *body, size_t len, const char *page_url,
			  struct dk_pyindex_page *page, struct dk_err *err)
{
	json_error_t jerr;
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr), *files, *e, *ver;
	size_t i;
	int rc = -1;

	memset(page, 0, sizeof(*page));
	if (!doc) {
		char why[256];

		snprintf(why, sizeof(why), "not JSON (line %d: %s)", jerr.line, jerr.text);
		return page_fail(err, page_url, NULL, why);
	}
	ver = json_object_get(json_object_get(doc, "meta"), "api-version");
	if (!json_is_string(ver)) {
		page_fail(err, page_url, "meta.api-version", "missing: not a PEP 691 project page");
		goto out;
	}
	if (strncmp(json_string_value(ver), "1.", 2) && strcmp(json_string_value(ver), "1")) {
		char why[128];

		snprintf(why, sizeof(why), "\"%.40s\": derrick reads API version 1 only", json_string_value(ver));
		page_fail(err, page_url, "meta.api-version", why);
		goto out;
	}
	files = json_object_get(doc, "files");
	if (!json_is_array(files)) {
		page_fail(err, page_url, "files", "missing or not an array");
		goto out;
	}
	json_array_foreach(files, i, e)
		if (json_file(e, i, page_url, page, err) < 0)
			goto out;
	rc = 0;
out:
	json_decref(doc);
	if (rc < 0)
		dk_pyindex_release(page);
	return rc;
}

/* ---- PEP 503 HTML ---- */

static void add_utf8(struct strbuf *sb, unsigned long c)
{
	if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		c = 0xfffd;     /* as HTML's parser does */
	if (c < 0x80) {
		sb_addc(sb, (char)c);
	} else if (c < 0x800) {
		sb_addc(sb, (char)(0xc0 | (c >> 6)));
		sb_addc(sb, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		sb_addc(sb, (char)(0xe0 | (c >> 12)));
		sb_addc(sb, (char)(0x80 | ((c >> 6) & 0x3f)));
		sb_addc(sb, (char)(0x80 | (c & 0x3f)));
	} else {
		sb_addc(sb, (char)(0xf0 | (c >> 18)));
		sb_addc(sb, (char)(0x80 | ((c >> 12) & 0x3f)));
		sb_addc(sb, (char)(0x80 | ((c >> 6) & 0x3f)));
		sb_addc(sb, (char)(0x80 | (c & 0x3f)));
	}
}

/*
 * HTML text with character references decoded: numeric ones (&#62; &#x3e;)
 * and the named ones an index page uses (&amp; &lt; &gt; &quot; &apos;);
 * anything else stays as written.  A new string.
 */
static char *unescape(const char *s, size_t n)
{
	static const struct { const char *name; char c; } named[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' },
	};
	struct strbuf sb = STRBUF_INIT;
	const char *end = s + n;

	while (s < end) {
		size_t i;

		if (*s != '&') {
			sb_addc(&sb, *s++);
			continue;
		}
		if (s + 2 < end && s[1] == '#') {
			const char *p = s + 2;
			int hex = *p == 'x' || *p == 'X';
			unsigned long c = 0;
			int digits = 0;

			p += hex;
			while (p < end && (hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p))) {
				if (c <= 0x10ffff)
					c = c * (hex ? 16 : 10) +
					    (unsigned long)(isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10));
				p++;
				digits++;
			}
			if (digits) {
				add_utf8(&sb, c);
				s = p < end && *p == ';' ? p + 1 : p;
				continue;
			}
		}
		for (i = 0; i < sizeof(named) / sizeof(*named); i++) {
			size_t k = strlen(named[i].name);

			if ((size_t)(end - s - 1) >= k && !strncmp(s + 1, named[i].name, k)) {
				sb_addc(&sb, named[i].c);
				s += 1 + k;
				break;
			}
		}
		if (i == sizeof(named) / sizeof(*named))
			sb_addc(&sb, *s++);
	}
	return sb_detach(&sb);
}

struct tag {
	char *href, *requires_python;
	int has_href, yanked;
};

static const char *find_ci(const char *s, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; s + n <= end; s++)
		if (!strncasecmp(s, needle, n))
			return s;
	return NULL;
}

/*
 * The attributes of a start tag, from just after its name to its '>':
 * returns where the tag ends (after '>') or `end`.  Only href,
 * data-requires-python and data-yanked are kept (unescaped).
 */
static const char *read_attrs(const char *p, const char *end, struct tag *t)
{
	while (p < end && *p != '>') {
		const char *name, *val = NULL;
		size_t nlen, vlen = 0;

		if (isspace((unsigned char)*p) || *p == '/') {
			p++;
			continue;
		}
		name = p;
		while (p < end && !isspace((unsigned char)*p) && *p != '=' && *p != '>' && *p != '/')
			p++;
		nlen = (size_t)(p - name);
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p < end && *p == '=') {
			p++;
			while (p < end && isspace((unsigned char)*p))
				p++;
			if (p < end && (*p == '"' || *p == '\'')) {
				const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));

				val = p + 1;
				vlen = q ? (size_t)(q - val) : (size_t)(end - val);
				p = q ? q + 1 : end;
			} else {
				val = p;
				while (p < end && !isspace((unsigned char)*p) && *p != '>')
					p++;
				vlen = (size_t)(p - val);
			}
		}
		if (nlen == 4 && !strncasecmp(name, "href", 4) && !t->has_href) {
			t->has_href = 1;
			t->href = unescape(val ? val : "", vlen);
		} else if (nlen == 20 && !strncasecmp(name, "data-requires-python", 20) && !t->requires_python) {
			t->requires_python = unescape(val ? val : "", vlen);
		} else if (nlen == 11 && !strncasecmp(name, "data-yanked", 11)) {
			t->yanked = 1;
		}
	}
	return p < end ? p + 1 : end;
}

/* The text of an anchor up to its </a>, tags inside dropped, unescaped and trimmed. */
static char *anchor_text(const char *p, const char *end, const char **after)
{
	const char *close = find_ci(p, end, "</a");
	const char *stop = close ? close : end;
	struct strbuf raw = STRBUF_INIT;
	char *text;
	size_t a, b;

	while (p < stop) {
		if (*p == '<') {
			const char *gt = memchr(p, '>', (size_t)(stop - p));

			p = gt ? gt + 1 : stop;
			continue;
		}
		sb_addc(&raw, *p++);
	}
	*after = close ? close + 3 : end;
	text = unescape(raw.buf, raw.len);
	sb_release(&raw);
	for (a = 0; isspace((unsigned char)text[a]); a++)
		;
	b = strlen(text);
	while (b > a && isspace((unsigned char)text[b - 1]))
		b--;
	memmove(text, text + a, b - a);
	text[b - a] = '\0';
	return text;
}

static int html_anchor(struct tag *t, char *text, const char *base, const char *page_url,
		       struct dk_pyindex_page *page, struct dk_err *err)
{
	struct dk_pyindex_file *f;
	char *frag = NULL;
	int rc = 0;

	f = add_file(page);
	f->url = resolve(base, t->href, &frag);
	if (!f->url) {
		f->filename = text;
		return page_fail(err, page_url, text, "an href that cannot be resolved");
	}
	f->filename = *text ? text : url_filename(f->url);
	if (!*text)
		free(text);
	f->requires_python = t->requires_python;
	t->requires_python = NULL;
	f->yanked = t->yanked;
	if (frag && !strncmp(frag, "sha256=", 7))
		rc = set_sha256(f, frag + 7, strlen(frag + 7), page_url, err);
	free(frag);
	return rc;
}

int dk_pyindex_parse_html(const char *body, size_t len, const char *page_url,
			  struct dk_pyindex_page *page, struct dk_err *err)
{
	const char *p = body, *end = body + len;
	char *base = dk_xstrdup(page_url);
	int rc = 0;

	memset(page, 0, sizeof(*page));
	while (rc == 0 && p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		struct tag t = { 0 };
		int is_a, is_base;

		if (!lt)
			break;
		p = lt + 1;
		if (end - p >= 3 && !strncmp(p, "!--", 3)) {
			const char *close = find_ci(p + 3, end, "-->");

			p = close ? close + 3 : end;
			continue;
		}
		is_a = p < end && (*p == 'a' || *p == 'A') && (p + 1 == end || isspace((unsigned char)p[1]) || p[1] == '>');
		is_base = end - p >= 4 && !strncasecmp(p, "base", 4) &&
			  (p + 4 == end || isspace((unsigned char)p[4]) || p[4] == '>');
		if (!is_a && !is_base)
			continue;
		p = read_attrs(p + (is_a ? 1 : 4), end, &t);
		if (is_base && t.has_href) {
			char *frag, *nb = resolve(base, t.href, &frag);

			free(frag);
			if (nb) {
				free(base);
				base = nb;
			}
		} else if (is_a && t.has_href) {
			char *text = anchor_text(p, end, &p);

			rc = html_anchor(&t, text, base, page_url, page, err);
		}
		free(t.href);
		free(t.requires_python);
	}
	free(base);
	if (rc < 0)
		dk_pyindex_release(page);
	return rc;
}

/* The media type of a Content-Type, without parameters, compared case-insensitively. */
static int media_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	while (*ct == ' ')
		ct++;
	return !strncasecmp(ct, type, n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int dk_pyindex_parse(const char *body, size_t len, const char *content_type, const char *page_url,
		     struct dk_pyindex_page *page, struct dk_err *err)
{
	const char *ct = dk_str_or(content_type, "");

	memset(page, 0, sizeof(*page));
	if (media_is(ct, "application/vnd.pypi.simple.v1+json") || media_is(ct, "application/vnd.pypi.simple.latest+json"))
		return dk_pyindex_parse_json(body, len, page_url, page, err);
	if (media_is(ct, "application/vnd.pypi.simple.v1+html") || media_is(ct, "application/vnd.pypi.simple.latest+html") ||
	    media_is(ct, "text/html"))
		return dk_pyindex_parse_html(body, len, page_url, page, err);
	{
		char why[200];

		snprintf(why, sizeof(why), "Content-Type \"%.100s\": expected a simple index page (PEP 691 JSON or PEP 503 HTML)",
			 *ct ? ct : "(none)");
		return page_fail(err, page_url, NULL, why);
	}
}
