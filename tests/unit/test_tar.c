/*
 * test_tar.c - the walk and the normalised tar writer: order, metadata,
 * hardlinks, symlinks, long and non-ASCII names, excludes, tar input.
 */
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "derrick/ignore.h"
#include "derrick/tarw.h"
#include "derrick/util.h"
#include "derrick/walk.h"
#include "tap.h"

static char root[] = "/tmp/dk-tar-XXXXXX";

static void put(const char *rel, const char *content, mode_t mode)
{
	char *p = dk_path_join(root, rel);
	char *dir = dk_dirname(p);
	struct dk_err err;
	int fd;

	dk_mkdir_p(dir, 0700, &err);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd >= 0);
	CHECK(write(fd, content, strlen(content)) == (ssize_t)strlen(content));
	close(fd);
	chmod(p, mode);
	free(dir);
	free(p);
}

/* Walk root (with optional patterns) and write the tar to a temp file; returns its path. */
static char *make_tar(const char *dest, const char *const *patterns, struct dk_tar_opts *o)
{
	static int n;
	char *out = dk_xasprintf("%s.%d.tar", root, n++);
	struct dk_entries l;
	struct dk_walk_stats st;
	struct dk_ignore *ig = NULL;
	struct dk_err err;
	struct dk_sink *s;
	int fd;

	dk_entries_init(&l);
	if (patterns) {
		ig = dk_ignore_new();
		for (; *patterns; patterns++)
			CHECK(dk_ignore_add(ig, *patterns, "test", &err) == 0);
	}
	CHECK(dk_walk(root, dest, ig, NULL, &l, &st, &err) == 0);
	CHECK(dk_entries_finish(&l, &err) == 0);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	s = dk_sink_fd(fd, out);
	CHECK(dk_tar_write(&l, o, s, &err) == 0);
	dk_sink_free(s);
	close(fd);
	dk_entries_release(&l);
	dk_ignore_free(ig);
	return out;
}

static struct dk_tar_opts defaults = { 1700000000, 0, 0, -1, -1 };

/* "path type mode uid gid mtime [link]" per entry, one line each. */
static char *listing(const char *tarfile)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	struct strbuf sb = STRBUF_INIT;

	archive_read_support_format_tar(a);
	CHECK(archive_read_open_filename(a, tarfile, 10240) == ARCHIVE_OK);
	/* ARCHIVE_WARN: a UTF-8 name the test's "C" locale cannot show; the bytes are still there */
	for (int r; (r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN;) {
		const char *t = archive_entry_filetype(ae) == AE_IFDIR ? "d" :
				archive_entry_filetype(ae) == AE_IFLNK ? "l" :
				archive_entry_hardlink(ae) ? "h" : "f";

		sb_addf(&sb, "%s %s %04o %ld:%ld %ld", archive_entry_pathname(ae), t,
			(unsigned)archive_entry_perm(ae), (long)archive_entry_uid(ae),
			(long)archive_entry_gid(ae), (long)archive_entry_mtime(ae));
		if (archive_entry_symlink(ae))
			sb_addf(&sb, " -> %s", archive_entry_symlink(ae));
		if (archive_entry_hardlink(ae))
			sb_addf(&sb, " => %s", archive_entry_hardlink(ae));
		if (archive_entry_uname(ae) && *archive_entry_uname(ae))
			sb_addf(&sb, " uname=%s", archive_entry_uname(ae));
		if (archive_entry_atime_is_set(ae) || archive_entry_ctime_is_set(ae))
			sb_adds(&sb, " EXTRA-TIMES");
		sb_addc(&sb, '\n');
	}
	archive_read_free(a);
	return sb_detach(&sb);
}

static char *file_bytes(const char *path, size_t *len)
{
	char *data = NULL;
	struct dk_err err;

	CHECK(dk_read_file(path, 1 << 26, &data, len, &err) == 0);
	return data;
}

