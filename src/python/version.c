/*
 * version.c - PEP 440 versions and specifiers, following python3-packaging
 * 23.0's version.py and specifiers.py step for step (their regular
 * expressions become small scanners here; where packaging compares strings
 * built from a version, so does this file, so the odd corners agree too).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "derrick/pyversion.h"
#include "derrick/util.h"
#include "pyshow.h"

char *dk_py_shown(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			sb_adds(&sb, "\\n");
		else if (c == '\t')
			sb_adds(&sb, "\\t");
		else if (c == '\r')
			sb_adds(&sb, "\\r");
		else if (c == '\\')
			sb_adds(&sb, "\\\\");
		else if (c < 0x20 || c == 0x7f)
			sb_addf(&sb, "\\x%02x", c);
		else
			sb_addc(&sb, (char)c);
	}
	return sb_detach(&sb);
}

static int is_space(char c)
{
	/* Python's str.isspace() over ASCII: \x1c-\x1f are separators there */
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_sep(char c)
{
	return c == '-' || c == '_' || c == '.';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static size_t digits(const char *p, const char *end)
{
	size_t n = 0;

	while (p + n < end && is_digit(p[n]))
		n++;
	return n;
}

/* The first of words (longest first) that p starts with, case ignored; its index or -1. */
static int word(const char *p, const char *end, const char *const *words, size_t *len)
{
	for (int i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);

		if ((size_t)(end - p) >= n && !strncasecmp(p, words[i], n)) {
			*len = n;
			return i;
		}
	}
	return -1;
}

/* A number's digits into text without leading zeros ("0" for zero, whose len stays 0). */
static struct dk_pynum put_num(struct strbuf *sb, const char *d, size_t n)
{
	struct dk_pynum num;

	while (n > 0 && *d == '0')
		d++, n--;
	num.off = (uint32_t)sb->len;
	num.len = (uint32_t)n;
	if (n)
		sb_add(sb, d, n);
	else
		sb_addc(sb, '0');
	return num;
}

void dk_pyver_free(struct dk_pyver *v)
{
	free(v->text);
	free(v->release);
	free(v->local);
	memset(v, 0, sizeof(*v));
}

