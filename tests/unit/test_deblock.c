/*
 * test_deblock.c - the debs lock: deterministic bytes, a round trip, and
 * every refusal of the strict reader naming its key path.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/deblock.h"
#include "derrick/util.h"
#include "tap.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char *comps[] = { (char *)"main" };
static char *archs[] = { (char *)"amd64", (char *)"arm64" };
static char *pkgs[] = { (char *)"jq", (char *)"curl" };

/* A lock with entries out of order: the writer sorts them. */
static void sample(struct dk_deb_lock *l, struct dk_deb_lock_entry *e, struct dk_deb_lock_source *s)
{
	memset(l, 0, sizeof(*l));
	*s = (struct dk_deb_lock_source){ (char *)"http://127.0.0.1:1/good", (char *)"bookworm", comps, 1,
					  (char *)"/k/keyring.gpg", 0 };
	e[0] = (struct dk_deb_lock_entry){ (char *)"libjq1", (char *)"1.6-2.1", (char *)"arm64",
					   (char *)"http://127.0.0.1:1/good/pool/main/libjq1_1.6-2.1_arm64.deb", SHA_A,
					   12, (char *)"jq -> libjq1" };
	e[1] = (struct dk_deb_lock_entry){ (char *)"jq", (char *)"1.6-2.1", (char *)"amd64",
					   (char *)"http://127.0.0.1:1/good/pool/main/jq_1.6-2.1_amd64.deb", SHA_B, 7,
					   (char *)"requested" };
	e[2] = (struct dk_deb_lock_entry){ (char *)"libjq1", (char *)"1.6-2.1", (char *)"amd64",
					   (char *)"http://127.0.0.1:1/good/pool/main/libjq1_1.6-2.1_amd64.deb", SHA_B,
					   4000000000ULL, (char *)"jq -> libjq1" };
	l->sources = s;
	l->n_sources = 1;
	l->archs = archs;
	l->n_archs = 2;
	l->packages = pkgs;
	l->n_packages = 2;
	l->entries = e;
	l->n_entries = 3;
}

static const char want_text[] =
	"{\n"
	"  \"lock-version\": 1,\n"
	"  \"sources\": [\n"
	"    {\n"
	"      \"url\": \"http://127.0.0.1:1/good\",\n"
	"      \"suite\": \"bookworm\",\n"
	"      \"components\": [\n"
	"        \"main\"\n"
	"      ],\n"
	"      \"keyring\": \"/k/keyring.gpg\",\n"
	"      \"trusted\": false\n"
	"    }\n"
	"  ],\n"
	"  \"architectures\": [\n"
	"    \"amd64\",\n"
	"    \"arm64\"\n"
	"  ],\n"
	"  \"packages\": [\n"
	"    \"jq\",\n"
	"    \"curl\"\n"
	"  ],\n"
	"  \"entries\": [\n"
	"    {\n"
	"      \"name\": \"jq\",\n"
	"      \"version\": \"1.6-2.1\",\n"
	"      \"architecture\": \"amd64\",\n"
	"      \"url\": \"http://127.0.0.1:1/good/pool/main/jq_1.6-2.1_amd64.deb\",\n"
	"      \"sha256\": \"" SHA_B "\",\n"
	"      \"size\": 7,\n"
	"      \"why\": \"requested\"\n"
	"    },\n";

