/*
 * lcache.h - the local build cache: a layer whose inputs did not change is
 * neither read, tarred nor compressed again.
 *
 * A layer's key is a SHA-256 over everything that decides its bytes: the
 * layer format version, the compressor and its settings, the layer's
 * options, and for every entry its path, type, mode, owner, size, link
 * target and content hash.  Content hashes come cheap on a rebuild: each
 * source keeps a stat record (path, size, mode, mtime and ctime in ns,
 * inode) and a file whose stat matches its record keeps its hash; only
 * files whose stat moved are read again (a fresh git checkout reads every
 * file once, and still hits when the contents are the same).  A record is
 * only kept for a file whose stat must move on its next write (see racy()).
 *
 * A tar layer's key has the tar's own SHA-256 instead of the entries,
 * taken by its reader from the very bytes that filled the spool.
 *
 * An entry never lies: the tar writer checks every file it copies against
 * the content hash its key was made of (and its stat against the walk's),
 * so a file that changed between the key and the layer fails the layer
 * (DK_E_CHANGED) before anything is stored; the caller reads the source
 * again (dk_lcache_forget first) or gives up.
 *
 * Layout under the cache directory:
 *   blobs/sha256/<hex>     layer blobs (shared with the registry blob cache)
 *   layers/<key hex>       {"digest","diff_id","size","media_type"}
 *   stat/<hex>             stat records of one source (tab-separated)
 *   maps/<diff_id hex>     the layer map (layermap.h) of a layer, by its diff_id
 * Every file is written to a temporary name and renamed, so concurrent
 * builds are safe; an entry that is missing, unreadable or whose blob is
 * gone or corrupt is a miss, and is rebuilt.
 */
#ifndef DERRICK_LCACHE_H
#define DERRICK_LCACHE_H

#include "derrick/blobs.h"
#include "derrick/entry.h"
#include "derrick/err.h"
#include "derrick/layer.h"

struct dk_lcache;

int dk_lcache_open(const char *dir, struct dk_lcache **out, struct dk_err *err);
void dk_lcache_close(struct dk_lcache *c);
const struct dk_blobs *dk_lcache_blobs(const struct dk_lcache *c);

/*
 * The key of a layer made of the finished entry list `l` (read from
 * `source`, a directory, file or tar) with the settings in `options`
 * (any text that names them all).  Fills each file entry's content hash:
 * from the stat records, else by reading the file (or the spool).  A file
 * that changed since the walk is DK_E_CHANGED, naming it.
 */
int dk_lcache_key(struct dk_lcache *c, const char *source, struct dk_entries *l,
		  const char *options, char key[DK_DIGEST_SIZE], struct dk_err *err);

/* Drop the stat records of `source`: its next key reads every file. */
void dk_lcache_forget(struct dk_lcache *c, const char *source);

/* 1 and res filled when the key has a whole, verified blob; 0 for a miss. */
int dk_lcache_get(struct dk_lcache *c, const char *key, struct dk_layer_result *res);
int dk_lcache_put(struct dk_lcache *c, const char *key, const struct dk_layer_result *res,
		  struct dk_err *err);

/*
 * Layer maps by diff_id: the bytes dk_layer_map_encode gives, which the
 * cache stores and returns without reading them (the reader checks them).
 * get: 1 and *buf (a new buffer of *len bytes) when there is one, else 0.
 */
int dk_lcache_has_map(struct dk_lcache *c, const char *diff_id);
int dk_lcache_get_map(struct dk_lcache *c, const char *diff_id, char **buf, size_t *len);
int dk_lcache_put_map(struct dk_lcache *c, const char *diff_id, const char *buf, size_t len,
		      struct dk_err *err);

/* Remove least recently used blobs and entries until the cache is at most max_bytes. */
int dk_lcache_prune(const char *dir, uint64_t max_bytes, uint64_t *freed, struct dk_err *err);

#endif
