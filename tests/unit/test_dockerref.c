/* test_dockerref.c - distribution image references (what `docker pull` accepts). */
#include <stdlib.h>
#include <string.h>

#include "derrick/dockerref.h"
#include "tap.h"

#define HEX64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DG "sha256:" HEX64

struct valid_case {
	const char *in;
	const char *registry, *endpoint, *repository, *tag, *digest;
	const char *string;     /* dk_dockerref_string */
	const char *reference;  /* dk_dockerref_reference */
};

static const struct valid_case valid[] = {
	{ "python", "docker.io", "registry-1.docker.io", "library/python", NULL, NULL,
	  "docker.io/library/python", "latest" },
	{ "python:3.12", "docker.io", "registry-1.docker.io", "library/python", "3.12", NULL,
	  "docker.io/library/python:3.12", "3.12" },
	{ "library/python", "docker.io", "registry-1.docker.io", "library/python", NULL, NULL,
	  "docker.io/library/python", "latest" },
	{ "docker.io/python", "docker.io", "registry-1.docker.io", "library/python", NULL, NULL,
	  "docker.io/library/python", "latest" },
	{ "index.docker.io/library/python:3", "docker.io", "registry-1.docker.io", "library/python", "3", NULL,
	  "docker.io/library/python:3", "3" },
	{ "index.docker.io/python", "docker.io", "registry-1.docker.io", "library/python", NULL, NULL,
	  "docker.io/library/python", "latest" },
	{ "Docker.IO/python", "docker.io", "registry-1.docker.io", "library/python", NULL, NULL,
	  "docker.io/library/python", "latest" },
	{ "org/app", "docker.io", "registry-1.docker.io", "org/app", NULL, NULL,
	  "docker.io/org/app", "latest" },
	/* no '.' or ':': a Docker Hub namespace, not a host */
	{ "my-registry/app", "docker.io", "registry-1.docker.io", "my-registry/app", NULL, NULL,
	  "docker.io/my-registry/app", "latest" },
	{ "localhost/app", "localhost", "localhost", "app", NULL, NULL,
	  "localhost/app", "latest" },
	{ "localhost:5000/a/b/c:tag", "localhost:5000", "localhost:5000", "a/b/c", "tag", NULL,
	  "localhost:5000/a/b/c:tag", "tag" },
	/* like docker: without a '/', "localhost:5000" is the image "localhost", tag "5000" */
	{ "localhost:5000", "docker.io", "registry-1.docker.io", "library/localhost", "5000", NULL,
	  "docker.io/library/localhost:5000", "5000" },
	{ "127.0.0.1:5000/app@" DG, "127.0.0.1:5000", "127.0.0.1:5000", "app", NULL, DG,
	  "127.0.0.1:5000/app@" DG, DG },
	{ "host.example.com/org/app:1.0@" DG, "host.example.com", "host.example.com", "org/app", "1.0", DG,
	  "host.example.com/org/app:1.0@" DG, DG },
	{ "python@" DG, "docker.io", "registry-1.docker.io", "library/python", NULL, DG,
	  "docker.io/library/python@" DG, DG },
	{ "[::1]:5000/app", "[::1]:5000", "[::1]:5000", "app", NULL, NULL,
	  "[::1]:5000/app", "latest" },
	{ "[::1]/app:v1", "[::1]", "[::1]", "app", "v1", NULL,
	  "[::1]/app:v1", "v1" },
	{ "[2001:db8::1]:443/a/b", "[2001:db8::1]:443", "[2001:db8::1]:443", "a/b", NULL, NULL,
	  "[2001:db8::1]:443/a/b", "latest" },
	{ "Registry.Example.com:65535/app", "Registry.Example.com:65535", "Registry.Example.com:65535", "app",
	  NULL, NULL, "Registry.Example.com:65535/app", "latest" },
	{ "xn--bcher-kva.example/app", "xn--bcher-kva.example", "xn--bcher-kva.example", "app", NULL, NULL,
	  "xn--bcher-kva.example/app", "latest" },
	{ "ghcr.io/org/app:V1.0-RC_2", "ghcr.io", "ghcr.io", "org/app", "V1.0-RC_2", NULL,
	  "ghcr.io/org/app:V1.0-RC_2", "V1.0-RC_2" },
	{ "app:_x", "docker.io", "registry-1.docker.io", "library/app", "_x", NULL,
	  "docker.io/library/app:_x", "_x" },
	{ "a__b", "docker.io", "registry-1.docker.io", "library/a__b", NULL, NULL,
	  "docker.io/library/a__b", "latest" },
	{ "a-----b", "docker.io", "registry-1.docker.io", "library/a-----b", NULL, NULL,
	  "docker.io/library/a-----b", "latest" },
	{ "a.b", "docker.io", "registry-1.docker.io", "library/a.b", NULL, NULL,
	  "docker.io/library/a.b", "latest" },
	{ "a_b/c-d.e/0x9", "docker.io", "registry-1.docker.io", "a_b/c-d.e/0x9", NULL, NULL,
	  "docker.io/a_b/c-d.e/0x9", "latest" },
};

