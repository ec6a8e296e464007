/*
 * creds_int.h - what the three credential files share; private to
 * src/registry/.  creds.c looks credentials up, authfile.c reads and
 * writes auth files (where they are, their "auths" entries, login and
 * logout), cred_helper.c runs docker-credential-* helpers.
 */
#ifndef DERRICK_CREDS_INT_H
#define DERRICK_CREDS_INT_H

#include <string.h>

#include <jansson.h>

#include "derrick/creds.h"

/* Secrets are zeroed before their memory is given back. */
static inline void wipe(void *p, size_t n)
{
	if (p)
		explicit_bzero(p, n);
}

static inline void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* authfile.c */

/* Docker Hub's aliases as "docker.io"; any other registry as given. */
const char *creds_canon_registry(const char *registry);
/* The auths key a registry is stored under (Docker Hub's is its old v1 URL). */
const char *creds_store_key(const char *registry);
/* The key of obj that stands for registry (URLs and aliases included), or NULL. */
const char *creds_find_key(json_t *obj, const char *registry);
/* 0 when registry is a non-empty name without '/' or white space, else -1 with err set. */
int creds_check_registry(const char *registry, struct dk_err *err);
/* Parse the auth file at path into *root (a new reference); a missing file is 0 with *root NULL. */
int creds_load_authfile(const char *path, json_t **root, struct dk_err *err);
/* root's member key when it is an object (*out NULL when absent); -1 when it is something else. */
int creds_get_object(const char *path, json_t *root, const char *key, json_t **out, struct dk_err *err);
/* Credentials from one "auths" entry: 1 and out filled, 0 when it holds none, -1 when malformed. */
int creds_parse_entry(const char *path, const char *key, const char *registry, json_t *entry,
		      struct dk_creds *out, struct dk_err *err);
/* An environment variable's value, NULL when unset or empty. */
const char *creds_env(const char *name);
/* $HOME, else the passwd entry's home (a new string), or NULL. */
char *creds_home_dir(void);
/* Every auth file to try, in order and without duplicates, into files (new strings); their count. */
#define CREDS_MAX_FILES 5
int creds_auth_files(const char *authfile, char **files);

/* cred_helper.c */

/* Ask docker-credential-NAME for url's credentials: 1 and out filled, 0 when it has none, -1 on error. */
int creds_run_helper(const char *name, const char *url, const char *registry, struct dk_creds *out,
		     struct dk_err *err);
/* The helper name v (found at `where` in path): 0 and *name set, -1 when v is not a bare name. */
int creds_helper_name(const char *path, const char *where, json_t *v, const char **name, struct dk_err *err);

#endif
