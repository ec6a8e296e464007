/*
 * creds.h - registry credentials: where to find them for a pull or push,
 * and the auth file that `derrick login` and `derrick logout` maintain.
 *
 * The files are the ones docker, podman and skopeo already use, in the
 * same format ({"auths": {"HOST": {"auth": "base64(user:pass)"}}}), so a
 * login done with any of those tools works here and the other way round.
 *
 * Secrets never leave this module except in struct dk_creds and in the
 * auth file itself (mode 0600): error messages name the file, the JSON
 * key and the registry, never a password, token or "auth" string.
 */
#ifndef DERRICK_CREDS_H
#define DERRICK_CREDS_H

#include "derrick/err.h"

struct dk_creds {
	char *username;        /* NULL for anonymous */
	char *password;        /* NULL when an identity token is used */
	char *identity_token;  /* a refresh token (docker "identitytoken", or a helper's "<token>" user) or NULL */
	char *source;          /* where they came from, for -v messages: "--creds", "/root/.docker/config.json", "docker-credential-pass" */
};

struct dk_creds_opts {
	const char *creds;     /* --creds USER:PASS (USER:... split at the first ':'), or NULL */
	const char *authfile;  /* --authfile FILE, or NULL */
};

/*
 * Find credentials for `registry` (host[:port] as in a reference, "docker.io"
 * for Docker Hub; "index.docker.io" and "registry-1.docker.io" mean the same).
 * Order: --creds; --authfile; $REGISTRY_AUTH_FILE;
 * $XDG_RUNTIME_DIR/containers/auth.json; $HOME/.config/containers/auth.json;
 * $DOCKER_CONFIG/config.json or else $HOME/.docker/config.json.
 *
 * The first file that has an entry for the registry wins; missing files are
 * skipped silently; a file that exists but is malformed is an error naming
 * the file (and JSON line:col).  Within one file the order is: a matching
 * "credHelpers" entry, then a matching "auths" entry that holds credentials,
 * then "credsStore".  Helpers are `docker-credential-NAME get`, found on PATH;
 * one that answers "credentials not found" counts as no entry.
 *
 * *found = 0 and return 0 when nothing matched (anonymous); out is then all
 * NULL.  On success with *found = 1, free out with dk_creds_free().
 */
int dk_creds_lookup(const struct dk_creds_opts *o, const char *registry, struct dk_creds *out,
		    int *found, struct dk_err *err);

/* Free the strings, overwriting the secrets with zeros first; c is left all NULL. */
void dk_creds_free(struct dk_creds *c);

/*
 * The file `login`/`logout` maintain: authfile_opt if given, else
 * $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json when
 * XDG_RUNTIME_DIR is set, else $HOME/.docker/config.json.  A new string;
 * NULL only when none of those is set and the user has no home directory.
 */
char *dk_authfile_path(const char *authfile_opt);

/*
 * Record user:pass for registry under the key "host[:port]"
 * ("https://index.docker.io/v1/" for Docker Hub), replacing that entry as a
 * whole and keeping every other key of the file as it was.  Creates parent
 * directories (0700) and the file; writes atomically, always mode 0600.
 * The username must not contain ':' (the "auth" form could not say where it
 * ends).
 */
int dk_authfile_store(const char *path, const char *registry, const char *user, const char *pass,
		      struct dk_err *err);

/*
 * Remove the registry's entries from "auths" (every key form that matches);
 * *found says whether there was one.  A missing file is not an error.
 */
int dk_authfile_erase(const char *path, const char *registry, int *found, struct dk_err *err);

#endif
