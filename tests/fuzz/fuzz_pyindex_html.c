/*
 * fuzz_pyindex_html - a simple-index project page in the PEP 503 HTML form
 * (simple_index.c): no crash, no leak, and what pyindex_check.h checks.
 */
#include "pyindex_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return pyindex_check(dk_pyindex_parse_html, data, size);
}
