/* test_ref.c - image references, tags and platforms. */
#include <stdlib.h>
#include <string.h>

#include "derrick/ref.h"
#include "derrick/transport.h"
#include "tap.h"

static void test_oci_refs(void)
{
	struct dk_ref r;
	struct dk_err err;

	CHECK(dk_ref_parse("oci:out:latest", &r, &err) == 0);
	CHECK_STR(r.transport->name, "oci");
	CHECK_STR(r.path, "out");
	CHECK_STR(r.tag, "latest");
	dk_ref_free(&r);
	CHECK(dk_ref_parse("oci:/abs/dir", &r, &err) == 0);
	CHECK_STR(r.path, "/abs/dir");
	CHECK(r.tag == NULL);
	dk_ref_free(&r);
	CHECK(dk_ref_parse("oci:out:1.2.3-rc_1", &r, &err) == 0);
	CHECK_STR(r.tag, "1.2.3-rc_1");
	dk_ref_free(&r);
}

static void test_bad_refs(void)
{
	struct dk_ref r;
	struct dk_err err;

	CHECK(dk_ref_parse("./out", &r, &err) < 0);
	CHECK(err.code == DK_E_REF);
	CHECK(strstr(err.msg, "write oci:./out") != NULL);
	CHECK(dk_ref_parse("Out", &r, &err) < 0);
	CHECK(strstr(err.msg, "lowercase") != NULL);
	CHECK(dk_ref_parse("docker:/x", &r, &err) < 0);
	CHECK(dk_ref_parse("tarball:out", &r, &err) < 0);
	CHECK(strstr(err.msg, "unsupported transport \"tarball\"") != NULL);
	CHECK(dk_ref_parse("oci:", &r, &err) < 0);
	CHECK(dk_ref_parse("oci::tag", &r, &err) < 0);
	CHECK(dk_ref_parse("oci:out:bad tag", &r, &err) < 0);
	CHECK(strstr(err.msg, "invalid tag \"bad tag\"") != NULL);
	CHECK(dk_ref_parse("oci:out:", &r, &err) < 0);
	CHECK(dk_ref_parse("oci:out:-x", &r, &err) < 0);
	CHECK(dk_ref_parse("oci:out:a:b", &r, &err) < 0);
}

static void test_docker_refs(void)
{
	struct dk_ref r;
	struct dk_err err;

	CHECK(dk_ref_parse("docker://localhost:5000/app:1.0", &r, &err) == 0);
	CHECK_STR(r.transport->name, "docker");
	CHECK_STR(r.docker.registry, "localhost:5000");
	CHECK_STR(r.docker.repository, "app");
	CHECK_STR(r.docker.tag, "1.0");
	dk_ref_free(&r);
	/* a bare reference means docker:// */
	CHECK(dk_ref_parse("python:3.12", &r, &err) == 0);
	CHECK_STR(r.transport->name, "docker");
	CHECK_STR(r.docker.registry, "docker.io");
	CHECK_STR(r.docker.endpoint, "registry-1.docker.io");
	CHECK_STR(r.docker.repository, "library/python");
	dk_ref_free(&r);
}