/* The version grammar of packaging's VERSION_PATTERN, over [s, end); 0 or -1. */
static int parse_range(const char *s, const char *end, struct dk_pyver *v)
{
	static const char *const pre_words[] = { "preview", "alpha", "beta", "pre", "rc", "a", "b", "c", NULL };
	static const char pre_kinds[] = { 'r', 'a', 'b', 'r', 'r', 'a', 'b', 'r' };
	static const char *const post_words[] = { "post", "rev", "r", NULL };
	struct strbuf sb = STRBUF_INIT;
	const char *p = s, *q, *ep = NULL, *pre_d = NULL, *post_d = NULL, *dev_d = NULL;
	size_t n, ep_n = 0, pre_dn = 0, post_dn = 0, dev_dn = 0, nrel = 0, cap = 4;
	struct dk_pynum *rel;
	const char *local = NULL, *local_end = NULL;
	int k;

	memset(v, 0, sizeof(*v));
	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if (p < end && lower(*p) == 'v')
		p++;
	n = digits(p, end);
	if (n && p + n < end && p[n] == '!') {
		ep = p, ep_n = n;
		p += n + 1;
		n = digits(p, end);
	}
	if (!n)
		return -1;
	rel = dk_xmalloc(cap * sizeof(*rel));
	/* release digits are recorded as (start, len) in the input for now */
	for (;;) {
		if (nrel == cap)
			rel = dk_xrealloc(rel, (cap *= 2) * sizeof(*rel));
		rel[nrel].off = (uint32_t)(p - s);
		rel[nrel++].len = (uint32_t)n;
		p += n;
		if (p + 1 < end && *p == '.' && is_digit(p[1])) {
			p++;
			n = digits(p, end);
			continue;
		}
		break;
	}
	/* pre-release: [-_.]? LETTERS [-_.]? DIGITS? */
	q = p;
	if (q < end && is_sep(*q))
		q++;
	if ((k = word(q, end, pre_words, &n)) >= 0) {
		v->pre = pre_kinds[k];
		q += n;
		if (q < end && is_sep(*q))
			q++;
		pre_d = q, pre_dn = digits(q, end);
		p = q + pre_dn;
	}
	/* post-release: -DIGITS, or [-_.]? post|rev|r [-_.]? DIGITS? */
	if (p < end && *p == '-' && (n = digits(p + 1, end))) {
		v->has_post = 1;
		post_d = p + 1, post_dn = n;
		p += 1 + n;
	} else {
		q = p;
		if (q < end && is_sep(*q))
			q++;
		if (word(q, end, post_words, &n) >= 0) {
			v->has_post = 1;
			q += n;
			if (q < end && is_sep(*q))
				q++;
			post_d = q, post_dn = digits(q, end);
			p = q + post_dn;
		}
	}
	/* development release: [-_.]? dev [-_.]? DIGITS? */
	q = p;
	if (q < end && is_sep(*q))
		q++;
	if ((size_t)(end - q) >= 3 && !strncasecmp(q, "dev", 3)) {
		v->has_dev = 1;
		q += 3;
		if (q < end && is_sep(*q))
			q++;
		dev_d = q, dev_dn = digits(q, end);
		p = q + dev_dn;
	}
	/* local label: + ALNUM+ ([-_.] ALNUM+)* */
	if (p < end && *p == '+') {
		int want = 1;   /* an alphanumeric must come next */

		local = ++p;
		for (; p < end; p++) {
			char c = lower(*p);

			if ((c >= 'a' && c <= 'z') || is_digit(c))
				want = 0;
			else if (is_sep(c) && !want)
				want = 1;
			else
				break;
		}
		if (want)
			goto bad;
		local_end = p;
	}
	if (p != end)
		goto bad;

	/* the normalised text, as packaging's Version.__str__ writes it */
	if (ep) {
		v->epoch = put_num(&sb, ep, ep_n);
		if (!v->epoch.len)
			sb_reset(&sb);  /* epoch 0 is not written */
		else
			sb_addc(&sb, '!');
	}
	if (!v->epoch.len)
		v->epoch.off = 0;
	for (size_t i = 0; i < nrel; i++) {
		if (i)
			sb_addc(&sb, '.');
		rel[i] = put_num(&sb, s + rel[i].off, rel[i].len);
	}
	v->release = rel, v->nrelease = nrel;
	if (v->pre) {
		sb_adds(&sb, v->pre == 'a' ? "a" : v->pre == 'b' ? "b" : "rc");
		v->pre_n = put_num(&sb, pre_d, pre_dn);
	}
	if (v->has_post) {
		sb_adds(&sb, ".post");
		v->post_n = put_num(&sb, post_d, post_dn);
	}
	if (v->has_dev) {
		sb_adds(&sb, ".dev");
		v->dev_n = put_num(&sb, dev_d, dev_dn);
	}
	if (local) {
		size_t ncap = 4;

		v->local = dk_xmalloc(ncap * sizeof(*v->local));
		sb_addc(&sb, '+');
		for (const char *a = local; a < local_end;) {
			const char *b = a;
			int numeric = 1;

			while (b < local_end && !is_sep(*b))
				numeric &= is_digit(*b++);
			if (v->nlocal == ncap)
				v->local = dk_xrealloc(v->local, (ncap *= 2) * sizeof(*v->local));
			if (v->nlocal)
				sb_addc(&sb, '.');
			if (numeric) {
				struct dk_pynum num = put_num(&sb, a, (size_t)(b - a));

				v->local[v->nlocal].off = num.off;
				v->local[v->nlocal].len = num.len;
			} else {
				v->local[v->nlocal].off = (uint32_t)sb.len;
				v->local[v->nlocal].len = (uint32_t)(b - a);
				for (const char *c = a; c < b; c++)
					sb_addc(&sb, lower(*c));
			}
			v->local[v->nlocal++].numeric = numeric;
			a = b < local_end ? b + 1 : b;
		}
	}
	v->text = sb_detach(&sb);
	return 0;
bad:
	free(rel);
	sb_release(&sb);
	memset(v, 0, sizeof(*v));
	return -1;
}

