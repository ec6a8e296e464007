/*
 * blobs.c - the blob directory of an OCI layout (and of the build's staging
 * area, which has the same shape so committing is a rename or a hard link).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "derrick/blobs.h"
#include "derrick/util.h"

int dk_blobs_open(struct dk_blobs *b, const char *root, int create, struct dk_err *err)
{
	struct stat st;

	b->root = dk_xstrdup(root);
	b->dir = dk_path_join(root, "blobs/sha256");
	if (create && dk_mkdir_p(b->dir, 0755, err) < 0)
		goto fail;
	if (!create && (stat(b->dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		dk_fail(err, DK_E_NOTFOUND, "%s: no blobs/sha256 directory", root);
		goto fail;
	}
	return 0;
fail:
	dk_blobs_close(b);
	return -1;
}

void dk_blobs_close(struct dk_blobs *b)
{
	free(b->root);
	free(b->dir);
	b->root = b->dir = NULL;
}

char *dk_blobs_path(const struct dk_blobs *b, const char *digest)
{
	return dk_path_join(b->dir, dk_digest_hex(digest));
}

int dk_blobs_has(const struct dk_blobs *b, const char *digest)
{
	char *p = dk_blobs_path(b, digest);
	struct stat st;
	int has = stat(p, &st) == 0 && S_ISREG(st.st_mode);

	free(p);
	return has;
}

int dk_blobs_tmp(const struct dk_blobs *b, char **tmp, struct dk_err *err)
{
	int fd;

	*tmp = dk_path_join(b->dir, ".tmp-XXXXXX");
	fd = mkstemp(*tmp);
	if (fd < 0) {
		dk_fail_errno(err, DK_E_IO, "create temporary blob in %s", b->dir);
		free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

int dk_blobs_commit(const struct dk_blobs *b, int fd, char *tmp, const char *digest,
		    struct dk_err *err)
{
	char *dst = dk_blobs_path(b, digest);
	int rc = dk_commit_temp(fd, tmp, dst, 0644, err);

	free(dst);
	return rc;
}

void dk_blobs_discard(int fd, char *tmp)
{
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	free(tmp);
}

int dk_blobs_put_bytes(const struct dk_blobs *b, const void *data, size_t len,
		       char digest[DK_DIGEST_SIZE], struct dk_err *err)
{
	char *tmp;
	int fd;

	dk_sha256_buf(data, len, digest);
	if (dk_blobs_has(b, digest))
		return 0;
	fd = dk_blobs_tmp(b, &tmp, err);
	if (fd < 0)
		return -1;
	if (dk_write_all(fd, data, len, tmp, err) < 0) {
		dk_blobs_discard(fd, tmp);
		return -1;
	}
	return dk_blobs_commit(b, fd, tmp, digest, err);
}

int dk_blobs_put_file(const struct dk_blobs *b, const char *src, const char *digest,
		      struct dk_err *err)
{
	char *dst;
	int rc;

	if (dk_blobs_has(b, digest))
		return 0;
	dst = dk_blobs_path(b, digest);
	rc = dk_copy_file_atomic(src, dst, err);
	free(dst);
	return rc;
}

int dk_blobs_verify(const struct dk_blobs *b, const char *digest, uint64_t size,
		    struct dk_err *err)
{
	char got[DK_DIGEST_SIZE];
	uint64_t got_size = 0;
	char *p = dk_blobs_path(b, digest);
	int rc = dk_sha256_file(p, got, &got_size, err);

	if (rc < 0) {
		if (err && err->code == DK_E_NOTFOUND)
			dk_fail(err, DK_E_NOTFOUND, "%s: blob %s is missing", b->root, digest);
	} else if (strcmp(got, digest) != 0 && size && got_size != size) {
		/* cut short or grown: the sizes say which */
		rc = dk_fail(err, DK_E_CORRUPT, "%s: blob %s is corrupt: its content hashes to %s (%llu bytes, its descriptor says %llu)",
			     b->root, digest, got, (unsigned long long)got_size, (unsigned long long)size);
	} else if (strcmp(got, digest) != 0) {
		rc = dk_fail(err, DK_E_CORRUPT, "%s: blob %s is corrupt: its content hashes to %s",
			     b->root, digest, got);
	} else if (size && got_size != size) {
		rc = dk_fail(err, DK_E_CORRUPT, "%s: blob %s has %llu bytes, its descriptor says %llu",
			     b->root, digest, (unsigned long long)got_size, (unsigned long long)size);
	}
	free(p);
	return rc;
}

int dk_blobs_read(const struct dk_blobs *b, const char *digest, uint64_t size, size_t max,
		  char **out, size_t *len, struct dk_err *err)
{
	char got[DK_DIGEST_SIZE];
	char *p = dk_blobs_path(b, digest);
	int rc = dk_read_file(p, max, out, len, err);

	free(p);
	if (rc < 0) {
		if (err->code == DK_E_NOTFOUND)
			return dk_fail(err, DK_E_NOTFOUND, "%s: blob %s is missing", b->root, digest);
		return dk_err_prefix(err, "%s: blob %s", b->root, digest);
	}
	dk_sha256_buf(*out, *len, got);
	if (strcmp(got, digest) != 0)
		rc = dk_fail(err, DK_E_CORRUPT, "%s: blob %s is corrupt: its content hashes to %s (%zu bytes)",
			     b->root, digest, got, *len);
	else if (size && *len != size)
		rc = dk_fail(err, DK_E_CORRUPT, "%s: blob %s has %zu bytes, its descriptor says %llu",
			     b->root, digest, *len, (unsigned long long)size);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}
