/*
 * markers.c - PEP 508 environment markers, after python3-packaging 23.0's
 * _tokenizer.py (its token rules), _parser.py (the recursive descent) and
 * markers.py (_evaluate_markers, _eval_op, _normalize_extra_values).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/pymarkers.h"
#include "derrick/util.h"
#include "pyshow.h"

static const char *const var_names[DK_PYVAR_COUNT] = {
	"python_version", "python_full_version", "os_name", "sys_platform", "platform_release",
	"platform_system", "platform_version", "platform_machine", "platform_python_implementation",
	"implementation_name", "implementation_version", "extra",
};

/* The spellings the tokenizer's VARIABLE rule accepts, and what each stands for. */
static const struct {
	const char *text;
	enum dk_pyvar var;
} spellings[] = {
	{ "python_version", DK_PYVAR_PYTHON_VERSION },
	{ "python_full_version", DK_PYVAR_PYTHON_FULL_VERSION },
	{ "os_name", DK_PYVAR_OS_NAME }, { "os.name", DK_PYVAR_OS_NAME },
	{ "sys_platform", DK_PYVAR_SYS_PLATFORM }, { "sys.platform", DK_PYVAR_SYS_PLATFORM },
	{ "platform_release", DK_PYVAR_PLATFORM_RELEASE },
	{ "platform_system", DK_PYVAR_PLATFORM_SYSTEM },
	{ "platform_version", DK_PYVAR_PLATFORM_VERSION }, { "platform.version", DK_PYVAR_PLATFORM_VERSION },
	{ "platform_machine", DK_PYVAR_PLATFORM_MACHINE }, { "platform.machine", DK_PYVAR_PLATFORM_MACHINE },
	{ "platform_python_implementation", DK_PYVAR_PLATFORM_PYTHON_IMPLEMENTATION },
	{ "platform.python_implementation", DK_PYVAR_PLATFORM_PYTHON_IMPLEMENTATION },
	{ "python_implementation", DK_PYVAR_PLATFORM_PYTHON_IMPLEMENTATION },
	{ "implementation_name", DK_PYVAR_IMPLEMENTATION_NAME },
	{ "implementation_version", DK_PYVAR_IMPLEMENTATION_VERSION },
	{ "extra", DK_PYVAR_EXTRA },
};

const char *dk_pyvar_name(enum dk_pyvar var)
{
	return var >= 0 && var < DK_PYVAR_COUNT ? var_names[var] : "?";
}

int dk_pyvar_find(const char *name)
{
	for (int i = 0; i < DK_PYVAR_COUNT; i++)
		if (!strcmp(var_names[i], name))
			return i;
	return -1;
}

void dk_pyenv_target(struct dk_pyenv *env, const struct dk_pytarget *t, const char *extra)
{
	memset(env, 0, sizeof(*env));
	snprintf(env->python_version, sizeof(env->python_version), "%d.%d", t->py_major, t->py_minor);
	if (t->py_micro >= 0)
		snprintf(env->full_version, sizeof(env->full_version), "%d.%d.%d", t->py_major, t->py_minor,
			 t->py_micro);
	else
		snprintf(env->full_version, sizeof(env->full_version), "%d.%d", t->py_major, t->py_minor);
	env->value[DK_PYVAR_PYTHON_VERSION] = env->python_version;
	env->value[DK_PYVAR_PYTHON_FULL_VERSION] = env->full_version;
	env->value[DK_PYVAR_IMPLEMENTATION_VERSION] = env->full_version;
	env->value[DK_PYVAR_OS_NAME] = "posix";
	env->value[DK_PYVAR_SYS_PLATFORM] = "linux";
	env->value[DK_PYVAR_PLATFORM_SYSTEM] = "Linux";
	env->value[DK_PYVAR_PLATFORM_MACHINE] = t->machine;
	env->value[DK_PYVAR_PLATFORM_PYTHON_IMPLEMENTATION] = "CPython";
	env->value[DK_PYVAR_IMPLEMENTATION_NAME] = "cpython";
	env->value[DK_PYVAR_EXTRA] = extra ? extra : "";
}

/* ---- the tree ---- */

/* A variable (var >= 0; text is its canonical name) or a quoted string (var -1). */
struct operand {
	int var;
	char *text;
};

enum item_kind { ITEM_TERM, ITEM_GROUP, ITEM_AND, ITEM_OR };

