/*
 * verify.c - `derrick verify IMAGE`.
 */
#include <getopt.h>
#include <stdio.h>

#include "derrick/verify.h"
#include "cli.h"

static const struct cli_command verify_cmd = {
	.name = "verify",
	.args = "IMAGE",
	.about = "  IMAGE                  oci:DIR[:TAG] or docker://[HOST/]REPO[:TAG][@DIGEST]\n\n"
		 "Recomputes every blob's digest and every layer's diff_id, and checks each\n"
		 "descriptor's size and media type and that every blob is there (for an index,\n"
		 "of every image it lists).  Prints one line per problem on stderr, naming the\n"
		 "blob; exits 1 when there is any.\n",
};

int cmd_verify(int argc, char **argv)
{
	struct dk_transport_opts o;
	struct dk_verify_report r;
	struct dk_err err = { 0 };
	int quiet = 0, verbose = 0, rc;
	struct cli_option options[] = {
		CLI_VERBOSITY(&quiet, &verbose),
		CLI_GROUP(cli_registry_options, &o, "registry flags"),
		CLI_END,
	};

	cli_transport_defaults(&o);
	o.progress = 0;
	if ((rc = cli_parse(&verify_cmd, options, argc, argv)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("verify", "expected exactly one IMAGE");
	cli_set_verbosity(quiet, verbose);
	if (dk_verify(argv[optind], &o, &r, &err) < 0)
		return cli_error(&err);
	for (size_t i = 0; i < r.n_problems; i++)
		fprintf(stderr, "derrick: verify: %s\n", r.problems[i]);
	if (!quiet)
		printf("%s: %zu manifest%s, %zu blob%s (%llu bytes) checked: %s\n", argv[optind], r.manifests,
		       r.manifests == 1 ? "" : "s", r.blobs, r.blobs == 1 ? "" : "s", (unsigned long long)r.bytes,
		       r.n_problems ? "damaged" : "intact");
	rc = r.n_problems ? EXIT_FAIL : 0;
	dk_verify_report_free(&r);
	return rc;
}
