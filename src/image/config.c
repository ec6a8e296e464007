/*
 * config.c - the image config and manifest.
 *
 * Keys are written in a fixed order and every timestamp comes from
 * SOURCE_DATE_EPOCH, so the same inputs serialise to the same bytes.
 * An inherited base config is edited in place rather than rebuilt, so
 * fields derrick does not know (Healthcheck, Shell...) survive.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/config.h"
#include "derrick/image.h"
#include "derrick/util.h"

static json_t *strlist_json(const struct dk_strlist *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

/* Set or, for an empty list, remove an argv-style field. */
static void set_argv(json_t *cfg, const char *key, const struct dk_strlist *l)
{
	if (l->n)
		json_object_set_new(cfg, key, strlist_json(l));
	else
		json_object_del(cfg, key);
}

static json_t *get_or_add_object(json_t *parent, const char *key)
{
	json_t *o = json_object_get(parent, key);

	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(parent, key, o);
	}
	return o;
}

/* Env is a list of "K=V"; a key set again replaces the value in place. */
static void merge_env(json_t *cfg, const struct dk_kvlist *env)
{
	json_t *list = json_object_get(cfg, "Env");

	if (!env->n)
		return;
	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(cfg, "Env", list);
	}
	for (size_t i = 0; i < env->n; i++) {
		char *kv = dk_xasprintf("%s=%s", env->v[i].key, env->v[i].value);
		size_t klen = strlen(env->v[i].key), j;
		json_t *item;
		int replaced = 0;

		json_array_foreach(list, j, item) {
			const char *s = json_string_value(item);

			if (s && !strncmp(s, env->v[i].key, klen) && s[klen] == '=') {
				json_array_set_new(list, j, json_string(kv));
				replaced = 1;
				break;
			}
		}
		if (!replaced)
			json_array_append_new(list, json_string(kv));
		free(kv);
	}
}

static void add_set(json_t *cfg, const char *key, const struct dk_strlist *l, int is_port)
{
	json_t *o;

	if (!l->n)
		return;
	o = get_or_add_object(cfg, key);
	for (size_t i = 0; i < l->n; i++) {
		/* "8000" means "8000/tcp", as in a Dockerfile's EXPOSE */
		char *k = is_port && !strchr(l->v[i], '/') ? dk_xasprintf("%s/tcp", l->v[i])
							  : dk_xstrdup(l->v[i]);

		json_object_set_new(o, k, json_object());
		free(k);
	}
}

static void apply_spec(json_t *cfg, const struct dk_plan *plan)
{
	const struct dk_spec_config *sc = &plan->spec->config;

	if (sc->user)
		json_object_set_new(cfg, "User", json_string(sc->user));
	add_set(cfg, "ExposedPorts", &sc->exposed_ports, 1);
	merge_env(cfg, &plan->env);
	if (sc->has_entrypoint) {
		set_argv(cfg, "Entrypoint", &sc->entrypoint);
		/* As in a Dockerfile: a new ENTRYPOINT drops the inherited CMD. */
		if (!sc->has_cmd)
			json_object_del(cfg, "Cmd");
	}
	if (sc->has_cmd)
		set_argv(cfg, "Cmd", &sc->cmd);
	add_set(cfg, "Volumes", &sc->volumes, 0);
	if (sc->workdir)
		json_object_set_new(cfg, "WorkingDir", json_string(sc->workdir));
	if (plan->labels.n) {
		json_t *labels = get_or_add_object(cfg, "Labels");

		for (size_t i = 0; i < plan->labels.n; i++)
			json_object_set_new(labels, plan->labels.v[i].key, json_string(plan->labels.v[i].value));
	}
	if (sc->stop_signal)
		json_object_set_new(cfg, "StopSignal", json_string(sc->stop_signal));
}

static json_t *load_base(const char *base_json, size_t base_len, const char *where,
			 struct dk_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(base_json, base_len, 0, &jerr);
	json_t *rootfs;

	if (!root) {
		dk_fail(err, DK_E_CORRUPT, "%s: image config is not valid JSON: %s", where, jerr.text);
		return NULL;
	}
	rootfs = json_object_get(root, "rootfs");
	if (!json_is_object(root) || !json_is_array(json_object_get(rootfs, "diff_ids"))) {
		dk_fail(err, DK_E_CORRUPT, "%s: image config has no rootfs.diff_ids", where);
		json_decref(root);
		return NULL;
	}
	return root;
}

