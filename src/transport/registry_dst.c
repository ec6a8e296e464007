/*
 * registry_dst.c - writing images to a registry (see registry.c): HEAD,
 * cross-repository mounts (an optimisation: refused, they become uploads),
 * monolithic and chunked uploads with resume, under a request body size
 * that refusals lower for the whole push, and the manifest PUT at commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "derrick/blobs.h"
#include "derrick/image.h"
#include "derrick/log.h"
#include "derrick/progress.h"
#include "derrick/transport.h"
#include "derrick/util.h"
#include "registry_transport.h"

/* GHCR refuses PATCH bodies over 4 MiB; every other registry known takes that */
#define DEFAULT_CHUNK (4u << 20)
/* a registry refusing bodies this small is refusing something else: stop halving */
#define MIN_BODY (64u << 10)

/* An upload session the registry opened when asked for a mount (ECR does): the upload goes on there. */
struct held_upload {
	char digest[DK_DIGEST_SIZE];
	char *location;
};

struct reg_dst {
	struct dk_image_dst base;
	struct dk_registry *reg;
	char *scope;
	struct dk_transport_opts o;
	struct dk_manifest_blob manifest;
	int have_manifest;
	struct regt_pool pool;  /* connections for parallel uploads */
	/* what this push learns of the registry, shared by its parallel uploads, under `lock` */
	pthread_mutex_t lock;
	uint64_t max_body;      /* the largest request body to send; lowered when the registry refuses one */
	struct held_upload *held;
	size_t n_held;
	char **no_mount;        /* repositories the registry will not let us mount from */
	size_t n_no_mount;
};

/* Record what happened to a blob and, unless quiet, say it in one line. */
static void note(struct reg_dst *d, const struct dk_desc *desc, const char *action, uint64_t sent)
{
	dk_image_dst_note(&d->base, desc->digest, action, desc->size, sent);
	if (d->o.progress >= 1)
		dk_progress_line(action, desc->digest, desc->size, d->base.ref.text);
}

/* POST .../uploads/ (with ?mount= when mounting); fills the status and the Location. */
static int start_upload(struct reg_dst *d, struct dk_http *h, const char *query, const char *scope,
			long *status, char **location, struct dk_err *err)
{
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	char *path = dk_xasprintf("/v2/%s/blobs/uploads/%s", d->base.ref.docker.repository, query);
	const char *loc;
	int rc = 0;

	call.method = "POST";
	call.path = path;
	call.scope = scope;
	call.body.body_fd = -1;
	call.body.has_body = 1;
	call.http = h;
	*location = NULL;
	*status = 0;
	if (dk_reg_do(d->reg, &call, &resp, err) < 0) {
		free(path);
		return dk_err_prefix(err, "%s: start upload", d->base.ref.text);
	}
	*status = resp.status;
	loc = dk_http_header(&resp, "location");
	if (resp.status == 202 && loc) {
		char *url = dk_xasprintf("%s%s", dk_registry_base(d->reg), path);

		*location = dk_http_resolve(url, loc);
		free(url);
	} else if (resp.status != 201) {
		char *what = dk_xasprintf("%s: start upload", d->base.ref.text);

		rc = dk_reg_fail(d->reg, &resp, what, err);
		free(what);
	}
	dk_http_resp_release(&resp);
	free(path);
	return rc;
}

/* ------------------------------------------------------------ mounts */

static int mount_refused(struct reg_dst *d, const char *repository)
{
	int found = 0;

	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->n_no_mount && !found; i++)
		found = !strcmp(d->no_mount[i], repository);
	pthread_mutex_unlock(&d->lock);
	return found;
}

static void refuse_mounts(struct reg_dst *d, const char *repository)
{
	pthread_mutex_lock(&d->lock);
	d->no_mount = dk_xrealloc(d->no_mount, (d->n_no_mount + 1) * sizeof(*d->no_mount));
	d->no_mount[d->n_no_mount++] = dk_xstrdup(repository);
	pthread_mutex_unlock(&d->lock);
}

