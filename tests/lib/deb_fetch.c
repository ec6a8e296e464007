/*
 * deb_fetch - the test driver of debrepo.h: fetch a Debian source's
 * Packages indexes and print what was fetched.
 *
 *   deb_fetch [--keyring FILE] [--trusted] [--now UNIX] [--cache DIR] [--dump DIR] [--retries N]
 *             URL SUITE COMPONENT[,COMPONENT...] ARCH[,ARCH...]
 *
 * --retries N: the registry flag's retry count, with 10 ms between tries
 * (the default policy otherwise).
 *
 * Prints "release URL", "signer FINGERPRINT" (or "signer none"), then per
 * index "index COMPONENT ARCH URL SHA256 BYTES STANZAS"; --dump writes each
 * index's Packages text to DIR/COMPONENT_ARCH.  On failure: the error's one
 * line on stderr, exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/debrepo.h"
#include "derrick/registry.h"
#include "derrick/util.h"

static size_t split(char *s, const char **out, size_t max)
{
	size_t n = 0;

	for (char *t = strtok(s, ","); t && n < max; t = strtok(NULL, ","))
		out[n++] = t;
	return n;
}

static size_t stanzas(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i + 8 <= len; i++)
		if ((i == 0 || s[i - 1] == '\n') && !strncmp(s + i, "Package:", 8))
			n++;
	return n;
}

int main(int argc, char **argv)
{
	struct dk_deb_source src = { 0 };
	struct dk_deb_repo_opts o = { 0 };
	struct dk_reg_opts reg = { .tls_verify = 1, .retries = -1 };
	struct dk_deb_repo r;
	struct dk_blobs cache = { 0 };
	struct dk_err err = { 0 };
	const char *comps[16], *archs[16], *dump = NULL;
	size_t nc, na;
	int i;

	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--trusted"))
			src.trusted = 1;
		else if (!strcmp(argv[i], "--keyring") && i + 1 < argc)
			src.keyring = argv[++i];
		else if (!strcmp(argv[i], "--now") && i + 1 < argc)
			o.now = (time_t)strtoll(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
			dump = argv[++i];
		else if (!strcmp(argv[i], "--retries") && i + 1 < argc) {
			reg.retries = atoi(argv[++i]);
			reg.backoff_ms = 10;
			o.reg = &reg;
		}
		else if (!strcmp(argv[i], "--cache") && i + 1 < argc) {
			if (dk_blobs_open(&cache, argv[++i], 1, &err) < 0) {
				fprintf(stderr, "deb_fetch: %s\n", err.msg);
				return 1;
			}
			o.cache = &cache;
		} else {
			fprintf(stderr, "deb_fetch: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (argc - i != 4) {
		fprintf(stderr, "usage: deb_fetch [--keyring FILE] [--trusted] [--now UNIX] [--cache DIR] [--dump DIR] [--retries N] "
				"URL SUITE COMPONENTS ARCHS\n");
		return 2;
	}
	src.url = argv[i];
	src.suite = argv[i + 1];
	nc = split(argv[i + 2], comps, 16);
	na = split(argv[i + 3], archs, 16);
	src.components = comps;
	src.n_components = nc;
	if (dk_deb_repo_fetch(&src, archs, na, &o, &r, &err) < 0) {
		fprintf(stderr, "deb_fetch: %s\n", err.msg);
		if (o.cache)
			dk_blobs_close(&cache);
		return 1;
	}
	printf("release %s\nbase %s\nsigner %s\n", r.release_url, r.base_url, r.signer ? r.signer : "none");
	for (size_t k = 0; k < r.n_indexes; k++) {
		const struct dk_deb_index *x = &r.indexes[k];

		printf("index %s %s %s %s %zu %zu\n", x->component, x->arch, x->url, x->sha256, x->len,
		       stanzas(x->data, x->len));
		if (dump) {
			char *p = dk_xasprintf("%s/%s_%s", dump, x->component, x->arch);

			if (dk_write_file_atomic(p, x->data, x->len, 0644, &err) < 0) {
				fprintf(stderr, "deb_fetch: %s\n", err.msg);
				free(p);
				return 1;
			}
			free(p);
		}
	}
	dk_deb_repo_free(&r);
	if (o.cache)
		dk_blobs_close(&cache);
	return 0;
}