static void test_order_and_normalised_headers(void)
{
	char *t, *l;

	put("b.txt", "b", 0600);
	put("a-c/x", "x", 0644);
	put("a/z.sh", "#!/bin/sh\n", 0700);
	put("a/y", "y", 0444);
	{
		char *link = dk_path_join(root, "link");

		CHECK(symlink("a/y", link) == 0);
		free(link);
	}
	t = make_tar("app", NULL, &defaults);
	l = listing(t);
	CHECK_STR(l,
		  "app/ d 0755 0:0 1700000000\n"
		  "app/a/ d 0755 0:0 1700000000\n"
		  "app/a-c/ d 0755 0:0 1700000000\n"
		  "app/a-c/x f 0644 0:0 1700000000\n"
		  "app/a/y f 0644 0:0 1700000000\n"
		  "app/a/z.sh f 0755 0:0 1700000000\n"
		  "app/b.txt f 0644 0:0 1700000000\n"
		  "app/link l 0777 0:0 1700000000 -> a/y\n");
	free(l);
	unlink(t);
	free(t);
}

static void test_overrides_and_parents(void)
{
	struct dk_tar_opts o = { 0, 1000, 1001, 0640, 0750 };
	char *t = make_tar("usr/local/lib", (const char *const[]){ "a", "a-c", "link", NULL }, &o);
	char *l = listing(t);

	CHECK_STR(l,
		  "usr/ d 0750 1000:1001 0\n"
		  "usr/local/ d 0750 1000:1001 0\n"
		  "usr/local/lib/ d 0750 1000:1001 0\n"
		  "usr/local/lib/b.txt f 0640 1000:1001 0\n");
	free(l);
	unlink(t);
	free(t);
}

static void test_bytes_ignore_mtime_umask_and_order(void)
{
	char *t1, *t2, *b1, *b2, *p;
	size_t n1, n2;

	t1 = make_tar("", NULL, &defaults);
	/* touch everything, recreate a file: contents and names are all that count */
	p = dk_path_join(root, "b.txt");
	unlink(p);
	free(p);
	put("b.txt", "b", 0666);
	t2 = make_tar("", NULL, &defaults);
	b1 = file_bytes(t1, &n1);
	b2 = file_bytes(t2, &n2);
	CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
	/* no padding to 10 KiB: the archive ends right after its two zero blocks */
	CHECK(n1 % 512 == 0);
	CHECK(memcmp(b1 + n1 - 1024, (char[1024]){ 0 }, 1024) == 0);
	/* ustar header of the first entry: empty uname and gname */
	CHECK(b1[265] == '\0' && b1[297] == '\0');
	free(b1);
	free(b2);
	unlink(t1);
	unlink(t2);
	free(t1);
	free(t2);
}

static void test_hardlinks_inside_one_layer(void)
{
	char *a = dk_path_join(root, "hl/first"), *b = dk_path_join(root, "hl/second");
	char *t, *l;

	put("hl/first", "same inode", 0644);
	CHECK(link(a, b) == 0);
	t = make_tar("", (const char *const[]){ "*", "!hl", NULL }, &defaults);
	l = listing(t);
	CHECK_STR(l,
		  "hl/ d 0755 0:0 1700000000\n"
		  "hl/first f 0644 0:0 1700000000\n"
		  "hl/second h 0644 0:0 1700000000 => hl/first\n");
	free(l);
	unlink(t);
	free(t);
	/* only one name in the layer: a plain file */
	t = make_tar("", (const char *const[]){ "*", "!hl/second", NULL }, &defaults);
	l = listing(t);
	CHECK_STR(l, "hl/ d 0755 0:0 1700000000\nhl/second f 0644 0:0 1700000000\n");
	free(l);
	unlink(t);
	free(t);
	unlink(b);
	unlink(a);
	free(a);
	free(b);
}

