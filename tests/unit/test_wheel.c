/*
 * test_wheel.c - the wheel module: RECORD, header blocks, entry_points.txt
 * and the wrapper template (wheelfmt.h), and whole wheels written here with
 * libarchive's zip writer, opened, verified and installed (wheel.h).
 * tests/e2e/wheels.sh compares real wheels with pypa/installer.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "derrick/digest.h"
#include "derrick/entry.h"
#include "derrick/util.h"
#include "derrick/wheel.h"
#include "derrick/wheelfmt.h"

#include "tap.h"

static void test_record_parse(void)
{
	const char *t = "a.py,sha256=x,1\r\n\n\"b,\"\"c\"\"\",,\n\"multi\nline\",h,2\nRECORD,,";
	struct dk_record_row *r;
	struct dk_err err;
	size_t n;

	CHECK(dk_record_parse(t, strlen(t), "R", &r, &n, &err) == 0);
	CHECK(n == 4);
	if (n == 4) {
		CHECK_STR(r[0].path, "a.py");
		CHECK_STR(r[0].hash, "sha256=x");
		CHECK_STR(r[0].size, "1");
		CHECK_STR(r[1].path, "b,\"c\"");
		CHECK_STR(r[1].hash, "");
		CHECK(r[1].line == 3);
		CHECK_STR(r[2].path, "multi\nline");
		CHECK(r[3].line == 6);
		CHECK_STR(r[3].path, "RECORD");
	}
	dk_record_rows_free(r, n);
	CHECK(dk_record_parse("a,b\n", 4, "R", &r, &n, &err) < 0);
	CHECK_STR(err.msg, "R:1: 2 fields, not 3 (path,hash,size)");
	CHECK(dk_record_parse("x,y,z\na,b,c,d\n", 14, "R", &r, &n, &err) < 0);
	CHECK_STR(err.msg, "R:2: 4 fields, not 3 (path,hash,size)");
	CHECK(dk_record_parse("\"a,b,c\n", 7, "R", &r, &n, &err) < 0);
	CHECK_STR(err.msg, "R:1: a quoted field does not end");
	CHECK(dk_record_parse("a,\0,c\n", 6, "R", &r, &n, &err) < 0);
	CHECK(dk_record_parse("", 0, "R", &r, &n, &err) == 0 && n == 0);
	dk_record_rows_free(r, n);
}

static void test_record_write(void)
{
	struct strbuf sb = STRBUF_INIT;
	char hex[DK_DIGEST_SIZE], *h;

	dk_sha256_buf("", 0, hex);
	h = dk_record_hash(hex + 7);
	CHECK_STR(h, "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
	dk_record_line(&sb, "a/b.py", h, 0);
	dk_record_line(&sb, "we,ird\"", h, 12);
	dk_record_line(&sb, "x.dist-info/RECORD", NULL, 0);
	CHECK_STR(sb.buf, "a/b.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n"
		  "\"we,ird\"\"\",sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,12\n"
		  "x.dist-info/RECORD,,\n");
	free(h);
	sb_release(&sb);
}

static void test_headers(void)
{
	const char *t = "Metadata-Version: 2.1\nname:  demo \nSummary: a\n  folded\n\tline\r\n"
			"Requires-Python: >=3.8\n\nVersion: in the body\n";
	char *v;

	v = dk_header_get(t, strlen(t), "Name");
	CHECK_STR(v, "demo");
	free(v);
	v = dk_header_get(t, strlen(t), "Summary");
	CHECK_STR(v, "a   folded \tline");
	free(v);
	v = dk_header_get(t, strlen(t), "requires-python");
	CHECK_STR(v, ">=3.8");
	free(v);
	CHECK(dk_header_get(t, strlen(t), "Version") == NULL);
	CHECK(dk_header_get(t, strlen(t), "Nam") == NULL);
}

static int parse_eps(const char *t, struct dk_entry_point **v, size_t *n, struct dk_err *err)
{
	return dk_entry_points_parse(t, strlen(t), "E", v, n, err);
}

static void test_entry_points(void)
{
	const char *t = "# comment\n[console_scripts]\nTool-A = pkg.mod:main\n"
			"b=pkg:obj.attr [extra1, extra2]\n; another\n"
			"c = pkg.x\n    :run\n\n[other]\nnot = a script\n[gui_scripts]\ng = p:q\n";
	struct dk_entry_point *v;
	struct dk_err err;
	size_t n;

	CHECK(parse_eps(t, &v, &n, &err) == 0);
	CHECK(n == 4);
	if (n == 4) {
		CHECK_STR(v[0].name, "Tool-A");
		CHECK_STR(v[0].module, "pkg.mod");
		CHECK_STR(v[0].attr, "main");
		CHECK_STR(v[1].name, "b");
		CHECK_STR(v[1].attr, "obj.attr");
		CHECK_STR(v[2].name, "c");
		CHECK_STR(v[2].module, "pkg.x");
		CHECK_STR(v[2].attr, "run");
		CHECK(!v[2].gui && v[3].gui);
	}
	dk_entry_points_free(v, n);
	CHECK(parse_eps("[console_scripts]\na = m:f\na = m:g\n", &v, &n, &err) < 0);
	CHECK_STR(err.msg, "E:3: key \"a\" appears twice in its section");
	CHECK(parse_eps("[console_scripts]\n[console_scripts]\n", &v, &n, &err) < 0);
	CHECK_STR(err.msg, "E:2: section [console_scripts] appears twice");
	CHECK(parse_eps("a = m:f\n", &v, &n, &err) < 0);
	CHECK_STR(err.msg, "E:1: a key before the first [section]");
	CHECK(parse_eps("[DEFAULT]\na = m:f\n", &v, &n, &err) < 0);
	CHECK(parse_eps("[console_scripts]\na = m:%(x)s\n", &v, &n, &err) < 0);
	CHECK(parse_eps("[console_scripts]\na = m\n", &v, &n, &err) < 0);
	CHECK_STR(err.msg, "E:2: entry point \"a\" is not \"module:attr\": \"m\"");
	CHECK(parse_eps("[console_scripts]\na = m:f()\n", &v, &n, &err) < 0);
	CHECK(parse_eps("[console_scripts]\na = m:f [x\n", &v, &n, &err) < 0);
	CHECK(parse_eps("[gui_scripts]\nsub/a = m:f\n", &v, &n, &err) < 0);
	CHECK_STR(err.msg, "E:2: entry point name \"sub/a\" is not a plain file name");
	CHECK(parse_eps("[gui_scripts]\n.. = m:f\n", &v, &n, &err) < 0);
	CHECK(parse_eps("[console_scripts]\njunk line\n", &v, &n, &err) < 0);
	/* configparser keeps the empty first line of a value: installer's pattern then fails */
	CHECK(parse_eps("[console_scripts]\nc =\n  m:f\n", &v, &n, &err) < 0);
	/* an indented line continues the value before it */
	CHECK(parse_eps("[console_scripts]\na = m:f\n  b = m:g\n", &v, &n, &err) < 0);
	CHECK(parse_eps("", &v, &n, &err) == 0 && n == 0);
	CHECK(dk_plain_file_name("a b.c") && !dk_plain_file_name("a\\b") && !dk_plain_file_name(""));
}

