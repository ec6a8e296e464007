/*
 * layout.c - the "oci:DIR[:TAG]" transport: an OCI image layout on disk.
 *
 *   DIR/oci-layout     {"imageLayoutVersion":"1.0.0"}
 *   DIR/index.json     the image index; a tag is the annotation
 *                      org.opencontainers.image.ref.name on a descriptor
 *   DIR/blobs/sha256/  every blob
 *
 * Writing is arranged so that a failure leaves DIR as it was: blobs are
 * renamed into place complete, the ones this run added are removed again
 * if it does not commit, and index.json is replaced in one rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <jansson.h>

#include "derrick/blobs.h"
#include "derrick/image.h"
#include "derrick/transport.h"
#include "derrick/util.h"

#define REF_NAME "org.opencontainers.image.ref.name"
#define LAYOUT_JSON "{\"imageLayoutVersion\":\"1.0.0\"}"

/* Read DIR/index.json and check it is an index; a missing file with missing_ok gives an empty one. */
static int load_index(const char *dir, int missing_ok, json_t **out, struct dk_err *err)
{
	char *path = dk_path_join(dir, "index.json");
	json_error_t jerr;
	struct stat st;
	json_t *root;

	*out = NULL;
	if (stat(path, &st) < 0 && errno == ENOENT && missing_ok) {
		free(path);
		root = json_object();
		json_object_set_new(root, "schemaVersion", json_integer(2));
		json_object_set_new(root, "mediaType", json_string(DK_MT_OCI_INDEX));
		json_object_set_new(root, "manifests", json_array());
		*out = root;
		return 0;
	}
	root = json_load_file(path, 0, &jerr);
	if (!root) {
		dk_fail(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_CORRUPT, "%s:%d:%d: %s",
			path, jerr.line, jerr.column, jerr.text);
		free(path);
		return -1;
	}
	if (!json_is_array(json_object_get(root, "manifests"))) {
		dk_fail(err, DK_E_CORRUPT, "%s: not an OCI image index (no \"manifests\" array)", path);
		json_decref(root);
		free(path);
		return -1;
	}
	free(path);
	*out = root;
	return 0;
}

static int check_layout_file(const char *dir, struct dk_err *err)
{
	char *path = dk_path_join(dir, "oci-layout");
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	const char *v = json_string_value(json_object_get(root, "imageLayoutVersion"));
	int rc = 0;

	if (!root)
		rc = dk_fail(err, DK_E_CORRUPT, "%s: %s", path, jerr.text);
	else if (!v || strcmp(v, "1.0.0"))
		rc = dk_fail(err, DK_E_CORRUPT, "%s: unsupported imageLayoutVersion (expected \"1.0.0\")", path);
	json_decref(root);
	free(path);
	return rc;
}

/* ------------------------------------------------------------ references */

/* "PATH[:TAG]" after the prefix: like skopeo, PATH ends at the first ':'. */
int dk_path_tag_parse(const char *text, const char *rest, const char *noun, struct dk_ref *r, struct dk_err *err)
{
	const char *colon = strchr(rest, ':');

	if ((colon ? (size_t)(colon - rest) : strlen(rest)) == 0)
		return dk_fail(err, DK_E_REF, "image reference \"%s\": the %s is empty", text, noun);
	if (colon && !dk_tag_valid(colon + 1))
		return dk_fail(err, DK_E_REF,
			       "image reference \"%s\": invalid tag \"%s\" (a tag is 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-')",
			       text, colon + 1);
	r->path = colon ? dk_xstrndup(rest, (size_t)(colon - rest)) : dk_xstrdup(rest);
	r->tag = colon ? dk_xstrdup(colon + 1) : NULL;
	return 0;
}

int dk_layout_parse(const char *text, const char *rest, struct dk_ref *r, struct dk_err *err)
{
	return dk_path_tag_parse(text, rest, "layout directory", r, err);
}

