/*
 * spec.c - read derrick.json with jansson into struct dk_spec.
 *
 * Every check names where it failed: "FILE: KEY.PATH: what is wrong", and
 * JSON syntax errors come as "FILE:LINE:COLUMN: what jansson saw".
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/compress.h"
#include "derrick/entry.h"
#include "derrick/ref.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/util.h"

struct ctx {
	const char *file;
	const char *dir;
	struct dk_err *err;
};

static int bad(struct ctx *c, const char *where, const char *what)
{
	return dk_fail(c->err, DK_E_SPEC, "%s: %s: %s", c->file, where, what);
}

/* Unknown keys are errors: list the ones we know for the message. */
static int check_keys(struct ctx *c, json_t *obj, const char *where, const char *const *known)
{
	const char *key;
	json_t *val;

	json_object_foreach(obj, key, val) {
		int ok = 0;

		for (const char *const *k = known; *k; k++)
			if (!strcmp(key, *k))
				ok = 1;
		if (!ok) {
			struct strbuf sb = STRBUF_INIT;
			char *path = *where ? dk_xasprintf("%s.%s", where, key) : dk_xstrdup(key);

			for (const char *const *k = known; *k; k++)
				sb_join(&sb, ", ", *k);
			dk_fail(c->err, DK_E_SPEC, "%s: %s: unknown key (expected one of: %s)",
				c->file, path, sb.buf);
			free(path);
			sb_release(&sb);
			return -1;
		}
	}
	return 0;
}

static char *keypath(const char *where, const char *key)
{
	return *where ? dk_xasprintf("%s.%s", where, key) : dk_xstrdup(key);
}

/* An optional string member: 0 when absent, 1 when read, -1 when not a string. */
static int get_string(struct ctx *c, json_t *obj, const char *where, const char *key, char **out)
{
	json_t *v = json_object_get(obj, key);
	char *p;

	if (!v)
		return 0;
	if (!json_is_string(v)) {
		p = keypath(where, key);
		bad(c, p, "must be a string");
		free(p);
		return -1;
	}
	*out = dk_xstrdup(json_string_value(v));
	return 1;
}

static int get_strlist(struct ctx *c, json_t *obj, const char *where, const char *key,
		       struct dk_strlist *out)
{
	json_t *v = json_object_get(obj, key);
	char *p;
	size_t i;
	json_t *item;

	if (!v)
		return 0;
	p = keypath(where, key);
	if (!json_is_array(v)) {
		bad(c, p, "must be an array of strings");
		free(p);
		return -1;
	}
	out->v = dk_xcalloc(json_array_size(v) + 1, sizeof(char *));
	json_array_foreach(v, i, item) {
		if (!json_is_string(item)) {
			char *ip = dk_xasprintf("%s[%zu]", p, i);

			bad(c, ip, "must be a string");
			free(ip);
			free(p);
			return -1;
		}
		out->v[out->n++] = dk_xstrdup(json_string_value(item));
	}
	free(p);
	return 1;
}

static int get_kvlist(struct ctx *c, json_t *obj, const char *where, const char *key,
		      struct dk_kvlist *out)
{
	json_t *v = json_object_get(obj, key);
	const char *k;
	json_t *val;
	char *p;

	if (!v)
		return 0;
	p = keypath(where, key);
	if (!json_is_object(v)) {
		bad(c, p, "must be an object of strings");
		free(p);
		return -1;
	}
	out->v = dk_xcalloc(json_object_size(v) + 1, sizeof(*out->v));
	json_object_foreach(v, k, val) {
		if (!json_is_string(val)) {
			char *kp = dk_xasprintf("%s.%s", p, k);

			bad(c, kp, "must be a string");
			free(kp);
			free(p);
			return -1;
		}
		if (!*k) {
			bad(c, p, "empty key");
			free(p);
			return -1;
		}
		out->v[out->n].key = dk_xstrdup(k);
		out->v[out->n].value = dk_xstrdup(json_string_value(val));
		out->n++;
	}
	free(p);
	return 1;
}

static char *resolve(const struct ctx *c, const char *p)
{
	if (p[0] == '/')
		return dk_xstrdup(p);
	return dk_path_join(c->dir, p);
}

