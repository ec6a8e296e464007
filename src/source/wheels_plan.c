/*
 * wheels_plan.c - a "wheels" entry planned into layers, and one such layer
 * read (issue #11).
 *
 * The plan does everything that needs no wheel's bytes: the target from
 * the options and the base image, the lock, markers and Requires-Python,
 * the best wheel per package (pylock: among those the lock lists;
 * requirements: among the find_links files and then the index's whose
 * sha256 the file lists), and the split.  Each layer's key_extra names its
 * wheels by file name and sha256 with the install options, so the build
 * cache is asked before anything is downloaded (source.h: key_from_plan).
 * What the read step needs (where each wheel comes from) travels in the
 * plan's row_data as JSON.
 */
#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "derrick/blobs.h"
#include "derrick/deb.h"
#include "derrick/fetch.h"
#include "derrick/log.h"
#include "derrick/pyindex.h"
#include "derrick/pylock.h"
#include "derrick/pymarkers.h"
#include "derrick/pytags.h"
#include "derrick/pyversion.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/split.h"
#include "derrick/symlinks.h"
#include "derrick/util.h"
#include "derrick/wheel.h"
#include "derrick/wheelsrc.h"

/* Bumped when what a wheels layer holds for the same wheels changes. */
#define WHEELS_LAYER_FORMAT "derrick-wheels-layer-1"
/* The Python Package Index's simple API: asked only when neither the lock nor find_links has the file. */
#define DEFAULT_INDEX "https://pypi.org/simple/"
/* Wheels downloaded at once when the build gives no --jobs (as for blobs: transport.h). */
#define WHEELS_JOBS_DEFAULT 4
/* A dpkg status file larger than this is not read. */
#define DPKG_STATUS_MAX (64u << 20)

/* The wheel picked for one package. */
struct pick {
	char *name;             /* normalised */
	char *label;            /* "pyyaml==6.0" */
	char *filename, *url, *path;
	char sha256[DK_SHA256_HEX];
	int64_t size;
	int pure;
	char *requires_python;  /* the lock's or the index's, or NULL */
};

struct candidate {
	char *filename, *url, *path;
	char sha256[DK_SHA256_HEX];
	int64_t size;
	char *requires_python;
};

static void pick_free(struct pick *p)
{
	free(p->name);
	free(p->label);
	free(p->filename);
	free(p->url);
	free(p->path);
	free(p->requires_python);
}

/* ------------------------------------------------------------ the base image */

/* PYTHON_VERSION from the base config's Env, a new string, or NULL. */
static char *base_python(const struct dk_source_ctx *ctx)
{
	json_t *cfg, *env;
	char *v = NULL;
	size_t i;
	json_t *e;

	if (!ctx || !ctx->config)
		return NULL;
	cfg = json_loadb(ctx->config, ctx->config_len, 0, NULL);
	env = json_object_get(json_object_get(cfg, "config"), "Env");
	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);

		if (s && !strncmp(s, "PYTHON_VERSION=", 15)) {
			free(v);
			v = dk_xstrdup(s + 15);
		}
	}
	json_decref(cfg);
	return v;
}

char *dk_dpkg_libc(const char *text)
{
	const char *p = text;

	while (p && *p) {
		const char *end = strstr(p, "\n\n");
		char *stanza = dk_xstrndup(p, end ? (size_t)(end - p) : strlen(p));
		char *pkg = dk_deb_field(stanza, "Package"), *ver = dk_deb_field(stanza, "Version");
		char *out = NULL;

		if (pkg && ver && !strcmp(pkg, "libc6")) {
			const char *v = strchr(ver, ':') ? strchr(ver, ':') + 1 : ver;
			unsigned a, b;

			if (sscanf(v, "%u.%u", &a, &b) == 2)
				out = dk_xasprintf("glibc %u.%u", a, b);
		}
		free(pkg);
		free(ver);
		free(stanza);
		if (out)
			return out;
		p = end ? end + 2 : NULL;
	}
	return NULL;
}