static void test_wrapper(void)
{
	struct dk_entry_point ep = { .name = "x", .module = "pkg.cli", .attr = "Main.run" };
	char *s = dk_entry_point_script(&ep, "/usr/bin/python3");
	const char *body = "# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom pkg.cli import Main\n"
			   "if __name__ == \"__main__\":\n"
			   "    sys.argv[0] = re.sub(r\"(-script\\.pyw|\\.exe)?$\", \"\", sys.argv[0])\n"
			   "    sys.exit(Main.run())\n";
	struct strbuf want = STRBUF_INIT;
	char longp[200];

	sb_addf(&want, "#!/usr/bin/python3\n%s", body);
	CHECK_STR(s, want.buf);
	free(s);
	sb_reset(&want);
	s = dk_entry_point_script(&ep, "/opt/my python/bin/it's");
	sb_addf(&want, "#!/bin/sh\n'''exec' '/opt/my python/bin/it'\"'\"'s' \"$0\" \"$@\"\n' '''\n%s", body);
	CHECK_STR(s, want.buf);
	free(s);
	/* 124 bytes + "#!" + LF = 127: still a plain shebang; one more is not */
	memset(longp, 'p', sizeof(longp));
	longp[0] = '/';
	longp[124] = '\0';
	s = dk_entry_point_script(&ep, longp);
	CHECK(!strncmp(s, "#!/ppp", 6));
	free(s);
	longp[124] = 'p';
	longp[125] = '\0';
	s = dk_entry_point_script(&ep, longp);
	CHECK(!strncmp(s, "#!/bin/sh\n'''exec' /ppp", 23));
	free(s);
	sb_release(&want);
}

/* A wheel written with libarchive's zip writer; RECORD made here unless `record` is given. */
struct member {
	const char *name, *data;
	int mode;
};

