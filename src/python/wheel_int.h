/*
 * wheel_int.h - the opened wheel, shared by wheel.c (open and verify) and
 * wheelinst.c (install).
 */
#ifndef DERRICK_WHEEL_INT_H
#define DERRICK_WHEEL_INT_H

#include "derrick/wheel.h"

#include "wheelzip.h"

struct dk_wheel {
	struct dk_wheel_info info;
	char *filename, *dist, *file_version, *dist_info, *data_dir, *name, *version, *requires_python;
	struct dk_zmember *m;   /* the zip's members, in central-directory order */
	size_t n;
	int spool_fd;           /* where their contents are (not ours to close) */
	char *entry_points;     /* entry_points.txt's text, or NULL */
	size_t entry_points_len;
};

/* The content of member m, read from the spool, as a new NUL-terminated buffer. */
int dk_wheel_read_member(const struct dk_wheel *w, const struct dk_zmember *m, char **out,
			 struct dk_err *err);

#endif
