/*
 * test_symlinks.c - the image's tree below a new layer: the reader of
 * stored layers (through each compressor, checked against libarchive's
 * plain reader), layer maps (whiteouts, encoding), resolving paths through
 * symlinks, and placing a layer's entries through them.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "derrick/compress.h"
#include "derrick/layermap.h"
#include "derrick/symlinks.h"
#include "derrick/tarread.h"
#include "derrick/util.h"
#include "tap.h"

/* ------------------------------------------------------------ tars made by libarchive */

struct tar_buf {
	char *data;
	size_t len;
};

static void add(struct archive *a, const char *path, unsigned type, const char *link, size_t size)
{
	struct archive_entry *ae = archive_entry_new();
	char *data = dk_xcalloc(1, size + 1);

	memset(data, 'x', size);
	archive_entry_copy_pathname(ae, path);
	archive_entry_set_filetype(ae, type);
	archive_entry_set_perm(ae, 0644);
	if (type == AE_IFLNK)
		archive_entry_copy_symlink(ae, link);
	else if (link)
		archive_entry_copy_hardlink(ae, link);
	if (type == AE_IFREG && !link)
		archive_entry_set_size(ae, (la_int64_t)size);
	CHECK(archive_write_header(a, ae) == ARCHIVE_OK);
	if (size && !link)
		CHECK(archive_write_data(a, data, size) == (la_ssize_t)size);
	archive_entry_free(ae);
	free(data);
}

static char long_name[300], long_link[200], mid_name[200];

/* The same entries in the given tar format. */
static struct tar_buf make(int format)
{
	struct archive *a = archive_write_new();
	size_t cap = 1 << 20, used = 0;
	struct tar_buf t = { dk_xmalloc(cap), 0 };

	memset(long_name, 0, sizeof(long_name));
	for (int i = 0; i < 12; i++)
		strcat(long_name, "directory-");
	strcat(long_name, "/");
	for (int i = 0; i < 10; i++)
		strcat(long_name, "file-name-");
	memset(long_link, 'l', 150);
	long_link[150] = '\0';
	/* 150 bytes: ustar splits it into its prefix and name fields */
	memset(mid_name, 0, sizeof(mid_name));
	for (int i = 0; i < 14; i++)
		strcat(mid_name, "component/");
	strcat(mid_name, "the-file");
	archive_write_set_format(a, format);
	archive_write_set_bytes_per_block(a, 10240);
	CHECK(archive_write_open_memory(a, t.data, cap, &used) == ARCHIVE_OK);
	add(a, "./", AE_IFDIR, NULL, 0);
	add(a, "./usr/bin/", AE_IFDIR, NULL, 0);
	add(a, "./bin", AE_IFLNK, "usr/bin", 0);
	add(a, "./usr/bin/sh", AE_IFREG, NULL, 1000);
	add(a, "./usr/bin/ash", AE_IFREG, "./usr/bin/sh", 0);
	if (format != ARCHIVE_FORMAT_TAR_USTAR) {       /* ustar cannot hold these */
		add(a, long_name, AE_IFREG, NULL, 513);
		add(a, "./far", AE_IFLNK, long_link, 0);
	}
	add(a, "./pipe", AE_IFIFO, NULL, 0);
	add(a, "./etc/.wh.old.conf", AE_IFREG, NULL, 0);
	add(a, mid_name, AE_IFREG, NULL, 10);
	CHECK(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
	t.len = used;
	return t;
}

static int collect(void *ctx, const struct dk_tar_item *it, struct dk_err *err)
{
	static const char types[] = { [DK_ENT_FILE] = 'f', [DK_ENT_DIR] = 'd', [DK_ENT_SYMLINK] = 'l',
				      [DK_ENT_HARDLINK] = 'h' };

	(void)err;
	sb_addf(ctx, "%s %c%s%s\n", it->path, types[it->type], it->link ? " " : "", it->link ? it->link : "");
	return 0;
}

/* A blob of t compressed by `compressor` (NULL: stored as it is), and the diff_id of t. */
static char *blob_of(const struct tar_buf *t, const char *compressor, char diff_id[DK_DIGEST_SIZE])
{
	char *path = dk_tmp_path("dk-map-XXXXXX");
	int fd = mkstemp(path);
	struct dk_compress c = { compressor ? dk_compressor_by_name(compressor) : NULL, 0, 1 };
	struct dk_sink *file = dk_sink_fd(fd, path), *comp = c.kind ? dk_compress_sink(&c, file) : file;
	struct dk_err err;

	if (c.kind)
		c.level = c.kind->default_level;
	CHECK(dk_sink_write(comp, t->data, t->len, &err) == 0);
	CHECK(dk_sink_close(comp, &err) == 0);
	if (comp != file)
		dk_sink_free(comp);
	dk_sink_free(file);
	close(fd);
	dk_sha256_buf(t->data, t->len, diff_id);
	return path;
}

/* What the layer reader gives for the blob, as "path type [link]" lines, or "error: ..." after them. */
static char *read_blob(const char *blob, const char *diff_id, int *rc, struct dk_err *err)
{
	struct strbuf sb = STRBUF_INIT;

	*rc = dk_tar_read_blob(blob, diff_id, collect, &sb, err);
	if (*rc)
		sb_addf(&sb, "error: %s", err->msg);
	return sb_detach(&sb);
}

/* The same listing from libarchive's reader: the reference. */
static char *reference(const struct tar_buf *t)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	struct strbuf sb = STRBUF_INIT;

