/*
 * test_creds.c - credential lookup, credential helpers and the auth file.
 *
 * Every test works in a fresh temporary directory with HOME pointed into
 * it and the lookup variables cleared, so nothing of the real user leaks
 * in.  The helper tests run a real shell script on PATH.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <jansson.h>

#include "derrick/creds.h"
#include "derrick/util.h"
#include "tap.h"

/* base64 of "alice:s3cret", "bob:hunter2", ... */
#define B64_ALICE "YWxpY2U6czNjcmV0"
#define B64_BOB "Ym9iOmh1bnRlcjI="
#define B64_CAROL "Y2Fyb2w6cHc="
#define B64_DAVE "ZGF2ZTpwdw=="
#define B64_ERIN "ZXJpbjpwdw=="
#define B64_FRANK "ZnJhbms6cHc="
#define B64_GRACE "Z3JhY2U6cHc="
#define B64_ALICE_NOPASS "YWxpY2U6"
#define B64_NOCOLON "U0VLUkVUTk9DT0xPTg=="   /* "SEKRETNOCOLON" */

static char tmp[64];
static char *saved_path;

static char *at(const char *rel)
{
	return dk_path_join(tmp, rel);
}

static void setup(void)
{
	char *home;

	strcpy(tmp, "/tmp/dk-creds-XXXXXX");
	if (!mkdtemp(tmp))
		abort();
	home = at("home");
	mkdir(home, 0755);
	setenv("HOME", home, 1);
	free(home);
	unsetenv("REGISTRY_AUTH_FILE");
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("DOCKER_CONFIG");
}

static void teardown(void)
{
	dk_rm_rf(tmp);
	if (saved_path) {
		setenv("PATH", saved_path, 1);
		free(saved_path);
		saved_path = NULL;
	}
}

