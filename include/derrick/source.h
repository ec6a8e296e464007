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

struct dk_own_paths;
struct dk_platform;
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
};

struct dk_source_opt {
	const char *key;
	enum dk_source_opt_type type;
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
	 * before any layer is read, so a mistake shows in milliseconds.
	 */
	int (*plan)(const struct dk_spec_layer *l, const struct dk_platform *platform,
		    struct dk_layer_plans *out, struct dk_err *err);
	/*
	 * Fill `out` (initialised, empty) with the layer's entries, unsorted;
	 * contents that are not files on disk go to out->spool_fd.  `spec_file`
	 * names the spec in messages.  0, or -1 with err set (out is then
	 * still the caller's to release).
	 */
	int (*read)(const struct dk_layer_plan *lp, const char *spec_file, struct dk_entries *out,
		    struct dk_err *err);
};

/* The table (src/source/table.c), ending with NULL. */
extern const struct dk_source_kind *const dk_source_kinds[];

/*
 * Plan entry `l` of stage `stage` (kept as a pointer: it must outlive out)
 * for `platform`: appends its layers to `out`.  0, or -1 with err set.
 */
int dk_source_plan(const struct dk_spec_layer *l, const char *stage, const struct dk_platform *platform,
		   struct dk_layer_plans *out, struct dk_err *err);

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
		       struct dk_layer_plans *out, struct dk_err *err);

/* Append a layer made from entry `l` (input and history are copied); returns it, owned by out. */
struct dk_layer_plan *dk_layer_plans_add(struct dk_layer_plans *out, const struct dk_spec_layer *l,
					 const char *input, const char *history);
void dk_layer_plans_free(struct dk_layer_plans *p);

#endif
