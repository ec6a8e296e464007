/*
 * spec.h - the build spec (derrick.json), parsed and validated.
 *
 * Parsing is strict: an unknown key is an error naming its key path
 * ("stages[1].layers[0].sorce"), because a typo that is silently ignored
 * gives an image that is quietly wrong.  Relative paths are resolved
 * against the spec file's directory here, once.
 */
#ifndef DERRICK_SPEC_H
#define DERRICK_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/err.h"
#include "derrick/platform.h"

struct dk_source_kind;

struct dk_kv {
	char *key;
	char *value;
};

struct dk_kvlist {
	struct dk_kv *v;
	size_t n;
};

struct dk_strlist {
	char **v;
	size_t n;
};

/* One of its kind's own options (source.h), as the spec gave it. */
struct dk_spec_opt {
	const char *key;            /* the row's string */
	char *value;                /* a string, or a path option's resolved path */
	struct dk_strlist list;     /* DK_OPT_STRINGS, DK_OPT_SPEC_PATHS (resolved) */
};

struct dk_spec_layer {
	char *where;        /* key path, "stages[1].layers[0]", for messages */
	const struct dk_source_kind *kind;  /* its row in the table of layer sources */
	char *input;        /* the input (directory, file, tar...), resolved */
	char *origin;       /* the input as written in the spec (history) */
	char *dest;         /* in-layer path: "" for "/", "usr/local" for "/usr/local/" */
	int dest_is_dir;    /* dest was written with a trailing '/' */
	uint32_t uid, gid;
	int file_mode;      /* -1 when not set */
	int dir_mode;
	struct dk_strlist deletes;  /* "delete": in-layer paths ("etc/app.conf"), checked, spec order */
	struct dk_spec_opt *opts;   /* the kind's options that were given */
	size_t n_opts;
	/*
	 * "platforms": a layer whose input differs by platform.  Then kind,
	 * input and origin are NULL, and variants[i] is the whole layer for
	 * platform[i] (the outer keys with that platform's input and options).
	 */
	struct dk_spec_layer *variants;
	size_t n_variants;
	struct dk_platform platform;    /* a variant's platform, as its key named it */
};

struct dk_spec_stage {
	char *name;
	struct dk_spec_layer *layers;
	size_t n_layers;
};

struct dk_spec_config {
	int has_entrypoint, has_cmd;    /* present, possibly empty */
	struct dk_strlist entrypoint, cmd;
	char *workdir, *user, *stop_signal;     /* NULL when not set */
	struct dk_kvlist env;           /* in spec order */
	struct dk_strlist exposed_ports, volumes;
	struct dk_kvlist labels;
};

struct dk_spec {
	char *path;         /* the spec file as given */
	char *dir;          /* its directory: the base for relative paths */
	char *base;         /* "scratch" or an image reference (oci: paths resolved) */
	char *cache_repo;   /* a registry repository for the build cache, or NULL */
	char *compression;  /* "gzip" or "zstd", or NULL */
	struct dk_spec_stage *stages;
	size_t n_stages;
	struct dk_spec_config config;
	struct dk_kvlist annotations;
};

/* Parse and validate; on failure nothing is allocated in *spec. */
int dk_spec_load(const char *path, struct dk_spec *spec, struct dk_err *err);
/* The same from a string (tests); `path` is used for messages and the base dir. */
int dk_spec_parse(const char *text, const char *path, struct dk_spec *spec, struct dk_err *err);
void dk_spec_free(struct dk_spec *spec);

/* Index of the stage called name, or -1. */
long dk_spec_stage_index(const struct dk_spec *spec, const char *name);

/* Layer l's option key: its value (NULL when not given), its list (empty when not given). */
const char *dk_spec_opt_value(const struct dk_spec_layer *l, const char *key);
const struct dk_strlist *dk_spec_opt_list(const struct dk_spec_layer *l, const char *key);

void dk_kvlist_free(struct dk_kvlist *l);
void dk_strlist_free(struct dk_strlist *l);

#endif
