/* fuzz_dpkg.c - a base image's dpkg status, read for the libc6 version (a wheels layer's default libc). */
#include "fuzz.h"

#include "derrick/util.h"
#include "derrick/wheelsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = dk_xstrndup((const char *)data, size);
	char *libc = dk_dpkg_libc(text);

	if (libc && strncmp(libc, "glibc ", 6))
		abort();
	free(libc);
	free(text);
	return 0;
}
