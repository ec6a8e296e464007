/*
 * build.c - run a build from spec to destinations.
 *
 * Nothing is written to a destination until every layer, the config and
 * the manifest exist in a private staging store; only then are blobs moved
 * (hard-linked where possible) into each destination and its index
 * updated.  A failure before that point leaves every output untouched.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "derrick/blobs.h"
#include "derrick/build.h"
#include "derrick/config.h"
#include "derrick/delete.h"
#include "derrick/image.h"
#include "derrick/layer.h"
#include "derrick/layermap.h"
#include "derrick/lcache.h"
#include "derrick/rcache.h"
#include "derrick/log.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/symlinks.h"
#include "derrick/tarread.h"
#include "derrick/util.h"
#include "derrick/walk.h"

struct base_image {
	int opened;                     /* open_base ran (scratch: src stays NULL) */
	struct dk_image_src *src;
	struct dk_manifest manifest;
	char *config;
	size_t config_len;
};

struct run;

/* One platform's image: what it is made of, and what it came to. */
struct image_run {
	struct dk_plan plan;
	struct dk_source_ctx ctx;       /* what the plan's rows know of the base and the caches */
	struct run *run;                /* the run it is part of (ctx.arg is the image: read_file reads its base) */
	struct base_image base;
	struct dk_build_result res;
	struct dk_manifest_blob m;
};

/*
 * A layer this build made, by what decides its bytes besides the entries
 * (the spec entry, its input, its key's extras): the next platform's same
 * layer is this one, not built again.
 */
struct made_layer {
	const struct dk_spec_layer *entry;
	char *input, *key;
	struct dk_layer_result lr;
	const char *cache;
	struct dk_image_src *remote;
};

struct run {
	const struct dk_build_opts *o;
	struct dk_spec spec;
	struct image_run *imgs;         /* one per platform, in the index's order */
	size_t n_imgs;
	struct dk_plan *plan;           /* the platform being built: its plan, base and result */
	struct base_image *base;
	struct made_layer *made;
	size_t n_made;
	struct dk_image_dst **dsts;
	size_t n_dsts;
	char *stage_dir;
	struct dk_blobs stage;
	struct dk_own_paths *own;       /* what this build writes: never packed (walk.h) */
	struct dk_lcache *lcache;       /* NULL with --no-cache, or when it cannot be opened */
	struct dk_rcache *rcache;       /* NULL without a cache repository */
	struct dk_compress compress;    /* the flags', else the spec's compression */
	int need_bytes;                 /* some output is local: registry hits must be downloaded */
	struct dk_symview *view;        /* the image's tree below the next layer (also what "delete" checks) */
	struct dk_build_result *res;
	struct dk_err *err;
};

static struct dk_built_layer *add_result_layer(struct dk_build_result *res)
{
	res->layers = dk_xrealloc(res->layers, (res->n_layers + 1) * sizeof(*res->layers));
	memset(&res->layers[res->n_layers], 0, sizeof(res->layers[0]));
	return &res->layers[res->n_layers++];
}

static int open_outputs(struct run *r)
{
	const struct dk_build_opts *o = r->o;

	if (!o->n_outputs)
		return dk_fail(r->err, DK_E_USAGE, "no output: give at least one -o DEST (e.g. -o oci:out:latest)");
	r->dsts = dk_xcalloc(o->n_outputs, sizeof(*r->dsts));
	for (size_t i = 0; i < o->n_outputs; i++) {
		struct dk_ref ref;
		int rc;

		if (dk_ref_parse(o->outputs[i], &ref, r->err) < 0)
			return dk_err_prefix(r->err, "-o");
		rc = dk_image_dst_open(&ref, &o->transport, &r->dsts[i], r->err);
		dk_ref_free(&ref);
		if (rc < 0)
			return -1;
		r->n_dsts++;
	}
	return 0;
}

static int open_base(struct run *r)
{
	struct base_image *b = r->base;
	struct dk_manifest_blob mb;
	struct dk_ref ref;
	const char *where = r->spec.base;
	json_t *cfg;
	json_error_t jerr;
	struct dk_platform base;

	b->opened = 1;
	if (!strcmp(r->spec.base, "scratch"))
		return 0;
	if (dk_ref_parse(r->spec.base, &ref, r->err) < 0)
		return dk_err_prefix(r->err, "%s: base", r->spec.path);
	if (dk_image_src_open(&ref, &r->o->transport, &b->src, r->err) < 0) {
		dk_ref_free(&ref);
		return dk_err_prefix(r->err, "base image");
	}
	dk_ref_free(&ref);
	if (dk_image_src_get_manifest(b->src, &r->plan->platform, &mb, r->err) < 0)
		return dk_err_prefix(r->err, "base image");
	if (dk_manifest_parse(&mb, where, &b->manifest, r->err) < 0) {
		dk_manifest_blob_free(&mb);
		return dk_err_prefix(r->err, "base image");
	}
	dk_manifest_blob_free(&mb);
	/* an artifact's "layers" are no filesystem; one that carries an image config is still an image */
	if (!dk_media_is_image_config(b->manifest.config.media_type))
		return dk_fail(r->err, DK_E_SPEC, "base image %s is an artifact (%s), not an image", where,
			       b->manifest.artifact_type);
	if (dk_doc_check_size(DK_DOC_CONFIG, where, b->manifest.config.digest, b->manifest.config.size,
			      r->err) < 0)
		return dk_err_prefix(r->err, "base image");
	if (dk_image_src_read_blob(b->src, &b->manifest.config, DK_CONFIG_MAX, &b->config,
				   &b->config_len, r->err) < 0)
		return dk_err_prefix(r->err, "base image config");
	cfg = json_loadb(b->config, b->config_len, 0, &jerr);
	/* the same test as choosing from an index: an arm64 base without a variant suits arm64/v8 */
	if (dk_platform_from_json(cfg, &base) == 0 && !dk_platform_match(&r->plan->platform, &base)) {
		char have[100], want[100];

		dk_platform_format(&base, have, sizeof(have));
		dk_platform_format(&r->plan->platform, want, sizeof(want));
		dk_warn("base image %s is %s, the image being built is %s", where, have, want);
	}
	json_decref(cfg);
	/*
	 * Base layers are not fetched here: a destination that has them, or can
	 * mount them from the base's repository, never needs their bytes.
	 */
	for (size_t i = 0; i < b->manifest.n_layers; i++) {
		struct dk_built_layer *l = add_result_layer(r->res);

		l->stage = dk_xstrdup("base");
		l->created_by = dk_xasprintf("base image %s", where);
		l->desc = b->manifest.layers[i];
		snprintf(l->desc.media_type, sizeof(l->desc.media_type), "%s",
			 dk_layer_media_oci(b->manifest.layers[i].media_type));
	}
	return 0;
}

static void close_base(struct base_image *b)
{
	free(b->config);
	dk_manifest_free(&b->manifest);
	dk_image_src_close(b->src);
}

/*
 * The map of layer d (symlinks.h says why a layer needs the maps of those
 * below it: a base layer from src, or a build-cache hit that was not read):
 * from the local cache, else from the registry cache (unless hits are to
 * be verified), else read from the layer itself (the blob store's copy,
 * else src's), once: both caches keep it then, so no later build reads it.
 */
static int layer_map(struct run *r, struct dk_image_src *src, const struct dk_desc *d, const char *diff_id,
		     struct dk_layer_map *m)
{
	const char *from = NULL;
	char *buf = NULL, *path = NULL;
	size_t len;
	struct dk_err cerr;
	int remote = 0;

