/*
 * ref.c - image references and platforms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "derrick/ref.h"
#include "derrick/transport.h"
#include "derrick/util.h"

int dk_tag_valid(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = t[i];
		int word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '_';

		if (!word && (i == 0 || (ch != '.' && ch != '-')))
			return 0;
	}
	return 1;
}

int dk_ref_parse(const char *s, struct dk_ref *r, struct dk_err *err)
{
	const struct dk_transport *t;
	const char *rest;

	memset(r, 0, sizeof(*r));
	if (dk_transport_find(s, &t, &rest, err) < 0)
		return -1;
	if (t->parse(s, rest, r, err) < 0) {
		dk_ref_free(r);
		return -1;
	}
	r->transport = t;
	r->text = dk_xstrdup(s);
	return 0;
}

void dk_ref_free(struct dk_ref *r)
{
	free(r->path);
	free(r->tag);
	free(r->text);
	if (r->docker.repository)
		dk_dockerref_free(&r->docker);
	memset(r, 0, sizeof(*r));
}

void dk_ref_copy(struct dk_ref *dst, const struct dk_ref *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->transport = src->transport;
	dst->path = src->path ? dk_xstrdup(src->path) : NULL;
	dst->tag = src->tag ? dk_xstrdup(src->tag) : NULL;
	dst->text = dk_xstrdup(src->text);
	if (src->docker.repository)
		dk_dockerref_copy(&dst->docker, &src->docker);
}

int dk_ref_is_remote(const struct dk_ref *r)
{
	return (r->transport->caps & DK_TRANSPORT_REMOTE) != 0;
}

const char *dk_ref_local_path(const struct dk_ref *r)
{
	return dk_ref_is_remote(r) ? NULL : r->path;
}

char *dk_ref_with_path(const struct dk_ref *r, const char *path)
{
	return r->transport->format(r, path, NULL);
}

char *dk_ref_with_tag(const struct dk_ref *r, const char *tag)
{
	return r->transport->format(r, NULL, tag);
}

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