static void test_long_and_non_ascii_names_do_not_depend_on_locale(void)
{
	char longname[300];
	char *t1, *t2, *b1, *b2, *l;
	size_t n1, n2;

	memset(longname, 'n', 180);
	strcpy(longname + 180, "/file.txt");
	put(longname, "long", 0644);
	put("i18n/b\xc3\xbc" "cher.txt", "u", 0644);
	setlocale(LC_ALL, "C");
	t1 = make_tar("", (const char *const[]){ "*", "!i18n", "!n*", NULL }, &defaults);
	setlocale(LC_ALL, "C.UTF-8");
	t2 = make_tar("", (const char *const[]){ "*", "!i18n", "!n*", NULL }, &defaults);
	setlocale(LC_ALL, "C");
	b1 = file_bytes(t1, &n1);
	b2 = file_bytes(t2, &n2);
	CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
	l = listing(t1);
	CHECK(strstr(l, "i18n/b\xc3\xbc" "cher.txt f 0644") != NULL);
	CHECK(strstr(l, "/file.txt f 0644") != NULL);
	CHECK(strstr(l, "EXTRA-TIMES") == NULL);
	free(l);
	free(b1);
	free(b2);
	unlink(t1);
	unlink(t2);
	free(t1);
	free(t2);
}

static void test_special_files_are_skipped(void)
{
	char *fifo = dk_path_join(root, "fifo-dir/pipe");
	char *t, *l;

	put("fifo-dir/keep", "k", 0644);
	CHECK(mkfifo(fifo, 0644) == 0);
	t = make_tar("", (const char *const[]){ "*", "!fifo-dir", NULL }, &defaults);
	l = listing(t);
	CHECK_STR(l, "fifo-dir/ d 0755 0:0 1700000000\nfifo-dir/keep f 0644 0:0 1700000000\n");
	free(l);
	unlink(t);
	free(t);
	unlink(fifo);
	free(fifo);
}

static void test_tar_input_is_renormalised(void)
{
	char *in = make_tar("", (const char *const[]){ "*", "!a", NULL }, &(struct dk_tar_opts){ 5, 7, 7, 0600, 0700 });
	struct dk_entries l;
	struct dk_err err;
	char *out = dk_xasprintf("%s.renorm.tar", root);
	char *listed;
	struct dk_sink *s;
	int fd;

	dk_entries_init(&l);
	CHECK(dk_tar_read(in, "opt", &l, &err) == 0);
	CHECK(dk_entries_finish(&l, &err) == 0);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	s = dk_sink_fd(fd, out);
	CHECK(dk_tar_write(&l, &defaults, s, &err) == 0);
	dk_sink_free(s);
	close(fd);
	dk_entries_release(&l);
	listed = listing(out);
	CHECK_STR(listed,
		  "opt/ d 0755 0:0 1700000000\n"
		  "opt/a/ d 0755 0:0 1700000000\n"
		  "opt/a/y f 0644 0:0 1700000000\n"
		  "opt/a/z.sh f 0644 0:0 1700000000\n");
	free(listed);
	unlink(in);
	unlink(out);
	free(in);
	free(out);
}

static void test_walk_errors(void)
{
	struct dk_entries l;
	struct dk_walk_stats st;
	struct dk_err err;
	char *missing = dk_path_join(root, "missing"), *dangling = dk_path_join(root, "dangling");

	dk_entries_init(&l);
	CHECK(dk_walk(missing, "x", NULL, NULL, &l, &st, &err) < 0);
	CHECK(err.code == DK_E_NOTFOUND && strstr(err.msg, missing) != NULL);
	CHECK(symlink("nowhere", dangling) == 0);
	CHECK(dk_walk(dangling, "x", NULL, NULL, &l, &st, &err) < 0);
	CHECK(strstr(err.msg, "dangling symlink") != NULL);
	dk_entries_release(&l);
	unlink(dangling);
	free(missing);
	free(dangling);
}

int main(void)
{
	CHECK(mkdtemp(root) != NULL);
	umask(077);
	RUN(test_order_and_normalised_headers);
	RUN(test_overrides_and_parents);
	RUN(test_bytes_ignore_mtime_umask_and_order);
	RUN(test_hardlinks_inside_one_layer);
	RUN(test_long_and_non_ascii_names_do_not_depend_on_locale);
	RUN(test_special_files_are_skipped);
	RUN(test_tar_input_is_renormalised);
	RUN(test_walk_errors);
	dk_rm_rf(root);
	return tap_done();
}