	if (r->lcache && dk_lcache_get_map(r->lcache, diff_id, &buf, &len))
		from = "build cache";
	else if (!r->o->cache_verify && (remote = dk_rcache_get_map(r->rcache, diff_id, &buf, &len)))
		from = "registry cache";
	if (from && dk_layer_map_decode(buf, len, diff_id, m, &cerr) == 0) {
		if (remote && r->lcache && dk_lcache_put_map(r->lcache, diff_id, buf, len, &cerr) < 0)
			dk_warn("build cache: %s", cerr.msg);
		dk_verbose("layer %s: its map from the %s", d->digest, from);
		free(buf);
		return 0;
	}
	if (from)
		dk_warn("%s: %s: reading the layer again", from, cerr.msg);
	free(buf);
	if (r->lcache && dk_blobs_has(dk_lcache_blobs(r->lcache), d->digest))
		path = dk_blobs_path(dk_lcache_blobs(r->lcache), d->digest);
	else if (!src || dk_image_src_blob_file(src, d, &path, r->err) < 0) {
		free(path);
		return src ? -1 : dk_fail(r->err, DK_E_NOTFOUND, "layer %s: no copy to read its map from", d->digest);
	}
	if (dk_layer_map_read_blob(path, diff_id, m, r->err) < 0) {
		free(path);
		return -1;
	}
	free(path);
	dk_verbose("layer %s: read once for its map", d->digest);
	buf = dk_layer_map_encode(m, diff_id, &len);
	if (r->lcache && dk_lcache_put_map(r->lcache, diff_id, buf, len, &cerr) < 0)
		dk_warn("build cache: %s", cerr.msg);
	dk_rcache_put_map(r->rcache, diff_id, buf, len);
	free(buf);
	return 0;
}

static int base_layer_map(struct run *r, size_t i, const char *diff_id, struct dk_layer_map *m)
{
	const struct dk_desc *d = &r->base->manifest.layers[i];

	if (layer_map(r, r->base->src, d, diff_id, m) < 0)
		return dk_err_prefix(r->err, "base image %s: layer %s", r->spec.base, d->digest);
	return 0;
}

/*
 * 1 when whiteout entry p (clean; its name starts with ".wh.") hides
 * `path` (clean) in the layers below: ".wh.NAME" hides NAME and what it
 * holds, ".wh..wh..opq" everything its directory holds.
 */
static int whiteout_hides(const char *p, const char *path)
{
	const char *slash = strrchr(p, '/'), *name = slash ? slash + 1 : p;
	size_t dir_len = slash ? (size_t)(slash - p) : 0, n;
	char *gone;
	int hides;

	if (!strcmp(name, DK_WHITEOUT_OPAQUE))
		return !dir_len || (!strncmp(path, p, dir_len) && path[dir_len] == '/');
	gone = dir_len ? dk_xasprintf("%.*s/%s", (int)dir_len, p, name + strlen(DK_WHITEOUT_PREFIX)) :
		      dk_xstrdup(name + strlen(DK_WHITEOUT_PREFIX));
	n = strlen(gone);
	hides = !strncmp(path, gone, n) && (!path[n] || path[n] == '/');
	free(gone);
	return hides;
}

static int is_whiteout(const char *p)
{
	const char *slash = strrchr(p, '/');

	return !strncmp(slash ? slash + 1 : p, DK_WHITEOUT_PREFIX, strlen(DK_WHITEOUT_PREFIX));
}

/*
 * Each layer of the base, topmost first, its entries given to fn (a
 * dk_tar_item_fn); after each layer, done(ctx) says whether the layers
 * below still matter (0: go on, 1: stop, -1: fail with err set).
 */
static int base_layers_down(struct image_run *img, dk_tar_item_fn fn, int (*done)(void *ctx, struct dk_err *err),
			    void *ctx, struct dk_err *err)
{
	const struct base_image *b = &img->base;
	const struct dk_manifest *bm = &b->manifest;
	json_t *cfg = json_loadb(b->config, b->config_len, 0, NULL);
	json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	int rc = 0;

	for (size_t i = bm->n_layers; i-- > 0 && rc == 0;) {
		const char *id = json_string_value(json_array_get(ids, i));
		char *blob = NULL;

		if (!dk_digest_valid(id)) {
			rc = dk_fail(err, DK_E_CORRUPT, "base image %s: diff_id %zu of its config is not a sha256 digest",
				     img->run->spec.base, i);
			break;
		}
		if (dk_image_src_blob_file(b->src, &bm->layers[i], &blob, err) < 0 ||
		    dk_tar_read_blob(blob, id, fn, ctx, err) < 0) {
			free(blob);
			rc = dk_err_prefix(err, "base image %s: layer %s", img->run->spec.base, bm->layers[i].digest);
			done(ctx, err);
			break;
		}
		free(blob);
		rc = done(ctx, err);
	}
	json_decref(cfg);
	return rc < 0 ? -1 : 0;
}

/* Looking for one file in the base (base_read_file). */
struct find_file {
	const char *path;       /* clean */
	size_t max;
	int found, deleted;
	char *data;
	size_t len;
};

static int find_item(void *ctx, const struct dk_tar_item *it, struct dk_err *err)
{
	struct find_file *ff = ctx;
	char *p = dk_path_clean(it->path);
	int rc = 0;

	if (!strcmp(p, ff->path) && it->type == DK_ENT_FILE && !ff->found) {
		rc = dk_tar_item_read(it, ff->max, &ff->data, &ff->len, err);
		ff->found = rc == 0;
	} else if (!strcmp(p, ff->path) || (is_whiteout(p) && whiteout_hides(p, ff->path))) {
		/* something else at the path, or a whiteout of it: the layers below do not count */
		ff->deleted = 1;
	}
	free(p);
	return rc;
}

static int find_done(void *ctx, struct dk_err *err)
{
	struct find_file *ff = ctx;

	(void)err;
	return ff->found || ff->deleted;
}

/*
 * The source context's read_file (source.h): the file as the base's layers
 * leave it, the topmost layer that has it (or deletes it) deciding.  Only
 * a row that needs the file calls this, at plan time, so the layers it
 * reads are fetched only then.
 */
static int base_read_file(void *arg, const char *path, size_t max, char **data, size_t *len, struct dk_err *err)
{
	struct find_file ff = { path, max, 0, 0, NULL, 0 };

	*data = NULL;
	if (base_layers_down(arg, find_item, find_done, &ff, err) < 0) {
		free(ff.data);
		return -1;
	}
	if (!ff.found)
		return 0;
	*data = ff.data;
	*len = ff.len;
	return 1;
}

/* The files directly in one directory of the base (base_each_file). */
struct dir_file {
	char *name, *data;
	size_t len;
};

struct dir_files {
	const char *dir;        /* clean */
	size_t dir_len, max;
	struct dir_file *v;     /* what counts: found in a layer, not decided by one above */
	size_t n;
	char **decided;         /* the names a layer above had or hid */
	size_t n_decided;
	struct dir_file *layer; /* this layer's files */
	size_t n_layer;
	char **hidden;          /* this layer's whiteouts and non-files in dir */
	size_t n_hidden;
	int stop;               /* this layer hides or replaces dir: the layers below do not count */
};

static void names_add(char ***v, size_t *n, const char *name)
{
	*v = dk_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = dk_xstrdup(name);
}

static int dir_item(void *ctx, const struct dk_tar_item *it, struct dk_err *err)
{
	struct dir_files *df = ctx;
	char *p = dk_path_clean(it->path);
	int in_dir = !strncmp(p, df->dir, df->dir_len) && p[df->dir_len] == '/';
	const char *name = in_dir ? p + df->dir_len + 1 : "";
	int rc = 0;

	if (*name && !strchr(name, '/')) {
		if (!strcmp(name, DK_WHITEOUT_OPAQUE))
			df->stop = 1;
		else if (is_whiteout(name))
			names_add(&df->hidden, &df->n_hidden, name + strlen(DK_WHITEOUT_PREFIX));
		else if (it->type != DK_ENT_FILE)
			names_add(&df->hidden, &df->n_hidden, name);
		else {
			struct dir_file f = { dk_xstrdup(name), NULL, 0 };

			if ((rc = dk_tar_item_read(it, df->max, &f.data, &f.len, err)) < 0) {
				free(f.name);
			} else {
				df->layer = dk_xrealloc(df->layer, (df->n_layer + 1) * sizeof(*df->layer));
				df->layer[df->n_layer++] = f;
			}
		}
	} else if ((!strcmp(p, df->dir) && it->type != DK_ENT_DIR) || (is_whiteout(p) && whiteout_hides(p, df->dir))) {
		df->stop = 1;
	}
	free(p);
	return rc;
}