/* "/usr/local/" -> "usr/local"; refuses relative paths and "..". */
static int clean_dest(struct ctx *c, const char *where, const char *raw, char **out, int *is_dir)
{
	if (raw[0] != '/')
		return bad(c, where, "dest must be an absolute path in the image (start with '/')");
	*is_dir = raw[strlen(raw) - 1] == '/';
	*out = dk_path_clean(raw);
	if (!*out)
		return bad(c, where, "dest must not contain \"..\"");
	return 0;
}

static int get_id(struct ctx *c, json_t *obj, const char *where, const char *key, uint32_t *out)
{
	json_t *v = json_object_get(obj, key);
	char *p;

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0x7fffffff) {
		p = keypath(where, key);
		bad(c, p, "must be a non-negative integer");
		free(p);
		return -1;
	}
	*out = (uint32_t)json_integer_value(v);
	return 1;
}

/* Modes are octal strings ("0644"): JSON has no octal numbers and 644 would mislead. */
static int get_mode(struct ctx *c, json_t *obj, const char *where, const char *key, int *out)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	char *end, *p;
	long m;

	if (!v)
		return 0;
	p = keypath(where, key);
	if (!json_is_string(v)) {
		bad(c, p, "must be an octal string such as \"0644\"");
		free(p);
		return -1;
	}
	s = json_string_value(v);
	m = strtol(s, &end, 8);
	if (!*s || *end || m < 0 || m > 07777) {
		bad(c, p, "must be an octal mode between \"0000\" and \"7777\"");
		free(p);
		return -1;
	}
	free(p);
	*out = (int)m;
	return 1;
}

/* The common layer options, after the input and dest in the list of keys. */
static const char *const common_keys[] = { "uid", "gid", "file_mode", "dir_mode", NULL };

static const struct dk_source_opt *kind_opt(const struct dk_source_kind *k, const char *key)
{
	for (const struct dk_source_opt *o = k->opts; o->key; o++)
		if (!strcmp(o->key, key))
			return o;
	return NULL;
}

/* Every key a layer may have, from the table: inputs, dest, the kinds' options, the common ones. */
static int check_layer_keys(struct ctx *c, json_t *obj, const char *where)
{
	const struct dk_source_kind *const *k;
	const struct dk_source_opt *o;
	size_t n = 0, cap = 3 + sizeof(common_keys) / sizeof(*common_keys);
	const char **keys;
	int rc;

	for (k = dk_source_kinds; *k; k++)
		for (cap++, o = (*k)->opts; o->key; o++)
			cap++;
	keys = dk_xcalloc(cap, sizeof(*keys));
	for (k = dk_source_kinds; *k; k++)
		keys[n++] = (*k)->key;
	keys[n++] = "dest";
	keys[n++] = "platforms";
	for (k = dk_source_kinds; *k; k++)
		for (o = (*k)->opts; o->key; o++) {
			size_t i = 0;

			while (i < n && strcmp(keys[i], o->key))
				i++;
			if (i == n)
				keys[n++] = o->key;
		}
	for (const char *const *ck = common_keys; *ck; ck++)
		keys[n++] = *ck;
	rc = check_keys(c, obj, where, keys);
	free(keys);
	return rc;
}

/* The separator before item i of n in "a, b or c". */
static const char *list_sep(size_t i, size_t n, const char *last)
{
	return i == 0 ? "" : i + 1 == n ? last : ", ";
}

/* A layer names its input with exactly one kind's key. */
static int no_single_kind(struct ctx *c, const char *where)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0, n_bare = 0;

	while (dk_source_kinds[n])
		n_bare += dk_source_kinds[n++]->no_input != 0;
	sb_adds(&sb, "needs exactly one of ");
	for (size_t i = 0, j = 0; i < n; i++) {
		if (dk_source_kinds[i]->no_input)
			continue;
		sb_addf(&sb, "%s\"%s\"", list_sep(j++, n - n_bare, " or "), dk_source_kinds[i]->key);
		if (dk_source_kinds[i]->hint)
			sb_addf(&sb, " (%s)", dk_source_kinds[i]->hint);
	}
	for (size_t i = 0; i < n; i++)
		if (dk_source_kinds[i]->no_input)
			sb_addf(&sb, ", or \"%s\" alone (%s)", dk_source_kinds[i]->key,
				dk_str_or(dk_source_kinds[i]->hint, dk_source_kinds[i]->noun));
	bad(c, where, sb.buf);
	sb_release(&sb);
	return -1;
}

