/*
 * fuzz.h - what the libFuzzer targets of tests/fuzz/ share: the input as a
 * C string or as a file, since the parsers take one or the other.
 */
#ifndef DERRICK_FUZZ_H
#define DERRICK_FUZZ_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/err.h"
#include "derrick/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (cut at its first NUL, as a C caller sees it). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

static char fuzz_path[64];

static inline void fuzz_file_remove(void)
{
	unlink(fuzz_path);
}

/*
 * The input written to one temporary file per process (rewritten each run,
 * removed at exit); its path, owned here.  NULL when it cannot be written.
 */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	int fd;

	if (!fuzz_path[0]) {
		strcpy(fuzz_path, "/tmp/derrick-fuzz-XXXXXX");
		fd = mkstemp(fuzz_path);
		atexit(fuzz_file_remove);
	} else {
		fd = open(fuzz_path, O_WRONLY | O_TRUNC);
	}
	if (fd < 0)
		return NULL;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return NULL;
	}
	close(fd);
	return fuzz_path;
}

#endif
