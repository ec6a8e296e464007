/*
 * wheelzip.c - a wheel's zip through libarchive, twice.  A zip says what
 * it holds twice: in its central directory (what Python's zipfile, pip and
 * installer read) and in the local header before each member (what a
 * streaming reader sees).  A zip where the two differ installs different
 * files depending on the tool, so both are read and compared, bytes
 * included.  libarchive takes a member's name from its local header in
 * both modes (its seekable reader finds the members through the central
 * directory, and warns when their sizes or CRC differ): a name that
 * differs only in the central directory is caught by RECORD, which lists
 * the names the wheel's builder wrote.  See wheelzip.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "derrick/digest.h"
#include "derrick/util.h"

#include "wheelzip.h"

#define COPY_BUF (1 << 16)

void dk_zip_members_free(struct dk_zmember *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

struct zlist {
	struct dk_zmember *v;
	size_t n, alloc;
};

/* Why a member name is refused, or NULL when it is a safe relative path. */
static const char *bad_name(const char *name)
{
	const char *p = name;

	if (!*name)
		return "is empty";
	if (*name == '/')
		return "is absolute";
	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		if (*c == '\\')
			return "holds a backslash";
		if (*c < 0x20 || *c == 0x7f)
			return "holds a control character";
	}
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 0)
			return "has an empty component";
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return "has a \".\" or \"..\" component";
		p += len;
		if (*p == '/')
			p++;
	}
	return NULL;
}

static const char *ar_why(struct archive *a)
{
	return dk_str_or(archive_error_string(a), "libarchive gave no reason");
}

/* One reader over the whole zip; contents go to spool_fd unless it is -1. */
static int read_pass(int fd, int central, const char *what, int spool_fd, struct zlist *out,
		     struct dk_err *err)
{
	const char *how = central ? "central directory" : "local headers";
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	char *buf = dk_xmalloc(COPY_BUF);
	uint64_t spool_end = 0;
	int rc = -1, r;

	if (central)
		archive_read_support_format_zip_seekable(a);
	else
		archive_read_support_format_zip_streamable(a);
	if (spool_fd >= 0) {
		off_t end = lseek(spool_fd, 0, SEEK_END);

		if (end < 0) {
			dk_fail_errno(err, DK_E_IO, "wheel %s: seek in the spool file", what);
			goto done;
		}
		spool_end = (uint64_t)end;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		dk_fail_errno(err, DK_E_IO, "wheel %s: seek", what);
		goto done;
	}
	if (archive_read_open_fd(a, fd, COPY_BUF) != ARCHIVE_OK) {
		dk_fail(err, DK_E_CORRUPT, "wheel %s: not a zip (%s): %s", what, how, ar_why(a));
		goto done;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname_utf8(ae);
		mode_t type = archive_entry_filetype(ae);
		struct dk_zmember *m;
		struct dk_sha256 h;
		char hex[DK_DIGEST_SIZE];
		const char *why;
		la_ssize_t got;
		size_t len;

		if (!name)
			name = archive_entry_pathname(ae);
		/*
		 * libarchive compares a member's sizes and CRC in the central
		 * directory and its local header, and only warns: here that
		 * is a refusal.  Its other warning, a name the locale cannot
		 * show, is harmless: the UTF-8 name is used.
		 */
		if (r == ARCHIVE_WARN && name && !strstr(ar_why(a), "converted")) {
			dk_fail(err, DK_E_CORRUPT, "wheel %s: member \"%s\" (%s): %s", what, name, how, ar_why(a));
			goto done;
		}
		if (!name) {
			dk_fail(err, DK_E_CORRUPT, "wheel %s: member %zu has a name that is not UTF-8", what, out->n + 1);
			goto done;
		}
		if (archive_entry_is_encrypted(ae)) {
			dk_fail(err, DK_E_CORRUPT, "wheel %s: member \"%s\" is encrypted", what, name);
			goto done;
		}
		if (type == AE_IFLNK) {
			dk_fail(err, DK_E_CORRUPT, "wheel %s: member \"%s\" is a symlink", what, name);
			goto done;
		}
		if (type != AE_IFREG && type != AE_IFDIR) {
			dk_fail(err, DK_E_CORRUPT, "wheel %s: member \"%s\" is neither a file nor a directory", what, name);
			goto done;
		}
		len = strlen(name);
		if (type == AE_IFDIR && len > 1 && name[len - 1] == '/')
			len--;
		if (out->n == out->alloc) {
			out->alloc = out->alloc ? 2 * out->alloc : 64;
			out->v = dk_xrealloc(out->v, out->alloc * sizeof(*out->v));
		}
		m = &out->v[out->n++];
		memset(m, 0, sizeof(*m));
		m->name = dk_xstrndup(name, len);
		m->dir = type == AE_IFDIR;
		m->exec = !m->dir && (archive_entry_perm(ae) & 0111);
		m->off = spool_end;
		why = bad_name(m->name);
		if (why) {
			dk_fail(err, DK_E_CORRUPT, "wheel %s: member \"%s\" %s", what, name, why);
			goto done;
		}
		dk_sha256_init(&h);
		while ((got = archive_read_data(a, buf, COPY_BUF)) > 0) {
			dk_sha256_update(&h, buf, (size_t)got);
			m->size += (uint64_t)got;
			if (spool_fd >= 0 && dk_write_all(spool_fd, buf, (size_t)got, "wheel spool", err) < 0) {
				dk_sha256_abort(&h);
				goto done;
			}
		}
		if (got < 0) {
			dk_sha256_abort(&h);
			dk_fail(err, DK_E_CORRUPT, "wheel %s: member \"%s\" (%s): %s", what, name, how, ar_why(a));
			goto done;
		}
		dk_sha256_final(&h, hex);
		memcpy(m->sha, hex + 7, sizeof(m->sha));
		spool_end += m->size;
	}
	if (r != ARCHIVE_EOF) {
		dk_fail(err, DK_E_CORRUPT, "wheel %s: bad zip (%s): %s", what, how, ar_why(a));
		goto done;
	}
	rc = 0;
done:
	archive_read_free(a);
	free(buf);
	return rc;
}

