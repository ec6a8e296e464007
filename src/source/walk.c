/*
 * walk.c - read a source tree into entries.
 *
 * The order of readdir() is the filesystem's, so nothing here depends on
 * it: entries are collected and sorted afterwards (dk_entries_finish).
 * Paths are relative to the source for matching .dockerignore patterns and
 * prefixed with dest for the layer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "derrick/ignore.h"
#include "derrick/log.h"
#include "derrick/util.h"
#include "derrick/walk.h"

struct walker {
	const struct dk_ignore *ig;
	const struct dk_own_view *own;  /* NULL: nothing to leave out */
	const char *dest;
	struct dk_entries *out;
	struct dk_walk_stats *stats;
	struct dk_err *err;
};

static char *layer_path(const struct walker *w, const char *rel)
{
	return dk_path_join(w->dest, rel);
}

/*
 * A .pyc whose header says "validate by source mtime" (PEP 552 flags 0)
 * goes stale once we normalise mtimes; count those so the user hears of it.
 */
static int pyc_is_timestamp_based(const char *path)
{
	unsigned char hdr[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, hdr, sizeof(hdr));
	close(fd);
	if (n != (ssize_t)sizeof(hdr))
		return 0;
	return hdr[4] == 0 && hdr[5] == 0 && hdr[6] == 0 && hdr[7] == 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

/* What the build cache compares between runs, and what finds hardlinks. */
static void set_identity(struct dk_entry *e, const struct stat *st)
{
	e->perm = st->st_mode & 07777;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->nlink = st->st_nlink;
	e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	e->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

/*
 * Path abs went away, or stopped being what the walk saw, since its
 * directory was listed (errno says how): DK_E_CHANGED, as for a file that
 * changes while it is read, so the layer is read again; any other failure
 * is the I/O error it is.
 */
static int gone(struct walker *w, const char *what, const char *abs)
{
	if (errno == ENOENT || errno == ENOTDIR || (errno == EINVAL && !strcmp(what, "readlink")))
		return dk_fail(w->err, DK_E_CHANGED, "%s changed while derrick read it (it went away, or is no "
			       "longer what it was, after its directory was listed: %s: %s)", abs, what,
			       strerror(errno));
	return dk_fail_errno(w->err, DK_E_IO, "%s %s", what, abs);
}

/* Add one non-directory entry; returns 1 when added, 0 when skipped, -1 on error. */
static int add_leaf(struct walker *w, const char *abs, const char *rel, const struct stat *st)
{
	struct dk_entry *e;

	if (S_ISREG(st->st_mode)) {
		e = dk_entries_add(w->out);
		e->type = DK_ENT_FILE;
		e->size = (uint64_t)st->st_size;
		e->src = dk_xstrdup(abs);
		w->stats->files++;
		if (ends_with(rel, ".pyc") && pyc_is_timestamp_based(abs))
			w->stats->stale_pyc++;
	} else if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t n = readlink(abs, target, PATH_MAX);

		if (n < 0)
			return gone(w, "readlink", abs);
		target[n] = '\0';
		e = dk_entries_add(w->out);
		e->type = DK_ENT_SYMLINK;
		e->link = dk_xstrdup(target);
		w->stats->symlinks++;
	} else {
		dk_warn("skipping %s: sockets, fifos and devices are not put in layers", abs);
		w->stats->skipped_special++;
		return 0;
	}
	e->path = layer_path(w, rel);
	set_identity(e, st);
	return 1;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Walk the directory abs (rel is its path inside the source, "" at the top;
 * dst its stat; igstate what the ignore patterns left for its children, see
 * dk_ignore_step).  Returns the number of entries added below it, or -1.
 */
static long walk_dir(struct walker *w, const char *abs, const char *rel, const struct stat *dst,
		     const unsigned char *igstate)
{
	DIR *d = opendir(abs);
	struct dirent *de;
	char **names = NULL;
	unsigned char *state = NULL;
	size_t n = 0, alloc = 0;
	long added = 0;

	if (!d)
		return *rel ? gone(w, "open directory", abs) : dk_fail_errno(w->err, errno == EACCES ? DK_E_IO : DK_E_NOTFOUND,
									  "open directory %s", abs);
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 32;
			names = dk_xrealloc(names, alloc * sizeof(*names));
		}
		names[n++] = dk_xstrdup(de->d_name);
	}
	if (errno) {
		dk_fail_errno(w->err, DK_E_IO, "read directory %s", abs);
		added = -1;
	}
	/* Sorted only so that warnings and errors come out in a stable order. */
	if (n)
		qsort(names, n, sizeof(*names), cmp_name);
	if (w->ig)
		state = dk_xmalloc(dk_ignore_count(w->ig) + 1);
	if (n)
		dk_test_pause("DERRICK_TEST_PAUSE_WALK_FIFO");  /* the test hook of walk.h */

	for (size_t i = 0; i < n && added >= 0; i++) {
		char *cabs = dk_path_join(abs, names[i]);
		char *crel = dk_path_join(rel, names[i]);
		struct stat st;

		/* relative to the open directory: no walk down the whole path for every file */
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			added = gone(w, "lstat", cabs);
		} else if (w->own && dk_own_view_has(w->own, dst, names[i], crel, &st)) {
			/* before the patterns: no '!' brings it back */
			dk_verbose("%s: not packed: derrick writes it", cabs);
			w->stats->own++;
		} else if (S_ISDIR(st.st_mode)) {
			int excluded = w->ig && dk_ignore_step(w->ig, crel, igstate, state);

			if (!excluded || dk_ignore_step_may_reinclude(w->ig, crel, state)) {
				long below = walk_dir(w, cabs, crel, &st, state);

				/* An excluded directory appears only to hold what a '!' pattern brought back. */
				if (below < 0) {
					added = -1;
				} else if (!excluded || below > 0) {
					struct dk_entry *e = dk_entries_add(w->out);

					e->type = DK_ENT_DIR;
					e->path = layer_path(w, crel);
					e->perm = st.st_mode & 07777;
					w->stats->dirs++;
					added += below + 1;
				}
			}
		} else if (!(w->ig && dk_ignore_step(w->ig, crel, igstate, state))) {
			int r = add_leaf(w, cabs, crel, &st);

			if (r < 0)
				added = -1;
			else
				added += r;
		}
		free(cabs);
		free(crel);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(state);
	return added;
}