/* What callers ask the transport table instead of comparing names. */
static void test_transport_rows(void)
{
	struct dk_ref r;
	struct dk_err err;
	char *s;

	CHECK(dk_ref_parse("oci:out:v1", &r, &err) == 0);
	CHECK(!dk_ref_is_remote(&r));
	CHECK_STR(dk_ref_local_path(&r), "out");
	s = dk_ref_with_path(&r, "/spec/out");
	CHECK_STR(s, "oci:/spec/out:v1");
	free(s);
	dk_ref_free(&r);
	CHECK(dk_ref_parse("oci:out", &r, &err) == 0);
	s = dk_ref_with_path(&r, "/spec/out");
	CHECK_STR(s, "oci:/spec/out");
	free(s);
	dk_ref_free(&r);
	CHECK(dk_ref_parse("localhost:5000/cache@sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			   &r, &err) == 0);
	CHECK(dk_ref_is_remote(&r));
	CHECK(dk_ref_local_path(&r) == NULL);
	s = dk_ref_with_tag(&r, "derrick-1");
	CHECK_STR(s, "docker://localhost:5000/cache:derrick-1");
	free(s);
	dk_ref_free(&r);
	/* the archives: FILE ends at the first ':', as in skopeo */
	CHECK(dk_ref_parse("oci-archive:x.tar", &r, &err) == 0);
	CHECK_STR(r.path, "x.tar");
	CHECK(r.tag == NULL);
	CHECK(!dk_ref_is_remote(&r));
	CHECK_STR(dk_ref_local_path(&r), "x.tar");
	dk_ref_free(&r);
	CHECK(dk_ref_parse("oci-archive:x.tar:v1", &r, &err) == 0);
	s = dk_ref_with_path(&r, "/spec/x.tar");
	CHECK_STR(s, "oci-archive:/spec/x.tar:v1");
	free(s);
	dk_ref_free(&r);
	CHECK(dk_ref_parse("oci-archive:", &r, &err) < 0);
	CHECK_STR(err.msg, "image reference \"oci-archive:\": the archive file name is empty");
	CHECK(dk_ref_parse("oci-archive:x.tar:bad/tag", &r, &err) < 0);
	CHECK(strstr(err.msg, "invalid tag \"bad/tag\"") != NULL);
	CHECK(dk_ref_parse("docker-archive:x.tar:app:1", &r, &err) == 0);
	CHECK_STR(r.path, "x.tar");
	CHECK_STR(r.docker.repository, "library/app");
	CHECK_STR(r.docker.tag, "1");
	s = dk_ref_with_path(&r, "/spec/x.tar");
	CHECK_STR(s, "docker-archive:/spec/x.tar:app:1");
	free(s);
	dk_ref_free(&r);
	/* NAME alone is NAME:latest; a registry name keeps its host; no name, no RepoTags */
	CHECK(dk_ref_parse("docker-archive:x.tar:localhost:5000/org/app", &r, &err) == 0);
	s = dk_ref_with_path(&r, "y.tar");
	CHECK_STR(s, "docker-archive:y.tar:localhost:5000/org/app:latest");
	free(s);
	dk_ref_free(&r);
	CHECK(dk_ref_parse("docker-archive:x.tar", &r, &err) == 0);
	CHECK(r.docker.repository == NULL);
	dk_ref_free(&r);
	CHECK(dk_ref_parse("docker-archive:x.tar:app@sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			   &r, &err) < 0);
	CHECK(strstr(err.msg, "not by digest") != NULL);
	CHECK(dk_ref_parse("docker-archive::app:1", &r, &err) < 0);
	CHECK(strstr(err.msg, "the archive file name is empty") != NULL);
	CHECK(dk_ref_parse("docker-archive:x.tar:App", &r, &err) < 0);
	CHECK(strstr(err.msg, "lowercase") != NULL);
	CHECK(dk_ref_parse("dir:x", &r, &err) < 0);
	CHECK_STR(err.msg, "image reference \"dir:x\": unsupported transport \"dir\" (supported: oci:, docker://, oci-archive:, docker-archive:)");
	CHECK(dk_ref_parse("docker:x", &r, &err) < 0);
	CHECK_STR(err.msg, "image reference \"docker:x\": expected docker://REFERENCE");
}

static void test_tags(void)
{
	char long_tag[200];

	CHECK(dk_tag_valid("latest"));
	CHECK(dk_tag_valid("_x"));
	CHECK(dk_tag_valid("v1.0-rc.1"));
	CHECK(!dk_tag_valid(".hidden"));
	CHECK(!dk_tag_valid("a/b"));
	CHECK(!dk_tag_valid("a@b"));
	memset(long_tag, 'a', sizeof(long_tag));
	long_tag[128] = '\0';
	CHECK(dk_tag_valid(long_tag));
	long_tag[128] = 'a';
	long_tag[129] = '\0';
	CHECK(!dk_tag_valid(long_tag));
}

static void test_platforms(void)
{
	struct dk_platform p;
	struct dk_err err;
	char buf[100];

	CHECK(dk_platform_parse("linux/arm64/v8", &p, &err) == 0);
	CHECK_STR(p.os, "linux");
	CHECK_STR(p.arch, "arm64");
	CHECK_STR(p.variant, "v8");
	dk_platform_format(&p, buf, sizeof(buf));
	CHECK_STR(buf, "linux/arm64/v8");
	CHECK(dk_platform_parse("linux/amd64", &p, &err) == 0);
	CHECK_STR(p.variant, "");
	CHECK(dk_platform_parse("linux", &p, &err) < 0);
	CHECK(dk_platform_parse("windows/amd64", &p, &err) < 0);
	CHECK(dk_platform_parse("linux/x86_64", &p, &err) < 0);
	CHECK(strstr(err.msg, "Go's names") != NULL);
	CHECK(dk_platform_parse("linux/arm/v7/x", &p, &err) < 0);
	dk_platform_host(&p);
	CHECK_STR(p.os, "linux");
	CHECK(p.arch[0] != '\0');
}

int main(void)
{
	RUN(test_oci_refs);
	RUN(test_bad_refs);
	RUN(test_docker_refs);
	RUN(test_transport_rows);
	RUN(test_tags);
	RUN(test_platforms);
	return tap_done();
}