char *dk_layout_format(const struct dk_ref *r, const char *path, const char *tag)
{
	if (!path)
		path = r->path;
	if (!tag)
		tag = r->tag;
	return tag ? dk_xasprintf("%s%s:%s", r->transport->prefix, path, tag) :
		     dk_xasprintf("%s%s", r->transport->prefix, path);
}

/* ------------------------------------------------------------ source */

struct layout_src {
	struct dk_image_src base;
	struct dk_blobs blobs;
};

static const char *tag_of(json_t *desc)
{
	return json_string_value(json_object_get(json_object_get(desc, "annotations"), REF_NAME));
}

/* The index.json entry the reference names: by tag, or the only one. */
static int find_entry(struct layout_src *s, struct dk_desc *out, struct dk_err *err)
{
	const char *dir = s->base.ref.path, *tag = s->base.ref.tag;
	json_t *index, *ms, *m, *found = NULL;
	size_t i;
	int rc;

	if (load_index(dir, 0, &index, err) < 0)
		return -1;
	ms = json_object_get(index, "manifests");
	json_array_foreach(ms, i, m) {
		const char *t = tag_of(m);

		if (tag ? (t && !strcmp(t, tag)) : json_array_size(ms) == 1)
			found = m;
	}
	if (!found) {
		struct strbuf tags = STRBUF_INIT;

		json_array_foreach(ms, i, m)
			if (tag_of(m))
				sb_join(&tags, ", ", tag_of(m));
		if (tag)
			dk_fail(err, DK_E_NOTFOUND, "%s: no image tagged \"%s\" (tags: %s)", s->base.ref.text,
				tag, tags.len ? tags.buf : "none");
		else
			dk_fail(err, DK_E_NOTFOUND, "%s: the layout holds %zu images: name one with :TAG (tags: %s)",
				s->base.ref.text, json_array_size(ms), tags.len ? tags.buf : "none");
		sb_release(&tags);
		json_decref(index);
		return -1;
	}
	rc = dk_desc_from_json(found, s->base.ref.text, out, err);
	json_decref(index);
	return rc;
}

static int lsrc_get_manifest(struct dk_image_src *base, const struct dk_platform *want,
			     struct dk_manifest_blob *out, struct dk_err *err)
{
	struct layout_src *s = (struct layout_src *)base;
	struct dk_desc d;

	memset(out, 0, sizeof(*out));
	if (find_entry(s, &d, err) < 0)
		return -1;
	if (dk_media_is_index(d.media_type) && !want) {
		if (dk_doc_check_size(DK_DOC_INDEX, base->ref.text, d.digest, d.size, err) < 0 ||
		    dk_blobs_read(&s->blobs, d.digest, d.size, DK_MANIFEST_MAX, &out->bytes, &out->len, err) < 0)
			return -1;
		out->desc = d;
		return 0;
	}
	if (dk_media_is_index(d.media_type)) {
		char *buf;
		size_t len;
		int rc;

		if (dk_doc_check_size(DK_DOC_INDEX, base->ref.text, d.digest, d.size, err) < 0 ||
		    dk_blobs_read(&s->blobs, d.digest, d.size, DK_MANIFEST_MAX, &buf, &len, err) < 0)
			return -1;
		rc = dk_index_select(buf, len, base->ref.text, want, &d, err);
		free(buf);
		if (rc < 0)
			return -1;
	}
	if (!dk_media_is_manifest(d.media_type))
		return dk_fail(err, DK_E_CORRUPT, "%s: %s has unsupported media type %s",
			       base->ref.text, d.digest, d.media_type);
	if (dk_doc_check_size(DK_DOC_MANIFEST, base->ref.text, d.digest, d.size, err) < 0 ||
	    dk_blobs_read(&s->blobs, d.digest, d.size, DK_MANIFEST_MAX, &out->bytes, &out->len, err) < 0)
		return -1;
	out->desc = d;
	return 0;
}

static int lsrc_read_blob(struct dk_image_src *base, const struct dk_desc *d, size_t max,
			  char **buf, size_t *len, struct dk_err *err)
{
	struct layout_src *s = (struct layout_src *)base;

	return dk_blobs_read(&s->blobs, d->digest, d->size, max, buf, len, err);
}

