/*
 * test_changed.c - a file that is not what the walk saw, or not what its
 * content hash says, fails the tar writer and the key pass with
 * DK_E_CHANGED naming it; nothing else does.  (The build's re-read and its
 * caches: tests/e2e/cache_honesty.sh.)
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "derrick/lcache.h"
#include "derrick/tarw.h"
#include "derrick/util.h"
#include "derrick/walk.h"
#include "tap.h"

static char root[] = "/tmp/dk-changed-XXXXXX";
/* SHA-256 of "hello\n" */
static const char hello_hex[] = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

/* Write root/rel in place (its inode stays when it exists); returns its path. */
static char *put(const char *rel, const char *content)
{
	char *p = dk_path_join(root, rel), *dir = dk_dirname(p);
	struct dk_err err;
	int fd;

	CHECK(dk_mkdir_p(dir, 0755, &err) == 0);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	CHECK(dk_write_all(fd, content, strlen(content), p, &err) == 0);
	close(fd);
	free(dir);
	return p;
}

/* The entries of root/tree (one file, f), walked now. */
static void walk(struct dk_entries *l, struct dk_entry **f)
{
	char *tree = dk_path_join(root, "tree");
	struct dk_walk_stats st;
	struct dk_err err;

	dk_entries_init(l);
	CHECK(dk_walk(tree, "app", NULL, NULL, l, &st, &err) == 0);
	CHECK(dk_entries_finish(l, &err) == 0);
	*f = NULL;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].type == DK_ENT_FILE)
			*f = &l->v[i];
	CHECK(*f != NULL);
	free(tree);
}

static const struct dk_tar_opts opts = { 0, 0, 0, -1, -1 };

/* dk_tar_write of l into /dev/null: 0, or -1 with err. */
static int tar(const struct dk_entries *l, struct dk_err *err)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct dk_sink *s = dk_sink_fd(fd, "/dev/null");
	int rc = dk_tar_write(l, &opts, s, err);

	dk_sink_free(s);
	close(fd);
	return rc;
}

/* Both readers refuse the entry with DK_E_CHANGED, naming the file and saying `how`. */
static void expect_changed(const struct dk_entries *l, const struct dk_entry *f, const char *how)
{
	char hex[DK_DIGEST_HEX + 1];
	struct dk_err err;

	memset(&err, 0, sizeof(err));
	CHECK(tar(l, &err) < 0);
	CHECK(err.code == DK_E_CHANGED);
	CHECK(strstr(err.msg, f->src) != NULL);
	CHECK(strstr(err.msg, how) != NULL);
	if (!f->content[0]) {
		memset(&err, 0, sizeof(err));
		CHECK(dk_tar_hash_content(f, l->spool_fd, hex, &err) < 0);
		CHECK(err.code == DK_E_CHANGED && strstr(err.msg, f->src) != NULL);
	}
}

static void test_unchanged_file_is_read_and_hashed(void)
{
	struct dk_entries l;
	struct dk_entry *f;
	char hex[DK_DIGEST_HEX + 1];
	struct dk_err err;

	free(put("tree/f.txt", "hello\n"));
	walk(&l, &f);
	CHECK(dk_tar_hash_content(f, l.spool_fd, hex, &err) == 0);
	CHECK_STR(hex, hello_hex);
	CHECK(tar(&l, &err) == 0);
	/* the hash the key was made of, checked on the way into the tar */
	memcpy(f->content, hex, sizeof(hex));
	CHECK(tar(&l, &err) == 0);
	dk_entries_release(&l);
}

static void test_content_not_what_was_hashed(void)
{
	struct dk_entries l;
	struct dk_entry *f;

	free(put("tree/f.txt", "hello\n"));
	walk(&l, &f);
	/* a stat record that lies, or a write the stat did not show: only the bytes tell */
	memset(f->content, 'a', DK_DIGEST_HEX);
	f->content[DK_DIGEST_HEX] = '\0';
	expect_changed(&l, f, "content");
	dk_entries_release(&l);
}

static void test_stat_moved_since_the_walk(void)
{
	struct dk_entries l;
	struct dk_entry *f;
	char *p;

	free(put("tree/f.txt", "hello\n"));
	/* grown: the header already says 6 bytes */
	walk(&l, &f);
	p = put("tree/f.txt", "hello, world\n");
	expect_changed(&l, f, "moved");
	dk_entries_release(&l);
	/* shrunk */
	walk(&l, &f);
	free(put("tree/f.txt", "hi\n"));
	expect_changed(&l, f, "moved");
	dk_entries_release(&l);
	/* the same size, written again: its times say so (set apart here, a clock tick may be long) */
	walk(&l, &f);
	f->mtime_ns -= 1000000000;
	expect_changed(&l, f, "moved");
	f->mtime_ns += 1000000000;
	f->ctime_ns -= 1000000000;
	expect_changed(&l, f, "moved");
	dk_entries_release(&l);
	/* removed */
	walk(&l, &f);
	CHECK(unlink(p) == 0);
	expect_changed(&l, f, "removed");
	/* replaced by a fifo: refused, and the build does not hang opening it */
	CHECK(mkfifo(p, 0644) == 0);
	expect_changed(&l, f, "moved");
	CHECK(unlink(p) == 0);
	dk_entries_release(&l);
	/* replaced by a symlink to another file with the same bytes: another inode */
	free(put("tree/f.txt", "hello\n"));
	free(put("other.txt", "hello\n"));
	walk(&l, &f);
	CHECK(unlink(p) == 0);
	CHECK(symlink("../other.txt", p) == 0);
	expect_changed(&l, f, "moved");
	CHECK(unlink(p) == 0);
	dk_entries_release(&l);
	free(p);
}

