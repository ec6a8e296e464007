/*
 * test_platform.c - matching platforms and choosing from an image index,
 * with containerd's platforms.Only/Ordered as the reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/image.h"
#include "derrick/platform.h"
#include "tap.h"

static struct dk_platform plat(const char *os, const char *arch, const char *variant)
{
	struct dk_platform p;

	memset(&p, 0, sizeof(p));
	snprintf(p.os, sizeof(p.os), "%s", os);
	snprintf(p.arch, sizeof(p.arch), "%s", arch);
	snprintf(p.variant, sizeof(p.variant), "%s", variant);
	return p;
}

/* dk_platform_match(want, have) for platforms written "os/arch[/variant]". */
static int match(const char *want, const char *have)
{
	char w[3][32] = { "", "", "" }, h[3][32] = { "", "", "" };
	struct dk_platform pw, ph;

	sscanf(want, "%31[^/]/%31[^/]/%31s", w[0], w[1], w[2]);
	sscanf(have, "%31[^/]/%31[^/]/%31s", h[0], h[1], h[2]);
	pw = plat(w[0], w[1], w[2]);
	ph = plat(h[0], h[1], h[2]);
	return dk_platform_match(&pw, &ph);
}

static void test_no_variant_means_the_baseline(void)
{
	/* moby/moby#45124: arm64 entries without a variant */
	CHECK(match("linux/arm64/v8", "linux/arm64") == DK_PLATFORM_EXACT);
	CHECK(match("linux/arm64", "linux/arm64/v8") == DK_PLATFORM_EXACT);
	CHECK(match("linux/arm64/8", "linux/arm64/v8.0") == DK_PLATFORM_EXACT);
	CHECK(match("linux/arm/v7", "linux/arm") == DK_PLATFORM_EXACT);
	CHECK(match("linux/arm", "linux/arm/v7") == DK_PLATFORM_EXACT);
	CHECK(match("linux/arm/7", "linux/arm/v7") == DK_PLATFORM_EXACT);
	CHECK(match("linux/amd64", "linux/amd64/v1") == DK_PLATFORM_EXACT);
	CHECK(match("linux/amd64/v1", "linux/amd64") == DK_PLATFORM_EXACT);
	CHECK(match("linux/amd64", "linux/amd64") == DK_PLATFORM_EXACT);
	CHECK(match("linux/s390x", "linux/s390x") == DK_PLATFORM_EXACT);
}

static void test_levels(void)
{
	/* amd64/v3 takes v3, then v2, then v1 or no variant */
	CHECK(match("linux/amd64/v3", "linux/amd64/v3") == DK_PLATFORM_EXACT);
	CHECK(match("linux/amd64/v3", "linux/amd64/v2") > match("linux/amd64/v3", "linux/amd64/v1"));
	CHECK(match("linux/amd64/v3", "linux/amd64/v1") > 0);
	CHECK(match("linux/amd64/v3", "linux/amd64") == match("linux/amd64/v3", "linux/amd64/v1"));
	CHECK(match("linux/amd64/v3", "linux/amd64/v2") < DK_PLATFORM_EXACT);
	/* never a higher level */
	CHECK(match("linux/amd64/v2", "linux/amd64/v3") == 0);
	CHECK(match("linux/amd64", "linux/amd64/v2") == 0);
	CHECK(match("linux/amd64/v3", "linux/amd64/v4") == 0);
	/* arm v7 runs v6 and v5 images, not v8 ones; a bare arm request is v7 */
	CHECK(match("linux/arm/v7", "linux/arm/v6") > match("linux/arm/v7", "linux/arm/v5"));
	CHECK(match("linux/arm/v7", "linux/arm/v5") > 0);
	CHECK(match("linux/arm", "linux/arm/v6") > 0);
	CHECK(match("linux/arm", "linux/arm/v8") == 0);
	CHECK(match("linux/arm/v6", "linux/arm") == 0);
	/* arm64: v8.x is level x, v9.x is v8.(x+5) */
	CHECK(match("linux/arm64/v8.2", "linux/arm64") > 0);
	CHECK(match("linux/arm64/v8", "linux/arm64/v8.2") == 0);
	CHECK(match("linux/arm64/v9", "linux/arm64/v8.5") > 0);
	CHECK(match("linux/arm64/v9", "linux/arm64/v8.6") == 0);
	CHECK(match("linux/arm64/v9.1", "linux/arm64/v8.6") > match("linux/arm64/v9.1", "linux/arm64/v8"));
}

