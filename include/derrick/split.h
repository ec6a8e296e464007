/*
 * split.h - which layer each installed wheel goes into ("split": "auto").
 *
 * The point is download size: a version bump should re-upload the bumped
 * package's layer and little else.  So a package's layer depends on the
 * package itself (its name, its size class, whether it is pure), never on
 * which other packages there are, except where the layer count bound
 * forces it.  The rule, precisely (README, "wheels layers"):
 *
 *  - large packages (compressed wheel size >= DK_SPLIT_LARGE) get a layer
 *    each, at most L = max_layers - 2K of them: the largest (ties: by
 *    name); the other large ones are treated as small;
 *  - a small package goes to bucket (first 8 bytes of sha256(name) as a
 *    big-endian number) mod K of its purity, K = max(1, max_layers / 8),
 *    so pure and platform packages never share a layer;
 *  - empty buckets are dropped; groups come as: the large packages' layers
 *    by name, then the platform buckets, then the pure ones, by index;
 *    packages inside a group by name.
 *
 * Pure function: no I/O, no clock, the same answer on every machine.
 */
#ifndef DERRICK_SPLIT_H
#define DERRICK_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/err.h"

/* Compressed wheel bytes from which a package is large: 4 MiB. */
#define DK_SPLIT_LARGE ((uint64_t)4 << 20)
/* The layer count bound when the spec gives none. */
#define DK_SPLIT_MAX_LAYERS 16

struct dk_split_pkg {
	const char *name;   /* PEP 503-normalised name ("zope-interface"), unique */
	const char *label;  /* what the history says for it ("numpy 1.26.4"), or NULL for name */
	uint64_t size;      /* the wheel's compressed size in bytes */
	int pure;           /* 1 when its platform tag is "any" */
};

/* One layer: indices into the caller's package array, in name order. */
struct dk_split_group {
	size_t *pkgs;
	size_t n;
	int pure;           /* 1 when all its packages are pure (never mixed) */
	int alone;          /* 1 for a large package's own layer, 0 for a bucket */
	char *names;        /* "attrs, idna, six": the labels, in order, for the history */
};

struct dk_split {
	struct dk_split_group *v;
	size_t n;
};

/*
 * Split packages pkgs[0..n) into at most max_layers groups (0 means
 * DK_SPLIT_MAX_LAYERS) by the rule above, or into one group when `one` is
 * set ("split": "none"; also no group for no packages).  out is filled
 * (free with dk_split_free).  -1 with err set (DK_E_SPEC for max_layers
 * below 2, DK_E_INTERNAL for an empty or repeated name); 0 otherwise.
 */
int dk_split_packages(const struct dk_split_pkg *pkgs, size_t n, unsigned max_layers, int one,
		      struct dk_split *out, struct dk_err *err);
void dk_split_free(struct dk_split *s);

#endif
