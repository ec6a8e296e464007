/*
 * test_changed.c - a source that changes while derrick reads it never gives
 * a build-cache key that says one content and a layer that holds another.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "derrick/lcache.h"
#include "derrick/tarw.h"
#include "derrick/util.h"
#include "derrick/walk.h"
#include "tap.h"

static char root[] = "/tmp/dk-changed-XXXXXX";
static const struct dk_tar_opts opts = { 0, 0, 0, -1, -1 };

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
	CHECK(dk_walk(tree, "app", NULL, l, &st, &err) == 0);
	dk_entries_finish(l);
	*f = NULL;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].type == DK_ENT_FILE)
			*f = &l->v[i];
	CHECK(*f != NULL);
	free(tree);
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

int main(void)
{
	CHECK(mkdtemp(root) != NULL);
	RUN(test_tar_key_is_what_was_read);
	dk_rm_rf(root);
	return tap_done();
}
