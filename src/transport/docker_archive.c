/*
 * docker_archive.c - the "docker-archive:FILE[:NAME[:TAG]]" transport: the
 * tar `docker save` writes and `docker load` / `podman load` read.
 *
 *   manifest.json      [{"Config": "<hex>.json", "RepoTags": [...], "Layers": [...]}]
 *   repositories       {"NAME": {"TAG": "<hex of the top layer's diff_id>"}}, when named
 *   <hex>.json         the config, named by its digest
 *   <hex>.tar          each layer uncompressed, named by its diff_id
 *
 * As skopeo does: NAME without a TAG means NAME:latest, RepoTags holds
 * the familiar name ("app:1.0", "example.com/org/app:1.0"); without a
 * NAME, RepoTags is empty (the image loads untagged) and no repositories
 * file is written.  No legacy per-layer directories: loaders read
 * manifest.json.  Writing replaces FILE (archive.h: sorted entries, fixed
 * headers, a temporary file renamed over it); one image, so an index is
 * refused.
 *
 * Read, an entry of manifest.json (the one RepoTags names, or the only one)
 * is presented as an OCI manifest: the config's bytes as they are (so the
 * image ID, the config digest, stays), each layer as its member's bytes,
 * with the media type its first bytes say (an uncompressed tar, whose
 * digest is its diff_id, or gzip or zstd as newer writers may store).  An
 * uncompressed layer whose digest is not its config's diff_id is refused.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "archive.h"
#include "derrick/compress.h"
#include "derrick/config.h"
#include "derrick/image.h"
#include "derrick/layer.h"
#include "derrick/transport.h"
#include "derrick/util.h"

#define MT_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"

/* ------------------------------------------------------------ references */

int dk_docker_archive_parse(const char *text, const char *rest, struct dk_ref *r, struct dk_err *err)
{
	const char *colon = strchr(rest, ':');

	if ((colon ? (size_t)(colon - rest) : strlen(rest)) == 0)
		return dk_fail(err, DK_E_REF, "image reference \"%s\": the archive file name is empty", text);
	if (colon) {
		if (dk_dockerref_parse(colon + 1, &r->docker, err) < 0)
			return dk_err_prefix(err, "image reference \"%s\"", text);
		if (r->docker.digest)
			return dk_fail(err, DK_E_REF, "image reference \"%s\": a docker-archive names images by NAME:TAG, not by digest",
				       text);
		if (!r->docker.tag)
			r->docker.tag = dk_xstrdup("latest");
	}
	r->path = colon ? dk_xstrndup(rest, (size_t)(colon - rest)) : dk_xstrdup(rest);
	return 0;
}

/* The name as docker shows it: "app" for docker.io/library/app, else REGISTRY/REPO without docker.io. */
static char *familiar_name(const struct dk_dockerref *d)
{
	if (strcmp(d->registry, "docker.io"))
		return dk_xasprintf("%s/%s", d->registry, d->repository);
	if (!strncmp(d->repository, "library/", 8) && !strchr(d->repository + 8, '/'))
		return dk_xstrdup(d->repository + 8);
	return dk_xstrdup(d->repository);
}

char *dk_docker_archive_format(const struct dk_ref *r, const char *path, const char *tag)
{
	char *name, *s;

	if (!path)
		path = r->path;
	if (!r->docker.repository)
		return dk_xasprintf("%s%s", r->transport->prefix, path);
	name = familiar_name(&r->docker);
	s = dk_xasprintf("%s%s:%s:%s", r->transport->prefix, path, name, tag ? tag : r->docker.tag);
	free(name);
	return s;
}

/* ------------------------------------------------------------ source */

struct da_src {
	struct dk_image_src base;
	struct arch_r ar;
	struct dk_manifest_blob manifest;
};

/* 1 when the RepoTags entry `t` names the same image as ref (both normalised). */
static int names_ref(const char *t, const struct dk_ref *ref)
{
	struct dk_dockerref d;
	struct dk_err ignored;
	int same;

	if (dk_dockerref_parse(t, &d, &ignored) < 0)
		return 0;
	same = !strcmp(d.registry, ref->docker.registry) && !strcmp(d.repository, ref->docker.repository) &&
	       !strcmp(d.tag ? d.tag : "latest", ref->docker.tag);
	dk_dockerref_free(&d);
	return same;
}

