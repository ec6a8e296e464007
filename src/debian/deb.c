/*
 * deb.c - a .deb into layer entries and its control data.
 *
 * A .deb is an ar archive; its control.tar and data.tar members are read
 * by a second libarchive reader that pulls the member's bytes from the
 * first, so nothing is decompressed to disk: data.tar's contents go
 * straight to the entry list's spool, through the tar source's reader
 * (dk_tar_read_archive) with the package's owners and modes kept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "derrick/deb.h"
#include "derrick/tarw.h"
#include "derrick/util.h"

#define MEMBER_BUF (1 << 16)
#define CONTROL_MAX (1 << 20)           /* control, conffiles: dpkg's are a few KiB */
#define MD5SUMS_MAX (64 << 20)

static const struct {
	const char *name;
	unsigned bit;
} scripts[] = {
	{ "preinst", DK_DEB_PREINST },   { "postinst", DK_DEB_POSTINST }, { "prerm", DK_DEB_PRERM },
	{ "postrm", DK_DEB_POSTRM },     { "config", DK_DEB_CONFIG },     { "triggers", DK_DEB_TRIGGERS },
};

const char *dk_deb_script_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		if (scripts[i].bit == bit)
			return scripts[i].name;
	return NULL;
}

/* The compressions man 5 deb allows for each tar member (bzip2: data.tar only). */
static const char *const compressions[] = { "", ".gz", ".xz", ".zst", ".bz2" };

/* Whether member `name` is `base` ("control.tar") with an allowed compression suffix. */
static int is_member(const char *name, const char *base, int bz2)
{
	size_t n = strlen(base);

	if (strncmp(name, base, n))
		return 0;
	for (size_t i = 0; i < sizeof(compressions) / sizeof(compressions[0]); i++)
		if (!strcmp(name + n, compressions[i]))
			return bz2 || strcmp(compressions[i], ".bz2");
	return 0;
}

/* ------------------------------------------------------------ one member as a stream */

struct member_in {
	struct archive *outer;
	char buf[MEMBER_BUF];
};

static la_ssize_t member_read(struct archive *a, void *data, const void **buf)
{
	struct member_in *m = data;
	la_ssize_t n = archive_read_data(m->outer, m->buf, sizeof(m->buf));

	if (n < 0) {
		archive_set_error(a, EIO, "%s", dk_str_or(archive_error_string(m->outer), "read error"));
		return -1;
	}
	*buf = m->buf;
	return n;
}

/* A tar reader over the current member of m->outer. */
static struct archive *inner_open(struct member_in *m, const char *what, struct dk_err *err)
{
	struct archive *a = archive_read_new();

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open(a, m, NULL, member_read, NULL) != ARCHIVE_OK) {
		dk_fail(err, DK_E_CORRUPT, "%s: %s", what,
			dk_str_or(archive_error_string(a), "libarchive gave no reason"));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* All of the current entry of `a`, at most max bytes, NUL-terminated, into *out. */
static int read_all(struct archive *a, size_t max, char **out, size_t *len, const char *what, struct dk_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[8192];
	la_ssize_t n;

	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
		if (sb.len + (size_t)n > max) {
			sb_release(&sb);
			return dk_fail(err, DK_E_CORRUPT, "%s: larger than %zu bytes", what, max);
		}
		sb_add(&sb, buf, (size_t)n);
	}
	if (n < 0) {
		sb_release(&sb);
		return dk_fail(err, DK_E_CORRUPT, "%s: %s", what,
			       dk_str_or(archive_error_string(a), "libarchive gave no reason"));
	}
	*len = sb.len;
	free(*out);
	*out = sb_detach(&sb);
	return 0;
}

/*
 * The first max bytes of the current member, NUL-terminated (into *out,
 * replacing it); the rest is left for libarchive to skip.
 */
