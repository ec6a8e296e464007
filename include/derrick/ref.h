/*
 * ref.h - naming images.
 *
 * An image is named TRANSPORT:WHERE, as skopeo does: "oci:DIR[:TAG]" is an
 * OCI image layout on disk (like skopeo, DIR ends at the first ':'), and
 * "docker://REF" an image in a registry.  A bare REF means docker://REF.
 * The transports and what they can do are the table in transport.c: the
 * functions below ask it, so no caller compares transport names.
 */
#ifndef DERRICK_REF_H
#define DERRICK_REF_H

#include "derrick/dockerref.h"
#include "derrick/err.h"
#include "derrick/platform.h"

struct dk_transport;

struct dk_ref {
	const struct dk_transport *transport;   /* its row in the table (transport.h) */
	char *path;         /* a local image: the layout directory, or the archive file */
	char *tag;          /* oci: the tag, NULL when none was given */
	struct dk_dockerref docker;     /* docker: registry, repository, tag, digest */
	char *text;         /* the reference as the user wrote it, for messages */
};

/*
 * Parse TRANSPORT:WHERE (or a bare REF): 0 and *ref filled (free it with
 * dk_ref_free), or -1 with DK_E_REF and a message quoting the reference.
 */
int dk_ref_parse(const char *s, struct dk_ref *ref, struct dk_err *err);
void dk_ref_free(struct dk_ref *ref);
void dk_ref_copy(struct dk_ref *dst, const struct dk_ref *src);
/* 1 when the image is in a registry (blobs cross the network and can be mounted), else 0. */
int dk_ref_is_remote(const struct dk_ref *ref);
/* 1 when the image can be a multi-platform one (an image index), else 0. */
int dk_ref_holds_index(const struct dk_ref *ref);
/* The file or directory on this machine holding the image (a layout's directory), or NULL. */
const char *dk_ref_local_path(const struct dk_ref *ref);
/* The reference as text (a new string) with its local path replaced by `path`. */
char *dk_ref_with_path(const struct dk_ref *ref, const char *path);
/* The text (a new string) naming the image tagged `tag` in ref's repository or layout. */
char *dk_ref_with_tag(const struct dk_ref *ref, const char *tag);
/* A tag as Docker and OCI tools accept it: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
int dk_tag_valid(const char *tag);

#endif
