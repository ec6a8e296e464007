/*
 * plan.h - the spec plus the command line, resolved into what to build:
 * which stages, which version, and every ${VERSION} expanded.
 */
#ifndef DERRICK_PLAN_H
#define DERRICK_PLAN_H

#include <stdint.h>

#include "derrick/err.h"
#include "derrick/ref.h"
#include "derrick/source.h"
#include "derrick/spec.h"

struct dk_plan_opts {
	const char *target;         /* last stage to build; NULL for all */
	const char *version;        /* --version, or NULL */
	int version_from_git;       /* --version-from-git */
	struct dk_platform platform;
	int64_t epoch;              /* SOURCE_DATE_EPOCH */
};

struct dk_plan {
	const struct dk_spec *spec;
	size_t n_stages;            /* stages[0 .. n_stages) are built */
	char *version;              /* NULL when none */
	char *revision;             /* the git commit with --version-from-git */
	struct dk_kvlist env;       /* expanded, spec order */
	struct dk_kvlist labels;    /* expanded, plus version/revision labels */
	struct dk_kvlist annotations;
	struct dk_platform platform;
	int64_t epoch;
	struct dk_layer_plans layers;   /* every layer to build, in order, with its stage */
};

/*
 * Resolve spec and options into plan (which points into spec: keep spec
 * until dk_plan_free).  On failure nothing is left to free.
 */
int dk_plan_make(const struct dk_spec *spec, const struct dk_plan_opts *o, struct dk_plan *plan,
		 struct dk_err *err);
void dk_plan_free(struct dk_plan *plan);

/*
 * Expand ${VERSION} in s (a new string).  Any other ${NAME} is an error, as
 * is ${VERSION} when no version was given; `where` names the key.
 */
int dk_expand(const char *s, const char *version, const char *where, char **out, struct dk_err *err);

/* Run `git describe --tags --always --dirty` in dir; "v1.2" gives "1.2". */
int dk_git_version(const char *dir, char **version, char **revision, struct dk_err *err);

/* Format seconds since the epoch as RFC 3339 UTC ("1970-01-01T00:00:00Z"). */
void dk_rfc3339(int64_t t, char buf[32]);

#endif
