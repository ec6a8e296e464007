/*
 * digest.h - SHA-256 content digests in the OCI form "sha256:<64 hex>".
 */
#ifndef DERRICK_DIGEST_H
#define DERRICK_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/err.h"

#define DK_DIGEST_HEX 64
/* "sha256:" + 64 hex + NUL */
#define DK_DIGEST_SIZE (7 + DK_DIGEST_HEX + 1)
/* a bare sha256 in hex, as locks and indexes write it: 64 lower-case hex digits and a NUL */
#define DK_SHA256_HEX (DK_DIGEST_HEX + 1)

struct dk_sha256 {
	void *ctx;      /* an EVP_MD_CTX, kept opaque so OpenSSL stays out of headers */
};

void dk_sha256_init(struct dk_sha256 *h);
void dk_sha256_update(struct dk_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" and frees the context. */
void dk_sha256_final(struct dk_sha256 *h, char out[DK_DIGEST_SIZE]);
/* Frees the context without a result (error paths). */
void dk_sha256_abort(struct dk_sha256 *h);

void dk_sha256_buf(const void *data, size_t len, char out[DK_DIGEST_SIZE]);
/* Digest and size of a file, read in one streaming pass. */
int dk_sha256_file(const char *path, char out[DK_DIGEST_SIZE], uint64_t *size, struct dk_err *err);

/* 1 when s is "sha256:" followed by exactly 64 lowercase hex digits. */
int dk_digest_valid(const char *s);
/* The hex part of a valid digest. */
const char *dk_digest_hex(const char *digest);

#endif