/* The entry of manifest.json the reference names. */
static json_t *pick_entry(json_t *list, const struct dk_ref *ref, const char *file, struct dk_err *err)
{
	struct strbuf names = STRBUF_INIT;
	json_t *e, *t, *found = NULL;
	size_t i, j;

	json_array_foreach(list, i, e) {
		json_array_foreach(json_object_get(e, "RepoTags"), j, t) {
			if (json_is_string(t) && ref->docker.repository && names_ref(json_string_value(t), ref))
				found = found ? found : e;
			if (json_is_string(t))
				sb_join(&names, ", ", json_string_value(t));
		}
	}
	if (!ref->docker.repository && json_array_size(list) == 1)
		found = json_array_get(list, 0);
	if (!found) {
		if (ref->docker.repository) {
			char *name = familiar_name(&ref->docker);

			dk_fail(err, DK_E_NOTFOUND, "%s: %s holds no image named %s:%s (names: %s)", ref->text, file,
				name, ref->docker.tag, names.len ? names.buf : "none");
			free(name);
		} else
			dk_fail(err, DK_E_NOTFOUND, "%s: %s holds %zu images: name one with :NAME:TAG (names: %s)",
				ref->text, file, json_array_size(list), names.len ? names.buf : "none");
	}
	sb_release(&names);
	return found;
}

/* The member named by manifest.json's field `what` (a string). */
static const struct arch_member *member_of(struct da_src *s, json_t *name, const char *what, struct dk_err *err)
{
	const struct arch_member *m = json_is_string(name) ? arch_r_find(&s->ar, json_string_value(name)) : NULL;

	if (!json_is_string(name))
		dk_fail(err, DK_E_CORRUPT, "%s: %s member manifest.json: %s is not a file name", s->base.ref.text,
			s->ar.file, what);
	else if (!m)
		dk_fail(err, DK_E_CORRUPT, "%s: %s has no member %s (%s in manifest.json)", s->base.ref.text,
			s->ar.file, json_string_value(name), what);
	return m;
}

/* A layer member's descriptor: its media type from its first bytes. */
static int layer_desc(struct da_src *s, const struct arch_member *m, const char *diff_id, struct dk_desc *d,
		      struct dk_err *err)
{
	unsigned char magic[DK_COMPRESS_MAGIC_MAX];
	const struct dk_compressor *kind;
	int fd = open(m->path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, magic, sizeof(magic), 0);

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return dk_fail_errno(err, DK_E_IO, "%s: %s member %s", s->base.ref.text, s->ar.file, m->name);
	kind = dk_compressor_by_magic(magic, (size_t)n);
	snprintf(d->media_type, sizeof(d->media_type), "%s", kind ? kind->media_type : MT_LAYER_TAR);
	memcpy(d->digest, m->digest, DK_DIGEST_SIZE);
	d->size = m->size;
	if (!kind && strcmp(m->digest, dk_str_or(diff_id, "")))
		return dk_fail(err, DK_E_CORRUPT, "%s: %s member %s is %s, but the config's diff_id for it is %s",
			       s->base.ref.text, s->ar.file, m->name, m->digest, dk_str_or(diff_id, "missing"));
	return 0;
}

