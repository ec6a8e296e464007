/*
 * wheelzip.h - the members of a wheel's zip, read twice by libarchive (the
 * central directory, then the local headers) and checked to agree.  Used
 * by wheel.c only.
 */
#ifndef DERRICK_WHEELZIP_H
#define DERRICK_WHEELZIP_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/digest.h"
#include "derrick/err.h"

struct dk_zmember {
	char *name;             /* as in the zip, a directory's without its trailing '/' */
	int dir;
	int exec;               /* a regular file whose zip mode has an execute bit */
	uint64_t size;          /* content bytes, at off in the spool */
	uint64_t off;
	char sha[DK_DIGEST_HEX + 1]; /* sha256 of the content, hex */
};

/*
 * Read the zip open at fd (from offset 0; `what` names it in messages)
 * with the central-directory reader, copying each regular file's content
 * to spool_fd (appended at its end), then with the local-header reader,
 * and compare the two: same names, types, sizes and sha256.  Refused
 * (DK_E_CORRUPT, naming the member): an unreadable zip, an encrypted
 * member, a symlink or any type but file and directory, a name that is
 * empty, absolute, holds "." or ".." or empty components, a backslash or a
 * control character, a name twice (a file and a directory count as one
 * name).  *v (n, in central-directory order) is new, freed with
 * dk_zip_members_free.  0, or -1 with err set.
 */
int dk_zip_members(int fd, const char *what, int spool_fd, struct dk_zmember **v, size_t *n,
		   struct dk_err *err);
void dk_zip_members_free(struct dk_zmember *v, size_t n);

#endif