static int base_libc(const struct dk_source_ctx *ctx, char **out, struct dk_err *err)
{
	char *data = NULL;
	size_t len;
	int rc;

	*out = NULL;
	rc = dk_source_read_below(ctx, NULL, "var/lib/dpkg/status", DPKG_STATUS_MAX, &data, &len, err);
	if (rc < 0)
		return -1;
	if (rc > 0)
		*out = dk_dpkg_libc(data);
	free(data);
	return 0;
}

/* ------------------------------------------------------------ choosing */

struct planner {
	const struct dk_spec_layer *l;
	const char *file;
	const struct dk_source_ctx *ctx;
	struct dk_wheels_opts o;
	struct dk_pytarget t;
	struct dk_pytags tags;
	char target[96];
	const char *pyver;              /* what Requires-Python is checked against */
	struct dk_fetch *fetch;         /* opened for the first index page */
};

/* Requires-Python `set` (NULL: none) for the target: 0, or -1 naming `what`. */
static int check_python(struct planner *pl, const char *set, const char *what, struct dk_err *err)
{
	int ok;

	if (!set || !*set)
		return 0;
	if (dk_pyspecset_check(set, pl->pyver, &ok, err) < 0)
		return dk_err_prefix(err, "%s: requires-python", what);
	if (!ok)
		return dk_fail(err, DK_E_SPEC, "%s: requires Python %s, the target is %s", what, set, pl->target);
	return 0;
}

static void cand_free(struct candidate *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].filename);
		free(c[i].url);
		free(c[i].path);
		free(c[i].requires_python);
	}
	free(c);
}

/* Two PEP 440 versions are equal ("1.0" and "1.0.0"). */
static int version_equal(const char *a, const char *b)
{
	struct dk_pyver va, vb;
	struct dk_err e;
	int eq = 0;

	memset(&va, 0, sizeof(va));
	memset(&vb, 0, sizeof(vb));
	if (dk_pyver_parse(a, &va, &e) == 0 && dk_pyver_parse(b, &vb, &e) == 0)
		eq = !dk_pyver_cmp(&va, &vb);
	dk_pyver_free(&va);
	dk_pyver_free(&vb);
	return eq;
}

static int hash_listed(const struct dk_lock_pkg *pkg, const char *sha)
{
	for (size_t i = 0; i < pkg->n_hashes; i++)
		if (!strcmp(pkg->hashes[i], sha))
			return 1;
	return 0;
}

/* The wheels of pkg (name and version) in the find_links directories whose sha256 the lock lists. */
static int from_find_links(struct planner *pl, const struct dk_lock_pkg *pkg, const char *norm,
			   struct candidate **c, size_t *n, struct dk_err *err)
{
	for (size_t d = 0; pl->o.find_links && d < pl->o.find_links->n; d++) {
		const char *dir = pl->o.find_links->v[d];
		DIR *dh = opendir(dir);
		struct dirent *de;

		if (!dh)
			return dk_fail_errno(err, DK_E_NOTFOUND, "%s: %s.wheels.find_links: %s", pl->file,
					     pl->l->where, dir);
		while ((de = readdir(dh))) {
			struct dk_wheelname wn;
			struct dk_err e2;
			char digest[DK_DIGEST_SIZE];
			char *path;
			uint64_t size;
			size_t len = strlen(de->d_name);

			if (len < 5 || strcmp(de->d_name + len - 4, ".whl") || dk_wheelname_parse(de->d_name, &wn, &e2) < 0)
				continue;
			if (strcmp(wn.name, norm) || (pkg->version && strcmp(wn.version.text, pkg->version) &&
						      !version_equal(wn.version.text, pkg->version))) {
				dk_wheelname_free(&wn);
				continue;
			}
			dk_wheelname_free(&wn);
			path = dk_path_join(dir, de->d_name);
			if (dk_sha256_file(path, digest, &size, err) < 0) {
				free(path);
				closedir(dh);
				return -1;
			}
			if (!hash_listed(pkg, dk_digest_hex(digest))) {
				free(path);
				continue;
			}
			*c = dk_xrealloc(*c, (*n + 1) * sizeof(**c));
			memset(&(*c)[*n], 0, sizeof(**c));
			(*c)[*n].filename = dk_xstrdup(de->d_name);
			(*c)[*n].path = path;
			snprintf((*c)[*n].sha256, DK_SHA256_HEX, "%s", dk_digest_hex(digest));
			(*c)[*n].size = (int64_t)size;
			(*n)++;
		}
		closedir(dh);
	}
	return 0;
}

