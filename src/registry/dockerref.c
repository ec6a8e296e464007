/*
 * dockerref.c - distribution image references.  See dockerref.h.
 *
 * The parser works on spans of the caller's string and allocates only once
 * every part is known to be valid, so no error path has anything to free.
 * Checks run in reading order (host, path, tag, digest) so the message is
 * about the first thing that is wrong.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "derrick/digest.h"
#include "derrick/dockerref.h"
#include "derrick/ref.h"
#include "derrick/util.h"

#define REPO_MAX 255
#define TAG_MAX 128
/* Longer input is cut in messages, so the rule after it is never truncated. */
#define QUOTE_MAX 200

static const char docker_hub[] = "docker.io";
static const char docker_hub_endpoint[] = "registry-1.docker.io";

struct span {
	const char *p;
	size_t n;
};

/* Worst case: every byte as \xNN, plus quotes, "..." and NUL. */
struct quoted {
	char s[QUOTE_MAX * 4 + 8];
};

static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alnum(char c) { return is_lower(c) || is_upper(c) || is_digit(c); }

static int span_eq(struct span a, const char *s)
{
	return a.n == strlen(s) && !memcmp(a.p, s, a.n);
}

static int span_caseeq(struct span a, const char *s)
{
	return a.n == strlen(s) && !strncasecmp(a.p, s, a.n);
}

/*
 * Quote user text for a message.  Control characters are escaped so the
 * message stays on one line even for "python\n" pasted from a terminal.
 */
static const char *quote(struct quoted *q, const char *p, size_t n)
{
	char *o = q->s;

	*o++ = '"';
	for (size_t i = 0; i < n && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\')
			o += sprintf(o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			o += sprintf(o, "\\x%02x", c);
		else
			*o++ = (char)c;
	}
	*o++ = '"';
	if (n > QUOTE_MAX)
		o += sprintf(o, "...");
	*o = '\0';
	return q->s;
}

static int fail(struct dk_err *err, const char *ref, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct dk_err *err, const char *ref, const char *fmt, ...)
{
	char rule[DK_ERR_MAX];
	struct quoted q;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	return dk_fail(err, DK_E_REF, "image reference %s: %s", quote(&q, ref, strlen(ref)), rule);
}

/* Mistakes a user can make before the grammar even applies. */
static int check_text(const char *s, struct dk_err *err)
{
	const char *url = strstr(s, "://");

	if (!*s)
		return dk_fail(err, DK_E_REF, "image reference is empty");
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c == 0x7f)
			return fail(err, s, "contains whitespace or a control character at byte %zu",
				    (size_t)(p - s));
	}
	if (url)
		return fail(err, s, "looks like a URL: drop the \"%.*s://\" and write HOST/REPOSITORY[:TAG]",
			    (int)(url - s), s);
	return 0;
}

/* [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? labels joined by '.'. */
static int dns_name_valid(const char *p, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '.') {
			if (!is_alnum(p[i]) && p[i] != '-')
				return 0;
			continue;
		}
		if (i == start || p[start] == '-' || p[i - 1] == '-')
			return 0;
		start = i + 1;
	}
	return 1;
}

/* The text between '[' and ']'; inet_pton is stricter than any regex. */
static int ipv6_valid(const char *p, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr addr;

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, &addr) == 1;
}

