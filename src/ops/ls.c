/*
 * ls.c - list a layer's entries, or the image's merged filesystem.
 *
 * A blob is decompressed by the compressor table's stage in one thread
 * and its tar read by libarchive in another, joined by a pipe: the stages
 * push, libarchive pulls, and neither needs the whole tar on disk or in
 * memory.  The reader always drains the pipe to its end, so the writer
 * never meets a closed pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "derrick/layer.h"
#include "derrick/ls.h"
#include "derrick/sink.h"
#include "derrick/util.h"
#include "derrick/view.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define BUF_SIZE (1 << 16)

void dk_ls_free(struct dk_ls *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].link);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static struct dk_ls_entry *add(struct dk_ls *l)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 256;
		l->v = dk_xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	l->v[l->n].seq = l->next_seq++;
	return &l->v[l->n++];
}

/* ------------------------------------------------------------ reading a blob */

struct producer {
	const char *blob;
	int fd;                         /* the pipe's writing end, closed when done */
	char diff_id[DK_DIGEST_SIZE];
	struct dk_err err;
	int rc;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct dk_sink *s = dk_sink_fd(p->fd, "layer tar");

	p->rc = dk_layer_read(p->blob, s, p->diff_id, &p->err);
	dk_sink_free(s);
	close(p->fd);
	return NULL;
}

static char type_of(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae))
		return 'h';
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG: return 'f';
	case AE_IFDIR: return 'd';
	case AE_IFLNK: return 'l';
	case AE_IFCHR: return 'c';
	case AE_IFBLK: return 'b';
	case AE_IFIFO: return 'p';
	case AE_IFSOCK: return 's';
	default: return 'f';
	}
}

/* libarchive's entries from the tar on fd into out; 0, or -1 with err set. */
static int read_tar(int fd, const char *blob, struct dk_ls *out, struct dk_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	int r, rc = 0;

	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_fd(a, fd, BUF_SIZE) != ARCHIVE_OK) {
		rc = dk_fail(err, DK_E_CORRUPT, "layer %s: %s", blob,
			     dk_str_or(archive_error_string(a), "not a tar"));
		archive_read_free(a);
		return rc;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		char *path = dk_path_clean(dk_str_or(archive_entry_pathname(ae), ""));
		struct dk_ls_entry *e;

		if (!path || !*path) {
			free(path);
			continue;
		}
		e = add(out);
		e->path = path;
		e->type = type_of(ae);
		e->mode = (unsigned)archive_entry_perm(ae) & 07777;
		e->uid = (uint64_t)archive_entry_uid(ae);
		e->gid = (uint64_t)archive_entry_gid(ae);
		e->size = e->type == 'f' ? (uint64_t)archive_entry_size(ae) : 0;
		if (e->type == 'l')
			e->link = dk_xstrdup(dk_str_or(archive_entry_symlink(ae), ""));
		else if (e->type == 'h')
			e->link = dk_path_clean(archive_entry_hardlink(ae));
	}
	if (r != ARCHIVE_EOF)
		rc = dk_fail(err, DK_E_CORRUPT, "layer %s: %s", blob,
			     dk_str_or(archive_error_string(a), "libarchive gave no reason"));
	archive_read_free(a);
	return rc;
}

int dk_ls_read_blob(const char *blob, const char *diff_id, struct dk_ls *out, struct dk_err *err)
{
	struct producer p = { blob, -1, "", { 0 }, 0 };
	char buf[4096];
	pthread_t t;
	int fds[2], rc;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return dk_fail_errno(err, DK_E_IO, "layer %s: pipe", blob);
	p.fd = fds[1];
	if ((errno = pthread_create(&t, NULL, produce, &p)) != 0) {
		close(fds[0]);
		close(fds[1]);
		return dk_fail_errno(err, DK_E_IO, "layer %s: thread", blob);
	}
	rc = read_tar(fds[0], blob, out, err);
	/* what the tar reader left (end blocks, padding), or all of it after a failure */
	while (dk_read(fds[0], buf, sizeof(buf)) > 0)
		;
	close(fds[0]);
	pthread_join(t, NULL);
	/* the stage's failure says why the tar ended early: it comes first */
	if (p.rc < 0) {
		*err = p.err;
		return -1;
	}
	if (rc < 0)
		return -1;
	if (diff_id && strcmp(p.diff_id, diff_id))
		return dk_fail(err, DK_E_CORRUPT, "layer %s unpacks to %s, not to its diff_id %s", blob, p.diff_id,
			       diff_id);
	return 0;
}

