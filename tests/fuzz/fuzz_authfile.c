/*
 * fuzz_authfile.c - auth files (docker config.json, containers auth.json):
 * a credentials lookup through the input as --authfile.
 */
#include "fuzz.h"

#include "derrick/creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const char *path = fuzz_file(data, size);
	struct dk_creds_opts o = { .authfile = path };
	struct dk_creds c = { 0 };
	struct dk_err err;
	int found;

	if (!path)
		abort();
	if (!ready) {
		/* only the input is read, and no credential helper can be run */
		setenv("PATH", "/nonexistent", 1);
		setenv("HOME", "/nonexistent", 1);
		unsetenv("REGISTRY_AUTH_FILE");
		unsetenv("XDG_RUNTIME_DIR");
		unsetenv("DOCKER_CONFIG");
		ready = 1;
	}
	if (dk_creds_lookup(&o, "registry.example:5000", &c, &found, &err) == 0) {
		/* JSON never holds a NUL byte: a file with one is refused, never read as empty */
		if (memchr(data, 0, size))
			abort();
		if (found)
			dk_creds_free(&c);
	}
	if (dk_creds_lookup(&o, "docker.io", &c, &found, &err) == 0 && found)
		dk_creds_free(&c);
	return 0;
}