int dk_pyver_parse(const char *s, struct dk_pyver *v, struct dk_err *err)
{
	char *shown;

	if (parse_range(s, s + strlen(s), v) < 0) {
		shown = dk_py_shown(s);
		dk_fail(err, DK_E_SPEC, "invalid version \"%s\"", shown);
		free(shown);
		return -1;
	}
	return 0;
}

static int num_cmp(const char *ta, struct dk_pynum a, const char *tb, struct dk_pynum b)
{
	int c;

	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	c = memcmp(ta + a.off, tb + b.off, a.len);
	return (c > 0) - (c < 0);
}

/* The release without its trailing zeros: how many components count. */
static size_t release_len(const struct dk_pyver *v)
{
	size_t n = v->nrelease;

	while (n > 0 && v->release[n - 1].len == 0)
		n--;
	return n;
}

/* Epoch and release only (packaging's base_version compared as versions). */
static int base_cmp(const struct dk_pyver *a, const struct dk_pyver *b)
{
	size_t na = release_len(a), nb = release_len(b);
	int c = num_cmp(a->text, a->epoch, b->text, b->epoch);

	for (size_t i = 0; !c && i < na && i < nb; i++)
		c = num_cmp(a->text, a->release[i], b->text, b->release[i]);
	if (!c && na != nb)
		c = na < nb ? -1 : 1;
	return c;
}

/* packaging's _cmpkey pre part: dev-only sorts lowest, no pre-release highest. */
static int pre_rank(const struct dk_pyver *v)
{
	if (!v->pre && !v->has_post && v->has_dev)
		return 0;
	return v->pre ? 1 : 2;
}

static int local_cmp(const struct dk_pyver *a, const struct dk_pyver *b)
{
	for (size_t i = 0; i < a->nlocal && i < b->nlocal; i++) {
		const struct dk_pylocal *x = &a->local[i], *y = &b->local[i];
		int c;

		if (x->numeric != y->numeric)
			return x->numeric ? 1 : -1;   /* strings sort before numbers */
		if (x->numeric) {
			struct dk_pynum nx = { x->off, x->len }, ny = { y->off, y->len };

			c = num_cmp(a->text, nx, b->text, ny);
		} else {
			c = memcmp(a->text + x->off, b->text + y->off, x->len < y->len ? x->len : y->len);
			c = c ? c : (x->len > y->len) - (x->len < y->len);
		}
		if (c)
			return c > 0 ? 1 : -1;
	}
	return (a->nlocal > b->nlocal) - (a->nlocal < b->nlocal);
}

/* The order of packaging's _cmpkey; with_local 0 compares the public versions. */
static int ver_cmp(const struct dk_pyver *a, const struct dk_pyver *b, int with_local)
{
	int c = base_cmp(a, b), ra, rb;

	if (c)
		return c;
	ra = pre_rank(a), rb = pre_rank(b);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (ra == 1) {
		if (a->pre != b->pre)
			return a->pre < b->pre ? -1 : 1;
		if ((c = num_cmp(a->text, a->pre_n, b->text, b->pre_n)))
			return c;
	}
	if (a->has_post != b->has_post)
		return a->has_post ? 1 : -1;
	if (a->has_post && (c = num_cmp(a->text, a->post_n, b->text, b->post_n)))
		return c;
	if (a->has_dev != b->has_dev)
		return a->has_dev ? -1 : 1;
	if (a->has_dev && (c = num_cmp(a->text, a->dev_n, b->text, b->dev_n)))
		return c;
	if (!with_local)
		return 0;
	if (!a->nlocal != !b->nlocal)
		return a->nlocal ? 1 : -1;
	return local_cmp(a, b);
}

