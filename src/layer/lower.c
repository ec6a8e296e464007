/*
 * lower.c - the merged tree of layers, kept as one array sorted by path
 * (strcmp).  In that order everything below a directory "d" is one run,
 * the paths starting with "d/", so a whiteout deletes a run and a layer is
 * merged in one pass: a few hundred thousand paths cost milliseconds.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/entry.h"
#include "derrick/lower.h"
#include "derrick/util.h"

struct node {
	char *path;     /* first: dk_path_lower_bound finds it there */
	char type;
	char *link;
};

struct dk_lower {
	struct node *v;
	size_t n;
};

struct dk_lower *dk_lower_new(void)
{
	return dk_xcalloc(1, sizeof(struct dk_lower));
}

static void node_free(struct node *x)
{
	free(x->path);
	free(x->link);
}

void dk_lower_free(struct dk_lower *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		node_free(&t->v[i]);
	free(t->v);
	free(t);
}

static size_t lower_bound(const struct dk_lower *t, const char *key)
{
	return dk_path_lower_bound(t->v, t->n, sizeof(*t->v), key);
}

/* Mark what lies below directory `dir` ("" for the root) dead. */
static void kill_below(const struct dk_lower *t, char *dead, const char *dir)
{
	char *key = *dir ? dk_xasprintf("%s/", dir) : dk_xstrdup("");
	size_t len = strlen(key);

	for (size_t i = lower_bound(t, key); i < t->n && !strncmp(t->v[i].path, key, len); i++)
		dead[i] = 1;
	free(key);
}

static void kill_at(const struct dk_lower *t, char *dead, const char *path)
{
	size_t i = lower_bound(t, path);

	if (i < t->n && !strcmp(t->v[i].path, path))
		dead[i] = 1;
	kill_below(t, dead, path);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* A whiteout deletes; it is no path of the tree. */
static int is_whiteout(const char *path)
{
	return !strncmp(base_name(path), DK_WHITEOUT_PREFIX, strlen(DK_WHITEOUT_PREFIX));
}

/* What a layer record does to the tree below it. */
static void delete_below(const struct dk_lower *t, char *dead, const struct dk_listing_rec *r)
{
	const char *base = base_name(r->path);
	char *dir = dk_xstrndup(r->path, (size_t)(base - r->path - (base != r->path)));

	if (!strcmp(base, DK_WHITEOUT_OPAQUE)) {
		kill_below(t, dead, dir);
	} else if (is_whiteout(r->path)) {
		char *target = dk_path_join(dir, base + strlen(DK_WHITEOUT_PREFIX));

		kill_at(t, dead, target);
		free(target);
	} else if (r->type != 'd') {
		kill_below(t, dead, r->path);
	}
	free(dir);
}

void dk_lower_apply(struct dk_lower *t, const struct dk_listing *layer)
{
	struct dk_path_order *ord = dk_xmalloc((layer->n + 1) * sizeof(*ord));
	char *dead = dk_xcalloc(t->n + 1, 1);
	struct node *merged;
	size_t n = 0, m = 0, i = 0, j = 0;

	for (size_t k = 0; k < layer->n; k++) {
		ord[k].path = layer->v[k].path;
		ord[k].idx = k;
	}
	qsort(ord, layer->n, sizeof(*ord), dk_path_order_cmp);
	/* the last record of a path wins: keep only it */
	for (size_t k = 0; k < layer->n; k++)
		if (k + 1 == layer->n || strcmp(ord[k].path, ord[k + 1].path))
			ord[m++] = ord[k];
	for (size_t k = 0; k < m; k++)
		delete_below(t, dead, &layer->v[ord[k].idx]);
	merged = dk_xmalloc((t->n + m + 1) * sizeof(*merged));
	while (i < t->n || j < m) {
		const struct dk_listing_rec *r = j < m ? &layer->v[ord[j].idx] : NULL;
		int c = !r ? -1 : i == t->n ? 1 : strcmp(t->v[i].path, r->path);

		if (c <= 0) {
			/* a node of the tree stays unless deleted, or replaced by the layer's own path */
			if (dead[i] || c == 0)
				node_free(&t->v[i]);
			else
				merged[n++] = t->v[i];
			i++;
			continue;
		}
		if (!is_whiteout(r->path)) {
			merged[n].path = dk_xstrdup(r->path);
			merged[n].type = r->type;
			merged[n].link = r->link ? dk_xstrdup(r->link) : NULL;
			n++;
		}
		j++;
	}
	free(t->v);
	t->v = merged;
	t->n = n;
	free(dead);
	free(ord);
}

char dk_lower_type(const struct dk_lower *t, const char *path)
{
	size_t i = lower_bound(t, path);
	char *below;
	int implied;

	if (i < t->n && !strcmp(t->v[i].path, path))
		return t->v[i].type;
	/* no entry of its own, but something below it: a directory the tars left implicit */
	below = dk_xasprintf("%s/", path);
	i = lower_bound(t, below);
	implied = i < t->n && !strncmp(t->v[i].path, below, strlen(below));
	free(below);
	return implied ? 'd' : 0;
}

char *dk_lower_symlink_above(const struct dk_lower *t, const char *path, const char **target)
{
	char *p = dk_xstrdup(path), *found = NULL;

	for (char *slash = strrchr(p, '/'); slash; slash = strrchr(p, '/')) {
		size_t i;

		*slash = '\0';
		i = lower_bound(t, p);
		if (i < t->n && !strcmp(t->v[i].path, p) && t->v[i].type == 'l') {
			found = dk_xstrdup(p);
			*target = t->v[i].link ? t->v[i].link : "";
			break;
		}
	}
	free(p);
	return found;
}
