/*
 * test_pytags.c - the target, its ordered tag list (python3-packaging
 * 23.0's sys_tags order; tests/e2e/py_target.sh compares whole lists), wheel
 * file names and PEP 503 names.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/pytags.h"
#include "tap.h"

static int target(const char *py, const char *libc, const char *platform, struct dk_pytarget *t,
		  struct dk_err *err)
{
	struct dk_platform plat;

	if (dk_platform_parse(platform, &plat, err) < 0)
		return -1;
	return dk_pytarget_init(t, py, libc, &plat, err);
}

static long rank(const struct dk_pytags *tags, const char *file)
{
	struct dk_wheelname w;
	struct dk_err err;
	long r;

	if (dk_wheelname_parse(file, &w, &err) < 0)
		return -2;
	r = dk_wheelname_rank(tags, &w);
	dk_wheelname_free(&w);
	return r;
}

static long find(const struct dk_pytags *tags, const char *tag)
{
	for (size_t i = 0; i < tags->n; i++)
		if (!strcmp(tags->tags[i], tag))
			return (long)i;
	return -1;
}

static void test_target(void)
{
	struct dk_pytarget t;
	struct dk_err err;
	char buf[128];

	CHECK(target("3.12", "glibc 2.36", "linux/amd64", &t, &err) == 0);
	CHECK(t.py_major == 3 && t.py_minor == 12 && t.py_micro == -1);
	CHECK_STR(t.machine, "x86_64");
	CHECK(t.libc == DK_LIBC_GLIBC && t.libc_major == 2 && t.libc_minor == 36);
	dk_pytarget_describe(&t, buf, sizeof(buf));
	CHECK_STR(buf, "CPython 3.12 x86_64 glibc 2.36");
	CHECK(target("3.11.4", "musl 1.2.3", "linux/arm64/v8", &t, &err) == 0);
	CHECK(t.py_micro == 4 && t.libc == DK_LIBC_MUSL && t.libc_major == 1 && t.libc_minor == 2);
	CHECK_STR(t.machine, "aarch64");
	CHECK(target("3.12", "glibc 2.36", "linux/arm/v7", &t, &err) == 0);
	CHECK_STR(t.machine, "armv7l");
	CHECK(target("3.12", "glibc 2.36", "linux/386", &t, &err) == 0);
	CHECK_STR(t.machine, "i686");
	CHECK(target("3.12", "glibc 2.36", "linux/ppc64le", &t, &err) == 0);
	CHECK(target("3.12", "glibc 2.36", "linux/s390x", &t, &err) == 0);
	CHECK(target("3.12", "glibc 2.36", "linux/riscv64", &t, &err) == 0);
	CHECK_STR(t.machine, "riscv64");
}

static void test_target_errors_name_key_and_value(void)
{
	struct dk_pytarget t;
	struct dk_err err;

	CHECK(target("3", "glibc 2.36", "linux/amd64", &t, &err) < 0);
	CHECK_STR(err.msg, "python \"3\": expected \"X.Y\" or \"X.Y.Z\" (CPython, e.g. \"3.12\")");
	CHECK(target("3.12.1.1", "glibc 2.36", "linux/amd64", &t, &err) < 0);
	CHECK(target(" 3.12", "glibc 2.36", "linux/amd64", &t, &err) < 0);
	CHECK(target("2.7", "glibc 2.36", "linux/amd64", &t, &err) < 0);
	CHECK(strstr(err.msg, "python \"2.7\"") != NULL);
	CHECK(target("3.12", "glibc2.36", "linux/amd64", &t, &err) < 0);
	CHECK_STR(err.msg, "libc \"glibc2.36\": expected \"glibc X.Y\" or \"musl X.Y\"");
	CHECK(target("3.12", "uclibc 1.0", "linux/amd64", &t, &err) < 0);
	CHECK(target("3.12", "glibc 2", "linux/amd64", &t, &err) < 0);
	CHECK(target("3.12", "glibc 1.9", "linux/amd64", &t, &err) < 0);
	CHECK(target("3.12", "glibc 2.36", "linux/mips64le", &t, &err) < 0);
	CHECK(strncmp(err.msg, "platform linux/mips64le: no Python wheel platform", 49) == 0);
	CHECK(target("3.12", "glibc 2.36", "linux/arm/v6", &t, &err) < 0);
	CHECK(strncmp(err.msg, "platform linux/arm/v6:", 22) == 0);
	CHECK(err.code == DK_E_SPEC);
}

static void test_cp312_x86_64_glibc(void)
{
	struct dk_pytarget t;
	struct dk_pytags tags;
	struct dk_err err;

	CHECK(target("3.12", "glibc 2.36", "linux/amd64", &t, &err) == 0);
	dk_pytags_build(&t, &tags);
	/* 32 manylinux_2_Y (36..5), 3 legacy aliases, linux_x86_64: 36 platforms */
	CHECK(tags.n == 987);
	CHECK_STR(tags.tags[0], "cp312-cp312-manylinux_2_36_x86_64");
	CHECK(find(&tags, "cp312-cp312-manylinux2014_x86_64") == find(&tags, "cp312-cp312-manylinux_2_17_x86_64") + 1);
	CHECK(find(&tags, "cp312-cp312-manylinux2010_x86_64") == find(&tags, "cp312-cp312-manylinux_2_12_x86_64") + 1);
	CHECK(find(&tags, "cp312-cp312-manylinux1_x86_64") == find(&tags, "cp312-cp312-manylinux_2_5_x86_64") + 1);
	CHECK(find(&tags, "cp312-cp312-linux_x86_64") == 35);
	CHECK(find(&tags, "cp312-abi3-manylinux_2_36_x86_64") == 36);
	CHECK(find(&tags, "cp312-cp312-manylinux_2_4_x86_64") < 0);
	CHECK(find(&tags, "cp312-cp312-musllinux_1_2_x86_64") < 0);
	CHECK_STR(tags.tags[tags.n - 15], "cp312-none-any");
	CHECK_STR(tags.tags[tags.n - 14], "py312-none-any");
	CHECK_STR(tags.tags[tags.n - 13], "py3-none-any");
	CHECK_STR(tags.tags[tags.n - 1], "py30-none-any");
	/* every tag ranks at its own place: the hash index agrees with the list */
	for (size_t i = 0; i < tags.n; i++) {
		char *c = strdup(tags.tags[i]), *a = strchr(c, '-'), *p;

		*a++ = 0;
		p = strchr(a, '-');
		*p++ = 0;
		if (dk_pytags_rank(&tags, c, a, p) != (long)i)
			CHECK(!"rank of a listed tag");
		free(c);
	}
	CHECK(dk_pytags_rank(&tags, "CP312", "Cp312", "MANYLINUX_2_36_X86_64") == 0);
	CHECK(dk_pytags_rank(&tags, "cp312", "cp312", "manylinux_2_37_x86_64") == -1);
	CHECK(rank(&tags, "numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl") == 19);
	CHECK(rank(&tags, "six-1.16.0-py2.py3-none-any.whl") == (long)tags.n - 13);
	CHECK(rank(&tags, "numpy-1.26.4-cp312-cp312-musllinux_1_1_x86_64.whl") == -1);
	CHECK(rank(&tags, "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl") == -1);
	CHECK(rank(&tags, "cryptography-42.0.5-cp39-abi3-manylinux_2_28_x86_64.whl") ==
	      find(&tags, "cp39-abi3-manylinux_2_28_x86_64"));
	{
		struct dk_err err2;
		long r = -2;
		char *best = dk_pytags_best(&tags, 2);

		CHECK(dk_pytags_rank_text(&tags, "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64", &r, &err2) == 0);
		CHECK(r == 19);
		CHECK(dk_pytags_rank_text(&tags, "py2.py3-none-any", &r, &err2) == 0);
		CHECK(r == (long)tags.n - 13);
		CHECK(dk_pytags_rank_text(&tags, "cp311-cp311-win_amd64", &r, &err2) == 0 && r == -1);
		CHECK(dk_pytags_rank_text(&tags, "cp312-cp312", &r, &err2) < 0);
		CHECK_STR(err2.msg, "tag set \"cp312-cp312\": expected PYTHON-ABI-PLATFORM, each part '.'-separated");
		CHECK(dk_pytags_rank_text(&tags, "a-b-c-d", &r, &err2) < 0);
		CHECK(dk_pytags_rank_text(&tags, "cp312..-cp312-any", &r, &err2) < 0);
		CHECK_STR(best, "cp312-cp312-manylinux_2_36_x86_64, cp312-cp312-manylinux_2_35_x86_64");
		free(best);
	}
	dk_pytags_free(&tags);
}

