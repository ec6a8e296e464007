/*
 * test_wheelsrc.c - the "wheels" layer in the spec: an object-valued source
 * key with typed, strict members, its checks, its defaults and its dest.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/plan.h"
#include "derrick/platform.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/util.h"
#include "derrick/wheelsrc.h"
#include "tap.h"
#include "spec_refused.h"

/* A spec whose stages[1].layers[0] is the wheels entry `w` (a JSON object body). */
#define WHEELS(w) "{\"stages\":[{\"name\":\"a\"},{\"name\":\"deps\",\"layers\":[{\"wheels\":{" w "}}]}]}"

static void test_all_members(void)
{
	struct dk_spec s;
	struct dk_err err;
	const struct dk_spec_layer *l;
	struct dk_wheels_opts o;

	CHECK(dk_spec_parse(WHEELS("\"lock\":\"locks/pylock.toml\",\"python\":\"3.12\",\"libc\":\"glibc 2.36\","
				   "\"prefix\":\"/opt/py/\",\"interpreter\":\"/opt/py/bin/python3\","
				   "\"find_links\":[\"wheels\",\"/srv/w\"],\"index_url\":\"http://127.0.0.1:8080/simple/\","
				   "\"split\":\"none\""), "/proj/d.json", &s, &err) == 0);
	l = &s.stages[1].layers[0];
	CHECK_STR(l->kind->key, "wheels");
	CHECK_STR(l->input, "/proj/locks/pylock.toml");
	CHECK_STR(l->origin, "locks/pylock.toml");
	CHECK_STR(l->dest, "opt/py");
	CHECK(l->dest_is_dir);
	CHECK_STR(dk_spec_opt_value(l, "lock"), "/proj/locks/pylock.toml");
	CHECK(dk_spec_opt_value(l, "requirements") == NULL);
	CHECK_STR(dk_spec_opt_value(l, "python"), "3.12");
	CHECK(dk_spec_opt_list(l, "find_links")->n == 2);
	CHECK_STR(dk_spec_opt_list(l, "find_links")->v[0], "/proj/wheels");
	CHECK_STR(dk_spec_opt_list(l, "find_links")->v[1], "/srv/w");

	CHECK(dk_wheels_opts(l, s.path, "3.11.9", "glibc 2.31", &o, &err) == 0);
	CHECK_STR(o.lock, "/proj/locks/pylock.toml");
	CHECK(o.requirements == NULL);
	CHECK_STR(o.python, "3.12");       /* the spec wins over the base */
	CHECK_STR(o.python_xy, "3.12");
	CHECK_STR(o.libc, "glibc 2.36");
	CHECK_STR(o.prefix, "/opt/py");
	CHECK_STR(o.site_packages, "/opt/py/lib/python3.12/site-packages");
	CHECK_STR(o.interpreter, "/opt/py/bin/python3");
	CHECK_STR(o.index_url, "http://127.0.0.1:8080/simple/");
	CHECK(o.find_links->n == 2);
	CHECK(o.split == 0);
	dk_wheels_opts_free(&o);
	dk_spec_free(&s);
}

/* Defaults: prefix /usr/local, split auto; python and libc from the base image when the spec is silent. */
static void test_defaults(void)
{
	struct dk_spec s;
	struct dk_err err;
	struct dk_wheels_opts o;
	const struct dk_spec_layer *l;

	CHECK(dk_spec_parse(WHEELS("\"requirements\":\"requirements.txt\""), "/proj/d.json", &s, &err) == 0);
	l = &s.stages[1].layers[0];
	CHECK_STR(l->dest, "usr/local");
	CHECK_STR(l->input, "/proj/requirements.txt");
	CHECK(dk_wheels_opts(l, s.path, "3.13.1", "musl 1.2", &o, &err) == 0);
	CHECK(o.lock == NULL);
	CHECK_STR(o.requirements, "/proj/requirements.txt");
	CHECK_STR(o.python, "3.13.1");
	CHECK_STR(o.python_xy, "3.13");
	CHECK_STR(o.libc, "musl 1.2");
	CHECK_STR(o.prefix, "/usr/local");
	CHECK_STR(o.site_packages, "/usr/local/lib/python3.13/site-packages");
	CHECK_STR(o.interpreter, "/usr/local/bin/python3.13");
	CHECK(o.find_links->n == 0);
	CHECK(o.index_url == NULL);
	CHECK(o.split == 1);
	dk_wheels_opts_free(&o);

	/* libc unknown stays NULL (the caller asks for it); python unknown is an error naming the key */
	CHECK(dk_wheels_opts(l, s.path, "3.12", NULL, &o, &err) == 0);
	CHECK(o.libc == NULL);
	dk_wheels_opts_free(&o);
	CHECK(dk_wheels_opts(l, s.path, NULL, NULL, &o, &err) < 0);
	CHECK(strstr(err.msg, "/proj/d.json: stages[1].layers[0].wheels.python: not given, and the base image "
			      "sets no PYTHON_VERSION") != NULL);
	dk_wheels_opts_free(&o);
	CHECK(dk_wheels_opts(l, s.path, "3.12-rc1", NULL, &o, &err) < 0);
	CHECK(strstr(err.msg, "PYTHON_VERSION \"3.12-rc1\" is no CPython version") != NULL);
	dk_wheels_opts_free(&o);
	dk_spec_free(&s);
}

