/*
 * release.c - the few fields of a Debian Release file that the repository
 * reader needs.  A minimal deb822 reader of its own: the general one
 * (deb822.h) is written in parallel and this should move onto it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "derrick/debrepo.h"
#include "derrick/util.h"
#include "show.h"

void dk_deb_release_free(struct dk_deb_release *r)
{
	size_t i;

	free(r->suite);
	free(r->codename);
	for (i = 0; i < r->n_archs; i++)
		free(r->archs[i]);
	free(r->archs);
	for (i = 0; i < r->n_components; i++)
		free(r->components[i]);
	free(r->components);
	for (i = 0; i < r->n_files; i++)
		free(r->files[i].path);
	free(r->files);
	memset(r, 0, sizeof(*r));
}

const struct dk_deb_release_file *dk_deb_release_find(const struct dk_deb_release *r, const char *path)
{
	for (size_t i = 0; i < r->n_files; i++)
		if (!strcmp(r->files[i].path, path))
			return &r->files[i];
	return NULL;
}

static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static int number(const char **p, int min_digits, int max_digits, int *v)
{
	int n = 0;

	*v = 0;
	while (isdigit((unsigned char)**p) && n < max_digits) {
		*v = *v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n >= min_digits && !isdigit((unsigned char)**p) ? 0 : -1;
}

int dk_deb_release_date(const char *s, time_t *t)
{
	struct tm tm = { 0 };
	const char *p = s;
	int day, year, hh, mm, ss, m;

	/* an optional "Sat, " */
	if (isalpha((unsigned char)p[0])) {
		while (isalpha((unsigned char)*p))
			p++;
		if (*p++ != ',')
			return -1;
	}
	while (*p == ' ')
		p++;
	if (number(&p, 1, 2, &day) < 0 || *p++ != ' ')
		return -1;
	for (m = 0; m < 12; m++)
		if (!strncmp(p, months[m], 3) && p[3] == ' ')
			break;
	if (m == 12)
		return -1;
	p += 4;
	if (number(&p, 4, 4, &year) < 0 || *p++ != ' ' || number(&p, 2, 2, &hh) < 0 || *p++ != ':' ||
	    number(&p, 2, 2, &mm) < 0 || *p++ != ':' || number(&p, 2, 2, &ss) < 0)
		return -1;
	if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970)
		return -1;
	if (*p == ' ')
		p++;
	if (strcmp(p, "UTC") && strcmp(p, "GMT") && strcmp(p, "Z") && strcmp(p, "+0000") && strcmp(p, "-0000"))
		return -1;
	tm.tm_mday = day;
	tm.tm_mon = m;
	tm.tm_year = year - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	*t = timegm(&tm);
	return 0;
}

/* Split a field's value on blanks into a new list. */
static void words(const char *v, char ***list, size_t *n)
{
	while (*v) {
		size_t k;

		v += strspn(v, " \t");
		k = strcspn(v, " \t");
		if (!k)
			break;
		*list = dk_xrealloc(*list, (*n + 1) * sizeof(**list));
		(*list)[(*n)++] = dk_xstrndup(v, k);
		v += k;
	}
}

/* One line of the SHA256 list: "HEX SIZE PATH". */
static int sha256_line(struct dk_deb_release *r, const char *line, const char *where, size_t lineno,
		       struct dk_err *err)
{
	const char *p = line + strspn(line, " \t");
	size_t k = strcspn(p, " \t"), i;
	struct dk_deb_release_file f = { 0 };
	char *end;

	if (k != 64)
		return dk_fail(err, DK_E_CORRUPT, "%s: line %zu: SHA256 entry without a 64-digit hash", where,
			       lineno);
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return dk_fail(err, DK_E_CORRUPT, "%s: line %zu: SHA256 entry: the hash is not hex",
				       where, lineno);
		f.sha256[i] = (char)tolower((unsigned char)p[i]);
	}
	p += 64;
	p += strspn(p, " \t");
	if (!isdigit((unsigned char)*p))
		return dk_fail(err, DK_E_CORRUPT, "%s: line %zu: SHA256 entry without a size", where, lineno);
	errno = 0;
	f.size = strtoull(p, &end, 10);
	if (errno || (*end && *end != ' ' && *end != '\t'))
		return dk_fail(err, DK_E_CORRUPT, "%s: line %zu: SHA256 entry: bad size", where, lineno);
	p = end + strspn(end, " \t");
	k = strcspn(p, " \t");
	if (!k || p[k])
		return dk_fail(err, DK_E_CORRUPT, "%s: line %zu: SHA256 entry needs one path after the size",
			       where, lineno);
	for (i = 0; i < k; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return dk_fail(err, DK_E_CORRUPT, "%s: line %zu: SHA256 entry: a control character in the path",
				       where, lineno);
	if (dk_deb_release_find(r, p)) {
		char *shown = dk_deb_show(p, strlen(p), 200);

		dk_fail(err, DK_E_CORRUPT, "%s: line %zu: SHA256 lists %s twice", where, lineno, shown);
		free(shown);
		return -1;
	}
	f.path = dk_xstrdup(p);
	r->files = dk_xrealloc(r->files, (r->n_files + 1) * sizeof(*r->files));
	r->files[r->n_files++] = f;
	return 0;
}

