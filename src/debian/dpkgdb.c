/*
 * dpkgdb.c - the dpkg database files of a layer of installed packages.
 *
 * What dpkg itself would have written after unpacking and configuring the
 * packages (dpkg 1.21, lib/dpkg/dump.c): a status stanza holds the
 * package's control fields in dpkg's own field order, then any other
 * field in the order the control file has them; the status file is sorted
 * by package name, then architecture; info/PKG.list lists "/." and then
 * every member of data.tar in archive order.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "derrick/dpkgdb.h"
#include "derrick/util.h"

/* The fields dpkg knows, in the order it writes them (lib/dpkg/parse.c, fieldinfos). */
static const char *const field_order[] = {
	"Package", "Essential", "Protected", "Status", "Priority", "Section", "Installed-Size", "Origin",
	"Maintainer", "Bugs", "Architecture", "Multi-Arch", "Source", "Version", "Config-Version",
	"Replaces", "Provides", "Depends", "Pre-Depends", "Recommends", "Suggests", "Breaks", "Conflicts",
	"Enhances", "Conffiles", "Filename", "Size", "MD5sum", "MSDOS-Filename", "Description",
	"Triggers-Pending", "Triggers-Awaited",
};
#define NFIELDS (sizeof(field_order) / sizeof(field_order[0]))

struct field {
	const char *name, *rest, *end;  /* name, the bytes after "Name" (":" on), one past its last line */
	size_t nlen;
	int known;                      /* index in field_order, or -1 */
};

/* Split a stanza into fields; continuation lines start with a blank. */
static size_t split_fields(const char *s, size_t len, struct field **out)
{
	const char *p = s, *end = s + len;
	size_t n = 0;

	*out = NULL;
	while (p < end) {
		const char *colon = memchr(p, ':', (size_t)(end - p)), *q;
		struct field *f;

		q = memchr(p, '\n', (size_t)(end - p));
		q = q ? q + 1 : end;
		while (q < end && (*q == ' ' || *q == '\t'))
			q = memchr(q, '\n', (size_t)(end - q)) ? (const char *)memchr(q, '\n', (size_t)(end - q)) + 1
								: end;
		*out = dk_xrealloc(*out, (n + 1) * sizeof(**out));
		f = &(*out)[n++];
		f->name = p;
		f->nlen = colon && colon < q ? (size_t)(colon - p) : 0;
		f->rest = p + f->nlen;
		f->end = q;
		f->known = -1;
		for (size_t k = 0; k < NFIELDS; k++)
			if (strlen(field_order[k]) == f->nlen && !strncasecmp(field_order[k], p, f->nlen))
				f->known = (int)k;
		p = q;
	}
	return n;
}

static void add_field(struct strbuf *sb, const struct field *f)
{
	if (f->known >= 0)
		sb_adds(sb, field_order[f->known]);    /* dpkg writes its own spelling of the name */
	else
		sb_add(sb, f->name, f->nlen);
	sb_add(sb, f->rest, (size_t)(f->end - f->rest));
	if (f->end == f->rest || f->end[-1] != '\n')
		sb_addc(sb, '\n');
}

/* The status stanza of an installed package d, as dpkg writes it. */
static char *new_stanza(const struct dk_deb *d, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	size_t clen = d->control_len;
	struct field *f;
	size_t n;

	while (clen && (d->control[clen - 1] == '\n' || d->control[clen - 1] == '\r'))
		clen--;
	n = split_fields(d->control, clen, &f);
	for (size_t k = 0; k < NFIELDS; k++) {
		if (!strcmp(field_order[k], "Status")) {
			sb_adds(&sb, "Status: install ok installed\n");
		} else if (!strcmp(field_order[k], "Conffiles") && d->nconffiles) {
			sb_adds(&sb, "Conffiles:\n");
			for (size_t c = 0; c < d->nconffiles; c++)
				sb_addf(&sb, " %s %s\n", d->conffiles[c].path, d->conffiles[c].md5);
		} else {
			for (size_t i = 0; i < n; i++)
				if (f[i].known == (int)k)
					add_field(&sb, &f[i]);
		}
	}
	for (size_t i = 0; i < n; i++)
		if (f[i].known < 0)
			add_field(&sb, &f[i]);
	free(f);
	*len = sb.len;
	return sb_detach(&sb);
}

