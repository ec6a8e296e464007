/*
 * client.c - one registry: scheme, authentication, retries, errors.
 *
 * Authentication follows the registry's lead.  The first request (a probe
 * of /v2/) tells whether it wants Basic credentials or a Bearer token from
 * some realm (of all the challenges it sends, the best scheme derrick
 * speaks); tokens are then asked for with the scopes each call needs
 * (not only those of the challenge, so a push with a cross-repository mount
 * gets pull rights on the source too) and kept per scope set.
 * Credentials are looked up once, on the first challenge.
 */
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "derrick/challenge.h"
#include "derrick/log.h"
#include "derrick/registry.h"
#include "derrick/util.h"

struct token {
	char *scope;
	char *value;
	time_t expires;
};

struct dk_registry {
	char *name;             /* as in references: "localhost:5000" */
	char *base;             /* "https://endpoint" or "http://endpoint" */
	struct dk_reg_opts o;
	struct dk_http_tls tls;
	char *ca_bundle;        /* temporary CA bundle built from --cert-dir */
	struct dk_http *http;
	/* what the probe learnt */
	enum { AUTH_NONE, AUTH_BASIC, AUTH_BEARER } auth;
	char *realm, *service;
	/* credentials, looked up on the first challenge */
	int creds_looked_up, have_creds;
	struct dk_creds creds;
	struct token *tokens;
	size_t n_tokens;
	/* guards everything above that parallel calls share: challenge, creds, tokens */
	pthread_mutex_t lock;
};

/* ------------------------------------------------------------ auth schemes */

/*
 * The schemes derrick speaks, best first: a token is scoped and
 * short-lived, Basic sends the password with every request.  Any other
 * (Negotiate, NTLM...) is not answered.
 */
static const struct auth_scheme {
	const char *name;
	int kind;
} auth_schemes[] = {
	{ "Bearer", AUTH_BEARER },
	{ "Basic", AUTH_BASIC },
};

/* The best challenge of cs that derrick can answer (its row in *row), or NULL. */
static const struct dk_challenge *pick_challenge(const struct dk_challenges *cs, const struct auth_scheme **row)
{
	for (size_t i = 0; i < sizeof(auth_schemes) / sizeof(*auth_schemes); i++) {
		const struct dk_challenge *c = dk_challenges_find(cs, auth_schemes[i].name);

		if (c) {
			*row = &auth_schemes[i];
			return c;
		}
	}
	return NULL;
}

/* RFC 6750 §3.1: a valid token that does not cover what the request needs. */
static int lacks_scope(const struct dk_challenge *c, const struct auth_scheme *row)
{
	const char *e = row->kind == AUTH_BEARER ? dk_challenge_param(c, "error") : NULL;

	return e && !strcasecmp(e, "insufficient_scope");
}

/* ------------------------------------------------------------ errors */

/* Why a request was refused, as far as the answer and our state tell. */
enum refusal {
	REFUSED_NOT,            /* not a 401 or 403 */
	REFUSED_UNKNOWN,        /* a 401 we cannot say more about (our credentials never went there) */
	REFUSED_NO_CREDS,       /* anonymous, where credentials are needed */
	REFUSED_CREDS,          /* the credentials (or the token got with them) were refused */
	REFUSED_PERMISSION,     /* known, but may not do this: 403, or a token lacking the scope */
	REFUSED_SCHEME,         /* only schemes derrick does not speak were offered */
	REFUSED_UNSAID,         /* a 401 with no challenge at all */
};

static enum refusal refusal_of(const struct dk_registry *r, const struct dk_http_resp *resp,
			       const struct dk_challenges *cs)
{
	const struct auth_scheme *row;
	const struct dk_challenge *c;

	if (resp->status == 403)
		return REFUSED_PERMISSION;
	if (resp->status != 401)
		return REFUSED_NOT;
	c = pick_challenge(cs, &row);
	if (!c && cs->n)
		return REFUSED_SCHEME;
	if (!r->creds_looked_up)
		return c ? REFUSED_UNKNOWN : REFUSED_UNSAID;
	if (!r->have_creds)
		return REFUSED_NO_CREDS;
	return c && lacks_scope(c, row) ? REFUSED_PERMISSION : REFUSED_CREDS;
}

