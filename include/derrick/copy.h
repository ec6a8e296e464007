/*
 * copy.h - copy an image between any two transports (pull, push).
 */
#ifndef DERRICK_COPY_H
#define DERRICK_COPY_H

#include "derrick/err.h"
#include "derrick/ref.h"
#include "derrick/transport.h"

struct dk_copy_result {
	struct dk_desc manifest;
	struct dk_blob_note *notes;     /* what happened to each blob */
	size_t n_notes;
};

/*
 * Copy the image `src` names (resolved to `want` when it is an index) to
 * `dst`: blobs first (skipped when present, mounted when possible), the
 * manifest last and byte for byte, so its digest does not change.  With
 * `want` NULL, an index is copied whole: every manifest it names (with
 * its blobs) before it, the index byte for byte; a destination that holds
 * no index is then DK_E_USAGE.
 */
int dk_copy_image(const char *src, const char *dst, const struct dk_platform *want,
		  const struct dk_transport_opts *o, struct dk_copy_result *res, struct dk_err *err);
void dk_copy_result_free(struct dk_copy_result *res);

#endif
