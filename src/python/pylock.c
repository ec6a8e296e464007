/*
 * pylock.c - PEP 751 pylock.toml into a struct dk_lock.  See pylock.h.
 *
 * toml.cc hands over a jansson tree; this file only walks it, naming the key
 * path of whatever it refuses.  Also the parts both lock readers share:
 * dk_lock_release and the sha256 check.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/pylock.h"
#include "derrick/toml.h"
#include "derrick/util.h"
#include "lock_int.h"

#define LOCK_MAX_BYTES (64u << 20)

int dk_lock_sha256(const char *s, size_t n, char out[DK_SHA256_HEX])
{
	if (n != DK_SHA256_HEX - 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[n] = '\0';
	return 0;
}

char *dk_lock_printable(const char *s)
{
	return dk_str_printable(dk_xstrdup(s));
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void dk_lock_release(struct dk_lock *lock)
{
	for (size_t i = 0; i < lock->n_pkgs; i++) {
		struct dk_lock_pkg *p = &lock->pkgs[i];

		free(p->name);
		free(p->version);
		free(p->marker);
		free(p->requires_python);
		free(p->where);
		free_strv(p->extras, p->n_extras);
		for (size_t f = 0; f < p->n_files; f++) {
			free(p->files[f].filename);
			free(p->files[f].url);
			free(p->files[f].path);
		}
		free(p->files);
		free(p->hashes);
	}
	free(lock->pkgs);
	free(lock->path);
	free(lock->requires_python);
	free_strv(lock->environments, lock->n_environments);
	free_strv(lock->extras, lock->n_extras);
	free_strv(lock->groups, lock->n_groups);
	free_strv(lock->default_groups, lock->n_default_groups);
	memset(lock, 0, sizeof(*lock));
}

/* A walk through the tree: the file, and the key path of the table being read. */
struct walk {
	const char *file;
	const char *at;         /* "" at the top, else "packages[2]." */
	struct dk_err *err;
};

static int bad(const struct walk *w, const char *key, const char *why)
{
	return dk_fail(w->err, DK_E_SPEC, "%s: %s%s: %s", w->file, w->at, key, why);
}

/* obj.key as a new string into *out; NULL when absent (an error when required). */
static int get_str(const struct walk *w, json_t *obj, const char *key, int required, char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v)
		return required ? bad(w, key, "missing (required)") : 0;
	if (!json_is_string(v))
		return bad(w, key, "expected a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return bad(w, key, "a string with a NUL character");
	*out = dk_xstrdup(json_string_value(v));
	return 0;
}

/* obj.key, an array of strings, as a new vector (NULL-terminated) and its length. */
static int get_strv(const struct walk *w, json_t *obj, const char *key, char ***out, size_t *n)
{
	json_t *v = json_object_get(obj, key), *e;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return bad(w, key, "expected an array of strings");
	*out = dk_xcalloc(json_array_size(v) + 1, sizeof(**out));
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e)) {
			char *k = dk_xasprintf("%s[%zu]", key, i);

			bad(w, k, "expected a string");
			free(k);
			return -1;
		}
		(*out)[(*n)++] = dk_xstrdup(json_string_value(e));
	}
	return 0;
}

/* The last component of a URL's path or of a file path. */
static char *base_name(const char *s)
{
	size_t end = strcspn(s, "?#");
	size_t start = end;

	while (start > 0 && s[start - 1] != '/')
		start--;
	return dk_xstrndup(s + start, end - start);
}

static int is_wheel_name(const char *s)
{
	size_t n = strlen(s);

	return n > 4 && !strcmp(s + n - 4, ".whl") && !strchr(s, '/') && strcmp(s, "..");
}