	archive_read_support_format_tar(a);
	CHECK(archive_read_open_memory(a, t->data, t->len) == ARCHIVE_OK);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		mode_t ft = archive_entry_filetype(ae);
		char c = archive_entry_hardlink(ae) ? 'h' : ft == AE_IFDIR ? 'd' : ft == AE_IFLNK ? 'l' : 'f';
		const char *link = archive_entry_hardlink(ae) ? archive_entry_hardlink(ae) : archive_entry_symlink(ae);

		sb_addf(&sb, "%s %c%s%s\n", archive_entry_pathname(ae), c, link ? " " : "", link ? link : "");
	}
	archive_read_free(a);
	return sb_detach(&sb);
}

static void test_read_agrees_with_libarchive(void)
{
	static const int formats[] = { ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FORMAT_TAR_GNUTAR,
				       ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED };
	static const char *const comps[] = { "gzip", "zstd", NULL };

	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		struct tar_buf t = make(formats[f]);
		char *want = reference(&t);

		CHECK(strstr(want, "./bin l usr/bin\n") != NULL);
		CHECK(strstr(want, mid_name) != NULL);
		CHECK(strstr(want, "./usr/bin/ash h ./usr/bin/sh\n") != NULL);
		if (formats[f] != ARCHIVE_FORMAT_TAR_USTAR)
			CHECK(strstr(want, long_name) != NULL && strstr(want, long_link) != NULL);
		for (size_t c = 0; c < sizeof(comps) / sizeof(comps[0]); c++) {
			char diff_id[DK_DIGEST_SIZE], *blob = blob_of(&t, comps[c], diff_id), *got;
			struct dk_err err;
			int rc;

			got = read_blob(blob, diff_id, &rc, &err);
			CHECK(rc == 0);
			CHECK_STR(got, want);
			free(got);
			unlink(blob);
			free(blob);
		}
		free(want);
		free(t.data);
	}
}

/* Names are bytes: not UTF-8, or UTF-8 in a pax header, they come back as stored (the C locale). */
static void test_read_keeps_name_bytes(void)
{
	static const int formats[] = { ARCHIVE_FORMAT_TAR_GNUTAR, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED };

	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		struct archive *a = archive_write_new();
		size_t cap = 1 << 16, used = 0;
		struct tar_buf t = { dk_xmalloc(cap), 0 };
		char diff_id[DK_DIGEST_SIZE], *blob, *got;
		struct dk_err err;
		int rc;

		archive_write_set_format(a, formats[f]);
		/* pax would convert names from the locale's charset to UTF-8: keep them as bytes (GNU does) */
		if (formats[f] != ARCHIVE_FORMAT_TAR_GNUTAR)
			CHECK(archive_write_set_options(a, "hdrcharset=BINARY") == ARCHIVE_OK);
		CHECK(archive_write_open_memory(a, t.data, cap, &used) == ARCHIVE_OK);
		add(a, "caf\xc3\xa9/na\xc3\xafve", AE_IFREG, NULL, 3);
		add(a, "latin\xe9", AE_IFLNK, "to\xff\xfe", 0);
		CHECK(archive_write_close(a) == ARCHIVE_OK);
		archive_write_free(a);
		t.len = used;
		blob = blob_of(&t, "gzip", diff_id);
		got = read_blob(blob, diff_id, &rc, &err);
		CHECK_STR(got, "caf\xc3\xa9/na\xc3\xafve f\nlatin\xe9 l to\xff\xfe\n");
		free(got);
		unlink(blob);
		free(blob);
		free(t.data);
	}
}

/* A blob from raw bytes (no compression): the path, and the diff_id of the bytes. */
static char *raw_blob(const void *data, size_t len, char diff_id[DK_DIGEST_SIZE])
{
	struct tar_buf t = { (char *)data, len };

	return blob_of(&t, NULL, diff_id);
}

