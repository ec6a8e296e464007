/*
 * wheelsrc.h - the options of a "wheels" layer (src/source/wheels.c), with
 * the defaults that follow from one another filled in.
 *
 * The spec parser checks every option that is given; the defaults that
 * need the Python version (site_packages, interpreter) can only be filled
 * in once the base image is known, which is what dk_wheels_opts does.
 */
#ifndef DERRICK_WHEELSRC_H
#define DERRICK_WHEELSRC_H

#include "derrick/err.h"
#include "derrick/source.h"
#include "derrick/spec.h"

/* prefix when the spec gives none */
#define DK_WHEELS_DEFAULT_PREFIX "/usr/local"

struct dk_wheels_opts {
	const char *lock;           /* the pylock.toml, resolved, or NULL (owned by the spec) */
	const char *requirements;   /* the hash-checking requirements file, resolved, or NULL (spec's) */
	char *python;               /* "3.12" or "3.12.4" */
	char *python_xy;            /* "3.12" */
	char *libc;                 /* "glibc 2.36" or "musl 1.2", or NULL when neither spec nor base says */
	char *prefix;               /* absolute and clean: "/usr/local" ("/" for the root) */
	char *site_packages;        /* absolute and clean */
	char *interpreter;          /* the scripts' shebang interpreter, absolute */
	const struct dk_strlist *find_links;    /* directories, resolved; possibly empty (spec's) */
	const char *index_url;      /* or NULL for the default index (spec's) */
	int split;                  /* 1 for "auto" (the default), 0 for "none" */
};

/*
 * Layer l's options with their defaults: `base_python` is the base image's
 * PYTHON_VERSION ("3.12.4") and `base_libc` its C library ("glibc 2.36"),
 * each NULL when unknown; the spec's values win.  No Python version from
 * either is an error naming the key path; so is a base_python that is no
 * CPython version.  0, or -1 with err set (code DK_E_SPEC); free *o with
 * dk_wheels_opts_free either way.
 */
int dk_wheels_opts(const struct dk_spec_layer *l, const char *spec_file, const char *base_python,
		   const char *base_libc, struct dk_wheels_opts *o, struct dk_err *err);
void dk_wheels_opts_free(struct dk_wheels_opts *o);

/*
 * "glibc X.Y" (a new string) from the Version of the libc6 stanza in the
 * text of a dpkg status file (NUL-terminated; a base image's, so
 * untrusted), or NULL when it has none.  A Debian version is
 * [epoch:]upstream[-revision], and glibc's upstream starts with X.Y.
 */
char *dk_dpkg_libc(const char *text);

/*
 * The row's steps (src/source/wheels_plan.c; source.h says what each
 * takes).  The plan loads the lock, picks a wheel per package for the
 * target and splits them into layers, reading no wheel; its key_extra names
 * every wheel by file name and sha256.  The read fetches and installs one
 * layer's wheels; the below step reports packages the image below already
 * has and refuses paths an earlier layer wrote.
 */
struct dk_platform;
struct dk_symview;
int dk_wheels_plan(const struct dk_spec_layer *l, const struct dk_platform *platform,
		   const struct dk_source_ctx *ctx, struct dk_layer_plans *out, struct dk_err *err);
int dk_wheels_read(const struct dk_layer_plan *lp, const char *spec_file, struct dk_entries *out,
		   struct dk_err *err);
int dk_wheels_below(const struct dk_layer_plan *lp, const struct dk_entries *entries,
		    const struct dk_symview *below, struct dk_err *err);

#endif
