/*
 * symlinks.h - the image's tree as the layers below a new one leave it,
 * to write the new layer's entries where `docker build` would: through
 * the symlinks of the layers below, never over them.
 *
 * A merged-/usr root has /bin -> usr/bin.  A layer that holds "bin" as a
 * directory replaces that symlink when it is unpacked (umoci, podman,
 * containerd), and /bin/sh is gone.  So before a layer is written, every
 * entry's path is resolved through the symlinks of the layers below (the
 * base's and the earlier stages'), as the kernel resolves a path: relative
 * and absolute targets, chains, ".." taken after a symlink is followed.
 * A directory entry follows a symlink even as its last component (it goes
 * into the directory the symlink names); any other entry replaces a symlink
 * at its own path, as a tar entry does.  An absolute target, and ".." at
 * the root, stay inside the image: resolution is chrooted to the image
 * root, as the kernel does for a process chrooted into it, so no path can
 * leave it.
 *
 * The tree is built from layer maps (layermap.h) with the semantics of an
 * overlay filesystem, which is how podman, Docker and containerd stack
 * layers: an entry replaces what was at its path (a directory merges with
 * a directory), a non-directory replaces a whole subtree, an entry's
 * parents are directories in its layer, and whiteouts delete.
 */
#ifndef DERRICK_SYMLINKS_H
#define DERRICK_SYMLINKS_H

#include "derrick/digest.h"
#include "derrick/entry.h"
#include "derrick/err.h"
#include "derrick/layermap.h"

/* The kernel's limit on symlinks followed in one resolution (MAXSYMLINKS). */
#define DK_SYMLINKS_MAX 40

struct dk_symview;

/* An empty tree (scratch); free with dk_symview_free (which takes NULL). */
struct dk_symview *dk_symview_new(void);
void dk_symview_free(struct dk_symview *v);

/* Lay the layer whose finished map is m over the tree; its paths get no owner (dk_symview_owner). */
void dk_symview_apply(struct dk_symview *v, const struct dk_layer_map *m);

/*
 * The same, and remember who wrote each path of m, for messages about a
 * later layer that writes it again: record i's owner is the NUL-terminated
 * label at labels + which[i] (which NULL: labels itself, for every record;
 * an offset >= len: none).  labels is len bytes of such labels, copied
 * once per layer, not per path.  A directory keeps the owner that first
 * made it; anything else takes its new writer's.  Owners are never part of
 * dk_symview_key.
 */
void dk_symview_apply_owned(struct dk_symview *v, const struct dk_layer_map *m, const char *labels, size_t len,
			    const size_t *which);

/*
 * Whether the tree has the in-image path `path` ("" for the root, no
 * leading '/') itself, its symlinks not followed: 1, or 0 with *link the
 * symlink met on the way (a new string: "bin" for "bin/sh" when /bin is a
 * symlink), and *target its target (owned by the tree), or *link NULL when
 * no symlink is in the way.
 */
int dk_symview_has(const struct dk_symview *v, const char *path, char **link, const char **target);

/*
 * The path that the in-image path `path` ("" for the root, no leading
 * '/') names after the tree's symlinks are followed: every component but
 * the last, and the last too when follow_last (a directory).  0 and *out
 * (a new, clean string: "usr/bin/tool"), or -1 with DK_E_SPEC when more
 * than DK_SYMLINKS_MAX symlinks are followed (a loop) or a symlink on the
 * way is empty.
 */
int dk_symview_resolve(const struct dk_symview *v, const char *path, int follow_last, char **out,
		       struct dk_err *err);

/*
 * Move the entries of a new layer (read from its source into dest, not yet
 * finished) to the paths the tree resolves them to, add the parent
 * directories those paths need (never one that is a symlink below), and
 * resolve hardlink targets the same way.  Containment is judged on the
 * resolved paths: an entry below dest must resolve inside what dest
 * resolves to, and an entry that moved must not land below a symlink of
 * its own layer.  0, with *key_text NULL when nothing moved, else a new
 * string naming the moves for the layer's build-cache key; or -1 with
 * DK_E_SPEC naming the entry.
 */
int dk_symview_place(const struct dk_symview *v, struct dk_entries *l, const char *dest, char **key_text,
		     struct dk_err *err);

/*
 * What of tree v could move the entries of a layer written into `dest`
 * (clean, no leading '/'), as a digest for the layer's build-cache key when
 * the key is made before the entries are read (source.h: key_from_plan):
 * where dest resolves to, every symlink or file on the way, and every
 * symlink at or below the resolved dest with its target and where it
 * leads.  Conservative: a tree that would move entries differently never
 * gives the same digest.  v NULL is the empty tree.  hex: 64 hex digits.
 */
void dk_symview_key(const struct dk_symview *v, const char *dest, char hex[DK_DIGEST_HEX + 1]);

/*
 * The names in directory `dir` (clean; its symlinks followed) of tree v:
 * 0 with *names (a new NULL-terminated array of new strings, free each and
 * it) and *n, both empty when there is no such directory (or v is NULL);
 * -1 with err set for a symlink loop.
 */
int dk_symview_children(const struct dk_symview *v, const char *dir, char ***names, size_t *n,
			struct dk_err *err);

/*
 * The owner label (dk_symview_apply_owned) of the in-image path `path`
 * ("" for the root, no leading '/', its symlinks not followed), owned by
 * the tree; NULL when a layer applied without owners (the base image's)
 * wrote it, when the tree has no such path, or when v is NULL.
 */
const char *dk_symview_owner(const struct dk_symview *v, const char *path);

#endif
