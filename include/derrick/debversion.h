/*
 * debversion.h - Debian package versions, compared exactly as dpkg does
 * (Debian Policy 5.6.12 "Version"; dpkg's lib/dpkg/version.c and
 * parsehelp.c): [epoch:]upstream[-revision], the epoch compared as a number,
 * then upstream and revision by dpkg's verrevcmp: alternating runs of
 * non-digits (compared character by character, '~' before the end of the
 * string before everything, letters before non-letters) and digits
 * (compared as numbers).  tests/e2e/deb_resolve.sh checks the order against
 * `dpkg --compare-versions` on thousands of pairs.
 */
#ifndef DERRICK_DEBVERSION_H
#define DERRICK_DEBVERSION_H

#include <stddef.h>

#include "derrick/err.h"

/*
 * A parsed version.  It borrows the text it was parsed from: upstream and
 * revision point into it (not NUL-terminated; use the lengths), so that
 * text must outlive the struct.  Nothing to free.  No revision ("1.0") is
 * rev_len 0, which compares equal to "-0" as in dpkg.
 */
struct dk_debver {
	unsigned long epoch;
	const char *upstream;
	size_t up_len;
	const char *revision;
	size_t rev_len;
};

/*
 * Parse LEN bytes of S (leading and trailing blanks allowed, as dpkg's
 * parseversion).  0 and *v filled (borrowing S), or -1 with DK_E_SPEC and
 * dpkg's reason in one line: 'invalid version "TEXT": epoch in version is
 * not number' (also: empty, embedded spaces, epoch empty / negative / too
 * big (> INT_MAX), nothing after colon, revision number is empty, version
 * number is empty, version number does not start with digit, invalid
 * character in version / revision number).  dpkg only warns about the last
 * three; derrick refuses them, since no archive version has them.
 */
int dk_debver_parse(const char *s, size_t len, struct dk_debver *v, struct dk_err *err);

/* <0, 0, >0 as a sorts before, equals, sorts after b (dpkg's order). */
int dk_debver_cmp(const struct dk_debver *a, const struct dk_debver *b);

/*
 * Compare two version strings without validating them (what `dpkg
 * --compare-versions` does after its warnings): each is split as
 * dk_debver_parse does; an epoch that is not a number counts as 0.
 */
int dk_debver_cmp_str(const char *a, const char *b);

/* dpkg's verrevcmp on two byte ranges: one upstream or revision part against another. */
int dk_debver_part_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif
