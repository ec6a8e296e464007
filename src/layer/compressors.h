/*
 * compressors.h - the rows of the compressor table (compress.c), each
 * defined in its kind's file.  Private: everyone else goes through the
 * lookups in derrick/compress.h.
 */
#ifndef DERRICK_COMPRESSORS_H
#define DERRICK_COMPRESSORS_H

#include "derrick/compress.h"

extern const struct dk_compressor dk_compressor_gzip;  /* gzip.c */
extern const struct dk_compressor dk_compressor_zstd;  /* zstd.c */

#endif
