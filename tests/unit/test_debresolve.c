/*
 * test_debresolve.c - the resolver (debresolve.h) on small made-up indexes:
 * each rule of the header, the why chains, determinism, and every error.
 * deb_resolve.sh compares it with apt on Debian's real index.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/debresolve.h"
#include "derrick/util.h"
#include "tap.h"

#define PKG(name, ver, arch, extra) "Package: " name "\nVersion: " ver "\nArchitecture: " arch "\n" extra "\n"

static const char index_text[] =
	PKG("jq", "1.6-2", "amd64", "Depends: libjq1 (= 1.6-2), libc6 (>= 2.34)\nPriority: optional\n")
	PKG("libjq1", "1.6-2", "amd64", "Depends: libonig5 (>= 6.1)\nMulti-Arch: same\n")
	PKG("libonig5", "6.9.8-1", "amd64", "Multi-Arch: same\n")
	PKG("libonig5", "6.0-1", "amd64", "Multi-Arch: same\n")
	PKG("libc6", "2.36-9", "amd64", "Multi-Arch: same\nPriority: required\n")
	PKG("old", "1.0", "amd64", "Depends: libonig5 (>= 7)\n")
	PKG("chain", "1", "all", "Depends: old\n")
	PKG("mailer", "1", "amd64", "Depends: default-mta | mail-transport-agent\n")
	PKG("exim", "4", "amd64", "Provides: mail-transport-agent, default-mta\nPriority: standard\n")
	PKG("postfix", "3", "amd64", "Provides: mail-transport-agent\nPriority: optional\n")
	PKG("aaa-mta", "1", "amd64", "Provides: mail-transport-agent\nPriority: extra\n")
	PKG("mta-user", "1", "all", "Depends: mail-transport-agent\n")
	PKG("vp-user", "1", "all", "Depends: libfoo-abi (>= 2)\n")
	PKG("vp-user2", "1", "all", "Depends: unversioned-virt (>= 1)\n")
	PKG("libfoo2", "2.1", "amd64", "Provides: libfoo-abi (= 2.1), unversioned-virt\n")
	PKG("pytool", "1", "all", "Depends: python3:any, perl:any\n")
	PKG("python3", "3.11", "amd64", "Multi-Arch: allowed\n")
	PKG("perl", "5.36", "amd64", "\n")
	PKG("foreign-user", "1", "arm64", "Depends: tool-x\n")
	PKG("tool-x", "1", "amd64", "Multi-Arch: foreign\n")
	PKG("pre", "1", "amd64", "Pre-Depends: preneeded\nDepends: libc6\n")
	PKG("preneeded", "1", "amd64", "")
	PKG("bad-dep", "1", "amd64", "Depends: libc6 (>= \n")
	PKG("conflicter", "1", "amd64", "Conflicts: base-pkg\n")
	PKG("breaker", "1", "amd64", "Breaks: libc6 (<< 3)\n")
	PKG("base-pkg", "2", "amd64", "Source: basesrc\n")
	PKG("base-pkg2", "2", "amd64", "Source: basesrc\n")
	PKG("newsrc-user", "1", "amd64", "Depends: base-pkg (>= 2)\n")
	PKG("arch-only", "1", "arm64", "");

static const char status_text[] =
	"Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nArchitecture: amd64\nMulti-Arch: same\nEssential: yes\n\n"
	"Package: base-pkg\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\nSource: basesrc\n\n"
	"Package: base-pkg2\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\nSource: basesrc\n\n"
	"Package: libonig5\nStatus: deinstall ok config-files\nVersion: 6.9.8-1\nArchitecture: amd64\n\n"
	"Package: perl\nStatus: hold ok installed\nVersion: 5.36\nArchitecture: amd64\n";

static struct dk_debidx *ix, *base;

static void load(void)
{
	struct dk_err err;

	ix = dk_debidx_new();
	base = dk_debidx_new();
	if (dk_debidx_add_mem(ix, index_text, sizeof(index_text) - 1, "Packages", DK_DEBIDX_PACKAGES, &err) < 0 ||
	    dk_debidx_add_mem(base, status_text, sizeof(status_text) - 1, "status", DK_DEBIDX_STATUS, &err) < 0) {
		printf("# %s\n", err.msg);
		exit(1);
	}
}

/* The result as "name version arch why" lines, or "error: MESSAGE". Caller frees. */
static char *resolve(const char *arch, const char *const *reqs, size_t n)
{
	struct dk_debresolution res;
	struct dk_err err;
	struct strbuf sb = { 0 };

	if (dk_debresolve(ix, base, arch, reqs, n, &res, &err) < 0) {
		CHECK(res.n == 0 && res.pkgs == NULL);
		return dk_xasprintf("error %d: %s", err.code, err.msg);
	}
	for (size_t k = 0; k < res.n; k++) {
		sb_addf(&sb, "%s %s %s %s", res.pkgs[k].name, res.pkgs[k].version, res.pkgs[k].arch, res.pkgs[k].why);
		if (res.pkgs[k].replaces)
			sb_addf(&sb, " [replaces %s]", res.pkgs[k].replaces);
		if (res.pkgs[k].pre_depended)
			sb_adds(&sb, " [pre]");
		sb_addc(&sb, '\n');
		CHECK(res.pkgs[k].stanza_len > 0 && !strncmp(res.pkgs[k].stanza, "Package: ", 9));
	}
	dk_debresolution_free(&res);
	dk_debresolution_free(&res);
	return sb.buf ? sb_detach(&sb) : dk_xstrdup("");
}

