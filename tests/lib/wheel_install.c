/*
 * wheel_install.c - the test driver of the wheel module: installs wheels
 * with dk_wheels_install and writes the entries as a layer tar through the
 * project's tar writer (the layer code path), for tests/e2e/wheels.sh.
 *
 *   wheel_install [-p PREFIX] [-s SITE_PACKAGES] [-i INTERPRETER] [-y X.Y]
 *                 -o OUT.tar WHEEL[,SHA256[,SIZE[,FILENAME]]]...
 *
 * Prints "name version requires-python purelib" per wheel on stdout; on
 * failure the error's code name and message on stderr, and exit status 1.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/entry.h"
#include "derrick/sink.h"
#include "derrick/tarw.h"
#include "derrick/util.h"
#include "derrick/wheel.h"

static int print_info(const struct dk_wheel_info *info, void *arg, struct dk_err *err)
{
	(void)arg;
	(void)err;
	printf("%s %s %s %s\n", info->name, info->version, dk_str_or(info->requires_python, "-"),
	       info->root_is_purelib ? "purelib" : "platlib");
	return 0;
}

int main(int argc, char **argv)
{
	struct dk_wheel_opts o = {
		.prefix = "/usr/local",
		.site_packages = "/usr/local/lib/python3.11/site-packages",
		.interpreter = "/usr/local/bin/python3.11",
		.python = "3.11",
		.check = print_info,
	};
	struct dk_tar_opts topts = { .mtime = 0, .file_mode = -1, .dir_mode = -1 };
	const char *outpath = NULL;
	struct dk_wheel_file *files;
	struct dk_entries l;
	struct dk_err err = { 0 };
	struct dk_sink *sink;
	size_t n = 0;
	int opt, fd, rc = 1;

	while ((opt = getopt(argc, argv, "p:s:i:y:o:")) != -1) {
		switch (opt) {
		case 'p': o.prefix = optarg; break;
		case 's': o.site_packages = optarg; break;
		case 'i': o.interpreter = optarg; break;
		case 'y': o.python = optarg; break;
		case 'o': outpath = optarg; break;
		default: return 2;
		}
	}
	if (!outpath || optind >= argc) {
		fprintf(stderr, "usage: wheel_install [-p PREFIX] [-s SITE] [-i INTERP] [-y X.Y] -o OUT.tar WHEEL[,SHA256[,SIZE[,NAME]]]...\n");
		return 2;
	}
	files = calloc((size_t)(argc - optind), sizeof(*files));
	for (int i = optind; i < argc; i++, n++) {
		char *spec = argv[i], *f[4] = { NULL, NULL, NULL, NULL };

		for (int k = 0; k < 4 && spec; k++)
			f[k] = strsep(&spec, ",");
		files[n].path = f[0];
		files[n].sha256 = f[1] && *f[1] ? f[1] : NULL;
		files[n].size = f[2] && *f[2] ? atoll(f[2]) : -1;
		files[n].filename = f[3] && *f[3] ? f[3] : NULL;
	}
	dk_entries_init(&l);
	if (dk_wheels_install(files, n, &o, &l, &err) < 0 || dk_entries_finish(&l, &err) < 0)
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
	dk_entries_release(&l);
	free(files);
	return rc;
}