static int str_eq_or_null(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_valid(const struct valid_case *c)
{
	struct dk_dockerref r, again;
	struct dk_err err = { 0 };
	char *s;

	if (dk_dockerref_parse(c->in, &r, &err) < 0) {
		printf("#   %s: %s\n", c->in, err.msg);
		CHECK(!"valid reference rejected");
		return;
	}
	CHECK_STR(r.registry, c->registry);
	CHECK_STR(r.endpoint, c->endpoint);
	CHECK_STR(r.repository, c->repository);
	CHECK(str_eq_or_null(r.tag, c->tag));
	CHECK(str_eq_or_null(r.digest, c->digest));
	CHECK_STR(dk_dockerref_reference(&r), c->reference);
	s = dk_dockerref_string(&r);
	CHECK_STR(s, c->string);
	/* The canonical text is a reference too, and means the same image. */
	CHECK(dk_dockerref_parse(s, &again, &err) == 0);
	CHECK_STR(again.registry, r.registry);
	CHECK_STR(again.repository, r.repository);
	CHECK(str_eq_or_null(again.tag, r.tag));
	CHECK(str_eq_or_null(again.digest, r.digest));
	free(s);
	dk_dockerref_free(&again);
	dk_dockerref_free(&r);
}

static void test_valid(void)
{
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		int before = tap_case_failed;

		tap_case_failed = 0;
		check_valid(&valid[i]);
		if (tap_case_failed)
			printf("#   in case \"%s\"\n", valid[i].in);
		tap_case_failed |= before;
	}
}

struct invalid_case {
	const char *in;
	const char *want;   /* a fragment of the message */
};

