/*
 * debrel.h - Debian relationship fields (Debian Policy 7.1 "Syntax of
 * relationship fields", 7.5 "Virtual packages - Provides"; Multi-Arch
 * qualifiers from the Multi-Arch spec as dpkg implements them):
 *
 *   Depends: libc6 (>= 2.34), default-mta | mail-transport-agent, python3:any
 *   Build-Depends: foo [amd64 !i386] <!nocheck> <stage1 cross>
 *
 * A field is a comma-separated list of clauses ("and"), each a '|'-list of
 * alternatives ("or"), each "name[:archqual] [(op version)] [[arch ...]]
 * [<profile ...>]...".  Source relations' [arch] and <profile> lists are
 * parsed (binary indexes do not carry them) and evaluated by
 * dk_debrel_alt_applies.
 */
#ifndef DERRICK_DEBREL_H
#define DERRICK_DEBREL_H

#include <stddef.h>

#include "derrick/err.h"

/*
 * The version operators.  dpkg still reads the obsolete "<" and ">" as
 * "<=" and ">=" (Policy 7.1 footnote); so does derrick.
 */
enum dk_debrel_op { DK_DEBREL_NONE, DK_DEBREL_LT, DK_DEBREL_LE, DK_DEBREL_EQ, DK_DEBREL_GE, DK_DEBREL_GT };

/*
 * One alternative.  Strings are NUL-terminated and owned by the struct
 * dk_debrel they belong to.  archqual: NULL, "any", "native" or an
 * architecture name.  version: NULL when op is DK_DEBREL_NONE.
 * archs: the [..] list as written, each entry with its '!' if any
 * (narchs 0: none).  profiles: the <..> groups, each the group's text
 * between the angle brackets (nprofiles 0: none).
 */
struct dk_debrel_alt {
	char *name;
	char *archqual;
	enum dk_debrel_op op;
	char *version;
	char **archs;
	size_t narchs;
	char **profiles;
	size_t nprofiles;
};

struct dk_debrel_clause {
	struct dk_debrel_alt *alts;
	size_t nalts;          /* at least 1 */
};

/* A parsed field.  Free with dk_debrel_free. */
struct dk_debrel {
	struct dk_debrel_clause *clauses;
	size_t nclauses;       /* 0 for an empty field */
	char *text_;           /* the storage the strings point into */
	struct dk_debrel_alt *alts_;
	char **lists_;
};

/* What a field may hold (Policy 7.1 / 7.5). */
#define DK_DEBREL_NO_ALTS     1   /* no '|' (Provides, Conflicts, Breaks...) */
#define DK_DEBREL_ONLY_EQ     2   /* only "=" versions (Provides) */
#define DK_DEBREL_RESTRICTIONS 4  /* [arch] and <profile> lists allowed (source relations) */

/*
 * Parse LEN bytes of TEXT (the raw field value; line breaks count as
 * spaces) as a relation field.  FIELD and PACKAGE are named in errors:
 * 'PACKAGE: Depends: "libc6 (>> )": version is empty'.  Package names must
 * be Policy 5.6.1 names (lower-case letters, digits, '+', '-', '.', at
 * least two characters, starting with a letter or digit); versions must
 * parse as dk_debver_parse says.  0 and *rel filled (free with
 * dk_debrel_free), or -1 with DK_E_SPEC and *rel zeroed.
 */
int dk_debrel_parse(const char *text, size_t len, int flags, const char *field, const char *package,
		    struct dk_debrel *rel, struct dk_err *err);

/* Free what dk_debrel_parse allocated and zero *rel (a zeroed *rel may be freed). */
void dk_debrel_free(struct dk_debrel *rel);

/* The operator as written in a field ("<<", ">=", ...; "" for NONE). */
const char *dk_debrel_op_name(enum dk_debrel_op op);

/*
 * Whether VERSION (a valid Debian version) satisfies "OP WANT": 1 or 0.
 * NONE is always satisfied.  Invalid text compares as dk_debver_cmp_str.
 */
int dk_debrel_satisfies(const char *version, enum dk_debrel_op op, const char *want);

/*
 * Whether ALT is in force when building for ARCH (a Debian architecture
 * name, Linux only: "amd64", "arm64"...) with no build profile active: its
 * [arch] list names ARCH (or "any", "linux-any", "any-CPU", "linux-ARCH"),
 * or, for a list of "!arch" entries, does not; and one of its <...> groups
 * holds (a group holds when each term does: "!p" holds, "p" does not).
 * 1 or 0.
 */
int dk_debrel_alt_applies(const struct dk_debrel_alt *alt, const char *arch);

#endif
