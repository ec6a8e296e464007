/*
 * source.h - the kinds of layer input (a directory, a prebuilt tar, ...)
 * as one table, in the way libarchive keeps its formats.
 *
 * A row says everything that differs between kinds: the spec key that
 * names the input, the options it accepts, the history verb, how one spec
 * entry becomes layers (one, or several, for a platform) and how one such
 * layer is read into entries.  The spec parser, the planner and the build
 * only go through the table, so a new kind is one file in src/source/ and
 * one row in src/source/table.c.
 */
#ifndef DERRICK_SOURCE_H
#define DERRICK_SOURCE_H

#include <stddef.h>

#include "derrick/entry.h"
#include "derrick/err.h"

struct dk_blobs;
struct dk_own_paths;
struct dk_platform;
struct dk_reg_opts;
struct dk_spec_layer;
struct dk_symview;

/* How the spec parser reads and checks a kind's own option. */
enum dk_source_opt_type {
	DK_OPT_STRINGS,     /* an array of strings */
	DK_OPT_INPUT_PATH,  /* a path; a relative one is resolved against the input */
	DK_OPT_STRING,      /* a string, kept as written */
	DK_OPT_SPEC_PATH,   /* a path; a relative one is resolved against the spec's directory */
	DK_OPT_SPEC_PATHS,  /* an array of paths, each resolved as DK_OPT_SPEC_PATH */
	/*
	 * Members only (dk_source_kind.members): a DK_OPT_SPEC_PATH that names
	 * the layer's input.  Exactly one of a row's input members must be
	 * given; its resolved path becomes the layer's input, its text the origin.
	 */
	DK_OPT_SPEC_INPUT,
	/*
	 * Any JSON value (an array of objects: a debs layer's "sources"), kept
	 * as compact JSON text with sorted keys; the row's check reads and
	 * checks it, naming key paths below the member's.
	 */
	DK_OPT_JSON,
};

struct dk_source_opt {
	const char *key;
	enum dk_source_opt_type type;
};

/* Files of one directory (names without the directory), as dk_source_read_dir_below gives them. */
struct dk_dir_files {
	struct dk_dir_file {
		char *name;
		char *data;     /* NUL-terminated */
		size_t len;
	} *v;
	size_t n;
};

/* The file called name in f, or NULL. */
const struct dk_dir_file *dk_dir_files_find(const struct dk_dir_files *f, const char *name);
/* Add a file (name and data are copied, len bytes) unless f has that name already; 1 when added. */
int dk_dir_files_add(struct dk_dir_files *f, const char *name, const char *data, size_t len);
void dk_dir_files_free(struct dk_dir_files *f);

/*
 * What a row may know besides its spec entry: the base image (for the
 * defaults a kind takes from it: a wheels layer's Python and C library)
 * and where downloads go.  The build fills one per platform and keeps it
 * while that platform's plan lives; without a build (unit tests) it is
 * NULL, and a row that needs it says so in an error.
 */
struct dk_source_ctx {
	const char *spec_file;      /* names the spec in messages */
	/* the base image's config JSON (config_len bytes), or NULL: scratch, or not opened */
	const char *config;
	size_t config_len;
	/*
	 * Read in-image file `path` (clean, no leading '/': "var/lib/dpkg/status")
	 * as the base image's layers leave it, at most `max` bytes: 1 with
	 * *data (a new, NUL-terminated buffer) and *len, 0 when the image has no
	 * such file, -1 with err set.  Lazy: only a row that needs the file pays
	 * for reading a layer.  NULL for scratch.
	 */
	int (*read_file)(void *arg, const char *path, size_t max, char **data, size_t *len, struct dk_err *err);
	/*
	 * Each regular file directly in in-image directory `dir` (clean, no
	 * leading '/': "var/lib/dpkg/status.d") as the base's layers leave it
	 * (whiteouts and opaque directories applied), in name order (bytewise):
	 * fn(fn_arg, name, data, len, err) with at most `max` bytes of it, data
	 * NUL-terminated and only valid during the call.  0 (also when there is
	 * no such directory), or -1 with err set; a -1 of fn stops there and is
	 * returned.  NULL for scratch.
	 */
	int (*each_file)(void *arg, const char *dir, size_t max,
			 int (*fn)(void *fn_arg, const char *name, const char *data, size_t len, struct dk_err *err),
			 void *fn_arg, struct dk_err *err);
	void *arg;
	/*
	 * The layers planned so far for this platform (the build's plan, which
	 * grows as it is made), or NULL: dk_source_read_below looks through them
	 * before the base image.
	 */
	const struct dk_layer_plans *planned;
	const struct dk_reg_opts *reg;      /* TLS and retries for downloads, or NULL for the defaults */
	const struct dk_blobs *blobs;       /* where downloads are kept (by sha256); set before reading */
	int jobs;                           /* downloads at once (--jobs); <= 0: the row's default */
};

/* One layer to build, planned from one spec entry. */
struct dk_layer_plan {
	const char *stage;                  /* the stage's name (owned by the spec) */
	const struct dk_spec_layer *entry;  /* the spec entry it comes from (owned by the spec) */
	char *input;    /* the file or directory the build cache keeps stat records of */
	char *history;  /* "COPY src /app": the config history, after "derrick stage S: " */
	/*
	 * What else, besides its entries and the common layer options, decides
	 * this layer's bytes and so belongs in its build-cache key (a kind that
	 * picks files by platform names the platform here), or NULL for nothing.
	 * NULL for the directory and tar kinds, whose keys must never change;
	 * a layer with a "delete" list names it here.
	 */
	char *key_extra;
	const struct dk_own_paths *own;     /* set by the build: what no walk may pack (walk.h), or NULL */
	/* what the row's plan step decided for its read step (its own format), or NULL */
	char *row_data;
	const struct dk_source_ctx *ctx;    /* the context the plan was made in, or NULL */
	/*
	 * Who writes the layer's files when that is several things (a wheels
	 * layer: its wheels' file names), for messages about a later layer
	 * that writes one of them again: n_owners NUL-terminated labels one
	 * after another, owners_len bytes in all; an entry names its writer by
	 * number (dk_entry.owner).  NULL when the layer is one thing.
	 */
	char *owners;
	size_t owners_len, n_owners;
};

/* A list of planned layers; free with dk_layer_plans_free. */
struct dk_layer_plans {
	struct dk_layer_plan *v;
	size_t n;
};

struct dk_source_kind {
	const char *key;    /* the spec key naming the input: "source" */
	const char *hint;   /* what that input may be, for messages ("a directory or file"), or NULL */
	const char *noun;   /* the kind in a sentence: "a source directory" */
	const char *verb;   /* the history verb: "COPY" */
	const struct dk_source_opt *opts;   /* its own options, ending with { NULL } */
	/*
	 * The row takes no input: it is the kind of a layer that names no input
	 * but has a "delete" list (key and hint then describe that list).
	 */
	int no_input;
	/*
	 * The key's value is an object (`"wheels": { "lock": ... }`) whose keys
	 * are these typed members, ending with { NULL }; NULL when the key's
	 * value is a string naming the input.  The parser refuses unknown and
	 * mistyped members by their key path and stores the given ones in the
	 * layer's opts (dk_spec_opt_value/dk_spec_opt_list read them).  Such a
	 * layer takes no "dest": its check callback sets the layer's dest.
	 */
	const struct dk_source_opt *members;
	/*
	 * Called once the layer is parsed (members, dest and common options),
	 * or NULL: check what the types alone cannot (formats, combinations),
	 * fill in what follows from the options (l->dest for an object kind).
	 * `spec_file` names the spec in messages, which name the key path
	 * ("FILE: stages[1].layers[0].wheels.python: ...").  0, or -1 with err
	 * set (code DK_E_SPEC).
	 */
	int (*check)(struct dk_spec_layer *l, const char *spec_file, struct dk_err *err);
	/*
	 * Append the layers entry `l` gives for `platform` to `out` (with
	 * dk_layer_plans_add); 0, or -1 with err set.  Cheap: the plan is made
	 * before any layer is read, so a mistake shows in milliseconds.  `ctx`
	 * may be NULL (see needs_base).
	 */
	int (*plan)(const struct dk_spec_layer *l, const struct dk_platform *platform,
		    const struct dk_source_ctx *ctx, struct dk_layer_plans *out, struct dk_err *err);
	/*
	 * The plan step reads the base image (ctx's config and read_file): the
	 * build opens the base before it plans, not after.
	 */
	int needs_base;
	/*
	 * The plan alone decides the layer's bytes (its key_extra names every
	 * input by digest, as a lock names wheels by sha256): the build-cache
	 * key is made before the layer is read (dk_source_plan_key), and a hit
	 * reads nothing, downloads nothing and compresses nothing.
	 */
	int key_from_plan;
	/*
	 * After read and before placing, or NULL: look at the image below the
	 * layer (a wheels layer reports packages the base already has, and
	 * refuses a path an earlier layer of its split wrote).  For a layer the
	 * cache had (key_from_plan), which was not read, entries are the paths
	 * and types of its stored map, or NULL when it has none.  0, or -1
	 * with err set.
	 */
	int (*below)(const struct dk_layer_plan *lp, const struct dk_entries *entries,
		     const struct dk_symview *below, struct dk_err *err);
	/*
	 * Fill `out` (initialised, empty) with the layer's entries, unsorted;
	 * contents that are not files on disk go to out->spool_fd.  `spec_file`
	 * names the spec in messages.  0, or -1 with err set (out is then
	 * still the caller's to release).
	 */
	int (*read)(const struct dk_layer_plan *lp, const char *spec_file, struct dk_entries *out,
		    struct dk_err *err);
	/*
	 * `derrick lock KEY` (dk_source_lock), or NULL for a kind that has no
	 * lock of its own: resolve entry l for the n platforms plats (sorted),
	 * ctxs[i] knowing plats[i]'s base image, and write the lock file it
	 * names.  What it wrote goes to the log (dk_info).  0, or -1 with err set.
	 */
	int (*lock)(const struct dk_spec_layer *l, const struct dk_platform *plats,
		    const struct dk_source_ctx *const *ctxs, size_t n, struct dk_err *err);
	/*
	 * The content of in-layer file `path` (clean, no leading '/', at or
	 * below the entry's dest) as planned layer lp will write it, found
	 * without building the layer: 1 with *data (new, NUL-terminated) and
	 * *len, at most max bytes; 0 when the layer does not write that path;
	 * -1 with err set.  NULL: the kind cannot tell before it is built.
	 */
	int (*find_file)(const struct dk_layer_plan *lp, const char *path, size_t max, char **data, size_t *len,
			 struct dk_err *err);
	/*
	 * The same for the regular files directly in directory `dir`: added to
	 * `out` (dk_dir_files_add: a name out has is kept), each at most max
	 * bytes; 1 when the layer replaces the directory (nothing below it
	 * shows), else 0; -1 with err set.  NULL: the kind cannot tell.
	 */
	int (*find_dir)(const struct dk_layer_plan *lp, const char *dir, size_t max, struct dk_dir_files *out,
			struct dk_err *err);
};

/* The table (src/source/table.c), ending with NULL. */
extern const struct dk_source_kind *const dk_source_kinds[];

/*
 * Plan entry `l` of stage `stage` (kept as a pointer: it must outlive out)
 * for `platform`: appends its layers to `out`.  0, or -1 with err set.
 */
int dk_source_plan(const struct dk_spec_layer *l, const char *stage, const struct dk_platform *platform,
		   const struct dk_source_ctx *ctx, struct dk_layer_plans *out, struct dk_err *err);

/*
 * For a layer the build cache had by its plan's key, which is not read:
 * the row's below step with `entries`, the layer's paths and types from
 * its stored map (no contents, no writer numbers), or NULL when there is
 * no map.  0, or -1 with err set.
 */
int dk_source_below_hit(const struct dk_layer_plan *lp, const struct dk_entries *entries,
			const struct dk_symview *below, struct dk_err *err);

/* Whether lp's row has a below step (dk_source_kind.below): a cache hit then needs its map's paths. */
int dk_source_has_below(const struct dk_layer_plan *lp);

/* Whether entry l's row needs the base image at plan time (dk_source_kind.needs_base). */
int dk_source_needs_base(const struct dk_spec_layer *l);

/*
 * For a row whose plan decides its bytes (dk_source_kind.key_from_plan):
 * 1 with *text, a new string naming everything besides the common layer
 * options that decides lp's bytes (its key_extra and what the tree below
 * would move: dk_symview_key), to be hashed into the build-cache key
 * before anything is read; 0 for other rows (their key needs the entries).
 */
int dk_source_plan_key(const struct dk_layer_plan *lp, const struct dk_symview *below, char **text);

/*
 * In-image file `path` (clean, no leading '/': "var/lib/dpkg/status") as
 * the image below a layer leaves it: the layers of ctx->planned before
 * `upto` (all of them when upto is NULL or not among them), topmost first,
 * each through its row's find_file (a "delete" of the path or a directory
 * above it hides what lies below), then the base image (ctx->read_file).
 * At most max bytes.  1 with *data (new, NUL-terminated) and *len, 0 when
 * no layer and not the base has it, -1 with err set: DK_E_SPEC when a
 * layer whose dest holds the path is of a kind that cannot tell before it
 * is built (a tar), naming it.  A NULL ctx has nothing below.
 */
int dk_source_read_below(const struct dk_source_ctx *ctx, const struct dk_layer_plan *upto, const char *path,
			 size_t max, char **data, size_t *len, struct dk_err *err);

/*
 * The regular files directly in in-image directory `dir` as the image
 * below layer `upto` leaves them (as dk_source_read_below looks for a
 * file: the planned layers topmost first through their rows' find_dir, a
 * "delete" hiding what lies below, then the base's each_file), added to
 * `out` in name order.  0, or -1 with err set (DK_E_SPEC naming a layer
 * that may write there and cannot tell).
 */
int dk_source_read_dir_below(const struct dk_source_ctx *ctx, const struct dk_layer_plan *upto, const char *dir,
			     size_t max, struct dk_dir_files *out, struct dk_err *err);

/* The row whose spec key is `key` ("debs"), or NULL. */
const struct dk_source_kind *dk_source_by_key(const char *key);

/*
 * Whether spec entry l is of kind k: its own kind, or (a layer whose input
 * differs by platform) any variant's.
 */
int dk_source_is(const struct dk_spec_layer *l, const struct dk_source_kind *k);

/*
 * Write the lock of entry l (of a kind with a lock step: see
 * dk_source_kind.lock) for n platforms; a variant layer locks each variant
 * for its own platform.  0, or -1 with err set (DK_E_USAGE for a kind
 * without a lock step).
 */
int dk_source_lock(const struct dk_spec_layer *l, const struct dk_platform *plats,
		   const struct dk_source_ctx *const *ctxs, size_t n, struct dk_err *err);

/*
 * The one error line of a bad member of an object-valued kind key:
 * "FILE: stages[0].layers[1].KEY.MEMBER: what" (DK_E_SPEC); returns -1.
 */
int dk_source_bad_member(struct dk_err *err, const char *file, const struct dk_spec_layer *l, const char *member,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * The row's check of parsed layer `l` (see dk_source_kind.check), for the
 * spec parser.  0, or -1 with err set.
 */
int dk_source_check(struct dk_spec_layer *l, const char *spec_file, struct dk_err *err);

/*
 * Read planned layer `lp` into `out` (initialised, empty) through its
 * kind's row, write its entries through the symlinks of `below` (the
 * image's tree under this layer, NULL for none: see symlinks.h), then put
 * them in their final order and check them (dk_entries_finish) and add the
 * layer's whiteouts.  Placing comes before ordering, so that hardlinks
 * still point forward after entries moved.  *moves is NULL when nothing
 * moved, else a new string naming the moves for the build-cache key.
 * 0, or -1 with err set (out is then still the caller's to release).
 */
int dk_source_read(const struct dk_layer_plan *lp, const char *spec_file, const struct dk_symview *below,
		   struct dk_entries *out, char **moves, struct dk_err *err);

/*
 * The plan step of kinds whose entry is one layer: one layer of l's input,
 * with the history "VERB origin /dest" (VERB from l's row).
 */
int dk_source_plan_one(const struct dk_spec_layer *l, const struct dk_platform *platform,
		       const struct dk_source_ctx *ctx, struct dk_layer_plans *out, struct dk_err *err);

/* Append a layer made from entry `l` (input and history are copied); returns it, owned by out. */
struct dk_layer_plan *dk_layer_plans_add(struct dk_layer_plans *out, const struct dk_spec_layer *l,
					 const char *input, const char *history);
void dk_layer_plans_free(struct dk_layer_plans *p);

#endif
