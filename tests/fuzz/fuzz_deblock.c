/*
 * fuzz_deblock.c - the debs lock reader.  What it accepts the writer
 * writes, and the written bytes read back and write again identically (a
 * lock has one form); a refusal is one line naming the file.
 */
#include "fuzz.h"

#include "derrick/deblock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_deb_lock l, again;
	struct dk_err err = { 0 };
	char *a, *b;
	size_t alen, blen;

	if (dk_deb_lock_parse((const char *)data, size, "debs.lock.json", &l, &err) < 0) {
		for (const char *c = err.msg; *c; c++)
			if ((unsigned char)*c < 0x20)
				abort();
		if (strncmp(err.msg, "debs.lock.json: ", 16) || l.n_entries || l.entries)
			abort();
		return 0;
	}
	if (dk_deb_lock_dump(&l, &a, &alen, &err) < 0)
		abort();
	if (dk_deb_lock_parse(a, alen, "again", &again, &err) < 0)
		abort();
	if (dk_deb_lock_dump(&again, &b, &blen, &err) < 0 || alen != blen || memcmp(a, b, alen))
		abort();
	free(a);
	free(b);
	dk_deb_lock_free(&again);
	dk_deb_lock_free(&l);
	return 0;
}