struct item {
	enum item_kind kind;
	struct operand lhs, rhs;   /* ITEM_TERM */
	char *op;                  /* ITEM_TERM: "==", "in", "not in"... */
	struct dk_pymarker *group; /* ITEM_GROUP */
};

struct dk_pymarker {
	struct item *items;
	size_t n;
	char *text;                /* the whole marker, for messages (top level only, dk_py_shown) */
};

void dk_pymarker_free(struct dk_pymarker *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->items[i].lhs.text);
		free(m->items[i].rhs.text);
		free(m->items[i].op);
		dk_pymarker_free(m->items[i].group);
	}
	free(m->items);
	free(m->text);
	free(m);
}

static struct item *new_item(struct dk_pymarker *m, enum item_kind kind)
{
	m->items = dk_xrealloc(m->items, (m->n + 1) * sizeof(*m->items));
	memset(&m->items[m->n], 0, sizeof(m->items[0]));
	m->items[m->n].kind = kind;
	return &m->items[m->n++];
}

/* ---- the tokenizer ---- */

struct parser {
	const char *src;
	size_t pos, len;
	int depth;
	struct dk_err *err;
};

/* Python's \w for str patterns; bytes >= 0x80 stand for non-ASCII letters. */
static int is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c >= 0x80;
}

/* \b at position i */
static int boundary(const struct parser *ps, size_t i)
{
	int before = i > 0 && is_word((unsigned char)ps->src[i - 1]);
	int after = i < ps->len && is_word((unsigned char)ps->src[i]);

	return before != after;
}

static void skip_ws(struct parser *ps)
{
	while (ps->pos < ps->len && (ps->src[ps->pos] == ' ' || ps->src[ps->pos] == '\t'))
		ps->pos++;
}

static int fail(struct parser *ps, const char *what)
{
	char *shown = dk_py_shown(ps->src);

	dk_fail(ps->err, DK_E_SPEC, "invalid marker \"%s\": %s at column %zu", shown, what, ps->pos + 1);
	free(shown);
	return -1;
}

/* A keyword (\bWORD\b) at the current position: its length or 0. */
static size_t keyword(const struct parser *ps, const char *w)
{
	size_t n = strlen(w);

	if (ps->len - ps->pos >= n && !strncmp(ps->src + ps->pos, w, n) && boundary(ps, ps->pos) &&
	    boundary(ps, ps->pos + n))
		return n;
	return 0;
}

