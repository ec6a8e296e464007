/*
 * wheelfmt.h - the text formats inside a wheel (wheel.h uses them): RECORD
 * (CSV), WHEEL and METADATA (email-style headers), entry_points.txt (INI),
 * and the wrapper script an entry point becomes.  Each parser reads
 * untrusted bytes and says what is wrong with "WHAT:LINE: reason".
 */
#ifndef DERRICK_WHEELFMT_H
#define DERRICK_WHEELFMT_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/err.h"
#include "derrick/util.h"

/* One RECORD row: three CSV fields, unquoted, and the line it started on. */
struct dk_record_row {
	char *path, *hash, *size;
	size_t line;
};

/*
 * Parse RECORD text (len bytes; NULs refused) as Python's csv module reads
 * it: ',' between fields, '"' quoting with "" inside, rows ending in LF or
 * CRLF; blank lines are skipped.  Every row must have three fields.  *rows
 * (n of them) is new, freed with dk_record_rows_free.  0, or -1 with err
 * (DK_E_CORRUPT, "WHAT:LINE: ...").
 */
int dk_record_parse(const char *text, size_t len, const char *what, struct dk_record_row **rows,
		    size_t *n, struct dk_err *err);
void dk_record_rows_free(struct dk_record_row *rows, size_t n);

/*
 * The RECORD form of a sha256 given as 64 hex digits (as digest.h writes
 * them): "sha256=" and the 32 bytes in urlsafe base64 without padding.
 */
char *dk_record_hash(const char *hex);

/*
 * Append one RECORD line (LF-terminated) to sb: path quoted as Python's csv
 * writer quotes it (only when it holds ',', '"', CR or LF), then hash and
 * size, both empty when hash is NULL.
 */
void dk_record_line(struct strbuf *sb, const char *path, const char *hash, uint64_t size);

/*
 * The first value of header `key` (case-insensitive) in an email-style
 * header block (METADATA, WHEEL): lines "Key: value" up to the first empty
 * line, folded lines joined with one space, leading and trailing blanks
 * stripped.  A new string, or NULL when the key is absent.
 */
char *dk_header_get(const char *text, size_t len, const char *key);

/* A console_scripts or gui_scripts entry point: "name = module:attr [extras]". */
struct dk_entry_point {
	char *name, *module, *attr;
	int gui;
};

/*
 * Parse entry_points.txt as Python's configparser does for installer
 * (delimiter '=', '#' and ';' comments, indented continuation lines, case
 * kept, duplicate sections or keys refused) and keep the console_scripts and
 * gui_scripts entries.  Refused, naming the line: a value that is not
 * "module:attr [extras]" (ASCII identifiers and dots), a '%' (configparser
 * would interpolate it), a name that is not a plain file name, an entry in
 * [DEFAULT].  *v (n of them) is new, freed with dk_entry_points_free.  0,
 * or -1 with err (DK_E_CORRUPT).
 */
int dk_entry_points_parse(const char *text, size_t len, const char *what, struct dk_entry_point **v,
			  size_t *n, struct dk_err *err);
void dk_entry_points_free(struct dk_entry_point *v, size_t n);

/*
 * The wrapper script for ep, byte for byte what pypa/installer 0.6.0 writes
 * on POSIX: "#!INTERPRETER", or the "#!/bin/sh" exec trick when the
 * interpreter holds a space or the line would pass 127 bytes, then its
 * fixed template.  A new string (strlen is its length).
 */
char *dk_entry_point_script(const struct dk_entry_point *ep, const char *interpreter);

/* 1 when s is a plain file name: not empty, ".", "..", no '/', '\\' or control character. */
int dk_plain_file_name(const char *s);

#endif