/* A file source that is a symlink is read through it, as the walk stat()ed it. */
static void test_symlinked_file_source(void)
{
	char *target = put("target.txt", "hello\n"), *link = dk_path_join(root, "link.txt");
	struct dk_entries l;
	struct dk_walk_stats st;
	struct dk_err err;
	char hex[DK_DIGEST_HEX + 1];

	CHECK(symlink("target.txt", link) == 0);
	dk_entries_init(&l);
	CHECK(dk_walk(link, "etc/x.txt", NULL, NULL, &l, &st, &err) == 0);
	CHECK(dk_entries_finish(&l, &err) == 0);
	CHECK(l.n == 2 && l.v[1].type == DK_ENT_FILE);
	if (l.n == 2) {
		CHECK(dk_tar_hash_content(&l.v[1], l.spool_fd, hex, &err) == 0);
		CHECK_STR(hex, hello_hex);
		memcpy(l.v[1].content, hex, sizeof(hex));
		CHECK(tar(&l, &err) == 0);
	}
	dk_entries_release(&l);
	free(target);
	free(link);
}

/* root/NAME: a tar of root/tree as it is now, written by the tar writer. */
static char *tar_of_tree(const char *name)
{
	char *path = dk_path_join(root, name);
	struct dk_entries l;
	struct dk_entry *f;
	struct dk_err err;
	struct dk_sink *s;
	int fd;

	walk(&l, &f);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	s = dk_sink_fd(fd, path);
	CHECK(dk_tar_write(&l, &opts, s, &err) == 0);
	dk_sink_free(s);
	close(fd);
	dk_entries_release(&l);
	return path;
}

/* The key of a layer of `l` read from `source`, in cache c. */
static char *key_of(struct dk_lcache *c, const char *source, struct dk_entries *l)
{
	char key[DK_DIGEST_SIZE];
	struct dk_err err;

	CHECK(dk_lcache_key(c, source, l, "test", key, &err) == 0);
	return dk_xstrdup(key);
}

/* A tar layer's key is made of the bytes its entries came from, not of the file as it is later. */
static void test_tar_key_is_what_was_read(void)
{
	char *cache = dk_path_join(root, "cache"), *a, *b, *in = dk_path_join(root, "in.tar"), *k1, *k2, *kb;
	char d[DK_DIGEST_SIZE];
	struct dk_lcache *c;
	struct dk_entries l, lb;
	struct dk_err err;

	free(put("tree/f.txt", "hello\n"));
	a = tar_of_tree("a.tar");
	free(put("tree/f.txt", "HELLO\n"));
	b = tar_of_tree("b.tar");
	CHECK(dk_lcache_open(cache, &c, &err) == 0);
	CHECK(rename(a, in) == 0);
	dk_entries_init(&l);
	CHECK(dk_tar_read(in, "opt", &l, &err) == 0);
	CHECK(dk_sha256_file(in, d, NULL, &err) == 0);
	CHECK_STR(l.input_hash, dk_digest_hex(d));
	k1 = key_of(c, in, &l);
	/* the tar replaced after it was read, before the key: the key still says what was read */
	CHECK(rename(b, in) == 0);
	k2 = key_of(c, in, &l);
	CHECK_STR(k2, k1);
	dk_entries_init(&lb);
	CHECK(dk_tar_read(in, "opt", &lb, &err) == 0);
	kb = key_of(c, in, &lb);
	CHECK(strcmp(kb, k1) != 0);
	dk_entries_release(&l);
	dk_entries_release(&lb);
	dk_lcache_close(c);
	free(k1);
	free(k2);
	free(kb);
	free(a);
	free(b);
	free(in);
	free(cache);
}

