/*
 * resolve.c - package sets and the resolver of debresolve.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "derrick/deb822.h"
#include "derrick/debrel.h"
#include "derrick/debresolve.h"
#include "derrick/debversion.h"
#include "derrick/util.h"

enum { MA_NONE, MA_SAME, MA_FOREIGN, MA_ALLOWED };

struct prov {
	const char *name;
	const char *version;    /* NULL: unversioned (satisfies unversioned clauses only) */
};

struct pkg {
	const char *name, *version, *arch, *raw, *src;
	const char *srcname, *srcversion;  /* the source package (Policy 5.6.1): Source, or Package and Version */
	size_t raw_len, seq, origin;
	unsigned long line;
	struct dk_debver ver;
	int ma, essential, prio;
	/* folded relation fields, parsed when the package is chosen; NULL when absent */
	const char *depends, *predepends, *conflicts, *breaks;
	struct prov *provs;
	size_t nprovs;
};

struct provider {
	const char *vname;
	const char *version;
	struct pkg *p;
};

struct block {
	struct block *next;
	size_t used, cap;
	char data[];
};

struct dk_debidx {
	struct block *blocks;
	struct pkg **pkgs;
	size_t n, cap, seq;
	size_t origin;          /* what dk_debidx_set_origin set: the tag of the stanzas added next */
	struct provider *provs;
	size_t nprov, provcap;
};

#define BLOCK_SIZE (1024 * 1024)

/* Memory that lives as long as the set: stanzas, strings and package records. */
static void *arena(struct dk_debidx *ix, size_t n)
{
	struct block *b = ix->blocks;

	n = (n + 7) & ~(size_t)7;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > BLOCK_SIZE ? n : BLOCK_SIZE;

		b = dk_xmalloc(sizeof(*b) + cap);
		b->used = 0;
		b->cap = cap;
		/* a big one-off block goes behind the current one, which stays in use */
		if (ix->blocks && n > BLOCK_SIZE) {
			b->next = ix->blocks->next;
			ix->blocks->next = b;
		} else {
			b->next = ix->blocks;
			ix->blocks = b;
		}
	}
	b->used += n;
	return b->data + b->used - n;
}

static char *arena_str(struct dk_debidx *ix, const char *s, size_t len)
{
	char *t = arena(ix, len + 1);

	memcpy(t, s, len);
	t[len] = 0;
	return t;
}

struct dk_debidx *dk_debidx_new(void)
{
	return dk_xcalloc(1, sizeof(struct dk_debidx));
}

void dk_debidx_free(struct dk_debidx *ix)
{
	if (!ix)
		return;
	while (ix->blocks) {
		struct block *b = ix->blocks;

		ix->blocks = b->next;
		free(b);
	}
	free(ix->pkgs);
	free(ix->provs);
	free(ix);
}

void dk_debidx_set_origin(struct dk_debidx *ix, size_t origin)
{
	ix->origin = origin;
}

size_t dk_debidx_count(const struct dk_debidx *ix)
{
	return ix->n;
}

static int cmp_pkg(const struct pkg *a, const struct pkg *b)
{
	int c = strcmp(a->name, b->name);

	if (!c)
		c = strcmp(a->arch, b->arch);
	if (!c)
		c = -dk_debver_cmp(&a->ver, &b->ver);
	/* one version in several repositories: the first repository's is the candidate, as in apt */
	if (!c && a->origin != b->origin)
		c = a->origin < b->origin ? -1 : 1;
	if (!c && a->raw_len != b->raw_len)
		c = a->raw_len < b->raw_len ? -1 : 1;
	if (!c)
		c = memcmp(a->raw, b->raw, a->raw_len);
	if (!c && a->seq != b->seq)
		c = a->seq < b->seq ? -1 : 1;
	return c;
}

static int qcmp_pkg(const void *a, const void *b)
{
	return cmp_pkg(*(struct pkg *const *)a, *(struct pkg *const *)b);
}

static int qcmp_prov(const void *a, const void *b)
{
	const struct provider *x = a, *y = b;
	int c = strcmp(x->vname, y->vname);

	return c ? c : cmp_pkg(x->p, y->p);
}

