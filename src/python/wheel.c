/*
 * wheel.c - open a wheel and verify it before anything of it is used: the
 * file's size and sha256, the zip (wheelzip.c), the .dist-info directory
 * against the file name, WHEEL's Wheel-Version, and every member against
 * RECORD (pip skips this last check; the specification asks for it).  See
 * wheel.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "derrick/digest.h"
#include "derrick/log.h"
#include "derrick/pytags.h"
#include "derrick/util.h"
#include "derrick/wheelfmt.h"

#include "wheel_int.h"

/* WHEEL, METADATA, RECORD and entry_points.txt are read whole: a sane bound. */
#define META_MAX ((uint64_t)64 << 20)

void dk_wheel_free(struct dk_wheel *w)
{
	if (!w)
		return;
	free(w->filename);
	free(w->dist);
	free(w->dist_info);
	free(w->data_dir);
	free(w->name);
	free(w->version);
	free(w->file_version);
	free(w->requires_python);
	free(w->entry_points);
	dk_zip_members_free(w->m, w->n);
	free(w);
}

const struct dk_wheel_info *dk_wheel_info(const struct dk_wheel *w)
{
	return &w->info;
}

int dk_wheel_read_member(const struct dk_wheel *w, const struct dk_zmember *m, char **out,
			 struct dk_err *err)
{
	char *buf;
	uint64_t done = 0;

	if (m->size > META_MAX)
		return dk_fail(err, DK_E_CORRUPT, "wheel %s: \"%s\" is larger than %llu bytes", w->filename,
			       m->name, (unsigned long long)META_MAX);
	buf = dk_xmalloc(m->size + 1);
	while (done < m->size) {
		ssize_t got = pread(w->spool_fd, buf + done, m->size - done, (off_t)(m->off + done));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			free(buf);
			return dk_fail_errno(err, DK_E_IO, "wheel %s: read \"%s\" back from the spool", w->filename, m->name);
		}
		done += (uint64_t)got;
	}
	buf[m->size] = '\0';
	*out = buf;
	return 0;
}

/* PEP 503 names of the first len bytes of s (a new string). */
static char *canonical_name(const char *s, size_t len)
{
	char *part = dk_xstrndup(s, len), *name = dk_pyname_normalize(part);

	free(part);
	return name;
}

/*
 * Versions in file names have '-' escaped as '_' and may differ in case;
 * anything more (PEP 440's full normal form) is the version module's.
 */
static int same_version(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return !*a && !*b;
}

/* {dist}-{version}(-{build})?-{python}-{abi}-{platform}.whl: dist and version as new strings. */
static int parse_filename(const char *fn, char **dist, char **version, struct dk_err *err)
{
	size_t len = strlen(fn), parts = 1;
	const char *dash;

	if (len < 5 || strcmp(fn + len - 4, ".whl"))
		return dk_fail(err, DK_E_CORRUPT, "wheel %s: the file name does not end in \".whl\"", fn);
	for (size_t i = 0; i < len - 4; i++)
		parts += fn[i] == '-';
	dash = strchr(fn, '-');
	if ((parts != 5 && parts != 6) || dash == fn || dash[1] == '-')
		return dk_fail(err, DK_E_CORRUPT,
			       "wheel %s: the file name is not NAME-VERSION(-BUILD)-PYTHON-ABI-PLATFORM.whl", fn);
	*dist = dk_xstrndup(fn, (size_t)(dash - fn));
	*version = dk_xstrndup(dash + 1, strcspn(dash + 1, "-"));
	return 0;
}

/* Size first (no read), then one streaming pass for the sha256. */
static int check_file(struct dk_wheel *w, int fd, const struct dk_wheel_file *f, struct stat *st,
		      struct dk_err *err)
{
	char buf[1 << 16];
	char digest[DK_DIGEST_SIZE];
	struct dk_sha256 h;

	if (fstat(fd, st) < 0)
		return dk_fail_errno(err, DK_E_IO, "wheel %s: stat %s", w->filename, f->path);
	if (!S_ISREG(st->st_mode))
		return dk_fail(err, DK_E_CORRUPT, "wheel %s: %s is not a regular file", w->filename, f->path);
	if (f->size >= 0 && (uint64_t)st->st_size != (uint64_t)f->size)
		return dk_fail(err, DK_E_CORRUPT, "wheel %s: %lld bytes, but %lld expected", w->filename,
			       (long long)st->st_size, (long long)f->size);
	dk_sha256_init(&h);
	for (;;) {
		ssize_t got = dk_read(fd, buf, sizeof(buf));

		if (got < 0) {
			dk_sha256_abort(&h);
			return dk_fail_errno(err, DK_E_IO, "wheel %s: read %s", w->filename, f->path);
		}
		if (got == 0)
			break;
		dk_sha256_update(&h, buf, (size_t)got);
		w->info.size += (uint64_t)got;
	}
	dk_sha256_final(&h, digest);
	memcpy(w->info.sha256, digest + 7, DK_DIGEST_HEX + 1);
	if (f->sha256 && strcasecmp(f->sha256, w->info.sha256))
		return dk_fail(err, DK_E_CORRUPT, "wheel %s: sha256 %s, but %s expected", w->filename,
			       w->info.sha256, f->sha256);
	return 0;
}