static void test_write_sorted_deterministic(void)
{
	struct dk_deb_lock l, back;
	struct dk_deb_lock_entry e[3];
	struct dk_deb_lock_source s;
	struct dk_err err;
	char *a = NULL, *b = NULL;
	size_t alen, blen;

	sample(&l, e, &s);
	CHECK(dk_deb_lock_dump(&l, &a, &alen, &err) == 0);
	CHECK(a && !strncmp(a, want_text, strlen(want_text)));
	CHECK(a && alen && a[alen - 1] == '\n' && a[alen - 2] == '}');
	/* libjq1 amd64 before libjq1 arm64 */
	CHECK(a && strstr(a, "libjq1_1.6-2.1_amd64") < strstr(a, "libjq1_1.6-2.1_arm64"));
	/* read back and written again: the same bytes */
	CHECK(dk_deb_lock_parse(a, alen, "t.json", &back, &err) == 0);
	CHECK(back.n_entries == 3 && back.n_sources == 1 && back.n_archs == 2 && back.n_packages == 2);
	CHECK(back.n_entries == 3 && back.entries[1].size == 4000000000ULL);
	CHECK_STR(back.n_entries == 3 ? back.entries[2].why : NULL, "jq -> libjq1");
	CHECK(back.n_sources == 1 && back.sources[0].trusted == 0);
	CHECK(dk_deb_lock_dump(&back, &b, &blen, &err) == 0);
	CHECK(a && b && alen == blen && !memcmp(a, b, alen));
	dk_deb_lock_free(&back);
	free(a);
	free(b);
}

static void test_write_file(void)
{
	struct dk_deb_lock l, back;
	struct dk_deb_lock_entry e[3];
	struct dk_deb_lock_source s;
	struct dk_err err;
	char dir[] = "/tmp/test_deblock-XXXXXX", *p;

	sample(&l, e, &s);
	CHECK(mkdtemp(dir) != NULL);
	p = dk_xasprintf("%s/debs.lock.json", dir);
	CHECK(dk_deb_lock_write(p, &l, &err) == 0);
	CHECK(dk_deb_lock_read(p, &back, &err) == 0);
	CHECK(back.n_entries == 3);
	dk_deb_lock_free(&back);
	unlink(p);
	rmdir(dir);
	free(p);
}

static void test_write_refuses_duplicates(void)
{
	struct dk_deb_lock l;
	struct dk_deb_lock_entry e[3];
	struct dk_deb_lock_source s;
	struct dk_err err;
	char *a = NULL;
	size_t alen;

	sample(&l, e, &s);
	e[0].arch = (char *)"amd64";
	CHECK(dk_deb_lock_dump(&l, &a, &alen, &err) < 0);
	CHECK(strstr(err.msg, "libjq1 amd64 given twice") != NULL);
	sample(&l, e, &s);
	e[1].sha256[3] = 'G';
	CHECK(dk_deb_lock_dump(&l, &a, &alen, &err) < 0);
	CHECK(a == NULL);
}

/* The sample's text with one substitution made, parsed: the error or "" */
static const char *parse_edited(const char *from, const char *to)
{
	static struct dk_err err;
	struct dk_deb_lock l, lk;
	struct dk_deb_lock_entry e[3];
	struct dk_deb_lock_source s;
	struct strbuf sb = { 0 };
	char *a, *at;
	size_t alen;

	sample(&l, e, &s);
	if (dk_deb_lock_dump(&l, &a, &alen, &err) < 0)
		return "dump failed";
	at = strstr(a, from);
	if (!at) {
		free(a);
		return "pattern not found";
	}
	sb_add(&sb, a, (size_t)(at - a));
	sb_adds(&sb, to);
	sb_adds(&sb, at + strlen(from));
	free(a);
	memset(&err, 0, sizeof(err));
	if (dk_deb_lock_parse(sb.buf, sb.len, "debs.lock.json", &lk, &err) == 0)
		dk_deb_lock_free(&lk);
	CHECK(lk.n_entries == 0 || !err.msg[0]);
	sb_release(&sb);
	return err.msg;
}

