/*
 * debresolve.h - which Debian packages to add to a base so that the
 * requested ones are installable, as `apt-get install --no-install-recommends`
 * would choose them in the simple cases (Debian Policy 7.2 "Binary
 * Dependencies", 7.4 "Conflicting binary packages", 7.5 "Virtual packages",
 * 3.8 "Essential packages"; the Multi-Arch spec's satisfaction rules as
 * dpkg's deparchsatisfied implements them).
 *
 * Only Depends and Pre-Depends are followed: Recommends and Suggests are
 * never installed (apt's --no-install-recommends).  Rules, in order, for
 * each clause of a chosen package (Pre-Depends first, then Depends, in
 * field order, depth first):
 *  - a clause already satisfied by the base's installed packages or by a
 *    package already chosen (through any alternative, real or provided) is
 *    done;
 *  - else the first alternative with an installable candidate wins: the
 *    candidate of a name is its highest version in the indexes (apt's
 *    candidate with default pins; never a lower one, as apt); a real package
 *    whose candidate satisfies the version is taken, else the candidates
 *    that Provide the name (with a satisfying provided version when the
 *    clause has one, Policy 7.5);
 *  - among several providers: required, important, standard, optional,
 *    extra Priority in that order (apt's CompareProviders also looks at
 *    priorities), then the target architecture, then name.  apt finally
 *    orders by its cache's package id (an artefact of parse order):
 *    derrick uses the name, so the choice does not depend on input order.
 * A requested package the base already has at its candidate version (or
 * newer) adds nothing; an older one is upgraded, as apt does.  Conflicts
 * and Breaks between the result and the base (or within the result) are
 * errors: apt's problem resolver would remove or swap packages, derrick
 * does not.  Installed packages count only with "Status: install ok
 * installed" (or "hold ok installed"); the base's Essential packages are
 * installed ones, so they satisfy clauses like any other.
 */
#ifndef DERRICK_DEBRESOLVE_H
#define DERRICK_DEBRESOLVE_H

#include <stddef.h>

#include "derrick/err.h"

/* A set of package stanzas: the union of Packages indexes, or an installed set. */
struct dk_debidx;

/* The kinds of input to dk_debidx_add_*. */
enum dk_debidx_kind {
	DK_DEBIDX_PACKAGES,   /* a Packages index: every stanza is an available package */
	DK_DEBIDX_STATUS,     /* a dpkg status file: only installed stanzas are kept */
};

/* An empty set (never NULL); free with dk_debidx_free. */
struct dk_debidx *dk_debidx_new(void);
void dk_debidx_free(struct dk_debidx *ix);

/*
 * Add the stanzas of the file at PATH (uncompressed), read in blocks.
 * Each kept stanza is copied (the set owns it); a stanza must have
 * Package (a Policy 5.6.1 name), Version (valid, debversion.h) and
 * Architecture (a status stanza: Package, Version and Status; a missing
 * Architecture counts as "all" there), and its Provides must parse.  0, or -1 with DK_E_IO (cannot read), DK_E_CORRUPT
 * ("PATH:LINE: ..." syntax, or a missing field) or DK_E_SPEC
 * ("PATH:LINE: PACKAGE: Provides: ...").  The set is unchanged on error.
 */
int dk_debidx_add_file(struct dk_debidx *ix, const char *path, enum dk_debidx_kind kind, struct dk_err *err);

/* The same from LEN bytes at BUF (copied what is kept); NAME is used in messages. */
int dk_debidx_add_mem(struct dk_debidx *ix, const char *buf, size_t len, const char *name,
		      enum dk_debidx_kind kind, struct dk_err *err);

/*
 * Tag the stanzas added from now on with ORIGIN (0 until this is called):
 * dk_debresolved.origin gives it back, so that a caller that puts several
 * repositories' indexes into one set knows which one a package came from
 * (its Filename is relative to that repository's root).  When two
 * repositories have the same version of a package, the lower origin's is
 * the candidate (apt takes the first source's).
 */
void dk_debidx_set_origin(struct dk_debidx *ix, size_t origin);

/* How many stanzas the set holds. */
size_t dk_debidx_count(const struct dk_debidx *ix);

/* One package to add.  Strings are owned by the dk_debresolution. */
struct dk_debresolved {
	const char *name, *version, *arch;      /* arch as in the index: "amd64", "all"... */
	const char *stanza;                     /* the index stanza, byte for byte */
	size_t stanza_len;
	const char *why;                        /* "jq <- libjq1 <- libonig5"; "jq" when requested */
	const char *replaces;                   /* the base's older version it upgrades, or NULL */
	int essential, pre_depended;            /* Essential: yes; needed through a Pre-Depends */
	size_t origin;                          /* the dk_debidx_set_origin tag of its stanza */
};

/* The result: sorted by name, then architecture.  Free with dk_debresolution_free. */
struct dk_debresolution {
	struct dk_debresolved *pkgs;
	size_t n;
};

/*
 * Resolve.  INDEX: the available packages; BASE: the installed ones (may
 * be NULL: an empty base); ARCH: the target (Debian name: amd64, arm64,
 * armhf, i386, ppc64el, s390x, riscv64; "all" packages count as ARCH);
 * REQUESTS: NREQ strings "name", "name:arch", "name=version" or
 * "name:arch=version".  The answer does not depend on the order of the
 * requests or of the stanzas in the inputs.
 * 0 and *out filled, or -1 with *out zeroed and
 *  DK_E_USAGE  a malformed request or architecture name;
 *  DK_E_NOTFOUND 'no package "NAME" for ARCH in the index' /
 *              '"jq" has no version 9; the index has 1.6-2.1';
 *  DK_E_SPEC   an unsatisfiable clause, naming the chain:
 *              'jq -> libjq1 (>= 1.6): no version satisfies; the index has 1.5',
 *              a malformed Depends/Pre-Depends/Conflicts/Breaks ('PACKAGE: Depends: ...'),
 *              or a conflict ('libfoo1 (1.0) conflicts with bar (2.0) of the base').
 */
int dk_debresolve(struct dk_debidx *index, struct dk_debidx *base, const char *arch,
		  const char *const *requests, size_t nreq, struct dk_debresolution *out, struct dk_err *err);

/* Free what dk_debresolve filled and zero *res (a zeroed *res may be freed). */
void dk_debresolution_free(struct dk_debresolution *res);

#endif
