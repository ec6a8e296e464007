/*
 * table.c - the table of layer sources: the only place that lists them.
 *
 * Everything else asks the table, so adding a kind is a file beside this
 * one and a line below.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/delete.h"
#include "derrick/source.h"
#include "derrick/symlinks.h"
#include "derrick/spec.h"
#include "derrick/util.h"

extern const struct dk_source_kind dk_source_dir, dk_source_tar, dk_source_wheels, dk_source_delete;

/* The order is the one the spec's messages list the keys in. */
const struct dk_source_kind *const dk_source_kinds[] = {
	&dk_source_dir,
	&dk_source_tar,
	&dk_source_wheels,
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

int dk_source_below_hit(const struct dk_layer_plan *lp, const struct dk_symview *below, struct dk_err *err)
{
	const struct dk_source_kind *k = lp->entry->kind;

	return k->below ? k->below(lp, NULL, below, err) : 0;
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
