/*
 * own.c - what derrick itself writes during a build, which no walk packs.
 *
 * A source "." with the output layout inside it would otherwise pick up
 * the staging directory the build makes beside that layout, the build
 * cache, the digest file of the last run...: the layer would change from
 * build to build, and patterns cannot be trusted to keep them out (a '!'
 * brings them back).  Each path is matched twice over, since it may not
 * exist yet when the list is made, and may be spelled through symlinks or
 * relative to another directory than the source: by (device, inode) when
 * it exists at the walk, and by its canonical path.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "derrick/util.h"
#include "derrick/walk.h"

struct dk_own_paths {
	char **paths;           /* absolute where the current directory could be read */
	size_t n;
	char **temp_dirs;
	size_t n_temp;
};

struct own_id {
	dev_t dev;
	ino_t ino;
};

struct dk_own_view {
	struct own_id *ids;     /* own paths that exist now */
	size_t n_ids;
	char **rels;            /* own paths below the root, relative to it */
	size_t n_rels;
	struct own_id *temp_dirs;
	size_t n_temp;
};

struct dk_own_paths *dk_own_paths_new(void)
{
	return dk_xcalloc(1, sizeof(struct dk_own_paths));
}

void dk_own_paths_free(struct dk_own_paths *op)
{
	if (!op)
		return;
	for (size_t i = 0; i < op->n; i++)
		free(op->paths[i]);
	for (size_t i = 0; i < op->n_temp; i++)
		free(op->temp_dirs[i]);
	free(op->paths);
	free(op->temp_dirs);
	free(op);
}

/* path from the current directory, without trailing slashes; a new string */
static char *absolute(const char *path)
{
	char *cwd, *abs;
	size_t n;

	if (path[0] == '/' || !(cwd = getcwd(NULL, 0))) {
		abs = dk_xstrdup(path);
	} else {
		abs = dk_path_join(cwd, path);
		free(cwd);
	}
	n = strlen(abs);
	while (n > 1 && abs[n - 1] == '/')
		abs[--n] = '\0';
	return abs;
}

static void push(char ***v, size_t *n, char *s)
{
	*v = dk_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

void dk_own_paths_add_temp_dir(struct dk_own_paths *op, const char *dir)
{
	if (dir && *dir)
		push(&op->temp_dirs, &op->n_temp, absolute(dir));
}

void dk_own_paths_add(struct dk_own_paths *op, const char *path)
{
	char *abs;

	if (!path || !*path)
		return;
	abs = absolute(path);
	/* atomic writes and the staging store put their temporaries beside what they write */
	push(&op->temp_dirs, &op->n_temp, dk_dirname(abs));
	push(&op->paths, &op->n, abs);
}

/*
 * path with the symlinks of its longest existing prefix resolved and the
 * rest cleaned ("out/./x" -> "out/x"), or NULL when that cannot be told
 * (a ".." below a missing directory, an unreadable parent...).
 */
static char *canonical(const char *path)
{
	size_t cut = strlen(path);
	char *head, *real, *rest, *out;

	for (;;) {
		head = cut ? dk_xstrndup(path, cut) : dk_xstrdup(path[0] == '/' ? "/" : ".");
		real = realpath(head, NULL);
		free(head);
		if (real)
			break;
		if (errno != ENOENT || cut == 0)
			return NULL;
		while (cut > 0 && path[cut - 1] != '/')
			cut--;
		while (cut > 1 && path[cut - 1] == '/')
			cut--;
		if (cut == 1 && path[0] == '/')
			cut = 0;
	}
	rest = dk_path_clean(path + cut);
	if (!rest) {
		free(real);
		return NULL;
	}
	out = dk_path_join(real, rest);
	free(real);
	free(rest);
	return out;
}

/* "a/b" below "a" (or anything below "/"): what follows the separator, else NULL */
static const char *below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/' && path[1] ? path + 1 : NULL;
	return !strncmp(path, dir, n) && path[n] == '/' && path[n + 1] ? path + n + 1 : NULL;
}

static void push_id(struct own_id **v, size_t *n, const struct stat *st)
{
	*v = dk_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].dev = st->st_dev;
	(*v)[*n].ino = st->st_ino;
	(*n)++;
}

static int has_id(const struct own_id *v, size_t n, const struct stat *st)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].dev == st->st_dev && v[i].ino == st->st_ino)
			return 1;
	return 0;
}

static int refuse(const char *root, const char *own, struct dk_err *err)
{
	return dk_fail(err, DK_E_SPEC, "source %s is or lies in %s, which this build writes (an output, "
		       "its staging directory, the build cache or the digest file)", root, own);
}

int dk_own_view_open(const struct dk_own_paths *op, const char *root, struct dk_own_view **out,
		     struct dk_err *err)
{
	struct dk_own_view *v = dk_xcalloc(1, sizeof(*v));
	char *croot = realpath(root, NULL);
	struct stat rst, st;
	int have_root = stat(root, &rst) == 0, rc = 0;

	*out = NULL;
	for (size_t i = 0; i < op->n && rc == 0; i++) {
		char *c = canonical(op->paths[i]);
		const char *rel = c && croot ? below(c, croot) : NULL;

		if (stat(op->paths[i], &st) == 0) {
			push_id(&v->ids, &v->n_ids, &st);
			if (have_root && st.st_dev == rst.st_dev && st.st_ino == rst.st_ino)
				rc = refuse(root, op->paths[i], err);
		}
		if (rc == 0 && c && croot && (!strcmp(c, croot) || below(croot, c)))
			rc = refuse(root, op->paths[i], err);
		if (rel)
			push(&v->rels, &v->n_rels, dk_xstrdup(rel));
		free(c);
	}
	for (size_t i = 0; i < op->n_temp; i++)
		if (stat(op->temp_dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
			push_id(&v->temp_dirs, &v->n_temp, &st);
	free(croot);
	if (rc < 0) {
		dk_own_view_free(v);
		return -1;
	}
	*out = v;
	return 0;
}

void dk_own_view_free(struct dk_own_view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_rels; i++)
		free(v->rels[i]);
	free(v->rels);
	free(v->ids);
	free(v->temp_dirs);
	free(v);
}

/* "derrick-WORD-XXXXXX", maybe with a leading '.': the names of mkstemp/mkdtemp templates here */
static int is_temp_name(const char *name)
{
	const char *p = name + (name[0] == '.');
	size_t n;

	if (strncmp(p, "derrick-", 8))
		return 0;
	p += 8;
	n = strspn(p, "abcdefghijklmnopqrstuvwxyz");
	if (n == 0 || p[n] != '-')
		return 0;
	p += n + 1;
	n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	return n == 6 && p[n] == '\0';
}

int dk_own_view_has(const struct dk_own_view *v, const struct stat *dir, const char *name,
		    const char *rel, const struct stat *st)
{
	if (has_id(v->ids, v->n_ids, st))
		return 1;
	for (size_t i = 0; i < v->n_rels; i++)
		if (!strcmp(v->rels[i], rel))
			return 1;
	return has_id(v->temp_dirs, v->n_temp, dir) && is_temp_name(name);
}
