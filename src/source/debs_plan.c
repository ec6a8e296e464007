/*
 * debs_plan.c - a "debs" entry planned into one layer per platform, and
 * that layer read (issue #13).
 *
 * The plan needs no package's bytes: the lock says what to install and by
 * which sha256, so the layer's key_extra (the locked .debs of the target's
 * architecture, the digest of the base's dpkg status, the script policy)
 * decides its bytes, with the symlinks below that dk_source_plan_key adds
 * (merged-/usr moves).  An unchanged lock on an unchanged base is a cache
 * hit before anything is downloaded, and a rebuilt base, whose status file
 * differs, never gets a stale status file on top.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/blobs.h"
#include "derrick/deb.h"
#include "derrick/debarch.h"
#include "derrick/deblock.h"
#include "derrick/debsrc.h"
#include "derrick/digest.h"
#include "derrick/dpkgdb.h"
#include "derrick/fetch.h"
#include "derrick/log.h"
#include "derrick/platform.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/symlinks.h"
#include "derrick/util.h"

/* Bumped when what a debs layer holds for the same lock and base changes. */
#define DEBS_LAYER_FORMAT "derrick-debs-layer-1"
/* A dpkg status larger than this is not read (Debian's full desktop has ~5 MB). */
#define DPKG_STATUS_MAX (64u << 20)
#define DPKG_STATUS "var/lib/dpkg/status"

static const char *spec_name(const struct dk_source_ctx *ctx)
{
	return ctx && ctx->spec_file ? ctx->spec_file : "spec";
}

/*
 * The dpkg status below layer `upto` (NULL: below the one being planned):
 * 1 with *data and *len, 0 when there is none (scratch, or a
 * distroless-style base: the layer then writes status.d).
 */
static int status_below(const struct dk_source_ctx *ctx, const struct dk_layer_plan *upto, char **data,
			size_t *len, struct dk_err *err)
{
	if (dk_source_read_below(ctx, upto, DPKG_STATUS, DPKG_STATUS_MAX, data, len, err) < 0)
		return -1;
	return *data != NULL;
}

/* The lock of o, read; a missing one says how to make it. */
static int read_lock(const struct dk_spec_layer *l, const char *file, const struct dk_debs_opts *o,
		     struct dk_deb_lock *lock, struct dk_err *err)
{
	if (access(o->lock, F_OK) < 0 && errno == ENOENT) {
		memset(lock, 0, sizeof(*lock));
		return dk_fail(err, DK_E_NOTFOUND, "%s: %s.%s.lock: %s does not exist: run `derrick lock %s -f %s` "
			       "to resolve the packages into it", file, l->where, l->kind->key, o->lock, l->kind->key,
			       file);
	}
	return dk_deb_lock_read(o->lock, lock, err);
}

/* The lock holds the target's architecture and was made from this spec. */
static int check_lock(const struct dk_spec_layer *l, const char *file, const struct dk_debs_opts *o,
		      const struct dk_deb_lock *lock, const char *arch, const char *plat, struct dk_err *err)
{
	size_t i;

	for (i = 0; i < lock->n_archs && strcmp(lock->archs[i], arch); i++)
		;
	if (i == lock->n_archs)
		return dk_fail(err, DK_E_SPEC, "%s: %s has no packages for %s (%s): run `derrick lock %s -f %s "
			       "--platform P1,P2...` naming every platform the image is built for", file, l->origin, arch,
			       plat, l->kind->key, file);
	if (dk_deb_lock_matches(lock, o->srcs, o->n_srcs, (const char *const *)o->packages->v, o->packages->n,
				(const char *const *)lock->archs, lock->n_archs, err) < 0) {
		dk_err_prefix(err, "%s: %s", file, o->lock);
		return dk_fail(err, err->code, "%s; run `derrick lock %s -f %s` again", err->msg, l->kind->key, file);
	}
	return 0;
}

