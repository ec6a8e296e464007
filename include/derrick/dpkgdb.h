/*
 * dpkgdb.h - the package database entries of a layer of installed .debs,
 * so that dpkg -l, dpkg --verify and scanners see the packages.
 */
#ifndef DERRICK_DPKGDB_H
#define DERRICK_DPKGDB_H

#include <stddef.h>

#include "derrick/deb.h"
#include "derrick/entry.h"
#include "derrick/err.h"

/*
 * Add to `out` (a list whose spool holds the contents, made when it has
 * none) the database files for the `n` packages `debs` (read by
 * dk_deb_read), as root-owned 0644 files (keep_attrs) and their 0755
 * directories:
 *
 * - `status` not NULL (the base's var/lib/dpkg/status, `status_len`
 *   bytes): var/lib/dpkg/status holding every base stanza byte for byte
 *   and one new stanza per package (its control fields in the order dpkg
 *   writes them, "Status: install ok installed", "Conffiles:" lines
 *   " /etc/x MD5"), all sorted by package name then architecture as dpkg
 *   writes them; a base stanza of the same name and architecture is
 *   replaced.  And var/lib/dpkg/info/PKG.list, .md5sums and .conffiles
 *   (PKG:ARCH.* for Multi-Arch: same), the last two when the package has
 *   them.
 * - `status` NULL (a base without dpkg, distroless-style):
 *   var/lib/dpkg/status.d/PKG (the control stanza) and status.d/PKG.md5sums.
 *
 * The bytes depend only on the inputs.  Two packages with the same name
 * and architecture are refused (DK_E_SPEC), as is a base status that is
 * no series of stanzas with a Package field (DK_E_CORRUPT, naming the
 * line).  0, or -1 with err set.
 */
int dk_dpkgdb_entries(const char *status, size_t status_len, const struct dk_deb *const *debs, size_t n,
		      struct dk_entries *out, struct dk_err *err);

#endif
