/*
 * show.c - quoting untrusted bytes in one-line messages.
 */
#include <string.h>

#include "derrick/util.h"
#include "show.h"

char *dk_deb_show(const char *s, size_t n, size_t max)
{
	struct strbuf sb = STRBUF_INIT;

	/* a NUL among the bytes is a control character too: shown, not an end */
	for (size_t i = 0; i < n && i < max; i++)
		sb_addc(&sb, s[i] ? s[i] : '?');
	if (n > max)
		sb_adds(&sb, "...");
	return dk_str_printable(sb_detach(&sb));
}