/* The OCI manifest of the entry the reference names. */
static int make_manifest(struct da_src *s, struct dk_err *err)
{
	const char *what = s->base.ref.text;
	const struct arch_member *mm = arch_r_find(&s->ar, "manifest.json"), *cm;
	json_t *list = NULL, *entry, *layers, *cfg = NULL, *ids;
	struct dk_desc config, *descs = NULL;
	json_error_t jerr;
	size_t n = 0;
	char *buf = NULL;
	size_t len;
	int rc = -1;

	if (!mm)
		return dk_fail(err, DK_E_CORRUPT, "%s: %s has no member manifest.json (not a docker-archive)", what,
			       s->ar.file);
	if (dk_read_file(mm->path, DK_MANIFEST_MAX, &buf, &len, err) < 0)
		goto out;
	list = json_loadb(buf, len, 0, &jerr);
	free(buf);
	buf = NULL;
	if (!json_is_array(list)) {
		dk_fail(err, DK_E_CORRUPT, "%s: %s member manifest.json: %s", what, s->ar.file,
			list ? "not a list" : jerr.text);
		goto out;
	}
	if (!(entry = pick_entry(list, &s->base.ref, s->ar.file, err)) ||
	    !(cm = member_of(s, json_object_get(entry, "Config"), "Config", err)))
		goto out;
	layers = json_object_get(entry, "Layers");
	n = json_array_size(layers);
	strcpy(config.media_type, DK_MT_OCI_CONFIG);
	memcpy(config.digest, cm->digest, DK_DIGEST_SIZE);
	config.size = cm->size;
	if (dk_doc_check_size(DK_DOC_CONFIG, what, config.digest, config.size, err) < 0 ||
	    dk_read_file(cm->path, DK_CONFIG_MAX, &buf, &len, err) < 0)
		goto out;
	cfg = json_loadb(buf, len, 0, &jerr);
	ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	if (!cfg || json_array_size(ids) != n) {
		dk_fail(err, DK_E_CORRUPT, "%s: %s member %s: %s", what, s->ar.file, cm->name,
			cfg ? "its rootfs.diff_ids do not match manifest.json's Layers" : jerr.text);
		goto out;
	}
	descs = dk_xcalloc(n + 1, sizeof(*descs));
	for (size_t i = 0; i < n; i++) {
		char label[32];
		const struct arch_member *lm;

		snprintf(label, sizeof(label), "Layers[%zu]", i);
		if (!(lm = member_of(s, json_array_get(layers, i), label, err)) ||
		    layer_desc(s, lm, json_string_value(json_array_get(ids, i)), &descs[i], err) < 0)
			goto out;
	}
	s->manifest.bytes = dk_manifest_make(&config, descs, n, NULL, &s->manifest.len);
	strcpy(s->manifest.desc.media_type, DK_MT_OCI_MANIFEST);
	s->manifest.desc.size = s->manifest.len;
	dk_sha256_buf(s->manifest.bytes, s->manifest.len, s->manifest.desc.digest);
	rc = 0;
out:
	if (rc < 0 && mm)
		arch_r_fix_err(&s->ar, err);
	free(buf);
	free(descs);
	json_decref(cfg);
	json_decref(list);
	return rc;
}

static int das_get_manifest(struct dk_image_src *base, const struct dk_platform *want,
			    struct dk_manifest_blob *out, struct dk_err *err)
{
	struct da_src *s = (struct da_src *)base;

	(void)want;     /* one image per entry: a platform that differs is the caller's to judge */
	(void)err;
	out->desc = s->manifest.desc;
	out->len = s->manifest.len;
	out->bytes = dk_xmalloc(s->manifest.len + 1);
	memcpy(out->bytes, s->manifest.bytes, s->manifest.len);
	out->bytes[out->len] = '\0';
	return 0;
}

static const struct arch_member *blob_member(struct da_src *s, const struct dk_desc *d, struct dk_err *err)
{
	const struct arch_member *m = arch_r_by_digest(&s->ar, d->digest);

	if (!m)
		dk_fail(err, DK_E_NOTFOUND, "%s: %s holds no blob %s", s->base.ref.text, s->ar.file, d->digest);
	else if (m->size != d->size)
		dk_fail(err, DK_E_CORRUPT, "%s: %s member %s: %llu bytes, not %llu", s->base.ref.text, s->ar.file,
			m->name, (unsigned long long)m->size, (unsigned long long)d->size);
	else
		return m;
	return NULL;
}

static int das_read_blob(struct dk_image_src *base, const struct dk_desc *d, size_t max, char **buf,
			 size_t *len, struct dk_err *err)
{
	struct da_src *s = (struct da_src *)base;
	const struct arch_member *m = blob_member(s, d, err);

	if (!m)
		return -1;
	if (dk_read_file(m->path, max, buf, len, err) < 0) {
		arch_r_fix_err(&s->ar, err);
		return dk_err_prefix(err, "%s", base->ref.text);
	}
	return 0;
}

