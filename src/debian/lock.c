/*
 * lock.c - the `debs` lock file: written in one deterministic form, read
 * back strictly (a lock is the whole truth of a build: nothing in it may
 * be ignored or guessed).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/deblock.h"
#include "derrick/util.h"
#include "show.h"

#define LOCK_MAX (64u << 20)

/* Debian Policy 5.6.1: lower-case letters, digits, + - . ; two or more; an alphanumeric first. */
static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+-.") == n;
}

static int arch_ok(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

static int sha256_ok(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct dk_deb_lock_entry *x = *(const struct dk_deb_lock_entry *const *)a;
	const struct dk_deb_lock_entry *y = *(const struct dk_deb_lock_entry *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->arch, y->arch);
}

static json_t *strings(char *const *list, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

int dk_deb_lock_dump(const struct dk_deb_lock *l, char **out, size_t *len, struct dk_err *err)
{
	const struct dk_deb_lock_entry **sorted = dk_xcalloc(l->n_entries + 1, sizeof(*sorted));
	json_t *root = json_object(), *srcs = json_array(), *ents = json_array();
	char *text;
	size_t i;
	int rc = -1;

	for (i = 0; i < l->n_entries; i++)
		sorted[i] = &l->entries[i];
	qsort(sorted, l->n_entries, sizeof(*sorted), entry_cmp);
	for (i = 0; i < l->n_sources; i++) {
		const struct dk_deb_lock_source *s = &l->sources[i];
		json_t *o = json_object();

		json_object_set_new(o, "url", json_string(s->url));
		json_object_set_new(o, "suite", json_string(s->suite));
		json_object_set_new(o, "components", strings(s->components, s->n_components));
		if (s->keyring)
			json_object_set_new(o, "keyring", json_string(s->keyring));
		json_object_set_new(o, "trusted", json_boolean(s->trusted));
		json_array_append_new(srcs, o);
	}
	for (i = 0; i < l->n_entries; i++) {
		const struct dk_deb_lock_entry *e = sorted[i];
		json_t *o;

		if (!name_ok(e->name) || !arch_ok(e->arch) || !sha256_ok(e->sha256) || !*e->version || !*e->url) {
			char *shown = dk_deb_show(e->name, strlen(e->name), 64);

			dk_fail(err, DK_E_INTERNAL, "lock entry %s: a bad name, architecture, version, url or sha256",
				shown);
			free(shown);
			goto out;
		}
		if (i && !entry_cmp(&sorted[i - 1], &sorted[i])) {
			dk_fail(err, DK_E_INTERNAL, "lock entry %s %s given twice", e->name, e->arch);
			goto out;
		}
		o = json_object();
		json_object_set_new(o, "name", json_string(e->name));
		json_object_set_new(o, "version", json_string(e->version));
		json_object_set_new(o, "architecture", json_string(e->arch));
		json_object_set_new(o, "url", json_string(e->url));
		json_object_set_new(o, "sha256", json_string(e->sha256));
		json_object_set_new(o, "size", json_integer((json_int_t)e->size));
		json_object_set_new(o, "why", json_string(e->why ? e->why : ""));
		json_array_append_new(ents, o);
	}
	json_object_set_new(root, "lock-version", json_integer(DK_DEB_LOCK_VERSION));
	json_object_set_new(root, "sources", srcs);
	json_object_set_new(root, "architectures", strings(l->archs, l->n_archs));
	json_object_set_new(root, "packages", strings(l->packages, l->n_packages));
	json_object_set_new(root, "entries", ents);
	srcs = ents = NULL;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		dk_oom("lock JSON");
	*out = dk_xasprintf("%s\n", text);
	*len = strlen(*out);
	free(text);
	rc = 0;
out:
	json_decref(srcs);
	json_decref(ents);
	json_decref(root);
	free(sorted);
	return rc;
}

int dk_deb_lock_write(const char *path, const struct dk_deb_lock *l, struct dk_err *err)
{
	char *text;
	size_t len;
	int rc;

	if (dk_deb_lock_dump(l, &text, &len, err) < 0)
		return -1;
	rc = dk_write_file_atomic(path, text, len, 0644, err);
	free(text);
	return rc;
}

/* --- reading --- */

struct rd {
	const char *where;
	struct dk_err *err;
};

/* The object's keys must all be among `known` (NULL-terminated). */
static int only_keys(struct rd *r, json_t *o, const char *path, const char *const *known)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		size_t i;

		for (i = 0; known[i] && strcmp(known[i], k); i++)
			;
		if (!known[i]) {
			char *shown = dk_deb_show(k, strlen(k), 64);

			dk_fail(r->err, DK_E_CORRUPT, "%s: %s%s%s: unknown key", r->where, path, *path ? "." : "", shown);
			free(shown);
			return -1;
		}
	}
	return 0;
}