static void test_cp311_aarch64_musl(void)
{
	struct dk_pytarget t;
	struct dk_pytags tags;
	struct dk_err err;

	CHECK(target("3.11", "musl 1.2", "linux/arm64", &t, &err) == 0);
	dk_pytags_build(&t, &tags);
	/* musllinux_1_2, _1_1, _1_0, linux_aarch64 */
	CHECK(tags.n == 114);
	CHECK_STR(tags.tags[0], "cp311-cp311-musllinux_1_2_aarch64");
	CHECK_STR(tags.tags[3], "cp311-cp311-linux_aarch64");
	CHECK(find(&tags, "cp311-cp311-manylinux_2_17_aarch64") < 0);
	CHECK(rank(&tags, "PyYAML-6.0.1-cp311-cp311-musllinux_1_1_aarch64.whl") == 1);
	CHECK(rank(&tags, "PyYAML-6.0.1-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl") == -1);
	dk_pytags_free(&tags);
}

static void test_riscv64_has_no_manylinux(void)
{
	struct dk_pytarget t;
	struct dk_pytags tags;
	struct dk_err err;

	CHECK(target("3.12", "glibc 2.39", "linux/riscv64", &t, &err) == 0);
	dk_pytags_build(&t, &tags);
	CHECK_STR(tags.tags[0], "cp312-cp312-linux_riscv64");
	CHECK(find(&tags, "cp312-cp312-manylinux_2_39_riscv64") < 0);
	dk_pytags_free(&tags);
}

