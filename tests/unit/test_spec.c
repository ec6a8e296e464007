/* test_spec.c - parsing derrick.json, and planning (stages, ${VERSION}). */
#include <stdlib.h>
#include <string.h>

#include "derrick/plan.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/util.h"
#include "tap.h"

static const char *full =
	"{\n"
	"  \"base\": \"scratch\",\n"
	"  \"stages\": [\n"
	"    { \"name\": \"system\", \"layers\": [ { \"source\": \"rootfs\", \"dest\": \"/\" } ] },\n"
	"    { \"name\": \"dependencies\", \"layers\": [ { \"source\": \"build/site-packages\",\n"
	"        \"dest\": \"/usr/local/lib/python3.12/site-packages/\", \"exclude\": [\"**/__pycache__\"],\n"
	"        \"uid\": 1000, \"gid\": 1001, \"file_mode\": \"0640\", \"dir_mode\": \"0750\" } ] },\n"
	"    { \"name\": \"app\", \"layers\": [ { \"source\": \"src\", \"dest\": \"/app\", \"ignore_file\": \".dockerignore\" },\n"
	"                                     { \"tar\": \"/abs/extra.tar\" } ] }\n"
	"  ],\n"
	"  \"config\": {\n"
	"    \"entrypoint\": [\"python3\", \"-m\", \"production_control\"], \"cmd\": [],\n"
	"    \"workdir\": \"/app\", \"user\": \"1000:1000\",\n"
	"    \"env\": { \"SETUPTOOLS_SCM_PRETEND_VERSION\": \"${VERSION}\", \"PYTHONUNBUFFERED\": \"1\" },\n"
	"    \"exposed_ports\": [\"8000/tcp\"], \"volumes\": [\"/data\"], \"stop_signal\": \"SIGTERM\",\n"
	"    \"labels\": { \"org.opencontainers.image.title\": \"production-control\" }\n"
	"  },\n"
	"  \"annotations\": { \"build\": \"v${VERSION}-x\" }\n"
	"}\n";

static void test_full_spec(void)
{
	struct dk_spec s;
	struct dk_err err;
	const struct dk_spec_layer *l;

	CHECK(dk_spec_parse(full, "/proj/derrick.json", &s, &err) == 0);
	CHECK(s.n_stages == 3);
	CHECK_STR(s.base, "scratch");
	CHECK_STR(s.dir, "/proj");
	CHECK_STR(s.stages[0].name, "system");
	l = &s.stages[0].layers[0];
	CHECK_STR(l->kind->key, "source");
	CHECK_STR(l->input, "/proj/rootfs");
	CHECK_STR(l->dest, "");
	CHECK(l->file_mode == -1 && l->dir_mode == -1 && l->uid == 0);
	l = &s.stages[1].layers[0];
	CHECK_STR(l->dest, "usr/local/lib/python3.12/site-packages");
	CHECK(l->dest_is_dir);
	CHECK(dk_spec_opt_list(l, "exclude")->n == 1);
	CHECK(l->uid == 1000 && l->gid == 1001);
	CHECK(l->file_mode == 0640 && l->dir_mode == 0750);
	l = &s.stages[2].layers[0];
	CHECK_STR(dk_spec_opt_value(l, "ignore_file"), "/proj/src/.dockerignore");
	l = &s.stages[2].layers[1];
	CHECK_STR(l->kind->key, "tar");
	CHECK_STR(l->input, "/abs/extra.tar");
	CHECK(l->kind != s.stages[0].layers[0].kind);
	CHECK_STR(l->where, "stages[2].layers[1]");
	CHECK(s.config.has_entrypoint && s.config.entrypoint.n == 3);
	CHECK(s.config.has_cmd && s.config.cmd.n == 0);
	CHECK(s.config.env.n == 2);
	CHECK_STR(s.config.env.v[0].key, "SETUPTOOLS_SCM_PRETEND_VERSION");
	CHECK_STR(s.config.stop_signal, "SIGTERM");
	dk_spec_free(&s);
}

