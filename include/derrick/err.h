/*
 * err.h - how the library reports failure.
 *
 * Every fallible function returns 0 on success and -1 on failure, and fills a
 * caller-owned struct dk_err with a code and one line of text that says what
 * failed and where (file, JSON key path, image reference...).  Like curl's
 * CURLcode, the code lets a caller branch; the text is what a user reads.
 * The library never prints errors and never exits: that is the CLI's job.
 */
#ifndef DERRICK_ERR_H
#define DERRICK_ERR_H

#include <stddef.h>

enum dk_code {
	DK_OK = 0,
	DK_E_USAGE,     /* bad flag or argument */
	DK_E_SPEC,      /* the build spec is malformed or inconsistent */
	DK_E_REF,       /* an invalid image reference, tag or platform */
	DK_E_NOTFOUND,  /* a file, blob, tag or stage that does not exist */
	DK_E_CORRUPT,   /* content that fails its digest, size or format */
	DK_E_IO,        /* a read, write or rename failed (disk full, permissions) */
	DK_E_EXEC,      /* a helper program (git) failed */
	DK_E_AUTH,      /* a registry refused our credentials (401, 403) */
	DK_E_REMOTE,    /* a registry answered with an error */
	DK_E_INTERNAL,  /* a bug or an allocation failure */
	DK_E_CHANGED,   /* a source file changed while it was read: reading it again may succeed */
};

#define DK_ERR_MAX 2048
/* A longer run of non-blank bytes (a deep path) is shown by its start and end: "/a/b/c…/y/z". */
#define DK_ERR_WORD_MAX 512

struct dk_err {
	enum dk_code code;
	char msg[DK_ERR_MAX];
};

/*
 * Record an error and return -1, so callers can write `return dk_fail(...)`.
 * Every function here keeps the message to one line of fewer than
 * DK_ERR_MAX bytes by shortening its longest words in the middle (see
 * DK_ERR_WORD_MAX), so the end of the message, where the reason is,
 * always shows.
 */
int dk_fail(struct dk_err *err, enum dk_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like dk_fail, with ": strerror(errno)" appended (errno read on entry). */
int dk_fail_errno(struct dk_err *err, enum dk_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "PREFIX: " in front of an error already recorded, keeping its code. */
int dk_err_prefix(struct dk_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Put TEXT (no separator added) after an error already recorded, keeping its code. */
int dk_err_append(struct dk_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A short, stable name for a code ("spec", "io"...), for --json output. */
const char *dk_code_name(enum dk_code code);

#endif