static int get_str(struct rd *r, json_t *o, const char *path, const char *key, int optional, char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v && optional)
		return 0;
	if (!v)
		return dk_fail(r->err, DK_E_CORRUPT, "%s: %s%s%s: missing", r->where, path, *path ? "." : "", key);
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return dk_fail(r->err, DK_E_CORRUPT, "%s: %s%s%s: not a string", r->where, path, *path ? "." : "", key);
	*out = dk_xstrdup(json_string_value(v));
	return 0;
}

static int get_strings(struct rd *r, json_t *o, const char *path, const char *key, char ***list, size_t *n)
{
	json_t *a = json_object_get(o, key), *v;
	size_t i;

	if (!json_is_array(a))
		return dk_fail(r->err, DK_E_CORRUPT, "%s: %s%s%s: %s", r->where, path, *path ? "." : "", key,
			       a ? "not an array" : "missing");
	*list = dk_xcalloc(json_array_size(a) + 1, sizeof(**list));
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || !*json_string_value(v) ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return dk_fail(r->err, DK_E_CORRUPT, "%s: %s%s%s[%zu]: not a non-empty string", r->where, path,
				       *path ? "." : "", key, i);
		(*list)[(*n)++] = dk_xstrdup(json_string_value(v));
	}
	return 0;
}

static int read_source(struct rd *r, json_t *o, size_t i, struct dk_deb_lock_source *s)
{
	static const char *const keys[] = { "url", "suite", "components", "keyring", "trusted", NULL };
	char path[48];
	json_t *t;

	snprintf(path, sizeof(path), "sources[%zu]", i);
	if (!json_is_object(o))
		return dk_fail(r->err, DK_E_CORRUPT, "%s: %s: not an object", r->where, path);
	if (only_keys(r, o, path, keys) < 0 || get_str(r, o, path, "url", 0, &s->url) < 0 ||
	    get_str(r, o, path, "suite", 0, &s->suite) < 0 ||
	    get_strings(r, o, path, "components", &s->components, &s->n_components) < 0 ||
	    get_str(r, o, path, "keyring", 1, &s->keyring) < 0)
		return -1;
	t = json_object_get(o, "trusted");
	if (!json_is_boolean(t))
		return dk_fail(r->err, DK_E_CORRUPT, "%s: %s.trusted: %s", r->where, path,
			       t ? "not true or false" : "missing");
	s->trusted = json_is_true(t);
	return 0;
}

static int read_entry(struct rd *r, json_t *o, size_t i, struct dk_deb_lock_entry *e)
{
	static const char *const keys[] = { "name", "version", "architecture", "url", "sha256", "size", "why", NULL };
	char path[48], *sha = NULL;
	json_t *sz;
	int rc;

	snprintf(path, sizeof(path), "entries[%zu]", i);
	if (!json_is_object(o))
		return dk_fail(r->err, DK_E_CORRUPT, "%s: %s: not an object", r->where, path);
	if (only_keys(r, o, path, keys) < 0 || get_str(r, o, path, "name", 0, &e->name) < 0 ||
	    get_str(r, o, path, "version", 0, &e->version) < 0 ||
	    get_str(r, o, path, "architecture", 0, &e->arch) < 0 || get_str(r, o, path, "url", 0, &e->url) < 0 ||
	    get_str(r, o, path, "sha256", 0, &sha) < 0 || get_str(r, o, path, "why", 0, &e->why) < 0)
		goto fail;
	if (!name_ok(e->name)) {
		dk_fail(r->err, DK_E_CORRUPT, "%s: %s.name: not a Debian package name", r->where, path);
		goto fail;
	}
	if (!arch_ok(e->arch)) {
		dk_fail(r->err, DK_E_CORRUPT, "%s: %s.architecture: not a Debian architecture", r->where, path);
		goto fail;
	}
	if (!*e->version || !*e->url) {
		dk_fail(r->err, DK_E_CORRUPT, "%s: %s.%s: empty", r->where, path, *e->version ? "url" : "version");
		goto fail;
	}
	if (!sha256_ok(sha)) {
		dk_fail(r->err, DK_E_CORRUPT, "%s: %s.sha256: not 64 lower-case hex digits", r->where, path);
		goto fail;
	}
	memcpy(e->sha256, sha, sizeof(e->sha256));
	sz = json_object_get(o, "size");
	if (!json_is_integer(sz) || json_integer_value(sz) < 0) {
		dk_fail(r->err, DK_E_CORRUPT, "%s: %s.size: %s", r->where, path,
			sz ? "not a byte count" : "missing");
		goto fail;
	}
	e->size = (uint64_t)json_integer_value(sz);
	rc = 0;
	goto out;
fail:
	rc = -1;
out:
	free(sha);
	return rc;
}

