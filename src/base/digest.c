/*
 * digest.c - streaming SHA-256 through OpenSSL's EVP interface, which picks
 * the CPU's SHA extensions when present (hashing must never be the slow part
 * of a layer build).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "derrick/digest.h"
#include "derrick/util.h"

void dk_sha256_init(struct dk_sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		dk_oom("EVP");
	h->ctx = ctx;
}

void dk_sha256_update(struct dk_sha256 *h, const void *data, size_t len)
{
	if (len)
		EVP_DigestUpdate(h->ctx, data, len);
}

void dk_sha256_final(struct dk_sha256 *h, char out[DK_DIGEST_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[DK_DIGEST_SIZE - 1] = '\0';
}

void dk_sha256_abort(struct dk_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void dk_sha256_buf(const void *data, size_t len, char out[DK_DIGEST_SIZE])
{
	struct dk_sha256 h;

	dk_sha256_init(&h);
	dk_sha256_update(&h, data, len);
	dk_sha256_final(&h, out);
}

int dk_sha256_file(const char *path, char out[DK_DIGEST_SIZE], uint64_t *size, struct dk_err *err)
{
	char buf[1 << 16];
	struct dk_sha256 h;
	uint64_t total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return dk_fail_errno(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_IO, "open %s", path);
	dk_sha256_init(&h);
	for (;;) {
		ssize_t n = dk_read(fd, buf, sizeof(buf));

		if (n < 0) {
			dk_fail_errno(err, DK_E_IO, "read %s", path);
			dk_sha256_abort(&h);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		dk_sha256_update(&h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	dk_sha256_final(&h, out);
	if (size)
		*size = total;
	return 0;
}

int dk_digest_valid(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + DK_DIGEST_HEX)
		return 0;
	for (s += 7; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

const char *dk_digest_hex(const char *digest)
{
	return digest + 7;
}