struct stanza {
	char *name, *arch;
	const char *bytes;      /* not owned */
	size_t len;
	char *own;              /* bytes, when made here */
	size_t idx;
};

static int stanza_cmp(const void *a, const void *b)
{
	const struct stanza *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (!c)
		c = strcmp(x->arch, y->arch);
	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static void stanza_release(struct stanza *s)
{
	free(s->name);
	free(s->arch);
	free(s->own);
}

/* The base status split into stanzas (pointing into status), each with its name and architecture. */
static int base_stanzas(const char *status, size_t len, struct stanza **out, size_t *nout, struct dk_err *err)
{
	const char *p = status, *end = status + len;
	size_t line = 1;

	*out = NULL;
	*nout = 0;
	while (p < end) {
		const char *start, *q;
		size_t first_line;
		char *copy;
		struct stanza *s;

		while (p < end && *p == '\n') {        /* blank lines between stanzas */
			p++;
			line++;
		}
		if (p >= end)
			break;
		start = p;
		first_line = line;
		while (p < end && *p != '\n') {        /* up to the blank line that ends the stanza */
			q = memchr(p, '\n', (size_t)(end - p));
			p = q ? q + 1 : end;
			line++;
		}
		if (memchr(start, '\0', (size_t)(p - start)))
			return dk_fail(err, DK_E_CORRUPT, "dpkg status:%zu: a NUL byte", first_line);
		copy = dk_xstrndup(start, (size_t)(p - start));
		*out = dk_xrealloc(*out, (*nout + 1) * sizeof(**out));
		s = &(*out)[(*nout)++];
		memset(s, 0, sizeof(*s));
		s->name = dk_deb_field(copy, "Package");
		s->arch = dk_deb_field(copy, "Architecture");
		free(copy);
		if (!s->arch)
			s->arch = dk_xstrdup("");
		s->bytes = start;
		s->len = (size_t)(p - start);
		s->idx = *nout;
		if (!s->name || !*s->name)
			return dk_fail(err, DK_E_CORRUPT, "dpkg status:%zu: a stanza without a Package field",
				       first_line);
	}
	return 0;
}

/* Append a file entry holding `len` bytes of data to the list, content in its spool. */
static int add_file(struct dk_entries *out, char *path, const void *data, size_t len, struct dk_err *err)
{
	off_t off = lseek(out->spool_fd, 0, SEEK_END);
	struct dk_entry *e;

	if (off < 0) {
		dk_fail_errno(err, DK_E_IO, "seek the spool for %s", path);
		free(path);
		return -1;
	}
	if (dk_write_all(out->spool_fd, data, len, "dpkg database spool", err) < 0) {
		free(path);
		return -1;
	}
	e = dk_entries_add(out);
	e->path = path;
	e->type = DK_ENT_FILE;
	e->perm = 0644;
	e->keep_attrs = 1;
	e->spool_off = (uint64_t)off;
	e->size = len;
	return 0;
}

static void add_dirs(struct dk_entries *out, const char *const *dirs)
{
	for (; *dirs; dirs++) {
		struct dk_entry *e = dk_entries_add(out);

		e->path = dk_xstrdup(*dirs);
		e->type = DK_ENT_DIR;
		e->perm = 0755;
		e->keep_attrs = 1;
	}
}

/* The name dpkg gives a package's info files: PKG, or PKG:ARCH for Multi-Arch: same. */
static char *info_name(const struct dk_deb *d)
{
	if (d->multi_arch && !strcmp(d->multi_arch, "same"))
		return dk_xasprintf("%s:%s", d->package, d->architecture);
	return dk_xstrdup(d->package);
}

static int info_files(const struct dk_deb *d, struct dk_entries *out, struct dk_err *err)
{
	char *name = info_name(d);
	struct strbuf sb = STRBUF_INIT;
	int rc;

	for (size_t i = 0; i < d->npaths; i++) {
		sb_adds(&sb, d->paths[i]);
		sb_addc(&sb, '\n');
	}
	rc = add_file(out, dk_xasprintf("var/lib/dpkg/info/%s.list", name), sb.buf ? sb.buf : "", sb.len, err);
	sb_reset(&sb);
	if (rc == 0 && d->md5sums)
		rc = add_file(out, dk_xasprintf("var/lib/dpkg/info/%s.md5sums", name), d->md5sums,
			      d->md5sums_len, err);
	for (size_t c = 0; c < d->nconffiles; c++) {
		sb_adds(&sb, d->conffiles[c].path);
		sb_addc(&sb, '\n');
	}
	if (rc == 0 && d->nconffiles)
		rc = add_file(out, dk_xasprintf("var/lib/dpkg/info/%s.conffiles", name), sb.buf, sb.len, err);
	sb_release(&sb);
	free(name);
	return rc;
}

static int with_status(const char *status, size_t status_len, const struct dk_deb *const *debs, size_t n,
		       struct dk_entries *out, struct dk_err *err)
{
	static const char *const dirs[] = { "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/info", NULL };
	struct stanza *st = NULL;
	struct strbuf sb = STRBUF_INIT;
	size_t nst = 0, nbase;
	int rc = -1;

	if (base_stanzas(status, status_len, &st, &nst, err) < 0)
		goto done;
	nbase = nst;
	st = dk_xrealloc(st, (nst + n + 1) * sizeof(*st));
	for (size_t i = 0; i < n; i++) {
		struct stanza *s = &st[nst++];

		memset(s, 0, sizeof(*s));
		s->name = dk_xstrdup(debs[i]->package);
		s->arch = dk_xstrdup(debs[i]->architecture);
		s->own = new_stanza(debs[i], &s->len);
		s->bytes = s->own;
		s->idx = nst;
	}
	qsort(st, nst, sizeof(*st), stanza_cmp);
	for (size_t i = 0; i < nst; i++) {
		/* the last of a name and architecture wins: a new package replaces the base's */
		if (i + 1 < nst && !strcmp(st[i].name, st[i + 1].name) && !strcmp(st[i].arch, st[i + 1].arch)) {
			if (st[i].idx > nbase) {
				dk_fail(err, DK_E_SPEC, "package %s:%s is installed twice", st[i].name, st[i].arch);
				goto done;
			}
			continue;
		}
		sb_add(&sb, st[i].bytes, st[i].len);
		sb_addc(&sb, '\n');
	}
	add_dirs(out, dirs);
	if (add_file(out, dk_xstrdup("var/lib/dpkg/status"), sb.buf ? sb.buf : "", sb.len, err) < 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (info_files(debs[i], out, err) < 0)
			goto done;
	rc = 0;
done:
	for (size_t i = 0; i < nst; i++)
		stanza_release(&st[i]);
	free(st);
	sb_release(&sb);
	return rc;
}

static int without_status(const struct dk_deb *const *debs, size_t n, struct dk_entries *out, struct dk_err *err)
{
	static const char *const dirs[] = { "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/status.d", NULL };

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(debs[i]->package, debs[j]->package))
				return dk_fail(err, DK_E_SPEC, "package %s is installed twice (status.d holds one "
					       "file per package name)", debs[i]->package);
	add_dirs(out, dirs);
	for (size_t i = 0; i < n; i++) {
		const struct dk_deb *d = debs[i];

		if (add_file(out, dk_xasprintf("var/lib/dpkg/status.d/%s", d->package), d->control,
			     d->control_len, err) < 0)
			return -1;
		if (d->md5sums && add_file(out, dk_xasprintf("var/lib/dpkg/status.d/%s.md5sums", d->package),
					   d->md5sums, d->md5sums_len, err) < 0)
			return -1;
	}
	return 0;
}

int dk_dpkgdb_entries(const char *status, size_t status_len, const struct dk_deb *const *debs, size_t n,
		      struct dk_entries *out, struct dk_err *err)
{
	if (dk_entries_spool(out, "the dpkg database", err) < 0)
		return -1;
	if (status)
		return with_status(status, status_len, debs, n, out, err);
	return without_status(debs, n, out, err);
}