static int decided(const struct dir_files *df, const char *name)
{
	for (size_t i = 0; i < df->n_decided; i++)
		if (!strcmp(df->decided[i], name))
			return 1;
	return 0;
}

/* After a layer: its files count where no layer above decided them; then they and its whiteouts are decided. */
static int dir_done(void *ctx, struct dk_err *err)
{
	struct dir_files *df = ctx;
	size_t i;

	(void)err;
	for (i = 0; i < df->n_layer; i++) {
		struct dir_file *f = &df->layer[i];

		if (decided(df, f->name)) {
			free(f->name);
			free(f->data);
			continue;
		}
		names_add(&df->decided, &df->n_decided, f->name);
		df->v = dk_xrealloc(df->v, (df->n + 1) * sizeof(*df->v));
		df->v[df->n++] = *f;
	}
	for (i = 0; i < df->n_hidden; i++) {
		names_add(&df->decided, &df->n_decided, df->hidden[i]);
		free(df->hidden[i]);
	}
	df->n_layer = df->n_hidden = 0;
	return df->stop;
}

static int dir_file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dir_file *)a)->name, ((const struct dir_file *)b)->name);
}

/* The source context's each_file (source.h). */
static int base_each_file(void *arg, const char *dir, size_t max,
			  int (*fn)(void *fn_arg, const char *name, const char *data, size_t len, struct dk_err *err),
			  void *fn_arg, struct dk_err *err)
{
	struct dir_files df;
	size_t i;
	int rc;

	memset(&df, 0, sizeof(df));
	df.dir = dir;
	df.dir_len = strlen(dir);
	df.max = max;
	rc = base_layers_down(arg, dir_item, dir_done, &df, err);
	if (df.n)
		qsort(df.v, df.n, sizeof(*df.v), dir_file_cmp);
	for (i = 0; rc == 0 && i < df.n; i++)
		rc = fn(fn_arg, df.v[i].name, df.v[i].data, df.v[i].len, err);
	for (i = 0; i < df.n; i++) {
		free(df.v[i].name);
		free(df.v[i].data);
	}
	for (i = 0; i < df.n_decided; i++)
		free(df.decided[i]);
	free(df.v);
	free(df.decided);
	free(df.layer);
	free(df.hidden);
	return rc;
}


/* The tree the first new layer goes on: the base's layers, by their maps. */
static int open_view(struct run *r)
{
	const struct dk_manifest *bm = &r->base->manifest;
	json_t *cfg, *ids;
	int rc = 0;

	r->view = dk_symview_new();
	if (!r->base->src || !r->plan->layers.n)
		return 0;
	cfg = json_loadb(r->base->config, r->base->config_len, 0, NULL);
	ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	/* a map is kept by diff_id: one taken from the wrong layer would misplace files */
	if (json_array_size(ids) != bm->n_layers)
		rc = dk_fail(r->err, DK_E_CORRUPT, "base image %s: its config lists %zu diff_ids for %zu layers",
			     r->spec.base, json_array_size(ids), bm->n_layers);
	for (size_t i = 0; rc == 0 && i < bm->n_layers; i++) {
		const char *id = json_string_value(json_array_get(ids, i));
		struct dk_layer_map m;

		if (!dk_digest_valid(id)) {
			rc = dk_fail(r->err, DK_E_CORRUPT, "base image %s: diff_id %zu of its config is not a sha256 digest",
				     r->spec.base, i);
			break;
		}
		dk_layer_map_init(&m);
		rc = base_layer_map(r, i, id, &m);
		if (rc == 0)
			dk_symview_apply(r->view, &m);
		dk_layer_map_release(&m);
	}
	json_decref(cfg);
	return rc;
}

/*
 * Who wrote each path of layer lp, for a later layer's messages about a
 * path written twice (symlinks.h: dk_symview_apply_owned): the writer its
 * entry names (dk_layer_plan.owners), else the layer itself, by its place
 * in the spec and its history.  Without entries (a layer the caches had,
 * unread) every path gets the layer's one writer, or "one of" its writers.
 * *labels is a new buffer of *len bytes; the result, one offset per record
 * of m, is new too (NULL without entries: every record gets offset 0).
 */
static size_t *owner_labels(const struct dk_layer_plan *lp, const struct dk_entries *entries,
			    const struct dk_layer_map *m, char **labels, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	size_t *at, *which, layer;

	if (!entries) {
		if (lp->n_owners == 1) {
			sb_add(&sb, lp->owners, lp->owners_len);
		} else if (lp->n_owners) {
			sb_adds(&sb, "one of ");
			for (size_t off = 0; off < lp->owners_len; off += strlen(lp->owners + off) + 1)
				sb_addf(&sb, "%s%s", off ? ", " : "", lp->owners + off);
		} else {
			sb_addf(&sb, "%s (%s)", lp->entry->where, lp->history);
		}
		*len = sb.len + 1;
		*labels = sb_detach(&sb);
		return NULL;
	}
	at = dk_xcalloc(lp->n_owners + 1, sizeof(*at));
	for (size_t i = 0, off = 0; i < lp->n_owners && off < lp->owners_len; i++, off += strlen(lp->owners + off) + 1)
		at[i] = off;
	if (lp->owners_len)
		sb_add(&sb, lp->owners, lp->owners_len);
	layer = sb.len;
	sb_addf(&sb, "%s (%s)", lp->entry->where, lp->history);
	*len = sb.len + 1;
	*labels = sb_detach(&sb);
	which = dk_xmalloc((m->n + 1) * sizeof(*which));
	for (size_t i = 0; i < m->n; i++) {
		const struct dk_entry *e = dk_entries_find(entries, m->v[i].path, NULL);

		which[i] = e && e->owner && e->owner <= lp->n_owners ? at[e->owner - 1] : layer;
	}
	free(at);
	return which;
}

/* Lay layer lp, whose map is m, onto the tree, with who wrote each path (owner_labels). */
static void apply_to_view(struct run *r, const struct dk_layer_plan *lp, const struct dk_entries *entries,
			  const struct dk_layer_map *m)
{
	char *labels;
	size_t len, *which = owner_labels(lp, entries, m, &labels, &len);

	dk_symview_apply_owned(r->view, m, labels, len, which);
	free(labels);
	free(which);
}

/*
 * A layer just produced goes onto the tree (when a layer follows), and its
 * map into the build cache (when not there yet), for images built on this one.
 */
static void add_to_view(struct run *r, const struct dk_layer_plan *lp, const struct dk_entries *entries,
			const char *diff_id)
{
	int more = lp != &r->plan->layers.v[r->plan->layers.n - 1];
	int store = r->lcache && !dk_lcache_has_map(r->lcache, diff_id);
	/*
	 * A layer its plan decides is a hit on a runner that never read it:
	 * its map goes to the registry cache too, so that runner need not
	 * download the layer to place the next one.
	 */
	int share = r->rcache && lp->entry->kind->key_from_plan;
	struct dk_layer_map m;
	struct dk_err cerr;

	if (!more && !store && !share)
		return;
	dk_layer_map_init(&m);
	dk_layer_map_from_entries(entries, &m);
	if (more)
		apply_to_view(r, lp, entries, &m);
	if (store || share) {
		size_t len;
		char *buf = dk_layer_map_encode(&m, diff_id, &len);

		if (store && dk_lcache_put_map(r->lcache, diff_id, buf, len, &cerr) < 0)
			dk_warn("build cache: %s", cerr.msg);
		if (share)
			dk_rcache_put_map(r->rcache, diff_id, buf, len);
		free(buf);
	}
	dk_layer_map_release(&m);
}

