/*
 * version.c - Debian version parsing and dpkg's comparison (debversion.h).
 */
#include <ctype.h>
#include <limits.h>
#include <string.h>

#include "derrick/debversion.h"

/* dpkg's c_isdigit/c_isalpha: ASCII only, whatever the locale */
static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* dpkg's order(): '~' first, then the end of a part, letters, then the rest */
static int order(int c)
{
	if (is_digit(c))
		return 0;
	if (is_alpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

int dk_debver_part_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;

#define A (i < alen ? (unsigned char)a[i] : 0)
#define B (j < blen ? (unsigned char)b[j] : 0)
	while (i < alen || j < blen) {
		int first_diff = 0;

		while ((A && !is_digit(A)) || (B && !is_digit(B))) {
			int ac = order(A), bc = order(B);

			if (ac != bc)
				return ac - bc;
			i++;
			j++;
		}
		while (A == '0')
			i++;
		while (B == '0')
			j++;
		while (is_digit(A) && is_digit(B)) {
			if (!first_diff)
				first_diff = A - B;
			i++;
			j++;
		}
		if (is_digit(A))
			return 1;
		if (is_digit(B))
			return -1;
		if (first_diff)
			return first_diff;
		/* a NUL byte inside a part ends the comparison as in C */
		if ((i < alen && !a[i]) || (j < blen && !b[j]))
			break;
	}
#undef A
#undef B
	return 0;
}

int dk_debver_cmp(const struct dk_debver *a, const struct dk_debver *b)
{
	int r;

	if (a->epoch != b->epoch)
		return a->epoch > b->epoch ? 1 : -1;
	r = dk_debver_part_cmp(a->upstream, a->up_len, b->upstream, b->up_len);
	if (r)
		return r;
	return dk_debver_part_cmp(a->revision, a->rev_len, b->revision, b->rev_len);
}

/* Split (no checks): epoch digits before the first ':', revision after the last '-'. */
static void split(const char *s, size_t len, struct dk_debver *v, int *epoch_ok)
{
	const char *colon;
	size_t i;

	while (len && is_blank(*s))
		s++, len--;
	while (len && is_blank(s[len - 1]))
		len--;
	v->epoch = 0;
	*epoch_ok = 1;
	colon = memchr(s, ':', len);
	if (colon) {
		const char *p = s;
		unsigned long e = 0;

		int neg = p < colon && *p == '-';

		if (p < colon && (*p == '+' || *p == '-'))
			p++;
		if (p == colon)
			*epoch_ok = 0;
		for (; p < colon; p++) {
			if (!is_digit(*p) || e > (unsigned long)INT_MAX) {
				*epoch_ok = 0;
				break;
			}
			e = e * 10 + (unsigned long)(*p - '0');
		}
		if (e > (unsigned long)INT_MAX || (neg && e))
			*epoch_ok = 0;
		v->epoch = *epoch_ok ? e : 0;
		len -= (size_t)(colon + 1 - s);
		s = colon + 1;
	}
	v->upstream = s;
	v->up_len = len;
	v->revision = s + len;
	v->rev_len = 0;
	for (i = len; i-- > 0;)
		if (s[i] == '-') {
			v->up_len = i;
			v->revision = s + i + 1;
			v->rev_len = len - i - 1;
			break;
		}
}

int dk_debver_cmp_str(const char *a, const char *b)
{
	struct dk_debver va, vb;
	int ok;

	split(a, strlen(a), &va, &ok);
	split(b, strlen(b), &vb, &ok);
	return dk_debver_cmp(&va, &vb);
}

static int bad(struct dk_err *err, const char *s, size_t len, const char *why)
{
	return dk_fail(err, DK_E_SPEC, "invalid version \"%.*s\": %s", (int)(len > 200 ? 200 : len), s, why);
}

int dk_debver_parse(const char *s, size_t len, struct dk_debver *v, struct dk_err *err)
{
	const char *t = s, *colon;
	size_t tl = len, i;
	int epoch_ok;

	if (memchr(s, '\n', len) || memchr(s, '\0', len))
		return bad(err, "", 0, "version has a line break or NUL byte");
	while (tl && is_blank(*t))
		t++, tl--;
	while (tl && is_blank(t[tl - 1]))
		tl--;
	if (!tl)
		return bad(err, s, len, "version string is empty");
	for (i = 0; i < tl; i++)
		if (is_blank(t[i]) || (unsigned char)t[i] < 0x20)
			return bad(err, s, len, "version string has embedded spaces");
	colon = memchr(t, ':', tl);
	if (colon) {
		size_t el = (size_t)(colon - t);
		size_t k = el && (t[0] == '+' || t[0] == '-') ? 1 : 0;

		if (!el || (k == 1 && el == 1))
			return bad(err, s, len, "epoch in version is empty");
		for (i = k; i < el; i++)
			if (!is_digit(t[i]))
				return bad(err, s, len, "epoch in version is not number");
		if (t[0] == '-' && strspn(t + 1, "0") < el - 1)
			return bad(err, s, len, "epoch in version is negative");
		if (colon + 1 == t + tl)
			return bad(err, s, len, "nothing after colon in version number");
	}
	split(t, tl, v, &epoch_ok);
	if (!epoch_ok)
		return bad(err, s, len, "epoch in version is too big");
	if (v->revision != v->upstream + v->up_len && v->rev_len == 0)
		return bad(err, s, len, "revision number is empty");
	if (!v->up_len)
		return bad(err, s, len, "version number is empty");
	if (!is_digit(v->upstream[0]))
		return bad(err, s, len, "version number does not start with digit");
	for (i = 0; i < v->up_len; i++)
		if (!is_digit(v->upstream[i]) && !is_alpha(v->upstream[i]) && !strchr(".-+~:", v->upstream[i]))
			return bad(err, s, len, "invalid character in version number");
	for (i = 0; i < v->rev_len; i++)
		if (!is_digit(v->revision[i]) && !is_alpha(v->revision[i]) && !strchr(".+~", v->revision[i]))
			return bad(err, s, len, "invalid character in revision number");
	return 0;
}
