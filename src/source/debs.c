/*
 * debs.c - the "debs" row: Debian packages from a lock, unpacked into one
 * layer with the package database (issue #13).  This file checks the
 * members; debs_plan.c plans, reads and locks.
 *
 * The layer's dest is the root: a package's paths are absolute.  deb.c
 * refuses any that would climb out of it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/debsrc.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/util.h"

static const struct dk_source_opt debs_members[] = {
	{ "lock", DK_OPT_SPEC_INPUT },
	{ "sources", DK_OPT_JSON },
	{ "packages", DK_OPT_STRINGS },
	{ "maintainer_scripts", DK_OPT_STRING },
	{ NULL, 0 }
};

static const char *const source_keys[] = { "url", "suite", "components", "keyring", "trusted", NULL };

static const struct dk_source_opt no_opts[] = { { NULL, 0 } };

/* A non-empty string without control bytes. */
static const char *text(json_t *v)
{
	const char *s = json_string_value(v);

	if (!s || !*s)
		return NULL;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return NULL;
	return s;
}

static int url_ok(const char *u)
{
	return !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8);
}

/* sources[i] into o->srcs[i]. */
static int one_source(const struct dk_spec_layer *l, const char *file, const char *dir, json_t *s, size_t i,
		      struct dk_debs_opts *o, struct dk_err *err)
{
	struct dk_deb_source *src = &o->srcs[i];
	char m[64];
	const char *key;
	json_t *v, *comps;
	size_t k;

	if (!json_is_object(s))
		return snprintf(m, sizeof(m), "sources[%zu]", i), dk_source_bad_member(err, file, l, m, "must be an object");
	json_object_foreach(s, key, v) {
		size_t j = 0;

		while (source_keys[j] && strcmp(source_keys[j], key))
			j++;
		if (!source_keys[j]) {
			char *shown = dk_str_printable(dk_xstrdup(key));
			char *m2 = dk_xasprintf("sources[%zu].%s", i, shown);

			dk_source_bad_member(err, file, l, m2, "unknown key (expected one of: url, suite, components, keyring, trusted)");
			free(m2);
			free(shown);
			return -1;
		}
	}
	if (!(src->url = text(json_object_get(s, "url"))) || !url_ok(src->url))
		return snprintf(m, sizeof(m), "sources[%zu].url", i),
		       dk_source_bad_member(err, file, l, m, "must be an http:// or https:// URL (the mirror's root)");
	if (!(src->suite = text(json_object_get(s, "suite"))) || strchr(src->suite, '/') || strstr(src->suite, ".."))
		return snprintf(m, sizeof(m), "sources[%zu].suite", i),
		       dk_source_bad_member(err, file, l, m, "must be a suite or codename (\"bookworm\")");
	comps = json_object_get(s, "components");
	if (!json_is_array(comps) || !json_array_size(comps))
		return snprintf(m, sizeof(m), "sources[%zu].components", i),
		       dk_source_bad_member(err, file, l, m, "must be a non-empty array of strings (\"main\")");
	src->components = dk_xcalloc(json_array_size(comps), sizeof(*src->components));
	json_array_foreach(comps, k, v) {
		const char *c = text(v);

		if (!c || strchr(c, '/') == c || strstr(c, ".."))
			return snprintf(m, sizeof(m), "sources[%zu].components[%zu]", i, k),
			       dk_source_bad_member(err, file, l, m, "must be a component name (\"main\")");
		((const char **)src->components)[k] = c;
		src->n_components++;
	}
	v = json_object_get(s, "keyring");
	if (v && !(src->keyring = text(v)))
		return snprintf(m, sizeof(m), "sources[%zu].keyring", i),
		       dk_source_bad_member(err, file, l, m, "must be the path of a keyring file");
	v = json_object_get(s, "trusted");
	if (v && !json_is_boolean(v))
		return snprintf(m, sizeof(m), "sources[%zu].trusted", i), dk_source_bad_member(err, file, l, m, "must be true or false");
	src->trusted = json_is_true(v);
	if (!src->keyring && !src->trusted)
		return snprintf(m, sizeof(m), "sources[%zu]", i),
		       dk_source_bad_member(err, file, l, m, "needs a \"keyring\" to check its InRelease against (or \"trusted\": true "
			   "to take it unverified)");
	if (src->keyring)
		o->keyrings[i] = src->keyring[0] == '/' ? dk_xstrdup(src->keyring) : dk_path_join(dir, src->keyring);
	return 0;
}