/* A hit's layer map, the layer not being read: from the caches, or its blob. */
static int hit_map(struct run *r, const struct dk_layer_plan *lp, const struct dk_layer_result *lr,
		   struct dk_image_src *remote, struct dk_layer_map *m)
{
	struct dk_desc d;

	memset(&d, 0, sizeof(d));
	snprintf(d.media_type, sizeof(d.media_type), "%s", lr->media_type);
	memcpy(d.digest, lr->digest, DK_DIGEST_SIZE);
	d.size = lr->size;
	dk_layer_map_init(m);
	if (layer_map(r, remote, &d, lr->diff_id, m) < 0)
		return dk_err_prefix(r->err, "layer %s (stage %s): cache hit %s", lp->entry->origin, lp->stage,
				     lr->digest);
	return 0;
}

/* A layer map as entries (paths and types, no contents), for a hit's below step. */
static void map_entries(const struct dk_layer_map *m, struct dk_entries *out)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct dk_map_rec *rec = &m->v[i];
		struct dk_entry *e;

		if (rec->op == DK_MAP_WHITEOUT || rec->op == DK_MAP_OPAQUE || !*rec->path)
			continue;
		e = dk_entries_add(out);
		e->path = dk_xstrdup(rec->path);
		e->type = rec->op == DK_MAP_DIR ? DK_ENT_DIR : rec->op == DK_MAP_SYMLINK ? DK_ENT_SYMLINK : DK_ENT_FILE;
		e->link = rec->target ? dk_xstrdup(rec->target) : NULL;
	}
}

/*
 * A layer the caches had, unread: its map for the tree (when a layer
 * follows) and the caches.  `known` is the map already read for the
 * layer's below step, or NULL.
 */
static int add_hit_to_view(struct run *r, const struct dk_layer_plan *lp, const struct dk_layer_result *lr,
			   struct dk_image_src *remote, const struct dk_layer_map *known)
{
	int more = lp != &r->plan->layers.v[r->plan->layers.n - 1];
	struct dk_layer_map m;
	int rc = 0;

	if (!known && !more && dk_lcache_has_map(r->lcache, lr->diff_id))
		return 0;
	dk_layer_map_init(&m);
	if (!known && (rc = hit_map(r, lp, lr, remote, &m)) == 0)
		known = &m;
	if (rc == 0 && more)
		apply_to_view(r, lp, NULL, known);
	dk_layer_map_release(&m);
	return rc;
}

/*
 * The staging store sits beside the first layout output when it can, so
 * blobs reach it by hard link; otherwise in $TMPDIR.
 */
static int open_stage(struct run *r)
{
	const char *local = r->n_dsts ? dk_ref_local_path(&r->dsts[0]->ref) : NULL;
	char *parent = NULL;

	if (local) {
		char *abs = dk_xstrdup(local);
		size_t n = strlen(abs);

		while (n > 1 && abs[n - 1] == '/')
			abs[--n] = '\0';
		parent = dk_dirname(abs);
		free(abs);
		r->stage_dir = dk_path_join(parent, ".derrick-stage-XXXXXX");
		if (!mkdtemp(r->stage_dir)) {
			free(r->stage_dir);
			r->stage_dir = NULL;
		}
		free(parent);
	}
	if (!r->stage_dir) {
		r->stage_dir = dk_tmp_path("derrick-stage-XXXXXX");
		if (!mkdtemp(r->stage_dir)) {
			dk_fail_errno(r->err, DK_E_IO, "create staging directory %s", r->stage_dir);
			free(r->stage_dir);
			r->stage_dir = NULL;
			return -1;
		}
	}
	return dk_blobs_open(&r->stage, r->stage_dir, 1, r->err);
}

/*
 * Everything this build writes, for every walk to leave out: with a source
 * "." and the output inside it, the staging directory beside the output
 * would otherwise be packed, and no two builds would be the same.
 */
static void collect_own(struct run *r)
{
	char *cache = dk_cache_dir(&r->o->transport), *tmp = dk_tmp_path("");

	r->own = dk_own_paths_new();
	for (size_t i = 0; i < r->n_dsts; i++)
		dk_own_paths_add(r->own, dk_ref_local_path(&r->dsts[i]->ref));
	for (const char *const *f = r->o->own_files; f && *f; f++)
		dk_own_paths_add(r->own, *f);
	dk_own_paths_add(r->own, r->stage_dir);
	dk_own_paths_add(r->own, cache);
	dk_own_paths_add_temp_dir(r->own, tmp);     /* spools, a registry's CA bundle */
	for (size_t i = 0; i < r->n_imgs; i++)
		for (size_t j = 0; j < r->imgs[i].plan.layers.n; j++)
			r->imgs[i].plan.layers.v[j].own = r->own;
	free(cache);
	free(tmp);
}

/* A registry hit whose blob we hold: is it what the entry claims? */
static int check_hit(struct run *r, const char *key, const struct dk_layer_result *lr, char **path)
{
	struct dk_image_src *src = dk_rcache_src(r->rcache);
	struct dk_desc d;
	struct dk_err err;
	char diff_id[DK_DIGEST_SIZE];

	snprintf(d.media_type, sizeof(d.media_type), "%s", lr->media_type);
	memcpy(d.digest, lr->digest, DK_DIGEST_SIZE);
	d.size = lr->size;
	if (dk_image_src_blob_file(src, &d, path, &err) < 0 || dk_layer_diff_id(*path, diff_id, &err) < 0) {
		dk_warn("registry cache: %s: rebuilding the layer", err.msg);
		return 0;
	}
	if (strcmp(diff_id, lr->diff_id)) {
		dk_warn("registry cache: the entry for %s claims diff_id %s but its blob %s unpacks to %s: "
			"rebuilding the layer (who can write the cache repository?)",
			dk_digest_hex(key), lr->diff_id, lr->digest, diff_id);
		return 0;
	}
	return 1;
}

/* Everything besides the entries that decides a layer's bytes (threads do not), with `extra`. */
static char *layer_options(struct run *r, const struct dk_layer_plan *lp, const struct dk_tar_opts *topts,
			   const char *extra)
{
	char *comp = dk_compress_id(&r->compress);
	char *options = dk_xasprintf("dest=%s uid=%u gid=%u file_mode=%d dir_mode=%d mtime=%lld compressor=%s%s%s",
				     lp->entry->dest, topts->uid, topts->gid, topts->file_mode, topts->dir_mode,
				     (long long)topts->mtime, comp, extra ? " " : "", extra ? extra : "");

	free(comp);
	return options;
}

/* The layer of build-cache key `key`: 1 with *lr from the local cache or the registry cache, else 0. */
static int cache_lookup(struct run *r, const char *key, struct dk_layer_result *lr, const char **cache,
			struct dk_image_src **remote)
{
	char *path = NULL;

	if (dk_lcache_get(r->lcache, key, lr)) {
		*cache = "local";
		return 1;
	}
	if (dk_rcache_get(r->rcache, key, lr)) {
		if (!r->need_bytes && !r->o->cache_verify) {
			/* the destinations are registries: they mount or fetch it from the cache repository */
			*cache = "registry";
			*remote = dk_rcache_src(r->rcache);
			return 1;
		}
		if (check_hit(r, key, lr, &path)) {
			free(path);
			*cache = "registry";
			*remote = dk_rcache_src(r->rcache);
			/* the blob is in the shared blob store now: next time it is a local hit */
			if (dk_lcache_put(r->lcache, key, lr, r->err) < 0)
				dk_warn("build cache: %s", r->err->msg);
			return 1;
		}
		free(path);
	}
	return 0;
}