/* Write rel (under tmp) with its parent directories; returns the full path. */
static char *put(const char *rel, const char *text)
{
	char *path = at(rel), *dir = dk_dirname(path);
	struct dk_err err;

	if (dk_mkdir_p(dir, 0755, &err) < 0 ||
	    dk_write_file_atomic(path, text, strlen(text), 0644, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
	free(dir);
	return path;
}

/* put() for bytes that may hold NULs. */
static char *put_bytes(const char *rel, const char *bytes, size_t len)
{
	char *path = at(rel);
	struct dk_err err;

	if (dk_write_file_atomic(path, bytes, len, 0644, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
	return path;
}

static char *entry_file(const char *registry_key, const char *b64)
{
	return dk_xasprintf("{\"auths\": {\"%s\": {\"auth\": \"%s\"}}}", registry_key, b64);
}

/* Put an auth file with one entry at rel. */
static char *put_entry(const char *rel, const char *key, const char *b64)
{
	char *text = entry_file(key, b64);
	char *path = put(rel, text);

	free(text);
	return path;
}

/* Look up registry and return the username found (new string), or NULL. */
static char *lookup_user(const struct dk_creds_opts *o, const char *registry, char **source)
{
	struct dk_creds c;
	struct dk_err err;
	int found = -1;
	char *user = NULL;

	if (dk_creds_lookup(o, registry, &c, &found, &err) < 0) {
		printf("#   lookup %s: %s\n", registry, err.msg);
		return NULL;
	}
	if (found) {
		user = dk_xstrdup(c.username ? c.username : "(none)");
		if (source)
			*source = dk_xstrdup(c.source);
	}
	dk_creds_free(&c);
	return user;
}

static int mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (int)(st.st_mode & 07777);
}

static json_t *load(const char *path)
{
	return json_load_file(path, 0, NULL);
}

static void test_creds_flag(void)
{
	struct dk_creds_opts o = { .creds = "bob:pa:ss" };
	struct dk_creds c;
	struct dk_err err;
	int found;
	char *f;

	setup();
	f = put_entry("a.json", "r.example", B64_ALICE);
	o.authfile = f;
	CHECK(dk_creds_lookup(&o, "r.example", &c, &found, &err) == 0);
	CHECK(found == 1);
	CHECK_STR(c.username, "bob");
	CHECK_STR(c.password, "pa:ss");
	CHECK(c.identity_token == NULL);
	CHECK_STR(c.source, "--creds");
	dk_creds_free(&c);
	CHECK(c.username == NULL && c.password == NULL && c.source == NULL);

	o.creds = "bob:";
	CHECK(dk_creds_lookup(&o, "r.example", &c, &found, &err) == 0);
	CHECK_STR(c.password, "");
	dk_creds_free(&c);

	o.creds = "hunter2SEKRET";
	CHECK(dk_creds_lookup(&o, "r.example", &c, &found, &err) < 0);
	CHECK(err.code == DK_E_USAGE);
	CHECK(strstr(err.msg, "--creds") != NULL);
	CHECK(strstr(err.msg, "SEKRET") == NULL);
	CHECK(found == 0 && c.username == NULL);

	o.creds = ":SEKRET";
	CHECK(dk_creds_lookup(&o, "r.example", &c, &found, &err) < 0);
	CHECK(strstr(err.msg, "SEKRET") == NULL);
	free(f);
	teardown();
}

static void test_anonymous(void)
{
	struct dk_creds c;
	struct dk_err err;
	int found = -1;

	setup();
	CHECK(dk_creds_lookup(NULL, "r.example", &c, &found, &err) == 0);
	CHECK(found == 0);
	CHECK(!c.username && !c.password && !c.identity_token && !c.source);
	dk_creds_free(&c);
	CHECK(dk_creds_lookup(NULL, "", &c, &found, &err) < 0);
	CHECK(err.code == DK_E_USAGE);
	teardown();
}

/* Each source in turn, from the first to the last. */
static void test_order(void)
{
	struct dk_creds_opts o = { 0 };
	char *fa, *fb, *fc, *fd, *fe, *ff, *user, *src = NULL, *d;

	setup();
	fa = put_entry("a.json", "r.example", B64_ALICE);
	fb = put_entry("b.json", "r.example", B64_BOB);
	fc = put_entry("run/containers/auth.json", "r.example", B64_CAROL);
	fd = put_entry("home/.config/containers/auth.json", "r.example", B64_DAVE);
	fe = put_entry("dockercfg/config.json", "r.example", B64_ERIN);
	ff = put_entry("home/.docker/config.json", "r.example", B64_FRANK);
	o.authfile = fa;
	setenv("REGISTRY_AUTH_FILE", fb, 1);
	d = at("run");
	setenv("XDG_RUNTIME_DIR", d, 1);
	free(d);
	d = at("dockercfg");
	setenv("DOCKER_CONFIG", d, 1);
	free(d);

	user = lookup_user(&o, "r.example", &src);
	CHECK_STR(user, "alice");
	CHECK_STR(src, fa);
	free(user);
	free(src);
	user = lookup_user(NULL, "r.example", &src);
	CHECK_STR(user, "bob");
	CHECK_STR(src, fb);
	free(user);
	free(src);
	unsetenv("REGISTRY_AUTH_FILE");
	user = lookup_user(NULL, "r.example", &src);
	CHECK_STR(user, "carol");
	CHECK_STR(src, fc);
	free(user);
	free(src);
	unsetenv("XDG_RUNTIME_DIR");
	user = lookup_user(NULL, "r.example", &src);
	CHECK_STR(user, "dave");
	CHECK_STR(src, fd);
	free(user);
	free(src);
	unlink(fd);
	user = lookup_user(NULL, "r.example", &src);
	CHECK_STR(user, "erin");
	CHECK_STR(src, fe);
	free(user);
	free(src);
	unsetenv("DOCKER_CONFIG");
	user = lookup_user(NULL, "r.example", &src);
	CHECK_STR(user, "frank");
	CHECK_STR(src, ff);
	free(user);
	free(src);
	free(fa);
	free(fb);
	free(fc);
	free(fd);
	free(fe);
	free(ff);
	teardown();
}

/* A file without the registry, a missing file and an empty placeholder all fall through. */
static void test_fall_through(void)
{
	struct dk_creds_opts o = { 0 };
	char *fa, *fb, *fc, *ff, *user, *src = NULL;

	setup();
	fa = put_entry("a.json", "other.example", B64_ALICE);
	fb = put("b.json", "{\"auths\": {\"r.example\": {}}}");
	fc = put("empty.json", "");
	ff = put_entry("home/.docker/config.json", "r.example", B64_FRANK);
	o.authfile = fa;
	setenv("REGISTRY_AUTH_FILE", fb, 1);
	user = lookup_user(&o, "r.example", &src);
	CHECK_STR(user, "frank");
	CHECK_STR(src, ff);
	free(user);
	free(src);
	setenv("REGISTRY_AUTH_FILE", fc, 1);
	o.authfile = "/nonexistent/dir/auth.json";
	user = lookup_user(&o, "r.example", NULL);
	CHECK_STR(user, "frank");
	free(user);
	user = lookup_user(&o, "unknown.example", NULL);
	CHECK(user == NULL);
	free(fa);
	free(fb);
	free(fc);
	free(ff);
	teardown();
}

static void test_key_forms(void)
{
	static const char *const match[] = {
		"r.example:5000", "https://r.example:5000", "http://r.example:5000",
		"https://r.example:5000/", "https://r.example:5000/v1/", "r.example:5000/",
		"http://r.example:5000/v2/", "R.Example:5000",
	};
	static const char *const nomatch[] = {
		"r.example", "r.example:5001", "r.example:5000/org", "xr.example:5000",
		"https://r.example:5000/org/", "ftp://r.example:5000",
	};
	struct dk_creds_opts o = { 0 };
	char *user;

	setup();
	for (size_t i = 0; i < sizeof(match) / sizeof(match[0]); i++) {
		char *f = put_entry("k.json", match[i], B64_ALICE);

		o.authfile = f;
		user = lookup_user(&o, "r.example:5000", NULL);
		if (!user)
			printf("#   key %s did not match\n", match[i]);
		CHECK_STR(user, "alice");
		free(user);
		free(f);
	}
	for (size_t i = 0; i < sizeof(nomatch) / sizeof(nomatch[0]); i++) {
		char *f = put_entry("k.json", nomatch[i], B64_ALICE);

		o.authfile = f;
		user = lookup_user(&o, "r.example:5000", NULL);
		if (user)
			printf("#   key %s matched\n", nomatch[i]);
		CHECK(user == NULL);
		free(user);
		free(f);
	}
	/* The bare key docker writes wins over an older https:// one, wherever it is. */
	o.authfile = put("two.json", "{\"auths\": {\"https://r.example\": {\"auth\": \"" B64_BOB "\"},"
				   " \"r.example\": {\"auth\": \"" B64_ALICE "\"}}}");
	user = lookup_user(&o, "r.example", NULL);
	CHECK_STR(user, "alice");
	free(user);
	free((char *)o.authfile);
	teardown();
}

static void test_docker_io(void)
{
	static const char *const keys[] = {
		"https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io",
		"docker.io", "https://registry-1.docker.io", "https://index.docker.io/v1",
	};
	struct dk_creds_opts o = { 0 };
	char *user;

	setup();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *f = put_entry("k.json", keys[i], B64_ALICE);

		o.authfile = f;
		user = lookup_user(&o, "docker.io", NULL);
		if (!user)
			printf("#   key %s did not match docker.io\n", keys[i]);
		CHECK_STR(user, "alice");
		free(user);
		user = lookup_user(&o, "index.docker.io", NULL);
		CHECK_STR(user, "alice");
		free(user);
		user = lookup_user(&o, "quay.io", NULL);
		CHECK(user == NULL);
		free(user);
		free(f);
	}
	/* Docker Hub's own key is preferred over the other spellings. */
	o.authfile = put("two.json", "{\"auths\": {\"docker.io\": {\"auth\": \"" B64_BOB "\"},"
				   " \"https://index.docker.io/v1/\": {\"auth\": \"" B64_ALICE "\"}}}");
	user = lookup_user(&o, "docker.io", NULL);
	CHECK_STR(user, "alice");
	free(user);
	free((char *)o.authfile);
	teardown();
}

static void test_identity_token(void)
{
	struct dk_creds_opts o = { 0 };
	struct dk_creds c;
	struct dk_err err;
	int found;

	setup();
	o.authfile = put("t.json", "{\"auths\": {"
		"\"a.example\": {\"auth\": \"" B64_ALICE_NOPASS "\", \"identitytoken\": \"tok-a\"},"
		"\"b.example\": {\"identitytoken\": \"tok-b\"},"
		"\"c.example\": {\"auth\": \"" B64_ALICE "\", \"identitytoken\": \"tok-c\"},"
		"\"d.example\": {\"username\": \"dave\", \"password\": \"pw-d\"},"
		"\"e.example\": {\"auth\": \"\", \"username\": \"erin\", \"password\": \"pw-e\", \"email\": \"x@y\"}}}");
	CHECK(dk_creds_lookup(&o, "a.example", &c, &found, &err) == 0 && found);
	CHECK_STR(c.username, "alice");
	CHECK(c.password == NULL);
	CHECK_STR(c.identity_token, "tok-a");
	dk_creds_free(&c);
	CHECK(dk_creds_lookup(&o, "b.example", &c, &found, &err) == 0 && found);
	CHECK(c.username == NULL && c.password == NULL);
	CHECK_STR(c.identity_token, "tok-b");
	dk_creds_free(&c);
	CHECK(dk_creds_lookup(&o, "c.example", &c, &found, &err) == 0 && found);
	CHECK_STR(c.username, "alice");
	CHECK(c.password == NULL);
	CHECK_STR(c.identity_token, "tok-c");
	dk_creds_free(&c);
	CHECK(dk_creds_lookup(&o, "d.example", &c, &found, &err) == 0 && found);
	CHECK_STR(c.username, "dave");
	CHECK_STR(c.password, "pw-d");
	CHECK(c.identity_token == NULL);
	dk_creds_free(&c);
	CHECK(dk_creds_lookup(&o, "e.example", &c, &found, &err) == 0 && found);
	CHECK_STR(c.username, "erin");
	CHECK_STR(c.password, "pw-e");
	dk_creds_free(&c);
	free((char *)o.authfile);
	teardown();
}

/*
 * NUL bytes are never JSON: a file of them is not an empty file, and "{}"
 * followed by one is not "{}".  Both are an error naming the file, as is
 * the same NUL behind a complete entry (the good entry is not used).
 */
static void test_nul_bytes(void)
{
	static const struct { const char *bytes; size_t len, at; } cases[] = {
		{ "\0\0\0\0", 4, 0 },
		{ "{}\0", 3, 2 },
		{ "\n\0\n", 3, 1 },
		{ "{\"auths\": {\"r.example\": {\"auth\": \"" B64_ALICE "\"}}}\0junk", 59, 54 },
	};
	struct dk_creds_opts o = { 0 };
	struct dk_creds c;
	struct dk_err err;
	int found;

	setup();
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *f = put_bytes("nul.json", cases[i].bytes, cases[i].len);
		char *want = dk_xasprintf("%s: not JSON: a NUL byte at offset %zu", f, cases[i].at);

		o.authfile = f;
		found = 1;
		CHECK(dk_creds_lookup(&o, "r.example", &c, &found, &err) < 0);
		CHECK(err.code == DK_E_CORRUPT);
		CHECK_STR(err.msg, want);
		CHECK(found == 0);
		/* login refuses to rewrite it too, rather than losing what it holds */
		CHECK(dk_authfile_store(f, "r.example", "u", "p", &err) < 0);
		CHECK_STR(err.msg, want);
		free(want);
		free(f);
	}
	teardown();
}

static void test_malformed_json(void)
{
	struct dk_creds_opts o = { 0 };
	struct dk_creds c;
	struct dk_err err;
	char *bad, *want, *good;
	int found;

	setup();
	/* The secret sits right where the parser fails, so its text would quote it. */
	bad = put("bad.json", "{\n  \"auths\": {\n    \"r.example\": {\"auth\": SEKRETBARE}\n  }\n}\n");
	good = put_entry("home/.docker/config.json", "r.example", B64_ALICE);
	o.authfile = bad;
	CHECK(dk_creds_lookup(&o, "r.example", &c, &found, &err) < 0);
	CHECK(err.code == DK_E_CORRUPT);
	want = dk_xasprintf("%s:3:", bad);
	CHECK(strstr(err.msg, want) != NULL);
	CHECK(strstr(err.msg, "SEKRET") == NULL);
	printf("#   %s\n", err.msg);
	free(want);
	CHECK(found == 0 && c.username == NULL);

	/* Unterminated string holding a secret. */
	free(bad);
	bad = put("bad.json", "{\"auths\": {\"r.example\": {\"auth\": \"SEKRETOPEN");
	o.authfile = bad;
	CHECK(dk_creds_lookup(&o, "r.example", &c, &found, &err) < 0);
	CHECK(strstr(err.msg, bad) != NULL);
	CHECK(strstr(err.msg, "SEKRET") == NULL);

	free(bad);
	bad = put("bad.json", "[1, 2]");
	o.authfile = bad;
	CHECK(dk_creds_lookup(&o, "r.example", &c, &found, &err) < 0);
	CHECK(strstr(err.msg, bad) != NULL);
	CHECK(strstr(err.msg, "not a JSON object") != NULL);

	free(bad);
	bad = put("bad.json", "{\"auths\": [\"r.example\"]}");
	o.authfile = bad;
	CHECK(dk_creds_lookup(&o, "r.example", &c, &found, &err) < 0);
	CHECK(strstr(err.msg, "auths") != NULL);

	free(bad);
	bad = put("bad.json", "{\"auths\": {\"r.example\": \"SEKRETSTRING\"}}");
	o.authfile = bad;
	CHECK(dk_creds_lookup(&o, "r.example", &c, &found, &err) < 0);
	CHECK(strstr(err.msg, "auths.\"r.example\"") != NULL);
	CHECK(strstr(err.msg, "SEKRET") == NULL);
	free(bad);
	free(good);
	teardown();
}

static void test_bad_entries(void)
{
	struct dk_creds_opts o = { 0 };
	struct dk_creds c;
	struct dk_err err;
	int found;
	char *want;

	setup();
	o.authfile = put("e.json", "{\"auths\": {"
		"\"b64.example\": {\"auth\": \"SEKRET!!notbase64\"},"
		"\"colon.example\": {\"auth\": \"" B64_NOCOLON "\"},"
		"\"type.example\": {\"auth\": 42},"
		"\"half.example\": {\"username\": \"u\"},"
		"\"pw.example\": {\"password\": \"SEKRETPW\"}}}");
	CHECK(dk_creds_lookup(&o, "b64.example", &c, &found, &err) < 0);
	CHECK(err.code == DK_E_CORRUPT);
	want = dk_xasprintf("%s: auths.\"b64.example\".auth", o.authfile);
	CHECK(strstr(err.msg, want) != NULL);
	free(want);
	CHECK(strstr(err.msg, "SEKRET") == NULL);
	CHECK(strstr(err.msg, "notbase64") == NULL);
	printf("#   %s\n", err.msg);

	CHECK(dk_creds_lookup(&o, "colon.example", &c, &found, &err) < 0);
	CHECK(strstr(err.msg, "auths.\"colon.example\".auth") != NULL);
	CHECK(strstr(err.msg, "SEKRET") == NULL);
	CHECK(strstr(err.msg, B64_NOCOLON) == NULL);
	CHECK(strstr(err.msg, "U0VLUkVU") == NULL);

	CHECK(dk_creds_lookup(&o, "type.example", &c, &found, &err) < 0);
	CHECK(strstr(err.msg, "auths.\"type.example\".auth: not a string") != NULL);
	CHECK(dk_creds_lookup(&o, "half.example", &c, &found, &err) < 0);
	CHECK(strstr(err.msg, "half.example") != NULL);
	CHECK(dk_creds_lookup(&o, "pw.example", &c, &found, &err) < 0);
	CHECK(strstr(err.msg, "SEKRET") == NULL);
	CHECK(c.username == NULL && c.password == NULL);
	free((char *)o.authfile);
	teardown();
}

static const char helper_script[] =
	"#!/bin/sh\n"
	"[ \"$1\" = get ] || exit 3\n"
	"url=$(cat)\n"
	"printf '%s\\n' \"$url\" >> \"$DKTEST_LOG\"\n"
	"case \"$url\" in\n"
	"helper.example) echo '{\"ServerURL\":\"helper.example\",\"Username\":\"hu\",\"Secret\":\"hs\"}' ;;\n"
	"https://tok.example) echo '{\"ServerURL\":\"https://tok.example\",\"Username\":\"<token>\",\"Secret\":\"refresh-tok\"}' ;;\n"
	"store.example) echo '{\"ServerURL\":\"store.example\",\"Username\":\"su\",\"Secret\":\"ss\"}' ;;\n"
	"https://index.docker.io/v1/) echo '{\"ServerURL\":\"x\",\"Username\":\"hub\",\"Secret\":\"hubpw\"}' ;;\n"
	"broken.example) echo 'gpg: decryption failed'; exit 2 ;;\n"
	"garbage.example) echo '{\"Username\": \"u\", \"Secret\": \"SEKRETGARBAGE'; exit 0 ;;\n"
	"*) echo 'credentials not found in native keychain'; exit 1 ;;\n"
	"esac\n";

/* Install docker-credential-dktest in tmp/bin, first on PATH. */
static void install_helper(void)
{
	char *script = put("bin/docker-credential-dktest", helper_script);
	char *bin = at("bin"), *path, *log = at("helper.log");

	chmod(script, 0755);
	saved_path = dk_xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	path = dk_xasprintf("%s:%s", bin, saved_path);
	setenv("PATH", path, 1);
	setenv("DKTEST_LOG", log, 1);
	free(path);
	free(bin);
	free(log);
	free(script);
}

static void test_cred_helpers(void)
{
	struct dk_creds c;
	struct dk_err err;
	char *log, *text = NULL, *src = NULL, *user;
	size_t len;
	int found;

	setup();
	install_helper();
	free(put("home/.config/containers/auth.json", "{"
		"\"credHelpers\": {\"helper.example\": \"dktest\", \"https://tok.example\": \"dktest\","
		" \"missing.example\": \"dktest\", \"broken.example\": \"dktest\","
		" \"garbage.example\": \"dktest\", \"nohelper.example\": \"nonexistent\","
		" \"path.example\": \"../../bin/sh\"},"
		"\"auths\": {\"helper.example\": {\"auth\": \"" B64_BOB "\"},"
		" \"missing.example\": {\"auth\": \"" B64_CAROL "\"}}}"));
	free(put_entry("home/.docker/config.json", "missing2.example", B64_GRACE));

	CHECK(dk_creds_lookup(NULL, "helper.example", &c, &found, &err) == 0 && found);
	CHECK_STR(c.username, "hu");
	CHECK_STR(c.password, "hs");
	CHECK(c.identity_token == NULL);
	CHECK_STR(c.source, "docker-credential-dktest");
	dk_creds_free(&c);

	CHECK(dk_creds_lookup(NULL, "tok.example", &c, &found, &err) == 0 && found);
	CHECK(c.username == NULL && c.password == NULL);
	CHECK_STR(c.identity_token, "refresh-tok");
	dk_creds_free(&c);

	/* "credentials not found": the auths entry of the same file answers. */
	user = lookup_user(NULL, "missing.example", &src);
	CHECK_STR(user, "carol");
	CHECK(src && strstr(src, ".config/containers/auth.json"));
	free(user);
	free(src);

	CHECK(dk_creds_lookup(NULL, "broken.example", &c, &found, &err) < 0);
	CHECK(err.code == DK_E_EXEC);
	CHECK(strstr(err.msg, "docker-credential-dktest") != NULL);
	CHECK(strstr(err.msg, "status 2") != NULL);
	CHECK(strstr(err.msg, "gpg: decryption failed") != NULL);
	printf("#   %s\n", err.msg);

	CHECK(dk_creds_lookup(NULL, "garbage.example", &c, &found, &err) < 0);
	CHECK(strstr(err.msg, "docker-credential-dktest") != NULL);
	CHECK(strstr(err.msg, "SEKRET") == NULL);

	CHECK(dk_creds_lookup(NULL, "nohelper.example", &c, &found, &err) < 0);
	CHECK(strstr(err.msg, "docker-credential-nonexistent") != NULL);
	CHECK(strstr(err.msg, "not found on PATH") != NULL);

	CHECK(dk_creds_lookup(NULL, "path.example", &c, &found, &err) < 0);
	CHECK(strstr(err.msg, "credHelpers.\"path.example\"") != NULL);

	/* Not in any helper or file: anonymous. */
	CHECK(dk_creds_lookup(NULL, "nowhere.example", &c, &found, &err) == 0 && !found);

	log = at("helper.log");
	CHECK(dk_read_file(log, 1 << 20, &text, &len, &err) == 0);
	CHECK(text && strstr(text, "helper.example\nhttps://tok.example\nmissing.example\n") == text);
	free(text);
	free(log);
	teardown();
}

static void test_creds_store(void)
{
	struct dk_creds c;
	struct dk_err err;
	char *log, *text = NULL, *user, *src = NULL;
	size_t len;
	int found;

	setup();
	install_helper();
	free(put("home/.docker/config.json", "{\"credsStore\": \"dktest\","
		" \"auths\": {\"https://quay.io\": {}}}"));
	free(put_entry("home/.config/containers/auth.json", "first.example", B64_DAVE));

	CHECK(dk_creds_lookup(NULL, "store.example", &c, &found, &err) == 0 && found);
	CHECK_STR(c.username, "su");
	CHECK_STR(c.password, "ss");
	CHECK_STR(c.source, "docker-credential-dktest");
	dk_creds_free(&c);

	/* Docker Hub is asked for under its index URL. */
	CHECK(dk_creds_lookup(NULL, "docker.io", &c, &found, &err) == 0 && found);
	CHECK_STR(c.username, "hub");
	dk_creds_free(&c);

	/* The placeholder's key is the URL the store knows. */
	CHECK(dk_creds_lookup(NULL, "quay.io", &c, &found, &err) == 0 && !found);

	/* An earlier file answers before the store is asked. */
	user = lookup_user(NULL, "first.example", &src);
	CHECK_STR(user, "dave");
	free(user);
	free(src);

	log = at("helper.log");
	CHECK(dk_read_file(log, 1 << 20, &text, &len, &err) == 0);
	CHECK_STR(text, "store.example\nhttps://index.docker.io/v1/\nhttps://quay.io\n");
	free(text);
	free(log);
	teardown();
}

static void test_authfile_path(void)
{
	char *p, *want;

	setup();
	p = dk_authfile_path("/x/auth.json");
	CHECK_STR(p, "/x/auth.json");
	free(p);
	p = dk_authfile_path(NULL);
	want = dk_xasprintf("%s/.docker/config.json", getenv("HOME"));
	CHECK_STR(p, want);
	free(want);
	free(p);
	setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
	p = dk_authfile_path(NULL);
	CHECK_STR(p, "/run/user/7/containers/auth.json");
	free(p);
	setenv("REGISTRY_AUTH_FILE", "/etc/auth.json", 1);
	p = dk_authfile_path(NULL);
	CHECK_STR(p, "/etc/auth.json");
	free(p);
	p = dk_authfile_path("/y.json");
	CHECK_STR(p, "/y.json");
	free(p);
	teardown();
}

static int only_file_in(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ok = d != NULL;

	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, name))
			ok = 0;
	if (d)
		closedir(d);
	return ok;
}

