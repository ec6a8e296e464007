/*
 * verify.h - check that an image is intact: every blob it references is
 * there, has the digest and size its descriptor says, and has a media type
 * that fits where it is used; every layer unpacks to its diff_id.
 */
#ifndef DERRICK_VERIFY_H
#define DERRICK_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/err.h"
#include "derrick/transport.h"

struct dk_verify_report {
	char **problems;        /* one line each, naming the blob's digest and what is wrong */
	size_t n_problems;
	size_t manifests;       /* manifests and indexes read */
	size_t blobs;           /* configs and layers checked (each distinct blob once) */
	uint64_t bytes;         /* the bytes of those blobs */
};

/*
 * Check the image `text` names, and for an index every image it lists,
 * through its transport (a registry's blobs are downloaded into the blob
 * cache): 0 with *out filled, every problem found listed (none: the image
 * is intact), or -1 with err set when the image cannot be opened at all
 * (a bad reference, no such layout, no such tag).  Free *out with
 * dk_verify_report_free.
 */
int dk_verify(const char *text, const struct dk_transport_opts *o, struct dk_verify_report *out,
	      struct dk_err *err);
void dk_verify_report_free(struct dk_verify_report *r);

#endif
