/*
 * fuzz_ignore.c - .dockerignore files: load the input as one, then match
 * each of its lines (as a path) against the patterns loaded.
 */
#include "fuzz.h"

#include "derrick/ignore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	char *text = fuzz_str(data, size);
	struct dk_ignore *ig = dk_ignore_new();
	struct dk_err err;
	char *save = NULL;

	if (!path)
		abort();
	dk_ignore_load_file(ig, path, &err);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *rel = line[0] == '!' ? line + 1 : line;

		dk_ignore_excluded(ig, rel);
		dk_ignore_may_reinclude_below(ig, rel);
	}
	dk_ignore_free(ig);
	free(text);
	return 0;
}
