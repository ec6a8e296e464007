/*
 * ignore.h - .dockerignore-style exclusion patterns.
 *
 * The semantics are those of `docker build` (moby/patternmatcher fed by
 * moby/patternmatcher/ignorefile), so a project's existing .dockerignore
 * keeps meaning the same thing:
 *
 *  - A line starting with '#' (in column one) is a comment; blank lines are
 *    skipped.  "  # x" is a pattern, as in Docker.  A NUL byte is part of
 *    the pattern (it never ends the line), so a pattern holding one outside
 *    a '[' class matches nothing.
 *  - A pattern is trimmed of white space, Unicode's included (Go's
 *    strings.TrimSpace); a leading '!' makes it an exception (re-include).
 *    The rest is cleaned like Go's filepath.Clean ("a//./b/../c" -> "a/c",
 *    "build/" -> "build") and one leading '/' is dropped, so "/foo" and
 *    "foo" are the same pattern, anchored at the source root.  A trailing
 *    '/' does not restrict a pattern to directories.
 *  - A pattern must match the whole path: "*.log" matches "a.log" but not
 *    "dir/a.log".  '*' is any run of non-'/' characters, '?' one non-'/'
 *    character, "[a-z]" / "[^a-z]" a class (a class can match '/', as in
 *    Docker), '\' makes the next character literal.  A "**" component is
 *    any number of path components, zero included: put in front of "*.log"
 *    it makes the pattern match "a.log" and "x/y/a.log"; put after "foo" it
 *    matches everything below foo (not foo itself); alone, everything.
 *  - Verdicts come down the tree the way `docker build` walks it (BuildKit's
 *    fsutil walker with patternmatcher's MatchesUsingParentResults): going
 *    through the patterns in order, a pattern is tried on a path only when
 *    it could change the verdict so far (an exclusion while the path is
 *    kept, an exception while it is excluded), and a pattern holds for a
 *    path when it held for its directory or, tried, matches the path
 *    whole.  The last pattern that holds decides: excluded, unless it is an
 *    exception.  A path no pattern holds for is kept.  So a pattern that
 *    excludes a directory excludes what is inside, and "docs" then
 *    "!docs/keep.md" keeps just that file; but "**.log" then "!logs"
 *    excludes logs/x.log, because "!logs" was never tried on logs (nothing
 *    excluded it) and does not match logs/x.log whole.
 *  - Patterns that clean to "." or "/" (or start with "../") are held but can
 *    never match: Docker does not let a pattern exclude the whole context.
 *  - Docker quirks kept: "**" glued in front of a plain literal ("**.pyc")
 *    matches any path ending in it; glued between ("a**b") it still stands
 *    for whole components.  Where Docker's regexp translation garbles a
 *    pattern ('*' or '?' inside a class, "\a" read as BEL) we follow Go's
 *    filepath.Match: they are plain characters.
 *
 * An excluded directory may still contain re-included files ("docs" then
 * "!docs/keep.md"); the walker then emits the directory entry for the files
 * it keeps, as Docker does.
 *
 * A line of 64 KiB or more fails, as it does in Docker (bufio.Scanner's limit).
 */
#ifndef DERRICK_IGNORE_H
#define DERRICK_IGNORE_H

#include <stddef.h>

#include "derrick/err.h"

/* An ordered list of patterns. */
struct dk_ignore;

/* NULL when out of memory. */
struct dk_ignore *dk_ignore_new(void);
void dk_ignore_free(struct dk_ignore *ig);

/*
 * Add one pattern line, as found in a .dockerignore.  `origin` (for example
 * ".dockerignore:7" or "derrick.json: stages[2].layers[0].exclude[3]") only
 * appears in error messages.  A malformed pattern (unterminated or empty '['
 * class, reversed range, trailing lone '\', a lone "!", more than 4095 bytes)
 * fails with DK_E_SPEC.
 */
int dk_ignore_add(struct dk_ignore *ig, const char *pattern, const char *origin,
		  struct dk_err *err);

/*
 * Add every line of a file, with origins "PATH:LINE".  CRLF line ends and a
 * UTF-8 byte order mark are tolerated.  A missing file fails with
 * DK_E_NOTFOUND, an unreadable one with DK_E_IO, a line of 64 KiB or more (which
 * Docker refuses) with DK_E_SPEC.  On failure the patterns of the lines
 * before the bad one stay added.
 */
int dk_ignore_load_file(struct dk_ignore *ig, const char *path, struct dk_err *err);

/*
 * A walker's step: 1 if relpath is excluded, 0 if kept.  relpath is
 * relative to the source root, '/'-separated, without leading "./" or "/"
 * or trailing '/'.  `parent` is the state the call for relpath's directory
 * filled, or NULL for a path at the top; `state` receives relpath's (what
 * its own entries need).  Both hold dk_ignore_count(ig) bytes, owned by the
 * caller.  The root itself ("" or ".") is never excluded.
 */
int dk_ignore_step(const struct dk_ignore *ig, const char *relpath, const unsigned char *parent,
		   unsigned char *state);

/*
 * For a directory, with the state dk_ignore_step gave it: 0 when the
 * directory and everything below it is excluded, so a walker may skip the
 * subtree; 1 when something below it might be kept (the children must then
 * be tested one by one).  Conservative: it may say 1 for a subtree that
 * turns out fully excluded, never 0 for one that holds a kept path.
 */
int dk_ignore_step_may_reinclude(const struct dk_ignore *ig, const char *reldir,
				 const unsigned char *state);

/* dk_ignore_step for relpath and each of its parents, from the top down: its verdict. */
int dk_ignore_excluded(const struct dk_ignore *ig, const char *relpath);

/* dk_ignore_step_may_reinclude, with the state the walk from the top down reaches at reldir. */
int dk_ignore_may_reinclude_below(const struct dk_ignore *ig, const char *reldir);

/* Number of patterns held (comments and blank lines are not held). */
size_t dk_ignore_count(const struct dk_ignore *ig);

#endif