static const struct invalid_case invalid[] = {
	{ "", "image reference is empty" },
	{ "Foo", "image reference \"Foo\": repository name must be lowercase" },
	{ "Foo/bar", "image reference \"Foo/bar\": repository name must be lowercase" },
	{ "ghcr.io/Org/app", "repository name must be lowercase" },
	{ "app:", "image reference \"app:\": the tag after ':' is empty" },
	{ "app:@" DG, "the tag after ':' is empty" },
	{ "app@", "image reference \"app@\": the digest after '@' is empty" },
	{ ":tag", "repository name is empty" },
	{ "@" DG, "repository name is empty" },
	{ "localhost/", "repository name is empty" },
	{ "localhost:5000/:tag", "repository name is empty" },
	{ "/app", "empty path component" },
	{ "app//x", "empty path component" },
	{ "app/", "empty path component" },
	{ "ghcr.io//app", "empty path component" },
	{ "-app", "path component \"-app\" is invalid" },
	{ "app-", "path component \"app-\" is invalid" },
	{ "_app", "path component \"_app\" is invalid" },
	{ "a_-b", "path component \"a_-b\" is invalid" },
	{ "a-_b", "path component \"a-_b\" is invalid" },
	{ "a___b", "path component \"a___b\" is invalid" },
	{ "a..b", "path component \"a..b\" is invalid" },
	{ "org/a+b", "path component \"a+b\" is invalid" },
	{ "app:-x", "tag \"-x\" is invalid: a tag is 1-128 of [A-Za-z0-9_.-] and cannot start with '.' or '-'" },
	{ "app:.x", "tag \".x\" is invalid" },
	{ "app:a:b", "tag \"a:b\" is invalid" },
	{ "app:a+b", "tag \"a+b\" is invalid" },
	{ "app@sha256:abc", "digest \"sha256:abc\" is invalid: expected sha256: and 64 lowercase hex digits" },
	{ "app@sha256:" HEX64 "0", "is invalid: expected sha256: and 64 lowercase hex digits" },
	{ "app@sha256:" "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
	  "is invalid: expected sha256:" },
	{ "app@sha256:" "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
	  "is invalid: expected sha256:" },
	{ "app@sha256:" "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	  "is invalid: expected sha256:" },
	{ "app@sha256", "digest \"sha256\" is invalid" },
	{ "app@" HEX64, "is invalid: expected sha256:" },
	{ "app@SHA256:" HEX64, "is invalid: expected sha256:" },
	{ "app@sha512:" HEX64 HEX64, "unsupported digest algorithm \"sha512\": only sha256 is supported" },
	{ "app@blake3:" HEX64, "unsupported digest algorithm \"blake3\"" },
	{ "app@" DG "@" DG, "is invalid: expected sha256:" },
	{ "app:1.0@" DG ":x", "is invalid: expected sha256:" },
	{ "http://host/app", "image reference \"http://host/app\": looks like a URL: drop the \"http://\"" },
	{ "https://ghcr.io/org/app:1", "looks like a URL" },
	{ "app:with space", "image reference \"app:with space\": contains whitespace" },
	{ " python", "contains whitespace or a control character at byte 0" },
	{ "python\n", "image reference \"python\\x0a\": contains whitespace or a control character at byte 6" },
	{ "py\tthon", "contains whitespace" },
	{ "ex_ample.com/app", "registry host \"ex_ample.com\" is invalid" },
	{ "-bad.example/app", "registry host \"-bad.example\" is invalid" },
	{ "bad-.example/app", "registry host \"bad-.example\" is invalid" },
	{ "a..example/app", "registry host \"a..example\" is invalid" },
	{ ".example/app", "registry host \".example\" is invalid" },
	{ ":5000/app", "registry host \":5000\" is invalid" },
	{ "[::1/app", "registry host \"[::1\" is invalid" },
	{ "[zz]:5000/app", "registry host \"[zz]:5000\" is invalid" },
	{ "[::1]x/app", "registry host \"[::1]x\" is invalid" },
	/* a first component with no '.' or ':' is a path, even with brackets */
	{ "[]/app", "path component \"[]\" is invalid" },
	/* a '.' makes the first component a host, so '_' is wrong there */
	{ "a_b.c/app", "registry host \"a_b.c\" is invalid" },
	{ "localhost:0/app", "registry port \"0\" is invalid: a port is a number from 1 to 65535" },
	{ "localhost:65536/app", "registry port \"65536\" is invalid" },
	{ "localhost:123456/app", "registry port \"123456\" is invalid" },
	{ "localhost:/app", "registry port \"\" is invalid" },
	{ "localhost:50a/app", "registry port \"50a\" is invalid" },
	{ "[::1]:/app", "registry port \"\" is invalid" },
	{ "host.example:1:2/app", "registry port \"1:2\" is invalid" },
};

static void check_invalid(const struct invalid_case *c)
{
	struct dk_dockerref r;
	struct dk_err err = { 0 };

	memset(&r, 0xa5, sizeof(r));
	CHECK(dk_dockerref_parse(c->in, &r, &err) == -1);
	CHECK(err.code == DK_E_REF);
	if (!strstr(err.msg, c->want)) {
		printf("#     got:  %s\n#     want: ...%s...\n", err.msg, c->want);
		CHECK(!"message fragment");
	}
	CHECK(strchr(err.msg, '\n') == NULL);
	/* A failed parse leaves nothing to free. */
	CHECK(!r.registry && !r.endpoint && !r.repository && !r.tag && !r.digest);
	dk_dockerref_free(&r);
}

static void test_invalid(void)
{
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		int before = tap_case_failed;

		tap_case_failed = 0;
		check_invalid(&invalid[i]);
		if (tap_case_failed)
			printf("#   in case \"%s\"\n", invalid[i].in);
		tap_case_failed |= before;
	}
}