static void test_no_other_architecture(void)
{
	CHECK(match("linux/amd64", "linux/386") == 0);
	CHECK(match("linux/arm64", "linux/arm/v7") == 0);
	CHECK(match("linux/arm64/v8", "linux/arm/v8") == 0);
	CHECK(match("linux/amd64", "windows/amd64") == 0);
	CHECK(match("linux/amd64", "unknown/unknown") == 0);
	/* a variant that is no level matches only itself */
	CHECK(match("linux/riscv64/rva22", "linux/riscv64/rva22") == DK_PLATFORM_EXACT);
	CHECK(match("linux/riscv64/rva22", "linux/riscv64") == 0);
	CHECK(match("linux/amd64/v3", "linux/amd64/vfoo") == 0);
}

static void test_aliases_and_case(void)
{
	CHECK(match("linux/amd64", "linux/x86_64") == DK_PLATFORM_EXACT);
	CHECK(match("linux/amd64", "Linux/AMD64") == DK_PLATFORM_EXACT);
	CHECK(match("linux/arm64/v8", "linux/aarch64") == DK_PLATFORM_EXACT);
	CHECK(match("linux/arm/v7", "linux/armhf") == DK_PLATFORM_EXACT);
	CHECK(match("linux/arm/v7", "linux/armel") > 0);
	CHECK(match("linux/386", "linux/i386") == DK_PLATFORM_EXACT);
}

/* An index with one entry per "os/arch[/variant]" (or a raw JSON entry), digests 1, 2, 3... */
static char *index_of(const char *const *entries)
{
	char *json = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&json, &len);

	fputs("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[", f);
	for (int i = 0; entries[i]; i++) {
		char p[3][32] = { "", "", "" };

		fprintf(f, "%s{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":%d,"
			"\"digest\":\"sha256:%064d\"", i ? "," : "", 100 + i, i + 1);
		if (entries[i][0] == '{') {
			fprintf(f, ",%s", entries[i] + 1);
			continue;
		}
		sscanf(entries[i], "%31[^/]/%31[^/]/%31s", p[0], p[1], p[2]);
		fprintf(f, ",\"platform\":{\"architecture\":\"%s\",\"os\":\"%s\"", p[1], p[0]);
		if (p[2][0])
			fprintf(f, ",\"variant\":\"%s\"", p[2]);
		fputs("}}", f);
	}
	fputs("]}", f);
	fclose(f);
	return json;
}

/* Which entry (1-based) dk_index_select picks for `want`, 0 for none (message in err). */
static int pick(const char *want, const char *const *entries, struct dk_err *err)
{
	char *json = index_of(entries);
	char w[3][32] = { "", "", "" };
	struct dk_platform pw;
	struct dk_desc d;
	int rc;

	sscanf(want, "%31[^/]/%31[^/]/%31s", w[0], w[1], w[2]);
	pw = plat(w[0], w[1], w[2]);
	rc = dk_index_select(json, strlen(json), "img", &pw, &d, err);
	free(json);
	if (rc < 0)
		return 0;
	return atoi(d.digest + strlen("sha256:"));
}

#define ATTESTATION                                                                  \
	"{\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"},"             \
	"\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\","     \
	"\"vnd.docker.reference.digest\":\"sha256:0\"}}"

