/*
 * lockmake.c - a `debs` lock from its spec: the verified indexes of every
 * source, one resolution per architecture, merged into one entry per
 * package and architecture.  See deblock.h.
 *
 * Every byte of an entry comes from a verified index: the .deb's URL is
 * its repository's root + the stanza's Filename (checked to stay inside
 * that root), its sha256 and size are the stanza's, so a build that checks
 * them needs no signature of its own and may fetch over plain http.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/deb822.h"
#include "derrick/deblock.h"
#include "derrick/debresolve.h"
#include "derrick/util.h"
#include "show.h"

struct mk {
	const struct dk_deb_lock_input *in;
	struct dk_deb_repo *repos;      /* per source */
	struct dk_deb_lock *out;
	size_t cap;
	struct dk_err *err;
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **sorted_copy(const char *const *list, size_t n)
{
	char **c = dk_xcalloc(n + 1, sizeof(*c));

	for (size_t i = 0; i < n; i++)
		c[i] = dk_xstrdup(list[i]);
	qsort(c, n, sizeof(*c), str_cmp);
	return c;
}

static void copy_sources(struct mk *m)
{
	const struct dk_deb_lock_input *in = m->in;

	m->out->sources = dk_xcalloc(in->n_srcs + 1, sizeof(*m->out->sources));
	m->out->n_sources = in->n_srcs;
	for (size_t i = 0; i < in->n_srcs; i++) {
		const struct dk_deb_source *s = &in->srcs[i];
		struct dk_deb_lock_source *d = &m->out->sources[i];

		d->url = dk_xstrdup(s->url);
		d->suite = dk_xstrdup(s->suite);
		d->components = dk_xcalloc(s->n_components + 1, sizeof(*d->components));
		for (size_t j = 0; j < s->n_components; j++)
			d->components[j] = dk_xstrdup(s->components[j]);
		d->n_components = s->n_components;
		d->keyring = s->keyring ? dk_xstrdup(s->keyring) : NULL;
		d->trusted = s->trusted;
	}
}

/* "jq <- libjq1 <- libonig5" (the resolver's, from the requested one) as the lock writes it. */
static char *lock_why(const char *why)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = why, *arrow;

	if (!strstr(why, " <- "))
		return dk_xstrdup("requested");
	while ((arrow = strstr(p, " <- "))) {
		sb_add(&sb, p, (size_t)(arrow - p));
		sb_adds(&sb, " -> ");
		p = arrow + 4;
	}
	sb_adds(&sb, p);
	return sb_detach(&sb);
}

/*
 * A Filename as a URL path: bytes outside RFC 3986's unreserved set and
 * "/", ":", "+", "~" are percent-encoded, as apt quotes them (a pool
 * written by `apt-get download` has "%3a" for an epoch's colon in its
 * file names, which must reach the server as "%253a").  A new string.
 */
static char *url_path(const char *f)
{
	struct strbuf sb = STRBUF_INIT;

	for (const unsigned char *p = (const unsigned char *)f; *p; p++) {
		if (isalnum(*p) || strchr("-._~/:+", *p))
			sb_addf(&sb, "%c", *p);
		else
			sb_addf(&sb, "%%%02X", *p);
	}
	return sb_detach(&sb);
}

