/*
 * table.c - the table of layer sources: the only place that lists them.
 *
 * Everything else asks the table, so adding a kind is a file beside this
 * one and a line below.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/delete.h"
#include "derrick/platform.h"
#include "derrick/source.h"
#include "derrick/symlinks.h"
#include "derrick/spec.h"
#include "derrick/util.h"

extern const struct dk_source_kind dk_source_dir, dk_source_tar, dk_source_wheels, dk_source_debs, dk_source_delete;

/* The order is the one the spec's messages list the keys in. */
const struct dk_source_kind *const dk_source_kinds[] = {
	&dk_source_dir,
	&dk_source_tar,
	&dk_source_wheels,
	&dk_source_debs,
	&dk_source_delete,
	NULL
};

/*
 * A "delete" list decides the layer's bytes (its whiteouts) whatever the
 * kind, and a tar layer's key is its tar's bytes: so the list goes into the
 * key, each path with its length (paths may hold spaces).  Beside an input,
 * the history says what the layer deletes.
 */
static void plan_deletes(const struct dk_spec_layer *l, struct dk_layer_plan *lp)
{
	struct strbuf key = STRBUF_INIT, hist = STRBUF_INIT;

	if (!l->deletes.n)
		return;
	sb_adds(&key, lp->key_extra ? lp->key_extra : "");
	sb_addf(&key, "%sdelete=%zu", key.len ? " " : "", l->deletes.n);
	for (size_t i = 0; i < l->deletes.n; i++) {
		sb_addf(&key, ":%zu:%s", strlen(l->deletes.v[i]), l->deletes.v[i]);
		sb_addf(&hist, " /%s", l->deletes.v[i]);
	}
	free(lp->key_extra);
	lp->key_extra = sb_detach(&key);
	if (!l->kind->no_input) {
		char *h = dk_xasprintf("%s; %s%s", lp->history, dk_source_delete.verb, hist.buf);

		free(lp->history);
		lp->history = h;
	}
	sb_release(&hist);
}

int dk_source_plan(const struct dk_spec_layer *l, const char *stage, const struct dk_platform *platform,
		   const struct dk_source_ctx *ctx, struct dk_layer_plans *out, struct dk_err *err)
{
	size_t first = out->n;

	if (l->kind->plan(l, platform, ctx, out, err) < 0)
		return -1;
	for (size_t i = first; i < out->n; i++) {
		out->v[i].stage = stage;
		out->v[i].ctx = ctx;
		plan_deletes(l, &out->v[i]);
	}
	return 0;
}

int dk_source_needs_base(const struct dk_spec_layer *l)
{
	if (l->kind && l->kind->needs_base)
		return 1;
	for (size_t i = 0; i < l->n_variants; i++)
		if (l->variants[i].kind->needs_base)
			return 1;
	return 0;
}

int dk_source_below_hit(const struct dk_layer_plan *lp, const struct dk_entries *entries,
			const struct dk_symview *below, struct dk_err *err)
{
	const struct dk_source_kind *k = lp->entry->kind;

	return k->below ? k->below(lp, entries, below, err) : 0;
}

int dk_source_has_below(const struct dk_layer_plan *lp)
{
	return lp->entry->kind->below != NULL;
}

int dk_source_plan_key(const struct dk_layer_plan *lp, const struct dk_symview *below, char **text)
{
	char below_key[DK_DIGEST_HEX + 1];

	*text = NULL;
	if (!lp->entry->kind->key_from_plan)
		return 0;
	dk_symview_key(below, lp->entry->dest, below_key);
	*text = dk_xasprintf("%s below=%s", dk_str_or(lp->key_extra, ""), below_key);
	return 1;
}

static int cmp_dir_file(const void *a, const void *b)
{
	return strcmp(((const struct dk_dir_file *)a)->name, ((const struct dk_dir_file *)b)->name);
}

/* p is d or lies below it (clean in-layer paths; "" is the root). */
static int under(const char *p, const char *d)
{
	size_t n = strlen(d);

	return !n || (!strncmp(p, d, n) && (!p[n] || p[n] == '/'));
}

/* The planned layers below upto (all when upto is not among them): how many. */
static size_t below_count(const struct dk_layer_plans *pl, const struct dk_layer_plan *upto)
{
	if (!pl)
		return 0;
	if (upto >= pl->v && upto < pl->v + pl->n)
		return (size_t)(upto - pl->v);
	return pl->n;
}

