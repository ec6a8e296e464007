/*
 * deb822.h - Debian control-file syntax (Debian Policy 5.1 "Syntax of
 * control files", deb822(5)): stanzas ("paragraphs") of "Name: value"
 * fields separated by blank lines, a value continued on the following lines
 * that start with a space or tab.  Read by Packages and Sources indexes,
 * dpkg's status file, a package's control file.
 *
 * The reader is streaming: it hands out one stanza at a time, reading its
 * input in blocks, so a 45 MB Packages file never needs to be in memory at
 * once.  Each stanza keeps its original bytes (dpkg's status merging writes
 * the base's stanzas back byte for byte); its fields point into them.
 */
#ifndef DERRICK_DEB822_H
#define DERRICK_DEB822_H

#include <stddef.h>

#include "derrick/err.h"

/*
 * One field: its name as written (compare with dk_deb822_name_is: field
 * names are case-insensitive, Policy 5.1) and its value: the bytes after
 * the colon, leading blanks and trailing whitespace removed, continuation
 * lines kept as written (their "\n" and leading blanks included).  Both
 * point into the stanza's raw bytes and are not NUL-terminated.
 */
struct dk_deb822_field {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
	unsigned long line;     /* the line of "Name:" in the input, from 1 */
};

/*
 * One stanza.  raw/raw_len: its bytes, from the start of its first line to
 * the end of its last line's "\n" (none when the input ends without one),
 * comment lines included, separating blank lines not.  Owned by the reader
 * and valid until the next dk_deb822_next or dk_deb822_close.
 */
struct dk_deb822_stanza {
	const char *raw;
	size_t raw_len;
	unsigned long line;     /* the line of its first byte */
	struct dk_deb822_field *fields;
	size_t nfields;
};

/* Lines starting with '#' are comments (Policy 5.2 allows them in debian/control only). */
#define DK_DEB822_COMMENTS 1

struct dk_deb822_reader;

/*
 * A reader over LEN bytes at BUF (borrowed: they must outlive the reader
 * and every stanza it returns).  NAME is used in messages ("NAME:LINE");
 * FLAGS: 0 or DK_DEB822_COMMENTS.  Never fails; free with dk_deb822_close.
 */
struct dk_deb822_reader *dk_deb822_open_mem(const char *buf, size_t len, const char *name, int flags);

/*
 * A reader over the file descriptor FD (borrowed, read until EOF in
 * blocks; the caller closes it after dk_deb822_close).  Memory stays
 * around the size of the largest stanza.
 */
struct dk_deb822_reader *dk_deb822_open_fd(int fd, const char *name, int flags);

/*
 * The next stanza: 1 and *st filled (pointing into the reader's buffer,
 * valid until the next call), 0 at the end of input, or -1 with
 * DK_E_CORRUPT "NAME:LINE: why" (a line without a colon, a field name
 * that is empty, starts with '-' or '#' (without DK_DEB822_COMMENTS) or
 * holds a blank, control or non-ASCII byte, a continuation line before
 * any field, a field given twice in one stanza (Policy 5.1);
 * DK_E_IO when reading FD fails).  After -1 the reader stays failed.
 */
int dk_deb822_next(struct dk_deb822_reader *r, struct dk_deb822_stanza *st, struct dk_err *err);

/* Free the reader (NULL is fine). */
void dk_deb822_close(struct dk_deb822_reader *r);

/* Whether F's name is NAME, ignoring ASCII case. */
int dk_deb822_name_is(const struct dk_deb822_field *f, const char *name);

/* The field NAME (case-insensitive) of ST, or NULL. */
const struct dk_deb822_field *dk_deb822_get(const struct dk_deb822_stanza *st, const char *name);

/*
 * F's value as a new NUL-terminated string (caller frees), folded as
 * Policy 5.1 folds "folded" fields (Depends, Provides...): each line break
 * and the blanks around it become one space.
 */
char *dk_deb822_folded(const struct dk_deb822_field *f);

#endif
