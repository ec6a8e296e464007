/*
 * registry_transport.h - what the registry transport's source
 * (registry_src.c) and destination (registry_dst.c) share; private to
 * src/transport/.  See registry.c.
 */
#ifndef DERRICK_REGISTRY_TRANSPORT_H
#define DERRICK_REGISTRY_TRANSPORT_H

#include <pthread.h>

#include "derrick/http.h"
#include "derrick/registry.h"
#include "derrick/transport.h"

/*
 * Connections for parallel transfers: a curl handle serves one thread at a
 * time, so each transfer borrows one and gives it back.
 */
struct regt_pool {
	pthread_mutex_t lock;
	struct dk_registry *reg;
	struct dk_http **v;
	size_t n;
};

void regt_pool_init(struct regt_pool *p, struct dk_registry *reg);
/* A connection of the pool's (made on demand); give it back with regt_pool_put. */
struct dk_http *regt_pool_get(struct regt_pool *p);
void regt_pool_put(struct regt_pool *p, struct dk_http *h);
void regt_pool_free(struct regt_pool *p);

/* The registry that ref names, with o's credentials, TLS and retry settings (o may be NULL). */
int regt_open(const struct dk_ref *ref, const struct dk_transport_opts *o, struct dk_registry **out,
	      struct dk_err *err);
/* "sha256:..." from a Docker-Content-Digest header, or NULL when it is missing or another algorithm. */
const char *regt_header_digest(const struct dk_http_resp *resp);
/* HEAD a blob in ref's repository: 1 there, 0 not there, -1 (err set) for any other answer. */
int regt_head_blob(struct dk_registry *reg, struct dk_http *h, const struct dk_ref *ref, const char *scope,
		   const struct dk_desc *desc, struct dk_err *err);

#endif