/* The field's value as a NUL-terminated arena string (folded), or NULL when absent. */
static const char *field_str(struct dk_debidx *ix, const struct dk_deb822_stanza *st, const char *name, int fold)
{
	const struct dk_deb822_field *f = dk_deb822_get(st, name);
	char *t, *s;

	if (!f)
		return NULL;
	if (!fold)
		return arena_str(ix, f->value, f->value_len);
	t = dk_deb822_folded(f);
	s = arena_str(ix, t, strlen(t));
	free(t);
	return s;
}

static int value_is(const struct dk_deb822_stanza *st, const char *name, const char *want)
{
	const struct dk_deb822_field *f = dk_deb822_get(st, name);

	return f && f->value_len == strlen(want) && !strncasecmp(f->value, want, f->value_len);
}

/* "install ok installed" (or hold): what apt and dpkg count as installed */
static int installed(const struct dk_deb822_stanza *st)
{
	const struct dk_deb822_field *f = dk_deb822_get(st, "Status");
	char w[3][32];
	char *t;
	int n;

	if (!f)
		return 0;
	t = dk_xstrndup(f->value, f->value_len);
	n = sscanf(t, "%31s %31s %31s", w[0], w[1], w[2]);
	free(t);
	return n == 3 && (!strcmp(w[0], "install") || !strcmp(w[0], "hold")) && !strcmp(w[1], "ok") &&
	       !strcmp(w[2], "installed");
}

static int priority_rank(const struct dk_deb822_stanza *st)
{
	static const char *const order[] = { "required", "important", "standard", "optional", "extra" };

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		if (value_is(st, "Priority", order[k]))
			return (int)k;
	return 5;
}

static int valid_word(const char *s, size_t n, const char *extra)
{
	if (!n)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (!((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= '0' && s[k] <= '9') || strchr(extra, s[k])))
			return 0;
	return 1;
}

/* "Source: name (version)", the version only when it differs from the binary's (binNMUs) */
static void source_of(struct dk_debidx *ix, const struct dk_deb822_stanza *st, struct pkg *p)
{
	const struct dk_deb822_field *f = dk_deb822_get(st, "Source");
	size_t n = 0;

	p->srcname = p->name;
	p->srcversion = p->version;
	if (!f)
		return;
	while (n < f->value_len && f->value[n] != ' ' && f->value[n] != '(')
		n++;
	if (n)
		p->srcname = arena_str(ix, f->value, n);
	const char *open = memchr(f->value + n, '(', f->value_len - n);
	const char *close = open ? memchr(open, ')', f->value_len - (size_t)(open - f->value)) : NULL;

	if (open && close) {
		open++;
		while (open < close && *open == ' ')
			open++;
		while (close > open && close[-1] == ' ')
			close--;
		if (close > open)
			p->srcversion = arena_str(ix, open, (size_t)(close - open));
	}
}

static int add_stanza(struct dk_debidx *ix, const struct dk_deb822_stanza *st, const char *src,
		      enum dk_debidx_kind kind, struct dk_err *err)
{
	const struct dk_deb822_field *pf = dk_deb822_get(st, "Package"), *vf = dk_deb822_get(st, "Version");
	const struct dk_deb822_field *af = dk_deb822_get(st, "Architecture"), *prf;
	struct pkg *p;
	struct dk_debrel rel;