int dk_walk(const char *source, const char *dest, const struct dk_ignore *ig,
	    const struct dk_own_paths *own, struct dk_entries *out, struct dk_walk_stats *stats,
	    struct dk_err *err)
{
	struct walker w = { ig, NULL, dest, out, stats, err };
	struct dk_own_view *view = NULL;
	struct stat st;
	long rc;

	memset(stats, 0, sizeof(*stats));
	if (lstat(source, &st) < 0)
		return dk_fail_errno(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_IO, "source %s", source);
	if (S_ISLNK(st.st_mode) && stat(source, &st) < 0)
		return dk_fail_errno(err, DK_E_NOTFOUND, "source %s is a dangling symlink", source);
	/* this refuses a source that is derrick's own, a file source included */
	if (own && dk_own_view_open(own, source, &view, err) < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		w.own = view;
		if (access(source, R_OK | X_OK) < 0) {
			rc = dk_fail_errno(err, DK_E_IO, "source %s", source);
		} else {
			dk_entries_add_parents(out, dest);
			rc = walk_dir(&w, source, "", &st, NULL);
		}
		dk_own_view_free(view);
		return rc < 0 ? -1 : 0;
	}
	dk_own_view_free(view);
	if (!S_ISREG(st.st_mode))
		return dk_fail(err, DK_E_SPEC, "source %s is neither a directory nor a regular file", source);
	if (access(source, R_OK) < 0)
		return dk_fail_errno(err, DK_E_IO, "source %s", source);
	if (!*dest)
		return dk_fail(err, DK_E_SPEC, "source %s is a file: its dest must name a file, not /", source);
	{
		char *parent = dk_dirname(dest);
		struct dk_entry *e;

		if (strcmp(parent, "."))
			dk_entries_add_parents(out, parent);
		free(parent);
		e = dk_entries_add(out);
		e->type = DK_ENT_FILE;
		e->path = dk_xstrdup(dest);
		e->size = (uint64_t)st.st_size;
		e->src = dk_xstrdup(source);
		set_identity(e, &st);
		e->nlink = 1;   /* a lone file: never a hardlink inside its layer */
		stats->files++;
	}
	return 0;
}
