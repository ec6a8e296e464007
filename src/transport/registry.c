/*
 * registry.c - the "docker://REF" transport: an image in a registry,
 * spoken to over the OCI distribution API (src/registry/client.c does the talking).
 *
 * Reading: manifests are fetched with an Accept list covering OCI and
 * Docker schema 2 manifests and indexes; an index resolves to the wanted
 * platform; every manifest and blob is checked against its digest and size
 * before use.  Layer blobs go through a content-addressed cache shared by
 * all runs (temporary file + rename, so concurrent runs are safe).
 *
 * Writing: per blob, HEAD (skip if present), else a cross-repository
 * mount when the blob is known to live in another repository of the same
 * registry, else an upload: POST + PUT for small blobs, chunked PATCHes for
 * large ones, resuming from the registry's Range after a broken chunk.
 * The manifest is PUT at commit, after every blob.
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

#define DEFAULT_CHUNK (16u << 20)

static const char *const accept_manifests[] = {
	"Accept: " DK_MT_OCI_MANIFEST ", " DK_MT_OCI_INDEX ", " DK_MT_DOCKER_MANIFEST ", " DK_MT_DOCKER_LIST,
	NULL,
};

char *dk_cache_dir(const struct dk_transport_opts *o)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (o && o->cache_dir)
		return dk_xstrdup(o->cache_dir);
	if (x && *x)
		return dk_path_join(x, "derrick");
	return home && *home ? dk_path_join(home, ".cache/derrick") : dk_tmp_path(".cache/derrick");
}

static int open_registry(const struct dk_ref *ref, const struct dk_transport_opts *o,
			 struct dk_registry **out, struct dk_err *err)
{
	struct dk_reg_opts ro = o ? o->reg : (struct dk_reg_opts){ .tls_verify = 1, .retries = -1 };

	if (dk_registry_open(ref->docker.registry, ref->docker.endpoint, &ro, out, err) < 0)
		return dk_err_prefix(err, "%s", ref->text);
	return 0;
}

/* "sha256:..." from a header value, or NULL when it is missing or another algorithm. */
static const char *header_digest(const struct dk_http_resp *resp)
{
	const char *d = dk_http_header(resp, "docker-content-digest");

	return d && dk_digest_valid(d) ? d : NULL;
}

/*
 * Connections for parallel transfers: a curl handle serves one thread at a
 * time, so each transfer borrows one and gives it back.
 */
struct http_pool {
	pthread_mutex_t lock;
	struct dk_registry *reg;
	struct dk_http **v;
	size_t n;
};

static void pool_init(struct http_pool *p, struct dk_registry *reg)
{
	pthread_mutex_init(&p->lock, NULL);
	p->reg = reg;
	p->v = NULL;
	p->n = 0;
}

static struct dk_http *pool_get(struct http_pool *p)
{
	struct dk_http *h;

	pthread_mutex_lock(&p->lock);
	h = p->n ? p->v[--p->n] : dk_registry_http(p->reg);
	pthread_mutex_unlock(&p->lock);
	return h;
}

static void pool_put(struct http_pool *p, struct dk_http *h)
{
	pthread_mutex_lock(&p->lock);
	p->v = dk_xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n++] = h;
	pthread_mutex_unlock(&p->lock);
}

static void pool_free(struct http_pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		dk_http_free(p->v[i]);
	free(p->v);
	pthread_mutex_destroy(&p->lock);
}

/* HEAD a blob in ref's repository: 1 there, 0 not there, -1 (err set) for any other answer. */
static int head_blob(struct dk_registry *reg, struct dk_http *h, const struct dk_ref *ref, const char *scope,
		     const struct dk_desc *desc, struct dk_err *err)
{
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	char *path = dk_xasprintf("/v2/%s/blobs/%s", ref->docker.repository, desc->digest);
	int rc;

	call.method = "HEAD";
	call.path = path;
	call.scope = scope;
	call.body.body_fd = -1;
	call.http = h;
	rc = dk_reg_do(reg, &call, &resp, err);
	free(path);
	if (rc < 0)
		return dk_err_prefix(err, "%s: HEAD blob %s", ref->text, desc->digest);
	rc = resp.status == 200 ? 1 : resp.status == 404 ? 0 : -1;
	if (rc < 0) {
		char *what = dk_xasprintf("%s: HEAD blob %s", ref->text, desc->digest);

		dk_reg_fail(reg, &resp, what, err);
		free(what);
	}
	dk_http_resp_release(&resp);
	return rc;
}