/* The files of pkg's index page whose sha256 the lock lists (wheels or not: the caller tells sdists). */
static int from_index(struct planner *pl, const struct dk_lock_pkg *pkg, struct candidate **c, size_t *n,
		      struct dk_err *err)
{
	const char *index = pl->o.index_url ? pl->o.index_url : DEFAULT_INDEX;
	char *url = dk_pyindex_page_url(index, pkg->name);
	char *body = NULL, *ctype = NULL, *final = NULL;
	size_t len;
	struct dk_pyindex_page page;
	int rc = -1;

	memset(&page, 0, sizeof(page));
	if (!pl->fetch) {
		struct dk_fetch_opts fo;

		memset(&fo, 0, sizeof(fo));
		fo.reg = pl->ctx ? pl->ctx->reg : NULL;
		if (dk_fetch_open(&fo, &pl->fetch, err) < 0)
			goto out;
	}
	if (dk_fetch_page(pl->fetch, url, DK_PYINDEX_ACCEPT, &body, &len, &ctype, &final, err) < 0 ||
	    dk_pyindex_parse(body, len, ctype, final, &page, err) < 0)
		goto out;
	for (size_t i = 0; i < page.n_files; i++) {
		const struct dk_pyindex_file *f = &page.files[i];

		if (!f->sha256[0] || !hash_listed(pkg, f->sha256))
			continue;
		*c = dk_xrealloc(*c, (*n + 1) * sizeof(**c));
		memset(&(*c)[*n], 0, sizeof(**c));
		(*c)[*n].filename = dk_xstrdup(f->filename);
		(*c)[*n].url = dk_xstrdup(f->url);
		snprintf((*c)[*n].sha256, DK_SHA256_HEX, "%s", f->sha256);
		(*c)[*n].size = f->size;
		(*c)[*n].requires_python = f->requires_python ? dk_xstrdup(f->requires_python) : NULL;
		(*n)++;
	}
	rc = 0;
out:
	dk_pyindex_release(&page);
	free(url);
	free(body);
	free(ctype);
	free(final);
	return rc;
}

/*
 * The best-ranked compatible wheel of pkg among c[0..n): 0 with *best its
 * index, or -1 naming the package, the target's best tags and what the
 * candidates offer (sdists only: refused).
 */
static int choose(struct planner *pl, const struct dk_lock_pkg *pkg, const char *norm, struct candidate *c,
		  size_t n, size_t *best, int *pure, struct dk_err *err)
{
	long best_rank = -1;
	struct strbuf have = STRBUF_INIT;
	size_t wheels = 0;
	char *bt;

	for (size_t i = 0; i < n; i++) {
		struct dk_wheelname wn;
		struct dk_err e2;
		long rank;
		char *tags;

		if (dk_wheelname_parse(c[i].filename, &wn, &e2) < 0)
			continue;       /* an sdist or something else: never built */
		wheels++;
		if (strcmp(wn.name, norm)) {
			dk_wheelname_free(&wn);
			continue;
		}
		rank = dk_wheelname_rank(&pl->tags, &wn);
		tags = dk_wheelname_tags(&wn);
		sb_join(&have, "; ", tags);
		free(tags);
		if (rank >= 0 && (best_rank < 0 || rank < best_rank)) {
			best_rank = rank;
			*best = i;
			*pure = 1;
			for (size_t k = 0; k < wn.nplatforms; k++)
				if (strcmp(wn.platforms[k], "any"))
					*pure = 0;
		}
		dk_wheelname_free(&wn);
	}
	if (best_rank >= 0) {
		sb_release(&have);
		return 0;
	}
	if (!wheels) {
		sb_release(&have);
		return dk_fail(err, DK_E_SPEC, "%s: %s has no wheel, only %s: derrick never builds from source",
			       pkg->where, pkg->name,
			       n ? "source distributions" : "no file at all that its hashes allow");
	}
	bt = dk_pytags_best(&pl->tags, 6);
	dk_fail(err, DK_E_SPEC, "%s: no wheel of %s fits %s (its best tags: %s, ...); the wheels have %s",
		pkg->where, pkg->name, pl->target, bt, have.len ? have.buf : "other names");
	free(bt);
	sb_release(&have);
	return -1;
}

