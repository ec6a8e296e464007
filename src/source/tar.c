/*
 * tar.c - the "tar" layer source: a prebuilt tar (any compression
 * libarchive reads), read into entries below the layer's dest.  Contents
 * are copied to a spool file: entries are sorted before the layer is
 * written, and a tar can only be read front to back.
 *
 * A hardlink in a tar names an earlier entry; once the entries are sorted
 * that entry may come after its link, which no unpacker can follow.  So
 * hardlinks are resolved here, in archive order, into names of one file
 * (a number of our own as the inode), and dk_entries_finish makes the first
 * name in the layer's order the file, as for a directory source.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "derrick/log.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/tarw.h"
#include "derrick/util.h"

#define COPY_BUF (1 << 17)

/* The last entry named `path` before index `before`, from the sorted index, or NULL. */
static struct dk_entry *named_before(struct dk_entries *l, const struct dk_path_order *ix, size_t n,
				     const char *path, size_t before)
{
	size_t lo = 0, hi = n;

	/* the first index entry not below (path, before) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ix[mid].path, path);

		if (c < 0 || (!c && ix[mid].idx < before))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || strcmp(ix[lo - 1].path, path))
		return NULL;
	return &l->v[ix[lo - 1].idx];
}

/*
 * Turn the hardlink entries of l (from index `first` on, in archive order)
 * into what they link to, as extraction would: a link to a file becomes
 * another name of that file's content (the name it links to may be
 * replaced later in the archive; the link keeps the content it had), a link
 * to a symlink becomes the same symlink (two names of one symlink, as a
 * directory walk gives them).  A link to a name that is no file or symlink
 * earlier in the archive is refused.
 */
static int resolve_hardlinks(struct dk_entries *l, size_t first, const char *what, struct dk_err *err)
{
	size_t n = l->n - first, group = 0;
	struct dk_path_order *ix = dk_path_index(l, first);
	int rc = 0;

	for (size_t i = first; i < l->n && rc == 0; i++) {
		struct dk_entry *e = &l->v[i], *t;

		if (e->type != DK_ENT_HARDLINK)
			continue;
		t = named_before(l, ix, n, e->link, i);
		if (t && t->type == DK_ENT_FILE) {
			if (t->nlink < 2) {
				t->ino = (ino_t)++group;
				t->nlink = 2;
			}
			e->type = DK_ENT_FILE;
			e->spool_off = t->spool_off;
			e->size = t->size;
			e->perm = t->perm;      /* one inode, one mode and owner */
			e->uid = t->uid;
			e->gid = t->gid;
			e->ino = t->ino;
			e->nlink = 2;
			free(e->link);
			e->link = NULL;
		} else if (t && t->type == DK_ENT_SYMLINK) {
			e->type = DK_ENT_SYMLINK;
			free(e->link);
			e->link = dk_xstrdup(t->link);
		} else {
			rc = dk_fail(err, DK_E_CORRUPT, "%s: entry \"%s\" is a hardlink to \"%s\", which is %s",
				     what, e->path, e->link,
				     t ? "a directory" : "no regular file or symlink earlier in the archive");
		}
	}
	free(ix);
	return rc;
}

/*
 * The name `name` of an archive member as an in-layer path below dest
 * (allocated), or NULL with err set; "" (allocated) for the archive's own
 * "./".  Strict: a name that is absolute once its "./" is gone is refused.
 */
static char *member_path(const struct dk_tar_read_opts *o, const char *name, struct dk_err *err)
{
	char *clean;

	if (o->strict && (name[0] == '/' || (name[0] == '.' && name[1] == '/' && name[2] == '/'))) {
		dk_fail(err, DK_E_CORRUPT, "%s: entry \"%s\" is an absolute path", o->what, name);
		return NULL;
	}
	clean = dk_path_clean(name);
	if (!clean)
		dk_fail(err, DK_E_CORRUPT, "%s: entry \"%s\" escapes the layer with \"..\"", o->what, name);
	return clean;
}

int dk_tar_read_archive(struct archive *a, const struct dk_tar_read_opts *o, struct dk_entries *out,
			struct dk_err *err)
{
	struct archive_entry *ae;
	char *buf = NULL;
	off_t end;
	uint64_t spool_len;
	int rc = -1, r;
	size_t first;

	if (dk_entries_spool(out, o->name, err) < 0)
		return -1;
	end = lseek(out->spool_fd, 0, SEEK_END);
	if (end < 0)
		return dk_fail_errno(err, DK_E_IO, "seek the spool of %s", o->name);
	spool_len = (uint64_t)end;
	buf = dk_xmalloc(COPY_BUF);
	dk_entries_add_parents(out, o->dest);
	first = out->n;
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = dk_str_or(archive_entry_pathname(ae), "");
		char *clean = member_path(o, name, err);
		mode_t type = archive_entry_filetype(ae);
		struct dk_entry *e;

		if (!clean)
			goto done;
		if (!*clean) {  /* the archive's own "./" */
			free(clean);
			continue;
		}
		if (archive_entry_hardlink(ae)) {
			char *target = member_path(o, archive_entry_hardlink(ae), err);

			if (!target || !*target) {
				free(target);
				free(clean);
				dk_fail(err, DK_E_CORRUPT, "%s: bad hardlink target for \"%s\"", o->what, name);
				goto done;
			}
			e = dk_entries_add(out);
			e->type = DK_ENT_HARDLINK;
			e->link = dk_path_join(o->dest, target);
			free(target);
		} else if (type == AE_IFREG) {
			la_ssize_t n;

			e = dk_entries_add(out);
			e->type = DK_ENT_FILE;
			e->spool_off = spool_len;
			while ((n = archive_read_data(a, buf, COPY_BUF)) > 0) {
				if (dk_write_all(out->spool_fd, buf, (size_t)n, "tar spool", err) < 0) {
					free(clean);
					goto done;
				}
				spool_len += (uint64_t)n;
			}
			if (n < 0) {
				free(clean);
				dk_fail(err, DK_E_CORRUPT, "%s: %s", o->what,
					dk_str_or(archive_error_string(a), "libarchive gave no reason"));
				goto done;
			}
			e->size = spool_len - e->spool_off;
		} else if (type == AE_IFDIR) {
			e = dk_entries_add(out);
			e->type = DK_ENT_DIR;
		} else if (type == AE_IFLNK) {
			e = dk_entries_add(out);
			e->type = DK_ENT_SYMLINK;
			e->link = dk_xstrdup(archive_entry_symlink(ae) ? archive_entry_symlink(ae) : "");
		} else {
			dk_warn("skipping %s in %s: sockets, fifos and devices are not put in layers", name, o->name);
			free(clean);
			continue;
		}
		e->path = dk_path_join(o->dest, clean);
		e->perm = archive_entry_perm(ae);
		if (o->keep_attrs) {
			e->keep_attrs = 1;
			e->uid = (uint32_t)archive_entry_uid(ae);
			e->gid = (uint32_t)archive_entry_gid(ae);
		}
		free(clean);
	}
	if (r != ARCHIVE_EOF) {
		dk_fail(err, DK_E_CORRUPT, "%s: %s", o->what,
			dk_str_or(archive_error_string(a), "libarchive gave no reason"));
		goto done;
	}
	rc = resolve_hardlinks(out, first, o->what, err);
done:
	free(buf);
	return rc;
}

