/*
 * archive.c - writing and unpacking the tar files of the archive
 * transports, and the destination both share (archive.h says how).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "archive.h"
#include "derrick/util.h"

#define BUF_SIZE (1 << 17)

static const char *la_msg(struct archive *a)
{
	return dk_str_or(archive_error_string(a), "libarchive gave no reason");
}

/* ------------------------------------------------------------ writing */

struct arch_w {
	struct archive *a;
	struct archive_entry *ae;
	int fd;
	char *tmp, *path, *what;
	int failed;             /* the write callback failed: err says why */
	struct dk_err err;
};

static la_ssize_t w_write(struct archive *a, void *data, const void *buf, size_t len)
{
	struct arch_w *w = data;

	(void)a;
	if (dk_write_all(w->fd, buf, len, w->tmp, &w->err) < 0) {
		w->failed = 1;
		return -1;
	}
	return (la_ssize_t)len;
}

/* A libarchive failure while writing member `name` (NULL: at the end). */
static int w_fail(struct arch_w *w, const char *name, struct dk_err *err)
{
	if (w->failed)
		*err = w->err;
	else
		dk_fail(err, DK_E_IO, "%s", la_msg(w->a));
	return dk_err_prefix(err, "%s: write %s%s%s", w->what, w->path, name ? ": member " : "",
			     name ? name : "");
}

void arch_w_abort(struct arch_w *w)
{
	if (!w)
		return;
	archive_entry_free(w->ae);
	archive_write_free(w->a);
	if (w->tmp) {
		close(w->fd);
		unlink(w->tmp);
		free(w->tmp);
	}
	free(w->path);
	free(w->what);
	free(w);
}

int arch_w_open(const char *path, const char *what, struct arch_w **out, struct dk_err *err)
{
	struct arch_w *w = dk_xcalloc(1, sizeof(*w));
	char *dir = dk_dirname(path);

	w->path = dk_xstrdup(path);
	w->what = dk_xstrdup(what);
	w->tmp = dk_path_join(dir, ".derrick-tmp-XXXXXX");
	free(dir);
	w->fd = mkstemp(w->tmp);
	if (w->fd < 0) {
		dk_fail_errno(err, DK_E_IO, "%s: create a temporary file beside %s", what, path);
		free(w->tmp);
		w->tmp = NULL;
		arch_w_abort(w);
		return -1;
	}
	w->a = archive_write_new();
	w->ae = archive_entry_new();
	if (!w->a || !w->ae)
		dk_oom("libarchive");
	archive_write_set_format_pax_restricted(w->a);
	/* 10 KiB records, no padding after the end-of-archive blocks (as layers are written) */
	archive_write_set_bytes_per_block(w->a, 10240);
	archive_write_set_bytes_in_last_block(w->a, 1);
	if (archive_write_open2(w->a, w, NULL, w_write, NULL, NULL) != ARCHIVE_OK) {
		w_fail(w, NULL, err);
		arch_w_abort(w);
		return -1;
	}
	*out = w;
	return 0;
}

