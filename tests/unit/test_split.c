/*
 * test_split.c - the layer groups of a wheels layer: the rule's stability
 * (a bump, an added or a removed package moves nothing else), pure and
 * platform packages apart, the bound, the order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/split.h"
#include "derrick/util.h"
#include "tap.h"

#define MiB ((uint64_t)1 << 20)
#define NPKG 400

static char names[NPKG][32];
static struct dk_split_pkg set[NPKG];

/* A fixed pseudo-random set: n packages, sizes from 5 KiB to about 12 MiB, a third pure; at most `big` large. */
static size_t make_set(size_t n, size_t big)
{
	uint64_t x = 88172645463325252ull;
	size_t n_big = 0;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		snprintf(names[i], sizeof(names[i]), "pkg-%03zu-%c", i, (char)('a' + x % 26));
		set[i].name = names[i];
		set[i].label = NULL;
		set[i].pure = x % 3 == 0;
		set[i].size = 5 * 1024 + (x >> 8) % (3 * MiB);
		if (x % 5 == 0 && n_big < big) {
			set[i].size = DK_SPLIT_LARGE + (x >> 16) % (8 * MiB);
			n_big++;
		}
	}
	return n;
}

/* The groups as text, one line per group: "name,name,...", for comparing splits. */
static char **group_texts(const struct dk_split_pkg *p, size_t n, unsigned max, size_t *n_groups)
{
	struct dk_split s;
	struct dk_err err;
	char **t;

	CHECK(dk_split_packages(p, n, max, 0, &s, &err) == 0);
	t = dk_xcalloc(s.n + 1, sizeof(*t));
	for (size_t g = 0; g < s.n; g++) {
		struct strbuf sb = STRBUF_INIT;

		for (size_t i = 0; i < s.v[g].n; i++)
			sb_join(&sb, ",", p[s.v[g].pkgs[i]].name);
		t[g] = sb_detach(&sb);
	}
	*n_groups = s.n;
	dk_split_free(&s);
	return t;
}

static void free_texts(char **t)
{
	for (size_t i = 0; t[i]; i++)
		free(t[i]);
	free(t);
}

/* Groups of b that a has not (as package sets): the layers a change re-uploads beyond a bumped one's bytes. */
static size_t new_groups(char **a, char **b)
{
	size_t n = 0;

	for (size_t j = 0; b[j]; j++) {
		size_t i = 0;

		while (a[i] && strcmp(a[i], b[j]))
			i++;
		n += !a[i];
	}
	return n;
}

/* Does the group text name `name` (a whole item)? */
static int holds(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *s = text; (s = strstr(s, name)); s++)
		if ((s == text || s[-1] == ',') && (!s[n] || s[n] == ','))
			return 1;
	return 0;
}

/* Resizing a package inside its class changes no group; across the class boundary at most two. */
static void test_bump_moves_nothing_else(void)
{
	size_t n = make_set(80, 8), ng, tried_cross = 0;
	char **before = group_texts(set, n, 0, &ng);

	for (size_t i = 0; i < n; i++) {
		uint64_t old = set[i].size;
		char **after;

		/* within the class */
		set[i].size = old >= DK_SPLIT_LARGE ? old + 3 * MiB : old / 2 + 1;
		after = group_texts(set, n, 0, &ng);
		CHECK(new_groups(before, after) == 0);
		free_texts(after);
		/* across the boundary, both ways */
		set[i].size = old >= DK_SPLIT_LARGE ? DK_SPLIT_LARGE - 1 : DK_SPLIT_LARGE;
		after = group_texts(set, n, 0, &ng);
		CHECK(new_groups(before, after) <= 2);
		CHECK(new_groups(after, before) <= 2);
		for (size_t g = 0; after[g]; g++)
			if (holds(after[g], names[i]))
				CHECK(new_groups(before, (char *[]){ after[g], NULL }) == 1);
		tried_cross++;
		free_texts(after);
		set[i].size = old;
	}
	CHECK(tried_cross == n);
	free_texts(before);
}

