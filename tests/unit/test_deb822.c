/*
 * test_deb822.c - the deb822 stanza reader (deb822.h) and relation fields
 * (debrel.h): folding, comments, raw bytes, the fd reader across blocks,
 * and every error with its file:line or package and field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/deb822.h"
#include "derrick/debrel.h"
#include "derrick/util.h"
#include "tap.h"

static char *value(const struct dk_deb822_stanza *st, const char *name)
{
	const struct dk_deb822_field *f = dk_deb822_get(st, name);

	return f ? dk_xstrndup(f->value, f->value_len) : NULL;
}

static void check_value(const struct dk_deb822_stanza *st, const char *name, const char *want)
{
	char *v = value(st, name);

	CHECK_STR(v, want);
	free(v);
}

static void test_stanzas(void)
{
	static const char text[] =
		"\n \t\n"
		"Package: foo\n"
		"version:  1.0  \n"
		"Description: short\n"
		" long line\n"
		" .\n"
		" more\n"
		"Conffiles:\n"
		" /etc/foo abc\n"
		"\n\n"
		"Package: bar\n"
		"Depends: a,\n"
		"  b (>= 1)\n";
	struct dk_deb822_reader *r = dk_deb822_open_mem(text, sizeof(text) - 1, "Packages", 0);
	struct dk_deb822_stanza st;
	struct dk_err err;
	char *folded;

	CHECK(dk_deb822_next(r, &st, &err) == 1);
	CHECK(st.line == 3 && st.nfields == 4);
	CHECK(st.raw == text + 4);
	CHECK(st.raw_len == strlen("Package: foo\nversion:  1.0  \nDescription: short\n long line\n .\n more\n"
				   "Conffiles:\n /etc/foo abc\n"));
	check_value(&st, "PACKAGE", "foo");
	check_value(&st, "Version", "1.0");
	check_value(&st, "description", "short\n long line\n .\n more");
	check_value(&st, "Conffiles", "\n /etc/foo abc");
	CHECK(dk_deb822_get(&st, "Depends") == NULL);
	CHECK(dk_deb822_get(&st, "Description")->line == 5);
	CHECK(dk_deb822_next(r, &st, &err) == 1);
	CHECK(st.line == 13);
	CHECK(st.raw_len == strlen("Package: bar\nDepends: a,\n  b (>= 1)\n"));
	folded = dk_deb822_folded(dk_deb822_get(&st, "Depends"));
	CHECK_STR(folded, "a, b (>= 1)");
	free(folded);
	CHECK(dk_deb822_next(r, &st, &err) == 0);
	CHECK(dk_deb822_next(r, &st, &err) == 0);
	dk_deb822_close(r);

	/* no final newline; comments only when asked */
	r = dk_deb822_open_mem("# c\nSource: x\n# inside\nBuild-Depends: y", 39, "control", DK_DEB822_COMMENTS);
	CHECK(dk_deb822_next(r, &st, &err) == 1);
	CHECK(st.line == 2 && st.nfields == 2);
	CHECK(st.raw_len == strlen("Source: x\n# inside\nBuild-Depends: y"));
	check_value(&st, "build-depends", "y");
	CHECK(dk_deb822_next(r, &st, &err) == 0);
	dk_deb822_close(r);
	dk_deb822_close(NULL);
}

static void refused(const char *text, int flags, const char *want)
{
	struct dk_deb822_reader *r = dk_deb822_open_mem(text, strlen(text), "in", flags);
	struct dk_deb822_stanza st;
	struct dk_err err = { 0 };
	int rc;

	while ((rc = dk_deb822_next(r, &st, &err)) > 0)
		;
	CHECK(rc == -1);
	CHECK(err.code == DK_E_CORRUPT);
	CHECK_STR(err.msg, want);
	/* a failed reader stays failed */
	CHECK(dk_deb822_next(r, &st, &err) == -1);
	dk_deb822_close(r);
}