/* "push" for "pull,push": the strongest right a scope's actions name. */
static void add_action(struct strbuf *sb, const char *actions, size_t len)
{
	const char *last = actions;

	for (const char *p = actions; p < actions + len; p++)
		if (*p == ',')
			last = p + 1;
	if (memmem(actions, len, "push", 4))
		sb_adds(sb, "push");
	else if (memchr(actions, '*', len))
		sb_adds(sb, "full");
	else if (last < actions + len)
		sb_add(sb, last, (size_t)(actions + len - last));
	else
		sb_adds(sb, "any");
}

/* From the scopes "repository:NAME:ACTIONS ...": "push permission on HOST/NAME, or ..." */
static void describe_scopes(struct strbuf *sb, const struct dk_registry *r, const char *scope)
{
	size_t start = sb->len;

	for (const char *p = scope; p && *p;) {
		size_t n = strcspn(p, " ");
		const char *c1 = memchr(p, ':', n), *c2 = NULL;

		for (const char *q = p; q < p + n; q++)
			if (*q == ':')
				c2 = q;
		if (c1 && c2 > c1 && !strncmp(p, "repository", 10)) {
			if (sb->len > start)
				sb_adds(sb, ", or ");
			add_action(sb, c2 + 1, (size_t)(p + n - c2 - 1));
			sb_addf(sb, " permission on %s/%.*s", r->name, (int)(c2 - c1 - 1), c1 + 1);
		}
		p += n;
		while (*p == ' ')
			p++;
	}
}

/* From the request "PUT .../v2/NAME/manifests/v1": "push permission on HOST/NAME"; 0 when it names none. */
static int describe_request(struct strbuf *sb, const struct dk_registry *r, const struct dk_http_resp *resp)
{
	static const char *const parts[] = { "/blobs/", "/manifests/", "/tags/", "/referrers/" };
	const char *path = resp->url ? strstr(resp->url, "/v2/") : NULL, *end = NULL, *m;
	size_t len;

	if (!path)
		return 0;
	len = strcspn(path, "?#");
	/* NAME may hold slashes and even "blobs": the last part marker ends it */
	for (size_t i = 0; i < sizeof(parts) / sizeof(*parts); i++)
		for (const char *q = strstr(path, parts[i]); q && q < path + len; q = strstr(q + 1, parts[i]))
			if (!end || q > end)
				end = q;
	if (!end || end <= path + 4)
		return 0;
	m = resp->method ? resp->method : "";
	sb_addf(sb, "%s permission on %s/%.*s",
		!strcmp(m, "GET") || !strcmp(m, "HEAD") ? "pull" : !strcmp(m, "DELETE") ? "delete" : "push",
		r->name, (int)(end - path - 4), path + 4);
	return 1;
}

/*
 * What a refused request needed: the scopes the registry's challenge names
 * (several for a mount), else the request's repository and method, else the
 * scopes we asked a token for.
 */
static void describe_need(struct strbuf *sb, const struct dk_registry *r, const struct dk_http_resp *resp,
			  const struct dk_challenges *cs, const char *scope)
{
	const struct auth_scheme *row;
	const struct dk_challenge *c = pick_challenge(cs, &row);
	size_t start = sb->len;

	describe_scopes(sb, r, c ? dk_challenge_param(c, "scope") : NULL);
	if (sb->len == start && !describe_request(sb, r, resp))
		describe_scopes(sb, r, scope);
	if (sb->len == start)
		sb_adds(sb, "permission for this request");
}