/*
 * An option of another kind that this kind does not take: say whose it is.
 * An empty list asks for nothing, and specs have always been allowed one.
 */
static int check_foreign_opts(struct ctx *c, json_t *obj, const char *where, const struct dk_source_kind *kind)
{
	for (const struct dk_source_kind *const *k = dk_source_kinds; *k; k++) {
		for (const struct dk_source_opt *o = (*k)->opts; o->key; o++) {
			json_t *v = json_object_get(obj, o->key);
			struct strbuf sb = STRBUF_INIT;
			size_t n = 0;

			if (*k == kind || !v || (json_is_array(v) && !json_array_size(v)) || kind_opt(kind, o->key))
				continue;
			while ((*k)->opts[n].key)
				n++;
			for (size_t i = 0; i < n; i++)
				sb_addf(&sb, "%s%s", list_sep(i, n, " and "), (*k)->opts[i].key);
			sb_addf(&sb, " appl%s to %s, not to %s", n > 1 ? "y" : "ies", (*k)->noun, kind->noun);
			bad(c, where, sb.buf);
			sb_release(&sb);
			return -1;
		}
	}
	return 0;
}

/*
 * Read option o of obj into so (its key already set): 1 when given, 0 when
 * absent, -1 on a wrong type.  A relative DK_OPT_INPUT_PATH is relative to
 * `input`, a relative DK_OPT_SPEC_PATH(S) to the spec's directory.
 */
