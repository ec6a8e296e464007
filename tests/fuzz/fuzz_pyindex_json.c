/*
 * fuzz_pyindex_json - a simple-index project page in the PEP 691 JSON form
 * (simple_index.c): no crash, no leak, and what pyindex_check.h checks.
 */
#include "pyindex_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return pyindex_check(dk_pyindex_parse_json, data, size);
}