static int lsrc_blob_file(struct dk_image_src *base, const struct dk_desc *d, char **path,
			  struct dk_err *err)
{
	struct layout_src *s = (struct layout_src *)base;

	if (dk_blobs_verify(&s->blobs, d->digest, d->size, err) < 0)
		return -1;
	*path = dk_blobs_path(&s->blobs, d->digest);
	return 0;
}

static int lsrc_has_blob(struct dk_image_src *base, const struct dk_desc *d, struct dk_err *err)
{
	(void)err;
	return dk_blobs_has(&((struct layout_src *)base)->blobs, d->digest);
}

static void lsrc_close(struct dk_image_src *base)
{
	struct layout_src *s = (struct layout_src *)base;

	dk_blobs_close(&s->blobs);
	dk_ref_free(&s->base.ref);
	free(s);
}

static const struct dk_image_src_ops lsrc_ops = {
	lsrc_get_manifest, lsrc_read_blob, lsrc_blob_file, lsrc_has_blob, lsrc_close, NULL,
};

int dk_layout_src_open(const struct dk_ref *ref, const struct dk_transport_opts *o, struct dk_image_src **out,
		       struct dk_err *err)
{
	struct layout_src *s;
	struct stat st;

	(void)o;
	if (stat(ref->path, &st) < 0)
		return dk_fail_errno(err, DK_E_NOTFOUND, "%s: layout directory %s", ref->text, ref->path);
	if (!S_ISDIR(st.st_mode))
		return dk_fail(err, DK_E_NOTFOUND, "%s: %s is not a directory", ref->text, ref->path);
	if (check_layout_file(ref->path, err) < 0)
		return dk_err_prefix(err, "%s: not an OCI layout", ref->text);
	s = dk_xcalloc(1, sizeof(*s));
	s->base.ops = &lsrc_ops;
	dk_ref_copy(&s->base.ref, ref);
	if (dk_blobs_open(&s->blobs, ref->path, 0, err) < 0) {
		dk_err_prefix(err, "%s", ref->text);
		lsrc_close(&s->base);
		return -1;
	}
	*out = &s->base;
	return 0;
}

/* ------------------------------------------------------------ destination */

struct layout_dst {
	struct dk_image_dst base;
	int existed;            /* DIR was there before we started */
	int ready;              /* DIR, oci-layout and blobs/ exist */
	int made_layout;        /* we turned an empty DIR into a layout */
	int committed;
	struct dk_blobs blobs;
	char **added;           /* blob paths this run created, to undo */
	size_t n_added;
	struct dk_desc manifest;
	int have_manifest;
};

static int ensure_ready(struct layout_dst *d, struct dk_err *err)
{
	char *p;
	int rc = 0;

	if (d->ready)
		return 0;
	/* Another output of this run may have created DIR meanwhile: then it is not ours to remove. */
	if (access(d->base.ref.path, F_OK) == 0)
		d->existed = 1;
	if (dk_mkdir_p(d->base.ref.path, 0755, err) < 0 ||
	    dk_blobs_open(&d->blobs, d->base.ref.path, 1, err) < 0)
		return dk_err_prefix(err, "%s", d->base.ref.text);
	p = dk_path_join(d->base.ref.path, "oci-layout");
	if (access(p, F_OK) < 0) {
		rc = dk_write_file_atomic(p, LAYOUT_JSON, strlen(LAYOUT_JSON), 0644, err);
		d->made_layout = rc == 0;
	}
	free(p);
	d->ready = rc == 0;
	return rc;
}

static int ldst_has_blob(struct dk_image_dst *base, const struct dk_desc *desc)
{
	struct layout_dst *d = (struct layout_dst *)base;

	return d->ready && dk_blobs_has(&d->blobs, desc->digest);
}

