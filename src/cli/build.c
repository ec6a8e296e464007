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
#include "derrick/rcache.h"
#include "derrick/util.h"
#include "cli.h"

static const char usage_text[] =
	"usage: derrick build [-f derrick.json] [--target STAGE] [--version V | --version-from-git]\n"
	"                     [--platform OS/ARCH[/VARIANT]] [--gzip-level N] [--json] [-q] [-v]\n"
	"                     -o DEST [-o DEST ...]\n"
	"\n"
	"  -f, --file FILE        build spec (default: ./derrick.json)\n"
	"      --target STAGE     stop after this stage\n"
	"      --version V        set ${VERSION} and the org.opencontainers.image.version label\n"
	"      --version-from-git the version from `git describe --tags --always --dirty`\n"
	"      --platform P       os/arch[/variant] of the image (default: this machine's)\n"
	"      --compression C    gzip (default) or zstd; overrides the spec's \"compression\"\n"
	"      --compression-level N  gzip 1-9 (default 6), zstd 1-19 (default 3); --gzip-level is the same\n"
	"      --jobs N           compression threads and blobs transferred at once\n"
	"                         (default: one thread per core, 4 transfers)\n"
	"      --no-cache         neither use nor fill the build caches\n"
	"      --cache-repo REF   keep a build cache in this registry repository (docker://HOST/REPO)\n"
	"      --cache-mode MODE  read, write or readwrite (default) for --cache-repo\n"
	"      --cache-verify     download every registry cache hit and check its diff_id\n"
	"  -o, --output DEST      where to save the image: oci:DIR[:TAG] or docker://REF (repeatable)\n"
	"      --json             print a machine-readable summary on stdout\n"
	"      --digest-file FILE write DEST@sha256:... for every output to FILE\n"
	"  -q, --quiet            no warnings or progress\n"
	"  -v, --verbose          say what is being done\n"
	CLI_REGISTRY_HELP
	"\n"
	"SOURCE_DATE_EPOCH (seconds) sets every timestamp in the image; default 0.\n";

/* SOURCE_DATE_EPOCH: unset means 0; anything but a plain non-negative integer is refused. */
static int epoch_from_env(int64_t *out, struct dk_err *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	*out = 0;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0 || v > 253402300799LL)
		return dk_fail(err, DK_E_USAGE, "SOURCE_DATE_EPOCH=\"%s\": expected seconds since 1970 (a non-negative integer)", s);
	*out = v;
	return 0;
}

static void print_json(const struct dk_build_result *r, const struct dk_build_opts *o)
{
	json_t *doc = json_object(), *layers = json_array(), *outs = json_array();
	char *s;

	json_object_set_new(doc, "manifest_digest", json_string(r->manifest.digest));
	json_object_set_new(doc, "manifest_size", json_integer((json_int_t)r->manifest.size));
	json_object_set_new(doc, "config_digest", json_string(r->config.digest));
	json_object_set_new(doc, "platform", json_string(r->platform));
	json_object_set_new(doc, "compressed_layers", json_integer((json_int_t)r->compressed));
	json_object_set_new(doc, "version", r->version ? json_string(r->version) : json_null());
	if (r->revision)
		json_object_set_new(doc, "revision", json_string(r->revision));
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
	json_object_set_new(doc, "layers", layers);
	for (size_t i = 0; i < o->n_outputs; i++)
		json_array_append_new(outs, json_string(o->outputs[i]));
	json_object_set_new(doc, "outputs", outs);
	s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	puts(s);
	free(s);
	json_decref(doc);
}