/* One [[packages.wheels]] entry (or an archive that is a wheel), read at w->at. */
static int read_file(const struct walk *w, json_t *t, const char *lockdir, struct dk_lock_file *f)
{
	json_t *hashes, *sha, *size;
	char *path = NULL;

	f->size = -1;
	if (!json_is_object(t))
		return dk_fail(w->err, DK_E_SPEC, "%s: %.*s: expected a table", w->file,
			       (int)strlen(w->at) - 1, w->at);
	if (get_str(w, t, "name", 0, &f->filename) < 0 || get_str(w, t, "url", 0, &f->url) < 0 ||
	    get_str(w, t, "path", 0, &path) < 0)
		goto fail;
	if (!f->url && !path) {
		bad(w, "url", "a wheel needs url or path");
		goto fail;
	}
	if (f->url && !strstr(f->url, "://")) {
		bad(w, "url", "not an absolute URL");
		goto fail;
	}
	if (path)
		f->path = path[0] == '/' ? dk_xstrdup(path) : dk_path_join(lockdir, path);
	if (!f->filename)
		f->filename = base_name(f->url ? f->url : path);
	if (!is_wheel_name(f->filename)) {
		bad(w, "name", "not a wheel's file name (*.whl): derrick never builds from source");
		goto fail;
	}
	size = json_object_get(t, "size");
	if (size) {
		if (!json_is_integer(size) || json_integer_value(size) < 0) {
			bad(w, "size", "expected a non-negative integer");
			goto fail;
		}
		f->size = json_integer_value(size);
	}
	hashes = json_object_get(t, "hashes");
	if (!hashes) {
		bad(w, "hashes", "missing (required)");
		goto fail;
	}
	if (!json_is_object(hashes)) {
		bad(w, "hashes", "expected a table of algorithm = \"hex\"");
		goto fail;
	}
	sha = json_object_get(hashes, "sha256");
	if (!sha) {
		bad(w, "hashes", "no sha256: derrick checks files by sha256 only");
		goto fail;
	}
	if (!json_is_string(sha) || dk_lock_sha256(json_string_value(sha), json_string_length(sha), f->sha256) < 0) {
		bad(w, "hashes.sha256", "expected 64 hex digits");
		goto fail;
	}
	free(path);
	return 0;
fail:
	free(path);
	return -1;
}

static int read_package(const struct walk *top, json_t *t, size_t idx, const char *lockdir,
			struct dk_lock_pkg *p)
{
	/* what a package may have instead of wheels, with its article */
	static const char *const source_keys[][2] = {
		{ "vcs", "a" }, { "directory", "a" }, { "archive", "an" }, { "sdist", "an" },
	};
	char *at = dk_xasprintf("packages[%zu].", idx);
	struct walk w = { top->file, at, top->err };
	json_t *wheels, *archive, *e;
	char *shown = NULL;
	size_t i;
	int rc = -1;

	if (!json_is_object(t)) {
		dk_fail(top->err, DK_E_SPEC, "%s: packages[%zu]: expected a table", top->file, idx);
		goto out;
	}
	if (get_str(&w, t, "name", 1, &p->name) < 0)
		goto out;
	free(at);
	shown = dk_lock_printable(p->name);
	at = dk_xasprintf("packages[%zu] (%s).", idx, shown);
	w.at = at;
	p->where = dk_xasprintf("%s: packages[%zu] (%s)", top->file, idx, shown);
	if (get_str(&w, t, "version", 0, &p->version) < 0 || get_str(&w, t, "marker", 0, &p->marker) < 0 ||
	    get_str(&w, t, "requires-python", 0, &p->requires_python) < 0)
		goto out;
	wheels = json_object_get(t, "wheels");
	archive = json_object_get(t, "archive");
	if (wheels && !json_is_array(wheels)) {
		bad(&w, "wheels", "expected an array of tables");
		goto out;
	}
	if (wheels && json_array_size(wheels)) {
		p->files = dk_xcalloc(json_array_size(wheels), sizeof(*p->files));
		json_array_foreach(wheels, i, e) {
			char *fat = dk_xasprintf("%swheels[%zu].", at, i);
			struct walk fw = { top->file, fat, top->err };
			int frc = read_file(&fw, e, lockdir, &p->files[p->n_files++]);

			free(fat);
			if (frc < 0)
				goto out;
		}
		rc = 0;
		goto out;
	}
	/* an archive may be a wheel by direct URL or path: that one is a file like any other */
	if (archive && json_is_object(archive)) {
		json_t *loc = json_object_get(archive, "url") ? json_object_get(archive, "url") : json_object_get(archive, "path");
		char *name = json_is_string(loc) ? base_name(json_string_value(loc)) : NULL;

		if (name && is_wheel_name(name)) {
			char *fat = dk_xasprintf("%sarchive.", at);
			struct walk fw = { top->file, fat, top->err };

			free(name);
			p->files = dk_xcalloc(1, sizeof(*p->files));
			rc = read_file(&fw, archive, lockdir, &p->files[p->n_files++]);
			free(fat);
			goto out;
		}
		free(name);
	}
	for (i = 0; i < sizeof(source_keys) / sizeof(*source_keys); i++)
		if (json_object_get(t, source_keys[i][0])) {
			dk_fail(top->err, DK_E_SPEC, "%s: packages[%zu] (%s): only %s %s entry, no wheels: "
				"derrick never builds from source", top->file, idx, shown,
				source_keys[i][1], source_keys[i][0]);
			goto out;
		}
	dk_fail(top->err, DK_E_SPEC, "%s: packages[%zu] (%s): no wheels", top->file, idx, shown);
out:
	free(shown);
	free(at);
	return rc;
}