enum field { F_OTHER, F_SUITE, F_CODENAME, F_DATE, F_VALID_UNTIL, F_ARCHS, F_COMPONENTS, F_SHA256, F_N };
static const char *const field_names[F_N] = {
	[F_SUITE] = "Suite", [F_CODENAME] = "Codename", [F_DATE] = "Date", [F_VALID_UNTIL] = "Valid-Until",
	[F_ARCHS] = "Architectures", [F_COMPONENTS] = "Components", [F_SHA256] = "SHA256",
};

static enum field field_of(const char *name, size_t n)
{
	for (int f = 1; f < F_N; f++)
		if (strlen(field_names[f]) == n && !strncasecmp(field_names[f], name, n))
			return (enum field)f;
	return F_OTHER;
}

/* A single-line field's value (dates, words). */
static int set_value(struct dk_deb_release *r, enum field f, const char *v, const char *where, size_t lineno,
		     struct dk_err *err)
{
	time_t *t;

	switch (f) {
	case F_SUITE:
		r->suite = dk_xstrdup(v);
		return 0;
	case F_CODENAME:
		r->codename = dk_xstrdup(v);
		return 0;
	case F_DATE:
	case F_VALID_UNTIL:
		t = f == F_DATE ? &r->date : &r->valid_until;
		if (dk_deb_release_date(v, t) < 0) {
			char *shown = dk_deb_show(v, strlen(v), 64);

			dk_fail(err, DK_E_CORRUPT, "%s: line %zu: %s is not a date: %s", where, lineno,
				field_names[f], shown);
			free(shown);
			return -1;
		}
		return 0;
	case F_ARCHS:
		words(v, &r->archs, &r->n_archs);
		return 0;
	case F_COMPONENTS:
		words(v, &r->components, &r->n_components);
		return 0;
	default:
		return 0;
	}
}

int dk_deb_release_parse(const char *text, size_t len, const char *where, struct dk_deb_release *r,
			 struct dk_err *err)
{
	const char *p = text, *end = text + len;
	enum field cur = F_OTHER;
	int seen[F_N] = { 0 }, ended = 0, any = 0;
	size_t lineno = 0;
	char *line = NULL;

	memset(r, 0, sizeof(*r));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *colon, *v;

		lineno++;
		free(line);
		line = dk_xstrndup(p, n);
		p += n + (nl != NULL);
		if (strlen(line) != n) {
			dk_fail(err, DK_E_CORRUPT, "%s: line %zu: a NUL byte", where, lineno);
			goto fail;
		}
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (!line[strspn(line, " \t")]) {
			ended = any;
			continue;
		}
		if (ended) {
			dk_fail(err, DK_E_CORRUPT, "%s: line %zu: a second stanza (a Release has one)", where,
				lineno);
			goto fail;
		}
		any = 1;
		if (line[0] == ' ' || line[0] == '\t') {
			if (lineno == 1 || (cur != F_SHA256 && cur != F_OTHER)) {
				dk_fail(err, DK_E_CORRUPT, "%s: line %zu: a continuation line where none may be",
					where, lineno);
				goto fail;
			}
			if (cur == F_SHA256 && sha256_line(r, line, where, lineno, err) < 0)
				goto fail;
			continue;
		}
		colon = strchr(line, ':');
		if (!colon || colon == line || strcspn(line, " \t") < (size_t)(colon - line)) {
			dk_fail(err, DK_E_CORRUPT, "%s: line %zu: not a \"Field: value\" line", where, lineno);
			goto fail;
		}
		cur = field_of(line, (size_t)(colon - line));
		if (cur != F_OTHER && seen[cur]++) {
			dk_fail(err, DK_E_CORRUPT, "%s: line %zu: %s given twice", where, lineno, field_names[cur]);
			goto fail;
		}
		v = colon + 1 + strspn(colon + 1, " \t");
		for (n = strlen(v); n && (v[n - 1] == ' ' || v[n - 1] == '\t'); n--)
			v[n - 1] = '\0';
		if (cur == F_SHA256 && *v) {
			dk_fail(err, DK_E_CORRUPT, "%s: line %zu: SHA256 takes its entries on the lines below",
				where, lineno);
			goto fail;
		}
		if (set_value(r, cur, v, where, lineno, err) < 0)
			goto fail;
	}
	free(line);
	if (!any)
		return dk_fail(err, DK_E_CORRUPT, "%s: empty Release", where);
	return 0;
fail:
	free(line);
	dk_deb_release_free(r);
	return -1;
}
