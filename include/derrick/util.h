/*
 * util.h - small helpers every module leans on: allocation that cannot
 * return NULL, a growable string (git's strbuf, trimmed), base64, the one
 * way to join lists and paths and to name a temporary file, and file
 * operations that never leave a half-written file behind.
 */
#ifndef DERRICK_UTIL_H
#define DERRICK_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "derrick/err.h"

/*
 * Out of memory is not an error a caller can handle well, so these never
 * return NULL (git's xmalloc): on failure they call dk_oom().
 */
void *dk_xmalloc(size_t n);
void *dk_xcalloc(size_t n, size_t size);
void *dk_xrealloc(void *p, size_t n);
char *dk_xstrdup(const char *s);
char *dk_xstrndup(const char *s, size_t n);
/*
 * Untrusted text about to be quoted in a one-line message: every control
 * byte of s (below 0x20, and DEL) becomes '?', in place.  Returns s.
 */
char *dk_str_printable(char *s);
char *dk_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * s, or `none` when s is NULL: for strings a library may not have (an
 * archive's error text, a JSON field), since printf's %s must never get NULL.
 */
static inline const char *dk_str_or(const char *s, const char *none)
{
	return s ? s : none;
}

/*
 * What to do when memory runs out: the application decides (the CLI prints
 * a line and aborts), the library never exits by itself.  The handler gets
 * what failed ("json", "EVP"...; NULL for a plain allocation) and must not
 * return.  One per process; set it before any other call.
 */
typedef void (*dk_oom_handler)(const char *what);
void dk_set_oom_handler(dk_oom_handler fn);
/*
 * Report an allocation that failed, here or in a library we call.  Calls
 * the handler; without one, or if it returns, abort() is the last resort,
 * since the x-functions above cannot return NULL.
 */
void dk_oom(const char *what) __attribute__((noreturn));

/*
 * buf is never NULL and always NUL-terminated: an empty strbuf points at a
 * shared empty string (git's strbuf_slopbuf), so it can be printed or
 * searched without a test.  Only alloc says whether buf is ours to free.
 * Initialise with STRBUF_INIT, never with zeroes.
 */
struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;   /* 0: buf is sb_slopbuf */
};
extern char sb_slopbuf[];
#define STRBUF_INIT { sb_slopbuf, 0, 0 }

void sb_grow(struct strbuf *sb, size_t extra);
void sb_add(struct strbuf *sb, const void *data, size_t len);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addc(struct strbuf *sb, char c);
void sb_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add s to a list being joined: after sep unless sb is still empty ("a, b, c"). */
void sb_join(struct strbuf *sb, const char *sep, const char *s);
void sb_reset(struct strbuf *sb);
void sb_release(struct strbuf *sb);
/* Hand the buffer to the caller (never NULL) and leave sb empty. */
char *sb_detach(struct strbuf *sb);

/* Standard base64 (RFC 4648, padded) of len bytes, as a new string. */
char *dk_base64_encode(const void *data, size_t len);

/*
 * Decode standard base64; the padding may be left off (some tools do),
 * anything else outside the alphabet fails.  A new NUL-terminated buffer
 * with its length (it may hold NULs) in *len, or NULL when s is not base64.
 * Scratch copies are wiped: what is decoded is often a password.
 */
char *dk_base64_decode(const char *s, size_t *len);

/* read(2), retried on EINTR. */
ssize_t dk_read(int fd, void *buf, size_t len);

/*
 * The test hooks' pause (layer.h, walk.h): when the environment variable
 * `env` names a fifo, open it and read one line from it, so that a test can
 * change the source at that moment, deterministically, and then let the
 * build go on.  Without the variable (always, outside the tests), nothing.
 */
void dk_test_pause(const char *env);

/* Write all of buf to fd, retrying short writes and EINTR. */
int dk_write_all(int fd, const void *buf, size_t len, const char *what, struct dk_err *err);

/*
 * Write a whole file atomically: a temporary file in the same directory,
 * fsync, rename over PATH.  Either the old or the new contents survive a
 * crash or a full disk, never a mix.
 */
int dk_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 struct dk_err *err);

/*
 * Finish a temporary file: fchmod, fsync, close, rename to path.  On any
 * failure the temporary file is removed.  Takes ownership of tmp.
 */
int dk_commit_temp(int fd, char *tmp, const char *path, mode_t mode, struct dk_err *err);

/* Read a whole (small) file; fails when it is larger than max bytes. */
int dk_read_file(const char *path, size_t max, char **out, size_t *len, struct dk_err *err);

/* mkdir -p; reports which component failed. */
int dk_mkdir_p(const char *path, mode_t mode, struct dk_err *err);

/* rm -rf, best effort: used to clean up our own temporary trees. */
void dk_rm_rf(const char *path);

/*
 * NAME in the directory for temporary files ($TMPDIR when set and not
 * empty, else /tmp), as a new string.  NAME is usually a mkstemp(3) or
 * mkdtemp(3) template: "derrick-spool-XXXXXX".
 */
char *dk_tmp_path(const char *name);

/*
 * Copy src to a new temporary file in dst's directory and rename it to dst.
 * Tries a hard link first (same filesystem, no bytes copied).
 */
int dk_copy_file_atomic(const char *src, const char *dst, struct dk_err *err);

/*
 * A relative, normalised form of an in-image path: leading '/', "." and
 * empty components dropped ("/usr/./local//" -> "usr/local", "/" -> "").
 * NULL when a ".." component would climb out.
 */
char *dk_path_clean(const char *p);

/*
 * Join two path parts with exactly one '/' ("a/" + "/b" -> "a/b", "/" + "b"
 * -> "/b"); an empty part adds nothing ("" + "b" -> "b", "a" + "" -> "a").
 * Returns a new string.  The walk calls it per file, so no printf.
 */
char *dk_path_join(const char *a, const char *b);

/* The directory part of a path ("." when there is none). Returns a new string. */
char *dk_dirname(const char *path);

#endif
