/*
 * dir.c - the "source" row: a directory tree, or one file, read by dk_walk
 * (walk.c) through the layer's exclude patterns and ignore file.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "derrick/ignore.h"
#include "derrick/log.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/util.h"
#include "derrick/walk.h"

/* The ignore file first, then exclude in order: a later pattern overrides an earlier one. */
static int load_ignore(const struct dk_spec_layer *sl, const char *file, struct dk_ignore **out,
		       struct dk_err *err)
{
	const char *ignore_file = dk_spec_opt_value(sl, "ignore_file");
	const struct dk_strlist *exclude = dk_spec_opt_list(sl, "exclude");
	struct dk_ignore *ig;

	*out = NULL;
	if (!exclude->n && !ignore_file)
		return 0;
	ig = dk_ignore_new();
	if (ignore_file && dk_ignore_load_file(ig, ignore_file, err) < 0) {
		dk_ignore_free(ig);
		return dk_err_prefix(err, "%s: %s.ignore_file", file, sl->where);
	}
	for (size_t i = 0; i < exclude->n; i++) {
		char *origin = dk_xasprintf("%s: %s.exclude[%zu]", file, sl->where, i);
		int rc = dk_ignore_add(ig, exclude->v[i], origin, err);

		free(origin);
		if (rc < 0) {
			dk_ignore_free(ig);
			return -1;
		}
	}
	*out = ig;
	return 0;
}

/* The in-layer path a file source lands on: dest, or dest/NAME when dest ends in '/'. */
static char *file_dest(const struct dk_spec_layer *sl, const char *source)
{
	const char *base = strrchr(source, '/');

	if (!sl->dest_is_dir && *sl->dest)
		return dk_xstrdup(sl->dest);
	base = base ? base + 1 : source;
	return *sl->dest ? dk_xasprintf("%s/%s", sl->dest, base) : dk_xstrdup(base);
}

static int dir_read(const struct dk_layer_plan *lp, const char *spec_file, struct dk_entries *out,
		    struct dk_err *err)
{
	const struct dk_spec_layer *sl = lp->entry;
	struct dk_walk_stats stats;
	struct dk_ignore *ig = NULL;
	struct stat st;
	char *dest = NULL;
	int rc;

	memset(&stats, 0, sizeof(stats));
	if (load_ignore(sl, spec_file, &ig, err) < 0)
		return -1;
	/* a file source needs its own name under a directory dest */
	if (stat(lp->input, &st) == 0 && !S_ISDIR(st.st_mode))
		dest = file_dest(sl, lp->input);
	rc = dk_walk(lp->input, dest ? dest : sl->dest, ig, lp->own, out, &stats, err);
	if (rc == 0 && stats.stale_pyc)
		dk_warn("%s: %zu .pyc files are validated by source mtime, which derrick normalises: "
			"Python will ignore them (exclude **/__pycache__, or compile with "
			"--invalidation-mode unchecked-hash)", sl->origin, stats.stale_pyc);
	free(dest);
	dk_ignore_free(ig);
	return rc;
}

/*
 * The file at `rel` (in-layer, relative to dest) in the source directory,
 * into *file and *st: 1 when it is there, 0 when not.  Symlinks are packed
 * as links, so one on the way would have to be resolved in the image: that
 * is refused (-1) rather than followed on this machine.
 */
static int source_path(const struct dk_layer_plan *lp, const char *rel, const char *what, char **file,
		       struct stat *st, struct dk_err *err)
{
	*file = NULL;
	for (const char *p = rel;;) {
		const char *slash = strchr(p, '/');
		size_t upto = slash ? (size_t)(slash - rel) : strlen(rel);

		free(*file);
		*file = dk_xasprintf("%s/%.*s", lp->input, (int)upto, rel);
		if (lstat(*file, st) < 0)
			return 0;
		if (S_ISLNK(st->st_mode))
			return dk_fail(err, DK_E_SPEC, "%s: %s is a symlink: derrick does not follow it to find /%s "
				       "before the layer is built", lp->entry->origin, *file, what);
		if (!slash)
			return 1;
		if (!S_ISDIR(st->st_mode))
			return 0;
		p = slash + 1;
	}
}

/* `path` relative to the layer's dest, or NULL when it lies elsewhere (path is at or below dest). */
static const char *dest_rel(const struct dk_spec_layer *sl, const char *path)
{
	size_t n = strlen(sl->dest);

	if (!n)
		return path;
	if (strncmp(path, sl->dest, n) || (path[n] && path[n] != '/'))
		return NULL;
	return path[n] ? path + n + 1 : path + n;
}

