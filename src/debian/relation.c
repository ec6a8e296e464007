/*
 * relation.c - Debian relationship fields (debrel.h).
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/debrel.h"
#include "derrick/debversion.h"
#include "derrick/util.h"

struct rp {
	const char *s;
	size_t len, i;
	char *out;              /* token storage: copies, NUL-terminated */
	size_t olen;
	const char *field, *package;
	size_t alt_start;       /* for messages: where the current alternative began */
	struct dk_err *err;
};

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct rp *p)
{
	while (p->i < p->len && is_ws(p->s[p->i]))
		p->i++;
}

static char peek(const struct rp *p)
{
	return p->i < p->len ? p->s[p->i] : 0;
}

static char *keep(struct rp *p, size_t from, size_t to)
{
	char *t = p->out + p->olen;

	memcpy(t, p->s + from, to - from);
	t[to - from] = 0;
	p->olen += to - from + 1;
	return t;
}

static int fail(struct rp *p, const char *why)
{
	size_t from = p->alt_start, to = from;

	/* show the alternative (up to its ',' or '|') the problem is in */
	while (to < p->len && p->s[to] != ',' && p->s[to] != '|' && to - from < 120)
		to++;
	while (to > from && is_ws(p->s[to - 1]))
		to--;
	/* a folded field's line breaks, and any control byte, shown as spaces: messages are one line */
	char *shown = dk_xstrndup(p->s + from, to - from);

	for (char *c = shown; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	dk_fail(p->err, DK_E_SPEC, "%s: %s: \"%s\": %s", p->package ? p->package : "(package)",
		p->field ? p->field : "(field)", shown, why);
	free(shown);
	return -1;
}

/* Policy 5.6.1: [a-z0-9][a-z0-9+.-]+ */
static int valid_name(const char *n)
{
	size_t l = strlen(n);

	if (l < 2 || !((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= '0' && n[0] <= '9')))
		return 0;
	for (size_t i = 1; i < l; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || strchr("+.-", n[i])))
			return 0;
	return 1;
}

/* A name-like token: up to a blank or one of STOP. */
static size_t token_end(const struct rp *p, const char *stop)
{
	size_t e = p->i;

	while (e < p->len && !is_ws(p->s[e]) && !strchr(stop, p->s[e]))
		e++;
	return e;
}

static int parse_op(struct rp *p, enum dk_debrel_op *op)
{
	static const struct { const char *text; enum dk_debrel_op op; } ops[] = {
		{ "<<", DK_DEBREL_LT }, { "<=", DK_DEBREL_LE }, { ">=", DK_DEBREL_GE }, { ">>", DK_DEBREL_GT },
		{ "=", DK_DEBREL_EQ }, { "<", DK_DEBREL_LE }, { ">", DK_DEBREL_GE },
	};

	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		size_t n = strlen(ops[k].text);

		if (p->len - p->i >= n && !memcmp(p->s + p->i, ops[k].text, n)) {
			*op = ops[k].op;
			p->i += n;
			return 0;
		}
	}
	return fail(p, "expected a version operator (<< <= = >= >>) after '('");
}

/* "[a !b]" or "<x !y>": the entries between OPEN and CLOSE, each kept. */
static int parse_list(struct rp *p, char close, char **lists, size_t *nlists, int whole)
{
	size_t start;

	p->i++;
	skip_ws(p);
	start = p->i;
	if (whole) {
		/* a profile group is kept as one string: "!nocheck stage1" */
		while (p->i < p->len && p->s[p->i] != close && !strchr("<>[],|", p->s[p->i]))
			p->i++;
		if (peek(p) != close)
			return fail(p, "unterminated <profile> list");
		size_t e = p->i;

		while (e > start && is_ws(p->s[e - 1]))
			e--;
		if (e == start)
			return fail(p, "empty <profile> list");
		lists[(*nlists)++] = keep(p, start, e);
		p->i++;
		return 0;
	}
	for (;;) {
		size_t e;

		skip_ws(p);
		if (peek(p) == close)
			break;
		e = token_end(p, "[]<>,|()");
		if (e == p->i)
			return fail(p, "unterminated [arch] list");
		lists[(*nlists)++] = keep(p, p->i, e);
		p->i = e;
	}
	p->i++;
	return 0;
}

