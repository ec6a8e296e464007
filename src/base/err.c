/*
 * err.c - filling struct dk_err.  See err.h for the convention.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "derrick/err.h"

static void vset(struct dk_err *err, enum dk_code code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vset(struct dk_err *err, enum dk_code code, const char *fmt, va_list ap)
{
	if (!err)
		return;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int dk_fail(struct dk_err *err, enum dk_code code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int dk_fail_errno(struct dk_err *err, enum dk_code code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vset(err, code, fmt, ap);
	va_end(ap);
	if (err) {
		n = strlen(err->msg);
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(saved));
	}
	errno = saved;
	return -1;
}

int dk_err_prefix(struct dk_err *err, const char *fmt, ...)
{
	char prefix[DK_ERR_MAX], old[DK_ERR_MAX];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable here: a long message is still one line. */
	size_t n = strlen(prefix);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, prefix, n);
	memcpy(err->msg + n, ": ", 2);
	n += 2;
	size_t rest = strlen(old);
	if (rest > sizeof(err->msg) - 1 - n)
		rest = sizeof(err->msg) - 1 - n;
	memcpy(err->msg + n, old, rest);
	err->msg[n + rest] = '\0';
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
