/*
 * test_pymarkers.c - PEP 508 markers evaluated for a target; the answers
 * are python3-packaging 23.0's (tests/e2e/py_target.sh compares thousands).
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/pymarkers.h"
#include "tap.h"

static struct dk_pytarget tgt(const char *py, const char *libc, const char *platform)
{
	struct dk_pytarget t;
	struct dk_platform plat;
	struct dk_err err;

	memset(&t, 0, sizeof(t));
	if (dk_platform_parse(platform, &plat, &err) < 0 || dk_pytarget_init(&t, py, libc, &plat, &err) < 0)
		printf("#   target: %s\n", err.msg);
	return t;
}

static struct dk_err last;

/* 1 or 0, -1 for an evaluation error, -2 for a parse error (the message in last) */
static int eval(const char *marker, const struct dk_pytarget *t, const char *extra)
{
	struct dk_pymarker *m;
	struct dk_pyenv env;
	int res;

	if (dk_pymarker_parse(marker, &m, &last) < 0)
		return -2;
	dk_pyenv_target(&env, t, extra);
	if (dk_pymarker_eval(m, &env, &res, &last) < 0)
		res = -1;
	dk_pymarker_free(m);
	return res;
}

static void test_target_environment(void)
{
	struct dk_pytarget t = tgt("3.12.1", "glibc 2.36", "linux/amd64");
	struct dk_pytarget a = tgt("3.11", "musl 1.2", "linux/arm64");

	CHECK(eval("python_version == '3.12'", &t, NULL) == 1);
	CHECK(eval("python_full_version == '3.12.1'", &t, NULL) == 1);
	CHECK(eval("implementation_version >= '3.12.1'", &t, NULL) == 1);
	CHECK(eval("platform_machine == 'x86_64'", &t, NULL) == 1);
	CHECK(eval("platform_machine == 'aarch64'", &a, NULL) == 1);
	CHECK(eval("sys_platform == 'linux' and platform_system == 'Linux' and os_name == 'posix'", &t, NULL) == 1);
	CHECK(eval("implementation_name == 'cpython' and platform_python_implementation == 'CPython'", &t, NULL) == 1);
	CHECK(eval("python_implementation == 'CPython' and os.name == 'posix' and sys.platform == 'linux'", &t, NULL) == 1);
	CHECK(eval("python_version < '3.12'", &a, NULL) == 1);
	CHECK(eval("python_version >= '3.8' and python_version < '4'", &a, NULL) == 1);
}

static void test_unknown_micro_compares_as_x_y(void)
{
	struct dk_pytarget t = tgt("3.12", "glibc 2.36", "linux/amd64");

	CHECK(eval("python_full_version == '3.12'", &t, NULL) == 1);
	CHECK(eval("python_full_version == '3.12.0'", &t, NULL) == 1);
	CHECK(eval("python_full_version >= '3.12.1'", &t, NULL) == 0);
	CHECK(eval("python_full_version == '3.12.*'", &t, NULL) == 1);
}

static void test_operators(void)
{
	struct dk_pytarget t = tgt("3.12.1", "glibc 2.36", "linux/amd64");

	CHECK(eval("python_version ~= '3.10'", &t, NULL) == 1);
	CHECK(eval("python_version === '3.12'", &t, NULL) == 1);
	CHECK(eval("python_version != '3.12.0'", &t, NULL) == 0);
	CHECK(eval("python_version in '3.11 3.12'", &t, NULL) == 1);
	CHECK(eval("python_version not in '3.11 3.12'", &t, NULL) == 0);
	CHECK(eval("'x86' in platform_machine", &t, NULL) == 1);
	CHECK(eval("platform_machine > 'x86'", &t, NULL) == 1);   /* strings: Python's order */
	CHECK(eval("os_name == 'nt' or os_name == 'posix' and python_version < '3'", &t, NULL) == 0);
	CHECK(eval("(os_name == 'nt' or os_name == 'posix') and python_version >= '3'", &t, NULL) == 1);
	CHECK(eval("os_name == 'po\\x73ix' and os_name == \"po\\u0073ix\"", &t, NULL) == 1);
}

static void test_extra_is_normalised(void)
{
	struct dk_pytarget t = tgt("3.12", "glibc 2.36", "linux/amd64");

	CHECK(eval("extra == 'test'", &t, NULL) == 0);
	CHECK(eval("extra == 'Test_Extra.name'", &t, "test-extra-name") == 1);
	CHECK(eval("'TEST' == extra", &t, "test") == 1);
	CHECK(eval("os_name == 'posix' and extra == 'a.b'", &t, "A_B") == 1);
}