static int w_header(struct arch_w *w, const char *name, mode_t type, uint64_t size, struct dk_err *err)
{
	archive_entry_clear(w->ae);
	archive_entry_set_pathname(w->ae, name);
	archive_entry_set_filetype(w->ae, type);
	archive_entry_set_perm(w->ae, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(w->ae, type == AE_IFDIR ? 0 : (la_int64_t)size);
	archive_entry_set_mtime(w->ae, 0, 0);
	archive_entry_set_uid(w->ae, 0);
	archive_entry_set_gid(w->ae, 0);
	if (archive_write_header(w->a, w->ae) < ARCHIVE_WARN || w->failed)
		return w_fail(w, name, err);
	return 0;
}

static int w_data(struct arch_w *w, const char *name, const void *buf, size_t len, struct dk_err *err)
{
	if (archive_write_data(w->a, buf, len) != (la_ssize_t)len || w->failed)
		return w_fail(w, name, err);
	return 0;
}

int arch_w_dir(struct arch_w *w, const char *name, struct dk_err *err)
{
	char *n = dk_xasprintf("%s/", name);
	int rc = w_header(w, n, AE_IFDIR, 0, err);

	free(n);
	return rc;
}

int arch_w_bytes(struct arch_w *w, const char *name, const void *data, size_t len, struct dk_err *err)
{
	if (w_header(w, name, AE_IFREG, len, err) < 0)
		return -1;
	return len ? w_data(w, name, data, len, err) : 0;
}

int arch_w_file(struct arch_w *w, const char *name, const char *path, struct dk_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
	char *buf = NULL;
	struct stat st;
	uint64_t left;

	if (fd < 0 || fstat(fd, &st) < 0) {
		dk_fail_errno(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_IO, "%s: %s (for member %s)", w->what,
			      path, name);
		goto out;
	}
	if (w_header(w, name, AE_IFREG, (uint64_t)st.st_size, err) < 0)
		goto out;
	buf = dk_xmalloc(BUF_SIZE);
	for (left = (uint64_t)st.st_size; left;) {
		ssize_t n = dk_read(fd, buf, left < BUF_SIZE ? (size_t)left : BUF_SIZE);

		if (n <= 0) {
			if (n < 0)
				dk_fail_errno(err, DK_E_IO, "%s: read %s (for member %s)", w->what, path, name);
			else
				dk_fail(err, DK_E_CHANGED, "%s: %s shrank while it was read (for member %s)", w->what,
					path, name);
			goto out;
		}
		if (w_data(w, name, buf, (size_t)n, err) < 0)
			goto out;
		left -= (uint64_t)n;
	}
	rc = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

struct entry_sink {
	struct dk_sink base;
	struct arch_w *w;
	char *name;
	uint64_t want, got;
};

static int entry_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct entry_sink *e = (struct entry_sink *)s;

	e->got += len;
	if (e->got > e->want)
		return dk_fail(err, DK_E_CHANGED, "%s: member %s: more than the %llu bytes measured", e->w->what,
			       e->name, (unsigned long long)e->want);
	return w_data(e->w, e->name, buf, len, err);
}

static int entry_close(struct dk_sink *s, struct dk_err *err)
{
	struct entry_sink *e = (struct entry_sink *)s;

	if (e->got != e->want)
		return dk_fail(err, DK_E_CHANGED, "%s: member %s: %llu bytes, not the %llu measured", e->w->what,
			       e->name, (unsigned long long)e->got, (unsigned long long)e->want);
	return 0;
}

static void entry_free(struct dk_sink *s)
{
	struct entry_sink *e = (struct entry_sink *)s;

	free(e->name);
	free(e);
}

static const struct dk_sink_ops entry_ops = { entry_write, entry_close, entry_free };

struct dk_sink *arch_w_entry(struct arch_w *w, const char *name, uint64_t size, struct dk_err *err)
{
	struct entry_sink *e;

	if (w_header(w, name, AE_IFREG, size, err) < 0)
		return NULL;
	e = dk_xcalloc(1, sizeof(*e));
	e->base.ops = &entry_ops;
	e->w = w;
	e->name = dk_xstrdup(name);
	e->want = size;
	return &e->base;
}

int arch_w_commit(struct arch_w *w, struct dk_err *err)
{
	char *tmp;
	int rc;

	if (archive_write_close(w->a) != ARCHIVE_OK || w->failed) {
		w_fail(w, NULL, err);
		arch_w_abort(w);
		return -1;
	}
	tmp = w->tmp;
	w->tmp = NULL;
	/* fchmod to 0644 whatever the umask: the same archive has the same mode */
	rc = dk_commit_temp(w->fd, tmp, w->path, 0644, err);
	if (rc < 0)
		dk_err_prefix(err, "%s", w->what);
	arch_w_abort(w);
	return rc;
}

/* ------------------------------------------------------------ reading */

/* A private directory under the cache's tmp/, else under $TMPDIR. */
static char *private_dir(const struct dk_transport_opts *o)
{
	char *cache = dk_cache_dir(o), *tmp = dk_path_join(cache, "tmp");
	char *dir = dk_path_join(tmp, "archive-XXXXXX");
	struct dk_err ignored;

	free(cache);
	if (dk_mkdir_p(tmp, 0700, &ignored) < 0 || !mkdtemp(dir)) {
		free(dir);
		dir = dk_tmp_path("derrick-archive-XXXXXX");
		if (!mkdtemp(dir)) {
			free(dir);
			dir = NULL;
		}
	}
	free(tmp);
	return dir;
}

static struct arch_member *add_member(struct arch_r *r, char *name)
{
	struct arch_member *m;

	r->v = dk_xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
	m = &r->v[r->n++];
	memset(m, 0, sizeof(*m));
	m->name = name;
	return m;
}

/* A link's target as a member name: relative to the link's directory for a symlink. */
static char *link_target(const char *name, const char *target, int sym)
{
	char *dir, *joined, *clean;

	if (!sym || target[0] == '/')
		return dk_path_clean(target);
	dir = dk_dirname(name);
	joined = dk_path_join(dir, target);
	clean = dk_path_clean(joined);
	free(dir);
	free(joined);
	return clean;
}

/* Unpack and hash one regular file member. */
static int unpack_file(struct arch_r *r, struct archive *a, struct arch_member *m, const char *what,
		       char *buf, struct dk_err *err)
{
	char *parent;
	struct dk_sha256 h;
	int fd, rc = 0;

	m->path = dk_path_join(r->dir, m->name);
	parent = dk_dirname(m->path);
	rc = dk_mkdir_p(parent, 0700, err);
	free(parent);
	if (rc < 0)
		return dk_err_prefix(err, "%s: %s: member %s", what, r->file, m->name);
	fd = open(m->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return dk_fail(err, DK_E_CORRUPT, "%s: %s: member %s appears twice", what, r->file, m->name);
		return dk_fail_errno(err, DK_E_IO, "%s: %s: member %s: create %s", what, r->file, m->name, m->path);
	}
	dk_sha256_init(&h);
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, BUF_SIZE);

		if (n == 0)
			break;
		if (n < 0) {
			rc = dk_fail(err, DK_E_CORRUPT, "%s: %s: member %s: %s", what, r->file, m->name, la_msg(a));
			break;
		}
		dk_sha256_update(&h, buf, (size_t)n);
		m->size += (uint64_t)n;
		if ((rc = dk_write_all(fd, buf, (size_t)n, m->path, err)) < 0) {
			dk_err_prefix(err, "%s: %s: member %s", what, r->file, m->name);
			break;
		}
	}
	if (rc == 0)
		dk_sha256_final(&h, m->digest);
	else
		dk_sha256_abort(&h);
	close(fd);
	return rc;
}

