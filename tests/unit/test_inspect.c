/*
 * test_inspect.c - the pieces of the offline commands that need no image:
 * --created's date forms (checked against date(1)'s answers, worked out
 * once), the order that decides an image's time, and ls --merged's
 * whiteout rules on layers too small to need a tar.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/ls.h"
#include "derrick/plan.h"
#include "derrick/util.h"
#include "tap.h"

static int64_t created(const char *s)
{
	struct dk_err err = { 0 };
	int64_t v = -42;

	return dk_parse_created(s, &v, &err) < 0 ? -1 : v;
}

static void test_created_forms(void)
{
	CHECK(created("1970-01-01T00:00:00Z") == 0);
	CHECK(created("2024-05-01T12:00:00Z") == 1714564800);
	CHECK(created("2024-05-01t12:00:00z") == 1714564800);
	CHECK(created("2024-05-01T14:00:00+02:00") == 1714564800);
	CHECK(created("2024-05-01T07:30:00-04:30") == 1714564800);
	CHECK(created("@1714564800") == 1714564800);
	CHECK(created("@0") == 0);
	CHECK(created("2024-02-29T00:00:00Z") == 1709164800);      /* a leap day */
	CHECK(created("9999-12-31T23:59:59Z") == 253402300799LL);
	CHECK(created("@253402300799") == 253402300799LL);
}

static void test_created_refused(void)
{
	const char *bad[] = {
		"", "@", "@-1", "@+5", "@ 5", "@5s", "yesterday", "2024-05-01", "2024-05-01T12:00:00",
		"2024-05-01 12:00:00Z", "2024-05-01T12:00:00.5Z", "2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
		"2024-13-01T00:00:00Z", "2024-00-01T00:00:00Z", "2024-04-31T00:00:00Z", "2024-05-01T24:00:00Z",
		"2024-05-01T12:60:00Z", "2024-05-01T12:00:60Z", "2024-05-01T12:00:00+2:00", "2024-05-01T12:00:00Zx",
		"1969-12-31T23:59:59Z", "1970-01-01T00:00:00+00:01", "@253402300800", "@99999999999999999999999",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dk_err err = { 0 };
		int64_t v = 7;
		char *want = dk_xasprintf("--created \"%s\": ", bad[i]);

		CHECK(dk_parse_created(bad[i], &v, &err) < 0);
		CHECK(v == 7);
		CHECK(err.code == DK_E_USAGE);
		if (strncmp(err.msg, want, strlen(want)))
			printf("#   %s: %s\n", bad[i], err.msg);
		CHECK(!strncmp(err.msg, want, strlen(want)));
		free(want);
	}
}

static void test_created_order(void)
{
	struct dk_err err = { 0 };
	const char *from = NULL;
	int64_t v = -1;

	CHECK(dk_created_decide("@10", "20", NULL, &v, &from, &err) == 0 && v == 10);
	CHECK_STR(from, "--created");
	CHECK(dk_created_decide(NULL, "20", NULL, &v, &from, &err) == 0 && v == 20);
	CHECK_STR(from, "SOURCE_DATE_EPOCH");
	/* an empty SOURCE_DATE_EPOCH is unset; no directory asks no git */
	CHECK(dk_created_decide(NULL, "", NULL, &v, &from, &err) == 0 && v == 0);
	CHECK_STR(from, "default");
	CHECK(dk_created_decide(NULL, NULL, "/nonexistent/dir", &v, &from, &err) == 0 && v == 0);
	CHECK_STR(from, "default");
	/* a bad value is refused even when a weaker source would do */
	CHECK(dk_created_decide(NULL, "soon", NULL, &v, &from, &err) < 0 && err.code == DK_E_USAGE);
	CHECK(strstr(err.msg, "SOURCE_DATE_EPOCH=\"soon\"") != NULL);
	CHECK(dk_created_decide("soon", "20", NULL, &v, &from, &err) < 0 && err.code == DK_E_USAGE);
}

/* A layer from "TYPE PATH" words: 'f' file, 'd' dir. */
static void layer(struct dk_ls *l, const char *const *words, size_t seq)
{
	memset(l, 0, sizeof(*l));
	l->next_seq = seq;
	for (; *words; words++) {
		if (l->n == l->alloc) {
			l->alloc = l->alloc ? 2 * l->alloc : 8;
			l->v = dk_xrealloc(l->v, l->alloc * sizeof(*l->v));
		}
		memset(&l->v[l->n], 0, sizeof(l->v[0]));
		l->v[l->n].type = (*words)[0];
		l->v[l->n].path = dk_xstrdup(*words + 2);
		l->v[l->n].seq = l->next_seq++;
		l->v[l->n].size = l->n;
		l->n++;
	}
}

static char *paths(const struct dk_ls *fs)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < fs->n; i++)
		sb_join(&sb, " ", fs->v[i].path);
	return sb_detach(&sb);
}

static void test_merged(void)
{
	static const char *const l0[] = { "d a", "f a/x", "d a/d", "f a/d/y", "d b", "f b/z", "f c", "d e", "f e/q",
					  "f ab", NULL };
	/* the whiteouts act on the layers below only: a/new is this layer's and stays */
	static const char *const l1[] = { "f a/.wh..wh..opq", "f a/new", "f .wh.b", "f b", "f e", "f .wh.nothing",
					  "f .wh.a.wh..opq", NULL };
	static const char *const l2[] = { "f .wh.b", "d b", "f b/again", "f c", "f c", NULL };
	struct dk_ls fs = { 0 }, l;
	char *got;

	layer(&l, l0, 0);
	dk_ls_apply(&fs, &l);
	got = paths(&fs);
	CHECK_STR(got, "a a/d a/d/y a/x ab b b/z c e e/q");
	free(got);
	layer(&l, l1, fs.next_seq);
	dk_ls_apply(&fs, &l);
	got = paths(&fs);
	/* a emptied (a itself kept), b a file now (its z gone), e a file over a directory, ab untouched */
	CHECK_STR(got, "a a/new ab b c e");
	free(got);
	layer(&l, l2, fs.next_seq);
	dk_ls_apply(&fs, &l);
	got = paths(&fs);
	CHECK_STR(got, "a a/new ab b b/again c e");
	free(got);
	/* of two entries with one path in one layer, the later stands */
	for (size_t i = 0; i < fs.n; i++)
		if (!strcmp(fs.v[i].path, "c"))
			CHECK(fs.v[i].size == 4);
	CHECK(l.n == 0 && l.v == NULL);
	dk_ls_free(&fs);
}

int main(void)
{
	RUN(test_created_forms);
	RUN(test_created_refused);
	RUN(test_created_order);
	RUN(test_merged);
	return tap_done();
}