int dk_debs_plan(const struct dk_spec_layer *l, const struct dk_platform *platform,
		 const struct dk_source_ctx *ctx, struct dk_layer_plans *out, struct dk_err *err)
{
	const char *file = spec_name(ctx), *arch = dk_deb_arch(platform);
	struct dk_debs_opts o;
	struct dk_deb_lock lock;
	struct strbuf key = STRBUF_INIT, hist = STRBUF_INIT;
	json_t *data = NULL, *debs;
	char plat[100], *status = NULL, digest[DK_DIGEST_SIZE] = "";
	size_t status_len, n = 0;
	struct dk_layer_plan *lp;
	int rc = -1, has;

	memset(&lock, 0, sizeof(lock));
	dk_platform_format(platform, plat, sizeof(plat));
	if (dk_debs_opts(l, file, &o, err) < 0)
		goto out;
	if (!arch) {
		dk_fail(err, DK_E_SPEC, "%s: %s.%s: Debian has no architecture for %s", file, l->where, l->kind->key,
			plat);
		goto out;
	}
	if (read_lock(l, file, &o, &lock, err) < 0 || check_lock(l, file, &o, &lock, arch, plat, err) < 0)
		goto out;
	if ((has = status_below(ctx, NULL, &status, &status_len, err)) < 0)
		goto out;
	if (has)
		dk_sha256_buf(status, status_len, digest);
	data = json_object();
	debs = json_array();
	sb_adds(&hist, l->kind->verb);
	sb_addf(&key, "%s arch=%s status=%s scripts=%s debs=", DEBS_LAYER_FORMAT, arch, has ? digest : "none",
		o.refuse_scripts ? "refuse" : "warn");
	for (size_t i = 0; i < lock.n_entries; i++) {
		const struct dk_deb_lock_entry *e = &lock.entries[i];

		if (strcmp(e->arch, arch) && strcmp(e->arch, "all"))
			continue;
		json_array_append_new(debs, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "name", e->name, "version",
						      e->version, "arch", e->arch, "url", e->url, "sha256", e->sha256,
						      "size", (json_int_t)e->size));
		sb_addf(&hist, " %s=%s", e->name, e->version);
		sb_addf(&key, "%s%s_%s_%s:%s", n++ ? "," : "", e->name, e->version, e->arch, e->sha256);
	}
	if (!n) {
		dk_fail(err, DK_E_SPEC, "%s: %s holds no package for %s: the base has them all; remove the %s entry "
			"or lock again", file, l->origin, arch, l->kind->key);
		goto out;
	}
	json_object_set_new(data, "debs", debs);
	json_object_set_new(data, "status", has ? json_string(digest) : json_null());
	json_object_set_new(data, "refuse_scripts", json_boolean(o.refuse_scripts));
	lp = dk_layer_plans_add(out, l, o.lock, hist.buf);
	lp->key_extra = sb_detach(&key);
	lp->row_data = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
	rc = 0;
out:
	json_decref(data);
	sb_release(&key);
	sb_release(&hist);
	free(status);
	dk_deb_lock_free(&lock);
	dk_debs_opts_free(&o);
	return rc;
}

/* ------------------------------------------------------------ reading */

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The .deb of lock entry w in the blob cache, downloaded and verified when it is not there yet. */
static int deb_file(const struct dk_layer_plan *lp, json_t *w, struct dk_fetch **fetch, char **path,
		    struct dk_err *err)
{
	const struct dk_blobs *blobs = lp->ctx ? lp->ctx->blobs : NULL;
	char digest[DK_DIGEST_SIZE];

	/* only a look from above at plan time has none: --no-cache before the staging store exists */
	if (!blobs)
		return dk_fail(err, DK_E_USAGE, "%s: a layer above reads the dpkg status this layer writes, which "
			       "needs its packages before the build: build without --no-cache", lp->entry->where);
	if (!*fetch) {
		struct dk_fetch_opts fo;

		memset(&fo, 0, sizeof(fo));
		fo.reg = lp->ctx->reg;
		fo.allow_http = 1;      /* the sha256 comes from the lock, made from a signed index */
		if (dk_fetch_open(&fo, fetch, err) < 0)
			return -1;
	}
	if (dk_fetch_blob(*fetch, blobs, jstr(w, "url"), jstr(w, "sha256"),
			  (int64_t)json_integer_value(json_object_get(w, "size")), err) < 0)
		return dk_err_prefix(err, "%s %s (%s)", jstr(w, "name"), jstr(w, "version"), jstr(w, "arch"));
	snprintf(digest, sizeof(digest), "sha256:%s", jstr(w, "sha256"));
	*path = dk_blobs_path(blobs, digest);
	return 0;
}