static void test_read_refuses_damage(void)
{
	struct tar_buf t = make(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	char diff_id[DK_DIGEST_SIZE], *blob, *got, *with_junk;
	struct dk_err err;
	int rc;

	/* cut inside the contents of usr/bin/sh: the 4th header is at 1536, its data follows */
	blob = raw_blob(t.data, 1536 + 512 + 100, diff_id);
	got = read_blob(blob, diff_id, &rc, &err);
	CHECK(rc != 0 && err.code == DK_E_CORRUPT);
	CHECK(strstr(got, "./bin l usr/bin\n") != NULL);         /* the entries before the damage were read */
	CHECK(strstr(err.msg, blob) && strstr(err.msg, "not a tar stream, or a damaged one"));
	free(got);
	unlink(blob);
	free(blob);
	/* a name byte of the second header: its checksum no longer holds */
	t.data[512 + 3] ^= 0x20;
	blob = raw_blob(t.data, t.len, diff_id);
	got = read_blob(blob, diff_id, &rc, &err);
	CHECK(rc != 0 && err.code == DK_E_CORRUPT && strstr(err.msg, "damaged"));
	free(got);
	unlink(blob);
	free(blob);
	t.data[512 + 3] ^= 0x20;
	{
		char block[1024];

		memset(block, 'j', sizeof(block));
		blob = raw_blob(block, sizeof(block), diff_id);
		got = read_blob(blob, diff_id, &rc, &err);
		CHECK(rc != 0 && err.code == DK_E_CORRUPT && strstr(err.msg, blob));
		free(got);
		unlink(blob);
		free(blob);
	}
	/* bytes after the end-of-archive blocks are part of the diff_id: they are read and hashed */
	with_junk = dk_xmalloc(t.len + 5);
	memcpy(with_junk, t.data, t.len);
	memcpy(with_junk + t.len, "junk!", 5);
	blob = raw_blob(with_junk, t.len + 5, diff_id);
	got = read_blob(blob, diff_id, &rc, &err);
	CHECK(rc == 0);
	free(got);
	dk_sha256_buf(t.data, t.len, diff_id);
	got = read_blob(blob, diff_id, &rc, &err);
	CHECK(rc != 0 && err.code == DK_E_CORRUPT && strstr(err.msg, "not to the diff_id"));
	free(got);
	unlink(blob);
	free(blob);
	free(with_junk);
	/* another compression than the table's (xz): not undone, so no tar */
	{
		struct archive *a = archive_write_new();
		size_t cap = 1 << 16, used = 0;
		char *xz = dk_xmalloc(cap);

		archive_write_set_format(a, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
		CHECK(archive_write_add_filter_xz(a) == ARCHIVE_OK);
		CHECK(archive_write_open_memory(a, xz, cap, &used) == ARCHIVE_OK);
		add(a, "file", AE_IFREG, NULL, 10);
		CHECK(archive_write_close(a) == ARCHIVE_OK);
		archive_write_free(a);
		blob = raw_blob(xz, used, diff_id);
		got = read_blob(blob, diff_id, &rc, &err);
		CHECK(rc != 0 && err.code == DK_E_CORRUPT && strstr(got, "file") == NULL);
		free(got);
		unlink(blob);
		free(blob);
		free(xz);
	}
	/* a missing file: an I/O error, not a damaged layer */
	got = read_blob("/nonexistent/layer", diff_id, &rc, &err);
	CHECK(rc != 0 && err.code == DK_E_IO);
	free(got);
	free(t.data);
}

/* ------------------------------------------------------------ layer maps */

static char *map_text(const struct dk_layer_map *m)
{
	static const char *const ops[] = { "w", "o", "d", "l", "f" };
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < m->n; i++)
		sb_addf(&sb, "%s %s%s%s\n", ops[m->v[i].op], m->v[i].path, m->v[i].target ? " -> " : "",
			m->v[i].target ? m->v[i].target : "");
	return sb_detach(&sb);
}

static void test_map_whiteouts_and_order(void)
{
	struct dk_layer_map m;
	char *text;

	dk_layer_map_init(&m);
	dk_layer_map_add(&m, "./usr/bin/", DK_ENT_DIR, NULL);
	dk_layer_map_add(&m, "/bin", DK_ENT_SYMLINK, "usr/bin");
	dk_layer_map_add(&m, "etc/.wh.old.conf", DK_ENT_FILE, NULL);
	dk_layer_map_add(&m, "var/cache/.wh..wh..opq", DK_ENT_FILE, NULL);
	dk_layer_map_add(&m, ".wh..wh..opq", DK_ENT_FILE, NULL);
	dk_layer_map_add(&m, "var/.wh..wh.plnk", DK_ENT_FILE, NULL);    /* AUFS's own: nothing */
	dk_layer_map_add(&m, "var/.wh.", DK_ENT_FILE, NULL);            /* names nothing */
	dk_layer_map_add(&m, "../escape", DK_ENT_FILE, NULL);
	dk_layer_map_add(&m, "./", DK_ENT_DIR, NULL);
	dk_layer_map_add(&m, "bin", DK_ENT_DIR, NULL);                  /* the later entry for a path wins */
	dk_layer_map_add(&m, "usr/bin/ash", DK_ENT_HARDLINK, "usr/bin/sh");
	dk_layer_map_finish(&m);
	text = map_text(&m);
	CHECK_STR(text, "w etc/old.conf\n"
			"o \n"
			"o var/cache\n"
			"d bin\n"
			"d usr/bin\n"
			"f usr/bin/ash\n");
	free(text);
	dk_layer_map_release(&m);
}

static const char *id1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
static const char *id2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

static void test_map_encoding(void)
{
	struct dk_layer_map m, back;
	struct dk_err err;
	char *buf, *a, *b;
	size_t len;

	dk_layer_map_init(&m);
	dk_layer_map_add(&m, "bin", DK_ENT_SYMLINK, "usr/bin");
	dk_layer_map_add(&m, "odd\nname\twith bytes \xff", DK_ENT_SYMLINK, "/abs/\xfe");
	dk_layer_map_add(&m, "usr/.wh.games", DK_ENT_FILE, NULL);
	dk_layer_map_add(&m, "usr/bin", DK_ENT_DIR, NULL);
	dk_layer_map_finish(&m);
	buf = dk_layer_map_encode(&m, id1, &len);
	dk_layer_map_init(&back);
	CHECK(dk_layer_map_decode(buf, len, id1, &back, &err) == 0);
	a = map_text(&m);
	b = map_text(&back);
	CHECK_STR(b, a);
	free(a);
	free(b);
	dk_layer_map_release(&back);
	CHECK(dk_layer_map_decode(buf, len, id2, &back, &err) < 0);    /* another layer's map */
	CHECK(err.code == DK_E_CORRUPT);
	CHECK(dk_layer_map_decode(buf, len - 1, id1, &back, &err) < 0); /* cut */
	CHECK(back.n == 0);
	buf[strlen("derrick-layer-map-2 ") + 72] = 'q';                /* an unknown record */
	CHECK(dk_layer_map_decode(buf, len, id1, &back, &err) < 0);
	free(buf);
	dk_layer_map_release(&m);
}

static void test_map_of_a_stored_layer(void)
{
	struct tar_buf t = make(ARCHIVE_FORMAT_TAR_GNUTAR);
	char diff_id[DK_DIGEST_SIZE], *blob = blob_of(&t, "gzip", diff_id), *text;
	struct dk_layer_map m;
	struct dk_err err;

	dk_layer_map_init(&m);
	CHECK(dk_layer_map_read_blob(blob, diff_id, &m, &err) == 0);
	text = map_text(&m);
	CHECK(strstr(text, "w etc/old.conf\nl bin -> usr/bin\n") == text);
	CHECK(strstr(text, "d usr/bin\nf usr/bin/ash\nf usr/bin/sh\n") != NULL);
	CHECK(strstr(text, "f pipe\n") != NULL);
	free(text);
	dk_layer_map_release(&m);
	CHECK(dk_layer_map_read_blob(blob, id1, &m, &err) < 0);
	CHECK(err.code == DK_E_CORRUPT && strstr(err.msg, "not to the diff_id") != NULL);
	CHECK(m.n == 0);
	unlink(blob);
	free(blob);
	/* an uncompressed layer (a base may have those), and a file that is neither */
	{
		char *plain = dk_tmp_path("dk-map-XXXXXX");
		int fd = mkstemp(plain);

		CHECK(write(fd, t.data, t.len) == (ssize_t)t.len);
		close(fd);
		CHECK(dk_layer_map_read_blob(plain, diff_id, &m, &err) == 0);
		CHECK(m.n == 9);
		dk_layer_map_release(&m);
		fd = open(plain, O_WRONLY | O_TRUNC);
		CHECK(write(fd, "not a layer", 11) == 11);
		close(fd);
		CHECK(dk_layer_map_read_blob(plain, diff_id, &m, &err) < 0);
		CHECK(err.code == DK_E_CORRUPT && strstr(err.msg, plain) != NULL);
		CHECK(m.n == 0);
		unlink(plain);
		free(plain);
	}
	free(t.data);
}

/* Why maps are of format 2: a regular file named like a directory is one, as GNU tar reads it. */
static void test_map_reads_like_gnu_tar(void)
{
	struct archive *a = archive_write_new();
	size_t cap = 1 << 16, used = 0;
	struct tar_buf t = { dk_xmalloc(cap), 0 };
	char diff_id[DK_DIGEST_SIZE], *blob, *text;
	struct dk_layer_map m;
	struct dk_err err;

	archive_write_set_format(a, ARCHIVE_FORMAT_TAR_USTAR);
	CHECK(archive_write_open_memory(a, t.data, cap, &used) == ARCHIVE_OK);
	add(a, "dir0/", AE_IFREG, NULL, 0);
	add(a, "file", AE_IFREG, NULL, 0);
	CHECK(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
	t.len = used;
	CHECK(t.data[156] == '0');      /* the writer kept the type: a regular file */
	blob = blob_of(&t, NULL, diff_id);
	dk_layer_map_init(&m);
	CHECK(dk_layer_map_read_blob(blob, diff_id, &m, &err) == 0);
	CHECK_STR(text = map_text(&m), "d dir0\nf file\n");
	free(text);
	dk_layer_map_release(&m);
	unlink(blob);
	free(blob);
	free(t.data);
}

/* ------------------------------------------------------------ the tree and resolving */

/* A tree from "op path [target]" lines, one layer per string. */
static struct dk_symview *tree(const char *const *layers)
{
	struct dk_symview *v = dk_symview_new();

	for (; *layers; layers++) {
		struct dk_layer_map m;
		char *copy = dk_xstrdup(*layers), *save = NULL;

		dk_layer_map_init(&m);
		for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *path = line + 2, *arrow = strstr(path, " -> ");

			if (arrow)
				*arrow = '\0';
			dk_layer_map_add(&m, path, line[0] == 'd' ? DK_ENT_DIR : line[0] == 'l' ? DK_ENT_SYMLINK : DK_ENT_FILE,
					 arrow ? arrow + 4 : NULL);
		}
		dk_layer_map_finish(&m);
		dk_symview_apply(v, &m);
		dk_layer_map_release(&m);
		free(copy);
	}
	return v;
}

static char *resolved(const struct dk_symview *v, const char *path, int follow_last)
{
	struct dk_err err;
	char *out;

	if (dk_symview_resolve(v, path, follow_last, &out, &err) < 0)
		return dk_xasprintf("error: %s", err.msg);
	return out;
}

#define CHECK_RESOLVES(v, path, follow, want)                  \
	do {                                                   \
		char *got_ = resolved((v), (path), (follow));  \
		CHECK_STR(got_, (want));                       \
		free(got_);                                    \
	} while (0)

static void test_resolve(void)
{
	static const char *const base[] = {
		"d usr/bin\n"
		"l bin -> usr/bin\n"
		"l srv/app -> ../opt/app\n"
		"l a -> b\n"
		"l b -> c/d\n"
		"l etc/alt -> /usr/share/alt\n"
		"l up -> ../../../../usr\n"
		"l loop1 -> loop2\n"
		"l loop2 -> loop1\n"
		"l self -> self\n"
		"l empty -> \n"
		"f file\n"
		"l usr/bin/sh -> dash\n"
		"l usr/bin/rel -> ../lib\n",
		NULL
	};
	struct dk_symview *v = tree(base);

	CHECK_RESOLVES(v, "bin/tool", 0, "usr/bin/tool");
	CHECK_RESOLVES(v, "bin", 1, "usr/bin");
	CHECK_RESOLVES(v, "bin", 0, "bin");                     /* a file put at bin replaces the link */
	CHECK_RESOLVES(v, "srv/app/x", 0, "opt/app/x");         /* dangling: the target is created */
	CHECK_RESOLVES(v, "a/x", 0, "c/d/x");                   /* a chain */
	CHECK_RESOLVES(v, "etc/alt/x", 0, "usr/share/alt/x");   /* absolute: from the image root */
	CHECK_RESOLVES(v, "up/x", 0, "usr/x");                  /* ".." stops at the image root */
	CHECK_RESOLVES(v, "bin/rel/x", 0, "usr/lib/x");         /* ".." after a link: from where it led */
	CHECK_RESOLVES(v, "bin/sh", 0, "usr/bin/sh");           /* the last component is not followed */
	CHECK_RESOLVES(v, "bin/sh", 1, "usr/bin/dash");
	CHECK_RESOLVES(v, "file/x", 0, "file/x");               /* below a file: replaced, nothing to follow */
	CHECK_RESOLVES(v, "./usr//bin/./x", 0, "usr/bin/x");
	CHECK_RESOLVES(v, "", 1, "");
	CHECK_RESOLVES(v, "loop1/x", 0, "error: /loop1/x: more than 40 symlinks of the image met on the way (a loop?)");
	CHECK_RESOLVES(v, "self", 1, "error: /self: more than 40 symlinks of the image met on the way (a loop?)");
	CHECK_RESOLVES(v, "empty/x", 0, "error: /empty/x: /empty is a symlink with an empty target in the image");
	dk_symview_free(v);
}

static void test_later_layers_replace_links(void)
{
	static const char *const layers[] = {
		"l bin -> usr/bin\n"
		"l lib -> usr/lib\n"
		"l sbin -> usr/sbin\n"
		"l data -> /var/data\n"
		"d opt/tools\n"
		"l opt/tools/cur -> v1\n"
		"l home -> /srv/home\n",
		/* a directory replaces a link, as do a whiteout, a file, and a directory's own entries */
		"d data\n"
		"w .wh.lib\n"
		"f sbin\n"
		"f home/user/.profile\n"
		"w opt/.wh..wh..opq\n",
		NULL
	};
	struct dk_symview *v = tree(layers);

	CHECK_RESOLVES(v, "bin/x", 0, "usr/bin/x");
	CHECK_RESOLVES(v, "data/x", 0, "data/x");
	CHECK_RESOLVES(v, "lib/x", 0, "lib/x");
	CHECK_RESOLVES(v, "sbin/x", 0, "sbin/x");
	CHECK_RESOLVES(v, "home/x", 0, "home/x");
	CHECK_RESOLVES(v, "opt/tools/cur/x", 0, "opt/tools/cur/x");
	dk_symview_free(v);
}

/* ------------------------------------------------------------ placing a layer */

static struct dk_entry *entry(struct dk_entries *l, const char *path, enum dk_etype type, const char *link)
{
	struct dk_entry *e = dk_entries_add(l);

	e->path = dk_xstrdup(path);
	e->type = type;
	e->link = link ? dk_xstrdup(link) : NULL;
	return e;
}

static char *paths(const struct dk_entries *l)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < l->n; i++)
		sb_addf(&sb, "%s%s%s\n", l->v[i].path, l->v[i].link ? " => " : "", l->v[i].link ? l->v[i].link : "");
	return sb_detach(&sb);
}