	if (!pf || !pf->value_len)
		return dk_fail(err, DK_E_CORRUPT, "%s:%lu: a stanza without Package", src, st->line);
	/* checked first: the name is in every later message, which must stay one line */
	if (!valid_word(pf->value, pf->value_len, "+-."))
		return dk_fail(err, DK_E_CORRUPT, "%s:%lu: invalid package name (Policy 5.6.1)", src, st->line);
	if (kind == DK_DEBIDX_STATUS && !installed(st))
		return 0;
	if (!vf)
		return dk_fail(err, DK_E_CORRUPT, "%s:%lu: %.*s: no Version", src, st->line, (int)pf->value_len,
			       pf->value);
	if (!af && kind == DK_DEBIDX_PACKAGES)
		return dk_fail(err, DK_E_CORRUPT, "%s:%lu: %.*s: no Architecture", src, st->line,
			       (int)pf->value_len, pf->value);
	if (af && !valid_word(af->value, af->value_len, "-"))
		return dk_fail(err, DK_E_CORRUPT, "%s:%lu: %.*s: invalid Architecture", src, st->line,
			       (int)pf->value_len, pf->value);
	p = arena(ix, sizeof(*p));
	memset(p, 0, sizeof(*p));
	p->raw = arena_str(ix, st->raw, st->raw_len);
	p->raw_len = st->raw_len;
	p->name = arena_str(ix, pf->value, pf->value_len);
	p->version = arena_str(ix, vf->value, vf->value_len);
	p->arch = af ? arena_str(ix, af->value, af->value_len) : "all";
	p->src = src;
	p->line = st->line;
	source_of(ix, st, p);
	p->seq = ix->seq++;
	p->origin = ix->origin;
	if (dk_debver_parse(p->version, strlen(p->version), &p->ver, err) < 0)
		return dk_err_prefix(err, "%s:%lu: %s: Version", src, st->line, p->name);
	p->ma = value_is(st, "Multi-Arch", "same") ? MA_SAME : value_is(st, "Multi-Arch", "foreign") ? MA_FOREIGN :
		value_is(st, "Multi-Arch", "allowed") ? MA_ALLOWED : MA_NONE;
	p->essential = value_is(st, "Essential", "yes");
	p->prio = priority_rank(st);
	p->depends = field_str(ix, st, "Depends", 1);
	p->predepends = field_str(ix, st, "Pre-Depends", 1);
	p->conflicts = field_str(ix, st, "Conflicts", 1);
	p->breaks = field_str(ix, st, "Breaks", 1);
	prf = dk_deb822_get(st, "Provides");
	if (prf) {
		if (dk_debrel_parse(prf->value, prf->value_len, DK_DEBREL_NO_ALTS | DK_DEBREL_ONLY_EQ, "Provides",
				    p->name, &rel, err) < 0)
			return dk_err_prefix(err, "%s:%lu", src, prf->line);
		p->provs = arena(ix, (rel.nclauses ? rel.nclauses : 1) * sizeof(*p->provs));
		for (size_t k = 0; k < rel.nclauses; k++) {
			const struct dk_debrel_alt *a = &rel.clauses[k].alts[0];

			p->provs[k].name = arena_str(ix, a->name, strlen(a->name));
			p->provs[k].version = a->version ? arena_str(ix, a->version, strlen(a->version)) : NULL;
		}
		p->nprovs = rel.nclauses;
		dk_debrel_free(&rel);
	}
	if (ix->n == ix->cap) {
		ix->cap = ix->cap ? ix->cap * 2 : 1024;
		ix->pkgs = dk_xrealloc(ix->pkgs, ix->cap * sizeof(*ix->pkgs));
	}
	ix->pkgs[ix->n++] = p;
	for (size_t k = 0; k < p->nprovs; k++) {
		if (ix->nprov == ix->provcap) {
			ix->provcap = ix->provcap ? ix->provcap * 2 : 1024;
			ix->provs = dk_xrealloc(ix->provs, ix->provcap * sizeof(*ix->provs));
		}
		ix->provs[ix->nprov++] = (struct provider){ p->provs[k].name, p->provs[k].version, p };
	}
	return 0;
}

static int add_reader(struct dk_debidx *ix, struct dk_deb822_reader *r, const char *name,
		      enum dk_debidx_kind kind, struct dk_err *err)
{
	struct dk_deb822_stanza st;
	size_t n0 = ix->n, p0 = ix->nprov;
	const char *src = arena_str(ix, name, strlen(name));
	int rc;

	while ((rc = dk_deb822_next(r, &st, err)) > 0)
		if (add_stanza(ix, &st, src, kind, err) < 0) {
			rc = -1;
			break;
		}
	dk_deb822_close(r);
	if (rc < 0) {
		/* the set stays as it was, sorted: the new ones were appended (their bytes stay in the arena) */
		ix->n = n0;
		ix->nprov = p0;
		return -1;
	}
	if (ix->n > 1)
		qsort(ix->pkgs, ix->n, sizeof(*ix->pkgs), qcmp_pkg);
	if (ix->nprov > 1)
		qsort(ix->provs, ix->nprov, sizeof(*ix->provs), qcmp_prov);
	return 0;
}

int dk_debidx_add_file(struct dk_debidx *ix, const char *path, enum dk_debidx_kind kind, struct dk_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return dk_fail_errno(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_IO, "%s: open", path);
	rc = add_reader(ix, dk_deb822_open_fd(fd, path, 0), path, kind, err);
	close(fd);
	return rc;
}

