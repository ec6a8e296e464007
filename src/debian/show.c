/*
 * show.c - quoting untrusted bytes in one-line messages.
 */
#include <string.h>

#include "derrick/util.h"
#include "show.h"

char *dk_deb_show(const char *s, size_t n, size_t max)
{
	struct strbuf sb = { 0 };

	for (size_t i = 0; i < n && i < max; i++)
		sb_addc(&sb, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
	if (n > max)
		sb_adds(&sb, "...");
	return sb.len ? sb_detach(&sb) : dk_xstrdup("");
}