static int parse_alt(struct rp *p, int flags, struct dk_debrel_alt *a, char **lists, size_t *nlists)
{
	size_t e;

	memset(a, 0, sizeof(*a));
	skip_ws(p);
	p->alt_start = p->i;
	e = token_end(p, "(:[<,|)>]");
	if (e == p->i)
		return fail(p, peek(p) ? "expected a package name" : "empty alternative");
	a->name = keep(p, p->i, e);
	p->i = e;
	if (!valid_name(a->name))
		return fail(p, "invalid package name (Policy 5.6.1: lower-case letters, digits, + - ., two or more)");
	if (peek(p) == ':') {
		p->i++;
		e = p->i;
		while (e < p->len && ((p->s[e] >= 'a' && p->s[e] <= 'z') || (p->s[e] >= '0' && p->s[e] <= '9') ||
				      p->s[e] == '-'))
			e++;
		if (e == p->i)
			return fail(p, "empty architecture qualifier after ':'");
		a->archqual = keep(p, p->i, e);
		p->i = e;
	}
	skip_ws(p);
	if (peek(p) == '(') {
		struct dk_debver v;
		struct dk_err verr;

		p->i++;
		skip_ws(p);
		if (parse_op(p, &a->op) < 0)
			return -1;
		if ((flags & DK_DEBREL_ONLY_EQ) && a->op != DK_DEBREL_EQ)
			return fail(p, "only \"=\" versions are allowed here (Policy 7.5)");
		skip_ws(p);
		e = token_end(p, "()");
		if (e == p->i)
			return fail(p, "version is empty");
		a->version = keep(p, p->i, e);
		p->i = e;
		skip_ws(p);
		if (peek(p) != ')')
			return fail(p, "expected ')' after the version");
		p->i++;
		if (dk_debver_parse(a->version, strlen(a->version), &v, &verr) < 0)
			return fail(p, verr.msg);
		skip_ws(p);
	}
	if (peek(p) == '[') {
		if (!(flags & DK_DEBREL_RESTRICTIONS))
			return fail(p, "[arch] restrictions are only allowed in source relations");
		a->archs = lists + *nlists;
		if (parse_list(p, ']', lists, nlists, 0) < 0)
			return -1;
		a->narchs = (size_t)(lists + *nlists - a->archs);
		if (!a->narchs)
			return fail(p, "empty [arch] list");
		for (size_t k = 0; k < a->narchs; k++)
			if ((a->archs[k][0] == '!') != (a->archs[0][0] == '!'))
				return fail(p, "an [arch] list mixes negated and plain architectures (Policy 7.1)");
		skip_ws(p);
	}
	if (peek(p) == '<') {
		if (!(flags & DK_DEBREL_RESTRICTIONS))
			return fail(p, "<profile> restrictions are only allowed in source relations");
		a->profiles = lists + *nlists;
		while (peek(p) == '<') {
			if (parse_list(p, '>', lists, nlists, 1) < 0)
				return -1;
			skip_ws(p);
		}
		a->nprofiles = (size_t)(lists + *nlists - a->profiles);
	}
	return 0;
}

int dk_debrel_parse(const char *text, size_t len, int flags, const char *field, const char *package,
		    struct dk_debrel *rel, struct dk_err *err)
{
	struct rp p = { .s = text, .len = len, .field = field, .package = package, .err = err };
	size_t nalts = 1, ncl = 1, nlists = 0, maxlists = 0, a = 0;

