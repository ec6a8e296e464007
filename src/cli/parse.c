/*
 * parse.c - the one option parser and the one help printer: both read a
 * command's table of struct cli_option (cli.h), so the synopsis, the
 * option list and what getopt_long accepts are the same set.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/util.h"
#include "cli.h"

/* getopt_long's code for an option without a letter: past every letter */
#define LONG_ONLY_BASE 256
/* the column where an option's help starts */
#define HELP_COLUMN 25
/* the synopsis wraps before this many columns */
#define SYNOPSIS_WIDTH 100

/* An option of the table with its groups opened: a group's options take the group's value. */
struct slot {
	const struct cli_option *opt;
	const struct cli_option *group; /* the CLI_T_GROUP row it came from, or NULL */
	void *value;
	size_t target;                  /* an alias: the slot it names; else this slot */
};

struct flat {
	struct slot *slots;
	size_t n;
};

static size_t count_options(const struct cli_option *opts)
{
	size_t n = 0;

	for (; opts->type != CLI_T_END; opts++)
		n += opts->type == CLI_T_GROUP ? count_options(opts->group) : 1;
	return n;
}

static void add_slots(struct flat *f, const struct cli_option *opts, const struct cli_option *group)
{
	for (; opts->type != CLI_T_END; opts++) {
		if (opts->type == CLI_T_GROUP) {
			add_slots(f, opts->group, opts);
			continue;
		}
		f->slots[f->n].opt = opts;
		f->slots[f->n].group = group;
		f->slots[f->n].value = group ? group->value : opts->value;
		f->slots[f->n].target = f->n;
		f->n++;
	}
}

static void flatten(const struct cli_option *opts, struct flat *f)
{
	f->n = 0;
	f->slots = dk_xcalloc(count_options(opts) + 1, sizeof(*f->slots));
	add_slots(f, opts, NULL);
	for (size_t i = 0; i < f->n; i++) {
		size_t j;

		if (f->slots[i].opt->type != CLI_T_ALIAS)
			continue;
		for (j = 0; j < f->n; j++)
			if (f->slots[j].opt->type != CLI_T_ALIAS && !strcmp(f->slots[j].opt->long_name, f->slots[i].opt->help))
				break;
		if (j == f->n) {
			/* a table that names a missing option is a bug in derrick, not in the command line */
			fprintf(stderr, "derrick: --%s is an alias of unknown --%s\n", f->slots[i].opt->long_name,
				f->slots[i].opt->help);
			abort();
		}
		f->slots[i].target = j;
	}
}

/* The option an alias stands for, or the option itself. */
static const struct cli_option *real(const struct flat *f, size_t i)
{
	return f->slots[f->slots[i].target].opt;
}

static int getopt_code(const struct flat *f, size_t i)
{
	size_t t = f->slots[i].target;

	return f->slots[t].opt->short_name ? f->slots[t].opt->short_name : LONG_ONLY_BASE + (int)t;
}

static int has_arg(const struct cli_option *o)
{
	if (!o->arg)
		return no_argument;
	return o->flags & CLI_OPTARG ? optional_argument : required_argument;
}

/* The slot getopt_long's code c means, or NULL for '?' (getopt_long printed why). */
static const struct slot *slot_of(const struct flat *f, int c)
{
	if (c >= LONG_ONLY_BASE)
		return (size_t)(c - LONG_ONLY_BASE) < f->n ? &f->slots[c - LONG_ONLY_BASE] : NULL;
	for (size_t i = 0; i < f->n; i++)
		if (f->slots[i].opt->type != CLI_T_ALIAS && f->slots[i].opt->short_name == c)
			return &f->slots[i];
	return NULL;
}

static int apply(const char *cmd, const struct slot *s, const char *arg)
{
	switch (s->opt->type) {
	case CLI_T_FLAG:
		*(int *)s->value = 1;
		return 0;
	case CLI_T_STRING:
		*(const char **)s->value = arg;
		return 0;
	case CLI_T_CALL:
		return s->opt->fn(cmd, arg, s->value);
	default:
		return -1;
	}
}

int cli_parse(const struct cli_command *cmd, const struct cli_option *opts, int argc, char **argv)
{
	struct flat f;
	struct option *longopts;
	struct strbuf shortopts = STRBUF_INIT;
	int c, rc = -1;

	flatten(opts, &f);
	longopts = dk_xcalloc(f.n + 2, sizeof(*longopts));
	for (size_t i = 0; i < f.n; i++) {
		const struct cli_option *o = real(&f, i);

		longopts[i].name = f.slots[i].opt->long_name;
		longopts[i].has_arg = has_arg(o);
		longopts[i].val = getopt_code(&f, i);
		if (f.slots[i].opt->type != CLI_T_ALIAS && o->short_name)
			sb_addf(&shortopts, "%c%s", o->short_name,
				has_arg(o) == required_argument ? ":" : has_arg(o) == optional_argument ? "::" : "");
	}
	longopts[f.n] = (struct option){ "help", no_argument, NULL, 'h' };
	sb_addc(&shortopts, 'h');

	/* the command's words come first: argv is "cache", "prune", options... */
	optind = 1;
	for (const char *p = cmd->name; (p = strchr(p, ' ')); p++)
		optind++;
	while ((c = getopt_long(argc, argv, shortopts.buf, longopts, NULL)) != -1) {
		const struct slot *s = slot_of(&f, c);

		if (c == 'h') {
			cli_help(cmd, opts, stdout);
			rc = 0;
			break;
		}
		if (!s) {
			cli_help(cmd, opts, stderr);
			rc = EXIT_USAGE;
			break;
		}
		if (apply(cmd->name, s, optarg) < 0) {
			rc = EXIT_USAGE;
			break;
		}
	}
	sb_release(&shortopts);
	free(longopts);
	free(f.slots);
	return rc;
}