int dk_config_make(const char *base_json, size_t base_len, const char *base_where,
		   const struct dk_plan *plan, const struct dk_new_layer *layers, size_t n,
		   char **out, size_t *len, struct dk_err *err)
{
	json_t *root, *cfg, *rootfs, *diff_ids, *history;
	char created[32];

	dk_rfc3339(plan->epoch, created);
	if (base_json) {
		root = load_base(base_json, base_len, base_where, err);
		if (!root)
			return -1;
	} else {
		root = json_object();
	}
	/* Fixed fields first, in the order the spec lists them. */
	json_object_set_new(root, "created", json_string(created));
	json_object_set_new(root, "architecture", json_string(plan->platform.arch));
	if (plan->platform.variant[0])
		json_object_set_new(root, "variant", json_string(plan->platform.variant));
	else
		json_object_del(root, "variant");
	json_object_set_new(root, "os", json_string(plan->platform.os));
	cfg = get_or_add_object(root, "config");
	apply_spec(cfg, plan);

	rootfs = get_or_add_object(root, "rootfs");
	json_object_set_new(rootfs, "type", json_string("layers"));
	diff_ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(diff_ids)) {
		diff_ids = json_array();
		json_object_set_new(rootfs, "diff_ids", diff_ids);
	}
	history = json_object_get(root, "history");
	if (!json_is_array(history)) {
		history = json_array();
		json_object_set_new(root, "history", history);
	}
	for (size_t i = 0; i < n; i++) {
		json_t *h = json_object();

		json_array_append_new(diff_ids, json_string(layers[i].diff_id));
		json_object_set_new(h, "created", json_string(created));
		json_object_set_new(h, "created_by", json_string(layers[i].created_by));
		json_array_append_new(history, h);
	}
	*out = dk_json_dump(root, len);
	json_decref(root);
	return 0;
}

/* The document's bytes: the annotations last, as the image spec lists them. */
static char *finish_doc(json_t *root, const struct dk_kvlist *annotations, size_t *len)
{
	char *s;

	if (annotations && annotations->n) {
		json_t *ann = json_object();

		for (size_t i = 0; i < annotations->n; i++)
			json_object_set_new(ann, annotations->v[i].key, json_string(annotations->v[i].value));
		json_object_set_new(root, "annotations", ann);
	}
	s = dk_json_dump(root, len);
	json_decref(root);
	return s;
}

static json_t *new_doc(const char *media_type)
{
	json_t *root = json_object();

	json_object_set_new(root, "schemaVersion", json_integer(2));
	json_object_set_new(root, "mediaType", json_string(media_type));
	return root;
}

char *dk_manifest_make(const struct dk_desc *config, const struct dk_desc *layers, size_t n,
		       const struct dk_kvlist *annotations, size_t *len)
{
	json_t *root = new_doc(DK_MT_OCI_MANIFEST);
	json_t *arr = json_array();

	json_object_set_new(root, "config", dk_desc_to_json(config));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, dk_desc_to_json(&layers[i]));
	json_object_set_new(root, "layers", arr);
	return finish_doc(root, annotations, len);
}

char *dk_index_make(const struct dk_desc *manifests, const struct dk_platform *platforms, size_t n,
		    const struct dk_kvlist *annotations, size_t *len)
{
	json_t *root = new_doc(DK_MT_OCI_INDEX);
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *m = dk_desc_to_json(&manifests[i]);
		json_t *p = json_object();

		/* the image spec's order, and the config's values: the entry says what the image says */
		json_object_set_new(p, "architecture", json_string(platforms[i].arch));
		json_object_set_new(p, "os", json_string(platforms[i].os));
		if (platforms[i].variant[0])
			json_object_set_new(p, "variant", json_string(platforms[i].variant));
		json_object_set_new(m, "platform", p);
		json_array_append_new(arr, m);
	}
	json_object_set_new(root, "manifests", arr);
	return finish_doc(root, annotations, len);
}
