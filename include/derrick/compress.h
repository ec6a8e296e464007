/*
 * compress.h - the layer compressors, one table row per kind (in
 * src/layer/: gzip.c, zstd.c; the table in compress.c).  Callers pick a
 * row by the name a user wrote, by a layer's media type or by a blob's
 * first bytes, and reach the kind only through the functions below: no
 * kind name is compared anywhere else.
 */
#ifndef DERRICK_COMPRESS_H
#define DERRICK_COMPRESS_H

#include <stddef.h>

#include "derrick/sink.h"

/* The rows' media types, named here for the few places that map other media types to them. */
#define DK_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define DK_MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

/* The longest magic of any row: read this many bytes to pick a decompressor. */
#define DK_COMPRESS_MAGIC_MAX 4

struct archive;

struct dk_compressor {
	const char *name;               /* as the spec's "compression" and --compression say it */
	const char *media_type;         /* of the layers it writes */
	const char *magic;              /* the first bytes of every stream it writes */
	size_t magic_len;
	int default_level, min_level, max_level;        /* what users may ask for */
	/* A stage that compresses into next; threads change the speed, never the bytes. */
	struct dk_sink *(*compress)(struct dk_sink *next, int level, int threads);
	/* A stage that decompresses into next; `what` names the stream in its errors. */
	struct dk_sink *(*decompress)(struct dk_sink *next, const char *what);
	/*
	 * What names the compressor in build-cache keys: kind, level, block
	 * size and library version, since another version may write other
	 * bytes (a new string).  Part of every key: never change its text.
	 */
	char *(*cache_id)(int level);
	/*
	 * Let libarchive reader `a` undo it (an archive_read_support_filter_*):
	 * how stored layers are read (tarread.h).  ARCHIVE_OK, or libarchive's
	 * ARCHIVE_WARN when it would have to run an outside program.
	 */
	int (*read_filter)(struct archive *a);
};

/*
 * How layers are compressed.  Threads change the speed, never the bytes.
 * dk_build() turns a NULL kind into dk_compressor_default() and a level
 * <= 0 into the kind's default_level; the functions below need both set.
 */
struct dk_compress {
	const struct dk_compressor *kind;
	int level;
	int threads;            /* <= 0: one per core */
};

/* The compressor used when neither the spec nor a flag names one (gzip). */
const struct dk_compressor *dk_compressor_default(void);
/* The row called `name`, or NULL. */
const struct dk_compressor *dk_compressor_by_name(const char *name);
/* The row whose layers have media type `mt`, or NULL. */
const struct dk_compressor *dk_compressor_by_media_type(const char *mt);
/* The row whose magic begins the len bytes at buf (give it DK_COMPRESS_MAGIC_MAX when there are), or NULL. */
const struct dk_compressor *dk_compressor_by_magic(const void *buf, size_t len);
/*
 * Every row's name, each between two `quote`s, as a list for messages:
 * "\"gzip\" or \"zstd\"" (a new string).
 */
char *dk_compressor_names(const char *quote);

/*
 * Let libarchive reader `a` undo every compressor of the table, and no
 * other: a stored layer is read with these (tarread.h); libarchive's other
 * filters would run outside programs on what an untrusted blob's first
 * bytes name.  0, or -1 when libarchive lacks one of them.
 */
int dk_compressors_read_filters(struct archive *a);

/* c's compressing stage into next (c->kind and c->level set). */
struct dk_sink *dk_compress_sink(const struct dk_compress *c, struct dk_sink *next);
/*
 * kind's decompressing stage into next: what it is given, decompressed,
 * goes to next; a stream that is not kind's fails with DK_E_CORRUPT and a
 * message naming `what` (a file, a blob).
 */
struct dk_sink *dk_decompress_sink(const struct dk_compressor *kind, struct dk_sink *next, const char *what);
/* c's text in build-cache keys (a new string). */
char *dk_compress_id(const struct dk_compress *c);

#endif
