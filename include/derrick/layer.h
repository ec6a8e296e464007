/*
 * layer.h - one layer, one pass: entries -> tar -> SHA-256 (diff_id) ->
 * gzip -> SHA-256 (digest) -> a blob.  Memory does not grow with the size
 * of the files: each is streamed through in fixed-size pieces.
 */
#ifndef DERRICK_LAYER_H
#define DERRICK_LAYER_H

#include <stdint.h>

#include "derrick/blobs.h"
#include "derrick/entry.h"
#include "derrick/tarw.h"

#define DK_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"

struct dk_layer_result {
	char digest[DK_DIGEST_SIZE];   /* of the compressed blob */
	char diff_id[DK_DIGEST_SIZE];  /* of the uncompressed tar */
	uint64_t size;                 /* compressed bytes */
	uint64_t tar_size;
};

/* What names the compressor in cache keys: its kind and library version. */
const char *dk_layer_compressor_id(void);

/*
 * The diff_id of a stored gzip layer: the SHA-256 of its decompressed
 * bytes (every gzip member), streamed.
 */
int dk_layer_diff_id(const char *blob, char out[DK_DIGEST_SIZE], struct dk_err *err);

int dk_layer_write(const struct dk_entries *l, const struct dk_tar_opts *opts, int level,
		   const struct dk_blobs *store, struct dk_layer_result *res, struct dk_err *err);

#endif