int dk_pyver_cmp(const struct dk_pyver *a, const struct dk_pyver *b)
{
	return ver_cmp(a, b, 1);
}

int dk_pyver_is_prerelease(const struct dk_pyver *v)
{
	return v->pre || v->has_dev;
}

/* ---- specifiers ---- */

static const struct {
	const char *text;
	enum dk_pyop op;
} ops[] = {
	/* packaging's alternation order; "===" is what "==" leaves when followed by '=' */
	{ "~=", DK_PYOP_COMPATIBLE }, { "==", DK_PYOP_EQ }, { "!=", DK_PYOP_NE },
	{ "<=", DK_PYOP_LE }, { ">=", DK_PYOP_GE }, { "<", DK_PYOP_LT }, { ">", DK_PYOP_GT },
};

void dk_pyspec_free(struct dk_pyspec *spec)
{
	free(spec->version);
	spec->version = NULL;
}

static int ends_with_wildcard(const char *s, size_t n)
{
	return n >= 2 && s[n - 2] == '.' && s[n - 1] == '*';
}

/* Whether [s, end) is a version with the parts op allows; 0 or -1. */
static int spec_version_ok(enum dk_pyop op, const char *s, const char *end)
{
	struct dk_pyver v;
	int wild = 0, ok;

	if ((op == DK_PYOP_EQ || op == DK_PYOP_NE) && ends_with_wildcard(s, (size_t)(end - s))) {
		wild = 1;
		end -= 2;
		/* "==1.0 .*" is not a prefix match */
		if (end > s && is_space(end[-1]))
			return -1;
	}
	if (parse_range(s, end, &v) < 0)
		return -1;
	switch (op) {
	case DK_PYOP_EQ:
	case DK_PYOP_NE:
		ok = !wild || (!v.pre && !v.has_post && !v.has_dev && !v.nlocal);
		break;
	case DK_PYOP_COMPATIBLE:
		ok = !v.nlocal && v.nrelease >= 2;
		break;
	default:
		ok = !v.nlocal;
		break;
	}
	dk_pyver_free(&v);
	return ok ? 0 : -1;
}

static int parse_spec_range(const char *s, const char *end, struct dk_pyspec *spec)
{
	const char *p = s;
	size_t i;

	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if (end - p >= 3 && !strncmp(p, "===", 3)) {
		/* arbitrary equality: anything but blanks, ';' and ')' */
		p += 3;
		while (p < end && is_space(*p))
			p++;
		for (const char *q = p; q < end; q++)
			if (is_space(*q) || *q == ';' || *q == ')')
				return -1;
		spec->op = DK_PYOP_ARBITRARY;
		spec->version = dk_xstrndup(p, (size_t)(end - p));
		return 0;
	}
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strncmp(p, ops[i].text, strlen(ops[i].text)))
			break;
	if (i == sizeof(ops) / sizeof(ops[0]))
		return -1;
	p += strlen(ops[i].text);
	while (p < end && is_space(*p))
		p++;
	/* the version must begin right here: no blank inside it ("1 .0") */
	for (const char *q = p; q < end; q++)
		if (is_space(*q))
			return -1;
	if (spec_version_ok(ops[i].op, p, end) < 0)
		return -1;
	spec->op = ops[i].op;
	spec->version = dk_xstrndup(p, (size_t)(end - p));
	return 0;
}

int dk_pyspec_parse(const char *s, struct dk_pyspec *spec, struct dk_err *err)
{
	char *shown;

	memset(spec, 0, sizeof(*spec));
	if (parse_spec_range(s, s + strlen(s), spec) < 0) {
		shown = dk_py_shown(s);
		dk_fail(err, DK_E_SPEC, "invalid specifier \"%s\"", shown);
		free(shown);
		return -1;
	}
	return 0;
}

