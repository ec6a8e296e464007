/*
 * copy.c - one image from a source transport to a destination transport.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/copy.h"
#include "derrick/image.h"
#include "derrick/util.h"

int dk_copy_image(const char *src_text, const char *dst_text, const struct dk_platform *want,
		  const struct dk_transport_opts *o, struct dk_copy_result *res, struct dk_err *err)
{
	struct dk_ref sref, dref;
	struct dk_image_src *src = NULL;
	struct dk_image_dst *dst = NULL;
	struct dk_manifest_blob mb;
	struct dk_manifest m;
	struct dk_desc *descs = NULL;
	struct dk_image_src **srcs = NULL;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&mb, 0, sizeof(mb));
	memset(&m, 0, sizeof(m));
	memset(&dref, 0, sizeof(dref));
	if (dk_ref_parse(src_text, &sref, err) < 0)
		return -1;
	if (dk_ref_parse(dst_text, &dref, err) < 0)
		goto out;
	if (dk_image_src_open(&sref, o, &src, err) < 0 ||
	    dk_image_src_get_manifest(src, want, &mb, err) < 0 ||
	    dk_manifest_parse(&mb, src_text, &m, err) < 0)
		goto out;
	if (dk_image_dst_open(&dref, o, &dst, err) < 0)
		goto out;
	/* layers, then the config: a registry may check the config's references last */
	descs = dk_xcalloc(m.n_layers + 1, sizeof(*descs));
	srcs = dk_xcalloc(m.n_layers + 1, sizeof(*srcs));
	memcpy(descs, m.layers, m.n_layers * sizeof(*descs));
	descs[m.n_layers] = m.config;
	for (size_t i = 0; i <= m.n_layers; i++)
		srcs[i] = src;
	if (dk_transfer_blobs(dst, descs, NULL, srcs, m.n_layers + 1, o, err) < 0 ||
	    dk_image_dst_put_manifest(dst, &mb, err) < 0 ||
	    dk_image_dst_commit(dst, err) < 0)
		goto out;
	res->manifest = mb.desc;
	res->notes = dst->notes;
	res->n_notes = dst->n_notes;
	dst->notes = NULL;
	dst->n_notes = 0;
	rc = 0;
out:
	free(srcs);
	free(descs);
	dk_manifest_free(&m);
	dk_manifest_blob_free(&mb);
	dk_image_dst_close(dst);
	dk_image_src_close(src);
	dk_ref_free(&dref);
	dk_ref_free(&sref);
	return rc;
}

void dk_copy_result_free(struct dk_copy_result *res)
{
	free(res->notes);
	memset(res, 0, sizeof(*res));
}
