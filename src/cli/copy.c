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

static const struct cli_command pull_cmd = {
	.name = "pull",
	.args = "REF",
	.about = "  REF                    docker://[HOST/]REPO[:TAG][@DIGEST] (docker:// may be omitted)\n",
};

static const struct cli_command push_cmd = {
	.name = "push",
	.args = "SRC DEST",
	.about = "  SRC, DEST              oci:DIR[:TAG] or docker://[HOST/]REPO[:TAG] (docker:// may be omitted),\n"
		 "                         oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME:TAG]\n",
};

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

struct copy_args {
	struct dk_transport_opts o;
	struct dk_platform plat;
	int has_plat;                   /* --platform given: else an index is copied whole */
	const char *out;                /* pull: -o */
	const char *digest_file;        /* push: --digest-file */
	int json;
};

/* --platform: a bad one is a usage error of this command. */
static int opt_platform(const char *cmd, const char *arg, void *value)
{
	struct copy_args *a = value;
	struct dk_err err = { 0 };

	if (dk_platform_parse(arg, &a->plat, &err) < 0) {
		cli_usage(cmd, "%s", err.msg);
		return -1;
	}
	a->has_plat = 1;
	return 0;
}

/*
 * The command line both commands share; own is the option only this one
 * takes (-o or --digest-file).  Returns -1 to go on, else the exit status.
 */
static int parse_copy(const struct cli_command *cmd, const struct cli_option *own, int argc, char **argv,
		      struct copy_args *a)
{
	int quiet = 0, verbose = 0, rc;
	struct cli_option options[] = {
		*own,
		CLI_CALL(0, "platform", a, "OS/ARCH[/VARIANT]",
			 "copy only this platform's image of a multi-platform index (default: every platform)",
			 opt_platform),
		CLI_FLAG(0, "json", &a->json, "list every blob and what happened to it"),
		CLI_VERBOSITY(&quiet, &verbose),
		CLI_GROUP(cli_registry_options, &a->o, "registry flags"),
		CLI_END,
	};

	memset(a, 0, sizeof(*a));
	cli_transport_defaults(&a->o);
	if ((rc = cli_parse(cmd, options, argc, argv)) >= 0)
		return rc;
	cli_set_verbosity(quiet, verbose);
	if (quiet || a->json)
		a->o.progress = 0;
	return -1;
}

int cmd_pull(int argc, char **argv)
{
	struct copy_args a;
	const struct cli_option output = {
		.type = CLI_T_STRING, .short_name = 'o', .long_name = "output", .arg = "oci:DIR[:TAG]",
		.flags = CLI_REQUIRED, .help = "where to save it", .value = &a.out,
	};
	int rc = parse_copy(&pull_cmd, &output, argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("pull", "expected exactly one REF");
	if (!a.out)
		return cli_usage("pull", "missing -o oci:DIR[:TAG]");
	return run_copy("pull", argv[optind], a.out, a.has_plat ? &a.plat : NULL, &a.o, a.json, NULL);
}

int cmd_push(int argc, char **argv)
{
	struct copy_args a;
	const struct cli_option digest_file = CLI_STRING(0, "digest-file", &a.digest_file, "FILE",
							  "write DEST@sha256:... to FILE");
	int rc = parse_copy(&push_cmd, &digest_file, argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (argc - optind != 2)
		return cli_usage("push", "expected SRC and DEST");
	return run_copy("push", argv[optind], argv[optind + 1], a.has_plat ? &a.plat : NULL, &a.o, a.json,
			a.digest_file);
}
