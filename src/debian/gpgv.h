/*
 * gpgv.h - a signature checked by gpgv, as apt checks its sources.
 */
#ifndef DERRICK_DEB_GPGV_H
#define DERRICK_DEB_GPGV_H

#include <stddef.h>

#include "derrick/err.h"

/*
 * Verify sig (a clear-signed text when data is NULL, else a detached
 * signature of data) against keyring with the program gpgv (NULL: "gpgv"
 * from PATH), run with a fixed argument list and an empty home of its own.
 * Valid when gpgv exits 0 having reported GOODSIG and VALIDSIG and none of
 * BADSIG, ERRSIG, NO_PUBKEY, EXPSIG, EXPKEYSIG, REVKEYSIG, NODATA.  Then
 * *text (*len bytes, NUL-terminated; new) is the text gpgv verified (of a
 * clear-signed file its --output, the signed part, never our own reading
 * of the armor; of a detached signature, data) and *fpr (new) the signing
 * key's fingerprint.  Not valid:
 * -1 with err "gpgv: REASON [STATUS...]", gpgv's own words and status
 * keywords, for the caller to prefix with what was verified.
 */
int dk_gpgv_verify(const char *gpgv, const char *keyring, const void *sig, size_t sig_len, const void *data,
		   size_t data_len, char **text, size_t *len, char **fpr, struct dk_err *err);

#endif