static const struct dk_zmember *member(const struct dk_wheel *w, const char *dir, const char *name)
{
	size_t dl = strlen(dir);

	for (size_t i = 0; i < w->n; i++) {
		const char *p = w->m[i].name;

		if (!w->m[i].dir && !strncmp(p, dir, dl) && p[dl] == '/' && !strcmp(p + dl + 1, name))
			return &w->m[i];
	}
	return NULL;
}

/* The one top-level ".dist-info" directory, and that its name matches the file name. */
static int find_dist_info(struct dk_wheel *w, struct dk_err *err)
{
	const char *di = NULL;
	size_t dil = 0;
	char *cn_file, *cn_dir;
	const char *dash;
	int ok;

	for (size_t i = 0; i < w->n; i++) {
		const char *p = w->m[i].name;
		size_t top = strcspn(p, "/");

		if (top < 10 || strncmp(p + top - 10, ".dist-info", 10))
			continue;
		if (di && (top != dil || strncmp(di, p, top)))
			return dk_fail(err, DK_E_CORRUPT, "wheel %s: two .dist-info directories, \"%.*s\" and \"%.*s\"",
				       w->filename, (int)dil, di, (int)top, p);
		di = p;
		dil = top;
	}
	if (!di)
		return dk_fail(err, DK_E_CORRUPT, "wheel %s: no .dist-info directory", w->filename);
	w->dist_info = dk_xstrndup(di, dil);
	w->data_dir = dk_xasprintf("%.*s.data", (int)(dil - 10), di);
	dash = memrchr(di, '-', dil - 10);
	if (!dash)
		return dk_fail(err, DK_E_CORRUPT, "wheel %s: \"%s\" is not NAME-VERSION.dist-info", w->filename,
			       w->dist_info);
	cn_file = canonical_name(w->dist, strlen(w->dist));
	cn_dir = canonical_name(di, (size_t)(dash - di));
	ok = !strcmp(cn_file, cn_dir);
	free(cn_file);
	free(cn_dir);
	if (!ok)
		return dk_fail(err, DK_E_CORRUPT, "wheel %s: \"%s\" names another distribution than the file name",
			       w->filename, w->dist_info);
	{
		char *ver = dk_xstrndup(dash + 1, (size_t)(di + dil - 10 - dash - 1));

		ok = same_version(ver, w->file_version);
		free(ver);
	}
	if (!ok)
		return dk_fail(err, DK_E_CORRUPT, "wheel %s: \"%s\" has another version than the file name (%s)",
			       w->filename, w->dist_info, w->file_version);
	return 0;
}

/* WHEEL: Wheel-Version 1.x (a newer minor is warned about), Root-Is-Purelib. */
static int check_wheel_file(struct dk_wheel *w, struct dk_err *err)
{
	const struct dk_zmember *m = member(w, w->dist_info, "WHEEL");
	char *text, *ver, *purelib, *end;
	unsigned long major, minor;
	int rc = 0;

	if (!m)
		return dk_fail(err, DK_E_CORRUPT, "wheel %s: no %s/WHEEL", w->filename, w->dist_info);
	if (dk_wheel_read_member(w, m, &text, err) < 0)
		return -1;
	ver = dk_header_get(text, m->size, "Wheel-Version");
	purelib = dk_header_get(text, m->size, "Root-Is-Purelib");
	free(text);
	if (!ver) {
		rc = dk_fail(err, DK_E_CORRUPT, "wheel %s: %s/WHEEL has no Wheel-Version", w->filename, w->dist_info);
		goto done;
	}
	errno = 0;
	major = (ver[0] >= '0' && ver[0] <= '9') ? strtoul(ver, &end, 10) : (end = ver, 0);
	if (end == ver || *end != '.' || !(end[1] >= '0' && end[1] <= '9') ||
	    (minor = strtoul(end + 1, &end, 10), *end) || errno) {
		rc = dk_fail(err, DK_E_CORRUPT, "wheel %s: Wheel-Version \"%s\" is not MAJOR.MINOR", w->filename, ver);
		goto done;
	}
	if (major != 1) {
		rc = dk_fail(err, DK_E_CORRUPT, "wheel %s: Wheel-Version %s; only 1.x is supported", w->filename, ver);
		goto done;
	}
	if (minor > 0)
		dk_warn("wheel %s: Wheel-Version %s is newer than 1.0, which derrick knows", w->filename, ver);
	w->info.wheel_minor = minor > 1000 ? 1000 : (int)minor;
	w->info.root_is_purelib = purelib && !strcmp(purelib, "true");
done:
	free(ver);
	free(purelib);
	return rc;
}