static void put_utf8(struct strbuf *sb, unsigned long cp)
{
	if (cp < 0x80) {
		sb_addc(sb, (char)cp);
	} else if (cp < 0x800) {
		sb_addc(sb, (char)(0xc0 | (cp >> 6)));
		sb_addc(sb, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		sb_addc(sb, (char)(0xe0 | (cp >> 12)));
		sb_addc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		sb_addc(sb, (char)(0x80 | (cp & 0x3f)));
	} else {
		sb_addc(sb, (char)(0xf0 | (cp >> 18)));
		sb_addc(sb, (char)(0x80 | ((cp >> 12) & 0x3f)));
		sb_addc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		sb_addc(sb, (char)(0x80 | (cp & 0x3f)));
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The body of a quoted string [s, s + n) decoded as Python's literal_eval
 * decodes a plain string literal.  0 and *out, or -1 with the reason.
 */
static int decode_string(const char *s, size_t n, char **out, const char **why)
{
	static const char simple_from[] = "\\'\"abfnrtv", simple_to[] = "\\'\"\a\b\f\n\r\t\v";
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < n; i++) {
		const char *e;
		unsigned long cp = 0;
		int want = 0;

		if (s[i] == '\n' || s[i] == '\r') {
			*why = "a line break inside a quoted string";
			goto bad;
		}
		if (s[i] == 0) {
			*why = "a NUL inside a quoted string";
			goto bad;
		}
		if (s[i] != '\\') {
			sb_addc(&sb, s[i]);
			continue;
		}
		if (++i == n) {
			/* the backslash escapes the closing quote: the literal never ends */
			*why = "an unterminated quoted string";
			goto bad;
		}
		if (s[i] == '\n')
			continue;   /* a line continuation */
		if ((e = strchr(simple_from, s[i])) && s[i]) {
			sb_addc(&sb, simple_to[e - simple_from]);
			continue;
		}
		if (s[i] >= '0' && s[i] <= '7') {
			for (int k = 0; k < 3 && i < n && s[i] >= '0' && s[i] <= '7'; k++, i++)
				cp = cp * 8 + (unsigned long)(s[i] - '0');
			i--;
			if (!cp) {
				*why = "a NUL inside a quoted string";
				goto bad;
			}
			put_utf8(&sb, cp);
			continue;
		}
		want = s[i] == 'x' ? 2 : s[i] == 'u' ? 4 : s[i] == 'U' ? 8 : 0;
		if (s[i] == 'N') {
			*why = "a \\N{...} escape (not supported)";
			goto bad;
		}
		if (!want) {
			/* an unknown escape stays as written, backslash included */
			sb_addc(&sb, '\\');
			sb_addc(&sb, s[i]);
			continue;
		}
		for (int k = 0; k < want; k++) {
			int h = i + 1 + (size_t)k < n ? hexval(s[i + 1 + k]) : -1;

			if (h < 0) {
				*why = "a truncated \\x, \\u or \\U escape";
				goto bad;
			}
			cp = cp * 16 + (unsigned long)h;
		}
		i += (size_t)want;
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0) {
			*why = cp == 0 ? "a NUL inside a quoted string" : "an escape that is no Unicode character";
			goto bad;
		}
		put_utf8(&sb, cp);
	}
	*out = sb_detach(&sb);
	return 0;
bad:
	sb_release(&sb);
	return -1;
}

/* marker_var = VARIABLE | QUOTED_STRING */
static int parse_var(struct parser *ps, struct operand *o)
{
	const char *why;
	char q;

	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		size_t n = keyword(ps, spellings[i].text);

		if (n) {
			o->var = (int)spellings[i].var;
			o->text = dk_xstrdup(var_names[o->var]);
			ps->pos += n;
			return 0;
		}
	}
	q = ps->pos < ps->len ? ps->src[ps->pos] : 0;
	if (q == '\'' || q == '"') {
		const char *close = memchr(ps->src + ps->pos + 1, q, ps->len - ps->pos - 1);

		if (close) {
			size_t start = ps->pos + 1, n = (size_t)(close - (ps->src + start));

			o->var = -1;
			if (decode_string(ps->src + start, n, &o->text, &why) < 0)
				return fail(ps, why);
			ps->pos = start + n + 1;
			return 0;
		}
	}
	if (is_word((unsigned char)q)) {
		/* a name, but none of PEP 508's: say which ("extras", "dependency_groups" of newer PEPs) */
		size_t n = 0;
		char *name, *shown, *why;

		while (ps->pos + n < ps->len && (is_word((unsigned char)ps->src[ps->pos + n]) || ps->src[ps->pos + n] == '.'))
			n++;
		name = dk_xstrndup(ps->src + ps->pos, n);
		shown = dk_py_shown(name);
		why = dk_xasprintf("unknown marker variable \"%s\" (derrick knows PEP 508's)", shown);
		fail(ps, why);
		free(why);
		free(shown);
		free(name);
		return -1;
	}
	return fail(ps, "expected a marker variable or quoted string");
}

/* marker_op = IN | NOT WS IN | OP */
static int parse_op(struct parser *ps, char **op)
{
	static const char *const ops[] = { "===", "==", "~=", "!=", "<=", ">=", "<", ">" };
	size_t n;

	if ((n = keyword(ps, "in"))) {
		ps->pos += n;
		*op = dk_xstrdup("in");
		return 0;
	}
	if ((n = keyword(ps, "not"))) {
		size_t at;

		ps->pos += n;
		at = ps->pos;
		skip_ws(ps);
		if (ps->pos == at)
			return fail(ps, "expected whitespace after 'not'");
		if (!(n = keyword(ps, "in")))
			return fail(ps, "expected 'in' after 'not'");
		ps->pos += n;
		*op = dk_xstrdup("not in");
		return 0;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strncmp(ps->src + ps->pos, ops[i], strlen(ops[i]))) {
			ps->pos += strlen(ops[i]);
			*op = dk_xstrdup(ops[i]);
			return 0;
		}
	return fail(ps, "expected a marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in");
}

static int parse_marker(struct parser *ps, struct dk_pymarker *m);

