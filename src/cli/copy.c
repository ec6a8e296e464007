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

struct copy_args {
	struct dk_transport_opts o;
	struct dk_platform plat;
	const char *out;                /* pull: -o */
	const char *digest_file;        /* push: --digest-file */
	int json;
};

/*
 * The command line both commands share; longopts says which of -o and
 * --digest-file this one takes.  Returns -1 to go on, else the exit status.
 */
static int parse_copy(const char *cmd, const char *usage, const char *shortopts,
		      const struct option *longopts, int argc, char **argv, struct copy_args *a)
{
	struct dk_err err = { 0 };
	int quiet = 0, verbose = 0, c, r;

	memset(a, 0, sizeof(*a));
	cli_transport_defaults(&a->o);
	dk_platform_host(&a->plat);
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(usage, stdout); return 0;
		case 'o': a->out = optarg; continue;
		case 'd': a->digest_file = optarg; continue;
		case 'j': a->json = 1; continue;
		case 'q': quiet = 1; continue;
		case 'v': verbose = 1; continue;
		case 'p':
			if (dk_platform_parse(optarg, &a->plat, &err) < 0)
				return cli_usage(cmd, "%s", err.msg);
			continue;
		}
		r = cli_transport_opt(cmd, c, optarg, &a->o);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0) {
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	cli_set_verbosity(quiet, verbose);
	if (quiet || a->json)
		a->o.progress = 0;
	return -1;
}

int cmd_pull(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' }, COPY_OPTIONS, CLI_REGISTRY_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct copy_args a;
	int rc = parse_copy("pull", pull_usage, "o:qvh", longopts, argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("pull", "expected exactly one REF");
	if (!a.out)
		return cli_usage("pull", "missing -o oci:DIR[:TAG]");
	return run_copy("pull", argv[optind], a.out, &a.plat, &a.o, a.json, NULL);
}

int cmd_push(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "digest-file", required_argument, NULL, 'd' }, COPY_OPTIONS, CLI_REGISTRY_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct copy_args a;
	int rc = parse_copy("push", push_usage, "qvh", longopts, argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (argc - optind != 2)
		return cli_usage("push", "expected SRC and DEST");
	return run_copy("push", argv[optind], argv[optind + 1], &a.plat, &a.o, a.json, a.digest_file);
}