static int check_metadata(struct dk_wheel *w, struct dk_err *err)
{
	const struct dk_zmember *m = member(w, w->dist_info, "METADATA");
	char *text;

	if (!m)
		return dk_fail(err, DK_E_CORRUPT, "wheel %s: no %s/METADATA", w->filename, w->dist_info);
	if (dk_wheel_read_member(w, m, &text, err) < 0)
		return -1;
	w->name = dk_header_get(text, m->size, "Name");
	w->version = dk_header_get(text, m->size, "Version");
	w->requires_python = dk_header_get(text, m->size, "Requires-Python");
	free(text);
	if (!w->name || !*w->name || !w->version || !*w->version)
		return dk_fail(err, DK_E_CORRUPT, "wheel %s: %s/METADATA lacks Name or Version", w->filename,
			       w->dist_info);
	m = member(w, w->dist_info, "entry_points.txt");
	if (m) {
		if (dk_wheel_read_member(w, m, &w->entry_points, err) < 0)
			return -1;
		w->entry_points_len = m->size;
	}
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dk_record_row *)a)->path, ((const struct dk_record_row *)b)->path);
}

/* One member against its row: sha256 (never a weaker hash) and size. */
static const char *row_mismatch(const struct dk_record_row *r, const struct dk_zmember *m)
{
	char *want;
	size_t vl;
	int same;

	if (!*r->hash)
		return "has no hash";
	if (!strncasecmp(r->hash, "md5=", 4) || !strncasecmp(r->hash, "sha1=", 5))
		return "has an md5 or sha1 hash, which is too weak";
	if (strncmp(r->hash, "sha256=", 7))
		return "has a hash that is not sha256";
	if (!*r->size || strspn(r->size, "0123456789") != strlen(r->size) || strlen(r->size) > 19 ||
	    strtoull(r->size, NULL, 10) != m->size)
		return "has a size that does not match the file";
	want = dk_record_hash(m->sha);
	vl = strlen(r->hash);
	while (vl > 7 && r->hash[vl - 1] == '=')    /* padding is tolerated */
		vl--;
	same = strlen(want) == vl && !strncmp(want, r->hash, vl);
	free(want);
	return same ? NULL : "has a sha256 that does not match the file";
}

static int check_record(struct dk_wheel *w, struct dk_err *err)
{
	const struct dk_zmember *m = member(w, w->dist_info, "RECORD");
	struct dk_record_row *rows = NULL, key;
	char *text, *what, *record_path;
	const char *missing = NULL, *extra = NULL;
	size_t n = 0;
	unsigned char *used = NULL;
	int rc = -1;

	if (!m)
		return dk_fail(err, DK_E_CORRUPT, "wheel %s: no %s/RECORD", w->filename, w->dist_info);
	if (dk_wheel_read_member(w, m, &text, err) < 0)
		return -1;
	what = dk_xasprintf("wheel %s: %s", w->filename, m->name);
	record_path = m->name;
	if (dk_record_parse(text, m->size, what, &rows, &n, err) < 0)
		goto done;
	qsort(rows, n, sizeof(*rows), row_cmp);
	for (size_t i = 1; i < n; i++) {
		if (!strcmp(rows[i - 1].path, rows[i].path)) {
			dk_fail(err, DK_E_CORRUPT, "%s:%zu: \"%s\" is listed twice", what, rows[i].line, rows[i].path);
			goto done;
		}
	}
	used = dk_xcalloc(n + 1, 1);
	for (size_t i = 0; i < w->n; i++) {
		const struct dk_zmember *z = &w->m[i];
		struct dk_record_row *r;
		const char *why;

		if (z->dir)
			continue;
		key.path = z->name;
		r = bsearch(&key, rows, n, sizeof(*rows), row_cmp);
		if (!r) {
			if (!missing)
				missing = z->name;
			continue;
		}
		used[r - rows] = 1;
		if (z->name == record_path) {
			if (*r->hash || *r->size) {
				dk_fail(err, DK_E_CORRUPT, "%s:%zu: RECORD's own row must have no hash and no size",
					what, r->line);
				goto done;
			}
			continue;
		}
		why = row_mismatch(r, z);
		if (why) {
			dk_fail(err, DK_E_CORRUPT, "%s:%zu: the row of \"%s\" %s", what, r->line, z->name, why);
			goto done;
		}
	}
	for (size_t i = 0; i < n && !extra; i++) {
		if (!used[i])
			extra = rows[i].path;
	}
	if (missing && extra)
		dk_fail(err, DK_E_CORRUPT, "%s: \"%s\" is in the wheel but not in RECORD, and RECORD lists \"%s\", which the wheel does not hold",
			what, missing, extra);
	else if (missing)
		dk_fail(err, DK_E_CORRUPT, "%s: \"%s\" is in the wheel but not in RECORD", what, missing);
	else if (extra)
		dk_fail(err, DK_E_CORRUPT, "%s: RECORD lists \"%s\", which the wheel does not hold", what, extra);
	else
		rc = 0;
done:
	free(used);
	dk_record_rows_free(rows, n);
	free(text);
	free(what);
	return rc;
}

