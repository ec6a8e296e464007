/*
 * test_ignore.c - the .dockerignore matcher.  Expected answers are what
 * `docker build` (moby/patternmatcher) does with the same patterns.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "derrick/ignore.h"
#include "derrick/util.h"
#include "derrick/walk.h"
#include "tap.h"

struct want {
	const char *path;
	int excluded;
};

/* Build a list from a NULL-terminated array; every pattern must be valid. */
static struct dk_ignore *build(const char *const *pats, int line)
{
	struct dk_ignore *ig = dk_ignore_new();
	struct dk_err err = { 0 };
	char msg[DK_ERR_MAX + 64];

	for (; *pats; pats++) {
		if (dk_ignore_add(ig, *pats, "test", &err) != 0) {
			snprintf(msg, sizeof(msg), "adding \"%s\": %s", *pats, err.msg);
			tap_check(0, msg, __FILE__, line);
		}
	}
	return ig;
}

/* Check each path of a {NULL}-terminated table against the patterns. */
static void check_paths(const char *const *pats, const struct want *w, int line)
{
	struct dk_ignore *ig = build(pats, line);
	char msg[512];
	int got;

	for (; w->path; w++) {
		got = dk_ignore_excluded(ig, w->path);
		if (got != w->excluded) {
			snprintf(msg, sizeof(msg), "first pattern \"%s\": \"%s\" excluded=%d, want %d",
				 pats[0] ? pats[0] : "", w->path, got, w->excluded);
			tap_check(0, msg, __FILE__, line);
		}
	}
	dk_ignore_free(ig);
}

#define CHECK_PATHS(pats, wants) check_paths((pats), (wants), __LINE__)

static int may_reinclude(const char *const *pats, const char *dir)
{
	struct dk_ignore *ig = build(pats, __LINE__);
	int r = dk_ignore_may_reinclude_below(ig, dir);

	dk_ignore_free(ig);
	return r;
}

static size_t count_of(const char *const *pats)
{
	struct dk_ignore *ig = build(pats, __LINE__);
	size_t n = dk_ignore_count(ig);

	dk_ignore_free(ig);
	return n;
}

/* Write n bytes of `text` to a new temporary file; the caller unlinks `path`. */
static int write_temp_n(char *path, const char *text, size_t n)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int write_temp(char *path, const char *text)
{
	return write_temp_n(path, text, strlen(text));
}

/* The patterns of an ignore file of n bytes (which may hold NULs); NULL if it fails to load. */
static struct dk_ignore *load_bytes(const char *text, size_t n, struct dk_err *err)
{
	char path[] = "/tmp/derrick-ignore-XXXXXX";
	struct dk_ignore *ig = dk_ignore_new();
	int rc = write_temp_n(path, text, n) == 0 ? dk_ignore_load_file(ig, path, err) : -1;

	unlink(path);
	if (rc == 0)
		return ig;
	dk_ignore_free(ig);
	return NULL;
}

#define LOAD(lit, err) load_bytes((lit), sizeof(lit) - 1, (err))

/* ---- the list itself ---- */

static void test_empty_list_keeps_everything(void)
{
	struct dk_ignore *ig = dk_ignore_new();

	CHECK(ig != NULL);
	CHECK(dk_ignore_count(ig) == 0);
	CHECK(dk_ignore_excluded(ig, "a") == 0);
	CHECK(dk_ignore_excluded(ig, "a/b/c") == 0);
	dk_ignore_free(ig);
	dk_ignore_free(NULL);
}

static void test_comments_and_blank_lines(void)
{
	CHECK(count_of((const char *[]){ "", "   ", "\t\r\n", "# comment", "#*", "#", NULL }) == 0);
	/* as in Docker, only a '#' in column one starts a comment */
	CHECK_PATHS(((const char *[]){ "  #notes", NULL }),
		    ((struct want[]){ { "#notes", 1 }, { "notes", 0 }, { NULL, 0 } }));
}

static void test_count_and_growth(void)
{
	struct dk_ignore *ig = dk_ignore_new();
	struct dk_err err = { 0 };
	char pat[16];
	int i, fails = 0;

	for (i = 0; i < 100; i++) {
		snprintf(pat, sizeof(pat), "f%d", i);
		fails += dk_ignore_add(ig, pat, "test", &err) != 0;
	}
	CHECK(fails == 0);
	CHECK(dk_ignore_count(ig) == 100);
	CHECK(dk_ignore_excluded(ig, "f0") == 1);
	CHECK(dk_ignore_excluded(ig, "f57") == 1);
	CHECK(dk_ignore_excluded(ig, "f99/x") == 1);
	CHECK(dk_ignore_excluded(ig, "f100") == 0);
	dk_ignore_free(ig);
}

/* ---- wildcards ---- */

static void test_literal_names(void)
{
	CHECK_PATHS(((const char *[]){ "README.md", "a/b.txt", NULL }),
		    ((struct want[]){
			    { "README.md", 1 }, { "README.mdx", 0 }, { "README", 0 },
			    { "x/README.md", 0 }, { "a/b.txt", 1 }, { "a/b.txt2", 0 },
			    { "a", 0 }, { NULL, 0 } }));
}