/* Adding or removing a package changes only the group it is (or was) in. */
static void test_add_remove_moves_nothing_else(void)
{
	size_t n = make_set(81, 8), ng;
	char **with = group_texts(set, n, 0, &ng);

	for (size_t i = 0; i < n; i++) {
		struct dk_split_pkg keep = set[i];
		char **without;

		/* remove i: swap it to the end and split the first n-1 */
		set[i] = set[n - 1];
		set[n - 1] = keep;
		without = group_texts(set, n - 1, 0, &ng);
		CHECK(new_groups(with, without) <= 1);  /* its bucket without it; none when it was alone */
		CHECK(new_groups(without, with) <= 1);  /* adding it back: its own group only */
		set[n - 1] = set[i];
		set[i] = keep;
		free_texts(without);
	}
	free_texts(with);
}

static void test_pure_and_platform_apart_and_bounded(void)
{
	static const unsigned maxes[] = { 0, 2, 3, 8, 16, 40 };

	for (size_t m = 0; m < sizeof(maxes) / sizeof(*maxes); m++)
		for (size_t big = 0; big <= 300; big += 150) {
			size_t n = make_set(300, big);
			struct dk_split s;
			struct dk_err err;
			size_t seen = 0, alone = 0;

			CHECK(dk_split_packages(set, n, maxes[m], 0, &s, &err) == 0);
			CHECK(s.n <= (maxes[m] ? maxes[m] : DK_SPLIT_MAX_LAYERS));
			CHECK(s.n >= 2);        /* 300 packages, pure and platform: never one layer */
			for (size_t g = 0; g < s.n; g++) {
				seen += s.v[g].n;
				alone += s.v[g].alone;
				if (s.v[g].alone)
					CHECK(s.v[g].n == 1 && set[s.v[g].pkgs[0]].size >= DK_SPLIT_LARGE);
				for (size_t i = 0; i < s.v[g].n; i++) {
					CHECK(set[s.v[g].pkgs[i]].pure == s.v[g].pure);
					if (i)
						CHECK(strcmp(set[s.v[g].pkgs[i - 1]].name, set[s.v[g].pkgs[i]].name) < 0);
				}
			}
			CHECK(seen == n);
			/* the large slots are used when there are large packages */
			if (big && maxes[m] == 0)
				CHECK(alone == DK_SPLIT_MAX_LAYERS - 4);
			dk_split_free(&s);
		}
}

/* Large packages alone, the largest first when there are too many; small ones grouped; the order fixed. */
static void test_groups_and_order(void)
{
	struct dk_split_pkg p[] = {
		{ "numpy", "numpy 1.26.4", 14 * MiB, 0 }, { "six", NULL, 11 * 1024, 1 },
		{ "scipy", NULL, 30 * MiB, 0 }, { "idna", NULL, 60 * 1024, 1 },
		{ "pyyaml", NULL, 700 * 1024, 0 }, { "botocore", NULL, 11 * MiB, 1 },
		{ "attrs", NULL, 60 * 1024, 1 }, { "markupsafe", NULL, 25 * 1024, 0 },
	};
	size_t n = sizeof(p) / sizeof(*p);
	struct dk_split s;
	struct dk_err err;

	CHECK(dk_split_packages(p, n, 0, 0, &s, &err) == 0);
	CHECK(s.n >= 4 && s.n <= 7);
	/* large ones first, by name, each alone */
	CHECK_STR(s.v[0].names, "botocore");
	CHECK(s.v[0].alone && s.v[0].pure);
	CHECK_STR(s.v[1].names, "numpy 1.26.4");
	CHECK_STR(s.v[2].names, "scipy");
	CHECK(!s.v[2].pure);
	/* then platform buckets, then pure ones */
	for (size_t g = 3; g < s.n; g++) {
		CHECK(!s.v[g].alone);
		if (g > 3)
			CHECK(s.v[g - 1].pure <= s.v[g].pure);
	}
	dk_split_free(&s);

	/* with room for two layers only, everything is in the two buckets */
	CHECK(dk_split_packages(p, n, 2, 0, &s, &err) == 0);
	CHECK(s.n == 2);
	CHECK_STR(s.v[0].names, "markupsafe, numpy 1.26.4, pyyaml, scipy");
	CHECK_STR(s.v[1].names, "attrs, botocore, idna, six");
	dk_split_free(&s);
	/* room for one large: the largest */
	CHECK(dk_split_packages(p, n, 3, 0, &s, &err) == 0);
	CHECK(s.n == 3);
	CHECK_STR(s.v[0].names, "scipy");
	dk_split_free(&s);

	/* "none": one group of all, in name order, mixed */
	CHECK(dk_split_packages(p, n, 0, 1, &s, &err) == 0);
	CHECK(s.n == 1 && s.v[0].n == n && !s.v[0].pure && !s.v[0].alone);
	CHECK_STR(s.v[0].names, "attrs, botocore, idna, markupsafe, numpy 1.26.4, pyyaml, scipy, six");
	dk_split_free(&s);
	CHECK(dk_split_packages(p, 0, 0, 1, &s, &err) == 0 && s.n == 0);
	CHECK(dk_split_packages(p, 0, 0, 0, &s, &err) == 0 && s.n == 0);
}

