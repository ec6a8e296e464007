/*
 * test_pyindex.c - simple-index project pages (pyindex.h): the request's
 * URL, PEP 691 JSON and PEP 503 HTML answers with every URL form, and the
 * answers refused.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/http.h"
#include "derrick/pyindex.h"
#include "tap.h"

#define SHA "da59ca7250b6284ac0e77a9d287004ea090bb0e30e0c9451c0e34398d45596ba"
#define PAGE "https://u:secret@idx.example/simple/pip/"

static void test_page_url(void)
{
	char *u = dk_pyindex_page_url("https://idx.example/simple/", "Zope.Interface");

	CHECK_STR(u, "https://idx.example/simple/zope-interface/");
	free(u);
	u = dk_pyindex_page_url("https://idx.example/simple", "a__b-._C");
	CHECK_STR(u, "https://idx.example/simple/a-b-c/");
	free(u);
	CHECK(!strncmp(DK_PYINDEX_ACCEPT, "application/vnd.pypi.simple.v1+json,", 36));
}

static void test_json(void)
{
	const char *body =
		"{\"meta\": {\"api-version\": \"1.1\"}, \"name\": \"pip\", \"versions\": [\"23.0.1\"], \"files\": ["
		"{\"filename\": \"pip-23.0.1-py3-none-any.whl\", \"url\": \"../../files/pip-23.0.1-py3-none-any.whl#x\","
		" \"hashes\": {\"sha256\": \"" SHA "\", \"md5\": \"00\"}, \"requires-python\": \">=3.7\", \"size\": 1698754,"
		" \"yanked\": false},"
		"{\"filename\": \"pip-1.whl\", \"url\": \"/abs/pip-1.whl\", \"hashes\": {}, \"yanked\": \"broken\","
		" \"requires-python\": null},"
		"{\"filename\": \"pip-2.tar.gz\", \"url\": \"https://other.example/p/pip-2.tar.gz\", \"hashes\": {},"
		" \"yanked\": true, \"core-metadata\": true}]}";
	struct dk_pyindex_page page;
	struct dk_err err = { 0 };

	if (dk_pyindex_parse(body, strlen(body), "application/vnd.pypi.simple.v1+json", PAGE, &page, &err) < 0) {
		CHECK_STR(err.msg, "");
		return;
	}
	CHECK(page.n_files == 3);
	CHECK_STR(page.files[0].filename, "pip-23.0.1-py3-none-any.whl");
	CHECK_STR(page.files[0].url, "https://u:secret@idx.example/files/pip-23.0.1-py3-none-any.whl");
	CHECK_STR(page.files[0].sha256, SHA);
	CHECK_STR(page.files[0].requires_python, ">=3.7");
	CHECK(page.files[0].size == 1698754);
	CHECK(!page.files[0].yanked);
	CHECK_STR(page.files[1].url, "https://u:secret@idx.example/abs/pip-1.whl");
	CHECK_STR(page.files[1].sha256, "");
	CHECK(page.files[1].size == -1);
	CHECK(page.files[1].yanked);
	CHECK(!page.files[1].requires_python);
	CHECK_STR(page.files[2].url, "https://other.example/p/pip-2.tar.gz");
	CHECK(page.files[2].yanked);
	dk_pyindex_release(&page);
}

static void test_html(void)
{
	const char *body =
		"<!DOCTYPE html>\n<html><head><title>Links for pip</title></head><body>\n"
		"<h1>Links for pip</h1>\n<!-- <a href=\"commented.whl\">no</a> -->\n"
		"<a href=\"../../files/pip-23.0.1-py3-none-any.whl#sha256=" SHA "\" data-requires-python=\"&gt;=3.7\">"
		"pip-23.0.1-py3-none-any.whl</a><br/>\n"
		"<A HREF='/abs/pip%2B1-1.whl#md5=00' data-yanked=\"\" data-requires-python=\"&#62;=3.6,&#x21;=3.6.0\">\n"
		"  pip+1-1.whl </A>\n"
		"<a href=https://other.example/p/pip-2.whl data-yanked=bad></a>\n"
		"<area href=\"no.whl\"><abbr>x</abbr>\n"
		"</body></html>\n";
	struct dk_pyindex_page page;
	struct dk_err err = { 0 };

	if (dk_pyindex_parse(body, strlen(body), "text/html; charset=utf-8", PAGE, &page, &err) < 0) {
		CHECK_STR(err.msg, "");
		return;
	}
	CHECK(page.n_files == 3);
	if (page.n_files != 3)
		goto out;
	CHECK_STR(page.files[0].filename, "pip-23.0.1-py3-none-any.whl");
	CHECK_STR(page.files[0].url, "https://u:secret@idx.example/files/pip-23.0.1-py3-none-any.whl");
	CHECK_STR(page.files[0].sha256, SHA);
	CHECK_STR(page.files[0].requires_python, ">=3.7");
	CHECK(!page.files[0].yanked);
	CHECK_STR(page.files[1].filename, "pip+1-1.whl");
	CHECK_STR(page.files[1].url, "https://u:secret@idx.example/abs/pip%2B1-1.whl");
	CHECK_STR(page.files[1].sha256, "");
	CHECK_STR(page.files[1].requires_python, ">=3.6,!=3.6.0");
	CHECK(page.files[1].yanked);
	/* no text: the name from the URL */
	CHECK_STR(page.files[2].filename, "pip-2.whl");
	CHECK_STR(page.files[2].url, "https://other.example/p/pip-2.whl");
	CHECK(page.files[2].yanked);
