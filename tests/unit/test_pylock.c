/*
 * test_pylock.c - the lock readers (pylock.h): testdata/python's pylock.toml
 * and a requirements file in each tool's form, and every refusal, each
 * naming its line or key path.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/pylock.h"
#include "derrick/util.h"
#include "tap.h"

#define PIP_SHA "da59ca7250b6284ac0e77a9d287004ea090bb0e30e0c9451c0e34398d45596ba"
#define ST_SHA "ef1f3a7bf4474ec7d4dc1e4108fd3f3188d432242da6fa2708155fd2189642a8"
#define WHL_SHA "d9f5ba91b3866f3845930531e0870436e2dd6e919787f627c0f1c16b97219a5f"

static char *data(const char *name)
{
	const char *top = getenv("TOP_SRCDIR");

	return dk_xasprintf("%s/testdata/python/%s", top && *top ? top : ".", name);
}

static void test_pylock_file(void)
{
	struct dk_err err = { 0 };
	struct dk_lock lock;
	char *path = data("pylock.toml"), *dir = dk_dirname(path), *want;
	const struct dk_lock_pkg *p;

	if (dk_pylock_load(path, &lock, &err) < 0) {
		CHECK_STR(err.msg, "");
		goto out;
	}
	CHECK_STR(lock.requires_python, ">=3.9");
	CHECK(lock.n_environments == 1);
	CHECK_STR(lock.environments[0], "sys_platform == 'linux'");
	CHECK(lock.n_extras == 0);
	CHECK(lock.n_groups == 1);
	CHECK_STR(lock.groups[0], "dev");
	CHECK(lock.n_pkgs == 4);
	if (lock.n_pkgs != 4)
		goto release;
	p = &lock.pkgs[0];
	CHECK_STR(p->name, "pip");
	CHECK_STR(p->version, "23.0.1");
	CHECK(!p->marker);
	CHECK_STR(p->requires_python, ">=3.7");
	want = dk_xasprintf("%s: packages[0] (pip)", path);
	CHECK_STR(p->where, want);
	free(want);
	CHECK(p->n_files == 1 && p->n_hashes == 0);
	CHECK_STR(p->files[0].filename, "pip-23.0.1-py3-none-any.whl");
	want = dk_path_join(dir, "wheels/pip-23.0.1-py3-none-any.whl");
	CHECK_STR(p->files[0].path, want);
	free(want);
	CHECK(!p->files[0].url);
	CHECK_STR(p->files[0].sha256, PIP_SHA);
	CHECK(p->files[0].size == 1698754);
	p = &lock.pkgs[1];
	CHECK_STR(p->marker, "python_version >= '3.8'");
	CHECK(p->n_files == 1);
	/* the file name from the URL's path, the hash lower-cased */
	CHECK_STR(p->files[0].filename, "setuptools-66.1.1-py3-none-any.whl");
	CHECK_STR(p->files[0].url, "https://files.example/packages/setuptools-66.1.1-py3-none-any.whl?x=1#frag");
	CHECK_STR(p->files[0].sha256, ST_SHA);
	p = &lock.pkgs[2];
	CHECK(p->n_files == 2);     /* wheels next to an sdist: the sdist is ignored */
	CHECK_STR(p->files[0].path, "/usr/share/python-wheels/wheel-0.38.4-py3-none-any.whl");
	CHECK(p->files[0].size == -1);
	CHECK_STR(p->files[1].filename, "wheel-0.38.4-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl");
	p = &lock.pkgs[3];
	CHECK_STR(p->name, "Zope.Interface");
	CHECK(p->n_files == 1);     /* an archive that is a wheel */
	CHECK_STR(p->files[0].filename, "zope.interface-6.0-py3-none-any.whl");
release:
	dk_lock_release(&lock);
out:
	free(dir);
	free(path);
}

static void check_reqs(const char *name, size_t n_pkgs)
{
	struct dk_err err = { 0 };
	struct dk_lock lock;
	char *path = data(name);

	if (dk_requirements_load(path, &lock, &err) < 0) {
		CHECK_STR(err.msg, "");
		free(path);
		return;
	}
	CHECK(lock.n_pkgs == n_pkgs);
	CHECK(lock.n_pkgs >= 3);
	if (lock.n_pkgs >= 3) {
		CHECK_STR(lock.pkgs[0].name, "pip");
		CHECK_STR(lock.pkgs[0].version, "23.0.1");
		CHECK(lock.pkgs[0].n_hashes >= 1);
		CHECK_STR(lock.pkgs[0].hashes[0], PIP_SHA);
		CHECK(lock.pkgs[0].n_files == 0);
		CHECK_STR(lock.pkgs[1].name, "setuptools");
		CHECK_STR(lock.pkgs[1].hashes[0], ST_SHA);
		CHECK_STR(lock.pkgs[n_pkgs - 1].name, "wheel");
		CHECK_STR(lock.pkgs[n_pkgs - 1].version, "0.38.4");
		CHECK_STR(lock.pkgs[n_pkgs - 1].hashes[0], WHL_SHA);
	}
	dk_lock_release(&lock);
	free(path);
}

