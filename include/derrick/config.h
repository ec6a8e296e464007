/*
 * config.h - write an image's config and manifest JSON.
 */
#ifndef DERRICK_CONFIG_H
#define DERRICK_CONFIG_H

#include <stddef.h>

#include "derrick/err.h"
#include "derrick/plan.h"
#include "derrick/transport.h"

struct dk_new_layer {
	const char *diff_id;
	const char *created_by;
};

/*
 * The config of an image made of the base's (base_json may be NULL for
 * scratch) plus the new layers: the base's settings are inherited, env is
 * merged by key (the spec wins), history and diff_ids are appended.
 */
int dk_config_make(const char *base_json, size_t base_len, const char *base_where,
		   const struct dk_plan *plan, const struct dk_new_layer *layers, size_t n,
		   char **out, size_t *len, struct dk_err *err);

/* The manifest for a config and its layers (base layers first), with annotations. */
char *dk_manifest_make(const struct dk_desc *config, const struct dk_desc *layers, size_t n,
		       const struct dk_kvlist *annotations, size_t *len);

/*
 * The image index over n manifests, entry i for platforms[i], in the order
 * given, with annotations (NULL or empty for none): a new string of *len
 * bytes.
 */
char *dk_index_make(const struct dk_desc *manifests, const struct dk_platform *platforms, size_t n,
		    const struct dk_kvlist *annotations, size_t *len);

#endif