static void print_text(const struct dk_build_result *r, const struct dk_build_opts *o)
{
	for (size_t i = 0; i < r->n_layers; i++)
		printf("layer %-14s %s %10llu  cache: %-5s  %s\n", r->layers[i].stage, r->layers[i].desc.digest,
		       (unsigned long long)r->layers[i].desc.size, r->layers[i].cache ? r->layers[i].cache : "base",
		       r->layers[i].created_by);
	printf("config               %s\n", r->config.digest);
	printf("manifest             %s\n", r->manifest.digest);
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

int cmd_build(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "target", required_argument, NULL, 't' },
		{ "version", required_argument, NULL, 'V' },
		{ "version-from-git", no_argument, NULL, 'G' },
		{ "platform", required_argument, NULL, 'p' },
		{ "gzip-level", required_argument, NULL, 'z' },
		{ "compression-level", required_argument, NULL, 'z' },
		{ "compression", required_argument, NULL, 'c' },
		{ "no-cache", no_argument, NULL, 'N' },
		{ "cache-repo", required_argument, NULL, 'R' },
		{ "cache-mode", required_argument, NULL, 'M' },
		{ "cache-verify", no_argument, NULL, 'C' },
		{ "digest-file", required_argument, NULL, 'D' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		CLI_REGISTRY_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct dk_build_opts o;
	struct dk_build_result res;
	struct dk_err err = { 0 };
	const char **outputs = dk_xcalloc((size_t)argc + 1, sizeof(char *));
	const char *platform = NULL, *digest_file = NULL;
	int json = 0, quiet = 0, verbose = 0, c, rc;

	memset(&o, 0, sizeof(o));
	o.spec_path = "derrick.json";
	o.compress.kind = dk_compressor_default();
	o.compress.level = 0;           /* the kind's default, decided once the spec is read */
	o.outputs = outputs;
	cli_transport_defaults(&o.transport);
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o.spec_path = optarg; break;
		case 't': o.plan.target = optarg; break;
		case 'V': o.plan.version = optarg; break;
		case 'G': o.plan.version_from_git = 1; break;
		case 'p': platform = optarg; break;
		case 'z': {
			char *end;
			long l = strtol(optarg, &end, 10);

			if (*end || l < 1 || l > 19) {
				rc = cli_usage("build", "--compression-level %s: expected 1 to 9 (gzip) or 19 (zstd)", optarg);
				goto out;
			}
			o.compress.level = (int)l;
			break;
		}
		case 'c':
			o.compress.kind = dk_compressor_by_name(optarg);
			if (!o.compress.kind) {
				char *names = dk_compressor_names("");

				rc = cli_usage("build", "--compression %s: expected %s", optarg, names);
				free(names);
				goto out;
			}
			o.compress_kind_set = 1;
			break;
		case 'o': outputs[o.n_outputs++] = optarg; break;
		case 'j': json = 1; break;
		case 'N': o.no_cache = 1; break;
		case 'R': o.cache_repo = optarg; break;
		case 'C': o.cache_verify = 1; break;
		case 'D': digest_file = optarg; break;
		case 'M':
			if (!strcmp(optarg, "read"))
				o.cache_mode = DK_RCACHE_READ;
			else if (!strcmp(optarg, "write"))
				o.cache_mode = DK_RCACHE_WRITE;
			else if (!strcmp(optarg, "readwrite"))
				o.cache_mode = DK_RCACHE_READ | DK_RCACHE_WRITE;
			else {
				rc = cli_usage("build", "--cache-mode %s: expected read, write or readwrite", optarg);
				goto out;
			}
			break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case 'h': fputs(usage_text, stdout); rc = 0; goto out;
		default:
			rc = cli_transport_opt("build", c, optarg, &o.transport);
			if (rc <= 0) {
				if (rc == 0)
					fputs(usage_text, stderr);
				rc = EXIT_USAGE;
				goto out;
			}
		}
	}
	if (optind < argc) {
		rc = cli_usage("build", "unexpected argument \"%s\"", argv[optind]);
		goto out;
	}
	cli_set_verbosity(quiet, verbose);
	if (quiet || json)
		o.transport.progress = 0;
	/* --jobs given: the same for compression; else one thread per core */
	o.compress.threads = o.transport.jobs_set ? o.transport.jobs : 0;
	if (o.compress.level > o.compress.kind->max_level) {
		rc = cli_usage("build", "--compression-level %d: %s levels are %d to %d", o.compress.level,
			       o.compress.kind->name, o.compress.kind->min_level, o.compress.kind->max_level);
		goto out;
	}
	if (platform) {
		if (dk_platform_parse(platform, &o.plan.platform, &err) < 0) {
			err.code = DK_E_USAGE;
			rc = cli_error(&err);
			goto out;
		}
	} else {
		dk_platform_host(&o.plan.platform);
	}
	if (epoch_from_env(&o.plan.epoch, &err) < 0 || dk_build(&o, &res, &err) < 0) {
		rc = cli_error(&err);
		goto out;
	}
	rc = 0;
	if (digest_file && write_digests(digest_file, &res, &o, &err) < 0)
		rc = cli_error(&err);
	if (json)
		print_json(&res, &o);
	else if (!quiet)
		print_text(&res, &o);
	dk_build_result_free(&res);
out:
	free(outputs);
	return rc;
}
