/*
 * tags.c - the target (CPython version, architecture, C library) and its
 * ordered compatible tags, built the way python3-packaging 23.0's
 * tags.sys_tags() builds them on such a machine: cpython_tags() then
 * compatible_tags(), over the platforms of _linux_platforms()
 * (_manylinux.platform_tags, _musllinux.platform_tags, linux_ARCH).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/pytags.h"
#include "derrick/util.h"
#include "pyshow.h"

/*
 * Image architectures (Go's names) and what a CPython there reports as
 * platform.machine().  manylinux: whether packaging 23.0's
 * _have_compatible_abi() lets manylinux tags through on that machine (an
 * armhf or 32-bit x86 CPython passes its ELF checks; riscv64 is not in its
 * list); floor: the oldest glibc minor it tags (2.5 on x86, else 2.17).
 */
static const struct arch {
	const char *goarch;
	const char *variants;   /* accepted variants, '|'-separated; "" = none given */
	const char *machine;
	int manylinux;
	int floor;
} arches[] = {
	{ "amd64", "|v1|v2|v3|v4", "x86_64", 1, 5 },
	{ "386", "", "i686", 1, 5 },
	{ "arm64", "|v8|v8.0|v8.1|v8.2|v8.3|v8.4|v8.5|v8.6|v8.7|v8.8|v8.9|v9|v9.0|v9.1|v9.2|v9.3|v9.4|v9.5", "aarch64", 1, 17 },
	{ "arm", "|v7", "armv7l", 1, 17 },
	{ "ppc64le", "", "ppc64le", 1, 17 },
	{ "s390x", "", "s390x", 1, 17 },
	{ "riscv64", "", "riscv64", 0, 0 },
};

static const struct libc_kind {
	const char *name;
	enum dk_libc_kind kind;
} libcs[] = {
	{ "glibc", DK_LIBC_GLIBC },
	{ "musl", DK_LIBC_MUSL },
};

/* Whether variant is one of the '|'-separated list. */
static int variant_ok(const char *list, const char *variant)
{
	size_t n = strlen(variant);

	for (const char *p = list;; p++) {
		const char *bar = strchr(p, '|'), *end = bar ? bar : p + strlen(p);

		if ((size_t)(end - p) == n && !strncmp(p, variant, n))
			return 1;
		if (!bar)
			return 0;
		p = bar;
	}
}

static const struct arch *find_arch(const char *machine)
{
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (!strcmp(arches[i].machine, machine))
			return &arches[i];
	return NULL;
}

/* "A.B" or "A.B.C" (each 0..999, no sign, no blank) into v[]; the count, or 0. */
static int parse_dotted(const char *s, int v[3])
{
	int n = 0;

	for (;;) {
		int x = 0, d = 0;

		while (s[d] >= '0' && s[d] <= '9' && d < 4)
			x = x * 10 + (s[d++] - '0');
		if (!d || d > 3 || n == 3)
			return 0;
		v[n++] = x;
		s += d;
		if (!*s)
			return n >= 2 ? n : 0;
		if (*s++ != '.')
			return 0;
	}
}

/* 'KEY "VALUE": WHY', the value shown on one line. */
static int bad_value(struct dk_err *err, const char *key, const char *value, const char *why)
{
	char *shown = dk_py_shown(value);

	dk_fail(err, DK_E_SPEC, "%s \"%s\": %s", key, shown, why);
	free(shown);
	return -1;
}