/* The hint after a refusal, " (...)", saying what we know; "" when there is nothing to add. */
static char *refusal_hint(const struct dk_registry *r, const struct dk_http_resp *resp,
			  const struct dk_challenges *cs, enum refusal why, const char *scope)
{
	struct strbuf sb = STRBUF_INIT;

	switch (why) {
	case REFUSED_NOT:
	case REFUSED_UNKNOWN:
		break;
	case REFUSED_NO_CREDS:
		sb_adds(&sb, " (no credentials for this registry: use --creds, --authfile or derrick login)");
		break;
	case REFUSED_CREDS:
		if (r->auth == AUTH_BASIC && !r->creds.password)
			sb_adds(&sb, " (the credentials are an identity token, which Basic authentication cannot carry)");
		else
			sb_adds(&sb, " (the registry refused the credentials)");
		break;
	case REFUSED_PERMISSION:
		if (r->have_creds && r->creds.username)
			sb_addf(&sb, " (the account \"%s\" lacks ", r->creds.username);
		else if (r->have_creds)
			sb_adds(&sb, " (the account lacks ");
		else if (r->creds_looked_up)
			sb_adds(&sb, " (anonymous access lacks ");
		else
			sb_adds(&sb, " (no ");
		describe_need(&sb, r, resp, cs, scope);
		sb_adds(&sb, r->creds_looked_up && !r->have_creds ? ": use --creds, --authfile or derrick login)" : ")");
		break;
	case REFUSED_SCHEME:
		sb_adds(&sb, " (the registry asks for ");
		for (size_t i = 0; i < cs->n; i++)
			sb_addf(&sb, "%s%s", i ? " or " : "", cs->v[i].scheme);
		sb_adds(&sb, " authentication, which derrick does not support)");
		break;
	case REFUSED_UNSAID:
		sb_adds(&sb, " (the registry asks for authentication without a WWW-Authenticate challenge)");
		break;
	}
	return sb_detach(&sb);
}

/* dk_reg_fail, with the scopes a token request asked for (NULL elsewhere); why it was refused in *why. */
static int reg_fail(const struct dk_registry *r, const struct dk_http_resp *resp, const char *what,
		    const char *scope, enum refusal *why, struct dk_err *err)
{
	json_t *root = resp->body.len ? json_loadb(resp->body.buf, resp->body.len, 0, NULL) : NULL;
	json_t *e0 = json_array_get(json_object_get(root, "errors"), 0);
	const char *code = json_string_value(json_object_get(e0, "code"));
	const char *msg = json_string_value(json_object_get(e0, "message"));
	enum dk_code c = resp->status == 404 ? DK_E_NOTFOUND :
			 resp->status == 401 || resp->status == 403 ? DK_E_AUTH : DK_E_REMOTE;
	struct dk_challenges cs = DK_CHALLENGES_INIT;
	enum refusal w;
	char *hint;

	/* the hint says what a 401 or 403 means here: a HEAD answer has no body to say it */
	dk_challenges_of(&cs, resp);
	w = refusal_of(r, resp, &cs);
	hint = refusal_hint(r, resp, &cs, w, scope);
	if (why)
		*why = w;
	if (code)
		dk_fail(err, c, "%s: HTTP %ld %s%s%s%s", what, resp->status, code, msg ? ": " : "", msg ? msg : "", hint);
	else
		dk_fail(err, c, "%s: HTTP %ld%s", what, resp->status, hint);
	free(hint);
	dk_challenges_release(&cs);
	json_decref(root);
	return -1;
}

int dk_reg_fail(const struct dk_registry *r, const struct dk_http_resp *resp, const char *what,
		struct dk_err *err)
{
	return reg_fail(r, resp, what, NULL, NULL, err);
}

/* ------------------------------------------------------------ auth */

static int get_creds(struct dk_registry *r, struct dk_err *err)
{
	if (r->creds_looked_up)
		return 0;
	r->creds_looked_up = 1;
	if (dk_creds_lookup(&r->o.creds, r->name, &r->creds, &r->have_creds, err) < 0)
		return -1;
	if (r->have_creds)
		dk_verbose("%s: credentials from %s", r->name, r->creds.source ? r->creds.source : "?");
	return 0;
}

