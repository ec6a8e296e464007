/*
 * fuzz_deb822.c - deb822 stanzas (deb822.h), relation fields (debrel.h)
 * and the resolver (debresolve.h) on what parses.  The input is read as a
 * Packages index and as a dpkg status: every stanza's fields must lie in
 * its raw bytes, every field is parsed as a relation in each flavour, and
 * resolving the first few package names must end (in an answer or an
 * error); messages stay on one line.
 */
#include "fuzz.h"

#include "derrick/deb822.h"
#include "derrick/debrel.h"
#include "derrick/debresolve.h"

static void one_line(const struct dk_err *err)
{
	if (strchr(err->msg, '\n') || !err->msg[0])
		abort();
}

static void relations(const struct dk_deb822_field *f)
{
	static const int flavours[] = { 0, DK_DEBREL_NO_ALTS | DK_DEBREL_ONLY_EQ, DK_DEBREL_RESTRICTIONS };
	struct dk_debrel rel;
	struct dk_err err;

	for (size_t k = 0; k < sizeof(flavours) / sizeof(flavours[0]); k++) {
		if (dk_debrel_parse(f->value, f->value_len, flavours[k], "Depends", "fuzz", &rel, &err) < 0) {
			one_line(&err);
			continue;
		}
		for (size_t c = 0; c < rel.nclauses; c++) {
			if (!rel.clauses[c].nalts)
				abort();
			for (size_t a = 0; a < rel.clauses[c].nalts; a++) {
				const struct dk_debrel_alt *alt = &rel.clauses[c].alts[a];

				if (!alt->name[0] || (alt->op != DK_DEBREL_NONE) != (alt->version != NULL))
					abort();
				(void)dk_debrel_alt_applies(alt, "amd64");
			}
		}
		dk_debrel_free(&rel);
	}
}

static void resolve(const char *text, size_t size, char **names, size_t nnames)
{
	struct dk_debidx *ix = dk_debidx_new(), *base = dk_debidx_new();
	struct dk_debresolution res;
	struct dk_err err;

	if (dk_debidx_add_mem(ix, text, size, "fuzz", DK_DEBIDX_PACKAGES, &err) < 0)
		one_line(&err);
	if (dk_debidx_add_mem(base, text, size, "fuzz", DK_DEBIDX_STATUS, &err) < 0)
		one_line(&err);
	if (dk_debresolve(ix, base, "amd64", (const char *const *)names, nnames, &res, &err) == 0) {
		for (size_t k = 0; k < res.n; k++)
			if (!res.pkgs[k].why[0] || res.pkgs[k].stanza_len == 0)
				abort();
		dk_debresolution_free(&res);
	} else {
		one_line(&err);
	}
	if (dk_debresolve(ix, NULL, "arm64", (const char *const *)names, nnames, &res, &err) == 0)
		dk_debresolution_free(&res);
	else
		one_line(&err);
	dk_debidx_free(ix);
	dk_debidx_free(base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct dk_deb822_reader *r = dk_deb822_open_mem(text, size, "fuzz", size && data[0] == '#' ? DK_DEB822_COMMENTS : 0);
	struct dk_deb822_stanza st;
	struct dk_err err;
	char *names[4];
	size_t nnames = 0;
	int rc;

	while ((rc = dk_deb822_next(r, &st, &err)) > 0) {
		if (st.raw < text || st.raw + st.raw_len > text + size || !st.nfields)
			abort();
		for (size_t k = 0; k < st.nfields; k++) {
			const struct dk_deb822_field *f = &st.fields[k];
			char *folded;

			if (f->name < st.raw || f->value + f->value_len > st.raw + st.raw_len || !f->name_len)
				abort();
			folded = dk_deb822_folded(f);
			if (strchr(folded, '\n'))
				abort();
			free(folded);
			relations(f);
			if (dk_deb822_name_is(f, "Package") && nnames < 4)
				names[nnames++] = dk_xstrndup(f->value, f->value_len);
		}
	}
	if (rc < 0)
		one_line(&err);
	dk_deb822_close(r);
	resolve(text, size, names, nnames);
	for (size_t k = 0; k < nnames; k++)
		free(names[k]);
	return 0;
}
