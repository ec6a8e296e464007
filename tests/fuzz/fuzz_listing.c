/*
 * fuzz_listing.c - a base layer blob, untrusted (any registry's), listed
 * for "delete": decompressed and read as a tar by libarchive, its bytes
 * checked against a diff_id they never have here.
 */
#include "fuzz.h"

#include <stdio.h>

#include "derrick/digest.h"
#include "derrick/listing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	char diff_id[DK_DIGEST_SIZE];
	struct dk_listing l = { NULL, 0, 0 };
	struct dk_err err;

	if (!path)
		abort();
	snprintf(diff_id, sizeof(diff_id), "sha256:%064d", 0);
	(void)dk_listing_read_blob(path, diff_id, &l, &err);
	dk_listing_free(&l);
	return 0;
}