/* ------------------------------------------------------------ merging */

static int by_path_then_seq(const void *a, const void *b)
{
	const struct dk_ls_entry *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* The first index of sorted fs[0, n) whose path is >= key. */
static size_t lower_bound(const struct dk_ls *fs, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(fs->v[mid].path, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Mark the entries of sorted fs[0, n) below directory `dir` ("" is the root) gone; with self, dir too. */
static void remove_tree(struct dk_ls *fs, size_t n, const char *dir, int self)
{
	char *prefix = *dir ? dk_xasprintf("%s/", dir) : dk_xstrdup("");
	size_t len = strlen(prefix), i;

	if (self)
		for (i = lower_bound(fs, n, dir); i < n && !strcmp(fs->v[i].path, dir); i++)
			fs->v[i].gone = 1;
	for (i = lower_bound(fs, n, prefix); i < n && !strncmp(fs->v[i].path, prefix, len); i++)
		fs->v[i].gone = 1;
	free(prefix);
}

void dk_ls_apply(struct dk_ls *fs, struct dk_ls *layer)
{
	size_t below = fs->n, kept = 0;

	for (size_t i = 0; i < layer->n; i++) {
		struct dk_ls_entry *e = &layer->v[i];
		const char *slash = strrchr(e->path, '/'), *base = slash ? slash + 1 : e->path;
		char *dir = slash ? dk_xstrndup(e->path, (size_t)(slash - e->path)) : dk_xstrdup("");

		if (!strcmp(base, WH_OPAQUE)) {
			remove_tree(fs, below, dir, 0);
		} else if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX))) {
			char *victim = *dir ? dk_xasprintf("%s/%s", dir, base + strlen(WH_PREFIX)) :
					      dk_xstrdup(base + strlen(WH_PREFIX));

			remove_tree(fs, below, victim, 1);
			free(victim);
		} else {
			struct dk_ls_entry *n;

			if (e->type != 'd')
				remove_tree(fs, below, e->path, 0);
			n = add(fs);
			*n = *e;
			n->seq = fs->next_seq - 1;
			e->path = e->link = NULL;
		}
		free(dir);
	}
	dk_ls_free(layer);
	qsort(fs->v, fs->n, sizeof(*fs->v), by_path_then_seq);
	/* of one path, the last entry stands, unless a whiteout took it */
	for (size_t i = 0; i < fs->n; i++) {
		struct dk_ls_entry *e = &fs->v[i];

		if (e->gone || (i + 1 < fs->n && !strcmp(e->path, fs->v[i + 1].path))) {
			free(e->path);
			free(e->link);
			continue;
		}
		fs->v[kept++] = *e;
	}
	fs->n = kept;
}

/* ------------------------------------------------------------ an image */

static const struct {
	char type;
	const char *name;
} type_names[] = {
	{ 'f', "file" }, { 'd', "dir" }, { 'l', "symlink" }, { 'h', "hardlink" },
	{ 'c', "char" }, { 'b', "block" }, { 'p', "fifo" }, { 's', "socket" },
};

char dk_ls_type_letter(const char *name)
{
	for (size_t t = 0; t < sizeof(type_names) / sizeof(type_names[0]); t++)
		if (!strcmp(type_names[t].name, name))
			return type_names[t].type;
	return '?';
}

