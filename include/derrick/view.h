/*
 * view.h - an image opened for reading: its source, its manifest and its
 * config, read once and checked against their digests, for the commands
 * that look at an image without copying it (diff, ls).
 */
#ifndef DERRICK_VIEW_H
#define DERRICK_VIEW_H

#include "derrick/err.h"
#include "derrick/image.h"
#include "derrick/ref.h"
#include "derrick/transport.h"

struct json_t;

struct dk_image_view {
	struct dk_ref ref;
	struct dk_image_src *src;
	struct dk_manifest_blob mb;     /* the manifest as stored */
	struct dk_manifest m;
	struct json_t *config;          /* the image config; NULL for an artifact */
};

/*
 * Open the image `text` names (an index resolved to `want`) and read its
 * manifest and config: 0 and *v filled (close it with dk_image_view_close),
 * or -1 with err set and nothing to close.  Only the manifest and the
 * config are read, never a layer.
 */
int dk_image_view_open(const char *text, const struct dk_platform *want, const struct dk_transport_opts *o,
		       struct dk_image_view *v, struct dk_err *err);
void dk_image_view_close(struct dk_image_view *v);

/* The config's diff_id for layer i (borrowed from v->config), or NULL when it has none. */
const char *dk_image_view_diff_id(const struct dk_image_view *v, size_t i);

#endif
