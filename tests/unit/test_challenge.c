/*
 * test_challenge.c - WWW-Authenticate challenges as RFC 9110 §11.6.1 writes
 * them and as registries and corporate fronts send them: several headers,
 * several challenges to a header, quoted commas, any case.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "derrick/challenge.h"
#include "derrick/util.h"
#include "tap.h"

/* A response holding these WWW-Authenticate values (and one other header between them). */
static void fake_resp(struct dk_http_resp *resp, const char *const *values)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = 401;
	for (const char *const *v = values; *v; v++) {
		resp->headers = dk_xrealloc(resp->headers, (resp->n_headers + 2) * sizeof(*resp->headers));
		resp->headers[resp->n_headers].name = dk_xstrdup("www-authenticate");
		resp->headers[resp->n_headers++].value = dk_xstrdup(*v);
		resp->headers[resp->n_headers].name = dk_xstrdup("content-type");
		resp->headers[resp->n_headers++].value = dk_xstrdup("application/json");
	}
}

static void test_bearer(void)
{
	struct dk_challenges cs = DK_CHALLENGES_INIT;
	const struct dk_challenge *c;

	dk_challenges_add(&cs, "Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
			       "scope=\"repository:a/b:pull,push\"");
	CHECK(cs.n == 1);
	c = dk_challenges_find(&cs, "bearer");
	CHECK(c != NULL);
	if (c) {
		CHECK_STR(c->scheme, "Bearer");
		CHECK(c->n_params == 3);
		CHECK_STR(dk_challenge_param(c, "realm"), "https://auth.example/token");
		CHECK_STR(dk_challenge_param(c, "SERVICE"), "registry.example");
		CHECK_STR(dk_challenge_param(c, "scope"), "repository:a/b:pull,push");
		CHECK(dk_challenge_param(c, "error") == NULL);
		CHECK(c->token68 == NULL);
	}
	dk_challenges_release(&cs);
	CHECK(cs.n == 0 && cs.v == NULL);
}

/*
 * A scheme is a token followed by a blank or the end: "Bearerrealm=" and
 * "Basicrealm=" are parameters with no challenge (junk), not challenges,
 * and a scheme glued to its first parameter is not one either.
 */
static void test_scheme_needs_a_blank(void)
{
	static const char *const junk[] = {
		"Bearerrealm=\"https://auth.example/token\",service=\"r\"",
		"Basicrealm=\"x\"",
		"Bearer=\"x\", realm=\"y\"",
		"bearerREALM=https://auth.example/token",
	};
	struct dk_challenges cs = DK_CHALLENGES_INIT;

	for (size_t i = 0; i < sizeof(junk) / sizeof(*junk); i++) {
		dk_challenges_add(&cs, junk[i]);
		CHECK(dk_challenges_find(&cs, "bearer") == NULL);
		CHECK(dk_challenges_find(&cs, "basic") == NULL);
		CHECK(cs.n == 0);
		dk_challenges_release(&cs);
	}
	/* ... while the junk does not hide a real challenge after it */
	dk_challenges_add(&cs, "Bearerrealm=\"evil\", Bearer realm=\"https://auth.example/token\"");
	CHECK(cs.n == 1);
	if (cs.n == 1) {
		CHECK_STR(cs.v[0].scheme, "Bearer");
		CHECK_STR(dk_challenge_param(&cs.v[0], "realm"), "https://auth.example/token");
	}
	dk_challenges_release(&cs);
}