/*
 * The layer's blob: from the local build cache, else from the registry
 * cache, else built (into the local cache, or into staging with
 * --no-cache) and recorded in both.  *cache says which; *remote is where
 * a destination can mount or fetch the blob from, when somewhere.  `again`:
 * the source is being read a second time, since a file changed during the
 * first reading (its stat records are not trusted then).  `plan_key`: the
 * key made from the plan (plan_hit), already looked up, or NULL.
 */
static int produce_layer(struct run *r, const struct dk_layer_plan *lp, struct dk_entries *entries,
			 const struct dk_tar_opts *topts, int again, const char *plan_key, struct dk_layer_result *lr,
			 const char **cache, struct dk_image_src **remote)
{
	char key[DK_DIGEST_SIZE];
	char *options, *path = NULL;
	int rc;

	*cache = "built";
	*remote = NULL;
	if (!r->lcache) {
		if (dk_layer_write(entries, topts, &r->compress, &r->stage, lr, r->err) < 0)
			return -1;
		r->res->compressed++;
		return 0;
	}
	if (plan_key) {
		memcpy(key, plan_key, DK_DIGEST_SIZE);
	} else {
		options = layer_options(r, lp, topts, lp->key_extra);
		if (again)
			dk_lcache_forget(r->lcache, lp->input);
		rc = dk_lcache_key(r->lcache, lp->input, entries, options, key, r->err);
		free(options);
		if (rc < 0)
			return -1;
		if (cache_lookup(r, key, lr, cache, remote))
			return 0;
	}
	/* a file that changed since its hash fails this, and nothing reaches either cache */
	if (dk_layer_write(entries, topts, &r->compress, dk_lcache_blobs(r->lcache), lr, r->err) < 0)
		return -1;
	r->res->compressed++;
	if (dk_lcache_put(r->lcache, key, lr, r->err) < 0)
		dk_warn("build cache: %s", r->err->msg);
	if (r->rcache) {
		path = dk_blobs_path(dk_lcache_blobs(r->lcache), lr->digest);
		dk_rcache_put(r->rcache, key, lr, path);
		free(path);
		*remote = dk_rcache_src(r->rcache);
	}
	return 0;
}

/*
 * A row whose plan decides its bytes (source.h: key_from_plan): its key
 * from the options, the plan and what of the tree below could move its
 * entries, looked up before anything is read or downloaded.  0 with *hit
 * (and the layer) or with key for the miss's layer; -1 with err set.
 */
static int plan_hit(struct run *r, const struct dk_layer_plan *lp, const char *text, const struct dk_tar_opts *topts,
		    char key[DK_DIGEST_SIZE], int *hit, struct dk_layer_result *lr, const char **cache,
		    struct dk_image_src **remote)
{
	char *options = layer_options(r, lp, topts, text);
	struct dk_entries none;
	int rc;

	*hit = 0;
	dk_entries_init(&none);
	rc = dk_lcache_key(r->lcache, lp->input, &none, options, key, r->err);
	dk_entries_release(&none);
	free(options);
	if (rc == 0)
		*hit = cache_lookup(r, key, lr, cache, remote);
	return rc;
}

/* The layer another platform's image already has, when this one is the same: 1 and its result, else 0. */
static int made_before(struct run *r, const struct dk_layer_plan *lp, struct dk_layer_result *lr,
		       const char **cache, struct dk_image_src **remote)
{
	for (size_t i = 0; i < r->n_made; i++) {
		const struct made_layer *m = &r->made[i];

		if (m->entry == lp->entry && !strcmp(m->input, lp->input) && !strcmp(m->key, dk_str_or(lp->key_extra, ""))) {
			*lr = m->lr;
			*cache = m->cache;
			*remote = m->remote;
			return 1;
		}
	}
	return 0;
}

/* Only a build of several platforms meets a layer twice. */
static void remember_made(struct run *r, const struct dk_layer_plan *lp, const struct dk_layer_result *lr,
			  const char *cache, struct dk_image_src *remote)
{
	struct made_layer *m;

	if (r->n_imgs < 2)
		return;
	r->made = dk_xrealloc(r->made, (r->n_made + 1) * sizeof(*r->made));
	m = &r->made[r->n_made++];
	m->entry = lp->entry;
	m->input = dk_xstrdup(lp->input);
	m->key = dk_xstrdup(dk_str_or(lp->key_extra, ""));
	m->lr = *lr;
	m->cache = cache;
	m->remote = remote;
}

/*
 * A file that changes while its layer is read fails that reading
 * (DK_E_CHANGED), which stores nothing: the layer is read again from the
 * walk on, once.  A file that changes again fails the build.
 */
static int build_layer(struct run *r, const struct dk_layer_plan *lp)
{
	const struct dk_spec_layer *sl = lp->entry;
	struct dk_entries entries;
	struct dk_layer_result lr;
	struct dk_tar_opts topts = { r->plan->epoch, sl->uid, sl->gid, sl->file_mode, sl->dir_mode };
	struct dk_built_layer *bl;
	const char *cache = "built";
	struct dk_image_src *remote = NULL;
	/* the plan, with what the tree below changed about the entries added to its key */
	struct dk_layer_plan keyed = *lp;
	char *moves = NULL, *extra = NULL, *ptext = NULL;
	char first[DK_ERR_MAX] = "", pkey[DK_DIGEST_SIZE];
	int rc = 0, again, from_plan = 0, hit = 0, have_hit_m = 0;
	struct dk_layer_map hit_m;      /* a hit's map, when its below step read it */

	dk_layer_map_init(&hit_m);
	dk_entries_init(&entries);
	/* a layer its plan decides: the caches are asked before anything is read (source.h) */
	if (r->lcache && dk_source_plan_key(lp, r->view, &ptext)) {
		from_plan = 1;
		keyed.key_extra = ptext;
		hit = made_before(r, &keyed, &lr, &cache, &remote);
		if (!hit && plan_hit(r, lp, ptext, &topts, pkey, &hit, &lr, &cache, &remote) < 0) {
			dk_err_prefix(r->err, "layer %s (stage %s)", sl->origin, lp->stage);
			rc = -1;
			goto out;
		}
		if (hit) {
			remember_made(r, &keyed, &lr, cache, remote);
			if (dk_source_has_below(lp)) {
				if (hit_map(r, lp, &lr, remote, &hit_m) < 0) {
					rc = -1;
					goto out;
				}
				have_hit_m = 1;
				map_entries(&hit_m, &entries);
			}
			if (dk_source_below_hit(lp, entries.n ? &entries : NULL, r->view, r->err) < 0) {
				dk_err_prefix(r->err, "layer %s (stage %s)", sl->origin, lp->stage);
				rc = -1;
				goto out;
			}
			goto got_layer;
		}
	}
	dk_entries_release(&entries);
	/* a file that changed while it was read gets one more reading (dk_layer_write) */
	for (again = 0;; again++) {
		dk_entries_init(&entries);
		rc = dk_source_read(lp, r->spec.path, r->view, &entries, &moves, r->err);
		if (rc == 0)
			rc = dk_delete_check(sl, r->view, r->err);
		if (rc < 0 && r->err->code != DK_E_CHANGED) {
			dk_err_prefix(r->err, "%s: %s (stage %s)", r->spec.path, sl->where, lp->stage);
			goto out;
		}
		if (rc == 0 && from_plan) {
			rc = produce_layer(r, &keyed, &entries, &topts, again, pkey, &lr, &cache, &remote);
			if (rc == 0)
				remember_made(r, &keyed, &lr, cache, remote);
		} else if (rc == 0) {
			keyed.key_extra = lp->key_extra;
			if (moves) {
				extra = lp->key_extra ? dk_xasprintf("%s %s", lp->key_extra, moves) : dk_xstrdup(moves);
				keyed.key_extra = extra;
			}
			if (!made_before(r, &keyed, &lr, &cache, &remote)) {
				rc = produce_layer(r, &keyed, &entries, &topts, again, NULL, &lr, &cache, &remote);
				if (rc == 0)
					remember_made(r, &keyed, &lr, cache, remote);
			}
		}
		if (rc == 0 || r->err->code != DK_E_CHANGED || again)
			break;
		snprintf(first, sizeof(first), "%s", r->err->msg);
		dk_entries_release(&entries);
		free(moves);
		free(extra);
		moves = extra = NULL;
	}
	if (rc < 0) {
		if (again && r->err->code == DK_E_CHANGED)
			dk_err_prefix(r->err, "layer %s (stage %s): read twice, and a file changed during each "
				      "reading (stop what writes to it, or exclude it)", sl->origin, lp->stage);
		else
			dk_err_prefix(r->err, "layer %s (stage %s)", sl->origin, lp->stage);
		goto out;
	}
	if (again)
		dk_warn("layer %s (stage %s): %s: read the layer again", sl->origin, lp->stage, first);
got_layer:
	bl = add_result_layer(r->res);
	bl->stage = dk_xstrdup(lp->stage);
	bl->created_by = dk_xasprintf("derrick stage %s: %s", lp->stage, lp->history);
	snprintf(bl->desc.media_type, sizeof(bl->desc.media_type), "%s", lr.media_type);
	memcpy(bl->desc.digest, lr.digest, DK_DIGEST_SIZE);
	bl->desc.size = lr.size;
	memcpy(bl->diff_id, lr.diff_id, DK_DIGEST_SIZE);
	bl->cache = cache;
	bl->remote = remote;
	{
		const struct dk_blobs *store = r->lcache ? dk_lcache_blobs(r->lcache) : &r->stage;

		/* a registry hit for registry outputs has no local copy: it stays remote */
		if (dk_blobs_has(store, lr.digest))
			bl->blob_path = dk_blobs_path(store, lr.digest);
	}
	dk_verbose("layer %s: %s (%llu bytes, tar %llu bytes, cache: %s)", sl->origin, lr.digest,
		   (unsigned long long)lr.size, (unsigned long long)lr.tar_size, cache);
	if (hit)
		rc = add_hit_to_view(r, lp, &lr, remote, have_hit_m ? &hit_m : NULL);
	else
		add_to_view(r, lp, &entries, lr.diff_id);
out:
	free(ptext);
	free(moves);
	free(extra);
	dk_entries_release(&entries);
	dk_layer_map_release(&hit_m);
	return rc;
}

