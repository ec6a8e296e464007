/*
 * lock_int.h - what the two lock readers (pylock.c, requirements.c) share.
 */
#ifndef DERRICK_LOCK_INT_H
#define DERRICK_LOCK_INT_H

#include "derrick/pylock.h"

/* n bytes of hex (any case) into out, lower-cased; -1 unless exactly 64 hex digits. */
int dk_lock_sha256(const char *s, size_t n, char out[DK_SHA256_HEX]);

/*
 * s as a one-line message may show it (a new string): control characters
 * (a newline in a TOML string, a CR in a requirements line, a server's
 * text) become '?'.
 */
char *dk_lock_printable(const char *s);

typedef int (*dk_lock_parser)(const char *text, size_t len, const char *path, struct dk_lock *lock,
			      struct dk_err *err);
/* Read the lock file at path (up to 64 MiB) and parse it. */
int dk_lock_read(const char *path, struct dk_lock *lock, struct dk_err *err, dk_lock_parser parse);

#endif
