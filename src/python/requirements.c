/*
 * requirements.c - pip requirements files in hash-checking form into a
 * struct dk_lock.  See pylock.h for what is accepted and refused.
 *
 * Lines are read as pip's req_file.py reads them: a line ending in '\' is
 * joined to the next (the backslash dropped) unless it is a comment line; a
 * comment is a '#' at the start of the line or after blank space and runs to
 * the end of the joined line; what is left is split at the first word that
 * starts with '-' into the requirement and its options.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/pylock.h"
#include "derrick/util.h"
#include "lock_int.h"

struct req_line {
	const char *file;
	size_t lineno;          /* the first physical line of the logical line */
	struct dk_err *err;
};

static int line_fail(const struct req_line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "FILE:LINE: " and the message. */
static int line_fail(const struct req_line *l, const char *fmt, ...)
{
	char msg[DK_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the message quotes the line, which may hold control characters (a lone CR) */
	dk_str_printable(msg);
	return dk_fail(l->err, DK_E_SPEC, "%s:%zu: %s", l->file, l->lineno, msg);
}

/* pip's COMMENT_RE, "(^|\s+)#.*$": where a comment starts in s, or NULL. */
static char *comment_start(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '#' && (p == s || isspace((unsigned char)p[-1])))
			return p;
	return NULL;
}

/* re.match(COMMENT_RE, line): the line is blank space then '#'. */
static int is_comment_line(const char *s)
{
	s += strspn(s, " \t\f\v\r");
	return *s == '#';
}

static int name_char(int c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.';
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* Global options that change nothing for derrick: accepted and ignored. */
static const char *const harmless_opts[] = {
	"--require-hashes", "--prefer-binary", "--only-binary", "--pre", NULL,
};

/* Global options refused, each with why. */
static const struct { const char *opt; const char *why; } refused_opts[] = {
	{ "-r", "includes another requirements file (-r): list every requirement in this one" },
	{ "--requirement", "includes another requirements file (-r): list every requirement in this one" },
	{ "-c", "a constraints file (-c) pins nothing by itself: list every requirement here" },
	{ "--constraint", "a constraints file (-c) pins nothing by itself: list every requirement here" },
	{ "-e", "an editable or local project (-e): derrick installs locked wheels only "
		"(uv export: --no-emit-project)" },
	{ "--editable", "an editable or local project (-e): derrick installs locked wheels only "
			"(uv export: --no-emit-project)" },
	{ "-i", "an index option: where wheels come from is the spec's index_url" },
	{ "--index-url", "an index option: where wheels come from is the spec's index_url" },
	{ "--extra-index-url", "an index option: where wheels come from is the spec's index_url" },
	{ "--no-index", "an index option: where wheels come from is the spec's index_url and find_links" },
	{ "-f", "a find-links option: where wheels come from is the spec's find_links" },
	{ "--find-links", "a find-links option: where wheels come from is the spec's find_links" },
	{ "--trusted-host", "--trusted-host: TLS options come from derrick's --tls-verify and --cert-dir" },
	{ "--no-binary", "--no-binary asks to build from source: derrick never builds from source" },
};

/* The option word's name: "--index-url=x" -> "--index-url". */
static int opt_is(const char *word, const char *opt)
{
	size_t n = strlen(opt);

	return !strncmp(word, opt, n) && (word[n] == '\0' || word[n] == '=' ||
					   (opt[1] != '-' && word[n] != '-'));   /* "-rfile" */
}

static int global_option(const struct req_line *l, const char *word)
{
	for (size_t i = 0; i < sizeof(refused_opts) / sizeof(*refused_opts); i++)
		if (opt_is(word, refused_opts[i].opt))
			return line_fail(l, "%s", refused_opts[i].why);
	for (size_t i = 0; harmless_opts[i]; i++)
		if (opt_is(word, harmless_opts[i]))
			return 0;
	return line_fail(l, "unknown or unsupported option %s", word);
}

/* A --hash value "ALGO:HEX" into p's list (sha256) or ignored (sha384, sha512). */
static int add_hash(const struct req_line *l, struct dk_lock_pkg *p, const char *v)
{
	const char *colon = strchr(v, ':');

	if (!colon)
		return line_fail(l, "--hash=%s: expected ALGORITHM:HEX", v);
	if (colon - v == 6 && !strncmp(v, "sha256", 6)) {
		p->hashes = dk_xrealloc(p->hashes, (p->n_hashes + 1) * sizeof(*p->hashes));
		if (dk_lock_sha256(colon + 1, strlen(colon + 1), p->hashes[p->n_hashes]) < 0)
			return line_fail(l, "--hash=%s: a sha256 is 64 hex digits", v);
		p->n_hashes++;
		return 0;
	}
	if ((colon - v == 6 && !strncmp(v, "sha384", 6)) || (colon - v == 6 && !strncmp(v, "sha512", 6)))
		return 0;
	return line_fail(l, "--hash=%s: pip allows sha256, sha384 and sha512 only", v);
}

/* The options after a requirement: --hash only. */
static int req_options(const struct req_line *l, struct dk_lock_pkg *p, char **words, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *w = words[i];

		if (!strncmp(w, "--hash=", 7)) {
			if (add_hash(l, p, w + 7) < 0)
				return -1;
		} else if (!strcmp(w, "--hash")) {
			if (i + 1 == n)
				return line_fail(l, "%s: --hash without a value", p->name);
			if (add_hash(l, p, words[++i]) < 0)
				return -1;
		} else {
			return line_fail(l, "unsupported requirement option %s", w);
		}
	}
	return 0;
}

/* A URL, a path or a VCS reference where a requirement should stand: says which. */
static const char *direct_kind(const char *s)
{
	if (strstr(s, "://") || !strncmp(s, "file:", 5))
		return "a URL";
	if (strchr(s, '/') || s[0] == '.' || s[0] == '~' || strstr(s, ".whl") || strstr(s, ".tar.gz") ||
	    strstr(s, ".zip"))
		return "a path";
	return NULL;
}

/*
 * "name[extras] == version ; marker" into p.  The PEP 508 subset a
 * hash-checking file can hold: one == clause with an exact version.
 */
static int parse_req(const struct req_line *l, const char *s, struct dk_lock_pkg *p)
{
	const char *q = s, *start, *semi;
	char *spec;
	const char *kind;

	skip_ws(&q);
	start = q;
	while (name_char((unsigned char)*q))
		q++;
	if (q == start || !isalnum((unsigned char)*start) || !isalnum((unsigned char)q[-1])) {
		kind = direct_kind(s);
		if (kind)
			return line_fail(l, "%s requirement: derrick installs name==version requirements "
				"with hashes only", kind);
		return line_fail(l, "\"%s\": not a requirement (expected name==version)", s);
	}
	if (*q == ':' || *q == '/' || (*q == '+' && strstr(q, "://"))) {
		kind = direct_kind(s);
		return line_fail(l, "%s requirement: derrick installs name==version requirements with hashes "
			"only", kind ? kind : "a URL");
	}
	p->name = dk_xstrndup(start, (size_t)(q - start));
	skip_ws(&q);
	if (*q == '[') {
		const char *close = strchr(q, ']');

		if (!close)
			return line_fail(l, "%s: an unclosed [extras] list", p->name);
		q++;
		p->extras = dk_xcalloc(1, sizeof(*p->extras));
		while (q < close) {
			const char *e;

			skip_ws(&q);
			e = q;
			while (name_char((unsigned char)*q))
				q++;
			if (q == e)
				return line_fail(l, "%s: an extra must be a name", p->name);
			p->extras = dk_xrealloc(p->extras, (p->n_extras + 2) * sizeof(*p->extras));
			p->extras[p->n_extras++] = dk_xstrndup(e, (size_t)(q - e));
			p->extras[p->n_extras] = NULL;
			skip_ws(&q);
			if (*q == ',')
				q++;
			else if (q != close)
				return line_fail(l, "%s: an extra must be a name", p->name);
		}
		q = close + 1;
		skip_ws(&q);
	}
	if (*q == '@')
		return line_fail(l, "%s @ ...: a URL requirement: derrick installs name==version requirements "
			"with hashes only", p->name);
	semi = strchr(q, ';');
	spec = dk_xstrndup(q, semi ? (size_t)(semi - q) : strlen(q));
	/* trailing blank space of the version clause */
	for (size_t n = strlen(spec); n && isspace((unsigned char)spec[n - 1]); n--)
		spec[n - 1] = '\0';
	if (strncmp(spec, "==", 2) || spec[2] == '=' || strchr(spec, ',') || strchr(spec, '*') ||
	    strchr(spec, '(')) {
		int rc = *spec ? line_fail(l, "%s: not pinned to one version (expected name==version, got \"%s\")",
					   p->name, spec) :
				 line_fail(l, "%s: not pinned (expected name==version)", p->name);

		free(spec);
		return rc;
	}
	{
		const char *v = spec + 2;

		while (*v == ' ' || *v == '\t')
			v++;
		if (!*v) {
			free(spec);
			return line_fail(l, "%s==: no version", p->name);
		}
		for (const char *c = v; *c; c++)
			if (!isalnum((unsigned char)*c) && !strchr(".!+-_", *c)) {
				free(spec);
				return line_fail(l, "%s: not one exact version after ==", p->name);
			}
		p->version = dk_xstrdup(v);
	}
	free(spec);
	if (semi) {
		const char *m = semi + 1;
		size_t n;

		skip_ws(&m);
		n = strlen(m);
		while (n && isspace((unsigned char)m[n - 1]))
			n--;
		if (!n)
			return line_fail(l, "%s: an empty marker after ';'", p->name);
		p->marker = dk_xstrndup(m, n);
	}
	return 0;
}

/* One logical line, comments gone and not blank: a global option or a requirement with options. */
static int logical_line(const struct req_line *l, char *line, struct dk_lock *lock)
{
	char **words = NULL;
	size_t n = 0, first_opt;
	struct strbuf req = STRBUF_INIT;
	struct dk_lock_pkg *p;
	int rc = -1;

	for (char *tok = strtok(line, " \t\f\v\r"); tok; tok = strtok(NULL, " \t\f\v\r")) {
		words = dk_xrealloc(words, (n + 1) * sizeof(*words));
		words[n++] = tok;
	}
	for (first_opt = 0; first_opt < n && words[first_opt][0] != '-'; first_opt++)
		sb_join(&req, " ", words[first_opt]);
	if (first_opt == 0) {
		rc = global_option(l, words[0]);
		goto out;
	}
	lock->pkgs = dk_xrealloc(lock->pkgs, (lock->n_pkgs + 1) * sizeof(*lock->pkgs));
	p = &lock->pkgs[lock->n_pkgs++];
	memset(p, 0, sizeof(*p));
	p->where = dk_xasprintf("%s:%zu", l->file, l->lineno);
	if (parse_req(l, req.buf, p) < 0 || req_options(l, p, words + first_opt, n - first_opt) < 0)
		goto out;
	if (!p->n_hashes) {
		line_fail(l, "%s: no --hash=sha256:...: derrick installs hash-checked requirements only "
			  "(pip-compile --generate-hashes)", p->name);
		goto out;
	}
	rc = 0;
out:
	free(words);
	sb_release(&req);
	return rc;
}

/* PEP 503 names compare with runs of -_. as one '-', case folded. */
static int same_name(const char *a, const char *b)
{
	for (;;) {
		int sa = 0, sb = 0;

		while (*a == '-' || *a == '_' || *a == '.')
			a++, sa = 1;
		while (*b == '-' || *b == '_' || *b == '.')
			b++, sb = 1;
		if (sa != sb || tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
		if (!*a)
			return 1;
		a++, b++;
	}
}

/* A name twice is refused unless every line of it has a marker (one version per environment). */
static int check_twice(const struct dk_lock *lock, struct dk_err *err)
{
	for (size_t i = 1; i < lock->n_pkgs; i++)
		for (size_t j = 0; j < i; j++) {
			const struct dk_lock_pkg *a = &lock->pkgs[j], *b = &lock->pkgs[i];

			if (same_name(a->name, b->name) && (!a->marker || !b->marker))
				return dk_fail(err, DK_E_SPEC, "%s: %s is required twice (first at line %s), "
					       "and not each time under a marker", b->where, b->name,
					       strrchr(a->where, ':') + 1);
		}
	return 0;
}

int dk_requirements_parse(const char *text, size_t len, const char *path, struct dk_lock *lock,
			  struct dk_err *err)
{
	struct strbuf joined = STRBUF_INIT;
	const char *p = text, *end = text + len;
	struct req_line l = { path, 0, err };
	size_t lineno = 0;
	int rc = 0;

	memset(lock, 0, sizeof(*lock));
	lock->path = dk_xstrdup(path);
	if (memchr(text, '\0', len))
		rc = dk_fail(err, DK_E_SPEC, "%s: a NUL byte: not a requirements file", path);
	while (rc == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = dk_xstrndup(p, n), *c;

		p += n + (nl ? 1 : 0);
		lineno++;
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n && line[n - 1] == '\\' && !is_comment_line(line)) {
			/* pip's line.strip("\\"): backslashes go from both ends */
			size_t s = strspn(line, "\\");

			if (!joined.len)
				l.lineno = lineno;
			while (n > s && line[n - 1] == '\\')
				n--;
			sb_add(&joined, line + s, n - s);
			free(line);
			if (p < end)
				continue;
			line = dk_xstrdup("");
		}
		if (!joined.len)
			l.lineno = lineno;
		sb_adds(&joined, line);
		free(line);
		c = comment_start(joined.buf);
		if (c)
			*c = '\0';
		if (joined.buf[strspn(joined.buf, " \t\f\v\r")])
			rc = logical_line(&l, joined.buf, lock);
		sb_reset(&joined);
	}
	sb_release(&joined);
	if (rc == 0)
		rc = check_twice(lock, err);
	if (rc == 0 && !lock->n_pkgs)
		rc = dk_fail(err, DK_E_SPEC, "%s: no requirements", path);
	if (rc < 0)
		dk_lock_release(lock);
	return rc;
}

int dk_requirements_load(const char *path, struct dk_lock *lock, struct dk_err *err)
{
	return dk_lock_read(path, lock, err, dk_requirements_parse);
}
