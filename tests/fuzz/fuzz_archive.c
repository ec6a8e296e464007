/*
 * fuzz_archive.c - an archive file, untrusted (anyone's download): the
 * first byte picks how it is read, even as a docker-archive, odd as an
 * oci-archive.  Unpacked with libarchive, its manifest (manifest.json, or
 * index.json and the layout) read, and its config and layers asked for.
 */
#include "fuzz.h"

#include <stdio.h>

#include "derrick/image.h"
#include "derrick/platform.h"
#include "derrick/transport.h"

static char cache[64];

static void cache_remove(void)
{
	dk_rm_rf(cache);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_transport_opts o;
	struct dk_image_src *src = NULL;
	struct dk_manifest_blob mb;
	struct dk_manifest m;
	struct dk_platform any = { "linux", "amd64", "" };
	struct dk_ref ref;
	struct dk_err err;
	const char *path;
	char *text, *buf, *blob;
	size_t len;

	if (size < 1)
		return 0;
	if (!cache[0]) {
		strcpy(cache, "/tmp/derrick-fuzz-cache-XXXXXX");
		if (!mkdtemp(cache))
			abort();
		atexit(cache_remove);
	}
	path = fuzz_file(data + 1, size - 1);
	if (!path)
		abort();
	memset(&o, 0, sizeof(o));
	o.cache_dir = cache;
	text = dk_xasprintf("%s:%s", data[0] & 1 ? "oci-archive" : "docker-archive", path);
	if (dk_ref_parse(text, &ref, &err) < 0)
		abort();
	memset(&mb, 0, sizeof(mb));
	if (dk_image_src_open(&ref, &o, &src, &err) == 0 && dk_image_src_get_manifest(src, &any, &mb, &err) == 0 &&
	    dk_manifest_parse(&mb, text, &m, &err) == 0) {
		if (dk_image_src_read_blob(src, &m.config, DK_CONFIG_MAX, &buf, &len, &err) == 0)
			free(buf);
		for (size_t i = 0; i < m.n_layers; i++)
			if (dk_image_src_blob_file(src, &m.layers[i], &blob, &err) == 0)
				free(blob);
		dk_manifest_free(&m);
	}
	dk_manifest_blob_free(&mb);
	dk_image_src_close(src);
	dk_ref_free(&ref);
	free(text);
	return 0;
}