/* Several challenges in one header, the second's params after commas too. */
static void test_several_in_one_header(void)
{
	struct dk_challenges cs = DK_CHALLENGES_INIT;
	const struct dk_challenge *b;

	dk_challenges_add(&cs, "Negotiate, Basic realm=\"corp, inc\" , charset=\"UTF-8\", "
			       "BEARER realm=\"https://a/t\", error=\"insufficient_scope\",scope=\"repository:x:push\"");
	CHECK(cs.n == 3);
	if (cs.n == 3) {
		CHECK_STR(cs.v[0].scheme, "Negotiate");
		CHECK(cs.v[0].n_params == 0 && cs.v[0].token68 == NULL);
		CHECK_STR(cs.v[1].scheme, "Basic");
		CHECK_STR(dk_challenge_param(&cs.v[1], "realm"), "corp, inc");
		CHECK_STR(dk_challenge_param(&cs.v[1], "charset"), "UTF-8");
		CHECK(cs.v[1].n_params == 2);
		CHECK_STR(cs.v[2].scheme, "BEARER");
	}
	b = dk_challenges_find(&cs, "Bearer");
	CHECK(b != NULL);
	if (b) {
		CHECK_STR(dk_challenge_param(b, "error"), "insufficient_scope");
		CHECK_STR(dk_challenge_param(b, "scope"), "repository:x:push");
		CHECK(dk_challenge_param(b, "charset") == NULL);
	}
	dk_challenges_release(&cs);
}

/* token68 after the scheme, then another challenge. */
static void test_token68(void)
{
	struct dk_challenges cs = DK_CHALLENGES_INIT;

	dk_challenges_add(&cs, "Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg+/==, basic Realm=x");
	CHECK(cs.n == 2);
	if (cs.n == 2) {
		CHECK_STR(cs.v[0].token68, "YIIBhwYGKwYBBQUCoIIBezCCAXeg+/==");
		CHECK(cs.v[0].n_params == 0);
		CHECK_STR(cs.v[1].scheme, "basic");
		CHECK_STR(dk_challenge_param(&cs.v[1], "realm"), "x");
		CHECK_STR(cs.v[1].params[0].name, "realm");
	}
	CHECK(dk_challenges_find(&cs, "BASIC") == &cs.v[1]);
	dk_challenges_release(&cs);
}

/* Quoted-pairs, blanks around "=", empty list elements, a value named twice. */
static void test_syntax_corners(void)
{
	struct dk_challenges cs = DK_CHALLENGES_INIT;

	dk_challenges_add(&cs, " ,, Bearer  realm = \"a\\\"b\\\\c\" ,, service=svc, realm=\"second\",,");
	CHECK(cs.n == 1);
	if (cs.n == 1) {
		CHECK_STR(dk_challenge_param(&cs.v[0], "realm"), "a\"b\\c");
		CHECK_STR(dk_challenge_param(&cs.v[0], "service"), "svc");
		CHECK(cs.v[0].n_params == 2);
	}
	dk_challenges_release(&cs);
	/* an unquoted URL realm (not a token, but sent) is taken whole */
	dk_challenges_add(&cs, "Bearer realm=https://auth.example:8443/v2/token?x=1,service=r");
	CHECK(cs.n == 1);
	if (cs.n == 1) {
		CHECK_STR(dk_challenge_param(&cs.v[0], "realm"), "https://auth.example:8443/v2/token?x=1");
		CHECK_STR(dk_challenge_param(&cs.v[0], "service"), "r");
	}
	dk_challenges_release(&cs);
}