void dk_deb_lock_free(struct dk_deb_lock *l)
{
	size_t i, j;

	for (i = 0; i < l->n_sources; i++) {
		free(l->sources[i].url);
		free(l->sources[i].suite);
		free(l->sources[i].keyring);
		for (j = 0; j < l->sources[i].n_components; j++)
			free(l->sources[i].components[j]);
		free(l->sources[i].components);
	}
	free(l->sources);
	for (i = 0; i < l->n_archs; i++)
		free(l->archs[i]);
	free(l->archs);
	for (i = 0; i < l->n_packages; i++)
		free(l->packages[i]);
	free(l->packages);
	for (i = 0; i < l->n_entries; i++) {
		free(l->entries[i].name);
		free(l->entries[i].version);
		free(l->entries[i].arch);
		free(l->entries[i].url);
		free(l->entries[i].why);
	}
	free(l->entries);
	memset(l, 0, sizeof(*l));
}

int dk_deb_lock_parse(const char *text, size_t len, const char *where, struct dk_deb_lock *l, struct dk_err *err)
{
	static const char *const keys[] = { "lock-version", "sources", "architectures", "packages", "entries", NULL };
	struct rd r = { where, err };
	json_error_t jerr;
	json_t *root, *v, *a;
	size_t i, j;

	memset(l, 0, sizeof(*l));
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		char *shown = dk_deb_show(jerr.text, strlen(jerr.text), sizeof(jerr.text));

		dk_fail(err, DK_E_CORRUPT, "%s: line %d: %s", where, jerr.line, shown);
		free(shown);
		return -1;
	}
	if (!json_is_object(root)) {
		dk_fail(err, DK_E_CORRUPT, "%s: not a JSON object", where);
		goto fail;
	}
	if (only_keys(&r, root, "", keys) < 0)
		goto fail;
	v = json_object_get(root, "lock-version");
	if (!json_is_integer(v) || json_integer_value(v) != DK_DEB_LOCK_VERSION) {
		dk_fail(err, DK_E_CORRUPT, "%s: lock-version: %s (this derrick reads version %d)", where,
			v ? "not a version it knows" : "missing", DK_DEB_LOCK_VERSION);
		goto fail;
	}
	a = json_object_get(root, "sources");
	if (!json_is_array(a)) {
		dk_fail(err, DK_E_CORRUPT, "%s: sources: %s", where, a ? "not an array" : "missing");
		goto fail;
	}
	l->sources = dk_xcalloc(json_array_size(a) + 1, sizeof(*l->sources));
	json_array_foreach(a, i, v) {
		l->n_sources++;
		if (read_source(&r, v, i, &l->sources[i]) < 0)
			goto fail;
	}
	if (get_strings(&r, root, "", "architectures", &l->archs, &l->n_archs) < 0 ||
	    get_strings(&r, root, "", "packages", &l->packages, &l->n_packages) < 0)
		goto fail;
	for (i = 0; i < l->n_archs; i++)
		if (!arch_ok(l->archs[i])) {
			dk_fail(err, DK_E_CORRUPT, "%s: architectures[%zu]: not a Debian architecture", where, i);
			goto fail;
		}
	a = json_object_get(root, "entries");
	if (!json_is_array(a)) {
		dk_fail(err, DK_E_CORRUPT, "%s: entries: %s", where, a ? "not an array" : "missing");
		goto fail;
	}
	l->entries = dk_xcalloc(json_array_size(a) + 1, sizeof(*l->entries));
	json_array_foreach(a, i, v) {
		l->n_entries++;
		if (read_entry(&r, v, i, &l->entries[i]) < 0)
			goto fail;
		for (j = 0; j < i; j++)
			if (!strcmp(l->entries[j].name, l->entries[i].name) &&
			    !strcmp(l->entries[j].arch, l->entries[i].arch)) {
				dk_fail(err, DK_E_CORRUPT, "%s: entries[%zu]: %s %s again (entries[%zu])", where, i,
					l->entries[i].name, l->entries[i].arch, j);
				goto fail;
			}
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	dk_deb_lock_free(l);
	return -1;
}