static int das_blob_file(struct dk_image_src *base, const struct dk_desc *d, char **path, struct dk_err *err)
{
	const struct arch_member *m = blob_member((struct da_src *)base, d, err);

	if (!m)
		return -1;
	*path = dk_xstrdup(m->path);
	return 0;
}

static int das_has_blob(struct dk_image_src *base, const struct dk_desc *d, struct dk_err *err)
{
	(void)err;
	return arch_r_by_digest(&((struct da_src *)base)->ar, d->digest) != NULL;
}

static void das_close(struct dk_image_src *base)
{
	struct da_src *s = (struct da_src *)base;

	dk_manifest_blob_free(&s->manifest);
	arch_r_close(&s->ar);
	dk_ref_free(&s->base.ref);
	free(s);
}

static const struct dk_image_src_ops das_ops = {
	das_get_manifest, das_read_blob, das_blob_file, das_has_blob, das_close, NULL,
};

int dk_docker_archive_src_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			       struct dk_image_src **out, struct dk_err *err)
{
	struct da_src *s = dk_xcalloc(1, sizeof(*s));

	s->base.ops = &das_ops;
	dk_ref_copy(&s->base.ref, ref);
	if (arch_r_open(ref->path, ref->text, o, &s->ar, err) < 0 || make_manifest(s, err) < 0) {
		das_close(&s->base);
		return -1;
	}
	*out = &s->base;
	return 0;
}

/* ------------------------------------------------------------ destination */

/* One entry of the archive: the config's bytes, a layer, or a JSON file. */
struct da_entry {
	char *name;
	const char *blob;               /* a layer's compressed blob file, or NULL */
	char diff_id[DK_DIGEST_SIZE];
	uint64_t size;                  /* a layer's uncompressed size */
	const char *bytes;              /* else these */
	size_t len;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct da_entry *)a)->name, ((const struct da_entry *)b)->name);
}

/* Decompress the layer once to learn its tar's size, and check it is the diff_id the config says. */
static int measure_layer(struct arch_dst *d, struct da_entry *e, const char *digest, struct dk_err *err)
{
	struct dk_sink *count = dk_sink_hash(NULL);
	char got[DK_DIGEST_SIZE];
	int rc = dk_layer_read(e->blob, count, got, err);

	e->size = dk_sink_hash_size(count);
	dk_sink_free(count);
	if (rc < 0)
		return dk_err_prefix(err, "%s: layer %s", d->base.ref.text, digest);
	if (strcmp(got, e->diff_id))
		return dk_fail(err, DK_E_CORRUPT, "%s: layer %s unpacks to %s, but the config's diff_id for it is %s",
			       d->base.ref.text, digest, got, e->diff_id);
	return 0;
}

/* A layer's tar, streamed from its blob a second time into the archive. */
static int write_layer(struct arch_w *w, const struct da_entry *e, const char *what, struct dk_err *err)
{
	struct dk_sink *out = arch_w_entry(w, e->name, e->size, err);
	char got[DK_DIGEST_SIZE];
	int rc;

	if (!out)
		return -1;
	rc = dk_layer_read(e->blob, out, got, err);
	dk_sink_free(out);
	if (rc == 0 && strcmp(got, e->diff_id))
		rc = dk_fail(err, DK_E_CHANGED, "%s: %s changed while it was written", what, e->blob);
	return rc;
}

static char *manifest_json(const struct arch_dst *d, const char *config_name, json_t *layer_names)
{
	json_t *list = json_array(), *e = json_object(), *tags = json_array();
	size_t len;
	char *text;

	if (d->base.ref.docker.repository) {
		char *name = familiar_name(&d->base.ref.docker);
		char *tagged = dk_xasprintf("%s:%s", name, d->base.ref.docker.tag);

		json_array_append_new(tags, json_string(tagged));
		free(tagged);
		free(name);
	}
	json_object_set_new(e, "Config", json_string(config_name));
	json_object_set_new(e, "RepoTags", tags);
	json_object_set(e, "Layers", layer_names);
	json_array_append_new(list, e);
	text = dk_json_dump(list, &len);
	json_decref(list);
	return text;
}

