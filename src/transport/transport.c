/*
 * transport.c - the table of transports (the one place that lists them),
 * the wrappers through which everyone else reaches a transport, and the
 * blob transfer every copy uses.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/image.h"
#include "derrick/transport.h"
#include "derrick/util.h"

#define READ_WRITE (DK_TRANSPORT_SOURCE | DK_TRANSPORT_DEST)

/*
 * One row per transport: to add one, write its file (parse, format, the
 * two constructors and their ops) and fill its row.  The rows without
 * callbacks are transports skopeo knows that derrick does not implement.
 */
static const struct dk_transport transports[] = {
	{ "oci", "oci:", READ_WRITE | DK_TRANSPORT_MULTI | DK_TRANSPORT_INDEX,
	  dk_layout_parse, dk_layout_format, dk_layout_src_open, dk_layout_dst_open },
	{ "docker", "docker://", READ_WRITE | DK_TRANSPORT_REMOTE | DK_TRANSPORT_BARE | DK_TRANSPORT_INDEX,
	  dk_registry_parse, dk_registry_format, dk_registry_src_open, dk_registry_dst_open },
	{ "oci-archive", "oci-archive:", READ_WRITE | DK_TRANSPORT_MULTI | DK_TRANSPORT_INDEX,
	  dk_oci_archive_parse, dk_layout_format, dk_oci_archive_src_open, dk_oci_archive_dst_open },
	{ "docker-archive", "docker-archive:", READ_WRITE | DK_TRANSPORT_MULTI,
	  dk_docker_archive_parse, dk_docker_archive_format, dk_docker_archive_src_open, dk_docker_archive_dst_open },
	/* named only, so that using one is a clear error */
	{ "docker-daemon", "docker-daemon:", 0, NULL, NULL, NULL, NULL },
	{ "dir", "dir:", 0, NULL, NULL, NULL, NULL },
	{ "containers-storage", "containers-storage:", 0, NULL, NULL, NULL, NULL },
	{ "tarball", "tarball:", 0, NULL, NULL, NULL, NULL },
};

#define N_TRANSPORTS (sizeof(transports) / sizeof(transports[0]))

/* "unsupported transport" names the ones that are implemented: "oci:, docker://". */
static int unsupported(const char *text, const struct dk_transport *t, struct dk_err *err)
{
	struct strbuf ok = STRBUF_INIT;

	for (size_t i = 0; i < N_TRANSPORTS; i++)
		if (transports[i].parse)
			sb_join(&ok, ", ", transports[i].prefix);
	dk_fail(err, DK_E_REF, "image reference \"%s\": unsupported transport \"%s\" (supported: %s)",
		text, t->name, ok.buf);
	sb_release(&ok);
	return -1;
}

int dk_transport_find(const char *s, const struct dk_transport **out, const char **rest, struct dk_err *err)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : 0;

	for (size_t i = 0; colon && i < N_TRANSPORTS; i++) {
		const struct dk_transport *t = &transports[i];

		if (strlen(t->name) != n || strncmp(s, t->name, n))
			continue;
		if (!t->parse)
			return unsupported(s, t, err);
		if (strncmp(s, t->prefix, strlen(t->prefix)))
			return dk_fail(err, DK_E_REF, "image reference \"%s\": expected %sREFERENCE", s, t->prefix);
		*out = t;
		*rest = s + strlen(t->prefix);
		return 0;
	}
	if (s[0] == '/' || s[0] == '.')
		return dk_fail(err, DK_E_REF,
			       "image reference \"%s\": looks like a path: write oci:%s for an OCI layout (a bare name means docker://)",
			       s, s);
	for (size_t i = 0; i < N_TRANSPORTS; i++)
		if (transports[i].caps & DK_TRANSPORT_BARE) {
			*out = &transports[i];
			*rest = s;
			return 0;
		}
	return dk_fail(err, DK_E_INTERNAL, "no transport for a bare reference");
}

/* ---- references: each question goes to the reference's row ---- */

