/*
 * layermap.c - a layer's map of paths (layermap.h): made from entries or
 * from a stored layer, and encoded for the build caches.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/layermap.h"
#include "derrick/tarread.h"
#include "derrick/util.h"

/*
 * 2: maps made by libarchive's reader (tarread.h), which reads a few odd
 * tars as GNU tar does and tarscan.c did not: a regular-file entry whose
 * name ends in '/' is a directory, an 'X' header is Solaris's extended
 * header.  A map of version 1 may differ there: it is read again.
 */
#define HEADER "derrick-layer-map-2 "
#define WH ".wh."
#define WH_META ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

static const char op_letters[] = {
	[DK_MAP_WHITEOUT] = 'w', [DK_MAP_OPAQUE] = 'o', [DK_MAP_DIR] = 'd',
	[DK_MAP_SYMLINK] = 'l', [DK_MAP_OTHER] = 'f',
};

void dk_layer_map_init(struct dk_layer_map *m)
{
	memset(m, 0, sizeof(*m));
}

static void rec_release(struct dk_map_rec *r)
{
	free(r->path);
	free(r->target);
}

void dk_layer_map_release(struct dk_layer_map *m)
{
	for (size_t i = 0; i < m->n; i++)
		rec_release(&m->v[i]);
	free(m->v);
	dk_layer_map_init(m);
}

/* Takes path and target. */
static void push(struct dk_layer_map *m, enum dk_map_op op, char *path, char *target)
{
	if (m->n == m->alloc) {
		m->alloc = m->alloc ? 2 * m->alloc : 64;
		m->v = dk_xrealloc(m->v, m->alloc * sizeof(*m->v));
	}
	m->v[m->n].op = op;
	m->v[m->n].path = path;
	m->v[m->n].target = target;
	m->n++;
}

void dk_layer_map_add(struct dk_layer_map *m, const char *path, enum dk_etype type, const char *link)
{
	char *clean = dk_path_clean(path), *slash, *base;

	if (!clean || !*clean) {        /* climbs out (no unpacker writes it), or the root itself */
		free(clean);
		return;
	}
	slash = strrchr(clean, '/');
	base = slash ? slash + 1 : clean;
	if (strncmp(base, WH, strlen(WH))) {
		enum dk_map_op op = type == DK_ENT_DIR ? DK_MAP_DIR : type == DK_ENT_SYMLINK ? DK_MAP_SYMLINK : DK_MAP_OTHER;

		push(m, op, clean, op == DK_MAP_SYMLINK ? dk_xstrdup(dk_str_or(link, "")) : NULL);
		return;
	}
	if (!strcmp(base, WH_OPAQUE)) {
		*base = '\0';
		if (slash)
			*slash = '\0';
		push(m, DK_MAP_OPAQUE, clean, NULL);
		return;
	}
	if (!strncmp(base, WH_META, strlen(WH_META)) || !base[strlen(WH)]) {
		free(clean);
		return;
	}
	memmove(base, base + strlen(WH), strlen(base + strlen(WH)) + 1);
	push(m, DK_MAP_WHITEOUT, clean, NULL);
}

/* Whiteouts before entries; by path; then by the order added, so the last of equals can win. */
struct order {
	const struct dk_map_rec *r;
	size_t idx;
};

static int group(const struct dk_map_rec *r)
{
	return r->op == DK_MAP_WHITEOUT || r->op == DK_MAP_OPAQUE ? 0 : 1;
}

/* Records that stand for the same thing: the same path in the same group (and the same mark). */
static int cmp_key(const struct dk_map_rec *x, const struct dk_map_rec *y)
{
	int c = group(x) - group(y);

	if (!c && !group(x))
		c = (int)x->op - (int)y->op;
	return c ? c : strcmp(x->path, y->path);
}

static int cmp_order(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	int c = cmp_key(x->r, y->r);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void dk_layer_map_finish(struct dk_layer_map *m)
{
	struct order *ord = dk_xmalloc((m->n + 1) * sizeof(*ord));
	struct dk_map_rec *sorted = dk_xmalloc((m->n + 1) * sizeof(*sorted));
	size_t out = 0;

	for (size_t i = 0; i < m->n; i++) {
		ord[i].r = &m->v[i];
		ord[i].idx = i;
	}
	qsort(ord, m->n, sizeof(*ord), cmp_order);
	for (size_t i = 0; i < m->n; i++) {
		struct dk_map_rec *r = &m->v[ord[i].idx];

		if (i + 1 < m->n && !cmp_key(r, ord[i + 1].r)) {
			rec_release(r);
			continue;
		}
		sorted[out++] = *r;
	}
	free(ord);
	free(m->v);
	m->v = sorted;
	m->n = out;
	m->alloc = out + 1;
}

void dk_layer_map_from_entries(const struct dk_entries *l, struct dk_layer_map *m)
{
	for (size_t i = 0; i < l->n; i++)
		dk_layer_map_add(m, l->v[i].path, l->v[i].type, l->v[i].link);
	dk_layer_map_finish(m);
}

static int add_item(void *ctx, const struct dk_tar_item *it, struct dk_err *err)
{
	(void)err;
	dk_layer_map_add(ctx, it->path, it->type, it->link);
	return 0;
}

int dk_layer_map_read_blob(const char *blob, const char *diff_id, struct dk_layer_map *m, struct dk_err *err)
{
	if (dk_tar_read_blob(blob, diff_id, add_item, m, err) < 0) {
		dk_layer_map_release(m);
		return -1;
	}
	dk_layer_map_finish(m);
	return 0;
}

char *dk_layer_map_encode(const struct dk_layer_map *m, const char *diff_id, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;

	sb_addf(&sb, HEADER "%s\n", diff_id);
	for (size_t i = 0; i < m->n; i++) {
		const struct dk_map_rec *r = &m->v[i];

		sb_addc(&sb, op_letters[r->op]);
		sb_add(&sb, r->path, strlen(r->path) + 1);
		if (r->op == DK_MAP_SYMLINK)
			sb_add(&sb, r->target, strlen(r->target) + 1);
	}
	*len = sb.len;
	return sb_detach(&sb);
}

/* The NUL-terminated string at *p (before end): 0 and *p moved past it, or -1. */
static int take(const char **p, const char *end, char **out)
{
	const char *nul = memchr(*p, '\0', (size_t)(end - *p));

	if (!nul)
		return -1;
	*out = dk_xstrndup(*p, (size_t)(nul - *p));
	*p = nul + 1;
	return 0;
}

int dk_layer_map_decode(const char *buf, size_t len, const char *diff_id, struct dk_layer_map *m,
			struct dk_err *err)
{
	char *head = dk_xasprintf(HEADER "%s\n", diff_id);
	size_t hlen = strlen(head);
	const char *p = buf + hlen, *end = buf + len;
	int ok = len >= hlen && !memcmp(buf, head, hlen);

	free(head);
	while (ok && p < end) {
		const char *op = memchr(op_letters, *p++, sizeof(op_letters));
		char *path = NULL, *target = NULL;

		ok = op && *op && take(&p, end, &path) == 0;
		if (ok && *op == op_letters[DK_MAP_SYMLINK])
			ok = take(&p, end, &target) == 0;
		if (ok)
			push(m, (enum dk_map_op)(op - op_letters), path, target);
		else
			free(path);
	}
	if (!ok) {
		dk_layer_map_release(m);
		return dk_fail(err, DK_E_CORRUPT, "not the map of layer %s", diff_id);
	}
	dk_layer_map_finish(m);
	return 0;
}
