/*
 * test_debrelease.c - the Release reader: the fields used, dates, the
 * SHA256 list, and each refusal naming its line.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/debrepo.h"
#include "tap.h"

#define H1 "37f739d3462a06f3475fc8c44a8c8a3c90e76d63b24ed29bb3230bb10416ceb8"
#define H2 "47C00DC65448A61E64BC8BDF9095E2F2DBDF401FDC632A1D11049EBE66A8480F"

static const char good[] =
	"Origin: Debian\n"
	"suite: stable\n"
	"Codename: bookworm\n"
	"Date: Sat, 01 Jan 2000 00:00:00 UTC\n"
	"Valid-Until: Sun, 2 Jan 2000 12:30:05 +0000\n"
	"Architectures: amd64  arm64\ti386\n"
	"Components: main contrib\n"
	"Description: Debian 12\n"
	"MD5Sum:\n"
	" f38269266e7252ef21fa4a7d6d9d520c           133034 main/binary-amd64/Packages\n"
	"SHA256:\n"
	" " H1 "           133034 main/binary-amd64/Packages\n"
	" " H2 " 39684 main/binary-amd64/Packages.xz\r\n"
	"\n\n";

static void test_fields(void)
{
	struct dk_deb_release r;
	struct dk_err err;
	const struct dk_deb_release_file *f;

	CHECK(dk_deb_release_parse(good, strlen(good), "R", &r, &err) == 0);
	CHECK_STR(r.suite, "stable");
	CHECK_STR(r.codename, "bookworm");
	CHECK(r.date == 946684800);
	CHECK(r.valid_until == 946684800 + 86400 + 12 * 3600 + 30 * 60 + 5);
	CHECK(r.n_archs == 3 && !strcmp(r.archs[2], "i386"));
	CHECK(r.n_components == 2 && !strcmp(r.components[1], "contrib"));
	CHECK(r.n_files == 2);
	f = dk_deb_release_find(&r, "main/binary-amd64/Packages.xz");
	CHECK(f && f->size == 39684);
	CHECK(f && !strcmp(f->sha256, "47c00dc65448a61e64bc8bdf9095e2f2dbdf401fdc632a1d11049ebe66a8480f"));
	CHECK(dk_deb_release_find(&r, "main/binary-arm64/Packages") == NULL);
	dk_deb_release_free(&r);
}

/* Components as Debian's security archive lists them: "updates/main" serves main. */
static void test_components(void)
{
	static const char security[] = "Codename: bookworm-security\nComponents: updates/main updates/non-free-firmware\n";
	static const char none[] = "Codename: x\n";
	struct dk_deb_release r;
	struct dk_err err;

	CHECK(dk_deb_release_parse(good, strlen(good), "R", &r, &err) == 0);
	CHECK(dk_deb_release_has_component(&r, "main") && dk_deb_release_has_component(&r, "contrib"));
	CHECK(!dk_deb_release_has_component(&r, "non-free") && !dk_deb_release_has_component(&r, "mai"));
	dk_deb_release_free(&r);
	CHECK(dk_deb_release_parse(security, strlen(security), "R", &r, &err) == 0);
	CHECK(dk_deb_release_has_component(&r, "main"));
	CHECK(dk_deb_release_has_component(&r, "updates/main"));
	CHECK(dk_deb_release_has_component(&r, "non-free-firmware"));
	CHECK(!dk_deb_release_has_component(&r, "contrib") && !dk_deb_release_has_component(&r, "in"));
	CHECK(!dk_deb_release_has_component(&r, "free-firmware"));
	dk_deb_release_free(&r);
	CHECK(dk_deb_release_parse(none, strlen(none), "R", &r, &err) == 0);
	CHECK(dk_deb_release_has_component(&r, "anything"));
	dk_deb_release_free(&r);
}

static void test_dates(void)
{
	time_t t;

	CHECK(dk_deb_release_date("Sat, 01 Jan 2000 00:00:00 UTC", &t) == 0 && t == 946684800);
	CHECK(dk_deb_release_date("01 Jan 2000 00:00:00 GMT", &t) == 0 && t == 946684800);
	CHECK(dk_deb_release_date("Sat, 01 Jan 2000 00:00:00 Z", &t) == 0);
	CHECK(dk_deb_release_date("Sat, 01 Jan 2000 00:00:00 +0100", &t) < 0);
	CHECK(dk_deb_release_date("Sat, 01 Foo 2000 00:00:00 UTC", &t) < 0);
	CHECK(dk_deb_release_date("Sat, 01 Jan 2000 24:00:00 UTC", &t) < 0);
	CHECK(dk_deb_release_date("Sat, 01 Jan 2000 00:00 UTC", &t) < 0);
	CHECK(dk_deb_release_date("", &t) < 0);
}

