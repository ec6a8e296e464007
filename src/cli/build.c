/*
 * build.c - `derrick build`: parse flags, call dk_build, print the result.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/build.h"
#include "derrick/image.h"
#include "derrick/log.h"
#include "derrick/rcache.h"
#include "derrick/util.h"
#include "cli.h"

static const struct cli_command build_cmd = {
	.name = "build",
	.footer = "Every timestamp in the image (created, history, file mtimes) is --created, else\n"
		  "SOURCE_DATE_EPOCH (seconds), else the spec's git repository's last commit time,\n"
		  "else 0.\n",
};

static int opt_compression_level(const char *cmd, const char *arg, void *value)
{
	struct dk_build_opts *o = value;

	if (cli_parse_int(arg, 1, 19, &o->compress.level) < 0) {
		cli_usage(cmd, "--compression-level %s: expected 1 to 9 (gzip) or 19 (zstd)", arg);
		return -1;
	}
	return 0;
}

static int opt_compression(const char *cmd, const char *arg, void *value)
{
	struct dk_build_opts *o = value;
	char *names;

	o->compress.kind = dk_compressor_by_name(arg);
	if (o->compress.kind) {
		o->compress_kind_set = 1;
		return 0;
	}
	names = dk_compressor_names("");
	cli_usage(cmd, "--compression %s: expected %s", arg, names);
	free(names);
	return -1;
	return 0;
}

static int opt_cache_mode(const char *cmd, const char *arg, void *value)
{
	int *mode = value;

	if (!strcmp(arg, "read"))
		*mode = DK_RCACHE_READ;
	else if (!strcmp(arg, "write"))
		*mode = DK_RCACHE_WRITE;
	else if (!strcmp(arg, "readwrite"))
		*mode = DK_RCACHE_READ | DK_RCACHE_WRITE;
	else {
		cli_usage(cmd, "--cache-mode %s: expected read, write or readwrite", arg);
		return -1;
	}
	return 0;
}

/* -o: the array has room for every argument and stays NULL-terminated. */
static int opt_output(const char *cmd, const char *arg, void *value)
{
	const char **outputs = value;

	(void)cmd;
	while (*outputs)
		outputs++;
	*outputs = arg;
	return 0;
}

static json_t *layers_json(const struct dk_build_result *r)
{
	json_t *layers = json_array();

	for (size_t i = 0; i < r->n_layers; i++) {
		json_t *l = json_object();

		json_object_set_new(l, "stage", json_string(r->layers[i].stage));
		json_object_set_new(l, "digest", json_string(r->layers[i].desc.digest));
		json_object_set_new(l, "diff_id", json_string(r->layers[i].diff_id));
		json_object_set_new(l, "size", json_integer((json_int_t)r->layers[i].desc.size));
		json_object_set_new(l, "media_type", json_string(r->layers[i].desc.media_type));
		json_object_set_new(l, "created_by", json_string(r->layers[i].created_by));
		json_object_set_new(l, "cache", r->layers[i].cache ? json_string(r->layers[i].cache) : json_null());
		json_array_append_new(layers, l);
	}
	return layers;
}

/*
 * One image: its manifest, config, platform and layers.  Several: the
 * index's digest and size, and under "manifests" each platform's image as
 * one image would be described.
 */