static const char *const merged_usr[] = {
	"d usr/bin\nd usr/lib\nl bin -> usr/bin\nl lib -> usr/lib\nl srv/app -> ../opt/app\nd data\n"
	"l data/link -> /etc\nl usr/local/cur -> /usr/bin\n",
	NULL
};

static void test_place_file_dest(void)
{
	struct dk_symview *v = tree(merged_usr);
	struct dk_entries l;
	struct dk_err err;
	char *key, *text;

	/* dest /bin/mytool, as dk_walk gives it: the parent, then the file */
	dk_entries_init(&l);
	dk_entries_add_parents(&l, "bin");
	entry(&l, "bin/mytool", DK_ENT_FILE, NULL);
	CHECK(dk_symview_place(v, &l, "bin/mytool", &key, &err) == 0);
	CHECK(key != NULL && !strncmp(key, "symlinks=", 9));
	CHECK(dk_entries_finish(&l, &err) == 0);
	text = paths(&l);
	CHECK_STR(text, "usr\nusr/bin\nusr/bin/mytool\n");
	free(text);
	free(key);
	dk_entries_release(&l);
	dk_symview_free(v);
}

static void test_place_root_source(void)
{
	struct dk_symview *v = tree(merged_usr);
	struct dk_entries l, again;
	struct dk_err err;
	char *key, *key2, *text;

	/* dest "/" with bin/x, a hardlink into it, and lib itself */
	dk_entries_init(&l);
	entry(&l, "bin", DK_ENT_DIR, NULL);
	entry(&l, "bin/x", DK_ENT_FILE, NULL);
	entry(&l, "bin/y", DK_ENT_HARDLINK, "bin/x");
	entry(&l, "lib", DK_ENT_DIR, NULL);
	entry(&l, "srv/app/conf", DK_ENT_FILE, NULL);
	entry(&l, "etc/z", DK_ENT_FILE, NULL);
	CHECK(dk_symview_place(v, &l, "", &key, &err) == 0);
	CHECK(dk_entries_finish(&l, &err) == 0);
	text = paths(&l);
	CHECK_STR(text, "etc/z\nopt\nopt/app\nopt/app/conf\nusr\nusr/bin\nusr/bin/x\nusr/bin/y => usr/bin/x\nusr/lib\n");
	free(text);
	/* the key text is the same for the same moves, and absent when nothing moves */
	dk_entries_init(&again);
	entry(&again, "bin", DK_ENT_DIR, NULL);
	entry(&again, "bin/x", DK_ENT_FILE, NULL);
	entry(&again, "bin/y", DK_ENT_HARDLINK, "bin/x");
	entry(&again, "lib", DK_ENT_DIR, NULL);
	entry(&again, "srv/app/conf", DK_ENT_FILE, NULL);
	entry(&again, "etc/z", DK_ENT_FILE, NULL);
	CHECK(dk_symview_place(v, &again, "", &key2, &err) == 0);
	CHECK_STR(key2, key);
	free(key2);
	dk_entries_release(&again);
	dk_entries_init(&again);
	entry(&again, "etc/z", DK_ENT_FILE, NULL);
	entry(&again, "usr/bin/q", DK_ENT_FILE, NULL);
	CHECK(dk_symview_place(v, &again, "", &key2, &err) == 0);
	CHECK(key2 == NULL);
	dk_entries_release(&again);
	free(key);
	dk_entries_release(&l);
	dk_symview_free(v);
}

