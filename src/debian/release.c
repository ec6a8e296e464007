/*
 * release.c - the few fields of a Debian Release file that the repository
 * reader needs, read with the general stanza reader (deb822.h): what is
 * checked here is only what Release adds to the syntax (one stanza,
 * single-line fields, the SHA256 list).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/deb822.h"
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

/* One line of the SHA256 list: "HEX SIZE PATH" (leading blanks and a final '\r' allowed). */
static int sha256_line(struct dk_deb_release *r, char *line, const char *where, unsigned long lineno,
		       struct dk_err *err)
{
	const char *p = line + strspn(line, " \t");
	size_t k = strcspn(p, " \t"), i, n = strlen(line);
	struct dk_deb_release_file f = { 0 };
	char *end;

	if (n && line[n - 1] == '\r')
		line[n - 1] = '\0';
	if (k != 64)
		return dk_fail(err, DK_E_CORRUPT, "%s:%lu: SHA256 entry without a 64-digit hash", where, lineno);
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return dk_fail(err, DK_E_CORRUPT, "%s:%lu: SHA256 entry: the hash is not hex", where, lineno);
		f.sha256[i] = (char)tolower((unsigned char)p[i]);
	}
	p += 64;
	p += strspn(p, " \t");
	if (!isdigit((unsigned char)*p))
		return dk_fail(err, DK_E_CORRUPT, "%s:%lu: SHA256 entry without a size", where, lineno);
	errno = 0;
	f.size = strtoull(p, &end, 10);
	if (errno || (*end && *end != ' ' && *end != '\t'))
		return dk_fail(err, DK_E_CORRUPT, "%s:%lu: SHA256 entry: bad size", where, lineno);
	p = end + strspn(end, " \t");
	k = strcspn(p, " \t");
	if (!k || p[k])
		return dk_fail(err, DK_E_CORRUPT, "%s:%lu: SHA256 entry needs one path after the size", where,
			       lineno);
	for (i = 0; i < k; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return dk_fail(err, DK_E_CORRUPT, "%s:%lu: SHA256 entry: a control character in the path",
				       where, lineno);
	if (dk_deb_release_find(r, p)) {
		char *shown = dk_deb_show(p, strlen(p), 200);

		dk_fail(err, DK_E_CORRUPT, "%s:%lu: SHA256 lists %s twice", where, lineno, shown);
		free(shown);
		return -1;
	}
	f.path = dk_xstrdup(p);
	r->files = dk_xrealloc(r->files, (r->n_files + 1) * sizeof(*r->files));
	r->files[r->n_files++] = f;
	return 0;
}

/* The SHA256 field: nothing on its own line, one entry per continuation line. */
static int sha256_list(struct dk_deb_release *r, const struct dk_deb822_field *fl, const char *where,
		       struct dk_err *err)
{
	const char *v = fl->value, *end = v + fl->value_len;
	unsigned long lineno = fl->line;
	int rc = 0;

	if (v < end && *v != '\n')
		return dk_fail(err, DK_E_CORRUPT, "%s:%lu: SHA256 takes its entries on the lines below", where,
			       lineno);
	while (rc == 0 && v < end) {
		const char *nl = memchr(v + 1, '\n', (size_t)(end - v - 1));
		char *line = dk_xstrndup(v + 1, (size_t)((nl ? nl : end) - v - 1));

		rc = sha256_line(r, line, where, ++lineno, err);
		free(line);
		v = nl ? nl : end;
	}
	return rc;
}

enum field { F_SUITE, F_CODENAME, F_DATE, F_VALID_UNTIL, F_ARCHS, F_COMPONENTS, F_N };
static const char *const field_names[F_N] = {
	[F_SUITE] = "Suite", [F_CODENAME] = "Codename", [F_DATE] = "Date", [F_VALID_UNTIL] = "Valid-Until",
	[F_ARCHS] = "Architectures", [F_COMPONENTS] = "Components",
};

/* A single-line field's value (v: NUL-terminated) into r. */
static int set_value(struct dk_deb_release *r, enum field f, const char *v, const char *where, unsigned long lineno,
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

			dk_fail(err, DK_E_CORRUPT, "%s:%lu: %s is not a date: %s", where, lineno, field_names[f], shown);
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

/* The fields of the one stanza into r. */
static int fields(struct dk_deb_release *r, const struct dk_deb822_stanza *st, const char *where, struct dk_err *err)
{
	const struct dk_deb822_field *fl;
	int rc = 0;

	for (int f = 0; rc == 0 && f < F_N; f++) {
		char *v;

		if (!(fl = dk_deb822_get(st, field_names[f])))
			continue;
		if (memchr(fl->value, '\n', fl->value_len))
			return dk_fail(err, DK_E_CORRUPT, "%s:%lu: %s: a continuation line where none may be", where,
				       fl->line + 1, field_names[f]);
		v = dk_xstrndup(fl->value, fl->value_len);
		rc = set_value(r, (enum field)f, v, where, fl->line, err);
		free(v);
	}
	if (rc == 0 && (fl = dk_deb822_get(st, "SHA256")))
		rc = sha256_list(r, fl, where, err);
	return rc;
}

int dk_deb_release_parse(const char *text, size_t len, const char *where, struct dk_deb_release *r,
			 struct dk_err *err)
{
	const char *nul = memchr(text, '\0', len);
	struct dk_deb822_reader *rd;
	struct dk_deb822_stanza st;
	int rc;

	memset(r, 0, sizeof(*r));
	if (nul) {
		unsigned long lineno = 1;

		for (const char *p = text; p < nul; p++)
			lineno += *p == '\n';
		return dk_fail(err, DK_E_CORRUPT, "%s:%lu: a NUL byte", where, lineno);
	}
	rd = dk_deb822_open_mem(text, len, where, 0);
	rc = dk_deb822_next(rd, &st, err);
	if (rc == 0)
		rc = dk_fail(err, DK_E_CORRUPT, "%s: empty Release", where);
	else if (rc > 0)
		rc = fields(r, &st, where, err);
	if (rc == 0) {
		rc = dk_deb822_next(rd, &st, err);
		if (rc > 0)
			rc = dk_fail(err, DK_E_CORRUPT, "%s:%lu: a second stanza (a Release has one)", where, st.line);
	}
	dk_deb822_close(rd);
	if (rc < 0)
		dk_deb_release_free(r);
	return rc < 0 ? -1 : 0;
}

int dk_deb_release_has_component(const struct dk_deb_release *r, const char *c)
{
	size_t n = strlen(c);

	if (!r->n_components)
		return 1;
	for (size_t i = 0; i < r->n_components; i++) {
		const char *have = r->components[i];
		size_t hl = strlen(have);

		if (!strcmp(have, c) || (hl > n && have[hl - n - 1] == '/' && !strcmp(have + hl - n, c)))
			return 1;
	}
	return 0;
}
