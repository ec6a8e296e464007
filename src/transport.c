/*
 * transport.c - pick the transport for a reference.  One line per transport.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/transport.h"

int dk_src_open(const struct dk_ref *ref, struct dk_src **out, struct dk_err *err)
{
	if (!strcmp(ref->transport, "oci"))
		return dk_layout_src_open(ref, out, err);
	return dk_fail(err, DK_E_REF, "%s: cannot read from transport \"%s\"", ref->text, ref->transport);
}

int dk_dst_open(const struct dk_ref *ref, struct dk_dst **out, struct dk_err *err)
{
	if (!strcmp(ref->transport, "oci"))
		return dk_layout_dst_open(ref, out, err);
	return dk_fail(err, DK_E_REF, "%s: cannot write to transport \"%s\"", ref->text, ref->transport);
}

void dk_src_close(struct dk_src *s)
{
	if (s)
		s->ops->close(s);
}

void dk_dst_close(struct dk_dst *d)
{
	if (d)
		d->ops->close(d);
}

void dk_manifest_blob_free(struct dk_manifest_blob *m)
{
	free(m->bytes);
	memset(m, 0, sizeof(*m));
}
