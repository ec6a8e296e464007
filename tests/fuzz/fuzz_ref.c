/* fuzz_ref.c - image references: TRANSPORT:WHERE and docker references. */
#include "fuzz.h"

#include "derrick/dockerref.h"
#include "derrick/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct dk_ref ref;
	struct dk_dockerref dr;
	struct dk_err err;

	if (dk_ref_parse(s, &ref, &err) == 0)
		dk_ref_free(&ref);
	if (dk_dockerref_parse(s, &dr, &err) == 0) {
		/* what was parsed reads back as the same reference */
		struct dk_dockerref again;
		char *text = dk_xasprintf("%s/%s%s%s%s%s", dr.registry, dr.repository,
					  dr.tag ? ":" : "", dr.tag ? dr.tag : "",
					  dr.digest ? "@" : "", dr.digest ? dr.digest : "");

		if (dk_dockerref_parse(text, &again, &err) != 0)
			abort();
		dk_dockerref_free(&again);
		free(text);
	}
	dk_dockerref_free(&dr);
	free(s);
	return 0;
}
