/*
 * ref.h - naming images and platforms.
 *
 * An image is named TRANSPORT:WHERE, as skopeo does.  For now the one
 * transport is "oci:DIR[:TAG]", an OCI image layout on disk; like skopeo,
 * DIR ends at the first ':' after the transport.
 */
#ifndef DERRICK_REF_H
#define DERRICK_REF_H

#include "derrick/err.h"

struct dk_ref {
	char *transport;    /* "oci" */
	char *path;         /* the layout directory */
	char *tag;          /* NULL when none was given */
	char *text;         /* the reference as the user wrote it, for messages */
};

int dk_ref_parse(const char *s, struct dk_ref *ref, struct dk_err *err);
void dk_ref_free(struct dk_ref *ref);
/* A tag as Docker and OCI tools accept it: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
int dk_tag_valid(const char *tag);

struct dk_platform {
	char os[32];
	char arch[32];
	char variant[32];   /* "" when none */
};

/* "linux/arm64/v8" -> platform; rejects anything else with a message. */
int dk_platform_parse(const char *s, struct dk_platform *p, struct dk_err *err);
/* The machine we run on, in Go's names (x86_64 -> amd64). */
void dk_platform_host(struct dk_platform *p);
/* "linux/amd64" or "linux/arm/v7". */
void dk_platform_format(const struct dk_platform *p, char *buf, size_t size);

#endif
