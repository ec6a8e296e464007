/*
 * cli.h - what the subcommands share: one entry point each (git's
 * builtin shape) and the few helpers for printing results and errors.
 */
#ifndef DERRICK_CLI_H
#define DERRICK_CLI_H

#include <getopt.h>

#include "derrick/err.h"
#include "derrick/transport.h"

/* Exit statuses: 0 done, 1 failed, 2 the command line was wrong. */
#define EXIT_FAIL 1
#define EXIT_USAGE 2

int cmd_build(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_cache(int argc, char **argv);

/* "16M", "512k", "1G" or plain bytes. */
int cli_parse_size(const char *s, uint64_t *out);

/*
 * The flags every command that reaches a registry takes, the same way
 * everywhere: --creds, --authfile, --tls-verify, --cert-dir, --cache-dir,
 * --jobs, --chunk-size, --retries.  Their option codes start at
 * CLI_OPT_BASE; a command appends CLI_REGISTRY_OPTIONS to its table.
 */
#define CLI_OPT_BASE 1000
#define CLI_REGISTRY_OPTIONS \
	{ "creds", required_argument, NULL, CLI_OPT_BASE + 0 }, \
	{ "authfile", required_argument, NULL, CLI_OPT_BASE + 1 }, \
	{ "tls-verify", optional_argument, NULL, CLI_OPT_BASE + 2 }, \
	{ "cert-dir", required_argument, NULL, CLI_OPT_BASE + 3 }, \
	{ "cache-dir", required_argument, NULL, CLI_OPT_BASE + 4 }, \
	{ "jobs", required_argument, NULL, CLI_OPT_BASE + 5 }, \
	{ "chunk-size", required_argument, NULL, CLI_OPT_BASE + 6 }, \
	{ "retries", required_argument, NULL, CLI_OPT_BASE + 7 }
#define CLI_REGISTRY_HELP \
	"      --creds USER:PASS  credentials for the registry (else: auth files, see README)\n" \
	"      --authfile FILE    the auth file to read credentials from\n" \
	"      --tls-verify=false skip certificate checks and allow plain HTTP\n" \
	"      --cert-dir DIR     CA certificates (*.crt) and client pairs (*.cert, *.key)\n" \
	"      --cache-dir DIR    blob cache (default: $XDG_CACHE_HOME/derrick)\n" \
	"      --jobs N           blobs transferred at once (default: 4)\n" \
	"      --chunk-size SIZE  upload blobs larger than SIZE in chunks of SIZE (default: 16M)\n" \
	"      --retries N        retries for connection errors, 429 and 5xx (default: " \
	CLI_STR(DK_RETRIES_DEFAULT) ")\n"
/* A number macro as a string literal, for the help texts. */
#define CLI_STR(x) CLI_STR_(x)
#define CLI_STR_(x) #x

/* Defaults for the registry flags. */
void cli_transport_defaults(struct dk_transport_opts *o);
/* Handle one registry flag: 1 when it was one, 0 when not, -1 after printing a usage error. */
int cli_transport_opt(const char *cmd, int c, const char *arg, struct dk_transport_opts *o);

/* Print "derrick: error: MSG" and return the exit status for err's code. */
int cli_error(const struct dk_err *err);
/* Print a usage error and return EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Apply -q / -v. */
void cli_set_verbosity(int quiet, int verbose);

#endif
