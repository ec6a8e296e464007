/*
 * diff.c - two images compared by their manifests and configs.  Layers are
 * matched by digest, since the digest is what a puller asks for: a layer
 * compressed anew is new to it even when its diff_id is not.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/diff.h"
#include "derrick/util.h"
#include "derrick/view.h"

static int has_digest(const struct dk_manifest *m, const char *digest)
{
	for (size_t i = 0; i < m->n_layers; i++)
		if (!strcmp(m->layers[i].digest, digest))
			return 1;
	return 0;
}

/* 1 when layers [0, i) of m already list the digest of layer i (counted once). */
static int seen_before(const struct dk_manifest *m, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(m->layers[j].digest, m->layers[i].digest))
			return 1;
	return 0;
}

static json_t *layer_json(const struct dk_image_view *v, size_t i)
{
	const char *id = dk_image_view_diff_id(v, i);
	json_t *l = json_object();

	json_object_set_new(l, "digest", json_string(v->m.layers[i].digest));
	json_object_set_new(l, "size", json_integer((json_int_t)v->m.layers[i].size));
	json_object_set_new(l, "media_type", json_string(v->m.layers[i].media_type));
	json_object_set_new(l, "diff_id", id ? json_string(id) : json_null());
	return l;
}

static json_t *image_json(const char *text, const struct dk_image_view *v)
{
	json_t *o = json_object();

	json_object_set_new(o, "image", json_string(text));
	json_object_set_new(o, "manifest_digest", json_string(v->mb.desc.digest));
	json_object_set_new(o, "config_digest", json_string(v->m.config.digest));
	return o;
}

/* The layers' {shared, added, removed}, and the bytes downloaded and saved (see diff.h). */
static json_t *compare_layers(const struct dk_image_view *a, const struct dk_image_view *b, json_int_t *download_out,
			      json_int_t *saved_out)
{
	json_t *shared = json_array(), *added = json_array(), *removed = json_array(), *layers = json_object();
	json_int_t download = 0, saved = 0;

	for (size_t i = 0; i < b->m.n_layers; i++) {
		const struct dk_desc *d = &b->m.layers[i];
		const char *id = dk_image_view_diff_id(b, i);
		json_t *l = layer_json(b, i);

		if (has_digest(&a->m, d->digest)) {
			json_array_append_new(shared, l);
			saved += seen_before(&b->m, i) ? 0 : (json_int_t)d->size;
			continue;
		}
		for (size_t j = 0; id && j < a->m.n_layers; j++) {
			const char *old_id = dk_image_view_diff_id(a, j);

			if (old_id && !strcmp(old_id, id)) {
				json_object_set_new(l, "same_diff_id_as", json_string(a->m.layers[j].digest));
				break;
			}
		}
		json_array_append_new(added, l);
		download += seen_before(&b->m, i) ? 0 : (json_int_t)d->size;
	}
	for (size_t i = 0; i < a->m.n_layers; i++)
		if (!has_digest(&b->m, a->m.layers[i].digest))
			json_array_append_new(removed, layer_json(a, i));
	json_object_set_new(layers, "shared", shared);
	json_object_set_new(layers, "added", added);
	json_object_set_new(layers, "removed", removed);
	*download_out = download;
	*saved_out = saved;
	return layers;
}

/* Env as an object: "K=V" entries by K (a later one wins, as in a container). */
static json_t *env_object(json_t *env)
{
	json_t *o = json_object(), *v;
	size_t i;

	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v), *eq = s ? strchr(s, '=') : NULL;
		char *k;

		if (!s)
			continue;
		k = eq ? dk_xstrndup(s, (size_t)(eq - s)) : dk_xstrdup(s);
		json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
		free(k);
	}
	return o;
}

