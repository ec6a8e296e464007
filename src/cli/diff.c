/*
 * diff.c - `derrick diff OLD NEW [--json]`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/diff.h"
#include "derrick/util.h"
#include "cli.h"

static const struct cli_command diff_cmd = {
	.name = "diff",
	.args = "OLD NEW",
	.about = "  OLD, NEW               oci:DIR[:TAG] or docker://[HOST/]REPO[:TAG][@DIGEST]\n\n"
		 "Reads the two manifests and configs only, never a layer.  Layers are matched by\n"
		 "digest; \"download\" is what a host holding OLD must fetch to run NEW.\n",
};

static void print_layers(const char *what, json_t *layers)
{
	json_t *l;
	size_t i;

	json_array_foreach(layers, i, l) {
		const char *same = json_string_value(json_object_get(l, "same_diff_id_as"));

		printf("  %-8s %s %12lld bytes", what, dk_str_or(json_string_value(json_object_get(l, "digest")), "?"),
		       (long long)json_integer_value(json_object_get(l, "size")));
		if (same)
			printf("  (the same tar as %s, compressed otherwise)", same);
		printf("\n");
	}
}

/* A JSON value in one line ("(unset)" for null). */
static void print_value(json_t *v)
{
	char *s = json_is_null(v) || !v ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	printf("%s", s ? s : "(unset)");
	free(s);
}

static void print_config(json_t *c)
{
	const char *name, *k;
	json_t *d, *v;
	size_t i;

	if (!json_object_size(c)) {
		printf("config: no changes\n");
		return;
	}
	printf("config:\n");
	json_object_foreach(c, name, d) {
		if (json_object_get(d, "changed")) {
			json_object_foreach(json_object_get(d, "added"), k, v)
				printf("  %s +%s=%s\n", name, k, dk_str_or(json_string_value(v), ""));
			json_object_foreach(json_object_get(d, "removed"), k, v)
				printf("  %s -%s=%s\n", name, k, dk_str_or(json_string_value(v), ""));
			json_object_foreach(json_object_get(d, "changed"), k, v) {
				printf("  %s %s: ", name, k);
				print_value(json_object_get(v, "old"));
				printf(" -> ");
				print_value(json_object_get(v, "new"));
				printf("\n");
			}
		} else if (json_is_array(json_object_get(d, "added"))) {
			json_array_foreach(json_object_get(d, "added"), i, v)
				printf("  %s +%s\n", name, dk_str_or(json_string_value(v), ""));
			json_array_foreach(json_object_get(d, "removed"), i, v)
				printf("  %s -%s\n", name, dk_str_or(json_string_value(v), ""));
		} else {
			printf("  %s: ", name);
			print_value(json_object_get(d, "old"));
			printf(" -> ");
			print_value(json_object_get(d, "new"));
			printf("\n");
		}
	}
}

static void print_text(json_t *doc)
{
	json_t *layers = json_object_get(doc, "layers");
	size_t added = json_array_size(json_object_get(layers, "added"));
	size_t total = added + json_array_size(json_object_get(layers, "shared"));

	printf("old: %s %s\n", json_string_value(json_object_get(json_object_get(doc, "old"), "image")),
	       json_string_value(json_object_get(json_object_get(doc, "old"), "manifest_digest")));
	printf("new: %s %s\n", json_string_value(json_object_get(json_object_get(doc, "new"), "image")),
	       json_string_value(json_object_get(json_object_get(doc, "new"), "manifest_digest")));
	printf("layers:\n");
	print_layers("shared", json_object_get(layers, "shared"));
	print_layers("added", json_object_get(layers, "added"));
	print_layers("removed", json_object_get(layers, "removed"));
	printf("download: %lld bytes (%zu of %zu layers); already there: %lld bytes\n",
	       (long long)json_integer_value(json_object_get(doc, "download_bytes")), added, total,
	       (long long)json_integer_value(json_object_get(doc, "saved_bytes")));
	print_config(json_object_get(doc, "config"));
}

int cmd_diff(int argc, char **argv)
{
	struct dk_transport_opts o;
	struct dk_platform plat;
	struct dk_err err = { 0 };
	json_t *doc;
	int json = 0, rc;
	struct cli_option options[] = {
		CLI_CALL(0, "platform", &plat, "OS/ARCH[/VARIANT]",
			 "which image of a multi-platform index (default: this machine's)", cli_opt_platform),
		CLI_FLAG(0, "json", &json, "print the comparison as JSON"),
		CLI_GROUP(cli_registry_options, &o, "registry flags"),
		CLI_END,
	};

	dk_platform_host(&plat);
	cli_transport_defaults(&o);
	o.progress = 0;
	if ((rc = cli_parse(&diff_cmd, options, argc, argv)) >= 0)
		return rc;
	if (argc - optind != 2)
		return cli_usage("diff", "expected OLD and NEW");
	if (dk_diff(argv[optind], argv[optind + 1], &plat, &o, &doc, &err) < 0)
		return cli_error(&err);
	if (json)
		cli_print_json(doc);
	else
		print_text(doc);
	json_decref(doc);
	return 0;
}
