/*
 * layer.h - one layer, one pass: entries -> tar -> SHA-256 (diff_id) ->
 * compress -> SHA-256 (digest) -> a blob.  Memory does not grow with the size
 * of the files: each is streamed through in fixed-size pieces.
 */
#ifndef DERRICK_LAYER_H
#define DERRICK_LAYER_H

#include <stdint.h>

#include "derrick/blobs.h"
#include "derrick/compress.h"
#include "derrick/entry.h"
#include "derrick/tarw.h"

struct dk_layer_result {
	char media_type[128];
	char digest[DK_DIGEST_SIZE];   /* of the compressed blob */
	char diff_id[DK_DIGEST_SIZE];  /* of the uncompressed tar */
	uint64_t size;                 /* compressed bytes */
	uint64_t tar_size;
};

/*
 * The diff_id of a stored layer: the SHA-256 of its decompressed bytes,
 * streamed through the decompressor its first bytes name.  A blob no
 * compressor claims, or one that does not decompress, is DK_E_CORRUPT.
 */
int dk_layer_diff_id(const char *blob, char out[DK_DIGEST_SIZE], struct dk_err *err);

/*
 * The same, passing the decompressed tar to `next` on its way (NULL for
 * none): one read of the blob both checks it and feeds a reader (ls, an
 * archive's layer tar).  A blob no compressor claims is taken as an
 * uncompressed tar (a base image may have those layers), for `next` to
 * judge.  `next` is closed, not freed; its errors come back.
 */
int dk_layer_read(const char *blob, struct dk_sink *next, char out[DK_DIGEST_SIZE], struct dk_err *err);

/*
 * Write the layer of the finished entry list `l` into `store` and fill res.
 * A file that changed while it was read (dk_tar_write) is DK_E_CHANGED,
 * and nothing is stored.
 *
 * Test hook: when DERRICK_TEST_PAUSE_FIFO names a fifo, each call first
 * opens it and reads one line from it, so that a test can change a source
 * file at that moment (after the build-cache key was made, before any byte
 * is tarred) and then let the build go on.  Nothing else reads it.
 */
int dk_layer_write(const struct dk_entries *l, const struct dk_tar_opts *opts, const struct dk_compress *c,
		   const struct dk_blobs *store, struct dk_layer_result *res, struct dk_err *err);

#endif
