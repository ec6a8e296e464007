/*
 * tarread.c - a stored layer's entries, read by libarchive (tarread.h).
 *
 * The pipeline pushes (decompressors are sinks) and libarchive pulls, so a
 * blob is read by two libarchive readers stacked in one thread instead: the
 * outer one only decompresses ("raw" format, the filters of the compressor
 * table: no other, so a blob never makes libarchive run a program), the
 * inner one reads the tar from it.  Every byte handed from the outer to the inner
 * goes through SHA-256, so what is read is checked to be the diff_id's
 * bytes in the same pass, and nothing is spooled to disk.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "derrick/compress.h"
#include "derrick/digest.h"
#include "derrick/tarread.h"
#include "derrick/util.h"

#define BUF_SIZE (1 << 16)

struct feed {
	struct archive *outer;
	struct dk_sha256 h;
	char *buf;
};

static la_ssize_t feed_read(struct archive *inner, void *data, const void **buf)
{
	struct feed *f = data;
	la_ssize_t n = archive_read_data(f->outer, f->buf, BUF_SIZE);

	if (n < 0) {
		archive_set_error(inner, -1, "%s", dk_str_or(archive_error_string(f->outer), "cannot decompress"));
		return -1;
	}
	dk_sha256_update(&f->h, f->buf, (size_t)n);
	*buf = f->buf;
	return n;
}

static enum dk_etype type_of(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae))
		return DK_ENT_HARDLINK;
	switch (archive_entry_filetype(ae)) {
	case AE_IFDIR:
		return DK_ENT_DIR;
	case AE_IFLNK:
		return DK_ENT_SYMLINK;
	default:
		return DK_ENT_FILE;
	}
}

static int damaged(struct archive *a, const char *blob, const char *fallback, struct dk_err *err)
{
	return dk_fail(err, DK_E_CORRUPT, "layer %s: not a tar stream, or a damaged one: %s", blob,
		       dk_str_or(archive_error_string(a), fallback));
}

/* The inner reader's entries to fn; 0 or -1 (err set). */
static int read_entries(struct archive *inner, const char *blob, dk_tar_item_fn fn, void *ctx, struct dk_err *err)
{
	struct archive_entry *ae;
	int r;

	while ((r = archive_read_next_header(inner, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		struct dk_tar_item it;

		it.path = dk_str_or(archive_entry_pathname(ae), "");
		it.type = type_of(ae);
		it.link = it.type == DK_ENT_HARDLINK ? archive_entry_hardlink(ae) :
			  it.type == DK_ENT_SYMLINK ? dk_str_or(archive_entry_symlink(ae), "") : NULL;
		it.reader = inner;
		if (fn(ctx, &it, err))
			return -1;
	}
	return r == ARCHIVE_EOF ? 0 : damaged(inner, blob, "libarchive gave no reason", err);
}

int dk_tar_item_read(const struct dk_tar_item *it, size_t max, char **data, size_t *len, struct dk_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[BUF_SIZE];
	la_ssize_t n;

	while ((n = archive_read_data(it->reader, buf, sizeof(buf))) > 0) {
		if (sb.len + (size_t)n > max) {
			sb_release(&sb);
			return dk_fail(err, DK_E_USAGE, "%s: larger than %zu bytes", it->path, max);
		}
		sb_add(&sb, buf, (size_t)n);
	}
	if (n < 0) {
		sb_release(&sb);
		return dk_fail(err, DK_E_CORRUPT, "%s: %s", it->path,
			       dk_str_or(archive_error_string(it->reader), "cannot read"));
	}
	*len = sb.len;
	*data = sb.len ? sb_detach(&sb) : dk_xstrdup("");
	return 0;
}

int dk_tar_read_blob(const char *blob, const char *diff_id, dk_tar_item_fn fn, void *ctx, struct dk_err *err)
{
	struct feed f = { NULL, { NULL }, NULL };
	struct archive *inner = NULL;
	struct archive_entry *raw;
	char got[DK_DIGEST_SIZE];
	la_ssize_t n = 0;
	int fd = open(blob, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return dk_fail_errno(err, DK_E_IO, "open %s", blob);
	f.outer = archive_read_new();
	inner = archive_read_new();
	f.buf = dk_xmalloc(BUF_SIZE);
	dk_sha256_init(&f.h);
	if (dk_compressors_read_filters(f.outer) < 0) {
		dk_fail(err, DK_E_CORRUPT, "layer %s: this libarchive cannot decompress all of derrick's compressors",
			blob);
		goto done;
	}
	archive_read_support_format_raw(f.outer);
	archive_read_support_format_tar(inner);
	archive_read_support_format_empty(inner);
	if (archive_read_open_fd(f.outer, fd, BUF_SIZE) != ARCHIVE_OK ||
	    archive_read_next_header(f.outer, &raw) != ARCHIVE_OK) {
		damaged(f.outer, blob, "libarchive gave no reason", err);
		goto done;
	}
	if (archive_read_open(inner, &f, NULL, feed_read, NULL) != ARCHIVE_OK) {
		damaged(inner, blob, "not a tar", err);
		goto done;
	}
	if (read_entries(inner, blob, fn, ctx, err) < 0)
		goto done;
	/* what the tar reader left unread (the zero blocks, padding) is part of the diff_id too */
	while ((n = archive_read_data(f.outer, f.buf, BUF_SIZE)) > 0)
		dk_sha256_update(&f.h, f.buf, (size_t)n);
	if (n < 0) {
		dk_fail(err, DK_E_CORRUPT, "layer %s: %s", blob,
			dk_str_or(archive_error_string(f.outer), "cannot decompress"));
		goto done;
	}
	dk_sha256_final(&f.h, got);
	f.h.ctx = NULL;
	if (strcmp(got, diff_id)) {
		dk_fail(err, DK_E_CORRUPT, "layer %s unpacks to %s, not to the diff_id %s its image's config gives",
			blob, got, diff_id);
		goto done;
	}
	rc = 0;
done:
	if (f.h.ctx)
		dk_sha256_abort(&f.h);
	archive_read_free(inner);
	archive_read_free(f.outer);
	free(f.buf);
	close(fd);
	return rc;
}
