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

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include "derrick/layer.h"
#include "derrick/sink.h"
#include "derrick/util.h"

const char *dk_layer_media_type(enum dk_compression kind)
{
	return kind == DK_COMP_ZSTD ? DK_MT_LAYER_ZSTD : DK_MT_LAYER_GZIP;
}

int dk_compression_parse(const char *name)
{
	if (!strcmp(name, "gzip"))
		return DK_COMP_GZIP;
	if (!strcmp(name, "zstd"))
		return DK_COMP_ZSTD;
	return -1;
}

char *dk_layer_compressor_id(const struct dk_compress *c)
{
	/* another library version may compress differently: it is part of the identity */
	if (c->kind == DK_COMP_ZSTD)
		return dk_xasprintf("zstd/libzstd-%s/level-%d", ZSTD_versionString(), c->level);
	return dk_xasprintf("gzip/libdeflate-%s/members/level-%d/block-%zu", LIBDEFLATE_VERSION_STRING, c->level,
			    DK_GZIP_MEMBER_BLOCK);
}

static struct dk_sink *compressor(const struct dk_compress *c, struct dk_sink *next)
{
	if (c->kind == DK_COMP_ZSTD)
		return dk_sink_zstd(next, c->level, c->threads);
	return dk_sink_gzip_members(next, c->level, c->threads, DK_GZIP_MEMBER_BLOCK);
}

int dk_layer_write(const struct dk_entries *l, const struct dk_tar_opts *opts, const struct dk_compress *c,
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
	gz = compressor(c, blob_hash);
	tar_hash = dk_sink_hash(gz);

	rc = dk_tar_write(l, opts, tar_hash, err);
	if (rc == 0)
		rc = dk_sink_close(tar_hash, err);
	if (rc == 0) {
		snprintf(res->media_type, sizeof(res->media_type), "%s", dk_layer_media_type(c->kind));
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

/* Decompress a zstd blob read from fd into the hash. */
static int zstd_into(int fd, const char *blob, struct dk_sha256 *h, unsigned char *in, unsigned char *buf,
		     struct dk_err *err)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	size_t last = 0;
	ssize_t n;
	int rc = -1;

	ZSTD_initDStream(ds);
	while ((n = dk_read(fd, in, 1 << 16)) > 0) {
		ZSTD_inBuffer ib = { in, (size_t)n, 0 };

		while (ib.pos < ib.size) {
			ZSTD_outBuffer ob = { buf, 1 << 16, 0 };

			last = ZSTD_decompressStream(ds, &ob, &ib);
			if (ZSTD_isError(last)) {
				dk_fail(err, DK_E_CORRUPT, "%s: not a valid zstd stream: %s", blob, ZSTD_getErrorName(last));
				goto out;
			}
			dk_sha256_update(h, buf, ob.pos);
		}
	}
	if (n < 0)
		dk_fail_errno(err, DK_E_IO, "read %s", blob);
	else if (last != 0)
		dk_fail(err, DK_E_CORRUPT, "%s: truncated zstd stream", blob);
	else
		rc = 0;
out:
	ZSTD_freeDStream(ds);
	return rc;
}

/* Decompress gzip (any number of members) read from fd into the hash. */
static int gzip_into(int fd, const char *blob, struct dk_sha256 *h, unsigned char *in, unsigned char *buf,
		     struct dk_err *err)
{
	z_stream zs;
	int zr = Z_OK, rc = -1;
	ssize_t n;

	memset(&zs, 0, sizeof(zs));
	inflateInit2(&zs, 15 + 16);
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
			dk_sha256_update(h, buf, (1 << 16) - zs.avail_out);
			if (zr == Z_BUF_ERROR && zs.avail_out)
				break;
		}
	}
	if (n < 0)
		dk_fail_errno(err, DK_E_IO, "read %s", blob);
	else if (zr != Z_STREAM_END)
		dk_fail(err, DK_E_CORRUPT, "%s: truncated gzip stream", blob);
	else
		rc = 0;
out:
	inflateEnd(&zs);
	return rc;
}

int dk_layer_diff_id(const char *blob, char out[DK_DIGEST_SIZE], struct dk_err *err)
{
	static const unsigned char zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	unsigned char magic[4] = { 0 };
	unsigned char *in, *buf;
	struct dk_sha256 h;
	int fd = open(blob, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return dk_fail_errno(err, DK_E_IO, "open %s", blob);
	in = dk_xmalloc(1 << 16);
	buf = dk_xmalloc(1 << 16);
	dk_sha256_init(&h);
	if (pread(fd, magic, 4, 0) == 4 && !memcmp(magic, zstd_magic, 4))
		rc = zstd_into(fd, blob, &h, in, buf, err);
	else
		rc = gzip_into(fd, blob, &h, in, buf, err);
	if (rc == 0)
		dk_sha256_final(&h, out);
	else
		dk_sha256_abort(&h);
	close(fd);
	free(in);
	free(buf);
	return rc;
}