static int read_head(struct archive *a, size_t max, char **out, const char *what, struct dk_err *err)
{
	char *buf = dk_xmalloc(max + 1);
	size_t len = 0;
	la_ssize_t n = 1;

	while (len < max && (n = archive_read_data(a, buf + len, max - len)) > 0)
		len += (size_t)n;
	if (n < 0) {
		free(buf);
		return dk_fail(err, DK_E_CORRUPT, "%s: %s", what,
			       dk_str_or(archive_error_string(a), "libarchive gave no reason"));
	}
	buf[len] = '\0';
	free(*out);
	*out = dk_xrealloc(buf, len + 1);
	return 0;
}

/* ------------------------------------------------------------ the control stanza */

char *dk_deb_field(const char *s, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = s; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		const char *v, *end;

		if (strncasecmp(l, name, n) || l[n] != ':')
			continue;
		for (v = l + n + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (end = v; *end && *end != '\n'; end++)
			;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		return dk_xstrndup(v, (size_t)(end - v));
	}
	return NULL;
}

/* Whether s is non-empty and made of the bytes in `set` and alphanumerics only (lowercase if `lower`). */
static int token_ok(const char *s, const char *set, int lower)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (!lower && c >= 'A' && c <= 'Z') ||
		      (c && strchr(set, c))))
			return 0;
	}
	return 1;
}

/*
 * The fields the database and file names are made of.  They name files
 * (info/PKG.list), so they are checked as dpkg checks them.
 */
static int parse_control(struct dk_deb *d, const char *what, struct dk_err *err)
{
	if (memchr(d->control, '\0', d->control_len))
		return dk_fail(err, DK_E_CORRUPT, "%s: control holds a NUL byte", what);
	d->package = dk_deb_field(d->control, "Package");
	d->version = dk_deb_field(d->control, "Version");
	d->architecture = dk_deb_field(d->control, "Architecture");
	d->multi_arch = dk_deb_field(d->control, "Multi-Arch");
	if (!d->package || !token_ok(d->package, "+-.", 1) || d->package[0] == '-' || d->package[0] == '.' ||
	    !d->package[1])
		return dk_fail(err, DK_E_CORRUPT, "%s: control: bad or missing Package field", what);
	if (!token_ok(d->version, ".+-~:", 0) || d->version[0] < '0' || d->version[0] > '9')
		return dk_fail(err, DK_E_CORRUPT, "%s: control of %s: bad or missing Version field", what,
			       d->package);
	if (!token_ok(d->architecture, "-", 1))
		return dk_fail(err, DK_E_CORRUPT, "%s: control of %s: bad or missing Architecture field", what,
			       d->package);
	if (d->multi_arch && strcmp(d->multi_arch, "same") && strcmp(d->multi_arch, "foreign") &&
	    strcmp(d->multi_arch, "allowed") && strcmp(d->multi_arch, "no"))
		return dk_fail(err, DK_E_CORRUPT, "%s: control of %s: bad Multi-Arch field \"%s\"", what,
			       d->package, d->multi_arch);
	return 0;
}

