/*
 * challenge.c - reading WWW-Authenticate challenges.  See challenge.h.
 *
 *   WWW-Authenticate = #challenge
 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 *
 * The list is comma-separated and so are the auth-params, so after a comma
 * an element is a parameter of the current challenge when its token is
 * followed by "=", and a new challenge otherwise.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "derrick/challenge.h"
#include "derrick/util.h"

static int is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_token68(int c)
{
	return isalnum(c) || (c && strchr("-._~+/", c));
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static size_t token_len(const char *p)
{
	size_t n = 0;

	while (is_tchar((unsigned char)p[n]))
		n++;
	return n;
}

/* Past a quoted-string starting at the quote p, its content unescaped in *out. */
static const char *quoted(const char *p, char **out)
{
	struct strbuf sb = STRBUF_INIT;

	for (p++; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1])
			p++;
		sb_addc(&sb, *p);
	}
	if (*p == '"')
		p++;
	*out = sb_detach(&sb);
	return p;
}

/* Past the rest of a list element that makes no sense (quoted commas included). */
static const char *skip_element(const char *p)
{
	char *junk;

	while (*p && *p != ',') {
		if (*p == '"') {
			p = quoted(p, &junk);
			free(junk);
		} else {
			p++;
		}
	}
	return p;
}

/* A token68 ("abc==") that is the whole rest of the element at p: its length, else 0. */
static size_t token68_len(const char *p)
{
	size_t n = 0;
	const char *end;

	while (is_token68((unsigned char)p[n]))
		n++;
	if (!n)
		return 0;
	while (p[n] == '=')
		n++;
	end = skip_ows(p + n);
	return *end == ',' || !*end ? n : 0;
}

static void add_param(struct dk_challenge *c, const char *name, size_t len, char *value)
{
	struct dk_auth_param *ap;

	for (size_t i = 0; i < c->n_params; i++)
		if (strlen(c->params[i].name) == len && !strncasecmp(c->params[i].name, name, len)) {
			free(value);
			return;
		}
	c->params = dk_xrealloc(c->params, (c->n_params + 1) * sizeof(*c->params));
	ap = &c->params[c->n_params++];
	ap->name = dk_xstrndup(name, len);
	for (char *s = ap->name; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	ap->value = value;
}

/* The value at p (quoted, or bare up to the next comma or blank), in *out; returns past it. */
static const char *param_value(const char *p, char **out)
{
	size_t n;

	if (*p == '"')
		return quoted(p, out);
	/* a bare value should be a token; realms sent unquoted ("https://...") are taken whole */
	n = strcspn(p, ", \t");
	*out = dk_xstrndup(p, n);
	return p + n;
}

void dk_challenges_add(struct dk_challenges *cs, const char *value)
{
	const char *p = value;
	struct dk_challenge *cur = NULL;

	if (!p)
		return;
	while (*p) {
		const char *after;
		size_t n;

		p = skip_ows(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (!*p)
			break;
		n = token_len(p);
		after = skip_ows(p + n);
		if (n && *after == '=' && cur) {
			const char *name = p;
			char *v;

			p = skip_ows(param_value(skip_ows(after + 1), &v));
			add_param(cur, name, n, v);
			if (*p && *p != ',')
				p = skip_element(p);
			continue;
		}
		if (!n || *after == '=') {
			/* a parameter with no challenge, or junk */
			p = skip_element(p);
			continue;
		}
		cs->v = dk_xrealloc(cs->v, (cs->n + 1) * sizeof(*cs->v));
		cur = &cs->v[cs->n++];
		memset(cur, 0, sizeof(*cur));
		cur->scheme = dk_xstrndup(p, n);
		p += n;
		if (*p == ' ' || *p == '\t') {
			size_t t;

			p = skip_ows(p);
			t = token68_len(p);
			if (t) {
				cur->token68 = dk_xstrndup(p, t);
				p += t;
			}
		} else if (*p && *p != ',') {
			p = skip_element(p);
		}
	}
}

void dk_challenges_of(struct dk_challenges *cs, const struct dk_http_resp *resp)
{
	size_t pos = 0;
	const char *v;

	while ((v = dk_http_header_next(resp, "www-authenticate", &pos)))
		dk_challenges_add(cs, v);
}

const struct dk_challenge *dk_challenges_find(const struct dk_challenges *cs, const char *scheme)
{
	for (size_t i = 0; i < cs->n; i++)
		if (!strcasecmp(cs->v[i].scheme, scheme))
			return &cs->v[i];
	return NULL;
}

const char *dk_challenge_param(const struct dk_challenge *c, const char *name)
{
	for (size_t i = 0; i < c->n_params; i++)
		if (!strcasecmp(c->params[i].name, name))
			return c->params[i].value;
	return NULL;
}

void dk_challenges_release(struct dk_challenges *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		struct dk_challenge *c = &cs->v[i];

		for (size_t j = 0; j < c->n_params; j++) {
			free(c->params[j].name);
			free(c->params[j].value);
		}
		free(c->params);
		free(c->scheme);
		free(c->token68);
	}
	free(cs->v);
	cs->v = NULL;
	cs->n = 0;
}
