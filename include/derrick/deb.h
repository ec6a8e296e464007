/*
 * deb.h - read a Debian binary package (.deb, man 5 deb) into layer
 * entries and its control data.  No maintainer script is ever run: the
 * caller is told which ones the package has.
 */
#ifndef DERRICK_DEB_H
#define DERRICK_DEB_H

#include <stddef.h>

#include "derrick/entry.h"
#include "derrick/err.h"

/* The maintainer scripts (and triggers file) a package may carry: bits of dk_deb.scripts. */
enum {
	DK_DEB_PREINST = 1 << 0,
	DK_DEB_POSTINST = 1 << 1,
	DK_DEB_PRERM = 1 << 2,
	DK_DEB_POSTRM = 1 << 3,
	DK_DEB_CONFIG = 1 << 4,
	DK_DEB_TRIGGERS = 1 << 5,
};

/* The control member name of script bit `bit` ("postinst"), or NULL for no single known bit. */
const char *dk_deb_script_name(unsigned bit);

/* How much of a preinst or postinst is kept (dpkg's largest in Debian 12 are ~15 KiB). */
#define DK_DEB_SCRIPT_MAX (256 << 10)

struct dk_deb_conffile {
	char *path;         /* as in the conffiles member: "/etc/x" */
	char md5[33];       /* MD5 hex of the file's content in data.tar, as dpkg records it */
};

struct dk_deb {
	char *file;                     /* the name errors give for the package's file */
	char *package, *version, *architecture;
	char *multi_arch;               /* the Multi-Arch field, or NULL */
	char *control;                  /* the control member's bytes (one stanza), NUL-terminated */
	size_t control_len;
	char *md5sums;                  /* the md5sums member, or NULL */
	size_t md5sums_len;
	struct dk_deb_conffile *conffiles;
	size_t nconffiles;
	unsigned scripts;               /* DK_DEB_* bits */
	char *preinst, *postinst;       /* those scripts' first DK_DEB_SCRIPT_MAX bytes (NUL-terminated, for
					   dk_deb_script_hint), or NULL when the package has none */
	char **paths;                   /* what dpkg records in info/PKG.list: "/." then every member
					   of data.tar in archive order, as in the package ("/bin/x"
					   even where /bin is a symlink to usr/bin), directories too */
	size_t npaths;
};

/*
 * Read the .deb at `path` (`len` bytes at `data` for dk_deb_read_mem,
 * named `name` in errors): data.tar's files are appended to `out` as
 * in-layer paths (no "./"), keeping each entry's mode bits and numeric
 * owner (keep_attrs), contents in out's spool; hardlinks and symlinks are
 * kept.  The control data go into *deb (zeroed first; free with
 * dk_deb_release, also after a failure).  Refused, DK_E_CORRUPT with one
 * line naming the package or file and the member: a format other than
 * 2.x, members out of order or missing, compressions other than none, gz,
 * xz, zst (and bz2 for data.tar), truncated members, member paths with
 * "..", absolute paths, symlinks whose target climbs above the root, and
 * entries below a symlink of the package.  0, or -1 with err set.
 */
int dk_deb_read(const char *path, struct dk_entries *out, struct dk_deb *deb, struct dk_err *err);
int dk_deb_read_mem(const void *data, size_t len, const char *name, struct dk_entries *out,
		    struct dk_deb *deb, struct dk_err *err);

void dk_deb_release(struct dk_deb *deb);

/*
 * The value of field `name` (matched without regard to case) in the
 * NUL-terminated stanza s: its first line, blanks trimmed, allocated; or
 * NULL when s has no such field.
 */
char *dk_deb_field(const char *s, const char *name);

/*
 * A hint for the warning about scripts not run (new string, one printable
 * line without the package's name; caller frees), or NULL when d has
 * neither preinst nor postinst.  Names each of the two scripts it has and
 * what it may therefore lack, from the commands the script calls:
 * "maintainer scripts not run, so these may be missing: postinst:
 * alternatives links (update-alternatives mailx)"; "users or groups
 * (adduser)", "generated files (update-ca-certificates)", "ld.so cache
 * (ldconfig)", "byte-compiled Python (py3compile)", ...; "what it would
 * have done" when it calls none of those.  A guess from the words of the
 * script, not from running it.
 */
char *dk_deb_script_hint(const struct dk_deb *d);

#endif