/* Parse text and return the error message (or "" when it parsed). */
static const char *parse_error(const char *text)
{
	static struct dk_err err;
	struct dk_spec s;

	memset(&err, 0, sizeof(err));
	if (dk_spec_parse(text, "d.json", &s, &err) == 0) {
		dk_spec_free(&s);
		return "";
	}
	CHECK(err.code == DK_E_SPEC);
	return err.msg;
}

#define ONE_STAGE(layer) "{\"stages\":[{\"name\":\"a\",\"layers\":[" layer "]}]}"

static void test_unknown_keys_name_their_path(void)
{
	CHECK_STR(parse_error("{\"stages\":[{\"name\":\"a\"}],\"bsae\":\"scratch\"}"),
		  "d.json: bsae: unknown key (expected one of: base, stages, config, annotations, cache_repo, compression)");
	CHECK(strstr(parse_error(ONE_STAGE("{\"sorce\":\"x\"}")),
		     "d.json: stages[0].layers[0].sorce: unknown key") != NULL);
	CHECK(strstr(parse_error("{\"stages\":[{\"name\":\"a\"}],\"config\":{\"entrypont\":[]}}"),
		     "d.json: config.entrypont: unknown key") != NULL);
}

static void test_syntax_errors_give_line_and_column(void)
{
	const char *msg = parse_error("{\n  \"stages\": [\n    { \"name\": \"a\", }\n  ]\n}\n");

	CHECK(strncmp(msg, "d.json:3:", 9) == 0);
	/* a truncated file */
	msg = parse_error("{\n  \"stages\": [\n");
	CHECK(strncmp(msg, "d.json:", 7) == 0);
	CHECK(strstr(msg, "end of") != NULL || strstr(msg, "premature") != NULL);
	CHECK(strstr(parse_error("{\"stages\":[{\"name\":\"a\"}],\"stages\":[]}"), "duplicate") != NULL);
	CHECK(strstr(parse_error("[1,2]"), "must be a JSON object") != NULL);
}

static void test_stage_errors(void)
{
	CHECK(strstr(parse_error("{\"stages\":[{\"name\":\"a\"},{\"name\":\"a\"}]}"),
		     "stages[1]: duplicate stage name \"a\"") != NULL);
	CHECK(strstr(parse_error("{\"stages\":[]}"), "non-empty") != NULL);
	CHECK(strstr(parse_error("{}"), "stages: missing") != NULL);
	CHECK(strstr(parse_error("{\"stages\":[{\"layers\":[]}]}"), "needs a non-empty \"name\"") != NULL);
}

static void test_layer_errors(void)
{
	CHECK(strstr(parse_error(ONE_STAGE("{\"dest\":\"/x\"}")), "exactly one of") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"source\":\"a\",\"tar\":\"b\"}")), "exactly one of") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"source\":\"a\",\"dest\":\"app\"}")), "absolute") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"source\":\"a\",\"dest\":\"/a/../b\"}")), "\"..\"") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"source\":\"a\",\"file_mode\":644}")), "octal string") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"source\":\"a\",\"file_mode\":\"0998\"}")), "octal mode") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"source\":\"a\",\"uid\":-1}")), "stages[0].layers[0].uid") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"source\":\"a\",\"exclude\":\"*.pyc\"}")), "array of strings") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"source\":\"a\",\"exclude\":[1]}")), "exclude[0]: must be a string") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"tar\":\"a.tar\",\"exclude\":[\"x\"]}")), "not to a tar") != NULL);
	CHECK(strstr(parse_error("{\"stages\":[{\"name\":\"a\"}],\"base\":\"Docker.io/X\"}"), "d.json: base: image reference") != NULL);
	CHECK(strstr(parse_error("{\"stages\":[{\"name\":\"a\"}],\"base\":\"tarball:x\"}"), "unsupported transport") != NULL);
	CHECK(strstr(parse_error("{\"stages\":[{\"name\":\"a\"}],\"config\":{\"env\":{\"A\":1}}}"), "config.env.A: must be a string") != NULL);
}

