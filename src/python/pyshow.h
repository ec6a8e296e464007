/*
 * pyshow.h - private to src/python/: untrusted text (a marker, a version, a
 * file name from a lock or an index) as it may appear inside an error
 * message, which must stay one line.
 */
#ifndef DERRICK_PYSHOW_H
#define DERRICK_PYSHOW_H

/* s with control bytes written as \n, \t, \r or \xNN and '\\' as "\\\\"; a new string. */
char *dk_py_shown(const char *s);

#endif