/* conffiles: one absolute path a line. */
static int parse_conffiles(struct dk_deb *d, const char *text, const char *what, struct dk_err *err)
{
	const char *l = text;

	while (*l) {
		const char *nl = strchr(l, '\n'), *end = nl ? nl : l + strlen(l);
		struct dk_deb_conffile *c;

		while (end > l && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if (end > l) {
			if (*l != '/')
				return dk_fail(err, DK_E_CORRUPT,
					       "%s: conffiles line \"%.*s\" is no absolute path (flags such as "
					       "remove-on-upgrade are not supported)", what, (int)(end - l), l);
			d->conffiles = dk_xrealloc(d->conffiles, (d->nconffiles + 1) * sizeof(*d->conffiles));
			c = &d->conffiles[d->nconffiles++];
			memset(c, 0, sizeof(*c));
			c->path = dk_xstrndup(l, (size_t)(end - l));
		}
		l = nl ? nl + 1 : end + strlen(end);
	}
	return 0;
}

static int read_control(struct member_in *m, struct dk_deb *d, const char *what, struct dk_err *err)
{
	struct archive *a = inner_open(m, what, err);
	struct archive_entry *ae;
	char *conffiles = NULL, *sub = NULL;
	size_t conffiles_len = 0;
	int rc = -1, r;

	if (!a)
		return -1;
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		char *name = dk_path_clean(dk_str_or(archive_entry_pathname(ae), ""));
		unsigned bit = 0;

		free(sub);
		sub = dk_xasprintf("%s: %s", what, name ? name : "?");
		if (!name || archive_entry_filetype(ae) != AE_IFREG) {
			free(name);
			continue;
		}
		for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
			if (!strcmp(name, scripts[i].name))
				bit = scripts[i].bit;
		d->scripts |= bit;
		if (bit == DK_DEB_PREINST || bit == DK_DEB_POSTINST)
			r = read_head(a, DK_DEB_SCRIPT_MAX, bit == DK_DEB_PREINST ? &d->preinst : &d->postinst, sub,
				      err);
		else if (!strcmp(name, "control"))
			r = read_all(a, CONTROL_MAX, &d->control, &d->control_len, sub, err);
		else if (!strcmp(name, "md5sums"))
			r = read_all(a, MD5SUMS_MAX, &d->md5sums, &d->md5sums_len, sub, err);
		else if (!strcmp(name, "conffiles"))
			r = read_all(a, CONTROL_MAX, &conffiles, &conffiles_len, sub, err);
		else
			r = 0;
		free(name);
		if (r < 0)
			goto done;
	}
	if (r != ARCHIVE_EOF) {
		dk_fail(err, DK_E_CORRUPT, "%s: %s", what,
			dk_str_or(archive_error_string(a), "libarchive gave no reason"));
		goto done;
	}
	if (!d->control) {
		dk_fail(err, DK_E_CORRUPT, "%s: no control file", what);
		goto done;
	}
	if (parse_control(d, what, err) < 0)
		goto done;
	if (conffiles && parse_conffiles(d, conffiles, what, err) < 0)
		goto done;
	rc = 0;
done:
	free(conffiles);
	free(sub);
	archive_read_free(a);
	return rc;
}

/* ------------------------------------------------------------ data.tar's safety */

/* Whether relative symlink target `t` of the entry at `path` climbs above the root. */
static int link_escapes(const char *path, const char *t)
{
	long depth = 0;

	if (t[0] == '/')
		return 0;       /* resolved in the image's own root, as dpkg leaves it */
	for (const char *p = path; *p; p++)
		depth += *p == '/';
	while (*t) {
		size_t n = strcspn(t, "/");

		if (n == 2 && t[0] == '.' && t[1] == '.') {
			if (--depth < 0)
				return 1;
		} else if (n && !(n == 1 && t[0] == '.')) {
			depth++;
		}
		t += n + (t[n] == '/');
	}
	return 0;
}

/* Refuse links that escape and entries that would be written through a symlink of the package. */
static int check_tree(const struct dk_entries *l, size_t first, const char *what, struct dk_err *err)
{
	size_t n = l->n - first;
	struct dk_path_order *ix = dk_path_index(l, first);
	int rc = 0;

	for (size_t i = first; i < l->n && rc == 0; i++) {
		const struct dk_entry *e = &l->v[i];
		char *p = dk_xstrdup(e->path);

		if (e->type == DK_ENT_SYMLINK && link_escapes(e->path, e->link))
			rc = dk_fail(err, DK_E_CORRUPT, "%s: symlink ./%s -> %s points above the root", what,
				     e->path, e->link);
		for (char *s = strrchr(p, '/'); s && rc == 0; s = strrchr(p, '/')) {
			size_t k;

			*s = '\0';
			k = dk_path_lower_bound(ix, n, sizeof(*ix), p);
			for (; k < n && !strcmp(ix[k].path, p) && rc == 0; k++)
				if (l->v[ix[k].idx].type == DK_ENT_SYMLINK)
					rc = dk_fail(err, DK_E_CORRUPT, "%s: ./%s lies below the symlink ./%s -> %s",
						     what, e->path, p, l->v[ix[k].idx].link);
		}
		free(p);
	}
	free(ix);
	return rc;
}

