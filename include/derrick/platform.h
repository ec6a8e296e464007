/*
 * platform.h - the platform an image is for, in the OCI image index's terms
 * (os, architecture, variant; Go's GOOS/GOARCH names, as the image spec
 * requires).
 */
#ifndef DERRICK_PLATFORM_H
#define DERRICK_PLATFORM_H

#include <stddef.h>

#include "derrick/err.h"

struct dk_platform {
	char os[32];
	char arch[32];
	char variant[32];   /* "" when none */
};

/*
 * "linux/arm64/v8" -> *p: 0, or -1 with DK_E_REF and a message for anything
 * but linux and an architecture Go names (amd64, arm64, arm, ...).
 */
int dk_platform_parse(const char *s, struct dk_platform *p, struct dk_err *err);
/* The machine we run on, in Go's names (x86_64 -> amd64). */
void dk_platform_host(struct dk_platform *p);
/* "linux/amd64" or "linux/arm/v7" into buf (size bytes, always terminated). */
void dk_platform_format(const struct dk_platform *p, char *buf, size_t size);

/* What dk_platform_match gives for the same platform (after normalising). */
#define DK_PLATFORM_EXACT 1000

/*
 * How well an image for `have` (an index entry's or a config's platform)
 * suits a request for `want`: 0 when it does not, else a rank, higher is
 * better, DK_PLATFORM_EXACT for the same platform.  Both are normalised
 * first, as containerd and containers/image do: case is ignored, aliases
 * (x86_64, aarch64, armhf...) are Go's names, an arm64 image without a
 * variant is v8, an arm one v7, an amd64 one v1.  Where variants are levels
 * (amd64 v1..v4, arm v5..v8, arm64 v8.x and v9.x), a lower level matches
 * too, ranked by level: amd64/v3 takes v3, then v2, then v1 (or none);
 * amd64/v2 never takes v3.  Other variants match only themselves.
 */
int dk_platform_match(const struct dk_platform *want, const struct dk_platform *have);

#endif
