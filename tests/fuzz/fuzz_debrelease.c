/*
 * fuzz_debrelease.c - the Release reader (the signed text of an InRelease,
 * as gpgv hands it on).  What parses has only lower-case 64-digit hashes
 * and distinct paths that dk_deb_release_find finds; what does not has one
 * line of error and leaves nothing behind.
 */
#include "fuzz.h"

#include "derrick/debrepo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_deb_release r;
	struct dk_err err = { 0 };

	if (dk_deb_release_parse((const char *)data, size, "InRelease", &r, &err) < 0) {
		for (const char *c = err.msg; *c; c++)
			if ((unsigned char)*c < 0x20)
				abort();
		if (r.n_files || r.suite || r.archs)
			abort();
		return 0;
	}
	for (size_t i = 0; i < r.n_files; i++) {
		const struct dk_deb_release_file *f = &r.files[i];

		if (strlen(f->sha256) != 64 || strspn(f->sha256, "0123456789abcdef") != 64 || !*f->path ||
		    dk_deb_release_find(&r, f->path) != f)
			abort();
	}
	for (size_t i = 0; i < r.n_archs; i++)
		if (!*r.archs[i] || strpbrk(r.archs[i], " \t"))
			abort();
	dk_deb_release_free(&r);
	return 0;
}
