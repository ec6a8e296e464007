/*
 * dockerref.h - distribution image references, the names `docker pull`
 * accepts: [HOST[:PORT]/]PATH[:TAG][@DIGEST].
 *
 * The grammar and the Docker Hub defaults follow distribution/reference:
 * the first '/'-separated component names a registry only if it contains
 * '.' or ':' or is "localhost"; otherwise the registry is docker.io and a
 * one-component path gets "library/".  Only sha256 digests are accepted,
 * because that is the only algorithm we can verify.
 */
#ifndef DERRICK_DOCKERREF_H
#define DERRICK_DOCKERREF_H

#include "derrick/err.h"

struct dk_dockerref {
	char *registry;    /* as the user means it: "docker.io", "localhost:5000", "127.0.0.1:5000", "[::1]:5000" */
	char *endpoint;    /* the host[:port] to connect to: "registry-1.docker.io" for docker.io, else = registry */
	char *repository;  /* "library/python" for "python"; "org/app" */
	char *tag;         /* NULL when none was given */
	char *digest;      /* "sha256:<64 hex>" or NULL */
};

/*
 * Parse REF ("python:3.12", "localhost:5000/app@sha256:...",
 * "ghcr.io/org/app:1.0@sha256:...").  On error: -1, DK_E_REF, R zeroed
 * (so dk_dockerref_free(R) is harmless), and a one-line message quoting the
 * reference and naming the rule it breaks, e.g.
 *   image reference "Foo/bar": repository name must be lowercase
 * "index.docker.io" (any case) and "docker.io" in any case become "docker.io".
 */
int dk_dockerref_parse(const char *s, struct dk_dockerref *r, struct dk_err *err);

/* Free the strings and zero R; safe on a zeroed struct and twice. */
void dk_dockerref_free(struct dk_dockerref *r);

/* What to ask the registry for: the digest if any, else the tag, else "latest". */
const char *dk_dockerref_reference(const struct dk_dockerref *r);

/* Canonical text "REGISTRY/REPO[:TAG][@DIGEST]" (new string), e.g. "docker.io/library/python:3.12". */
char *dk_dockerref_string(const struct dk_dockerref *r);

/* Copy (deep).  DST is overwritten, not freed first. */
void dk_dockerref_copy(struct dk_dockerref *dst, const struct dk_dockerref *src);

#endif