int arch_r_open(const char *file, const char *what, const struct dk_transport_opts *o, struct arch_r *r,
		struct dk_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	char *last = NULL;      /* the last member read, for a header that is not one */
	char *buf = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!a)
		dk_oom("libarchive");
	r->file = dk_xstrdup(file);
	archive_read_support_format_tar(a);
	/* what `docker load` takes; not "all", whose rarer filters may run external programs */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	if (access(file, F_OK) < 0) {
		dk_fail_errno(err, DK_E_NOTFOUND, "%s: %s", what, file);
		goto out;
	}
	if (archive_read_open_filename(a, file, BUF_SIZE) != ARCHIVE_OK) {
		dk_fail(err, DK_E_CORRUPT, "%s: %s: %s", what, file, la_msg(a));
		goto out;
	}
	r->dir = private_dir(o);
	if (!r->dir) {
		dk_fail_errno(err, DK_E_IO, "%s: create a directory to unpack %s in", what, file);
		goto out;
	}
	buf = dk_xmalloc(BUF_SIZE);
	for (;;) {
		int h = archive_read_next_header(a, &ae);
		char *name;
		struct arch_member *m;

		if (h == ARCHIVE_EOF)
			break;
		if (h < ARCHIVE_WARN) {
			if (last)
				dk_fail(err, DK_E_CORRUPT, "%s: %s: after member %s: %s", what, file, last, la_msg(a));
			else
				dk_fail(err, DK_E_CORRUPT, "%s: %s: %s", what, file, la_msg(a));
			goto out;
		}
		if (!archive_entry_pathname(ae)) {
			dk_fail(err, DK_E_CORRUPT, "%s: %s: %s%s: a member without a name", what, file,
				last ? "after member " : "at the start", last ? last : "");
			goto out;
		}
		free(last);
		last = dk_xstrdup(archive_entry_pathname(ae));
		name = dk_path_clean(last);
		if (!name) {
			dk_fail(err, DK_E_CORRUPT, "%s: %s: member %s is outside the archive", what, file,
				archive_entry_pathname(ae));
			goto out;
		}
		if (!*name || archive_entry_filetype(ae) == AE_IFDIR ||
		    (archive_entry_filetype(ae) != AE_IFREG && archive_entry_filetype(ae) != AE_IFLNK)) {
			free(name);     /* directories come with their files; devices have no place here */
			continue;
		}
		m = add_member(r, name);
		if (archive_entry_hardlink(ae) || archive_entry_filetype(ae) == AE_IFLNK) {
			int sym = !archive_entry_hardlink(ae);

			m->link = link_target(name, sym ? dk_str_or(archive_entry_symlink(ae), "") :
					      archive_entry_hardlink(ae), sym);
			continue;
		}
		if (unpack_file(r, a, m, what, buf, err) < 0)
			goto out;
	}
	rc = 0;