static void expect(const char *arch, const char *req, const char *want)
{
	const char *reqs[] = { req };
	char *got = resolve(arch, reqs, 1);

	CHECK_STR(got, want);
	free(got);
}

static void test_chain(void)
{
	/* libc6 is in the base; the highest libonig5 is taken; the why chain */
	expect("amd64", "jq", "jq 1.6-2 amd64 jq\nlibjq1 1.6-2 amd64 jq <- libjq1\n"
			      "libonig5 6.9.8-1 amd64 jq <- libjq1 <- libonig5\n");
	/* an explicit version; an "all" package is the target's */
	expect("amd64", "jq:amd64=1.6-2", "jq 1.6-2 amd64 jq\nlibjq1 1.6-2 amd64 jq <- libjq1\n"
					  "libonig5 6.9.8-1 amd64 jq <- libjq1 <- libonig5\n");
	/* the base has it: nothing to add */
	expect("amd64", "libc6", "");
	/* Pre-Depends are followed and flagged */
	expect("amd64", "pre", "pre 1 amd64 pre\npreneeded 1 amd64 pre <- preneeded [pre]\n");
}

static void test_virtual(void)
{
	/* default-mta has one provider; mail-transport-agent alone: by Priority */
	expect("amd64", "mailer", "exim 4 amd64 mailer <- exim\nmailer 1 amd64 mailer\n");
	expect("amd64", "mta-user", "exim 4 amd64 mta-user <- exim\nmta-user 1 all mta-user\n");
	/* a versioned dependency on a versioned Provides */
	expect("amd64", "vp-user", "libfoo2 2.1 amd64 vp-user <- libfoo2\nvp-user 1 all vp-user\n");
	/* an unversioned Provides does not satisfy a versioned dependency (Policy 7.5) */
	expect("amd64", "vp-user2", "error 2: vp-user2 -> unversioned-virt (>= 1): no candidate among its 1 provider(s) fits");
}

static void test_multiarch(void)
{
	/* python3:any is M-A allowed: fine; perl:any is not allowed: unsatisfiable even though the base has it */
	expect("amd64", "pytool", "error 2: pytool -> perl:any: no version satisfies; the index has 5.36");
	/* a foreign package satisfies a dependency of another architecture */
	expect("arm64", "foreign-user", "foreign-user 1 arm64 foreign-user\ntool-x 1 amd64 foreign-user <- tool-x\n");
	expect("amd64", "arch-only", "error 4: no package \"arch-only\" for amd64 in the index");
	expect("amd64", "arch-only:arm64", "arch-only 1 arm64 arch-only\n");
}

static void test_upgrades(void)
{
	/* a versioned dependency the base does not meet upgrades it, and the same source's other binary */
	expect("amd64", "newsrc-user",
	       "base-pkg 2 amd64 newsrc-user <- base-pkg [replaces 1]\n"
	       "base-pkg2 2 amd64 newsrc-user <- base-pkg <- base-pkg2 (same source) [replaces 1]\n"
	       "newsrc-user 1 amd64 newsrc-user\n");
	/* a requested package the base has at an older version is upgraded */
	expect("amd64", "base-pkg2", "base-pkg 2 amd64 base-pkg2 <- base-pkg (same source) [replaces 1]\n"
				     "base-pkg2 2 amd64 base-pkg2 [replaces 1]\n");
}