static char *b64sha(const char *data)
{
	char hex[DK_DIGEST_SIZE];

	dk_sha256_buf(data, strlen(data), hex);
	return dk_record_hash(hex + 7);
}

static void write_wheel(const char *path, const struct member *m, size_t n, const char *dist_info,
			const char *record)
{
	struct archive *a = archive_write_new();
	struct strbuf rec = STRBUF_INIT;
	char *recname = dk_xasprintf("%s/RECORD", dist_info);

	archive_write_set_format_zip(a);
	archive_write_open_filename(a, path);
	for (size_t i = 0; i <= n; i++) {
		struct archive_entry *e = archive_entry_new();
		const char *name = i < n ? m[i].name : recname;
		const char *data = i < n ? m[i].data : record ? record : rec.buf;

		if (i < n) {
			char *h = b64sha(data);

			dk_record_line(&rec, name, h, strlen(data));
			free(h);
		} else if (!record) {
			dk_record_line(&rec, recname, NULL, 0);
			data = rec.buf;
		}
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, i < n && m[i].mode ? m[i].mode : 0644);
		archive_entry_set_size(e, (la_int64_t)strlen(data));
		archive_write_header(a, e);
		archive_write_data(a, data, strlen(data));
		archive_entry_free(e);
	}
	archive_write_free(a);
	sb_release(&rec);
	free(recname);
}

static const struct member good[] = {
	{ "tiny/__init__.py", "def main():\n    return 0\n", 0 },
	{ "tiny/run.py", "print(1)\n", 0755 },
	{ "tiny-2.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: Tiny\nVersion: 2.0\nRequires-Python: >=3.9\n", 0 },
	{ "tiny-2.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n", 0 },
	{ "tiny-2.0.dist-info/entry_points.txt", "[console_scripts]\ntiny = tiny:main\n", 0 },
	{ "tiny-2.0.data/scripts/go", "#!python -u\nprint('go')\n", 0 },
	{ "tiny-2.0.data/data/share/tiny.txt", "t\n", 0 },
};
#define NGOOD (sizeof(good) / sizeof(*good))

static char *tmpdir;

static int requires(const struct dk_wheel_info *info, void *arg, struct dk_err *err)
{
	(*(int *)arg)++;
	if (!info->requires_python || strcmp(info->requires_python, ">=3.9"))
		return dk_fail(err, DK_E_CORRUPT, "Requires-Python");
	return 0;
}

static int refuse_all(const struct dk_wheel_info *info, void *arg, struct dk_err *err)
{
	(void)arg;
	return dk_fail(err, DK_E_SPEC, "%s %s needs Python %s", info->name, info->version, info->requires_python);
}

static const struct dk_entry *find(const struct dk_entries *l, const char *path)
{
	return dk_entries_find(l, path, NULL);
}

static char *content(const struct dk_entries *l, const struct dk_entry *e)
{
	char *b = calloc(1, e->size + 1);

	if (pread(l->spool_fd, b, e->size, (off_t)e->spool_off) != (ssize_t)e->size)
		b[0] = '\0';
	return b;
}