static int parse_opt(struct ctx *c, json_t *obj, const char *where, const struct dk_source_opt *o,
		     const char *input, struct dk_spec_opt *so)
{
	char *s = NULL;
	int r;

	switch (o->type) {
	case DK_OPT_STRINGS:
	case DK_OPT_SPEC_PATHS:
		r = get_strlist(c, obj, where, o->key, &so->list);
		for (size_t i = 0; r > 0 && o->type == DK_OPT_SPEC_PATHS && i < so->list.n; i++) {
			char *abs = resolve(c, so->list.v[i]);

			free(so->list.v[i]);
			so->list.v[i] = abs;
		}
		return r;
	case DK_OPT_STRING:
		return get_string(c, obj, where, o->key, &so->value);
	case DK_OPT_JSON:
		if (!json_object_get(obj, o->key))
			return 0;
		so->value = json_dumps(json_object_get(obj, o->key), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		return so->value ? 1 : -1;
	case DK_OPT_INPUT_PATH:
	case DK_OPT_SPEC_PATH:
	case DK_OPT_SPEC_INPUT:
		r = get_string(c, obj, where, o->key, &s);
		if (r > 0 && o->type == DK_OPT_INPUT_PATH)
			so->value = s[0] == '/' ? dk_xstrdup(s) : dk_path_join(input, s);
		else if (r > 0)
			so->value = resolve(c, s);
		free(s);
		return r;
	}
	return 0;
}

/* Options of row list `opts` given in obj, into l->opts. */
static int parse_opts(struct ctx *c, json_t *obj, const char *where, const struct dk_source_opt *opts,
		      struct dk_spec_layer *l)
{
	size_t n = 0;

	while (opts[n].key)
		n++;
	l->opts = dk_xcalloc(n + 1, sizeof(*l->opts));
	for (const struct dk_source_opt *o = opts; o->key; o++) {
		struct dk_spec_opt *so = &l->opts[l->n_opts];
		int r;

		so->key = o->key;
		r = parse_opt(c, obj, where, o, l->input, so);
		if (r != 0)
			l->n_opts++;
		if (r < 0)
			return -1;
	}
	return 0;
}

/*
 * An object-valued kind key (`"wheels": {...}`): only its members, typed,
 * into l->opts; exactly one input member names the input, which is
 * returned in *input as written.
 */
static int parse_members(struct ctx *c, json_t *val, const char *where, struct dk_spec_layer *l, char **input)
{
	const struct dk_source_opt *m, *in = NULL;
	char *mw = dk_xasprintf("%s.%s", where, l->kind->key);
	const char **keys;
	size_t n = 0, n_in = 0;
	int rc = -1;

	for (m = l->kind->members; m->key; m++)
		n++;
	keys = dk_xcalloc(n + 1, sizeof(*keys));
	for (n = 0, m = l->kind->members; m->key; m++)
		keys[n++] = m->key;
	if (check_keys(c, val, mw, keys) < 0 || parse_opts(c, val, mw, l->kind->members, l) < 0)
		goto out;
	for (m = l->kind->members; m->key; m++)
		if (m->type == DK_OPT_SPEC_INPUT && json_object_get(val, m->key)) {
			if (!n_in++)
				in = m;
		}
	if (n_in != 1) {
		struct strbuf sb = STRBUF_INIT;
		size_t total = 0, j = 0;

		for (m = l->kind->members; m->key; m++)
			total += m->type == DK_OPT_SPEC_INPUT;
		/* a kind with a single input (debs: "lock") needs it, not "one of" it */
		sb_adds(&sb, n_in ? "takes only one of " : total == 1 ? "needs " : "needs one of ");
		for (m = l->kind->members; m->key; m++)
			if (m->type == DK_OPT_SPEC_INPUT)
				sb_addf(&sb, "%s\"%s\"", list_sep(j++, total, " or "), m->key);
		bad(c, mw, sb.buf);
		sb_release(&sb);
		goto out;
	}
	*input = dk_xstrdup(json_string_value(json_object_get(val, in->key)));
	if (!**input) {
		char *p = keypath(mw, in->key);

		bad(c, p, "is empty");
		free(p);
		goto out;
	}
	rc = 0;
out:
	free(keys);
	free(mw);
	return rc;
}

/* Why in-layer path p cannot be deleted beside the ones before it, or NULL. */
static char *delete_conflict(const struct dk_strlist *before, const char *p)
{
	for (size_t j = 0; j < before->n; j++) {
		const char *q = before->v[j];
		size_t lq = strlen(q), lp = strlen(p);

		if (!strcmp(p, q))
			return dk_xasprintf("\"/%s\" is already in delete[%zu]", p, j);
		if (lp > lq && !strncmp(p, q, lq) && p[lq] == '/')
			return dk_xasprintf("\"/%s\" lies in \"/%s\", which delete[%zu] deletes whole", p, q, j);
		if (lq > lp && !strncmp(q, p, lp) && q[lp] == '/')
			return dk_xasprintf("\"/%s\" holds \"/%s\" of delete[%zu]: delete only \"/%s\"", p, q, j, p);
	}
	return NULL;
}

/*
 * "delete": absolute paths in the image, kept as in-layer paths.  Each is
 * named once, none inside another (deleting a directory deletes all of
 * it), and none is a whiteout name: those are written, never deleted.
 */
static int parse_deletes(struct ctx *c, json_t *obj, const char *where, struct dk_spec_layer *l)
{
	struct dk_strlist raw = { NULL, 0 };
	int rc = get_strlist(c, obj, where, "delete", &raw);

	l->deletes.v = dk_xcalloc(raw.n + 1, sizeof(char *));
	for (size_t i = 0; i < raw.n && rc >= 0; i++) {
		char *p = dk_xasprintf("%s.delete[%zu]", where, i);
		char *clean = raw.v[i][0] == '/' ? dk_path_clean(raw.v[i]) : NULL;
		char *why = NULL;

		if (raw.v[i][0] != '/')
			why = dk_xstrdup("must be an absolute path in the image (start with '/')");
		else if (!clean)
			why = dk_xstrdup("must not contain \"..\"");
		else if (!*clean)
			why = dk_xstrdup("cannot delete \"/\"");
		else if (dk_whiteout_component(clean))
			why = dk_xstrdup("names starting with \".wh.\" are whiteouts, not paths that can be deleted");
		else
			why = delete_conflict(&l->deletes, clean);
		if (why) {
			rc = bad(c, p, why);
			free(clean);
		} else {
			l->deletes.v[l->deletes.n++] = clean;
		}
		free(why);
		free(p);
	}
	dk_strlist_free(&raw);
	return rc < 0 ? -1 : 0;
}

/* A layer that only deletes: its paths, as written, are its input in messages and history. */
static char *deletes_text(const struct dk_spec_layer *l)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < l->deletes.n; i++)
		sb_addf(&sb, "%s/%s", i ? " " : "", l->deletes.v[i]);
	return sb_detach(&sb);
}