static void test_store_new(void)
{
	struct dk_creds_opts o = { 0 };
	struct dk_creds c;
	struct dk_err err;
	char *path, *dir;
	json_t *root;
	int found;

	setup();
	path = at("new/deep/auth.json");
	dir = at("new/deep");
	CHECK(dk_authfile_store(path, "r.example:5000", "alice", "s3cret", &err) == 0);
	CHECK(mode_of(path) == 0600);
	CHECK(mode_of(dir) == 0700);
	CHECK(only_file_in(dir, "auth.json"));
	root = load(path);
	CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(root,
		"auths"), "r.example:5000"), "auth")), B64_ALICE);
	json_decref(root);

	CHECK(dk_authfile_store(path, "docker.io", "bob", "hunter2", &err) == 0);
	root = load(path);
	CHECK(json_object_get(json_object_get(root, "auths"), "https://index.docker.io/v1/") != NULL);
	CHECK(json_object_get(json_object_get(root, "auths"), "r.example:5000") != NULL);
	json_decref(root);

	o.authfile = path;
	CHECK(dk_creds_lookup(&o, "r.example:5000", &c, &found, &err) == 0 && found);
	CHECK_STR(c.username, "alice");
	CHECK_STR(c.password, "s3cret");
	dk_creds_free(&c);
	CHECK(dk_creds_lookup(&o, "docker.io", &c, &found, &err) == 0 && found);
	CHECK_STR(c.username, "bob");
	CHECK_STR(c.password, "hunter2");
	dk_creds_free(&c);

	/* Passwords with any bytes survive the round trip. */
	CHECK(dk_authfile_store(path, "r.example:5000", "a", "p:w \"x\"\\é", &err) == 0);
	CHECK(dk_creds_lookup(&o, "r.example:5000", &c, &found, &err) == 0 && found);
	CHECK_STR(c.password, "p:w \"x\"\\é");
	dk_creds_free(&c);

	CHECK(dk_authfile_store(path, "r.example", "a:b", "SEKRET", &err) < 0);
	CHECK(err.code == DK_E_USAGE);
	CHECK(strstr(err.msg, "SEKRET") == NULL);
	CHECK(dk_authfile_store(path, "", "a", "p", &err) < 0);
	free(path);
	free(dir);
	teardown();
}

