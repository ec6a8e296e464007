/*
 * symlinks.c - the image's tree below a new layer, and placing the new
 * layer's entries through its symlinks (symlinks.h).
 *
 * The tree is a trie of path components whose children are kept sorted,
 * so a lookup is a binary search per component and a subtree that a
 * whiteout or a file replaces is dropped in one step.  It holds every
 * path of the layers below, not only their symlinks: a later layer that
 * puts a directory or a file where a symlink was has replaced it, and only
 * the whole tree can tell.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/digest.h"
#include "derrick/symlinks.h"
#include "derrick/util.h"

enum kind { K_DIR, K_SYMLINK, K_OTHER };

struct node {
	char *name;
	enum kind kind;
	char *target;           /* K_SYMLINK */
	const char *owner;      /* who wrote it (a label in the view's pool), or NULL */
	struct node **kids;     /* K_DIR: sorted by name */
	size_t n, alloc;
};

struct dk_symview {
	struct node root;
	/* the owner labels of the layers applied: one buffer per layer, which nodes point into */
	char **labels;
	size_t n_labels;
};

static void node_free(struct node *n);

static void node_clear(struct node *n)
{
	for (size_t i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	free(n->kids);
	n->kids = NULL;
	n->n = n->alloc = 0;
}

static void node_free(struct node *n)
{
	node_clear(n);
	free(n->name);
	free(n->target);
	free(n);
}

struct dk_symview *dk_symview_new(void)
{
	struct dk_symview *v = dk_xcalloc(1, sizeof(*v));

	v->root.kind = K_DIR;
	return v;
}

void dk_symview_free(struct dk_symview *v)
{
	if (!v)
		return;
	node_clear(&v->root);
	for (size_t i = 0; i < v->n_labels; i++)
		free(v->labels[i]);
	free(v->labels);
	free(v);
}

/* s against the len bytes at name, as strcmp would order them. */
static int cmp_name(const char *s, const char *name, size_t len)
{
	int c = strncmp(s, name, len);

	return c ? c : s[len] ? 1 : 0;
}

/* The index of name among n's children, or where it would go (*found 0). */
static size_t find(const struct node *n, const char *name, size_t len, int *found)
{
	size_t lo = 0, hi = n->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_name(n->kids[mid]->name, name, len);

		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct node *lookup(const struct node *n, const char *name, size_t len)
{
	int found;
	size_t i = find(n, name, len, &found);

	return found ? n->kids[i] : NULL;
}

/*
 * Make n's child `name` a node of kind k written by `owner`: a directory
 * stays as it is (with the owner that made it), anything else is replaced.
 */
static struct node *set_kid(struct node *n, const char *name, size_t len, enum kind k, const char *target,
			    const char *owner)
{
	int found;
	size_t i = find(n, name, len, &found);
	struct node *kid;

	if (found) {
		kid = n->kids[i];
		if (k == K_DIR && kid->kind == K_DIR)
			return kid;
		node_clear(kid);
		free(kid->target);
	} else {
		if (n->n == n->alloc) {
			n->alloc = n->alloc ? 2 * n->alloc : 8;
			n->kids = dk_xrealloc(n->kids, n->alloc * sizeof(*n->kids));
		}
		memmove(n->kids + i + 1, n->kids + i, (n->n - i) * sizeof(*n->kids));
		kid = dk_xcalloc(1, sizeof(*kid));
		kid->name = dk_xstrndup(name, len);
		n->kids[i] = kid;
		n->n++;
	}
	kid->kind = k;
	kid->target = target ? dk_xstrdup(target) : NULL;
	kid->owner = owner;
	return kid;
}

static void drop_kid(struct node *n, const char *name, size_t len)
{
	int found;
	size_t i = find(n, name, len, &found);

	if (!found)
		return;
	node_free(n->kids[i]);
	memmove(n->kids + i, n->kids + i + 1, (n->n - i - 1) * sizeof(*n->kids));
	n->n--;
}

static void apply_rec(struct dk_symview *v, const struct dk_map_rec *r, const char *owner)
{
	struct node *n = &v->root;
	const char *p = r->path, *slash;
	size_t len;

	/* the parents: directories of this layer (a whiteout only deletes what is there) */
	while ((slash = strchr(p, '/'))) {
		len = (size_t)(slash - p);
		if (len) {
			if (r->op == DK_MAP_WHITEOUT) {
				n = lookup(n, p, len);
				if (!n || n->kind != K_DIR)
					return;
			} else {
				n = set_kid(n, p, len, K_DIR, NULL, owner);
			}
		}
		p = slash + 1;
	}
	len = strlen(p);
	if (!len) {
		if (r->op == DK_MAP_OPAQUE)
			node_clear(n);
		return;
	}
	switch (r->op) {
	case DK_MAP_WHITEOUT:
		drop_kid(n, p, len);
		break;
	case DK_MAP_OPAQUE:
		node_clear(set_kid(n, p, len, K_DIR, NULL, owner));
		break;
	case DK_MAP_DIR:
		set_kid(n, p, len, K_DIR, NULL, owner);
		break;
	case DK_MAP_SYMLINK:
		set_kid(n, p, len, K_SYMLINK, r->target, owner);
		break;
	case DK_MAP_OTHER:
		set_kid(n, p, len, K_OTHER, NULL, owner);
		break;
	}
}

void dk_symview_apply(struct dk_symview *v, const struct dk_layer_map *m)
{
	dk_symview_apply_owned(v, m, NULL, 0, NULL);
}

void dk_symview_apply_owned(struct dk_symview *v, const struct dk_layer_map *m, const char *labels, size_t len,
			    const size_t *which)
{
	char *pool = NULL;

	if (labels && len) {
		/* one copy per layer, however many paths it writes */
		pool = dk_xmalloc(len + 1);
		memcpy(pool, labels, len);
		pool[len] = '\0';
		v->labels = dk_xrealloc(v->labels, (v->n_labels + 1) * sizeof(*v->labels));
		v->labels[v->n_labels++] = pool;
	}
	for (size_t i = 0; i < m->n; i++)
		apply_rec(v, &m->v[i], !pool ? NULL : !which ? pool : which[i] < len ? pool + which[i] : NULL);
}


int dk_symview_has(const struct dk_symview *v, const char *path, char **link, const char **target)
{
	const struct node *n = &v->root;
	const char *p = path, *end = path;      /* end: of the components walked */

	*link = NULL;
	*target = NULL;
	for (;;) {
		size_t len;

		p += strspn(p, "/");
		if (!*p)
			return 1;
		if (n->kind != K_DIR) {
			/* below a symlink the layers hold nothing: an unpacker would follow it */
			if (n->kind == K_SYMLINK) {
				*link = dk_xstrndup(path, (size_t)(end - path));
				*target = n->target;
			}
			return 0;
		}
		len = strcspn(p, "/");
		if (!(n = lookup(n, p, len)))
			return 0;
		p = end = p + len;
	}
}

/* ------------------------------------------------------------ resolving */

/* The resolved components so far: the path, where each component ends, and its node when a directory. */
struct walk {
	struct strbuf path;
	size_t *ends;
	const struct node **dirs;
	size_t depth, alloc;
};

static void walk_truncate(struct walk *w, size_t depth)
{
	w->depth = depth;
	w->path.len = depth ? w->ends[depth - 1] : 0;
	if (w->path.alloc)
		w->path.buf[w->path.len] = '\0';
}

static void walk_push(struct walk *w, const char *name, size_t len, const struct node *k)
{
	if (w->depth == w->alloc) {
		w->alloc = w->alloc ? 2 * w->alloc : 16;
		w->ends = dk_xrealloc(w->ends, w->alloc * sizeof(*w->ends));
		w->dirs = dk_xrealloc(w->dirs, w->alloc * sizeof(*w->dirs));
	}
	if (w->path.len)
		sb_addc(&w->path, '/');
	sb_add(&w->path, name, len);
	w->ends[w->depth] = w->path.len;
	/* below a file or a missing path the tree has nothing: no symlink can be met there */
	w->dirs[w->depth] = k && k->kind == K_DIR ? k : NULL;
	w->depth++;
}

static int more_components(const char *p)
{
	return p[strspn(p, "/")] != '\0';
}

int dk_symview_resolve(const struct dk_symview *v, const char *path, int follow_last, char **out,
		       struct dk_err *err)
{
	struct walk w = { STRBUF_INIT, NULL, NULL, 0, 0 };
	char *rest = NULL;      /* what is left once a link was followed; until then `path` */
	const char *p = path;
	int links = 0, rc = 0;

	for (;;) {
		const char *name, *next;
		const struct node *cur, *k;
		size_t len;

		p += strspn(p, "/");
		if (!*p)
			break;
		name = p;
		next = strchrnul(p, '/');
		len = (size_t)(next - p);
		p = next;
		if (len == 1 && name[0] == '.')
			continue;
		if (len == 2 && name[0] == '.' && name[1] == '.') {
			/* the root's parent is the root, as in a chroot */
			if (w.depth)
				walk_truncate(&w, w.depth - 1);
			continue;
		}
		cur = w.depth ? w.dirs[w.depth - 1] : &v->root;
		k = cur ? lookup(cur, name, len) : NULL;
		if (k && k->kind == K_SYMLINK && (follow_last || more_components(p))) {
			char *more;

			if (++links > DK_SYMLINKS_MAX) {
				rc = dk_fail(err, DK_E_SPEC, "/%s: more than %d symlinks of the image met on the way (a loop?)",
					     path, DK_SYMLINKS_MAX);
				break;
			}
			if (!*k->target) {
				rc = dk_fail(err, DK_E_SPEC, "/%s: /%s%s%.*s is a symlink with an empty target in the image",
					     path, w.path.buf, w.path.len ? "/" : "", (int)len, name);
				break;
			}
			/* the target takes the link's place; an absolute one starts again at the image root */
			if (k->target[0] == '/')
				walk_truncate(&w, 0);
			more = dk_xasprintf("%s%s", k->target, p);
			free(rest);
			rest = more;
			p = rest;
			continue;
		}
		walk_push(&w, name, len, k);
	}
	free(rest);
	free(w.ends);
	free(w.dirs);
	if (rc < 0) {
		sb_release(&w.path);
		return -1;
	}
	*out = sb_detach(&w.path);
	return 0;
}

/* ------------------------------------------------------------ placing a layer */

/* path strictly below dir ("" is the root, which everything is below) */
static int below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !n ? *path != '\0' : !strncmp(path, dir, n) && path[n] == '/';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A moved entry must not land below a symlink its own layer writes: the
 * unpacker would follow that link, wherever it points.
 */
static int check_own_symlinks(const struct dk_entries *l, size_t n, const size_t *moved, size_t n_moved,
			      struct dk_err *err)
{
	char **links = dk_xmalloc((n + 1) * sizeof(*links));
	size_t k = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (l->v[i].type == DK_ENT_SYMLINK)
			links[k++] = l->v[i].path;
	if (k)
		qsort(links, k, sizeof(*links), cmp_str);
	for (size_t i = 0; k && i < n_moved && rc == 0; i++) {
		char *path = dk_xstrdup(l->v[moved[i]].path), *slash;

		while (rc == 0 && (slash = strrchr(path, '/'))) {
			*slash = '\0';
			if (bsearch(&path, links, k, sizeof(*links), cmp_str))
				rc = dk_fail(err, DK_E_SPEC, "/%s would be written below /%s, a symlink of the same layer",
					     l->v[moved[i]].path, path);
		}
		free(path);
	}
	free(links);
	return rc;
}

/* Resolve *path; when it moves, note the move in h and replace *path. 1 when moved, 0 when not, -1. */
static int move(const struct dk_symview *v, char **path, int follow_last, struct dk_sha256 *h,
		struct dk_err *err)
{
	char *to;

	if (dk_symview_resolve(v, *path, follow_last, &to, err) < 0)
		return -1;
	if (!strcmp(to, *path)) {
		free(to);
		return 0;
	}
	dk_sha256_update(h, *path, strlen(*path) + 1);
	dk_sha256_update(h, to, strlen(to) + 1);
	free(*path);
	*path = to;
	return 1;
}

int dk_symview_place(const struct dk_symview *v, struct dk_entries *l, const char *dest, char **key_text,
		     struct dk_err *err)
{
	size_t n = l->n, n_moved = 0, *moved = dk_xmalloc((n + 1) * sizeof(*moved));
	char *rdest = NULL, digest[DK_DIGEST_SIZE];
	struct dk_sha256 h;
	int rc, changed = 0;

	*key_text = NULL;
	rc = dk_symview_resolve(v, dest, 1, &rdest, err);
	dk_sha256_init(&h);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct dk_entry *e = &l->v[i];
		char *from = below(e->path, dest) ? dk_xstrdup(e->path) : NULL;
		int r = move(v, &e->path, e->type == DK_ENT_DIR, &h, err);

		if (r > 0 && from && !(!strcmp(e->path, rdest) || below(e->path, rdest)))
			r = dk_fail(err, DK_E_SPEC, "/%s leads to /%s through the image's symlinks: outside /%s, "
				    "where dest /%s leads", from, e->path, rdest, dest);
		free(from);
		if (r > 0)
			moved[n_moved++] = i;
		changed |= r > 0;
		/* a hardlink names its target's path, which moves as the target entry does */
		if (r >= 0 && e->type == DK_ENT_HARDLINK && e->link && (r = move(v, &e->link, 0, &h, err)) > 0)
			changed = 1;
		rc = r < 0 ? -1 : 0;
	}
	if (rc == 0)
		rc = check_own_symlinks(l, n, moved, n_moved, err);
	for (size_t i = 0; rc == 0 && i < n_moved; i++) {
		/* the parents of a resolved path are no symlinks below: emitting them replaces none */
		char *parent = dk_dirname(l->v[moved[i]].path);

		if (strcmp(parent, "."))
			dk_entries_add_parents(l, parent);
		free(parent);
	}
	dk_sha256_final(&h, digest);
	if (rc == 0 && changed)
		*key_text = dk_xasprintf("symlinks=%s", dk_digest_hex(digest));
	free(rdest);
	free(moved);
	return rc;
}

/* ------------------------------------------------------------ asking the tree */

/* The node at clean path p, its symlinks not followed, or NULL. */
static const struct node *node_at(const struct dk_symview *v, const char *p)
{
	const struct node *n = &v->root;

	for (;;) {
		size_t len;

		p += strspn(p, "/");
		if (!*p)
			return n;
		if (n->kind != K_DIR)
			return NULL;
		len = strcspn(p, "/");
		if (!(n = lookup(n, p, len)))
			return NULL;
		p += len;
	}
}

/*
 * Every symlink at or below n (whose path is sb), with its target and where
 * it leads now; and files when `files` (a file on the way to dest makes
 * placing fail, and it must fail again; files below dest move nothing).
 */
static void key_subtree(const struct dk_symview *v, const struct node *n, struct strbuf *sb, int files,
			struct dk_sha256 *h)
{
	if (n->kind == K_SYMLINK) {
		char *to = NULL;
		struct dk_err err;

		if (dk_symview_resolve(v, sb->buf, 1, &to, &err) < 0)
			to = dk_xstrdup("?loop");
		dk_sha256_update(h, "l", 1);
		dk_sha256_update(h, sb->buf, sb->len + 1);
		dk_sha256_update(h, n->target, strlen(n->target) + 1);
		dk_sha256_update(h, to, strlen(to) + 1);
		free(to);
		return;
	}
	if (n->kind != K_DIR) {
		if (files) {
			dk_sha256_update(h, "f", 1);
			dk_sha256_update(h, sb->buf, sb->len + 1);
		}
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		size_t keep = sb->len;

		if (sb->len)
			sb_addc(sb, '/');
		sb_adds(sb, n->kids[i]->name);
		key_subtree(v, n->kids[i], sb, files, h);
		sb->len = keep;
		sb->buf[keep] = '\0';
	}
}

void dk_symview_key(const struct dk_symview *v, const char *dest, char hex[DK_DIGEST_HEX + 1])
{
	struct dk_sha256 h;
	char md[DK_DIGEST_SIZE];
	char *to = NULL;
	struct dk_err err;

	dk_sha256_init(&h);
	dk_sha256_update(&h, "symview-key-1\n", 14);
	if (v) {
		const struct node *n;
		struct strbuf sb = STRBUF_INIT;

		if (dk_symview_resolve(v, dest, 1, &to, &err) < 0)
			to = NULL;
		dk_sha256_update(&h, to ? to : "?loop", strlen(to ? to : "?loop") + 1);
		/* the symlinks on the way to dest: each moves everything below it */
		for (const char *p = dest; *p;) {
			size_t len;

			p += strspn(p, "/");
			len = strcspn(p, "/");
			if (!len)
				break;
			if (sb.len)
				sb_addc(&sb, '/');
			sb_add(&sb, p, len);
			p += len;
			n = node_at(v, sb.buf);
			if (n && n->kind != K_DIR)
				key_subtree(v, n, &sb, 1, &h);
		}
		sb_release(&sb);
		if (to && (n = node_at(v, to))) {
			sb_adds(&sb, to);
			key_subtree(v, n, &sb, 0, &h);
			sb_release(&sb);
		}
		free(to);
	}
	dk_sha256_final(&h, md);
	snprintf(hex, DK_DIGEST_HEX + 1, "%s", dk_digest_hex(md));
}

int dk_symview_children(const struct dk_symview *v, const char *dir, char ***names, size_t *n,
			struct dk_err *err)
{
	const struct node *d;
	char *to;

	*names = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (dk_symview_resolve(v, dir, 1, &to, err) < 0)
		return -1;
	d = node_at(v, to);
	free(to);
	if (!d || d->kind != K_DIR)
		return 0;
	*names = dk_xcalloc(d->n + 1, sizeof(**names));
	for (size_t i = 0; i < d->n; i++)
		(*names)[i] = dk_xstrdup(d->kids[i]->name);
	*n = d->n;
	return 0;
}

const char *dk_symview_owner(const struct dk_symview *v, const char *path)
{
	const struct node *n = v ? node_at(v, path) : NULL;

	return n ? n->owner : NULL;
}
