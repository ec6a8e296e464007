/*
 * fuzz_pyversion.c - PEP 440 versions and specifier sets.  The input is
 * three lines: version A, version B, a specifier set.  What parses must
 * read back the same, compare consistently, and satisfy the specifiers it
 * spells; messages stay on one line.
 */
#include "fuzz.h"

#include "derrick/pyversion.h"

static void one_line(const struct dk_err *err)
{
	if (strchr(err->msg, '\n'))
		abort();
}

/* v satisfies "OP" + its own text (pre-releases allowed) */
static void satisfies(const char *op, const struct dk_pyver *v)
{
	char *text = dk_xasprintf("%s%s", op, v->text);
	struct dk_pyspecset set;
	struct dk_err err;
	int res;

	if (dk_pyspecset_parse(text, &set, &err) < 0)
		abort();
	if (dk_pyspecset_contains(&set, v, DK_PYPRE_YES, &res, &err) < 0 || !res)
		abort();
	dk_pyspecset_free(&set);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *line[3] = { s, "", "" };
	struct dk_pyver a, b, again;
	struct dk_pyspecset set;
	struct dk_err err;
	int ok_a, ok_b, res;

	for (int i = 1; i < 3; i++) {
		char *nl = strchr(line[i - 1], '\n');

		if (!nl)
			break;
		*nl = 0;
		line[i] = nl + 1;
	}
	ok_a = dk_pyver_parse(line[0], &a, &err) == 0;
	if (!ok_a)
		one_line(&err);
	ok_b = dk_pyver_parse(line[1], &b, &err) == 0;
	if (ok_a) {
		/* the normalised text is a version with the same text, equal to it */
		if (dk_pyver_parse(a.text, &again, &err) < 0 || strcmp(again.text, a.text) || dk_pyver_cmp(&a, &again))
			abort();
		dk_pyver_free(&again);
		satisfies("==", &a);
		satisfies("===", &a);
		if (!a.nlocal) {
			satisfies("<=", &a);
			satisfies(">=", &a);
		}
	}
	if (ok_a && ok_b && dk_pyver_cmp(&a, &b) != -dk_pyver_cmp(&b, &a))
		abort();
	if (dk_pyspecset_parse(line[2], &set, &err) == 0) {
		for (int pre = DK_PYPRE_DEFAULT; ok_a && pre <= DK_PYPRE_YES; pre++)
			if (dk_pyspecset_contains(&set, &a, (enum dk_pypre)pre, &res, &err) < 0)
				one_line(&err);
		dk_pyspecset_free(&set);
	} else {
		one_line(&err);
	}
	if (ok_a)
		dk_pyver_free(&a);
	if (ok_b)
		dk_pyver_free(&b);
	free(s);
	return 0;
}
