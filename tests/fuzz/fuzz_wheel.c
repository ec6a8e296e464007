/*
 * fuzz_wheel.c - wheels: the first byte picks what the rest is.
 *   0: a whole .whl, opened, verified and installed (zip read twice,
 *      names, .dist-info, WHEEL, METADATA, RECORD, entry points), then ordered;
 *   1: RECORD text; 2: a METADATA/WHEEL header block; 3: entry_points.txt,
 *      each entry point's wrapper written too.
 * The text parsers get their own selectors since a fuzzed zip rarely gets
 * past RECORD's sha256 check to reach them.
 */
#include "fuzz.h"

#include "derrick/entry.h"
#include "derrick/wheel.h"
#include "derrick/wheelfmt.h"

static void whole(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct dk_wheel_opts o = { "/usr/local", "/usr/local/lib/python3.12/site-packages",
				   "/usr/local/bin/python3.12", "3.12", NULL, NULL };
	struct dk_wheel_file f = { path, "demo_pkg-1.2.0-py3-none-any.whl", NULL, -1 };
	struct dk_entries l;
	struct dk_err err;

	if (!path)
		abort();
	dk_entries_init(&l);
	if (dk_wheels_install(&f, 1, &o, &l, &err) == 0 && dk_entries_finish(&l, &err) < 0)
		abort();        /* what an install gives must always make a valid layer */
	dk_entries_release(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_record_row *rows;
	struct dk_entry_point *eps;
	struct dk_err err;
	const char *text;
	size_t n;

	if (size < 1)
		return 0;
	text = (const char *)data + 1;
	switch (data[0]) {
	case 0:
		whole(data + 1, size - 1);
		break;
	case 1:
		if (dk_record_parse(text, size - 1, "RECORD", &rows, &n, &err) == 0)
			dk_record_rows_free(rows, n);
		break;
	case 2: {
		static const char *const keys[] = { "Name", "Version", "Requires-Python", "Wheel-Version" };

		for (size_t i = 0; i < 4; i++)
			free(dk_header_get(text, size - 1, keys[i]));
		break;
	}
	case 3:
		if (dk_entry_points_parse(text, size - 1, "entry_points.txt", &eps, &n, &err) == 0) {
			for (size_t i = 0; i < n; i++) {
				free(dk_entry_point_script(&eps[i], "/usr/bin/python3"));
				free(dk_entry_point_script(&eps[i], "/opt/a b/python"));
			}
			dk_entry_points_free(eps, n);
		}
		break;
	}
	return 0;
}
