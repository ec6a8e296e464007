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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/log.h"
#include "derrick/transport.h"
#include "derrick/util.h"
#include "registry_transport.h"

char *dk_cache_dir(const struct dk_transport_opts *o)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (o && o->cache_dir)
		return dk_xstrdup(o->cache_dir);
	if (x && *x)
		return dk_path_join(x, "derrick");
	return home && *home ? dk_path_join(home, ".cache/derrick") : dk_tmp_path(".cache/derrick");
}

int regt_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
	      struct dk_registry **out, struct dk_err *err)
{
	struct dk_reg_opts ro = o ? o->reg : (struct dk_reg_opts){ .tls_verify = 1, .retries = -1 };

	if (dk_registry_open(ref->docker.registry, ref->docker.endpoint, &ro, out, err) < 0)
		return dk_err_prefix(err, "%s", ref->text);
	return 0;
}

/* "sha256:..." from a header value, or NULL when it is missing or another algorithm. */
const char *regt_header_digest(const struct dk_http_resp *resp)
{
	const char *d = dk_http_header(resp, "docker-content-digest");

	return d && dk_digest_valid(d) ? d : NULL;
}

void regt_pool_init(struct regt_pool *p, struct dk_registry *reg)
{
	pthread_mutex_init(&p->lock, NULL);
	p->reg = reg;
	p->v = NULL;
	p->n = 0;
}

struct dk_http *regt_pool_get(struct regt_pool *p)
{
	struct dk_http *h;

	pthread_mutex_lock(&p->lock);
	h = p->n ? p->v[--p->n] : dk_registry_http(p->reg);
	pthread_mutex_unlock(&p->lock);
	return h;
}

void regt_pool_put(struct regt_pool *p, struct dk_http *h)
{
	pthread_mutex_lock(&p->lock);
	p->v = dk_xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n++] = h;
	pthread_mutex_unlock(&p->lock);
}

void regt_pool_free(struct regt_pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		dk_http_free(p->v[i]);
	free(p->v);
	pthread_mutex_destroy(&p->lock);
}

/* HEAD a blob in ref's repository: 1 there, 0 not there, -1 (err set) for any other answer. */
int regt_head_blob(struct dk_registry *reg, struct dk_http *h, const struct dk_ref *ref, const char *scope,
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