void dk_pyspecset_free(struct dk_pyspecset *set)
{
	for (size_t i = 0; i < set->n; i++)
		dk_pyspec_free(&set->specs[i]);
	free(set->specs);
	set->specs = NULL;
	set->n = 0;
}

int dk_pyspecset_parse(const char *s, struct dk_pyspecset *set, struct dk_err *err)
{
	const char *p = s;

	memset(set, 0, sizeof(*set));
	for (;;) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p), *a = p;

		while (a < end && is_space(*a))
			a++;
		if (a < end) {
			set->specs = dk_xrealloc(set->specs, (set->n + 1) * sizeof(*set->specs));
			memset(&set->specs[set->n], 0, sizeof(set->specs[0]));
			if (parse_spec_range(a, end, &set->specs[set->n]) < 0) {
				size_t len = (size_t)(end - a);
				char *raw, *part, *whole = dk_py_shown(s);

				while (len > 0 && is_space(a[len - 1]))
					len--;
				raw = dk_xstrndup(a, len);
				part = dk_py_shown(raw);
				free(raw);
				dk_fail(err, DK_E_SPEC, "invalid specifier \"%s\" in \"%s\"", part, whole);
				free(part);
				free(whole);
				dk_pyspecset_free(set);
				return -1;
			}
			set->n++;
		}
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* Parse a specifier's version text (known to be valid unless it is "==="'s). */
static int spec_ver(const char *text, struct dk_pyver *v, struct dk_err *err)
{
	return dk_pyver_parse(text, v, err);
}

/*
 * packaging's canonicalize_version: the normalised text with, when strip,
 * the release's trailing ".0"s dropped; text that is not a version comes
 * back as it is.  A new string.
 */
static char *canonical(const char *text, int strip)
{
	struct dk_pyver v;
	struct strbuf sb = STRBUF_INIT;
	size_t nrel, rel_end;

	if (dk_pyver_parse(text, &v, &(struct dk_err){ 0 }) < 0)
		return dk_xstrdup(text);
	nrel = strip ? release_len(&v) : v.nrelease;
	if (nrel == 0)
		nrel = 1;
	/* the release ends after its last component; the rest is copied as is */
	rel_end = v.release[v.nrelease - 1].off + (v.release[v.nrelease - 1].len ? v.release[v.nrelease - 1].len : 1);
	sb_add(&sb, v.text, v.release[nrel - 1].off + (v.release[nrel - 1].len ? v.release[nrel - 1].len : 1));
	sb_adds(&sb, v.text + rel_end);
	dk_pyver_free(&v);
	return sb_detach(&sb);
}

struct parts {
	char **item;
	size_t n, cap;
};

static void parts_add(struct parts *ps, const char *s, size_t n)
{
	if (ps->n == ps->cap)
		ps->item = dk_xrealloc(ps->item, (ps->cap = ps->cap ? ps->cap * 2 : 8) * sizeof(char *));
	ps->item[ps->n++] = dk_xstrndup(s, n);
}

static void parts_free(struct parts *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->item[i]);
	free(ps->item);
}

/* packaging's _version_split: split at '.', and "1rc2" into "1", "rc2". */
static struct parts version_split(const char *s)
{
	struct parts ps = { NULL, 0, 0 };

	for (;;) {
		const char *dot = strchr(s, '.'), *end = dot ? dot : s + strlen(s);
		size_t d = digits(s, end), l = 0;

		if (d && end - (s + d) >= 2 && s[d] == 'r' && s[d + 1] == 'c')
			l = 2;
		else if (d && end - (s + d) >= 1 && (s[d] == 'a' || s[d] == 'b' || s[d] == 'c'))
			l = 1;
		if (l && s + d + l < end && digits(s + d + l, end) == (size_t)(end - (s + d + l))) {
			parts_add(&ps, s, d);
			parts_add(&ps, s + d, (size_t)(end - (s + d)));
		} else {
			parts_add(&ps, s, (size_t)(end - s));
		}
		if (!dot)
			return ps;
		s = dot + 1;
	}
}