/*
 * dpkg refuses to unpack a file that another package of the set ships
 * (without Replaces): so does derrick, naming both, rather than let the
 * later one win silently.  first[i] is the index of package i's first entry.
 */
static int check_overlaps(const struct dk_layer_plan *lp, const struct dk_entries *out, const size_t *first,
			  const struct dk_deb *debs, size_t n, struct dk_err *err)
{
	struct dk_path_order *ord = dk_path_index(out, 0);
	int rc = 0;

	for (size_t i = 0; i + 1 < out->n && rc == 0; i++) {
		const struct dk_entry *a = &out->v[ord[i].idx], *b = &out->v[ord[i + 1].idx];
		size_t pa = 0, pb = 0;

		if (strcmp(a->path, b->path) || (a->type == DK_ENT_DIR && b->type == DK_ENT_DIR))
			continue;
		while (pa + 1 < n && first[pa + 1] <= ord[i].idx)
			pa++;
		while (pb + 1 < n && first[pb + 1] <= ord[i + 1].idx)
			pb++;
		if (pa != pb)
			rc = dk_fail(err, DK_E_SPEC, "%s: /%s is in both %s and %s: dpkg would refuse to install both",
				     lp->entry->origin, a->path, debs[pa].package, debs[pb].package);
	}
	free(ord);
	return rc;
}

/* Maintainer scripts are never run: say what that may leave out, or refuse. */
static int scripts_policy(const struct dk_layer_plan *lp, const struct dk_deb *debs, size_t n, int refuse,
			  int report, struct dk_err *err)
{
	struct strbuf who = STRBUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		char *hint = dk_deb_script_hint(&debs[i]);

		if (!hint)
			continue;
		if (!refuse && report)
			dk_warn("%s: %s %s: %s", lp->entry->origin, debs[i].package, debs[i].version, hint);
		sb_join(&who, ", ", debs[i].package);
		free(hint);
	}
	if (refuse && who.len)
		rc = dk_fail(err, DK_E_SPEC, "%s: maintainer_scripts is \"refuse\", and these packages have preinst or "
			     "postinst scripts: %s", lp->entry->origin, who.buf);
	sb_release(&who);
	return rc;
}

/* The layer's entries; `report`: warn about maintainer scripts (the read step, not a look from above). */
static int debs_entries(const struct dk_layer_plan *lp, int report, struct dk_entries *out, struct dk_err *err)
{
	json_t *data = json_loads(dk_str_or(lp->row_data, ""), 0, NULL), *debs = json_object_get(data, "debs"), *w;
	size_t n = json_array_size(debs), i, status_len = 0;
	struct dk_deb *pk = dk_xcalloc(n + 1, sizeof(*pk));
	const struct dk_deb **pp = dk_xcalloc(n + 1, sizeof(*pp));
	size_t *first = dk_xcalloc(n + 1, sizeof(*first));
	struct dk_fetch *fetch = NULL;
	char *status = NULL, digest[DK_DIGEST_SIZE];
	int rc = -1, has;

	if (!data) {
		dk_fail(err, DK_E_INTERNAL, "%s: the debs layer has no plan", lp->entry->where);
		goto out;
	}
	json_array_foreach(debs, i, w) {
		char *path = NULL;

		first[i] = out->n;
		if (deb_file(lp, w, &fetch, &path, err) < 0)
			goto out;
		rc = dk_deb_read(path, out, &pk[i], err);
		free(path);
		if (rc < 0) {
			dk_err_prefix(err, "%s %s (%s)", jstr(w, "name"), jstr(w, "version"), jstr(w, "arch"));
			goto out;
		}
		rc = -1;
		pp[i] = &pk[i];
		/* the lock and the package must agree: a mirror that swapped files under a name is caught by sha256 */
		if (strcmp(pk[i].package, jstr(w, "name")) || strcmp(pk[i].version, jstr(w, "version"))) {
			dk_fail(err, DK_E_CORRUPT, "%s: the lock names %s %s, the package is %s %s", jstr(w, "url"),
				jstr(w, "name"), jstr(w, "version"), pk[i].package, pk[i].version);
			goto out;
		}
	}
	if (check_overlaps(lp, out, first, pk, n, err) < 0 ||
	    scripts_policy(lp, pk, n, json_is_true(json_object_get(data, "refuse_scripts")), report, err) < 0)
		goto out;
	if ((has = status_below(lp->ctx, lp, &status, &status_len, err)) < 0)
		goto out;
	if (has)
		dk_sha256_buf(status, status_len, digest);
	if (has != !json_is_null(json_object_get(data, "status")) || (has && strcmp(digest, jstr(data, "status")))) {
		dk_fail(err, DK_E_CHANGED, "%s: /%s below the layer changed since the build was planned",
			lp->entry->origin, DPKG_STATUS);
		goto out;
	}
	rc = dk_dpkgdb_entries(has ? status : NULL, status_len, pp, n, out, err);
out:
	dk_fetch_free(fetch);
	for (i = 0; i < n; i++)
		dk_deb_release(&pk[i]);
	free(pk);
	free(pp);
	free(first);
	free(status);
	json_decref(data);
	return rc;
}