static char *basic_header(const struct dk_registry *r)
{
	char *up = dk_xasprintf("%s:%s", r->creds.username ? r->creds.username : "",
				r->creds.password ? r->creds.password : "");
	char *b = dk_base64_encode(up, strlen(up));
	char *h = dk_xasprintf("Authorization: Basic %s", b);

	explicit_bzero(up, strlen(up));
	explicit_bzero(b, strlen(b));
	free(up);
	free(b);
	return h;
}

static struct token *find_token(struct dk_registry *r, const char *scope)
{
	for (size_t i = 0; i < r->n_tokens; i++)
		if (!strcmp(r->tokens[i].scope, scope) && r->tokens[i].expires > time(NULL))
			return &r->tokens[i];
	return NULL;
}

static void drop_token(struct dk_registry *r, const char *scope)
{
	for (size_t i = 0; i < r->n_tokens; i++)
		if (!strcmp(r->tokens[i].scope, scope))
			r->tokens[i].expires = 0;
}

/* Keep a new token for scope (value taken over): a renewed one replaces the old, so the list holds one per scope. */
static struct token *keep_token(struct dk_registry *r, const char *scope, char *value, int64_t ttl)
{
	struct token *t = NULL;

	for (size_t i = 0; i < r->n_tokens && !t; i++)
		if (!strcmp(r->tokens[i].scope, scope))
			t = &r->tokens[i];
	if (t) {
		explicit_bzero(t->value, strlen(t->value));
		free(t->value);
	} else {
		r->tokens = dk_xrealloc(r->tokens, (r->n_tokens + 1) * sizeof(*r->tokens));
		t = &r->tokens[r->n_tokens++];
		t->scope = dk_xstrdup(scope);
	}
	t->value = value;
	/* renew a little early (a quarter of a short lifetime); ttl is at most DK_TOKEN_TTL_MAX */
	t->expires = time(NULL) + (time_t)(ttl - (ttl > 40 ? 10 : ttl / 4));
	return t;
}

int dk_reg_token_answer(const char *body, size_t len, char **token, int64_t *ttl, struct dk_err *err)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	json_t *exp = json_object_get(root, "expires_in");
	const char *tok = json_string_value(json_object_get(root, "token"));

	*token = NULL;
	*ttl = 60;
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(root, "access_token"));
	if (!tok || !*tok) {
		json_decref(root);
		return dk_fail(err, DK_E_AUTH, "the token server's answer has no token");
	}
	/* the spec's default for an absent or senseless lifetime; a huge one is held to a day */
	if (json_is_integer(exp) && json_integer_value(exp) > 0)
		*ttl = json_integer_value(exp) > DK_TOKEN_TTL_MAX ? DK_TOKEN_TTL_MAX : json_integer_value(exp);
	*token = dk_xstrdup(tok);
	json_decref(root);
	return 0;
}

/*
 * Learn from a 401's challenges how to authenticate: the best scheme we
 * speak (and a Bearer one's realm and service).  -1, r unchanged, when no
 * challenge is one we speak.
 */
static int learn_challenge(struct dk_registry *r, const struct dk_challenges *cs)
{
	const struct auth_scheme *row;
	const struct dk_challenge *c = pick_challenge(cs, &row);
	const char *realm, *service;

	if (!c)
		return -1;
	r->auth = row->kind;
	if (r->auth != AUTH_BEARER)
		return 0;
	realm = dk_challenge_param(c, "realm");
	service = dk_challenge_param(c, "service");
	free(r->realm);
	free(r->service);
	r->realm = realm ? dk_xstrdup(realm) : NULL;
	r->service = service ? dk_xstrdup(service) : NULL;
	return 0;
}

/*
 * After a 401 to a request that carried an Authorization header (sent) or
 * not: 1 when another try may succeed (the challenge learnt, a refused
 * token dropped); 0 when the answer is final: no scheme we speak, Basic
 * credentials refused (or none to send), or a valid token without the
 * scope, which the token server would only hand out again.
 */