static json_t *entries_json(const struct dk_ls *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++) {
		const struct dk_ls_entry *e = &l->v[i];
		json_t *o = json_object();
		const char *type = "file";

		for (size_t t = 0; t < sizeof(type_names) / sizeof(type_names[0]); t++)
			if (type_names[t].type == e->type)
				type = type_names[t].name;
		json_object_set_new(o, "path", json_string(e->path));
		json_object_set_new(o, "type", json_string(type));
		json_object_set_new(o, "mode", json_integer(e->mode));
		json_object_set_new(o, "uid", json_integer((json_int_t)e->uid));
		json_object_set_new(o, "gid", json_integer((json_int_t)e->gid));
		json_object_set_new(o, "size", json_integer((json_int_t)e->size));
		json_object_set_new(o, "link", e->link ? json_string(e->link) : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

/* Read layer i of v into out (appending). */
static int read_layer(struct dk_image_view *v, size_t i, struct dk_ls *out, struct dk_err *err)
{
	const char *id = dk_image_view_diff_id(v, i);
	char *path;
	int rc;

	if (!id)
		return dk_fail(err, DK_E_CORRUPT, "%s: config %s has no diff_id for layer %zu", v->ref.text,
			       v->m.config.digest, i);
	if (dk_image_src_blob_file(v->src, &v->m.layers[i], &path, err) < 0)
		return -1;
	rc = dk_ls_read_blob(path, id, out, err);
	free(path);
	return rc;
}

/* 1 when `want` names layer i: its digest or diff_id, with or without "sha256:", or a prefix of one. */
static int names_layer(struct dk_image_view *v, size_t i, const char *want)
{
	const char *ids[2] = { v->m.layers[i].digest, dk_image_view_diff_id(v, i) };
	size_t n = strlen(want);

	for (int k = 0; k < 2; k++) {
		const char *id = ids[k];

		if (!id)
			continue;
		if (!strncmp(id, want, n) || (strlen(id) > 7 && !strncmp(id + 7, want, n)))
			return 1;
	}
	return 0;
}

/* The layer --layer names: 0 and *out, or -1 (DK_E_USAGE) naming the choices. */
static int pick_layer(struct dk_image_view *v, const char *want, size_t *out, struct dk_err *err)
{
	char *end;
	unsigned long n = strtoul(want, &end, 10);
	size_t found = 0, hits = 0;

	if (*want >= '0' && *want <= '9' && !*end) {
		if (n >= v->m.n_layers)
			return dk_fail(err, DK_E_USAGE, "%s: no layer %s (it has %zu: 0 to %zu)", v->ref.text, want,
				       v->m.n_layers, v->m.n_layers ? v->m.n_layers - 1 : 0);
		*out = n;
		return 0;
	}
	/* a digest is 64 hex digits: a shorter prefix must still say which */
	for (size_t i = 0; strlen(want) >= 4 && i < v->m.n_layers; i++)
		if (names_layer(v, i, want) && (!hits || strcmp(v->m.layers[i].digest, v->m.layers[found].digest))) {
			found = i;
			hits++;
		}
	if (hits != 1)
		return dk_fail(err, DK_E_USAGE, "%s: %s layer is %s (give N from 0 to %zu, or a digest or diff_id)",
			       v->ref.text, hits ? "more than one" : "no", want,
			       v->m.n_layers ? v->m.n_layers - 1 : 0);
	*out = found;
	return 0;
}

int dk_ls(const char *text, const struct dk_platform *want, const struct dk_transport_opts *o,
	  const struct dk_ls_opts *lo, json_t **out, struct dk_err *err)
{
	struct dk_image_view v;
	struct dk_ls fs = { 0 };
	json_t *doc, *layers = json_array();
	size_t first = 0, last, one = 0;
	int rc = -1;

	if (dk_image_view_open(text, want, o, &v, err) < 0) {
		json_decref(layers);
		return -1;
	}
	if (v.m.artifact_type) {
		dk_fail(err, DK_E_USAGE, "%s is an artifact (%s), not an image: it has no layers to list", text,
			v.m.artifact_type);
		goto out;
	}
	last = v.m.n_layers;
	if (lo->layer) {
		if (pick_layer(&v, lo->layer, &one, err) < 0)
			goto out;
		/* merged: the filesystem as that layer leaves it */
		first = lo->merged ? 0 : one;
		last = one + 1;
	}
	for (size_t i = first; i < last; i++) {
		struct dk_ls layer = { 0 };

		layer.next_seq = fs.next_seq;
		if (read_layer(&v, i, &layer, err) < 0) {
			dk_ls_free(&layer);
			goto out;
		}
		if (lo->merged) {
			dk_ls_apply(&fs, &layer);
		} else {
			json_t *l = json_object();
			const char *id = dk_image_view_diff_id(&v, i);

			json_object_set_new(l, "index", json_integer((json_int_t)i));
			json_object_set_new(l, "digest", json_string(v.m.layers[i].digest));
			json_object_set_new(l, "diff_id", json_string(id));
			json_object_set_new(l, "entries", entries_json(&layer));
			json_array_append_new(layers, l);
			dk_ls_free(&layer);
		}
	}
	doc = json_object();
	json_object_set_new(doc, "image", json_string(text));
	json_object_set_new(doc, "manifest_digest", json_string(v.mb.desc.digest));
	if (lo->merged)
		json_object_set_new(doc, "entries", entries_json(&fs));
	else
		json_object_set(doc, "layers", layers);
	*out = doc;
	rc = 0;
out:
	json_decref(layers);
	dk_ls_free(&fs);
	dk_image_view_close(&v);
	return rc;
}