static void print_json(const struct dk_build_result *r, const struct dk_build_opts *o)
{
	json_t *doc = json_object(), *outs = json_array();
	char *s;

	json_object_set_new(doc, "manifest_digest", json_string(r->manifest.digest));
	json_object_set_new(doc, "manifest_size", json_integer((json_int_t)r->manifest.size));
	if (r->n_images)
		json_object_set_new(doc, "media_type", json_string(r->manifest.media_type));
	else
		json_object_set_new(doc, "config_digest", json_string(r->config.digest));
	if (!r->n_images)
		json_object_set_new(doc, "platform", json_string(r->platform));
	json_object_set_new(doc, "compressed_layers", json_integer((json_int_t)r->compressed));
	json_object_set_new(doc, "version", r->version ? json_string(r->version) : json_null());
	if (r->revision)
		json_object_set_new(doc, "revision", json_string(r->revision));
	if (r->n_images) {
		json_t *ms = json_array();

		for (size_t i = 0; i < r->n_images; i++) {
			const struct dk_build_result *im = &r->images[i];
			json_t *m = json_object();

			json_object_set_new(m, "platform", json_string(im->platform));
			json_object_set_new(m, "manifest_digest", json_string(im->manifest.digest));
			json_object_set_new(m, "manifest_size", json_integer((json_int_t)im->manifest.size));
			json_object_set_new(m, "config_digest", json_string(im->config.digest));
			json_object_set_new(m, "layers", layers_json(im));
			json_array_append_new(ms, m);
		}
		json_object_set_new(doc, "manifests", ms);
	} else {
		json_object_set_new(doc, "layers", layers_json(r));
	}
	for (size_t i = 0; i < o->n_outputs; i++)
		json_array_append_new(outs, json_string(o->outputs[i]));
	json_object_set_new(doc, "outputs", outs);
	s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	puts(s);
	free(s);
	json_decref(doc);
}

static void print_image(const struct dk_build_result *r)
{
	for (size_t i = 0; i < r->n_layers; i++)
		printf("layer %-14s %s %10llu  cache: %-5s  %s\n", r->layers[i].stage, r->layers[i].desc.digest,
		       (unsigned long long)r->layers[i].desc.size, r->layers[i].cache ? r->layers[i].cache : "base",
		       r->layers[i].created_by);
	printf("config               %s\n", r->config.digest);
	printf("manifest             %s\n", r->manifest.digest);
}

static void print_text(const struct dk_build_result *r, const struct dk_build_opts *o)
{
	if (!r->n_images)
		print_image(r);
	for (size_t i = 0; i < r->n_images; i++) {
		printf("platform %s\n", r->images[i].platform);
		print_image(&r->images[i]);
	}
	if (r->n_images)
		printf("index                %s\n", r->manifest.digest);
	for (size_t i = 0; i < o->n_outputs; i++)
		printf("wrote %s@%s\n", o->outputs[i], r->manifest.digest);
}

/* One "DEST@sha256:..." line per output, for the jobs that deploy what was built. */
static int write_digests(const char *file, const struct dk_build_result *r, const struct dk_build_opts *o,
			 struct dk_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	for (size_t i = 0; i < o->n_outputs; i++)
		sb_addf(&sb, "%s@%s\n", o->outputs[i], r->manifest.digest);
	rc = dk_write_file_atomic(file, sb.buf, sb.len, 0644, err);
	sb_release(&sb);
	return rc;
}

/*
 * --platform P[,P...]: one platform is plan.platform; several (a new
 * array in *out) make a multi-platform build.
 */