static void test_install(void)
{
	char *path = dk_xasprintf("%s/tiny-2.0-py3-none-any.whl", tmpdir);
	struct dk_wheel_opts o = { "/usr/local", "/usr/local/lib/python3.12/site-packages", "/usr/local/bin/python3.12",
				   "3.12", requires, NULL };
	struct dk_wheel_file f = { path, NULL, NULL, -1 };
	const struct dk_entry *e;
	struct dk_entries l;
	struct dk_err err;
	int calls = 0;
	char *c;

	o.check_arg = &calls;
	write_wheel(path, good, NGOOD, "tiny-2.0.dist-info", NULL);
	dk_entries_init(&l);
	CHECK(dk_wheels_install(&f, 1, &o, &l, &err) == 0);
	CHECK(calls == 1);
	CHECK(dk_entries_finish(&l, &err) == 0);
	CHECK(strlen(l.input_hash) == 64);
	e = find(&l, "usr/local/lib/python3.12/site-packages/tiny/run.py");
	CHECK(e && e->perm == 0755);
	CHECK(e && e->owner == 1);      /* wheel 1 of files[] wrote it */
	e = find(&l, "usr/local/lib/python3.12/site-packages/tiny/__init__.py");
	CHECK(e && e->perm == 0644);
	e = find(&l, "usr/local/bin/go");
	CHECK(e && e->perm == 0755);
	if (e) {
		c = content(&l, e);
		CHECK_STR(c, "#!/usr/local/bin/python3.12\nprint('go')\n");
		free(c);
	}
	e = find(&l, "usr/local/bin/tiny");
	CHECK(e && e->perm == 0755);
	CHECK(find(&l, "usr/local/share/tiny.txt") != NULL);
	CHECK(find(&l, "usr/local/lib/python3.12/site-packages") != NULL);
	e = find(&l, "usr/local/lib/python3.12/site-packages/tiny-2.0.dist-info/INSTALLER");
	if (e) {
		c = content(&l, e);
		CHECK_STR(c, "derrick\n");
		free(c);
	}
	e = find(&l, "usr/local/lib/python3.12/site-packages/tiny-2.0.dist-info/RECORD");
	CHECK(e != NULL);
	if (e) {
		c = content(&l, e);
		CHECK(!strncmp(c, "../../../bin/go,sha256=", 23));
		CHECK(strstr(c, "\n../../../bin/tiny,sha256=") != NULL);
		CHECK(strstr(c, "\n../../../share/tiny.txt,sha256=") != NULL);
		CHECK(strstr(c, "\ntiny-2.0.dist-info/RECORD,,\n") != NULL);
		CHECK(strstr(c, "\ntiny/run.py,sha256=") != NULL);
		free(c);
	}
	dk_entries_release(&l);

	/* site-packages outside the prefix: RECORD paths as os.path.relpath gives them */
	dk_entries_init(&l);
	o.prefix = "/opt/app/";
	o.site_packages = "/usr/lib/python3/dist-packages";
	CHECK(dk_wheels_install(&f, 1, &o, &l, &err) == 0);
	CHECK(dk_entries_finish(&l, &err) == 0);
	e = find(&l, "usr/lib/python3/dist-packages/tiny-2.0.dist-info/RECORD");
	CHECK(e != NULL);
	if (e) {
		c = content(&l, e);
		CHECK(!strncmp(c, "../../../../opt/app/bin/go,sha256=", 34));
		CHECK(strstr(c, "\n../../../../opt/app/share/tiny.txt,sha256=") != NULL);
		free(c);
	}
	CHECK(find(&l, "opt/app/bin/tiny") != NULL);
	o.prefix = "/usr/local";
	o.site_packages = "/usr/local/lib/python3.12/site-packages";
	dk_entries_release(&l);

	/* the same wheel, a wrong size, a wrong hash, a check that says no */
	dk_entries_init(&l);
	f.size = 3;
	CHECK(dk_wheels_install(&f, 1, &o, &l, &err) < 0);
	CHECK(strstr(err.msg, "bytes, but 3 expected") != NULL);
	f.size = -1;
	f.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	CHECK(dk_wheels_install(&f, 1, &o, &l, &err) < 0 && err.code == DK_E_CORRUPT);
	f.sha256 = "00";
	CHECK(dk_wheels_install(&f, 1, &o, &l, &err) < 0 && err.code == DK_E_USAGE);
	f.sha256 = NULL;
	o.check = refuse_all;
	CHECK(dk_wheels_install(&f, 1, &o, &l, &err) < 0);
	CHECK_STR(err.msg, "Tiny 2.0 needs Python >=3.9");
	CHECK(l.n == 0);
	o.check = requires;
	o.python = "3";
	CHECK(dk_wheels_install(&f, 1, &o, &l, &err) < 0 && err.code == DK_E_USAGE);
	o.python = "3.12";
	o.prefix = "usr";
	CHECK(dk_wheels_install(&f, 1, &o, &l, &err) < 0 && err.code == DK_E_USAGE);
	dk_entries_release(&l);
	free(path);
}

static void expect_refusal(const char *name, const struct member *m, size_t n, const char *di,
			   const char *record, const char *want)
{
	char *path = dk_xasprintf("%s/%s", tmpdir, name);
	struct dk_wheel_file f = { path, NULL, NULL, -1 };
	struct dk_wheel *w = NULL;
	struct dk_entries l;
	struct dk_err err = { 0 };

	write_wheel(path, m, n, di, record);
	dk_entries_init(&l);
	CHECK(dk_wheel_open(&f, &l, &w, &err) < 0);
	if (!strstr(err.msg, want)) {
		printf("#   %s: got \"%s\", want \"%s\"\n", name, err.msg, want);
		CHECK(!"the expected refusal");
	}
	dk_wheel_free(w);
	dk_entries_release(&l);
	unlink(path);
	free(path);
}