int dk_debs_opts(const struct dk_spec_layer *l, const char *spec_file, struct dk_debs_opts *o, struct dk_err *err)
{
	const char *sources = dk_spec_opt_value(l, "sources"), *scripts = dk_spec_opt_value(l, "maintainer_scripts");
	char *dir = dk_dirname(spec_file);
	int rc = -1;

	memset(o, 0, sizeof(*o));
	o->lock = dk_spec_opt_value(l, "lock");
	o->packages = dk_spec_opt_list(l, "packages");
	if (!sources || !(o->json = json_loads(sources, JSON_DECODE_ANY, NULL)) || !json_is_array(o->json) ||
	    !json_array_size(o->json)) {
		dk_source_bad_member(err, spec_file, l, "sources", "must be a non-empty array of sources ({\"url\", \"suite\", "
		    "\"components\", \"keyring\"})");
		goto out;
	}
	o->n_srcs = json_array_size(o->json);
	o->srcs = dk_xcalloc(o->n_srcs, sizeof(*o->srcs));
	o->keyrings = dk_xcalloc(o->n_srcs, sizeof(*o->keyrings));
	for (size_t i = 0; i < o->n_srcs; i++)
		if (one_source(l, spec_file, dir, json_array_get(o->json, i), i, o, err) < 0)
			goto out;
	if (!o->packages->n) {
		dk_source_bad_member(err, spec_file, l, "packages", "must name at least one package");
		goto out;
	}
	for (size_t i = 0; i < o->packages->n; i++) {
		const char *p = o->packages->v[i];

		json_t *js = json_string(p);
		int ok = js && text(js) && !strpbrk(p, " ,/()|");

		json_decref(js);
		if (!ok) {
			char m[32];
			char *shown = dk_str_printable(dk_xstrdup(p));

			snprintf(m, sizeof(m), "packages[%zu]", i);
			dk_source_bad_member(err, spec_file, l, m, "\"%s\": expected a package name, \"name:arch\" or \"name=version\"",
			    shown);
			free(shown);
			goto out;
		}
	}
	if (scripts && strcmp(scripts, "warn") && strcmp(scripts, "refuse")) {
		dk_source_bad_member(err, spec_file, l, "maintainer_scripts", "\"%s\": expected \"warn\" or \"refuse\"", scripts);
		goto out;
	}
	o->refuse_scripts = scripts && !strcmp(scripts, "refuse");
	rc = 0;
out:
	free(dir);
	return rc;
}

void dk_debs_opts_free(struct dk_debs_opts *o)
{
	for (size_t i = 0; i < o->n_srcs; i++) {
		free((void *)o->srcs[i].components);
		free(o->keyrings[i]);
	}
	free(o->srcs);
	free(o->keyrings);
	json_decref(o->json);
	memset(o, 0, sizeof(*o));
}

/* The members, checked; the layer writes from the root. */
static int debs_check(struct dk_spec_layer *l, const char *spec_file, struct dk_err *err)
{
	struct dk_debs_opts o;
	int rc = dk_debs_opts(l, spec_file, &o, err);

	dk_debs_opts_free(&o);
	if (rc == 0) {
		free(l->dest);
		l->dest = dk_xstrdup("");
		l->dest_is_dir = 1;
	}
	return rc;
}

const struct dk_source_kind dk_source_debs = {
	.key = "debs",
	.hint = "an object naming a lock file",
	.noun = "Debian packages from a lock",
	.verb = "DEBS",
	.opts = no_opts,
	.members = debs_members,
	.check = debs_check,
	.plan = dk_debs_plan,
	.needs_base = 1,
	.key_from_plan = 1,
	.read = dk_debs_read,
	.lock = dk_debs_lock,
	.find_file = dk_debs_find_file,
	.find_dir = dk_debs_find_dir,
};