/* ------------------------------------------------------------ references */

/* After docker:// (or a bare REF): [HOST/]REPO[:TAG][@DIGEST], see dockerref.h. */
int dk_registry_parse(const char *text, const char *rest, struct dk_ref *r, struct dk_err *err)
{
	(void)text;
	return dk_dockerref_parse(rest, &r->docker, err);
}

/* A registry has no local path; without a tag, the reference as it was written. */
char *dk_registry_format(const struct dk_ref *r, const char *path, const char *tag)
{
	(void)path;
	if (!tag)
		return dk_xstrdup(r->text);
	return dk_xasprintf("%s%s/%s:%s", r->transport->prefix, r->docker.registry, r->docker.repository, tag);
}

/* ------------------------------------------------------------ source */

struct reg_src {
	struct dk_image_src base;
	struct dk_registry *reg;
	char *scope;
	struct dk_transport_opts o;
	char *cache_root;
	struct dk_blobs cache;
	int cache_open;         /* under lock: blob_file runs on several threads */
	pthread_mutex_t lock;
	struct http_pool pool;
};

/* GET a manifest by tag or digest, checked against `want_digest` when given. */
static int fetch_manifest(struct reg_src *s, const char *reference, const char *want_digest,
			  struct dk_manifest_blob *out, struct dk_err *err)
{
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	char *path = dk_xasprintf("/v2/%s/manifests/%s", s->base.ref.docker.repository, reference);
	char *what = dk_xasprintf("%s: manifest %s", s->base.ref.text, reference);
	const char *ct, *hd;
	char got[DK_DIGEST_SIZE];
	int rc = -1;

	call.method = "GET";
	call.path = path;
	call.scope = s->scope;
	call.headers = accept_manifests;
	call.body.body_fd = -1;
	call.body.max_body = DK_MANIFEST_MAX;
	memset(out, 0, sizeof(*out));
	if (dk_reg_do(s->reg, &call, &resp, err) < 0) {
		dk_err_prefix(err, "%s", s->base.ref.text);
		goto done;
	}
	if (resp.status != 200) {
		dk_reg_fail(s->reg, &resp, what, err);
		goto release;
	}
	if (resp.body_truncated) {
		dk_fail(err, DK_E_CORRUPT, "%s: larger than %u bytes", what, DK_MANIFEST_MAX);
		goto release;
	}
	dk_sha256_buf(resp.body.buf, resp.body.len, got);
	hd = header_digest(&resp);
	if ((want_digest && strcmp(got, want_digest)) || (hd && strcmp(got, hd))) {
		dk_fail(err, DK_E_CORRUPT, "%s: content hashes to %s, expected %s", what, got,
			want_digest ? want_digest : hd);
		goto release;
	}
	ct = dk_http_header(&resp, "content-type");
	out->desc.size = resp.body.len;
	memcpy(out->desc.digest, got, DK_DIGEST_SIZE);
	snprintf(out->desc.media_type, sizeof(out->desc.media_type), "%.*s",
		 ct ? (int)strcspn(ct, ";") : 0, ct ? ct : "");
	if (!out->desc.media_type[0] || !strcmp(out->desc.media_type, "application/json")) {
		/* some registries omit it: the document names itself */
		json_t *j = json_loadb(resp.body.buf, resp.body.len, 0, NULL);
		const char *mt = json_string_value(json_object_get(j, "mediaType"));

		snprintf(out->desc.media_type, sizeof(out->desc.media_type), "%s",
			 mt ? mt : json_object_get(j, "manifests") ? DK_MT_OCI_INDEX : DK_MT_OCI_MANIFEST);
		json_decref(j);
	}
	if (strstr(out->desc.media_type, "application/vnd.docker.distribution.manifest.v1")) {
		dk_fail(err, DK_E_CORRUPT, "%s: Docker schema 1 manifests are obsolete and not supported", what);
		goto release;
	}
	out->len = resp.body.len;
	out->bytes = sb_detach(&resp.body);
	rc = 0;
release:
	dk_http_resp_release(&resp);
done:
	free(path);
	free(what);
	return rc;
}

static int rsrc_get_manifest(struct dk_image_src *base, const struct dk_platform *want,
			     struct dk_manifest_blob *out, struct dk_err *err)
{
	struct reg_src *s = (struct reg_src *)base;
	const struct dk_dockerref *d = &base->ref.docker;
	struct dk_desc pick;