/* Debian's layout: site_packages outside the prefix; the dest is the directory holding both. */
static void test_dest_holds_prefix_and_site_packages(void)
{
	static const struct { const char *prefix, *sp, *dest; } cases[] = {
		{ "/usr/local", "/usr/local/lib/python3.11/dist-packages", "usr/local" },
		{ "/usr/local", "/usr/lib/python3/dist-packages", "usr" },
		{ "/usr/local", "/usr/locale/site", "usr" },
		{ "/opt/app", "/srv/site", "" },
		{ "/", "/lib/python3.12/site-packages", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = dk_xasprintf(WHEELS("\"lock\":\"l\",\"prefix\":\"%s\",\"site_packages\":\"%s\""),
					  cases[i].prefix, cases[i].sp);
		struct dk_spec s;
		struct dk_err err;
		struct dk_wheels_opts o;

		CHECK(dk_spec_parse(text, "/proj/d.json", &s, &err) == 0);
		CHECK_STR(s.stages[1].layers[0].dest, cases[i].dest);
		CHECK(dk_wheels_opts(&s.stages[1].layers[0], s.path, "3.11", NULL, &o, &err) == 0);
		CHECK_STR(o.site_packages, cases[i].sp);
		dk_wheels_opts_free(&o);
		dk_spec_free(&s);
		free(text);
	}
}

static void test_refusals(void)
{
	/* strict members, by key path */
	REFUSED(WHEELS("\"lock\":\"l\",\"pyhton\":\"3.12\""),
		"/proj/d.json: stages[1].layers[0].wheels.pyhton: unknown key (expected one of: lock, requirements, "
		"python, libc, prefix, site_packages, interpreter, find_links, index_url, split)");
	REFUSED("{\"stages\":[{\"name\":\"a\",\"layers\":[{\"wheels\":\"pylock.toml\"}]}]}",
		"stages[0].layers[0].wheels: must be an object");
	/* lock and requirements: one, not both, not none */
	REFUSED(WHEELS("\"python\":\"3.12\""), "stages[1].layers[0].wheels: needs one of \"lock\" or \"requirements\"");
	REFUSED(WHEELS("\"lock\":\"l\",\"requirements\":\"r\""),
		"stages[1].layers[0].wheels: takes only one of \"lock\" or \"requirements\"");
	REFUSED(WHEELS("\"lock\":\"\""), "stages[1].layers[0].wheels.lock: is empty");
	/* types */
	REFUSED(WHEELS("\"lock\":1"), "stages[1].layers[0].wheels.lock: must be a string");
	REFUSED(WHEELS("\"lock\":\"l\",\"python\":3.12"), "wheels.python: must be a string");
	REFUSED(WHEELS("\"lock\":\"l\",\"find_links\":\"w\""), "wheels.find_links: must be an array of strings");
	REFUSED(WHEELS("\"lock\":\"l\",\"find_links\":[\"w\",2]"), "wheels.find_links[1]: must be a string");
	/* values */
	static const char *bad_python[] = { "3", "3.", "3.12.", "2.7", "3.12.1.1", "3.x", "3.12rc1", " 3.12", "py3.12",
					    "3.123456" };
	for (size_t i = 0; i < sizeof(bad_python) / sizeof(*bad_python); i++) {
		char *t = dk_xasprintf(WHEELS("\"lock\":\"l\",\"python\":\"%s\""), bad_python[i]);

		REFUSED(t, "wheels.python: \"");
		REFUSED(t, "expected a CPython version \"3.Y\" or \"3.Y.Z\"");
		free(t);
	}
	static const char *bad_libc[] = { "glibc", "glibc 2", "glibc 2.36.1", "GLIBC 2.36", "musl-1.2", "uclibc 1.0",
					  "glibc  2.36", "glibc 2.36 " };
	for (size_t i = 0; i < sizeof(bad_libc) / sizeof(*bad_libc); i++) {
		char *t = dk_xasprintf(WHEELS("\"lock\":\"l\",\"libc\":\"%s\""), bad_libc[i]);

		REFUSED(t, "wheels.libc: \"");
		REFUSED(t, "expected \"glibc X.Y\" or \"musl X.Y\"");
		free(t);
	}
	REFUSED(WHEELS("\"lock\":\"l\",\"prefix\":\"usr/local\""), "wheels.prefix: \"usr/local\": expected an absolute path");
	REFUSED(WHEELS("\"lock\":\"l\",\"prefix\":\"/usr/../x\""), "wheels.prefix: \"/usr/../x\": expected an absolute path");
	REFUSED(WHEELS("\"lock\":\"l\",\"site_packages\":\"lib/site\""), "wheels.site_packages: \"lib/site\": expected an absolute");
	REFUSED(WHEELS("\"lock\":\"l\",\"site_packages\":\"/\""), "wheels.site_packages: \"/\" holds the prefix /usr/local");
	REFUSED(WHEELS("\"lock\":\"l\",\"site_packages\":\"/usr/local/\""), "wheels.site_packages: \"/usr/local/\" holds the prefix");
	REFUSED(WHEELS("\"lock\":\"l\",\"site_packages\":\"/usr\""), "wheels.site_packages: \"/usr\" holds the prefix");
	REFUSED(WHEELS("\"lock\":\"l\",\"site_packages\":\"/usr/local/bin/site\""),
		"wheels.site_packages: \"/usr/local/bin/site\" lies in /usr/local/bin, where the scripts and headers go");
	REFUSED(WHEELS("\"lock\":\"l\",\"prefix\":\"/\",\"site_packages\":\"/include\""),
		"wheels.site_packages: \"/include\" lies in /include");
	REFUSED(WHEELS("\"lock\":\"l\",\"interpreter\":\"python3\""), "wheels.interpreter: \"python3\": expected an absolute path");
	REFUSED(WHEELS("\"lock\":\"l\",\"split\":\"many\""), "wheels.split: \"many\": expected \"auto\" or \"none\"");
	REFUSED(WHEELS("\"lock\":\"l\",\"index_url\":\"ftp://x/simple\""), "wheels.index_url: expected an http:// or https:// URL");
	/* the layer's dest is prefix and site_packages, never a key of its own */
	REFUSED("{\"stages\":[{\"name\":\"a\",\"layers\":[{\"wheels\":{\"lock\":\"l\"},\"dest\":\"/x\"}]}]}",
		"stages[0].layers[0]: dest does not apply to wheels from a lock: its own keys say where it writes");
	/* other kinds' options and keys are not its own */
	REFUSED("{\"stages\":[{\"name\":\"a\",\"layers\":[{\"wheels\":{\"lock\":\"l\"},\"exclude\":[\"x\"]}]}]}",
		"not to wheels from a lock");
	REFUSED("{\"stages\":[{\"name\":\"a\",\"layers\":[{\"wheels\":{\"lock\":\"l\"},\"source\":\"x\"}]}]}",
		"exactly one of");
	REFUSED("{\"stages\":[{\"name\":\"a\",\"layers\":[{\"wheels\":{\"lock\":\"l\",\"dest\":\"/x\"}}]}]}",
		"stages[0].layers[0].wheels.dest: unknown key");
	REFUSED("{\"stages\":[{\"name\":\"a\",\"layers\":[{\"wheels\":{\"lock\":\"l\",\"exclude\":[]}}]}]}",
		"stages[0].layers[0].wheels.exclude: unknown key");
	/* accepted neighbours of the refusals */
	CHECK_STR(parse_error(WHEELS("\"lock\":\"l\",\"python\":\"3.12.10\",\"libc\":\"musl 1.2\",\"split\":\"auto\"")), "");
	CHECK_STR(parse_error(WHEELS("\"lock\":\"l\",\"index_url\":\"https://x/simple/\"")), "");
	CHECK_STR(parse_error(WHEELS("\"lock\":\"l\",\"site_packages\":\"/usr/local/lib/bin\"")), "");
	CHECK_STR(parse_error(WHEELS("\"lock\":\"l\",\"site_packages\":\"/usr/local/binaries\"")), "");
}

/* Without a base image to ask, a wheels layer needs python and libc from the spec. */
static void test_plan_needs_target(void)
{
	struct dk_spec s;
	struct dk_err err;
	struct dk_layer_plans out = { NULL, 0 };
	struct dk_platform amd64 = { "linux", "amd64", "" };

	CHECK(dk_spec_parse(WHEELS("\"lock\":\"l\""), "/proj/d.json", &s, &err) == 0);
	CHECK(dk_source_plan(&s.stages[1].layers[0], "deps", &amd64, NULL, &out, &err) < 0);
	CHECK(strstr(err.msg, "wheels.python: not given") != NULL);
	dk_spec_free(&s);
	CHECK(dk_spec_parse(WHEELS("\"lock\":\"l\",\"python\":\"3.12\""), "/proj/d.json", &s, &err) == 0);
	CHECK(dk_source_plan(&s.stages[1].layers[0], "deps", &amd64, NULL, &out, &err) < 0);
	CHECK(strstr(err.msg, "wheels.libc: not given") != NULL);
	CHECK(out.n == 0);
	dk_layer_plans_free(&out);
	dk_spec_free(&s);
}

int main(void)
{
	RUN(test_all_members);
	RUN(test_defaults);
	RUN(test_dest_holds_prefix_and_site_packages);
	RUN(test_refusals);
	RUN(test_plan_needs_target);
	return tap_done();
}
