/*
 * fetch_tool - the download functions (fetch.h) from the command line, for
 * tests/e2e/py_fetch.sh (not a unit test: it needs a server).
 *
 *   fetch_tool [--insecure] blob CACHE_DIR URL SHA256 SIZE
 *   fetch_tool [--insecure] page URL
 *
 * Prints the blob's path or the page's files ("filename url sha256"), or
 * the error on stderr and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/blobs.h"
#include "derrick/fetch.h"
#include "derrick/pyindex.h"
#include "derrick/registry.h"

int main(int argc, char **argv)
{
	struct dk_reg_opts reg = { .tls_verify = 1, .retries = -1, .backoff_ms = 10 };
	struct dk_fetch_opts o = { .reg = &reg };
	struct dk_fetch *f;
	struct dk_err err = { 0 };
	int i = 1, rc = -1;

	if (i < argc && !strcmp(argv[i], "--insecure")) {
		reg.tls_verify = 0;
		i++;
	}
	if (dk_fetch_open(&o, &f, &err) < 0)
		goto out;
	if (argc - i == 5 && !strcmp(argv[i], "blob")) {
		struct dk_blobs b;

		if (dk_blobs_open(&b, argv[i + 1], 1, &err) == 0) {
			rc = dk_fetch_blob(f, &b, argv[i + 2], argv[i + 3], strtoll(argv[i + 4], NULL, 10), &err);
			if (rc == 0) {
				char d[DK_DIGEST_SIZE + 8];
				char *p;

				snprintf(d, sizeof(d), "sha256:%s", argv[i + 3]);
				p = dk_blobs_path(&b, d);
				puts(p);
				free(p);
			}
			dk_blobs_close(&b);
		}
	} else if (argc - i == 2 && !strcmp(argv[i], "page")) {
		char *body, *ct, *final;
		size_t len;

		rc = dk_fetch_page(f, argv[i + 1], DK_PYINDEX_ACCEPT, &body, &len, &ct, &final, &err);
		if (rc == 0) {
			struct dk_pyindex_page page;

			rc = dk_pyindex_parse(body, len, ct, final, &page, &err);
			for (size_t k = 0; rc == 0 && k < page.n_files; k++)
				printf("%s %s %s\n", page.files[k].filename, page.files[k].url,
				       page.files[k].sha256[0] ? page.files[k].sha256 : "-");
			if (rc == 0)
				dk_pyindex_release(&page);
			free(body);
			free(ct);
			free(final);
		}
	} else {
		fprintf(stderr, "usage: fetch_tool [--insecure] blob CACHE URL SHA256 SIZE | page URL\n");
		dk_fetch_free(f);
		return 2;
	}
	dk_fetch_free(f);
out:
	if (rc < 0)
		fprintf(stderr, "fetch_tool: %s\n", err.msg);
	return rc < 0 ? 1 : 0;
}