/* " FILE", "[=BOOL]" or nothing: how an option's argument is written. */
static void add_arg(struct strbuf *sb, const struct cli_option *o)
{
	if (o->arg)
		sb_addf(sb, o->flags & CLI_OPTARG ? "[=%s]" : " %s", o->arg);
}

/* An option as the synopsis shows it: "[-f|--file FILE]", "-o|--output DEST [-o DEST ...]". */
static void synopsis_word(struct strbuf *sb, const struct flat *f, size_t i)
{
	const struct cli_option *o = f->slots[i].opt;

	if (!(o->flags & CLI_REQUIRED))
		sb_addc(sb, '[');
	if (o->short_name)
		sb_addf(sb, "-%c|", o->short_name);
	sb_addf(sb, "--%s", o->long_name);
	for (size_t j = 0; j < f->n; j++)
		if (j != i && f->slots[j].target == i)
			sb_addf(sb, "|--%s", f->slots[j].opt->long_name);
	add_arg(sb, o);
	if (o->flags & CLI_REPEAT) {
		if (o->short_name)
			sb_addf(sb, " [-%c", o->short_name);
		else
			sb_addf(sb, " [--%s", o->long_name);
		add_arg(sb, o);
		sb_adds(sb, " ...]");
	}
	if (!(o->flags & CLI_REQUIRED))
		sb_addc(sb, ']');
}

/* Words that never break, wrapped under the first one's end. */
static void add_word(struct strbuf *line, size_t indent, const char *word, FILE *out)
{
	if (line->len > indent && line->len + 1 + strlen(word) > SYNOPSIS_WIDTH) {
		fprintf(out, "%s\n", line->buf);
		sb_reset(line);
		sb_addf(line, "%*s", (int)indent, "");
	} else if (line->len > indent) {
		sb_addc(line, ' ');
	}
	sb_adds(line, word);
}

/* Positional arguments, then the options a command needs, then the others, in table order. */
static void print_synopsis(const struct cli_command *cmd, const struct flat *f, FILE *out)
{
	struct strbuf line = STRBUF_INIT, word = STRBUF_INIT;
	size_t indent;

	sb_addf(&line, "usage: derrick %s ", cmd->name);
	indent = line.len;
	if (cmd->args)
		add_word(&line, indent, cmd->args, out);
	for (int required = 1; required >= 0; required--)
		for (size_t i = 0; i < f->n; i++) {
			if (f->slots[i].opt->type == CLI_T_ALIAS || !(f->slots[i].opt->flags & CLI_REQUIRED) != !required)
				continue;
			sb_reset(&word);
			synopsis_word(&word, f, i);
			add_word(&line, indent, word.buf, out);
		}
	fprintf(out, "%s\n   or: derrick %s -h|--help\n", line.buf, cmd->name);
	sb_release(&word);
	sb_release(&line);
}

/* "  -f, --file FILE        build spec": the help in its column, below the option when that is wider. */
static void print_option_line(const char *left, const char *help, FILE *out)
{
	const char *nl;

	if (strlen(left) < HELP_COLUMN)
		fprintf(out, "%-*s", HELP_COLUMN, left);
	else
		fprintf(out, "%s\n%*s", left, HELP_COLUMN, "");
	while ((nl = strchr(help, '\n'))) {
		fprintf(out, "%.*s\n%*s", (int)(nl - help), help, HELP_COLUMN, "");
		help = nl + 1;
	}
	fprintf(out, "%s\n", help);
}

static void print_option(const struct flat *f, size_t i, FILE *out)
{
	const struct cli_option *o = f->slots[i].opt;
	struct strbuf left = STRBUF_INIT, help = STRBUF_INIT;

	if (o->short_name)
		sb_addf(&left, "  -%c, --%s", o->short_name, o->long_name);
	else
		sb_addf(&left, "      --%s", o->long_name);
	add_arg(&left, real(f, i));
	if (o->type == CLI_T_ALIAS)
		sb_addf(&help, "the same as --%s", o->help);
	else
		sb_adds(&help, o->help);
	print_option_line(left.buf, help.buf, out);
	sb_release(&left);
	sb_release(&help);
}

void cli_help(const struct cli_command *cmd, const struct cli_option *opts, FILE *out)
{
	struct flat f;

	flatten(opts, &f);
	print_synopsis(cmd, &f, out);
	fputc('\n', out);
	if (cmd->about)
		fprintf(out, "%s\n", cmd->about);
	for (size_t i = 0; i < f.n; i++)
		if (!f.slots[i].group)
			print_option(&f, i, out);
	print_option_line("  -h, --help", "print this help", out);
	for (const struct cli_option *g = opts; g->type != CLI_T_END; g++) {
		if (g->type != CLI_T_GROUP)
			continue;
		fprintf(out, "\n%s:\n", g->help);
		for (size_t i = 0; i < f.n; i++)
			if (f.slots[i].group == g)
				print_option(&f, i, out);
	}
	if (cmd->footer)
		fprintf(out, "\n%s", cmd->footer);
	free(f.slots);
}
