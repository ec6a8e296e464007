/*
 * err.c - filling struct dk_err.  See err.h for the convention.
 *
 * The text is composed in full first and only then fitted into msg, so
 * that what makes a message long (a path nested thousands of bytes deep)
 * is what gets shortened, never the reason at its end.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/err.h"

#define ELLIPSIS "\xe2\x80\xa6"         /* "…" */
#define ELLIPSIS_LEN 3
#define WORD_KEEP 48                    /* bytes kept at each end of a word cut to make room */

static int is_cont(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

/*
 * Cut the middle of s[from..from+len) down to `keep` bytes at each end
 * around an ellipsis, on UTF-8 character boundaries; returns the new
 * length of s.
 */
static size_t cut_middle(char *s, size_t n, size_t from, size_t len, size_t keep)
{
	size_t head = from + keep, tail = from + len - keep;

	/* a character is at most 4 bytes: bytes that are not UTF-8 stop the search */
	while (head > from && head + 3 > from + keep && is_cont(s[head]))
		head--;
	while (tail < from + len && tail < from + len - keep + 3 && is_cont(s[tail]))
		tail++;
	if (tail <= head + ELLIPSIS_LEN)
		return n;
	memcpy(s + head, ELLIPSIS, ELLIPSIS_LEN);
	memmove(s + head + ELLIPSIS_LEN, s + tail, n - tail + 1);
	return n - (tail - head - ELLIPSIS_LEN);
}

/* The longest run of non-blank bytes in s[0..n): its start, and its length in *len. */
static size_t longest_word(const char *s, size_t n, size_t *len)
{
	size_t best = 0, i = 0, j;

	*len = 0;
	while (i < n) {
		for (j = i; j < n && s[j] != ' '; j++)
			;
		if (j - i > *len) {
			best = i;
			*len = j - i;
		}
		i = j + 1;
	}
	return best;
}

/*
 * Copy text (n bytes, NUL-terminated, writable) into msg.  Words longer
 * than DK_ERR_WORD_MAX (paths) keep their start and end; then, while the
 * whole is too long, the longest word is cut further; a message of many
 * short words finally loses its middle.  The end, where the reason is,
 * stays.
 */
static void fit(struct dk_err *err, char *text, size_t n)
{
	size_t at, len, max = sizeof(err->msg) - 1, keep;

	for (;;) {
		at = longest_word(text, n, &len);
		if (len <= DK_ERR_WORD_MAX && n <= max)
			break;
		keep = len > DK_ERR_WORD_MAX ? DK_ERR_WORD_MAX / 2 - ELLIPSIS_LEN : WORD_KEEP;
		if (len <= DK_ERR_WORD_MAX && len > 2 * keep + ELLIPSIS_LEN && n - max < len - 2 * keep)
			keep = (len - (n - max) - ELLIPSIS_LEN) / 2;  /* just enough */
		if (len <= 2 * keep + ELLIPSIS_LEN + 1)
			break;
		n = cut_middle(text, n, at, len, keep);
	}
	if (n > max)
		n = cut_middle(text, n, 0, n, (max - ELLIPSIS_LEN) / 2 - 4);
	memcpy(err->msg, text, n + 1);
}

/* Set err from a whole text, malloc'd (or NULL when memory ran out: then the fixed buffer is used). */
static void set_text(struct dk_err *err, char *text)
{
	if (text)
		fit(err, text, strlen(text));
	free(text);
}

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *vformat(const char *fmt, va_list ap)
{
	va_list copy;
	char *s;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static char *join(const char *a, const char *sep, const char *b)
{
	size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
	char *s = malloc(la + ls + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, sep, ls);
		memcpy(s + la + ls, b, lb + 1);
	}
	return s;
}

static void vset(struct dk_err *err, enum dk_code code, const char *reason, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* err gets fmt's text, then ": reason" unless reason is NULL. */
static void vset(struct dk_err *err, enum dk_code code, const char *reason, const char *fmt, va_list ap)
{
	char *text, *whole;
	va_list copy;

	if (!err)
		return;
	err->code = code;
	va_copy(copy, ap);
	text = vformat(fmt, copy);
	va_end(copy);
	whole = text && reason ? join(text, ": ", reason) : text;
	if (whole) {
		set_text(err, whole);
	} else {
		/* out of memory: the short way, reason first so it survives */
		int n = reason ? snprintf(err->msg, sizeof(err->msg), "%s: ", reason) : 0;

		vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
	}
	if (whole != text)
		free(text);
}

int dk_fail(struct dk_err *err, enum dk_code code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, code, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int dk_fail_errno(struct dk_err *err, enum dk_code code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vset(err, code, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

static void varound(struct dk_err *err, int before, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Put fmt's text before or after the message err holds, with ": " or nothing between. */
static void varound(struct dk_err *err, int before, const char *fmt, va_list ap)
{
	char *text = vformat(fmt, ap), *whole;

	if (!text)
		return;         /* out of memory: the message still says what failed */
	whole = before ? join(text, ": ", err->msg) : join(err->msg, "", text);
	free(text);
	set_text(err, whole);
}

int dk_err_prefix(struct dk_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	varound(err, 1, fmt, ap);
	va_end(ap);
	return -1;
}

int dk_err_append(struct dk_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	varound(err, 0, fmt, ap);
	va_end(ap);
	return -1;
}

const char *dk_code_name(enum dk_code code)
{
	switch (code) {
	case DK_OK: return "ok";
	case DK_E_USAGE: return "usage";
	case DK_E_SPEC: return "spec";
	case DK_E_REF: return "reference";
	case DK_E_NOTFOUND: return "not-found";
	case DK_E_CORRUPT: return "corrupt";
	case DK_E_IO: return "io";
	case DK_E_EXEC: return "exec";
	case DK_E_AUTH: return "auth";
	case DK_E_REMOTE: return "remote";
	case DK_E_INTERNAL: return "internal";
	case DK_E_CHANGED: return "changed";
	}
	return "unknown";
}