static int parse_layer(struct ctx *c, json_t *obj, const char *where, struct dk_spec_layer *l);

/* The keys that name a layer's input and its kind's options: what a platform's object holds. */
static const char **input_keys(void)
{
	size_t n = 0, cap = 1;
	const char **keys;

	for (const struct dk_source_kind *const *k = dk_source_kinds; *k; k++) {
		cap++;
		for (const struct dk_source_opt *o = (*k)->opts; o->key; o++)
			cap++;
	}
	keys = dk_xcalloc(cap, sizeof(*keys));
	for (const struct dk_source_kind *const *k = dk_source_kinds; *k; k++) {
		if (!(*k)->no_input)
			keys[n++] = (*k)->key;
		for (const struct dk_source_opt *o = (*k)->opts; o->key; o++) {
			size_t i = 0;

			while (i < n && strcmp(keys[i], o->key))
				i++;
			if (i == n)
				keys[n++] = o->key;
		}
	}
	return keys;
}

/*
 * "platforms": {"linux/arm64": {"source": ...}, ...}.  Each platform's
 * object holds the input and its kind's options; the layer's other keys
 * (dest, ownership, modes, delete) hold for every platform.  Each variant
 * is parsed as the whole layer it stands for, so it is checked as any
 * layer is.
 */
static int parse_platform_layer(struct ctx *c, json_t *obj, json_t *plats, const char *where,
				struct dk_spec_layer *l)
{
	const char **keys = input_keys();
	char *pw = keypath(where, "platforms");
	const char *name;
	json_t *v;
	int rc = 0;

	for (const char **k = keys; *k && rc == 0; k++)
		if (json_object_get(obj, *k)) {
			char *msg = dk_xasprintf("\"%s\" goes in each platform's object of \"platforms\"", *k);

			rc = bad(c, where, msg);
			free(msg);
		}
	if (rc == 0 && (!json_is_object(plats) || !json_object_size(plats)))
		rc = bad(c, pw, "must be an object of platforms (\"linux/arm64\": { \"source\": ... })");
	if (rc == 0)
		l->variants = dk_xcalloc(json_object_size(plats), sizeof(*l->variants));
	json_object_foreach(plats, name, v) {
		struct dk_spec_layer *var;
		char *vw;
		struct dk_platform p;
		json_t *whole;

		/* no variants were allocated after an error: stop before indexing them */
		if (rc < 0)
			break;
		var = &l->variants[l->n_variants];
		vw = dk_xasprintf("%s.%s", pw, name);
		if (dk_platform_parse(name, &p, c->err) < 0) {
			char *msg = dk_xstrdup(c->err->msg);

			rc = bad(c, vw, msg);
			free(msg);
		} else if (!json_is_object(v)) {
			rc = bad(c, vw, "must be an object: the platform's input and its options");
		} else {
			rc = check_keys(c, v, vw, keys);
		}
		for (size_t i = 0; rc == 0 && i < l->n_variants; i++)
			if (dk_platform_match(&l->variants[i].platform, &p) == DK_PLATFORM_EXACT) {
				char *msg = dk_xasprintf("the same platform as %s", l->variants[i].where + strlen(pw) + 1);

				rc = bad(c, vw, msg);
				free(msg);
			}
		if (rc == 0) {
			whole = json_deep_copy(obj);
			json_object_del(whole, "platforms");
			json_object_update(whole, v);
			rc = parse_layer(c, whole, vw, var);
			var->platform = p;
			l->n_variants++;
			json_decref(whole);
		}
		free(vw);
	}
	free(pw);
	free(keys);
	return rc;
}

