/*
 * inspect.c - `derrick inspect IMAGE [--json]`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/inspect.h"
#include "derrick/util.h"
#include "cli.h"

static const struct cli_command inspect_cmd = {
	.name = "inspect",
	.args = "IMAGE",
	.about = "  IMAGE                  oci:DIR[:TAG] or docker://[HOST/]REPO[:TAG][@DIGEST],\n"
		 "                         oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME:TAG]\n",
};

/* --platform: a bad one is "derrick: error: ...", as inspect always said. */
static int opt_platform(const char *cmd, const char *arg, void *value)
{
	const struct dk_platform **want = value;
	static struct dk_platform plat;
	struct dk_err err = { 0 };

	(void)cmd;
	if (dk_platform_parse(arg, &plat, &err) < 0) {
		err.code = DK_E_USAGE;
		cli_error(&err);
		return -1;
	}
	*want = &plat;
	return 0;
}

/* A string field for the text form: what a document lacks (JSON null, a non-string) shows as "(none)". */
static const char *str(json_t *o, const char *key)
{
	return dk_str_or(json_string_value(json_object_get(o, key)), "(none)");
}

static void print_kv_object(const char *title, const char *indent, json_t *o)
{
	const char *k;
	json_t *v;

	if (title)
		printf("%s:\n", title);
	json_object_foreach(o, k, v)
		printf("%s%s=%s\n", indent, k, dk_str_or(json_string_value(v), ""));
}

static void print_argv(const char *title, json_t *a)
{
	size_t i;
	json_t *v;

	printf("%-13s", title);
	if (!json_is_array(a) || !json_array_size(a)) {
		printf(" (none)\n");
		return;
	}
	json_array_foreach(a, i, v)
		printf(" %s", dk_str_or(json_string_value(v), "(not a string)"));
	printf("\n");
}

/* "DIGEST (MEDIA TYPE, N bytes)" */
static void print_desc(const char *title, json_t *d)
{
	if (!json_is_object(d)) {
		printf("%-13s(none)\n", title);
		return;
	}
	printf("%-13s%s (%s, %lld bytes)\n", title, str(d, "digest"), str(d, "media_type"),
	       (long long)json_integer_value(json_object_get(d, "size")));
}

static void print_image(json_t *d)
{
	json_t *p = json_object_get(d, "platform"), *layers = json_object_get(d, "layers"), *l, *v;
	size_t i;

	printf("platform:    %s/%s%s%s\n", str(p, "os"), str(p, "architecture"),
	       json_string_value(json_object_get(p, "variant")) ? "/" : "",
	       dk_str_or(json_string_value(json_object_get(p, "variant")), ""));
	printf("config:      %s\n", str(d, "config_digest"));
	printf("created:     %s\n", str(d, "created"));
	printf("layers:\n");
	json_array_foreach(layers, i, l) {
		printf("  %s  %10lld bytes\n", str(l, "digest"), (long long)json_integer_value(json_object_get(l, "size")));
		printf("    diff_id    %s\n", str(l, "diff_id"));
		printf("    created_by %s\n", str(l, "created_by"));
	}
	print_kv_object("labels", "  ", json_object_get(d, "labels"));
	printf("env:\n");
	json_array_foreach(json_object_get(d, "env"), i, v)
		printf("  %s\n", dk_str_or(json_string_value(v), "(not a string)"));
	print_argv("entrypoint:", json_object_get(d, "entrypoint"));
	print_argv("cmd:", json_object_get(d, "cmd"));
}

static void print_artifact(json_t *d)
{
	json_t *b;
	size_t i;

	printf("artifact:    %s\n", str(d, "artifact_type"));
	print_desc("config:", json_object_get(d, "config"));
	print_desc("subject:", json_object_get(d, "subject"));
	printf("blobs:\n");
	json_array_foreach(json_object_get(d, "blobs"), i, b) {
		printf("  %s  %10lld bytes  %s\n", str(b, "digest"),
		       (long long)json_integer_value(json_object_get(b, "size")), str(b, "media_type"));
		print_kv_object(NULL, "    ", json_object_get(b, "annotations"));
	}
}

/* Each entry of an index: its platform ("(none)" when it names none), digest and size. */
static void print_index(json_t *d)
{
	json_t *m;
	size_t i;

	printf("platforms:\n");
	json_array_foreach(json_object_get(d, "manifests"), i, m) {
		json_t *p = json_object_get(m, "platform");
		const char *v = json_string_value(json_object_get(p, "variant"));
		char plat[200];

		if (json_is_object(p))
			snprintf(plat, sizeof(plat), "%s/%s%s%s", str(p, "os"), str(p, "architecture"), v ? "/" : "",
				 v ? v : "");
		else
			snprintf(plat, sizeof(plat), "(none)");
		printf("  %-16s %s %10lld bytes\n", plat, str(m, "digest"),
		       (long long)json_integer_value(json_object_get(m, "size")));
	}
}

static void print_text(json_t *d)
{
	printf("manifest:    %s (%s)\n", str(d, "manifest_digest"), str(d, "media_type"));
	if (json_object_get(d, "manifests"))
		print_index(d);
	else if (json_object_get(d, "artifact_type"))
		print_artifact(d);
	else
		print_image(d);
	if (json_object_size(json_object_get(d, "annotations")))
		print_kv_object("annotations", "  ", json_object_get(d, "annotations"));
}

int cmd_inspect(int argc, char **argv)
{
	struct dk_transport_opts o;
	const struct dk_platform *plat = NULL;
	struct dk_err err = { 0 };
	json_t *doc;
	int json = 0, rc;
	struct cli_option options[] = {
		CLI_CALL(0, "platform", &plat, "OS/ARCH[/VARIANT]",
			 "which image of a multi-platform index (default: list the index's platforms)", opt_platform),
		CLI_FLAG(0, "json", &json, "print the description as JSON"),
		CLI_GROUP(cli_registry_options, &o, "registry flags"),
		CLI_END,
	};

	cli_transport_defaults(&o);
	o.progress = 0;
	if ((rc = cli_parse(&inspect_cmd, options, argc, argv)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("inspect", "expected exactly one IMAGE");
	if (dk_inspect(argv[optind], plat, &o, &doc, &err) < 0)
		return cli_error(&err);
	if (json)
		cli_print_json(doc);
	else
		print_text(doc);
	json_decref(doc);
	return 0;
}