static void hold_upload(struct reg_dst *d, const char *digest, char *location)
{
	struct held_upload *u;

	pthread_mutex_lock(&d->lock);
	d->held = dk_xrealloc(d->held, (d->n_held + 1) * sizeof(*d->held));
	u = &d->held[d->n_held++];
	snprintf(u->digest, sizeof(u->digest), "%s", digest);
	u->location = location;
	pthread_mutex_unlock(&d->lock);
}

/* The session held for `digest` (the caller's now), or NULL. */
static char *take_upload(struct reg_dst *d, const char *digest)
{
	char *loc = NULL;

	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->n_held; i++) {
		if (!strcmp(d->held[i].digest, digest)) {
			loc = d->held[i].location;
			d->held[i] = d->held[--d->n_held];
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return loc;
}

/*
 * Ask for a mount of desc from repository `from`: 1 mounted, 0 not (its
 * bytes are needed).  A mount only saves an upload, so every refusal is
 * a 0: 401/403 (the token does not cover `from`, as on GitLab; later
 * blobs from there are not tried), 404, or a 202 opening an upload
 * instead (ECR), whose session the upload then uses.
 */
static int try_mount(struct reg_dst *d, struct dk_http *h, const struct dk_desc *desc, const char *from)
{
	/* pull on the source and push on the target in one token, as docker asks */
	char *scope = dk_xasprintf("%s repository:%s:pull", d->scope, from);
	char *query = dk_xasprintf("?mount=%s&from=%s", desc->digest, from);
	char *loc = NULL;
	struct dk_err err;
	long status;
	int rc = 0;

	if (start_upload(d, h, query, scope, &status, &loc, &err) < 0) {
		dk_verbose("%s: no mount of %s from %s (%s); uploading it", d->base.ref.text, desc->digest, from,
			   err.msg);
		if (err.code == DK_E_AUTH)
			refuse_mounts(d, from);
	} else if (status == 201) {
		note(d, desc, "mounted", 0);
		rc = 1;
	} else if (loc) {
		dk_verbose("%s: the registry opened an upload instead of mounting %s", d->base.ref.text, desc->digest);
		hold_upload(d, desc->digest, loc);
		loc = NULL;
	}
	free(loc);
	free(query);
	free(scope);
	return rc;
}

static int rdst_mount_blob(struct dk_image_dst *base, const struct dk_desc *desc, const struct dk_ref *from,
			   struct dk_err *err)
{
	struct reg_dst *d = (struct reg_dst *)base;
	struct dk_http *h = regt_pool_get(&d->pool);
	int exists, rc = 0;

	exists = regt_head_blob(d->reg, h, &base->ref, d->scope, desc, err);
	if (exists < 0) {
		rc = -1;
	} else if (exists) {
		note(d, desc, "existed", 0);
		rc = 1;
	} else if (from && from->transport == base->ref.transport &&
		   !strcmp(from->docker.registry, base->ref.docker.registry) &&
		   strcmp(from->docker.repository, base->ref.docker.repository) &&
		   !mount_refused(d, from->docker.repository)) {
		rc = try_mount(d, h, desc, from->docker.repository);
	}
	regt_pool_put(&d->pool, h);
	return rc;
}

/* Location + "digest=" (with '&' when it has a query already). */
static char *with_digest(const char *location, const char *digest)
{
	return dk_xasprintf("%s%cdigest=%s", location, strchr(location, '?') ? '&' : '?', digest);
}

static int check_created(struct reg_dst *d, const struct dk_http_resp *resp, const char *digest,
			 const char *what, struct dk_err *err)
{
	const char *hd = regt_header_digest(resp);

	if (resp->status != 201 && resp->status != 204)
		return dk_reg_fail(d->reg, resp, what, err);
	if (hd && strcmp(hd, digest))
		return dk_fail(err, DK_E_CORRUPT, "%s: the registry stored %s instead", what, hd);
	return 0;
}

/* Ask where an interrupted upload stands: the offset to go on from and the new Location. */
static int upload_status(struct reg_dst *d, struct dk_http *h, char **location, uint64_t *next,
			 struct dk_err *err)
{
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	const char *range, *loc;
	int rc = -1;

	call.method = "GET";
	call.path = *location;
	call.scope = d->scope;
	call.body.body_fd = -1;
	call.http = h;
	if (dk_reg_do(d->reg, &call, &resp, err) < 0)
		return -1;
	range = dk_http_header(&resp, "range");
	loc = dk_http_header(&resp, "location");
	if (resp.status == 204) {
		const char *dash = range ? strchr(range, '-') : NULL;

		long long end = dash ? strtoll(dash + 1, NULL, 10) : 0;

		/*
		 * "0-N" means N+1 bytes arrived; no Range means none did, and so
		 * does "0-0": distribution's answer for an empty upload (one stored
		 * byte is what a broken request all but never leaves)
		 */
		*next = end > 0 ? (uint64_t)end + 1 : 0;
		if (loc) {
			char *n = dk_http_resolve(*location, loc);

			free(*location);
			*location = n;
		}
		rc = 0;
	} else {
		dk_reg_fail(d->reg, &resp, "upload status", err);
	}
	dk_http_resp_release(&resp);
	return rc;
}

/* ------------------------------------------------------------ request body limits */

/* The largest request body to send now (this push's threads may have lowered it). */
static uint64_t body_limit(struct reg_dst *d)
{
	uint64_t v;

	pthread_mutex_lock(&d->lock);
	v = d->max_body;
	pthread_mutex_unlock(&d->lock);
	return v;
}

/*
 * The limit a refusal states, in bytes, or 0: GHCR says "the request body
 * is too large and exceeds the maximum permissible limit of 4.00MiB".
 */
static uint64_t stated_limit(const struct dk_http_resp *resp)
{
	static const struct { const char *name; double bytes; } units[] = {
		{ "kib", 1024.0 }, { "mib", 1048576.0 }, { "gib", 1073741824.0 },
		{ "kb", 1e3 }, { "mb", 1e6 }, { "gb", 1e9 }, { "bytes", 1.0 }, { "b", 1.0 },
	};
	const char *p = strcasestr(resp->body.buf, "limit");
	char *end;
	double v;

	if (!p)
		p = strcasestr(resp->body.buf, "maximum");
	if (!p)
		return 0;
	p += strcspn(p, "0123456789");
	v = strtod(p, &end);
	if (end == p)
		return 0;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strncasecmp(end, units[i].name, strlen(units[i].name)))
			return v * units[i].bytes >= 1 && v * units[i].bytes < 1e18 ? (uint64_t)(v * units[i].bytes) : 0;
	return 0;
}

