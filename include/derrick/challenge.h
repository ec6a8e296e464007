/*
 * challenge.h - the authentication challenges of an HTTP answer
 * (WWW-Authenticate, RFC 9110 §11.6.1).
 *
 * One answer may carry several challenges, in several headers and several
 * to a header ("Negotiate, Basic realm=\"x\""); auth-params may be quoted
 * strings holding commas.  Schemes and parameter names are
 * case-insensitive.  Choosing among the schemes is the caller's business.
 */
#ifndef DERRICK_CHALLENGE_H
#define DERRICK_CHALLENGE_H

#include <stddef.h>

#include "derrick/http.h"

struct dk_auth_param {
	char *name;             /* lower-cased */
	char *value;            /* unquoted, escapes resolved */
};

struct dk_challenge {
	char *scheme;           /* as sent ("Bearer", "BASIC"): compare without case */
	char *token68;          /* the token68 form ("Negotiate YII..."), or NULL */
	struct dk_auth_param *params;
	size_t n_params;
};

struct dk_challenges {
	struct dk_challenge *v;
	size_t n;
};

#define DK_CHALLENGES_INIT { NULL, 0 }

/*
 * Append the challenges of one header value (NULL: none) to cs.  Malformed
 * pieces are skipped (a registry's typo must not hide the challenge after
 * it); a parameter named twice keeps its first value.
 */
void dk_challenges_add(struct dk_challenges *cs, const char *value);

/* Append the challenges of every WWW-Authenticate header of resp to cs. */
void dk_challenges_of(struct dk_challenges *cs, const struct dk_http_resp *resp);

/* The first challenge of cs with that scheme (any case), or NULL; owned by cs. */
const struct dk_challenge *dk_challenges_find(const struct dk_challenges *cs, const char *scheme);

/* The value of c's parameter `name` (any case), or NULL; owned by c. */
const char *dk_challenge_param(const struct dk_challenge *c, const char *name);

/* Free what cs holds and empty it. */
void dk_challenges_release(struct dk_challenges *cs);

#endif
