/*
 * tar.c - the "tar" layer source: a prebuilt tar (any compression
 * libarchive reads), read into entries below the layer's dest.  Contents
 * are copied to a spool file: entries are sorted before the layer is
 * written, and a tar can only be read front to back.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "derrick/log.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/tarw.h"
#include "derrick/util.h"

#define COPY_BUF (1 << 17)

int dk_tar_read(const char *tarfile, const char *dest, struct dk_entries *out,
		struct dk_err *err)
{
	struct archive *a = archive_read_new();
	struct dk_tar_input *in = NULL;
	struct archive_entry *ae;
	char *buf = dk_xmalloc(COPY_BUF);
	uint64_t spool_len = 0;
	int rc = -1, r;
	char *spool_path = dk_tmp_path("derrick-spool-XXXXXX");

	/* libarchive's own message for a missing file lacks the reason: ask the OS first */
	if (access(tarfile, R_OK) < 0) {
		dk_fail_errno(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_IO, "tar %s", tarfile);
		goto done;
	}
	out->spool_fd = mkstemp(spool_path);
	if (out->spool_fd < 0) {
		dk_fail_errno(err, DK_E_IO, "create spool file for %s", tarfile);
		goto done;
	}
	/* Only ever read back through the descriptor: unlink it now so no crash leaks it. */
	unlink(spool_path);
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	/* hashed as it is read: the build-cache key is made of the bytes the entries come from */
	if (dk_tar_input_open(a, tarfile, &in, err) < 0)
		goto done;
	dk_entries_add_parents(out, dest);
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(ae);
		char *clean = dk_path_clean(name ? name : "");
		mode_t type = archive_entry_filetype(ae);
		struct dk_entry *e;

		if (!clean) {
			dk_fail(err, DK_E_CORRUPT, "tar %s: entry \"%s\" escapes the layer with \"..\"", tarfile, name);
			goto done;
		}
		if (!*clean) {  /* the archive's own "./" */
			free(clean);
			continue;
		}
		if (archive_entry_hardlink(ae)) {
			char *target = dk_path_clean(archive_entry_hardlink(ae));

			if (!target || !*target) {
				free(target);
				free(clean);
				dk_fail(err, DK_E_CORRUPT, "tar %s: bad hardlink target for \"%s\"", tarfile, name);
				goto done;
			}
			e = dk_entries_add(out);
			e->type = DK_ENT_HARDLINK;
			e->link = dk_path_join(dest, target);
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
				dk_fail(err, DK_E_CORRUPT, "tar %s: %s", tarfile,
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
			dk_warn("skipping %s in %s: sockets, fifos and devices are not put in layers", name, tarfile);
			free(clean);
			continue;
		}
		e->path = dk_path_join(dest, clean);
		e->perm = archive_entry_perm(ae);
		free(clean);
	}
	if (r != ARCHIVE_EOF) {
		dk_fail(err, DK_E_CORRUPT, "tar %s: %s", tarfile,
			dk_str_or(archive_error_string(a), "libarchive gave no reason"));
		goto done;
	}
	if (dk_tar_input_finish(in, out->input_hash, err) < 0)
		goto done;
	rc = 0;
done:
	archive_read_free(a);
	dk_tar_input_free(in);
	free(buf);
	free(spool_path);
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
