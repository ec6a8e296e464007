/*
 * cred_helper.c - docker-credential-NAME helpers: found on PATH, run with
 * posix_spawn, fed the registry URL, their JSON answer parsed.  Their
 * output is read into fixed buffers that are wiped afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "derrick/creds.h"
#include "derrick/util.h"
#include "creds_int.h"

extern char **environ;

/* Helpers print a few hundred bytes; a fixed buffer never reallocs a secret. */
#define HELPER_OUT_MAX (64u << 10)

struct helper_run {
	struct strbuf out, errout;
	int overflow;
	int status;
};

/* PATH lookup done here, so "not installed" is its own clear error. */
static char *find_on_path(const char *prog)
{
	const char *path = getenv("PATH");
	const char *p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";

	for (;;) {
		size_t n = strcspn(p, ":");
		char *dir = n ? dk_xstrndup(p, n) : dk_xstrdup(".");
		char *exe = dk_path_join(dir, prog);
		struct stat st;

		free(dir);
		if (stat(exe, &st) == 0 && S_ISREG(st.st_mode) && access(exe, X_OK) == 0)
			return exe;
		free(exe);
		if (!p[n])
			return NULL;
		p += n + 1;
	}
}

static void collect(int fd, struct strbuf *sb, struct helper_run *h, int *open)
{
	char buf[4096];
	ssize_t n = dk_read(fd, buf, sizeof(buf));

	if (n <= 0) {
		*open = 0;
		return;
	}
	if (sb->len + (size_t)n > HELPER_OUT_MAX)
		h->overflow = 1;
	else
		sb_add(sb, buf, (size_t)n);
	wipe(buf, sizeof(buf));
}

/* Read the child's stdout and stderr to their ends, both at once so neither pipe fills up. */
static void drain(int fdo, int fde, struct helper_run *h)
{
	struct pollfd p[2] = { { fdo, POLLIN, 0 }, { fde, POLLIN, 0 } };
	int open[2] = { 1, 1 };

	while (open[0] || open[1]) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (!open[i] || !p[i].revents)
				continue;
			collect(p[i].fd, i ? &h->errout : &h->out, h, &open[i]);
			if (!open[i])
				p[i].fd = -1;
		}
	}
}

static void close_pair(int fd[2])
{
	if (fd[0] >= 0)
		close(fd[0]);
	if (fd[1] >= 0)
		close(fd[1]);
}

/*
 * Run `exe get` with url on stdin.  The url goes into the pipe before the
 * child exists (it is far below the pipe's capacity): no writer can then
 * take a SIGPIPE from a helper that exits without reading.
 */
static int spawn_helper(const char *exe, const char *prog, const char *url, struct helper_run *h,
			struct dk_err *err)
{
	int in[2] = { -1, -1 }, o[2] = { -1, -1 }, e[2] = { -1, -1 };
	char *argv[] = { (char *)prog, (char *)"get", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	if (strlen(url) >= PIPE_BUF)
		return dk_fail(err, DK_E_USAGE, "%s: server URL too long", prog);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0) {
		dk_fail_errno(err, DK_E_EXEC, "%s: pipe", prog);
		goto fail;
	}
	/* No trailing newline: exactly what docker sends. */
	if (dk_write_all(in[1], url, strlen(url), prog, err) < 0)
		goto fail;
	close(in[1]);
	in[1] = -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, o[1], 1);
	posix_spawn_file_actions_adddup2(&fa, e[1], 2);
	rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		errno = rc;
		dk_fail_errno(err, DK_E_EXEC, "run %s", exe);
		goto fail;
	}
	close(in[0]);
	close(o[1]);
	close(e[1]);
	sb_grow(&h->out, HELPER_OUT_MAX + 1);
	drain(o[0], e[0], h);
	close(o[0]);
	close(e[0]);
	while (waitpid(pid, &h->status, 0) < 0)
		if (errno != EINTR)
			return dk_fail_errno(err, DK_E_EXEC, "wait for %s", prog);
	return 0;
fail:
	close_pair(in);
	close_pair(o);
	close_pair(e);
	return -1;
}

