/*
 * repo.c - a Debian repository's Packages indexes, each byte checked:
 * InRelease by gpgv, every index by the SHA256 and size that the verified
 * Release gives, before it is decompressed or kept.
 *
 * Downloads go through fetch.h, as wheels do: the registry flags' TLS
 * options and retry policy, ~/.netrc, redirects, and URLs redacted in
 * messages.  Plain http is allowed: nothing here is trusted for the
 * connection it came over (apt reads Debian mirrors over http too).
 */
#include <archive.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/debrepo.h"
#include "derrick/digest.h"
#include "derrick/fetch.h"
#include "derrick/http.h"
#include "derrick/util.h"
#include "gpgv.h"

#define RELEASE_MAX (64u << 20)
#define SIG_MAX (1u << 20)
#define PACKAGES_MAX ((size_t)2 << 30)  /* decompressed: Debian's main/amd64 is ~50 MB */

/* One dk_deb_repo_fetch: its download session, and the URLs as messages show them. */
struct ctx {
	const struct dk_deb_source *src;
	const struct dk_deb_repo_opts *o;
	struct dk_deb_repo *r;
	struct dk_fetch *fx;
	char *dists;                    /* BASE/dists/SUITE/ */
	char *shown_dists;              /* redacted */
	char *shown_release;            /* r->release_url, redacted */
};

static int has_word(char **list, size_t n, const char *w)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], w))
			return 1;
	return 0;
}

/* GET url into memory, at most max bytes; 404 and 410 are DK_E_NOTFOUND, so callers can fall back. */
static int get(struct ctx *c, const char *url, size_t max, char **body, size_t *len, struct dk_err *err)
{
	return dk_fetch_mem(c->fx, url, NULL, max, body, len, NULL, NULL, err);
}

/* A signature (url: where it came from) checked against the source's keyring; DK_E_AUTH when not valid. */
static int check_sig(struct ctx *c, const char *url, const char *sig, size_t slen, const char *data, size_t dlen,
		     char **text, size_t *len, struct dk_err *why)
{
	char *u;

	if (!c->src->keyring) {
		u = dk_http_redact(url);
		dk_fail(why, DK_E_AUTH, "%s: no keyring to check it against", u);
		free(u);
		return -1;
	}
	if (dk_gpgv_verify(c->o->gpgv, c->src->keyring, sig, slen, data, dlen, text, len, &c->r->signer, why) == 0)
		return 0;
	if (why->code == DK_E_AUTH) {
		u = dk_http_redact(url);
		dk_err_prefix(why, "%s: no valid signature by %s", u, c->src->keyring);
		free(u);
	}
	return -1;
}

/*
 * The verified Release text.  InRelease first; without one, Release with
 * its detached Release.gpg.  A trusted source that has no valid signature
 * is read from its plain Release (never from an armor we parse ourselves).
 */
static int release_text(struct ctx *c, char **text, size_t *len, struct dk_err *err)
{
	char *inrel = dk_xasprintf("%sInRelease", c->dists), *rel = dk_xasprintf("%sRelease", c->dists);
	char *gpg = dk_xasprintf("%sRelease.gpg", c->dists);
	char *body = NULL, *sig = NULL;
	size_t blen, slen;
	int rc = -1, body_is_release = 0, no_sig = 0;
	struct dk_err why = { 0 };

	/* no_sig: no valid signature, which "trusted" accepts (an HTTP 401 or 503, or gpgv not running, it does not) */
	if (get(c, inrel, RELEASE_MAX, &body, &blen, &why) == 0) {
		if (check_sig(c, inrel, body, blen, NULL, 0, text, len, &why) == 0) {
			c->r->release_url = inrel;
			inrel = NULL;
			rc = 0;
			goto out;
		}
		no_sig = why.code == DK_E_AUTH;
	} else if (why.code == DK_E_NOTFOUND) {
		free(body);
		body = NULL;
		if (get(c, rel, RELEASE_MAX, &body, &blen, &why) < 0)
			goto refuse;
		body_is_release = 1;
		if (get(c, gpg, SIG_MAX, &sig, &slen, &why) == 0) {
			if (check_sig(c, gpg, sig, slen, body, blen, text, len, &why) == 0) {
				c->r->release_url = rel;
				rel = NULL;
				rc = 0;
				goto out;
			}
			no_sig = why.code == DK_E_AUTH;
		} else if (why.code == DK_E_NOTFOUND) {
			no_sig = 1;
			dk_fail(&why, DK_E_AUTH, "%s: unsigned (neither InRelease nor Release.gpg)", c->shown_dists);
		}
	}
refuse:
	if (!c->src->trusted || (!no_sig && why.code != DK_E_NOTFOUND)) {
		*err = why;
		if (!c->src->trusted && no_sig)
			dk_err_append(err, " (refused unless the source says \"trusted\": true)");
		goto out;
	}
	/* trusted: the plain Release, unverified */
	if (!body_is_release) {
		free(body);
		body = NULL;
		if (get(c, rel, RELEASE_MAX, &body, &blen, err) < 0)
			goto out;
	}
	*text = body;
	*len = blen;
	body = NULL;
	c->r->release_url = rel;
	rel = NULL;
	rc = 0;
out:
	free(body);
	free(sig);
	free(inrel);
	free(rel);
	free(gpg);
	return rc;
}

