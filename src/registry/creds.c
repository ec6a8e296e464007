/*
 * creds.c - registry credentials from --creds, auth files and docker
 * credential helpers, and the auth file `login`/`logout` rewrite.
 *
 * Secrets are kept out of every message: errors name the file, the JSON
 * key and the registry only.  That is also why a JSON syntax error is
 * reported from jansson's error code and position, never its text: the
 * text quotes the token it choked on, which may be a password.  Buffers
 * that held a secret are zeroed before they are freed (jansson's own
 * copies are beyond our reach).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "derrick/creds.h"
#include "derrick/util.h"

extern char **environ;

#define HUB "docker.io"
#define HUB_KEY "https://index.docker.io/v1/"
#define AUTHFILE_MAX (4u << 20)
/* Helpers print a few hundred bytes; a fixed buffer never reallocs a secret. */
#define HELPER_OUT_MAX (64u << 10)

static void wipe(void *p, size_t n)
{
	if (p)
		explicit_bzero(p, n);
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void dk_creds_free(struct dk_creds *c)
{
	if (!c)
		return;
	wipe_free(c->username);
	wipe_free(c->password);
	wipe_free(c->identity_token);
	free(c->source);
	memset(c, 0, sizeof(*c));
}

/* ---- registry names and the keys that stand for them ---- */

static int is_hub_alias(const char *host, size_t len)
{
	static const char *const names[] = { HUB, "index.docker.io", "registry-1.docker.io" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && !strncasecmp(host, names[i], len))
			return 1;
	return 0;
}

/* References say "docker.io"; old configs say "index.docker.io": one registry. */
static const char *canon_registry(const char *registry)
{
	return is_hub_alias(registry, strlen(registry)) ? HUB : registry;
}

/* The key docker and podman write for a registry. */
static const char *store_key(const char *registry)
{
	return strcmp(registry, HUB) ? registry : HUB_KEY;
}

/* Only API-root paths: "quay.io/org" is a namespace-scoped entry, not the registry's. */
static int root_path(const char *p)
{
	return !*p || !strcmp(p, "/") || !strcmp(p, "/v1") || !strcmp(p, "/v1/") ||
	       !strcmp(p, "/v2") || !strcmp(p, "/v2/");
}

/* Does a key of "auths" or "credHelpers" name this (canonical) registry? */
static int key_matches(const char *key, const char *registry)
{
	const char *host = key, *slash;
	size_t len;

	if (!strncasecmp(host, "https://", 8))
		host += 8;
	else if (!strncasecmp(host, "http://", 7))
		host += 7;
	slash = strchr(host, '/');
	len = slash ? (size_t)(slash - host) : strlen(host);
	if (slash && !root_path(slash))
		return 0;
	if (!strcmp(registry, HUB))
		return is_hub_alias(host, len);
	return strlen(registry) == len && !strncasecmp(host, registry, len);
}

/* The matching key of obj, the one docker would have written first. */
static const char *find_key(json_t *obj, const char *registry)
{
	const char *key;
	json_t *val;

	json_object_foreach(obj, key, val)
		if (!strcmp(key, store_key(registry)))
			return key;
	json_object_foreach(obj, key, val)
		if (key_matches(key, registry))
			return key;
	return NULL;
}

static int check_registry(const char *registry, struct dk_err *err)
{
	if (!registry || !*registry || strpbrk(registry, "/ \t\r\n"))
		return dk_fail(err, DK_E_USAGE, "invalid registry name \"%s\"",
			       registry ? registry : "");
	return 0;
}

/* ---- reading and writing auth files ---- */

/*
 * Read a whole file into one buffer sized from fstat, so no realloc leaves
 * a copy of a secret behind.  *buf is NULL when the file does not exist.
 */
static int read_secret_file(const char *path, char **buf, size_t *len, struct dk_err *err)
{
	struct stat st;
	size_t size = 0, n = 0;
	int fd;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	if (fd < 0)
		return dk_fail_errno(err, DK_E_IO, "open %s", path);
	if (fstat(fd, &st) < 0) {
		dk_fail_errno(err, DK_E_IO, "stat %s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > AUTHFILE_MAX) {
		dk_fail(err, DK_E_CORRUPT, "%s: not a regular file of at most %u bytes",
			path, AUTHFILE_MAX);
		goto fail;
	}
	size = (size_t)st.st_size;
	*buf = dk_xmalloc(size + 2);
	for (;;) {
		ssize_t r = dk_read(fd, *buf + n, size + 1 - n);

		if (r < 0) {
			dk_fail_errno(err, DK_E_IO, "read %s", path);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > size) {
			dk_fail(err, DK_E_IO, "%s: changed while being read", path);
			goto fail;
		}
	}
	close(fd);
	(*buf)[n] = '\0';
	*len = n;
	return 0;
fail:
	close(fd);
	if (*buf) {
		wipe(*buf, size + 2);
		free(*buf);
		*buf = NULL;
	}
	return -1;
}

/* A fixed phrase per jansson error code: its own text quotes the input. */
static const char *json_problem(const json_error_t *jerr)
{
	switch (json_error_code(jerr)) {
	case json_error_invalid_utf8: return "invalid UTF-8";
	case json_error_premature_end_of_input: return "unexpected end of input";
	case json_error_end_of_input_expected: return "extra text after the JSON value";
	case json_error_null_character: return "NUL byte in the text";
	case json_error_numeric_overflow: return "number out of range";
	case json_error_stack_overflow: return "nested too deeply";
	case json_error_out_of_memory: return "out of memory";
	default: return "syntax error";
	}
}

static int blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", s[i]))
			return 0;
	return 1;
}

/*
 * Parse an auth file.  *root is NULL when the file does not exist; an
 * empty file counts as "{}" (podman creates those).
 */
static int load_authfile(const char *path, json_t **root, struct dk_err *err)
{
	json_error_t jerr;
	char *buf;
	size_t len;

	*root = NULL;
	if (read_secret_file(path, &buf, &len, err) < 0)
		return -1;
	if (!buf)
		return 0;
	if (blank(buf, len))
		*root = json_object();
	else
		*root = json_loadb(buf, len, 0, &jerr);
	wipe(buf, len);
	free(buf);
	if (!*root) {
		dk_fail(err, DK_E_CORRUPT, "%s:%d:%d: invalid JSON: %s",
			path, jerr.line, jerr.column, json_problem(&jerr));
		/* jerr.text quotes the input near the error. */
		wipe(&jerr, sizeof(jerr));
		return -1;
	}
	if (!json_is_object(*root)) {
		json_decref(*root);
		*root = NULL;
		return dk_fail(err, DK_E_CORRUPT, "%s: not a JSON object", path);
	}
	return 0;
}

/* The object member `key` of root: NULL when absent, an error when not an object. */
static int get_object(const char *path, json_t *root, const char *key, json_t **out,
		      struct dk_err *err)
{
	*out = json_object_get(root, key);
	if (*out && !json_is_object(*out))
		return dk_fail(err, DK_E_CORRUPT, "%s: %s: not a JSON object", path, key);
	return 0;
}

static int write_authfile(const char *path, json_t *root, struct dk_err *err)
{
	size_t flags = JSON_INDENT(4) | JSON_PRESERVE_ORDER;
	size_t len = json_dumpb(root, NULL, 0, flags);
	char *dir = dk_dirname(path), *buf;
	int rc;

	if (dk_mkdir_p(dir, 0700, err) < 0) {
		free(dir);
		return -1;
	}
	free(dir);
	/* One exact-size buffer: the text holds secrets and must not be realloc'd. */
	buf = dk_xmalloc(len + 1);
	if (json_dumpb(root, buf, len, flags) != len) {
		free(buf);
		return dk_fail(err, DK_E_INTERNAL, "%s: cannot serialise the auth file", path);
	}
	buf[len] = '\n';
	rc = dk_write_file_atomic(path, buf, len + 1, 0600, err);
	wipe(buf, len + 1);
	free(buf);
	return rc;
}

/* ---- "auths" entries ---- */

static int bad_entry(struct dk_err *err, const char *path, const char *key, const char *field,
		     const char *registry, const char *what)
{
	return dk_fail(err, DK_E_CORRUPT, "%s: auths.\"%s\"%s%s: %s (credentials for %s)",
		       path, key, field ? "." : "", field ? field : "", what, registry);
}

/* A string member or NULL; an error when present with another type. */
static int entry_string(const char *path, const char *key, json_t *entry, const char *field,
			const char *registry, const char **out, struct dk_err *err)
{
	json_t *v = json_object_get(entry, field);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad_entry(err, path, key, field, registry, "not a string");
	*out = json_string_value(v);
	return 0;
}

/* Split a decoded "user:pass" into out; the decoded buffer is wiped. */
static int split_auth(const char *path, const char *key, const char *registry,
		      const char *auth, struct dk_creds *out, struct dk_err *err)
{
	size_t len;
	char *plain = dk_base64_decode(auth, &len);
	char *colon = plain ? memchr(plain, ':', len) : NULL;
	int rc = 0;

	if (!plain)
		rc = bad_entry(err, path, key, "auth", registry, "not valid base64");
	else if (strlen(plain) != len || !colon)
		rc = bad_entry(err, path, key, "auth", registry,
			       "does not decode to \"username:password\"");
	else {
		out->username = dk_xstrndup(plain, (size_t)(colon - plain));
		out->password = dk_xstrdup(colon + 1);
	}
	if (plain) {
		wipe(plain, len);
		free(plain);
	}
	return rc;
}

/*
 * Read one "auths" entry: 1 when it holds credentials, 0 for an empty
 * placeholder (docker writes "{}" next to a credsStore), -1 on error.
 */
static int parse_entry(const char *path, const char *key, const char *registry, json_t *entry,
		       struct dk_creds *out, struct dk_err *err)
{
	const char *auth, *user, *pass, *token;

	if (!json_is_object(entry))
		return bad_entry(err, path, key, NULL, registry, "not a JSON object");
	if (entry_string(path, key, entry, "auth", registry, &auth, err) < 0 ||
	    entry_string(path, key, entry, "username", registry, &user, err) < 0 ||
	    entry_string(path, key, entry, "password", registry, &pass, err) < 0 ||
	    entry_string(path, key, entry, "identitytoken", registry, &token, err) < 0)
		return -1;
	if (auth && *auth) {
		if (split_auth(path, key, registry, auth, out, err) < 0)
			return -1;
	} else {
		out->username = user ? dk_xstrdup(user) : NULL;
		out->password = pass ? dk_xstrdup(pass) : NULL;
	}
	if (out->username && !*out->username) {
		free(out->username);
		out->username = NULL;
	}
	if (token && *token) {
		/* A refresh token replaces the password; the user name may stay. */
		out->identity_token = dk_xstrdup(token);
		wipe_free(out->password);
		out->password = NULL;
		return 1;
	}
	if (!out->username && !out->password)
		return 0;
	if (!out->username || !out->password) {
		dk_creds_free(out);
		return bad_entry(err, path, key, NULL, registry,
				 "needs both a username and a password");
	}
	return 1;
}

/* ---- credential helpers ---- */

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
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return line;
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
static int run_helper(const char *name, const char *url, const char *registry,
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
static int helper_name(const char *path, const char *where, json_t *v, const char **name,
		       struct dk_err *err)
{
	if (!json_is_string(v) || !*json_string_value(v) || strchr(json_string_value(v), '/'))
		return dk_fail(err, DK_E_CORRUPT, "%s: %s: not a credential helper name",
			       path, where);
	*name = json_string_value(v);
	return 0;
}

/* ---- lookup ---- */

static int from_cred_helpers(const char *path, json_t *root, const char *registry,
			     struct dk_creds *out, struct dk_err *err)
{
	json_t *helpers;
	const char *key, *name;
	char *where;
	int rc;

	if (get_object(path, root, "credHelpers", &helpers, err) < 0)
		return -1;
	key = helpers ? find_key(helpers, registry) : NULL;
	if (!key)
		return 0;
	where = dk_xasprintf("credHelpers.\"%s\"", key);
	rc = helper_name(path, where, json_object_get(helpers, key), &name, err);
	free(where);
	return rc < 0 ? -1 : run_helper(name, key, registry, out, err);
}

static int from_auths(const char *path, json_t *auths, const char *registry,
		      struct dk_creds *out, struct dk_err *err)
{
	const char *key = auths ? find_key(auths, registry) : NULL;
	int rc;

	if (!key)
		return 0;
	rc = parse_entry(path, key, registry, json_object_get(auths, key), out, err);
	if (rc == 1)
		out->source = dk_xstrdup(path);
	return rc;
}

/* The store is asked with the key docker wrote its "{}" placeholder under, if any. */
static int from_creds_store(const char *path, json_t *root, json_t *auths, const char *registry,
			    struct dk_creds *out, struct dk_err *err)
{
	json_t *store = json_object_get(root, "credsStore");
	const char *key = auths ? find_key(auths, registry) : NULL;
	const char *name;

	if (!store || (json_is_string(store) && !*json_string_value(store)))
		return 0;
	if (helper_name(path, "credsStore", store, &name, err) < 0)
		return -1;
	return run_helper(name, key ? key : store_key(registry), registry, out, err);
}

/* One auth file: 1 found, 0 nothing for this registry (or no file), -1 error. */
static int lookup_file(const char *path, const char *registry, struct dk_creds *out,
		       struct dk_err *err)
{
	json_t *root, *auths;
	int rc;

	if (load_authfile(path, &root, err) < 0)
		return -1;
	if (!root)
		return 0;
	rc = get_object(path, root, "auths", &auths, err);
	if (rc == 0)
		rc = from_cred_helpers(path, root, registry, out, err);
	if (rc == 0)
		rc = from_auths(path, auths, registry, out, err);
	if (rc == 0)
		rc = from_creds_store(path, root, auths, registry, out, err);
	json_decref(root);
	return rc;
}

static int from_flag(const char *creds, struct dk_creds *out, struct dk_err *err)
{
	const char *colon = strchr(creds, ':');

	/* Never quote the value: without a ':' it may be the password alone. */
	if (!colon)
		return dk_fail(err, DK_E_USAGE, "--creds: expected USERNAME:PASSWORD");
	if (colon == creds)
		return dk_fail(err, DK_E_USAGE, "--creds: the username is empty");
	out->username = dk_xstrndup(creds, (size_t)(colon - creds));
	out->password = dk_xstrdup(colon + 1);
	out->source = dk_xstrdup("--creds");
	return 0;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static char *home_dir(void)
{
	const char *home = env("HOME");
	struct passwd *pw;

	if (home)
		return dk_xstrdup(home);
	pw = getpwuid(getuid());
	return pw && pw->pw_dir && *pw->pw_dir ? dk_xstrdup(pw->pw_dir) : NULL;
}

#define MAX_FILES 5

static void add_file(char **files, int *n, char *path)
{
	if (!path)
		return;
	for (int i = 0; i < *n; i++) {
		if (!strcmp(files[i], path)) {
			free(path);
			return;
		}
	}
	files[(*n)++] = path;
}

/* Every auth file to try, in order, duplicates dropped. */
static int auth_files(const char *authfile, char **files)
{
	char *home = home_dir();
	int n = 0;

	add_file(files, &n, authfile ? dk_xstrdup(authfile) : NULL);
	add_file(files, &n, env("REGISTRY_AUTH_FILE") ? dk_xstrdup(env("REGISTRY_AUTH_FILE")) : NULL);
	if (env("XDG_RUNTIME_DIR"))
		add_file(files, &n, dk_path_join(env("XDG_RUNTIME_DIR"), "containers/auth.json"));
	if (home)
		add_file(files, &n, dk_path_join(home, ".config/containers/auth.json"));
	if (env("DOCKER_CONFIG"))
		add_file(files, &n, dk_path_join(env("DOCKER_CONFIG"), "config.json"));
	else if (home)
		add_file(files, &n, dk_path_join(home, ".docker/config.json"));
	free(home);
	return n;
}

int dk_creds_lookup(const struct dk_creds_opts *o, const char *registry, struct dk_creds *out,
		    int *found, struct dk_err *err)
{
	char *files[MAX_FILES];
	int n, rc = 0;

	memset(out, 0, sizeof(*out));
	*found = 0;
	if (check_registry(registry, err) < 0)
		return -1;
	registry = canon_registry(registry);
	if (o && o->creds) {
		if (from_flag(o->creds, out, err) < 0)
			return -1;
		*found = 1;
		return 0;
	}
	n = auth_files(o ? o->authfile : NULL, files);
	for (int i = 0; i < n && rc == 0; i++)
		rc = lookup_file(files[i], registry, out, err);
	for (int i = 0; i < n; i++)
		free(files[i]);
	if (rc < 0) {
		dk_creds_free(out);
		return -1;
	}
	*found = rc;
	return 0;
}

/* ---- login / logout ---- */

char *dk_authfile_path(const char *authfile_opt)
{
	char *home;
	char *path;

	if (authfile_opt && *authfile_opt)
		return dk_xstrdup(authfile_opt);
	if (env("REGISTRY_AUTH_FILE"))
		return dk_xstrdup(env("REGISTRY_AUTH_FILE"));
	if (env("XDG_RUNTIME_DIR"))
		return dk_path_join(env("XDG_RUNTIME_DIR"), "containers/auth.json");
	home = home_dir();
	if (!home)
		return NULL;
	path = dk_path_join(home, ".docker/config.json");
	free(home);
	return path;
}

/* Load path for rewriting: "{}" when missing, and an "auths" object in it. */
static int load_for_update(const char *path, json_t **root, json_t **auths, struct dk_err *err)
{
	if (load_authfile(path, root, err) < 0)
		return -1;
	if (!*root)
		*root = json_object();
	if (get_object(path, *root, "auths", auths, err) < 0) {
		json_decref(*root);
		return -1;
	}
	if (!*auths) {
		*auths = json_object();
		json_object_set_new(*root, "auths", *auths);
	}
	return 0;
}

int dk_authfile_store(const char *path, const char *registry, const char *user, const char *pass,
		      struct dk_err *err)
{
	json_t *root, *auths;
	char *plain, *b64;
	int rc;

	if (check_registry(registry, err) < 0)
		return -1;
	if (!user || !*user || strchr(user, ':'))
		return dk_fail(err, DK_E_USAGE, "%s: the username must be non-empty and without ':'",
			       registry);
	if (!pass)
		return dk_fail(err, DK_E_USAGE, "%s: no password given", registry);
	registry = canon_registry(registry);
	if (load_for_update(path, &root, &auths, err) < 0)
		return -1;
	plain = dk_xasprintf("%s:%s", user, pass);
	b64 = dk_base64_encode(plain, strlen(plain));
	wipe_free(plain);
	/* The whole entry goes: an old identitytoken would outrank the new password. */
	json_object_set_new(auths, store_key(registry), json_pack("{s:s}", "auth", b64));
	wipe_free(b64);
	rc = write_authfile(path, root, err);
	json_decref(root);
	return rc;
}

int dk_authfile_erase(const char *path, const char *registry, int *found, struct dk_err *err)
{
	json_t *root, *auths, *val;
	const char *key;
	void *tmp;
	int rc = 0;

	*found = 0;
	if (check_registry(registry, err) < 0)
		return -1;
	registry = canon_registry(registry);
	if (load_authfile(path, &root, err) < 0)
		return -1;
	if (!root)
		return 0;
	if (get_object(path, root, "auths", &auths, err) < 0) {
		json_decref(root);
		return -1;
	}
	if (auths) {
		json_object_foreach_safe(auths, tmp, key, val) {
			if (key_matches(key, registry)) {
				json_object_del(auths, key);
				*found = 1;
			}
		}
	}
	if (*found)
		rc = write_authfile(path, root, err);
	json_decref(root);
	return rc;
}