/* Members below {dist}-{version}.data/ must be in one of its five keys' directories. */
static int check_data_dir(const struct dk_wheel *w, struct dk_err *err)
{
	static const char *const keys[] = { "purelib", "platlib", "scripts", "headers", "data" };
	size_t dl = strlen(w->data_dir);

	for (size_t i = 0; i < w->n; i++) {
		const char *p = w->m[i].name, *key, *slash;
		int ok = 0;

		if (strncmp(p, w->data_dir, dl) || (p[dl] != '/' && p[dl]))
			continue;
		if (!p[dl] || w->m[i].dir)
			continue;
		key = p + dl + 1;
		slash = strchr(key, '/');
		for (size_t k = 0; slash && k < sizeof(keys) / sizeof(*keys); k++)
			ok |= strlen(keys[k]) == (size_t)(slash - key) && !strncmp(key, keys[k], (size_t)(slash - key));
		if (!ok)
			return dk_fail(err, DK_E_CORRUPT, "wheel %s: \"%s\" is not in a purelib, platlib, scripts, headers or data directory of %s",
				       w->filename, p, w->data_dir);
	}
	return 0;
}

int dk_wheel_open(const struct dk_wheel_file *f, struct dk_entries *spool, struct dk_wheel **out,
		  struct dk_err *err)
{
	struct dk_wheel *w = dk_xcalloc(1, sizeof(*w));
	const char *slash = strrchr(f->path, '/');
	struct stat st, st2;
	int fd = -1, rc = -1;

	*out = NULL;
	w->filename = dk_xstrdup(f->filename ? f->filename : slash ? slash + 1 : f->path);
	w->info.filename = w->filename;
	if (f->sha256 && (strlen(f->sha256) != DK_DIGEST_HEX ||
			  strspn(f->sha256, "0123456789abcdefABCDEF") != DK_DIGEST_HEX)) {
		dk_fail(err, DK_E_USAGE, "wheel %s: expected sha256 \"%s\" is not 64 hex digits", w->filename, f->sha256);
		goto done;
	}
	if (parse_filename(w->filename, &w->dist, &w->file_version, err) < 0)
		goto done;
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		dk_fail_errno(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_IO, "wheel %s: open %s", w->filename, f->path);
		goto done;
	}
	if (check_file(w, fd, f, &st, err) < 0)
		goto done;
	if (spool->spool_fd < 0) {
		char *path = dk_tmp_path("derrick-spool-XXXXXX");

		spool->spool_fd = mkstemp(path);
		if (spool->spool_fd < 0) {
			dk_fail_errno(err, DK_E_IO, "wheel %s: create a spool file", w->filename);
			free(path);
			goto done;
		}
		unlink(path);   /* read back through the descriptor only: no crash leaks it */
		free(path);
	}
	w->spool_fd = spool->spool_fd;
	if (dk_zip_members(fd, w->filename, w->spool_fd, &w->m, &w->n, err) < 0)
		goto done;
	/* the bytes hashed above are the bytes unzipped: the file did not move meanwhile */
	if (fstat(fd, &st2) < 0 || st2.st_ino != st.st_ino || st2.st_size != st.st_size ||
	    st2.st_mtim.tv_sec != st.st_mtim.tv_sec || st2.st_mtim.tv_nsec != st.st_mtim.tv_nsec ||
	    st2.st_ctim.tv_sec != st.st_ctim.tv_sec || st2.st_ctim.tv_nsec != st.st_ctim.tv_nsec) {
		dk_fail(err, DK_E_CHANGED, "wheel %s: %s changed while it was read", w->filename, f->path);
		goto done;
	}
	for (size_t i = 0; i < w->n; i++)
		w->info.files += !w->m[i].dir;
	if (find_dist_info(w, err) < 0 || check_wheel_file(w, err) < 0 || check_metadata(w, err) < 0 ||
	    check_record(w, err) < 0 || check_data_dir(w, err) < 0)
		goto done;
	w->info.dist = w->dist;
	w->info.dist_info = w->dist_info;
	w->info.name = w->name;
	w->info.version = w->version;
	w->info.requires_python = w->requires_python;
	*out = w;
	w = NULL;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	dk_wheel_free(w);
	return rc;
}
