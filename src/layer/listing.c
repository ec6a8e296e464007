/*
 * listing.c - what paths a layer holds.
 *
 * A blob is read once, by two libarchive readers stacked in one thread:
 * the outer one only decompresses (any filter, "raw" format), the inner
 * one reads the tar from it; every byte handed from the outer to the inner
 * goes through SHA-256, so the listing is of the bytes whose diff_id it is
 * stored under.  The cache file is "derrick-listing-1 DIFF_ID\n" and then,
 * per record, its type byte, path, NUL, link, NUL: names are bytes and may
 * hold any character but NUL.  A damaged file is a miss, never an error.
 */
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "derrick/digest.h"
#include "derrick/listing.h"
#include "derrick/log.h"
#include "derrick/transport.h"
#include "derrick/util.h"

#define LISTING_FORMAT "derrick-listing-1"
#define BUF_SIZE (1 << 16)

void dk_listing_free(struct dk_listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].link);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void dk_listing_add(struct dk_listing *l, char type, const char *path, const char *link)
{
	struct dk_listing_rec *r;

	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 256;
		l->v = dk_xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	r = &l->v[l->n++];
	r->type = type;
	r->path = dk_xstrdup(path);
	r->link = link ? dk_xstrdup(link) : NULL;
}

void dk_listing_of_entries(const struct dk_entries *e, struct dk_listing *out)
{
	static const char types[] = {
		[DK_ENT_FILE] = 'f', [DK_ENT_DIR] = 'd', [DK_ENT_SYMLINK] = 'l',
		[DK_ENT_HARDLINK] = 'h', [DK_ENT_WHITEOUT] = 'f',
	};

	for (size_t i = 0; i < e->n; i++)
		dk_listing_add(out, types[e->v[i].type], e->v[i].path,
			       e->v[i].type == DK_ENT_SYMLINK ? e->v[i].link : NULL);
}

/* ------------------------------------------------------------ reading a blob */

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
		archive_set_error(inner, -1, "%s",
				  dk_str_or(archive_error_string(f->outer), "cannot decompress"));
		return -1;
	}
	dk_sha256_update(&f->h, f->buf, (size_t)n);
	*buf = f->buf;
	return n;
}

static char type_of(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae))
		return 'h';
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
		return 'f';
	case AE_IFDIR:
		return 'd';
	case AE_IFLNK:
		return 'l';
	default:
		return 'o';
	}
}

