/*
 * lock.c - `derrick lock KIND`: resolve the inputs of the spec's layers of
 * that kind into the lock files they name (today: debs).  A build reads
 * only the locks, so what it installs changes only when a lock is
 * written again.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/build.h"
#include "derrick/log.h"
#include "derrick/platform.h"
#include "cli.h"

static const struct cli_command lock_cmd = {
	.name = "lock",
	.args = "debs",
	.about = "Resolve every \"debs\" layer's packages against its sources, on top of what is installed\n"
		 "below it, for the Debian architecture of each platform, and write the lock file\n"
		 "the layer names (sorted JSON: the same indexes give the same bytes).\n",
};

int cmd_lock(int argc, char **argv)
{
	struct dk_build_opts o;
	struct dk_err err = { 0 };
	struct dk_platform *platforms = NULL;
	const char *platform = NULL;
	size_t n = 0;
	int quiet = 0, verbose = 0, rc;
	struct cli_option options[] = {
		CLI_STRING('f', "file", &o.spec_path, "FILE", "build spec (default: ./derrick.json)"),
		CLI_STRING(0, "platform", &platform, "OS/ARCH[/VARIANT][,...]",
			   "the platforms to lock for (default: this machine's); list every platform you build"),
		CLI_FLAG(0, "no-cache", &o.no_cache, "do not keep the downloaded indexes in the cache"),
		CLI_VERBOSITY(&quiet, &verbose),
		CLI_GROUP(cli_registry_options, &o.transport, "registry flags (the base image, and TLS and retries "
			  "for the sources)"),
		CLI_END,
	};

	memset(&o, 0, sizeof(o));
	o.spec_path = "derrick.json";
	cli_transport_defaults(&o.transport);
	o.transport.progress = 0;
	if ((rc = cli_parse(&lock_cmd, options, argc, argv)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("lock", "expected what to lock: debs");
	cli_set_verbosity(quiet, verbose);
	if (platform) {
		if (cli_parse_platforms(platform, &o, &platforms, &err) < 0) {
			err.code = DK_E_USAGE;
			return cli_error(&err);
		}
	} else {
		dk_platform_host(&o.plan.platform);
	}
	rc = dk_build_lock(&o, argv[optind], &n, &err) < 0 ? cli_error(&err) : 0;
	free(platforms);
	return rc;
}
