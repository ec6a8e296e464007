/*
 * verify.c - check every blob an image references, and go on after a
 * problem: the point is the whole list, so one damaged blob must not hide
 * the next.  Blobs are reached only through the transport wrappers, so any
 * transport can be verified; each distinct blob is checked once, however
 * many manifests of an index share it.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "derrick/compress.h"
#include "derrick/image.h"
#include "derrick/layer.h"
#include "derrick/util.h"
#include "derrick/verify.h"

/* An index inside an index inside ...: deeper than this is refused rather than followed. */
#define MAX_DEPTH 4

struct seen {
	char digest[DK_DIGEST_SIZE];
	uint64_t size;
	char media_type[128];
};

struct run {
	struct dk_image_src *src;
	const char *where;
	struct dk_verify_report *r;
	struct seen *seen;
	size_t n_seen;
};

static void problem(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct run *run, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	char *line;

	va_start(ap, fmt);
	line = NULL;
	if (vasprintf(&line, fmt, ap) < 0)
		dk_oom("verify");
	va_end(ap);
	/* one line each, whatever a message carried */
	for (char *p = line; *p; p++)
		sb_addc(&sb, *p == '\n' ? ' ' : *p);
	free(line);
	run->r->problems = dk_xrealloc(run->r->problems, (run->r->n_problems + 1) * sizeof(char *));
	run->r->problems[run->r->n_problems++] = sb_detach(&sb);
}

/* 1 when the same descriptor was checked before (its problems are listed once); else remembers it. */
static int checked_before(struct run *run, const struct dk_desc *d)
{
	for (size_t i = 0; i < run->n_seen; i++)
		if (!strcmp(run->seen[i].digest, d->digest) && run->seen[i].size == d->size &&
		    !strcmp(run->seen[i].media_type, d->media_type))
			return 1;
	run->seen = dk_xrealloc(run->seen, (run->n_seen + 1) * sizeof(*run->seen));
	memcpy(&run->seen[run->n_seen].digest, d->digest, DK_DIGEST_SIZE);
	run->seen[run->n_seen].size = d->size;
	memcpy(&run->seen[run->n_seen].media_type, d->media_type, sizeof(d->media_type));
	run->n_seen++;
	return 0;
}

/* The blob d is there with its digest and size: 0 and *path (a local file), or -1 after listing why not. */
static int check_blob(struct run *run, const struct dk_desc *d, const char *role, char **path)
{
	struct dk_err err = { 0 };
	int has = dk_image_src_has_blob(run->src, d, &err);

	if (has == 0) {
		problem(run, "%s: %s %s is missing", run->where, role, d->digest);
		return -1;
	}
	if (has < 0 || dk_image_src_blob_file(run->src, d, path, &err) < 0) {
		problem(run, "%s (%s)", err.msg, role);
		return -1;
	}
	run->r->blobs++;
	run->r->bytes += d->size;
	return 0;
}

/* The compressor whose magic starts the file, or NULL (none, or unreadable: the diff_id check says why). */
static const struct dk_compressor *kind_of_file(const char *path)
{
	unsigned char magic[DK_COMPRESS_MAGIC_MAX];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : dk_read(fd, magic, sizeof(magic));

	if (fd >= 0)
		close(fd);
	return n > 0 ? dk_compressor_by_magic(magic, (size_t)n) : NULL;
}

static void check_layer(struct run *run, const struct dk_desc *d, size_t i, const char *diff_id)
{
	const struct dk_compressor *says, *is;
	char role[64], got[DK_DIGEST_SIZE];
	struct dk_err err = { 0 };
	char *path = NULL;

	snprintf(role, sizeof(role), "layer %zu", i);
	if (!dk_layer_media_known(d->media_type))
		problem(run, "%s: %s %s: media type %s is not a layer's", run->where, role, d->digest, d->media_type);
	if (checked_before(run, d) || check_blob(run, d, role, &path) < 0)
		return;
	says = dk_compressor_by_media_type(dk_layer_media_oci(d->media_type));
	is = kind_of_file(path);
	if (dk_layer_media_known(d->media_type) && says != is)
		problem(run, "%s: %s %s: its media type %s says %s, its bytes are %s", run->where, role, d->digest,
			d->media_type, says ? says->name : "uncompressed", is ? is->name : "not compressed");
	if (dk_layer_read(path, NULL, got, &err) < 0)
		problem(run, "%s: %s %s: %s", run->where, role, d->digest, err.msg);
	else if (!diff_id)
		problem(run, "%s: %s %s: the config has no diff_id for it (it unpacks to %s)", run->where, role,
			d->digest, got);
	else if (strcmp(got, diff_id))
		problem(run, "%s: %s %s unpacks to %s, not to its diff_id %s", run->where, role, d->digest, got,
			diff_id);
	free(path);
}