/* The MD5 of file entry e's content in the spool, as 32 hex digits. */
static int spool_md5(const struct dk_entry *e, int fd, char hex[33], const char *what, struct dk_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char d[EVP_MAX_MD_SIZE], buf[1 << 16];
	unsigned dlen = 0;
	uint64_t left = e->size, off = e->spool_off;
	int rc = -1;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_md5(), NULL)) {
		dk_fail(err, DK_E_INTERNAL, "%s: MD5 is not available", what);
		goto done;
	}
	while (left) {
		ssize_t n = pread(fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf), (off_t)off);

		if (n <= 0) {
			dk_fail(err, DK_E_IO, "%s: spool read of %s failed", what, e->path);
			goto done;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		left -= (uint64_t)n;
		off += (uint64_t)n;
	}
	EVP_DigestFinal_ex(ctx, d, &dlen);
	for (unsigned i = 0; i < dlen && i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	rc = 0;
done:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Each conffile's MD5, from the file of that name among the entries the package added. */
static int conffile_sums(struct dk_deb *d, const struct dk_entries *l, size_t first, const char *what,
			 struct dk_err *err)
{
	for (size_t c = 0; c < d->nconffiles; c++) {
		const char *want = d->conffiles[c].path + 1;
		const struct dk_entry *hit = NULL;

		for (size_t i = first; i < l->n; i++)   /* the last of a name wins, as on unpacking */
			if (!strcmp(l->v[i].path, want))
				hit = &l->v[i];
		if (!hit || hit->type != DK_ENT_FILE)
			return dk_fail(err, DK_E_CORRUPT, "%s: conffile %s is %s", what, d->conffiles[c].path,
				       hit ? "no regular file" : "not in data.tar");
		if (spool_md5(hit, l->spool_fd, d->conffiles[c].md5, what, err) < 0)
			return -1;
	}
	return 0;
}

static int read_data(struct member_in *m, struct dk_deb *d, struct dk_entries *out, const char *what,
		     struct dk_err *err)
{
	struct dk_tar_read_opts o = { .what = what, .name = what, .dest = "", .keep_attrs = 1, .strict = 1 };
	struct archive *a = inner_open(m, what, err);
	size_t first = out->n;
	int rc = -1;

	if (!a)
		return -1;
	if (dk_tar_read_archive(a, &o, out, err) < 0 || check_tree(out, first, what, err) < 0 ||
	    conffile_sums(d, out, first, what, err) < 0)
		goto done;
	d->paths = dk_xmalloc((out->n - first + 1) * sizeof(*d->paths));
	d->paths[d->npaths++] = dk_xstrdup("/.");
	for (size_t i = first; i < out->n; i++)
		d->paths[d->npaths++] = dk_xasprintf("/%s", out->v[i].path);
	rc = 0;
done:
	archive_read_free(a);
	return rc;
}

/* ------------------------------------------------------------ the ar archive */

static int read_version(struct archive *outer, const char *what, struct dk_err *err)
{
	char buf[64];
	la_ssize_t n = 0, got = 0;
	size_t digits;

	while (got < (la_ssize_t)sizeof(buf) - 1 &&
	       (n = archive_read_data(outer, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	if (n < 0)
		return dk_fail(err, DK_E_CORRUPT, "%s: %s", what,
			       dk_str_or(archive_error_string(outer), "unreadable"));
	buf[got] = '\0';
	digits = strspn(buf, "0123456789");
	if (!(digits == 1 && buf[0] == '2' && buf[1] == '.' && strspn(buf + 2, "0123456789") > 0 &&
	      buf[2 + strspn(buf + 2, "0123456789")] == '\n'))
		return dk_fail(err, DK_E_CORRUPT, "%s: format version \"%.*s\" is not 2.x", what,
			       (int)strcspn(buf, "\n"), buf);
	return 0;
}

static int read_deb(struct archive *outer, const char *file, struct dk_entries *out, struct dk_deb *d,
		    struct dk_err *err)
{
	struct archive_entry *ae;
	struct member_in *m = dk_xcalloc(1, sizeof(*m));
	int state = 0, r, rc = -1;        /* 0: debian-binary next, 1: control.tar, 2: data.tar, 3: done */
	char *what = NULL;

	m->outer = outer;
	while ((r = archive_read_next_header(outer, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = dk_str_or(archive_entry_pathname(ae), "");

		free(what);
		if (d->package)
			what = dk_xasprintf("package %s (%s): member %s", d->package, file, name);
		else
			what = dk_xasprintf("deb %s: member %s", file, name);
		if (state == 0) {
			if (strcmp(name, "debian-binary")) {
				dk_fail(err, DK_E_CORRUPT, "%s: debian-binary must come first", what);
				goto done;
			}
			if (read_version(outer, what, err) < 0)
				goto done;
			state = 1;
		} else if (state == 3 || name[0] == '_') {
			continue;       /* dpkg ignores these: members after data.tar, or _-prefixed ones */
		} else if (state == 1 && is_member(name, "control.tar", 0)) {
			if (read_control(m, d, what, err) < 0)
				goto done;
			state = 2;
		} else if (state == 2 && is_member(name, "data.tar", 1)) {
			if (read_data(m, d, out, what, err) < 0)
				goto done;
			state = 3;
		} else {
			dk_fail(err, DK_E_CORRUPT, "%s: unexpected, %s was expected", what,
				state == 1 ? "control.tar[.gz|.xz|.zst]" : "data.tar[.gz|.xz|.zst|.bz2]");
			goto done;
		}
	}
	if (r != ARCHIVE_EOF) {
		dk_fail(err, DK_E_CORRUPT, "%s%s: %s", what ? what : file, what ? " (what follows it)" : "",
			dk_str_or(archive_error_string(outer), "libarchive gave no reason"));
		goto done;
	}
	if (state < 3) {
		dk_fail(err, DK_E_CORRUPT, "deb %s: no %s member", file,
			state == 0 ? "debian-binary" : state == 1 ? "control.tar" : "data.tar");
		goto done;
	}
	rc = 0;
done:
	free(what);
	free(m);
	return rc;
}

static struct archive *outer_new(void)
{
	struct archive *a = archive_read_new();

	archive_read_support_format_ar(a);
	return a;
}

static int run(struct archive *a, int opened, const char *file, struct dk_entries *out, struct dk_deb *d,
	       struct dk_err *err)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->file = dk_xstrdup(file);
	if (opened != ARCHIVE_OK)
		rc = dk_fail(err, DK_E_CORRUPT, "deb %s: %s", file,
			     dk_str_or(archive_error_string(a), "libarchive gave no reason"));
	else
		rc = read_deb(a, file, out, d, err);
	archive_read_free(a);
	return rc;
}

int dk_deb_read(const char *path, struct dk_entries *out, struct dk_deb *deb, struct dk_err *err)
{
	struct archive *a;

	/* libarchive's own message for a missing file lacks the reason: ask the OS first */
	if (access(path, R_OK) < 0) {
		memset(deb, 0, sizeof(*deb));
		return dk_fail_errno(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_IO, "deb %s", path);
	}
	a = outer_new();
	return run(a, archive_read_open_filename(a, path, MEMBER_BUF), path, out, deb, err);
}

int dk_deb_read_mem(const void *data, size_t len, const char *name, struct dk_entries *out,
		    struct dk_deb *deb, struct dk_err *err)
{
	struct archive *a = outer_new();

	return run(a, archive_read_open_memory(a, data, len), name, out, deb, err);
}

void dk_deb_release(struct dk_deb *d)
{
	free(d->file);
	free(d->package);
	free(d->version);
	free(d->architecture);
	free(d->multi_arch);
	free(d->control);
	free(d->md5sums);
	free(d->preinst);
	free(d->postinst);
	for (size_t i = 0; i < d->nconffiles; i++)
		free(d->conffiles[i].path);
	free(d->conffiles);
	for (size_t i = 0; i < d->npaths; i++)
		free(d->paths[i]);
	free(d->paths);
	memset(d, 0, sizeof(*d));
}