static void test_index_select(void)
{
	static const char *const docker_hub[] = {
		"linux/amd64", "linux/arm/v6", "linux/arm/v7", "linux/arm64", "linux/386", ATTESTATION, NULL,
	};
	static const char *const levels[] = {
		"linux/amd64/v2", "linux/amd64", "linux/amd64/v4", "linux/amd64/v3", NULL,
	};
	static const char *const no_v3[] = { "linux/amd64/v4", "linux/amd64/v2", "linux/amd64", NULL };
	static const char *const only_v3[] = { "linux/amd64/v3", NULL };
	static const char *const twice[] = { "linux/arm64/v8", "linux/arm64", NULL };
	/* an attestation that claims a real platform is still no image */
	static const char *const att_first[] = {
		"{\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"},"
		"\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}}",
		"linux/arm64", NULL,
	};
	struct dk_err err;

	CHECK(pick("linux/arm64/v8", docker_hub, &err) == 4);
	CHECK(pick("linux/arm64", docker_hub, &err) == 4);
	CHECK(pick("linux/arm/v7", docker_hub, &err) == 3);
	CHECK(pick("linux/arm", docker_hub, &err) == 3);
	CHECK(pick("linux/arm/v6", docker_hub, &err) == 2);
	CHECK(pick("linux/amd64", docker_hub, &err) == 1);
	CHECK(pick("linux/amd64/v3", docker_hub, &err) == 1);
	CHECK(pick("linux/386", docker_hub, &err) == 5);
	CHECK(pick("linux/amd64/v3", levels, &err) == 4);
	CHECK(pick("linux/amd64/v2", levels, &err) == 1);
	CHECK(pick("linux/amd64", levels, &err) == 2);
	CHECK(pick("linux/amd64/v3", no_v3, &err) == 2);
	CHECK(pick("linux/amd64/v2", only_v3, &err) == 0);
	CHECK(pick("linux/arm64/v8", twice, &err) == 1);
	CHECK(pick("linux/arm64", twice, &err) == 1);
	CHECK(pick("linux/arm64/v8", att_first, &err) == 2);
}

static void test_index_select_errors(void)
{
	static const char *const some[] = {
		"linux/amd64/v3", "linux/arm/v7", ATTESTATION, "{\"annotations\":{}}", NULL,
	};
	static const char *const only_attestations[] = { ATTESTATION, NULL };
	struct dk_err err;

	CHECK(pick("linux/amd64/v2", some, &err) == 0);
	CHECK(err.code == DK_E_NOTFOUND);
	CHECK_STR(err.msg, "img: the image index has no manifest for linux/amd64/v2 "
		  "(it has linux/amd64/v3, linux/arm/v7, an entry without a platform)");
	CHECK(pick("linux/arm64/v8", only_attestations, &err) == 0);
	CHECK_STR(err.msg, "img: the image index has no manifest for linux/arm64/v8 (it has no images)");
	CHECK(dk_index_select("{\"manifests\":1}", 15, "img", &(struct dk_platform){ "linux", "amd64", "" },
			      &(struct dk_desc){ 0 }, &err) < 0);
	CHECK(err.code == DK_E_CORRUPT);
}

static void test_platform_from_json(void)
{
	struct dk_platform p;
	json_t *j = json_loads("{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}", 0, NULL);

	CHECK(dk_platform_from_json(j, &p) == 0);
	CHECK_STR(p.arch, "arm64");
	CHECK_STR(p.variant, "v8");
	json_decref(j);
	j = json_loads("{\"architecture\":\"arm64\"}", 0, NULL);
	CHECK(dk_platform_from_json(j, &p) < 0);
	json_decref(j);
	CHECK(dk_platform_from_json(NULL, &p) < 0);
}

/* What --platform writes in the config: the variant asked for, in its one spelling. */
static void test_parse_spells_levels(void)
{
	static const char *const cases[][2] = {
		{ "linux/arm64/v8", "v8" }, { "linux/arm64/8", "v8" }, { "linux/arm64/v8.0", "v8" },
		{ "linux/arm64/v8.2", "v8.2" }, { "linux/arm/7", "v7" }, { "linux/amd64/v3", "v3" },
		/* no variant stays none: linux/arm64 is written without one, as docker does */
		{ "linux/arm64", "" }, { "linux/riscv64/rva22", "rva22" },
	};
	struct dk_platform p;
	struct dk_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(dk_platform_parse(cases[i][0], &p, &err) == 0);
		CHECK_STR(p.variant, cases[i][1]);
	}
}

int main(void)
{
	RUN(test_no_variant_means_the_baseline);
	RUN(test_levels);
	RUN(test_no_other_architecture);
	RUN(test_aliases_and_case);
	RUN(test_index_select);
	RUN(test_index_select_errors);
	RUN(test_platform_from_json);
	RUN(test_parse_spells_levels);
	return tap_done();
}
