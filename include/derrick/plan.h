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
	int64_t epoch;              /* every timestamp: what dk_created_decide chose */
	const struct dk_source_ctx *ctx;    /* for the rows' plan steps (source.h), or NULL */
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
	const struct dk_source_ctx *ctx;    /* o->ctx: must outlive the plan */
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
 * Plan one spec entry of stage `stage` into plan->layers, as dk_plan_make
 * does for each (a layer with "platforms" takes the variant that best
 * matches plan->platform); plan->spec, platform and ctx must be set.  For
 * the lock command, which plans only what lies below the entries it locks.
 * 0, or -1 with err set.
 */
int dk_plan_entry(const struct dk_spec_layer *l, const char *stage, struct dk_plan *plan, struct dk_err *err);

/*
 * Expand ${VERSION} in s (a new string).  Any other ${NAME} is an error, as
 * is ${VERSION} when no version was given; `where` names the key.
 */
int dk_expand(const char *s, const char *version, const char *where, char **out, struct dk_err *err);

/* Run `git describe --tags --always --dirty` in dir; "v1.2" gives "1.2". */
int dk_git_version(const char *dir, char **version, char **revision, struct dk_err *err);

/*
 * The one place that decides the time every timestamp of an image takes
 * (config "created", history, layer entries' mtimes), strongest first:
 * the --created text `flag` (RFC 3339 or @SECONDS, see dk_parse_created)
 * when not NULL; else `sde`, SOURCE_DATE_EPOCH's value, when set and not
 * empty; else the time of the last commit of the git repository holding
 * `dir`, the spec's directory (`git log -1 --format=%ct`, run there);
 * else 0 (no git, not a repository, no commit).  0 with *out in seconds
 * and *from naming the choice ("--created", "SOURCE_DATE_EPOCH", "git",
 * "default"), or -1 with DK_E_USAGE and a line naming the bad value.
 */
int dk_created_decide(const char *flag, const char *sde, const char *dir, int64_t *out, const char **from,
		      struct dk_err *err);
/*
 * --created: "2024-05-01T12:00:00Z" (an offset such as "+02:00" instead of
 * the Z, whole seconds) or "@1714564800", from 1970 to 9999: 0 and *out in
 * seconds, or -1 with DK_E_USAGE naming the value and the forms accepted.
 */
int dk_parse_created(const char *s, int64_t *out, struct dk_err *err);

/* Format seconds since the epoch as RFC 3339 UTC ("1970-01-01T00:00:00Z"). */
void dk_rfc3339(int64_t t, char buf[32]);

#endif