static void test_errors(void)
{
	refused("Package: a\nno colon here\n", 0, "in:2: line without a colon (not \"Name: value\") \"no colon here\"");
	refused(": x\n", 0, "in:1: empty field name");
	refused("Package: a\n\n-Foo: x\n", 0, "in:3: field name starts with '-' or '#' \"-Foo\"");
	refused("# comment: x\n", 0, "in:1: field name starts with '-' or '#' \"# comment\"");
	refused(" continued\nPackage: a\n", 0, "in:1: continuation line before any field");
	refused("Package: a\nPACKAGE: b\n", 0, "in:2: field given twice in one stanza: \"PACKAGE\"");
	refused("Pack age: a\n", 0, "in:1: invalid field name \"Pack age\"");
	refused("Pack\x01: a\n", 0, "in:1: invalid field name \"Pack?\"");  /* shown printable: one line */
}

/* The fd reader over a file bigger than its blocks: stanzas cut across reads come out whole. */
static void test_fd(void)
{
	char path[] = "/tmp/derrick-deb822-XXXXXX";
	int fd = mkstemp(path), n = 0, rc;
	struct strbuf sb = { 0 };
	struct dk_deb822_reader *r;
	struct dk_deb822_stanza st;
	struct dk_err err;
	size_t total = 0;

	for (int i = 0; i < 6000; i++)
		sb_addf(&sb, "Package: p%d\nDescription: %0*d\n x\n\n", i, 80 + i % 300, i);
	CHECK(write(fd, sb.buf, sb.len) == (ssize_t)sb.len);
	lseek(fd, 0, SEEK_SET);
	r = dk_deb822_open_fd(fd, path, 0);
	while ((rc = dk_deb822_next(r, &st, &err)) > 0) {
		char want[32];
		char *v = value(&st, "Package");

		snprintf(want, sizeof(want), "p%d", n);
		if (strcmp(v, want))
			CHECK_STR(v, want);
		total += st.raw_len + 1;
		free(v);
		n++;
	}
	CHECK(rc == 0 && n == 6000);
	CHECK(total == sb.len);
	dk_deb822_close(r);
	/* a read error is DK_E_IO naming the input */
	r = dk_deb822_open_fd(-1, "bad-fd", 0);
	CHECK(dk_deb822_next(r, &st, &err) == -1 && err.code == DK_E_IO && strstr(err.msg, "bad-fd: read"));
	dk_deb822_close(r);
	close(fd);
	unlink(path);
	sb_release(&sb);
}