static void test_requirements_forms(void)
{
	struct dk_err err = { 0 };
	struct dk_lock lock;
	char *path;

	check_reqs("requirements-pip-compile.txt", 3);
	check_reqs("requirements-uv-pip-compile.txt", 3);
	check_reqs("requirements-uv-export.txt", 4);
	check_reqs("requirements-poetry-export.txt", 3);

	/* the details: lines, continuations, markers, extras, several hashes */
	path = data("requirements-pip-compile.txt");
	if (dk_requirements_load(path, &lock, &err) == 0) {
		char *want = dk_xasprintf("%s:16", path);

		CHECK(lock.pkgs[1].n_hashes == 2);
		CHECK_STR(lock.pkgs[1].hashes[1], WHL_SHA);
		CHECK_STR(lock.pkgs[2].where, want);
		free(want);
		want = dk_xasprintf("%s:7", path);
		CHECK_STR(lock.pkgs[0].where, want);
		free(want);
		CHECK(lock.pkgs[2].n_extras == 1);
		CHECK_STR(lock.pkgs[2].extras[0], "test");
		CHECK(!lock.pkgs[0].marker);
		dk_lock_release(&lock);
	}
	free(path);
	path = data("requirements-poetry-export.txt");
	if (dk_requirements_load(path, &lock, &err) == 0) {
		CHECK_STR(lock.pkgs[0].marker, "python_version >= \"3.7\" and python_version < \"4.0\"");
		CHECK_STR(lock.pkgs[1].marker, "python_version >= \"3.8\" and python_version < \"4.0\"");
		CHECK(lock.pkgs[2].n_hashes == 2);
		dk_lock_release(&lock);
	}
	free(path);
	path = data("requirements-uv-pip-compile.txt");
	if (dk_requirements_load(path, &lock, &err) == 0) {
		CHECK_STR(lock.pkgs[1].marker, "python_full_version >= '3.8'");
		CHECK(lock.pkgs[2].n_hashes == 1);     /* the sha384 is not kept */
		dk_lock_release(&lock);
	}
	free(path);
}

static void reqs_ok(const char *text, const char *name, const char *version, size_t n_hashes)
{
	struct dk_err err = { 0 };
	struct dk_lock lock;

	if (dk_requirements_parse(text, strlen(text), "r.txt", &lock, &err) < 0) {
		CHECK_STR(err.msg, "");
		return;
	}
	CHECK_STR(lock.pkgs[0].name, name);
	CHECK_STR(lock.pkgs[0].version, version);
	CHECK(lock.pkgs[0].n_hashes == n_hashes);
	dk_lock_release(&lock);
}

static void test_requirements_syntax(void)
{
	reqs_ok("a==1 --hash=sha256:" PIP_SHA "\n", "a", "1", 1);
	reqs_ok("A.b_c == 1.0.post1   --hash sha256:" PIP_SHA "  # comment\n", "A.b_c", "1.0.post1", 1);
	reqs_ok("\n  # only a comment \\\n a==1 \\\n\t--hash=sha256:" PIP_SHA "\\\n", "a", "1", 1);
	reqs_ok("--prefer-binary\n--only-binary=:all:\n\na[x, y]==2!1.0+local \\\n --hash=sha256:" PIP_SHA
		" \\\n --hash=sha512:00", "a", "2!1.0+local", 1);
	reqs_ok("a==1 ;python_version<'4' --hash=sha256:" PIP_SHA "\n", "a", "1", 1);
}

static void reqs_bad(const char *text, const char *want)
{
	struct dk_err err = { 0 };
	struct dk_lock lock;

	CHECK(dk_requirements_parse(text, strlen(text), "r.txt", &lock, &err) < 0);
	CHECK(err.code == DK_E_SPEC);
	if (!strstr(err.msg, want))
		CHECK_STR(err.msg, want);
	CHECK(!strchr(err.msg, '\n'));
}

#define H " --hash=sha256:" PIP_SHA