static int parse_layer(struct ctx *c, json_t *obj, const char *where, struct dk_spec_layer *l)
{
	char *input = NULL, *dest = NULL;
	const struct dk_source_kind *bare = NULL;
	json_t *members = NULL;
	int rc = -1, n_inputs = 0;
	json_t *plats = json_object_get(obj, "platforms");

	l->where = dk_xstrdup(where);
	l->file_mode = l->dir_mode = -1;
	if (!json_is_object(obj))
		return bad(c, where, "must be an object");
	if (check_layer_keys(c, obj, where) < 0)
		return -1;
	if (plats)
		return parse_platform_layer(c, obj, plats, where, l);
	for (const struct dk_source_kind *const *k = dk_source_kinds; *k; k++) {
		json_t *v = json_object_get(obj, (*k)->key);
		char *s = NULL;
		int r;

		if ((*k)->no_input) {
			bare = *k;
			continue;
		}
		if ((*k)->members) {
			if (!v)
				continue;
			if (!json_is_object(v)) {
				char *p = keypath(where, (*k)->key);

				bad(c, p, "must be an object");
				free(p);
				goto out;
			}
			if (!n_inputs++) {
				l->kind = *k;
				members = v;
			}
			continue;
		}
		r = get_string(c, obj, where, (*k)->key, &s);

		if (r < 0)
			goto out;
		if (r > 0 && !n_inputs++) {
			l->kind = *k;
			input = s;
		} else {
			free(s);
		}
	}
	if (get_string(c, obj, where, "dest", &dest) < 0 ||
	    get_id(c, obj, where, "uid", &l->uid) < 0 ||
	    get_id(c, obj, where, "gid", &l->gid) < 0 ||
	    get_mode(c, obj, where, "file_mode", &l->file_mode) < 0 ||
	    get_mode(c, obj, where, "dir_mode", &l->dir_mode) < 0 ||
	    parse_deletes(c, obj, where, l) < 0)
		goto out;
	if (!n_inputs && bare && l->deletes.n) {
		l->kind = bare;
		input = deletes_text(l);
		if (dest) {
			char *msg = dk_xasprintf("dest does not apply to %s (its paths are absolute)", bare->noun);

			bad(c, where, msg);
			free(msg);
			goto out;
		}
	} else if (n_inputs != 1) {
		no_single_kind(c, where);
		goto out;
	} else if (members) {
		if (dest) {
			char *msg = dk_xasprintf("dest does not apply to %s: its own keys say where it writes",
						 l->kind->noun);

			bad(c, where, msg);
			free(msg);
			goto out;
		}
		if (parse_members(c, members, where, l, &input) < 0)
			goto out;
	}
	if (!*input) {
		char *msg = dk_xasprintf("%s is empty", l->kind->key);

		bad(c, where, msg);
		free(msg);
		goto out;
	}
	if (check_foreign_opts(c, obj, where, l->kind) < 0 ||
	    clean_dest(c, where, dest ? dest : "/", &l->dest, &l->dest_is_dir) < 0)
		goto out;
	l->origin = dk_xstrdup(input);
	/* a layer without input reads no file: the spec's directory stands in for one */
	l->input = l->kind->no_input ? dk_xstrdup(c->dir) : resolve(c, input);
	if (!members && parse_opts(c, obj, where, l->kind->opts, l) < 0)
		goto out;
	if (dk_source_check(l, c->file, c->err) < 0)
		goto out;
	rc = 0;
out:
	free(input);
	free(dest);
	return rc;
}

