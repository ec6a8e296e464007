/*
 * test_debversion.c - Debian versions (debversion.h): dpkg's order and
 * every refusal of dk_debver_parse.  deb_resolve.sh checks thousands more
 * pairs against dpkg itself.
 */
#include <string.h>

#include "derrick/debversion.h"
#include "tap.h"

static int cmp(const char *a, const char *b)
{
	int c = dk_debver_cmp_str(a, b);

	return c < 0 ? -1 : c > 0;
}

static void test_order(void)
{
	/* each line sorts strictly before the next (Policy 5.6.12's examples and dpkg's tests) */
	static const char *const asc[] = {
		"0", "0.0", "1.0~~", "1.0~~a", "1.0~", "1.0", "1.0-0.1", "1.0-1", "1.0a", "1.0a.", "1.0+",
		"1.0.", "1.0.1", "1.00.2", "1.1~rc1", "1.1", "1.10", "1:0.1", "1:1.0~", "2:0", "10:0",
	};
	for (size_t i = 0; i + 1 < sizeof(asc) / sizeof(asc[0]); i++) {
		CHECK(cmp(asc[i], asc[i + 1]) == -1);
		CHECK(cmp(asc[i + 1], asc[i]) == 1);
	}
	CHECK(cmp("1.0", "1.0-0") == 0);      /* no revision is revision 0 */
	CHECK(cmp("0:1.0", "1.0") == 0);      /* epoch 0 is no epoch */
	CHECK(cmp("1.01", "1.1") == 0);       /* numbers, not strings */
	CHECK(cmp("1.0a", "1.0A") == 1);      /* ASCII order among letters */
	CHECK(cmp("1.0-1", "1.0-1~bpo1") == 1);
	CHECK(cmp("1.0+dfsg-1", "1.0-1") == 1);
	CHECK(cmp("1.0-a", "1.0-1") == 1);    /* a letter sorts after a digit run starts */
	CHECK(cmp("1-2-3", "1-2-2") == 1);    /* the revision is after the last hyphen */
	CHECK(cmp("99999999999999999999", "99999999999999999998") == 1);
	CHECK(cmp("x:1", "2") == -1);         /* an epoch that is not a number counts as 0 */
}

static void test_parse(void)
{
	struct dk_debver v;
	struct dk_err err;
	const char *s = " 2:1.2-3+b1 \t";

	CHECK(dk_debver_parse(s, strlen(s), &v, &err) == 0);
	CHECK(v.epoch == 2);
	CHECK(v.up_len == 3 && !strncmp(v.upstream, "1.2", 3));
	CHECK(v.rev_len == 4 && !strncmp(v.revision, "3+b1", 4));
	s = "1.0";
	CHECK(dk_debver_parse(s, strlen(s), &v, &err) == 0 && v.rev_len == 0 && v.epoch == 0);
	s = "1:2:3-4-5";   /* colons and hyphens inside upstream, with an epoch */
	CHECK(dk_debver_parse(s, strlen(s), &v, &err) == 0 && v.up_len == 5 && v.rev_len == 1);
	s = "-0:1";        /* strtol's "-0" is 0 for dpkg */
	CHECK(dk_debver_parse(s, strlen(s), &v, &err) == 0 && v.epoch == 0);
}

static void refused(const char *s, const char *why)
{
	struct dk_debver v;
	struct dk_err err = { 0 };

	if (dk_debver_parse(s, strlen(s), &v, &err) == 0) {
		CHECK_STR(s, "(refused)");
		return;
	}
	CHECK(err.code == DK_E_SPEC);
	CHECK(strstr(err.msg, why) != NULL);
	if (!strstr(err.msg, why))
		CHECK_STR(err.msg, why);
}

static void test_errors(void)
{
	refused("", "version string is empty");
	refused("  ", "version string is empty");
	refused("1.0 2", "embedded spaces");
	refused(":1.0", "epoch in version is empty");
	refused("a:1.0", "epoch in version is not number");
	refused("-1:1.0", "epoch in version is negative");
	refused("99999999999:1.0", "epoch in version is too big");
	refused("1:", "nothing after colon");
	refused("1.0-", "revision number is empty");
	refused("1:-1", "version number is empty");
	refused("a1.0", "does not start with digit");
	refused("1.0_1", "invalid character in version number");
	refused("1.0-1:2", "epoch in version is not number");
	refused("1.0-1%2", "invalid character in revision number");
	refused("1.0-1_2", "invalid character in revision number");
	refused("1.0\n", "line break");
}

int main(void)
{
	RUN(test_order);
	RUN(test_parse);
	RUN(test_errors);
	return tap_done();
}