static void test_relations(void)
{
	static const char text[] = "libc6 (>= 2.34), default-mta | mail-transport-agent,\n python3:any,"
				   " foo:amd64 (<< 1:2~) | bar (= 1.0-1) , baz (>> 0) ,qux(<=3)";
	struct dk_debrel rel;
	struct dk_err err;

	CHECK(dk_debrel_parse(text, sizeof(text) - 1, 0, "Depends", "pkg", &rel, &err) == 0);
	CHECK(rel.nclauses == 6);
	CHECK_STR(rel.clauses[0].alts[0].name, "libc6");
	CHECK(rel.clauses[0].alts[0].op == DK_DEBREL_GE);
	CHECK_STR(rel.clauses[0].alts[0].version, "2.34");
	CHECK(rel.clauses[1].nalts == 2);
	CHECK_STR(rel.clauses[1].alts[1].name, "mail-transport-agent");
	CHECK_STR(rel.clauses[2].alts[0].archqual, "any");
	CHECK(rel.clauses[2].alts[0].op == DK_DEBREL_NONE && !rel.clauses[2].alts[0].version);
	CHECK_STR(rel.clauses[3].alts[0].archqual, "amd64");
	CHECK(rel.clauses[3].alts[0].op == DK_DEBREL_LT);
	CHECK_STR(rel.clauses[3].alts[1].version, "1.0-1");
	CHECK(rel.clauses[4].alts[0].op == DK_DEBREL_GT);
	CHECK(rel.clauses[5].alts[0].op == DK_DEBREL_LE);
	CHECK(dk_debrel_alt_applies(&rel.clauses[0].alts[0], "arm64"));
	dk_debrel_free(&rel);
	dk_debrel_free(&rel);

	/* obsolete < and > read as <= and >= (dpkg) */
	CHECK(dk_debrel_parse("a1 (< 1), b1 (> 2)", 18, 0, "Depends", "p", &rel, &err) == 0);
	CHECK(rel.clauses[0].alts[0].op == DK_DEBREL_LE && rel.clauses[1].alts[0].op == DK_DEBREL_GE);
	dk_debrel_free(&rel);
	/* an empty field has no clauses */
	CHECK(dk_debrel_parse("  ", 2, 0, "Depends", "p", &rel, &err) == 0 && rel.nclauses == 0);
	dk_debrel_free(&rel);

	/* source relations: [arch] and <profile> lists */
	static const char src[] = "a1 [amd64 arm64] <!nocheck>, b1 [!i386], c1 <stage1 cross> <!nodoc>, d1 <stage1>,"
				  " e1 [any-arm], f1 [linux-any]";
	CHECK(dk_debrel_parse(src, sizeof(src) - 1, DK_DEBREL_RESTRICTIONS, "Build-Depends", "s", &rel, &err) == 0);
	CHECK(rel.clauses[0].alts[0].narchs == 2 && rel.clauses[0].alts[0].nprofiles == 1);
	CHECK_STR(rel.clauses[0].alts[0].profiles[0], "!nocheck");
	CHECK(dk_debrel_alt_applies(&rel.clauses[0].alts[0], "amd64"));
	CHECK(!dk_debrel_alt_applies(&rel.clauses[0].alts[0], "i386"));
	CHECK(dk_debrel_alt_applies(&rel.clauses[1].alts[0], "amd64"));
	CHECK(!dk_debrel_alt_applies(&rel.clauses[1].alts[0], "i386"));
	CHECK(rel.clauses[2].alts[0].nprofiles == 2);
	CHECK(dk_debrel_alt_applies(&rel.clauses[2].alts[0], "amd64"));    /* <!nodoc> holds */
	CHECK(!dk_debrel_alt_applies(&rel.clauses[3].alts[0], "amd64"));   /* <stage1> does not */
	CHECK(dk_debrel_alt_applies(&rel.clauses[4].alts[0], "armhf"));
	CHECK(!dk_debrel_alt_applies(&rel.clauses[4].alts[0], "arm64"));
	CHECK(dk_debrel_alt_applies(&rel.clauses[5].alts[0], "riscv64"));
	dk_debrel_free(&rel);

	/* Provides with versions */
	CHECK(dk_debrel_parse("libgcc1 (= 1:12.2.0-14), x-y", 28, DK_DEBREL_NO_ALTS | DK_DEBREL_ONLY_EQ,
			      "Provides", "libgcc-s1", &rel, &err) == 0);
	CHECK_STR(rel.clauses[0].alts[0].version, "1:12.2.0-14");
	dk_debrel_free(&rel);

	CHECK(dk_debrel_satisfies("1.0-1", DK_DEBREL_GE, "1.0"));
	CHECK(!dk_debrel_satisfies("1.0~rc1", DK_DEBREL_GE, "1.0"));
	CHECK(dk_debrel_satisfies("1.0", DK_DEBREL_EQ, "1.0-0"));
	CHECK(dk_debrel_satisfies("1.0", DK_DEBREL_LT, "1.0.1"));
	CHECK(!dk_debrel_satisfies("2", DK_DEBREL_LE, "1"));
	CHECK(dk_debrel_satisfies("2", DK_DEBREL_NONE, NULL));
	CHECK_STR(dk_debrel_op_name(DK_DEBREL_GT), ">>");
	CHECK_STR(dk_debrel_op_name(DK_DEBREL_NONE), "");
}

