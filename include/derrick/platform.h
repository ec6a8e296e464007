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

#endif