static void test_read_refusals(void)
{
	static const struct {
		const char *from, *to, *want;
	} cases[] = {
		{ "\"why\": \"requested\"", "\"why\": \"requested\", \"extra\": 1",
		  "debs.lock.json: entries[0].extra: unknown key" },
		{ "\"lock-version\": 1,", "\"lock-version\": 1, \"comment\": \"x\",", "debs.lock.json: comment: unknown key" },
		{ "\"trusted\": false", "\"trusted\": false, \"signed-by\": \"x\"",
		  "debs.lock.json: sources[0].signed-by: unknown key" },
		{ "\"sha256\": \"" SHA_B, "\"sha256\": \"" SHA_B "0", "debs.lock.json: entries[0].sha256: not 64 lower-case hex" },
		{ "\"sha256\": \"0123", "\"sha256\": \"A123", "debs.lock.json: entries[0].sha256: not 64 lower-case hex" },
		{ "\"sha256\": \"" SHA_B "\",\n      \"size\": 7", "\"sha256\": 5,\n      \"size\": 7",
		  "debs.lock.json: entries[0].sha256: not a string" },
		{ "\"name\": \"jq\"", "\"name\": \"libjq1\"", "debs.lock.json: entries[1]: libjq1 amd64 again (entries[0])" },
		{ "\"size\": 7", "\"size\": -7", "debs.lock.json: entries[0].size: not a byte count" },
		{ "\"size\": 7", "\"size\": 7.5", "debs.lock.json: entries[0].size: not a byte count" },
		{ "\"size\": 7,", "", "debs.lock.json: entries[0].size: missing" },
		{ "\"name\": \"jq\"", "\"name\": \"../jq\"", "debs.lock.json: entries[0].name: not a Debian package name" },
		{ "\"name\": \"jq\"", "\"name\": \"JQ\"", "debs.lock.json: entries[0].name: not a Debian package name" },
		{ "\"architecture\": \"amd64\"", "\"architecture\": \"amd64/x\"",
		  "debs.lock.json: entries[0].architecture: not a Debian architecture" },
		{ "\"version\": \"1.6-2.1\"", "\"version\": \"\"", "debs.lock.json: entries[0].version: empty" },
		{ "\"lock-version\": 1", "\"lock-version\": 2", "debs.lock.json: lock-version: not a version it knows" },
		{ "\"trusted\": false", "\"trusted\": 0", "debs.lock.json: sources[0].trusted: not true or false" },
		{ "\"suite\": \"bookworm\",", "", "debs.lock.json: sources[0].suite: missing" },
		{ "\"main\"", "\"\"", "debs.lock.json: sources[0].components[0]: not a non-empty string" },
		{ "\"jq\",\n    \"curl\"", "\"jq\", 3", "debs.lock.json: packages[1]: not a non-empty string" },
		{ "\"amd64\",\n    \"arm64\"", "\"amd64\", \"ARM\"", "debs.lock.json: architectures[1]: not a Debian architecture" },
		{ "\"version\": \"1.6-2.1\",\n      \"architecture\": \"amd64\",\n      \"url\": \"http://127.0.0.1:1/good/pool/main/jq",
		  "\"version\": \"1.6-2.1\",\n      \"version\": \"1\",\n      \"architecture\": \"amd64\",\n      \"url\": \"http://127.0.0.1:1/good/pool/main/jq",
		  "debs.lock.json: line 26: duplicate object key" },
		{ "\"entries\": [", "\"entries\": {", "debs.lock.json: line" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const char *got = parse_edited(cases[i].from, cases[i].to);

		if (!strstr(got, cases[i].want)) {
			printf("#   case %zu: got \"%s\", want \"%s\"\n", i, got, cases[i].want);
			CHECK(0);
		}
		CHECK(!strchr(got, '\n'));
	}
}

static void test_read_not_object(void)
{
	struct dk_deb_lock l;
	struct dk_err err;

	CHECK(dk_deb_lock_parse("[]", 2, "x.json", &l, &err) < 0);
	CHECK(strstr(err.msg, "x.json: not a JSON object") != NULL);
	CHECK(dk_deb_lock_parse("{\"lock-version\": 1}", 19, "x.json", &l, &err) < 0);
	CHECK(strstr(err.msg, "x.json: sources: missing") != NULL);
	/* jansson quotes the input near an error: a newline there stays out of the message */
	CHECK(dk_deb_lock_parse("{\"eNt\n}", 8, "x.json", &l, &err) < 0);
	CHECK(strstr(err.msg, "x.json: line") != NULL && !strchr(err.msg, '\n'));
	CHECK(dk_deb_lock_parse("{\"a\\u0001\\n\": 1}", 16, "x.json", &l, &err) < 0);
	CHECK(strstr(err.msg, "x.json: a??: unknown key") != NULL);
	CHECK(dk_deb_lock_read("/nonexistent/debs.lock.json", &l, &err) < 0);
	CHECK(strstr(err.msg, "/nonexistent/debs.lock.json") != NULL);
}

static void test_matches_spec(void)
{
	struct dk_deb_lock l;
	struct dk_deb_lock_entry e[3];
	struct dk_deb_lock_source s;
	struct dk_err err;
	const char *comp[] = { "main" }, *comp2[] = { "contrib" };
	struct dk_deb_source src = { "http://127.0.0.1:1/good", "bookworm", comp, 1, "/k/keyring.gpg", 0 };
	const char *p[] = { "curl", "jq" }, *p2[] = { "curl", "jq", "libpq5" }, *p1[] = { "jq" };
	const char *a[] = { "arm64", "amd64" }, *a1[] = { "amd64" };

	sample(&l, e, &s);
	CHECK(dk_deb_lock_matches(&l, &src, 1, p, 2, a, 2, &err) == 0);
	CHECK(dk_deb_lock_matches(&l, &src, 1, p2, 3, a, 2, &err) < 0);
	CHECK_STR(err.msg, "the lock was made from another spec: the spec asks for package libpq5, the lock does not");
	CHECK(dk_deb_lock_matches(&l, &src, 1, p1, 1, a, 2, &err) < 0);
	CHECK_STR(err.msg, "the lock was made from another spec: the lock asks for package curl, the spec does not");
	CHECK(dk_deb_lock_matches(&l, &src, 1, p, 2, a1, 1, &err) < 0);
	CHECK_STR(err.msg, "the lock was made from another spec: the lock has architecture arm64, the spec does not");
	CHECK(err.code == DK_E_SPEC);
	src.suite = "trixie";
	CHECK(dk_deb_lock_matches(&l, &src, 1, p, 2, a, 2, &err) < 0);
	CHECK_STR(err.msg, "the lock was made from another spec: sources[0].suite is bookworm, the spec says trixie");
	src.suite = "bookworm";
	src.keyring = NULL;
	CHECK(dk_deb_lock_matches(&l, &src, 1, p, 2, a, 2, &err) < 0);
	CHECK_STR(err.msg, "the lock was made from another spec: sources[0].keyring is /k/keyring.gpg, the spec says (none)");
	src.keyring = "/k/keyring.gpg";
	src.components = comp2;
	CHECK(dk_deb_lock_matches(&l, &src, 1, p, 2, a, 2, &err) < 0);
	CHECK_STR(err.msg, "the lock was made from another spec: sources[0].components[0] is main, the spec says contrib");
	src.components = comp;
	src.trusted = 1;
	CHECK(dk_deb_lock_matches(&l, &src, 1, p, 2, a, 2, &err) < 0);
	CHECK_STR(err.msg, "the lock was made from another spec: sources[0].trusted is false, the spec says true");
	CHECK(dk_deb_lock_matches(&l, &src, 0, p, 2, a, 2, &err) < 0);
	CHECK_STR(err.msg, "the lock was made from another spec: 1 sources, the spec has 0");
}

int main(void)
{
	RUN(test_write_sorted_deterministic);
	RUN(test_write_file);
	RUN(test_write_refuses_duplicates);
	RUN(test_read_refusals);
	RUN(test_read_not_object);
	RUN(test_matches_spec);
	return tap_done();
}
