/*
 * deblock.h - the lock of a `debs` layer: every Debian package a build
 * installs, pinned by URL, sha256 and size, with the sources and the
 * requested names it was resolved from (so a build can tell whether the
 * lock still matches the spec).
 *
 * The file is JSON:
 *   { "lock-version": 1,
 *     "sources": [ { "url": "...", "suite": "bookworm", "components": ["main"],
 *                    "keyring": "/usr/share/keyrings/...", "trusted": false } ],
 *     "architectures": ["amd64"],
 *     "packages": ["curl", "libpq5"],
 *     "entries": [ { "name": "curl", "version": "7.88.1-10+deb12u8", "architecture": "amd64",
 *                    "url": "http://.../pool/main/c/curl/curl_..._amd64.deb",
 *                    "sha256": "<64 hex>", "size": 315704, "why": "requested" } ] }
 * entries sorted by name, then architecture (bytewise), one per package and
 * architecture; keys in the order above; two-space indent; a final newline.
 * Writing the same lock twice gives the same bytes.
 */
#ifndef DERRICK_DEBLOCK_H
#define DERRICK_DEBLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/debrepo.h"
#include "derrick/err.h"

#define DK_DEB_LOCK_VERSION 1

struct dk_deb_lock_entry {
	char *name, *version, *arch;
	char *url;                      /* the .deb (the mirror root + the stanza's Filename) */
	char sha256[65];                /* lower-case hex */
	uint64_t size;
	char *why;                      /* "requested", or the chain: "curl -> libcurl4 -> libssh2-1" */
};

struct dk_deb_lock_source {
	char *url, *suite;
	char **components;
	size_t n_components;
	char *keyring;                  /* NULL when none was named */
	int trusted;
};

struct dk_deb_lock {
	struct dk_deb_lock_source *sources;
	size_t n_sources;
	char **archs;                   /* Debian architecture names */
	size_t n_archs;
	char **packages;                /* what the spec asked for, as written there */
	size_t n_packages;
	struct dk_deb_lock_entry *entries;
	size_t n_entries;
};

/*
 * The lock's bytes (new, *len bytes, NUL-terminated), entries sorted as
 * above.  Fails (DK_E_INTERNAL) on what the reader would refuse: two
 * entries of one name and architecture, a bad name, architecture or
 * sha256.  l is not changed.
 */
int dk_deb_lock_dump(const struct dk_deb_lock *l, char **out, size_t *len, struct dk_err *err);
/* dk_deb_lock_dump, written to path atomically (a temporary file renamed over it). */
int dk_deb_lock_write(const char *path, const struct dk_deb_lock *l, struct dk_err *err);

/*
 * Parse a lock's bytes strictly: an unknown or missing key, a value of the
 * wrong type, a package name or architecture that Debian would not accept,
 * a sha256 that is not 64 lower-case hex digits, a negative size, two
 * entries of one name and architecture, a lock-version other than 1: each
 * is one error naming `where` and the key path ("debs.lock.json:
 * entries[3].sha256: ...").  On success *l is filled (free with
 * dk_deb_lock_free); on failure it is empty.
 */
int dk_deb_lock_parse(const char *text, size_t len, const char *where, struct dk_deb_lock *l, struct dk_err *err);
int dk_deb_lock_read(const char *path, struct dk_deb_lock *l, struct dk_err *err);
void dk_deb_lock_free(struct dk_deb_lock *l);

/*
 * 0 when the lock was made from this spec: the same sources in the same
 * order (url, suite, components, keyring, trusted), and the same requested
 * packages and architectures (each compared as a set: their order in the
 * spec does not matter).  Otherwise -1 with DK_E_SPEC and one line saying
 * the first difference ("the lock was made from another spec:
 * sources[0].suite is bookworm, the spec says trixie"), for the caller to
 * add how to lock again.
 */
int dk_deb_lock_matches(const struct dk_deb_lock *l, const struct dk_deb_source *srcs, size_t n_srcs,
			const char *const *packages, size_t n_packages, const char *const *archs, size_t n_archs,
			struct dk_err *err);

/* What a lock is made from: a `debs` spec's sources and packages, the image's architectures and bases. */
struct dk_deb_lock_input {
	const struct dk_deb_source *srcs;       /* in the spec's order; keyrings as the spec writes them */
	size_t n_srcs;
	const char *const *keyrings;            /* n_srcs paths for gpgv (resolved against the spec's
						 * directory; an entry may be NULL), or NULL: srcs[i].keyring */
	const char *const *packages;            /* requests: "name", "name:arch", "name=version"... */
	size_t n_packages;
	const char *const *archs;               /* Debian names: {"amd64", "arm64"} */
	size_t n_archs;
	const char *const *base_status;         /* per arch: the base's dpkg status text (not necessarily
						 * NUL-terminated), or NULL: a base without dpkg; or NULL for all */
	const size_t *base_status_len;
};

/*
 * Make a lock: fetch every source's indexes for all archs
 * (dk_deb_repo_fetch, verified), resolve the packages for each arch
 * (dk_debresolve, the base's installed packages excluded), and fill *out:
 * the sources as given, the architectures and packages sorted (the lock
 * does not depend on their order), one entry per package and
 * architecture: url = the base_url of the repository its stanza came from
 * + its Filename, sha256 = SHA256, size = Size, why = "requested" or the
 * chain ("jq -> libjq1 -> libonig5").  An Architecture: all package that
 * several archs need is one entry; when they need different versions of
 * it, that is an error naming both.  When two sources have the same
 * version of a package, the first source's is taken.
 * 0, or -1 with *out empty and one line: the fetch's error (naming the
 * URL), the resolver's (DK_E_NOTFOUND, DK_E_SPEC naming the chain),
 * prefixed "for ARCH: " when there are several archs; DK_E_CORRUPT for a
 * stanza without Filename, SHA256 or Size, or whose Filename is not a
 * relative path inside the repository (naming the package and the
 * index); DK_E_USAGE for no source, no architecture, or one that is not
 * a Debian name or given twice.
 */
int dk_deb_lock_make(const struct dk_deb_lock_input *in, const struct dk_deb_repo_opts *o, struct dk_deb_lock *out,
		     struct dk_err *err);

#endif