int dk_debidx_add_mem(struct dk_debidx *ix, const char *buf, size_t len, const char *name,
		      enum dk_debidx_kind kind, struct dk_err *err)
{
	return add_reader(ix, dk_deb822_open_mem(buf, len, name, 0), name, kind, err);
}

/* The packages named NAME: [*lo, *hi) of ix->pkgs. */
static void by_name(const struct dk_debidx *ix, const char *name, size_t *lo, size_t *hi)
{
	size_t l = 0, h = ix->n;

	while (l < h) {
		size_t m = l + (h - l) / 2;

		if (strcmp(ix->pkgs[m]->name, name) < 0)
			l = m + 1;
		else
			h = m;
	}
	*lo = l;
	for (h = l; h < ix->n && !strcmp(ix->pkgs[h]->name, name); h++)
		;
	*hi = h;
}

static void providers(const struct dk_debidx *ix, const char *name, size_t *lo, size_t *hi)
{
	size_t l = 0, h = ix->nprov;

	while (l < h) {
		size_t m = l + (h - l) / 2;

		if (strcmp(ix->provs[m].vname, name) < 0)
			l = m + 1;
		else
			h = m;
	}
	*lo = l;
	for (h = l; h < ix->nprov && !strcmp(ix->provs[h].vname, name); h++)
		;
	*hi = h;
}

/* ---- the resolver ---- */

struct chosen {
	struct pkg *p;
	char *why;
	const struct pkg *replaces;
	int pre;
};

struct rs {
	struct dk_debidx *ix, *base;
	const char *arch;
	struct chosen *ch;
	size_t nch, cap;
	struct dk_err *err;
};

/* An "all" package is one of the target architecture's (apt and dpkg treat it as native). */
static const char *eff_arch(const struct rs *s, const struct pkg *p)
{
	return strcmp(p->arch, "all") ? p->arch : s->arch;
}

static int same_slot(const struct rs *s, const struct pkg *a, const struct pkg *b)
{
	return !strcmp(a->name, b->name) && !strcmp(eff_arch(s, a), eff_arch(s, b));
}

/*
 * Whether T's architecture fits a clause with qualifier QUAL of a package
 * of architecture DEP (effective): dpkg's deparchsatisfied.
 */
static int arch_ok(const struct rs *s, const struct pkg *t, const char *qual, const char *dep)
{
	const char *want;

	if (t->ma == MA_FOREIGN)
		return 1;
	if (qual && !strcmp(qual, "any"))
		return t->ma == MA_ALLOWED;
	want = !qual ? dep : !strcmp(qual, "native") ? s->arch : qual;
	return !strcmp(eff_arch(s, t), want);
}

static int replaced(const struct rs *s, const struct pkg *b)
{
	for (size_t k = 0; k < s->nch; k++)
		if (same_slot(s, s->ch[k].p, b))
			return 1;
	return 0;
}

static int chosen_has(const struct rs *s, const struct pkg *p)
{
	for (size_t k = 0; k < s->nch; k++)
		if (s->ch[k].p == p)
			return 1;
	return 0;
}

static int real_fits(const struct rs *s, const struct pkg *t, const struct dk_debrel_alt *a, const char *dep)
{
	return arch_ok(s, t, a->archqual, dep) && dk_debrel_satisfies(t->version, a->op, a->version);
}

/* Policy 7.5: an unversioned Provides satisfies only unversioned clauses. */
static int prov_fits(const struct rs *s, const struct pkg *t, const char *pversion, const struct dk_debrel_alt *a,
		     const char *dep)
{
	if (a->op != DK_DEBREL_NONE && !pversion)
		return 0;
	return arch_ok(s, t, a->archqual, dep) &&
	       (a->op == DK_DEBREL_NONE || dk_debrel_satisfies(pversion, a->op, a->version));
}

