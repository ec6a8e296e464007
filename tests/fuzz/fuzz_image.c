/*
 * fuzz_image.c - image JSON from a registry or a layout: the first byte
 * says which parser reads the rest (an OCI or a Docker manifest, an index,
 * or an image config that a build inherits from).
 */
#include "fuzz.h"

#include <stdio.h>

#include "derrick/config.h"
#include "derrick/image.h"
#include "derrick/plan.h"
#include "derrick/platform.h"
#include "derrick/spec.h"

static const char spec_text[] =
	"{\"stages\": [{\"name\": \"app\", \"layers\": [{\"source\": \".\", \"dest\": \"/app\"}]}],"
	" \"config\": {\"env\": {\"PATH\": \"/app/bin:/usr/bin\", \"A\": \"b\"}, \"labels\": {\"v\": \"${VERSION}\"}}}";

static void manifest(const char *type, const uint8_t *data, size_t size)
{
	struct dk_manifest_blob mb = { .bytes = (char *)data, .len = size };
	struct dk_manifest m;
	struct dk_err err;

	snprintf(mb.desc.media_type, sizeof(mb.desc.media_type), "%s", type);
	snprintf(mb.desc.digest, sizeof(mb.desc.digest), "sha256:%064d", 0);
	mb.desc.size = size;
	if (dk_manifest_parse(&mb, "fuzz", &m, &err) == 0)
		dk_manifest_free(&m);
}

static void index_select(const uint8_t *data, size_t size)
{
	struct dk_platform want;
	struct dk_desc d;
	struct dk_err err;

	dk_platform_parse("linux/arm/v7", &want, &err);
	dk_index_select((const char *)data, size, "fuzz", &want, &d, &err);
}

static void config(const uint8_t *data, size_t size)
{
	static struct dk_spec spec;
	static struct dk_plan plan;
	static int ready;
	struct dk_new_layer nl = { "sha256:" "0000000000000000000000000000000000000000000000000000000000000000",
				   "derrick fuzz" };
	struct dk_err err;
	char *out;
	size_t len;

	if (!ready) {
		struct dk_plan_opts o = { .version = "1.0" };

		dk_platform_host(&o.platform);
		if (dk_spec_parse(spec_text, "/nonexistent/derrick.json", &spec, &err) < 0 ||
		    dk_plan_make(&spec, &o, &plan, &err) < 0) {
			fprintf(stderr, "fuzz_image: the built-in spec: %s\n", err.msg);
			abort();
		}
		ready = 1;
	}
	if (dk_config_make((const char *)data, size, "fuzz", &plan, &nl, 1, &out, &len, &err) == 0)
		free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	switch (data[0] % 4) {
	case 0:
		manifest("application/vnd.oci.image.manifest.v1+json", data + 1, size - 1);
		break;
	case 1:
		manifest("application/vnd.docker.distribution.manifest.v2+json", data + 1, size - 1);
		break;
	case 2:
		index_select(data + 1, size - 1);
		break;
	default:
		config(data + 1, size - 1);
	}
	return 0;
}