/* The config blob, read and parsed: a JSON object, or NULL after listing why not. */
static json_t *read_config(struct run *run, const struct dk_desc *d)
{
	struct dk_err err = { 0 };
	char *path = NULL, *buf = NULL;
	size_t len;
	json_t *cfg = NULL;

	if (!dk_media_is_image_config(d->media_type))
		problem(run, "%s: config %s: media type %s is not an image config's", run->where, d->digest,
			d->media_type);
	if (check_blob(run, d, "config", &path) < 0)
		return NULL;
	free(path);
	if (dk_doc_check_size(DK_DOC_CONFIG, run->where, d->digest, d->size, &err) < 0 ||
	    dk_image_src_read_blob(run->src, d, DK_CONFIG_MAX, &buf, &len, &err) < 0) {
		problem(run, "%s", err.msg);
		return NULL;
	}
	cfg = json_loadb(buf, len, 0, NULL);
	free(buf);
	if (!json_is_object(cfg) || !json_is_array(json_object_get(json_object_get(cfg, "rootfs"), "diff_ids"))) {
		problem(run, "%s: config %s: not an image config (no rootfs.diff_ids)", run->where, d->digest);
		json_decref(cfg);
		return NULL;
	}
	return cfg;
}

/* The document's own mediaType, when it has one, must be its descriptor's. */
static void check_own_media_type(struct run *run, json_t *doc, const struct dk_desc *d)
{
	const char *own = json_string_value(json_object_get(doc, "mediaType"));

	if (own && strcmp(own, d->media_type))
		problem(run, "%s: %s: its mediaType is %s, its descriptor says %s", run->where, d->digest, own,
			d->media_type);
}

static void check_manifest(struct run *run, const struct dk_manifest_blob *mb)
{
	struct dk_err err = { 0 };
	struct dk_manifest m;
	json_t *cfg, *ids;

	if (dk_manifest_parse(mb, run->where, &m, &err) < 0) {
		problem(run, "%s", err.msg);
		return;
	}
	check_own_media_type(run, m.root, &mb->desc);
	if (m.artifact_type) {
		/* an artifact's blobs are of any type: that they are there and whole is all there is to check */
		char *path = NULL;

		if (!checked_before(run, &m.config) && check_blob(run, &m.config, "config", &path) == 0)
			free(path);
		for (size_t i = 0; i < m.n_layers; i++) {
			path = NULL;
			if (!checked_before(run, &m.layers[i]) && check_blob(run, &m.layers[i], "blob", &path) == 0)
				free(path);
		}
		dk_manifest_free(&m);
		return;
	}
	cfg = checked_before(run, &m.config) ? NULL : read_config(run, &m.config);
	ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	if (cfg && json_array_size(ids) != m.n_layers)
		problem(run, "%s: config %s lists %zu diff_ids for the %zu layers of manifest %s", run->where,
			m.config.digest, json_array_size(ids), m.n_layers, mb->desc.digest);
	for (size_t i = 0; i < m.n_layers; i++)
		check_layer(run, &m.layers[i], i, cfg ? json_string_value(json_array_get(ids, i)) : NULL);
	json_decref(cfg);
	dk_manifest_free(&m);
}

static void check_document(struct run *run, const struct dk_manifest_blob *mb, int depth);

/*
 * An index entry's document: from the blob store, or, from a registry
 * (whose blob endpoint need not serve manifests), by asking for the
 * entry's platform.  0 and *out, or -1 after listing why not.
 */