int dk_pytarget_init(struct dk_pytarget *t, const char *python, const char *libc,
		     const struct dk_platform *plat, struct dk_err *err)
{
	const struct arch *a = NULL;
	const char *sp;
	int v[3] = { 0, 0, -1 }, n;
	size_t i;

	memset(t, 0, sizeof(*t));
	n = parse_dotted(python, v);
	if (!n)
		return bad_value(err, "python", python, "expected \"X.Y\" or \"X.Y.Z\" (CPython, e.g. \"3.12\")");
	if (v[0] != 3 || v[1] < 3)
		return bad_value(err, "python", python, "derrick installs wheels for CPython 3.3 or newer");
	t->py_major = v[0], t->py_minor = v[1], t->py_micro = n == 3 ? v[2] : -1;

	sp = strchr(libc, ' ');
	for (i = 0; sp && i < sizeof(libcs) / sizeof(libcs[0]); i++)
		if ((size_t)(sp - libc) == strlen(libcs[i].name) && !strncmp(libc, libcs[i].name, (size_t)(sp - libc)))
			break;
	v[2] = -1;
	if (!sp || i == sizeof(libcs) / sizeof(libcs[0]) || !parse_dotted(sp + 1, v))
		return bad_value(err, "libc", libc, "expected \"glibc X.Y\" or \"musl X.Y\"");
	t->libc = libcs[i].kind;
	if (t->libc == DK_LIBC_GLIBC && v[0] < 2)
		return bad_value(err, "libc", libc, "glibc versions start at 2");
	t->libc_major = v[0], t->libc_minor = v[1];

	if (strcmp(plat->os, "linux") != 0)
		return dk_fail(err, DK_E_SPEC, "platform %s/%s: Python wheels are installed for linux only", plat->os, plat->arch);
	for (i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (!strcmp(plat->arch, arches[i].goarch) && variant_ok(arches[i].variants, plat->variant))
			a = &arches[i];
	if (!a) {
		char buf[128];

		dk_platform_format(plat, buf, sizeof(buf));
		return dk_fail(err, DK_E_SPEC,
			       "platform %s: no Python wheel platform for this architecture "
			       "(supported: linux/amd64, linux/arm64, linux/arm/v7, linux/386, linux/ppc64le, linux/s390x, linux/riscv64)",
			       buf);
	}
	snprintf(t->machine, sizeof(t->machine), "%s", a->machine);
	return 0;
}

void dk_pytarget_describe(const struct dk_pytarget *t, char *buf, size_t size)
{
	char micro[16] = "";
	const char *libc = "?";

	for (size_t i = 0; i < sizeof(libcs) / sizeof(libcs[0]); i++)
		if (libcs[i].kind == t->libc)
			libc = libcs[i].name;
	if (t->py_micro >= 0)
		snprintf(micro, sizeof(micro), ".%d", t->py_micro);
	snprintf(buf, size, "CPython %d.%d%s %s %s %d.%d", t->py_major, t->py_minor, micro, t->machine, libc,
		 t->libc_major, t->libc_minor);
}

/* ---- the list ---- */

struct list {
	char **v;
	size_t n, cap;
};

static void add(struct list *l, char *s)
{
	if (l->n == l->cap)
		l->v = dk_xrealloc(l->v, (l->cap = l->cap ? l->cap * 2 : 64) * sizeof(char *));
	l->v[l->n++] = s;
}

/* packaging's _LAST_GLIBC_MINOR: the guess for a glibc major that is over */
#define LAST_GLIBC_MINOR 50

static void platforms(const struct dk_pytarget *t, struct list *out)
{
	const struct arch *a = find_arch(t->machine);
	static const struct { int minor; const char *name; } legacy[] = {
		{ 17, "manylinux2014" }, { 12, "manylinux2010" }, { 5, "manylinux1" },
	};

	if (t->libc == DK_LIBC_GLIBC && a && a->manylinux) {
		for (int major = t->libc_major; major >= 2; major--) {
			int top = major == t->libc_major ? t->libc_minor : LAST_GLIBC_MINOR;
			int bottom = major == 2 ? a->floor : 0;

			for (int minor = top; minor >= bottom; minor--) {
				add(out, dk_xasprintf("manylinux_%d_%d_%s", major, minor, t->machine));
				for (size_t i = 0; major == 2 && i < sizeof(legacy) / sizeof(legacy[0]); i++)
					if (legacy[i].minor == minor)
						add(out, dk_xasprintf("%s_%s", legacy[i].name, t->machine));
			}
		}
	}
	if (t->libc == DK_LIBC_MUSL)
		for (int minor = t->libc_minor; minor >= 0; minor--)
			add(out, dk_xasprintf("musllinux_%d_%d_%s", t->libc_major, minor, t->machine));
	add(out, dk_xasprintf("linux_%s", t->machine));
}

static uint64_t hash_bytes(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c += 32;
		h = (h ^ c) * 0x100000001b3ULL;
	}
	return h;
}

static uint64_t hash_triple(const char *i, const char *a, const char *p)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = hash_bytes(h, i, strlen(i));
	h = hash_bytes(h, "-", 1);
	h = hash_bytes(h, a, strlen(a));
	h = hash_bytes(h, "-", 1);
	return hash_bytes(h, p, strlen(p));
}

/* Whether the part of *tag up to the next '-' (or the end) is s, case ignored; moves *tag on. */
static int eat_part(const char **tag, const char *s, int last)
{
	const char *t = *tag;

	for (; *s; s++, t++) {
		char c = *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s;

		if (*t != c)
			return 0;
	}
	if (last ? *t != 0 : *t != '-')
		return 0;
	*tag = t + 1;
	return 1;
}

