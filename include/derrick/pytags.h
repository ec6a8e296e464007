/*
 * pytags.h - the Python target an image is built for, its ordered list of
 * compatible wheel tags, wheel file names and project names.
 *
 * Specifications: PyPA "Platform compatibility tags" (PEP 425, with PEP
 * 600's manylinux_X_Y and PEP 656's musllinux_X_Y), "Binary distribution
 * format" (PEP 427: the file name), "Names and normalization" (PEP 503).
 * The tag order is that of Debian's python3-packaging 23.0
 * packaging.tags.sys_tags() run by a CPython of the target (a test
 * compares the lists).
 */
#ifndef DERRICK_PYTAGS_H
#define DERRICK_PYTAGS_H

#include <stddef.h>

#include "derrick/err.h"
#include "derrick/platform.h"
#include "derrick/pyversion.h"

/* The C library kinds of a target. */
enum dk_libc_kind { DK_LIBC_GLIBC, DK_LIBC_MUSL };

/*
 * A target: CPython X.Y[.Z] on linux, one architecture and C library.
 * machine is platform.machine() there, from the image platform:
 * linux/amd64 x86_64, linux/arm64 aarch64, linux/arm/v7 (or linux/arm)
 * armv7l, linux/386 i686, linux/ppc64le ppc64le, linux/s390x s390x,
 * linux/riscv64 riscv64.
 */
struct dk_pytarget {
	int py_major, py_minor;
	int py_micro;             /* -1: unknown (the spec said "3.12") */
	char machine[16];
	enum dk_libc_kind libc;
	int libc_major, libc_minor;
};

/*
 * Build a target from the spec's strings: python "X.Y" or "X.Y.Z" (CPython
 * 3.3 or newer), libc "glibc X.Y" or "musl X.Y" (a third component, as in
 * "musl 1.2.3", is accepted and ignored: tags use X.Y), and the image
 * platform.  0 and *t, or -1 with DK_E_SPEC naming the key and value
 * ('python "3": expected "X.Y" or "X.Y.Z"', 'platform linux/mips64le: no
 * Python wheels are tagged for this architecture').
 */
int dk_pytarget_init(struct dk_pytarget *t, const char *python, const char *libc,
		     const struct dk_platform *plat, struct dk_err *err);

/* "CPython 3.12 x86_64 glibc 2.36" into buf (size bytes, always terminated). */
void dk_pytarget_describe(const struct dk_pytarget *t, char *buf, size_t size);

/*
 * The target's compatible tags, most preferred first, each
 * "interpreter-abi-platform" in lower case, with a hash index for ranking.
 * For glibc: manylinux_X_Y from the target's glibc down to 2_17 (2_5 on
 * x86_64 and i686), manylinux2014/2010/1 right after 2_17/2_12/2_5, then
 * linux_ARCH; packaging 23.0 knows no manylinux for riscv64, so that
 * target has linux_riscv64 only.  For musl: musllinux_X_Y down to X_0, then
 * linux_ARCH.  Then cpXY's ABIs, abi3 down to cp32, the pyXY/py3 "none"
 * tags, cpXY-none-any and pyXY-none-any as PEP 425 orders them.
 */
struct dk_pytags {
	char **tags;
	size_t n;
	/* open addressing: slot -> index + 1 into tags, 0 empty */
	size_t *slots;
	size_t nslots;
};

/* Fill *tags for t (free with dk_pytags_free).  Cannot fail for a valid target. */
void dk_pytags_build(const struct dk_pytarget *t, struct dk_pytags *tags);
/* Free the list and its index; *tags is left empty (ranks -1). */
void dk_pytags_free(struct dk_pytags *tags);

/*
 * The rank (0 = most preferred) of one tag triple in the list, case
 * ignored, or -1 when the target cannot use it.  One hash lookup.
 */
long dk_pytags_rank(const struct dk_pytags *tags, const char *interp, const char *abi,
		    const char *platform);

/*
 * The rank of a tag set written as in a wheel's name,
 * "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64": the best rank
 * of its expanded triples, -1 when none is compatible.  0 and *rank, or -1
 * with DK_E_SPEC when the text is not INTERPS-ABIS-PLATFORMS.
 */
int dk_pytags_rank_text(const struct dk_pytags *tags, const char *tagset, long *rank, struct dk_err *err);

/* The first n (or fewer) tags of the list, ", "-separated, for messages; a new string. */
char *dk_pytags_best(const struct dk_pytags *tags, size_t n);

/* A wheel file name, parsed (PEP 427). */
struct dk_wheelname {
	char *name;              /* normalised (PEP 503): "zope-interface" */
	char *dist;              /* as written: "zope.interface" */
	struct dk_pyver version;
	int has_build;
	char *build_num;         /* the build tag's leading digits, NULL without one */
	char *build_rest;        /* what follows them ("" when nothing) */
	/* the compressed tag set, each part split at '.', lower case */
	char **interps, **abis, **platforms;
	size_t ninterps, nabis, nplatforms;
};

/*
 * Parse "{dist}-{version}(-{build})?-{py}-{abi}-{plat}.whl" as
 * packaging.utils.parse_wheel_filename does: the name of letters, digits,
 * '_' and '.' (no "__"), a PEP 440 version, a build tag starting with a
 * digit.  Stricter than packaging: an empty name or an empty tag part is
 * refused, and so is a set of more than DK_WHEEL_MAX_TRIPLES triples.  0 and *w (free with dk_wheelname_free), or -1 with DK_E_SPEC:
 * 'wheel file name "X": reason'.
 */
#define DK_WHEEL_MAX_TRIPLES 4096
int dk_wheelname_parse(const char *filename, struct dk_wheelname *w, struct dk_err *err);
/* Free everything *w holds and zero it. */
void dk_wheelname_free(struct dk_wheelname *w);

/*
 * The best rank of any triple of w's expanded tag set (as
 * packaging.tags.parse_tag expands "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"),
 * or -1 when none is compatible.
 */
long dk_wheelname_rank(const struct dk_pytags *tags, const struct dk_wheelname *w);

/* Every triple of w's tag set, "i-a-p" joined by ", " (for error messages); a new string. */
char *dk_wheelname_tags(const struct dk_wheelname *w);

/*
 * PEP 503 name normalisation: runs of '-', '_', '.' become one '-', ASCII
 * letters lower case ("Zope.Interface" -> "zope-interface").  A new string.
 */
char *dk_pyname_normalize(const char *name);

#endif