/* {added, removed, changed} between two objects of values, or NULL when equal. */
static json_t *map_diff(json_t *a, json_t *b)
{
	json_t *added = json_object(), *removed = json_object(), *changed = json_object(), *out, *v;
	const char *k;

	json_object_foreach(b, k, v) {
		json_t *old = json_object_get(a, k);

		if (!old) {
			json_object_set(added, k, v);
		} else if (!json_equal(old, v)) {
			json_t *c = json_object();

			json_object_set(c, "old", old);
			json_object_set(c, "new", v);
			json_object_set_new(changed, k, c);
		}
	}
	json_object_foreach(a, k, v)
		if (!json_object_get(b, k))
			json_object_set(removed, k, v);
	if (!json_object_size(added) && !json_object_size(removed) && !json_object_size(changed)) {
		json_decref(added);
		json_decref(removed);
		json_decref(changed);
		return NULL;
	}
	out = json_object();
	json_object_set_new(out, "added", added);
	json_object_set_new(out, "removed", removed);
	json_object_set_new(out, "changed", changed);
	return out;
}

static json_t *env_diff(json_t *a, json_t *b)
{
	json_t *ea = env_object(a), *eb = env_object(b), *d = map_diff(ea, eb);

	json_decref(ea);
	json_decref(eb);
	return d;
}

/* {added, removed} between the key sets of two objects ({"8000/tcp": {}}), or NULL when equal. */
static json_t *set_diff(json_t *a, json_t *b)
{
	json_t *added = json_array(), *removed = json_array(), *out, *v;
	const char *k;

	json_object_foreach(b, k, v)
		if (!json_object_get(a, k))
			json_array_append_new(added, json_string(k));
	json_object_foreach(a, k, v)
		if (!json_object_get(b, k))
			json_array_append_new(removed, json_string(k));
	if (!json_array_size(added) && !json_array_size(removed)) {
		json_decref(added);
		json_decref(removed);
		return NULL;
	}
	out = json_object();
	json_object_set_new(out, "added", added);
	json_object_set_new(out, "removed", removed);
	return out;
}

/* The config fields compared, by their name in the image config and in the diff. */
static const struct {
	const char *field, *name;
	json_t *(*compare)(json_t *a, json_t *b);     /* NULL: compared whole, {old, new} */
} fields[] = {
	{ "Env", "env", env_diff },
	{ "Labels", "labels", map_diff },
	{ "Entrypoint", "entrypoint", NULL },
	{ "Cmd", "cmd", NULL },
	{ "User", "user", NULL },
	{ "WorkingDir", "workdir", NULL },
	{ "ExposedPorts", "exposed_ports", set_diff },
	{ "Volumes", "volumes", set_diff },
};

static json_t *compare_config(json_t *ca, json_t *cb)
{
	json_t *out = json_object();

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *a = json_object_get(ca, fields[i].field), *b = json_object_get(cb, fields[i].field), *d;

		if (fields[i].compare) {
			d = fields[i].compare(a, b);
		} else if (json_equal(a, b) || (!a && !b)) {
			d = NULL;
		} else {
			d = json_object();
			json_object_set_new(d, "old", a ? json_incref(a) : json_null());
			json_object_set_new(d, "new", b ? json_incref(b) : json_null());
		}
		if (d)
			json_object_set_new(out, fields[i].name, d);
	}
	return out;
}

int dk_diff(const char *old, const char *new, const struct dk_platform *want, const struct dk_transport_opts *o,
	    json_t **out, struct dk_err *err)
{
	struct dk_image_view a, b;
	json_int_t download, saved;
	json_t *doc, *layers;

	if (dk_image_view_open(old, want, o, &a, err) < 0)
		return -1;
	if (dk_image_view_open(new, want, o, &b, err) < 0) {
		dk_image_view_close(&a);
		return -1;
	}
	doc = json_object();
	json_object_set_new(doc, "old", image_json(old, &a));
	json_object_set_new(doc, "new", image_json(new, &b));
	layers = compare_layers(&a, &b, &download, &saved);
	json_object_set_new(doc, "layers", layers);
	json_object_set_new(doc, "download_bytes", json_integer(download));
	json_object_set_new(doc, "saved_bytes", json_integer(saved));
	json_object_set_new(doc, "config", compare_config(json_object_get(a.config, "config"),
							  json_object_get(b.config, "config")));
	dk_image_view_close(&a);
	dk_image_view_close(&b);
	*out = doc;
	return 0;
}