/* marker_atom = WS? '(' WS? marker WS? ')' WS? | WS? marker_item WS? */
static int parse_atom(struct parser *ps, struct dk_pymarker *m)
{
	skip_ws(ps);
	if (ps->pos < ps->len && ps->src[ps->pos] == '(') {
		size_t open = ps->pos;
		struct item *it = new_item(m, ITEM_GROUP);

		/* nesting is bounded: a deep input must not exhaust the stack */
		if (++ps->depth > 100)
			return fail(ps, "parentheses nested more than 100 deep");
		it->group = dk_xcalloc(1, sizeof(*it->group));
		ps->pos++;
		skip_ws(ps);
		if (parse_marker(ps, it->group) < 0)
			return -1;
		skip_ws(ps);
		if (ps->pos >= ps->len || ps->src[ps->pos] != ')') {
			ps->pos = open;
			return fail(ps, "expected a closing parenthesis for the one");
		}
		ps->pos++;
		ps->depth--;
	} else {
		struct item *it = new_item(m, ITEM_TERM);

		if (parse_var(ps, &it->lhs) < 0)
			return -1;
		skip_ws(ps);
		if (parse_op(ps, &it->op) < 0)
			return -1;
		skip_ws(ps);
		if (parse_var(ps, &it->rhs) < 0)
			return -1;
	}
	skip_ws(ps);
	return 0;
}

/* marker = marker_atom (BOOLOP marker_atom)* */
static int parse_marker(struct parser *ps, struct dk_pymarker *m)
{
	size_t n;

	if (parse_atom(ps, m) < 0)
		return -1;
	for (;;) {
		if ((n = keyword(ps, "or")))
			new_item(m, ITEM_OR);
		else if ((n = keyword(ps, "and")))
			new_item(m, ITEM_AND);
		else
			return 0;
		ps->pos += n;
		if (parse_atom(ps, m) < 0)
			return -1;
	}
}

/* packaging's _normalize_extra_values: PEP 685 names, first term of the top level only */
static void normalize_first_extra(struct dk_pymarker *m)
{
	struct item *it = m->n ? &m->items[0] : NULL;
	struct operand *other = NULL;

	if (!it || it->kind != ITEM_TERM)
		return;
	if (it->lhs.var == DK_PYVAR_EXTRA)
		other = &it->rhs;
	else if (it->rhs.var == DK_PYVAR_EXTRA)
		other = &it->lhs;
	if (other) {
		char *norm = dk_pyname_normalize(other->text);

		free(other->text);
		other->text = norm;
		other->var = -1;
	}
}

int dk_pymarker_parse(const char *text, struct dk_pymarker **out, struct dk_err *err)
{
	struct parser ps = { text, 0, strlen(text), 0, err };
	struct dk_pymarker *m = dk_xcalloc(1, sizeof(*m));

	*out = NULL;
	if (parse_marker(&ps, m) < 0) {
		dk_pymarker_free(m);
		return -1;
	}
	if (ps.pos != ps.len) {
		dk_pymarker_free(m);
		return fail(&ps, "expected 'and', 'or' or the end");
	}
	normalize_first_extra(m);
	/* only messages read it: shown on one line */
	m->text = dk_py_shown(text);
	*out = m;
	return 0;
}

/* ---- evaluation ---- */

/* An evaluation error: 'marker "M": WHY' (why is taken and freed). */
static int fail_marker(struct dk_err *err, const char *marker, char *why)
{
	dk_fail(err, DK_E_SPEC, "marker \"%s\": %s", marker, why);
	free(why);
	return -1;
}

/* Two values of the marker (quoted strings may hold any escape), shown on one line. */
struct shown2 {
	char *a, *b;
};

static struct shown2 show2(const char *a, const char *b)
{
	struct shown2 s = { dk_py_shown(a), dk_py_shown(b) };

	return s;
}

static void shown2_free(struct shown2 *s)
{
	free(s->a);
	free(s->b);
}

static int eval_op(const char *marker, const char *lhs, const char *op, const char *rhs, int *res,
		   struct dk_err *err)
{
	char *spec_text = dk_xasprintf("%s%s", op, rhs);
	struct dk_pyspec spec;
	struct dk_err ignored;
	int c, rc;