static void test_dest_cleaning(void)
{
	struct dk_spec s;
	struct dk_err err;

	CHECK(dk_spec_parse(ONE_STAGE("{\"source\":\"a\",\"dest\":\"//usr/./local//\"}"), "d.json", &s, &err) == 0);
	CHECK_STR(s.stages[0].layers[0].dest, "usr/local");
	CHECK_STR(s.stages[0].layers[0].input, "./a");
	dk_spec_free(&s);
}

/* A local base image's path is relative to the spec; a registry's reference is kept as written. */
static void test_base_paths(void)
{
	static const struct { const char *base, *want; } cases[] = {
		{ "oci:img:v1", "oci:/proj/img:v1" }, { "oci:img", "oci:/proj/img" },
		{ "oci:/abs/img:v1", "oci:/abs/img:v1" }, { "python:3.12", "python:3.12" },
		{ "docker://localhost:5000/app", "docker://localhost:5000/app" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = dk_xasprintf("{\"stages\":[{\"name\":\"a\"}],\"base\":\"%s\"}", cases[i].base);
		struct dk_spec s;
		struct dk_err err;

		CHECK(dk_spec_parse(text, "/proj/derrick.json", &s, &err) == 0);
		CHECK_STR(s.base, cases[i].want);
		dk_spec_free(&s);
		free(text);
	}
	CHECK(strstr(parse_error("{\"stages\":[{\"name\":\"a\"}],\"base\":\"oci:img:bad tag\"}"),
		     "d.json: base: image reference \"oci:img:bad tag\": invalid tag") != NULL);
}

static void test_expand(void)
{
	struct dk_err err;
	char *out = NULL;

	CHECK(dk_expand("v${VERSION}-${VERSION}", "1.0", "k", &out, &err) == 0);
	CHECK_STR(out, "v1.0-1.0");
	free(out);
	CHECK(dk_expand("$PATH:${VERSION}", "2", "k", &out, &err) == 0);
	CHECK_STR(out, "$PATH:2");
	free(out);
	CHECK(dk_expand("${VERSION}", NULL, "d.json: config.env.X", &out, &err) < 0);
	CHECK(strstr(err.msg, "d.json: config.env.X uses ${VERSION} but no version was given") != NULL);
	CHECK(dk_expand("${VERSON}", "1", "k", &out, &err) < 0);
	CHECK(strstr(err.msg, "unknown variable \"${VERSON}\"") != NULL);
	CHECK(dk_expand("${VERSION", "1", "k", &out, &err) < 0);
}

static void test_plan_targets_and_version_labels(void)
{
	struct dk_spec s;
	struct dk_plan p;
	struct dk_plan_opts o;
	struct dk_err err;

	memset(&o, 0, sizeof(o));
	CHECK(dk_spec_parse(full, "/proj/derrick.json", &s, &err) == 0);
	o.target = "dependencies";
	o.version = "0.1.14";
	CHECK(dk_plan_make(&s, &o, &p, &err) == 0);
	CHECK(p.n_stages == 2);
	CHECK_STR(p.env.v[0].value, "0.1.14");
	CHECK(p.labels.n == 2);
	CHECK_STR(p.labels.v[1].key, "org.opencontainers.image.version");
	CHECK_STR(p.annotations.v[0].value, "v0.1.14-x");
	CHECK_STR(p.annotations.v[1].value, "0.1.14");
	dk_plan_free(&p);

	o.target = "nope";
	CHECK(dk_plan_make(&s, &o, &p, &err) < 0);
	CHECK(strstr(err.msg, "--target nope: no such stage") != NULL);
	CHECK(strstr(err.msg, "system, dependencies, app") != NULL);

	o.target = NULL;
	o.version = NULL;
	CHECK(dk_plan_make(&s, &o, &p, &err) < 0);
	CHECK(strstr(err.msg, "config.env.SETUPTOOLS_SCM_PRETEND_VERSION uses ${VERSION}") != NULL);
	dk_spec_free(&s);
}

/* "platforms": each variant is a whole layer; the plan takes the best match and keys it by platform. */
static void test_platform_layers(void)
{
	static const char *spec = ONE_STAGE("{\"platforms\": {\"linux/arm64\": {\"source\": \"arm\"},"
					    " \"linux/amd64\": {\"tar\": \"amd.tar\"}}, \"dest\": \"/opt/\", \"uid\": 7}");
	struct dk_spec s;
	struct dk_plan p;
	struct dk_plan_opts o;
	struct dk_err err;
	const struct dk_spec_layer *l;

	CHECK(dk_spec_parse(spec, "/proj/d.json", &s, &err) == 0);
	l = &s.stages[0].layers[0];
	CHECK(l->n_variants == 2 && l->kind == NULL);
	CHECK_STR(l->variants[0].kind->key, "source");
	CHECK_STR(l->variants[0].input, "/proj/arm");
	CHECK_STR(l->variants[0].dest, "opt");
	CHECK(l->variants[0].uid == 7);
	CHECK_STR(l->variants[0].where, "stages[0].layers[0].platforms.linux/arm64");
	CHECK_STR(l->variants[1].kind->key, "tar");
	CHECK_STR(l->variants[1].platform.arch, "amd64");
	memset(&o, 0, sizeof(o));
	CHECK(dk_platform_parse("linux/arm64/v8", &o.platform, &err) == 0);
	CHECK(dk_plan_make(&s, &o, &p, &err) == 0);
	CHECK(p.layers.n == 1 && p.layers.v[0].entry == &l->variants[0]);
	CHECK_STR(p.layers.v[0].key_extra, "platform=linux/arm64/v8");
	dk_plan_free(&p);
	CHECK(dk_platform_parse("linux/riscv64", &o.platform, &err) == 0);
	CHECK(dk_plan_make(&s, &o, &p, &err) < 0);
	CHECK(strstr(err.msg, "stages[0].layers[0].platforms has no entry for linux/riscv64, a platform being built "
			      "(it has linux/arm64, linux/amd64)") != NULL);
	dk_spec_free(&s);

	CHECK(strstr(parse_error(ONE_STAGE("{\"platforms\": {}}")), "must be an object of platforms") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"platforms\": {\"linux\": {\"source\": \"a\"}}}")),
		     "platforms.linux: platform \"linux\": expected OS/ARCH") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"platforms\": {\"linux/arm64\": {\"source\": \"a\", \"dest\": \"/b\"}}}")),
		     "platforms.linux/arm64.dest: unknown key") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"platforms\": {\"linux/arm64\": {}}}")), "exactly one of") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"platforms\": {\"linux/arm64\": {\"tar\": \"a\", \"exclude\": [\"x\"]}}}")),
		     "not to a tar") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"exclude\": [\"x\"], \"platforms\": {\"linux/arm64\": {\"source\": \"a\"}}}")),
		     "\"exclude\" goes in each platform's object") != NULL);
	CHECK(strstr(parse_error(ONE_STAGE("{\"platforms\": {\"linux/arm64\": {\"source\": \"a\"},"
					   " \"linux/arm64/v8\": {\"source\": \"b\"}}}")),
		     "platforms.linux/arm64/v8: the same platform as linux/arm64") != NULL);
}

int main(void)
{
	RUN(test_full_spec);
	RUN(test_unknown_keys_name_their_path);
	RUN(test_syntax_errors_give_line_and_column);
	RUN(test_stage_errors);
	RUN(test_layer_errors);
	RUN(test_dest_cleaning);
	RUN(test_base_paths);
	RUN(test_expand);
	RUN(test_plan_targets_and_version_labels);
	RUN(test_platform_layers);
	return tap_done();
}
