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
 *
 *   deb_fetch --lock OUT [--now UNIX] [--cache DIR] [--status ARCH=FILE]...
 *             ARCH[,ARCH...] SOURCE... -- PACKAGE...
 *
 * makes a lock (dk_deb_lock_make) and writes it to OUT; each SOURCE is one
 * argument "URL SUITE COMPONENT[,COMPONENT...] KEYRING [trusted]", KEYRING
 * "-" for none or "GIVEN=PATH" (GIVEN goes into the lock, gpgv reads
 * PATH); --status gives an architecture's base dpkg status (none: an
 * empty base).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/deblock.h"
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

#define MAXN 64

/* The --lock mode: see the top. */
static int lock(int argc, char **argv)
{
	struct dk_deb_source srcs[MAXN];
	struct dk_deb_repo_opts o = { 0 };
	struct dk_deb_lock_input in = { .srcs = srcs };
	struct dk_deb_lock l;
	struct dk_blobs cache = { 0 };
	struct dk_err err = { 0 };
	const char *keyrings[MAXN], *archs[MAXN], *comps[MAXN][16], *status_path[MAXN] = { 0 };
	const char *status[MAXN] = { 0 }, *out = argv[2];
	char *status_of[MAXN][2], *words[MAXN][6];
	size_t status_len[MAXN] = { 0 }, nstatus = 0;
	int i, rc = 1;

	for (i = 3; i < argc && !strncmp(argv[i], "--", 2) && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--now") && i + 1 < argc)
			o.now = (time_t)strtoll(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--status") && i + 1 < argc && nstatus < MAXN && strchr(argv[i + 1], '=')) {
			status_of[nstatus][0] = argv[++i];
			status_of[nstatus][1] = strchr(argv[i], '=');
			*status_of[nstatus++][1]++ = 0;
		} else if (!strcmp(argv[i], "--cache") && i + 1 < argc) {
			if (dk_blobs_open(&cache, argv[++i], 1, &err) < 0)
				goto bad;
			o.cache = &cache;
		} else {
			fprintf(stderr, "deb_fetch: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: deb_fetch --lock OUT [options] ARCHS SOURCE... -- PACKAGE...\n");
		return 2;
	}
	in.archs = archs;
	in.n_archs = split(argv[i++], archs, MAXN);
	for (; i < argc && strcmp(argv[i], "--") && in.n_srcs < MAXN; i++) {
		struct dk_deb_source *s = &srcs[in.n_srcs];
		char **w = words[in.n_srcs], *eq;
		size_t n = 0;

		memset(s, 0, sizeof(*s));
		for (char *t = strtok(argv[i], " "); t && n < 6; t = strtok(NULL, " "))
			w[n++] = t;
		if (n < 4 || n > 5 || (n == 5 && strcmp(w[4], "trusted"))) {
			fprintf(stderr, "deb_fetch: a source is \"URL SUITE COMPONENTS KEYRING [trusted]\"\n");
			return 2;
		}
		s->url = w[0];
		s->suite = w[1];
		s->trusted = n == 5;
		keyrings[in.n_srcs] = NULL;
		if (strcmp(w[3], "-")) {
			s->keyring = w[3];
			if ((eq = strchr(w[3], '='))) {
				*eq = 0;
				keyrings[in.n_srcs] = eq + 1;
			}
		}
		s->components = comps[in.n_srcs];
		s->n_components = split(w[2], comps[in.n_srcs], 16);
		in.n_srcs++;
	}
	in.keyrings = keyrings;
	in.packages = (const char *const *)argv + i + 1;
	in.n_packages = i < argc ? (size_t)(argc - i - 1) : 0;
	for (size_t k = 0; k < nstatus; k++) {
		size_t a;

		for (a = 0; a < in.n_archs && strcmp(archs[a], status_of[k][0]); a++)
			;
		if (a == in.n_archs) {
			fprintf(stderr, "deb_fetch: --status %s: not one of the architectures\n", status_of[k][0]);
			return 2;
		}
		status_path[a] = status_of[k][1];
		if (dk_read_file(status_path[a], (size_t)1 << 30, (char **)&status[a], &status_len[a], &err) < 0)
			goto bad;
	}
	in.base_status = status;
	in.base_status_len = status_len;
	if (dk_deb_lock_make(&in, &o, &l, &err) < 0)
		goto bad;
	rc = dk_deb_lock_write(out, &l, &err) < 0;
	dk_deb_lock_free(&l);
	if (rc)
		goto bad;
	goto done;
bad:
	fprintf(stderr, "deb_fetch: %s\n", err.msg);
	rc = 1;
done:
	for (size_t k = 0; k < MAXN; k++)
		free((char *)status[k]);
	if (o.cache)
		dk_blobs_close(&cache);
	return rc;
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

	if (argc > 2 && !strcmp(argv[1], "--lock"))
		return lock(argc, argv);
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