/*
 * A config or manifest over its limit would be written, and then no
 * registry (nor derrick) would take it: refuse it while no output has
 * anything yet.
 */
static int doc_fits(struct run *r, enum dk_doc kind, const char *bytes, size_t len)
{
	char digest[DK_DIGEST_SIZE];

	dk_sha256_buf(bytes, len, digest);
	if (dk_doc_check_size(kind, r->spec.path, digest, len, r->err) == 0)
		return 0;
	/* what in the spec makes it that large */
	dk_err_append(r->err, " (%s)",
		      kind == DK_DOC_CONFIG ? "it holds the base's config, the labels and env" : "it holds the annotations");
	r->err->code = DK_E_SPEC;
	return -1;
}

static int make_image(struct run *r, struct dk_manifest_blob *m)
{
	struct dk_build_result *res = r->res;
	size_t n_base = r->base->manifest.n_layers, n_new = res->n_layers - n_base;
	struct dk_new_layer *nl = dk_xcalloc(n_new + 1, sizeof(*nl));
	struct dk_desc *descs = dk_xcalloc(res->n_layers + 1, sizeof(*descs));
	char *cfg;
	size_t len;
	int rc;

	for (size_t i = 0; i < n_new; i++) {
		nl[i].diff_id = res->layers[n_base + i].diff_id;
		nl[i].created_by = res->layers[n_base + i].created_by;
	}
	rc = dk_config_make(r->base->config, r->base->config_len, r->spec.base, r->plan, nl, n_new,
			    &cfg, &len, r->err);
	free(nl);
	if (rc == 0 && (rc = doc_fits(r, DK_DOC_CONFIG, cfg, len)) < 0)
		free(cfg);
	if (rc < 0) {
		free(descs);
		return -1;
	}
	strcpy(res->config.media_type, DK_MT_OCI_CONFIG);
	res->config.size = len;
	rc = dk_blobs_put_bytes(&r->stage, cfg, len, res->config.digest, r->err);
	/* diff_ids of base layers come from its config, in order */
	if (rc == 0 && n_base) {
		json_t *root = json_loadb(cfg, len, 0, NULL);
		json_t *ids = json_object_get(json_object_get(root, "rootfs"), "diff_ids");

		for (size_t i = 0; i < n_base; i++) {
			const char *id = json_string_value(json_array_get(ids, i));

			snprintf(res->layers[i].diff_id, DK_DIGEST_SIZE, "%s", id ? id : "");
		}
		json_decref(root);
	}
	free(cfg);
	if (rc < 0) {
		free(descs);
		return -1;
	}
	for (size_t i = 0; i < res->n_layers; i++)
		descs[i] = res->layers[i].desc;
	m->bytes = dk_manifest_make(&res->config, descs, res->n_layers, &r->plan->annotations, &m->len);
	free(descs);
	if (doc_fits(r, DK_DOC_MANIFEST, m->bytes, m->len) < 0)
		return -1;
	strcpy(m->desc.media_type, DK_MT_OCI_MANIFEST);
	m->desc.size = m->len;
	if (dk_blobs_put_bytes(&r->stage, m->bytes, m->len, m->desc.digest, r->err) < 0)
		return -1;
	res->manifest = m->desc;
	return 0;
}

/* Image img's blobs into d: its layers (base layers from its base), then its config. */
static int deliver_blobs(struct run *r, struct dk_image_dst *d, const struct image_run *img)
{
	const struct dk_build_result *res = &img->res;
	size_t n_base = img->base.manifest.n_layers, n = res->n_layers + 1;
	struct dk_desc *descs = dk_xcalloc(n, sizeof(*descs));
	char **locals = dk_xcalloc(n, sizeof(*locals));
	struct dk_image_src **srcs = dk_xcalloc(n, sizeof(*srcs));
	int rc;

	for (size_t i = 0; i < res->n_layers; i++) {
		if (i < n_base) {
			/* the base's own descriptor (its media type may be Docker's), bytes from the base */
			descs[i] = img->base.manifest.layers[i];
			srcs[i] = img->base.src;
		} else {
			descs[i] = res->layers[i].desc;
			srcs[i] = res->layers[i].remote;
			if (res->layers[i].blob_path)
				locals[i] = dk_xstrdup(res->layers[i].blob_path);
		}
	}
	descs[n - 1] = res->config;
	locals[n - 1] = dk_blobs_path(&r->stage, res->config.digest);
	rc = dk_transfer_blobs(d, descs, (const char *const *)locals, srcs, n, &r->o->transport, r->err);
	for (size_t i = 0; i < n; i++)
		free(locals[i]);
	free(locals);
	free(srcs);
	free(descs);
	return rc;
}

/* One image: its blobs, its manifest.  Several: each image's, then the index over them. */
static int deliver(struct run *r, struct dk_image_dst *d, const struct dk_manifest_blob *index)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < r->n_imgs; i++) {
		rc = deliver_blobs(r, d, &r->imgs[i]);
		if (rc == 0 && index)
			rc = dk_image_dst_put_child(d, &r->imgs[i].m, r->err);
	}
	if (rc == 0)
		rc = dk_image_dst_put_manifest(d, index ? index : &r->imgs[0].m, r->err);
	if (rc == 0)
		rc = dk_image_dst_commit(d, r->err);
	return rc;
}