/* lock-version "1.x": 0; anything else refused. */
static int check_version(const struct walk *w, json_t *doc)
{
	json_t *v = json_object_get(doc, "lock-version");
	const char *s;
	char *end;
	long major;

	if (!v)
		return bad(w, "lock-version", "missing (required): is this a pylock.toml?");
	if (!json_is_string(v))
		return bad(w, "lock-version", "expected a string such as \"1.0\"");
	s = json_string_value(v);
	major = isdigit((unsigned char)s[0]) ? strtol(s, &end, 10) : -1;
	if (major < 0 || (*end && (*end != '.' || !isdigit((unsigned char)end[1]))) || major != 1) {
		char *shown = dk_lock_printable(s);
		int rc = dk_fail(w->err, DK_E_SPEC, "%s: lock-version \"%s\": %s", w->file, shown,
				 major == 1 || major < 0 || (*end && *end != '.') ? "expected MAJOR.MINOR such as \"1.0\"" :
				 "derrick reads version 1 locks only");

		free(shown);
		return rc;
	}
	return 0;
}

int dk_pylock_parse(const char *text, size_t len, const char *path, struct dk_lock *lock,
		    struct dk_err *err)
{
	struct walk w = { path, "", err };
	json_t *doc, *pkgs, *e;
	char *lockdir = NULL, *created = NULL;
	size_t i;
	int rc = -1;

	memset(lock, 0, sizeof(*lock));
	lock->path = dk_xstrdup(path);
	doc = dk_toml_parse(text, len, path, err);
	if (!doc)
		goto out;
	if (check_version(&w, doc) < 0 || get_str(&w, doc, "created-by", 1, &created) < 0 ||
	    get_str(&w, doc, "requires-python", 0, &lock->requires_python) < 0 ||
	    get_strv(&w, doc, "environments", &lock->environments, &lock->n_environments) < 0 ||
	    get_strv(&w, doc, "extras", &lock->extras, &lock->n_extras) < 0 ||
	    get_strv(&w, doc, "dependency-groups", &lock->groups, &lock->n_groups) < 0 ||
	    get_strv(&w, doc, "default-groups", &lock->default_groups, &lock->n_default_groups) < 0)
		goto out;
	pkgs = json_object_get(doc, "packages");
	if (!pkgs) {
		bad(&w, "packages", "missing (required)");
		goto out;
	}
	if (!json_is_array(pkgs)) {
		bad(&w, "packages", "expected an array of tables ([[packages]])");
		goto out;
	}
	lockdir = dk_dirname(path);
	lock->pkgs = dk_xcalloc(json_array_size(pkgs) + 1, sizeof(*lock->pkgs));
	json_array_foreach(pkgs, i, e) {
		if (read_package(&w, e, i, lockdir, &lock->pkgs[lock->n_pkgs++]) < 0)
			goto out;
	}
	rc = 0;
out:
	free(created);
	free(lockdir);
	json_decref(doc);
	if (rc < 0)
		dk_lock_release(lock);
	return rc;
}

/* Read a lock file whole and hand it to parse(). */
int dk_lock_read(const char *path, struct dk_lock *lock, struct dk_err *err, dk_lock_parser parse)
{
	char *text;
	size_t len;
	int rc;

	memset(lock, 0, sizeof(*lock));
	if (dk_read_file(path, LOCK_MAX_BYTES, &text, &len, err) < 0)
		return -1;
	rc = parse(text, len, path, lock, err);
	free(text);
	return rc;
}

int dk_pylock_load(const char *path, struct dk_lock *lock, struct dk_err *err)
{
	return dk_lock_read(path, lock, err, dk_pylock_parse);
}