	memset(rel, 0, sizeof(*rel));
	for (size_t k = 0; k < len; k++) {
		if (text[k] == ',')
			ncl++, nalts++;
		else if (text[k] == '|')
			nalts++;
		else if (text[k] == '[' || text[k] == '<')
			maxlists = len;  /* entries are at least one byte and a separator apart */
	}
	rel->text_ = p.out = dk_xmalloc(2 * len + 2);
	rel->alts_ = dk_xcalloc(nalts, sizeof(*rel->alts_));
	rel->clauses = dk_xcalloc(ncl, sizeof(*rel->clauses));
	if (maxlists)
		rel->lists_ = dk_xcalloc(maxlists, sizeof(*rel->lists_));
	skip_ws(&p);
	if (p.i == len)
		return 0;  /* an empty field: no clauses */
	for (;;) {
		struct dk_debrel_clause *c = &rel->clauses[rel->nclauses++];

		c->alts = rel->alts_ + a;
		for (;;) {
			if (parse_alt(&p, flags, &rel->alts_[a], rel->lists_, &nlists) < 0)
				goto bad;
			a++;
			c->nalts++;
			skip_ws(&p);
			if (peek(&p) != '|')
				break;
			if (flags & DK_DEBREL_NO_ALTS) {
				fail(&p, "alternatives ('|') are not allowed in this field");
				goto bad;
			}
			p.i++;
		}
		if (p.i == len)
			return 0;
		if (peek(&p) != ',') {
			fail(&p, "unexpected character (expected ',' or '|' or the end)");
			goto bad;
		}
		p.i++;
		skip_ws(&p);
		p.alt_start = p.i;
		if (p.i == len || peek(&p) == ',') {
			fail(&p, "empty clause (a ',' with nothing after it)");
			goto bad;
		}
	}
bad:
	dk_debrel_free(rel);
	return -1;
}

void dk_debrel_free(struct dk_debrel *rel)
{
	free(rel->text_);
	free(rel->alts_);
	free(rel->clauses);
	free(rel->lists_);
	memset(rel, 0, sizeof(*rel));
}

const char *dk_debrel_op_name(enum dk_debrel_op op)
{
	static const char *const names[] = { "", "<<", "<=", "=", ">=", ">>" };

	return (unsigned)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

int dk_debrel_satisfies(const char *version, enum dk_debrel_op op, const char *want)
{
	int c;

	if (op == DK_DEBREL_NONE)
		return 1;
	c = dk_debver_cmp_str(version, want);
	switch (op) {
	case DK_DEBREL_LT: return c < 0;
	case DK_DEBREL_LE: return c <= 0;
	case DK_DEBREL_EQ: return c == 0;
	case DK_DEBREL_GE: return c >= 0;
	case DK_DEBREL_GT: return c > 0;
	default: return 0;
	}
}

/* Debian's Linux architectures and their CPU names (dpkg's cputable/ostable), for "any-CPU". */
static const struct { const char *arch, *cpu; } arch_cpus[] = {
	{ "amd64", "amd64" }, { "arm64", "arm64" }, { "armel", "arm" }, { "armhf", "arm" },
	{ "i386", "i386" }, { "mips64el", "mips64el" }, { "ppc64el", "ppc64el" },
	{ "riscv64", "riscv64" }, { "s390x", "s390x" },
};

static int arch_matches(const char *pattern, const char *arch)
{
	const char *cpu = arch;

	for (size_t k = 0; k < sizeof(arch_cpus) / sizeof(arch_cpus[0]); k++)
		if (!strcmp(arch_cpus[k].arch, arch))
			cpu = arch_cpus[k].cpu;
	if (!strcmp(pattern, arch) || !strcmp(pattern, "any") || !strcmp(pattern, "linux-any"))
		return 1;
	if (!strncmp(pattern, "any-", 4))
		return !strcmp(pattern + 4, cpu);
	if (!strncmp(pattern, "linux-", 6))
		return !strcmp(pattern + 6, arch);
	return 0;
}

int dk_debrel_alt_applies(const struct dk_debrel_alt *alt, const char *arch)
{
	if (alt->narchs) {
		int negated = alt->archs[0][0] == '!', hit = 0;

		for (size_t k = 0; k < alt->narchs; k++)
			if (arch_matches(alt->archs[k] + negated, arch))
				hit = 1;
		if (hit == negated)
			return 0;
	}
	if (alt->nprofiles) {
		for (size_t g = 0; g < alt->nprofiles; g++) {
			const char *t = alt->profiles[g];
			int holds = 1;

			/* with no profile active, "!p" holds and "p" does not */
			while (*t) {
				while (*t == ' ' || *t == '\t')
					t++;
				if (!*t)
					break;
				if (*t != '!')
					holds = 0;
				while (*t && *t != ' ' && *t != '\t')
					t++;
			}
			if (holds)
				return 1;
		}
		return 0;
	}
	return 1;
}
