/*
 * debrepo.h - the package indexes of a Debian repository, verified as apt
 * verifies them.
 *
 * dists/SUITE/InRelease is fetched and checked with gpgv against the
 * keyring the source names (Release + Release.gpg when there is no
 * InRelease); only the text gpgv verified is read.  Release gives the
 * SHA256 and size of every index: each COMPONENT/binary-ARCH/Packages
 * (.xz preferred, then .gz, then plain, as Release lists them) is checked
 * against it before use, decompressed with libarchive, and checked again
 * against the plain file's entry when Release has one.
 *
 * Downloads go through fetch.h (the registry flags' TLS options and retry
 * policy, ~/.netrc, credentials never in messages); plain http is allowed,
 * since every byte is checked against the signature instead.
 *
 * Trust follows apt: a source without a valid signature is refused unless
 * it is marked trusted; a verified Release whose Valid-Until has passed is
 * refused (an unverified one's Valid-Until means nothing, so a trusted
 * unsigned source is not held to it).
 */
#ifndef DERRICK_DEBREPO_H
#define DERRICK_DEBREPO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "derrick/blobs.h"
#include "derrick/err.h"
#include "derrick/http.h"
struct dk_reg_opts; 

/* One "deb" line: URL SUITE COMPONENT... with its keyring. */
struct dk_deb_source {
	const char *url;                /* the mirror root (".../debian"), with or without a final '/' */
	const char *suite;              /* "bookworm" */
	const char *const *components;  /* "main"... */
	size_t n_components;
	const char *keyring;            /* a keyring file gpgv reads (binary or armored); NULL only when trusted */
	int trusted;                    /* accept a Release without a valid signature */
};

/* One index file Release lists: "SHA256 SIZE PATH" (path relative to dists/SUITE/). */
struct dk_deb_release_file {
	char *path;
	char sha256[65];                /* lower-case hex */
	uint64_t size;
};

/* The fields of a Release file that derrick uses. */
struct dk_deb_release {
	char *suite, *codename;         /* NULL when absent */
	time_t date, valid_until;       /* Unix seconds; 0 when absent */
	char **archs;                   /* Architectures, in order */
	size_t n_archs;
	char **components;              /* Components, in order */
	size_t n_components;
	struct dk_deb_release_file *files;  /* the SHA256 list, in order */
	size_t n_files;
};

/*
 * Parse a Release file's text (len bytes, not necessarily NUL-terminated):
 * one deb822 stanza, field names case-insensitive, a field given twice, a
 * malformed SHA256 line or date, or a second stanza is an error naming
 * `where` and the line.  Fields not listed above are skipped.  On success
 * *r is filled (free with dk_deb_release_free); on failure *r is empty.
 */
int dk_deb_release_parse(const char *text, size_t len, const char *where, struct dk_deb_release *r,
			 struct dk_err *err);
void dk_deb_release_free(struct dk_deb_release *r);
/*
 * Whether the Release has component c: listed in Components as it is, or
 * as the last element of a path there (Debian's security archive lists
 * "updates/main" and serves main/binary-ARCH/: apt takes "main" for it).
 * A Release without Components has every component.
 */
int dk_deb_release_has_component(const struct dk_deb_release *r, const char *c);
/* The SHA256 entry for path ("main/binary-amd64/Packages.xz"), or NULL. */
const struct dk_deb_release_file *dk_deb_release_find(const struct dk_deb_release *r, const char *path);
/* A Release date ("Sat, 01 Jan 2000 00:00:00 UTC"; zone UTC, GMT, Z or +0000) into *t. 0 or -1. */
int dk_deb_release_date(const char *s, time_t *t);

/* One verified Packages index. */
struct dk_deb_index {
	char *component, *arch;
	char *url;                      /* the file fetched (.xz, .gz or plain) */
	char sha256[65];                /* of the file fetched, as Release gives it */
	char *data;                     /* the Packages text, decompressed, NUL-terminated */
	size_t len;
};

struct dk_deb_repo {
	/* base_url and release_url keep a user:password the source URL holds: redact them (dk_http_redact) in messages */
	char *base_url;                 /* the mirror root with a final '/': a stanza's Filename is relative to it */
	char *release_url;              /* the InRelease (or Release) read */
	char *signer;                   /* the fingerprint gpgv's VALIDSIG gave, NULL when unverified (trusted) */
	struct dk_deb_release release;
	struct dk_deb_index *indexes;   /* per component, then per architecture, in the order asked */
	size_t n_indexes;
};

struct dk_reg_opts;

struct dk_deb_repo_opts {
	const struct dk_reg_opts *reg;  /* TLS and retries, as for registries (fetch.h); NULL: verify TLS, default retries */
	const struct dk_blobs *cache;   /* compressed indexes kept by sha256; NULL: none */
	time_t now;                     /* for Valid-Until; 0: time(NULL) */
	const char *gpgv;               /* the gpgv program; NULL: "gpgv" from PATH */
};

/*
 * Fetch, verify and decompress the Packages index of every component of
 * src for every architecture of archs (Debian names: amd64, arm64...).
 * Errors are one line naming the URL: HTTP status, gpgv's reason ("no
 * valid signature ... by KEYRING: gpgv: Can't check signature: No public
 * key [NO_PUBKEY ...]"), an architecture or component the Release does not
 * have, a SHA256 or size that does not match Release (naming the index),
 * Valid-Until passed.  *out is filled on success (free with
 * dk_deb_repo_free) and empty on failure.
 */
int dk_deb_repo_fetch(const struct dk_deb_source *src, const char *const *archs, size_t n_archs,
		      const struct dk_deb_repo_opts *o, struct dk_deb_repo *out, struct dk_err *err);
void dk_deb_repo_free(struct dk_deb_repo *r);

#endif
