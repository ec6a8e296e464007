/*
 * tarw.c - the tar stage of the layer pipeline.
 *
 * libarchive's "pax restricted" format writes plain ustar headers and adds
 * a pax extended header only when an entry needs one (a long path or link
 * target, a size over 8 GiB, a non-ASCII name).  Each header is built from
 * a fresh archive_entry holding only path, type, mode, uid/gid, size, mtime
 * and link target: no atime/ctime, no user or group names, no xattrs.
 *
 * Names are bytes.  libarchive converts them to UTF-8 for pax records using
 * the current locale, so we pin LC_CTYPE to C.UTF-8 while writing: the
 * same name gives the same bytes whatever LANG the user has.
 *
 * Every file is read once, by read_content(), whether for the build-cache
 * key or into the tar, under the same checks: the file must still be the
 * one the walk saw, and hold exactly the bytes its header and its key say.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "derrick/tarw.h"
#include "derrick/util.h"

#define COPY_BUF (1 << 17)

struct out_ctx {
	struct dk_sink *sink;
	struct dk_err *err;
	int failed;
};

static la_ssize_t out_write(struct archive *a, void *data, const void *buf, size_t len)
{
	struct out_ctx *c = data;

	(void)a;
	if (dk_sink_write(c->sink, buf, len, c->err) < 0) {
		c->failed = 1;
		return -1;
	}
	return (la_ssize_t)len;
}

static int out_close(struct archive *a, void *data)
{
	(void)a;
	(void)data;
	return ARCHIVE_OK;
}

static mode_t norm_mode(const struct dk_entry *e, const struct dk_tar_opts *o)
{
	if (e->keep_attrs && e->type != DK_ENT_SYMLINK)
		return e->perm & 07777;
	switch (e->type) {
	case DK_ENT_DIR:
		return o->dir_mode >= 0 ? (mode_t)o->dir_mode : 0755;
	case DK_ENT_SYMLINK:
		return 0777;
	default:
		if (o->file_mode >= 0)
			return (mode_t)o->file_mode;
		return (e->perm & 0111) ? 0755 : 0644;
	}
}

static void fill_header(struct archive_entry *ae, const struct dk_entry *e,
			const struct dk_tar_opts *o)
{
	static const unsigned types[] = {
		[DK_ENT_FILE] = AE_IFREG, [DK_ENT_DIR] = AE_IFDIR,
		[DK_ENT_SYMLINK] = AE_IFLNK, [DK_ENT_HARDLINK] = AE_IFREG,
		[DK_ENT_WHITEOUT] = AE_IFREG,   /* empty, as the OCI spec has them */
	};

	archive_entry_clear(ae);
	archive_entry_copy_pathname(ae, e->path);
	archive_entry_set_filetype(ae, types[e->type]);
	archive_entry_set_perm(ae, norm_mode(e, o));
	archive_entry_set_uid(ae, e->keep_attrs ? e->uid : o->uid);
	archive_entry_set_gid(ae, e->keep_attrs ? e->gid : o->gid);
	archive_entry_set_mtime(ae, (time_t)o->mtime, 0);
	if (e->type == DK_ENT_FILE)
		archive_entry_set_size(ae, (la_int64_t)e->size);
	else
		archive_entry_set_size(ae, 0);
	if (e->type == DK_ENT_SYMLINK)
		archive_entry_copy_symlink(ae, e->link);
	if (e->type == DK_ENT_HARDLINK)
		archive_entry_copy_hardlink(ae, e->link);
}