static void test_requirements_refused(void)
{
	reqs_bad("a==1" H "\nb>=1" H "\n", "r.txt:2: b: not pinned to one version (expected name==version, got \">=1\")");
	reqs_bad("a" H "\n", "r.txt:1: a: not pinned (expected name==version)");
	reqs_bad("a>=1\x01" "2" H "\n", "r.txt:1: a: not pinned to one version (expected name==version, got \">=1?2\")");
	reqs_bad("a==1.*" H "\n", "r.txt:1: a: not pinned to one version");
	reqs_bad("a===1" H "\n", "r.txt:1: a: not pinned to one version");
	reqs_bad("a==1,<2" H "\n", "r.txt:1: a: not pinned");
	reqs_bad("\n\na==1\n", "r.txt:3: a: no --hash=sha256:");
	reqs_bad("a==1 --hash=md5:00\n", "r.txt:1: --hash=md5:00: pip allows sha256, sha384 and sha512 only");
	reqs_bad("a==1 --hash=sha512:00\n", "r.txt:1: a: no --hash=sha256:");
	reqs_bad("a==1 --hash=sha256:abc\n", "r.txt:1: --hash=sha256:abc: a sha256 is 64 hex digits");
	reqs_bad("a==1 --hash\n", "r.txt:1: a: --hash without a value");
	reqs_bad("a @ https://x.example/a-1-py3-none-any.whl" H "\n", "r.txt:1: a @ ...: a URL requirement");
	reqs_bad("https://x.example/a-1-py3-none-any.whl" H "\n", "r.txt:1: a URL requirement");
	reqs_bad("./dist/a-1-py3-none-any.whl" H "\n", "r.txt:1: a path requirement");
	reqs_bad("git+https://x.example/a.git" H "\n", "r.txt:1: a URL requirement");
	reqs_bad("a==1" H "\n-r other.txt\n", "r.txt:2: includes another requirements file (-r)");
	reqs_bad("-rother.txt\n", "r.txt:1: includes another requirements file (-r)");
	reqs_bad("-c c.txt\n", "r.txt:1: a constraints file (-c)");
	reqs_bad("-e .\n", "r.txt:1: an editable or local project (-e)");
	reqs_bad("--index-url https://u:p@x.example/simple\n", "r.txt:1: an index option: where wheels come from is the spec's index_url");
	reqs_bad("--extra-index-url=https://x.example/simple\n", "r.txt:1: an index option");
	reqs_bad("-i https://x.example/simple\n", "r.txt:1: an index option");
	reqs_bad("--find-links ./wheels\n", "r.txt:1: a find-links option");
	reqs_bad("--no-binary :all:\n", "r.txt:1: --no-binary asks to build from source");
	reqs_bad("--frobnicate\n", "r.txt:1: unknown or unsupported option --frobnicate");
	reqs_bad("a==1 --install-option=x" H "\n", "r.txt:1: unsupported requirement option --install-option=x");
	reqs_bad("a_b==1" H "\nA-.B==2" H "\n", "r.txt:2: A-.B is required twice (first at line 1)");
	reqs_bad("a==1 ; python_version < '3'" H "\na==2" H "\n", "r.txt:2: a is required twice");
	reqs_bad("a[x==1" H "\n", "r.txt:1: a: an unclosed [extras] list");
	reqs_bad("a==1 ;" H "\n", "r.txt:1: a: an empty marker");
	reqs_bad("# nothing\n\n", "r.txt: no requirements");
	{
		static const char nul[] = "a==1\0" H "\n";
		struct dk_err err = { 0 };
		struct dk_lock lock;

		CHECK(dk_requirements_parse(nul, sizeof(nul) - 1, "r.txt", &lock, &err) < 0);
		CHECK_STR(err.msg, "r.txt: a NUL byte: not a requirements file");
	}
}

static void pylock_bad(const char *text, const char *want)
{
	struct dk_err err = { 0 };
	struct dk_lock lock;

	CHECK(dk_pylock_parse(text, strlen(text), "d/pylock.toml", &lock, &err) < 0);
	if (!strstr(err.msg, want))
		CHECK_STR(err.msg, want);
	CHECK(!strchr(err.msg, '\n'));
}

#define HEAD "lock-version = \"1.0\"\ncreated-by = \"t\"\n"
#define WHEEL "[[packages.wheels]]\nurl = \"https://x.example/a-1-py3-none-any.whl\"\nhashes = {sha256 = \"" PIP_SHA "\"}\n"

