/* fuzz_spec.c - the build spec (derrick.json): parse, then plan what it says. */
#include "fuzz.h"

#include "derrick/plan.h"
#include "derrick/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size);
	struct dk_spec spec;
	struct dk_err err;

	if (dk_spec_parse(text, "/nonexistent/derrick.json", &spec, &err) == 0) {
		struct dk_plan_opts o = { .version = "1.0", .epoch = 0 };
		struct dk_plan plan;

		dk_platform_host(&o.platform);
		if (dk_plan_make(&spec, &o, &plan, &err) == 0)
			dk_plan_free(&plan);
		dk_spec_free(&spec);
	}
	free(text);
	return 0;
}