/* Junk is skipped without hiding what follows; nothing is read out of bounds. */
static void test_malformed(void)
{
	struct dk_challenges cs = DK_CHALLENGES_INIT;
	const char *bad[] = { "", "   ", ",", "=", "realm=\"x\"", "\"", "Bearer realm=\"unterminated",
			      "Basic\"x\"", "@@@, Basic realm=y", "Bearer realm=\"a\", @junk \"q,q\", service=s" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		dk_challenges_add(&cs, bad[i]);
	dk_challenges_add(&cs, NULL);
	/* Bearer(unterminated), Basic, Basic(y), Bearer(a, s) */
	CHECK(cs.n == 4);
	if (cs.n == 4) {
		CHECK_STR(dk_challenge_param(&cs.v[0], "realm"), "unterminated");
		CHECK_STR(cs.v[1].scheme, "Basic");
		CHECK_STR(dk_challenge_param(&cs.v[2], "realm"), "y");
		CHECK_STR(dk_challenge_param(&cs.v[3], "realm"), "a");
		CHECK_STR(dk_challenge_param(&cs.v[3], "service"), "s");
	}
	dk_challenges_release(&cs);
}

/* Every header of a response is read, in order, with other headers between them. */
static void test_every_header(void)
{
	const char *values[] = { "Negotiate", "Basic realm=\"registry\"", "NTLM", NULL };
	struct dk_http_resp resp;
	struct dk_challenges cs = DK_CHALLENGES_INIT;
	size_t pos = 0;
	int n = 0;

	fake_resp(&resp, values);
	while (dk_http_header_next(&resp, "www-authenticate", &pos))
		n++;
	CHECK(n == 3);
	CHECK(dk_http_header_next(&resp, "www-authenticate", &pos) == NULL);
	CHECK_STR(dk_http_header(&resp, "www-authenticate"), "Negotiate");
	dk_challenges_of(&cs, &resp);
	CHECK(cs.n == 3);
	CHECK(dk_challenges_find(&cs, "Bearer") == NULL);
	CHECK(dk_challenges_find(&cs, "basic") == &cs.v[1]);
	if (cs.n == 3)
		CHECK_STR(cs.v[2].scheme, "NTLM");
	dk_challenges_release(&cs);
	dk_http_resp_release(&resp);
}

/* One canned answer on a local socket, as a SPNEGO front sends it (a folded line included). */
static const char canned[] =
	"HTTP/1.1 401 Unauthorized\r\n"
	"WWW-Authenticate: Negotiate\r\n"
	"Content-Type: application/json\r\n"
	"WWW-Authenticate: Basic\r\n"
	" realm=\"folded, still\",\r\n"
	"\tcharset=\"UTF-8\"  \r\n"
	"www-authenticate: bearer realm=\"https://auth/token\",service=\"reg\"\r\n"
	"Content-Length: 2\r\n"
	"Connection: close\r\n"
	"\r\n"
	"{}";

static void *serve_once(void *arg)
{
	int ls = *(int *)arg, c = accept(ls, NULL, NULL);
	char buf[4096];

	if (c >= 0) {
		if (read(c, buf, sizeof(buf)) > 0 && write(c, canned, sizeof(canned) - 1) < 0)
			perror("write");
		close(c);
	}
	return NULL;
}

/* Through libcurl: every WWW-Authenticate header is kept, folded lines joined to theirs. */
static void test_http_keeps_every_header(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	pthread_t th;
	struct dk_http *h;
	struct dk_http_req req = { .method = "GET", .body_fd = -1 };
	struct dk_http_resp resp;
	struct dk_challenges cs = DK_CHALLENGES_INIT;
	struct dk_err err = { 0 };
	char *url;

	CHECK(ls >= 0 && bind(ls, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(ls, 1) == 0 &&
	      getsockname(ls, (struct sockaddr *)&a, &alen) == 0);
	pthread_create(&th, NULL, serve_once, &ls);
	url = dk_xasprintf("http://127.0.0.1:%d/v2/", ntohs(a.sin_port));
	req.url = url;
	h = dk_http_new(NULL);
	CHECK(dk_http_do(h, &req, &resp, &err) == 0);
	pthread_join(th, NULL);
	close(ls);
	CHECK(resp.status == 401);
	CHECK_STR(resp.method, "GET");
	CHECK_STR(resp.url, url);
	dk_challenges_of(&cs, &resp);
	CHECK(cs.n == 3);
	if (cs.n == 3) {
		CHECK_STR(cs.v[0].scheme, "Negotiate");
		CHECK_STR(cs.v[1].scheme, "Basic");
		CHECK_STR(dk_challenge_param(&cs.v[1], "realm"), "folded, still");
		CHECK_STR(dk_challenge_param(&cs.v[1], "charset"), "UTF-8");
		CHECK_STR(dk_challenge_param(&cs.v[2], "service"), "reg");
	}
	CHECK_STR(dk_http_header(&resp, "content-type"), "application/json");
	dk_challenges_release(&cs);
	dk_http_resp_release(&resp);
	CHECK(resp.url == NULL && resp.n_headers == 0);
	dk_http_free(h);
	free(url);
}

int main(void)
{
	RUN(test_bearer);
	RUN(test_scheme_needs_a_blank);
	RUN(test_several_in_one_header);
	RUN(test_token68);
	RUN(test_syntax_corners);
	RUN(test_malformed);
	RUN(test_every_header);
	RUN(test_http_keeps_every_header);
	return tap_done();
}