/* The wheel for one package, or 0 with *skip when its marker excludes it. */
static int pick_package(struct planner *pl, const struct dk_lock_pkg *pkg, struct pick *out, int *skip,
			struct dk_err *err)
{
	struct candidate *c = NULL;
	size_t n = 0, best = 0;
	int ok = 1, pure = 0, rc = -1;
	char *norm = dk_pyname_normalize(pkg->name);

	*skip = 0;
	memset(out, 0, sizeof(*out));
	if (pkg->marker && dk_pymarker_check(pkg->marker, &pl->t, NULL, &ok, err) < 0) {
		dk_err_prefix(err, "%s: marker", pkg->where);
		goto out;
	}
	if (!ok) {
		*skip = 1;
		rc = 0;
		goto out;
	}
	if (check_python(pl, pkg->requires_python, pkg->where, err) < 0)
		goto out;
	if (pkg->n_files) {
		c = dk_xcalloc(pkg->n_files, sizeof(*c));
		for (size_t i = 0; i < pkg->n_files; i++) {
			c[i].filename = dk_xstrdup(pkg->files[i].filename);
			c[i].url = pkg->files[i].url ? dk_xstrdup(pkg->files[i].url) : NULL;
			c[i].path = pkg->files[i].path ? dk_xstrdup(pkg->files[i].path) : NULL;
			memcpy(c[i].sha256, pkg->files[i].sha256, DK_SHA256_HEX);
			c[i].size = pkg->files[i].size;
		}
		n = pkg->n_files;
	} else {
		if (from_find_links(pl, pkg, norm, &c, &n, err) < 0)
			goto out;
		if (!n && from_index(pl, pkg, &c, &n, err) < 0) {
			dk_err_prefix(err, "%s: %s", pkg->where, pkg->name);
			goto out;
		}
	}
	if (choose(pl, pkg, norm, c, n, &best, &pure, err) < 0 ||
	    check_python(pl, c[best].requires_python, c[best].filename, err) < 0)
		goto out;
	out->name = norm;
	norm = NULL;
	out->label = dk_xasprintf("%s==%s", pkg->name, pkg->version ? pkg->version : "?");
	out->filename = c[best].filename;
	out->url = c[best].url;
	out->path = c[best].path;
	c[best].filename = c[best].url = c[best].path = NULL;
	memcpy(out->sha256, c[best].sha256, DK_SHA256_HEX);
	out->size = c[best].size;
	if (out->size < 0 && out->path) {
		struct stat st;

		if (stat(out->path, &st) == 0)
			out->size = (int64_t)st.st_size;
	}
	out->pure = pure;
	rc = 0;
out:
	cand_free(c, n);
	free(norm);
	return rc;
}

/* The lock's own requires-python and environments. */
static int check_lock(struct planner *pl, const struct dk_lock *lock, struct dk_err *err)
{
	int any = !lock->n_environments;

	if (check_python(pl, lock->requires_python, lock->path, err) < 0)
		return -1;
	for (size_t i = 0; i < lock->n_environments && !any; i++) {
		int ok;

		if (dk_pymarker_check(lock->environments[i], &pl->t, NULL, &ok, err) < 0)
			return dk_err_prefix(err, "%s: environments[%zu]", lock->path, i);
		any = ok;
	}
	if (!any)
		return dk_fail(err, DK_E_SPEC, "%s: none of its environments is %s", lock->path, pl->target);
	return 0;
}

/* The layer of group g: its history, its key and what its read needs. */
static void add_layer(struct planner *pl, const struct dk_split_group *g, const struct pick *picks,
		      struct dk_layer_plans *out)
{
	struct strbuf hist = STRBUF_INIT, key = STRBUF_INIT, owners = STRBUF_INIT;
	json_t *data = json_object(), *ws = json_array();
	struct dk_layer_plan *lp;
	char *text;