/* A tar that changes while it is read is DK_E_CHANGED, and gives no hash. */
static void test_tar_changed_while_read(void)
{
	char *t, hex[DK_DIGEST_HEX + 1] = "";
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	struct dk_tar_input *in = NULL;
	struct dk_err err;
	int fd;

	free(put("tree/f.txt", "hello\n"));
	t = tar_of_tree("c.tar");
	archive_read_support_format_tar(a);
	CHECK(dk_tar_input_open(a, t, &in, &err) == 0);
	CHECK(archive_read_next_header(a, &ae) == ARCHIVE_OK);
	/* another writer appends to it meanwhile */
	fd = open(t, O_WRONLY | O_APPEND | O_CLOEXEC);
	CHECK(fd >= 0 && write(fd, "more", 4) == 4);
	close(fd);
	memset(&err, 0, sizeof(err));
	CHECK(dk_tar_input_finish(in, hex, &err) < 0);
	CHECK(err.code == DK_E_CHANGED && strstr(err.msg, t) != NULL);
	CHECK(hex[0] == '\0');
	archive_read_free(a);
	dk_tar_input_free(in);
	free(t);
}

/* A file rewritten after its key was made fails the tar, whether its stat moved or not. */
static void test_rewritten_after_the_key(void)
{
	char *cache = dk_path_join(root, "cache2"), *tree = dk_path_join(root, "tree"), *k, *p;
	struct dk_lcache *c;
	struct dk_entries l;
	struct dk_entry *f;
	struct dk_err err;

	p = put("tree/f.txt", "hello\n");
	CHECK(dk_lcache_open(cache, &c, &err) == 0);
	walk(&l, &f);
	k = key_of(c, tree, &l);
	CHECK_STR(f->content, hello_hex);
	free(put("tree/f.txt", "HELLO\n"));
	/* as when the write falls in the same clock tick as the walk: only the bytes tell */
	{
		struct stat st;

		CHECK(stat(p, &st) == 0);
		f->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		f->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	}
	expect_changed(&l, f, "content");
	dk_entries_release(&l);
	dk_lcache_close(c);
	free(k);
	free(p);
	free(tree);
	free(cache);
}

static int64_t coarse_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME_COARSE, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Whether cache holds a stat record for `file` among those of source `dir`. */
static int has_record(const char *cache, const char *dir, const char *file)
{
	char real[PATH_MAX], id[DK_DIGEST_SIZE], *records, *text = NULL;
	struct dk_err err;
	size_t len;
	int found;

	CHECK(realpath(dir, real) != NULL);
	dk_sha256_buf(real, strlen(real), id);
	records = dk_xasprintf("%s/stat/%s", cache, dk_digest_hex(id));
	found = dk_read_file(records, 1 << 20, &text, &len, &err) == 0 && strstr(text, file) != NULL;
	free(text);
	free(records);
	return found;
}

/*
 * A file changed in the clock tick the key pass started in gets no stat
 * record: written again in that same tick, after it was read, its stat
 * would not move, and the record would lie.
 */
static void test_racy_file_gets_no_record(void)
{
	/* a cache on tmpfs when there is one: no fsync, so more attempts fit in one tick */
	char shm[] = "/dev/shm/dk-changed-XXXXXX";
	char *cache = mkdtemp(shm) ? dk_xstrdup(shm) : dk_path_join(root, "cache3");
	char *tree = dk_path_join(root, "tree"), *p = NULL, *k;
	struct dk_lcache *c;
	struct dk_entries l;
	struct dk_entry *f;
	struct dk_err err;
	int decided = 0;

	CHECK(dk_lcache_open(cache, &c, &err) == 0);
	/* the file written, listed and keyed within one tick of the clock file stamps come from */
	for (int attempt = 0; attempt < 50 && !decided; attempt++) {
		int64_t t0 = coarse_now();

		while (coarse_now() == t0)
			;
		t0 = coarse_now();
		free(p);
		p = put("tree/f.txt", attempt % 2 ? "tick\n" : "tock\n");
		walk(&l, &f);
		free(key_of(c, tree, &l));
		dk_entries_release(&l);
		if (coarse_now() != t0)
			continue;   /* the tick ended meanwhile: this attempt cannot tell */
		CHECK(!has_record(cache, tree, p));
		decided = 1;
	}
	CHECK(decided);
	/* a later key pass starts in a later tick: the file, unchanged since, is hashed and recorded */
	usleep(20000);
	walk(&l, &f);
	k = key_of(c, tree, &l);
	CHECK(has_record(cache, tree, p));
	dk_entries_release(&l);
	dk_lcache_close(c);
	dk_rm_rf(cache);
	free(k);
	free(p);
	free(tree);
	free(cache);
}

int main(void)
{
	CHECK(mkdtemp(root) != NULL);
	RUN(test_unchanged_file_is_read_and_hashed);
	RUN(test_content_not_what_was_hashed);
	RUN(test_stat_moved_since_the_walk);
	RUN(test_symlinked_file_source);
	RUN(test_tar_key_is_what_was_read);
	RUN(test_tar_changed_while_read);
	RUN(test_rewritten_after_the_key);
	RUN(test_racy_file_gets_no_record);
	dk_rm_rf(root);
	return tap_done();
}