static const char *refused(const char *text)
{
	static struct dk_err err;
	struct dk_deb_release r;

	memset(&err, 0, sizeof(err));
	if (dk_deb_release_parse(text, strlen(text), "InRelease", &r, &err) == 0) {
		dk_deb_release_free(&r);
		return "accepted";
	}
	CHECK(r.n_files == 0 && r.suite == NULL);
	return err.msg;
}

static void test_refusals(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "", "InRelease: empty Release" },
		{ "\n\n", "InRelease: empty Release" },
		{ "Suite: a\nSuite: b\n", "InRelease:2: field given twice in one stanza: \"Suite\"" },
		{ "Suite: a\nSUITE: b\n", "InRelease:2: field given twice in one stanza: \"SUITE\"" },
		{ "Suite: a\n\nCodename: b\n", "InRelease:3: a second stanza" },
		{ " main\n", "InRelease:1: continuation line before any field" },
		{ "Suite: a\n more\n", "InRelease:2: Suite: a continuation line where none may be" },
		{ "Suite\n", "InRelease:1: line without a colon" },
		{ "Su ite: a\n", "InRelease:1: invalid field name \"Su ite\"" },
		{ "Date: yesterday\n", "InRelease:1: Date is not a date" },
		{ "Valid-Until: 1 Jan 2000\n", "InRelease:1: Valid-Until is not a date" },
		{ "SHA256: " H1 " 1 x\n", "InRelease:1: SHA256 takes its entries on the lines below" },
		{ "SHA256:\n abc 1 main/Packages\n", "InRelease:2: SHA256 entry without a 64-digit hash" },
		{ "SHA256:\n " H1 "\n", "InRelease:2: SHA256 entry without a size" },
		{ "SHA256:\n " H1 " 12x main/Packages\n", "InRelease:2: SHA256 entry: bad size" },
		{ "SHA256:\n " H1 " 99999999999999999999999 main/Packages\n", "InRelease:2: SHA256 entry: bad size" },
		{ "SHA256:\n " H1 " 12\n", "InRelease:2: SHA256 entry needs one path" },
		{ "SHA256:\n " H1 " 12 a b\n", "InRelease:2: SHA256 entry needs one path" },
		{ "SHA256:\n " H1 " 12 a\n " H1 " 13 a\n", "InRelease:3: SHA256 lists a twice" },
		{ "SHA256:\n zz" H1 " 1 a\n", "InRelease:2: SHA256 entry without a 64-digit hash" },
		{ "SHA256:\n g7f739d3462a06f3475fc8c44a8c8a3c90e76d63b24ed29bb3230bb10416ceb8 1 a\n",
		  "InRelease:2: SHA256 entry: the hash is not hex" },
		/* Policy 5.1: no field twice, known to derrick or not */
		{ "Origin: a\nLabel: b\nOrigin: c\n", "InRelease:3: field given twice in one stanza: \"Origin\"" },
		/* a control byte in a field name is shown as '?': the message stays one line */
		{ "Suite: a\nSu\x01ite: b\n", "InRelease:2: invalid field name \"Su?ite\"" },
		/* the SHA256 entries after a folded field, their lines counted from it */
		{ "Description: x\n y\nSHA256:\n " H1 " 12 a\n " H1 " 1\n", "InRelease:5: SHA256 entry needs one path" },
		{ "Codename: b\nSHA256:\n\n", "accepted" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const char *got = refused(cases[i].text);

		if (!strstr(got, cases[i].want)) {
			printf("#   case %zu: got \"%s\", want \"%s\"\n", i, got, cases[i].want);
			CHECK(0);
		}
	}
	/* a NUL byte inside */
	{
		struct dk_deb_release r;
		struct dk_err err;

		CHECK(dk_deb_release_parse("Suite: a\0b\n", 11, "R", &r, &err) < 0);
		CHECK(strstr(err.msg, "R:1: a NUL byte") != NULL);
		CHECK(dk_deb_release_parse("Suite: a\nCodename: b\0\n", 22, "R", &r, &err) < 0);
		CHECK(strstr(err.msg, "R:2: a NUL byte") != NULL);
	}
}

int main(void)
{
	RUN(test_fields);
	RUN(test_components);
	RUN(test_dates);
	RUN(test_refusals);
	return tap_done();
}