static int ldst_mount_blob(struct dk_image_dst *base, const struct dk_desc *desc, const struct dk_ref *from,
			   struct dk_err *err)
{
	(void)from;
	(void)err;
	if (!ldst_has_blob(base, desc))
		return 0;
	dk_image_dst_note(base, desc->digest, "existed", desc->size, 0);
	return 1;
}

static void remember(struct layout_dst *d, const char *digest)
{
	d->added = dk_xrealloc(d->added, (d->n_added + 1) * sizeof(*d->added));
	d->added[d->n_added++] = dk_blobs_path(&d->blobs, digest);
}

static int ldst_put_blob(struct dk_image_dst *base, const struct dk_desc *desc, const char *path,
			 struct dk_err *err)
{
	struct layout_dst *d = (struct layout_dst *)base;

	if (ensure_ready(d, err) < 0)
		return -1;
	if (dk_blobs_has(&d->blobs, desc->digest))
		return 0;
	if (dk_blobs_put_file(&d->blobs, path, desc->digest, err) < 0)
		return dk_err_prefix(err, "%s", base->ref.text);
	remember(d, desc->digest);
	dk_image_dst_note(base, desc->digest, "written", desc->size, desc->size);
	return 0;
}

/* A manifest an index names is a blob like any other: index.json lists the index only. */
static int ldst_put_child(struct dk_image_dst *base, const struct dk_manifest_blob *m, struct dk_err *err)
{
	struct layout_dst *d = (struct layout_dst *)base;
	char digest[DK_DIGEST_SIZE];
	int had;

	if (ensure_ready(d, err) < 0)
		return -1;
	had = dk_blobs_has(&d->blobs, m->desc.digest);
	if (dk_blobs_put_bytes(&d->blobs, m->bytes, m->len, digest, err) < 0)
		return dk_err_prefix(err, "%s", base->ref.text);
	if (!had)
		remember(d, digest);
	return 0;
}

static int ldst_put_manifest(struct dk_image_dst *base, const struct dk_manifest_blob *m,
			     struct dk_err *err)
{
	struct layout_dst *d = (struct layout_dst *)base;

	if (ldst_put_child(base, m, err) < 0)
		return -1;
	d->manifest = m->desc;
	d->have_manifest = 1;
	return 0;
}

/*
 * Add the manifest to index.json: a tag replaces the entry that had it (in
 * place, so the others keep their order); an untagged image is added once.
 */
static int ldst_commit(struct dk_image_dst *base, struct dk_err *err)
{
	struct layout_dst *d = (struct layout_dst *)base;
	const char *tag = base->ref.tag;
	json_t *index, *ms, *m, *entry;
	size_t i, len;
	long at = -1;
	char *text, *path;
	int rc, lockfd;

	if (!d->have_manifest)
		return dk_fail(err, DK_E_INTERNAL, "%s: commit without a manifest", base->ref.text);
	/*
	 * index.json is read, changed and replaced: two builds tagging into one
	 * layout at once must take turns, or one tag would be lost.  The lock is
	 * on the directory itself, so the layout gains no lock file.
	 */
	lockfd = open(base->ref.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0) {
		rc = dk_fail_errno(err, DK_E_IO, "%s: lock %s", base->ref.text, base->ref.path);
		if (lockfd >= 0)
			close(lockfd);
		return rc;
	}
	if (load_index(base->ref.path, 1, &index, err) < 0) {
		close(lockfd);
		return -1;
	}
	ms = json_object_get(index, "manifests");
	json_array_foreach(ms, i, m) {
		const char *t = tag_of(m);
		const char *dg = json_string_value(json_object_get(m, "digest"));

		if (tag ? (t && !strcmp(t, tag)) : (!t && dg && !strcmp(dg, d->manifest.digest)))
			at = (long)i;
	}
	entry = dk_desc_to_json(&d->manifest);
	if (tag) {
		json_t *ann = json_object();

		json_object_set_new(ann, REF_NAME, json_string(tag));
		json_object_set_new(entry, "annotations", ann);
	}
	if (at >= 0)
		json_array_set_new(ms, (size_t)at, entry);
	else
		json_array_append_new(ms, entry);
	text = dk_json_dump(index, &len);
	path = dk_path_join(base->ref.path, "index.json");
	rc = dk_write_file_atomic(path, text, len, 0644, err);
	close(lockfd);
	free(path);
	free(text);
	json_decref(index);
	if (rc == 0)
		d->committed = 1;
	return rc;
}