/* find_file (source.h): the file the walk will pack at `path`, read from the source now. */
static int dir_find_file(const struct dk_layer_plan *lp, const char *path, size_t max, char **data, size_t *len,
			 struct dk_err *err)
{
	const struct dk_spec_layer *sl = lp->entry;
	struct dk_ignore *ig = NULL;
	struct stat st;
	char *file = NULL;
	const char *rel = dest_rel(sl, path);
	int rc = 0;

	if (stat(lp->input, &st) < 0)
		return 0;       /* the build says what is missing */
	if (!S_ISDIR(st.st_mode)) {
		char *dest = file_dest(sl, lp->input);

		rc = strcmp(dest, path) ? 0 : dk_read_file(lp->input, max, data, len, err) < 0 ? -1 : 1;
		free(dest);
		return rc;
	}
	if (!rel || !*rel)
		return 0;
	if (load_ignore(sl, lp->ctx ? lp->ctx->spec_file : "spec", &ig, err) < 0)
		return -1;
	if (!ig || !dk_ignore_excluded(ig, rel)) {
		rc = source_path(lp, rel, path, &file, &st, err);
		if (rc > 0)
			rc = S_ISREG(st.st_mode) ? (dk_read_file(file, max, data, len, err) < 0 ? -1 : 1) : 0;
	}
	free(file);
	dk_ignore_free(ig);
	return rc;
}

/* find_dir (source.h): the regular files the walk will pack directly in `dir`. */
static int dir_find_dir(const struct dk_layer_plan *lp, const char *dir, size_t max, struct dk_dir_files *out,
			struct dk_err *err)
{
	const struct dk_spec_layer *sl = lp->entry;
	struct dk_ignore *ig = NULL;
	struct stat st;
	char *file = NULL;
	const char *rel = dest_rel(sl, dir);
	DIR *dh = NULL;
	struct dirent *de;
	int rc = 0;

	if (stat(lp->input, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode)) {
		/* a file source lands on one path: is it in dir? */
		char *dest = file_dest(sl, lp->input), *parent = dk_dirname(dest);
		const char *name = strrchr(dest, '/') ? strrchr(dest, '/') + 1 : dest;

		if (!strcmp(parent, *dir ? dir : ".") || (!*dir && !strchr(dest, '/'))) {
			char *data;
			size_t len;

			rc = dk_read_file(lp->input, max, &data, &len, err);
			if (rc == 0) {
				dk_dir_files_add(out, name, data, len);
				free(data);
			}
		}
		free(dest);
		free(parent);
		return rc;
	}
	if (!rel)
		return 0;       /* dest lies below dir: a directory source writes no file directly in it */
	if (load_ignore(sl, lp->ctx ? lp->ctx->spec_file : "spec", &ig, err) < 0)
		return -1;
	if (*rel) {
		rc = source_path(lp, rel, dir, &file, &st, err);
	} else {
		rc = 1;
		file = dk_xstrdup(lp->input);
		st.st_mode = S_IFDIR;
	}
	if (rc > 0 && S_ISDIR(st.st_mode) && (dh = opendir(file))) {
		rc = 0;
		while (rc == 0 && (de = readdir(dh))) {
			char *p = dk_path_join(file, de->d_name), *r = *rel ? dk_xasprintf("%s/%s", rel, de->d_name) :
									dk_xstrdup(de->d_name);
			struct stat fst;

			if (de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))) {
				if (lstat(p, &fst) == 0 && S_ISREG(fst.st_mode) && !(ig && dk_ignore_excluded(ig, r)) &&
				    !dk_dir_files_find(out, de->d_name)) {
					char *data;
					size_t len;

					rc = dk_read_file(p, max, &data, &len, err);
					if (rc == 0) {
						dk_dir_files_add(out, de->d_name, data, len);
						free(data);
					}
				}
			}
			free(p);
			free(r);
		}
		closedir(dh);
	}
	free(file);
	dk_ignore_free(ig);
	return rc < 0 ? -1 : 0;
}

static const struct dk_source_opt dir_opts[] = {
	{ "exclude", DK_OPT_STRINGS },
	{ "ignore_file", DK_OPT_INPUT_PATH },  /* like a .dockerignore in a build context */
	{ NULL, 0 }
};

const struct dk_source_kind dk_source_dir = {
	.key = "source",
	.hint = "a directory or file",
	.noun = "a source directory",
	.verb = "COPY",
	.opts = dir_opts,
	.plan = dk_source_plan_one,
	.read = dir_read,
	.find_file = dir_find_file,
	.find_dir = dir_find_dir,
};
