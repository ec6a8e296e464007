/*
 * test_pyversion.c - PEP 440 versions and specifiers; the answers are
 * python3-packaging 23.0's (tests/lib/py_oracle.py compares thousands more).
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/pyversion.h"
#include "tap.h"

static const char *norm(const char *s)
{
	static char buf[256];
	struct dk_pyver v;
	struct dk_err err;

	if (dk_pyver_parse(s, &v, &err) < 0)
		return "invalid";
	snprintf(buf, sizeof(buf), "%s", v.text);
	dk_pyver_free(&v);
	return buf;
}

static int cmp(const char *a, const char *b)
{
	struct dk_pyver x, y;
	struct dk_err err;
	int c;

	if (dk_pyver_parse(a, &x, &err) < 0 || dk_pyver_parse(b, &y, &err) < 0)
		return 99;
	c = dk_pyver_cmp(&x, &y);
	dk_pyver_free(&x);
	dk_pyver_free(&y);
	return c;
}

/* 1, 0, or -1 for an error */
static int check(const char *set, const char *version)
{
	struct dk_err err;
	int res;

	if (dk_pyspecset_check(set, version, &res, &err) < 0)
		return -1;
	return res;
}

static void test_normalisation(void)
{
	CHECK_STR(norm("1.0"), "1.0");
	CHECK_STR(norm(" v1.0 "), "1.0");
	CHECK_STR(norm("1.0ALPHA1"), "1.0a1");
	CHECK_STR(norm("1.0-beta.2"), "1.0b2");
	CHECK_STR(norm("1.0c"), "1.0rc0");
	CHECK_STR(norm("1.0preview_3"), "1.0rc3");
	CHECK_STR(norm("1.0-1"), "1.0.post1");
	CHECK_STR(norm("1.0_rev"), "1.0.post0");
	CHECK_STR(norm("1.0-dev"), "1.0.dev0");
	CHECK_STR(norm("0!01.02a03.post04.dev05+Ubuntu-007.x"), "1.2a3.post4.dev5+ubuntu.7.x");
	CHECK_STR(norm("2!1"), "2!1");
	CHECK_STR(norm("123456789012345678901234567890.0"), "123456789012345678901234567890.0");
	CHECK_STR(norm("1.0a-1"), "1.0a1");
	CHECK_STR(norm("1.0a.dev1"), "1.0a0.dev1");
}

static void test_invalid_versions_are_named(void)
{
	static const char *const bad[] = { "", "foo", "1.0-", "1..0", "1.0+", "1.0+a.", "1!2!3", "1.0 a1",
					   "1.0alphabeta", "1.0-1-1", ".1" };
	struct dk_pyver v;
	struct dk_err err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(dk_pyver_parse(bad[i], &v, &err) < 0);
	CHECK(dk_pyver_parse("1.0x", &v, &err) < 0);
	CHECK_STR(err.msg, "invalid version \"1.0x\"");
	CHECK(dk_pyver_parse("1.0\n\\x", &v, &err) < 0);
	CHECK_STR(err.msg, "invalid version \"1.0\\n\\\\x\"");
	CHECK(err.code == DK_E_SPEC);
}

static void test_order(void)
{
	static const char *const order[] = { "1.0.dev1", "1.0a1.dev1", "1.0a1", "1.0a1.post1", "1.0b1",
					     "1.0rc1", "1.0", "1.0+abc", "1.0+abc.1", "1.0+1", "1.0+2",
					     "1.0.post1.dev1", "1.0.post1", "1.0.1", "1.1", "1.10", "2!0.1" };

	for (size_t i = 0; i + 1 < sizeof(order) / sizeof(order[0]); i++) {
		CHECK(cmp(order[i], order[i + 1]) < 0);
		CHECK(cmp(order[i + 1], order[i]) > 0);
	}
	CHECK(cmp("1.0", "1.0.0.0") == 0);
	CHECK(cmp("1.0", "v1.0") == 0);
	CHECK(cmp("1!1.0", "1.0") > 0);
	CHECK(cmp("99999999999999999999999", "99999999999999999999998") > 0);
	CHECK(cmp("1.0+1", "1.0+01") == 0);
}

static void test_specifiers(void)
{
	CHECK(check(">=3.8,<4", "3.12.1") == 1);
	CHECK(check(">=3.8,<4", "4.0") == 0);
	CHECK(check(">= 3.8 , , < 4", "3.9") == 1);
	CHECK(check("~=3.10", "3.12") == 1);
	CHECK(check("~=3.10.0", "3.12") == 0);
	CHECK(check("~=3.10.0", "3.10.9") == 1);
	CHECK(check("==3.*", "3.12") == 1);
	CHECK(check("==3.12.*", "3.12") == 1);
	CHECK(check("==3.1.*", "3.12") == 0);
	CHECK(check("!=3.12.*", "3.12.1") == 0);
	CHECK(check("!=3.12.0", "3.12") == 0);
	CHECK(check("===3.12", "3.12") == 1);
	CHECK(check("===3.12.0", "3.12") == 0);
	CHECK(check(">3.12", "3.12.post1") == 0);
	CHECK(check(">3.12", "3.12+local") == 0);
	CHECK(check("<3.13", "3.13.0rc1") == 0);
	CHECK(check("==1.0", "1.0+abc") == 1);
	CHECK(check("==1.0+abc", "1.0") == 0);
	CHECK(check("", "3.12") == 1);
}

static void test_prereleases_by_default(void)
{
	/* Requires-Python: a pre-release matches only when a specifier names one */
	CHECK(check(">=3.12", "3.13.0a1") == 0);
	CHECK(check(">=3.12a1", "3.13.0a1") == 1);
	CHECK(check("", "3.13a1") == 0);
	CHECK(check(">=3.12,!=3.13a1", "3.13.0b1") == 0);
}

static void test_invalid_specifiers_are_named(void)
{
	struct dk_pyspecset set;
	struct dk_err err;
	int res;

	CHECK(dk_pyspecset_parse(">=3.8, =>4", &set, &err) < 0);
	CHECK_STR(err.msg, "invalid specifier \"=>4\" in \">=3.8, =>4\"");
	CHECK(dk_pyspecset_parse("3.12", &set, &err) < 0);
	CHECK(dk_pyspecset_parse("~=3", &set, &err) < 0);
	CHECK(dk_pyspecset_parse(">=3.*", &set, &err) < 0);
	CHECK(dk_pyspecset_parse("<=1.0+abc", &set, &err) < 0);
	CHECK(dk_pyspecset_parse("==1.0.*+abc", &set, &err) < 0);
	CHECK(dk_pyspecset_parse("==1 .0", &set, &err) < 0);
	/* "===" takes any text, but deciding on pre-releases then needs a version */
	CHECK(dk_pyspecset_parse("===foo", &set, &err) == 0);
	dk_pyspecset_free(&set);
	CHECK(check("===foo", "1.0") == -1);
	CHECK(dk_pyspecset_check(">=3", "x", &res, &err) < 0);
	CHECK_STR(err.msg, "invalid version \"x\"");
}

int main(void)
{
	RUN(test_normalisation);
	RUN(test_invalid_versions_are_named);
	RUN(test_order);
	RUN(test_specifiers);
	RUN(test_prereleases_by_default);
	RUN(test_invalid_specifiers_are_named);
	return tap_done();
}
