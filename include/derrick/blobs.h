/*
 * blobs.h - a content-addressed directory of blobs, laid out as in an OCI
 * image layout: ROOT/blobs/sha256/<hex>.
 *
 * A blob only ever appears under its final name complete and verified:
 * writers fill a temporary file beside it and rename it into place.
 */
#ifndef DERRICK_BLOBS_H
#define DERRICK_BLOBS_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/digest.h"
#include "derrick/err.h"

struct dk_blobs {
	char *root;
	char *dir;          /* ROOT/blobs/sha256 */
};

/* With create, makes ROOT/blobs/sha256 as needed. */
int dk_blobs_open(struct dk_blobs *b, const char *root, int create, struct dk_err *err);
void dk_blobs_close(struct dk_blobs *b);

/* The path a blob has or would have (a new string). */
char *dk_blobs_path(const struct dk_blobs *b, const char *digest);
int dk_blobs_has(const struct dk_blobs *b, const char *digest);

/* A new temporary file inside the store; returns its fd and fills *tmp. */
int dk_blobs_tmp(const struct dk_blobs *b, char **tmp, struct dk_err *err);
/* fsync and rename a finished temporary file to the blob's name (takes tmp). */
int dk_blobs_commit(const struct dk_blobs *b, int fd, char *tmp, const char *digest,
		    struct dk_err *err);
/* Remove a temporary file that will not be committed (takes tmp). */
void dk_blobs_discard(int fd, char *tmp);

int dk_blobs_put_bytes(const struct dk_blobs *b, const void *data, size_t len,
		       char digest[DK_DIGEST_SIZE], struct dk_err *err);
/* Put the file src in as `digest`, unless the store already has it. */
int dk_blobs_put_file(const struct dk_blobs *b, const char *src, const char *digest,
		      struct dk_err *err);

/* Check a stored blob's size and digest; names the blob when it fails. */
int dk_blobs_verify(const struct dk_blobs *b, const char *digest, uint64_t size,
		    struct dk_err *err);

/*
 * Read a small blob (JSON) into memory, checking its size and digest.
 * `size` of 0 skips the size check (when it is not known).
 */
int dk_blobs_read(const struct dk_blobs *b, const char *digest, uint64_t size, size_t max,
		  char **out, size_t *len, struct dk_err *err);

#endif