int dk_tar_read(const char *tarfile, const char *dest, struct dk_entries *out,
		struct dk_err *err)
{
	struct archive *a = archive_read_new();
	struct dk_tar_input *in = NULL;
	char *what = dk_xasprintf("tar %s", tarfile);
	struct dk_tar_read_opts o = { .what = what, .name = tarfile, .dest = dest };
	int rc = -1;

	/* libarchive's own message for a missing file lacks the reason: ask the OS first */
	if (access(tarfile, R_OK) < 0) {
		dk_fail_errno(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_IO, "tar %s", tarfile);
		goto done;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	/* hashed as it is read: the build-cache key is made of the bytes the entries come from */
	if (dk_tar_input_open(a, tarfile, &in, err) < 0)
		goto done;
	if (dk_tar_read_archive(a, &o, out, err) < 0)
		goto done;
	rc = dk_tar_input_finish(in, out->input_hash, err);
done:
	archive_read_free(a);
	dk_tar_input_free(in);
	free(what);
	return rc;
}

static int tar_read(const struct dk_layer_plan *lp, const char *spec_file, struct dk_entries *out,
		    struct dk_err *err)
{
	(void)spec_file;
	return dk_tar_read(lp->input, lp->entry->dest, out, err);
}

static const struct dk_source_opt tar_opts[] = { { NULL, 0 } };

const struct dk_source_kind dk_source_tar = {
	.key = "tar",
	.noun = "a tar",
	.verb = "ADD",
	.opts = tar_opts,
	.plan = dk_source_plan_one,
	.read = tar_read,
};
