/*
 * compress.c - the table of layer compressors and the lookups into it.
 * A new kind is a file with its row and stages, plus one line here.
 */
#include <string.h>

#include "derrick/compress.h"
#include "derrick/util.h"
#include "compressors.h"

/* The first row is the default. */
static const struct dk_compressor *const table[] = {
	&dk_compressor_gzip,
	&dk_compressor_zstd,
};

#define N_ROWS (sizeof(table) / sizeof(*table))

const struct dk_compressor *dk_compressor_default(void)
{
	return table[0];
}

const struct dk_compressor *dk_compressor_by_name(const char *name)
{
	for (size_t i = 0; i < N_ROWS; i++)
		if (!strcmp(table[i]->name, name))
			return table[i];
	return NULL;
}

const struct dk_compressor *dk_compressor_by_media_type(const char *mt)
{
	for (size_t i = 0; i < N_ROWS; i++)
		if (!strcmp(table[i]->media_type, mt))
			return table[i];
	return NULL;
}

const struct dk_compressor *dk_compressor_by_magic(const void *buf, size_t len)
{
	for (size_t i = 0; i < N_ROWS; i++)
		if (len >= table[i]->magic_len && !memcmp(buf, table[i]->magic, table[i]->magic_len))
			return table[i];
	return NULL;
}

char *dk_compressor_names(const char *quote)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < N_ROWS; i++)
		sb_addf(&sb, "%s%s%s%s", i == 0 ? "" : i + 1 < N_ROWS ? ", " : " or ", quote, table[i]->name,
			quote);
	return sb_detach(&sb);
}

int dk_compressors_read_filters(struct archive *a)
{
	int rc = 0;

	for (size_t i = 0; i < N_ROWS; i++)
		if (table[i]->read_filter(a) != 0)
			rc = -1;
	return rc;
}

struct dk_sink *dk_compress_sink(const struct dk_compress *c, struct dk_sink *next)
{
	return c->kind->compress(next, c->level, c->threads);
}

struct dk_sink *dk_decompress_sink(const struct dk_compressor *kind, struct dk_sink *next, const char *what)
{
	return kind->decompress(next, what);
}

char *dk_compress_id(const struct dk_compress *c)
{
	return c->kind->cache_id(c->level);
}