/* A Filename that names a file below the repository's root: relative, no "." or ".." component, printable. */
static int filename_ok(const char *f)
{
	const char *c = f;

	if (!*f || *f == '/')
		return 0;
	for (const char *p = f; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '\\' || *p == '?' || *p == '#')
			return 0;
	for (;;) {
		size_t n = strcspn(c, "/");

		if (!n || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (!c[n])
			return 1;
		c += n + 1;
	}
}

static int size_ok(const char *s, uint64_t *v)
{
	size_t n = strlen(s);

	*v = 0;
	if (!n || n > 19 || strspn(s, "0123456789") != n)
		return 0;
	*v = strtoull(s, NULL, 10);
	return 1;
}

static int sha_ok(const char *s, char out[65])
{
	if (strlen(s) != 64 || strspn(s, "0123456789abcdefABCDEF") != 64)
		return 0;
	for (size_t i = 0; i < 64; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
	out[64] = 0;
	return 1;
}

/* The lock entry of one resolved package (its stanza's Filename, SHA256, Size) into *e. */
static int make_entry(struct mk *m, const struct dk_debresolved *r, struct dk_deb_lock_entry *e)
{
	const struct dk_deb_source *src = &m->in->srcs[r->origin];
	struct dk_deb822_reader *rd = dk_deb822_open_mem(r->stanza, r->stanza_len, src->url, 0);
	struct dk_deb822_stanza st;
	static const char *const names[] = { "Filename", "SHA256", "Size" };
	char *val[3] = { NULL, NULL, NULL }, *path;
	const char *bad = NULL;
	int rc = -1;

	memset(e, 0, sizeof(*e));
	if (dk_deb822_next(rd, &st, m->err) <= 0) {
		/* the resolver parsed this stanza already */
		dk_fail(m->err, DK_E_INTERNAL, "%s (%s %s): its stanza cannot be read again", r->name, r->version,
			r->arch);
		goto out;
	}
	for (size_t k = 0; k < 3; k++) {
		const struct dk_deb822_field *f = dk_deb822_get(&st, names[k]);

		if (!f || memchr(f->value, '\n', f->value_len)) {
			bad = f ? "more than one line" : "missing";
			dk_fail(m->err, DK_E_CORRUPT, "%s (%s %s) in %s %s: %s field %s", r->name, r->version, r->arch,
				src->url, src->suite, names[k], bad);
			goto out;
		}
		val[k] = dk_xstrndup(f->value, f->value_len);
	}
	if (!filename_ok(val[0]))
		bad = "Filename is not a path inside the repository";
	else if (!sha_ok(val[1], e->sha256))
		bad = "SHA256 is not 64 hex digits";
	else if (!size_ok(val[2], &e->size))
		bad = "Size is not a number of bytes";
	if (bad) {
		char *shown = dk_deb_show(val[0], strlen(val[0]), 120);

		dk_fail(m->err, DK_E_CORRUPT, "%s (%s %s) in %s %s: %s (Filename %s)", r->name, r->version, r->arch,
			src->url, src->suite, bad, shown);
		free(shown);
		goto out;
	}
	e->name = dk_xstrdup(r->name);
	e->version = dk_xstrdup(r->version);
	e->arch = dk_xstrdup(r->arch);
	path = url_path(val[0]);
	e->url = dk_xasprintf("%s%s", m->repos[r->origin].base_url, path);
	free(path);
	e->why = lock_why(r->why);
	rc = 0;
out:
	dk_deb822_close(rd);
	for (size_t k = 0; k < 3; k++)
		free(val[k]);
	return rc;
}

static void entry_free(struct dk_deb_lock_entry *e)
{
	free(e->name);
	free(e->version);
	free(e->arch);
	free(e->url);
	free(e->why);
	memset(e, 0, sizeof(*e));
}

/*
 * Add E (taken) to the lock, made for ARCH, unless its package and
 * architecture are there: only an "all" package meets itself across archs
 * (FIRST[i]: the arch that added entry i), and then it must be the same
 * file; the first arch's why stays.
 */
static int merge(struct mk *m, struct dk_deb_lock_entry *e, const char *arch, const char ***first)
{
	struct dk_deb_lock *l = m->out;

	for (size_t i = 0; i < l->n_entries; i++) {
		struct dk_deb_lock_entry *o = &l->entries[i];

		if (strcmp(o->name, e->name) || strcmp(o->arch, e->arch))
			continue;
		if (strcmp(o->version, e->version) || strcmp(o->sha256, e->sha256) || strcmp(o->url, e->url)) {
			dk_fail(m->err, DK_E_SPEC, "%s (%s): %s needs %s (%s), %s needs %s (%s)%s", e->name, e->arch,
				(*first)[i], o->version, o->why, arch, e->version, e->why,
				strcmp(o->version, e->version) ? "" : " from another file");
			entry_free(e);
			return -1;
		}
		entry_free(e);
		return 0;
	}
	if (l->n_entries == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		l->entries = dk_xrealloc(l->entries, m->cap * sizeof(*l->entries));
		*first = dk_xrealloc(*first, m->cap * sizeof(**first));
	}
	(*first)[l->n_entries] = arch;
	l->entries[l->n_entries++] = *e;
	memset(e, 0, sizeof(*e));
	return 0;
}

/* The resolution for ARCH (the ai-th of the input's), merged into the lock. */
static int lock_arch(struct mk *m, const char *arch, size_t ai, const char ***first)
{
	const struct dk_deb_lock_input *in = m->in;
	struct dk_debidx *ix = dk_debidx_new(), *base = NULL;
	struct dk_debresolution res = { 0 };
	int rc = -1;

	for (size_t i = 0; i < in->n_srcs; i++) {
		dk_debidx_set_origin(ix, i);
		for (size_t j = 0; j < m->repos[i].n_indexes; j++) {
			const struct dk_deb_index *x = &m->repos[i].indexes[j];

			if (!strcmp(x->arch, arch) &&
			    dk_debidx_add_mem(ix, x->data, x->len, x->url, DK_DEBIDX_PACKAGES, m->err) < 0)
				goto out;
		}
	}
	if (in->base_status && in->base_status[ai]) {
		char *name = dk_xasprintf("the base's dpkg status (%s)", arch);

		base = dk_debidx_new();
		rc = dk_debidx_add_mem(base, in->base_status[ai], in->base_status_len[ai], name, DK_DEBIDX_STATUS,
				       m->err);
		free(name);
		if (rc < 0)
			goto out;
		rc = -1;
	}
	if (dk_debresolve(ix, base, arch, in->packages, in->n_packages, &res, m->err) < 0)
		goto out;
	for (size_t k = 0; k < res.n; k++) {
		struct dk_deb_lock_entry e;

		if (make_entry(m, &res.pkgs[k], &e) < 0 || merge(m, &e, arch, first) < 0)
			goto out;
	}
	rc = 0;
out:
	dk_debresolution_free(&res);
	dk_debidx_free(ix);
	dk_debidx_free(base);
	return rc;
}

int dk_deb_lock_make(const struct dk_deb_lock_input *in, const struct dk_deb_repo_opts *o, struct dk_deb_lock *out,
		     struct dk_err *err)
{
	static const struct dk_deb_repo_opts defaults;
	struct mk m = { .in = in, .out = out, .err = err };
	size_t *order = NULL;
	const char **first = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!in->n_srcs)
		return dk_fail(err, DK_E_USAGE, "no Debian source to lock from");
	if (!in->n_archs)
		return dk_fail(err, DK_E_USAGE, "no architecture to lock for");
	out->archs = sorted_copy(in->archs, in->n_archs);
	out->n_archs = in->n_archs;
	for (size_t i = 0; i < out->n_archs; i++)
		if (!*out->archs[i] || strspn(out->archs[i], "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(out->archs[i])) {
			char *shown = dk_deb_show(out->archs[i], strlen(out->archs[i]), 64);

			dk_fail(err, DK_E_USAGE, "invalid architecture \"%s\" (a Debian name: amd64, arm64...)", shown);
			free(shown);
			goto out;
		}
	for (size_t i = 1; i < out->n_archs; i++)
		if (!strcmp(out->archs[i - 1], out->archs[i])) {
			dk_fail(err, DK_E_USAGE, "architecture %s given twice", out->archs[i]);
			goto out;
		}
	out->packages = sorted_copy(in->packages, in->n_packages);
	out->n_packages = in->n_packages;
	copy_sources(&m);
	m.repos = dk_xcalloc(in->n_srcs + 1, sizeof(*m.repos));
	for (size_t i = 0; i < in->n_srcs; i++) {
		struct dk_deb_source s = in->srcs[i];

		if (in->keyrings && in->keyrings[i])
			s.keyring = in->keyrings[i];
		if (dk_deb_repo_fetch(&s, in->archs, in->n_archs, o ? o : &defaults, &m.repos[i], err) < 0)
			goto out;
	}
	/* the archs in their sorted order: which arch's why an "all" entry keeps does not depend on the spec's */
	order = dk_xcalloc(in->n_archs, sizeof(*order));
	for (size_t i = 0; i < in->n_archs; i++)
		for (size_t j = 0; j < in->n_archs; j++)
			if (!strcmp(out->archs[i], in->archs[j]))
				order[i] = j;
	for (size_t i = 0; i < in->n_archs; i++)
		if (lock_arch(&m, in->archs[order[i]], order[i], &first) < 0) {
			if (in->n_archs > 1)
				dk_err_prefix(err, "for %s", in->archs[order[i]]);
			goto out;
		}
	rc = 0;
out:
	for (size_t i = 0; m.repos && i < in->n_srcs; i++)
		dk_deb_repo_free(&m.repos[i]);
	free(m.repos);
	free(order);
	free((void *)first);
	if (rc < 0)
		dk_deb_lock_free(out);
	return rc;
}
