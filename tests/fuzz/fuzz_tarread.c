/*
 * fuzz_tarread.c - what derrick learns of a base layer, from untrusted
 * bytes (any registry's, or a cache's): the first byte picks the reader.
 * Even: the layer blob itself, read by its one reader (tarread.h:
 * libarchive decompresses and reads the tar, its bytes are checked against
 * a diff_id) into the layer's map, as both placing a layer and "delete"
 * use it; odd: a cached map, as a registry cache or the local cache hands
 * it back (dk_layer_map_decode), which must also survive being encoded and
 * decoded again.
 */
#include "fuzz.h"

#include "derrick/layermap.h"

/* The diff_id the seeds' maps were encoded for (tests/fuzz/make-seeds.py). */
#define MAP_DIFF_ID "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_layer_map m, again;
	struct dk_err err;
	const char *path;
	char *enc;
	size_t len;

	if (size < 1)
		return 0;
	dk_layer_map_init(&m);
	if (!(data[0] & 1)) {
		path = fuzz_file(data + 1, size - 1);
		if (!path)
			abort();
		(void)dk_layer_map_read_blob(path, MAP_DIFF_ID, &m, &err);
		dk_layer_map_release(&m);
		return 0;
	}
	if (dk_layer_map_decode((const char *)data + 1, size - 1, MAP_DIFF_ID, &m, &err) == 0) {
		/* what decodes is a map derrick would write: it must read back */
		enc = dk_layer_map_encode(&m, MAP_DIFF_ID, &len);
		dk_layer_map_init(&again);
		if (dk_layer_map_decode(enc, len, MAP_DIFF_ID, &again, &err) < 0 || again.n != m.n)
			abort();
		dk_layer_map_release(&again);
		free(enc);
	}
	dk_layer_map_release(&m);
	return 0;
}
