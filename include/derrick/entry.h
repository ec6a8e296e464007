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
	DK_ENT_WHITEOUT,    /* an empty file ".wh.NAME" or ".wh..wh..opq": only the "delete" key makes these */
};

/* The name prefix the OCI image spec reserves for whiteouts, and the opaque marker's name. */
#define DK_WHITEOUT_PREFIX ".wh."
#define DK_WHITEOUT_OPAQUE ".wh..wh..opq"


struct dk_entry {
	char *path;         /* in-layer path: no leading '/', no trailing '/' (first: dk_path_lower_bound) */
	enum dk_etype type;
	mode_t perm;        /* the source's permission bits, before normalisation */
	uint64_t size;      /* content bytes of a regular file */
	char *link;         /* symlink target or hardlink target path */
	char *src;          /* file to read the content from (walk), or NULL; it must still
			       match ino, size, mtime_ns and ctime_ns when it is read */
	uint64_t spool_off; /* offset of the content in the spool (tar input) */
	dev_t dev;          /* identity, to find hardlinks inside one layer (a tar source numbers its own) */
	ino_t ino;
	nlink_t nlink;
	int64_t mtime_ns;   /* for the build cache's stat records, never written to a layer */
	int64_t ctime_ns;
	char content[65];   /* SHA-256 hex of the content, when the build cache computed it:
			       the tar writer then checks the bytes it copies against it */
	int keep_attrs;     /* write perm (setuid, setgid, sticky included), uid and gid as given
			       instead of the layer's normalised owner and modes: a package's
			       files (a .deb) are only right with the owners and modes it ships */
	uint32_t uid, gid;  /* numeric owner, used only when keep_attrs */
	uint32_t owner;     /* which of its layer's writers wrote it (source.h: dk_layer_plan.owners),
			       from 1; 0: the layer as a whole */
};

struct dk_entries {
	struct dk_entry *v;
	size_t n, alloc;
	int spool_fd;       /* content of tar-sourced entries, or -1 */
	char input_hash[65]; /* SHA-256 hex of the whole input the spool was filled from, or "" */
};

/*
 * A path and its position in a list.  dk_path_order_cmp (for qsort) orders
 * them bytewise by path (never the locale), equal paths by position: so
 * the last of a name is found, or kept, whatever qsort does with ties.
 */
struct dk_path_order {
	const char *path;
	size_t idx;
};

int dk_path_order_cmp(const void *a, const void *b);

/* The entries of l from index `first` on (l->n - first of them), sorted by dk_path_order_cmp; free it. */
struct dk_path_order *dk_path_index(const struct dk_entries *l, size_t first);

void dk_entries_init(struct dk_entries *l);
/*
 * Make sure l has a spool file (l->spool_fd), created unlinked when it has
 * none yet; `what` names the input in the error.  0, or -1 with err set.
 */
int dk_entries_spool(struct dk_entries *l, const char *what, struct dk_err *err);
void dk_entries_release(struct dk_entries *l);
/* Appends a zeroed entry and returns it; strings it gets are owned by the list. */
struct dk_entry *dk_entries_add(struct dk_entries *l);

/*
 * Put the entries in their final order (bytewise by path), drop duplicate
 * paths (the last one added wins, as when a tar is extracted), turn the
 * later names of a multiply-linked file (same dev and ino, nlink > 1) into
 * hardlink entries to the first, and check that the result unpacks as it
 * reads: no entry below a symlink or a non-directory of the list, every
 * hardlink after its regular-file target, no name component starting with
 * ".wh." outside DK_ENT_WHITEOUT entries.  0, or -1 with err naming the
 * entry (DK_E_CORRUPT); the list is then still the caller's to release.
 * Running it again on a finished list changes nothing.
 */
int dk_entries_finish(struct dk_entries *l, struct dk_err *err);

/*
 * In an array of n structs of `size` bytes each, sorted by the path (a
 * char *) that is their first member, bytewise: the index of the first
 * whose path is not before `key`.  n when there is none.
 */
size_t dk_path_lower_bound(const void *v, size_t n, size_t size, const char *key);

/*
 * In a finished list: the entry at in-layer path `path`, or NULL; *below
 * (unless NULL) says whether some entry lies below it ("path/...").
 */
const struct dk_entry *dk_entries_find(const struct dk_entries *l, const char *path, int *below);

/* The first component of `path` that starts with ".wh." (a pointer into path), or NULL. */
const char *dk_whiteout_component(const char *path);

/*
 * Add `dest`'s parent directories (and dest itself, a directory) so the
 * layer unpacks on its own.  `dest` is an in-layer path ("" for the root).
 * The build then moves them, as every entry, through the symlinks of the
 * layers below (symlinks.h): none of them replaces a symlink.
 */
void dk_entries_add_parents(struct dk_entries *l, const char *dest);

#endif
