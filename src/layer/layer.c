/*
 * layer.c - assemble the sink chain for one layer and run the tar writer
 * through it.  The blob's name is only known at the end, so it is written
 * to a temporary file in the store and renamed when its digest is.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/layer.h"
#include "derrick/sink.h"
#include "derrick/util.h"

int dk_layer_write(const struct dk_entries *l, const struct dk_tar_opts *opts, const struct dk_compress *c,
		   const struct dk_blobs *store, struct dk_layer_result *res, struct dk_err *err)
{
	struct dk_sink *file, *blob_hash, *comp, *tar_hash;
	char *tmp;
	int fd, rc;

	dk_test_pause("DERRICK_TEST_PAUSE_FIFO");   /* the test hook of layer.h */
	fd = dk_blobs_tmp(store, &tmp, err);
	if (fd < 0)
		return -1;
	file = dk_sink_fd(fd, "layer blob");
	blob_hash = dk_sink_hash(file);
	comp = dk_compress_sink(c, blob_hash);
	tar_hash = dk_sink_hash(comp);

	rc = dk_tar_write(l, opts, tar_hash, err);
	if (rc == 0)
		rc = dk_sink_close(tar_hash, err);
	if (rc == 0) {
		snprintf(res->media_type, sizeof(res->media_type), "%s", c->kind->media_type);
		memcpy(res->diff_id, dk_sink_hash_digest(tar_hash), DK_DIGEST_SIZE);
		memcpy(res->digest, dk_sink_hash_digest(blob_hash), DK_DIGEST_SIZE);
		res->tar_size = dk_sink_hash_size(tar_hash);
		res->size = dk_sink_hash_size(blob_hash);
	}
	dk_sink_free(tar_hash);
	dk_sink_free(comp);
	dk_sink_free(blob_hash);
	dk_sink_free(file);
	if (rc < 0) {
		dk_blobs_discard(fd, tmp);
		return -1;
	}
	return dk_blobs_commit(store, fd, tmp, res->digest, err);
}

/* A blob no compressor claims is an error, or with plain_ok an uncompressed tar, streamed as it is. */
static int layer_read(const char *blob, int plain_ok, struct dk_sink *next, char out[DK_DIGEST_SIZE],
		      struct dk_err *err)
{
	unsigned char magic[DK_COMPRESS_MAGIC_MAX];
	const struct dk_compressor *kind;
	struct dk_sink *hash, *dec = NULL;
	ssize_t n;
	int fd = open(blob, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return dk_fail_errno(err, DK_E_IO, "open %s", blob);
	n = pread(fd, magic, sizeof(magic), 0);
	if (n < 0) {
		rc = dk_fail_errno(err, DK_E_IO, "read %s", blob);
		goto out;
	}
	kind = dk_compressor_by_magic(magic, (size_t)n);
	if (!kind && !plain_ok) {
		char *names = dk_compressor_names("");

		rc = dk_fail(err, DK_E_CORRUPT, "%s: not compressed with %s", blob, names);
		free(names);
		goto out;
	}
	hash = dk_sink_hash(next);
	if (kind)
		dec = dk_decompress_sink(kind, hash, blob);
	rc = dk_sink_write_fd(dec ? dec : hash, fd, blob, err);
	if (rc == 0)
		rc = dk_sink_close(dec ? dec : hash, err);
	if (rc == 0)
		memcpy(out, dk_sink_hash_digest(hash), DK_DIGEST_SIZE);
	dk_sink_free(dec);
	dk_sink_free(hash);
out:
	close(fd);
	return rc;
}

int dk_layer_diff_id(const char *blob, char out[DK_DIGEST_SIZE], struct dk_err *err)
{
	return layer_read(blob, 0, NULL, out, err);
}

int dk_layer_read(const char *blob, struct dk_sink *next, char out[DK_DIGEST_SIZE], struct dk_err *err)
{
	return layer_read(blob, 1, next, out, err);
}