static int port_valid(const char *p, size_t n)
{
	unsigned long v = 0;

	/* More than 5 digits is out of range anyway, and cannot overflow v. */
	if (n == 0 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return 0;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

static int bad_host(const char *ref, struct span h, struct dk_err *err)
{
	struct quoted q;

	return fail(err, ref,
		    "registry host %s is invalid: a host is DNS labels of [A-Za-z0-9-] separated by '.' "
		    "(or a bracketed IPv6 address), optionally followed by :PORT",
		    quote(&q, h.p, h.n));
}

static int check_host(const char *ref, struct span h, struct dk_err *err)
{
	struct quoted q;
	size_t name_n;

	if (h.p[0] == '[') {
		const char *close = memchr(h.p, ']', h.n);

		if (!close || !ipv6_valid(h.p + 1, (size_t)(close - h.p) - 1))
			return bad_host(ref, h, err);
		name_n = (size_t)(close - h.p) + 1;
		if (name_n < h.n && h.p[name_n] != ':')
			return bad_host(ref, h, err);
	} else {
		const char *colon = memchr(h.p, ':', h.n);

		name_n = colon ? (size_t)(colon - h.p) : h.n;
		if (!dns_name_valid(h.p, name_n))
			return bad_host(ref, h, err);
	}
	if (name_n < h.n && !port_valid(h.p + name_n + 1, h.n - name_n - 1))
		return fail(err, ref, "registry port %s is invalid: a port is a number from 1 to 65535",
			    quote(&q, h.p + name_n + 1, h.n - name_n - 1));
	return 0;
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static int component_valid(const char *p, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t run = i;

		while (i < n && (is_lower(p[i]) || is_digit(p[i])))
			i++;
		if (i == run)
			return 0;  /* empty, or a separator at the start, end or twice */
		if (i == n)
			return 1;
		if (p[i] == '.')
			i++;
		else if (p[i] == '_')
			i += (i + 1 < n && p[i + 1] == '_') ? 2 : 1;
		else if (p[i] == '-')
			while (i < n && p[i] == '-')
				i++;
		else
			return 0;
	}
}

static int check_components(const char *ref, struct span path, struct dk_err *err)
{
	const char *p = path.p, *end = path.p + path.n;
	struct quoted q;

	for (;;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t n = slash ? (size_t)(slash - p) : (size_t)(end - p);

		if (n == 0)
			return fail(err, ref, "repository name has an empty path component "
				    "(a leading, trailing or doubled '/')");
		if (!component_valid(p, n))
			return fail(err, ref,
				    "path component %s is invalid: a component is lowercase letters and digits, "
				    "separated by '.', '_', '__' or '-'s, starting and ending with a letter or digit",
				    quote(&q, p, n));
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

static int check_path(const char *ref, struct span path, int library, struct dk_err *err)
{
	size_t total = path.n + (library ? strlen("library/") : 0);

	if (path.n == 0)
		return fail(err, ref, "repository name is empty");
	/* The most common mistake gets its own message, not a grammar lecture. */
	for (size_t i = 0; i < path.n; i++)
		if (is_upper(path.p[i]))
			return fail(err, ref, "repository name must be lowercase");
	if (check_components(ref, path, err) < 0)
		return -1;
	if (total > REPO_MAX)
		return fail(err, ref, "repository name is longer than %d characters (%zu%s)",
			    REPO_MAX, total, library ? ", with the implied \"library/\"" : "");
	return 0;
}

/* The same rule as oci: tags (ref.c), on a piece of the reference. */
static int tag_valid(struct span t)
{
	char buf[TAG_MAX + 1];

	if (t.n == 0 || t.n > TAG_MAX)
		return 0;
	memcpy(buf, t.p, t.n);
	buf[t.n] = '\0';
	return dk_tag_valid(buf);
}

static int check_tag(const char *ref, struct span t, struct dk_err *err)
{
	struct quoted q;

	if (t.n == 0)
		return fail(err, ref, "the tag after ':' is empty");
	if (!tag_valid(t))
		return fail(err, ref,
			    "tag %s is invalid: a tag is 1-%d of [A-Za-z0-9_.-] and cannot start with '.' or '-'",
			    quote(&q, t.p, t.n), TAG_MAX);
	return 0;
}

/* An algorithm name per the OCI grammar: [a-z0-9]+([+._-][a-z0-9]+)*. */
static int algorithm_valid(struct span a)
{
	for (size_t i = 0; i < a.n; i++) {
		char c = a.p[i];
		int sep = c == '+' || c == '.' || c == '_' || c == '-';

		if (is_lower(c) || is_digit(c))
			continue;
		/* A separator needs a letter or digit on both sides. */
		if (!sep || i == 0 || i + 1 == a.n || !(is_lower(a.p[i + 1]) || is_digit(a.p[i + 1])))
			return 0;
	}
	return a.n > 0;
}

static int check_digest(const char *ref, struct span d, struct dk_err *err)
{
	const char *colon = memchr(d.p, ':', d.n);
	struct span alg = { d.p, colon ? (size_t)(colon - d.p) : 0 };
	struct quoted q;

	if (d.n == 0)
		return fail(err, ref, "the digest after '@' is empty");
	/* A well-formed digest we cannot verify deserves a different message from a typo. */
	if (colon && !span_eq(alg, "sha256") && algorithm_valid(alg))
		return fail(err, ref, "unsupported digest algorithm %s: only sha256 is supported",
			    quote(&q, alg.p, alg.n));
	if (d.n == DK_DIGEST_SIZE - 1) {
		char buf[DK_DIGEST_SIZE];

		memcpy(buf, d.p, d.n);
		buf[d.n] = '\0';
		if (dk_digest_valid(buf))
			return 0;
	}
	return fail(err, ref, "digest %s is invalid: expected sha256: and %d lowercase hex digits",
		    quote(&q, d.p, d.n), DK_DIGEST_HEX);
}

/* The pieces of a reference, as spans of the text; set says which were given. */
struct parts {
	struct span host, path, tag, digest;
	int has_host, has_tag, has_digest;
};

static void split(const char *s, struct parts *pt)
{
	const char *at = strchr(s, '@');
	const char *end = at ? at : s + strlen(s);
	const char *slash = NULL, *colon, *first;

	memset(pt, 0, sizeof(*pt));
	if (at) {
		pt->has_digest = 1;
		pt->digest = (struct span){ at + 1, strlen(at + 1) };
	}
	/* The tag is after the last '/': a ':' before it belongs to HOST:PORT. */
	for (const char *p = s; p < end; p++)
		if (*p == '/')
			slash = p;
	colon = memchr(slash ? slash : s, ':', (size_t)(end - (slash ? slash : s)));
	if (colon) {
		pt->has_tag = 1;
		pt->tag = (struct span){ colon + 1, (size_t)(end - colon - 1) };
		end = colon;
	}
	pt->path = (struct span){ s, (size_t)(end - s) };
	first = memchr(s, '/', pt->path.n);
	if (!first)
		return;
	pt->host = (struct span){ s, (size_t)(first - s) };
	if (memchr(pt->host.p, '.', pt->host.n) || memchr(pt->host.p, ':', pt->host.n) ||
	    span_eq(pt->host, "localhost")) {
		pt->has_host = 1;
		pt->path = (struct span){ first + 1, (size_t)(end - first - 1) };
	}
}

static int is_docker_hub(const struct parts *pt)
{
	return !pt->has_host || span_caseeq(pt->host, docker_hub) ||
	       span_caseeq(pt->host, "index.docker.io");
}

static void fill(struct dk_dockerref *r, const struct parts *pt, int library)
{
	if (is_docker_hub(pt)) {
		r->registry = dk_xstrdup(docker_hub);
		r->endpoint = dk_xstrdup(docker_hub_endpoint);
	} else {
		r->registry = dk_xstrndup(pt->host.p, pt->host.n);
		r->endpoint = dk_xstrdup(r->registry);
	}
	r->repository = dk_xasprintf("%s%.*s", library ? "library/" : "",
				     (int)pt->path.n, pt->path.p);
	r->tag = pt->has_tag ? dk_xstrndup(pt->tag.p, pt->tag.n) : NULL;
	r->digest = pt->has_digest ? dk_xstrndup(pt->digest.p, pt->digest.n) : NULL;
}

int dk_dockerref_parse(const char *s, struct dk_dockerref *r, struct dk_err *err)
{
	struct parts pt;
	int library;

	memset(r, 0, sizeof(*r));
	if (check_text(s, err) < 0)
		return -1;
	split(s, &pt);
	library = is_docker_hub(&pt) && !memchr(pt.path.p, '/', pt.path.n);
	if (pt.has_host && check_host(s, pt.host, err) < 0)
		return -1;
	if (check_path(s, pt.path, library, err) < 0)
		return -1;
	if (pt.has_tag && check_tag(s, pt.tag, err) < 0)
		return -1;
	if (pt.has_digest && check_digest(s, pt.digest, err) < 0)
		return -1;
	fill(r, &pt, library);
	return 0;
}

void dk_dockerref_free(struct dk_dockerref *r)
{
	free(r->registry);
	free(r->endpoint);
	free(r->repository);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

const char *dk_dockerref_reference(const struct dk_dockerref *r)
{
	if (r->digest)
		return r->digest;
	return r->tag ? r->tag : "latest";
}

char *dk_dockerref_string(const struct dk_dockerref *r)
{
	struct strbuf sb = STRBUF_INIT;

	sb_addf(&sb, "%s/%s", r->registry, r->repository);
	if (r->tag)
		sb_addf(&sb, ":%s", r->tag);
	if (r->digest)
		sb_addf(&sb, "@%s", r->digest);
	return sb_detach(&sb);
}

static char *dup_or_null(const char *s)
{
	return s ? dk_xstrdup(s) : NULL;
}

void dk_dockerref_copy(struct dk_dockerref *dst, const struct dk_dockerref *src)
{
	dst->registry = dup_or_null(src->registry);
	dst->endpoint = dup_or_null(src->endpoint);
	dst->repository = dup_or_null(src->repository);
	dst->tag = dup_or_null(src->tag);
	dst->digest = dup_or_null(src->digest);
}