/* The same input in another order gives the same groups; the bucket of a name never changes. */
static void test_deterministic(void)
{
	size_t n = make_set(120, 6), ng1, ng2;
	char **a = group_texts(set, n, 0, &ng1), **b;

	for (size_t i = 0; i < n / 2; i++) {
		struct dk_split_pkg t = set[i];

		set[i] = set[n - 1 - i];
		set[n - 1 - i] = t;
	}
	b = group_texts(set, n, 0, &ng2);
	CHECK(ng1 == ng2);
	for (size_t g = 0; g < ng1 && g < ng2; g++)
		CHECK_STR(b[g], a[g]);
	free_texts(a);
	free_texts(b);

	/*
	 * Pinned: these names' buckets are part of the layer layout users get;
	 * changing them re-uploads everything.  The values come from Python:
	 * int.from_bytes(hashlib.sha256(name).digest()[:8], "big") % 2.
	 */
	struct dk_split_pkg p[] = { { "attrs", NULL, 1, 1 }, { "idna", NULL, 1, 1 }, { "six", NULL, 1, 1 },
				    { "certifi", NULL, 1, 1 }, { "packaging", NULL, 1, 1 } };
	struct dk_split s;
	struct dk_err err;

	CHECK(dk_split_packages(p, 5, 0, 0, &s, &err) == 0);
	CHECK(s.n == 2);
	CHECK_STR(s.v[0].names, "attrs, six");
	CHECK_STR(s.v[1].names, "certifi, idna, packaging");
	dk_split_free(&s);
}

static void test_refusals(void)
{
	struct dk_split_pkg p[] = { { "a", NULL, 1, 1 }, { "b", NULL, 1, 0 }, { "a", NULL, 2, 0 } };
	struct dk_split s;
	struct dk_err err;

	CHECK(dk_split_packages(p, 3, 0, 0, &s, &err) < 0);
	CHECK(strstr(err.msg, "package \"a\" given twice") != NULL);
	CHECK(s.n == 0);
	CHECK(dk_split_packages(p, 2, 1, 0, &s, &err) < 0);
	CHECK(err.code == DK_E_SPEC && strstr(err.msg, "need at least 2") != NULL);
	p[0].name = "";
	CHECK(dk_split_packages(p, 2, 0, 0, &s, &err) < 0);
	CHECK(strstr(err.msg, "package 0 has no name") != NULL);
}

int main(void)
{
	RUN(test_bump_moves_nothing_else);
	RUN(test_add_remove_moves_nothing_else);
	RUN(test_pure_and_platform_apart_and_bounded);
	RUN(test_groups_and_order);
	RUN(test_deterministic);
	RUN(test_refusals);
	return tap_done();
}