static int triple_is(const char *tag, const char *i, const char *a, const char *p)
{
	return eat_part(&tag, i, 0) && eat_part(&tag, a, 0) && eat_part(&tag, p, 1);
}

static void index_tags(struct dk_pytags *tags)
{
	tags->nslots = 16;
	while (tags->nslots < tags->n * 2)
		tags->nslots *= 2;
	tags->slots = dk_xcalloc(tags->nslots, sizeof(size_t));
	for (size_t k = 0; k < tags->n; k++) {
		/* the tags are "i-a-p" with no '-' inside a part: hash them as triples */
		char *copy = dk_xstrdup(tags->tags[k]), *a = strchr(copy, '-'), *p;
		size_t s;

		*a++ = 0;
		p = strchr(a, '-');
		*p++ = 0;
		s = (size_t)hash_triple(copy, a, p) & (tags->nslots - 1);
		while (tags->slots[s])
			s = (s + 1) & (tags->nslots - 1);
		tags->slots[s] = k + 1;
		free(copy);
	}
}

void dk_pytags_build(const struct dk_pytarget *t, struct dk_pytags *tags)
{
	struct list plats = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	char interp[16], abi[16];
	int minor = t->py_minor;

	platforms(t, &plats);
	snprintf(interp, sizeof(interp), "cp%d%d", t->py_major, minor);
	/* _cpython_abis: pymalloc's "m" until 3.8 */
	snprintf(abi, sizeof(abi), "cp%d%d%s", t->py_major, minor, minor < 8 ? "m" : "");

	/* cpython_tags() */
	for (size_t k = 0; k < plats.n; k++)
		add(&out, dk_xasprintf("%s-%s-%s", interp, abi, plats.v[k]));
	for (size_t k = 0; k < plats.n; k++)
		add(&out, dk_xasprintf("%s-abi3-%s", interp, plats.v[k]));
	for (size_t k = 0; k < plats.n; k++)
		add(&out, dk_xasprintf("%s-none-%s", interp, plats.v[k]));
	for (int m = minor - 1; m > 1; m--)
		for (size_t k = 0; k < plats.n; k++)
			add(&out, dk_xasprintf("cp%d%d-abi3-%s", t->py_major, m, plats.v[k]));

	/* compatible_tags(): pyXY, pyX, pyX(Y-1) ... pyX0, first per platform, then "any" */
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			add(&out, dk_xasprintf("%s-none-any", interp));
		for (int m = minor; m >= -1; m--) {
			char py[16];
			int v = m == minor ? minor : m == minor - 1 ? -1 : m + 1;

			/* the order is X.Y, X, X.(Y-1) ... X.0 */
			if (v < 0)
				snprintf(py, sizeof(py), "py%d", t->py_major);
			else
				snprintf(py, sizeof(py), "py%d%d", t->py_major, v);
			if (pass)
				add(&out, dk_xasprintf("%s-none-any", py));
			else
				for (size_t k = 0; k < plats.n; k++)
					add(&out, dk_xasprintf("%s-none-%s", py, plats.v[k]));
		}
	}
	for (size_t k = 0; k < plats.n; k++)
		free(plats.v[k]);
	free(plats.v);
	tags->tags = out.v;
	tags->n = out.n;
	index_tags(tags);
}

void dk_pytags_free(struct dk_pytags *tags)
{
	for (size_t k = 0; k < tags->n; k++)
		free(tags->tags[k]);
	free(tags->tags);
	free(tags->slots);
	memset(tags, 0, sizeof(*tags));
}

long dk_pytags_rank(const struct dk_pytags *tags, const char *interp, const char *abi,
		    const char *platform)
{
	size_t s;

	if (!tags->nslots)
		return -1;
	s = (size_t)hash_triple(interp, abi, platform) & (tags->nslots - 1);
	for (; tags->slots[s]; s = (s + 1) & (tags->nslots - 1)) {
		size_t k = tags->slots[s] - 1;

		if (triple_is(tags->tags[k], interp, abi, platform))
			return (long)k;
	}
	return -1;
}

char *dk_pytags_best(const struct dk_pytags *tags, size_t n)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < n && i < tags->n; i++)
		sb_join(&sb, ", ", tags->tags[i]);
	return sb_detach(&sb);
}
