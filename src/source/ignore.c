/*
 * ignore.c - .dockerignore pattern matching.  See ignore.h for the rules.
 *
 * Docker turns each cleaned pattern into a regular expression.  We split
 * the glob into tokens and run them as a small NFA that gives the same
 * answers: a "**" at the end is "anything", a "**" elsewhere is "nothing,
 * or anything that ends in '/'", so "a", "**" and "b" joined by slashes
 * match "a/b" and "a/x/y/b".  Syntax is checked the way Go's filepath.Match
 * checks it, which is what Docker uses to reject bad patterns.
 *
 * Where Docker's translation to a regexp garbles a pattern we follow Go's
 * filepath.Match instead: '*' or '?' inside a class are plain characters,
 * and "\a" is the letter a (Docker's regexp reads it as BEL).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "derrick/ignore.h"

/* ---- UTF-8: Docker's '?' and classes work on characters, not bytes ---- */

/* Decode one sequence from s[0..avail); -1 if invalid, with *len = 1. */
static long utf8_decode(const unsigned char *s, size_t avail, size_t *len)
{
	size_t n, i;
	long c;

	*len = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return -1;
	}
	if (n > avail)
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* overlong forms and surrogates are invalid, as in Go */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*len = n;
	return c;
}

/* The character at s in a path; invalid bytes count as U+FFFD, as in Go. */
static long path_char(const char *s, const char *end, size_t *len)
{
	long c = utf8_decode((const unsigned char *)s, end - s, len);

	return c < 0 ? 0xfffd : c;
}

/* ---- classes ---- */

/* One class member at *pp, '\' escapes allowed; Go rejects '-' and ']' here. */
static const char *class_char(const char **pp, long *out)
{
	const char *p = *pp;
	size_t len;

	if (*p == '\0')
		return "unterminated '[' class";
	if (*p == '-' || *p == ']')
		return "malformed '[' class";
	if (*p == '\\') {
		p++;
		if (*p == '\0')
			return "unterminated '[' class";
	}
	*out = utf8_decode((const unsigned char *)p, strnlen(p, 4), &len);
	if (*out < 0)
		return "invalid UTF-8 in '[' class";
	p += len;
	if (*p == '\0')
		return "unterminated '[' class";
	*pp = p;
	return NULL;
}

/*
 * Scan the class whose body starts at *pp (just past the '['), leaving *pp
 * past its ']'.  *hit says whether character c is in it.  Returns why the
 * class is malformed, or NULL.  Checking and matching share this code so
 * they cannot disagree about where a class ends.
 */
static const char *scan_class(const char **pp, long c, int *hit)
{
	const char *p = *pp, *why;
	int negated = 0, nrange = 0, in = 0;
	long lo, hi;

	if (*p == '^') {
		negated = 1;
		p++;
	}
	while (*p != ']' || nrange == 0) {
		why = class_char(&p, &lo);
		if (why)
			return why;
		hi = lo;
		if (*p == '-') {
			p++;
			why = class_char(&p, &hi);
			if (why)
				return why;
		}
		/* Go's Match accepts these, but Docker's regexp then fails */
		if (hi < lo)
			return "reversed range in '[' class";
		if (lo <= c && c <= hi)
			in = 1;
		nrange++;
	}
	*pp = p + 1;
	*hit = in != negated;
	return NULL;
}

static const char *check_syntax(const char *p)
{
	const char *why;
	int hit;

	while (*p) {
		if (*p == '\\') {
			if (p[1] == '\0')
				return "trailing backslash";
			p += 2;
		} else if (*p == '[') {
			p++;
			why = scan_class(&p, -1, &hit);
			if (why)
				return why;
		} else {
			p++;
		}
	}
	return NULL;
}

/* ---- matching ---- */

/*
 * A pattern runs as a small NFA, as Go runs Docker's regexp: state i means
 * "the first i tokens have matched", and a step reads one character of the
 * path.  This takes O(path * pattern) time, where the obvious backtracking
 * matcher is exponential in the number of '*'s.
 */