int dk_ref_parse(const char *s, struct dk_ref *r, struct dk_err *err)
{
	const struct dk_transport *t;
	const char *rest;

	memset(r, 0, sizeof(*r));
	if (dk_transport_find(s, &t, &rest, err) < 0)
		return -1;
	if (t->parse(s, rest, r, err) < 0) {
		dk_ref_free(r);
		return -1;
	}
	r->transport = t;
	r->text = dk_xstrdup(s);
	return 0;
}

int dk_ref_is_remote(const struct dk_ref *r)
{
	return (r->transport->caps & DK_TRANSPORT_REMOTE) != 0;
}

int dk_ref_holds_index(const struct dk_ref *r)
{
	return (r->transport->caps & DK_TRANSPORT_INDEX) != 0;
}

const char *dk_ref_local_path(const struct dk_ref *r)
{
	return dk_ref_is_remote(r) ? NULL : r->path;
}

char *dk_ref_with_path(const struct dk_ref *r, const char *path)
{
	return r->transport->format(r, path, NULL);
}

char *dk_ref_with_tag(const struct dk_ref *r, const char *tag)
{
	return r->transport->format(r, NULL, tag);
}

int dk_image_src_open(const struct dk_ref *ref, const struct dk_transport_opts *o, struct dk_image_src **out,
		struct dk_err *err)
{
	const struct dk_transport *t = ref->transport;

	if (!(t->caps & DK_TRANSPORT_SOURCE) || !t->src_open)
		return dk_fail(err, DK_E_REF, "%s: cannot read from transport \"%s\"", ref->text, t->name);
	return t->src_open(ref, o, out, err);
}

int dk_image_dst_open(const struct dk_ref *ref, const struct dk_transport_opts *o, struct dk_image_dst **out,
		struct dk_err *err)
{
	const struct dk_transport *t = ref->transport;

	if (!(t->caps & DK_TRANSPORT_DEST) || !t->dst_open)
		return dk_fail(err, DK_E_REF, "%s: cannot write to transport \"%s\"", ref->text, t->name);
	return t->dst_open(ref, o, out, err);
}

void dk_image_src_close(struct dk_image_src *s)
{
	if (s)
		s->ops->close(s);
}

void dk_image_dst_close(struct dk_image_dst *d)
{
	if (d)
		d->ops->close(d);
}

int dk_image_src_get_manifest(struct dk_image_src *s, const struct dk_platform *want,
			      struct dk_manifest_blob *out, struct dk_err *err)
{
	return s->ops->get_manifest(s, want, out, err);
}

int dk_image_src_read_manifest(struct dk_image_src *s, const struct dk_desc *d, struct dk_manifest_blob *out,
			       struct dk_err *err)
{
	memset(out, 0, sizeof(*out));
	if (dk_doc_check_size(dk_doc_of_media(d->media_type), s->ref.text, d->digest, d->size, err) < 0)
		return -1;
	if (s->ops->read_manifest)
		return s->ops->read_manifest(s, d, out, err);
	if (dk_image_src_read_blob(s, d, DK_MANIFEST_MAX, &out->bytes, &out->len, err) < 0)
		return -1;
	out->desc = *d;
	return 0;
}

int dk_image_src_read_blob(struct dk_image_src *s, const struct dk_desc *d, size_t max, char **buf,
			   size_t *len, struct dk_err *err)
{
	return s->ops->read_blob(s, d, max, buf, len, err);
}

int dk_image_src_blob_file(struct dk_image_src *s, const struct dk_desc *d, char **path, struct dk_err *err)
{
	return s->ops->blob_file(s, d, path, err);
}

int dk_image_src_has_blob(struct dk_image_src *s, const struct dk_desc *d, struct dk_err *err)
{
	return s->ops->has_blob(s, d, err);
}

int dk_image_dst_put_manifest(struct dk_image_dst *d, const struct dk_manifest_blob *m, struct dk_err *err)
{
	return d->ops->put_manifest(d, m, err);
}