static int read_entry(struct run *run, json_t *entry, const struct dk_desc *d, struct dk_manifest_blob *out)
{
	struct dk_err err = { 0 }, err2 = { 0 };
	struct dk_platform p;

	memset(out, 0, sizeof(*out));
	if (dk_doc_check_size(dk_doc_of_media(d->media_type), run->where, d->digest, d->size, &err) == 0 &&
	    dk_image_src_read_blob(run->src, d, DK_MANIFEST_MAX, &out->bytes, &out->len, &err) == 0) {
		out->desc = *d;
		return 0;
	}
	if (err.code == DK_E_NOTFOUND && dk_ref_is_remote(&run->src->ref) &&
	    dk_platform_from_json(json_object_get(entry, "platform"), &p) == 0 &&
	    dk_image_src_get_manifest(run->src, &p, out, &err2) == 0) {
		if (!strcmp(out->desc.digest, d->digest) && out->len == d->size)
			return 0;
		dk_manifest_blob_free(out);
	}
	problem(run, "%s: manifest %s: %s", run->where, d->digest, err.msg);
	return -1;
}

static void check_index(struct run *run, const struct dk_manifest_blob *mb, int depth)
{
	json_t *root = json_loadb(mb->bytes, mb->len, 0, NULL), *ms = json_object_get(root, "manifests"), *e;
	size_t i;

	if (!json_is_array(ms)) {
		problem(run, "%s: index %s has no manifests array", run->where, mb->desc.digest);
		json_decref(root);
		return;
	}
	check_own_media_type(run, root, &mb->desc);
	json_array_foreach(ms, i, e) {
		struct dk_err err = { 0 };
		struct dk_manifest_blob child;
		struct dk_desc d;

		if (dk_desc_from_json(e, run->where, &d, &err) < 0) {
			problem(run, "%s: index %s, entry %zu: %s", run->where, mb->desc.digest, i, err.msg);
			continue;
		}
		if (!dk_media_is_manifest(d.media_type) && !dk_media_is_index(d.media_type)) {
			problem(run, "%s: index %s lists %s with media type %s, not a manifest's", run->where,
				mb->desc.digest, d.digest, d.media_type);
			continue;
		}
		if (checked_before(run, &d) || read_entry(run, e, &d, &child) < 0)
			continue;
		check_document(run, &child, depth + 1);
		dk_manifest_blob_free(&child);
	}
	json_decref(root);
}

static void check_document(struct run *run, const struct dk_manifest_blob *mb, int depth)
{
	run->r->manifests++;
	if (!dk_media_is_index(mb->desc.media_type))
		check_manifest(run, mb);
	else if (depth >= MAX_DEPTH)
		problem(run, "%s: index %s: indexes nested deeper than %d", run->where, mb->desc.digest, MAX_DEPTH);
	else
		check_index(run, mb, depth);
}

int dk_verify(const char *text, const struct dk_transport_opts *o, struct dk_verify_report *out,
	      struct dk_err *err)
{
	struct dk_ref ref;
	struct run run = { NULL, text, out, NULL, 0 };
	struct dk_manifest_blob top;
	struct dk_err e = { 0 };

	memset(out, 0, sizeof(*out));
	if (dk_ref_parse(text, &ref, err) < 0)
		return -1;
	if (dk_image_src_open(&ref, o, &run.src, err) < 0) {
		dk_ref_free(&ref);
		return -1;
	}
	/* from here on, what cannot be read is a problem found, not a reason to stop */
	if (dk_image_src_get_manifest(run.src, NULL, &top, &e) < 0) {
		problem(&run, "%s", e.msg);
	} else {
		check_document(&run, &top, 0);
		dk_manifest_blob_free(&top);
	}
	free(run.seen);
	dk_image_src_close(run.src);
	dk_ref_free(&ref);
	return 0;
}

void dk_verify_report_free(struct dk_verify_report *r)
{
	for (size_t i = 0; i < r->n_problems; i++)
		free(r->problems[i]);
	free(r->problems);
	memset(r, 0, sizeof(*r));
}