/* One platform's image: its base, its layers, its config and manifest, all in staging. */
static int build_image(struct run *r, struct image_run *img)
{
	int rc = 0;

	r->plan = &img->plan;
	r->base = &img->base;
	r->res = &img->res;
	dk_platform_format(&img->plan.platform, img->res.platform, sizeof(img->res.platform));
	/* downloads (a wheels layer's) go where the layers go: the blob store, or staging */
	img->ctx.blobs = r->lcache ? dk_lcache_blobs(r->lcache) : &r->stage;
	if ((!img->base.opened && open_base(r) < 0) || open_view(r) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < r->plan->layers.n; i++)
		rc = build_layer(r, &r->plan->layers.v[i]);
	if (rc == 0)
		rc = make_image(r, &img->m);
	/* the tree below is this platform's: the next one starts from its own base */
	dk_symview_free(r->view);
	r->view = NULL;
	return rc;
}

/* Some layer of the stages built has a row whose plan reads the base image. */
static int spec_needs_base(const struct run *r)
{
	for (size_t i = 0; i < r->spec.n_stages; i++)
		for (size_t j = 0; j < r->spec.stages[i].n_layers; j++)
			if (dk_source_needs_base(&r->spec.stages[i].layers[j]))
				return 1;
	return 0;
}

static int cmp_platform(const void *a, const void *b)
{
	char pa[100], pb[100];

	dk_platform_format(a, pa, sizeof(pa));
	dk_platform_format(b, pb, sizeof(pb));
	return strcmp(pa, pb);
}

/*
 * The platforms to build, sorted (the index is the same whatever order
 * they were given in): a new array of *n.  Naming one twice is an error.
 */
static int sorted_platforms(struct run *r, struct dk_platform **out, size_t *n_out)
{
	const struct dk_build_opts *o = r->o;
	size_t n = o->n_platforms ? o->n_platforms : 1;
	struct dk_platform *plats = dk_xcalloc(n, sizeof(*plats));

	if (o->n_platforms)
		memcpy(plats, o->platforms, n * sizeof(*plats));
	else
		plats[0] = o->plan.platform;
	qsort(plats, n, sizeof(*plats), cmp_platform);
	for (size_t i = 1; i < n; i++)
		if (dk_platform_match(&plats[i - 1], &plats[i]) == DK_PLATFORM_EXACT) {
			char a[100], b[100];

			dk_platform_format(&plats[i - 1], a, sizeof(a));
			dk_platform_format(&plats[i], b, sizeof(b));
			free(plats);
			if (!strcmp(a, b))
				return dk_fail(r->err, DK_E_USAGE, "--platform: %s is given twice", a);
			return dk_fail(r->err, DK_E_USAGE, "--platform: %s and %s are the same platform", a, b);
		}
	*out = plats;
	*n_out = n;
	return 0;
}

/* Open platform p's base image for img, and let the rows' plan and lock steps read it (img->ctx). */
static int open_base_for(struct run *r, struct image_run *img, const struct dk_platform *p)
{
	img->plan.platform = *p;
	r->plan = &img->plan;
	r->base = &img->base;
	r->res = &img->res;
	if (open_base(r) < 0)
		return -1;
	img->ctx.config = img->base.config;
	img->ctx.config_len = img->base.config_len;
	img->ctx.read_file = img->base.src ? base_read_file : NULL;
	img->ctx.each_file = img->base.src ? base_each_file : NULL;
	/* the image, not the run: `lock` reads every platform's base after opening them all */
	img->run = r;
	img->ctx.arg = img;
	return 0;
}

/* A plan for every platform: a mistake in the spec for any platform fails before anything is read. */
static int plan_images(struct run *r)
{
	const struct dk_build_opts *o = r->o;
	struct dk_platform *plats;
	size_t n;
	int rc = 0;

	if (sorted_platforms(r, &plats, &n) < 0)
		return -1;
	r->imgs = dk_xcalloc(n, sizeof(*r->imgs));
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct dk_plan_opts po = o->plan;
		struct image_run *img = &r->imgs[i];

		po.platform = plats[i];
		img->ctx.spec_file = r->spec.path;
		img->ctx.reg = &o->transport.reg;
		img->ctx.planned = &img->plan.layers;
		/* a look from above at a layer's bytes (dk_source_read_below) may download */
		img->ctx.blobs = r->lcache ? dk_lcache_blobs(r->lcache) : NULL;
		img->ctx.jobs = o->transport.jobs;
		po.ctx = &img->ctx;
		/* the plan of a row that reads the base (its defaults) needs it opened first */
		if (spec_needs_base(r) && (rc = open_base_for(r, img, &plats[i])) < 0)
			break;
		rc = dk_plan_make(&r->spec, &po, &img->plan, r->err);
		if (rc == 0)
			r->n_imgs++;
	}
	free(plats);
	return rc;
}

/* Several platforms: every output must hold an index (a transport's capability, transport.h). */
static int check_outputs(struct run *r)
{
	for (size_t i = 0; r->n_imgs > 1 && i < r->n_dsts; i++)
		if (!dk_ref_holds_index(&r->dsts[i]->ref))
			return dk_fail(r->err, DK_E_USAGE, "-o %s: a %s output holds one platform's image, and "
				       "--platform names %zu: build one platform into it", r->dsts[i]->ref.text,
				       r->dsts[i]->ref.transport->name, r->n_imgs);
	return 0;
}

/* The index over every platform's manifest, in staging. */
static int make_index(struct run *r, struct dk_manifest_blob *index)
{
	struct dk_desc *ms = dk_xcalloc(r->n_imgs, sizeof(*ms));
	struct dk_platform *ps = dk_xcalloc(r->n_imgs, sizeof(*ps));
	int rc;

	for (size_t i = 0; i < r->n_imgs; i++) {
		ms[i] = r->imgs[i].m.desc;
		ps[i] = r->imgs[i].plan.platform;
	}
	/* the annotations do not depend on the platform: every plan has the same */
	index->bytes = dk_index_make(ms, ps, r->n_imgs, &r->imgs[0].plan.annotations, &index->len);
	free(ms);
	free(ps);
	if (doc_fits(r, DK_DOC_INDEX, index->bytes, index->len) < 0)
		return -1;
	strcpy(index->desc.media_type, DK_MT_OCI_INDEX);
	index->desc.size = index->len;
	rc = dk_blobs_put_bytes(&r->stage, index->bytes, index->len, index->desc.digest, r->err);
	return rc;
}

/* What the caller gets: the one image's result, or the index's with each image's. */
static void give_result(struct run *r, const struct dk_manifest_blob *index, struct dk_build_result *res)
{
	struct dk_plan *plan = &r->imgs[0].plan;

	if (r->n_imgs == 1) {
		*res = r->imgs[0].res;
	} else {
		res->manifest = index->desc;
		res->images = dk_xcalloc(r->n_imgs, sizeof(*res->images));
		for (size_t i = 0; i < r->n_imgs; i++) {
			res->images[i] = r->imgs[i].res;
			res->compressed += r->imgs[i].res.compressed;
		}
		res->n_images = r->n_imgs;
	}
	for (size_t i = 0; i < r->n_imgs; i++)
		memset(&r->imgs[i].res, 0, sizeof(r->imgs[i].res));
	res->version = plan->version ? dk_xstrdup(plan->version) : NULL;
	res->revision = plan->revision ? dk_xstrdup(plan->revision) : NULL;
}

