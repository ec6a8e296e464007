/*
 * test_toml.c - TOML into jansson (toml.cc): every value kind, dates as
 * their TOML text, and errors as one "file:line:col: reason" line, also for
 * the inputs toml++ 3.3.0 itself mishandles.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/toml.h"
#include "tap.h"

static json_t *parse(const char *text, struct dk_err *err)
{
	memset(err, 0, sizeof(*err));
	return dk_toml_parse(text, strlen(text), "x.toml", err);
}

static void test_kinds(void)
{
	struct dk_err err;
	json_t *j = parse("s = \"a\\u00e9\"\ni = -7\nf = 2.5\nb = true\n"
			  "odt = 1979-05-27T07:32:00Z\nldt = 1979-05-27T07:32:00\nd = 1979-05-27\nt = 07:32:00\n"
			  "a = [1, \"x\", [2]]\n[t2.sub]\nk = {x = 1}\n[[arr]]\nn = 1\n[[arr]]\nn = 2\n", &err);

	CHECK(j);
	if (!j) {
		printf("# %s\n", err.msg);
		return;
	}
	CHECK_STR(json_string_value(json_object_get(j, "s")), "a\xc3\xa9");
	CHECK(json_integer_value(json_object_get(j, "i")) == -7);
	CHECK(json_real_value(json_object_get(j, "f")) == 2.5);
	CHECK(json_is_true(json_object_get(j, "b")));
	CHECK_STR(json_string_value(json_object_get(j, "odt")), "1979-05-27T07:32:00Z");
	CHECK_STR(json_string_value(json_object_get(j, "ldt")), "1979-05-27T07:32:00");
	CHECK_STR(json_string_value(json_object_get(j, "d")), "1979-05-27");
	CHECK_STR(json_string_value(json_object_get(j, "t")), "07:32:00");
	CHECK(json_array_size(json_object_get(j, "a")) == 3);
	CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(json_object_get(j, "t2"), "sub"), "k"), "x")) == 1);
	CHECK(json_array_size(json_object_get(j, "arr")) == 2);
	json_decref(j);
}

static void expect_error(const char *text, const char *want)
{
	struct dk_err err;
	json_t *j = parse(text, &err);

	CHECK(!j);
	json_decref(j);
	CHECK(err.code == DK_E_CORRUPT);
	CHECK(!strchr(err.msg, '\n'));
	if (strncmp(err.msg, want, strlen(want)) != 0)
		CHECK_STR(err.msg, want);
}

static void test_errors(void)
{
	char deep[512] = "a = ";

	expect_error("a = 1\nb = \n", "x.toml:2:");
	expect_error("a = 1\na = 2\n", "x.toml:2:5: Error while parsing key-value pair: cannot redefine");
	expect_error("x = inf\n", "x.toml:1:5: a float JSON cannot hold");
	expect_error("x = nan\n", "x.toml:1:5: a float JSON cannot hold");
	expect_error("\"a\\u0000b\" = 1\n", "x.toml:1:1: a key with a NUL");
	for (int i = 0; i < DK_TOML_MAX_DEPTH + 2; i++)
		strcat(deep, "[");
	expect_error(deep, "x.toml:1:");
	/* found by fuzz_toml: toml++ asserted, or reached __builtin_unreachable */
	expect_error("a = 1979-05-27T::2307&0Z\n", "x.toml:");
	expect_error("a = 1\n\xc4\x80", "x.toml:");
	expect_error("io =n\n", "x.toml:1:");
}

int main(void)
{
	RUN(test_kinds);
	RUN(test_errors);
	return tap_done();
}
