/*
 * test_err.c - error messages keep their reason, however long what they
 * name: long words (paths) are shortened in the middle, never the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/err.h"
#include "tap.h"

#define ELLIPSIS "\xe2\x80\xa6"

/* A path of n bytes: "/start" + components of c + "/the-end". */
static char *long_path(size_t n, char c)
{
	char *p = malloc(n + 1);

	memset(p, c, n);
	memcpy(p, "/start/", 7);
	for (size_t i = 60; i + 1 < n - 8; i += 60)
		p[i] = '/';
	memcpy(p + n - 8, "/the-end", 8);
	p[n] = '\0';
	return p;
}

static int valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;

		if (!n)
			return 0;
		for (int i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		p += n;
	}
	return 1;
}

static void test_short_message_untouched(void)
{
	struct dk_err err;

	errno = ENOENT;
	CHECK(dk_fail_errno(&err, DK_E_IO, "open %s", "/a/b") == -1);
	CHECK_STR(err.msg, "open /a/b: No such file or directory");
	CHECK(err.code == DK_E_IO);
	CHECK(errno == ENOENT);
	dk_err_prefix(&err, "layer %s", "x");
	CHECK_STR(err.msg, "layer x: open /a/b: No such file or directory");
	dk_err_append(&err, " (%s)", "why");
	CHECK_STR(err.msg, "layer x: open /a/b: No such file or directory (why)");
	CHECK(err.code == DK_E_IO);
}

/* A path deeper than PATH_MAX: the message used to end in its middle. */
static void test_long_path_keeps_reason(void)
{
	char *path = long_path(9000, 'd');
	struct dk_err err;
	size_t n;

	errno = ENAMETOOLONG;
	dk_fail_errno(&err, DK_E_IO, "lstat %s", path);
	n = strlen(err.msg);
	CHECK(n < DK_ERR_MAX);
	CHECK(n <= DK_ERR_WORD_MAX + 40);
	CHECK(strncmp(err.msg, "lstat /start/ddd", 16) == 0);
	CHECK(strstr(err.msg, ELLIPSIS) != NULL);
	CHECK(strstr(err.msg, "dd/the-end: File name too long") != NULL);
	free(path);
}

/* Each long word is shortened on its own; the words between stay whole. */
static void test_two_long_paths(void)
{
	char *a = long_path(3000, 'a'), *b = long_path(5000, 'b');
	struct dk_err err;

	dk_fail(&err, DK_E_IO, "rename %s to %s: Cross-device link", a, b);
	CHECK(strncmp(err.msg, "rename /start/aaa", 17) == 0);
	CHECK(strstr(err.msg, "aa/the-end to /start/bbb") != NULL);
	CHECK(strstr(err.msg, "bb/the-end: Cross-device link") != NULL);
	free(a);
	free(b);
}

/* A prefix, however long, must not push the reason out. */
static void test_prefix_keeps_reason(void)
{
	char *spec = long_path(4000, 's'), *path = long_path(1900, 'p');
	struct dk_err err;

	errno = EACCES;
	dk_fail_errno(&err, DK_E_IO, "open %s", path);
	for (int i = 0; i < 5; i++)
		dk_err_prefix(&err, "%s: stages[%d]", spec, i);
	CHECK(strlen(err.msg) < DK_ERR_MAX);
	CHECK(strncmp(err.msg, "/start/sss", 10) == 0);
	CHECK(strstr(err.msg, "ss/the-end: stages[4]: ") != NULL);
	CHECK(strstr(err.msg, "ss/the-end: stages[0]: open /start/ppp") != NULL);
	CHECK(strstr(err.msg, "pp/the-end: Permission denied") != NULL);
	CHECK(err.code == DK_E_IO);
	free(spec);
	free(path);
}

/* Many short words, no path to shorten: the middle goes, the end stays. */
static void test_many_short_words(void)
{
	char *text = malloc(20000);
	struct dk_err err;
	size_t n = 0;

	for (int i = 0; n < 19000; i++)
		n += (size_t)sprintf(text + n, "tag%d, ", i);
	dk_fail(&err, DK_E_NOTFOUND, "no image tagged \"x\" (tags: %s): the end", text);
	CHECK(strlen(err.msg) < DK_ERR_MAX);
	CHECK(strncmp(err.msg, "no image tagged \"x\" (tags: tag0, ", 33) == 0);
	CHECK(strstr(err.msg, ELLIPSIS) != NULL);
	CHECK(strstr(err.msg, "): the end") != NULL);
	free(text);
}

/* Cuts fall between characters: a message of multibyte names stays UTF-8. */
static void test_cuts_keep_utf8(void)
{
	char *path = malloc(6001);
	struct dk_err err;

	for (int i = 0; i < 2000; i++)
		memcpy(path + 3 * i, "\xe2\x82\xac", 3);      /* the euro sign */
	path[0] = '/';
	path[6000] = '\0';
	/* the first character is now broken on purpose: start from a clean one */
	dk_fail(&err, DK_E_IO, "open %s: No such file or directory", path + 3);
	CHECK(valid_utf8(err.msg));
	CHECK(strstr(err.msg, ": No such file or directory") != NULL);
	/* at every length of prefix, the cut may land anywhere in a character */
	for (int k = 0; k < 3; k++) {
		dk_fail(&err, DK_E_IO, "%.*sopen %s", k, "xyz", path + 3);
		CHECK(valid_utf8(err.msg));
	}
	free(path);
}

/* A message just under the limit is not shortened, one just over is. */
static void test_limit_edges(void)
{
	char words[DK_ERR_MAX + 10];
	struct dk_err err;
	size_t n = 0;

	while (n < sizeof(words) - 12) {
		memcpy(words + n, "abcdefgh ", 9);
		n += 9;
	}
	words[n] = '\0';
	dk_fail(&err, DK_E_IO, "%.*s", DK_ERR_MAX - 1, words);
	CHECK(strlen(err.msg) == DK_ERR_MAX - 1);
	CHECK(strstr(err.msg, ELLIPSIS) == NULL);
	dk_fail(&err, DK_E_IO, "%.*sEND", DK_ERR_MAX - 3, words);
	CHECK(strlen(err.msg) < DK_ERR_MAX);
	CHECK(strstr(err.msg, ELLIPSIS) != NULL);
	CHECK(strcmp(err.msg + strlen(err.msg) - 3, "END") == 0);
}

static void test_null_err(void)
{
	CHECK(dk_fail(NULL, DK_E_IO, "x") == -1);
	CHECK(dk_fail_errno(NULL, DK_E_IO, "x") == -1);
	CHECK(dk_err_prefix(NULL, "x") == -1);
	CHECK(dk_err_append(NULL, "x") == -1);
}

int main(void)
{
	RUN(test_short_message_untouched);
	RUN(test_long_path_keeps_reason);
	RUN(test_two_long_paths);
	RUN(test_prefix_keeps_reason);
	RUN(test_many_short_words);
	RUN(test_cuts_keep_utf8);
	RUN(test_limit_edges);
	RUN(test_null_err);
	return tap_done();
}
