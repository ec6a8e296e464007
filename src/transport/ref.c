/*
 * ref.c - image references: parsed and asked about through the transport
 * table (transport.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