enum tok_kind {
	TOK_CHAR,	/* one literal character */
	TOK_ANY,	/* '?' */
	TOK_CLASS,	/* "[...]" */
	TOK_STAR,	/* '*' */
	TOK_GLOBSTAR,	/* "**" with more after it: nothing, or anything ending in '/' */
	TOK_TAIL,	/* "**" at the end: anything */
};

struct token {
	enum tok_kind kind;
	const char *text;	/* TOK_CHAR: its bytes; TOK_CLASS: the body after '[' */
	size_t len;		/* TOK_CHAR: its length in bytes */
};

/*
 * Fixed-size state sets live on the stack, so a pattern has a length limit
 * (normalize's message says 4095 bytes).
 */
#define MAX_STATES 4096
#define SET_WORDS (MAX_STATES / 64)

struct states {
	uint64_t on[SET_WORDS];
	/* a TOK_GLOBSTAR that has started eating, and must stop after a '/' */
	uint64_t loop[SET_WORDS];
};

static int has(const uint64_t *set, size_t i)
{
	return (set[i / 64] >> (i % 64)) & 1;
}

static void put(uint64_t *set, size_t i)
{
	set[i / 64] |= (uint64_t)1 << (i % 64);
}

static void clear(struct states *set, size_t ntok)
{
	size_t words = ntok / 64 + 1;

	memset(set->on, 0, words * sizeof(set->on[0]));
	memset(set->loop, 0, words * sizeof(set->loop[0]));
}

static int is_empty(const struct states *set, size_t ntok)
{
	size_t w;

	for (w = 0; w <= ntok / 64; w++) {
		if (set->on[w] || set->loop[w])
			return 0;
	}
	return 1;
}

/* Fill t from the glob at g, which has passed check_syntax; return what follows. */
static const char *next_token(const char *g, struct token *t)
{
	size_t len;
	int hit;

	t->text = g;
	t->len = 0;
	switch (*g) {
	case '?':
		t->kind = TOK_ANY;
		return g + 1;
	case '[':
		t->kind = TOK_CLASS;
		g++;
		t->text = g;
		scan_class(&g, -1, &hit);
		return g;
	case '*':
		if (g[1] != '*') {
			t->kind = TOK_STAR;
			return g + 1;
		}
		/* Docker folds the '/' after "**" into it */
		g += 2;
		if (*g == '/')
			g++;
		t->kind = *g ? TOK_GLOBSTAR : TOK_TAIL;
		return g;
	case '\\':
		g++;
		/* fall through */
	default:
		utf8_decode((const unsigned char *)g, strnlen(g, 4), &len);
		t->kind = TOK_CHAR;
		t->text = g;
		t->len = len;
		return g + len;
	}
}

/* Add state i to set, with every state it reaches without reading. */
static void enter(const struct token *toks, size_t ntok, struct states *set, size_t i)
{
	for (; i < ntok; i++) {
		put(set->on, i);
		if (toks[i].kind == TOK_GLOBSTAR)
			put(set->loop, i);
		else if (toks[i].kind != TOK_STAR && toks[i].kind != TOK_TAIL)
			return;
	}
	put(set->on, ntok);
}

/* Does token t take character c, spelled s[0..len)? */
static int accepts(const struct token *t, const char *s, size_t len, long c)
{
	const char *p = t->text;
	int hit;

	switch (t->kind) {
	case TOK_CHAR:
		return len == t->len && memcmp(s, t->text, len) == 0;
	case TOK_ANY:
	case TOK_STAR:
		return c != '/';
	case TOK_CLASS:
		scan_class(&p, c, &hit);
		return hit;
	case TOK_TAIL:
		return 1;
	case TOK_GLOBSTAR:
		break;		/* it reads only through its loop state */
	}
	return 0;
}

/* Move state i of cur over character c into next. */
static void step_state(const struct token *toks, size_t ntok, const struct states *cur,
		       struct states *next, size_t i, const char *s, size_t len, long c)
{
	if (has(cur->loop, i)) {
		put(next->loop, i);
		if (c == '/')
			enter(toks, ntok, next, i + 1);
	}
	if (!has(cur->on, i) || !accepts(&toks[i], s, len, c))
		return;
	if (toks[i].kind == TOK_STAR || toks[i].kind == TOK_TAIL)
		enter(toks, ntok, next, i);	/* they take more */
	else
		enter(toks, ntok, next, i + 1);
}

