/*
 * opts.c - the registry flags shared by build, pull, push and inspect.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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

int cli_transport_opt(const char *cmd, int c, const char *arg, struct dk_transport_opts *o)
{
	char *end;
	long n;

	switch (c - CLI_OPT_BASE) {
	case 0:
		if (!strchr(arg, ':'))
			{
			cli_usage(cmd, "--creds: expected USER:PASSWORD");
			return -1;
		}
		o->reg.creds.creds = arg;
		return 1;
	case 1:
		o->reg.creds.authfile = arg;
		return 1;
	case 2:
		if (!arg || !strcmp(arg, "true"))
			o->reg.tls_verify = 1;
		else if (!strcmp(arg, "false"))
			o->reg.tls_verify = 0;
		else
			{
			cli_usage(cmd, "--tls-verify=%s: expected true or false", arg);
			return -1;
		}
		return 1;
	case 3:
		o->reg.cert_dir = arg;
		return 1;
	case 4:
		o->cache_dir = arg;
		return 1;
	case 5:
		n = strtol(arg, &end, 10);
		if (*end || n < 1 || n > 64)
			{
			cli_usage(cmd, "--jobs %s: expected 1 to 64", arg);
			return -1;
		}
		o->jobs = (int)n;
		o->jobs_set = 1;
		return 1;
	case 6:
		if (cli_parse_size(arg, &o->chunk_size) < 0 || o->chunk_size < 1024)
			{
			cli_usage(cmd, "--chunk-size %s: expected a size of at least 1k (e.g. 16M)", arg);
			return -1;
		}
		return 1;
	case 7:
		n = strtol(arg, &end, 10);
		if (*end || n < 0 || n > 20)
			{
			cli_usage(cmd, "--retries %s: expected 0 to 20", arg);
			return -1;
		}
		o->reg.retries = (int)n;
		return 1;
	}
	return 0;
}
