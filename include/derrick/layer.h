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
#define DK_MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

enum dk_compression { DK_COMP_GZIP, DK_COMP_ZSTD };

/* How layers are compressed.  Threads change the speed, never the bytes. */
struct dk_compress {
	enum dk_compression kind;
	int level;              /* gzip 1-9 (default 6); zstd 1-19 (default 3) */
	int threads;            /* <= 0: one per core */
};

struct dk_layer_result {
	char media_type[128];
	char digest[DK_DIGEST_SIZE];   /* of the compressed blob */
	char diff_id[DK_DIGEST_SIZE];  /* of the uncompressed tar */
	uint64_t size;                 /* compressed bytes */
	uint64_t tar_size;
};

/* The layer media type for a compression. */
const char *dk_layer_media_type(enum dk_compression kind);
/* "gzip" or "zstd" -> kind; -1 for anything else. */
int dk_compression_parse(const char *name);
/* What names the compressor in cache keys: kind, level, block size, library version (a new string). */
char *dk_layer_compressor_id(const struct dk_compress *c);

/*
 * The diff_id of a stored layer (gzip or zstd, told apart by their magic
 * bytes): the SHA-256 of its decompressed bytes, streamed.
 */
int dk_layer_diff_id(const char *blob, char out[DK_DIGEST_SIZE], struct dk_err *err);

int dk_layer_write(const struct dk_entries *l, const struct dk_tar_opts *opts, const struct dk_compress *c,
		   const struct dk_blobs *store, struct dk_layer_result *res, struct dk_err *err);

#endif