/* Only a few states are live at a time: visit just those. */
static void step(const struct token *toks, size_t ntok, const struct states *cur,
		 struct states *next, const char *s, size_t len, long c)
{
	uint64_t live;
	size_t w, i;

	for (w = 0; w <= ntok / 64; w++) {
		live = cur->on[w] | cur->loop[w];
		while (live) {
			i = w * 64 + __builtin_ctzll(live);
			live &= live - 1;	/* drop the lowest bit, just visited */
			if (i < ntok)
				step_state(toks, ntok, cur, next, i, s, len, c);
		}
	}
}

/*
 * Does the pattern match the path s[0..end) or one of its parent
 * directories?  A parent is a prefix that ends before a '/', so one pass
 * answers for all of them.  With `partial`, answer instead whether the
 * pattern could match some path that starts with s[0..end).
 */
static int nfa_match(const struct token *toks, size_t ntok, const char *s, const char *end,
		     int partial)
{
	struct states a, b, *cur = &a, *next = &b, *tmp;
	size_t len;
	long c;

	clear(cur, ntok);
	enter(toks, ntok, cur, 0);
	for (; s < end; s += len) {
		if (!partial && *s == '/' && has(cur->on, ntok))
			return 1;
		c = path_char(s, end, &len);
		clear(next, ntok);
		step(toks, ntok, cur, next, s, len, c);
		if (is_empty(next, ntok))
			return 0;
		tmp = cur;
		cur = next;
		next = tmp;
	}
	return partial || has(cur->on, ntok);
}

struct pattern {
	char *glob;		/* cleaned, without the '!' */
	struct token *toks;	/* glob, split up */
	size_t ntok;
	int exception;		/* a '!' pattern: re-includes what it matches */
	/*
	 * Docker special-cases "**" followed by a plain literal: it tests
	 * "ends with the literal", so "**.pyc" matches "a/b.pyc" even though
	 * "**" normally only stands for whole components.
	 */
	int loose_suffix;
};

struct dk_ignore {
	struct pattern *pats;
	size_t n, cap;
};

static int is_loose_suffix(const char *glob)
{
	return glob[0] == '*' && glob[1] == '*' && glob[2] != '\0' && glob[2] != '/' &&
	       !strpbrk(glob + 2, "*?[]\\");
}

