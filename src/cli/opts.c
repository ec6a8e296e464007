/*
 * opts.c - the registry flags every command that reaches a registry
 * takes, as one option group (cli.h), and their defaults.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "derrick/platform.h"
#include "derrick/build.h"
#include "derrick/util.h"
#include "cli.h"

void cli_transport_defaults(struct dk_transport_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->reg.tls_verify = 1;
	o->reg.retries = -1;
	o->jobs = 4;
	/* a live line on a terminal, a line per blob otherwise */
	o->progress = isatty(2) ? 2 : 1;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s)
		return -1;
	if (!strcasecmp(end, "k") || !strcasecmp(end, "kb") || !strcasecmp(end, "kib"))
		v <<= 10;
	else if (!strcasecmp(end, "m") || !strcasecmp(end, "mb") || !strcasecmp(end, "mib"))
		v <<= 20;
	else if (!strcasecmp(end, "g") || !strcasecmp(end, "gb") || !strcasecmp(end, "gib"))
		v <<= 30;
	else if (*end)
		return -1;
	*out = v;
	return 0;
}

int cli_parse_int(const char *s, long min, long max, int *out)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*end || n < min || n > max)
		return -1;
	*out = (int)n;
	return 0;
}

void cli_print_json(json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	puts(s);
	free(s);
}

int cli_opt_platform(const char *cmd, const char *arg, void *value)
{
	struct dk_err err = { 0 };

	if (dk_platform_parse(arg, value, &err) < 0) {
		cli_usage(cmd, "%s", err.msg);
		return -1;
	}
	return 0;
}

static int opt_creds(const char *cmd, const char *arg, void *value)
{
	struct dk_transport_opts *o = value;

	if (!strchr(arg, ':')) {
		cli_usage(cmd, "--creds: expected USER:PASSWORD");
		return -1;
	}
	o->reg.creds.creds = arg;
	return 0;
}

static int opt_authfile(const char *cmd, const char *arg, void *value)
{
	(void)cmd;
	((struct dk_transport_opts *)value)->reg.creds.authfile = arg;
	return 0;
}

static int opt_tls_verify(const char *cmd, const char *arg, void *value)
{
	struct dk_transport_opts *o = value;

	if (!arg || !strcmp(arg, "true"))
		o->reg.tls_verify = 1;
	else if (!strcmp(arg, "false"))
		o->reg.tls_verify = 0;
	else {
		cli_usage(cmd, "--tls-verify=%s: expected true or false", arg);
		return -1;
	}
	return 0;
}

static int opt_cert_dir(const char *cmd, const char *arg, void *value)
{
	(void)cmd;
	((struct dk_transport_opts *)value)->reg.cert_dir = arg;
	return 0;
}

static int opt_cache_dir(const char *cmd, const char *arg, void *value)
{
	(void)cmd;
	((struct dk_transport_opts *)value)->cache_dir = arg;
	return 0;
}

static int opt_jobs(const char *cmd, const char *arg, void *value)
{
	struct dk_transport_opts *o = value;

	if (cli_parse_int(arg, 1, 64, &o->jobs) < 0) {
		cli_usage(cmd, "--jobs %s: expected 1 to 64", arg);
		return -1;
	}
	o->jobs_set = 1;
	return 0;
}

static int opt_chunk_size(const char *cmd, const char *arg, void *value)
{
	struct dk_transport_opts *o = value;

	if (cli_parse_size(arg, &o->chunk_size) < 0 || o->chunk_size < 1024) {
		cli_usage(cmd, "--chunk-size %s: expected a size of at least 1k (e.g. 4M)", arg);
		return -1;
	}
	return 0;
}

static int opt_retries(const char *cmd, const char *arg, void *value)
{
	struct dk_transport_opts *o = value;

	if (cli_parse_int(arg, 0, 20, &o->reg.retries) < 0) {
		cli_usage(cmd, "--retries %s: expected 0 to 20", arg);
		return -1;
	}
	return 0;
}

/* Each callback gets the group's struct dk_transport_opts. */
const struct cli_option cli_registry_options[] = {
	CLI_CALL(0, "creds", NULL, "USER:PASS", "credentials for the registry (else: auth files, see README)", opt_creds),
	CLI_CALL(0, "authfile", NULL, "FILE", "the auth file to read credentials from (login: to store them in)",
		 opt_authfile),
	{ .type = CLI_T_CALL, .long_name = "tls-verify", .arg = "BOOL", .flags = CLI_OPTARG,
	  .help = "false: skip certificate checks and allow plain HTTP (default: true)", .fn = opt_tls_verify },
	CLI_CALL(0, "cert-dir", NULL, "DIR", "CA certificates (*.crt) and client pairs (*.cert, *.key)", opt_cert_dir),
	CLI_CALL(0, "cache-dir", NULL, "DIR", "blob and build cache (default: $XDG_CACHE_HOME/derrick)", opt_cache_dir),
	CLI_CALL(0, "jobs", NULL, "N", "blobs transferred at once (default: 4); for build also the\n"
		 "compression threads (default: one per core)", opt_jobs),
	CLI_CALL(0, "chunk-size", NULL, "SIZE", "upload blobs larger than SIZE in chunks of SIZE (default: 4M)",
		 opt_chunk_size),
	CLI_CALL(0, "retries", NULL, "N", "retries for connection errors, 429 and 5xx (default: " CLI_STR(DK_RETRIES_DEFAULT) ")", opt_retries),
	CLI_END,
};

int cli_parse_platforms(const char *arg, struct dk_build_opts *o, struct dk_platform **out, struct dk_err *err)
{
	char *copy = dk_xstrdup(arg), *save = NULL;
	size_t n = 1;
	int rc = 0;

	for (const char *p = arg; *p; p++)
		n += *p == ',';
	*out = dk_xcalloc(n, sizeof(**out));
	o->n_platforms = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save))
		rc = dk_platform_parse(tok, &(*out)[o->n_platforms++], err);
	if (rc == 0 && o->n_platforms != n)
		rc = dk_fail(err, DK_E_USAGE, "--platform \"%s\": an empty platform in the list", arg);
	free(copy);
	if (rc < 0)
		return -1;
	o->plan.platform = (*out)[0];
	if (n == 1)
		o->n_platforms = 0;
	o->platforms = *out;
	return 0;
}
