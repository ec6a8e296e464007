/*
 * log.c - warnings and progress on stderr, filtered by one global level.
 * Errors are not logged here: they travel up in struct dk_err.
 */
#include <stdarg.h>
#include <stdio.h>

#include "derrick/log.h"

static enum dk_log_level level = DK_LOG_NORMAL;

void dk_log_set_level(enum dk_log_level l)
{
	level = l;
}

enum dk_log_level dk_log_get_level(void)
{
	return level;
}

static void vlog(enum dk_log_level min, const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vlog(enum dk_log_level min, const char *prefix, const char *fmt, va_list ap)
{
	if (level < min)
		return;
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void dk_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(DK_LOG_NORMAL, "derrick: warning: ", fmt, ap);
	va_end(ap);
}

void dk_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(DK_LOG_NORMAL, "", fmt, ap);
	va_end(ap);
}

void dk_verbose(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(DK_LOG_VERBOSE, "derrick: ", fmt, ap);
	va_end(ap);
}
