/*
 * test_entries.c - every finished entry list unpacks as it reads: tar
 * sources resolved into the same shape as directory sources (hardlinks to
 * the first name in order), and the lists that would unpack otherwise
 * refused with the entry's name: through a symlink, below a file, to a
 * hardlink target that is not there, or with a name reserved for whiteouts.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "derrick/entry.h"
#include "derrick/tarw.h"
#include "derrick/util.h"
#include "derrick/walk.h"
#include "tap.h"

static char root[] = "/tmp/dk-entries-XXXXXX";

/*
 * A tar at root/in.tar from lines "TYPE NAME [ARG]", in archive order:
 * f NAME CONTENT, d NAME, l NAME TARGET (symlink), h NAME TARGET (hardlink),
 * p NAME (a fifo).
 */
static char *tar_of(const char *const *lines)
{
	char *path = dk_path_join(root, "in.tar");
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();

	archive_write_set_format_pax_restricted(a);
	CHECK(archive_write_open_filename(a, path) == ARCHIVE_OK);
	for (; *lines; lines++) {
		char type = (*lines)[0];
		const char *name = *lines + 2, *sp = strchr(name, ' ');
		char *n = dk_xstrndup(name, sp ? (size_t)(sp - name) : strlen(name));
		const char *arg = sp ? sp + 1 : "";

		archive_entry_clear(ae);
		archive_entry_copy_pathname(ae, n);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_filetype(ae, type == 'd' ? AE_IFDIR : type == 'l' ? AE_IFLNK :
					   type == 'p' ? AE_IFIFO : AE_IFREG);
		if (type == 'f')
			archive_entry_set_size(ae, (la_int64_t)strlen(arg));
		if (type == 'l')
			archive_entry_copy_symlink(ae, arg);
		if (type == 'h')
			archive_entry_copy_hardlink(ae, arg);
		CHECK(archive_write_header(a, ae) == ARCHIVE_OK);
		if (type == 'f')
			CHECK(archive_write_data(a, arg, strlen(arg)) == (la_ssize_t)strlen(arg));
		free(n);
	}
	CHECK(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
	return path;
}

/* One line per entry, "path TYPE [detail]": f content, d, l -> target, h => first name; or "error: MSG". */
static char *describe(struct dk_entries *l, int rc, const struct dk_err *err)
{
	static const char types[] = { [DK_ENT_FILE] = 'f', [DK_ENT_DIR] = 'd', [DK_ENT_SYMLINK] = 'l',
				      [DK_ENT_HARDLINK] = 'h', [DK_ENT_WHITEOUT] = 'w' };
	struct strbuf sb = STRBUF_INIT;

	if (rc < 0)
		return dk_xasprintf("error: %s", err->msg);
	for (size_t i = 0; i < l->n; i++) {
		const struct dk_entry *e = &l->v[i];

		sb_addf(&sb, "%s %c", e->path, types[e->type]);
		if (e->type == DK_ENT_FILE && !e->src) {
			char buf[64] = "";

			CHECK(e->size < sizeof(buf));
			CHECK(pread(l->spool_fd, buf, (size_t)e->size, (off_t)e->spool_off) == (ssize_t)e->size);
			sb_addf(&sb, " %s", buf);
		}
		if (e->type == DK_ENT_SYMLINK)
			sb_addf(&sb, " -> %s", e->link);
		if (e->type == DK_ENT_HARDLINK)
			sb_addf(&sb, " => %s", e->link);
		sb_addc(&sb, '\n');
	}
	return sb_detach(&sb);
}

/* The finished entries of a tar made from `lines`, below dest "x", described. */
static char *read_tar(const char *const *lines)
{
	char *tar = tar_of(lines), *out;
	struct dk_entries l;
	struct dk_err err;
	int rc;

	dk_entries_init(&l);
	rc = dk_tar_read(tar, "x", &l, &err);
	if (rc == 0)
		rc = dk_entries_finish(&l, &err);
	out = describe(&l, rc, &err);
	dk_entries_release(&l);
	unlink(tar);
	free(tar);
	return out;
}

#define TAR(...) read_tar((const char *const[]){ __VA_ARGS__, NULL })

static void check_tar(char *got, const char *want)
{
	CHECK_STR(got, want);
	free(got);
}

/* got must be an error containing each of the `want` strings. */
static void check_refused(char *got, const char *const *want)
{
	CHECK(!strncmp(got, "error: ", 7));
	for (; *want; want++)
		if (!strstr(got, *want)) {
			CHECK_STR(got, *want);
			break;
		}
	free(got);
}

#define REFUSED(got, ...) check_refused(got, (const char *const[]){ __VA_ARGS__, NULL })

/* `tar -cf in.tar b a` with a hardlinked to b: the first name in order holds the content. */
static void test_tar_hardlinks_point_forward(void)
{
	check_tar(TAR("f b hello", "h a b"), "x d\nx/a f hello\nx/b h => x/a\n");
	/* a chain a -> b -> c is one file with three names */
	check_tar(TAR("f c hello", "h b c", "h a b"), "x d\nx/a f hello\nx/b h => x/a\nx/c h => x/a\n");
	/* the link keeps the content its target had; a later entry of that name is another file */
	check_tar(TAR("f b old", "h a b", "h z b", "f b new"), "x d\nx/a f old\nx/b f new\nx/z h => x/a\n");
	/* in order already: unchanged */
	check_tar(TAR("f a hello", "h b a"), "x d\nx/a f hello\nx/b h => x/a\n");
	/* a hardlink to a symlink is the same symlink, as a directory walk gives two names of one */
	check_tar(TAR("l l /etc", "h a l"), "x d\nx/a l -> /etc\nx/l l -> /etc\n");
	/* absolute and "./" names are the same names */
	check_tar(TAR("f ./dir/b hi", "h /dir/a dir/b"), "x d\nx/dir/a f hi\nx/dir/b h => x/dir/a\n");
}

static void test_tar_bad_hardlinks_are_refused(void)
{
	REFUSED(TAR("h a nope"), "\"x/a\" is a hardlink to \"x/nope\"", "no regular file or symlink earlier");
	/* the target must come first in the archive, as extraction needs it */
	REFUSED(TAR("h a b", "f b late"), "\"x/a\" is a hardlink to \"x/b\"");
	REFUSED(TAR("d dd", "h a dd"), "\"x/a\" is a hardlink to \"x/dd\", which is a directory");
	/* fifos are not put in layers, so a link to one has nothing to link to */
	REFUSED(TAR("p pipe", "h a pipe"), "\"x/a\" is a hardlink to \"x/pipe\"");
	/* ".." stays refused in link targets */
	REFUSED(TAR("f b x", "h a ../b"), "bad hardlink target");
}

static void test_tar_paths_through_links_and_files_are_refused(void)
{
	REFUSED(TAR("f k x", "f k/inner y"), "\"x/k/inner\" lies below \"x/k\"", "a regular file, not a directory");
	REFUSED(TAR("l p /etc", "f p/passwd root"), "\"x/p/passwd\" lies below \"x/p\", a symlink to \"/etc\"");
	/* any depth, any kind of link target, and a directory entry below one too */
	REFUSED(TAR("d a", "l a/b ../../..", "d a/b/c", "f a/b/c/d x"), "\"x/a/b/c\" lies below \"x/a/b\"");
	/* a later entry replacing a directory with a file or a symlink leaves its children below it */
	REFUSED(TAR("d d", "f d/x x", "f d y"), "\"x/d/x\" lies below \"x/d\"");
	REFUSED(TAR("d d", "f d/x x", "l d /etc"), "\"x/d/x\" lies below \"x/d\", a symlink");
	REFUSED(TAR("f b x", "h k b", "f k/in y"), "\"x/k/in\" lies below \"x/k\"");
	/* a symlink replaced by a directory is a directory, as GNU tar and umoci extract it */
	check_tar(TAR("l p /etc", "d p", "f p/passwd root"), "x d\nx/p d\nx/p/passwd f root\n");
	/* a symlink alone may point anywhere: it is only a name */
	check_tar(TAR("l p /etc", "l q ../../../.."), "x d\nx/p l -> /etc\nx/q l -> ../../../..\n");
}

static void test_whiteout_names_are_refused(void)
{
	REFUSED(TAR("f etc/.wh.app.conf x"), "\"x/etc/.wh.app.conf\"", "\".wh.app.conf\" starts with \".wh.\"",
		"\"delete\" key");
	REFUSED(TAR("d etc", "f etc/.wh..wh..opq"), "\".wh..wh..opq\"");
	REFUSED(TAR("f .wh."), "\"x/.wh.\"");
	/* in a parent's name too, with or without the directory's own entry */
	REFUSED(TAR("f .wh.d/x y"), "the name \".wh.d\"");
	REFUSED(TAR("d .wh.d", "f .wh.d/x y"), "\".wh.d\"");
	/* names that only contain it are fine */
	check_tar(TAR("f a.wh.b x", "f .whx y", "f wh. z"), "x d\nx/.whx f y\nx/a.wh.b f x\nx/wh. f z\n");
}

static void put(const char *rel, const char *content)
{
	char *p = dk_path_join(root, rel), *dir = dk_dirname(p);
	struct dk_err err;

	CHECK(dk_mkdir_p(dir, 0700, &err) == 0);
	CHECK(dk_write_file_atomic(p, content, strlen(content), 0644, &err) == 0);
	free(dir);
	free(p);
}

static char *walk_tree(const char *sub)
{
	char *src = dk_path_join(root, sub), *out;
	struct dk_entries l;
	struct dk_walk_stats st;
	struct dk_err err;
	int rc;

	dk_entries_init(&l);
	rc = dk_walk(src, "app", NULL, NULL, &l, &st, &err);
	if (rc == 0)
		rc = dk_entries_finish(&l, &err);
	out = rc < 0 ? dk_xasprintf("error: %s", err.msg) : dk_xstrdup("ok");
	dk_entries_release(&l);
	free(src);
	return out;
}

/* A directory source gets the same checks: reserved names at any depth, with the file on disk named. */
static void test_directory_sources(void)
{
	char *p;

	put("t1/etc/.wh.app.conf", "x");
	p = dk_path_join(root, "t1/etc/.wh.app.conf");
	REFUSED(walk_tree("t1"), "\"app/etc/.wh.app.conf\"", p);
	free(p);
	put("t2/.wh..wh..opq", "");
	REFUSED(walk_tree("t2"), "\".wh..wh..opq\"");
	put("t3/.wh.dir/inner", "x");
	REFUSED(walk_tree("t3"), "\"app/.wh.dir\"");
	/* symlinks are never followed by the walk: one to /etc beside a directory is fine */
	put("t4/real/passwd", "x");
	p = dk_path_join(root, "t4/p");
	CHECK(symlink("/etc", p) == 0);
	free(p);
	check_tar(walk_tree("t4"), "ok");
}

/* The checks hold for any list, whoever filled it: a hardlink before its target is refused. */
static void test_finish_checks_any_list(void)
{
	struct dk_entries l;
	struct dk_entry *e;
	struct dk_err err;

	dk_entries_init(&l);
	e = dk_entries_add(&l);
	e->path = dk_xstrdup("a");
	e->type = DK_ENT_HARDLINK;
	e->link = dk_xstrdup("b");
	e = dk_entries_add(&l);
	e->path = dk_xstrdup("b");
	e->type = DK_ENT_FILE;
	REFUSED(describe(&l, dk_entries_finish(&l, &err), &err), "\"a\" is a hardlink to \"b\", which is not a regular file before it");
	dk_entries_release(&l);

	/* a whiteout entry may have the reserved name; its parents may not */
	dk_entries_init(&l);
	e = dk_entries_add(&l);
	e->path = dk_xstrdup("etc/.wh.app.conf");
	e->type = DK_ENT_WHITEOUT;
	CHECK(dk_entries_finish(&l, &err) == 0);
	e = dk_entries_add(&l);
	e->path = dk_xstrdup(".wh.x/.wh.y");
	e->type = DK_ENT_WHITEOUT;
	REFUSED(describe(&l, dk_entries_finish(&l, &err), &err), "\".wh.x\"");
	dk_entries_release(&l);
}

int main(void)
{
	CHECK(mkdtemp(root) != NULL);
	RUN(test_tar_hardlinks_point_forward);
	RUN(test_tar_bad_hardlinks_are_refused);
	RUN(test_tar_paths_through_links_and_files_are_refused);
	RUN(test_whiteout_names_are_refused);
	RUN(test_directory_sources);
	RUN(test_finish_checks_any_list);
	dk_rm_rf(root);
	return tap_done();
}
