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

static const char usage_text[] =
	"usage: derrick cache prune [--max-size SIZE] [--cache-dir DIR]\n"
	"\n"
	"  Remove the least recently used layers and blobs until the cache holds at most\n"
	"  SIZE bytes (k, M, G suffixes; default 0: empty it).\n";

int cmd_cache(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "max-size", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		CLI_REGISTRY_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct dk_transport_opts o;
	struct dk_err err = { 0 };
	uint64_t max = 0, freed = 0;
	char *dir;
	int c, r;

	cli_transport_defaults(&o);
	if (argc < 2 || strcmp(argv[1], "prune")) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(usage_text, stdout);
			return 0;
		}
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return 0;
		}
		if (c == 'm') {
			if (cli_parse_size(optarg, &max) < 0)
				return cli_usage("cache prune", "--max-size %s: expected a size such as 500M", optarg);
			continue;
		}
		r = cli_transport_opt("cache prune", c, optarg, &o);
		if (r <= 0) {
			if (r == 0)
				fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
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
