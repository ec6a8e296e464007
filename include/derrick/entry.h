/*
 * entry.h - one file of a layer, after the walk and before the tar writer.
 *
 * Both ways to fill a layer (a directory walk, a prebuilt tar) produce a
 * list of these; the tar writer only ever sees this form, so the
 * normalisation rules are applied in one place whatever the input.
 */
#ifndef DERRICK_ENTRY_H
#define DERRICK_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "derrick/err.h"

enum dk_etype {
	DK_ENT_FILE,
	DK_ENT_DIR,
	DK_ENT_SYMLINK,
	DK_ENT_HARDLINK,    /* link = the in-layer path of the first name */
};

struct dk_entry {
	char *path;         /* in-layer path: no leading '/', no trailing '/' */
	enum dk_etype type;
	mode_t perm;        /* the source's permission bits, before normalisation */
	uint64_t size;      /* content bytes of a regular file */
	char *link;         /* symlink target or hardlink target path */
	char *src;          /* file to read the content from (walk), or NULL; it must still
			       match ino, size, mtime_ns and ctime_ns when it is read */
	uint64_t spool_off; /* offset of the content in the spool (tar input) */
	dev_t dev;          /* identity, to find hardlinks inside one layer */
	ino_t ino;
	nlink_t nlink;
	int64_t mtime_ns;   /* for the build cache's stat records, never written to a layer */
	int64_t ctime_ns;
	char content[65];   /* SHA-256 hex of the content, when the build cache computed it:
			       the tar writer then checks the bytes it copies against it */
};

struct dk_entries {
	struct dk_entry *v;
	size_t n, alloc;
	int spool_fd;       /* content of tar-sourced entries, or -1 */
	char input_hash[65]; /* SHA-256 hex of the whole input the spool was filled from, or "" */
};

void dk_entries_init(struct dk_entries *l);
void dk_entries_release(struct dk_entries *l);
/* Appends a zeroed entry and returns it; strings it gets are owned by the list. */
struct dk_entry *dk_entries_add(struct dk_entries *l);

/*
 * Put the entries in their final order (bytewise by path), drop duplicate
 * paths (the last one added wins, as when a tar is extracted), and turn the
 * later names of a multiply-linked file into hardlink entries to the first.
 */
void dk_entries_finish(struct dk_entries *l);

/*
 * Add `dest`'s parent directories (and dest itself, a directory) so the
 * layer unpacks on its own.  `dest` is an in-layer path ("" for the root).
 */
void dk_entries_add_parents(struct dk_entries *l, const char *dest);

#endif
