/*
 * pyindex_check.h - what fuzz_pyindex_json and fuzz_pyindex_html check of
 * a parsed page: every file has a name and an absolute URL without
 * fragment, a sha256 is 64 hex digits or empty, and an error is one line
 * that never shows the page URL's password (unless the input holds it).
 */
#ifndef DERRICK_PYINDEX_CHECK_H
#define DERRICK_PYINDEX_CHECK_H

#include "fuzz.h"
#include "derrick/pyindex.h"

#define PYINDEX_PW "pw-8d1e"
#define PYINDEX_PAGE "https://u:" PYINDEX_PW "@idx.example/simple/a/"

typedef int (*pyindex_parser)(const char *body, size_t len, const char *page_url,
			      struct dk_pyindex_page *page, struct dk_err *err);

static inline int pyindex_check(pyindex_parser parse, const uint8_t *data, size_t size)
{
	struct dk_err err = { 0 };
	struct dk_pyindex_page page;

	if (parse((const char *)data, size, PYINDEX_PAGE, &page, &err) == 0) {
		for (size_t i = 0; i < page.n_files; i++) {
			const struct dk_pyindex_file *f = &page.files[i];

			if (!f->filename || !f->url || !strstr(f->url, "://") || strchr(f->url, '#') ||
			    (f->sha256[0] && strlen(f->sha256) != 64))
				abort();
		}
		dk_pyindex_release(&page);
	} else if ((strstr(err.msg, PYINDEX_PW) && !memmem(data, size, PYINDEX_PW, strlen(PYINDEX_PW))) ||
		   strchr(err.msg, '\n')) {
		abort();
	}
	return 0;
}

#endif