struct zorder {
	const struct dk_zmember *m;
	size_t idx;
};

static int zorder_cmp(const void *a, const void *b)
{
	const struct zorder *x = a, *y = b;
	int c = strcmp(x->m->name, y->m->name);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static struct zorder *sorted(const struct zlist *l)
{
	struct zorder *o = dk_xmalloc((l->n + 1) * sizeof(*o));

	for (size_t i = 0; i < l->n; i++) {
		o[i].m = &l->v[i];
		o[i].idx = i;
	}
	qsort(o, l->n, sizeof(*o), zorder_cmp);
	return o;
}

/* The first name in a that b does not have, among two sorted lists, or NULL. */
static const char *first_missing(const struct zorder *a, size_t na, const struct zorder *b, size_t nb)
{
	size_t j = 0;

	for (size_t i = 0; i < na; i++) {
		while (j < nb && strcmp(b[j].m->name, a[i].m->name) < 0)
			j++;
		if (j == nb || strcmp(b[j].m->name, a[i].m->name))
			return a[i].m->name;
	}
	return NULL;
}

static int compare(const struct zlist *cd, const struct zlist *lh, const char *what, struct dk_err *err)
{
	struct zorder *a = sorted(cd), *b = sorted(lh);
	int rc = -1;

	for (size_t i = 1; i < cd->n; i++) {
		if (!strcmp(a[i - 1].m->name, a[i].m->name)) {
			dk_fail(err, DK_E_CORRUPT, "wheel %s: member \"%s\" appears twice", what, a[i].m->name);
			goto done;
		}
	}
	for (size_t i = 0; i < cd->n && i < lh->n; i++) {
		const struct dk_zmember *x = a[i].m, *y = b[i].m;
		const char *diff = NULL;

		if (strcmp(x->name, y->name))
			break;
		if (x->dir != y->dir)
			diff = "type";
		else if (x->size != y->size)
			diff = "size";
		else if (strcmp(x->sha, y->sha))
			diff = "content";
		if (diff) {
			dk_fail(err, DK_E_CORRUPT, "wheel %s: the central directory and the local headers disagree on the %s of \"%s\"",
				what, diff, x->name);
			goto done;
		}
	}
	{
		const char *only_cd = first_missing(a, cd->n, b, lh->n);
		const char *only_lh = first_missing(b, lh->n, a, cd->n);

		if (only_cd || only_lh || cd->n != lh->n) {
			if (only_cd)
				dk_fail(err, DK_E_CORRUPT, "wheel %s: \"%s\" is in the central directory but has no local header",
					what, only_cd);
			else if (only_lh)
				dk_fail(err, DK_E_CORRUPT, "wheel %s: \"%s\" has a local header but is not in the central directory",
					what, only_lh);
			else
				dk_fail(err, DK_E_CORRUPT, "wheel %s: %zu members in the central directory, %zu local headers",
					what, cd->n, lh->n);
			goto done;
		}
	}
	rc = 0;
done:
	free(a);
	free(b);
	return rc;
}

int dk_zip_members(int fd, const char *what, int spool_fd, struct dk_zmember **v, size_t *n,
		   struct dk_err *err)
{
	struct zlist cd = { 0 }, lh = { 0 };
	int rc = -1;

	if (read_pass(fd, 1, what, spool_fd, &cd, err) == 0 && read_pass(fd, 0, what, -1, &lh, err) == 0 &&
	    compare(&cd, &lh, what, err) == 0)
		rc = 0;
	dk_zip_members_free(lh.v, lh.n);
	if (rc < 0) {
		dk_zip_members_free(cd.v, cd.n);
		*v = NULL;
		*n = 0;
		return -1;
	}
	*v = cd.v;
	*n = cd.n;
	return 0;
}