/* The package of the base or the result that satisfies A for a DEP-arch package (skipping SELF), or NULL. */
static const struct pkg *present(const struct rs *s, const struct dk_debrel_alt *a, const char *dep,
				 const char *self)
{
	size_t lo, hi;

	if (s->base) {
		by_name(s->base, a->name, &lo, &hi);
		for (size_t k = lo; k < hi; k++)
			if (!replaced(s, s->base->pkgs[k]) && real_fits(s, s->base->pkgs[k], a, dep))
				return s->base->pkgs[k];
		providers(s->base, a->name, &lo, &hi);
		for (size_t k = lo; k < hi; k++) {
			const struct provider *v = &s->base->provs[k];

			if ((!self || strcmp(v->p->name, self)) && !replaced(s, v->p) &&
			    prov_fits(s, v->p, v->version, a, dep))
				return v->p;
		}
	}
	for (size_t k = 0; k < s->nch; k++) {
		const struct pkg *p = s->ch[k].p;

		if (!strcmp(p->name, a->name) && real_fits(s, p, a, dep))
			return p;
		if (self && !strcmp(p->name, self))
			continue;
		for (size_t j = 0; j < p->nprovs; j++)
			if (!strcmp(p->provs[j].name, a->name) && prov_fits(s, p, p->provs[j].version, a, dep))
				return p;
	}
	return NULL;
}

/* apt's candidate: the highest version of NAME for effective architecture ARCH, or NULL. */
static struct pkg *candidate(const struct rs *s, const char *name, const char *arch)
{
	size_t lo, hi;
	struct pkg *best = NULL;

	by_name(s->ix, name, &lo, &hi);
	for (size_t k = lo; k < hi; k++) {
		struct pkg *p = s->ix->pkgs[k];

		if (!strcmp(eff_arch(s, p), arch) && (!best || dk_debver_cmp(&p->ver, &best->ver) > 0))
			best = p;
	}
	return best;
}

static int is_candidate(const struct rs *s, const struct pkg *p)
{
	return candidate(s, p->name, eff_arch(s, p)) == p;
}

/* The better of two providers: Priority, then the target architecture, then name and arch. */
static int better_provider(const struct rs *s, const struct pkg *a, const struct pkg *b)
{
	int an = !strcmp(eff_arch(s, a), s->arch), bn = !strcmp(eff_arch(s, b), s->arch);

	if (a->prio != b->prio)
		return a->prio < b->prio;
	if (an != bn)
		return an;
	return cmp_pkg(a, b) < 0;
}

/* The package apt would install for alternative A of a DEP-arch package, or NULL. */
static struct pkg *pick(const struct rs *s, const struct dk_debrel_alt *a, const char *dep)
{
	size_t lo, hi;
	struct pkg *best = NULL;

	by_name(s->ix, a->name, &lo, &hi);
	for (size_t k = lo; k < hi; k++) {
		struct pkg *p = s->ix->pkgs[k];

		if (!is_candidate(s, p) || !real_fits(s, p, a, dep))
			continue;
		/* the depending package's own architecture first */
		if (!best || (!strcmp(eff_arch(s, p), dep) && strcmp(eff_arch(s, best), dep)))
			best = p;
	}
	if (best)
		return best;
	providers(s->ix, a->name, &lo, &hi);
	for (size_t k = lo; k < hi; k++) {
		struct provider *v = &s->ix->provs[k];

		if (!is_candidate(s, v->p) || !prov_fits(s, v->p, v->version, a, dep))
			continue;
		if (!best || better_provider(s, v->p, best))
			best = v->p;
	}
	return best;
}

static void alt_text(struct strbuf *sb, const struct dk_debrel_alt *a)
{
	sb_adds(sb, a->name);
	if (a->archqual)
		sb_addf(sb, ":%s", a->archqual);
	if (a->op != DK_DEBREL_NONE)
		sb_addf(sb, " (%s %s)", dk_debrel_op_name(a->op), a->version);
}

/* Why A cannot be installed: what the index has instead. */
static void alt_reason(const struct rs *s, struct strbuf *sb, const struct dk_debrel_alt *a)
{
	size_t lo, hi, plo, phi, shown = 0;

	by_name(s->ix, a->name, &lo, &hi);
	providers(s->ix, a->name, &plo, &phi);
	if (lo == hi && plo == phi) {
		sb_addf(sb, "%s is not in the index", a->name);
		return;
	}
	if (lo < hi) {
		sb_adds(sb, "no version satisfies; the index has ");
		for (size_t k = lo; k < hi && shown < 8; k++) {
			const struct pkg *p = s->ix->pkgs[k];

			sb_addf(sb, "%s%s", shown ? ", " : "", p->version);
			if (strcmp(p->arch, s->arch) && strcmp(p->arch, "all"))
				sb_addf(sb, " (%s)", p->arch);
			shown++;
		}
	}
	if (plo < phi)
		sb_addf(sb, "%sno candidate among its %zu provider(s) fits", lo < hi ? "; " : "", phi - plo);
}