static int all_digits(const char *s)
{
	return *s && digits(s, s + strlen(s)) == strlen(s);
}

/* "==SPEC.*": whether prospective's public version starts with SPEC's parts. */
static int prefix_match(const struct dk_pyver *prospective, const char *spec)
{
	char *pub = dk_xstrndup(prospective->text, strcspn(prospective->text, "+"));
	char *np = canonical(pub, 1), *sv = dk_xstrndup(spec, strlen(spec) - 2), *ns = canonical(sv, 0);
	struct parts a = version_split(np), b = version_split(ns);
	size_t arel = 0, brel = 0, pad, i, j;
	int eq = 1;

	while (arel < a.n && all_digits(a.item[arel]))
		arel++;
	while (brel < b.n && all_digits(b.item[brel]))
		brel++;
	pad = brel > arel ? brel - arel : 0;
	/* the padded prospective, cut to the spec's length, against the spec */
	for (i = 0, j = 0; j < b.n; j++) {
		const char *item;

		if (i < arel)
			item = a.item[i++];
		else if (pad)
			item = "0", pad--;
		else if (i < a.n)
			item = a.item[i++];
		else {
			eq = 0;
			break;
		}
		if (strcmp(item, b.item[j])) {
			eq = 0;
			break;
		}
	}
	parts_free(&a);
	parts_free(&b);
	free(pub);
	free(np);
	free(sv);
	free(ns);
	return eq;
}

static int is_not_suffix(const char *seg)
{
	static const char *const suffixes[] = { "dev", "a", "b", "rc", "post" };

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (!strncmp(seg, suffixes[i], strlen(suffixes[i])))
			return 0;
	return 1;
}

static int compare(enum dk_pyop op, const struct dk_pyver *pv, const char *text, int *res, struct dk_err *err);

static int compare_equal(const struct dk_pyver *pv, const char *text, int *res, struct dk_err *err)
{
	struct dk_pyver sv;

	if (ends_with_wildcard(text, strlen(text))) {
		*res = prefix_match(pv, text);
		return 0;
	}
	if (spec_ver(text, &sv, err) < 0)
		return -1;
	*res = ver_cmp(pv, &sv, sv.nlocal != 0) == 0;
	dk_pyver_free(&sv);
	return 0;
}

static int compare_compatible(const struct dk_pyver *pv, const char *text, int *res, struct dk_err *err)
{
	struct parts ps = version_split(text);
	struct strbuf prefix = STRBUF_INIT;
	size_t n = 0;
	int rc;

	while (n < ps.n && is_not_suffix(ps.item[n]))
		n++;
	for (size_t i = 0; i + 1 < n; i++)
		sb_join(&prefix, ".", ps.item[i]);
	sb_adds(&prefix, ".*");
	parts_free(&ps);
	rc = compare(DK_PYOP_GE, pv, text, res, err);
	if (!rc && *res)
		rc = compare_equal(pv, prefix.buf, res, err);
	sb_release(&prefix);
	return rc;
}