static void test_wheel_names(void)
{
	struct dk_wheelname w;
	struct dk_err err;

	CHECK(dk_wheelname_parse("Foo.Bar_baz-1.0RC1-7abc-CP312.cp313-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
				 &w, &err) == 0);
	CHECK_STR(w.name, "foo-bar-baz");
	CHECK_STR(w.dist, "Foo.Bar_baz");
	CHECK_STR(w.version.text, "1.0rc1");
	CHECK(w.has_build);
	CHECK_STR(w.build_num, "7");
	CHECK_STR(w.build_rest, "abc");
	CHECK(w.ninterps == 2 && w.nabis == 1 && w.nplatforms == 2);
	CHECK_STR(w.interps[0], "cp312");
	CHECK_STR(w.platforms[1], "manylinux2014_x86_64");
	dk_wheelname_free(&w);
	CHECK(dk_wheelname_parse("pip-23.0.1-py3-none-any.whl", &w, &err) == 0);
	CHECK(!w.has_build && w.build_num == NULL);
	dk_wheelname_free(&w);
}

static void test_bad_wheel_names_are_refused(void)
{
	static const char *const bad[] = {
		"foo-1.0-py3-none-any.zip", "foo-py3-none-any.whl", "foo-1.0-1-2-py3-none-any.whl",
		"foo__bar-1.0-py3-none-any.whl", "foo bar-1.0-py3-none-any.whl", "foo-1.0x-py3-none-any.whl",
		"foo-1.0-x1-py3-none-any.whl", "-1.0-py3-none-any.whl", "foo-1.0-py3..py2-none-any.whl",
		"foo-1.0-py3-none-.whl", ".whl", "foo/bar-1.0-py3-none-any.whl",
	};
	struct dk_wheelname w;
	struct dk_err err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dk_wheelname_parse(bad[i], &w, &err) == 0) {
			printf("#   accepted: %s\n", bad[i]);
			CHECK(!"a bad wheel name is refused");
			dk_wheelname_free(&w);
		}
	CHECK(dk_wheelname_parse("foo-1.0x-py3-none-any.whl", &w, &err) < 0);
	CHECK_STR(err.msg, "wheel file name \"foo-1.0x-py3-none-any.whl\": invalid version \"1.0x\"");
	CHECK(dk_wheelname_parse("foo-1.0-x1-py3-none-any.whl", &w, &err) < 0);
	CHECK_STR(err.msg, "wheel file name \"foo-1.0-x1-py3-none-any.whl\": the build tag must start with a digit");
}

static void test_name_normalisation(void)
{
	static const char *const same[] = { "Friendly-Bar", "friendly-bar", "friendly.bar", "friendly_bar",
					     "FrIeNdLy-._.-bAr" };

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		char *n = dk_pyname_normalize(same[i]);

		CHECK_STR(n, "friendly-bar");
		free(n);
	}
}

int main(void)
{
	RUN(test_target);
	RUN(test_target_errors_name_key_and_value);
	RUN(test_cp312_x86_64_glibc);
	RUN(test_cp311_aarch64_musl);
	RUN(test_riscv64_has_no_manylinux);
	RUN(test_wheel_names);
	RUN(test_bad_wheel_names_are_refused);
	RUN(test_name_normalisation);
	return tap_done();
}
