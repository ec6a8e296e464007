/*
 * view.c - open an image for reading: source, manifest, config.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/view.h"

int dk_image_view_open(const char *text, const struct dk_platform *want, const struct dk_transport_opts *o,
		       struct dk_image_view *v, struct dk_err *err)
{
	char *buf = NULL;
	size_t len;
	json_error_t jerr;

	memset(v, 0, sizeof(*v));
	if (dk_ref_parse(text, &v->ref, err) < 0)
		return -1;
	if (dk_image_src_open(&v->ref, o, &v->src, err) < 0 ||
	    dk_image_src_get_manifest(v->src, want, &v->mb, err) < 0 ||
	    dk_manifest_parse(&v->mb, text, &v->m, err) < 0)
		goto fail;
	if (v->m.artifact_type)
		return 0;
	if (dk_doc_check_size(DK_DOC_CONFIG, text, v->m.config.digest, v->m.config.size, err) < 0 ||
	    dk_image_src_read_blob(v->src, &v->m.config, DK_CONFIG_MAX, &buf, &len, err) < 0)
		goto fail;
	v->config = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (!json_is_object(v->config)) {
		dk_fail(err, DK_E_CORRUPT, "%s: config %s is not a JSON object", text, v->m.config.digest);
		goto fail;
	}
	return 0;
fail:
	dk_image_view_close(v);
	return -1;
}

void dk_image_view_close(struct dk_image_view *v)
{
	json_decref(v->config);
	dk_manifest_free(&v->m);
	dk_manifest_blob_free(&v->mb);
	dk_image_src_close(v->src);
	dk_ref_free(&v->ref);
	memset(v, 0, sizeof(*v));
}

const char *dk_image_view_diff_id(const struct dk_image_view *v, size_t i)
{
	json_t *ids = json_object_get(json_object_get(v->config, "rootfs"), "diff_ids");

	return json_string_value(json_array_get(ids, i));
}