/* Decompress a whole .xz or .gz index in memory with libarchive (raw format, the two filters only). */
static int decompress(const char *name, const char *buf, size_t len, size_t max, char **out, size_t *olen,
		      struct dk_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct strbuf sb = STRBUF_INIT;
	char chunk[65536];
	la_ssize_t n;
	int rc = -1;

	archive_read_support_filter_xz(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK ||
	    archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE) {
		dk_fail(err, DK_E_CORRUPT, "%s: not compressed as its name says: %s", name,
			dk_str_or(archive_error_string(a), "unknown format"));
		goto out;
	}
	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if (sb.len + (size_t)n > max) {
			dk_fail(err, DK_E_CORRUPT, "%s: decompresses to more than %zu bytes", name, max);
			goto out;
		}
		sb_add(&sb, chunk, (size_t)n);
	}
	if (n < 0) {
		dk_fail(err, DK_E_CORRUPT, "%s: %s", name, dk_str_or(archive_error_string(a), "decompression failed"));
		goto out;
	}
	*olen = sb.len;
	*out = sb.len ? sb_detach(&sb) : dk_xstrdup("");
	rc = 0;
out:
	sb_release(&sb);
	archive_read_free(a);
	return rc;
}

/* The index file of one component and architecture that Release lists: .xz, .gz, then plain. */
static const struct dk_deb_release_file *pick(const struct dk_deb_release *rel, const char *comp, const char *arch)
{
	static const char *const exts[] = { ".xz", ".gz", "" };

	for (size_t i = 0; i < sizeof(exts) / sizeof(*exts); i++) {
		char *p = dk_xasprintf("%s/binary-%s/Packages%s", comp, arch, exts[i]);
		const struct dk_deb_release_file *f = dk_deb_release_find(rel, p);

		free(p);
		if (f)
			return f;
	}
	return NULL;
}

/*
 * The bytes of an index file matching Release's size and SHA256.  With a
 * cache, the file is kept there by that SHA256 (dk_fetch_blob checks it
 * before it becomes visible, and does not download it again); without
 * one, it is checked in memory.
 */
static int index_bytes(struct ctx *c, const char *url, const struct dk_deb_release_file *f, char **buf, size_t *len,
		       struct dk_err *err)
{
	char digest[DK_DIGEST_SIZE], want[DK_DIGEST_SIZE], *mismatch;
	int rc;

	if (f->size > PACKAGES_MAX)
		return dk_fail(err, DK_E_CORRUPT, "%s: Release gives %s a size of %llu bytes", c->shown_release, f->path,
			       (unsigned long long)f->size);
	snprintf(want, sizeof(want), "sha256:%s", f->sha256);
	mismatch = dk_xasprintf("%s does not match %s", f->path, c->shown_release);
	if (c->o->cache) {
		for (int pass = 0;; pass++) {
			char *path;

			rc = dk_fetch_blob_from(c->fx, c->o->cache, url, f->sha256, (int64_t)f->size, mismatch, err);
			if (rc == 0)
				rc = dk_blobs_read(c->o->cache, want, f->size, f->size + 1, buf, len, err);
			if (rc == 0 || pass || err->code != DK_E_CORRUPT || !dk_blobs_has(c->o->cache, want))
				break;
			/* damaged in the cache (the store never commits a wrong blob; a disk or a hand did): fetched again */
			path = dk_blobs_path(c->o->cache, want);
			unlink(path);
			free(path);
		}
		free(mismatch);
		return rc;
	}
	rc = get(c, url, (size_t)f->size, buf, len, err);
	if (rc == 0) {
		dk_sha256_buf(*buf, *len, digest);
		if (*len != f->size || strcmp(digest, want)) {
			char *u = dk_http_redact(url);

			rc = dk_fail(err, DK_E_CORRUPT, "%s: %s (%zu bytes, %s; Release: %llu bytes, %s)", u, mismatch,
				     *len, digest, (unsigned long long)f->size, want);
			free(u);
			free(*buf);
			*buf = NULL;
		}
	}
	free(mismatch);
	return rc;
}

