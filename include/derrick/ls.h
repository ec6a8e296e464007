/*
 * ls.h - what a layer holds, entry by entry, and what the image's
 * filesystem is once its layers are applied in order with their whiteouts.
 */
#ifndef DERRICK_LS_H
#define DERRICK_LS_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/err.h"
#include "derrick/transport.h"

struct json_t;

struct dk_ls_entry {
	char *path;             /* cleaned: no leading "/" or "./", no trailing '/'; whiteouts keep ".wh." */
	char type;              /* 'f' file, 'd' dir, 'l' symlink, 'h' hardlink, 'c'/'b' device, 'p' fifo, 's' socket */
	unsigned mode;          /* permission bits, 07777 */
	uint64_t uid, gid;
	uint64_t size;          /* bytes of content (0 for all but files) */
	char *link;             /* a symlink's target, a hardlink's (cleaned) path; else NULL */
	size_t seq;             /* the order read in: of two entries with one path, the later wins */
	int gone;               /* removed by a later layer (during dk_ls_apply) */
};

struct dk_ls {
	struct dk_ls_entry *v;
	size_t n, alloc;
	size_t next_seq;
};

void dk_ls_free(struct dk_ls *l);

/*
 * Append the entries of the layer blob file `blob` to *out, in tar order:
 * the blob is decompressed through the compressor its first bytes name
 * (or read as a plain tar) and its tar read by libarchive.  When diff_id is
 * not NULL the uncompressed bytes must have it.  0, or -1 with err set
 * (DK_E_CORRUPT for a blob that does not decompress, is no tar, or has
 * another diff_id).
 */
int dk_ls_read_blob(const char *blob, const char *diff_id, struct dk_ls *out, struct dk_err *err);

/*
 * Lay `layer` (one layer's entries, as read) over `fs` (the filesystem of
 * the layers below, sorted by path), as a container runtime does: its
 * whiteouts (".wh.NAME" removes NAME and all below it, ".wh..wh..opq"
 * empties its directory) remove entries of the layers below only; its
 * other entries are added, replacing entries of the same path, and a
 * non-directory removes what was below a directory of its path.  fs stays
 * sorted by path (bytewise); `layer` is emptied.
 */
void dk_ls_apply(struct dk_ls *fs, struct dk_ls *layer);

/* Which entries dk_ls lists. */
struct dk_ls_opts {
	const char *layer;      /* "N" (from 0, the manifest's order), a layer digest or diff_id (or a
				 * unique prefix of its hex); NULL: every layer */
	int merged;             /* the final filesystem instead of layers */
};

/*
 * List the image `text` names (an index resolved to `want`): 0 and *out, a
 * JSON document the caller owns, {image, manifest_digest, layers: [{index,
 * digest, diff_id, entries}]} or, merged, {image, manifest_digest,
 * entries}; each entry {path, type ("file", "dir", "symlink", "hardlink",
 * "char", "block", "fifo", "socket"), mode, uid, gid, size, link (null
 * when none)}.  Only the layers needed are read, each checked against its
 * diff_id.  -1 with err set (DK_E_USAGE for a layer that is not there).
 */
int dk_ls(const char *text, const struct dk_platform *want, const struct dk_transport_opts *o,
	  const struct dk_ls_opts *lo, struct json_t **out, struct dk_err *err);

/* The letter of dk_ls_entry.type for a type's name in dk_ls's JSON ("symlink": 'l'), or '?'. */
char dk_ls_type_letter(const char *name);

#endif