static int auth_again(struct dk_registry *r, const char *scope, const struct dk_http_resp *resp, int sent)
{
	struct dk_challenges cs = DK_CHALLENGES_INIT;
	const struct auth_scheme *row;
	const struct dk_challenge *c;
	int was = r->auth, again = 0;

	dk_challenges_of(&cs, resp);
	c = pick_challenge(&cs, &row);
	if (c && !(sent && lacks_scope(c, row)) && learn_challenge(r, &cs) == 0 &&
	    !(was == AUTH_BASIC && r->auth == AUTH_BASIC)) {
		drop_token(r, scope ? scope : "");
		again = 1;
	}
	dk_challenges_release(&cs);
	return again;
}

static void url_escape_into(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			sb_addc(sb, (char)c);
		else
			sb_addf(sb, "%%%02X", c);
	}
}

/* GET (or, with an identity token, POST) the realm for a token covering `scope`, kept in r and *out. */
static int fetch_token(struct dk_registry *r, const char *scope, struct token **out, struct dk_err *err)
{
	struct strbuf url = STRBUF_INIT, form = STRBUF_INIT;
	struct dk_http_req req = { 0 };
	struct dk_http_resp resp;
	const char *headers[3] = { NULL, NULL, NULL };
	char *auth = NULL, *sc, *save = NULL, *tok;
	int64_t ttl;
	int rc = -1;

	if (!r->realm)
		return dk_fail(err, DK_E_AUTH, "%s: Bearer challenge without a realm", r->name);
	sc = dk_xstrdup(scope);
	if (get_creds(r, err) < 0)
		goto out;
	sb_adds(&url, r->realm);
	if (r->have_creds && r->creds.identity_token) {
		/* OAuth2 refresh-token grant, as docker does with an identity token */
		sb_adds(&form, "grant_type=refresh_token&client_id=derrick&refresh_token=");
		url_escape_into(&form, r->creds.identity_token);
		if (r->service) {
			sb_adds(&form, "&service=");
			url_escape_into(&form, r->service);
		}
		for (char *s = strtok_r(sc, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
			sb_adds(&form, "&scope=");
			url_escape_into(&form, s);
		}
		headers[0] = "Content-Type: application/x-www-form-urlencoded";
		req.method = "POST";
		req.body = form.buf;
		req.body_len = form.len;
		req.has_body = 1;
	} else {
		char sep = strchr(r->realm, '?') ? '&' : '?';

		if (r->service) {
			sb_addf(&url, "%cservice=", sep);
			url_escape_into(&url, r->service);
			sep = '&';
		}
		for (char *s = strtok_r(sc, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
			sb_addf(&url, "%cscope=", sep);
			url_escape_into(&url, s);
			sep = '&';
		}
		req.method = "GET";
		if (r->have_creds && r->creds.password)
			headers[0] = auth = basic_header(r);
	}
	req.url = url.buf;
	req.headers = headers;
	req.body_fd = -1;
	req.max_body = 1 << 20;
	if (dk_http_do(r->http, &req, &resp, err) < 0) {
		dk_http_resp_release(&resp);
		dk_err_prefix(err, "%s: token request", r->name);
		goto out;
	}
	if (resp.status != 200) {
		char *what = dk_xasprintf("%s: token request to %.*s", r->name,
					  (int)strcspn(r->realm, "?"), r->realm);
		enum refusal why;

		reg_fail(r, &resp, what, scope, &why, err);
		if (why == REFUSED_CREDS || why == REFUSED_NO_CREDS)
			dk_err_prefix(err, "%s", why == REFUSED_CREDS ? "wrong username or password" : "no credentials");
		free(what);
		dk_http_resp_release(&resp);
		goto out;
	}
	rc = dk_reg_token_answer(resp.body.buf, resp.body.len, &tok, &ttl, err);
	dk_http_resp_release(&resp);
	if (rc < 0) {
		dk_err_prefix(err, "%s", r->name);
		goto out;
	}
	*out = keep_token(r, scope, tok, ttl);
out:
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	explicit_bzero(form.buf, form.len);
	sb_release(&form);
	sb_release(&url);
	free(sc);
	return rc;
}

/* The Authorization header for a call, or NULL (anonymous). */
static char *auth_header(struct dk_registry *r, const char *scope, struct dk_err *err, int *failed)
{
	struct token *t;

	*failed = 0;
	if (r->auth == AUTH_BASIC) {
		if (get_creds(r, err) < 0) {
			*failed = 1;
			return NULL;
		}
		return r->have_creds && r->creds.password ? basic_header(r) : NULL;
	}
	if (r->auth != AUTH_BEARER)
		return NULL;
	scope = scope ? scope : "";
	t = find_token(r, scope);
	if (!t) {
		if (fetch_token(r, scope, &t, err) < 0) {
			*failed = 1;
			return NULL;
		}
	}
	return dk_xasprintf("Authorization: Bearer %s", t->value);
}

/* ------------------------------------------------------------ calls */

int dk_reg_do(struct dk_registry *r, const struct dk_reg_call *call, struct dk_http_resp *resp,
	      struct dk_err *err)
{
	char *url = call->path[0] == '/' ? dk_xasprintf("%s%s", r->base, call->path) : dk_xstrdup(call->path);
	int attempt = 0, auth_tries = 0, redirects = 0, same_host = 1;

	/* an early failure (credentials) leaves no answer to read */
	memset(resp, 0, sizeof(*resp));
	resp->body = (struct strbuf)STRBUF_INIT;
	for (;;) {
		struct dk_http_req req = call->body;
		const char **headers;
		size_t nh = 0;
		char *auth = NULL;
		int failed = 0, sent, rc;
		long delay = -1;

		for (const char *const *p = call->headers; p && *p; p++)
			nh++;
		headers = dk_xcalloc(nh + 2, sizeof(*headers));
		for (size_t i = 0; i < nh; i++)
			headers[i] = call->headers[i];
		/* credentials only ever go to the registry itself, never to a redirect target */
		if (same_host) {
			pthread_mutex_lock(&r->lock);
			auth = auth_header(r, call->scope, err, &failed);
			pthread_mutex_unlock(&r->lock);
			if (failed) {
				free(headers);
				free(url);
				return -1;
			}
			headers[nh] = auth;
		}
		req.method = call->method;
		req.url = url;
		req.headers = headers;
		rc = dk_http_do(call->http ? call->http : r->http, &req, resp, err);
		sent = auth != NULL;
		if (auth) {
			explicit_bzero(auth, strlen(auth));
			free(auth);
		}
		free(headers);
		if (rc == 0 && resp->status == 401 && same_host && auth_tries < 1) {
			/* first challenge on a registry that looked open, or an expired token */
			int again;

			pthread_mutex_lock(&r->lock);
			again = auth_again(r, call->scope, resp, sent);
			pthread_mutex_unlock(&r->lock);
			auth_tries++;
			if (!again) {
				free(url);
				return 0;
			}
			delay = 0;
		} else if (rc == 0 && resp->status >= 300 && resp->status < 400 && dk_http_header(resp, "location") &&
			   (!strcmp(call->method, "GET") || !strcmp(call->method, "HEAD"))) {
			char *next = dk_http_resolve(url, dk_http_header(resp, "location"));
			char *o1 = dk_http_origin(r->base), *o2 = dk_http_origin(next);

			same_host = same_host && !strcmp(o1, o2);
			free(o1);
			free(o2);
			free(url);
			url = next;
			if (++redirects > 5) {
				dk_http_resp_release(resp);
				free(url);
				return dk_fail(err, DK_E_REMOTE, "%s: too many redirects", r->name);
			}
			delay = 0;
		} else if (!call->no_retry && (delay = dk_retry_delay(&r->o, attempt, resp)) >= 0) {
			if (rc < 0)
				dk_verbose("%s: %s; retrying in %ld ms", r->name, err->msg, delay);
			else
				dk_verbose("%s: %s answered %ld; retrying in %ld ms", r->name, call->method,
					   resp->status, delay);
			attempt++;
		} else if (rc < 0) {
			dk_http_resp_release(resp);
			free(url);
			return -1;
		} else {
			free(url);
			return 0;
		}
		dk_http_resp_release(resp);
		if (delay > 0)
			dk_sleep_ms(delay);
		if (call->rewind && call->rewind(call->rewind_ctx, err) < 0) {
			free(url);
			return -1;
		}
	}
}

/* ------------------------------------------------------------ open */

static int probe(struct dk_registry *r, struct dk_err *err)
{
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	char *what;

	call.method = "GET";
	call.path = "/v2/";
	call.body.body_fd = -1;
	/* dk_reg_do learns the challenge of a 401 */
	if (dk_reg_do(r, &call, &resp, err) < 0)
		return -1;
	if (resp.status == 200 || resp.status == 401) {
		dk_http_resp_release(&resp);
		return 0;
	}
	what = dk_xasprintf("%s: GET %s/v2/ (is it a registry?)", r->name, r->base);
	dk_reg_fail(r, &resp, what, err);
	free(what);
	dk_http_resp_release(&resp);
	return -1;
}

int dk_registry_open(const char *registry, const char *endpoint, const struct dk_reg_opts *o,
		     struct dk_registry **out, struct dk_err *err)
{
	struct dk_registry *r = dk_xcalloc(1, sizeof(*r));

	pthread_mutex_init(&r->lock, NULL);
	r->name = dk_xstrdup(registry);
	r->o = *o;
	r->tls.verify = o->tls_verify;
	if (dk_http_tls_cert_dir(o->cert_dir, &r->tls, &r->ca_bundle, err) < 0)
		goto fail;
	r->http = dk_http_new(&r->tls);
	r->base = dk_xasprintf("https://%s", endpoint);
	if (probe(r, err) == 0) {
		*out = r;
		return 0;
	}
	/* Like skopeo: with --tls-verify=false, a registry that does not speak TLS is tried over HTTP. */
	if (!o->tls_verify && err->code != DK_E_NOTFOUND) {
		struct dk_err first = *err;

		free(r->base);
		r->base = dk_xasprintf("http://%s", endpoint);
		if (probe(r, err) == 0) {
			*out = r;
			return 0;
		}
		if (err->code == DK_E_IO)
			*err = first;
	}
fail:
	dk_registry_free(r);
	return -1;
}

void dk_registry_free(struct dk_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_tokens; i++) {
		free(r->tokens[i].scope);
		explicit_bzero(r->tokens[i].value, strlen(r->tokens[i].value));
		free(r->tokens[i].value);
	}
	free(r->tokens);
	if (r->creds_looked_up && r->have_creds)
		dk_creds_free(&r->creds);
	dk_http_free(r->http);
	if (r->ca_bundle) {
		unlink(r->ca_bundle);
		free(r->ca_bundle);
	}
	free((char *)r->tls.cert_file);
	free((char *)r->tls.key_file);
	free(r->realm);
	free(r->service);
	free(r->name);
	free(r->base);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

const char *dk_registry_base(const struct dk_registry *r)
{
	return r->base;
}

const char *dk_registry_name(const struct dk_registry *r)
{
	return r->name;
}

struct dk_http *dk_registry_http(const struct dk_registry *r)
{
	return dk_http_new(&r->tls);
}

int dk_registry_check_auth(struct dk_registry *r, struct dk_err *err)
{
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	int rc = 0;

	call.method = "GET";
	call.path = "/v2/";
	call.body.body_fd = -1;
	if (dk_reg_do(r, &call, &resp, err) < 0)
		return -1;
	if (resp.status != 200) {
		char *what = dk_xasprintf("%s: GET /v2/ with the credentials", r->name);
		enum refusal why;

		rc = reg_fail(r, &resp, what, NULL, &why, err);
		if (why == REFUSED_CREDS)
			dk_err_prefix(err, "wrong username or password");
		free(what);
	}
	dk_http_resp_release(&resp);
	return rc;
}
