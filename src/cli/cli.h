/*
 * cli.h - what the subcommands share: one entry point each (git's
 * builtin shape), the option tables their parsing and help are made
 * from, and the few helpers for printing results and errors.
 */
#ifndef DERRICK_CLI_H
#define DERRICK_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "derrick/err.h"
#include "derrick/transport.h"

struct json_t;

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
int cmd_diff(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_lock(int argc, char **argv);

/* A number macro as a string literal, for the help texts. */
#define CLI_STR(x) CLI_STR_(x)
#define CLI_STR_(x) #x

/* "16M", "512k", "1G" or plain bytes. */
int cli_parse_size(const char *s, uint64_t *out);
/* A decimal integer from min to max into *out; -1 (and *out untouched) when s is not one. */
int cli_parse_int(const char *s, long min, long max, int *out);

/*
 * Command-line options, git's parse-options in small: a command describes
 * each option once, in a table of struct cli_option, and both the parser
 * (getopt_long's arrays) and the --help text (synopsis and option list)
 * are made from that table, so they cannot disagree.
 */
enum cli_opt_type {
	CLI_T_END,              /* ends a table */
	CLI_T_FLAG,             /* no argument: sets *(int *)value to 1 */
	CLI_T_STRING,           /* sets *(const char **)value to the argument (argv keeps it) */
	CLI_T_CALL,             /* calls fn(cmd, arg, value) */
	CLI_T_ALIAS,            /* another name for the option whose long name is in help */
	CLI_T_GROUP,            /* the options of table group (CLI_T_CALL rows), each called with this
				 * value; help is the group's title */
};

/* CLI_T_CALL: 0, or -1 after printing a usage error (the command then exits with EXIT_USAGE). */
typedef int cli_opt_fn(const char *cmd, const char *arg, void *value);

#define CLI_OPTARG 1u           /* the argument is optional: --name or --name=ARG */
#define CLI_REQUIRED 2u         /* the synopsis shows it without brackets (the command checks) */
#define CLI_REPEAT 4u           /* the synopsis shows that it may be given more than once */

struct cli_option {
	enum cli_opt_type type;
	int short_name;                 /* a letter, or 0 */
	const char *long_name;
	const char *arg;                /* the argument's name in the help; NULL: the option takes none */
	unsigned flags;                 /* CLI_OPTARG | CLI_REQUIRED | CLI_REPEAT */
	const char *help;               /* a '\n' starts a continuation line */
	void *value;
	cli_opt_fn *fn;
	const struct cli_option *group;
};

#define CLI_FLAG(s, l, v, h) { .type = CLI_T_FLAG, .short_name = (s), .long_name = (l), .help = (h), .value = (v) }
#define CLI_STRING(s, l, v, a, h) \
	{ .type = CLI_T_STRING, .short_name = (s), .long_name = (l), .arg = (a), .help = (h), .value = (v) }
#define CLI_CALL(s, l, v, a, h, f) \
	{ .type = CLI_T_CALL, .short_name = (s), .long_name = (l), .arg = (a), .help = (h), .value = (v), .fn = (f) }
#define CLI_ALIAS(l, target) { .type = CLI_T_ALIAS, .long_name = (l), .help = (target) }
#define CLI_GROUP(table, v, title) { .type = CLI_T_GROUP, .help = (title), .value = (v), .group = (table) }
#define CLI_END { .type = CLI_T_END }

/* -q and -v, the same for every command that takes them (see cli_set_verbosity). */
#define CLI_VERBOSITY(quiet, verbose) \
	CLI_FLAG('q', "quiet", (quiet), "no warnings, progress or summary"), \
	CLI_FLAG('v', "verbose", (verbose), "say what is being done")

/*
 * The registry flags every command that reaches a registry takes, the same
 * way everywhere: CLI_GROUP(cli_registry_options, &transport_opts, title).
 */
extern const struct cli_option cli_registry_options[];

/* What a command's help says besides its options. */
struct cli_command {
	const char *name;               /* "build", "cache prune": its words come first in argv */
	const char *args;               /* the positional arguments in the synopsis ("SRC DEST"), or NULL */
	const char *about;              /* text between the synopsis and the options, or NULL */
	const char *footer;             /* text after the options, or NULL */
};

/*
 * Parse the options in argv (after the command's own words) with the
 * table opts; -h and --help are added.  Returns -1 to go on, optind then
 * at the first positional argument, else the exit status: 0 after
 * printing the help, EXIT_USAGE after a usage error (already printed).
 */
int cli_parse(const struct cli_command *cmd, const struct cli_option *opts, int argc, char **argv);
/* Print the synopsis and option list made from opts. */
void cli_help(const struct cli_command *cmd, const struct cli_option *opts, FILE *f);

/* --platform OS/ARCH[/VARIANT] into the struct dk_platform at value (a cli_opt_fn). */
int cli_opt_platform(const char *cmd, const char *arg, void *value);
/*
 * --platform of build and lock: "linux/amd64" or a comma-separated list
 * into *out (new, owned by the caller) and o's platform fields (one: only
 * o->plan.platform).  0, or -1 with err set.
 */
struct dk_build_opts;
int cli_parse_platforms(const char *arg, struct dk_build_opts *o, struct dk_platform **out, struct dk_err *err);

/* Print a --json document on stdout, indented, keys in their order. */
void cli_print_json(struct json_t *doc);

/* Defaults for the registry flags. */
void cli_transport_defaults(struct dk_transport_opts *o);

/* Print "derrick: error: MSG" and return the exit status for err's code. */
int cli_error(const struct dk_err *err);
/* Print a usage error and return EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Apply -q / -v. */
void cli_set_verbosity(int quiet, int verbose);

#endif