	sb_adds(&hist, pl->l->kind->verb);
	/* a pure layer's bytes are the same on every architecture: its key must be too */
	sb_addf(&key, "%s target=%s python=%s prefix=%s site_packages=%s interpreter=%s wheels=",
		WHEELS_LAYER_FORMAT, g->pure ? "any" : pl->target, pl->o.python, pl->o.prefix, pl->o.site_packages, pl->o.interpreter);
	for (size_t i = 0; i < g->n; i++) {
		const struct pick *p = &picks[g->pkgs[i]];
		json_t *w = json_pack("{s:s, s:s, s:s, s:I, s:s?, s:s?}", "name", p->name, "filename", p->filename,
				      "sha256", p->sha256, "size", (json_int_t)p->size, "url", p->url, "path", p->path);

		json_array_append_new(ws, w);
		sb_addf(&hist, " %s", p->label);
		sb_addf(&key, "%s%zu:%s:%s", i ? "," : "", strlen(p->filename), p->filename, p->sha256);
		/* the entries of wheel i name it as owner i + 1 (dk_wheels_install) */
		sb_add(&owners, p->filename, strlen(p->filename) + 1);
	}
	json_object_set_new(data, "wheels", ws);
	json_object_set_new(data, "python", json_string(pl->o.python));
	json_object_set_new(data, "python_xy", json_string(pl->o.python_xy));
	json_object_set_new(data, "prefix", json_string(pl->o.prefix));
	json_object_set_new(data, "site_packages", json_string(pl->o.site_packages));
	json_object_set_new(data, "interpreter", json_string(pl->o.interpreter));
	text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(data);
	lp = dk_layer_plans_add(out, pl->l, pl->o.lock ? pl->o.lock : pl->o.requirements, hist.buf);
	lp->key_extra = sb_detach(&key);
	lp->row_data = text;
	lp->n_owners = g->n;
	lp->owners_len = owners.len;
	lp->owners = sb_detach(&owners);
	sb_release(&hist);
}

int dk_wheels_plan(const struct dk_spec_layer *l, const struct dk_platform *platform,
		   const struct dk_source_ctx *ctx, struct dk_layer_plans *out, struct dk_err *err)
{
	struct planner pl;
	struct dk_lock lock;
	struct pick *picks = NULL;
	struct dk_split_pkg *sp = NULL;
	struct dk_split split = { NULL, 0 };
	size_t n = 0;
	char *bpy = base_python(ctx), *blibc = NULL;
	int rc = -1;

	memset(&pl, 0, sizeof(pl));
	memset(&lock, 0, sizeof(lock));
	pl.l = l;
	pl.ctx = ctx;
	pl.file = ctx && ctx->spec_file ? ctx->spec_file : "spec";
	if (!dk_spec_opt_value(l, "libc") && base_libc(ctx, &blibc, err) < 0)
		goto out_opts;
	if (dk_wheels_opts(l, pl.file, bpy, blibc, &pl.o, err) < 0)
		goto out_opts;
	if (!pl.o.libc) {
		dk_source_bad_member(err, pl.file, l, "libc", "not given, and the image below has no libc6 in its dpkg "
				     "status: set it (\"glibc 2.36\" or \"musl 1.2\")");
		goto out_opts;
	}
	if (dk_pytarget_init(&pl.t, pl.o.python, pl.o.libc, platform, err) < 0) {
		dk_err_prefix(err, "%s: %s.%s", pl.file, l->where, l->kind->key);
		goto out_opts;
	}
	dk_pytarget_describe(&pl.t, pl.target, sizeof(pl.target));
	dk_pytags_build(&pl.t, &pl.tags);
	pl.pyver = pl.o.python;
	if ((pl.o.lock ? dk_pylock_load(pl.o.lock, &lock, err) : dk_requirements_load(pl.o.requirements, &lock, err)) < 0 ||
	    check_lock(&pl, &lock, err) < 0)
		goto out;
	picks = dk_xcalloc(lock.n_pkgs + 1, sizeof(*picks));
	for (size_t i = 0; i < lock.n_pkgs; i++) {
		int skip;

		if (pick_package(&pl, &lock.pkgs[i], &picks[n], &skip, err) < 0)
			goto out;
		if (skip)
			continue;
		n++;
		for (size_t j = 0; j + 1 < n; j++)
			if (!strcmp(picks[j].name, picks[n - 1].name)) {
				dk_fail(err, DK_E_SPEC, "%s: %s is locked twice for %s", lock.pkgs[i].where,
					lock.pkgs[i].name, pl.target);
				goto out;
			}
	}
	sp = dk_xcalloc(n + 1, sizeof(*sp));
	for (size_t i = 0; i < n; i++) {
		sp[i].name = picks[i].name;
		sp[i].label = picks[i].label;
		sp[i].size = picks[i].size > 0 ? (uint64_t)picks[i].size : 0;
		sp[i].pure = picks[i].pure;
	}
	if (dk_split_packages(sp, n, 0, !pl.o.split, &split, err) < 0)
		goto out;
	for (size_t i = 0; i < split.n; i++)
		add_layer(&pl, &split.v[i], picks, out);
	rc = 0;
out:
	dk_split_free(&split);
	free(sp);
	for (size_t i = 0; i < n; i++)
		pick_free(&picks[i]);
	free(picks);
	dk_lock_release(&lock);
	dk_pytags_free(&pl.tags);
	dk_fetch_free(pl.fetch);
out_opts:
	dk_wheels_opts_free(&pl.o);
	free(bpy);
	free(blibc);
	return rc;
}