static void test_store_existing(void)
{
	struct dk_err err;
	char *path;
	json_t *root, *auths;

	setup();
	path = put("home/.docker/config.json", "{\n"
		"  \"auths\": {\n"
		"    \"other.example\": {\"auth\": \"" B64_BOB "\", \"email\": \"b@x\"},\n"
		"    \"r.example\": {\"auth\": \"" B64_CAROL "\", \"identitytoken\": \"old-tok\"}\n"
		"  },\n"
		"  \"HttpHeaders\": {\"User-Agent\": \"x/1\"},\n"
		"  \"psFormat\": \"table {{.ID}}\",\n"
		"  \"credHelpers\": {\"gcr.io\": \"gcloud\"}\n"
		"}\n");
	CHECK(mode_of(path) == 0644);
	CHECK(dk_authfile_store(path, "r.example", "alice", "s3cret", &err) == 0);
	CHECK(mode_of(path) == 0600);
	root = load(path);
	auths = json_object_get(root, "auths");
	CHECK_STR(json_string_value(json_object_get(json_object_get(auths, "other.example"), "auth")), B64_BOB);
	CHECK_STR(json_string_value(json_object_get(json_object_get(auths, "other.example"), "email")), "b@x");
	CHECK_STR(json_string_value(json_object_get(json_object_get(auths, "r.example"), "auth")), B64_ALICE);
	CHECK(json_object_get(json_object_get(auths, "r.example"), "identitytoken") == NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(root, "HttpHeaders"), "User-Agent")), "x/1");
	CHECK_STR(json_string_value(json_object_get(root, "psFormat")), "table {{.ID}}");
	CHECK_STR(json_string_value(json_object_get(json_object_get(root, "credHelpers"), "gcr.io")), "gcloud");
	CHECK(json_object_size(root) == 4);
	json_decref(root);
	free(path);

	/* A 0644 file without "auths" gains it and loses the loose mode. */
	path = put("loose.json", "{\"x\": 1}");
	CHECK(mode_of(path) == 0644);
	CHECK(dk_authfile_store(path, "r.example", "alice", "s3cret", &err) == 0);
	CHECK(mode_of(path) == 0600);
	root = load(path);
	CHECK(json_integer_value(json_object_get(root, "x")) == 1);
	CHECK(json_object_get(json_object_get(root, "auths"), "r.example") != NULL);
	json_decref(root);
	free(path);

	/* A malformed file is left alone, not replaced. */
	path = put("broken.json", "{\"auths\": {");
	CHECK(dk_authfile_store(path, "r.example", "alice", "s3cret", &err) < 0);
	CHECK(strstr(err.msg, path) != NULL);
	CHECK(mode_of(path) == 0644);
	free(path);
	teardown();
}

