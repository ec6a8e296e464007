/*
 * arch.c - OCI platforms to Debian architectures.  See debarch.h.
 *
 * Each port is listed with the platform its packages are built for (the
 * lowest level of the instruction set it assumes: armhf needs ARMv7,
 * armel ARMv5); dk_platform_match then gives the best port that runs on
 * the platform asked for, with the aliases and variant levels it knows.
 */
#include <stddef.h>

#include "derrick/debarch.h"

static const struct {
	struct dk_platform built_for;
	const char *debian;
} ports[] = {
	{ { "linux", "amd64", "" }, "amd64" },
	{ { "linux", "arm64", "" }, "arm64" },
	{ { "linux", "arm", "v7" }, "armhf" },
	{ { "linux", "arm", "v5" }, "armel" },
	{ { "linux", "386", "" }, "i386" },
	{ { "linux", "ppc64le", "" }, "ppc64el" },
	{ { "linux", "s390x", "" }, "s390x" },
	{ { "linux", "riscv64", "" }, "riscv64" },
	{ { "linux", "mips64le", "" }, "mips64el" },
	{ { "linux", "loong64", "" }, "loong64" },
};

const char *dk_deb_arch(const struct dk_platform *p)
{
	const char *best = NULL;
	int rank = 0;

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		int r = dk_platform_match(p, &ports[i].built_for);

		if (r > rank) {
			rank = r;
			best = ports[i].debian;
		}
	}
	return best;
}
