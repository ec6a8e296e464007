/*
 * pyversion.h - Python package versions and version specifiers, as the
 * PyPA "Version specifiers" specification (PEP 440) defines them and as
 * Debian's python3-packaging 23.0 (`packaging.version.Version`,
 * `packaging.specifiers.SpecifierSet`) implements them: the oracle tests
 * compare derrick's answers with packaging's.
 *
 * Numbers are kept as digit strings, so versions such as 20231130123456789
 * compare exactly however long they are, as Python's integers do.
 * "Whitespace" is ASCII's (space, \t \n \v \f \r and \x1c-\x1f, what
 * Python's str.isspace() says of ASCII); Python also takes Unicode spaces.
 */
#ifndef DERRICK_PYVERSION_H
#define DERRICK_PYVERSION_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/err.h"

/* A number inside dk_pyver.text, without leading zeros; len 0 is zero. */
struct dk_pynum {
	uint32_t off, len;
};

/* One part of a local version label: a number or a lower-case string. */
struct dk_pylocal {
	uint32_t off, len;
	int numeric;
};

/*
 * A parsed version.  text is the normalised spelling (packaging's
 * str(Version): "1.0a1.post2.dev3+ubuntu.1", epoch only when not 0); the
 * numbers point into it.  Everything is owned: free with dk_pyver_free.
 */
struct dk_pyver {
	char *text;
	struct dk_pynum epoch;
	struct dk_pynum *release;
	size_t nrelease;           /* at least 1 */
	char pre;                  /* 0, 'a', 'b' or 'r' (rc) */
	struct dk_pynum pre_n;
	int has_post, has_dev;
	struct dk_pynum post_n, dev_n;
	struct dk_pylocal *local;
	size_t nlocal;             /* 0: no local label */
};

/*
 * Parse a version (leading and trailing whitespace allowed, case ignored,
 * the spellings PEP 440 normalises: "v1.0", "1.0-1", "1.0alpha", "1.0.rc.1",
 * "1.0-dev"...).  0 and *v filled (free with dk_pyver_free), or -1 with
 * DK_E_SPEC: 'invalid version "TEXT"'.
 */
int dk_pyver_parse(const char *s, struct dk_pyver *v, struct dk_err *err);
/* Free what dk_pyver_parse allocated and zero *v (a zeroed *v may be freed again). */
void dk_pyver_free(struct dk_pyver *v);

/* <0, 0, >0 as a sorts before, equal to, after b (PEP 440 order; "1.0" == "1.0.0"). */
int dk_pyver_cmp(const struct dk_pyver *a, const struct dk_pyver *b);

/* A pre-release or development release (packaging's is_prerelease). */
int dk_pyver_is_prerelease(const struct dk_pyver *v);

/* One specifier: an operator and its version text. */
enum dk_pyop { DK_PYOP_COMPATIBLE, DK_PYOP_EQ, DK_PYOP_NE, DK_PYOP_LE, DK_PYOP_GE,
	       DK_PYOP_LT, DK_PYOP_GT, DK_PYOP_ARBITRARY };

struct dk_pyspec {
	enum dk_pyop op;
	char *version;          /* as written, stripped ("3.*", "1.0+local", "===" text) */
};

/* A comma-separated set of specifiers (">=3.8,<4"); all must hold. */
struct dk_pyspecset {
	struct dk_pyspec *specs;
	size_t n;
};

/*
 * Parse one specifier ("~=2.2", "==3.*", "!=1.0+local", "===foo") with the
 * grammar of packaging.specifiers.Specifier: which operators may carry
 * wildcards, local labels or arbitrary text.  0 and *spec (free with
 * dk_pyspec_free), or -1 with DK_E_SPEC: 'invalid specifier "TEXT"'.
 */
int dk_pyspec_parse(const char *s, struct dk_pyspec *spec, struct dk_err *err);
/* Free spec->version (spec itself is the caller's). */
void dk_pyspec_free(struct dk_pyspec *spec);

/*
 * Parse a specifier set: split at ',', blanks around each part dropped,
 * empty parts skipped; "" is the empty set, which every final release
 * satisfies.  0 and *set (free with dk_pyspecset_free), or -1 with
 * DK_E_SPEC naming the set and the part.
 */
int dk_pyspecset_parse(const char *s, struct dk_pyspecset *set, struct dk_err *err);
/* Free the specifiers and leave *set empty. */
void dk_pyspecset_free(struct dk_pyspecset *set);

/* How pre-releases are treated by the contains functions. */
enum dk_pypre {
	DK_PYPRE_DEFAULT = -1,  /* packaging's default: only if a specifier names one */
	DK_PYPRE_NO = 0,
	DK_PYPRE_YES = 1,
};

/*
 * Whether version v satisfies spec (packaging's Specifier.contains(v,
 * prereleases)).  *result 0 or 1; returns 0, or -1 with DK_E_SPEC when the
 * answer needs a specifier's text to be a version and it is not one (an
 * "===" specifier's arbitrary text with DK_PYPRE_DEFAULT, as packaging
 * raises InvalidVersion there).
 */
int dk_pyspec_contains(const struct dk_pyspec *spec, const struct dk_pyver *v, enum dk_pypre pre,
		       int *result, struct dk_err *err);

/*
 * Whether v satisfies every specifier of set, as SpecifierSet.contains(v)
 * does: with DK_PYPRE_DEFAULT (what pip and installer use for
 * Requires-Python) a pre-release v only matches when some specifier of the
 * set names a pre-release.  Same returns as dk_pyspec_contains.
 */
int dk_pyspecset_contains(const struct dk_pyspecset *set, const struct dk_pyver *v, enum dk_pypre pre,
			  int *result, struct dk_err *err);

/*
 * Convenience: parse set and version text, answer as above with
 * DK_PYPRE_DEFAULT (a Requires-Python check: give the target's X.Y.Z when
 * known, since ">=3.12.1" does not hold for "3.12").  Errors name what did
 * not parse.
 */
int dk_pyspecset_check(const char *set, const char *version, int *result, struct dk_err *err);

#endif
