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

#include <zlib.h>

#include "derrick/layer.h"
#include "derrick/sink.h"
#include "derrick/util.h"

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

int dk_layer_diff_id(const char *blob, char out[DK_DIGEST_SIZE], struct dk_err *err)
{
	unsigned char *in = dk_xmalloc(1 << 16), *buf = dk_xmalloc(1 << 16);
	struct dk_sha256 h;
	z_stream zs;
	int fd = open(blob, O_RDONLY | O_CLOEXEC), rc = -1, zr = Z_OK;
	ssize_t n;

	memset(&zs, 0, sizeof(zs));
	if (fd < 0) {
		dk_fail_errno(err, DK_E_IO, "open %s", blob);
		free(in);
		free(buf);
		return -1;
	}
	inflateInit2(&zs, 15 + 16);
	dk_sha256_init(&h);
	while ((n = dk_read(fd, in, 1 << 16)) > 0) {
		zs.next_in = in;
		zs.avail_in = (uInt)n;
		while (zs.avail_in) {
			/* a new gzip member may follow the end of one */
			if (zr == Z_STREAM_END)
				inflateReset(&zs);
			zs.next_out = buf;
			zs.avail_out = 1 << 16;
			zr = inflate(&zs, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				dk_fail(err, DK_E_CORRUPT, "%s: not a valid gzip stream", blob);
				goto out;
			}
			dk_sha256_update(&h, buf, (1 << 16) - zs.avail_out);
			if (zr == Z_BUF_ERROR && zs.avail_out)
				break;
		}
	}
	if (n < 0) {
		dk_fail_errno(err, DK_E_IO, "read %s", blob);
		goto out;
	}
	if (zr != Z_STREAM_END) {
		dk_fail(err, DK_E_CORRUPT, "%s: truncated gzip stream", blob);
		goto out;
	}
	rc = 0;
out:
	if (rc == 0)
		dk_sha256_final(&h, out);
	else
		dk_sha256_abort(&h);
	inflateEnd(&zs);
	close(fd);
	free(in);
	free(buf);
	return rc;
}