	if (dk_pyspec_parse(spec_text, &spec, &ignored) == 0) {
		struct dk_pyver v;

		free(spec_text);
		if (dk_pyver_parse(lhs, &v, &ignored) < 0) {
			struct shown2 sh = show2(lhs, rhs);

			dk_pyspec_free(&spec);
			rc = fail_marker(err, marker, dk_xasprintf("\"%s\" is not a version, to compare with %s \"%s\"",
								   sh.a, op, sh.b));
			shown2_free(&sh);
			return rc;
		}
		rc = dk_pyspec_contains(&spec, &v, DK_PYPRE_YES, res, err);
		dk_pyver_free(&v);
		dk_pyspec_free(&spec);
		return rc;
	}
	free(spec_text);
	if (!strcmp(op, "in")) {
		*res = strstr(rhs, lhs) != NULL;
		return 0;
	}
	if (!strcmp(op, "not in")) {
		*res = strstr(rhs, lhs) == NULL;
		return 0;
	}
	if (!strcmp(op, "~=") || !strcmp(op, "===")) {
		struct shown2 sh = show2(lhs, rhs);

		rc = fail_marker(err, marker, dk_xasprintf("%s is undefined between \"%s\" and \"%s\"", op, sh.a, sh.b));
		shown2_free(&sh);
		return rc;
	}
	c = strcmp(lhs, rhs);
	if (!strcmp(op, "=="))
		*res = c == 0;
	else if (!strcmp(op, "!="))
		*res = c != 0;
	else if (!strcmp(op, "<"))
		*res = c < 0;
	else if (!strcmp(op, "<="))
		*res = c <= 0;
	else if (!strcmp(op, ">"))
		*res = c > 0;
	else
		*res = c >= 0;
	return 0;
}

static int lookup(const char *marker, const struct dk_pyenv *env, const char *key, const char **value,
		  struct dk_err *err)
{
	int var = dk_pyvar_find(key);

	if (var < 0) {
		char *shown = dk_py_shown(key);

		fail_marker(err, marker, dk_xasprintf("\"%s\" names no marker variable", shown));
		free(shown);
		return -1;
	}
	if (!env->value[var])
		return dk_fail(err, DK_E_SPEC,
			       "marker \"%s\": %s is not known for the target (it describes the build machine, not the image)",
			       marker, key);
	*value = env->value[var];
	return 0;
}

static int eval_term(const char *marker, const struct item *it, const struct dk_pyenv *env, int *res,
		     struct dk_err *err)
{
	const char *key, *lv = NULL, *rv = NULL;
	char *nl = NULL, *nr = NULL;
	int rc;

	/* the environment is read for the left side when it is a variable, else for the right */
	if (it->lhs.var >= 0) {
		key = it->lhs.text;
		if (lookup(marker, env, key, &lv, err) < 0)
			return -1;
		rv = it->rhs.text;
	} else {
		key = it->rhs.text;
		lv = it->lhs.text;
		if (lookup(marker, env, key, &rv, err) < 0)
			return -1;
	}
	if (!strcmp(key, var_names[DK_PYVAR_EXTRA])) {
		lv = nl = dk_pyname_normalize(lv);
		rv = nr = dk_pyname_normalize(rv);
	}
	rc = eval_op(marker, lv, it->op, rv, res, err);
	free(nl);
	free(nr);
	return rc;
}

/* packaging's _evaluate_markers: every term is evaluated; any group of "and"s that all hold. */
static int eval_list(const char *marker, const struct dk_pymarker *m, const struct dk_pyenv *env, int *res,
		     struct dk_err *err)
{
	int any = 0, all = 1;

	for (size_t i = 0; i < m->n; i++) {
		const struct item *it = &m->items[i];
		int v = 1;

		switch (it->kind) {
		case ITEM_OR:
			any |= all;
			all = 1;
			continue;
		case ITEM_AND:
			continue;
		case ITEM_GROUP:
			if (eval_list(marker, it->group, env, &v, err) < 0)
				return -1;
			break;
		case ITEM_TERM:
			if (eval_term(marker, it, env, &v, err) < 0)
				return -1;
			break;
		}
		all &= v;
	}
	*res = any | all;
	return 0;
}

int dk_pymarker_eval(const struct dk_pymarker *m, const struct dk_pyenv *env, int *result,
		     struct dk_err *err)
{
	*result = 0;
	return eval_list(m->text, m, env, result, err);
}

int dk_pymarker_check(const char *text, const struct dk_pytarget *t, const char *extra, int *result,
		      struct dk_err *err)
{
	struct dk_pymarker *m;
	struct dk_pyenv env;
	int rc;

	*result = 0;
	if (dk_pymarker_parse(text, &m, err) < 0)
		return -1;
	dk_pyenv_target(&env, t, extra);
	rc = dk_pymarker_eval(m, &env, result, err);
	dk_pymarker_free(m);
	return rc;
}
