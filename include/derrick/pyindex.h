/*
 * pyindex.h - one project page of a Python "simple" repository (PEP 503
 * HTML, PEP 691 JSON): the request to make and the files the answer lists.
 * Fetching is fetch.h's (dk_fetch_page); choosing a file is the caller's.
 */
#ifndef DERRICK_PYINDEX_H
#define DERRICK_PYINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/err.h"
#include "derrick/pylock.h"

/* The Accept header of a project page request: JSON preferred, HTML understood (PEP 691). */
#define DK_PYINDEX_ACCEPT \
	"application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"

/* Largest project page read (a big project's JSON page is a few MiB). */
#define DK_PYINDEX_MAX_PAGE (64u << 20)

struct dk_pyindex_file {
	char *filename;         /* as the index gives it (HTML: the anchor's text, else the URL's last part) */
	char *url;              /* absolute, resolved against the page, without its fragment */
	char sha256[DK_SHA256_HEX]; /* lower-case hex, or "" when the index gives none */
	int64_t size;           /* bytes (PEP 700), or -1 */
	char *requires_python;  /* a PEP 440 specifier set, or NULL */
	int yanked;             /* PEP 592: yanked files are for exact pins only */
};

struct dk_pyindex_page {
	struct dk_pyindex_file *files;  /* in the page's order */
	size_t n_files;
};

/*
 * The project page's URL for `project` under `index_url` (".../simple" or
 * ".../simple/"): index_url/NAME/ with NAME normalised as PEP 503 says
 * (runs of '-', '_', '.' become one '-', lower case).  A new string.
 */
char *dk_pyindex_page_url(const char *index_url, const char *project);

/*
 * Parse a project page body (len bytes, need not be NUL-terminated) by its
 * Content-Type: application/vnd.pypi.simple.v1+json (or .latest+json) as
 * PEP 691 JSON (meta.api-version 1.x; files[] with filename, url, hashes,
 * requires-python, yanked, size), application/vnd.pypi.simple.v1+html or
 * text/html as PEP 503 HTML (every <a href>: the fragment "#sha256=HEX",
 * data-requires-python HTML-unescaped, data-yanked; <base href> honoured).
 * URLs are resolved against page_url (relative, absolute-path and absolute
 * forms; libcurl's URL parser).  On success fills *page (release it with
 * dk_pyindex_release); errors (DK_E_REMOTE) name page_url and what is wrong.
 */
int dk_pyindex_parse(const char *body, size_t len, const char *content_type, const char *page_url,
		     struct dk_pyindex_page *page, struct dk_err *err);
/* The two forms, for callers (and fuzzers) that know which they hold. */
int dk_pyindex_parse_json(const char *body, size_t len, const char *page_url,
			  struct dk_pyindex_page *page, struct dk_err *err);
int dk_pyindex_parse_html(const char *body, size_t len, const char *page_url,
			  struct dk_pyindex_page *page, struct dk_err *err);

void dk_pyindex_release(struct dk_pyindex_page *page);

#endif
