/* fuzz_token.c - the token server's answer (JSON: token or access_token, expires_in). */
#include "fuzz.h"

#include "derrick/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *token = NULL;
	int64_t ttl = 0;
	struct dk_err err;

	if (dk_reg_token_answer((const char *)data, size, &token, &ttl, &err) == 0) {
		if (!token || !*token || ttl < 1 || ttl > DK_TOKEN_TTL_MAX)
			abort();
		free(token);
	} else if (token) {
		abort();
	}
	return 0;
}
