/*
 * debresolve.c - a probe of the Debian modules for tests/e2e/deb_resolve.sh,
 * which compares its answers with dpkg's and apt's:
 *
 *   debresolve resolve ARCH STATUS|- PACKAGES... -- REQUEST... [-- REQUEST...]...
 *       one line per package to add: "name version arch why [replaces OLD] [pre-depends]";
 *       with several groups, each answer after a "== REQUESTS" line, errors as "error: ..."
 *   debresolve compare < "A B" lines     one of "<" "=" ">" per line (dk_debver_cmp)
 *   debresolve parse FILE                 stanzas, fields, relations parsed, milliseconds
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "derrick/deb822.h"
#include "derrick/debrel.h"
#include "derrick/debresolve.h"
#include "derrick/debversion.h"
#include "derrick/util.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void print(const struct dk_debresolution *res)
{
	for (size_t k = 0; k < res->n; k++) {
		printf("%s %s %s %s", res->pkgs[k].name, res->pkgs[k].version, res->pkgs[k].arch, res->pkgs[k].why);
		if (res->pkgs[k].replaces)
			printf(" [replaces %s]", res->pkgs[k].replaces);
		if (res->pkgs[k].pre_depended)
			printf(" [pre-depends]");
		printf("\n");
	}
}

static int resolve(int argc, char **argv)
{
	struct dk_debidx *ix = dk_debidx_new(), *base = NULL;
	struct dk_debresolution res;
	struct dk_err err;
	int i = 2, rc = 0, groups = 0;
	const char *arch = argv[i++], *status = argv[i++];

	if (strcmp(status, "-")) {
		base = dk_debidx_new();
		if (dk_debidx_add_file(base, status, DK_DEBIDX_STATUS, &err) < 0)
			goto bad;
	}
	for (; i < argc && strcmp(argv[i], "--"); i++)
		if (dk_debidx_add_file(ix, argv[i], DK_DEBIDX_PACKAGES, &err) < 0)
			goto bad;
	for (int k = i + 1; k < argc; k++)
		groups += !strcmp(argv[k], "--");
	/* each "--" starts a group of requests resolved on its own (the indexes are read
	 * once); with several groups, each answer follows a "== REQUESTS" line */
	while (i < argc) {
		int start = ++i;

		while (i < argc && strcmp(argv[i], "--"))
			i++;
		rc = dk_debresolve(ix, base, arch, (const char *const *)argv + start, (size_t)(i - start), &res, &err);
		if (rc < 0 && !groups)
			goto bad;
		if (groups) {
			printf("==");
			for (int k = start; k < i; k++)
				printf(" %s", argv[k]);
			printf("\n");
		}
		if (rc < 0) {
			printf("error: %s\n", err.msg);
			continue;
		}
		print(&res);
		dk_debresolution_free(&res);
	}
	rc = 0;
	goto out;
bad:
	fprintf(stderr, "debresolve: %s\n", err.msg);
	rc = 1;
out:
	dk_debidx_free(ix);
	dk_debidx_free(base);
	return rc;
}

static int compare(void)
{
	char line[4096], a[2048], b[2048];

	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "%2047s %2047s", a, b) != 2)
			continue;
		int c = dk_debver_cmp_str(a, b);

		puts(c < 0 ? "<" : c > 0 ? ">" : "=");
	}
	return 0;
}

static int parse(const char *path)
{
	static const char *const rels[] = { "Depends", "Pre-Depends", "Provides", "Conflicts", "Breaks",
					    "Recommends", "Suggests", "Replaces", "Enhances" };
	struct dk_deb822_stanza st;
	struct dk_err err;
	size_t nst = 0, nf = 0, nrel = 0;
	double t0 = now_ms(), t1;
	int fd = open(path, O_RDONLY), rc;
	struct dk_deb822_reader *r;

	if (fd < 0) {
		perror(path);
		return 1;
	}
	r = dk_deb822_open_fd(fd, path, 0);
	while ((rc = dk_deb822_next(r, &st, &err)) > 0) {
		const struct dk_deb822_field *pf = dk_deb822_get(&st, "Package");
		char *pkg = pf ? dk_xstrndup(pf->value, pf->value_len) : dk_xstrdup("?");

		nst++;
		nf += st.nfields;
		for (size_t k = 0; k < sizeof(rels) / sizeof(rels[0]); k++) {
			const struct dk_deb822_field *f = dk_deb822_get(&st, rels[k]);
			struct dk_debrel rel;

			if (!f)
				continue;
			if (dk_debrel_parse(f->value, f->value_len, 0, rels[k], pkg, &rel, &err) < 0) {
				fprintf(stderr, "debresolve: %s:%lu: %s\n", path, f->line, err.msg);
				rc = -1;
				break;
			}
			nrel += rel.nclauses;
			dk_debrel_free(&rel);
		}
		free(pkg);
		if (rc < 0)
			break;
	}
	t1 = now_ms();
	dk_deb822_close(r);
	close(fd);
	if (rc < 0) {
		if (err.msg[0])
			fprintf(stderr, "debresolve: %s\n", err.msg);
		return 1;
	}
	printf("stanzas %zu fields %zu clauses %zu ms %.0f\n", nst, nf, nrel, t1 - t0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "resolve"))
		return resolve(argc, argv);
	if (argc == 2 && !strcmp(argv[1], "compare"))
		return compare();
	if (argc == 3 && !strcmp(argv[1], "parse"))
		return parse(argv[2]);
	fprintf(stderr, "usage: debresolve resolve ARCH STATUS|- PACKAGES... -- REQUEST... | compare | parse FILE\n");
	return 2;
}