static int fetch_index(struct ctx *c, const char *comp, const char *arch, struct dk_err *err)
{
	struct dk_deb_repo *r = c->r;
	const struct dk_deb_release_file *f = pick(&r->release, comp, arch), *plain;
	struct dk_deb_index *ix;
	char *url, *shown, *buf = NULL, *plain_path;
	size_t len;
	int rc = 0;

	if (!f)
		return dk_fail(err, DK_E_NOTFOUND, "%s lists no %s/binary-%s/Packages index", c->shown_release, comp,
			       arch);
	url = dk_xasprintf("%s%s", c->dists, f->path);
	if (index_bytes(c, url, f, &buf, &len, err) < 0) {
		free(url);
		return -1;
	}
	r->indexes = dk_xrealloc(r->indexes, (r->n_indexes + 1) * sizeof(*r->indexes));
	ix = &r->indexes[r->n_indexes++];
	memset(ix, 0, sizeof(*ix));
	ix->component = dk_xstrdup(comp);
	ix->arch = dk_xstrdup(arch);
	ix->url = url;
	memcpy(ix->sha256, f->sha256, sizeof(ix->sha256));
	plain_path = dk_xasprintf("%s/binary-%s/Packages", comp, arch);
	plain = dk_deb_release_find(&r->release, plain_path);
	free(plain_path);
	if (plain == f) {
		ix->data = buf;
		ix->len = len;
		return 0;
	}
	shown = dk_http_redact(url);
	if (decompress(shown, buf, len, plain ? (size_t)plain->size : PACKAGES_MAX, &ix->data, &ix->len, err) < 0) {
		rc = -1;
	} else if (plain) {
		char digest[DK_DIGEST_SIZE];

		dk_sha256_buf(ix->data, ix->len, digest);
		if (ix->len != plain->size || strcmp(digest + 7, plain->sha256))
			rc = dk_fail(err, DK_E_CORRUPT, "%s: decompressed, does not match %s's %s entry", shown,
				     c->shown_release, plain->path);
	}
	free(shown);
	free(buf);
	return rc;
}

void dk_deb_repo_free(struct dk_deb_repo *r)
{
	for (size_t i = 0; i < r->n_indexes; i++) {
		free(r->indexes[i].component);
		free(r->indexes[i].arch);
		free(r->indexes[i].url);
		free(r->indexes[i].data);
	}
	free(r->indexes);
	free(r->base_url);
	free(r->release_url);
	free(r->signer);
	dk_deb_release_free(&r->release);
	memset(r, 0, sizeof(*r));
}

int dk_deb_repo_fetch(const struct dk_deb_source *src, const char *const *archs, size_t n_archs,
		      const struct dk_deb_repo_opts *o, struct dk_deb_repo *r, struct dk_err *err)
{
	struct dk_fetch_opts fo = { .reg = o->reg, .allow_http = 1 };
	struct ctx c = { src, o, r, NULL, NULL, NULL, NULL };
	char *text = NULL;
	size_t len, i, j;
	time_t now = o->now ? o->now : time(NULL);
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!src->url || !*src->url || !src->suite || !*src->suite || strchr(src->suite, '/') ||
	    !src->n_components)
		return dk_fail(err, DK_E_SPEC, "a Debian source needs a url, a suite and components");
	if (!src->keyring && !src->trusted) {
		char *u = dk_http_redact(src->url);

		dk_fail(err, DK_E_SPEC, "%s: a Debian source needs a keyring (or \"trusted\": true)", u);
		free(u);
		return -1;
	}
	r->base_url = dk_xasprintf("%s%s", src->url, src->url[strlen(src->url) - 1] == '/' ? "" : "/");
	c.dists = dk_xasprintf("%sdists/%s/", r->base_url, src->suite);
	c.shown_dists = dk_http_redact(c.dists);
	if (dk_fetch_open(&fo, &c.fx, err) < 0 || release_text(&c, &text, &len, err) < 0)
		goto out;
	c.shown_release = dk_http_redact(r->release_url);
	if (dk_deb_release_parse(text, len, c.shown_release, &r->release, err) < 0)
		goto out;
	if (r->signer && r->release.valid_until && r->release.valid_until < now) {
		char when[64];
		struct tm tm;

		gmtime_r(&r->release.valid_until, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		dk_fail(err, DK_E_CORRUPT, "%s: expired (Valid-Until %s): the mirror is stale, or the index was replayed",
			c.shown_release, when);
		goto out;
	}
	for (i = 0; i < n_archs; i++)
		if (r->release.n_archs && !has_word(r->release.archs, r->release.n_archs, archs[i])) {
			dk_fail(err, DK_E_NOTFOUND, "%s: no architecture %s (Architectures: %zu listed)",
				c.shown_release, archs[i], r->release.n_archs);
			goto out;
		}
	for (i = 0; i < src->n_components; i++)
		if (!dk_deb_release_has_component(&r->release, src->components[i])) {
			dk_fail(err, DK_E_NOTFOUND, "%s: no component %s", c.shown_release, src->components[i]);
			goto out;
		}
	for (i = 0; i < src->n_components; i++)
		for (j = 0; j < n_archs; j++)
			if (fetch_index(&c, src->components[i], archs[j], err) < 0)
				goto out;
	rc = 0;
out:
	if (rc < 0)
		dk_deb_repo_free(r);
	dk_fetch_free(c.fx);
	free(text);
	free(c.dists);
	free(c.shown_dists);
	free(c.shown_release);
	return rc;
}
