/*
 * fuzz_wheelname.c - wheel file names and their rank for a target.  A name
 * that parses has a normalised project name that normalises to itself, and
 * its rank, when it has one, is the place of one of its own tag triples.
 */
#include "fuzz.h"

#include "derrick/pytags.h"

static struct dk_pytags tags;

static void build_tags(void)
{
	struct dk_pytarget t;
	struct dk_platform plat;
	struct dk_err err;

	if (dk_platform_parse("linux/amd64", &plat, &err) < 0 ||
	    dk_pytarget_init(&t, "3.12", "glibc 2.36", &plat, &err) < 0)
		abort();
	dk_pytags_build(&t, &tags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *again, *all;
	struct dk_wheelname w;
	struct dk_err err;
	long rank;

	if (!tags.n)
		build_tags();
	if (dk_wheelname_parse(s, &w, &err) < 0) {
		if (strchr(err.msg, '\n'))
			abort();
		free(s);
		return 0;
	}
	again = dk_pyname_normalize(w.name);
	if (strcmp(again, w.name))
		abort();
	rank = dk_wheelname_rank(&tags, &w);
	all = dk_wheelname_tags(&w);
	if (rank < -1 || rank >= (long)tags.n)
		abort();
	if (rank >= 0) {
		/* tags.tags[rank] is one of the name's triples */
		size_t n = strlen(tags.tags[rank]);
		const char *p = strstr(all, tags.tags[rank]);

		while (p && !((p == all || p[-1] == ' ') && (p[n] == ',' || p[n] == 0)))
			p = strstr(p + 1, tags.tags[rank]);
		if (!p)
			abort();
	}
	free(all);
	free(again);
	dk_wheelname_free(&w);
	free(s);
	return 0;
}
