/*
 * authfile.c - auth files (containers' auth.json, docker's config.json):
 * where they are, reading them without leaking a secret into a message,
 * their "auths" entries, and the rewrite `login` and `logout` do (0600,
 * temporary file + rename).  See creds.c for the rules on secrets.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "derrick/creds.h"
#include "derrick/util.h"
#include "creds_int.h"

#define HUB "docker.io"
#define HUB_KEY "https://index.docker.io/v1/"
#define AUTHFILE_MAX (4u << 20)

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
const char *creds_canon_registry(const char *registry)
{
	return is_hub_alias(registry, strlen(registry)) ? HUB : registry;
}

/* The key docker and podman write for a registry. */
const char *creds_store_key(const char *registry)
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
const char *creds_find_key(json_t *obj, const char *registry)
{
	const char *key;
	json_t *val;

	json_object_foreach(obj, key, val)
		if (!strcmp(key, creds_store_key(registry)))
			return key;
	json_object_foreach(obj, key, val)
		if (key_matches(key, registry))
			return key;
	return NULL;
}

int creds_check_registry(const char *registry, struct dk_err *err)
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
int creds_load_authfile(const char *path, json_t **root, struct dk_err *err)
{
	json_error_t jerr;
	char *buf;
	size_t len;

	*root = NULL;
	if (read_secret_file(path, &buf, &len, err) < 0)
		return -1;
	if (!buf)
		return 0;
	/* JSON text has no NUL byte: such a file is damaged, however much of it parses */
	if (memchr(buf, 0, len)) {
		size_t at = (size_t)((char *)memchr(buf, 0, len) - buf);

		wipe(buf, len);
		free(buf);
		return dk_fail(err, DK_E_CORRUPT, "%s: not JSON: a NUL byte at offset %zu", path, at);
	}
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
int creds_get_object(const char *path, json_t *root, const char *key, json_t **out,
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
int creds_parse_entry(const char *path, const char *key, const char *registry, json_t *entry,
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

const char *creds_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

char *creds_home_dir(void)
{
	const char *home = creds_env("HOME");
	struct passwd *pw;

	if (home)
		return dk_xstrdup(home);
	pw = getpwuid(getuid());
	return pw && pw->pw_dir && *pw->pw_dir ? dk_xstrdup(pw->pw_dir) : NULL;
}

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
int creds_auth_files(const char *authfile, char **files)
{
	char *home = creds_home_dir();
	int n = 0;

	add_file(files, &n, authfile ? dk_xstrdup(authfile) : NULL);
	add_file(files, &n, creds_env("REGISTRY_AUTH_FILE") ? dk_xstrdup(creds_env("REGISTRY_AUTH_FILE")) : NULL);
	if (creds_env("XDG_RUNTIME_DIR"))
		add_file(files, &n, dk_path_join(creds_env("XDG_RUNTIME_DIR"), "containers/auth.json"));
	if (home)
		add_file(files, &n, dk_path_join(home, ".config/containers/auth.json"));
	if (creds_env("DOCKER_CONFIG"))
		add_file(files, &n, dk_path_join(creds_env("DOCKER_CONFIG"), "config.json"));
	else if (home)
		add_file(files, &n, dk_path_join(home, ".docker/config.json"));
	free(home);
	return n;
}

/* ---- login / logout ---- */

char *dk_authfile_path(const char *authfile_opt)
{
	char *home;
	char *path;

	if (authfile_opt && *authfile_opt)
		return dk_xstrdup(authfile_opt);
	if (creds_env("REGISTRY_AUTH_FILE"))
		return dk_xstrdup(creds_env("REGISTRY_AUTH_FILE"));
	if (creds_env("XDG_RUNTIME_DIR"))
		return dk_path_join(creds_env("XDG_RUNTIME_DIR"), "containers/auth.json");
	home = creds_home_dir();
	if (!home)
		return NULL;
	path = dk_path_join(home, ".docker/config.json");
	free(home);
	return path;
}

/* Load path for rewriting: "{}" when missing, and an "auths" object in it. */
static int load_for_update(const char *path, json_t **root, json_t **auths, struct dk_err *err)
{
	if (creds_load_authfile(path, root, err) < 0)
		return -1;
	if (!*root)
		*root = json_object();
	if (creds_get_object(path, *root, "auths", auths, err) < 0) {
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

	if (creds_check_registry(registry, err) < 0)
		return -1;
	if (!user || !*user || strchr(user, ':'))
		return dk_fail(err, DK_E_USAGE, "%s: the username must be non-empty and without ':'",
			       registry);
	if (!pass)
		return dk_fail(err, DK_E_USAGE, "%s: no password given", registry);
	registry = creds_canon_registry(registry);
	if (load_for_update(path, &root, &auths, err) < 0)
		return -1;
	plain = dk_xasprintf("%s:%s", user, pass);
	b64 = dk_base64_encode(plain, strlen(plain));
	wipe_free(plain);
	/* The whole entry goes: an old identitytoken would outrank the new password. */
	json_object_set_new(auths, creds_store_key(registry), json_pack("{s:s}", "auth", b64));
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
	if (creds_check_registry(registry, err) < 0)
		return -1;
	registry = creds_canon_registry(registry);
	if (creds_load_authfile(path, &root, err) < 0)
		return -1;
	if (!root)
		return 0;
	if (creds_get_object(path, root, "auths", &auths, err) < 0) {
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