static char *arrows(const char *why)
{
	struct strbuf sb = { 0 };

	for (const char *p = why; *p;) {
		if (!strncmp(p, " <- ", 4)) {
			sb_adds(&sb, " -> ");
			p += 4;
		} else {
			sb_addc(&sb, *p++);
		}
	}
	return sb_detach(&sb);
}

static int choose(struct rs *s, struct pkg *p, const char *parent_why, const char *note, int pre);
static int same_source(struct rs *s, const struct pkg *p, const char *why);

static int follow(struct rs *s, struct pkg *p, const char *why, const char *field, const char *text, int pre)
{
	struct dk_debrel rel;
	const char *dep = eff_arch(s, p);

	if (!text)
		return 0;
	if (dk_debrel_parse(text, strlen(text), 0, field, p->name, &rel, s->err) < 0)
		return dk_err_prefix(s->err, "%s:%lu", p->src, p->line);
	for (size_t c = 0; c < rel.nclauses; c++) {
		const struct dk_debrel_clause *cl = &rel.clauses[c];
		struct pkg *got = NULL;
		size_t applying = 0;
		int done = 0;

		for (size_t k = 0; k < cl->nalts && !done; k++)
			if (dk_debrel_alt_applies(&cl->alts[k], s->arch)) {
				applying++;
				done = present(s, &cl->alts[k], dep, NULL) != NULL;
			}
		if (done || !applying)
			continue;
		for (size_t k = 0; k < cl->nalts && !got; k++)
			if (dk_debrel_alt_applies(&cl->alts[k], s->arch))
				got = pick(s, &cl->alts[k], dep);
		if (!got) {
			struct strbuf sb = { 0 };
			char *chain = arrows(why);

			for (size_t k = 0; k < cl->nalts; k++) {
				if (k)
					sb_adds(&sb, " | ");
				alt_text(&sb, &cl->alts[k]);
			}
			sb_adds(&sb, ": ");
			for (size_t k = 0; k < cl->nalts; k++) {
				if (k)
					sb_addf(&sb, "; %s: ", cl->alts[k].name);
				alt_reason(s, &sb, &cl->alts[k]);
			}
			dk_fail(s->err, DK_E_SPEC, "%s -> %s", chain, sb.buf);
			free(chain);
			sb_release(&sb);
			dk_debrel_free(&rel);
			return -1;
		}
		if (choose(s, got, why, NULL, pre) < 0) {
			dk_debrel_free(&rel);
			return -1;
		}
	}
	dk_debrel_free(&rel);
	return 0;
}

static const struct pkg *base_slot(const struct rs *s, const struct pkg *p)
{
	size_t lo, hi;

	if (!s->base)
		return NULL;
	by_name(s->base, p->name, &lo, &hi);
	for (size_t k = lo; k < hi; k++)
		if (same_slot(s, s->base->pkgs[k], p) && !replaced(s, s->base->pkgs[k]))
			return s->base->pkgs[k];
	return NULL;
}

/*
 * apt (MarkInstall_UpgradeOtherBinaries) upgrades the base's packages built
 * from P's source when their candidate comes from P's source version: a new
 * xz-utils brings liblzma5 along to the same version.
 */