static void test_errors(void)
{
	expect("amd64", "old", "error 2: old -> libonig5 (>= 7): no version satisfies; the index has 6.9.8-1, 6.0-1");
	expect("amd64", "chain", "error 2: chain -> old -> libonig5 (>= 7): no version satisfies; the index has 6.9.8-1, 6.0-1");
	expect("amd64", "nope", "error 4: no package \"nope\" for amd64 in the index");
	expect("amd64", "jq=9", "error 4: \"jq\" has no version 9 for amd64; the index has 1.6-2");
	expect("amd64", "Bad Name", "error 1: invalid package request \"Bad Name\" (expected name[:arch][=version])");
	expect("amd64", "jq\n", "error 1: invalid package request: it holds a control character");
	expect("amd64", "jq=", "error 1: invalid package request \"jq=\" (expected name[:arch][=version])");
	expect("amd64", "jq:", "error 1: invalid package request \"jq:\" (expected name[:arch][=version])");
	expect("all", "jq", "error 1: invalid target architecture \"all\" (a Debian name: amd64, arm64...)");
	expect("AMD64", "jq", "error 1: invalid target architecture \"AMD64\" (a Debian name: amd64, arm64...)");
	expect("amd64", "bad-dep", "error 2: Packages:117: bad-dep: Depends: \"libc6 (>=\": version is empty");
	expect("amd64", "conflicter", "error 2: conflicter (1) conflicts with base-pkg: base-pkg (1) is in the base");
	expect("amd64", "breaker", "error 2: breaker (1) breaks libc6 (<< 3): libc6 (2.36-9) is in the base");
	/* two requests that want different versions of one package */
	{
		const char *reqs[] = { "libonig5=6.0-1", "jq" };
		char *got = resolve("amd64", reqs, 2);

		CHECK_STR(got, "error 2: libonig5=6.0-1: libonig5 6.0-1 is requested, but jq <- libjq1 <- libonig5 needs 6.9.8-1");
		free(got);
	}
	{
		struct dk_err err;
		struct dk_debresolution res;

		CHECK(dk_debresolve(ix, base, NULL, NULL, 0, &res, &err) == -1 && err.code == DK_E_USAGE);
	}
}

static void test_deterministic(void)
{
	const char *a[] = { "jq", "mailer", "vp-user" }, *b[] = { "vp-user", "mailer", "jq" };
	char *x = resolve("amd64", a, 3), *y = resolve("amd64", b, 3);
	struct dk_debidx *saved = ix;
	struct dk_err err;
	struct strbuf rev = { 0 };
	const char *p = index_text + sizeof(index_text) - 1;

	CHECK_STR(x, y);
	free(y);
	/* the same index with its stanzas in reverse order */
	while (p > index_text) {
		const char *start = p - 1;

		while (start > index_text && !(start[-1] == '\n' && start[-2] == '\n'))
			start--;
		sb_add(&rev, start, (size_t)(p - start));
		if (rev.buf[rev.len - 1] != '\n')
			sb_addc(&rev, '\n');
		sb_addc(&rev, '\n');
		p = start;
	}
	ix = dk_debidx_new();
	CHECK(dk_debidx_add_mem(ix, rev.buf, rev.len, "reversed", DK_DEBIDX_PACKAGES, &err) == 0);
	CHECK(dk_debidx_count(ix) == dk_debidx_count(saved));
	y = resolve("amd64", b, 3);
	CHECK_STR(y, x);
	dk_debidx_free(ix);
	ix = saved;
	free(x);
	free(y);
	sb_release(&rev);
}

static void refused(const char *text, enum dk_debidx_kind kind, int code, const char *want)
{
	struct dk_debidx *t = dk_debidx_new();
	struct dk_err err = { 0 };

	CHECK(dk_debidx_add_mem(t, "Package: ok\nVersion: 1\nArchitecture: all\n", 41, "first", kind, &err) == 0);
	CHECK(dk_debidx_add_mem(t, text, strlen(text), "in", kind, &err) == -1);
	CHECK(err.code == (enum dk_code)code);
	CHECK_STR(err.msg, want);
	CHECK(dk_debidx_count(t) == (kind == DK_DEBIDX_PACKAGES ? 1u : 0u));   /* unchanged */
	dk_debidx_free(t);
}