static void test_refusals(void)
{
	struct member m[NGOOD + 1];

	memcpy(m, good, sizeof(good));
	expect_refusal("tiny-2.0.whl", m, NGOOD, "tiny-2.0.dist-info", NULL, "is not NAME-VERSION");
	expect_refusal("tiny-2.0-py3-none-any.zip", m, NGOOD, "tiny-2.0.dist-info", NULL, "does not end in \".whl\"");
	expect_refusal("Tiny.X-2.0-py3-none-any.whl", m, NGOOD, "tiny-2.0.dist-info", NULL,
		       "names another distribution");
	expect_refusal("tiny-2.0-py3-none-any.whl", m, NGOOD, "tiny-2.0.dist-info", "RECORD,,\n",
		       "is in the wheel but not in RECORD, and RECORD lists \"RECORD\"");
	m[3].data = "Root-Is-Purelib: true\n";
	expect_refusal("tiny-2.0-py3-none-any.whl", m, NGOOD, "tiny-2.0.dist-info", NULL, "has no Wheel-Version");
	m[3].data = "Wheel-Version: one\n";
	expect_refusal("tiny-2.0-py3-none-any.whl", m, NGOOD, "tiny-2.0.dist-info", NULL, "is not MAJOR.MINOR");
	m[3].data = good[3].data;
	m[2].data = "Metadata-Version: 2.1\nVersion: 2.0\n";
	expect_refusal("tiny-2.0-py3-none-any.whl", m, NGOOD, "tiny-2.0.dist-info", NULL, "lacks Name or Version");
	m[2].data = good[2].data;
	m[NGOOD] = (struct member){ "tiny-2.0.data/scripts", "x", 0 };
	expect_refusal("tiny-2.0-py3-none-any.whl", m, NGOOD + 1, "tiny-2.0.dist-info", NULL,
		       "is not in a purelib, platlib, scripts, headers or data directory");
	m[NGOOD] = (struct member){ "other-1.0.dist-info/METADATA", "x", 0 };
	expect_refusal("tiny-2.0-py3-none-any.whl", m, NGOOD + 1, "tiny-2.0.dist-info", NULL,
		       "two .dist-info directories");
	m[NGOOD] = (struct member){ "a/./b.py", "x", 0 };
	expect_refusal("tiny-2.0-py3-none-any.whl", m, NGOOD + 1, "tiny-2.0.dist-info", NULL,
		       "has a \".\" or \"..\" component");
	m[NGOOD] = (struct member){ "tiny-2.0.data/purelib/tiny/__init__.py", "x", 0 };
	{
		char *path = dk_xasprintf("%s/tiny-2.0-py3-none-any.whl", tmpdir);
		struct dk_wheel_opts o = { "/usr", "/usr/lib/python3/dist-packages", "/usr/bin/python3", "3.11", NULL, NULL };
		struct dk_wheel_file f = { path, NULL, NULL, -1 };
		struct dk_entries l;
		struct dk_err err;

		write_wheel(path, m, NGOOD + 1, "tiny-2.0.dist-info", NULL);
		dk_entries_init(&l);
		CHECK(dk_wheels_install(&f, 1, &o, &l, &err) < 0);
		CHECK(strstr(err.msg, "\"tiny-2.0.data/purelib/tiny/__init__.py\" and \"tiny/__init__.py\" both install /usr/lib/python3/dist-packages/tiny/__init__.py") ||
		      strstr(err.msg, "\"tiny/__init__.py\" and \"tiny-2.0.data/purelib/tiny/__init__.py\" both install"));
		dk_entries_release(&l);
		/* a file where another wheel has a directory */
		m[NGOOD] = (struct member){ "tiny/run.py/x", "x", 0 };
		write_wheel(path, m, NGOOD + 1, "tiny-2.0.dist-info", NULL);
		dk_entries_init(&l);
		CHECK(dk_wheels_install(&f, 1, &o, &l, &err) < 0);
		CHECK(strstr(err.msg, "\"tiny/run.py\" installs a file at /usr/lib/python3/dist-packages/tiny/run.py, where other files need a directory") != NULL);
		dk_entries_release(&l);
		unlink(path);
		free(path);
	}
}

int main(void)
{
	char tmpl[] = "/tmp/derrick-test-wheel-XXXXXX";

	tmpdir = mkdtemp(tmpl);
	if (!tmpdir)
		return 1;
	RUN(test_record_parse);
	RUN(test_record_write);
	RUN(test_headers);
	RUN(test_entry_points);
	RUN(test_wrapper);
	RUN(test_install);
	RUN(test_refusals);
	dk_rm_rf(tmpdir);
	return tap_done();
}