out:
	free(last);
	free(buf);
	archive_read_free(a);
	if (rc < 0)
		arch_r_close(r);
	return rc;
}

void arch_r_close(struct arch_r *r)
{
	if (r->dir)
		dk_rm_rf(r->dir);
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].path);
		free(r->v[i].link);
	}
	free(r->v);
	free(r->dir);
	free(r->file);
	memset(r, 0, sizeof(*r));
}

const struct arch_member *arch_r_find(const struct arch_r *r, const char *name)
{
	char *want = dk_path_clean(name);
	const struct arch_member *found = NULL;

	/* a bounded number of hops: links may form a loop */
	for (int hops = 0; want && hops < 16; hops++) {
		const struct arch_member *m = NULL;

		/* the last of equal names wins, as when a tar is extracted */
		for (size_t i = r->n; i-- > 0;)
			if (!strcmp(r->v[i].name, want)) {
				m = &r->v[i];
				break;
			}
		if (!m || !m->link) {
			found = m;
			break;
		}
		free(want);
		want = m->link ? dk_xstrdup(m->link) : NULL;
	}
	free(want);
	return found;
}

const struct arch_member *arch_r_by_digest(const struct arch_r *r, const char *digest)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].path && !strcmp(r->v[i].digest, digest))
			return &r->v[i];
	return NULL;
}

void arch_r_fix_err(const struct arch_r *r, struct dk_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *prefix, *with;
	const char *p = err->msg, *hit;

	if (!r->dir)
		return;
	prefix = dk_xasprintf("%s/", r->dir);
	with = dk_xasprintf("%s member ", r->file);
	/* "DIR/NAME" is the member NAME, "DIR" alone the archive */
	while ((hit = strstr(p, r->dir))) {
		sb_add(&sb, p, (size_t)(hit - p));
		if (!strncmp(hit, prefix, strlen(prefix))) {
			sb_adds(&sb, with);
			p = hit + strlen(prefix);
		} else {
			sb_adds(&sb, r->file);
			p = hit + strlen(r->dir);
		}
	}
	sb_adds(&sb, p);
	snprintf(err->msg, sizeof(err->msg), "%s", sb.buf);
	sb_release(&sb);
	free(prefix);
	free(with);
}

/* ------------------------------------------------------------ destinations */

const char *arch_dst_blob(const struct arch_dst *d, const char *digest)
{
	for (size_t i = 0; i < d->n_blobs; i++)
		if (!strcmp(d->blobs[i].digest, digest))
			return d->blobs[i].path;
	return NULL;
}

int arch_dst_read(const struct arch_dst *d, const char *digest, size_t max, char **buf, size_t *len,
		  struct dk_err *err)
{
	const char *path = arch_dst_blob(d, digest);
	char got[DK_DIGEST_SIZE];

	if (!path)
		return dk_fail(err, DK_E_NOTFOUND, "%s: blob %s was not given", d->base.ref.text, digest);
	if (dk_read_file(path, max, buf, len, err) < 0)
		return dk_err_prefix(err, "%s: blob %s", d->base.ref.text, digest);
	dk_sha256_buf(*buf, *len, got);
	if (strcmp(got, digest)) {
		free(*buf);
		*buf = NULL;
		return dk_fail(err, DK_E_CORRUPT, "%s: blob %s: %s holds %s", d->base.ref.text, digest, path, got);
	}
	return 0;
}

static int adst_mount_blob(struct dk_image_dst *base, const struct dk_desc *desc, const struct dk_ref *from,
			   struct dk_err *err)
{
	(void)from;
	(void)err;
	/* the archive is written whole at the commit: only a blob given twice is there already */
	return arch_dst_blob((struct arch_dst *)base, desc->digest) != NULL;
}