static int64_t ns(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*
 * Whether st shows the file of that inode, size, mtime and ctime: any write
 * moves one of them.  The device is left out: some stacked filesystems
 * report another one for an open file than for its path.
 */
static int stat_is(const struct stat *st, ino_t ino, uint64_t size, int64_t mtime_ns, int64_t ctime_ns)
{
	return st->st_ino == ino && (uint64_t)st->st_size == size && ns(st->st_mtim) == mtime_ns &&
	       ns(st->st_ctim) == ctime_ns;
}

/* Whether st is still the file the walk saw. */
static int same_file(const struct dk_entry *e, const struct stat *st)
{
	return S_ISREG(st->st_mode) && stat_is(st, e->ino, e->size, e->mtime_ns, e->ctime_ns);
}

static int changed(const struct dk_entry *e, const char *how, struct dk_err *err)
{
	return dk_fail(err, DK_E_CHANGED, "%s changed while derrick read it (%s)", e->src, how);
}

/* Where each piece of content goes: the tar stream, or nowhere (hashing only). */
typedef int (*put_fn)(void *arg, const void *buf, size_t len, struct dk_err *err);

/*
 * Read e's content once, in pieces of up to `bufsize` bytes, into put
 * (when not NULL), and its SHA-256 into hex (when not NULL).  A file on
 * disk is read exactly once from its first byte to one past its last, and
 * must be the file the walk saw both before and after: a file that grew,
 * shrank, was replaced or was written to is DK_E_CHANGED, and whatever
 * was read of it must not be used.  The spool is ours alone: only read.
 */
static int read_content(const struct dk_entry *e, int spool_fd, char *buf, size_t bufsize, char *hex,
			put_fn put, void *arg, struct dk_err *err)
{
	struct dk_sha256 h;
	struct stat st;
	uint64_t left = e->size, off = e->spool_off;
	char d[DK_DIGEST_SIZE];
	int fd = spool_fd, rc = -1;

	if (e->src) {
		/* O_NONBLOCK: a path swapped for a fifo must not hang the build (same_file refuses it) */
		fd = open(e->src, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return errno == ENOENT || errno == ENOTDIR ? changed(e, "it was removed", err)
					       : dk_fail_errno(err, DK_E_IO, "open %s", e->src);
		if (fstat(fd, &st) < 0) {
			dk_fail_errno(err, DK_E_IO, "stat %s", e->src);
			goto out;
		}
		if (!same_file(e, &st)) {
			changed(e, "its size, times or inode moved since derrick listed it", err);
			goto out;
		}
	}
	if (hex)
		dk_sha256_init(&h);
	while (left) {
		size_t want = left < bufsize ? (size_t)left : bufsize;
		ssize_t n = e->src ? dk_read(fd, buf, want) : pread(fd, buf, want, (off_t)off);

		if (n < 0) {
			dk_fail_errno(err, DK_E_IO, "read %s", e->src ? e->src : "tar spool");
			goto fail;
		}
		if (n == 0) {
			if (e->src)
				changed(e, "it shrank", err);
			else
				dk_fail(err, DK_E_IO, "tar spool: %s is cut short", e->path);
			goto fail;
		}
		if (hex)
			dk_sha256_update(&h, buf, (size_t)n);
		if (put && put(arg, buf, (size_t)n, err) < 0)
			goto fail;
		left -= (uint64_t)n;
		off += (uint64_t)n;
	}
	if (e->src) {
		ssize_t n = dk_read(fd, buf, 1);

		if (n > 0) {
			changed(e, "it grew", err);
			goto fail;
		}
		if (n < 0) {
			dk_fail_errno(err, DK_E_IO, "read %s", e->src);
			goto fail;
		}
		if (fstat(fd, &st) < 0 || !same_file(e, &st)) {
			changed(e, "its size or times moved while it was read", err);
			goto fail;
		}
	}
	if (hex) {
		dk_sha256_final(&h, d);
		memcpy(hex, dk_digest_hex(d), DK_DIGEST_HEX + 1);
	}
	rc = 0;
	goto out;
fail:
	if (hex)
		dk_sha256_abort(&h);
out:
	if (e->src)
		close(fd);
	return rc;
}

int dk_tar_hash_content(const struct dk_entry *e, int spool_fd, char hex[DK_DIGEST_HEX + 1],
			struct dk_err *err)
{
	char buf[1 << 16];

	return read_content(e, spool_fd, buf, sizeof(buf), hex, NULL, NULL, err);
}

struct tar_put {
	struct archive *a;
	const struct dk_entry *e;
	struct out_ctx *c;
};

static int put_tar(void *arg, const void *buf, size_t len, struct dk_err *err)
{
	struct tar_put *p = arg;

	if (archive_write_data(p->a, buf, len) == (la_ssize_t)len)
		return 0;
	if (!p->c->failed)
		dk_fail(err, DK_E_IO, "tar %s: %s", p->e->path,
			dk_str_or(archive_error_string(p->a), "libarchive gave no reason"));
	return -1;
}

/*
 * Copy exactly e->size bytes, announced in the header just written.  A
 * file whose content came into the build-cache key (e->content) is hashed
 * on its way into the tar: the layer holds the bytes the key was made of,
 * or the layer is not made.
 */
static int copy_content(struct archive *a, const struct dk_entry *e, int spool_fd, char *buf,
			struct out_ctx *c, struct dk_err *err)
{
	struct tar_put p = { a, e, c };
	char hex[DK_DIGEST_HEX + 1];
	int verify = e->src && e->content[0];

	if (read_content(e, spool_fd, buf, COPY_BUF, verify ? hex : NULL, put_tar, &p, err) < 0)
		return -1;
	if (verify && strcmp(hex, e->content))
		return changed(e, "its content is not what the build-cache key was computed from", err);
	return 0;
}

/* ------------------------------------------------------------ the tar source's input */

struct dk_tar_input {
	int fd;
	char *path;
	struct stat st;         /* at open: the file must still be this one at the end */
	struct dk_sha256 h;
	int hashing;            /* h is still to be finished or aborted */
	char buf[COPY_BUF];
};

static la_ssize_t input_read(struct archive *a, void *data, const void **buf)
{
	struct dk_tar_input *in = data;
	ssize_t n = dk_read(in->fd, in->buf, sizeof(in->buf));

	if (n < 0) {
		archive_set_error(a, errno, "read %s: %s", in->path, strerror(errno));
		return -1;
	}
	dk_sha256_update(&in->h, in->buf, (size_t)n);
	*buf = in->buf;
	return n;
}

int dk_tar_input_open(struct archive *a, const char *path, struct dk_tar_input **out, struct dk_err *err)
{
	struct dk_tar_input *in = dk_xcalloc(1, sizeof(*in));

	*out = NULL;
	in->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (in->fd < 0 || fstat(in->fd, &in->st) < 0) {
		dk_fail_errno(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_IO, "tar %s", path);
		if (in->fd >= 0)
			close(in->fd);
		free(in);
		return -1;
	}
	in->path = dk_xstrdup(path);
	dk_sha256_init(&in->h);
	in->hashing = 1;
	*out = in;
	/* no skip or seek callback: every byte passes through input_read, in order */
	if (archive_read_open(a, in, NULL, input_read, NULL) != ARCHIVE_OK)
		return dk_fail(err, DK_E_IO, "tar %s: %s", path,
			       dk_str_or(archive_error_string(a), "libarchive gave no reason"));
	return 0;
}

int dk_tar_input_finish(struct dk_tar_input *in, char hex[DK_DIGEST_HEX + 1], struct dk_err *err)
{
	char d[DK_DIGEST_SIZE];
	struct stat st;
	ssize_t n;

	/* what libarchive left after the end-of-archive blocks is part of the file's hash too */
	while ((n = dk_read(in->fd, in->buf, sizeof(in->buf))) > 0)
		dk_sha256_update(&in->h, in->buf, (size_t)n);
	if (n < 0)
		return dk_fail_errno(err, DK_E_IO, "read %s", in->path);
	if (fstat(in->fd, &st) < 0)
		return dk_fail_errno(err, DK_E_IO, "stat %s", in->path);
	if (!stat_is(&st, in->st.st_ino, (uint64_t)in->st.st_size, ns(in->st.st_mtim), ns(in->st.st_ctim)))
		return dk_fail(err, DK_E_CHANGED, "tar %s changed while derrick read it", in->path);
	dk_sha256_final(&in->h, d);
	in->hashing = 0;
	memcpy(hex, dk_digest_hex(d), DK_DIGEST_HEX + 1);
	return 0;
}

void dk_tar_input_free(struct dk_tar_input *in)
{
	if (!in)
		return;
	if (in->hashing)
		dk_sha256_abort(&in->h);
	close(in->fd);
	free(in->path);
	free(in);
}

/* ------------------------------------------------------------ the writer */

int dk_tar_write(const struct dk_entries *l, const struct dk_tar_opts *opts,
		 struct dk_sink *out, struct dk_err *err)
{
	struct out_ctx c = { out, err, 0 };
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	char *buf = dk_xmalloc(COPY_BUF);
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t old = utf8 ? uselocale(utf8) : (locale_t)0;
	int rc = -1;

	if (!a || !ae)
		goto done;
	archive_write_set_format_pax_restricted(a);
	/* 10 KiB records, but no padding after the end-of-archive blocks. */
	archive_write_set_bytes_per_block(a, 10240);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open2(a, &c, NULL, out_write, out_close, NULL) != ARCHIVE_OK) {
		dk_fail(err, DK_E_INTERNAL, "tar: %s",
			dk_str_or(archive_error_string(a), "libarchive gave no reason"));
		goto done;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct dk_entry *e = &l->v[i];
		int r;

		fill_header(ae, e, opts);
		r = archive_write_header(a, ae);
		if (r < ARCHIVE_WARN || c.failed) {
			if (!c.failed)
				dk_fail(err, DK_E_IO, "tar %s: %s", e->path,
					dk_str_or(archive_error_string(a), "libarchive gave no reason"));
			goto done;
		}
		if (e->type == DK_ENT_FILE && copy_content(a, e, l->spool_fd, buf, &c, err) < 0)
			goto done;
	}
	if (archive_write_close(a) != ARCHIVE_OK || c.failed) {
		if (!c.failed)
			dk_fail(err, DK_E_IO, "tar: %s",
				dk_str_or(archive_error_string(a), "libarchive gave no reason"));
		goto done;
	}
	rc = 0;
done:
	if (utf8) {
		uselocale(old);
		freelocale(utf8);
	}
	archive_entry_free(ae);
	archive_write_free(a);
	free(buf);
	return rc;
}
