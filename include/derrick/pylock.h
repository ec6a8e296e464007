/*
 * pylock.h - the packages a lock pins, read from a PEP 751 pylock.toml or a
 * pip requirements file in hash-checking form, into one struct dk_lock.
 *
 * A pylock.toml names its files (wheels, each with a url or a path, a size
 * and a sha256); a requirements file names versions and the sha256s of the
 * files that may be installed, and the files are found elsewhere (find_links,
 * an index: pyindex.h).  Nothing here evaluates markers or picks a wheel:
 * that needs the target (pymarkers.h, pytags.h).  Everything that would need
 * building or running code (sdists, VCS, directories, archives) is refused
 * when the lock is read, naming the package.
 */
#ifndef DERRICK_PYLOCK_H
#define DERRICK_PYLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/digest.h"
#include "derrick/err.h"

/* One wheel a pylock.toml lists for a package. */
struct dk_lock_file {
	char *filename;         /* the wheel's file name (given, or the last part of url/path) */
	char *url;              /* an absolute URL, or NULL */
	char *path;             /* a local path (relative ones resolved against the lock's directory), or NULL */
	char sha256[DK_SHA256_HEX];
	int64_t size;           /* bytes, or -1 when the lock does not say */
};

struct dk_lock_pkg {
	char *name;             /* as the lock spells it (compare names normalised: PEP 503) */
	char *version;          /* the pinned version; NULL when a pylock.toml leaves it out */
	char *marker;           /* a PEP 508 environment marker, or NULL: always installed */
	char *requires_python;  /* a PEP 440 specifier set, or NULL */
	char *where;            /* for messages: "pylock.toml: packages[3] (numpy)", "requirements.txt:12" */
	char **extras;          /* requirements: the extras asked for ("name[a,b]==1"), NULL-terminated */
	size_t n_extras;
	/* pylock.toml: the candidate wheels, in the lock's order */
	struct dk_lock_file *files;
	size_t n_files;
	/* requirements: the sha256s a file of this package may have (hex), in the file's order */
	char (*hashes)[DK_SHA256_HEX];
	size_t n_hashes;
};

struct dk_lock {
	char *path;                     /* the lock file as given */
	char *requires_python;          /* lock-level, or NULL */
	char **environments;            /* markers, at least one of which the target must satisfy; */
	size_t n_environments;          /* none: any environment */
	char **extras;                  /* the extras and dependency groups the lock was made with, */
	size_t n_extras;                /* and those installed by default (pylock.toml's */
	char **groups;                  /* extras, dependency-groups, default-groups) */
	size_t n_groups;
	char **default_groups;
	size_t n_default_groups;
	struct dk_lock_pkg *pkgs;
	size_t n_pkgs;
};

/*
 * Read a PEP 751 lock (pylock.toml, pylock.NAME.toml) into *lock (the caller
 * releases it with dk_lock_release).  lock-version must be 1.x (a newer
 * major is refused); created-by, packages and each package's name are
 * required; each package must list wheels: one with only sdist, vcs,
 * directory or archive is refused ("derrick never builds from source").
 * Every wheel needs url or path and hashes.sha256 (other algorithms alone
 * cannot be checked); size is checked when given.  Keys this version does
 * not know (tool tables, attestation-identities, upload-time, dependencies,
 * index...) are ignored, as the spec asks of 1.x readers.  Errors
 * (DK_E_SPEC; DK_E_NOTFOUND/DK_E_IO for the file) name the file and the key
 * path or line: "pylock.toml: packages[2].wheels[0]: no url or path".
 */
int dk_pylock_load(const char *path, struct dk_lock *lock, struct dk_err *err);
/* The same from text already read: `path` names it in messages and is the base of relative paths. */
int dk_pylock_parse(const char *text, size_t len, const char *path, struct dk_lock *lock,
		    struct dk_err *err);

/*
 * Read a requirements file in pip's hash-checking form (as pip-compile
 * --generate-hashes, uv pip compile --generate-hashes, uv export and
 * poetry export write it) into *lock: every requirement `name==version`
 * (extras `name[a,b]` kept, `; marker` kept) with at least one
 * `--hash=sha256:HEX` (sha384/sha512 hashes are ignored, other algorithms
 * refused); backslash continuations, comments (`#` at the start or after
 * blank space) and blank lines as pip reads them.  A name may come twice
 * only when each line has a marker (uv's universal output: one version per
 * environment); picking the line that applies is the caller's.  Refused, each
 * naming FILE:LINE: anything unpinned (no ==, a wildcard ==1.*, ===, a
 * range), unhashed, or a URL, path or VCS requirement; md5/sha1/other
 * hashes alone; a name twice; `-r`/`-c` includes and `-e`; index and
 * find-links options (--index-url, --extra-index-url, --find-links,
 * --no-index...): where wheels come from is the spec's `index_url` and
 * `find_links`, so a file cannot send downloads elsewhere; --no-binary
 * (building from source).  pip's --require-hashes, --prefer-binary,
 * --only-binary and --pre, which change nothing here, are accepted.
 */
int dk_requirements_load(const char *path, struct dk_lock *lock, struct dk_err *err);
int dk_requirements_parse(const char *text, size_t len, const char *path, struct dk_lock *lock,
			  struct dk_err *err);

void dk_lock_release(struct dk_lock *lock);

#endif
