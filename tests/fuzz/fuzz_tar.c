/* fuzz_tar.c - tar layer sources: read the input as a tar below /app, then order the entries. */
#include "fuzz.h"

#include "derrick/entry.h"
#include "derrick/tarw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct dk_entries l;
	struct dk_err err;

	if (!path)
		abort();
	dk_entries_init(&l);
	if (dk_tar_read(path, "/app", &l, &err) == 0)
		(void)dk_entries_finish(&l, &err);
	dk_entries_release(&l);
	return 0;
}
