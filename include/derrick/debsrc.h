/*
 * debsrc.h - the options of a "debs" layer (src/source/debs.c): Debian
 * packages installed from a lock (issue #13), and the row's steps.
 *
 *   "debs": { "lock": "debs.lock.json",
 *             "sources": [ { "url": "...", "suite": "bookworm", "components": ["main"],
 *                            "keyring": "...", "trusted": false } ],
 *             "packages": ["jq"],
 *             "maintainer_scripts": "warn" }
 *
 * `derrick lock debs` resolves sources + packages into the lock (the row's
 * lock step); a build reads only the lock, and refuses one that was made
 * from other sources or packages.
 */
#ifndef DERRICK_DEBSRC_H
#define DERRICK_DEBSRC_H

#include <stddef.h>

#include "derrick/debrepo.h"
#include "derrick/err.h"
#include "derrick/source.h"
#include "derrick/spec.h"

struct json_t;

struct dk_debs_opts {
	const char *lock;               /* the lock file, resolved (owned by the spec) */
	struct dk_deb_source *srcs;     /* as the spec wrote them (keyring included): what the lock records */
	size_t n_srcs;
	char **keyrings;                /* n_srcs: srcs[i].keyring resolved against the spec's directory, or NULL */
	const struct dk_strlist *packages;      /* as written (owned by the spec) */
	int refuse_scripts;             /* "maintainer_scripts": "refuse" */
	struct json_t *json;            /* the parsed "sources", which srcs' strings point into */
};

/*
 * Layer l's options: "sources" checked member by member (unknown keys,
 * types, a URL that is not http, https or file, an empty suite or
 * component list, a source with neither keyring nor "trusted": true),
 * each error naming the key path ("derrick.json:
 * stages[0].layers[1].debs.sources[0].suite: must be a string").
 * `spec_file` names the spec and its directory resolves keyrings.
 * 0, or -1 with err set (DK_E_SPEC); free *o with dk_debs_opts_free either way.
 */
int dk_debs_opts(const struct dk_spec_layer *l, const char *spec_file, struct dk_debs_opts *o, struct dk_err *err);
void dk_debs_opts_free(struct dk_debs_opts *o);

/*
 * The row's steps (src/source/debs_plan.c; source.h says what each takes).
 * The plan reads the lock, checks it against the spec and the target's
 * Debian architecture, and reads the base's dpkg status for the key; the
 * read downloads, verifies and unpacks the .debs and writes the package
 * database; the below step refuses a dpkg status that only an earlier
 * layer of the spec has; the lock step resolves and writes the lock.
 */
struct dk_platform;
int dk_debs_plan(const struct dk_spec_layer *l, const struct dk_platform *platform,
		 const struct dk_source_ctx *ctx, struct dk_layer_plans *out, struct dk_err *err);
int dk_debs_read(const struct dk_layer_plan *lp, const char *spec_file, struct dk_entries *out,
		 struct dk_err *err);
int dk_debs_find_file(const struct dk_layer_plan *lp, const char *path, size_t max, char **data, size_t *len,
		      struct dk_err *err);
int dk_debs_find_dir(const struct dk_layer_plan *lp, const char *dir, size_t max, struct dk_dir_files *out,
		     struct dk_err *err);
int dk_debs_lock(const struct dk_spec_layer *l, const struct dk_platform *plats,
		 const struct dk_source_ctx *const *ctxs, size_t n, struct dk_err *err);

#endif