static void rel_refused(const char *text, int flags, const char *want)
{
	struct dk_debrel rel;
	struct dk_err err = { 0 };

	CHECK(dk_debrel_parse(text, strlen(text), flags, "Depends", "jq", &rel, &err) == -1);
	CHECK(err.code == DK_E_SPEC);
	CHECK_STR(err.msg, want);
	CHECK(rel.nclauses == 0 && rel.clauses == NULL);
}

static void test_relation_errors(void)
{
	rel_refused("libc6 (>= 2.3", 0, "jq: Depends: \"libc6 (>= 2.3\": expected ')' after the version");
	rel_refused("libc6 (>=)", 0, "jq: Depends: \"libc6 (>=)\": version is empty");
	rel_refused("libc6 (~ 1)", 0, "jq: Depends: \"libc6 (~ 1)\": expected a version operator (<< <= = >= >>) after '('");
	rel_refused("libc6 (>= a1)", 0, "jq: Depends: \"libc6 (>= a1)\": invalid version \"a1\": version number does not start with digit");
	rel_refused("Libc6", 0, "jq: Depends: \"Libc6\": invalid package name (Policy 5.6.1: lower-case letters, digits, + - ., two or more)");
	rel_refused("a", 0, "jq: Depends: \"a\": invalid package name (Policy 5.6.1: lower-case letters, digits, + - ., two or more)");
	rel_refused("libc6:", 0, "jq: Depends: \"libc6:\": empty architecture qualifier after ':'");
	rel_refused("libc6,", 0, "jq: Depends: \"\": empty clause (a ',' with nothing after it)");
	rel_refused("libc6, , b1", 0, "jq: Depends: \"\": empty clause (a ',' with nothing after it)");
	rel_refused("libc6 |", 0, "jq: Depends: \"\": empty alternative");
	rel_refused("(>= 1)", 0, "jq: Depends: \"(>= 1)\": expected a package name");
	rel_refused("libc6 foo", 0, "jq: Depends: \"libc6 foo\": unexpected character (expected ',' or '|' or the end)");
	rel_refused("a1 | b1", DK_DEBREL_NO_ALTS, "jq: Depends: \"a1\": alternatives ('|') are not allowed in this field");
	rel_refused("a1 (>= 1)", DK_DEBREL_ONLY_EQ, "jq: Depends: \"a1 (>= 1)\": only \"=\" versions are allowed here (Policy 7.5)");
	rel_refused("a1 [amd64]", 0, "jq: Depends: \"a1 [amd64]\": [arch] restrictions are only allowed in source relations");
	rel_refused("a1 <!nocheck>", 0, "jq: Depends: \"a1 <!nocheck>\": <profile> restrictions are only allowed in source relations");
	rel_refused("a1 [amd64 !i386]", DK_DEBREL_RESTRICTIONS, "jq: Depends: \"a1 [amd64 !i386]\": an [arch] list mixes negated and plain architectures (Policy 7.1)");
	rel_refused("a1 []", DK_DEBREL_RESTRICTIONS, "jq: Depends: \"a1 []\": empty [arch] list");
	rel_refused("a1 [amd64", DK_DEBREL_RESTRICTIONS, "jq: Depends: \"a1 [amd64\": unterminated [arch] list");
	rel_refused("a1 <!nocheck", DK_DEBREL_RESTRICTIONS, "jq: Depends: \"a1 <!nocheck\": unterminated <profile> list");
	rel_refused("a1 (>=\n 1) b1\tc1", 0, "jq: Depends: \"a1 (>=  1) b1 c1\": unexpected character (expected ',' or '|' or the end)");
	rel_refused("a1 <>", DK_DEBREL_RESTRICTIONS, "jq: Depends: \"a1 <>\": empty <profile> list");
}

int main(void)
{
	RUN(test_stanzas);
	RUN(test_errors);
	RUN(test_fd);
	RUN(test_relations);
	RUN(test_relation_errors);
	return tap_done();
}