/* Does path s[0..end), or one of its parents, end with the literal tail? */
static int loose_suffix_match(const char *tail, const char *s, const char *end)
{
	size_t n = strlen(tail);
	const char *q;

	for (q = s + n; q <= end; q++) {
		if ((q == end || *q == '/') && memcmp(q - n, tail, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * Does the pattern match path s[0..end) or a parent directory of it (which
 * then matches everything below it)?  See nfa_match for `partial`.
 */
static int pattern_match(const struct pattern *pat, const char *s, const char *end,
			 int partial)
{
	if (!pat->loose_suffix)
		return nfa_match(pat->toks, pat->ntok, s, end, partial);
	return partial || loose_suffix_match(pat->glob + 2, s, end);
}

/* ---- turning a line into a pattern ---- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Trim s[0..*n) in place of its bounds; returns the new start. */
static const char *trim(const char *s, size_t *n)
{
	while (*n > 0 && is_space(s[0])) {
		s++;
		(*n)--;
	}
	while (*n > 0 && is_space(s[*n - 1]))
		(*n)--;
	return s;
}

/*
 * Go's path.Clean, in place: drop empty and "." components, fold "x/..",
 * drop ".." at the root, "" becomes ".".  Every byte written stands for a
 * byte already read, so writing never overtakes reading.
 */
static void clean_path(char *s)
{
	size_t n = strlen(s), r = 0, w = 0, dotdot = 0;
	int rooted = s[0] == '/';

	if (rooted)
		r = w = dotdot = 1;
	while (r < n) {
		if (s[r] == '/') {
			r++;
		} else if (s[r] == '.' && (r + 1 == n || s[r + 1] == '/')) {
			r++;
		} else if (s[r] == '.' && s[r + 1] == '.' && (r + 2 == n || s[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && s[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					s[w++] = '/';
				s[w++] = '.';
				s[w++] = '.';
				dotdot = w;
			}
		} else {
			if (w != (size_t)rooted)
				s[w++] = '/';
			while (r < n && s[r] != '/')
				s[w++] = s[r++];
		}
	}
	if (w == 0)
		s[w++] = '.';
	s[w] = '\0';
}

/*
 * Docker's ignorefile.ReadAll: trim, split off '!', clean the rest and drop
 * one leading '/'.  Returns the result in buf (room for strlen(line) + 2),
 * or NULL for a comment or blank line.
 */
static char *read_all_step(const char *line, char *buf)
{
	const char *t;
	char *s = buf + 1;
	size_t n = strlen(line);
	int invert;

	if (line[0] == '#')
		return NULL;
	t = trim(line, &n);
	if (n == 0)
		return NULL;
	invert = t[0] == '!';
	if (invert) {
		n--;
		t = trim(t + 1, &n);
	}
	memcpy(s, t, n);
	s[n] = '\0';
	if (n > 0) {
		clean_path(s);
		if (s[0] == '/' && s[1] != '\0')
			s++;
	}
	if (invert) {
		s--;
		s[0] = '!';
	}
	return s;
}

/*
 * Docker's patternmatcher.New, on what ReadAll produced: trim and clean
 * again, then take the '!' off.  Returns NULL when nothing is left.
 */
static char *new_step(char *s, int *exception)
{
	size_t n = strlen(s);

	s = (char *)trim(s, &n);
	s[n] = '\0';
	if (n == 0)
		return NULL;
	clean_path(s);
	*exception = s[0] == '!';
	return *exception ? s + 1 : s;
}

/*
 * Turn a line into a malloc'd glob (NULL, returning 0, for a line that
 * holds no pattern).  The two Docker steps are kept apart so that odd
 * lines ("! /x", "/ foo") come out exactly as they do in Docker.
 */
static int normalize(const char *line, const char *origin, char **glob, int *exception,
		     struct dk_err *err)
{
	size_t n = strlen(line);
	const char *shown = trim(line, &n), *why;
	char *buf, *s;

	*glob = NULL;
	*exception = 0;
	buf = malloc(strlen(line) + 2);
	if (!buf)
		return dk_fail(err, DK_E_INTERNAL, "%s: out of memory", origin);
	s = read_all_step(line, buf);
	if (s)
		s = new_step(s, exception);
	if (!s) {
		free(buf);
		return 0;
	}
	if (*exception && s[0] == '\0')
		why = "'!' with nothing to re-include";
	else if (strlen(s) >= MAX_STATES)
		why = "longer than 4095 bytes";
	else
		why = check_syntax(s);
	if (why) {
		free(buf);
		/* keep the reason on screen when the pattern is huge */
		return dk_fail(err, DK_E_SPEC, "%s: invalid pattern \"%.*s%s\": %s", origin,
			       n > 200 ? 200 : (int)n, shown, n > 200 ? "..." : "", why);
	}
	*glob = strdup(s);
	free(buf);
	if (!*glob)
		return dk_fail(err, DK_E_INTERNAL, "%s: out of memory", origin);
	return 0;
}

/* ---- the public API ---- */

struct dk_ignore *dk_ignore_new(void)
{
	return calloc(1, sizeof(struct dk_ignore));
}

void dk_ignore_free(struct dk_ignore *ig)
{
	size_t i;

	if (!ig)
		return;
	for (i = 0; i < ig->n; i++) {
		free(ig->pats[i].glob);
		free(ig->pats[i].toks);
	}
	free(ig->pats);
	free(ig);
}

/* Split the glob into the tokens the matcher runs on. */
static int tokenize(struct pattern *pat)
{
	const char *g = pat->glob;

	/* a token takes at least one byte */
	pat->toks = malloc((strlen(g) + 1) * sizeof(*pat->toks));
	if (!pat->toks)
		return -1;
	pat->ntok = 0;
	while (*g) {
		g = next_token(g, &pat->toks[pat->ntok]);
		pat->ntok++;
	}
	return 0;
}

static int grow(struct dk_ignore *ig)
{
	size_t cap = ig->cap ? 2 * ig->cap : 16;
	struct pattern *pats;

	if (ig->n < ig->cap)
		return 0;
	pats = realloc(ig->pats, cap * sizeof(*pats));
	if (!pats)
		return -1;
	ig->pats = pats;
	ig->cap = cap;
	return 0;
}

int dk_ignore_add(struct dk_ignore *ig, const char *pattern, const char *origin,
		  struct dk_err *err)
{
	struct pattern *pat;
	char *glob;
	int exception;

	if (!origin)
		origin = "pattern";
	if (normalize(pattern, origin, &glob, &exception, err))
		return -1;
	if (!glob)
		return 0;
	if (grow(ig)) {
		free(glob);
		return dk_fail(err, DK_E_INTERNAL, "%s: out of memory", origin);
	}
	pat = &ig->pats[ig->n];
	pat->glob = glob;
	pat->exception = exception;
	pat->loose_suffix = is_loose_suffix(glob);
	if (tokenize(pat)) {
		free(glob);
		return dk_fail(err, DK_E_INTERNAL, "%s: out of memory", origin);
	}
	ig->n++;
	return 0;
}

/* Cut the line end (LF or CRLF) and, on line 1, a UTF-8 byte order mark. */
static char *line_text(char *line, ssize_t len, unsigned lineno)
{
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
		return line + 3;
	return line;
}

int dk_ignore_load_file(struct dk_ignore *ig, const char *path, struct dk_err *err)
{
	char origin[DK_ERR_MAX], *line = NULL;
	unsigned lineno = 0;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int ret = 0;

	f = fopen(path, "r");
	if (!f)
		return dk_fail_errno(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_IO,
				     "cannot open %s", path);
	for (;;) {
		errno = 0;
		len = getline(&line, &cap, f);
		if (len < 0)
			break;
		lineno++;
		snprintf(origin, sizeof(origin), "%s:%u", path, lineno);
		ret = dk_ignore_add(ig, line_text(line, len, lineno), origin, err);
		if (ret)
			break;
	}
	/* getline returns -1 at end of file, on a read error, and on ENOMEM */
	if (!ret && (ferror(f) || errno == ENOMEM))
		ret = dk_fail_errno(err, DK_E_IO, "cannot read %s", path);
	free(line);
	fclose(f);
	return ret;
}

static int is_root(const char *relpath)
{
	return relpath[0] == '\0' || strcmp(relpath, ".") == 0;
}

/* Find the last pattern matching relpath or a parent: 1 with its index in *at, or 0. */
static int last_match(const struct dk_ignore *ig, const char *relpath, size_t *at)
{
	const char *end = relpath + strlen(relpath);
	size_t i;

	for (i = ig->n; i-- > 0;) {
		if (pattern_match(&ig->pats[i], relpath, end, 0)) {
			*at = i;
			return 1;
		}
	}
	return 0;
}

int dk_ignore_excluded(const struct dk_ignore *ig, const char *relpath)
{
	size_t at;

	if (is_root(relpath) || !last_match(ig, relpath, &at))
		return 0;
	return !ig->pats[at].exception;
}

/*
 * The pattern that excludes reldir also matches everything below it (as a
 * parent), and no later pattern matches reldir itself.  So only a later '!'
 * pattern can re-include a descendant, and only if it can match a path
 * starting with "reldir/".
 */
int dk_ignore_may_reinclude_below(const struct dk_ignore *ig, const char *reldir)
{
	size_t at, i, n;
	char *prefix;
	int maybe = 0;

	if (is_root(reldir) || !last_match(ig, reldir, &at) || ig->pats[at].exception)
		return 1;
	n = strlen(reldir);
	prefix = malloc(n + 2);
	if (!prefix)
		return 1;	/* unsure, so the walker must look */
	memcpy(prefix, reldir, n);
	prefix[n] = '/';
	prefix[n + 1] = '\0';
	for (i = at + 1; i < ig->n && !maybe; i++) {
		if (ig->pats[i].exception)
			maybe = pattern_match(&ig->pats[i], prefix, prefix + n + 1, 1);
	}
	free(prefix);
	return maybe;
}

size_t dk_ignore_count(const struct dk_ignore *ig)
{
	return ig->n;
}
