/*
 * test_debarch.c - OCI platforms to Debian architecture names: the ports
 * Debian has (dpkg-architecture -L, cputable), the platforms images name
 * (as dk_platform_parse gives them and as index entries spell them).
 */
#include <stdio.h>
#include <string.h>

#include "derrick/debarch.h"
#include "tap.h"

/* dk_deb_arch of a platform written "os/arch[/variant]", not parsed (index entries' spellings). */
static const char *arch_of(const char *s)
{
	struct dk_platform p;

	memset(&p, 0, sizeof(p));
	sscanf(s, "%31[^/]/%31[^/]/%31s", p.os, p.arch, p.variant);
	return dk_deb_arch(&p);
}

static void test_the_ports(void)
{
	static const char *const cases[][2] = {
		{ "linux/amd64", "amd64" },      { "linux/arm64", "arm64" },       { "linux/arm/v7", "armhf" },
		{ "linux/arm/v6", "armel" },     { "linux/arm/v5", "armel" },      { "linux/386", "i386" },
		{ "linux/ppc64le", "ppc64el" },  { "linux/s390x", "s390x" },       { "linux/riscv64", "riscv64" },
		{ "linux/mips64le", "mips64el" }, { "linux/loong64", "loong64" },
	};
	struct dk_platform p;
	struct dk_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(dk_platform_parse(cases[i][0], &p, &err) == 0);
		CHECK_STR(dk_deb_arch(&p), cases[i][1]);
	}
}

static void test_levels_and_spellings(void)
{
	/* a higher level runs the port built for a lower one; arm without a variant is v7 */
	CHECK_STR(arch_of("linux/amd64/v3"), "amd64");
	CHECK_STR(arch_of("linux/amd64/v1"), "amd64");
	CHECK_STR(arch_of("linux/arm64/v8"), "arm64");
	CHECK_STR(arch_of("linux/arm64/v8.2"), "arm64");
	CHECK_STR(arch_of("linux/arm"), "armhf");
	CHECK_STR(arch_of("linux/arm/v8"), "armhf");
	CHECK_STR(arch_of("linux/arm/7"), "armhf");
	/* the aliases configs carry, and case */
	CHECK_STR(arch_of("linux/x86_64"), "amd64");
	CHECK_STR(arch_of("linux/aarch64"), "arm64");
	CHECK_STR(arch_of("linux/armhf"), "armhf");
	CHECK_STR(arch_of("linux/armel"), "armel");
	CHECK_STR(arch_of("linux/i386"), "i386");
	CHECK_STR(arch_of("Linux/AMD64"), "amd64");
}

static void test_no_port(void)
{
	CHECK(arch_of("windows/amd64") == NULL);
	CHECK(arch_of("darwin/arm64") == NULL);
	CHECK(arch_of("linux/wasm") == NULL);
	CHECK(arch_of("linux/ppc64") == NULL);      /* big-endian: no Debian port */
	CHECK(arch_of("linux/mips64") == NULL);
	CHECK(arch_of("linux/arm/v4") == NULL);     /* below armel's baseline */
	CHECK(arch_of("linux/amd64/sse5") == NULL); /* a variant that is no level */
	CHECK(arch_of("linux/") == NULL);
}

int main(void)
{
	RUN(test_the_ports);
	RUN(test_levels_and_spellings);
	RUN(test_no_port);
	return tap_done();
}