static int adst_put_blob(struct dk_image_dst *base, const struct dk_desc *desc, const char *path,
			 struct dk_err *err)
{
	struct arch_dst *d = (struct arch_dst *)base;
	struct arch_blob *b;

	if (access(path, R_OK) < 0)
		return dk_fail_errno(err, DK_E_IO, "%s: blob %s: %s", base->ref.text, desc->digest, path);
	if (arch_dst_blob(d, desc->digest))
		return 0;
	d->blobs = dk_xrealloc(d->blobs, (d->n_blobs + 1) * sizeof(*d->blobs));
	b = &d->blobs[d->n_blobs++];
	memcpy(b->digest, desc->digest, DK_DIGEST_SIZE);
	b->path = dk_xstrdup(path);
	b->size = desc->size;
	dk_image_dst_note(base, desc->digest, "written", desc->size, desc->size);
	return 0;
}

static int adst_put_manifest(struct dk_image_dst *base, const struct dk_manifest_blob *m, struct dk_err *err)
{
	struct arch_dst *d = (struct arch_dst *)base;
	struct dk_manifest_blob *c;

	(void)err;
	d->manifests = dk_xrealloc(d->manifests, (d->n_manifests + 1) * sizeof(*d->manifests));
	c = &d->manifests[d->n_manifests++];
	c->desc = m->desc;
	c->len = m->len;
	c->bytes = dk_xmalloc(m->len + 1);
	memcpy(c->bytes, m->bytes, m->len);
	c->bytes[m->len] = '\0';
	return 0;
}

static int adst_commit(struct dk_image_dst *base, struct dk_err *err)
{
	struct arch_dst *d = (struct arch_dst *)base;
	struct arch_w *w;

	if (!d->n_manifests)
		return dk_fail(err, DK_E_INTERNAL, "%s: commit without a manifest", base->ref.text);
	if (arch_w_open(base->ref.path, base->ref.text, &w, err) < 0)
		return -1;
	if (d->write(d, w, err) < 0) {
		arch_w_abort(w);
		return -1;
	}
	return arch_w_commit(w, err);
}

static void adst_close(struct dk_image_dst *base)
{
	struct arch_dst *d = (struct arch_dst *)base;

	for (size_t i = 0; i < d->n_blobs; i++)
		free(d->blobs[i].path);
	free(d->blobs);
	for (size_t i = 0; i < d->n_manifests; i++)
		dk_manifest_blob_free(&d->manifests[i]);
	free(d->manifests);
	dk_image_dst_release_notes(base);
	dk_ref_free(&base->ref);
	free(d);
}

/*
 * A manifest an index names is kept like the image's own: the last one put
 * (the index, which comes after its children) is the one the archive names.
 */
static const struct dk_image_dst_ops adst_ops = {
	adst_mount_blob, adst_put_blob, adst_put_manifest, adst_commit, adst_close, adst_put_manifest,
};

int arch_dst_open(const struct dk_ref *ref, int (*write)(struct arch_dst *, struct arch_w *, struct dk_err *),
		  struct dk_image_dst **out, struct dk_err *err)
{
	struct arch_dst *d;
	struct stat st;
	char *parent = dk_dirname(ref->path);
	int rc = 0;

	if (stat(ref->path, &st) == 0 && !S_ISREG(st.st_mode))
		rc = dk_fail(err, DK_E_IO, "output %s: %s exists and is not a file", ref->text, ref->path);
	else if (stat(parent, &st) < 0)
		rc = dk_fail_errno(err, DK_E_IO, "output %s: directory %s", ref->text, parent);
	else if (!S_ISDIR(st.st_mode))
		rc = dk_fail(err, DK_E_IO, "output %s: %s is not a directory", ref->text, parent);
	else if (access(parent, W_OK | X_OK) < 0)
		rc = dk_fail_errno(err, DK_E_IO, "output %s: directory %s", ref->text, parent);
	free(parent);
	if (rc < 0)
		return -1;
	d = dk_xcalloc(1, sizeof(*d));
	d->base.ops = &adst_ops;
	d->write = write;
	dk_ref_copy(&d->base.ref, ref);
	*out = &d->base;
	return 0;
}
