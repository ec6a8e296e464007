/*
 * test_debsrc.c - the "debs" layer in the spec: its members (sources as
 * an array of objects, checked key by key), what follows from them (the
 * root as dest, keyrings resolved against the spec's directory), and the
 * plan's refusals before anything is fetched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/debsrc.h"
#include "derrick/platform.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/util.h"
#include "tap.h"
#include "spec_refused.h"

#define SRC "{\"url\":\"http://127.0.0.1:9/debian\",\"suite\":\"bookworm\",\"components\":[\"main\"]," \
	    "\"keyring\":\"keys/debian.gpg\"}"
/* A spec whose stages[1].layers[0] is the debs entry `d` (a JSON object body). */
#define DEBS(d) "{\"stages\":[{\"name\":\"a\"},{\"name\":\"sys\",\"layers\":[{\"debs\":{" d "}}]}]}"

static void test_members(void)
{
	struct dk_spec s;
	struct dk_err err;
	const struct dk_spec_layer *l;
	struct dk_debs_opts o;

	CHECK(dk_spec_parse(DEBS("\"lock\":\"locks/debs.lock.json\",\"sources\":[" SRC ",{\"url\":\"https://m/d\","
				 "\"suite\":\"bookworm-updates\",\"components\":[\"main\",\"contrib\"],"
				 "\"keyring\":\"/usr/share/keyrings/k.gpg\"},{\"url\":\"http://10.0.0.1/r\",\"suite\":\"s\","
				 "\"components\":[\"c\"],\"trusted\":true}],\"packages\":[\"jq\",\"libpq5:amd64\","
				 "\"curl=7.88.1-10+deb12u8\"],\"maintainer_scripts\":\"refuse\""),
			    "/proj/d.json", &s, &err) == 0);
	l = &s.stages[1].layers[0];
	CHECK_STR(l->kind->key, "debs");
	CHECK_STR(l->input, "/proj/locks/debs.lock.json");
	CHECK_STR(l->origin, "locks/debs.lock.json");
	CHECK_STR(l->dest, "");
	CHECK(dk_debs_opts(l, s.path, &o, &err) == 0);
	CHECK_STR(o.lock, "/proj/locks/debs.lock.json");
	CHECK(o.n_srcs == 3);
	CHECK_STR(o.srcs[0].url, "http://127.0.0.1:9/debian");
	CHECK_STR(o.srcs[0].suite, "bookworm");
	CHECK(o.srcs[0].n_components == 1);
	CHECK_STR(o.srcs[0].keyring, "keys/debian.gpg");        /* as written: what the lock records */
	CHECK_STR(o.keyrings[0], "/proj/keys/debian.gpg");      /* what gpgv reads */
	CHECK(!o.srcs[0].trusted);
	CHECK(o.srcs[1].n_components == 2);
	CHECK_STR(o.srcs[1].components[1], "contrib");
	CHECK_STR(o.keyrings[1], "/usr/share/keyrings/k.gpg");
	CHECK(o.srcs[2].trusted);
	CHECK(o.srcs[2].keyring == NULL && o.keyrings[2] == NULL);
	CHECK(o.packages->n == 3);
	CHECK(o.refuse_scripts);
	dk_debs_opts_free(&o);
	dk_spec_free(&s);

	CHECK(dk_spec_parse(DEBS("\"lock\":\"l\",\"sources\":[" SRC "],\"packages\":[\"jq\"]"), "/proj/d.json", &s,
			    &err) == 0);
	CHECK(dk_debs_opts(&s.stages[1].layers[0], s.path, &o, &err) == 0);
	CHECK(!o.refuse_scripts);       /* "warn" is the default */
	dk_debs_opts_free(&o);
	dk_spec_free(&s);
}