/*
 * Undo an uncommitted write: remove exactly the blobs this run added, the
 * oci-layout file if we wrote it and nobody has committed an image since,
 * and the directories if that leaves them empty.  Never a recursive
 * delete: another build may be writing into the same layout right now.
 */
static void undo(struct layout_dst *d)
{
	const char *dir = d->base.ref.path;
	char *index = dk_path_join(dir, "index.json");
	char *layout = dk_path_join(dir, "oci-layout");
	char *blobs = dk_path_join(dir, "blobs");

	for (size_t i = 0; i < d->n_added; i++)
		unlink(d->added[i]);
	if (d->made_layout && access(index, F_OK) < 0)
		unlink(layout);
	if (d->ready) {
		rmdir(d->blobs.dir);
		rmdir(blobs);
	}
	if (!d->existed)
		rmdir(dir);
	free(index);
	free(layout);
	free(blobs);
}

static void ldst_close(struct dk_image_dst *base)
{
	struct layout_dst *d = (struct layout_dst *)base;

	if (!d->committed)
		undo(d);
	for (size_t i = 0; i < d->n_added; i++)
		free(d->added[i]);
	free(d->added);
	if (d->ready)
		dk_blobs_close(&d->blobs);
	dk_image_dst_release_notes(base);
	dk_ref_free(&base->ref);
	free(d);
}

static const struct dk_image_dst_ops ldst_ops = {
	ldst_mount_blob, ldst_put_blob, ldst_put_manifest, ldst_commit, ldst_close, ldst_put_child,
};

/*
 * 1 when a directory holds nothing, or only what a derrick run that is
 * making it a layout right now puts there (blobs/, temporary files, and
 * oci-layout or index.json once they appear): another build may be half a
 * millisecond into creating the same layout.
 */
static int dir_is_empty_or_starting(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	int ok = 1;

	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		const char *n = de->d_name;

		/* oci-layout and index.json: it became a layout since our first look */
		if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "blobs") || !strcmp(n, "oci-layout") ||
		    !strcmp(n, "index.json") || !strncmp(n, ".derrick-tmp-", 13))
			continue;
		ok = 0;
	}
	closedir(dir);
	return ok;
}

int dk_layout_dst_open(const struct dk_ref *ref, const struct dk_transport_opts *o, struct dk_image_dst **out,
		       struct dk_err *err)
{
	struct layout_dst *d;
	struct stat st;
	int existed = 0;

	(void)o;
	if (stat(ref->path, &st) == 0) {
		char *lf = dk_path_join(ref->path, "oci-layout");
		int is_layout = access(lf, F_OK) == 0;

		free(lf);
		if (!S_ISDIR(st.st_mode))
			return dk_fail(err, DK_E_IO, "output %s: %s exists and is not a directory", ref->text, ref->path);
		if (is_layout) {
			json_t *index;

			if (check_layout_file(ref->path, err) < 0 || load_index(ref->path, 1, &index, err) < 0)
				return dk_err_prefix(err, "output %s", ref->text);
			json_decref(index);
		} else if (!dir_is_empty_or_starting(ref->path)) {
			return dk_fail(err, DK_E_IO,
				       "output %s: %s is a non-empty directory that is not an OCI layout (refusing to write into it)",
				       ref->text, ref->path);
		}
		existed = 1;
	} else if (errno != ENOENT) {
		return dk_fail_errno(err, DK_E_IO, "output %s: %s", ref->text, ref->path);
	}
	d = dk_xcalloc(1, sizeof(*d));
	d->base.ops = &ldst_ops;
	d->existed = existed;
	dk_ref_copy(&d->base.ref, ref);
	*out = &d->base;
	return 0;
}
