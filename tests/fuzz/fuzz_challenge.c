/* fuzz_challenge.c - WWW-Authenticate values (one header per input line). */
#include "fuzz.h"

#include "derrick/challenge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size);
	struct dk_challenges cs = DK_CHALLENGES_INIT;
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		dk_challenges_add(&cs, line);
	for (size_t i = 0; i < cs.n; i++) {
		const struct dk_challenge *c = &cs.v[i];

		/* what the parser promises: a scheme is a non-empty token, names are lower case */
		if (!c->scheme[0] || strpbrk(c->scheme, " \t,=\""))
			abort();
		for (size_t j = 0; j < c->n_params; j++)
			for (const char *p = c->params[j].name; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					abort();
		dk_challenge_param(c, "realm");
	}
	dk_challenges_find(&cs, "bearer");
	dk_challenges_release(&cs);
	free(text);
	return 0;
}