static char *repositories_json(const struct arch_dst *d, const char *top)
{
	json_t *root = json_object(), *tags = json_object();
	char *name = familiar_name(&d->base.ref.docker), *text;
	size_t len;

	json_object_set_new(tags, d->base.ref.docker.tag, json_string(top));
	json_object_set_new(root, name, tags);
	text = dk_json_dump(root, &len);
	json_decref(root);
	free(name);
	return text;
}

static int dad_write(struct arch_dst *d, struct arch_w *w, struct dk_err *err)
{
	const struct dk_manifest_blob *mb = &d->manifests[d->n_manifests - 1];
	const char *what = d->base.ref.text;
	struct dk_manifest m;
	struct da_entry *v = NULL;
	json_t *cfg = NULL, *ids, *names = json_array();
	char *config = NULL, *mj = NULL, *repos = NULL;
	size_t n = 0, len;
	int rc = -1;

	if (dk_media_is_index(mb->desc.media_type)) {
		json_decref(names);
		return dk_fail(err, DK_E_USAGE, "%s: a docker-archive holds one platform's image, not an index", what);
	}
	if (dk_manifest_parse(mb, what, &m, err) < 0) {
		json_decref(names);
		return -1;
	}
	if (arch_dst_read(d, m.config.digest, DK_CONFIG_MAX, &config, &len, err) < 0)
		goto out;
	cfg = json_loadb(config, len, 0, NULL);
	ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	if (json_array_size(ids) != m.n_layers) {
		dk_fail(err, DK_E_CORRUPT, "%s: config %s lists %zu diff_ids for %zu layers", what, m.config.digest,
			json_array_size(ids), m.n_layers);
		goto out;
	}
	v = dk_xcalloc(m.n_layers + 3, sizeof(*v));
	v[n].name = dk_xasprintf("%s.json", dk_digest_hex(m.config.digest));
	v[n].bytes = config;
	v[n++].len = len;
	for (size_t i = 0; i < m.n_layers; i++) {
		const char *id = json_string_value(json_array_get(ids, i));
		struct da_entry *e = &v[n];
		char *name;

		if (!dk_digest_valid(dk_str_or(id, ""))) {
			dk_fail(err, DK_E_CORRUPT, "%s: config %s: diff_id %zu is not a sha256 digest", what,
				m.config.digest, i);
			goto out;
		}
		name = dk_xasprintf("%s.tar", dk_digest_hex(id));
		json_array_append_new(names, json_string(name));
		/* a layer listed twice is one member */
		for (size_t j = 1; j < n && name; j++)
			if (!strcmp(v[j].name, name)) {
				free(name);
				name = NULL;
			}
		if (!name)
			continue;
		e->name = name;
		n++;
		memcpy(e->diff_id, id, DK_DIGEST_SIZE);
		if (!(e->blob = arch_dst_blob(d, m.layers[i].digest))) {
			dk_fail(err, DK_E_NOTFOUND, "%s: layer %s was not given", what, m.layers[i].digest);
			goto out;
		}
		if (measure_layer(d, e, m.layers[i].digest, err) < 0)
			goto out;
	}
	mj = manifest_json(d, v[0].name, names);
	v[n].name = dk_xstrdup("manifest.json");
	v[n].bytes = mj;
	v[n++].len = strlen(mj);
	if (d->base.ref.docker.repository) {
		repos = repositories_json(d, m.n_layers ? dk_digest_hex(json_string_value(json_array_get(ids,
					  m.n_layers - 1))) : dk_digest_hex(m.config.digest));
		v[n].name = dk_xstrdup("repositories");
		v[n].bytes = repos;
		v[n++].len = strlen(repos);
	}
	qsort(v, n, sizeof(*v), by_name);
	rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = v[i].blob ? write_layer(w, &v[i], what, err) : arch_w_bytes(w, v[i].name, v[i].bytes, v[i].len, err);
out:
	for (size_t i = 0; v && i < m.n_layers + 3; i++)
		free(v[i].name);
	free(v);
	free(config);
	free(mj);
	free(repos);
	json_decref(names);
	json_decref(cfg);
	dk_manifest_free(&m);
	return rc;
}

int dk_docker_archive_dst_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			       struct dk_image_dst **out, struct dk_err *err)
{
	(void)o;
	return arch_dst_open(ref, dad_write, out, err);
}