static void test_errors(void)
{
	struct dk_pytarget t = tgt("3.12", "glibc 2.36", "linux/amd64");

	CHECK(eval("platform_release >= '5.10'", &t, NULL) == -1);
	CHECK_STR(last.msg,
		  "marker \"platform_release >= '5.10'\": platform_release is not known for the target (it describes the build machine, not the image)");
	/* every term is evaluated, as packaging does: "or" does not hide it */
	CHECK(eval("os_name == 'posix' or platform_version == 'x'", &t, NULL) == -1);
	CHECK(strstr(last.msg, "platform_version") != NULL);
	CHECK(eval("platform_machine >= '3'", &t, NULL) == -1);
	CHECK_STR(last.msg, "marker \"platform_machine >= '3'\": \"x86_64\" is not a version, to compare with >= \"3\"");
	CHECK(eval("os_name ~= 'posix'", &t, NULL) == -1);
	CHECK(eval("'a' == 'b'", &t, NULL) == -1);
	CHECK(last.code == DK_E_SPEC);
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"", "python_version", "python_version >=", "python_version >= 3.8", "os_name = 'posix'",
		"os_name == 'posix' and", "(os_name == 'posix'", "os_name == 'posix')", "os_name == 'posix' junk",
		"os_name == 'posix'\n", "os_name\n== 'posix'", "os_name == 'a\\'", "os_name == '\\x4'",
		"os_name == '\\N{LATIN SMALL LETTER A}'", "os_name == 'a\\x00'", "os_name == '\\ud800'",
		"Python_Version >= '3'", "extras == 'a'", "os_name not  'posix'", "os_name == 'a\nb'",
	};
	struct dk_pytarget t = tgt("3.12", "glibc 2.36", "linux/amd64");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (eval(bad[i], &t, NULL) != -2) {
			printf("#   accepted: %s\n", bad[i]);
			CHECK(!"a malformed marker is refused");
		}
	eval("os_name == 'posix' &&", &t, NULL);
	CHECK_STR(last.msg, "invalid marker \"os_name == 'posix' &&\": expected 'and', 'or' or the end at column 20");
	/* messages stay on one line, whatever the marker holds */
	eval("os_name\n== 'posix'", &t, NULL);
	CHECK_STR(last.msg, "invalid marker \"os_name\\n== 'posix'\": expected a marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in at column 8");
	CHECK(eval("platform_machine >= '\\n3'", &t, NULL) == -1);
	CHECK(strchr(last.msg, '\n') == NULL && strchr(last.msg, 1) == NULL);
	/* the variables of newer PEPs are named, not silently taken */
	eval("'test' in extras", &t, NULL);
	CHECK_STR(last.msg, "invalid marker \"'test' in extras\": unknown marker variable \"extras\" (derrick knows PEP 508's) at column 11");
	CHECK(eval("dependency_groups == 'x'", &t, NULL) == -2);
	CHECK(strstr(last.msg, "unknown marker variable \"dependency_groups\"") != NULL);
	eval("os_name <> 'posix'", &t, NULL);
	CHECK(strstr(last.msg, "expected a marker variable or quoted string at column 10") != NULL);
}

static void test_deep_nesting_is_bounded(void)
{
	struct dk_pytarget t = tgt("3.12", "glibc 2.36", "linux/amd64");
	char buf[1200];
	size_t n = 0;

	for (int i = 0; i < 500; i++)
		buf[n++] = '(';
	strcpy(buf + n, "os_name == 'posix'");
	CHECK(eval(buf, &t, NULL) == -2);
	n = 0;
	for (int i = 0; i < 50; i++)
		buf[n++] = '(';
	n += (size_t)sprintf(buf + n, "os_name == 'posix'");
	for (int i = 0; i < 50; i++)
		buf[n++] = ')';
	buf[n] = 0;
	CHECK(eval(buf, &t, NULL) == 1);
}

int main(void)
{
	RUN(test_target_environment);
	RUN(test_unknown_micro_compares_as_x_y);
	RUN(test_operators);
	RUN(test_extra_is_normalised);
	RUN(test_errors);
	RUN(test_malformed);
	RUN(test_deep_nesting_is_bounded);
	return tap_done();
}
