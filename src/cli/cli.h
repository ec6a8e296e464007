/*
 * cli.h - what the subcommands share: one entry point each (git's
 * builtin shape) and the few helpers for printing results and errors.
 */
#ifndef DERRICK_CLI_H
#define DERRICK_CLI_H

#include "derrick/err.h"

/* Exit statuses: 0 done, 1 failed, 2 the command line was wrong. */
#define EXIT_FAIL 1
#define EXIT_USAGE 2

int cmd_build(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

/* Print "derrick: error: MSG" and return the exit status for err's code. */
int cli_error(const struct dk_err *err);
/* Print a usage error and return EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Apply -q / -v. */
void cli_set_verbosity(int quiet, int verbose);

#endif