int dk_debs_read(const struct dk_layer_plan *lp, const char *spec_file, struct dk_entries *out,
		 struct dk_err *err)
{
	(void)spec_file;
	return debs_entries(lp, 1, out, err);
}

/*
 * What a layer above may read of this one before it is built: the dpkg
 * database it writes (another debs layer's base, a wheels layer's default
 * libc).  That takes the packages' control data, so the locked .debs are
 * fetched (from the blob cache when they are there) and read now.  The
 * packages' own files are not known before they are read.
 */
static int db_only(const struct dk_layer_plan *lp, const char *path, struct dk_err *err)
{
	if (!strncmp(path, "var/lib/dpkg/", 13))
		return 0;
	return dk_fail(err, DK_E_SPEC, "%s: %s (%s) may write /%s, which a layer above it reads before it is built: "
		       "put the packages in the base image", spec_name(lp->ctx), lp->entry->where, lp->history, path);
}

/* The file entry at path among entries, read from their spool: 1 with *data and *len, 0 when absent. */
static int spooled(const struct dk_entries *l, const char *path, size_t max, char **data, size_t *len,
		   struct dk_err *err)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct dk_entry *e = &l->v[i];

		if (strcmp(e->path, path) || e->type != DK_ENT_FILE)
			continue;
		if (e->size > max)
			return dk_fail(err, DK_E_USAGE, "/%s is larger than %zu bytes", path, max);
		*data = dk_xmalloc((size_t)e->size + 1);
		if (pread(l->spool_fd, *data, (size_t)e->size, (off_t)e->spool_off) != (ssize_t)e->size) {
			free(*data);
			*data = NULL;
			return dk_fail_errno(err, DK_E_IO, "reading /%s from the spool", path);
		}
		(*data)[e->size] = 0;
		*len = (size_t)e->size;
		return 1;
	}
	return 0;
}

int dk_debs_find_file(const struct dk_layer_plan *lp, const char *path, size_t max, char **data, size_t *len,
		      struct dk_err *err)
{
	struct dk_entries tmp;
	int rc;

	if (db_only(lp, path, err) < 0)
		return -1;
	dk_entries_init(&tmp);
	rc = debs_entries(lp, 0, &tmp, err);
	if (rc == 0)
		rc = spooled(&tmp, path, max, data, len, err);
	dk_entries_release(&tmp);
	return rc < 0 ? dk_err_prefix(err, "%s", lp->entry->where) : rc;
}

int dk_debs_find_dir(const struct dk_layer_plan *lp, const char *dir, size_t max, struct dk_dir_files *out,
		     struct dk_err *err)
{
	struct dk_entries tmp;
	size_t n = strlen(dir);
	int rc;

	if (db_only(lp, dir, err) < 0)
		return -1;
	dk_entries_init(&tmp);
	rc = debs_entries(lp, 0, &tmp, err);
	for (size_t i = 0; rc == 0 && i < tmp.n; i++) {
		const char *p = tmp.v[i].path;
		char *data = NULL;
		size_t len = 0;

		if (strncmp(p, dir, n) || p[n] != '/' || strchr(p + n + 1, '/') || dk_dir_files_find(out, p + n + 1))
			continue;
		rc = spooled(&tmp, p, max, &data, &len, err);
		if (rc > 0) {
			dk_dir_files_add(out, p + n + 1, data, len);
			rc = 0;
		}
		free(data);
	}
	dk_entries_release(&tmp);
	return rc < 0 ? dk_err_prefix(err, "%s", lp->entry->where) : 0;
}
