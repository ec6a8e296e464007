/*
 * repo.c - a Debian repository's Packages indexes, each byte checked:
 * InRelease by gpgv, every index by the SHA256 and size that the verified
 * Release gives, before it is decompressed or kept.
 *
 * The downloads are plain GETs over http.h; they should move onto the
 * wheels source's fetch.h (a blob by sha256, a page into memory) once both
 * are in the same tree.
 */
#include <archive.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/debrepo.h"
#include "derrick/digest.h"
#include "derrick/registry.h"
#include "derrick/retry.h"
#include "derrick/util.h"
#include "gpgv.h"

#define RELEASE_MAX (64u << 20)
#define PACKAGES_MAX ((size_t)2 << 30)  /* decompressed: Debian's main/amd64 is ~50 MB */
#define MAX_REDIRECTS 10

/*
 * GET url into *body (NUL-terminated, new), at most max bytes, following
 * redirects and retrying transient failures.  *status gets the final
 * status; only 200 returns 0, and 404/410 set DK_E_NOTFOUND so callers can
 * fall back.
 */
static int get(struct dk_http *h, const char *url, size_t max, char **body, size_t *len, struct dk_err *err)
{
	struct dk_reg_opts ro = { .retries = -1 };
	char *cur = dk_xstrdup(url);
	int hops = 0, attempt = 0;

	*body = NULL;
	for (;;) {
		struct dk_http_req req = { .method = "GET", .url = cur, .body_fd = -1, .max_body = max };
		struct dk_http_resp resp = { 0 };
		const char *loc;
		long delay;
		int rc = dk_http_do(h, &req, &resp, err);

		if (rc == 0 && resp.status >= 300 && resp.status < 400 && (loc = dk_http_header(&resp, "location"))) {
			char *next = dk_http_resolve(cur, loc);

			dk_http_resp_release(&resp);
			free(cur);
			cur = next;
			if (++hops > MAX_REDIRECTS) {
				dk_fail(err, DK_E_REMOTE, "GET %s: more than %d redirects", url, MAX_REDIRECTS);
				break;
			}
			continue;
		}
		if (rc == 0 && resp.status == 200 && !resp.body_truncated) {
			*len = resp.body.len;
			*body = sb_detach(&resp.body);
			if (!*body)
				*body = dk_xstrdup("");
			dk_http_resp_release(&resp);
			free(cur);
			return 0;
		}
		delay = dk_retry_delay(&ro, attempt++, &resp);
		if (delay >= 0) {
			dk_http_resp_release(&resp);
			dk_sleep_ms(delay);
			continue;
		}
		if (rc == 0 && resp.body_truncated)
			dk_fail(err, DK_E_CORRUPT, "GET %s: larger than %zu bytes", cur, max);
		else if (rc == 0)
			dk_fail(err, resp.status == 404 || resp.status == 410 ? DK_E_NOTFOUND :
				     resp.status == 401 || resp.status == 403 ? DK_E_AUTH : DK_E_REMOTE,
				"GET %s: HTTP %ld", cur, resp.status);
		else
			dk_err_prefix(err, "GET %s", cur);
		dk_http_resp_release(&resp);
		break;
	}
	free(cur);
	return -1;
}

static int has_word(char **list, size_t n, const char *w)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], w))
			return 1;
	return 0;
}

/* A signature (url: where it came from) checked against the source's keyring; DK_E_AUTH when not valid. */
static int check_sig(const struct dk_deb_source *src, const struct dk_deb_repo_opts *o, const char *url,
		     const char *sig, size_t slen, const char *data, size_t dlen, char **text, size_t *len,
		     char **signer, struct dk_err *why)
{
	if (!src->keyring)
		return dk_fail(why, DK_E_AUTH, "%s: no keyring to check it against", url);
	if (dk_gpgv_verify(o->gpgv, src->keyring, sig, slen, data, dlen, text, len, signer, why) == 0)
		return 0;
	if (why->code == DK_E_AUTH)
		dk_err_prefix(why, "%s: no valid signature by %s", url, src->keyring);
	return -1;
}

