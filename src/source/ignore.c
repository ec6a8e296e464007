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

/*
 * A glob is bytes up to `end`: a NUL byte read from an ignore file is a
 * character of the pattern, as in Docker (Go strings hold NULs).
 */
static size_t avail4(const char *p, const char *end)
{
	return end - p < 4 ? (size_t)(end - p) : 4;
}

/* One class member at *pp, '\' escapes allowed; Go rejects '-' and ']' here. */
static const char *class_char(const char **pp, const char *end, long *out)
{
	const char *p = *pp;
	size_t len;

	if (p == end)
		return "unterminated '[' class";
	if (*p == '-' || *p == ']')
		return "malformed '[' class";
	if (*p == '\\') {
		p++;
		if (p == end)
			return "unterminated '[' class";
	}
	*out = utf8_decode((const unsigned char *)p, avail4(p, end), &len);
	if (*out < 0)
		return "invalid UTF-8 in '[' class";
	p += len;
	if (p == end)
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
static const char *scan_class(const char **pp, const char *end, long c, int *hit)
{
	const char *p = *pp, *why;
	int negated = 0, nrange = 0, in = 0;
	long lo, hi;

	if (p < end && *p == '^') {
		negated = 1;
		p++;
	}
	while (p == end || *p != ']' || nrange == 0) {
		why = class_char(&p, end, &lo);
		if (why)
			return why;
		hi = lo;
		if (*p == '-') {
			p++;
			why = class_char(&p, end, &hi);
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

static const char *check_syntax(const char *p, const char *end)
{
	const char *why;
	int hit;

	while (p < end) {
		if (*p == '\\') {
			if (p + 1 == end)
				return "trailing backslash";
			p += 2;
		} else if (*p == '[') {
			p++;
			why = scan_class(&p, end, -1, &hit);
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
	const char *end;	/* TOK_CLASS: the end of the glob */
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

/* Fill t from the glob g..end, which has passed check_syntax; return what follows. */
static const char *next_token(const char *g, const char *end, struct token *t)
{
	size_t len;
	int hit;

	t->text = g;
	t->len = 0;
	t->end = end;
	switch (*g) {
	case '?':
		t->kind = TOK_ANY;
		return g + 1;
	case '[':
		t->kind = TOK_CLASS;
		g++;
		t->text = g;
		scan_class(&g, end, -1, &hit);
		return g;
	case '*':
		if (g + 1 == end || g[1] != '*') {
			t->kind = TOK_STAR;
			return g + 1;
		}
		/* Docker folds the '/' after "**" into it */
		g += 2;
		if (g < end && *g == '/')
			g++;
		t->kind = g < end ? TOK_GLOBSTAR : TOK_TAIL;
		return g;
	case '\\':
		g++;
		/* fall through */
	default:
		utf8_decode((const unsigned char *)g, avail4(g, end), &len);
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
		scan_class(&p, t->end, c, &hit);
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
 * Does the pattern match the whole path s[0..end)?  With `partial`, answer
 * instead whether it could match some path that starts with s[0..end).
 * Parent directories are not tried here: what a directory's verdict does
 * to what lies below it is the walk's business (walk_step).
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
	char *glob;		/* cleaned, without the '!'; NUL bytes included */
	size_t len;		/* of glob, in bytes */
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

static int is_loose_suffix(const char *glob, size_t len)
{
	size_t i;

	if (len < 3 || glob[0] != '*' || glob[1] != '*' || glob[2] == '/')
		return 0;
	for (i = 2; i < len; i++) {
		if (memchr("*?[]\\", glob[i], 5))
			return 0;
	}
	return 1;
}

/* Does the pattern match path s[0..end)?  See nfa_match for `partial`. */
static int pattern_match(const struct pattern *pat, const char *s, const char *end,
			 int partial)
{
	size_t n;

	if (!pat->loose_suffix)
		return nfa_match(pat->toks, pat->ntok, s, end, partial);
	/* Docker's suffix test: the path ends with what follows the "**" */
	n = pat->len - 2;
	return partial || ((size_t)(end - s) >= n && memcmp(end - n, pat->glob + 2, n) == 0);
}

/* ---- turning a line into a pattern ---- */

/*
 * The length of the white space at p[0..n), 0 if none: Docker trims with
 * Go's strings.TrimSpace, whose unicode.IsSpace also takes U+0085, U+00A0,
 * U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F and U+3000.
 */
static size_t space_at(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	if (n >= 1 && p[0] && strchr(" \t\n\v\f\r", p[0]))
		return 1;
	if (n >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
		return 2;
	if (n < 3)
		return 0;
	if ((p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) ||
	    (p[0] == 0xe2 && p[1] == 0x80 && ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 ||
					      p[2] == 0xa9 || p[2] == 0xaf)) ||
	    (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) ||
	    (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80))
		return 3;
	return 0;
}

/* Trim s[0..*n) in place of its bounds; returns the new start. */
static const char *trim(const char *s, size_t *n)
{
	size_t k;

	while ((k = space_at(s, *n)) > 0) {
		s += k;
		*n -= k;
	}
	for (;;) {
		for (k = 1; k <= 3 && k <= *n; k++) {
			if (space_at(s + *n - k, k) == k)
				break;
		}
		if (k > 3 || k > *n)
			return s;
		*n -= k;
	}
}

/*
 * Go's path.Clean of s[0..n), in place: drop empty and "." components,
 * fold "x/..", drop ".." at the root, "" becomes ".".  Every byte written
 * stands for a byte already read, so writing never overtakes reading.
 * s[n] must be a NUL; returns the new length (with a NUL after it).
 */
static size_t clean_path(char *s, size_t n)
{
	size_t r = 0, w = 0, dotdot = 0;
	int rooted = n > 0 && s[0] == '/';

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
	return w;
}

/*
 * Docker's ignorefile.ReadAll on line[0..n): trim, split off '!', clean the
 * rest and drop one leading '/'.  Returns the result in buf (room for n + 2
 * bytes) with its length in *len, or NULL for a comment or blank line.
 */
static char *read_all_step(const char *line, size_t n, char *buf, size_t *len)
{
	const char *t;
	char *s = buf + 1;
	int invert;

	if (n > 0 && line[0] == '#')
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
		n = clean_path(s, n);
		if (n > 1 && s[0] == '/') {
			s++;
			n--;
		}
	}
	if (invert) {
		s--;
		s[0] = '!';
		n++;
	}
	*len = n;
	return s;
}

/*
 * Docker's patternmatcher.New, on what ReadAll produced (s[0..*n)): trim
 * and clean again, then take the '!' off.  Returns NULL when nothing is
 * left; *n is updated.
 */
static char *new_step(char *s, size_t *n, int *exception)
{
	s = (char *)trim(s, n);
	s[*n] = '\0';
	if (*n == 0)
		return NULL;
	*n = clean_path(s, *n);
	*exception = s[0] == '!';
	if (!*exception)
		return s;
	(*n)--;
	return s + 1;
}

/* A line as messages show it: its first 200 bytes, a NUL written "\0". */
static void show_line(const char *s, size_t n, char out[2 * 200 + 4])
{
	size_t i, w = 0;

	for (i = 0; i < n && i < 200; i++) {
		if (s[i] == '\0') {
			out[w++] = '\\';
			out[w++] = '0';
		} else {
			out[w++] = s[i];
		}
	}
	if (n > 200) {
		memcpy(out + w, "...", 3);
		w += 3;
	}
	out[w] = '\0';
}

/*
 * Turn line[0..n) into a malloc'd glob of *glob_len bytes (NULL, returning
 * 0, for a line that holds no pattern).  The two Docker steps are kept
 * apart so that odd lines ("! /x", "/ foo") come out exactly as they do in
 * Docker.
 */
static int normalize(const char *line, size_t n, const char *origin, char **glob, size_t *glob_len,
		     int *exception, struct dk_err *err)
{
	size_t shown_n = n, len = 0;
	const char *shown = trim(line, &shown_n), *why;
	char *buf, *s, text[2 * 200 + 4];

	*glob = NULL;
	*exception = 0;
	buf = malloc(n + 2);
	if (!buf)
		return dk_fail(err, DK_E_INTERNAL, "%s: out of memory", origin);
	s = read_all_step(line, n, buf, &len);
	if (s)
		s = new_step(s, &len, exception);
	if (!s) {
		free(buf);
		return 0;
	}
	if (*exception && len == 0)
		why = "'!' with nothing to re-include";
	else if (len >= MAX_STATES)
		why = "longer than 4095 bytes";
	else
		why = check_syntax(s, s + len);
	if (why) {
		free(buf);
		/* keep the reason on screen when the pattern is huge */
		show_line(shown, shown_n, text);
		return dk_fail(err, DK_E_SPEC, "%s: invalid pattern \"%s\": %s", origin, text, why);
	}
	*glob = malloc(len + 1);
	if (*glob) {
		memcpy(*glob, s, len);
		(*glob)[len] = '\0';
		*glob_len = len;
	}
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
	const char *g = pat->glob, *end = pat->glob + pat->len;

	/* a token takes at least one byte */
	pat->toks = malloc((pat->len + 1) * sizeof(*pat->toks));
	if (!pat->toks)
		return -1;
	pat->ntok = 0;
	while (g < end) {
		g = next_token(g, end, &pat->toks[pat->ntok]);
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

/* dk_ignore_add for a line of n bytes, which may hold NULs. */
static int add_line(struct dk_ignore *ig, const char *line, size_t n, const char *origin,
		    struct dk_err *err)
{
	struct pattern *pat;
	char *glob;
	size_t len = 0;
	int exception;

	if (!origin)
		origin = "pattern";
	if (normalize(line, n, origin, &glob, &len, &exception, err))
		return -1;
	if (!glob)
		return 0;
	if (grow(ig)) {
		free(glob);
		return dk_fail(err, DK_E_INTERNAL, "%s: out of memory", origin);
	}
	pat = &ig->pats[ig->n];
	pat->glob = glob;
	pat->len = len;
	pat->exception = exception;
	pat->loose_suffix = is_loose_suffix(glob, len);
	if (tokenize(pat)) {
		free(glob);
		return dk_fail(err, DK_E_INTERNAL, "%s: out of memory", origin);
	}
	ig->n++;
	return 0;
}

int dk_ignore_add(struct dk_ignore *ig, const char *pattern, const char *origin,
		  struct dk_err *err)
{
	return add_line(ig, pattern, strlen(pattern), origin, err);
}

/*
 * Docker reads an ignore file with Go's bufio.Scanner, which refuses a
 * line (without its '\n') of more than 64 KiB - 1 bytes: the whole build
 * then fails.
 */
#define LINE_MAX_BYTES 65535

int dk_ignore_load_file(struct dk_ignore *ig, const char *path, struct dk_err *err)
{
	/* PATH:LINE, whole however long PATH is: messages shorten it, keeping the line number */
	size_t origin_size = strlen(path) + 16, cap = 0;
	char *origin, *line = NULL, *text;
	unsigned lineno = 0;
	ssize_t len;
	FILE *f;
	int ret = 0;

	f = fopen(path, "r");
	if (!f)
		return dk_fail_errno(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_IO,
				     "cannot open %s", path);
	origin = malloc(origin_size);
	if (!origin) {
		fclose(f);
		return dk_fail(err, DK_E_INTERNAL, "%s: out of memory", path);
	}
	for (;;) {
		errno = 0;
		len = getline(&line, &cap, f);
		if (len < 0)
			break;
		lineno++;
		snprintf(origin, origin_size, "%s:%u", path, lineno);
		/* the line end (LF or CRLF) goes, and on line 1 a UTF-8 byte order mark */
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > LINE_MAX_BYTES) {
			ret = dk_fail(err, DK_E_SPEC, "%s: a line of 64 KiB or more (docker build refuses "
				      "such a file too)", origin);
			break;
		}
		if (len > 0 && line[len - 1] == '\r')
			len--;
		text = line;
		if (lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
			text += 3;
			len -= 3;
		}
		/* a NUL byte stays in the pattern, as in Docker: it never cuts the line */
		ret = add_line(ig, text, (size_t)len, origin, err);
		if (ret)
			break;
	}
	/* getline returns -1 at end of file, on a read error, and on ENOMEM */
	if (!ret && (ferror(f) || errno == ENOMEM))
		ret = dk_fail_errno(err, DK_E_IO, "cannot read %s", path);
	free(line);
	free(origin);
	fclose(f);
	return ret;
}

static int is_root(const char *relpath)
{
	return relpath[0] == '\0' || strcmp(relpath, ".") == 0;
}

/*
 * One step of the walk `docker build` makes (BuildKit's fsutil walker
 * calling patternmatcher's MatchesUsingParentResults) for the path
 * s[0..end), whose parent directory left `parent` (NULL at the top):
 * pattern i holds for the path when it held for the parent, or when it is
 * tried on the path itself and matches it whole.  Docker tries a pattern
 * only when it could change the verdict reached so far (an exclusion while
 * the path is kept, an exception while it is excluded), and only a pattern
 * it tried on a directory (or inherited) carries down to what is inside.
 * So "**.log" then "!logs" keeps the directory logs (nothing
 * excluded it when "!logs" came up, so "!logs" was not tried) and excludes
 * logs/x.log.  state[i] gets whether pattern i holds; returns the verdict.
 */
static int walk_step(const struct dk_ignore *ig, const char *s, const char *end,
		     const unsigned char *parent, unsigned char *state)
{
	int excluded = 0;
	size_t i;

	for (i = 0; i < ig->n; i++) {
		const struct pattern *pat = &ig->pats[i];
		int m = parent && parent[i];

		if (!m && pat->exception != excluded) {
			state[i] = 0;
			continue;
		}
		if (!m)
			m = pattern_match(pat, s, end, 0);
		state[i] = (unsigned char)m;
		if (m)
			excluded = !pat->exception;
	}
	return excluded;
}

int dk_ignore_step(const struct dk_ignore *ig, const char *relpath, const unsigned char *parent,
		   unsigned char *state)
{
	if (is_root(relpath)) {
		memset(state, 0, ig->n);
		return 0;
	}
	return walk_step(ig, relpath, relpath + strlen(relpath), parent, state);
}

/* The state the walk reaches at relpath, from the root down: malloc'd, NULL when out of memory. */
static unsigned char *state_from_root(const struct dk_ignore *ig, const char *relpath, int *excluded)
{
	unsigned char *a = calloc(ig->n + 1, 1), *b = calloc(ig->n + 1, 1), *tmp;
	const char *end = relpath + strlen(relpath), *q;

	*excluded = 0;
	if (!a || !b || is_root(relpath)) {
		free(b);
		return a;
	}
	for (q = relpath; ; q++) {
		if (q == end || *q == '/') {
			/* a starts all zero: the same as no parent */
			*excluded = walk_step(ig, relpath, q, a, b);
			tmp = a;
			a = b;
			b = tmp;
		}
		if (q == end)
			break;
	}
	free(b);
	return a;
}

int dk_ignore_excluded(const struct dk_ignore *ig, const char *relpath)
{
	int excluded;

	free(state_from_root(ig, relpath, &excluded));
	return excluded;
}

/*
 * Below an excluded directory every path inherits its patterns, the last
 * of which (at) excludes.  So only a later '!' pattern can re-include a
 * descendant, and only if it can match a path starting with "reldir/".
 */
int dk_ignore_step_may_reinclude(const struct dk_ignore *ig, const char *reldir,
				 const unsigned char *state)
{
	size_t at, i, n;
	char *prefix;
	int maybe = 0;

	for (at = ig->n; at > 0 && !state[at - 1]; at--)
		;
	if (is_root(reldir) || at == 0 || ig->pats[at - 1].exception)
		return 1;
	n = strlen(reldir);
	prefix = malloc(n + 2);
	if (!prefix)
		return 1;	/* unsure, so the walker must look */
	memcpy(prefix, reldir, n);
	prefix[n] = '/';
	prefix[n + 1] = '\0';
	for (i = at; i < ig->n && !maybe; i++) {
		if (ig->pats[i].exception)
			maybe = pattern_match(&ig->pats[i], prefix, prefix + n + 1, 1);
	}
	free(prefix);
	return maybe;
}

int dk_ignore_may_reinclude_below(const struct dk_ignore *ig, const char *reldir)
{
	int excluded, maybe;
	unsigned char *state = state_from_root(ig, reldir, &excluded);

	if (!state)
		return 1;
	maybe = dk_ignore_step_may_reinclude(ig, reldir, state);
	free(state);
	return maybe;
}

size_t dk_ignore_count(const struct dk_ignore *ig)
{
	return ig->n;
}