/* The inner reader's entries into out; 0 or -1 (err set). */
static int list_tar(struct archive *inner, const char *blob, struct dk_listing *out, struct dk_err *err)
{
	struct archive_entry *ae;
	int r;

	while ((r = archive_read_next_header(inner, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(ae);
		char *clean = dk_path_clean(name ? name : "");

		if (clean && *clean)
			dk_listing_add(out, type_of(ae), clean,
				       type_of(ae) == 'l' ? dk_str_or(archive_entry_symlink(ae), "") : NULL);
		free(clean);
	}
	if (r != ARCHIVE_EOF)
		return dk_fail(err, DK_E_CORRUPT, "layer %s: %s", blob,
			       dk_str_or(archive_error_string(inner), "libarchive gave no reason"));
	return 0;
}

int dk_listing_read_blob(const char *blob, const char *diff_id, struct dk_listing *out, struct dk_err *err)
{
	struct feed f = { archive_read_new(), { NULL }, dk_xmalloc(BUF_SIZE) };
	struct archive *inner = archive_read_new();
	struct archive_entry *raw;
	char got[DK_DIGEST_SIZE];
	la_ssize_t n = 0;
	int rc = -1;

	dk_sha256_init(&f.h);
	archive_read_support_filter_all(f.outer);
	archive_read_support_format_raw(f.outer);
	archive_read_support_format_tar(inner);
	archive_read_support_format_gnutar(inner);
	if (archive_read_open_filename(f.outer, blob, BUF_SIZE) != ARCHIVE_OK ||
	    archive_read_next_header(f.outer, &raw) != ARCHIVE_OK) {
		dk_fail(err, DK_E_CORRUPT, "layer %s: %s", blob,
			dk_str_or(archive_error_string(f.outer), "libarchive gave no reason"));
		goto done;
	}
	if (archive_read_open(inner, &f, NULL, feed_read, NULL) != ARCHIVE_OK) {
		dk_fail(err, DK_E_CORRUPT, "layer %s: %s", blob,
			dk_str_or(archive_error_string(inner), "not a tar"));
		goto done;
	}
	if (list_tar(inner, blob, out, err) < 0)
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
		dk_fail(err, DK_E_CORRUPT, "layer %s unpacks to %s, not to its diff_id %s", blob, got, diff_id);
		goto done;
	}
	rc = 0;
done:
	if (f.h.ctx)
		dk_sha256_abort(&f.h);
	archive_read_free(inner);
	archive_read_free(f.outer);
	free(f.buf);
	return rc;
}

/* ------------------------------------------------------------ the cache */

static char *cache_file(const char *cache_dir, const char *diff_id)
{
	char *dir = dk_path_join(cache_dir, "listings"), *p = dk_path_join(dir, dk_digest_hex(diff_id));

	free(dir);
	return p;
}

/* 1 and out filled from the cache file, or 0 (missing or damaged: read the blob again). */
static int load(const char *file, const char *diff_id, struct dk_listing *out)
{
	char *text, *head = dk_xasprintf("%s %s\n", LISTING_FORMAT, diff_id);
	size_t len, hl = strlen(head);
	struct dk_err ignored;
	const char *p, *end;
	int ok = 0;

	if (dk_read_file(file, (size_t)1 << 31, &text, &len, &ignored) < 0) {
		free(head);
		return 0;
	}
	end = text + len;
	if (len >= hl && !memcmp(text, head, hl)) {
		for (p = text + hl, ok = 1; p < end && ok;) {
			const char *path = p + 1, *link = path < end ? memchr(path, '\0', (size_t)(end - path)) : NULL;
			const char *stop = link && link + 1 < end ? memchr(link + 1, '\0', (size_t)(end - link - 1)) : NULL;

			ok = stop && strchr("fdlho", *p) && *path;
			if (ok)
				dk_listing_add(out, *p, path, *p == 'l' ? link + 1 : NULL);
			p = stop ? stop + 1 : end;
		}
	}
	if (!ok)
		dk_listing_free(out);
	free(text);
	free(head);
	return ok;
}

static void store(const char *cache_dir, const char *file, const char *diff_id, const struct dk_listing *l)
{
	struct strbuf sb = STRBUF_INIT;
	struct dk_err err;
	char *dir = dk_path_join(cache_dir, "listings");

	sb_addf(&sb, "%s %s\n", LISTING_FORMAT, diff_id);
	for (size_t i = 0; i < l->n; i++) {
		sb_addc(&sb, l->v[i].type);
		sb_add(&sb, l->v[i].path, strlen(l->v[i].path) + 1);
		sb_add(&sb, l->v[i].link ? l->v[i].link : "", strlen(l->v[i].link ? l->v[i].link : "") + 1);
	}
	/* a listing that cannot be kept costs a read next time, not the build */
	if (dk_mkdir_p(dir, 0755, &err) < 0 || dk_write_file_atomic(file, sb.buf, sb.len, 0644, &err) < 0)
		dk_verbose("layer listing: %s", err.msg);
	sb_release(&sb);
	free(dir);
}

int dk_listing_of_layer(struct dk_image_src *src, const struct dk_desc *d, const char *diff_id,
			const char *cache_dir, struct dk_listing *out, struct dk_err *err)
{
	char *file = cache_dir && dk_digest_valid(diff_id) ? cache_file(cache_dir, diff_id) : NULL;
	char *blob = NULL;
	int rc = -1;

	if (!dk_digest_valid(diff_id)) {
		dk_fail(err, DK_E_CORRUPT, "layer %s: the image config gives it no valid diff_id", d->digest);
		goto done;
	}
	if (file && load(file, diff_id, out)) {
		dk_verbose("layer %s: its paths from the cache", d->digest);
		rc = 0;
		goto done;
	}
	dk_verbose("layer %s: listing its paths", d->digest);
	if (dk_image_src_blob_file(src, d, &blob, err) < 0 || dk_listing_read_blob(blob, diff_id, out, err) < 0)
		goto done;
	if (file)
		store(cache_dir, file, diff_id, out);
	rc = 0;
done:
	free(blob);
	free(file);
	return rc;
}