/* Several repositories in one set: each package says which one it came from; one version in two is the first's. */
static void test_origin(void)
{
	static const char a[] = PKG("tool", "1", "amd64", "Depends: lib\nFilename: a/tool.deb\n")
		PKG("lib", "1", "amd64", "Filename: lib.deb\n");
	static const char b[] = PKG("tool", "2", "amd64", "Depends: lib\nFilename: b/tool.deb\n")
		PKG("lib", "1", "amd64", "Filename: lib.deb\n");
	static const char *const req[] = { "tool" };
	struct dk_debresolution res;
	struct dk_err err;

	for (int order = 0; order < 2; order++) {
		struct dk_debidx *x = dk_debidx_new();

		/* added in either order: the tags, not the order of adding, decide */
		dk_debidx_set_origin(x, order ? 1 : 0);
		CHECK(dk_debidx_add_mem(x, order ? b : a, strlen(order ? b : a), "first", DK_DEBIDX_PACKAGES, &err) == 0);
		dk_debidx_set_origin(x, order ? 0 : 1);
		CHECK(dk_debidx_add_mem(x, order ? a : b, strlen(order ? a : b), "second", DK_DEBIDX_PACKAGES, &err) == 0);
		CHECK(dk_debresolve(x, NULL, "amd64", req, 1, &res, &err) == 0);
		CHECK(res.n == 2);
		if (res.n == 2) {
			CHECK_STR(res.pkgs[0].name, "lib");
			CHECK(res.pkgs[0].origin == 0);      /* the same stanza in both: the first's */
			CHECK_STR(res.pkgs[1].version, "2");
			CHECK(res.pkgs[1].origin == 1);      /* the highest version, wherever it is */
		}
		dk_debresolution_free(&res);
		dk_debidx_free(x);
	}
}

static void test_load_errors(void)
{
	struct dk_debidx *t = dk_debidx_new();
	struct dk_err err;

	refused("Package: a\nVersion: 1\nArchitecture: all\n\nVersion: 2\n", DK_DEBIDX_PACKAGES, DK_E_CORRUPT,
		"in:5: a stanza without Package");
	refused("Package: a\nArchitecture: all\n", DK_DEBIDX_PACKAGES, DK_E_CORRUPT, "in:1: a: no Version");
	refused("Package: a\nVersion: 1\n", DK_DEBIDX_PACKAGES, DK_E_CORRUPT, "in:1: a: no Architecture");
	refused("Package: a\nVersion: x1\nArchitecture: all\n", DK_DEBIDX_PACKAGES, DK_E_SPEC,
		"in:1: a: Version: invalid version \"x1\": version number does not start with digit");
	refused("Package: a\nVersion: 1\nArchitecture: all\nProvides: bb (>= 1)\n", DK_DEBIDX_PACKAGES, DK_E_SPEC,
		"in:4: a: Provides: \"bb (>= 1)\": only \"=\" versions are allowed here (Policy 7.5)");
	refused("Package: a\n b\nVersion: 1\nArchitecture: all\n", DK_DEBIDX_PACKAGES, DK_E_CORRUPT,
		"in:1: invalid package name (Policy 5.6.1)");
	refused("Package: a\nVersion: 1\nArchitecture: AMD64\n", DK_DEBIDX_PACKAGES, DK_E_CORRUPT,
		"in:1: a: invalid Architecture");
	refused("Package: a\nbroken\n", DK_DEBIDX_PACKAGES, DK_E_CORRUPT,
		"in:2: line without a colon (not \"Name: value\") \"broken\"");
	refused("Package: a\nStatus: install ok installed\n", DK_DEBIDX_STATUS, DK_E_CORRUPT, "in:1: a: no Version");
	CHECK(dk_debidx_add_file(t, "/nonexistent/Packages", DK_DEBIDX_PACKAGES, &err) == -1 &&
	      err.code == DK_E_NOTFOUND && strstr(err.msg, "/nonexistent/Packages: open"));
	CHECK(dk_debidx_count(base) == 4);   /* the deinstalled libonig5 is not kept */
	dk_debidx_free(t);
	dk_debidx_free(NULL);
}

int main(void)
{
	load();
	RUN(test_chain);
	RUN(test_virtual);
	RUN(test_multiarch);
	RUN(test_upgrades);
	RUN(test_errors);
	RUN(test_deterministic);
	RUN(test_origin);
	RUN(test_load_errors);
	dk_debidx_free(ix);
	dk_debidx_free(base);
	return tap_done();
}
