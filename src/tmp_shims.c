/* SHIM: temporary until the helpers' branches merge */
#include <string.h>
#include "derrick/deb.h"
#include "derrick/debarch.h"
#include "derrick/deblock.h"
#include "derrick/platform.h"
#include "derrick/util.h"
const char *dk_deb_arch(const struct dk_platform *p)
{
	if (!strcmp(p->arch, "amd64")) return "amd64";
	if (!strcmp(p->arch, "arm64")) return "arm64";
	return NULL;
}
char *dk_deb_script_hint(const struct dk_deb *d)
{
	if (!(d->scripts & (DK_DEB_PREINST | DK_DEB_POSTINST))) return NULL;
	return dk_xstrdup("has preinst/postinst");
}
int dk_deb_lock_make(const struct dk_deb_lock_input *in, const struct dk_deb_repo_opts *o,
		     struct dk_deb_lock *out, struct dk_err *err)
{
	(void)in; (void)o; memset(out, 0, sizeof(*out));
	return dk_fail(err, DK_E_INTERNAL, "SHIM");
}