int dk_deb_lock_read(const char *path, struct dk_deb_lock *l, struct dk_err *err)
{
	char *text;
	size_t len;
	int rc;

	memset(l, 0, sizeof(*l));
	if (dk_read_file(path, LOCK_MAX, &text, &len, err) < 0)
		return -1;
	rc = dk_deb_lock_parse(text, len, path, l, err);
	free(text);
	return rc;
}

/* --- the lock against the spec --- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first name of one list that the other lacks, or NULL when both hold the same set. */
static const char *set_diff(char *const *a, size_t na, const char *const *b, size_t nb, int *in_lock)
{
	const char **x = dk_xcalloc(na + 1, sizeof(*x)), **y = dk_xcalloc(nb + 1, sizeof(*y));
	const char *d = NULL;
	size_t i = 0, j = 0;

	memcpy(x, a, na * sizeof(*x));
	memcpy(y, b, nb * sizeof(*y));
	qsort(x, na, sizeof(*x), str_cmp);
	qsort(y, nb, sizeof(*y), str_cmp);
	while (!d && (i < na || j < nb)) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(x[i], y[j]);

		if (c == 0) {
			i++, j++;
		} else {
			*in_lock = c < 0;
			d = c < 0 ? x[i] : y[j];
		}
	}
	free(x);
	free(y);
	return d;
}

static int differs(struct dk_err *err, const char *what, const char *lock, const char *spec)
{
	char *a = dk_deb_show(lock ? lock : "(none)", strlen(lock ? lock : "(none)"), 200);
	char *b = dk_deb_show(spec ? spec : "(none)", strlen(spec ? spec : "(none)"), 200);

	dk_fail(err, DK_E_SPEC, "the lock was made from another spec: %s is %s, the spec says %s", what, a, b);
	free(a);
	free(b);
	return -1;
}

int dk_deb_lock_matches(const struct dk_deb_lock *l, const struct dk_deb_source *srcs, size_t n_srcs,
			const char *const *packages, size_t n_packages, const char *const *archs, size_t n_archs,
			struct dk_err *err)
{
	char what[64];
	const char *d;
	int in_lock = 0;

	if (l->n_sources != n_srcs)
		return dk_fail(err, DK_E_SPEC, "the lock was made from another spec: %zu sources, the spec has %zu",
			       l->n_sources, n_srcs);
	for (size_t i = 0; i < n_srcs; i++) {
		const struct dk_deb_lock_source *a = &l->sources[i];
		const struct dk_deb_source *b = &srcs[i];

#define FIELD(f, x, y)                                                                                        \
	do {                                                                                                  \
		snprintf(what, sizeof(what), "sources[%zu].%s", i, f);                                        \
		if ((x) != (y) && (!(x) || !(y) || strcmp((x), (y))))                                         \
			return differs(err, what, (x), (y));                                                  \
	} while (0)
		FIELD("url", a->url, b->url);
		FIELD("suite", a->suite, b->suite);
		FIELD("keyring", a->keyring, b->keyring);
#undef FIELD
		if (a->n_components != b->n_components)
			return dk_fail(err, DK_E_SPEC, "the lock was made from another spec: sources[%zu].components "
				       "has %zu, the spec %zu", i, a->n_components, b->n_components);
		for (size_t j = 0; j < a->n_components; j++) {
			snprintf(what, sizeof(what), "sources[%zu].components[%zu]", i, j);
			if (strcmp(a->components[j], b->components[j]))
				return differs(err, what, a->components[j], b->components[j]);
		}
		if (!a->trusted != !b->trusted) {
			snprintf(what, sizeof(what), "sources[%zu].trusted", i);
			return differs(err, what, a->trusted ? "true" : "false", b->trusted ? "true" : "false");
		}
	}
	for (int k = 0; k < 2; k++) {
		char *shown;

		d = k == 0 ? set_diff(l->packages, l->n_packages, packages, n_packages, &in_lock) :
			     set_diff(l->archs, l->n_archs, archs, n_archs, &in_lock);
		if (!d)
			continue;
		shown = dk_deb_show(d, strlen(d), 200);
		dk_fail(err, DK_E_SPEC, "the lock was made from another spec: %s %s %s, %s", in_lock ? "the lock" : "the spec",
			k == 0 ? "asks for package" : "has architecture", shown,
			in_lock ? "the spec does not" : "the lock does not");
		free(shown);
		return -1;
	}
	return 0;
}
