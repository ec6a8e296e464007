/*
 * copy.c - `derrick pull` and `derrick push`: copy an image between
 * transports and say what happened to each blob.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/copy.h"
#include "derrick/log.h"
#include "derrick/util.h"
#include "cli.h"

static const char pull_usage[] =
	"usage: derrick pull REF -o oci:DIR[:TAG] [--platform OS/ARCH[/VARIANT]] [--json] [-q] [-v]\n"
	"                    [registry flags]\n"
	"\n"
	"  REF                    docker://[HOST/]REPO[:TAG][@DIGEST] (docker:// may be omitted)\n"
	"  -o, --output DEST      where to save it\n"
	"      --platform P       which image of a multi-platform index (default: this machine's)\n"
	"      --json             list every blob and what happened to it\n"
	"  -q, --quiet            no progress output\n"
	"  -v, --verbose          say what is being done\n"
	CLI_REGISTRY_HELP;

static const char push_usage[] =
	"usage: derrick push SRC DEST [--digest-file FILE] [--platform OS/ARCH[/VARIANT]] [--json] [-q] [-v]\n"
	"                    [registry flags]\n"
	"\n"
	"  SRC, DEST              oci:DIR[:TAG] or docker://[HOST/]REPO[:TAG] (docker:// may be omitted)\n"
	"      --digest-file FILE write DEST@sha256:... to FILE\n"
	"      --platform P       which image of a multi-platform index (default: this machine's)\n"
	"      --json             list every blob and what happened to it\n"
	"  -q, --quiet            no progress output\n"
	"  -v, --verbose          say what is being done\n"
	CLI_REGISTRY_HELP;

static void print_json(const char *dest, const struct dk_copy_result *r)
{
	json_t *doc = json_object(), *blobs = json_array();
	uint64_t sent = 0;
	char *s;

	json_object_set_new(doc, "reference", json_string(dest));
	json_object_set_new(doc, "manifest_digest", json_string(r->manifest.digest));
	for (size_t i = 0; i < r->n_notes; i++) {
		json_t *b = json_object();

		json_object_set_new(b, "digest", json_string(r->notes[i].digest));
		json_object_set_new(b, "size", json_integer((json_int_t)r->notes[i].size));
		json_object_set_new(b, "action", json_string(r->notes[i].action));
		json_object_set_new(b, "bytes_sent", json_integer((json_int_t)r->notes[i].sent));
		json_array_append_new(blobs, b);
		sent += r->notes[i].sent;
	}
	json_object_set_new(doc, "blobs", blobs);
	json_object_set_new(doc, "bytes_sent", json_integer((json_int_t)sent));
	s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	puts(s);
	free(s);
	json_decref(doc);
}

/* The pushed reference without a digest it may already carry, then @digest. */
static char *pinned(const char *dest, const char *digest)
{
	const char *at = strchr(dest, '@');

	return dk_xasprintf("%.*s@%s", at ? (int)(at - dest) : (int)strlen(dest), dest, digest);
}

static int run_copy(const char *cmd, const char *src, const char *dst, const struct dk_platform *plat,
		    const struct dk_transport_opts *o, int json, const char *digest_file)
{
	struct dk_copy_result res;
	struct dk_err err = { 0 };
	char *line;
	int rc = 0;

	(void)cmd;
	if (dk_copy_image(src, dst, plat, o, &res, &err) < 0)
		return cli_error(&err);
	line = pinned(dst, res.manifest.digest);
	if (digest_file) {
		char *text = dk_xasprintf("%s\n", line);

		if (dk_write_file_atomic(digest_file, text, strlen(text), 0644, &err) < 0)
			rc = cli_error(&err);
		free(text);
	}
	if (json)
		print_json(dst, &res);
	else if (dk_log_get_level() > DK_LOG_QUIET)
		printf("%s\n", line);
	free(line);
	dk_copy_result_free(&res);
	return rc;
}

/* Options both commands take; the caller adds -o or --digest-file. */
#define COPY_OPTIONS \
	{ "platform", required_argument, NULL, 'p' }, \
	{ "json", no_argument, NULL, 'j' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, 'h' }

static int parse_common(const char *cmd, int c, const char *arg, struct dk_platform *plat,
			struct dk_transport_opts *o, int *json, int *quiet, int *verbose)
{
	struct dk_err err = { 0 };
	int r = cli_transport_opt(cmd, c, arg, o);

	if (r)
		return r;
	switch (c) {
	case 'p':
		if (dk_platform_parse(arg, plat, &err) < 0) {
			cli_usage(cmd, "%s", err.msg);
			return -1;
		}
		return 1;
	case 'j': *json = 1; return 1;
	case 'q': *quiet = 1; return 1;
	case 'v': *verbose = 1; return 1;
	}
	return 0;
}

int cmd_pull(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' }, COPY_OPTIONS, CLI_REGISTRY_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct dk_transport_opts o;
	struct dk_platform plat;
	const char *out = NULL;
	int json = 0, quiet = 0, verbose = 0, c, r;

	cli_transport_defaults(&o);
	dk_platform_host(&plat);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qvh", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(pull_usage, stdout);
			return 0;
		}
		if (c == 'o') {
			out = optarg;
			continue;
		}
		r = parse_common("pull", c, optarg, &plat, &o, &json, &quiet, &verbose);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0) {
			fputs(pull_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage("pull", "expected exactly one REF");
	if (!out)
		return cli_usage("pull", "missing -o oci:DIR[:TAG]");
	cli_set_verbosity(quiet, verbose);
	if (quiet || json)
		o.progress = 0;
	return run_copy("pull", argv[optind], out, &plat, &o, json, NULL);
}

int cmd_push(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "digest-file", required_argument, NULL, 'd' }, COPY_OPTIONS, CLI_REGISTRY_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct dk_transport_opts o;
	struct dk_platform plat;
	const char *digest_file = NULL;
	int json = 0, quiet = 0, verbose = 0, c, r;

	cli_transport_defaults(&o);
	dk_platform_host(&plat);
	optind = 1;
	while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(push_usage, stdout);
			return 0;
		}
		if (c == 'd') {
			digest_file = optarg;
			continue;
		}
		r = parse_common("push", c, optarg, &plat, &o, &json, &quiet, &verbose);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0) {
			fputs(push_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return cli_usage("push", "expected SRC and DEST");
	cli_set_verbosity(quiet, verbose);
	if (quiet || json)
		o.progress = 0;
	return run_copy("push", argv[optind], argv[optind + 1], &plat, &o, json, digest_file);
}