static void test_place_refusals(void)
{
	struct dk_symview *v = tree(merged_usr);
	struct dk_entries l;
	struct dk_err err;
	char *key;

	/* dest /data: data/link/passwd would be /etc/passwd */
	dk_entries_init(&l);
	dk_entries_add_parents(&l, "data");
	entry(&l, "data/link", DK_ENT_DIR, NULL);
	entry(&l, "data/link/passwd", DK_ENT_FILE, NULL);
	CHECK(dk_symview_place(v, &l, "data", &key, &err) < 0);
	CHECK_STR(err.msg, "/data/link leads to /etc through the image's symlinks: outside /data, where dest /data leads");
	dk_entries_release(&l);
	/* dest /usr/local: its symlink cur leads out of it */
	dk_entries_init(&l);
	dk_entries_add_parents(&l, "usr/local");
	entry(&l, "usr/local/cur/tool", DK_ENT_FILE, NULL);
	CHECK(dk_symview_place(v, &l, "usr/local", &key, &err) < 0);
	CHECK(strstr(err.msg, "/usr/local/cur/tool leads to /usr/bin/tool") == err.msg);
	dk_entries_release(&l);
	/* ... while a dest that is itself behind a symlink is followed */
	dk_entries_init(&l);
	dk_entries_add_parents(&l, "srv/app");
	entry(&l, "srv/app/x", DK_ENT_FILE, NULL);
	CHECK(dk_symview_place(v, &l, "srv/app", &key, &err) == 0);
	free(key);
	dk_entries_release(&l);
	/* a file moved below a symlink of its own layer */
	dk_entries_init(&l);
	entry(&l, "usr/bin", DK_ENT_SYMLINK, "/opt");
	entry(&l, "bin/x", DK_ENT_FILE, NULL);
	CHECK(dk_symview_place(v, &l, "", &key, &err) < 0);
	CHECK_STR(err.msg, "/usr/bin/x would be written below /usr/bin, a symlink of the same layer");
	dk_entries_release(&l);
	dk_symview_free(v);
}