static int same_source(struct rs *s, const struct pkg *p, const char *why)
{
	if (!s->base)
		return 0;
	for (size_t k = 0; k < s->base->n; k++) {
		const struct pkg *b = s->base->pkgs[k];
		struct pkg *c;
		int rc;

		if (strcmp(b->srcname, p->srcname) || !strcmp(b->srcversion, p->srcversion) || replaced(s, b))
			continue;
		c = candidate(s, b->name, eff_arch(s, b));
		if (!c || strcmp(c->srcname, p->srcname) || strcmp(c->srcversion, p->srcversion) ||
		    dk_debver_cmp(&c->ver, &b->ver) <= 0)
			continue;
		rc = choose(s, c, why, " (same source)", 0);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Add P to the result, why = PARENT_WHY <- P NOTE, then what it needs. */
static int choose(struct rs *s, struct pkg *p, const char *parent_why, const char *note, int pre)
{
	struct chosen *c;
	const struct pkg *old = base_slot(s, p);
	char *why;

	if (s->nch == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->ch = dk_xrealloc(s->ch, s->cap * sizeof(*s->ch));
	}
	why = parent_why ? dk_xasprintf("%s <- %s%s", parent_why, p->name, note ? note : "") : dk_xstrdup(p->name);
	c = &s->ch[s->nch++];
	c->p = p;
	c->why = why;
	c->replaces = old;
	c->pre = pre;
	/* Pre-Depends first: they must be configured before P is even unpacked */
	if (follow(s, p, why, "Pre-Depends", p->predepends, 1) < 0)
		return -1;
	if (follow(s, p, why, "Depends", p->depends, pre) < 0)
		return -1;
	return same_source(s, p, why);
}

/* Conflicts and Breaks of P against the base and the result (Policy 7.4: a package never conflicts with itself). */
static int check_conflicts(struct rs *s, const struct pkg *p, const char *field, const char *text)
{
	struct dk_debrel rel;
	const char *dep = eff_arch(s, p);

	if (!text)
		return 0;
	if (dk_debrel_parse(text, strlen(text), DK_DEBREL_NO_ALTS, field, p->name, &rel, s->err) < 0)
		return dk_err_prefix(s->err, "%s:%lu", p->src, p->line);
	for (size_t c = 0; c < rel.nclauses; c++) {
		const struct dk_debrel_alt *a = &rel.clauses[c].alts[0];
		const struct pkg *hit;

		if (!dk_debrel_alt_applies(a, s->arch))
			continue;
		hit = present(s, a, dep, p->name);
		if (hit && strcmp(hit->name, p->name)) {
			struct strbuf sb = { 0 };

			alt_text(&sb, a);
			dk_fail(s->err, DK_E_SPEC, "%s (%s) %s %s: %s (%s) is %s", p->name, p->version,
				!strcmp(field, "Breaks") ? "breaks" : "conflicts with", sb.buf, hit->name, hit->version,
				chosen_has(s, hit) ? "in the result" : "in the base");
			sb_release(&sb);
			dk_debrel_free(&rel);
			return -1;
		}
	}
	dk_debrel_free(&rel);
	return 0;
}


static int request(struct rs *s, const char *req)
{
	const char *eq = strchr(req, '='), *colon;
	size_t nlen = eq ? (size_t)(eq - req) : strlen(req);
	char *name, *arch;
	struct pkg *p = NULL;
	const struct pkg *old;
	int rc = 0;

	colon = memchr(req, ':', nlen);
	name = dk_xstrndup(req, colon ? (size_t)(colon - req) : nlen);
	arch = colon ? dk_xstrndup(colon + 1, nlen - (size_t)(colon + 1 - req)) : dk_xstrdup(s->arch);
	for (const char *c = req; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			rc = dk_fail(s->err, DK_E_USAGE, "invalid package request: it holds a control character");
			goto out;
		}
	if (!valid_word(name, strlen(name), "+-.") || !valid_word(arch, strlen(arch), "-") ||
	    (eq && !eq[1])) {
		rc = dk_fail(s->err, DK_E_USAGE, "invalid package request \"%s\" (expected name[:arch][=version])", req);
		goto out;
	}
	if (!strcmp(arch, "all") || !strcmp(arch, "any") || !strcmp(arch, "native")) {
		free(arch);
		arch = dk_xstrdup(s->arch);
	}
	if (eq) {
		size_t lo, hi;

		by_name(s->ix, name, &lo, &hi);
		for (size_t k = lo; k < hi && !p; k++)
			if (!strcmp(eff_arch(s, s->ix->pkgs[k]), arch) && !dk_debver_cmp_str(s->ix->pkgs[k]->version, eq + 1))
				p = s->ix->pkgs[k];
		if (!p && candidate(s, name, arch)) {
			struct strbuf sb = { 0 };

			for (size_t k = lo; k < hi; k++)
				if (!strcmp(eff_arch(s, s->ix->pkgs[k]), arch))
					sb_join(&sb, ", ", s->ix->pkgs[k]->version);
			rc = dk_fail(s->err, DK_E_NOTFOUND, "\"%s\" has no version %s for %s; the index has %s", name,
				     eq + 1, arch, sb.buf);
			sb_release(&sb);
			goto out;
		}
	} else {
		p = candidate(s, name, arch);
	}
	if (!p) {
		rc = dk_fail(s->err, DK_E_NOTFOUND, "no package \"%s\" for %s in the index", name, arch);
		goto out;
	}
	for (size_t k = 0; k < s->nch; k++)
		if (same_slot(s, s->ch[k].p, p)) {
			if (s->ch[k].p != p)
				rc = dk_fail(s->err, DK_E_SPEC, "%s: %s %s is requested, but %s needs %s", req, name,
					     p->version, s->ch[k].why, s->ch[k].p->version);
			goto out;
		}
	old = base_slot(s, p);
	/* the base has it: nothing to do, unless asked for another version or the index's is newer (apt upgrades) */
	if (old && (eq ? !dk_debver_cmp(&old->ver, &p->ver) : dk_debver_cmp(&old->ver, &p->ver) >= 0))
		goto out;
	rc = choose(s, p, NULL, NULL, 0);
out:
	free(name);
	free(arch);
	return rc;
}

static int qcmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int qcmp_chosen(const void *a, const void *b)
{
	const struct chosen *x = a, *y = b;
	int c = strcmp(x->p->name, y->p->name);

	return c ? c : strcmp(x->p->arch, y->p->arch);
}

int dk_debresolve(struct dk_debidx *index, struct dk_debidx *base, const char *arch,
		  const char *const *requests, size_t nreq, struct dk_debresolution *out, struct dk_err *err)
{
	struct rs s = { .ix = index, .base = base, .arch = arch, .err = err };
	const char **reqs;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!arch || !valid_word(arch, strlen(arch), "-") || !strcmp(arch, "all") || !strcmp(arch, "any"))
		return dk_fail(err, DK_E_USAGE, "invalid target architecture \"%s\" (a Debian name: amd64, arm64...)",
			       arch ? arch : "");
	/* sorted requests: the same answer (why chains included) whatever their order */
	reqs = dk_xcalloc(nreq ? nreq : 1, sizeof(*reqs));
	if (nreq) {
		memcpy(reqs, requests, nreq * sizeof(*reqs));
		qsort(reqs, nreq, sizeof(*reqs), qcmp_str);
	}
	for (size_t k = 0; k < nreq && !rc; k++)
		rc = request(&s, reqs[k]);
	free(reqs);
	for (size_t k = 0; k < s.nch && !rc; k++) {
		rc = check_conflicts(&s, s.ch[k].p, "Conflicts", s.ch[k].p->conflicts);
		if (!rc)
			rc = check_conflicts(&s, s.ch[k].p, "Breaks", s.ch[k].p->breaks);
	}
	for (size_t k = 0; base && k < base->n && !rc; k++) {
		if (replaced(&s, base->pkgs[k]))
			continue;
		rc = check_conflicts(&s, base->pkgs[k], "Conflicts", base->pkgs[k]->conflicts);
		if (!rc)
			rc = check_conflicts(&s, base->pkgs[k], "Breaks", base->pkgs[k]->breaks);
	}
	if (!rc) {
		if (s.nch > 1)
			qsort(s.ch, s.nch, sizeof(*s.ch), qcmp_chosen);
		out->pkgs = dk_xcalloc(s.nch ? s.nch : 1, sizeof(*out->pkgs));
		out->n = s.nch;
		for (size_t k = 0; k < s.nch; k++) {
			struct dk_debresolved *r = &out->pkgs[k];
			const struct pkg *p = s.ch[k].p;

			r->name = dk_xstrdup(p->name);
			r->version = dk_xstrdup(p->version);
			r->arch = dk_xstrdup(p->arch);
			r->stanza = dk_xstrndup(p->raw, p->raw_len);
			r->stanza_len = p->raw_len;
			r->why = s.ch[k].why;
			s.ch[k].why = NULL;
			r->replaces = s.ch[k].replaces ? dk_xstrdup(s.ch[k].replaces->version) : NULL;
			r->essential = p->essential;
			r->pre_depended = s.ch[k].pre;
			r->origin = p->origin;
		}
	}
	for (size_t k = 0; k < s.nch; k++)
		free(s.ch[k].why);
	free(s.ch);
	return rc;
}

void dk_debresolution_free(struct dk_debresolution *res)
{
	for (size_t k = 0; k < res->n; k++) {
		struct dk_debresolved *r = &res->pkgs[k];

		free((char *)r->name);
		free((char *)r->version);
		free((char *)r->arch);
		free((char *)r->stanza);
		free((char *)r->why);
		free((char *)r->replaces);
	}
	free(res->pkgs);
	memset(res, 0, sizeof(*res));
}
