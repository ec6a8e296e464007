/*
 * split.c - the layer groups of a wheels layer (split.h says the rule).
 *
 * A bucket is chosen by a hash of the name, not by position in a sorted
 * list, so that adding, removing or resizing one package never shifts the
 * others between buckets; the bucket count K depends on the layer bound
 * alone for the same reason.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/digest.h"
#include "derrick/split.h"
#include "derrick/util.h"

/* A package with its index in the caller's array, as the sorts move it. */
struct ord {
	size_t idx;
	const struct dk_split_pkg *p;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct ord *)a)->p->name, ((const struct ord *)b)->p->name);
}

/* Largest first; equal sizes by name, so the order is total. */
static int by_size_desc(const void *a, const void *b)
{
	const struct dk_split_pkg *x = ((const struct ord *)a)->p, *y = ((const struct ord *)b)->p;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The first 8 bytes of sha256(name), big-endian, mod k. */
static size_t bucket_of(const char *name, size_t k)
{
	char d[DK_DIGEST_SIZE];
	const char *hex;
	uint64_t v = 0;

	dk_sha256_buf(name, strlen(name), d);
	hex = dk_digest_hex(d);
	for (int i = 0; i < 16; i++) {
		char c = hex[i];

		v = (v << 4) | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	return (size_t)(v % k);
}

/* Append a group of the packages in o[0..n) (any order; sorted here by name). */
static void add_group(struct dk_split *out, const struct dk_split_pkg *pkgs, struct ord *o, size_t n,
		      int alone)
{
	struct dk_split_group *g;
	struct strbuf sb = STRBUF_INIT;

	if (!n)
		return;
	qsort(o, n, sizeof(*o), by_name);
	out->v = dk_xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
	g = &out->v[out->n++];
	g->pkgs = dk_xmalloc(n * sizeof(*g->pkgs));
	g->n = n;
	g->alone = alone;
	g->pure = 1;
	for (size_t i = 0; i < n; i++) {
		const struct dk_split_pkg *p = &pkgs[o[i].idx];

		g->pkgs[i] = o[i].idx;
		g->pure &= p->pure != 0;
		sb_join(&sb, ", ", p->label ? p->label : p->name);
	}
	g->names = sb_detach(&sb);
}

/* Names must be there and unique: the caller normalised them, so a repeat is its bug. */
static int check_names(const struct dk_split_pkg *pkgs, struct ord *o, size_t n, struct dk_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (!pkgs[i].name || !*pkgs[i].name)
			return dk_fail(err, DK_E_INTERNAL, "layer split: package %zu has no name", i);
	qsort(o, n, sizeof(*o), by_name);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(o[i - 1].p->name, o[i].p->name))
			return dk_fail(err, DK_E_INTERNAL, "layer split: package \"%s\" given twice", o[i].p->name);
	return 0;
}

int dk_split_packages(const struct dk_split_pkg *pkgs, size_t n, unsigned max_layers, int one,
		      struct dk_split *out, struct dk_err *err)
{
	size_t k, slots, n_large = 0, *fill;
	struct ord *o, *large, *buckets;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!max_layers)
		max_layers = DK_SPLIT_MAX_LAYERS;
	if (max_layers < 2)
		return dk_fail(err, DK_E_SPEC, "layer split: at most %u layers: need at least 2, "
			       "since pure and platform wheels never share one", max_layers);
	o = dk_xcalloc(n + 1, sizeof(*o));
	large = dk_xcalloc(n + 1, sizeof(*large));
	k = max_layers / 8 ? max_layers / 8 : 1;
	slots = max_layers - 2 * k;
	/* bucket b of purity p holds its packages at buckets[(p * k + b) * n ...], fill[p * k + b] of them */
	buckets = dk_xcalloc(2 * k * n + 1, sizeof(*buckets));
	fill = dk_xcalloc(2 * k, sizeof(*fill));
	for (size_t i = 0; i < n; i++) {
		o[i].idx = i;
		o[i].p = &pkgs[i];
	}
	if (check_names(pkgs, o, n, err) < 0)
		goto out;
	if (one) {
		add_group(out, pkgs, o, n, 0);
		rc = 0;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (o[i].p->size >= DK_SPLIT_LARGE)
			large[n_large++] = o[i];
	qsort(large, n_large, sizeof(*large), by_size_desc);
	if (n_large > slots)
		n_large = slots;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0, b;

		while (j < n_large && large[j].idx != o[i].idx)
			j++;
		if (j < n_large)
			continue;
		b = (o[i].p->pure ? k : 0) + bucket_of(o[i].p->name, k);
		buckets[b * n + fill[b]++] = o[i];
	}
	qsort(large, n_large, sizeof(*large), by_name);
	for (size_t j = 0; j < n_large; j++)
		add_group(out, pkgs, &large[j], 1, 1);
	for (size_t b = 0; b < 2 * k; b++)
		add_group(out, pkgs, &buckets[b * n], fill[b], 0);
	rc = 0;
out:
	free(o);
	free(large);
	free(buckets);
	free(fill);
	if (rc < 0)
		dk_split_free(out);
	return rc;
}

void dk_split_free(struct dk_split *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].pkgs);
		free(s->v[i].names);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