/* Everything a run holds (a build's or a lock's). */
static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->n_dsts; i++)
		dk_image_dst_close(r->dsts[i]);
	free(r->dsts);
	if (r->stage_dir) {
		dk_rm_rf(r->stage_dir);
		free(r->stage_dir);
		dk_blobs_close(&r->stage);
	}
	for (size_t i = 0; i < r->n_imgs; i++) {
		struct image_run *img = &r->imgs[i];

		dk_manifest_blob_free(&img->m);
		close_base(&img->base);
		dk_build_result_free(&img->res);
		dk_plan_free(&img->plan);
	}
	free(r->imgs);
	for (size_t i = 0; i < r->n_made; i++) {
		free(r->made[i].input);
		free(r->made[i].key);
	}
	free(r->made);
	dk_own_paths_free(r->own);
	dk_symview_free(r->view);
	dk_rcache_close(r->rcache);
	dk_lcache_close(r->lcache);
	dk_spec_free(&r->spec);
}

int dk_build(const struct dk_build_opts *o, struct dk_build_result *res, struct dk_err *err)
{
	struct run r;
	struct dk_manifest_blob index;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	memset(res, 0, sizeof(*res));
	memset(&index, 0, sizeof(index));
	r.o = o;
	r.err = err;
	if (dk_spec_load(o->spec_path, &r.spec, err) < 0)
		return -1;
	if (!o->no_cache) {
		char *dir = dk_cache_dir(&o->transport);
		struct dk_err cerr;

		/* a cache that cannot be used costs speed, not the build */
		if (dk_lcache_open(dir, &r.lcache, &cerr) < 0)
			dk_warn("%s: building without it", cerr.msg);
		free(dir);
	}
	if (plan_images(&r) < 0)
		goto out;
	r.compress = o->compress;
	if (!o->compress_kind_set && r.spec.compression)
		r.compress.kind = dk_compressor_by_name(r.spec.compression);
	if (!r.compress.kind)
		r.compress.kind = dk_compressor_default();
	if (r.compress.level <= 0)
		r.compress.level = r.compress.kind->default_level;
	/* checked here, not in the CLI: the spec may choose the compressor the level is for */
	if (r.compress.level < r.compress.kind->min_level || r.compress.level > r.compress.kind->max_level) {
		dk_fail(err, DK_E_USAGE, "--compression-level %d: %s levels are %d to %d", r.compress.level,
			r.compress.kind->name, r.compress.kind->min_level, r.compress.kind->max_level);
		goto out;
	}
	if (open_outputs(&r) < 0 || check_outputs(&r) < 0 || open_stage(&r) < 0)
		goto out;
	collect_own(&r);
	if (!o->no_cache) {
		char *dir = dk_cache_dir(&o->transport);

		/* the registry cache's key comes from the local cache's stat records */
		if (r.lcache && (o->cache_repo || r.spec.cache_repo)) {
			int mode = o->cache_mode ? o->cache_mode : DK_RCACHE_READ | DK_RCACHE_WRITE;

			r.rcache = dk_rcache_open(o->cache_repo ? o->cache_repo : r.spec.cache_repo, mode,
						  &o->transport, dir);
		}
		for (size_t i = 0; i < r.n_dsts; i++)
			if (!dk_ref_is_remote(&r.dsts[i]->ref))
				r.need_bytes = 1;
		free(dir);
	}
	for (size_t i = 0; i < r.n_imgs; i++)
		if (build_image(&r, &r.imgs[i]) < 0)
			goto out;
	if (r.n_imgs > 1 && make_index(&r, &index) < 0)
		goto out;
	for (size_t i = 0; i < r.n_dsts; i++)
		if (deliver(&r, r.dsts[i], r.n_imgs > 1 ? &index : NULL) < 0)
			goto out;
	give_result(&r, &index, res);
	rc = 0;
out:
	dk_manifest_blob_free(&index);
	run_free(&r);
	return rc;
}

/* How many entries of the spec are of kind k. */
static size_t count_kind(const struct dk_spec *spec, const struct dk_source_kind *k)
{
	size_t n = 0;

	for (size_t i = 0; i < spec->n_stages; i++)
		for (size_t j = 0; j < spec->stages[i].n_layers; j++)
			n += dk_source_is(&spec->stages[i].layers[j], k);
	return n;
}

/* What the lock command locks: every entry of kind k in the spec, for each platform. */
int dk_build_lock(const struct dk_build_opts *o, const char *key, size_t *n_locked, struct dk_err *err)
{
	const struct dk_source_kind *k = dk_source_by_key(key);
	const struct dk_source_ctx **ctxs = NULL;
	struct dk_platform *plats = NULL;
	struct run r;
	size_t n = 0;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.err = err;
	*n_locked = 0;
	if (!k || !k->lock) {
		struct strbuf names = STRBUF_INIT;

		for (size_t i = 0; dk_source_kinds[i]; i++)
			if (dk_source_kinds[i]->lock)
				sb_join(&names, ", ", dk_source_kinds[i]->key);
		dk_fail(err, DK_E_USAGE, "lock %s: only %s layers have a lock that derrick makes", key, names.buf);
		sb_release(&names);
		return -1;
	}
	if (dk_spec_load(o->spec_path, &r.spec, err) < 0)
		return -1;
	if (sorted_platforms(&r, &plats, &n) < 0)
		goto out;
	if (!o->no_cache) {
		char *dir = dk_cache_dir(&o->transport);
		struct dk_err cerr;

		/* the cache keeps the indexes: without it they are fetched again */
		if (dk_lcache_open(dir, &r.lcache, &cerr) < 0)
			dk_warn("%s: locking without it", cerr.msg);
		free(dir);
	}
	r.imgs = dk_xcalloc(n, sizeof(*r.imgs));
	ctxs = dk_xcalloc(n, sizeof(*ctxs));
	for (size_t i = 0; i < n; i++) {
		struct image_run *img = &r.imgs[i];

		r.n_imgs++;
		img->ctx.spec_file = r.spec.path;
		img->ctx.reg = &o->transport.reg;
		img->ctx.blobs = r.lcache ? dk_lcache_blobs(r.lcache) : NULL;
		img->ctx.planned = &img->plan.layers;
		if (open_base_for(&r, img, &plats[i]) < 0)
			goto out;
		img->plan.spec = &r.spec;
		img->plan.ctx = &img->ctx;
		ctxs[i] = &img->ctx;
	}
	/*
	 * In spec order: the layers below an entry are planned first (for each
	 * platform), so that what it reads below it (a dpkg status) comes from
	 * them as in the build.  Nothing above the last entry is planned.
	 */
	for (size_t i = 0, left = count_kind(&r.spec, k); i < r.spec.n_stages && left; i++)
		for (size_t j = 0; j < r.spec.stages[i].n_layers && left; j++) {
			const struct dk_spec_layer *l = &r.spec.stages[i].layers[j];

			if (dk_source_is(l, k)) {
				if (dk_source_lock(l, plats, ctxs, n, err) < 0)
					goto out;
				(*n_locked)++;
				left--;
			}
			for (size_t p = 0; p < n && left; p++)
				if (dk_plan_entry(l, r.spec.stages[i].name, &r.imgs[p].plan, err) < 0)
					goto out;
		}
	if (!*n_locked) {
		dk_fail(err, DK_E_SPEC, "%s has no %s layer to lock", r.spec.path, k->key);
		goto out;
	}
	rc = 0;
out:
	free(ctxs);
	free(plats);
	run_free(&r);
	return rc;
}

void dk_build_result_free(struct dk_build_result *res)
{
	for (size_t i = 0; i < res->n_layers; i++) {
		free(res->layers[i].stage);
		free(res->layers[i].created_by);
		free(res->layers[i].blob_path);
	}
	for (size_t i = 0; i < res->n_images; i++)
		dk_build_result_free(&res->images[i]);
	free(res->images);
	free(res->layers);
	free(res->version);
	free(res->revision);
	memset(res, 0, sizeof(*res));
}
