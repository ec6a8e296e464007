/*
 * debarch.h - the Debian architecture of an image platform: which binary
 * packages (binary-ARCH indexes, Architecture: fields) suit it.
 */
#ifndef DERRICK_DEBARCH_H
#define DERRICK_DEBARCH_H

#include "derrick/platform.h"

/*
 * The Debian architecture name for P (a static string), or NULL when
 * Debian has no port for it.  linux/amd64 amd64, linux/arm64 arm64,
 * linux/arm/v7 (and v8, and arm without a variant, which is v7) armhf,
 * linux/arm/v5 and v6 armel, linux/386 i386, linux/ppc64le ppc64el,
 * linux/s390x s390x, linux/riscv64 riscv64, linux/mips64le mips64el,
 * linux/loong64 loong64.  P is compared as dk_platform_match compares
 * platforms: aliases (x86_64, aarch64...) and case are accepted, and a
 * variant that is a level of its instruction set (amd64/v3, arm64/v8.2)
 * gets the port built for a lower level; another variant gets NULL.
 */
const char *dk_deb_arch(const struct dk_platform *p);

#endif
