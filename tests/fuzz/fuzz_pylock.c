/*
 * fuzz_pylock - pylock.toml text into a struct dk_lock (pylock.c over
 * toml.cc): no crash, no leak; a lock that loads has a name and a sha256
 * for every file, and an error is one line naming the file.
 */
#include "fuzz.h"
#include "derrick/pylock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_err err = { 0 };
	struct dk_lock lock;

	if (dk_pylock_parse((const char *)data, size, "d/pylock.toml", &lock, &err) == 0) {
		for (size_t i = 0; i < lock.n_pkgs; i++) {
			if (!lock.pkgs[i].name || !lock.pkgs[i].where || !lock.pkgs[i].n_files)
				abort();
			for (size_t f = 0; f < lock.pkgs[i].n_files; f++)
				if (strlen(lock.pkgs[i].files[f].sha256) != 64 || !lock.pkgs[i].files[f].filename)
					abort();
		}
		dk_lock_release(&lock);
	} else if (strncmp(err.msg, "d/pylock.toml", 13) || strchr(err.msg, '\n')) {
		abort();
	}
	return 0;
}