static void test_refusals(void)
{
	REFUSED(DEBS("\"sources\":[" SRC "],\"packages\":[\"jq\"]"), "stages[1].layers[0].debs: needs \"lock\"");
	REFUSED(DEBS("\"lock\":\"l\",\"packages\":[\"jq\"]"), "stages[1].layers[0].debs.sources: must be a non-empty");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[],\"packages\":[\"jq\"]"), "debs.sources: must be a non-empty");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":{},\"packages\":[\"jq\"]"), "debs.sources: must be a non-empty");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[7],\"packages\":[\"jq\"]"), "debs.sources[0]: must be an object");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[{\"url\":\"http://m/d\",\"suite\":\"s\",\"components\":[\"main\"],"
		     "\"trusted\":true,\"sute\":\"x\"}],\"packages\":[\"jq\"]"),
		"debs.sources[0].sute: unknown key (expected one of: url, suite");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[{\"url\":\"ftp://m/d\",\"suite\":\"s\",\"components\":[\"main\"],"
		     "\"trusted\":true}],\"packages\":[\"jq\"]"), "debs.sources[0].url: must be an http:// or https:// URL");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[{\"url\":\"file:///srv/d\",\"suite\":\"s\",\"components\":[\"main\"],"
		     "\"trusted\":true}],\"packages\":[\"jq\"]"), "debs.sources[0].url: must be an http:// or https:// URL");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[{\"url\":\"http://m/d\",\"suite\":7,\"components\":[\"main\"],"
		     "\"trusted\":true}],\"packages\":[\"jq\"]"), "debs.sources[0].suite: must be a suite");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[{\"url\":\"http://m/d\",\"suite\":\"../x\",\"components\":[\"main\"],"
		     "\"trusted\":true}],\"packages\":[\"jq\"]"), "debs.sources[0].suite: must be a suite");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[{\"url\":\"http://m/d\",\"suite\":\"s\",\"components\":[],"
		     "\"trusted\":true}],\"packages\":[\"jq\"]"), "debs.sources[0].components: must be a non-empty");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[{\"url\":\"http://m/d\",\"suite\":\"s\",\"components\":[\"a\",\"..\"],"
		     "\"trusted\":true}],\"packages\":[\"jq\"]"), "debs.sources[0].components[1]: must be a component");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[{\"url\":\"http://m/d\",\"suite\":\"s\",\"components\":[\"main\"],"
		     "\"trusted\":\"yes\"}],\"packages\":[\"jq\"]"), "debs.sources[0].trusted: must be true or false");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[{\"url\":\"http://m/d\",\"suite\":\"s\",\"components\":[\"main\"],"
		     "\"keyring\":\"\"}],\"packages\":[\"jq\"]"), "debs.sources[0].keyring: must be the path");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[{\"url\":\"http://m/d\",\"suite\":\"s\",\"components\":[\"main\"]}],"
		     "\"packages\":[\"jq\"]"), "debs.sources[0]: needs a \"keyring\"");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[" SRC "]"), "debs.packages: must name at least one package");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[" SRC "],\"packages\":[]"), "debs.packages: must name at least");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[" SRC "],\"packages\":[\"jq (>= 1)\"]"), "debs.packages[0]: \"jq (>= 1)\"");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[" SRC "],\"packages\":[\"a\",\"b\\nc\"]"), "debs.packages[1]: \"b?c\"");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[" SRC "],\"packages\":[\"jq\"],\"maintainer_scripts\":\"maybe\""),
		"debs.maintainer_scripts: \"maybe\": expected \"warn\" or \"refuse\"");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[" SRC "],\"packages\":[\"jq\"],\"dest\":\"/x\""), "dest");
	REFUSED(DEBS("\"lock\":\"l\",\"sources\":[" SRC "],\"packages\":[\"jq\"],\"python\":\"3.12\""),
		"debs.python: unknown key");
}

/* The plan fails in one line, before anything is fetched, for a lock it cannot use. */
static void test_plan_refusals(void)
{
	char dir[] = "/tmp/test_debsrc-XXXXXX", *spec, *lock;
	struct dk_spec s;
	struct dk_err err;
	struct dk_layer_plans out = { NULL, 0 };
	struct dk_platform amd64, mips;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	spec = dk_xasprintf("%s/d.json", dir);
	lock = dk_xasprintf("%s/debs.lock.json", dir);
	CHECK(dk_platform_parse("linux/amd64", &amd64, &err) == 0);
	CHECK(dk_platform_parse("linux/arm64", &mips, &err) == 0);
	CHECK(dk_spec_parse(DEBS("\"lock\":\"debs.lock.json\",\"sources\":[" SRC "],\"packages\":[\"jq\"]"), spec, &s,
			    &err) == 0);
	CHECK(dk_source_plan(&s.stages[1].layers[0], "sys", &amd64, NULL, &out, &err) < 0);
	CHECK(err.code == DK_E_NOTFOUND);
	CHECK(strstr(err.msg, "does not exist: run `derrick lock debs") != NULL);

	f = fopen(lock, "w");
	fputs("{ \"lock-version\": 1, \"sources\": [ { \"url\": \"http://127.0.0.1:9/debian\", \"suite\": \"bookworm\", "
	      "\"components\": [\"main\"], \"keyring\": \"keys/debian.gpg\", \"trusted\": false } ], "
	      "\"architectures\": [\"amd64\"], \"packages\": [\"curl\"], \"entries\": [] }\n", f);
	fclose(f);
	CHECK(dk_source_plan(&s.stages[1].layers[0], "sys", &amd64, NULL, &out, &err) < 0);
	CHECK(strstr(err.msg, "another spec") != NULL);
	CHECK(strstr(err.msg, "run `derrick lock debs") != NULL);
	CHECK(dk_source_plan(&s.stages[1].layers[0], "sys", &mips, NULL, &out, &err) < 0);
	CHECK(strstr(err.msg, "has no packages for arm64 (linux/arm64)") != NULL);
	CHECK(out.n == 0);
	dk_spec_free(&s);
	unlink(lock);
	rmdir(dir);
	free(spec);
	free(lock);
}

int main(void)
{
	RUN(test_members);
	RUN(test_refusals);
	RUN(test_plan_refusals);
	return tap_done();
}
