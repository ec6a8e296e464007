/*
 * platform.c - parse, detect, format and match image platforms.  See
 * platform.h.
 *
 * Matching follows containerd's platforms.Only (and what containers/image
 * does for arm): both sides are normalised first, so that the spellings
 * real indexes use meet the ones users type, and an architecture whose
 * variants are levels of one instruction set (amd64 v1..v4, arm v5..v8,
 * arm64 v8.x/v9.x) takes an image built for its level or a lower one,
 * the highest first.  There is no fallback to another architecture (386
 * for amd64, arm for arm64): derrick labels what it builds with the
 * platform asked for, so the base must be that architecture.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "derrick/platform.h"

static int spell_variant(struct dk_platform *p);

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
	spell_variant(p);
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

/* ------------------------------------------------------------ matching */

/* "vN" or "N" with lo <= N <= hi: N, and "vN" in canon; else -1. */
static int level_between(const char *v, int lo, int hi, char *canon, size_t size)
{
	char *end;
	long n;

	if (*v == 'v')
		v++;
	if (!isdigit((unsigned char)*v))
		return -1;
	n = strtol(v, &end, 10);
	if (*end || n < lo || n > hi)
		return -1;
	snprintf(canon, size, "v%ld", n);
	return (int)n;
}

static int amd64_level(const char *v, char *canon, size_t size)
{
	return level_between(v, 1, 4, canon, size);
}

static int arm_level(const char *v, char *canon, size_t size)
{
	return level_between(v, 5, 8, canon, size);
}

/*
 * "v8", "8", "v8.0" are v8, level 0; Armv8.x is level x, and Armv9.x has
 * the features of Armv8.(x+5), which is how containerd orders them.
 */
static int arm64_level(const char *v, char *canon, size_t size)
{
	char major[8], minor_canon[8];
	const char *dot = strchr(v, '.');
	size_t n = dot ? (size_t)(dot - v) : strlen(v);
	int maj, minor = 0;

	if (n >= sizeof(major))
		return -1;
	memcpy(major, v, n);
	major[n] = '\0';
	if ((maj = level_between(major, 8, 9, canon, size)) < 0)
		return -1;
	if (dot && (dot[1] == 'v' || (minor = level_between(dot + 1, 0, 9, minor_canon, sizeof(minor_canon))) < 0))
		return -1;
	if (minor)
		snprintf(canon, size, "v%d.%d", maj, minor);
	return maj == 8 ? minor : 5 + minor;
}

/*
 * The architectures whose variants are levels: what an image without a
 * variant is built for, and the level of a variant (its canonical
 * spelling into canon), -1 for one not known.
 */
static const struct arch_rule {
	const char *arch;
	const char *bare;
	int (*level)(const char *variant, char *canon, size_t size);
} arch_rules[] = {
	{ "amd64", "v1", amd64_level },
	{ "arm", "v7", arm_level },
	{ "arm64", "v8", arm64_level },
};

/* Other names for an architecture that indexes and configs use (containerd's list). */
static const struct { const char *alias, *arch, *variant; } arch_aliases[] = {
	{ "x86_64", "amd64", NULL }, { "x86-64", "amd64", NULL }, { "aarch64", "arm64", NULL },
	{ "armhf", "arm", "v7" }, { "armel", "arm", "v6" }, { "i386", "386", NULL },
};

static const struct arch_rule *rule_for(const char *arch)
{
	for (size_t i = 0; i < sizeof(arch_rules) / sizeof(arch_rules[0]); i++)
		if (!strcmp(arch, arch_rules[i].arch))
			return &arch_rules[i];
	return NULL;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * A level's variant in its one spelling ("8" and "v8.0" are "v8", as docker
 * and BuildKit write it): its level, or -1 when the variant is no level.
 */
static int spell_variant(struct dk_platform *p)
{
	const struct arch_rule *r = rule_for(p->arch);
	char canon[sizeof(p->variant)];
	int level;

	if (!r || !p->variant[0] || (level = r->level(p->variant, canon, sizeof(canon))) < 0)
		return -1;
	memcpy(p->variant, canon, sizeof(canon));
	return level;
}

/* The canonical form of p, and its level (-1 when its variant is not a level). */
static int normalise(struct dk_platform *p)
{
	const struct arch_rule *r;

	lower(p->os);
	lower(p->arch);
	lower(p->variant);
	for (size_t i = 0; i < sizeof(arch_aliases) / sizeof(arch_aliases[0]); i++)
		if (!strcmp(p->arch, arch_aliases[i].alias)) {
			snprintf(p->arch, sizeof(p->arch), "%s", arch_aliases[i].arch);
			if (arch_aliases[i].variant)
				snprintf(p->variant, sizeof(p->variant), "%s", arch_aliases[i].variant);
			break;
		}
	if ((r = rule_for(p->arch)) && !p->variant[0])
		snprintf(p->variant, sizeof(p->variant), "%s", r->bare);
	return spell_variant(p);
}

int dk_platform_match(const struct dk_platform *want, const struct dk_platform *have)
{
	struct dk_platform w = *want, h = *have;
	int wl = normalise(&w), hl = normalise(&h);

	if (strcmp(w.os, h.os) || strcmp(w.arch, h.arch))
		return 0;
	if (!strcmp(w.variant, h.variant))
		return DK_PLATFORM_EXACT;
	/* a lower level of the same instruction set runs; the closest is best */
	return wl >= 0 && hl >= 0 && hl <= wl ? 1 + hl : 0;
}