static void test_pylock_refused(void)
{
	struct dk_err err = { 0 };
	struct dk_lock lock;
	const char *ok = "lock-version = \"1.7\"\ncreated-by = \"t\"\nnew-key = 1\n[[packages]]\nname = \"a\"\n" WHEEL;

	/* a newer minor version and keys it does not know are read */
	CHECK(dk_pylock_parse(ok, strlen(ok), "d/pylock.toml", &lock, &err) == 0);
	if (err.msg[0])
		CHECK_STR(err.msg, "");
	else
		dk_lock_release(&lock);
	pylock_bad("lock-version = \"2.0\"\ncreated-by = \"t\"\npackages = []\n",
		   "d/pylock.toml: lock-version \"2.0\": derrick reads version 1 locks only");
	pylock_bad(HEAD "[[packages]]\nname = \"a\\nb\"\n", "d/pylock.toml: packages[0] (a?b): no wheels");
	pylock_bad("lock-version = \"2\\n\"\n", "d/pylock.toml: lock-version \"2?\": expected MAJOR.MINOR");
	pylock_bad("lock-version = \"one\"\n", "d/pylock.toml: lock-version \"one\": expected MAJOR.MINOR");
	pylock_bad("lock-version = 1.0\n", "d/pylock.toml: lock-version: expected a string");
	pylock_bad("created-by = \"t\"\n", "d/pylock.toml: lock-version: missing (required)");
	pylock_bad("lock-version = \"1.0\"\npackages = []\n", "d/pylock.toml: created-by: missing (required)");
	pylock_bad(HEAD, "d/pylock.toml: packages: missing (required)");
	pylock_bad(HEAD "packages = 1\n", "d/pylock.toml: packages: expected an array of tables");
	pylock_bad(HEAD "environments = [1]\npackages = []\n", "d/pylock.toml: environments[0]: expected a string");
	pylock_bad(HEAD "[[packages]]\nversion = \"1\"\n", "d/pylock.toml: packages[0].name: missing (required)");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\nversion = 1\n", "d/pylock.toml: packages[0] (a).version: expected a string");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\n[packages.sdist]\nurl = \"https://x.example/a-1.tar.gz\"\n",
		   "d/pylock.toml: packages[0] (a): only an sdist entry, no wheels: derrick never builds from source");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\nvcs = {type = \"git\", url = \"https://x.example/a.git\"}\n",
		   "d/pylock.toml: packages[0] (a): only a vcs entry, no wheels: derrick never builds from source");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\ndirectory = {path = \".\"}\n",
		   "packages[0] (a): only a directory entry");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\narchive = {url = \"https://x.example/a-1.tar.gz\", hashes = {sha256 = \"" PIP_SHA "\"}}\n",
		   "packages[0] (a): only an archive entry, no wheels: derrick never builds from source");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\n", "d/pylock.toml: packages[0] (a): no wheels");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\n" WHEEL "[[packages.wheels]]\nname = \"a-1-py3-none-any.whl\"\nhashes = {sha256 = \"" PIP_SHA "\"}\n",
		   "d/pylock.toml: packages[0] (a).wheels[1].url: a wheel needs url or path");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\n[[packages.wheels]]\nurl = \"https://x.example/a-1-py3-none-any.whl\"\n",
		   "packages[0] (a).wheels[0].hashes: missing (required)");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\n[[packages.wheels]]\nurl = \"https://x.example/a-1-py3-none-any.whl\"\nhashes = {sha512 = \"00\"}\n",
		   "packages[0] (a).wheels[0].hashes: no sha256: derrick checks files by sha256 only");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\n[[packages.wheels]]\nurl = \"https://x.example/a-1-py3-none-any.whl\"\nhashes = {sha256 = \"zz\"}\n",
		   "packages[0] (a).wheels[0].hashes.sha256: expected 64 hex digits");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\n" WHEEL "size = -1\n", "packages[0] (a).wheels[0].size: expected a non-negative integer");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\n[[packages.wheels]]\nurl = \"https://x.example/a-1.tar.gz\"\nhashes = {sha256 = \"" PIP_SHA "\"}\n",
		   "packages[0] (a).wheels[0].name: not a wheel's file name");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\n[[packages.wheels]]\nname = \"../x.whl\"\npath = \"x\"\nhashes = {sha256 = \"" PIP_SHA "\"}\n",
		   "packages[0] (a).wheels[0].name: not a wheel's file name");
	pylock_bad(HEAD "[[packages]]\nname = \"a\"\n[[packages.wheels]]\nurl = \"a-1-py3-none-any.whl\"\nhashes = {sha256 = \"" PIP_SHA "\"}\n",
		   "packages[0] (a).wheels[0].url: not an absolute URL");
	pylock_bad(HEAD "x = \n", "d/pylock.toml:3:");
}

int main(void)
{
	RUN(test_pylock_file);
	RUN(test_requirements_forms);
	RUN(test_requirements_syntax);
	RUN(test_requirements_refused);
	RUN(test_pylock_refused);
	return tap_done();
}
