/*
 * wheelname.c - wheel file names (PEP 427) as packaging.utils'
 * parse_wheel_filename reads them, their rank for a target, and PEP 503
 * project names.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/pytags.h"
#include "derrick/util.h"
#include "pyshow.h"

char *dk_pyname_normalize(const char *name)
{
	struct strbuf sb = STRBUF_INIT;

	for (const char *p = name; *p; p++) {
		if (*p == '-' || *p == '_' || *p == '.') {
			while (p[1] == '-' || p[1] == '_' || p[1] == '.')
				p++;
			sb_addc(&sb, '-');
		} else {
			sb_addc(&sb, *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p);
		}
	}
	return sb_detach(&sb);
}

void dk_wheelname_free(struct dk_wheelname *w)
{
	char **lists[] = { w->interps, w->abis, w->platforms };
	size_t ns[] = { w->ninterps, w->nabis, w->nplatforms };

	for (size_t l = 0; l < 3; l++) {
		for (size_t i = 0; i < ns[l]; i++)
			free(lists[l][i]);
		free(lists[l]);
	}
	free(w->name);
	free(w->dist);
	free(w->build_num);
	free(w->build_rest);
	dk_pyver_free(&w->version);
	memset(w, 0, sizeof(*w));
}

/* packaging's name rule, ^[\w\d._]*$ with no "__": bytes >= 0x80 stand for Unicode letters. */
static int name_ok(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c >= 0x80))
			return 0;
		if (c == '_' && i + 1 < n && s[i + 1] == '_')
			return 0;
	}
	return 1;
}

/* One tag part ("cp312" or "manylinux1_x86_64.manylinux_2_5_x86_64") split at '.', lower case. */
static int split_part(const char *s, size_t n, char ***out, size_t *count)
{
	size_t a = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (i == a)
			return -1;
		*out = dk_xrealloc(*out, (*count + 1) * sizeof(char *));
		(*out)[*count] = dk_xstrndup(s + a, i - a);
		for (char *c = (*out)[*count]; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c += 32;
		(*count)++;
		a = i + 1;
	}
	return 0;
}

/* The reason filename is not a wheel's name (a new string), or NULL with *w filled. */
static char *parse(const char *filename, struct dk_wheelname *w)
{
	size_t len = strlen(filename), dashes = 0;
	const char *part[6], *stem_end;
	size_t nparts = 0;
	struct dk_err err;
	char *ver;
	int rc;

	if (len < 4 || strcmp(filename + len - 4, ".whl") != 0)
		return dk_xstrdup("the extension must be .whl");
	stem_end = filename + len - 4;
	for (const char *p = filename; p < stem_end; p++)
		dashes += *p == '-';
	if (dashes != 4 && dashes != 5)
		return dk_xstrdup("expected NAME-VERSION(-BUILD)?-PYTHON-ABI-PLATFORM.whl");
	part[nparts++] = filename;
	for (const char *p = filename; p < stem_end; p++)
		if (*p == '-')
			part[nparts++] = p + 1;
	/* parts run [part[i], part[i+1] - 1); the last to stem_end */
#define PART_LEN(i) ((size_t)(((i) + 1 < nparts ? part[(i) + 1] - 1 : stem_end) - part[i]))
	if (!name_ok(part[0], PART_LEN(0)))
		return dk_xstrdup("invalid project name");
	ver = dk_xstrndup(part[1], PART_LEN(1));
	rc = dk_pyver_parse(ver, &w->version, &err);
	free(ver);
	if (rc < 0)
		return dk_xstrdup(err.msg);
	w->dist = dk_xstrndup(part[0], PART_LEN(0));
	w->name = dk_pyname_normalize(w->dist);
	if (dashes == 5) {
		size_t n = PART_LEN(2), d = 0;

		while (d < n && part[2][d] >= '0' && part[2][d] <= '9')
			d++;
		if (!d)
			return dk_xstrdup("the build tag must start with a digit");
		w->has_build = 1;
		w->build_num = dk_xstrndup(part[2], d);
		w->build_rest = dk_xstrndup(part[2] + d, n - d);
	}
	if (split_part(part[nparts - 3], PART_LEN(nparts - 3), &w->interps, &w->ninterps) < 0 ||
	    split_part(part[nparts - 2], PART_LEN(nparts - 2), &w->abis, &w->nabis) < 0 ||
	    split_part(part[nparts - 1], PART_LEN(nparts - 1), &w->platforms, &w->nplatforms) < 0)
		return dk_xstrdup("an empty compatibility tag");
#undef PART_LEN
	/* a name is at most a path component; this bounds the work of ranking it */
	if (w->ninterps * w->nabis * w->nplatforms > DK_WHEEL_MAX_TRIPLES)
		return dk_xasprintf("more than %d tag triples", DK_WHEEL_MAX_TRIPLES);
	return NULL;
}

int dk_wheelname_parse(const char *filename, struct dk_wheelname *w, struct dk_err *err)
{
	char *why, *shown;

	memset(w, 0, sizeof(*w));
	why = parse(filename, w);
	if (!why)
		return 0;
	dk_wheelname_free(w);
	shown = dk_py_shown(filename);
	dk_fail(err, DK_E_SPEC, "wheel file name \"%s\": %s", shown, why);
	free(shown);
	free(why);
	return -1;
}

long dk_wheelname_rank(const struct dk_pytags *tags, const struct dk_wheelname *w)
{
	long best = -1;

	for (size_t i = 0; i < w->ninterps; i++)
		for (size_t a = 0; a < w->nabis; a++)
			for (size_t p = 0; p < w->nplatforms; p++) {
				long r = dk_pytags_rank(tags, w->interps[i], w->abis[a], w->platforms[p]);

				if (r >= 0 && (best < 0 || r < best))
					best = r;
			}
	return best;
}

char *dk_wheelname_tags(const struct dk_wheelname *w)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < w->ninterps; i++)
		for (size_t a = 0; a < w->nabis; a++)
			for (size_t p = 0; p < w->nplatforms; p++) {
				if (sb.len)
					sb_adds(&sb, ", ");
				sb_addf(&sb, "%s-%s-%s", w->interps[i], w->abis[a], w->platforms[p]);
			}
	return sb_detach(&sb);
}

int dk_pytags_rank_text(const struct dk_pytags *tags, const char *tagset, long *rank, struct dk_err *err)
{
	const char *d1 = strchr(tagset, '-'), *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
	struct dk_wheelname w;
	int bad;

	*rank = -1;
	memset(&w, 0, sizeof(w));
	bad = !d2 || strchr(d2 + 1, '-') ||
	      split_part(tagset, (size_t)(d1 - tagset), &w.interps, &w.ninterps) < 0 ||
	      split_part(d1 + 1, (size_t)(d2 - d1 - 1), &w.abis, &w.nabis) < 0 ||
	      split_part(d2 + 1, strlen(d2 + 1), &w.platforms, &w.nplatforms) < 0 ||
	      w.ninterps * w.nabis * w.nplatforms > DK_WHEEL_MAX_TRIPLES;
	if (!bad)
		*rank = dk_wheelname_rank(tags, &w);
	dk_wheelname_free(&w);
	if (bad) {
		char *shown = dk_py_shown(tagset);

		dk_fail(err, DK_E_SPEC, "tag set \"%s\": expected PYTHON-ABI-PLATFORM, each part '.'-separated", shown);
		free(shown);
		return -1;
	}
	return 0;
}
