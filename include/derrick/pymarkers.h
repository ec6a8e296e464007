/*
 * pymarkers.h - environment markers (PyPA "Dependency specifiers", PEP
 * 508; extra names compared as PEP 685 says), parsed and evaluated as
 * Debian's python3-packaging 23.0 packaging.markers.Marker does: the same
 * grammar (and/or, parentheses, every operator including "in", "not in",
 * "~=" and "==="), the same quoted-string escapes (Python's literal_eval),
 * the same comparison rule (a PEP 440 specifier when OP + right side parses
 * as one, then the left side must be a version; else Python's string
 * comparison), the same order (every term is evaluated, "and" before "or").
 * A test compares derrick's answers with packaging's on one environment.
 *
 * Deliberate differences from packaging 23.0, each an error here:
 * - text after a complete marker ('os_name == "posix" junk'): 23.0 ignores
 *   it silently, PEP 508's grammar has no room for it;
 * - a quoted string with a \N{...} escape (no Unicode name table here), a
 *   NUL or a surrogate;
 * - a variable the target cannot know (platform_release, platform_version:
 *   they describe the build machine's kernel, not the image).
 */
#ifndef DERRICK_PYMARKERS_H
#define DERRICK_PYMARKERS_H

#include "derrick/err.h"
#include "derrick/pytags.h"

/* The marker variables, by their canonical names (PEP 508). */
enum dk_pyvar {
	DK_PYVAR_PYTHON_VERSION,
	DK_PYVAR_PYTHON_FULL_VERSION,
	DK_PYVAR_OS_NAME,
	DK_PYVAR_SYS_PLATFORM,
	DK_PYVAR_PLATFORM_RELEASE,
	DK_PYVAR_PLATFORM_SYSTEM,
	DK_PYVAR_PLATFORM_VERSION,
	DK_PYVAR_PLATFORM_MACHINE,
	DK_PYVAR_PLATFORM_PYTHON_IMPLEMENTATION,
	DK_PYVAR_IMPLEMENTATION_NAME,
	DK_PYVAR_IMPLEMENTATION_VERSION,
	DK_PYVAR_EXTRA,
	DK_PYVAR_COUNT
};

/* The canonical name of a variable ("python_version"). */
const char *dk_pyvar_name(enum dk_pyvar var);
/* The variable with that canonical name, or -1. */
int dk_pyvar_find(const char *name);

/*
 * The values markers are evaluated against; NULL for a value that is not
 * known (evaluating a marker that reads it fails, naming it).  The strings
 * are the caller's, or for dk_pyenv_target the struct's own buffers: copy
 * such an env by calling dk_pyenv_target again, not by assignment.
 */
struct dk_pyenv {
	const char *value[DK_PYVAR_COUNT];
	char python_version[16], full_version[24];
};

/*
 * The environment of target t: python_version "X.Y"; python_full_version
 * and implementation_version "X.Y.Z", or "X.Y" when the spec gave no
 * micro version (then `python_full_version >= "3.12.1"` is false for
 * "3.12", as PEP 440 compares 3.12 with 3.12.1: give "3.12.1" to decide
 * such markers); platform_machine t->machine; sys_platform "linux";
 * platform_system "Linux"; os_name "posix"; implementation_name "cpython";
 * platform_python_implementation "CPython"; extra (NULL: "", as packaging
 * defaults it); platform_release and platform_version unknown.
 */
void dk_pyenv_target(struct dk_pyenv *env, const struct dk_pytarget *t, const char *extra);

struct dk_pymarker;

/*
 * Parse a marker expression (what follows ';' in a requirement, or a
 * pylock.toml "marker" value).  0 and *out (free with dk_pymarker_free),
 * or -1 with DK_E_SPEC: 'invalid marker "TEXT": expected ... at column N'.
 */
int dk_pymarker_parse(const char *text, struct dk_pymarker **out, struct dk_err *err);
/* Free a parsed marker; NULL is fine. */
void dk_pymarker_free(struct dk_pymarker *m);

/*
 * Evaluate m against env: 0 and *result 0 or 1, or -1 with DK_E_SPEC
 * naming the marker and the term: a variable env does not know ('marker
 * "...": platform_release is not known for the target'), a left side that
 * is not a version where the operator and right side make a specifier, "~="
 * or "===" between strings, or a quoted string that names no variable on
 * the right of another ('"a" == "b"': packaging looks the right side up).
 */
int dk_pymarker_eval(const struct dk_pymarker *m, const struct dk_pyenv *env, int *result,
		     struct dk_err *err);

/* Parse TEXT and evaluate it for target t and extra (NULL for none); as above. */
int dk_pymarker_check(const char *text, const struct dk_pytarget *t, const char *extra, int *result,
		      struct dk_err *err);

#endif