static int compare(enum dk_pyop op, const struct dk_pyver *pv, const char *text, int *res, struct dk_err *err)
{
	struct dk_pyver sv;
	int c;

	switch (op) {
	case DK_PYOP_COMPATIBLE:
		return compare_compatible(pv, text, res, err);
	case DK_PYOP_EQ:
		return compare_equal(pv, text, res, err);
	case DK_PYOP_NE:
		if (compare_equal(pv, text, res, err) < 0)
			return -1;
		*res = !*res;
		return 0;
	case DK_PYOP_ARBITRARY:
		*res = !strcasecmp(pv->text, text);
		return 0;
	default:
		break;
	}
	if (spec_ver(text, &sv, err) < 0)
		return -1;
	switch (op) {
	case DK_PYOP_LE:
		*res = ver_cmp(pv, &sv, 0) <= 0;
		break;
	case DK_PYOP_GE:
		*res = ver_cmp(pv, &sv, 0) >= 0;
		break;
	case DK_PYOP_LT:
		/* <3.1 takes no pre-release of 3.1 itself, unless it names one */
		c = ver_cmp(pv, &sv, 1);
		*res = c < 0 && !(!dk_pyver_is_prerelease(&sv) && dk_pyver_is_prerelease(pv) && !base_cmp(pv, &sv));
		break;
	default:
		/* >3.1 takes no post-release or local version of 3.1 itself */
		c = ver_cmp(pv, &sv, 1);
		*res = c > 0 && !(!sv.has_post && pv->has_post && !base_cmp(pv, &sv)) &&
		       !(pv->nlocal && !base_cmp(pv, &sv));
		break;
	}
	dk_pyver_free(&sv);
	return 0;
}

/* packaging's Specifier.prereleases: whether an inclusive operator names a pre-release. */
static int spec_allows_pre(const struct dk_pyspec *spec, int *allows, struct dk_err *err)
{
	struct dk_pyver v;
	char *text;
	int rc;

	*allows = 0;
	if (spec->op == DK_PYOP_NE || spec->op == DK_PYOP_LT || spec->op == DK_PYOP_GT)
		return 0;
	text = dk_xstrdup(spec->version);
	if (spec->op == DK_PYOP_EQ && ends_with_wildcard(text, strlen(text)))
		text[strlen(text) - 2] = 0;
	rc = dk_pyver_parse(text, &v, err);
	free(text);
	if (rc < 0)
		return -1;
	*allows = dk_pyver_is_prerelease(&v);
	dk_pyver_free(&v);
	return 0;
}

int dk_pyspec_contains(const struct dk_pyspec *spec, const struct dk_pyver *v, enum dk_pypre pre,
		       int *result, struct dk_err *err)
{
	int allows = pre == DK_PYPRE_YES;

	*result = 0;
	if (pre == DK_PYPRE_DEFAULT && spec_allows_pre(spec, &allows, err) < 0)
		return -1;
	if (dk_pyver_is_prerelease(v) && !allows)
		return 0;
	return compare(spec->op, v, spec->version, result, err);
}

int dk_pyspecset_contains(const struct dk_pyspecset *set, const struct dk_pyver *v, enum dk_pypre pre,
			  int *result, struct dk_err *err)
{
	int allows = pre == DK_PYPRE_YES;

	*result = 0;
	/* any() stops at the first specifier that allows them, as packaging's does */
	for (size_t i = 0; pre == DK_PYPRE_DEFAULT && i < set->n && !allows; i++)
		if (spec_allows_pre(&set->specs[i], &allows, err) < 0)
			return -1;
	if (!allows && dk_pyver_is_prerelease(v))
		return 0;
	for (size_t i = 0; i < set->n; i++) {
		if (dk_pyspec_contains(&set->specs[i], v, allows ? DK_PYPRE_YES : DK_PYPRE_NO, result, err) < 0)
			return -1;
		if (!*result)
			return 0;
	}
	*result = 1;
	return 0;
}

int dk_pyspecset_check(const char *set, const char *version, int *result, struct dk_err *err)
{
	struct dk_pyspecset ss;
	struct dk_pyver v;
	int rc;

	if (dk_pyspecset_parse(set, &ss, err) < 0)
		return -1;
	if (dk_pyver_parse(version, &v, err) < 0) {
		dk_pyspecset_free(&ss);
		return -1;
	}
	rc = dk_pyspecset_contains(&ss, &v, DK_PYPRE_DEFAULT, result, err);
	dk_pyver_free(&v);
	dk_pyspecset_free(&ss);
	return rc;
}