/* A layer whose dest holds `path`, or lies below it, and whose kind cannot tell what it writes there. */
static int cannot_tell(const struct dk_source_ctx *ctx, const struct dk_spec_layer *l, const char *path,
		       struct dk_err *err)
{
	return dk_fail(err, DK_E_SPEC, "%s: %s (%s %s) may write /%s, which a layer above it reads before that "
		       "layer is built: put it in the base image", dk_str_or(ctx->spec_file, "spec"), l->where,
		       l->kind->noun, dk_str_or(l->origin, ""), path);
}

static int deleted(const struct dk_spec_layer *l, const char *path)
{
	for (size_t k = 0; k < l->deletes.n; k++)
		if (under(path, l->deletes.v[k]))
			return 1;
	return 0;
}

int dk_source_read_below(const struct dk_source_ctx *ctx, const struct dk_layer_plan *upto, const char *path,
			 size_t max, char **data, size_t *len, struct dk_err *err)
{
	const struct dk_layer_plans *pl = ctx ? ctx->planned : NULL;

	*data = NULL;
	*len = 0;
	if (!ctx)
		return 0;
	for (size_t i = below_count(pl, upto); i-- > 0;) {
		const struct dk_layer_plan *lp = &pl->v[i];
		const struct dk_spec_layer *l = lp->entry;
		int rc;

		if (under(path, l->dest) && !l->kind->no_input) {
			if (!l->kind->find_file)
				return cannot_tell(ctx, l, path, err);
			if ((rc = l->kind->find_file(lp, path, max, data, len, err)) != 0)
				return rc;
		}
		if (deleted(l, path))
			return 0;
	}
	return ctx->read_file ? ctx->read_file(ctx->arg, path, max, data, len, err) : 0;
}

/* each_file's callback: a base file, unless a layer above gave that name. */
static int add_file(void *arg, const char *name, const char *data, size_t len, struct dk_err *err)
{
	(void)err;
	dk_dir_files_add(arg, name, data, len);
	return 0;
}

int dk_source_read_dir_below(const struct dk_source_ctx *ctx, const struct dk_layer_plan *upto, const char *dir,
			     size_t max, struct dk_dir_files *out, struct dk_err *err)
{
	const struct dk_layer_plans *pl = ctx ? ctx->planned : NULL;
	int rc = 0;

	if (!ctx)
		return 0;
	for (size_t i = below_count(pl, upto); i-- > 0 && rc == 0;) {
		const struct dk_layer_plan *lp = &pl->v[i];
		const struct dk_spec_layer *l = lp->entry;

		if ((under(dir, l->dest) || under(l->dest, dir)) && !l->kind->no_input) {
			if (!l->kind->find_dir)
				return cannot_tell(ctx, l, dir, err);
			rc = l->kind->find_dir(lp, dir, max, out, err);
			if (rc < 0)
				return -1;
		}
		if (deleted(l, dir))
			rc = 1;
	}
	if (rc == 0 && ctx->each_file && ctx->each_file(ctx->arg, dir, max, add_file, out, err) < 0)
		return -1;
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_dir_file);
	return 0;
}

const struct dk_dir_file *dk_dir_files_find(const struct dk_dir_files *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].name, name))
			return &f->v[i];
	return NULL;
}

int dk_dir_files_add(struct dk_dir_files *f, const char *name, const char *data, size_t len)
{
	struct dk_dir_file *x;

	if (dk_dir_files_find(f, name))
		return 0;
	f->v = dk_xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
	x = &f->v[f->n++];
	x->name = dk_xstrdup(name);
	x->data = dk_xmalloc(len + 1);
	memcpy(x->data, data, len);
	x->data[len] = 0;
	x->len = len;
	return 1;
}

void dk_dir_files_free(struct dk_dir_files *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].name);
		free(f->v[i].data);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

const struct dk_source_kind *dk_source_by_key(const char *key)
{
	for (size_t i = 0; dk_source_kinds[i]; i++)
		if (!strcmp(dk_source_kinds[i]->key, key))
			return dk_source_kinds[i];
	return NULL;
}

