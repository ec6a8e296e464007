/*
 * ls.c - `derrick ls IMAGE [--layer N|DIGEST] [--merged] [--json]`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "derrick/ls.h"
#include "derrick/util.h"
#include "cli.h"

static const struct cli_command ls_cmd = {
	.name = "ls",
	.args = "IMAGE",
	.about = "  IMAGE                  oci:DIR[:TAG] or docker://[HOST/]REPO[:TAG][@DIGEST]\n\n"
		 "One line per entry: type (f d l h c b p s), mode, uid:gid, size, path, and a\n"
		 "link's target.  Without --layer, every layer in turn.\n",
};

static void print_entries(json_t *entries)
{
	json_t *e;
	size_t i;

	json_array_foreach(entries, i, e) {
		const char *type = dk_str_or(json_string_value(json_object_get(e, "type")), "?");
		const char *link = json_string_value(json_object_get(e, "link"));

		char letter = dk_ls_type_letter(type);

		printf("%c %04llo %5lld:%-5lld %10lld %s%s%s\n", letter,
		       (unsigned long long)json_integer_value(json_object_get(e, "mode")),
		       (long long)json_integer_value(json_object_get(e, "uid")),
		       (long long)json_integer_value(json_object_get(e, "gid")),
		       (long long)json_integer_value(json_object_get(e, "size")),
		       dk_str_or(json_string_value(json_object_get(e, "path")), "?"),
		       link ? (letter == 'h' ? " link to " : " -> ") : "", link ? link : "");
	}
}

int cmd_ls(int argc, char **argv)
{
	struct dk_transport_opts o;
	struct dk_platform plat;
	struct dk_ls_opts lo = { NULL, 0 };
	struct dk_err err = { 0 };
	json_t *doc, *l;
	size_t i;
	int json = 0, rc;
	struct cli_option options[] = {
		CLI_STRING(0, "layer", &lo.layer, "N|DIGEST",
			   "one layer: its number (from 0) or its digest or diff_id\n(a unique prefix will do)"),
		CLI_FLAG(0, "merged", &lo.merged, "the image's final filesystem, whiteouts applied\n"
			 "(with --layer: as that layer leaves it)"),
		CLI_CALL(0, "platform", &plat, "OS/ARCH[/VARIANT]",
			 "which image of a multi-platform index (default: this machine's)", cli_opt_platform),
		CLI_FLAG(0, "json", &json, "print the entries as JSON"),
		CLI_GROUP(cli_registry_options, &o, "registry flags"),
		CLI_END,
	};

	dk_platform_host(&plat);
	cli_transport_defaults(&o);
	o.progress = 0;
	if ((rc = cli_parse(&ls_cmd, options, argc, argv)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("ls", "expected exactly one IMAGE");
	if (dk_ls(argv[optind], &plat, &o, &lo, &doc, &err) < 0)
		return cli_error(&err);
	if (json)
		cli_print_json(doc);
	else if (lo.merged)
		print_entries(json_object_get(doc, "entries"));
	else
		json_array_foreach(json_object_get(doc, "layers"), i, l) {
			if (!lo.layer)
				printf("%slayer %lld %s\n", i ? "\n" : "", (long long)json_integer_value(json_object_get(l, "index")),
				       dk_str_or(json_string_value(json_object_get(l, "digest")), "?"));
			print_entries(json_object_get(l, "entries"));
		}
	json_decref(doc);
	return 0;
}
