/* SHIM: temporary until the helpers' branches merge */
#include "derrick/deb.h"
#include "derrick/util.h"
char *dk_deb_script_hint(const struct dk_deb *d)
{
	if (!(d->scripts & (DK_DEB_PREINST | DK_DEB_POSTINST))) return NULL;
	return dk_xstrdup("has preinst/postinst");
}
