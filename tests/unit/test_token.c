/*
 * test_token.c - a token server's answer (dk_reg_token_answer): which token
 * is taken, and that its lifetime is range-checked before any clock
 * arithmetic (an "expires_in" near 2^63 once overflowed the expiry time).
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/registry.h"
#include "tap.h"

/* The ttl of an answer with a token, or -1 when it is refused. */
static int64_t ttl_of(const char *json)
{
	char *tok;
	int64_t ttl;
	struct dk_err err;

	if (dk_reg_token_answer(json, strlen(json), &tok, &ttl, &err) < 0)
		return -1;
	free(tok);
	return ttl;
}

static void test_lifetimes(void)
{
	CHECK(ttl_of("{\"token\": \"t\", \"expires_in\": 300}") == 300);
	CHECK(ttl_of("{\"token\": \"t\", \"expires_in\": 1}") == 1);
	CHECK(ttl_of("{\"token\": \"t\", \"expires_in\": 86400}") == 86400);
	/* a huge lifetime is held to a day, so now + ttl cannot overflow */
	CHECK(ttl_of("{\"token\": \"t\", \"expires_in\": 86401}") == DK_TOKEN_TTL_MAX);
	CHECK(ttl_of("{\"token\": \"t\", \"expires_in\": 9223372036854775807}") == DK_TOKEN_TTL_MAX);
	CHECK(ttl_of("{\"token\": \"t\", \"expires_in\": 9223372036854775806}") == DK_TOKEN_TTL_MAX);
	/* absent, senseless or not an integer: the spec's 60 s */
	CHECK(ttl_of("{\"token\": \"t\"}") == 60);
	CHECK(ttl_of("{\"token\": \"t\", \"expires_in\": 0}") == 60);
	CHECK(ttl_of("{\"token\": \"t\", \"expires_in\": -9223372036854775807}") == 60);
	CHECK(ttl_of("{\"token\": \"t\", \"expires_in\": 1e300}") == 60);
	CHECK(ttl_of("{\"token\": \"t\", \"expires_in\": \"300\"}") == 60);
	/* jansson refuses an integer past int64: the whole answer is not JSON then */
	CHECK(ttl_of("{\"token\": \"t\", \"expires_in\": 9223372036854775808}") == -1);
}

static void test_which_token(void)
{
	const char *json = "{\"token\": \"\", \"access_token\": \"acc\"}";
	char *tok = (char *)"untouched";
	int64_t ttl;
	struct dk_err err;

	CHECK(dk_reg_token_answer(json, strlen(json), &tok, &ttl, &err) == 0);
	CHECK_STR(tok, "acc");
	free(tok);
	json = "{\"token\": \"tok\", \"access_token\": \"acc\"}";
	CHECK(dk_reg_token_answer(json, strlen(json), &tok, &ttl, &err) == 0);
	CHECK_STR(tok, "tok");
	free(tok);
	/* no token, or not JSON: refused, *token NULL, and the answer never quoted */
	static const char *const bad[] = {
		"{\"token\": \"\"}", "{\"token\": 5, \"secret\": \"SEKRET\"}", "[\"SEKRET\"]", "SEKRET", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		CHECK(dk_reg_token_answer(bad[i], strlen(bad[i]), &tok, &ttl, &err) == -1);
		CHECK(tok == NULL);
		CHECK(err.code == DK_E_AUTH);
		CHECK(strstr(err.msg, "SEKRET") == NULL);
	}
}

int main(void)
{
	RUN(test_lifetimes);
	RUN(test_which_token);
	return tap_done();
}
