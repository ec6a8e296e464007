/*
 * ref.c - image references: tags, copies and freeing.  Parsing and the
 * questions that depend on the transport are wrappers in transport.c.
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