static void test_erase(void)
{
	struct dk_err err;
	char *path, *missing;
	json_t *root, *auths;
	int found = -1;

	setup();
	path = put("auth.json", "{\"auths\": {"
		"\"r.example\": {\"auth\": \"" B64_ALICE "\"},"
		"\"https://r.example/v1/\": {\"auth\": \"" B64_BOB "\"},"
		"\"other.example\": {\"auth\": \"" B64_CAROL "\"},"
		"\"https://index.docker.io/v1/\": {\"auth\": \"" B64_DAVE "\"}},"
		"\"credsStore\": \"none\"}");
	CHECK(dk_authfile_erase(path, "r.example", &found, &err) == 0);
	CHECK(found == 1);
	CHECK(mode_of(path) == 0600);
	root = load(path);
	auths = json_object_get(root, "auths");
	CHECK(json_object_get(auths, "r.example") == NULL);
	CHECK(json_object_get(auths, "https://r.example/v1/") == NULL);
	CHECK(json_object_get(auths, "other.example") != NULL);
	CHECK(json_object_get(auths, "https://index.docker.io/v1/") != NULL);
	CHECK_STR(json_string_value(json_object_get(root, "credsStore")), "none");
	json_decref(root);

	CHECK(dk_authfile_erase(path, "r.example", &found, &err) == 0);
	CHECK(found == 0);
	CHECK(dk_authfile_erase(path, "docker.io", &found, &err) == 0);
	CHECK(found == 1);
	root = load(path);
	CHECK(json_object_size(json_object_get(root, "auths")) == 1);
	json_decref(root);

	missing = at("no/such/auth.json");
	found = -1;
	CHECK(dk_authfile_erase(missing, "r.example", &found, &err) == 0);
	CHECK(found == 0);
	CHECK(mode_of(missing) == -1);
	free(missing);
	free(path);
	teardown();
}

int main(void)
{
	RUN(test_creds_flag);
	RUN(test_anonymous);
	RUN(test_order);
	RUN(test_fall_through);
	RUN(test_key_forms);
	RUN(test_docker_io);
	RUN(test_identity_token);
	RUN(test_malformed_json);
	RUN(test_nul_bytes);
	RUN(test_bad_entries);
	RUN(test_cred_helpers);
	RUN(test_creds_store);
	RUN(test_authfile_path);
	RUN(test_store_new);
	RUN(test_store_existing);
	RUN(test_erase);
	return tap_done();
}