/* The first line of a helper's complaint, printable and short; not a secret on failure. */
static char *first_line(const struct strbuf *a, const struct strbuf *b)
{
	const char *s = a->len ? a->buf : b->buf;
	size_t n;
	char *line;

	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	n = strcspn(s, "\r\n");
	if (n > 200)
		n = 200;
	line = dk_xstrndup(s, n);
	return dk_str_printable(line);
}

static int helper_failed(const char *prog, const char *registry, struct helper_run *h,
			 struct dk_err *err)
{
	char *line = first_line(&h->out, &h->errout);
	char how[64];

	if (WIFEXITED(h->status))
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(h->status));
	else
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(h->status));
	dk_fail(err, DK_E_EXEC, "%s get (credentials for %s): %s%s%s", prog, registry, how,
		*line ? ": " : "", line);
	free(line);
	return -1;
}

/* {"ServerURL","Username","Secret"}: 1 found, 0 an empty answer, -1 error. */
static int parse_helper_output(const char *prog, const char *registry, struct helper_run *h,
			       struct dk_creds *out, struct dk_err *err)
{
	json_t *root = json_loadb(h->out.buf, h->out.len, 0, NULL);
	json_t *u = root ? json_object_get(root, "Username") : NULL;
	json_t *s = root ? json_object_get(root, "Secret") : NULL;
	int rc = 1;

	if (!json_is_object(root) || (u && !json_is_string(u)) || !json_is_string(s)) {
		rc = dk_fail(err, DK_E_EXEC,
			     "%s get (credentials for %s): output is not {\"Username\",\"Secret\"} JSON",
			     prog, registry);
	} else if (!*json_string_value(s)) {
		rc = 0;
	} else if (u && !strcmp(json_string_value(u), "<token>")) {
		out->identity_token = dk_xstrdup(json_string_value(s));
	} else if (!u || !*json_string_value(u)) {
		rc = dk_fail(err, DK_E_EXEC, "%s get (credentials for %s): output has no Username",
			     prog, registry);
	} else {
		out->username = dk_xstrdup(json_string_value(u));
		out->password = dk_xstrdup(json_string_value(s));
	}
	json_decref(root);
	if (rc == 1)
		out->source = dk_xstrdup(prog);
	return rc;
}

/* Ask docker-credential-NAME for url's credentials: 1 found, 0 not found, -1 error. */
int creds_run_helper(const char *name, const char *url, const char *registry,
		     struct dk_creds *out, struct dk_err *err)
{
	char *prog = dk_xasprintf("docker-credential-%s", name);
	char *exe = find_on_path(prog);
	struct helper_run h = { STRBUF_INIT, STRBUF_INIT, 0, 0 };
	int rc;

	if (!exe)
		rc = dk_fail(err, DK_E_EXEC, "%s (credential helper for %s): not found on PATH",
			     prog, registry);
	else if (spawn_helper(exe, prog, url, &h, err) < 0)
		rc = -1;
	else if (h.overflow)
		rc = dk_fail(err, DK_E_EXEC, "%s get (credentials for %s): output too large",
			     prog, registry);
	else if (WIFEXITED(h.status) && WEXITSTATUS(h.status) == 0)
		rc = parse_helper_output(prog, registry, &h, out, err);
	else if (strstr(h.out.buf, "credentials not found") ||
		 strstr(h.errout.buf, "credentials not found"))
		rc = 0;
	else
		rc = helper_failed(prog, registry, &h, err);
	wipe(h.out.buf, h.out.alloc);
	sb_release(&h.out);
	wipe(h.errout.buf, h.errout.alloc);
	sb_release(&h.errout);
	free(exe);
	free(prog);
	return rc;
}

/* A helper name from a file: a bare word, never a path to run. */
int creds_helper_name(const char *path, const char *where, json_t *v, const char **name,
		      struct dk_err *err)
{
	if (!json_is_string(v) || !*json_string_value(v) || strchr(json_string_value(v), '/'))
		return dk_fail(err, DK_E_CORRUPT, "%s: %s: not a credential helper name",
			       path, where);
	*name = json_string_value(v);
	return 0;
}