static void test_star_is_top_level_only(void)
{
	CHECK_PATHS(((const char *[]){ "*.log", NULL }),
		    ((struct want[]){
			    { "a.log", 1 }, { ".log", 1 }, { "dir/a.log", 0 },
			    { "a.log.txt", 0 }, { "a.log/inner", 1 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "src/*.c", NULL }),
		    ((struct want[]){
			    { "src/a.c", 1 }, { "src/x/a.c", 0 }, { "a.c", 0 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "*", NULL }),
		    ((struct want[]){ { "a", 1 }, { "a/b/c", 1 }, { ".hidden", 1 }, { NULL, 0 } }));
}

static void test_question_mark(void)
{
	CHECK_PATHS(((const char *[]){ "file?.txt", NULL }),
		    ((struct want[]){
			    { "file1.txt", 1 }, { "fileX.txt", 1 }, { "file.txt", 0 },
			    { "file12.txt", 0 }, { NULL, 0 } }));
	/* '?' never matches the separator */
	CHECK_PATHS(((const char *[]){ "a?b", NULL }),
		    ((struct want[]){ { "axb", 1 }, { "a/b", 0 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "?", NULL }),
		    ((struct want[]){ { "a", 1 }, { "ab", 0 }, { "a/bc", 1 }, { "ab/c", 0 }, { NULL, 0 } }));
}

static void test_classes_and_ranges(void)
{
	CHECK_PATHS(((const char *[]){ "[abc].txt", NULL }),
		    ((struct want[]){
			    { "a.txt", 1 }, { "c.txt", 1 }, { "d.txt", 0 },
			    { "[abc].txt", 0 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "file[0-9][0-9]", NULL }),
		    ((struct want[]){
			    { "file07", 1 }, { "file7", 0 }, { "fileab", 0 }, { "file123", 0 },
			    { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "[a-cx-z]", NULL }),
		    ((struct want[]){ { "b", 1 }, { "y", 1 }, { "m", 0 }, { NULL, 0 } }));
	/* a backslash makes '-' and ']' ordinary members */
	CHECK_PATHS(((const char *[]){ "[a\\-z]", NULL }),
		    ((struct want[]){ { "-", 1 }, { "a", 1 }, { "z", 1 }, { "b", 0 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "[\\]]x", NULL }),
		    ((struct want[]){ { "]x", 1 }, { "x", 0 }, { NULL, 0 } }));
	/* inside a class '*' and '?' are plain characters */
	CHECK_PATHS(((const char *[]){ "[*?]", NULL }),
		    ((struct want[]){ { "*", 1 }, { "?", 1 }, { "a", 0 }, { NULL, 0 } }));
}

static void test_negated_class(void)
{
	CHECK_PATHS(((const char *[]){ "[^a]b", NULL }),
		    ((struct want[]){ { "xb", 1 }, { "ab", 0 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "[^0-9]*", NULL }),
		    ((struct want[]){ { "abc", 1 }, { "1abc", 0 }, { NULL, 0 } }));
	/* Go negates with '^' only: "[!a]" is the set {'!', 'a'} */
	CHECK_PATHS(((const char *[]){ "[!a]x", NULL }),
		    ((struct want[]){ { "!x", 1 }, { "ax", 1 }, { "bx", 0 }, { NULL, 0 } }));
}

static void test_class_can_match_slash_as_in_docker(void)
{
	CHECK_PATHS(((const char *[]){ "a[^x]b", NULL }),
		    ((struct want[]){ { "a/b", 1 }, { "axb", 0 }, { NULL, 0 } }));
}

static void test_escapes(void)
{
	CHECK_PATHS(((const char *[]){ "\\*.txt", NULL }),
		    ((struct want[]){ { "*.txt", 1 }, { "a.txt", 0 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "a\\?", NULL }),
		    ((struct want[]){ { "a?", 1 }, { "ab", 0 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "\\[x\\]", NULL }),
		    ((struct want[]){ { "[x]", 1 }, { "x", 0 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "\\a\\\\b", NULL }),
		    ((struct want[]){ { "a\\b", 1 }, { "ab", 0 }, { NULL, 0 } }));
}

/* ---- "**" ---- */

static void test_doublestar_at_start(void)
{
	CHECK_PATHS(((const char *[]){ "**/*.log", NULL }),
		    ((struct want[]){
			    { "a.log", 1 }, { "x/a.log", 1 }, { "x/y/a.log", 1 },
			    { "x/a.txt", 0 }, { "a.log/inner", 1 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "**/foo", NULL }),
		    ((struct want[]){
			    { "foo", 1 }, { "a/foo", 1 }, { "a/b/foo/c", 1 },
			    { "afoo", 0 }, { "foo2", 0 }, { "a/foo2", 0 }, { NULL, 0 } }));
}

static void test_doublestar_in_middle(void)
{
	CHECK_PATHS(((const char *[]){ "a/**/b", NULL }),
		    ((struct want[]){
			    { "a/b", 1 }, { "a/x/b", 1 }, { "a/x/y/b", 1 }, { "a/b/c", 1 },
			    { "ab", 0 }, { "a/xb", 0 }, { "x/a/b", 0 }, { "a/x/bb", 0 },
			    { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "src/**/test_*.py", NULL }),
		    ((struct want[]){
			    { "src/test_a.py", 1 }, { "src/x/y/test_a.py", 1 },
			    { "test_a.py", 0 }, { "src/x/a_test.py", 0 }, { NULL, 0 } }));
}

static void test_doublestar_at_end_keeps_the_dir(void)
{
	CHECK_PATHS(((const char *[]){ "foo/**", NULL }),
		    ((struct want[]){
			    { "foo", 0 }, { "foo/a", 1 }, { "foo/a/b", 1 },
			    { "foobar", 0 }, { "foobar/x", 0 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "*/**", NULL }),
		    ((struct want[]){ { "a", 0 }, { "a/b", 1 }, { NULL, 0 } }));
}

static void test_doublestar_alone(void)
{
	CHECK_PATHS(((const char *[]){ "**", NULL }),
		    ((struct want[]){ { "a", 1 }, { "a/b/c", 1 }, { ".hidden", 1 }, { NULL, 0 } }));
}

/* "**" glued to other characters, where Docker has its own rules */
static void test_doublestar_glued(void)
{
	/* "**" then a plain literal: Docker tests "ends with" */
	CHECK_PATHS(((const char *[]){ "**.pyc", NULL }),
		    ((struct want[]){
			    { "x.pyc", 1 }, { "a/b/x.pyc", 1 }, { "a/b/x.py", 0 }, { NULL, 0 } }));
	/* mid-pattern it stands for whole components only */
	CHECK_PATHS(((const char *[]){ "a**b", NULL }),
		    ((struct want[]){
			    { "ab", 1 }, { "a/b", 1 }, { "ax/b", 1 }, { "axb", 0 }, { NULL, 0 } }));
	/* at the end it is a plain prefix test */
	CHECK_PATHS(((const char *[]){ "foo**", NULL }),
		    ((struct want[]){
			    { "foo", 1 }, { "foobar", 1 }, { "foo/x", 1 }, { "fo", 0 }, { NULL, 0 } }));
}

/* ---- cleaning ---- */

static void test_leading_slash(void)
{
	CHECK_PATHS(((const char *[]){ "/foo", NULL }),
		    ((struct want[]){ { "foo", 1 }, { "foo/x", 1 }, { "a/foo", 0 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "/*.log", NULL }),
		    ((struct want[]){ { "a.log", 1 }, { "d/a.log", 0 }, { NULL, 0 } }));
}

static void test_cleaning(void)
{
	static const struct {
		const char *pattern, *path;
		int excluded;
	} cases[] = {
		{ "./foo", "foo", 1 },
		{ "foo//bar", "foo/bar", 1 },
		{ "foo/./bar", "foo/bar", 1 },
		{ "x/../foo", "foo", 1 },
		{ "x/../foo", "x/foo", 0 },
		{ "a/b/../../c", "c", 1 },
		{ "foo/", "foo", 1 },
		{ "foo/", "foo/x", 1 },
		{ "/../foo", "foo", 1 },
		{ "//foo", "foo", 1 },
		{ "./a/./b/", "a/b", 1 },
		{ "  foo  ", "foo", 1 },
		{ "\tfoo\r", "foo", 1 },
		/* ".." cannot leave the source root, so this matches nothing */
		{ "../foo", "foo", 0 },
	};
	struct want w[2] = { { NULL, 0 }, { NULL, 0 } };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		w[0].path = cases[i].path;
		w[0].excluded = cases[i].excluded;
		CHECK_PATHS(((const char *[]){ cases[i].pattern, NULL }), w);
	}
}

/* Docker keeps such patterns, but they never match: the context stays. */
static void test_dot_and_root_patterns_match_nothing(void)
{
	static const char *const pats[] = { ".", "./", "/", "//", "/.", "a/..", NULL };
	size_t i;

	for (i = 0; pats[i]; i++) {
		CHECK(count_of((const char *[]){ pats[i], NULL }) == 1);
		CHECK_PATHS(((const char *[]){ pats[i], NULL }),
			    ((struct want[]){ { "a", 0 }, { "a/b", 0 }, { ".", 0 }, { NULL, 0 } }));
	}
}

static void test_root_is_never_excluded(void)
{
	CHECK_PATHS(((const char *[]){ "**", "*", NULL }),
		    ((struct want[]){ { "", 0 }, { ".", 0 }, { "x", 1 }, { NULL, 0 } }));
	CHECK(may_reinclude((const char *[]){ "**", NULL }, "") == 1);
}

/* ---- parents, exceptions and order ---- */

static void test_parent_directory_exclusion(void)
{
	CHECK_PATHS(((const char *[]){ "build", NULL }),
		    ((struct want[]){
			    { "build", 1 }, { "build/x", 1 }, { "build/x/y", 1 },
			    { "builder", 0 }, { "build.txt", 0 }, { "src/build", 0 },
			    { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "a/b", NULL }),
		    ((struct want[]){ { "a", 0 }, { "a/b/c/d", 1 }, { "a/bc", 0 }, { NULL, 0 } }));
}

static void test_reinclude_file_in_excluded_dir(void)
{
	CHECK_PATHS(((const char *[]){ "docs", "!docs/keep.md", NULL }),
		    ((struct want[]){
			    { "docs", 1 }, { "docs/a.md", 1 }, { "docs/keep.md", 0 },
			    { "docs/keep.md.bak", 1 }, { "docs/sub/keep.md", 1 },
			    { "other", 0 }, { NULL, 0 } }));
}

static void test_exception_spellings(void)
{
	static const char *const spellings[] = { "!keep", "! keep", "!/keep", "!./keep",
						 "  !keep  ", "!keep/", NULL };
	size_t i;

	for (i = 0; spellings[i]; i++) {
		CHECK_PATHS(((const char *[]){ "*", spellings[i], NULL }),
			    ((struct want[]){ { "keep", 0 }, { "keep/x", 0 }, { "other", 1 },
					      { NULL, 0 } }));
	}
}

static void test_later_pattern_wins(void)
{
	CHECK_PATHS(((const char *[]){ "*.md", "!README.md", NULL }),
		    ((struct want[]){ { "README.md", 0 }, { "CHANGES.md", 1 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "!README.md", "*.md", NULL }),
		    ((struct want[]){ { "README.md", 1 }, { "CHANGES.md", 1 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "a", "!a", NULL }),
		    ((struct want[]){ { "a", 0 }, { "a/x", 0 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "a", "!a", "a", NULL }),
		    ((struct want[]){ { "a", 1 }, { "a/x", 1 }, { NULL, 0 } }));
	/* an exception nothing excluded changes nothing */
	CHECK_PATHS(((const char *[]){ "!a", NULL }),
		    ((struct want[]){ { "a", 0 }, { "b", 0 }, { NULL, 0 } }));
}

static void test_exclude_again_inside_reincluded(void)
{
	CHECK_PATHS(((const char *[]){ "docs", "!docs/keep", "docs/keep/secret", NULL }),
		    ((struct want[]){
			    { "docs/other", 1 }, { "docs/keep", 0 }, { "docs/keep/x", 0 },
			    { "docs/keep/secret", 1 }, { "docs/keep/secret/y", 1 },
			    { NULL, 0 } }));
}

/*
 * What `docker build` sends: BuildKit walks the tree and a directory hands
 * down only the patterns it tried (patternmatcher's
 * MatchesUsingParentResults), not every pattern that matches a parent.
 */
static void test_walk_hands_down_only_tried_patterns(void)
{
	/* "!logs" is never tried on logs (nothing excluded it), so it brings nothing back below */
	CHECK_PATHS(((const char *[]){ "**/*.log", "!logs", NULL }),
		    ((struct want[]){
			    { "logs", 0 }, { "logs/x.log", 1 }, { "logs/sub/x.log", 1 },
			    { "logs/readme", 0 }, { "x.log", 1 }, { "a/x.log", 1 }, { NULL, 0 } }));
	/* the same with the exception spelled to match the file itself */
	CHECK_PATHS(((const char *[]){ "**/*.log", "!logs/**", NULL }),
		    ((struct want[]){
			    { "logs/x.log", 0 }, { "logs/sub/x.log", 0 }, { "a/x.log", 1 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "**/*.log", "!logs/*.log", NULL }),
		    ((struct want[]){
			    { "logs/x.log", 0 }, { "logs/sub/x.log", 1 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "**.log", "!logs", NULL }),
		    ((struct want[]){ { "logs", 0 }, { "logs/x.log", 1 }, { NULL, 0 } }));
	/* a kept directory deeper down: its exception is not tried on it either */
	CHECK_PATHS(((const char *[]){ "**/*.log", "!logs/keep", NULL }),
		    ((struct want[]){
			    { "logs/keep", 0 }, { "logs/keep/x.log", 1 }, { "logs/keep/y", 0 },
			    { NULL, 0 } }));
	/* an exception that was tried on an excluded directory does carry down */
	CHECK_PATHS(((const char *[]){ "**/*.log", "!x.log", NULL }),
		    ((struct want[]){ { "x.log", 0 }, { "x.log/a", 0 }, { "y.log", 1 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "build", "!build", NULL }),
		    ((struct want[]){ { "build", 0 }, { "build/x/y", 0 }, { NULL, 0 } }));
	/*
	 * The third "a" is not tried on a (already excluded there), so it does
	 * not hand a down; below, "!a/b" brings a/b back and "a" no longer
	 * matches a/b whole.
	 */
	CHECK_PATHS(((const char *[]){ "a", "!a/b", "a", NULL }),
		    ((struct want[]){
			    { "a", 1 }, { "a/b", 0 }, { "a/b/c", 0 }, { "a/c", 1 }, { NULL, 0 } }));
	/* an exclusion tried on a directory does carry down past an exception */
	CHECK_PATHS(((const char *[]){ "docs", "!docs/keep", "docs/keep/secret", NULL }),
		    ((struct want[]){ { "docs/keep/secret/x", 1 }, { "docs/keep/y", 0 }, { NULL, 0 } }));
	/* what cannot be re-included below an excluded directory is pruned */
	CHECK(may_reinclude((const char *[]){ "**/*.log", "!logs", NULL }, "a.log") == 0);
	CHECK(may_reinclude((const char *[]){ "**/*.log", "!logs", NULL }, "logs") == 1);
	CHECK(may_reinclude((const char *[]){ "a", "!a/b", "a", NULL }, "a") == 1);
}

/* dk_ignore_step, as a walker calls it, agrees with dk_ignore_excluded. */
static void test_step_by_step(void)
{
	struct dk_ignore *ig = build((const char *[]){ "**/*.log", "!logs", "tmp", "!tmp/keep", NULL },
				     __LINE__);
	unsigned char top[4], mid[4], leaf[4];

	CHECK(dk_ignore_step(ig, "logs", NULL, top) == 0);
	CHECK(dk_ignore_step(ig, "logs/x.log", top, leaf) == 1);
	CHECK(dk_ignore_step(ig, "logs/x.txt", top, leaf) == 0);
	CHECK(dk_ignore_step(ig, "tmp", NULL, top) == 1);
	CHECK(dk_ignore_step_may_reinclude(ig, "tmp", top) == 1);
	CHECK(dk_ignore_step(ig, "tmp/keep", top, mid) == 0);
	/* "!tmp/keep" was tried on tmp/keep and matched: it carries down, and comes last */
	CHECK(dk_ignore_step(ig, "tmp/keep/a.log", mid, leaf) == 0);
	CHECK(dk_ignore_step(ig, "tmp/keep/a", mid, leaf) == 0);
	CHECK(dk_ignore_step(ig, "tmp/other", top, mid) == 1);
	CHECK(dk_ignore_step_may_reinclude(ig, "tmp/other", mid) == 0);
	CHECK(dk_ignore_step(ig, "", NULL, top) == 0);
	dk_ignore_free(ig);
}

/* The walker follows the same rules: what a directory source puts in a layer. */
static void test_walk_packs_what_docker_sends(void)
{
	static const char *const files[] = {
		"logs/x.log", "logs/readme", "a.log", "src/b.log", "src/main.c", "tmp/keep/k.log",
		"tmp/keep/k.txt", "tmp/junk", NULL,
	};
	char root[] = "/tmp/derrick-walk-XXXXXX";
	struct dk_ignore *ig = build((const char *[]){ "**/*.log", "!logs", "tmp", "!tmp/keep", NULL },
				     __LINE__);
	struct dk_entries l;
	struct dk_walk_stats st;
	struct dk_err err = { 0 };
	struct strbuf got = STRBUF_INIT;

	CHECK(mkdtemp(root) != NULL);
	for (size_t i = 0; files[i]; i++) {
		char *p = dk_path_join(root, files[i]), *d = dk_dirname(p);

		CHECK(dk_mkdir_p(d, 0755, &err) == 0);
		CHECK(dk_write_file_atomic(p, "x", 1, 0644, &err) == 0);
		free(p);
		free(d);
	}
	dk_entries_init(&l);
	CHECK(dk_walk(root, "", ig, NULL, &l, &st, &err) == 0);
	CHECK(dk_entries_finish(&l, &err) == 0);
	for (size_t i = 0; i < l.n; i++)
		sb_join(&got, " ", l.v[i].path);
	CHECK_STR(got.buf, "logs logs/readme src src/main.c tmp tmp/keep tmp/keep/k.log tmp/keep/k.txt");
	sb_release(&got);
	dk_entries_release(&l);
	dk_ignore_free(ig);
	dk_rm_rf(root);
}

/* ---- pruning ---- */

static void test_may_reinclude_below_docs(void)
{
	const char *const pats[] = { "docs", "other", "!docs/keep.md", NULL };

	CHECK(may_reinclude(pats, "docs") == 1);
	CHECK(may_reinclude(pats, "other") == 0);
	/* excluded, but the exception cannot reach below docs/sub */
	CHECK(may_reinclude(pats, "docs/sub") == 0);
	/* not excluded at all: the walker descends anyway */
	CHECK(may_reinclude(pats, "src") == 1);
}

static void test_may_reinclude_below_wildcards(void)
{
	const char *const star[] = { "build", "!build/*/keep", NULL };

	CHECK(may_reinclude(star, "build") == 1);
	CHECK(may_reinclude(star, "build/a") == 1);
	CHECK(may_reinclude(star, "build/a/b") == 0);
	CHECK_PATHS(star, ((struct want[]){ { "build/a/keep", 0 }, { "build/a/b/keep", 1 },
					    { NULL, 0 } }));

	CHECK(may_reinclude((const char *[]){ "vendor", "!**/LICENSE", NULL }, "vendor") == 1);
	CHECK(may_reinclude((const char *[]){ "vendor", "!**/LICENSE", NULL }, "vendor/a/b") == 1);
	CHECK(may_reinclude((const char *[]){ "docs", "!**.md", NULL }, "docs") == 1);
	CHECK(may_reinclude((const char *[]){ "docs", "!d*/keep", NULL }, "docs") == 1);
	CHECK(may_reinclude((const char *[]){ "docs", "![a-d]ocs/x", NULL }, "docs") == 1);
	CHECK(may_reinclude((const char *[]){ "docs", "!?ocs/x", NULL }, "docs") == 1);
	/* "*.md" is top-level only: nothing under docs can match it */
	CHECK(may_reinclude((const char *[]){ "docs", "!*.md", NULL }, "docs") == 0);
	CHECK(may_reinclude((const char *[]){ "docs", "!src/**", NULL }, "docs") == 0);
	CHECK(may_reinclude((const char *[]){ "docs", "!doc/x", NULL }, "docs") == 0);
	CHECK(may_reinclude((const char *[]){ "docs", "!docsx/y", NULL }, "docs") == 0);
	CHECK(may_reinclude((const char *[]){ "**/node_modules", NULL }, "a/node_modules") == 0);
}

static void test_may_reinclude_below_exception_first(void)
{
	const char *const pats[] = { "!docs/keep.md", "docs", NULL };

	CHECK(may_reinclude(pats, "docs") == 0);
	CHECK_PATHS(pats, ((struct want[]){ { "docs/keep.md", 1 }, { NULL, 0 } }));
	/* a re-included directory is walked */
	CHECK(may_reinclude((const char *[]){ "docs", "!docs", NULL }, "docs") == 1);
}

/* ---- real-world lists ---- */

static void test_python_project(void)
{
	static const char *const pats[] = {
		".git", ".venv", "**/__pycache__", "**/*.pyc", "*.egg-info", ".mypy_cache", NULL,
	};

	CHECK_PATHS(pats, ((struct want[]){
		{ ".git", 1 },
		{ ".git/HEAD", 1 },
		{ ".git/objects/ab/cdef", 1 },
		{ ".github/workflows/ci.yml", 0 },
		{ "vendor/lib/.git", 0 },
		{ ".venv/bin/python", 1 },
		{ "__pycache__", 1 },
		{ "__pycache__/m.cpython-311.pyc", 1 },
		{ "pkg/sub/__pycache__", 1 },
		{ "pkg/sub/__pycache__/m.cpython-311.pyc", 1 },
		{ "pkg/mod.py", 0 },
		{ "pkg/mod.pyc", 1 },
		{ "mod.pyc", 1 },
		{ "mypkg.egg-info/PKG-INFO", 1 },
		{ "src/mypkg.egg-info/PKG-INFO", 0 },
		{ ".mypy_cache/3.11/x.json", 1 },
		{ "pycache_notes.txt", 0 },
		{ "README.md", 0 },
		{ NULL, 0 } }));
	CHECK(may_reinclude(pats, ".git") == 0);
	CHECK(may_reinclude(pats, "pkg/__pycache__") == 0);
}

static void test_utf8_characters(void)
{
	CHECK_PATHS(((const char *[]){ "caf?", NULL }),
		    ((struct want[]){ { "caf\xc3\xa9", 1 }, { "cafe", 1 }, { "caf", 0 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "[\xc3\xa0-\xc3\xbf]x", NULL }),
		    ((struct want[]){ { "\xc3\xa9x", 1 }, { "ax", 0 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "*.\xc3\xb1", NULL }),
		    ((struct want[]){ { "a\xc3\xb1o.\xc3\xb1", 1 }, { "a.n", 0 }, { NULL, 0 } }));
	/* a byte that is not UTF-8 is still one character */
	CHECK_PATHS(((const char *[]){ "a?b", NULL }),
		    ((struct want[]){ { "a\xff" "b", 1 }, { NULL, 0 } }));
}

/* Many '*'s must not make matching blow up (a backtracker would hang here). */
static void test_many_stars_stay_fast(void)
{
	char path[201];

	memset(path, 'a', 200);
	path[200] = '\0';
	CHECK_PATHS(((const char *[]){ "*a*a*a*a*a*a*a*a*a*a*a*a*b", NULL }),
		    ((struct want[]){ { path, 0 }, { "aaaaaaaaaaaaab", 1 }, { NULL, 0 } }));
	CHECK_PATHS(((const char *[]){ "**/**/**/**/**/x", NULL }),
		    ((struct want[]){ { "a/b/c/d/e/f/g/h/i/j/k/y", 0 }, { "a/b/c/x", 1 },
				      { NULL, 0 } }));
}

/* ---- errors ---- */

static void test_invalid_patterns(void)
{
	static const struct {
		const char *pattern, *shown, *why;
	} cases[] = {
		{ "[abc", "[abc", "unterminated" },
		{ "a[", "a[", "unterminated" },
		{ "[\\", "[\\", "unterminated" },
		{ "foo\\", "foo\\", "trailing backslash" },
		{ "[]", "[]", "malformed" },
		{ "[^]", "[^]", "malformed" },
		{ "[]]", "[]]", "malformed" },
		{ "[-a]", "[-a]", "malformed" },
		{ "[a-]", "[a-]", "malformed" },
		{ "[z-a]", "[z-a]", "reversed" },
		{ "!", "!", "'!'" },
		{ "  !  ", "!", "'!'" },
		{ "!/", "!/", "'!'" },
		{ "!*[", "!*[", "unterminated" },
	};
	static const char origin[] = "derrick.json: stages[2].layers[0].exclude[3]";
	struct dk_ignore *ig = dk_ignore_new();
	struct dk_err err;
	char msg[DK_ERR_MAX + 64];
	size_t i;
	int ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		ret = dk_ignore_add(ig, cases[i].pattern, origin, &err);
		if (ret != -1 || err.code != DK_E_SPEC || !strstr(err.msg, origin) ||
		    !strstr(err.msg, cases[i].shown) || !strstr(err.msg, cases[i].why)) {
			snprintf(msg, sizeof(msg), "pattern \"%s\": ret %d, code %d, \"%s\"",
				 cases[i].pattern, ret, err.code, err.msg);
			tap_check(0, msg, __FILE__, __LINE__);
		}
	}
	CHECK(dk_ignore_count(ig) == 0);
	dk_ignore_free(ig);
}

static void test_valid_oddities(void)
{
	/* a lone ']' is an ordinary character, "[!]" a one-member class */
	CHECK(count_of((const char *[]){ "]", "a]b", "[!]", "[\\-]", "\\\\", NULL }) == 5);
	CHECK_PATHS(((const char *[]){ "a]b", NULL }),
		    ((struct want[]){ { "a]b", 1 }, { NULL, 0 } }));
}

static void test_pattern_length_limit(void)
{
	struct dk_ignore *ig = dk_ignore_new();
	struct dk_err err = { 0 };
	char *pat = malloc(4097);

	memset(pat, 'a', 4096);
	pat[4096] = '\0';
	CHECK(dk_ignore_add(ig, pat, "long", &err) == -1);
	CHECK(err.code == DK_E_SPEC);
	CHECK(strstr(err.msg, "long: invalid pattern \"aaaa") != NULL);
	CHECK(strstr(err.msg, "aaa...\": longer than 4095 bytes") != NULL);
	/* 4095 bytes is fine: 4094 'a's and a '*' */
	pat[4094] = '*';
	pat[4095] = '\0';
	CHECK(dk_ignore_add(ig, pat, "long", &err) == 0);
	pat[4094] = 'a';
	pat[4095] = 'a';
	CHECK(dk_ignore_excluded(ig, pat) == 1);
	CHECK(dk_ignore_excluded(ig, pat + 2) == 1);
	CHECK(dk_ignore_excluded(ig, pat + 3) == 0);
	dk_ignore_free(ig);
	free(pat);
}

static void test_invalid_pattern_leaves_list_alone(void)
{
	struct dk_ignore *ig = dk_ignore_new();
	struct dk_err err = { 0 };

	CHECK(dk_ignore_add(ig, "keep-me", ".dockerignore:1", &err) == 0);
	CHECK(dk_ignore_add(ig, "[oops", ".dockerignore:2", &err) == -1);
	CHECK(strstr(err.msg, ".dockerignore:2") != NULL);
	CHECK(strstr(err.msg, "[oops") != NULL);
	CHECK(dk_ignore_count(ig) == 1);
	CHECK(dk_ignore_excluded(ig, "keep-me") == 1);
	/* a NULL origin still gives a message */
	CHECK(dk_ignore_add(ig, "[", NULL, &err) == -1);
	CHECK(err.msg[0] != '\0');
	dk_ignore_free(ig);
}

/* ---- files ---- */

static void test_load_file(void)
{
	char path[] = "/tmp/derrick-ignore-XXXXXX";
	struct dk_ignore *ig = dk_ignore_new();
	struct dk_err err = { 0 };

	CHECK(write_temp(path, "\xef\xbb\xbf# comment\r\n"
			       "*.log\r\n"
			       "\r\n"
			       "  build/  \r\n"
			       "# another\n"
			       "!keep.log\r\n"
			       "docs\n"
			       "!docs/README.md") == 0);
	CHECK(dk_ignore_load_file(ig, path, &err) == 0);
	CHECK_STR(err.msg, "");
	CHECK(dk_ignore_count(ig) == 5);
	CHECK(dk_ignore_excluded(ig, "a.log") == 1);
	CHECK(dk_ignore_excluded(ig, "src/a.log") == 0);
	CHECK(dk_ignore_excluded(ig, "keep.log") == 0);
	CHECK(dk_ignore_excluded(ig, "build/x") == 1);
	CHECK(dk_ignore_excluded(ig, "docs/a") == 1);
	CHECK(dk_ignore_excluded(ig, "docs/README.md") == 0);
	CHECK(dk_ignore_excluded(ig, "# comment") == 0);
	CHECK(dk_ignore_may_reinclude_below(ig, "docs") == 1);
	CHECK(dk_ignore_may_reinclude_below(ig, "build") == 0);
	unlink(path);
	dk_ignore_free(ig);
}

/*
 * Docker reads a NUL byte as part of the line (Go strings hold NULs): the
 * pattern "a<NUL>b" matches nothing, where cutting the line at the NUL
 * would have excluded "a".
 */
static void test_load_file_nul_bytes(void)
{
	struct dk_err err = { 0 };
	struct dk_ignore *ig;

	ig = LOAD("a\0b\n\0\n \0 \n#\0x\nkeep\0\n", &err);
	CHECK(ig != NULL);
	CHECK(ig && dk_ignore_count(ig) == 4);
	CHECK(ig && dk_ignore_excluded(ig, "a") == 0);
	CHECK(ig && dk_ignore_excluded(ig, "b") == 0);
	CHECK(ig && dk_ignore_excluded(ig, "a/b") == 0);
	CHECK(ig && dk_ignore_excluded(ig, "keep") == 0);
	CHECK(ig && dk_ignore_excluded(ig, "#") == 0);
	dk_ignore_free(ig);
	/* an exception holding a NUL re-includes nothing, and is no lone "!" */
	ig = LOAD("*\n!\0\n!a\0\n", &err);
	CHECK(ig && dk_ignore_count(ig) == 3);
	CHECK(ig && dk_ignore_excluded(ig, "a") == 1);
	dk_ignore_free(ig);
	/* "**" then a NUL: no path ends with it */
	ig = LOAD("**\0.pyc\nfoo/**\0\n", &err);
	CHECK(ig && dk_ignore_excluded(ig, "x.pyc") == 0);
	CHECK(ig && dk_ignore_excluded(ig, "foo/x") == 0);
	dk_ignore_free(ig);
	/* inside a class a NUL is the character U+0000: "[<NUL>-z]" takes every letter */
	ig = LOAD("[\0-z]\n", &err);
	CHECK(ig && dk_ignore_excluded(ig, "a") == 1);
	CHECK(ig && dk_ignore_excluded(ig, "{") == 0);
	dk_ignore_free(ig);
	ig = LOAD("x[^\0]\n", &err);
	CHECK(ig && dk_ignore_excluded(ig, "xy") == 1);
	dk_ignore_free(ig);
	/* the rest of the line is still checked, and the message shows the NUL */
	memset(&err, 0, sizeof(err));
	CHECK(LOAD("ok\na\0[\n", &err) == NULL);
	CHECK(err.code == DK_E_SPEC);
	CHECK(strstr(err.msg, ":2: invalid pattern \"a\\0[\": unterminated") != NULL);
}

/* Docker trims with Go's strings.TrimSpace, which knows Unicode's spaces. */
static void test_unicode_white_space_is_trimmed(void)
{
	static const char *const spaced[] = {
		"foo\xc2\xa0", "\xc2\x85" "foo", "\xe3\x80\x80" "foo\xe2\x80\x8a",
		"\xe2\x80\xa8" "foo\xe2\x80\xa9", "foo\xe2\x80\xaf\xe2\x81\x9f\xe1\x9a\x80", "! \xc2\xa0" "foo", NULL,
	};

	for (size_t i = 0; spaced[i]; i++) {
		const char *const pats[] = { i == 5 ? "*" : "!nothing", spaced[i], NULL };
		int want = i == 5 ? 0 : 1;

		CHECK_PATHS(pats, ((struct want[]){ { "foo", want }, { NULL, 0 } }));
	}
	/* not spaces: a lone byte of one, U+200B (zero width), and a space inside */
	CHECK_PATHS(((const char *[]){ "foo\xc2", "bar\xe2\x80\x8b", "a\xc2\xa0" "b", NULL }),
		    ((struct want[]){ { "foo", 0 }, { "foo\xc2", 1 }, { "bar", 0 }, { "a\xc2\xa0" "b", 1 },
				      { NULL, 0 } }));
	CHECK(count_of((const char *[]){ "\xc2\xa0", "\xe3\x80\x80 \t", NULL }) == 0);
}

/* Docker's line reader (bufio.Scanner) refuses a line of 64 KiB or more. */
static void test_load_file_line_limit(void)
{
	size_t n = 65535;
	char *text = malloc(n + 2);
	struct dk_err err = { 0 };
	struct dk_ignore *ig;

	memset(text, 'x', n);
	text[0] = '#';
	text[n] = '\n';
	ig = load_bytes(text, n + 1, &err);
	CHECK(ig != NULL);
	CHECK(ig && dk_ignore_count(ig) == 0);
	dk_ignore_free(ig);
	text[n] = 'x';
	text[n + 1] = '\n';
	CHECK(load_bytes(text, n + 2, &err) == NULL);
	CHECK(err.code == DK_E_SPEC);
	CHECK(strstr(err.msg, ":1: a line of 64 KiB or more") != NULL);
	free(text);
}

static void test_load_file_bad_line_names_line(void)
{
	char path[] = "/tmp/derrick-ignore-XXXXXX";
	char origin[64];
	struct dk_ignore *ig = dk_ignore_new();
	struct dk_err err = { 0 };

	CHECK(write_temp(path, "ok\r\n# c\r\n[bad\r\nnever-read\n") == 0);
	snprintf(origin, sizeof(origin), "%s:3", path);
	CHECK(dk_ignore_load_file(ig, path, &err) == -1);
	CHECK(err.code == DK_E_SPEC);
	CHECK(strstr(err.msg, origin) != NULL);
	CHECK(strstr(err.msg, "\"[bad\"") != NULL);
	CHECK(dk_ignore_count(ig) == 1);
	unlink(path);
	dk_ignore_free(ig);
}

static void test_load_file_missing(void)
{
	const char *path = "/nonexistent/derrick-test/.dockerignore";
	struct dk_ignore *ig = dk_ignore_new();
	struct dk_err err = { 0 };

	CHECK(dk_ignore_load_file(ig, path, &err) == -1);
	CHECK(err.code == DK_E_NOTFOUND);
	CHECK(strstr(err.msg, path) != NULL);
	CHECK(strstr(err.msg, "No such file") != NULL);
	CHECK(dk_ignore_count(ig) == 0);
	dk_ignore_free(ig);
}

static void test_load_file_unreadable(void)
{
	char dir[] = "/tmp/derrick-ignore-XXXXXX";
	struct dk_ignore *ig = dk_ignore_new();
	struct dk_err err = { 0 };

	/* a directory opens but cannot be read, even as root */
	CHECK(mkdtemp(dir) != NULL);
	CHECK(dk_ignore_load_file(ig, dir, &err) == -1);
	CHECK(err.code == DK_E_IO);
	CHECK(strstr(err.msg, dir) != NULL);
	rmdir(dir);
	dk_ignore_free(ig);
}

int main(void)
{
	RUN(test_empty_list_keeps_everything);
	RUN(test_comments_and_blank_lines);
	RUN(test_count_and_growth);
	RUN(test_literal_names);
	RUN(test_star_is_top_level_only);
	RUN(test_question_mark);
	RUN(test_classes_and_ranges);
	RUN(test_negated_class);
	RUN(test_class_can_match_slash_as_in_docker);
	RUN(test_escapes);
	RUN(test_doublestar_at_start);
	RUN(test_doublestar_in_middle);
	RUN(test_doublestar_at_end_keeps_the_dir);
	RUN(test_doublestar_alone);
	RUN(test_doublestar_glued);
	RUN(test_leading_slash);
	RUN(test_cleaning);
	RUN(test_dot_and_root_patterns_match_nothing);
	RUN(test_root_is_never_excluded);
	RUN(test_parent_directory_exclusion);
	RUN(test_reinclude_file_in_excluded_dir);
	RUN(test_exception_spellings);
	RUN(test_walk_hands_down_only_tried_patterns);
	RUN(test_step_by_step);
	RUN(test_walk_packs_what_docker_sends);
	RUN(test_later_pattern_wins);
	RUN(test_exclude_again_inside_reincluded);
	RUN(test_may_reinclude_below_docs);
	RUN(test_may_reinclude_below_wildcards);
	RUN(test_may_reinclude_below_exception_first);
	RUN(test_python_project);
	RUN(test_utf8_characters);
	RUN(test_many_stars_stay_fast);
	RUN(test_invalid_patterns);
	RUN(test_valid_oddities);
	RUN(test_pattern_length_limit);
	RUN(test_invalid_pattern_leaves_list_alone);
	RUN(test_load_file);
	RUN(test_load_file_nul_bytes);
	RUN(test_unicode_white_space_is_trimmed);
	RUN(test_load_file_line_limit);
	RUN(test_load_file_bad_line_names_line);
	RUN(test_load_file_missing);
	RUN(test_load_file_unreadable);
	return tap_done();
}
