/*
 * fuzz_toml - TOML text through toml++ into a jansson tree (toml.cc): no
 * crash, no exception escaping into C, no leak; a tree that comes back is
 * an object, and an error is one line naming the input.
 */
#include <jansson.h>

#include "fuzz.h"
#include "derrick/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_err err = { 0 };
	json_t *j = dk_toml_parse((const char *)data, size, "f.toml", &err);

	if (j) {
		if (!json_is_object(j))
			abort();
		json_decref(j);
	} else if (strncmp(err.msg, "f.toml:", 7) || strchr(err.msg, '\n')) {
		abort();
	}
	return 0;
}