	if (fetch_manifest(s, dk_dockerref_reference(d), d->digest, out, err) < 0)
		return -1;
	if (!dk_media_is_index(out->desc.media_type))
		return 0;
	if (dk_index_select(out->bytes, out->len, base->ref.text, want, &pick, err) < 0) {
		dk_manifest_blob_free(out);
		return -1;
	}
	dk_manifest_blob_free(out);
	if (fetch_manifest(s, pick.digest, pick.digest, out, err) < 0)
		return -1;
	if (out->desc.size != pick.size) {
		dk_manifest_blob_free(out);
		return dk_fail(err, DK_E_CORRUPT, "%s: manifest %s has %zu bytes, the index says %llu",
			       base->ref.text, pick.digest, out->len, (unsigned long long)pick.size);
	}
	return 0;
}

static int rsrc_read_blob(struct dk_image_src *base, const struct dk_desc *d, size_t max,
			  char **buf, size_t *len, struct dk_err *err)
{
	struct reg_src *s = (struct reg_src *)base;
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	char *path = dk_xasprintf("/v2/%s/blobs/%s", base->ref.docker.repository, d->digest);
	char *what = dk_xasprintf("%s: blob %s", base->ref.text, d->digest);
	char got[DK_DIGEST_SIZE];
	int rc = -1;

	call.method = "GET";
	call.path = path;
	call.scope = s->scope;
	call.body.body_fd = -1;
	call.body.max_body = max;
	if (dk_reg_do(s->reg, &call, &resp, err) < 0) {
		dk_err_prefix(err, "%s", what);
		goto done;
	}
	if (resp.status != 200) {
		dk_reg_fail(s->reg, &resp, what, err);
	} else if (resp.body_truncated) {
		dk_fail(err, DK_E_CORRUPT, "%s: larger than %zu bytes", what, max);
	} else {
		dk_sha256_buf(resp.body.buf, resp.body.len, got);
		if (strcmp(got, d->digest) || resp.body.len != d->size) {
			dk_fail(err, DK_E_CORRUPT, "%s: the registry served %zu bytes hashing to %s (expected %llu bytes)",
				what, resp.body.len, got, (unsigned long long)d->size);
		} else {
			*len = resp.body.len;
			*buf = sb_detach(&resp.body);
			rc = 0;
		}
	}
	dk_http_resp_release(&resp);
done:
	free(path);
	free(what);
	return rc;
}

/*
 * A download writes through a relay into (hash -> file).  A retry
 * truncates the file and replaces the hash stage; the relay, which the
 * HTTP request holds on to, stays the same.
 */
struct download {
	struct dk_sink relay;
	int fd;
	struct dk_sink *file, *hash;
};

static int relay_write(struct dk_sink *s, const void *buf, size_t len, struct dk_err *err)
{
	struct download *dl = (struct download *)s;

	return dk_sink_write(dl->hash, buf, len, err);
}

static int relay_close(struct dk_sink *s, struct dk_err *err)
{
	(void)s;
	(void)err;
	return 0;
}

static void relay_free(struct dk_sink *s)
{
	(void)s;
}

static const struct dk_sink_ops relay_ops = { relay_write, relay_close, relay_free };

static void download_sinks(struct download *dl)
{
	dk_sink_free(dl->hash);
	dk_sink_free(dl->file);
	dl->file = dk_sink_fd(dl->fd, "blob download");
	dl->hash = dk_sink_hash(dl->file);
}

/* A retry starts the file over. */
static int download_rewind(void *ctx, struct dk_err *err)
{
	struct download *dl = ctx;

	if (ftruncate(dl->fd, 0) < 0 || lseek(dl->fd, 0, SEEK_SET) < 0)
		return dk_fail_errno(err, DK_E_IO, "restart blob download");
	download_sinks(dl);
	return 0;
}