/*
 * The registry (or a proxy before it) refused a body of `refused` bytes:
 * 413, or 416 with the upload where we thought it was (GHCR's answer to a
 * PATCH over 4 MiB).  Lower the limit for every later request of this
 * push: to the limit the answer states, else to half.  0, or -1 when
 * bodies this small are refused too (err set).
 */
static int learn_limit(struct reg_dst *d, uint64_t refused, const struct dk_http_resp *resp, const char *what,
		       struct dk_err *err)
{
	uint64_t said = stated_limit(resp), lim = said && said < refused ? said : refused / 2;

	if (refused <= MIN_BODY) {
		char *w = dk_xasprintf("%s (%llu bytes in one request)", what, (unsigned long long)refused);

		dk_reg_fail(d->reg, resp, w, err);
		free(w);
		return -1;
	}
	pthread_mutex_lock(&d->lock);
	if (lim < d->max_body) {
		d->max_body = lim;
		dk_verbose("%s: the registry refused a request body of %llu bytes (HTTP %ld); sending at most %llu from now on",
			   d->base.ref.text, (unsigned long long)refused, resp->status, (unsigned long long)lim);
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* ------------------------------------------------------------ uploads */

struct progress {
	int slot;               /* the live line, or -1 */
	uint64_t base;          /* bytes of the blob sent before this request */
};

static void on_progress(void *ctx, uint64_t now)
{
	struct progress *p = ctx;

	dk_progress_update(p->slot, p->base + now);
}

/*
 * After an answer other than success to a request carrying `n` bytes at
 * *off: 1 when the upload goes on at *off (resumed from the registry's
 * Range), 2 when it must start again in a new session (the old one is
 * gone), 0 when it cannot go on (err set; *transient when starting over
 * may help).  `answered`: resp holds an answer (else the connection broke).
 */
static int after_failure(struct reg_dst *d, struct dk_http *h, struct dk_http_resp *resp, int answered,
			 uint64_t n, char **loc, uint64_t *off, int *resumes, int *transient, const char *what,
			 struct dk_err *err)
{
	int refused = answered && n && (resp->status == 413 || resp->status == 416);
	uint64_t at = *off;
	long wait = refused ? -1 : dk_retry_delay(&d->o.reg, *resumes, resp);

	if (!refused && wait < 0) {
		/* resumes used up, or an error that no retry mends */
		*transient = dk_retry_transient(resp);
		if (answered)
			dk_reg_fail(d->reg, resp, what, err);
		return 0;
	}
	if (wait > 0)
		dk_sleep_ms(wait);
	/* ask the registry how far it got: that tells a refused body from a range mismatch too */
	if (upload_status(d, h, loc, &at, err) < 0) {
		/* the session is gone: a new one, with smaller bodies if the answer surely refused their size */
		if (!refused || (resp->status != 413 && !stated_limit(resp))) {
			*transient = 1;
			return 0;
		}
		return learn_limit(d, n, resp, what, err) < 0 ? 0 : 2;
	}
	/* the registry cannot hold more than was sent: resuming past that would skip bytes */
	if (at > *off + n) {
		dk_fail(err, DK_E_REMOTE, "%s: the registry reports %llu bytes received, of %llu sent", what,
			(unsigned long long)at, (unsigned long long)(*off + n));
		*transient = 1;
		return 0;
	}
	if (refused && (resp->status == 413 || at == *off)) {
		if (learn_limit(d, n, resp, what, err) < 0)
			return 0;
	} else {
		/* a broken chunk, or a 416 because the registry holds more or less than we thought */
		if (refused && *resumes >= (d->o.reg.retries >= 0 ? d->o.reg.retries : DK_RETRIES_DEFAULT)) {
			dk_reg_fail(d->reg, resp, what, err);
			*transient = 1;
			return 0;
		}
		(*resumes)++;
		dk_verbose("%s: chunk failed, resuming at byte %llu", d->base.ref.text, (unsigned long long)at);
	}
	*off = at;
	return 1;
}

/*
 * One upload attempt: POST (or the session a refused mount opened), then
 * either one PUT with the whole blob, or PATCHes of at most body_limit()
 * bytes and an empty PUT.  A broken PATCH is resumed from the offset the
 * registry reports; a refused body makes every later request smaller.
 * Returns 0, or -1 with *transient set when starting over may help.
 */
static int upload_once(struct reg_dst *d, struct dk_http *h, const struct dk_desc *desc, int fd,
		       uint64_t *sent, int *transient, const int *slot, struct dk_err *err)
{
	struct progress prog = { *slot, 0 };
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	char *loc = take_upload(d, desc->digest), *url = NULL;
	char *what = dk_xasprintf("%s: upload blob %s", d->base.ref.text, desc->digest);
	const char *octet[] = { "Content-Type: application/octet-stream", NULL, NULL };
	uint64_t off = 0;
	long status;
	int rc = -1, resumes = 0, chunked = 0, adopted = loc != NULL;

	*transient = 0;
	call.scope = d->scope;
	call.http = h;
	call.no_retry = 1;
	call.body.body_fd = fd;
	call.body.has_body = 1;
	call.body.progress = on_progress;
	call.body.progress_ctx = &prog;
	for (;;) {
		uint64_t limit = body_limit(d), n;
		char range[64];
		int last, answered, next;

		if (!loc) {
			if (start_upload(d, h, "", d->scope, &status, &loc, err) < 0 || !loc) {
				if (!loc && status == 201)
					dk_fail(err, DK_E_REMOTE, "%s: the registry answered 201 to an upload request", what);
				*transient = err->code == DK_E_IO;
				goto out;
			}
			off = 0;
			chunked = 0;
		}
		/* the final PUT carries the whole blob (monolithic) or nothing */
		last = chunked ? off >= desc->size : desc->size <= limit;
		n = last ? (chunked ? 0 : desc->size) : desc->size - off < limit ? desc->size - off : limit;
		free(url);
		url = last ? with_digest(loc, desc->digest) : NULL;
		snprintf(range, sizeof(range), "Content-Range: %llu-%llu", (unsigned long long)off,
			 (unsigned long long)(off + n - 1));
		octet[1] = last ? NULL : range;
		call.method = last ? "PUT" : "PATCH";
		call.path = last ? url : loc;
		call.headers = octet;
		call.body.body_off = off;
		call.body.body_size = n;
		prog.base = off;
		answered = dk_reg_do(d->reg, &call, &resp, err) == 0;
		if (answered && last && (resp.status == 201 || resp.status == 204)) {
			rc = check_created(d, &resp, desc->digest, what, err);
			*sent += rc == 0 ? n : 0;
			dk_http_resp_release(&resp);
			goto out;
		}
		if (answered && !last && resp.status == 202) {
			const char *nl = dk_http_header(&resp, "location");

			*sent += n;
			off += n;
			chunked = 1;
			adopted = 0;
			if (nl) {
				char *nloc = dk_http_resolve(loc, nl);

				free(loc);
				loc = nloc;
			}
			dk_http_resp_release(&resp);
			continue;
		}
		if (last && n == 0 && !adopted) {
			/* the empty final PUT: nothing to resume or shrink */
			*transient = dk_retry_transient(&resp);
			if (answered)
				dk_reg_fail(d->reg, &resp, what, err);
			dk_http_resp_release(&resp);
			goto out;
		}
		next = after_failure(d, h, &resp, answered, n, &loc, &off, &resumes, transient, what, err);
		dk_http_resp_release(&resp);
		if (!next && !adopted)
			goto out;
		if (!next)
			/* a session a mount opened may not take uploads after all: one fresh start */
			dk_verbose("%s: the upload session of the mount failed (%s); opening another", d->base.ref.text,
				   err->msg);
		if (next != 1) {
			adopted = 0;
			free(loc);
			loc = NULL;
		} else if (!last || off) {
			chunked = 1;
		}
	}
out:
	free(loc);
	free(url);
	free(what);
	return rc;
}

static int rdst_put_blob(struct dk_image_dst *base, const struct dk_desc *desc, const char *path,
			 struct dk_err *err)
{
	struct reg_dst *d = (struct reg_dst *)base;
	struct dk_http *h;
	uint64_t sent = 0;
	int fd, transient, rc = -1, slot;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dk_fail_errno(err, DK_E_IO, "open %s", path);
	h = regt_pool_get(&d->pool);
	slot = d->o.progress >= 1 ? dk_progress_start(desc->digest, desc->size) : -1;
	for (int attempt = 0;; attempt++) {
		long wait;

		rc = upload_once(d, h, desc, fd, &sent, &transient, &slot, err);
		if (rc == 0 || !transient || (wait = dk_retry_delay(&d->o.reg, attempt, NULL)) < 0)
			break;
		dk_verbose("%s: upload of %s failed (%s); starting over in %ld ms", base->ref.text, desc->digest,
			   err->msg, wait);
		dk_sleep_ms(wait);
	}
	regt_pool_put(&d->pool, h);
	close(fd);
	if (rc == 0)
		dk_image_dst_note(base, desc->digest, "uploaded", desc->size, sent);
	dk_progress_done(slot, rc == 0 ? "uploaded" : "failed", base->ref.text);
	return rc;
}

static int rdst_put_manifest(struct dk_image_dst *base, const struct dk_manifest_blob *m, struct dk_err *err)
{
	struct reg_dst *d = (struct reg_dst *)base;

	(void)err;
	dk_manifest_blob_free(&d->manifest);
	d->manifest.desc = m->desc;
	d->manifest.bytes = dk_xmalloc(m->len + 1);
	memcpy(d->manifest.bytes, m->bytes, m->len);
	d->manifest.len = m->len;
	d->have_manifest = 1;
	return 0;
}

/* PUT m as /manifests/REFERENCE (a tag or its digest). */
static int put_manifest_as(struct reg_dst *d, const struct dk_manifest_blob *m, const char *reference,
			   struct dk_err *err)
{
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	char *ct = dk_xasprintf("Content-Type: %s", m->desc.media_type);
	const char *headers[] = { ct, NULL };
	char *path = dk_xasprintf("/v2/%s/manifests/%s", d->base.ref.docker.repository, reference);
	/* the image's own manifest is "the" manifest; one an index names is told by its digest */
	char *what = strcmp(reference, m->desc.digest) ? dk_xasprintf("%s: PUT manifest", d->base.ref.text) :
		     dk_xasprintf("%s: PUT manifest %s", d->base.ref.text, reference);
	int rc = -1;

	call.method = "PUT";
	call.path = path;
	call.scope = d->scope;
	call.headers = headers;
	call.body.body = m->bytes;
	call.body.body_len = m->len;
	call.body.body_fd = -1;
	call.body.has_body = 1;
	if (dk_reg_do(d->reg, &call, &resp, err) < 0) {
		dk_err_prefix(err, "%s", what);
		goto out;
	}
	rc = check_created(d, &resp, m->desc.digest, what, err);
	dk_http_resp_release(&resp);
out:
	free(ct);
	free(path);
	free(what);
	return rc;
}

/* A manifest an index names goes up by digest, before the index: a registry checks the index's references. */
static int rdst_put_child(struct dk_image_dst *base, const struct dk_manifest_blob *m, struct dk_err *err)
{
	return put_manifest_as((struct reg_dst *)base, m, m->desc.digest, err);
}

/* The manifest goes last, once every blob it names is there: that makes the image visible. */
static int rdst_commit(struct dk_image_dst *base, struct dk_err *err)
{
	struct reg_dst *d = (struct reg_dst *)base;
	const struct dk_dockerref *r = &base->ref.docker;

	if (!d->have_manifest)
		return dk_fail(err, DK_E_INTERNAL, "%s: commit without a manifest", base->ref.text);
	if (!r->tag && r->digest && strcmp(r->digest, d->manifest.desc.digest))
		return dk_fail(err, DK_E_REF, "%s: the image's digest is %s", base->ref.text, d->manifest.desc.digest);
	return put_manifest_as(d, &d->manifest, r->tag ? r->tag : r->digest ? r->digest : "latest", err);
}

/* Cancel the sessions mounts opened that no upload used (the blob's source failed): DELETE, best effort. */
static void cancel_held(struct reg_dst *d)
{
	for (size_t i = 0; i < d->n_held; i++) {
		struct dk_reg_call call = { 0 };
		struct dk_http_resp resp;
		struct dk_err ignored;

		call.method = "DELETE";
		call.path = d->held[i].location;
		call.scope = d->scope;
		call.body.body_fd = -1;
		call.no_retry = 1;
		if (dk_reg_do(d->reg, &call, &resp, &ignored) == 0)
			dk_http_resp_release(&resp);
		free(d->held[i].location);
	}
	free(d->held);
}

static void rdst_close(struct dk_image_dst *base)
{
	struct reg_dst *d = (struct reg_dst *)base;

	cancel_held(d);
	for (size_t i = 0; i < d->n_no_mount; i++)
		free(d->no_mount[i]);
	free(d->no_mount);
	pthread_mutex_destroy(&d->lock);
	regt_pool_free(&d->pool);
	dk_manifest_blob_free(&d->manifest);
	dk_registry_free(d->reg);
	free(d->scope);
	dk_image_dst_release_notes(base);
	dk_ref_free(&base->ref);
	free(d);
}

static const struct dk_image_dst_ops rdst_ops = {
	rdst_mount_blob, rdst_put_blob, rdst_put_manifest, rdst_commit, rdst_close, rdst_put_child,
};

int dk_registry_dst_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			 struct dk_image_dst **out, struct dk_err *err)
{
	struct reg_dst *d = dk_xcalloc(1, sizeof(*d));

	d->base.ops = &rdst_ops;
	regt_pool_init(&d->pool, NULL);
	pthread_mutex_init(&d->lock, NULL);
	dk_ref_copy(&d->base.ref, ref);
	if (o)
		d->o = *o;
	else
		d->o.reg.retries = -1;
	d->max_body = d->o.chunk_size ? d->o.chunk_size : DEFAULT_CHUNK;
	d->scope = dk_xasprintf("repository:%s:pull,push", ref->docker.repository);
	if (regt_open(ref, o, &d->reg, err) < 0) {
		rdst_close(&d->base);
		return -1;
	}
	d->pool.reg = d->reg;
	dk_progress_init(d->o.progress >= 2);
	*out = &d->base;
	return 0;
}
