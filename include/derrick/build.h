/*
 * build.h - `derrick build` as a library call: spec -> plan -> layers ->
 * config and manifest -> every destination.
 */
#ifndef DERRICK_BUILD_H
#define DERRICK_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/err.h"
#include "derrick/layer.h"
#include "derrick/plan.h"
#include "derrick/transport.h"

struct dk_build_opts {
	const char *spec_path;
	struct dk_plan_opts plan;
	struct dk_compress compress;    /* kind, level and threads */
	int compress_kind_set;          /* --compression given: it wins over the spec's "compression" */
	int no_cache;                   /* --no-cache: neither use nor fill the build caches */
	const char *cache_repo;         /* --cache-repo docker://HOST/REPO (else the spec's cache_repo) */
	int cache_mode;                 /* DK_RCACHE_READ | DK_RCACHE_WRITE; 0 means both */
	int cache_verify;               /* --cache-verify: check the diff_id of every registry hit */
	struct dk_transport_opts transport;     /* cache_dir is also the build cache's home */
	const char *const *outputs;     /* references, e.g. "oci:out:latest" */
	size_t n_outputs;
	const char *const *own_files;   /* NULL or NULL-terminated: what the caller writes too (--digest-file) */
	/*
	 * Several platforms (2 or more): one image each, in an image index; 0
	 * for one image, for plan.platform.  Their order does not matter: the
	 * index lists them sorted.
	 */
	const struct dk_platform *platforms;
	size_t n_platforms;
};

struct dk_built_layer {
	char *stage;                    /* "base" for inherited layers */
	char *created_by;
	struct dk_desc desc;
	char diff_id[DK_DIGEST_SIZE];
	const char *cache;              /* "local", "registry" (cache hits), "built", or NULL for base layers */
	char *blob_path;                /* where the blob is (staging or cache), or NULL */
	struct dk_image_src *remote;          /* where it can be mounted or fetched from, or NULL (not owned) */
};

struct dk_build_result {
	struct dk_desc manifest;
	struct dk_desc config;
	struct dk_built_layer *layers;
	size_t n_layers;
	char *version;
	char *revision;
	char platform[100];
	size_t compressed;              /* layers tarred and compressed by this build (each once) */
	/*
	 * A multi-platform build: manifest is the index's, and each image's
	 * result is here, in the index's order (their version and revision
	 * NULL); config, layers and platform are empty.
	 */
	struct dk_build_result *images;
	size_t n_images;
};

int dk_build(const struct dk_build_opts *o, struct dk_build_result *res, struct dk_err *err);
void dk_build_result_free(struct dk_build_result *res);

/*
 * `derrick lock KEY`: every layer of the spec (o->spec_path) whose kind's
 * spec key is `key` ("debs") writes its lock, resolved for each platform
 * of o (o->platforms, else o->plan.platform) on that platform's base
 * image, with o's registry options; the build cache's blob store (unless
 * o->no_cache) keeps what is downloaded.  *n_locked is the number of
 * entries locked.  0, or -1 with err set: DK_E_USAGE for a kind without a
 * lock step, DK_E_SPEC for a spec without such a layer, else the row's.
 */
int dk_build_lock(const struct dk_build_opts *o, const char *key, size_t *n_locked, struct dk_err *err);

#endif
