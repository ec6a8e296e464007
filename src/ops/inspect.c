/*
 * inspect.c - read an image's manifest and config into one summary, or an
 * artifact's manifest into its own.  Every blob read is checked against its
 * digest on the way in.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/image.h"
#include "derrick/inspect.h"
#include "derrick/transport.h"
#include "derrick/util.h"

static json_t *copy_or_null(json_t *v)
{
	return v ? json_deep_copy(v) : json_null();
}

static json_t *summarise(const struct dk_manifest_blob *mb, const struct dk_manifest *m,
			 json_t *cfg)
{
	json_t *doc = json_object();
	json_t *c = json_object_get(cfg, "config");
	json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	json_t *hist = json_object_get(cfg, "history");
	json_t *layers = json_array();
	json_t *plat = json_object();
	size_t h = 0;

	json_object_set_new(doc, "manifest_digest", json_string(mb->desc.digest));
	json_object_set_new(doc, "media_type", json_string(mb->desc.media_type));
	json_object_set_new(plat, "os", copy_or_null(json_object_get(cfg, "os")));
	json_object_set_new(plat, "architecture", copy_or_null(json_object_get(cfg, "architecture")));
	if (json_object_get(cfg, "variant"))
		json_object_set_new(plat, "variant", json_deep_copy(json_object_get(cfg, "variant")));
	json_object_set_new(doc, "platform", plat);
	json_object_set_new(doc, "config_digest", json_string(m->config.digest));
	json_object_set_new(doc, "created", copy_or_null(json_object_get(cfg, "created")));
	for (size_t i = 0; i < m->n_layers; i++) {
		json_t *l = json_object();
		json_t *hi;

		/* history entries that made no layer do not pair with one */
		while ((hi = json_array_get(hist, h)) && json_is_true(json_object_get(hi, "empty_layer")))
			h++;
		json_object_set_new(l, "digest", json_string(m->layers[i].digest));
		json_object_set_new(l, "size", json_integer((json_int_t)m->layers[i].size));
		json_object_set_new(l, "media_type", json_string(m->layers[i].media_type));
		json_object_set_new(l, "diff_id", copy_or_null(json_array_get(ids, i)));
		json_object_set_new(l, "created_by", copy_or_null(json_object_get(hi, "created_by")));
		json_array_append_new(layers, l);
		h++;
	}
	json_object_set_new(doc, "layers", layers);
	json_object_set_new(doc, "labels", copy_or_null(json_object_get(c, "Labels")));
	json_object_set_new(doc, "env", copy_or_null(json_object_get(c, "Env")));
	json_object_set_new(doc, "entrypoint", copy_or_null(json_object_get(c, "Entrypoint")));
	json_object_set_new(doc, "cmd", copy_or_null(json_object_get(c, "Cmd")));
	json_object_set_new(doc, "workdir", copy_or_null(json_object_get(c, "WorkingDir")));
	json_object_set_new(doc, "user", copy_or_null(json_object_get(c, "User")));
	json_object_set_new(doc, "annotations", copy_or_null(m->annotations));
	return doc;
}

/* {"media_type", "digest", "size"}: a descriptor as inspect shows it. */
static json_t *desc_json(const struct dk_desc *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "media_type", json_string(d->media_type));
	json_object_set_new(o, "digest", json_string(d->digest));
	json_object_set_new(o, "size", json_integer((json_int_t)d->size));
	return o;
}

/* An artifact has no image config to read: its manifest says it all. */
static json_t *summarise_artifact(const struct dk_manifest_blob *mb, const struct dk_manifest *m)
{
	json_t *doc = json_object();
	json_t *blobs = json_array();
	json_t *layers = json_object_get(m->root, "layers");

	json_object_set_new(doc, "manifest_digest", json_string(mb->desc.digest));
	json_object_set_new(doc, "media_type", json_string(mb->desc.media_type));
	json_object_set_new(doc, "artifact_type", json_string(m->artifact_type));
	json_object_set_new(doc, "config", desc_json(&m->config));
	json_object_set_new(doc, "subject", m->has_subject ? desc_json(&m->subject) : json_null());
	for (size_t i = 0; i < m->n_layers; i++) {
		json_t *b = desc_json(&m->layers[i]);

		json_object_set_new(b, "annotations",
				    copy_or_null(json_object_get(json_array_get(layers, i), "annotations")));
		json_array_append_new(blobs, b);
	}
	json_object_set_new(doc, "blobs", blobs);
	json_object_set_new(doc, "annotations", copy_or_null(m->annotations));
	return doc;
}

