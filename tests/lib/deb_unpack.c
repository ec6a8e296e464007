/*
 * deb_unpack.c - the test driver of the .deb module: reads .debs with
 * dk_deb_read, adds the dpkg database entries (dk_dpkgdb_entries) and
 * writes everything as a layer tar through the project's tar writer (the
 * layer code path), for tests/e2e/deb_install.sh.
 *
 *   deb_unpack [-s STATUS | -d | -n] [-H] -o OUT.tar DEB...
 *
 * -s: the base's dpkg status file (merged status and info/ files);
 * -d: a base without dpkg (status.d/ files); -n: no database, the
 * packages' files only.  Prints per package, on stdout:
 * "package version architecture multi-arch scripts conffile=md5...", and
 * with -H, for a package that has a preinst or postinst, a second line
 * "hint PACKAGE: " and dk_deb_script_hint's line.
 * On failure the error's code name and message on stderr, exit status 1.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/deb.h"
#include "derrick/dpkgdb.h"
#include "derrick/entry.h"
#include "derrick/sink.h"
#include "derrick/tarw.h"
#include "derrick/util.h"

static void print_deb(const struct dk_deb *d, int hint)
{
	char *h = hint ? dk_deb_script_hint(d) : NULL;
	int any = 0;

	printf("%s %s %s %s ", d->package, d->version, d->architecture, dk_str_or(d->multi_arch, "-"));
	for (unsigned bit = 1; dk_deb_script_name(bit); bit <<= 1)
		if (d->scripts & bit)
			printf("%s%s", any++ ? "," : "", dk_deb_script_name(bit));
	printf("%s", any ? "" : "-");
	for (size_t i = 0; i < d->nconffiles; i++)
		printf(" %s=%s", d->conffiles[i].path, d->conffiles[i].md5);
	printf("\n");
	if (h)
		printf("hint %s: %s\n", d->package, h);
	free(h);
}

int main(int argc, char **argv)
{
	struct dk_tar_opts topts = { .mtime = 0, .uid = 0, .gid = 0, .file_mode = -1, .dir_mode = -1 };
	const char *outpath = NULL, *status_path = NULL;
	struct dk_deb *debs;
	const struct dk_deb **dp;
	struct dk_entries l;
	struct dk_err err = { 0 };
	struct dk_sink *sink;
	char *status = NULL;
	size_t status_len = 0, n = 0;
	int opt, fd, rc = 1, db = 1, hint = 0;

	while ((opt = getopt(argc, argv, "s:dnHo:")) != -1) {
		switch (opt) {
		case 's': status_path = optarg; break;
		case 'd': status_path = NULL; break;
		case 'n': db = 0; break;
		case 'H': hint = 1; break;
		case 'o': outpath = optarg; break;
		default: return 2;
		}
	}
	if (!outpath || optind >= argc) {
		fprintf(stderr, "usage: deb_unpack [-s STATUS | -d | -n] [-H] -o OUT.tar DEB...\n");
		return 2;
	}
	debs = calloc((size_t)(argc - optind), sizeof(*debs));
	dp = calloc((size_t)(argc - optind), sizeof(*dp));
	dk_entries_init(&l);
	if (status_path && dk_read_file(status_path, 1 << 30, &status, &status_len, &err) < 0)
		goto done;
	for (int i = optind; i < argc; i++, n++) {
		dp[n] = &debs[n];
		if (dk_deb_read(argv[i], &l, &debs[n], &err) < 0) {
			n++;
			goto done;
		}
		print_deb(&debs[n], hint);
	}
	if (db && dk_dpkgdb_entries(status, status_len, dp, n, &l, &err) < 0)
		goto done;
	if (dk_entries_finish(&l, &err) < 0)
		goto done;
	fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		dk_fail_errno(&err, DK_E_IO, "create %s", outpath);
		goto done;
	}
	sink = dk_sink_fd(fd, outpath);
	if (dk_tar_write(&l, &topts, sink, &err) == 0 && dk_sink_close(sink, &err) == 0)
		rc = 0;
	dk_sink_free(sink);
	close(fd);
done:
	if (rc)
		fprintf(stderr, "%s: %s\n", dk_code_name(err.code), err.msg);
	for (size_t i = 0; i < n; i++)
		dk_deb_release(&debs[i]);
	free(debs);
	free(dp);
	free(status);
	dk_entries_release(&l);
	return rc;
}
