/*
 * layer.c - assemble the sink chain for one layer and run the tar writer
 * through it.  The blob's name is only known at the end, so it is written
 * to a temporary file in the store and renamed when its digest is.
 */
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "derrick/layer.h"
#include "derrick/sink.h"

const char *dk_layer_compressor_id(void)
{
	static char id[64];

	/* another zlib may compress differently: its version is part of the identity */
	if (!id[0])
		snprintf(id, sizeof(id), "gzip/zlib-%s", zlibVersion());
	return id;
}

int dk_layer_write(const struct dk_entries *l, const struct dk_tar_opts *opts, int level,
		   const struct dk_blobs *store, struct dk_layer_result *res, struct dk_err *err)
{
	struct dk_sink *file, *blob_hash, *gz, *tar_hash;
	char *tmp;
	int fd, rc;

	fd = dk_blobs_tmp(store, &tmp, err);
	if (fd < 0)
		return -1;
	file = dk_sink_fd(fd, "layer blob");
	blob_hash = dk_sink_hash(file);
	gz = dk_sink_gzip(blob_hash, level);
	tar_hash = dk_sink_hash(gz);

	rc = dk_tar_write(l, opts, tar_hash, err);
	if (rc == 0)
		rc = dk_sink_close(tar_hash, err);
	if (rc == 0) {
		memcpy(res->diff_id, dk_sink_hash_digest(tar_hash), DK_DIGEST_SIZE);
		memcpy(res->digest, dk_sink_hash_digest(blob_hash), DK_DIGEST_SIZE);
		res->tar_size = dk_sink_hash_size(tar_hash);
		res->size = dk_sink_hash_size(blob_hash);
	}
	dk_sink_free(tar_hash);
	dk_sink_free(gz);
	dk_sink_free(blob_hash);
	dk_sink_free(file);
	if (rc < 0) {
		dk_blobs_discard(fd, tmp);
		return -1;
	}
	return dk_blobs_commit(store, fd, tmp, res->digest, err);
}
