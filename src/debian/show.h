/*
 * show.h - bytes from a repository or a lock quoted in a message: the
 * message stays one printable line whatever they hold.
 */
#ifndef DERRICK_DEB_SHOW_H
#define DERRICK_DEB_SHOW_H

#include <stddef.h>

/* The first n bytes of s (at most max of them, then "..."), control characters as '?' (new string). */
char *dk_deb_show(const char *s, size_t n, size_t max);

#endif
