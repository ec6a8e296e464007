/*
 * toml.h - TOML documents as jansson trees, for the rest of derrick, which
 * reads every structured input as JSON.  Parsing is toml++'s (one C++ file,
 * src/python/toml.cc); nothing C++ crosses this header.
 */
#ifndef DERRICK_TOML_H
#define DERRICK_TOML_H

#include <stddef.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "derrick/err.h"

/* How deep tables and arrays may nest: deeper documents are refused, not recursed into. */
#define DK_TOML_MAX_DEPTH 64

/*
 * Parse len bytes of TOML text (need not be NUL-terminated).  Returns a new
 * JSON object (the caller decrefs it): tables are objects, arrays arrays,
 * strings, integers and booleans the same, floats reals; offset date-times,
 * local date-times, dates and times become strings in their TOML (RFC 3339)
 * spelling.  NULL on error with err set (DK_E_CORRUPT) to
 * "FILE:LINE:COL: reason"; `file` only names the input in messages.  A
 * float JSON cannot hold (inf, nan) is an error naming its place.
 */
json_t *dk_toml_parse(const char *text, size_t len, const char *file, struct dk_err *err);

#ifdef __cplusplus
}
#endif

#endif