int cmd_build(int argc, char **argv)
{
	struct dk_build_opts o;
	struct dk_build_result res;
	struct dk_err err = { 0 };
	const char **outputs = dk_xcalloc((size_t)argc + 1, sizeof(char *));
	struct dk_platform *platforms = NULL;
	const char *platform = NULL, *digest_file = NULL, *created = NULL, *created_from;
	char *spec_dir;
	const char *own_files[2] = { NULL, NULL };
	int json = 0, quiet = 0, verbose = 0, rc;
	struct cli_option options[] = {
		CLI_STRING('f', "file", &o.spec_path, "FILE", "build spec (default: ./derrick.json)"),
		CLI_STRING(0, "target", &o.plan.target, "STAGE", "stop after this stage"),
		CLI_STRING(0, "version", &o.plan.version, "V",
			   "set ${VERSION} and the org.opencontainers.image.version label"),
		CLI_FLAG(0, "version-from-git", &o.plan.version_from_git,
			 "the version from `git describe --tags --always --dirty`"),
		CLI_STRING(0, "created", &created, "TIME",
			   "every timestamp in the image: RFC 3339 (2024-05-01T12:00:00Z)\nor @SECONDS"),
		CLI_STRING(0, "platform", &platform, "OS/ARCH[/VARIANT][,...]",
			   "the image's platform (default: this machine's); several: an image index over one image each"),
		CLI_CALL(0, "compression", &o, "gzip|zstd", "gzip (default) or zstd; overrides the spec's \"compression\"",
			 opt_compression),
		CLI_CALL(0, "compression-level", &o, "N", "gzip 1-9 (default 6), zstd 1-19 (default 3)",
			 opt_compression_level),
		CLI_ALIAS("gzip-level", "compression-level"),
		CLI_FLAG(0, "no-cache", &o.no_cache, "neither use nor fill the build caches"),
		CLI_STRING(0, "cache-repo", &o.cache_repo, "REF",
			   "keep a build cache in this registry repository (docker://HOST/REPO)"),
		CLI_CALL(0, "cache-mode", &o.cache_mode, "MODE", "read, write or readwrite (default) for --cache-repo",
			 opt_cache_mode),
		CLI_FLAG(0, "cache-verify", &o.cache_verify, "download every registry cache hit and check its diff_id"),
		{ .type = CLI_T_CALL, .short_name = 'o', .long_name = "output", .arg = "DEST",
		  .flags = CLI_REQUIRED | CLI_REPEAT, .value = outputs, .fn = opt_output,
		  .help = "repeatable: oci:DIR[:TAG], docker://REF, oci-archive:FILE, docker-archive:FILE" },
		CLI_FLAG(0, "json", &json, "print a machine-readable summary on stdout"),
		CLI_STRING(0, "digest-file", &digest_file, "FILE", "write DEST@sha256:... for every output to FILE"),
		CLI_VERBOSITY(&quiet, &verbose),
		CLI_GROUP(cli_registry_options, &o.transport, "registry flags"),
		CLI_END,
	};

	memset(&o, 0, sizeof(o));
	o.spec_path = "derrick.json";
	o.compress.kind = dk_compressor_default();
	o.compress.level = 0;           /* the kind's default, decided once the spec is read */
	o.outputs = outputs;
	cli_transport_defaults(&o.transport);
	if ((rc = cli_parse(&build_cmd, options, argc, argv)) >= 0)
		goto out;
	while (outputs[o.n_outputs])
		o.n_outputs++;
	if (optind < argc) {
		rc = cli_usage("build", "unexpected argument \"%s\"", argv[optind]);
		goto out;
	}
	cli_set_verbosity(quiet, verbose);
	/* written after the build, so in a source it would land in the next build's layer */
	own_files[0] = digest_file;
	o.own_files = own_files;
	if (quiet || json)
		o.transport.progress = 0;
	/* --jobs given: the same for compression; else one thread per core */
	o.compress.threads = o.transport.jobs_set ? o.transport.jobs : 0;
	if (platform) {
		if (cli_parse_platforms(platform, &o, &platforms, &err) < 0) {
			err.code = DK_E_USAGE;
			rc = cli_error(&err);
			goto out;
		}
	} else {
		dk_platform_host(&o.plan.platform);
	}
	spec_dir = dk_dirname(o.spec_path);
	rc = dk_created_decide(created, getenv("SOURCE_DATE_EPOCH"), spec_dir, &o.plan.epoch, &created_from, &err);
	free(spec_dir);
	if (rc < 0 || dk_build(&o, &res, &err) < 0) {
		rc = cli_error(&err);
		goto out;
	}
	dk_verbose("timestamps from %s: %lld", created_from, (long long)o.plan.epoch);
	rc = 0;
	if (digest_file && write_digests(digest_file, &res, &o, &err) < 0)
		rc = cli_error(&err);
	if (json)
		print_json(&res, &o);
	else if (!quiet)
		print_text(&res, &o);
	dk_build_result_free(&res);
out:
	free(platforms);
	free(outputs);
	return rc;
}