/*
 * The verified Release text.  InRelease first; without one, Release with
 * its detached Release.gpg.  A trusted source that has no valid signature
 * is read from its plain Release (never from an armor we parse ourselves).
 */
static int release_text(struct dk_http *h, const struct dk_deb_source *src, const char *dists,
			const struct dk_deb_repo_opts *o, struct dk_deb_repo *r, char **text, size_t *len,
			struct dk_err *err)
{
	char *inrel = dk_xasprintf("%sInRelease", dists), *rel = dk_xasprintf("%sRelease", dists);
	char *gpg = dk_xasprintf("%sRelease.gpg", dists);
	char *body = NULL, *sig = NULL;
	size_t blen, slen;
	int rc = -1, body_is_release = 0;
	struct dk_err why = { 0 };

	if (get(h, inrel, RELEASE_MAX, &body, &blen, &why) == 0) {
		if (check_sig(src, o, inrel, body, blen, NULL, 0, text, len, &r->signer, &why) == 0) {
			r->release_url = inrel;
			inrel = NULL;
			rc = 0;
			goto out;
		}
	} else if (why.code == DK_E_NOTFOUND) {
		free(body);
		body = NULL;
		if (get(h, rel, RELEASE_MAX, &body, &blen, &why) < 0)
			goto refuse;
		body_is_release = 1;
		if (get(h, gpg, 1u << 20, &sig, &slen, &why) == 0) {
			if (check_sig(src, o, gpg, sig, slen, body, blen, text, len, &r->signer, &why) == 0) {
				r->release_url = rel;
				rel = NULL;
				rc = 0;
				goto out;
			}
		} else if (why.code == DK_E_NOTFOUND) {
			dk_fail(&why, DK_E_AUTH, "%s: unsigned (neither InRelease nor Release.gpg)", dists);
		}
	}
refuse:
	if (!src->trusted || (why.code != DK_E_AUTH && why.code != DK_E_NOTFOUND)) {
		*err = why;
		if (!src->trusted && why.code == DK_E_AUTH)
			dk_err_append(err, " (refused unless the source says \"trusted\": true)");
		goto out;
	}
	/* trusted: the plain Release, unverified */
	if (!body_is_release) {
		free(body);
		body = NULL;
		if (get(h, rel, RELEASE_MAX, &body, &blen, err) < 0)
			goto out;
	}
	*text = body;
	*len = blen;
	body = NULL;
	r->release_url = rel;
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
	struct strbuf sb = { 0 };
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

/* The bytes of an index file, from the cache or the mirror, matching Release's size and SHA256. */
static int index_bytes(struct dk_http *h, const struct dk_deb_repo_opts *o, const char *url,
		       const struct dk_deb_release_file *f, const char *release_url, char **buf, size_t *len,
		       struct dk_err *err)
{
	char digest[DK_DIGEST_SIZE], want[DK_DIGEST_SIZE];

