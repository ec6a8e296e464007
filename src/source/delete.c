/*
 * delete.c - the "delete" key, beside a layer's input or alone (then it is
 * this file's row of the table: a layer of whiteouts only).
 *
 * Whiteouts follow the OCI image spec: an empty file ".wh.NAME" deletes
 * NAME of the layers below; ".wh..wh..opq" in a directory hides what the
 * layers below have in it.  Neither gets parent directory entries: those
 * would replace the modes and owners the layers below give the parents
 * (a 1777 /tmp would become 0755).
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/delete.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/symlinks.h"
#include "derrick/util.h"

/* The whiteout that deletes in-layer path p from below, given what the layer puts there; NULL for none. */
static char *whiteout_for(const struct dk_entries *out, const char *p)
{
	int below;
	const struct dk_entry *at = dk_entries_find(out, p, &below);
	const char *slash;

	if ((at && at->type == DK_ENT_DIR) || below)
		return dk_xasprintf("%s/%s", p, DK_WHITEOUT_OPAQUE);
	if (at)
		return NULL;
	slash = strrchr(p, '/');
	if (!slash)
		return dk_xasprintf("%s%s", DK_WHITEOUT_PREFIX, p);
	return dk_xasprintf("%.*s/%s%s", (int)(slash - p), p, DK_WHITEOUT_PREFIX, slash + 1);
}

int dk_delete_whiteouts(const struct dk_spec_layer *l, struct dk_entries *out, struct dk_err *err)
{
	char **wh = dk_xcalloc(l->deletes.n + 1, sizeof(*wh));
	size_t n = 0;

	/* decided on the finished list before anything is added to it */
	for (size_t i = 0; i < l->deletes.n; i++)
		if ((wh[n] = whiteout_for(out, l->deletes.v[i])))
			n++;
	for (size_t i = 0; i < n; i++) {
		struct dk_entry *e = dk_entries_add(out);

		e->path = wh[i];
		e->type = DK_ENT_WHITEOUT;
	}
	free(wh);
	return n ? dk_entries_finish(out, err) : 0;
}

int dk_delete_check(const struct dk_spec_layer *l, const struct dk_symview *below, struct dk_err *err)
{
	for (size_t i = 0; i < l->deletes.n; i++) {
		const char *p = l->deletes.v[i], *target;
		char *link;

		if (dk_symview_has(below, p, &link, &target))
			continue;
		if (link) {
			dk_fail(err, DK_E_NOTFOUND, "delete[%zu]: \"/%s\": no layer below this one has it: \"/%s\" "
				"is a symlink to \"%s\" there; delete the path it leads to", i, p, link, target);
			free(link);
		} else {
			dk_fail(err, DK_E_NOTFOUND, "delete[%zu]: \"/%s\": no layer below this one (the base image's "
				"and the earlier ones') has it", i, p);
		}
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ the row */

/* One layer; its history names the paths: "DELETE /a /b" (the origin is the list). */
static int delete_plan(const struct dk_spec_layer *l, const struct dk_platform *platform,
		       const struct dk_source_ctx *ctx, struct dk_layer_plans *out, struct dk_err *err)
{
	char *history = dk_xasprintf("%s %s", l->kind->verb, l->origin);

	(void)platform;
	(void)ctx;
	(void)err;
	dk_layer_plans_add(out, l, l->input, history);
	free(history);
	return 0;
}

/* No entries of its own: dk_source_read adds every layer's whiteouts. */
static int delete_read(const struct dk_layer_plan *lp, const char *spec_file, struct dk_entries *out,
		       struct dk_err *err)
{
	(void)lp;
	(void)spec_file;
	(void)out;
	(void)err;
	return 0;
}

static const struct dk_source_opt delete_opts[] = { { NULL, 0 } };

const struct dk_source_kind dk_source_delete = {
	.key = "delete",
	.hint = "an array of image paths to delete",
	.noun = "a layer that only deletes",
	.verb = "DELETE",
	.opts = delete_opts,
	.no_input = 1,
	.plan = delete_plan,
	.read = delete_read,
};
