/*
 * main.c - dispatch `derrick COMMAND ...` to its cmd_* function.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/log.h"
#include "derrick/util.h"
#include "cli.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{ "build", cmd_build, "assemble an image from a build spec" },
	{ "inspect", cmd_inspect, "describe an image (layers, digests, config)" },
	{ "diff", cmd_diff, "compare two images: shared and new layers, download size, config" },
	{ "ls", cmd_ls, "list a layer's entries, or the image's final filesystem" },
	{ "verify", cmd_verify, "check every blob's digest, size and media type, and every diff_id" },
	{ "pull", cmd_pull, "copy an image from a registry into an OCI layout" },
	{ "push", cmd_push, "copy an image between transports (e.g. a layout to a registry)" },
	{ "login", cmd_login, "check and store credentials for a registry" },
	{ "logout", cmd_logout, "remove stored credentials for a registry" },
	{ "lock", cmd_lock, "resolve a debs layer's packages into its lock file" },
	{ "cache", cmd_cache, "manage the build and blob cache (cache prune)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: derrick COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n`derrick COMMAND --help` describes a command; man derrick has it all.\n");
}

int cli_error(const struct dk_err *err)
{
	fprintf(stderr, "derrick: error: %s\n", err->msg);
	return err->code == DK_E_USAGE ? EXIT_USAGE : EXIT_FAIL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "derrick %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see derrick %s --help)\n", cmd);
	return EXIT_USAGE;
}

void cli_set_verbosity(int quiet, int verbose)
{
	if (quiet)
		dk_log_set_level(DK_LOG_QUIET);
	else if (verbose)
		dk_log_set_level(DK_LOG_VERBOSE);
}

/* The library leaves running out of memory to us: say so, and abort (a core to look at). */
static void out_of_memory(const char *what)
{
	fprintf(stderr, "derrick: out of memory%s%s%s\n", what ? " (" : "", what ? what : "", what ? ")" : "");
	abort();
}

int main(int argc, char **argv)
{
	dk_set_oom_handler(out_of_memory);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("derrick %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "derrick: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