/* The platforms an index offers, each with its manifest's descriptor. */
static json_t *summarise_index(const struct dk_manifest_blob *mb, const char *where, struct dk_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(mb->bytes, mb->len, 0, &jerr), *ms, *e, *doc, *list;
	size_t i;

	if (!root) {
		dk_fail(err, DK_E_CORRUPT, "%s: index %s is not valid JSON: %s", where, mb->desc.digest, jerr.text);
		return NULL;
	}
	ms = json_object_get(root, "manifests");
	if (!json_is_array(ms)) {
		dk_fail(err, DK_E_CORRUPT, "%s: index %s has no manifests array", where, mb->desc.digest);
		json_decref(root);
		return NULL;
	}
	doc = json_object();
	list = json_array();
	json_object_set_new(doc, "manifest_digest", json_string(mb->desc.digest));
	json_object_set_new(doc, "media_type", json_string(mb->desc.media_type));
	json_array_foreach(ms, i, e) {
		struct dk_desc d;
		json_t *entry;

		if (dk_desc_from_json(e, where, &d, err) < 0) {
			json_decref(list);
			json_decref(doc);
			json_decref(root);
			return NULL;
		}
		entry = desc_json(&d);
		json_object_set_new(entry, "platform", copy_or_null(json_object_get(e, "platform")));
		json_array_append_new(list, entry);
	}
	json_object_set_new(doc, "manifests", list);
	json_object_set_new(doc, "annotations", copy_or_null(json_object_get(root, "annotations")));
	json_decref(root);
	return doc;
}

int dk_inspect(const char *text, const struct dk_platform *want, const struct dk_transport_opts *o,
	       json_t **out, struct dk_err *err)
{
	struct dk_ref ref;
	struct dk_image_src *src = NULL;
	struct dk_manifest_blob mb;
	struct dk_manifest m;
	char *cfgbuf = NULL;
	size_t cfglen;
	json_t *cfg = NULL;
	json_error_t jerr;
	int rc = -1;

	memset(&mb, 0, sizeof(mb));
	memset(&m, 0, sizeof(m));
	if (dk_ref_parse(text, &ref, err) < 0)
		return -1;
	if (dk_image_src_open(&ref, o, &src, err) < 0)
		goto out;
	if (dk_image_src_get_manifest(src, want, &mb, err) < 0)
		goto out;
	if (dk_media_is_index(mb.desc.media_type)) {
		*out = summarise_index(&mb, text, err);
		rc = *out ? 0 : -1;
		goto out;
	}
	if (dk_manifest_parse(&mb, text, &m, err) < 0)
		goto out;
	if (m.artifact_type) {
		*out = summarise_artifact(&mb, &m);
		rc = 0;
		goto out;
	}
	if (dk_doc_check_size(DK_DOC_CONFIG, text, m.config.digest, m.config.size, err) < 0 ||
	    dk_image_src_read_blob(src, &m.config, DK_CONFIG_MAX, &cfgbuf, &cfglen, err) < 0)
		goto out;
	cfg = json_loadb(cfgbuf, cfglen, 0, &jerr);
	if (!json_is_object(cfg)) {
		dk_fail(err, DK_E_CORRUPT, "%s: config %s is not a JSON object", text, m.config.digest);
		goto out;
	}
	*out = summarise(&mb, &m, cfg);
	rc = 0;
out:
	json_decref(cfg);
	free(cfgbuf);
	dk_manifest_free(&m);
	dk_manifest_blob_free(&mb);
	dk_image_src_close(src);
	dk_ref_free(&ref);
	return rc;
}