/* s = PREFIX + n copies of c + SUFFIX, in a static buffer. */
static const char *make(const char *prefix, char c, size_t n, const char *suffix)
{
	static char buf[8192];
	size_t lp = strlen(prefix);

	memcpy(buf, prefix, lp);
	memset(buf + lp, c, n);
	strcpy(buf + lp + n, suffix);
	return buf;
}

static void test_lengths(void)
{
	struct dk_dockerref r;
	struct dk_err err;

	/* 255 is the limit for the repository, registry not counted */
	CHECK(dk_dockerref_parse(make("ghcr.io/org/", 'a', 251, ""), &r, &err) == 0);
	CHECK(r.repository && strlen(r.repository) == 255);
	dk_dockerref_free(&r);
	CHECK(dk_dockerref_parse(make("ghcr.io/org/", 'a', 252, ""), &r, &err) < 0);
	CHECK(strstr(err.msg, "repository name is longer than 255 characters (256)") != NULL);

	/* the implied "library/" counts, as it does for docker */
	CHECK(dk_dockerref_parse(make("", 'a', 247, ""), &r, &err) == 0);
	CHECK_STR(r.registry, "docker.io");
	dk_dockerref_free(&r);
	CHECK(dk_dockerref_parse(make("", 'a', 248, ":1"), &r, &err) < 0);
	CHECK(strstr(err.msg, "longer than 255 characters (256, with the implied \"library/\")") != NULL);

	/* tags: 128 is the most */
	CHECK(dk_dockerref_parse(make("app:", 'x', 128, ""), &r, &err) == 0);
	CHECK(r.tag && strlen(r.tag) == 128);
	dk_dockerref_free(&r);
	CHECK(dk_dockerref_parse(make("app:", 'x', 129, ""), &r, &err) < 0);
	CHECK(strstr(err.msg, "is invalid: a tag is 1-128 of") != NULL);
}

/* A huge reference is cut in the message so the rule it breaks still shows. */
static void test_long_messages(void)
{
	struct dk_dockerref r;
	struct dk_err err;

	CHECK(dk_dockerref_parse(make("", 'A', 5000, ""), &r, &err) < 0);
	CHECK(strstr(err.msg, "\"...: repository name must be lowercase") != NULL);
	CHECK(strlen(err.msg) < 400);
	CHECK(dk_dockerref_parse(make("app:", '+', 5000, ""), &r, &err) < 0);
	CHECK(strstr(err.msg, "is invalid: a tag is 1-128 of [A-Za-z0-9_.-] and cannot start with '.' or '-'") != NULL);
	CHECK(dk_dockerref_parse(make("app\"\\", 'x', 3, " x"), &r, &err) < 0);
	CHECK_STR(err.msg, "image reference \"app\\\"\\\\xxx x\": contains whitespace or a control character at byte 8");
}

static void test_copy(void)
{
	struct dk_dockerref a, b, c;
	struct dk_err err;

	CHECK(dk_dockerref_parse("ghcr.io/org/app:1.0@" DG, &a, &err) == 0);
	dk_dockerref_copy(&b, &a);
	CHECK(b.registry != a.registry && b.tag != a.tag);
	dk_dockerref_free(&a);
	CHECK_STR(b.registry, "ghcr.io");
	CHECK_STR(b.endpoint, "ghcr.io");
	CHECK_STR(b.repository, "org/app");
	CHECK_STR(b.tag, "1.0");
	CHECK_STR(b.digest, DG);
	dk_dockerref_free(&b);

	/* NULL members stay NULL */
	CHECK(dk_dockerref_parse("python", &a, &err) == 0);
	dk_dockerref_copy(&c, &a);
	CHECK(c.tag == NULL && c.digest == NULL);
	CHECK_STR(dk_dockerref_reference(&c), "latest");
	dk_dockerref_free(&a);
	dk_dockerref_free(&c);
	/* free zeroes, so a second free is harmless */
	dk_dockerref_free(&c);
	CHECK(c.registry == NULL);
}

int main(void)
{
	RUN(test_valid);
	RUN(test_invalid);
	RUN(test_lengths);
	RUN(test_long_messages);
	RUN(test_copy);
	return tap_done();
}
