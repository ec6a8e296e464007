/*
 * login.c - `derrick login` and `derrick logout`: check credentials
 * against the registry and keep them in the auth file (mode 0600).
 *
 * The password never touches argv: it comes from a prompt without echo or
 * from standard input, and is wiped from memory once stored.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "derrick/creds.h"
#include "derrick/dockerref.h"
#include "derrick/registry.h"
#include "derrick/util.h"
#include "cli.h"

static const struct cli_command login_cmd = {
	.name = "login",
	.args = "HOST",
	.footer = "The credentials are kept in the --authfile FILE, else $REGISTRY_AUTH_FILE, else\n"
		  "$XDG_RUNTIME_DIR/containers/auth.json, else ~/.docker/config.json (mode 0600).\n",
};

static const struct cli_command logout_cmd = {
	.name = "logout",
	.args = "HOST",
};

/* One line from f, without its newline; NULL at end of file. */
static char *read_line(FILE *f)
{
	struct strbuf sb = STRBUF_INIT;
	int c;

	while ((c = fgetc(f)) != EOF && c != '\n')
		sb_addc(&sb, (char)c);
	if (c == EOF && !sb.len) {
		sb_release(&sb);
		return NULL;
	}
	if (sb.len && sb.buf[sb.len - 1] == '\r')
		sb.buf[--sb.len] = '\0';
	return sb_detach(&sb);
}

/* Ask on the terminal; without echo for a password. */
static char *prompt(const char *question, int secret)
{
	FILE *tty = fopen("/dev/tty", "r+");
	struct termios old, quiet;
	char *answer;

	if (!tty)
		return NULL;
	fputs(question, tty);
	fflush(tty);
	if (secret && tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSANOW, &quiet);
		answer = read_line(tty);
		tcsetattr(fileno(tty), TCSANOW, &old);
		fputc('\n', tty);
	} else {
		answer = read_line(tty);
	}
	fclose(tty);
	return answer;
}

static void wipe(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* "localhost:5000", or a reference's registry part: what the auth file is keyed by. */
static int registry_of(const char *host, char **registry, char **endpoint, struct dk_err *err)
{
	struct dk_dockerref r;
	char *probe;

	/* HOST alone is not a reference: parse HOST/x to get the registry rules applied */
	if (strchr(host, '/') || !*host)
		return dk_fail(err, DK_E_USAGE, "\"%s\": expected a registry host[:port]", host);
	probe = dk_xasprintf("%s/derrick-login", host);
	if (!strchr(host, '.') && !strchr(host, ':') && strcmp(host, "localhost")) {
		free(probe);
		return dk_fail(err, DK_E_USAGE,
			       "\"%s\": not a registry host (a host has a '.' or a ':port', or is localhost; Docker Hub is docker.io)",
			       host);
	}
	if (dk_dockerref_parse(probe, &r, err) < 0) {
		free(probe);
		return -1;
	}
	free(probe);
	*registry = dk_xstrdup(r.registry);
	*endpoint = dk_xstrdup(r.endpoint);
	dk_dockerref_free(&r);
	return 0;
}

int cmd_login(int argc, char **argv)
{
	struct dk_transport_opts o;
	struct dk_err err = { 0 };
	struct dk_registry *reg = NULL;
	const char *username = NULL;
	char *user = NULL, *pass = NULL, *creds = NULL, *registry = NULL, *endpoint = NULL, *file = NULL;
	int from_stdin = 0, quiet = 0, verbose = 0, rc;
	struct cli_option options[] = {
		CLI_STRING('u', "username", &username, "USER", "the user (asked for when missing and a terminal is there)"),
		CLI_FLAG(0, "password-stdin", &from_stdin,
			 "read the password from standard input (else: a prompt without echo)"),
		CLI_VERBOSITY(&quiet, &verbose),
		CLI_GROUP(cli_registry_options, &o,
			  "registry flags (login uses --authfile, --tls-verify, --cert-dir and --retries)"),
		CLI_END,
	};

	cli_transport_defaults(&o);
	if ((rc = cli_parse(&login_cmd, options, argc, argv)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("login", "expected exactly one HOST");
	if (username)
		user = dk_xstrdup(username);
	cli_set_verbosity(quiet, verbose);
	if (registry_of(argv[optind], &registry, &endpoint, &err) < 0) {
		rc = cli_error(&err);
		goto out;
	}
	if (!user && !(user = prompt("Username: ", 0))) {
		rc = cli_usage("login", "no username: give -u USER");
		goto out;
	}
	pass = from_stdin ? read_line(stdin) : prompt("Password: ", 1);
	if (!pass || !*pass) {
		rc = cli_usage("login", "no password: give it on standard input with --password-stdin, or at the prompt");
		goto out;
	}
	creds = dk_xasprintf("%s:%s", user, pass);
	o.reg.creds.creds = creds;
	if (dk_registry_open(registry, endpoint, &o.reg, &reg, &err) < 0 ||
	    dk_registry_check_auth(reg, &err) < 0) {
		dk_err_prefix(&err, "login %s", registry);
		rc = cli_error(&err);
		goto out;
	}
	file = dk_authfile_path(o.reg.creds.authfile);
	if (!file) {
		dk_fail(&err, DK_E_USAGE, "login: no auth file (set --authfile or HOME)");
		rc = cli_error(&err);
		goto out;
	}
	if (dk_authfile_store(file, registry, user, pass, &err) < 0) {
		rc = cli_error(&err);
		goto out;
	}
	if (!quiet)
		printf("Login Succeeded (%s, credentials in %s)\n", registry, file);
	rc = 0;
out:
	dk_registry_free(reg);
	wipe(creds);
	wipe(pass);
	free(user);
	free(registry);
	free(endpoint);
	free(file);
	return rc;
}

int cmd_logout(int argc, char **argv)
{
	const char *authfile = NULL;
	struct dk_err err = { 0 };
	char *registry = NULL, *endpoint = NULL, *file;
	int found = 0, rc;
	struct cli_option options[] = {
		CLI_STRING(0, "authfile", &authfile, "FILE", "the auth file to remove them from (default: as for login)"),
		CLI_END,
	};

	if ((rc = cli_parse(&logout_cmd, options, argc, argv)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("logout", "expected exactly one HOST");
	if (registry_of(argv[optind], &registry, &endpoint, &err) < 0)
		return cli_error(&err);
	file = dk_authfile_path(authfile);
	if (!file || dk_authfile_erase(file, registry, &found, &err) < 0) {
		if (!file)
			dk_fail(&err, DK_E_USAGE, "logout: no auth file (set --authfile or HOME)");
		free(file);
		free(registry);
		free(endpoint);
		return cli_error(&err);
	}
	if (found)
		printf("Removed login credentials for %s from %s\n", registry, file);
	else
		printf("Not logged in to %s (%s)\n", registry, file);
	free(file);
	free(registry);
	free(endpoint);
	return 0;
}