out:
	dk_pyindex_release(&page);
}

static void test_html_base(void)
{
	const char *body = "<html><head><base href=\"https://mirror.example/pkgs/\"></head>"
			   "<a href=\"a-1-py3-none-any.whl\">a-1-py3-none-any.whl</a>";
	struct dk_pyindex_page page;
	struct dk_err err = { 0 };

	if (dk_pyindex_parse_html(body, strlen(body), PAGE, &page, &err) < 0) {
		CHECK_STR(err.msg, "");
		return;
	}
	CHECK(page.n_files == 1);
	CHECK_STR(page.files[0].url, "https://mirror.example/pkgs/a-1-py3-none-any.whl");
	dk_pyindex_release(&page);
}

static void bad(const char *body, const char *ct, const char *want)
{
	struct dk_pyindex_page page;
	struct dk_err err = { 0 };

	CHECK(dk_pyindex_parse(body, strlen(body), ct, PAGE, &page, &err) < 0);
	if (!strstr(err.msg, want))
		CHECK_STR(err.msg, want);
	/* the page URL's password never shows */
	CHECK(!strstr(err.msg, "secret"));
	CHECK(!strchr(err.msg, '\n'));
}

static void test_refused(void)
{
	const char *j = "application/vnd.pypi.simple.v1+json";

	bad("{}", "application/json", "https://***@idx.example/simple/pip/: Content-Type \"application/json\": expected a simple index page");
	bad("{}", NULL, "Content-Type \"(none)\"");
	bad("{", j, "https://***@idx.example/simple/pip/: not JSON");
	bad("{\"files\": []}", j, "meta.api-version: missing");
	bad("{\"meta\": {\"api-version\": \"2.0\"}, \"files\": []}", j, "meta.api-version: \"2.0\": derrick reads API version 1 only");
	bad("{\"meta\": {\"api-version\": \"1\\n2\"}, \"files\": []}", j, "meta.api-version: \"1?2\": derrick reads API version 1 only");
	bad("{\"meta\": {\"api-version\": \"1.0\"}}", j, "files: missing or not an array");
	bad("{\"meta\": {\"api-version\": \"1.0\"}, \"files\": [{\"filename\": \"a.whl\"}]}", j,
	    "files[0]: expected filename, url (strings) and hashes (an object)");
	bad("{\"meta\": {\"api-version\": \"1.0\"}, \"files\": [{\"filename\": \"a.whl\", \"url\": \"a.whl\", \"hashes\": {\"sha256\": \"12\"}}]}",
	    j, "a.whl: a sha256 that is not 64 hex digits");
	bad("{\"meta\": {\"api-version\": \"1.0\"}, \"files\": [{\"filename\": \"a.whl\", \"url\": \"a.whl\", \"hashes\": {}, \"size\": -1}]}",
	    j, "a.whl: size is not a non-negative integer");
	bad("<a href=\"a.whl#sha256=xyz\">a.whl</a>", "text/html", "a.whl: a sha256 that is not 64 hex digits");
}

static void test_redact(void)
{
	char *r = dk_http_redact("https://user:p@ss@idx.example:8443/simple/?token=x#frag");

	CHECK_STR(r, "https://***@idx.example:8443/simple/");
	free(r);
	r = dk_http_redact("https://idx.example/a@b");
	CHECK_STR(r, "https://idx.example/a@b");
	free(r);
	r = dk_http_redact("file:///tmp/a.whl");
	CHECK_STR(r, "file:///tmp/a.whl");
	free(r);
}

int main(void)
{
	RUN(test_page_url);
	RUN(test_json);
	RUN(test_html);
	RUN(test_html_base);
	RUN(test_refused);
	RUN(test_redact);
	return tap_done();
}