int dk_image_dst_put_child(struct dk_image_dst *d, const struct dk_manifest_blob *m, struct dk_err *err)
{
	if (!dk_ref_holds_index(&d->ref) || !d->ops->put_child)
		return dk_fail(err, DK_E_REF, "%s: transport \"%s\" holds one image per reference, not an image index "
			       "(a multi-platform image): choose one platform", d->ref.text, d->ref.transport->name);
	return d->ops->put_child(d, m, err);
}

int dk_image_dst_commit(struct dk_image_dst *d, struct dk_err *err)
{
	return d->ops->commit(d, err);
}

void dk_manifest_blob_free(struct dk_manifest_blob *m)
{
	free(m->bytes);
	memset(m, 0, sizeof(*m));
}

static pthread_mutex_t notes_lock = PTHREAD_MUTEX_INITIALIZER;

void dk_image_dst_note(struct dk_image_dst *d, const char *digest, const char *action, uint64_t size,
		 uint64_t sent)
{
	struct dk_blob_note *n;

	pthread_mutex_lock(&notes_lock);
	d->notes = dk_xrealloc(d->notes, (d->n_notes + 1) * sizeof(*d->notes));
	n = &d->notes[d->n_notes++];
	memcpy(n->digest, digest, DK_DIGEST_SIZE);
	n->action = action;
	n->size = size;
	n->sent = sent;
	pthread_mutex_unlock(&notes_lock);
}

void dk_image_dst_release_notes(struct dk_image_dst *d)
{
	free(d->notes);
	d->notes = NULL;
	d->n_notes = 0;
}

int dk_transfer_blob(struct dk_image_dst *d, const struct dk_desc *desc, struct dk_image_src *src,
		     const char *local, struct dk_err *err)
{
	char *path = NULL;
	int rc = d->ops->mount_blob(d, desc, src ? &src->ref : NULL, err);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (!local) {
		if (!src)
			return dk_fail(err, DK_E_INTERNAL, "blob %s has no source", desc->digest);
		if (dk_image_src_blob_file(src, desc, &path, err) < 0)
			return -1;
		local = path;
	}
	rc = d->ops->put_blob(d, desc, local, err);
	free(path);
	return rc;
}

struct pool {
	struct dk_image_dst *d;
	const struct dk_desc *descs;
	const char *const *locals;
	struct dk_image_src *const *srcs;
	size_t n, next;
	pthread_mutex_t lock;
	int failed;
	struct dk_err err;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		struct dk_err err;
		size_t i;

		pthread_mutex_lock(&p->lock);
		if (p->failed || p->next >= p->n) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (dk_transfer_blob(p->d, &p->descs[i], p->srcs ? p->srcs[i] : NULL,
				     p->locals ? p->locals[i] : NULL, &err) < 0) {
			pthread_mutex_lock(&p->lock);
			if (!p->failed)
				p->err = err;
			p->failed = 1;
			pthread_mutex_unlock(&p->lock);
		}
	}
}

int dk_transfer_blobs(struct dk_image_dst *d, const struct dk_desc *descs, const char *const *locals,
		      struct dk_image_src *const *srcs, size_t n, const struct dk_transport_opts *o,
		      struct dk_err *err)
{
	struct pool p = { d, descs, locals, srcs, n, 0, PTHREAD_MUTEX_INITIALIZER, 0, { 0 } };
	size_t jobs = o && o->jobs > 0 ? (size_t)o->jobs : 4;
	pthread_t *threads;
	size_t started = 0;

	/* local writes gain nothing from threads; a registry hides latency behind them */
	if (!dk_ref_is_remote(&d->ref) || jobs == 1 || n < 2) {
		for (size_t i = 0; i < n; i++)
			if (dk_transfer_blob(d, &descs[i], srcs ? srcs[i] : NULL, locals ? locals[i] : NULL, err) < 0)
				return -1;
		return 0;
	}
	if (jobs > n)
		jobs = n;
	threads = dk_xcalloc(jobs, sizeof(*threads));
	for (size_t i = 0; i < jobs; i++)
		if (pthread_create(&threads[i], NULL, worker, &p) == 0)
			started++;
	if (!started)
		worker(&p);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	pthread_mutex_destroy(&p.lock);
	if (p.failed) {
		*err = p.err;
		return -1;
	}
	return 0;
}