static int ensure_cache(struct reg_src *s, struct dk_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (!s->cache_open) {
		s->cache_root = dk_cache_dir(&s->o);
		if (dk_blobs_open(&s->cache, s->cache_root, 1, err) < 0)
			rc = dk_err_prefix(err, "blob cache");
		else
			s->cache_open = 1;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int rsrc_blob_file(struct dk_image_src *base, const struct dk_desc *d, char **out, struct dk_err *err)
{
	struct reg_src *s = (struct reg_src *)base;
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	struct download dl = { { &relay_ops, NULL }, -1, NULL, NULL };
	struct dk_http *h;
	char *tmp = NULL, *path = NULL, *what = NULL;
	struct stat st;
	int rc = -1;

	if (ensure_cache(s, err) < 0)
		return -1;
	*out = dk_blobs_path(&s->cache, d->digest);
	/* blobs enter the cache only verified, by rename: a present one is whole */
	if (stat(*out, &st) == 0 && (uint64_t)st.st_size == d->size) {
		dk_verbose("%s: blob %s from the cache", base->ref.text, d->digest);
		return 0;
	}
	dl.fd = dk_blobs_tmp(&s->cache, &tmp, err);
	if (dl.fd < 0)
		goto out;
	download_sinks(&dl);
	path = dk_xasprintf("/v2/%s/blobs/%s", base->ref.docker.repository, d->digest);
	what = dk_xasprintf("%s: blob %s", base->ref.text, d->digest);
	call.method = "GET";
	call.path = path;
	call.scope = s->scope;
	call.body.body_fd = -1;
	call.body.out = &dl.relay;
	call.rewind = download_rewind;
	call.rewind_ctx = &dl;
	call.http = h = pool_get(&s->pool);
	rc = dk_reg_do(s->reg, &call, &resp, err);
	pool_put(&s->pool, h);
	if (rc < 0) {
		dk_err_prefix(err, "%s", what);
		goto out;
	}
	rc = -1;
	if (resp.status != 200) {
		dk_reg_fail(s->reg, &resp, what, err);
		dk_http_resp_release(&resp);
		goto out;
	}
	dk_http_resp_release(&resp);
	if (dk_sink_close(dl.hash, err) < 0)
		goto out;
	if (strcmp(dk_sink_hash_digest(dl.hash), d->digest) || dk_sink_hash_size(dl.hash) != d->size) {
		dk_fail(err, DK_E_CORRUPT, "%s: the registry served %llu bytes hashing to %s (expected %llu bytes)",
			what, (unsigned long long)dk_sink_hash_size(dl.hash), dk_sink_hash_digest(dl.hash),
			(unsigned long long)d->size);
		goto out;
	}
	rc = dk_blobs_commit(&s->cache, dl.fd, tmp, d->digest, err);
	dl.fd = -1;
	tmp = NULL;
	if (rc == 0)
		dk_verbose("%s: fetched blob %s", base->ref.text, d->digest);
out:
	dk_sink_free(dl.hash);
	dk_sink_free(dl.file);
	if (tmp)
		dk_blobs_discard(dl.fd, tmp);
	free(path);
	free(what);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

static int rsrc_has_blob(struct dk_image_src *base, const struct dk_desc *d, struct dk_err *err)
{
	struct reg_src *s = (struct reg_src *)base;

	return head_blob(s->reg, NULL, &base->ref, s->scope, d, err);
}

static void rsrc_close(struct dk_image_src *base)
{
	struct reg_src *s = (struct reg_src *)base;

	pool_free(&s->pool);
	pthread_mutex_destroy(&s->lock);
	dk_registry_free(s->reg);
	if (s->cache_open)
		dk_blobs_close(&s->cache);
	free(s->cache_root);
	free(s->scope);
	dk_ref_free(&base->ref);
	free(s);
}

static const struct dk_image_src_ops rsrc_ops = {
	rsrc_get_manifest, rsrc_read_blob, rsrc_blob_file, rsrc_has_blob, rsrc_close,
};

int dk_registry_src_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			 struct dk_image_src **out, struct dk_err *err)
{
	struct reg_src *s = dk_xcalloc(1, sizeof(*s));

	s->base.ops = &rsrc_ops;
	dk_ref_copy(&s->base.ref, ref);
	if (o)
		s->o = *o;
	s->scope = dk_xasprintf("repository:%s:pull", ref->docker.repository);
	pthread_mutex_init(&s->lock, NULL);
	pool_init(&s->pool, NULL);
	if (open_registry(ref, o, &s->reg, err) < 0) {
		rsrc_close(&s->base);
		return -1;
	}
	s->pool.reg = s->reg;
	*out = &s->base;
	return 0;
}

/* ------------------------------------------------------------ destination */

struct reg_dst {
	struct dk_image_dst base;
	struct dk_registry *reg;
	char *scope;
	struct dk_transport_opts o;
	struct dk_manifest_blob manifest;
	int have_manifest;
	struct http_pool pool;  /* connections for parallel uploads */
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

static int rdst_mount_blob(struct dk_image_dst *base, const struct dk_desc *desc, const struct dk_ref *from,
			   struct dk_err *err)
{
	struct reg_dst *d = (struct reg_dst *)base;
	struct dk_http *h = pool_get(&d->pool);
	char *query = NULL, *scope = NULL, *loc = NULL;
	long status = 0;
	int exists, rc = 0;

	exists = head_blob(d->reg, h, &base->ref, d->scope, desc, err);
	if (exists < 0) {
		rc = -1;
	} else if (exists) {
		note(d, desc, "existed", 0);
		rc = 1;
	} else if (from && from->transport == base->ref.transport &&
		   !strcmp(from->docker.registry, base->ref.docker.registry) &&
		   strcmp(from->docker.repository, base->ref.docker.repository)) {
		/* a mount needs pull rights on the source repository as well */
		query = dk_xasprintf("?mount=%s&from=%s", desc->digest, from->docker.repository);
		scope = dk_xasprintf("%s repository:%s:pull", d->scope, from->docker.repository);
		if (start_upload(d, h, query, scope, &status, &loc, err) < 0) {
			rc = -1;
		} else if (status == 201) {
			note(d, desc, "mounted", 0);
			rc = 1;
		}
		/* 202: the registry opened an upload instead; it expires on its own */
	}
	pool_put(&d->pool, h);
	free(query);
	free(scope);
	free(loc);
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
	const char *hd = header_digest(resp);

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

		/* "0-N" means N+1 bytes arrived; no Range means none did */
		*next = dash ? strtoull(dash + 1, NULL, 10) + 1 : 0;
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
 * One upload attempt: POST, then either one PUT with the whole blob or
 * PATCHes of chunk bytes.  A broken PATCH is resumed from the offset the
 * registry reports.  Returns 0, or -1 with *transient set when starting
 * over may help.
 */
static int upload_once(struct reg_dst *d, struct dk_http *h, const struct dk_desc *desc, int fd,
		       uint64_t *sent, int *transient, const int *slot, struct dk_err *err)
{
	uint64_t chunk = d->o.chunk_size ? d->o.chunk_size : DEFAULT_CHUNK;
	struct progress prog = { *slot, 0 };
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	char *loc = NULL, *url = NULL, *what = dk_xasprintf("%s: upload blob %s", d->base.ref.text, desc->digest);
	const char *octet[] = { "Content-Type: application/octet-stream", NULL, NULL };
	uint64_t off = 0;
	long status;
	int rc = -1, resumes = 0, answered;

	*transient = 0;
	if (start_upload(d, h, "", d->scope, &status, &loc, err) < 0 || !loc) {
		if (!loc && status == 201)
			dk_fail(err, DK_E_REMOTE, "%s: the registry answered 201 to an upload request", what);
		*transient = err->code == DK_E_IO;
		goto out;
	}
	call.scope = d->scope;
	call.http = h;
	call.no_retry = 1;
	call.body.body_fd = fd;
	call.body.progress = on_progress;
	call.body.progress_ctx = &prog;
	while (desc->size > chunk && off < desc->size) {
		uint64_t n = desc->size - off < chunk ? desc->size - off : chunk;
		char range[64];
		long wait;

		snprintf(range, sizeof(range), "Content-Range: %llu-%llu", (unsigned long long)off,
			 (unsigned long long)(off + n - 1));
		octet[1] = range;
		call.method = "PATCH";
		call.path = loc;
		call.headers = octet;
		call.body.body_off = off;
		call.body.body_size = n;
		call.body.has_body = 1;
		prog.base = off;
		answered = dk_reg_do(d->reg, &call, &resp, err) == 0;
		if (answered && resp.status == 202) {
			const char *nl = dk_http_header(&resp, "location");

			*sent += n;
			off += n;
			if (nl) {
				char *next = dk_http_resolve(loc, nl);

				free(loc);
				loc = next;
			}
			dk_http_resp_release(&resp);
			continue;
		}
		wait = dk_retry_delay(&d->o.reg, resumes++, &resp);
		if (wait >= 0) {
			/* broken or refused chunk: ask the registry how far it got, go on from there */
			dk_http_resp_release(&resp);
			dk_sleep_ms(wait);
			if (upload_status(d, h, &loc, &off, err) < 0) {
				*transient = 1;
				goto out;
			}
			dk_verbose("%s: chunk failed, resuming at byte %llu", d->base.ref.text, (unsigned long long)off);
			continue;
		}
		/* resumes used up, or 416 (our idea of the offset and the registry's differ): start over */
		*transient = dk_retry_transient(&resp) || resp.status == 416;
		if (answered)
			dk_reg_fail(d->reg, &resp, what, err);
		dk_http_resp_release(&resp);
		goto out;
	}
	/* the final PUT carries the whole blob (monolithic) or nothing */
	url = with_digest(loc, desc->digest);
	octet[1] = NULL;
	call.method = "PUT";
	call.path = url;
	call.headers = octet;
	call.body.body_off = 0;
	call.body.body_size = off < desc->size ? desc->size : 0;
	call.body.has_body = 1;
	prog.base = 0;
	answered = dk_reg_do(d->reg, &call, &resp, err) == 0;
	*transient = dk_retry_transient(&resp);
	if (!answered)
		goto out;
	if (check_created(d, &resp, desc->digest, what, err) == 0) {
		*sent += call.body.body_size;
		rc = 0;
	}
	dk_http_resp_release(&resp);
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
	h = pool_get(&d->pool);
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
	pool_put(&d->pool, h);
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

/* The manifest goes last, once every blob it names is there: that makes the image visible. */
static int rdst_commit(struct dk_image_dst *base, struct dk_err *err)
{
	struct reg_dst *d = (struct reg_dst *)base;
	const struct dk_dockerref *r = &base->ref.docker;
	const char *reference = r->tag ? r->tag : r->digest ? r->digest : "latest";
	struct dk_reg_call call = { 0 };
	struct dk_http_resp resp;
	char *ct = dk_xasprintf("Content-Type: %s", d->manifest.desc.media_type);
	const char *headers[] = { ct, NULL };
	char *path = dk_xasprintf("/v2/%s/manifests/%s", r->repository, reference);
	char *what = dk_xasprintf("%s: PUT manifest", base->ref.text);
	int rc = -1;

	if (!d->have_manifest) {
		rc = dk_fail(err, DK_E_INTERNAL, "%s: commit without a manifest", base->ref.text);
		goto out;
	}
	if (!r->tag && r->digest && strcmp(r->digest, d->manifest.desc.digest)) {
		rc = dk_fail(err, DK_E_REF, "%s: the image's digest is %s", base->ref.text, d->manifest.desc.digest);
		goto out;
	}
	call.method = "PUT";
	call.path = path;
	call.scope = d->scope;
	call.headers = headers;
	call.body.body = d->manifest.bytes;
	call.body.body_len = d->manifest.len;
	call.body.body_fd = -1;
	call.body.has_body = 1;
	if (dk_reg_do(d->reg, &call, &resp, err) < 0) {
		dk_err_prefix(err, "%s", what);
		goto out;
	}
	rc = check_created(d, &resp, d->manifest.desc.digest, what, err);
	dk_http_resp_release(&resp);
out:
	free(ct);
	free(path);
	free(what);
	return rc;
}

static void rdst_close(struct dk_image_dst *base)
{
	struct reg_dst *d = (struct reg_dst *)base;

	pool_free(&d->pool);
	dk_manifest_blob_free(&d->manifest);
	dk_registry_free(d->reg);
	free(d->scope);
	dk_image_dst_release_notes(base);
	dk_ref_free(&base->ref);
	free(d);
}

static const struct dk_image_dst_ops rdst_ops = {
	rdst_mount_blob, rdst_put_blob, rdst_put_manifest, rdst_commit, rdst_close,
};

int dk_registry_dst_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			 struct dk_image_dst **out, struct dk_err *err)
{
	struct reg_dst *d = dk_xcalloc(1, sizeof(*d));

	d->base.ops = &rdst_ops;
	pool_init(&d->pool, NULL);
	dk_ref_copy(&d->base.ref, ref);
	if (o)
		d->o = *o;
	else
		d->o.reg.retries = -1;
	d->scope = dk_xasprintf("repository:%s:pull,push", ref->docker.repository);
	if (open_registry(ref, o, &d->reg, err) < 0) {
		rdst_close(&d->base);
		return -1;
	}
	d->pool.reg = d->reg;
	dk_progress_init(d->o.progress >= 2);
	*out = &d->base;
	return 0;
}
