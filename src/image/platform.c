/*
 * platform.c - parse, detect and format image platforms.  See platform.h.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "derrick/platform.h"

static int known_arch(const char *a)
{
	static const char *const arches[] = {
		"amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips64le", "loong64", NULL
	};

	for (const char *const *p = arches; *p; p++)
		if (!strcmp(a, *p))
			return 1;
	return 0;
}

int dk_platform_parse(const char *s, struct dk_platform *p, struct dk_err *err)
{
	char buf[128];
	char *os, *arch, *variant, *extra;

	memset(p, 0, sizeof(*p));
	if (strlen(s) >= sizeof(buf))
		return dk_fail(err, DK_E_REF, "platform \"%s\": too long", s);
	strcpy(buf, s);
	os = buf;
	arch = strchr(os, '/');
	if (!arch)
		return dk_fail(err, DK_E_REF, "platform \"%s\": expected OS/ARCH[/VARIANT], e.g. linux/amd64", s);
	*arch++ = '\0';
	variant = strchr(arch, '/');
	if (variant) {
		*variant++ = '\0';
		extra = strchr(variant, '/');
		if (extra || !*variant)
			return dk_fail(err, DK_E_REF, "platform \"%s\": expected OS/ARCH[/VARIANT]", s);
	}
	if (strcmp(os, "linux") != 0)
		return dk_fail(err, DK_E_REF, "platform \"%s\": unsupported OS \"%s\" (derrick builds linux images)", s, os);
	if (!known_arch(arch))
		return dk_fail(err, DK_E_REF,
			       "platform \"%s\": unknown architecture \"%s\" (use Go's names: amd64, arm64, arm, 386, ppc64le, s390x, riscv64)",
			       s, arch);
	if (variant && strlen(variant) >= sizeof(p->variant))
		return dk_fail(err, DK_E_REF, "platform \"%s\": variant too long", s);
	/* lengths are checked above: os and arch are from short fixed lists */
	snprintf(p->os, sizeof(p->os), "%.31s", os);
	snprintf(p->arch, sizeof(p->arch), "%.31s", arch);
	snprintf(p->variant, sizeof(p->variant), "%.31s", variant ? variant : "");
	return 0;
}

void dk_platform_host(struct dk_platform *p)
{
	static const struct { const char *uname, *arch, *variant; } map[] = {
		{ "x86_64", "amd64", "" }, { "aarch64", "arm64", "" }, { "armv7l", "arm", "v7" },
		{ "armv6l", "arm", "v6" }, { "i686", "386", "" }, { "i386", "386", "" },
		{ "ppc64le", "ppc64le", "" }, { "s390x", "s390x", "" }, { "riscv64", "riscv64", "" },
	};
	struct utsname u;

	memset(p, 0, sizeof(*p));
	strcpy(p->os, "linux");
	strcpy(p->arch, "amd64");
	if (uname(&u) < 0)
		return;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(u.machine, map[i].uname)) {
			snprintf(p->arch, sizeof(p->arch), "%s", map[i].arch);
			snprintf(p->variant, sizeof(p->variant), "%s", map[i].variant);
		}
}

void dk_platform_format(const struct dk_platform *p, char *buf, size_t size)
{
	if (p->variant[0])
		snprintf(buf, size, "%s/%s/%s", p->os, p->arch, p->variant);
	else
		snprintf(buf, size, "%s/%s", p->os, p->arch);
}