/* The key of what could move a layer's entries: symlinks on the way and below dest count, files below do not. */
static void test_key(void)
{
	static const char *const plain[] = { "d usr/local/lib\n", NULL };
	static const char *const with_file[] = { "d usr/local/lib\nf usr/local/lib/x.py\n", NULL };
	static const char *const link_below[] = { "d usr/local/lib\nl usr/local/lib/python3 -> /opt/py\n", NULL };
	static const char *const link_below2[] = { "d usr/local/lib\nl usr/local/lib/python3 -> /opt/py2\n", NULL };
	static const char *const link_on_way[] = { "d opt/local/lib\nl usr -> opt\n", NULL };
	static const char *const link_outside[] = { "d usr/local/lib\nl etc/x -> /usr\n", NULL };
	static const char *const dir_has[] = { "d usr/local/lib/python3.11/dist-packages/yaml-6.dist-info\n"
					       "f usr/local/lib/python3.11/dist-packages/six.py\n", NULL };
	const char *const *trees[] = { plain, with_file, link_below, link_below2, link_on_way, link_outside };
	char keys[6][DK_DIGEST_HEX + 1], none[DK_DIGEST_HEX + 1];
	struct dk_err err;
	char **names;
	size_t n;

	for (size_t i = 0; i < 6; i++) {
		struct dk_symview *v = tree(trees[i]);

		dk_symview_key(v, "usr/local", keys[i]);
		dk_symview_free(v);
	}
	dk_symview_key(NULL, "usr/local", none);
	CHECK(!strcmp(keys[0], keys[1]));       /* a file below dest moves nothing */
	CHECK(!strcmp(keys[0], keys[5]));       /* nor does a symlink elsewhere */
	CHECK(strcmp(keys[0], keys[2]) && strcmp(keys[2], keys[3]));   /* a symlink below, and its target */
	CHECK(strcmp(keys[0], keys[4]));        /* a symlink on the way */
	CHECK(strlen(none) == DK_DIGEST_HEX);
	{
		struct dk_symview *v = tree(dir_has);

		CHECK(dk_symview_children(v, "usr/local/lib/python3.11/dist-packages", &names, &n, &err) == 0);
		CHECK(n == 2 && !strcmp(names[0], "six.py") && !strcmp(names[1], "yaml-6.dist-info") && !names[2]);
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		CHECK(dk_symview_children(v, "usr/nothing", &names, &n, &err) == 0 && n == 0 && !names);
		dk_symview_free(v);
	}
}

