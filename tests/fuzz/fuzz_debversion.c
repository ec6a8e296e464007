/*
 * fuzz_debversion.c - Debian versions (debversion.h).  The input is two
 * lines, versions A and B: the order must be antisymmetric, agree between
 * parsed and unparsed comparison, and a valid version must equal itself and
 * satisfy "= itself" and ">= itself"; messages stay on one line.
 */
#include "fuzz.h"

#include "derrick/debrel.h"
#include "derrick/debversion.h"

static int sign(int c)
{
	return c < 0 ? -1 : c > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *b = strchr(s, '\n');
	struct dk_debver va, vb;
	struct dk_err err;
	int ok_a, ok_b;

	if (b)
		*b++ = 0;
	else
		b = s + strlen(s);
	ok_a = dk_debver_parse(s, strlen(s), &va, &err) == 0;
	if (!ok_a && strchr(err.msg, '\n'))
		abort();
	ok_b = dk_debver_parse(b, strlen(b), &vb, &err) == 0;
	if (!ok_b && strchr(err.msg, '\n'))
		abort();
	if (sign(dk_debver_cmp_str(s, b)) != -sign(dk_debver_cmp_str(b, s)))
		abort();
	if (dk_debver_cmp_str(s, s))
		abort();
	if (ok_a && ok_b && sign(dk_debver_cmp(&va, &vb)) != sign(dk_debver_cmp_str(s, b)))
		abort();
	if (ok_a && (!dk_debrel_satisfies(s, DK_DEBREL_EQ, s) || !dk_debrel_satisfies(s, DK_DEBREL_GE, s) ||
		     dk_debrel_satisfies(s, DK_DEBREL_LT, s)))
		abort();
	free(s);
	return 0;
}
