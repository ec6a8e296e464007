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
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/creds.h"
#include "derrick/util.h"
#include "creds_int.h"

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


static int from_cred_helpers(const char *path, json_t *root, const char *registry,
			     struct dk_creds *out, struct dk_err *err)
{
	json_t *helpers;
	const char *key, *name;
	char *where;
	int rc;

	if (creds_get_object(path, root, "credHelpers", &helpers, err) < 0)
		return -1;
	key = helpers ? creds_find_key(helpers, registry) : NULL;
	if (!key)
		return 0;
	where = dk_xasprintf("credHelpers.\"%s\"", key);
	rc = creds_helper_name(path, where, json_object_get(helpers, key), &name, err);
	free(where);
	return rc < 0 ? -1 : creds_run_helper(name, key, registry, out, err);
}

static int from_auths(const char *path, json_t *auths, const char *registry,
		      struct dk_creds *out, struct dk_err *err)
{
	const char *key = auths ? creds_find_key(auths, registry) : NULL;
	int rc;

	if (!key)
		return 0;
	rc = creds_parse_entry(path, key, registry, json_object_get(auths, key), out, err);
	if (rc == 1)
		out->source = dk_xstrdup(path);
	return rc;
}

/* The store is asked with the key docker wrote its "{}" placeholder under, if any. */
static int from_creds_store(const char *path, json_t *root, json_t *auths, const char *registry,
			    struct dk_creds *out, struct dk_err *err)
{
	json_t *store = json_object_get(root, "credsStore");
	const char *key = auths ? creds_find_key(auths, registry) : NULL;
	const char *name;

	if (!store || (json_is_string(store) && !*json_string_value(store)))
		return 0;
	if (creds_helper_name(path, "credsStore", store, &name, err) < 0)
		return -1;
	return creds_run_helper(name, key ? key : creds_store_key(registry), registry, out, err);
}

/* One auth file: 1 found, 0 nothing for this registry (or no file), -1 error. */
static int lookup_file(const char *path, const char *registry, struct dk_creds *out,
		       struct dk_err *err)
{
	json_t *root, *auths;
	int rc;

	if (creds_load_authfile(path, &root, err) < 0)
		return -1;
	if (!root)
		return 0;
	rc = creds_get_object(path, root, "auths", &auths, err);
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


int dk_creds_lookup(const struct dk_creds_opts *o, const char *registry, struct dk_creds *out,
		    int *found, struct dk_err *err)
{
	char *files[CREDS_MAX_FILES];
	int n, rc = 0;

	memset(out, 0, sizeof(*out));
	*found = 0;
	if (creds_check_registry(registry, err) < 0)
		return -1;
	registry = creds_canon_registry(registry);
	if (o && o->creds) {
		if (from_flag(o->creds, out, err) < 0)
			return -1;
		*found = 1;
		return 0;
	}
	n = creds_auth_files(o ? o->authfile : NULL, files);
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

