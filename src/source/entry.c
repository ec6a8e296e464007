/*
 * entry.c - the list of a layer's entries and its final ordering.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/entry.h"
#include "derrick/util.h"

void dk_entries_init(struct dk_entries *l)
{
	memset(l, 0, sizeof(*l));
	l->spool_fd = -1;
}

static void entry_release(struct dk_entry *e)
{
	free(e->path);
	free(e->link);
	free(e->src);
}

void dk_entries_release(struct dk_entries *l)
{
	for (size_t i = 0; i < l->n; i++)
		entry_release(&l->v[i]);
	free(l->v);
	if (l->spool_fd >= 0)
		close(l->spool_fd);
	dk_entries_init(l);
}

struct dk_entry *dk_entries_add(struct dk_entries *l)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 256;
		l->v = dk_xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

/*
 * Sort by path with strcmp (bytes, never the locale); among equal paths keep
 * insertion order, so the last one added can win.  qsort is not stable,
 * hence the index as a tie-breaker.
 */
struct order {
	const char *path;
	size_t idx;
};

static int cmp_order(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Group the names of one inode together, in path order. */
static int cmp_inode(const void *a, const void *b)
{
	const struct dk_entry *x = *(const struct dk_entry *const *)a;
	const struct dk_entry *y = *(const struct dk_entry *const *)b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return strcmp(x->path, y->path);
}

static void link_hardlinks(struct dk_entries *l)
{
	struct dk_entry **multi = dk_xmalloc((l->n + 1) * sizeof(*multi));
	size_t m = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].type == DK_ENT_FILE && l->v[i].nlink > 1 && l->v[i].src)
			multi[m++] = &l->v[i];
	qsort(multi, m, sizeof(*multi), cmp_inode);
	for (size_t i = 0; i < m;) {
		size_t j = i + 1;

		/* multi[i] is the first name in path order; the rest link to it. */
		for (; j < m && multi[j]->dev == multi[i]->dev && multi[j]->ino == multi[i]->ino; j++) {
			struct dk_entry *e = multi[j];

			e->type = DK_ENT_HARDLINK;
			free(e->link);
			e->link = dk_xstrdup(multi[i]->path);
			e->size = 0;
		}
		i = j;
	}
	free(multi);
}

void dk_entries_finish(struct dk_entries *l)
{
	struct order *ord = dk_xmalloc((l->n + 1) * sizeof(*ord));
	struct dk_entry *sorted = dk_xmalloc((l->n + 1) * sizeof(*sorted));
	size_t out = 0;

	for (size_t i = 0; i < l->n; i++) {
		ord[i].path = l->v[i].path;
		ord[i].idx = i;
	}
	qsort(ord, l->n, sizeof(*ord), cmp_order);
	for (size_t i = 0; i < l->n; i++) {
		struct dk_entry *e = &l->v[ord[i].idx];

		/* A later entry for the same path replaces this one. */
		if (i + 1 < l->n && !strcmp(ord[i].path, ord[i + 1].path)) {
			entry_release(e);
			continue;
		}
		sorted[out++] = *e;
	}
	free(ord);
	free(l->v);
	l->v = sorted;
	l->n = out;
	l->alloc = l->n + 1;
	link_hardlinks(l);
}

void dk_entries_add_parents(struct dk_entries *l, const char *dest)
{
	const char *p = dest;

	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - dest) : strlen(dest);
		struct dk_entry *e = dk_entries_add(l);

		e->path = dk_xstrndup(dest, len);
		e->type = DK_ENT_DIR;
		e->perm = 0755;
		if (!slash)
			break;
		p = slash + 1;
	}
}