int dk_source_is(const struct dk_spec_layer *l, const struct dk_source_kind *k)
{
	if (l->kind == k)
		return 1;
	for (size_t i = 0; i < l->n_variants; i++)
		if (l->variants[i].kind == k)
			return 1;
	return 0;
}

/* The variant of l that the plan picks for platform p (the best match), or NULL. */
static const struct dk_spec_layer *variant_for(const struct dk_spec_layer *l, const struct dk_platform *p)
{
	const struct dk_spec_layer *best = NULL;
	int best_rank = 0;

	for (size_t k = 0; k < l->n_variants; k++) {
		int rank = dk_platform_match(p, &l->variants[k].platform);

		if (rank > best_rank) {
			best_rank = rank;
			best = &l->variants[k];
		}
	}
	return best;
}

int dk_source_lock(const struct dk_spec_layer *l, const struct dk_platform *plats,
		   const struct dk_source_ctx *const *ctxs, size_t n, struct dk_err *err)
{
	const struct dk_source_ctx **vc;
	struct dk_platform *vp;
	int rc = 0;

	if (!l->n_variants) {
		if (!l->kind->lock)
			return dk_fail(err, DK_E_USAGE, "%s: %s has no lock step of its own", l->where, l->kind->noun);
		return l->kind->lock(l, plats, ctxs, n, err);
	}
	/* a variant is locked for the platforms it is the best match of, as the plan picks it */
	vc = dk_xcalloc(n + 1, sizeof(*vc));
	vp = dk_xcalloc(n + 1, sizeof(*vp));
	for (size_t i = 0; i < l->n_variants && rc == 0; i++) {
		const struct dk_spec_layer *v = &l->variants[i];
		size_t m = 0;

		for (size_t j = 0; j < n; j++)
			if (variant_for(l, &plats[j]) == v) {
				vp[m] = plats[j];
				vc[m++] = ctxs[j];
			}
		if (m && v->kind->lock)
			rc = v->kind->lock(v, vp, vc, m, err);
	}
	free(vc);
	free(vp);
	return rc;
}

int dk_source_bad_member(struct dk_err *err, const char *file, const struct dk_spec_layer *l, const char *member,
			 const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	dk_fail(err, DK_E_SPEC, "%s: %s.%s.%s: %s", file, l->where, l->kind->key, member, msg ? msg : fmt);
	free(msg);
	return -1;
}

int dk_source_check(struct dk_spec_layer *l, const char *spec_file, struct dk_err *err)
{
	return l->kind->check ? l->kind->check(l, spec_file, err) : 0;
}

int dk_source_read(const struct dk_layer_plan *lp, const char *spec_file, const struct dk_symview *below,
		   struct dk_entries *out, char **moves, struct dk_err *err)
{
	const struct dk_source_kind *k = lp->entry->kind;

	*moves = NULL;
	if (k->read(lp, spec_file, out, err) < 0)
		return -1;
	if (k->below && k->below(lp, out, below, err) < 0)
		return -1;
	if (below && dk_symview_place(below, out, lp->entry->dest, moves, err) < 0)
		return -1;
	if (dk_entries_finish(out, err) < 0 || dk_delete_whiteouts(lp->entry, out, err) < 0)
		return dk_err_prefix(err, "%s %s", k->key, lp->entry->origin);
	return 0;
}

int dk_source_plan_one(const struct dk_spec_layer *l, const struct dk_platform *platform,
		       const struct dk_source_ctx *ctx, struct dk_layer_plans *out, struct dk_err *err)
{
	char *history = dk_xasprintf("%s %s /%s", l->kind->verb, l->origin, l->dest);

	(void)platform;
	(void)ctx;
	(void)err;
	dk_layer_plans_add(out, l, l->input, history);
	free(history);
	return 0;
}

struct dk_layer_plan *dk_layer_plans_add(struct dk_layer_plans *out, const struct dk_spec_layer *l,
					 const char *input, const char *history)
{
	struct dk_layer_plan *lp;

	out->v = dk_xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
	lp = &out->v[out->n++];
	memset(lp, 0, sizeof(*lp));
	lp->entry = l;
	lp->input = dk_xstrdup(input);
	lp->history = dk_xstrdup(history);
	return lp;
}

void dk_layer_plans_free(struct dk_layer_plans *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].input);
		free(p->v[i].history);
		free(p->v[i].key_extra);
		free(p->v[i].row_data);
		free(p->v[i].owners);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}