static int parse_stages(struct ctx *c, json_t *arr, struct dk_spec *s)
{
	size_t i;
	json_t *st;

	if (!arr)
		return bad(c, "stages", "missing: the spec needs at least one stage");
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return bad(c, "stages", "must be a non-empty array of stages");
	s->stages = dk_xcalloc(json_array_size(arr), sizeof(*s->stages));
	json_array_foreach(arr, i, st) {
		static const char *const keys[] = { "name", "layers", NULL };
		struct dk_spec_stage *stage = &s->stages[s->n_stages++];
		char *where = dk_xasprintf("stages[%zu]", i);
		json_t *layers = json_object_get(st, "layers");
		int rc = -1;

		if (!json_is_object(st)) {
			bad(c, where, "must be an object");
		} else if (check_keys(c, st, where, keys) < 0 ||
			   get_string(c, st, where, "name", &stage->name) < 0) {
			;
		} else if (!stage->name || !*stage->name) {
			bad(c, where, "needs a non-empty \"name\"");
		} else if (dk_spec_stage_index(s, stage->name) != (long)i) {
			char *msg = dk_xasprintf("duplicate stage name \"%s\"", stage->name);

			bad(c, where, msg);
			free(msg);
		} else if (layers && !json_is_array(layers)) {
			char *p = dk_xasprintf("%s.layers", where);

			bad(c, p, "must be an array of layers");
			free(p);
		} else {
			size_t j;
			json_t *lobj;

			rc = 0;
			stage->layers = dk_xcalloc(json_array_size(layers) + 1, sizeof(*stage->layers));
			json_array_foreach(layers, j, lobj) {
				char *lw = dk_xasprintf("%s.layers[%zu]", where, j);

				rc = parse_layer(c, lobj, lw, &stage->layers[stage->n_layers++]);
				free(lw);
				if (rc < 0)
					break;
			}
		}
		free(where);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int parse_config(struct ctx *c, json_t *obj, struct dk_spec_config *cfg)
{
	static const char *const keys[] = {
		"entrypoint", "cmd", "workdir", "user", "env", "exposed_ports", "volumes",
		"stop_signal", "labels", NULL
	};
	int r;

	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return bad(c, "config", "must be an object");
	if (check_keys(c, obj, "config", keys) < 0)
		return -1;
	if ((r = get_strlist(c, obj, "config", "entrypoint", &cfg->entrypoint)) < 0)
		return -1;
	cfg->has_entrypoint = r;
	if ((r = get_strlist(c, obj, "config", "cmd", &cfg->cmd)) < 0)
		return -1;
	cfg->has_cmd = r;
	if (get_string(c, obj, "config", "workdir", &cfg->workdir) < 0 ||
	    get_string(c, obj, "config", "user", &cfg->user) < 0 ||
	    get_string(c, obj, "config", "stop_signal", &cfg->stop_signal) < 0 ||
	    get_kvlist(c, obj, "config", "env", &cfg->env) < 0 ||
	    get_strlist(c, obj, "config", "exposed_ports", &cfg->exposed_ports) < 0 ||
	    get_strlist(c, obj, "config", "volumes", &cfg->volumes) < 0 ||
	    get_kvlist(c, obj, "config", "labels", &cfg->labels) < 0)
		return -1;
	for (size_t i = 0; i < cfg->env.n; i++)
		if (strchr(cfg->env.v[i].key, '=')) {
			char *p = dk_xasprintf("config.env.%s", cfg->env.v[i].key);

			bad(c, p, "an environment variable name cannot contain '='");
			free(p);
			return -1;
		}
	return 0;
}

static int parse_base(struct ctx *c, json_t *v, struct dk_spec *s)
{
	const char *b;

	if (!v) {
		s->base = dk_xstrdup("scratch");
		return 0;
	}
	if (!json_is_string(v))
		return bad(c, "base", "must be a string: \"scratch\", \"oci:DIR[:TAG]\" or \"docker://REF\"");
	b = json_string_value(v);
	if (!strcmp(b, "scratch")) {
		s->base = dk_xstrdup(b);
	} else {
		struct dk_ref ref;
		const char *local;

		if (dk_ref_parse(b, &ref, c->err) < 0) {
			c->err->code = DK_E_SPEC;
			return dk_err_prefix(c->err, "%s: base", c->file);
		}
		/* a local image's path is relative to the spec, like every other path */
		local = dk_ref_local_path(&ref);
		if (local) {
			char *p = resolve(c, local);

			s->base = dk_ref_with_path(&ref, p);
			free(p);
		} else {
			s->base = dk_xstrdup(b);
		}
		dk_ref_free(&ref);
	}
	return 0;
}

int dk_spec_parse(const char *text, const char *path, struct dk_spec *s, struct dk_err *err)
{
	static const char *const keys[] = { "base", "stages", "config", "annotations", "cache_repo", "compression", NULL };
	struct ctx c = { path, NULL, err };
	json_error_t jerr;
	json_t *root;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	s->path = dk_xstrdup(path);
	s->dir = dk_dirname(path);
	c.dir = s->dir;
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		dk_fail(err, DK_E_SPEC, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		dk_fail(err, DK_E_SPEC, "%s: the spec must be a JSON object", path);
		goto out;
	}
	if (check_keys(&c, root, "", keys) < 0 ||
	    parse_base(&c, json_object_get(root, "base"), s) < 0 ||
	    parse_stages(&c, json_object_get(root, "stages"), s) < 0 ||
	    parse_config(&c, json_object_get(root, "config"), &s->config) < 0 ||
	    get_kvlist(&c, root, "", "annotations", &s->annotations) < 0 ||
	    get_string(&c, root, "", "cache_repo", &s->cache_repo) < 0 ||
	    get_string(&c, root, "", "compression", &s->compression) < 0)
		goto out;
	if (s->compression && !dk_compressor_by_name(s->compression)) {
		char *names = dk_compressor_names("\"");

		dk_fail(err, DK_E_SPEC, "%s: compression: \"%s\": expected %s", path, s->compression, names);
		free(names);
		goto out;
	}
	if (s->cache_repo) {
		struct dk_ref ref;

		if (dk_ref_parse(s->cache_repo, &ref, err) < 0) {
			err->code = DK_E_SPEC;
			dk_err_prefix(err, "%s: cache_repo", path);
			goto out;
		}
		if (!dk_ref_is_remote(&ref)) {
			dk_fail(err, DK_E_SPEC, "%s: cache_repo: \"%s\" is not a registry repository (docker://HOST/REPO)",
				path, s->cache_repo);
			dk_ref_free(&ref);
			goto out;
		}
		dk_ref_free(&ref);
	}
	rc = 0;
out:
	json_decref(root);
	if (rc < 0)
		dk_spec_free(s);
	return rc;
}

int dk_spec_load(const char *path, struct dk_spec *spec, struct dk_err *err)
{
	char *text;
	size_t len;
	int rc;

	/* A spec is small; a huge file is a mistake, not a spec. */
	if (dk_read_file(path, 16 << 20, &text, &len, err) < 0) {
		memset(spec, 0, sizeof(*spec));
		return dk_err_prefix(err, "build spec");
	}
	if (strlen(text) != len) {
		free(text);
		memset(spec, 0, sizeof(*spec));
		return dk_fail(err, DK_E_SPEC, "%s: contains a NUL byte: not a JSON spec", path);
	}
	rc = dk_spec_parse(text, path, spec, err);
	free(text);
	return rc;
}

long dk_spec_stage_index(const struct dk_spec *spec, const char *name)
{
	for (size_t i = 0; i < spec->n_stages; i++)
		if (spec->stages[i].name && !strcmp(spec->stages[i].name, name))
			return (long)i;
	return -1;
}

void dk_kvlist_free(struct dk_kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void dk_strlist_free(struct dk_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static const struct dk_spec_opt *spec_opt(const struct dk_spec_layer *l, const char *key)
{
	for (size_t i = 0; i < l->n_opts; i++)
		if (!strcmp(l->opts[i].key, key))
			return &l->opts[i];
	return NULL;
}

const char *dk_spec_opt_value(const struct dk_spec_layer *l, const char *key)
{
	const struct dk_spec_opt *o = spec_opt(l, key);

	return o ? o->value : NULL;
}

const struct dk_strlist *dk_spec_opt_list(const struct dk_spec_layer *l, const char *key)
{
	static const struct dk_strlist none;
	const struct dk_spec_opt *o = spec_opt(l, key);

	return o ? &o->list : &none;
}

static void layer_free(struct dk_spec_layer *l)
{
	for (size_t i = 0; i < l->n_variants; i++)
		layer_free(&l->variants[i]);
	free(l->variants);
	free(l->where);
	free(l->input);
	free(l->origin);
	free(l->dest);
	dk_strlist_free(&l->deletes);
	for (size_t i = 0; i < l->n_opts; i++) {
		free(l->opts[i].value);
		dk_strlist_free(&l->opts[i].list);
	}
	free(l->opts);
}

void dk_spec_free(struct dk_spec *s)
{
	for (size_t i = 0; i < s->n_stages; i++) {
		for (size_t j = 0; j < s->stages[i].n_layers; j++)
			layer_free(&s->stages[i].layers[j]);
		free(s->stages[i].layers);
		free(s->stages[i].name);
	}
	free(s->stages);
	dk_strlist_free(&s->config.entrypoint);
	dk_strlist_free(&s->config.cmd);
	free(s->config.workdir);
	free(s->config.user);
	free(s->config.stop_signal);
	dk_kvlist_free(&s->config.env);
	dk_strlist_free(&s->config.exposed_ports);
	dk_strlist_free(&s->config.volumes);
	dk_kvlist_free(&s->config.labels);
	dk_kvlist_free(&s->annotations);
	free(s->base);
	free(s->cache_repo);
	free(s->compression);
	free(s->path);
	free(s->dir);
	memset(s, 0, sizeof(*s));
}
