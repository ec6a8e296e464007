/*
 * fuzz_requirements - requirements files into a struct dk_lock
 * (requirements.c): no crash, no leak; every requirement that loads is
 * pinned and hashed, and an error is one line naming the file.
 */
#include "fuzz.h"
#include "derrick/pylock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_err err = { 0 };
	struct dk_lock lock;

	if (dk_requirements_parse((const char *)data, size, "r.txt", &lock, &err) == 0) {
		for (size_t i = 0; i < lock.n_pkgs; i++) {
			const struct dk_lock_pkg *p = &lock.pkgs[i];

			if (!p->name || !p->version || !*p->version || !p->n_hashes || p->n_files ||
			    strlen(p->hashes[0]) != 64)
				abort();
		}
		dk_lock_release(&lock);
	} else if (strncmp(err.msg, "r.txt", 5) || strchr(err.msg, '\n')) {
		abort();
	}
	return 0;
}