/* ------------------------------------------------------------ reading */

static int check_wheel(const struct dk_wheel_info *info, void *arg, struct dk_err *err)
{
	const char *pyver = arg;
	int ok;

	if (!info->requires_python)
		return 0;
	if (dk_pyspecset_check(info->requires_python, pyver, &ok, err) < 0)
		return dk_err_prefix(err, "%s: Requires-Python", info->filename);
	if (!ok)
		return dk_fail(err, DK_E_SPEC, "%s: Requires-Python %s excludes the target's Python %s", info->filename,
			       info->requires_python, pyver);
	return 0;
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* One wheel of a layer, as its read needs it (strings owned by the row's JSON). */
struct rwheel {
	const char *filename, *sha256, *url, *path;
	int64_t size;
};

/*
 * The downloads of one layer's read: the wheels the blob cache lacks, in
 * plan order, taken by up to --jobs threads, each with its own session
 * (a dk_fetch is one thread's at a time).  Where each lands is decided by
 * its sha256, never by when it finished, so the order they finish in
 * changes nothing.  A failure stops the threads from taking more; the
 * error reported is that of the first failed wheel in plan order.
 */
struct downloads {
	const struct dk_layer_plan *lp;
	const struct dk_blobs *blobs;
	const struct rwheel *w;
	const size_t *todo;             /* indices into w */
	size_t n, next;
	pthread_mutex_t lock;
	int stop;
	struct dk_err *errs;            /* per todo entry */
	int *failed;
};

static void *download_worker(void *arg)
{
	struct downloads *d = arg;
	struct dk_fetch *fetch = NULL;

	for (;;) {
		const struct rwheel *w;
		size_t i;
		int rc;

		pthread_mutex_lock(&d->lock);
		if (d->stop || d->next >= d->n) {
			pthread_mutex_unlock(&d->lock);
			break;
		}
		i = d->next++;
		pthread_mutex_unlock(&d->lock);
		w = &d->w[d->todo[i]];
		rc = 0;
		if (!fetch) {
			struct dk_fetch_opts fo;

			memset(&fo, 0, sizeof(fo));
			fo.reg = d->lp->ctx->reg;
			rc = dk_fetch_open(&fo, &fetch, &d->errs[i]);
		}
		if (rc == 0)
			rc = dk_fetch_blob(fetch, d->blobs, w->url, w->sha256, w->size, &d->errs[i]);
		if (rc < 0) {
			dk_err_prefix(&d->errs[i], "%s", w->filename);
			pthread_mutex_lock(&d->lock);
			d->failed[i] = 1;
			d->stop = 1;
			pthread_mutex_unlock(&d->lock);
		}
	}
	dk_fetch_free(fetch);
	return NULL;
}

/* Download the wheels w[todo[0..n)] into the blob cache: 0, or -1 with err naming the wheel. */
static int download(const struct dk_layer_plan *lp, const struct dk_blobs *blobs, const struct rwheel *w,
		    const size_t *todo, size_t n, struct dk_err *err)
{
	struct downloads d;
	size_t jobs = lp->ctx->jobs > 0 ? (size_t)lp->ctx->jobs : WHEELS_JOBS_DEFAULT, started = 0;
	pthread_t *threads;
	int rc = 0;

	memset(&d, 0, sizeof(d));
	d.lp = lp;
	d.blobs = blobs;
	d.w = w;
	d.todo = todo;
	d.n = n;
	pthread_mutex_init(&d.lock, NULL);
	d.errs = dk_xcalloc(n + 1, sizeof(*d.errs));
	d.failed = dk_xcalloc(n + 1, sizeof(*d.failed));
	if (jobs > n)
		jobs = n;
	threads = dk_xcalloc(jobs + 1, sizeof(*threads));
	for (size_t i = 0; jobs > 1 && i < jobs; i++)
		if (pthread_create(&threads[i], NULL, download_worker, &d) == 0)
			started++;
	if (!started)
		download_worker(&d);    /* --jobs 1, or no thread to be had: one after another here */
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	for (size_t i = 0; i < n && rc == 0; i++)
		if (d.failed[i]) {
			*err = d.errs[i];
			rc = -1;
		}
	pthread_mutex_destroy(&d.lock);
	free(threads);
	free(d.errs);
	free(d.failed);
	return rc;
}

/*
 * The files of the layer's wheels on disk, in plan order: a path as it is,
 * a URL's download in the blob cache (those not there yet downloaded
 * first, several at once).  paths[i] are new strings.
 */
static int wheel_files(const struct dk_layer_plan *lp, const struct rwheel *w, size_t n, char **paths,
		       struct dk_err *err)
{
	const struct dk_blobs *blobs = lp->ctx ? lp->ctx->blobs : NULL;
	size_t *todo = dk_xcalloc(n + 1, sizeof(*todo)), n_todo = 0;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		char digest[DK_DIGEST_SIZE];

		if (w[i].path) {
			paths[i] = dk_xstrdup(w[i].path);
			continue;
		}
		if (!blobs) {
			rc = dk_fail(err, DK_E_INTERNAL, "%s: no blob cache to download %s into", lp->entry->where,
				     w[i].filename);
			break;
		}
		snprintf(digest, sizeof(digest), "sha256:%s", w[i].sha256);
		paths[i] = dk_blobs_path(blobs, digest);
		if (!dk_blobs_has(blobs, digest))
			todo[n_todo++] = i;
	}
	if (rc == 0 && n_todo)
		rc = download(lp, blobs, w, todo, n_todo, err);
	free(todo);
	return rc;
}

int dk_wheels_read(const struct dk_layer_plan *lp, const char *spec_file, struct dk_entries *out,
		   struct dk_err *err)
{
	json_t *data = json_loads(dk_str_or(lp->row_data, ""), 0, NULL), *ws = json_object_get(data, "wheels"), *j;
	size_t n = json_array_size(ws), i;
	struct dk_wheel_file *files = dk_xcalloc(n + 1, sizeof(*files));
	struct rwheel *w = dk_xcalloc(n + 1, sizeof(*w));
	char **paths = dk_xcalloc(n + 1, sizeof(*paths));
	struct dk_wheel_opts wo;
	int rc = -1;

	(void)spec_file;
	if (!data) {
		dk_fail(err, DK_E_INTERNAL, "%s: the wheels layer has no plan", lp->entry->where);
		goto out;
	}
	json_array_foreach(ws, i, j) {
		w[i].filename = jstr(j, "filename");
		w[i].sha256 = jstr(j, "sha256");
		w[i].url = jstr(j, "url");
		w[i].path = jstr(j, "path");
		w[i].size = (int64_t)json_integer_value(json_object_get(j, "size"));
	}
	if (wheel_files(lp, w, n, paths, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		files[i].path = paths[i];
		files[i].filename = w[i].filename;
		files[i].sha256 = w[i].sha256;
		files[i].size = w[i].size;
	}
	memset(&wo, 0, sizeof(wo));
	wo.prefix = jstr(data, "prefix");
	wo.site_packages = jstr(data, "site_packages");
	wo.interpreter = jstr(data, "interpreter");
	wo.python = jstr(data, "python_xy");
	wo.check = check_wheel;
	wo.check_arg = (void *)jstr(data, "python");
	rc = dk_wheels_install(files, n, &wo, out, err);
out:
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(w);
	free(files);
	json_decref(data);
	return rc;
}

/* "pyyaml" from "PyYAML-6.0.dist-info", a new string; NULL for other names. */
static char *dist_info_name(const char *entry)
{
	size_t len = strlen(entry);
	const char *dash;
	char *name, *norm;

	if (len < 11 || strcmp(entry + len - 10, ".dist-info") || !(dash = strchr(entry, '-')))
		return NULL;
	name = dk_xstrndup(entry, (size_t)(dash - entry));
	norm = dk_pyname_normalize(name);
	free(name);
	return norm;
}

/* The packages of this layer that the image below has already (a .dist-info of the same name). */
static void report_installed(const struct dk_layer_plan *lp, json_t *ws, const char *sp, char **names, size_t n,
			     int *had)
{
	size_t i;
	json_t *w;

	json_array_foreach(ws, i, w) {
		for (size_t k = 0; k < n; k++) {
			char *dn = dist_info_name(names[k]);

			if (dn && !strcmp(dn, jstr(w, "name"))) {
				dk_warn("%s: %s: the image below already has %s in %s; its files are replaced",
					lp->entry->origin, jstr(w, "filename"), names[k], sp);
				*had = 1;
			}
			free(dn);
		}
	}
}

/*
 * The error for entry e of this layer, whose path the image below has: its
 * wheel (dk_wheels_install numbers them) and the other writer, `other`,
 * the label the build gave the earlier layer of this build that wrote it
 * (symlinks.h: dk_symview_owner), or NULL for the base image.
 */
static int written_twice(const struct dk_layer_plan *lp, json_t *ws, const struct dk_entry *e, const char *other,
			 struct dk_err *err)
{
	struct strbuf mine = STRBUF_INIT;
	size_t i;
	json_t *w;

	/* a cache hit's entries come from its map, which does not say which of its wheels wrote what */
	if (e->owner && e->owner <= json_array_size(ws)) {
		sb_adds(&mine, jstr(json_array_get(ws, e->owner - 1), "filename"));
	} else {
		if (json_array_size(ws) > 1)
			sb_adds(&mine, "one of ");
		json_array_foreach(ws, i, w)
			sb_addf(&mine, "%s%s", i ? ", " : "", jstr(w, "filename"));
	}
	if (other)
		dk_fail(err, DK_E_SPEC, "%s: /%s is written twice: by %s in this layer and by %s in an earlier one",
			lp->entry->origin, e->path, mine.buf, other);
	else
		dk_fail(err, DK_E_SPEC, "%s: /%s is written twice: by %s in this layer and by the base image",
			lp->entry->origin, e->path, mine.buf);
	sb_release(&mine);
	return -1;
}

int dk_wheels_below(const struct dk_layer_plan *lp, const struct dk_entries *entries,
		    const struct dk_symview *below, struct dk_err *err)
{
	json_t *data = json_loads(dk_str_or(lp->row_data, ""), 0, NULL), *ws = json_object_get(data, "wheels");
	const char *sp = jstr(data, "site_packages");
	char **names = NULL, *spc = NULL;
	size_t n = 0;
	int rc = 0, had = 0;

	if (!below || !sp)
		goto out;
	spc = dk_path_clean(sp);
	if (dk_symview_children(below, spc, &names, &n, err) < 0) {
		rc = -1;
		goto out;
	}
	report_installed(lp, ws, sp, names, n, &had);
	/*
	 * Any other file the image below has is another wheel's: an earlier
	 * layer of this lock's split, or the base's.  A package that was there
	 * already replaces its own files, as pip would.
	 */
	for (size_t k = 0; entries && k < entries->n && rc == 0 && !had; k++) {
		const struct dk_entry *e = &entries->v[k];
		char *link = NULL;
		const char *target;

		if (e->type != DK_ENT_DIR && dk_symview_has(below, e->path, &link, &target) == 1)
			rc = written_twice(lp, ws, e, dk_symview_owner(below, e->path), err);
		free(link);
	}
out:
	for (size_t k = 0; k < n; k++)
		free(names[k]);
	free(names);
	free(spc);
	json_decref(data);
	return rc;
}
