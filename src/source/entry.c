/*
 * entry.c - the list of a layer's entries, its final ordering, and the
 * checks that make every layer unpack the way it reads, whatever filled it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/entry.h"
#include "derrick/err.h"
#include "derrick/util.h"

void dk_entries_init(struct dk_entries *l)
{
	memset(l, 0, sizeof(*l));
	l->spool_fd = -1;
}

int dk_entries_spool(struct dk_entries *l, const char *what, struct dk_err *err)
{
	char *path;

	if (l->spool_fd >= 0)
		return 0;
	path = dk_tmp_path("derrick-spool-XXXXXX");
	l->spool_fd = mkstemp(path);
	if (l->spool_fd < 0) {
		dk_fail_errno(err, DK_E_IO, "create spool file for %s", what);
		free(path);
		return -1;
	}
	/* Only ever read back through the descriptor: unlink it now so no crash leaks it. */
	unlink(path);
	free(path);
	return 0;
}

struct dk_path_order *dk_path_index(const struct dk_entries *l, size_t first)
{
	size_t n = l->n - first;
	struct dk_path_order *ix = dk_xmalloc((n + 1) * sizeof(*ix));

	for (size_t i = 0; i < n; i++) {
		ix[i].path = l->v[first + i].path;
		ix[i].idx = first + i;
	}
	qsort(ix, n, sizeof(*ix), dk_path_order_cmp);
	return ix;
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

int dk_path_order_cmp(const void *a, const void *b)
{
	const struct dk_path_order *x = a, *y = b;
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
		if (l->v[i].type == DK_ENT_FILE && l->v[i].nlink > 1)
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

const char *dk_whiteout_component(const char *path)
{
	const char *p = path;

	while (*p) {
		if (!strncmp(p, DK_WHITEOUT_PREFIX, strlen(DK_WHITEOUT_PREFIX)))
			return p;
		p = strchr(p, '/');
		if (!p)
			break;
		p++;
	}
	return NULL;
}

size_t dk_path_lower_bound(const void *v, size_t n, size_t size, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *path = *(char *const *)((const char *)v + mid * size);

		if (strcmp(path, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t lower_bound(const struct dk_entries *l, const char *key)
{
	return dk_path_lower_bound(l->v, l->n, sizeof(*l->v), key);
}

const struct dk_entry *dk_entries_find(const struct dk_entries *l, const char *path, int *below)
{
	size_t i = lower_bound(l, path);

	if (below) {
		char *key = dk_xasprintf("%s/", path);
		size_t j = lower_bound(l, key);

		*below = j < l->n && !strncmp(l->v[j].path, key, strlen(key));
		free(key);
	}
	return i < l->n && !strcmp(l->v[i].path, path) ? &l->v[i] : NULL;
}

static const char *type_noun(enum dk_etype t)
{
	static const char *const nouns[] = {
		[DK_ENT_FILE] = "a regular file", [DK_ENT_DIR] = "a directory",
		[DK_ENT_SYMLINK] = "a symlink", [DK_ENT_HARDLINK] = "a hardlink",
		[DK_ENT_WHITEOUT] = "a whiteout",
	};

	return nouns[t];
}

/*
 * A reserved name would delete from the layers below when unpacked; a path
 * below a symlink of the same layer would be written wherever the link
 * points (GNU tar and umoci follow it), and one below a file cannot be
 * unpacked at all.  A parent missing from the list is fine: unpackers make
 * it, as a directory.
 */
static int check_entry(const struct dk_entries *l, const struct dk_entry *e, char *buf, struct dk_err *err)
{
	const char *wh = dk_whiteout_component(e->path);
	/* " (from SRC)" for an entry read from a file on disk, so the user finds it */
	const char *f1 = e->src ? " (from " : "", *f2 = e->src ? e->src : "", *f3 = e->src ? ")" : "";

	if (wh && (e->type != DK_ENT_WHITEOUT || strchr(wh, '/')))
		return dk_fail(err, DK_E_CORRUPT, "entry \"%s\"%s%s%s: the name \"%.*s\" starts with \".wh.\", which OCI "
			       "layers reserve for whiteouts (unpacking it would delete from the layers below): rename "
			       "it, or delete paths on purpose with the layer's \"delete\" key", e->path, f1, f2, f3,
			       (int)strcspn(wh, "/"), wh);
	strcpy(buf, e->path);
	for (char *slash = strchr(buf, '/'); slash; slash = strchr(slash + 1, '/')) {
		const struct dk_entry *p;

		*slash = '\0';
		p = dk_entries_find(l, buf, NULL);
		if (p && p->type == DK_ENT_SYMLINK)
			return dk_fail(err, DK_E_CORRUPT, "entry \"%s\"%s%s%s lies below \"%s\", a symlink to \"%s\" in "
				       "the same layer: unpacking would write through the link", e->path, f1, f2, f3,
				       p->path, p->link);
		if (p && p->type != DK_ENT_DIR)
			return dk_fail(err, DK_E_CORRUPT, "entry \"%s\"%s%s%s lies below \"%s\", which the same layer "
				       "makes %s, not a directory", e->path, f1, f2, f3, p->path, type_noun(p->type));
		*slash = '/';
	}
	if (e->type == DK_ENT_HARDLINK) {
		const struct dk_entry *t = dk_entries_find(l, e->link, NULL);

		if (!t || t->type != DK_ENT_FILE || t > e)
			return dk_fail(err, DK_E_CORRUPT, "entry \"%s\" is a hardlink to \"%s\", which is not a regular "
				       "file before it in the layer", e->path, e->link);
	}
	return 0;
}

int dk_entries_finish(struct dk_entries *l, struct dk_err *err)
{
	struct dk_path_order *ord = dk_xmalloc((l->n + 1) * sizeof(*ord));
	struct dk_entry *sorted = dk_xmalloc((l->n + 1) * sizeof(*sorted));
	size_t out = 0, longest = 0;
	char *buf;
	int rc = 0;

	for (size_t i = 0; i < l->n; i++) {
		ord[i].path = l->v[i].path;
		ord[i].idx = i;
	}
	/* equal paths keep insertion order, so the last one added can win */
	qsort(ord, l->n, sizeof(*ord), dk_path_order_cmp);
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
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->v[i].path) > longest)
			longest = strlen(l->v[i].path);
	buf = dk_xmalloc(longest + 1);
	for (size_t i = 0; i < l->n && rc == 0; i++)
		rc = check_entry(l, &l->v[i], buf, err);
	free(buf);
	return rc;
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