/* A map from "op path" lines (tree's format, without symlinks). */
static void map_of(const char *text, struct dk_layer_map *m)
{
	char *copy = dk_xstrdup(text), *save = NULL;

	dk_layer_map_init(m);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		dk_layer_map_add(m, line + 2, line[0] == 'd' ? DK_ENT_DIR : DK_ENT_FILE, NULL);
	dk_layer_map_finish(m);
	free(copy);
}

/* Who wrote a path: per record, or one label per layer; directories keep their maker; the key ignores owners. */
static void test_owners(void)
{
	static const char *const base[] = { "d usr/lib\nf usr/lib/base.py\n", NULL };
	struct dk_symview *v = tree(base), *plain = tree(base);
	struct dk_layer_map m;
	/* two writers and a fallback, NUL-separated, as build.c gives them */
	static const char labels[] = "a.whl\0b.whl\0the layer";
	char k1[DK_DIGEST_HEX + 1], k2[DK_DIGEST_HEX + 1];
	size_t which[8];

	map_of("d usr/lib\nd usr/lib/ns\nf usr/lib/ns/a.py\nf usr/lib/ns/b.py\nf usr/lib/base.py\n", &m);
	/* the map's order: usr/lib, usr/lib/base.py, usr/lib/ns, usr/lib/ns/a.py, usr/lib/ns/b.py */
	CHECK(m.n == 5 && !strcmp(m.v[1].path, "usr/lib/base.py") && !strcmp(m.v[3].path, "usr/lib/ns/a.py"));
	which[0] = 12;
	which[1] = 6;
	which[2] = 0;
	which[3] = 0;
	which[4] = 6;
	dk_symview_apply_owned(v, &m, labels, sizeof(labels), which);
	dk_symview_apply(plain, &m);
	dk_layer_map_release(&m);
	CHECK_STR(dk_symview_owner(v, "usr/lib/ns/a.py"), "a.whl");
	CHECK_STR(dk_symview_owner(v, "usr/lib/ns/b.py"), "b.whl");
	CHECK_STR(dk_symview_owner(v, "usr/lib/base.py"), "b.whl");     /* a file takes its new writer */
	CHECK(dk_symview_owner(v, "usr/lib") == NULL);                  /* the base made it, and keeps it */
	CHECK_STR(dk_symview_owner(v, "usr/lib/ns"), "a.whl");
	CHECK(dk_symview_owner(v, "usr/nothing") == NULL && dk_symview_owner(NULL, "usr") == NULL);
	/* a layer the caches had: one label for all; a file over a file takes it, a directory stays */
	map_of("d usr/lib/ns\nf usr/lib/ns/a.py\n", &m);
	dk_symview_apply_owned(v, &m, "one of c.whl, d.whl", 20, NULL);
	dk_symview_apply(plain, &m);
	dk_layer_map_release(&m);
	CHECK_STR(dk_symview_owner(v, "usr/lib/ns/a.py"), "one of c.whl, d.whl");
	CHECK_STR(dk_symview_owner(v, "usr/lib/ns"), "a.whl");
	/* a layer without owners, over a file that had one */
	map_of("f usr/lib/ns/b.py\n", &m);
	dk_symview_apply(v, &m);
	dk_symview_apply(plain, &m);
	dk_layer_map_release(&m);
	CHECK(dk_symview_owner(v, "usr/lib/ns/b.py") == NULL);
	dk_symview_key(v, "usr/lib", k1);
	dk_symview_key(plain, "usr/lib", k2);
	CHECK_STR(k1, k2);
	dk_symview_free(v);
	dk_symview_free(plain);
}

int main(void)
{
	RUN(test_read_agrees_with_libarchive);
	RUN(test_read_keeps_name_bytes);
	RUN(test_read_refuses_damage);
	RUN(test_map_whiteouts_and_order);
	RUN(test_map_encoding);
	RUN(test_map_of_a_stored_layer);
	RUN(test_map_reads_like_gnu_tar);
	RUN(test_resolve);
	RUN(test_later_layers_replace_links);
	RUN(test_place_file_dest);
	RUN(test_place_root_source);
	RUN(test_place_refusals);
	RUN(test_key);
	RUN(test_owners);
	return tap_done();
}
