/*
 * cache.c - `derrick cache prune [--max-size SIZE] [--cache-dir DIR]`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/lcache.h"
#include "derrick/transport.h"
#include "cli.h"

static const struct cli_command prune_cmd = {
	.name = "cache prune",
	.about = "  Remove the least recently used layers and blobs until the cache holds at most\n"
		 "  SIZE bytes (k, M, G suffixes; default 0: empty it).\n",
};

static int opt_max_size(const char *cmd, const char *arg, void *value)
{
	if (cli_parse_size(arg, value) < 0) {
		cli_usage(cmd, "--max-size %s: expected a size such as 500M", arg);
		return -1;
	}
	return 0;
}

int cmd_cache(int argc, char **argv)
{
	struct dk_transport_opts o;
	struct dk_err err = { 0 };
	uint64_t max = 0, freed = 0;
	char *dir;
	int rc;
	struct cli_option options[] = {
		CLI_CALL(0, "max-size", &max, "SIZE", "what the cache may keep (default: 0)", opt_max_size),
		CLI_GROUP(cli_registry_options, &o, "registry flags (prune uses --cache-dir)"),
		CLI_END,
	};

	cli_transport_defaults(&o);
	if (argc < 2 || strcmp(argv[1], "prune")) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			cli_help(&prune_cmd, options, stdout);
			return 0;
		}
		cli_help(&prune_cmd, options, stderr);
		return EXIT_USAGE;
	}
	if ((rc = cli_parse(&prune_cmd, options, argc, argv)) >= 0)
		return rc;
	if (optind < argc)
		return cli_usage("cache prune", "unexpected argument \"%s\"", argv[optind]);
	dir = dk_cache_dir(&o);
	if (dk_lcache_prune(dir, max, &freed, &err) < 0) {
		free(dir);
		return cli_error(&err);
	}
	printf("freed %.1f MB in %s\n", freed / 1e6, dir);
	free(dir);
	return 0;
}