	snprintf(want, sizeof(want), "sha256:%s", f->sha256);
	if (o->cache && dk_blobs_has(o->cache, want) &&
	    dk_blobs_read(o->cache, want, f->size, f->size + 1, buf, len, err) == 0)
		return 0;
	if (f->size > PACKAGES_MAX)
		return dk_fail(err, DK_E_CORRUPT, "%s: Release gives %s a size of %llu bytes", release_url, f->path,
			       (unsigned long long)f->size);
	if (get(h, url, (size_t)f->size, buf, len, err) < 0)
		return -1;
	dk_sha256_buf(*buf, *len, digest);
	if (*len != f->size || strcmp(digest, want)) {
		dk_fail(err, DK_E_CORRUPT, "%s: %s does not match %s (%zu bytes, %s; Release: %llu bytes, sha256:%s)",
			url, f->path, release_url, *len, digest, (unsigned long long)f->size, f->sha256);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	if (o->cache && dk_blobs_put_bytes(o->cache, *buf, *len, digest, err) < 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

static int fetch_index(struct dk_http *h, const char *dists, const struct dk_deb_repo_opts *o, struct dk_deb_repo *r,
		       const char *comp, const char *arch, struct dk_err *err)
{
	const struct dk_deb_release_file *f = pick(&r->release, comp, arch), *plain;
	struct dk_deb_index *ix;
	char *url, *buf = NULL, *plain_path;
	size_t len;

	if (!f)
		return dk_fail(err, DK_E_NOTFOUND, "%s lists no %s/binary-%s/Packages index", r->release_url, comp,
			       arch);
	url = dk_xasprintf("%s%s", dists, f->path);
	if (index_bytes(h, o, url, f, r->release_url, &buf, &len, err) < 0) {
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
	if (decompress(url, buf, len, plain ? (size_t)plain->size : PACKAGES_MAX, &ix->data, &ix->len, err) < 0) {
		free(buf);
		return -1;
	}
	free(buf);
	if (plain) {
		char digest[DK_DIGEST_SIZE];

		dk_sha256_buf(ix->data, ix->len, digest);
		if (ix->len != plain->size || strcmp(digest + 7, plain->sha256))
			return dk_fail(err, DK_E_CORRUPT, "%s: decompressed, does not match %s's %s entry", url,
				       r->release_url, plain->path);
	}
	return 0;
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
	struct dk_http *h = NULL;
	char *dists = NULL, *text = NULL;
	size_t len, i, j;
	time_t now = o->now ? o->now : time(NULL);
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!src->url || !*src->url || !src->suite || !*src->suite || strchr(src->suite, '/') ||
	    !src->n_components)
		return dk_fail(err, DK_E_SPEC, "a Debian source needs a url, a suite and components");
	if (!src->keyring && !src->trusted)
		return dk_fail(err, DK_E_SPEC, "%s: a Debian source needs a keyring (or \"trusted\": true)", src->url);
	r->base_url = dk_xasprintf("%s%s", src->url, src->url[strlen(src->url) - 1] == '/' ? "" : "/");
	dists = dk_xasprintf("%sdists/%s/", r->base_url, src->suite);
	h = dk_http_new(o->tls);
	if (release_text(h, src, dists, o, r, &text, &len, err) < 0 ||
	    dk_deb_release_parse(text, len, r->release_url, &r->release, err) < 0)
		goto out;
	if (r->signer && r->release.valid_until && r->release.valid_until < now) {
		char when[64];
		struct tm tm;

		gmtime_r(&r->release.valid_until, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		dk_fail(err, DK_E_CORRUPT, "%s: expired (Valid-Until %s): the mirror is stale, or the index was replayed",
			r->release_url, when);
		goto out;
	}
	for (i = 0; i < n_archs; i++)
		if (r->release.n_archs && !has_word(r->release.archs, r->release.n_archs, archs[i])) {
			dk_fail(err, DK_E_NOTFOUND, "%s: no architecture %s (Architectures: %zu listed)",
				r->release_url, archs[i], r->release.n_archs);
			goto out;
		}
	for (i = 0; i < src->n_components; i++)
		if (r->release.n_components &&
		    !has_word(r->release.components, r->release.n_components, src->components[i])) {
			dk_fail(err, DK_E_NOTFOUND, "%s: no component %s", r->release_url, src->components[i]);
			goto out;
		}
	for (i = 0; i < src->n_components; i++)
		for (j = 0; j < n_archs; j++)
			if (fetch_index(h, dists, o, r, src->components[i], archs[j], err) < 0)
				goto out;
	rc = 0;
out:
	if (rc < 0)
		dk_deb_repo_free(r);
	dk_http_free(h);
	free(text);
	free(dists);
	return rc;
}
