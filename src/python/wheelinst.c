/*
 * wheelinst.c - a verified wheel's members as layer entries, where the
 * "Binary distribution format" specification puts them (pypa/installer's
 * layout, so its output is our test oracle), and several wheels at once
 * with their collisions named.  See wheel.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/digest.h"
#include "derrick/log.h"
#include "derrick/util.h"
#include "derrick/wheelfmt.h"

#include "wheel_int.h"

/* One file the wheel installs. */
struct item {
	char *path;             /* in-layer */
	char *record;           /* its RECORD path, relative to site-packages */
	char *from;             /* what it comes from, for messages: "\"MEMBER\"", "entry point \"NAME\"" */
	uint64_t off, size;
	char sha[DK_DIGEST_HEX + 1];
	mode_t perm;
	int is_record;          /* the RECORD row without hash and size */
};

struct layout {
	char *site, *bin, *prefix, *headers;    /* in-layer directories */
	char *rel_bin, *rel_prefix, *rel_headers; /* the same, relative to site */
	const char *interpreter;
};

struct items {
	struct item *v;
	size_t n, alloc;
};

static struct item *item_add(struct items *l)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 64;
		l->v = dk_xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

static void items_free(struct items *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].record);
		free(l->v[i].from);
	}
	free(l->v);
}

static void layout_free(struct layout *L)
{
	free(L->site);
	free(L->bin);
	free(L->prefix);
	free(L->headers);
	free(L->rel_bin);
	free(L->rel_prefix);
	free(L->rel_headers);
}

/* os.path.relpath(to, from) for two clean in-layer paths ("" when equal). */
static char *relpath(const char *to, const char *from)
{
	struct strbuf sb = STRBUF_INIT;
	size_t common = 0, i = 0;

	/* the longest common run of whole components */
	for (;; i++) {
		if ((!to[i] || to[i] == '/') && (!from[i] || from[i] == '/'))
			common = i;
		if (!to[i] || !from[i] || to[i] != from[i])
			break;
	}
	if (!*to || !*from)
		common = 0;
	for (const char *p = from + common; *p;) {
		if (*p == '/')
			p++;
		sb_join(&sb, "/", "..");
		p += strcspn(p, "/");
	}
	if (to[common] == '/')
		common++;
	if (to[common])
		sb_join(&sb, "/", to + common);
	return sb_detach(&sb);
}

static char *clean_abs(const char *what, const char *p, struct dk_err *err)
{
	char *c;

	if (!p || *p != '/') {
		dk_fail(err, DK_E_USAGE, "wheel install: %s \"%s\" is not an absolute path", what, dk_str_or(p, ""));
		return NULL;
	}
	c = dk_path_clean(p);
	if (!c)
		dk_fail(err, DK_E_USAGE, "wheel install: %s \"%s\" holds \"..\"", what, p);
	return c;
}

static int layout_init(struct layout *L, const struct dk_wheel_opts *o, const char *dist, struct dk_err *err)
{
	const char *py = o->python ? o->python : "";
	size_t major = strspn(py, "0123456789");
	char *inc;

	memset(L, 0, sizeof(*L));
	if (!major || py[major] != '.' || !py[major + 1] || strspn(py + major + 1, "0123456789") != strlen(py + major + 1))
		return dk_fail(err, DK_E_USAGE, "wheel install: python \"%s\" is not X.Y", py);
	if (!o->interpreter || *o->interpreter != '/' || strpbrk(o->interpreter, "\n\r"))
		return dk_fail(err, DK_E_USAGE, "wheel install: interpreter \"%s\" is not an absolute path on one line",
			       dk_str_or(o->interpreter, ""));
	if (!dk_plain_file_name(dist))
		return dk_fail(err, DK_E_CORRUPT, "wheel install: distribution name \"%s\" is not a plain file name", dist);
	L->interpreter = o->interpreter;
	L->prefix = clean_abs("prefix", o->prefix, err);
	if (!L->prefix)
		return -1;
	L->site = clean_abs("site_packages", o->site_packages, err);
	if (!L->site)
		return -1;
	L->bin = dk_path_join(L->prefix, "bin");
	inc = dk_xasprintf("include/python%s", py);
	{
		char *d = dk_path_join(L->prefix, inc);

		L->headers = dk_path_join(d, dist);
		free(d);
	}
	free(inc);
	L->rel_bin = relpath(L->bin, L->site);
	L->rel_prefix = relpath(L->prefix, L->site);
	L->rel_headers = relpath(L->headers, L->site);
	return 0;
}

/* Append len bytes to the spool; *off gets where they start. */
static int spool_add(int fd, const void *data, size_t len, uint64_t *off, struct dk_err *err)
{
	off_t end = lseek(fd, 0, SEEK_END);

	if (end < 0)
		return dk_fail_errno(err, DK_E_IO, "wheel spool: seek");
	*off = (uint64_t)end;
	return dk_write_all(fd, data, len, "wheel spool", err);
}

static void sha_of(const void *data, size_t len, char out[DK_DIGEST_HEX + 1])
{
	char d[DK_DIGEST_SIZE];

	dk_sha256_buf(data, len, d);
	memcpy(out, d + 7, DK_DIGEST_HEX + 1);
}

/* A generated file: its bytes into the spool and an item for them. */
static int add_generated(struct items *l, int fd, char *path, char *record, char *from,
			 const char *data, size_t len, mode_t perm, struct dk_err *err)
{
	struct item *it = item_add(l);

	it->path = path;
	it->record = record;
	it->from = from;
	it->perm = perm;
	it->size = len;
	sha_of(data, len, it->sha);
	return spool_add(fd, data, len, &it->off, err);
}

/*
 * A script from .data/scripts: a first line starting "#!python" (which
 * covers "#!pythonw") becomes "#!INTERPRETER", the rest is kept, as
 * installer's fix_shebang does.  *changed is 0 when it stays as it is.
 */
static int fix_shebang(const struct dk_wheel *w, const struct dk_zmember *m, const char *interp,
		       struct item *it, struct dk_err *err)
{
	char head[8], *text, *nl;
	struct strbuf sb = STRBUF_INIT;
	int rc;

	if (m->size < 8 || pread(w->spool_fd, head, 8, (off_t)m->off) != 8 || memcmp(head, "#!python", 8))
		return 0;
	if (dk_wheel_read_member(w, m, &text, err) < 0)
		return -1;
	nl = memchr(text, '\n', m->size);
	sb_addf(&sb, "#!%s\n", interp);
	if (nl)
		sb_add(&sb, nl + 1, m->size - (size_t)(nl + 1 - text));
	free(text);
	it->size = sb.len;
	sha_of(sb.buf, sb.len, it->sha);
	rc = spool_add(w->spool_fd, sb.buf, sb.len, &it->off, err);
	sb_release(&sb);
	return rc;
}

/* Where member m goes: its in-layer path and RECORD path, set in it. */
static int place(const struct dk_wheel *w, const struct layout *L, const struct dk_zmember *m, struct item *it,
		 int *script)
{
	size_t dl = strlen(w->data_dir);
	const char *rest = m->name;
	const char *dir = L->site, *rel = NULL;

	*script = 0;
	if (!strncmp(m->name, w->data_dir, dl) && m->name[dl] == '/') {
		const char *key = m->name + dl + 1;
		size_t kl = strcspn(key, "/");

		rest = key + kl + 1;    /* check_data_dir made sure there is a rest */
		if (kl == 7 && !strncmp(key, "scripts", 7)) {
			dir = L->bin;
			rel = L->rel_bin;
			*script = 1;
		} else if (kl == 7 && !strncmp(key, "headers", 7)) {
			dir = L->headers;
			rel = L->rel_headers;
		} else if (kl == 4 && !strncmp(key, "data", 4)) {
			dir = L->prefix;
			rel = L->rel_prefix;
		}
		/* purelib and platlib: both are site-packages */
	}
	it->path = dk_path_join(dir, rest);
	it->record = rel ? dk_path_join(rel, rest) : dk_xstrdup(rest);
	return 0;
}

static int item_path_cmp(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->path, ((const struct item *)b)->path);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The RECORD text: one line per item, sorted bytewise. */
static char *record_text(const struct items *l, size_t *len)
{
	char **lines = dk_xmalloc((l->n + 1) * sizeof(*lines));
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < l->n; i++) {
		struct strbuf line = STRBUF_INIT;
		char *h = l->v[i].is_record ? NULL : dk_record_hash(l->v[i].sha);

		dk_record_line(&line, l->v[i].record, h, l->v[i].size);
		free(h);
		lines[i] = sb_detach(&line);
	}
	qsort(lines, l->n, sizeof(*lines), str_cmp);
	for (size_t i = 0; i < l->n; i++) {
		sb_adds(&sb, lines[i]);
		free(lines[i]);
	}
	free(lines);
	*len = sb.len;
	return sb_detach(&sb);
}

/* Files of the wheel the install writes itself, or must not write. */
static int skipped_meta(const struct dk_wheel *w, const char *name)
{
	static const char *const own[] = { "RECORD", "INSTALLER", "REQUESTED", "direct_url.json" };
	size_t dl = strlen(w->dist_info);

	if (strncmp(name, w->dist_info, dl) || name[dl] != '/')
		return 0;
	for (size_t i = 0; i < sizeof(own) / sizeof(*own); i++) {
		if (!strcmp(name + dl + 1, own[i])) {
			if (i > 0)
				dk_warn("wheel %s: its own %s is left out (an installer writes that file)", w->filename, own[i]);
			return 1;
		}
	}
	return 0;
}

static int collect(const struct dk_wheel *w, const struct layout *L, struct items *l, struct dk_err *err)
{
	struct dk_entry_point *eps = NULL;
	size_t neps = 0;
	char *text;
	size_t len;
	int rc = -1;

	for (size_t i = 0; i < w->n; i++) {
		const struct dk_zmember *m = &w->m[i];
		struct item *it;
		int script;

		if (m->dir || skipped_meta(w, m->name))
			continue;
		it = item_add(l);
		it->from = dk_xasprintf("\"%s\"", m->name);
		it->off = m->off;
		it->size = m->size;
		memcpy(it->sha, m->sha, sizeof(it->sha));
		it->perm = m->exec ? 0755 : 0644;
		place(w, L, m, it, &script);
		if (script) {
			it->perm = 0755;
			if (fix_shebang(w, m, L->interpreter, it, err) < 0)
				return -1;
		}
	}
	if (w->entry_points) {
		char *what = dk_xasprintf("wheel %s: %s/entry_points.txt", w->filename, w->dist_info);

		rc = dk_entry_points_parse(w->entry_points, w->entry_points_len, what, &eps, &neps, err);
		free(what);
		if (rc < 0)
			return -1;
		rc = -1;
	}
	for (size_t i = 0; i < neps; i++) {
		char *s = dk_entry_point_script(&eps[i], L->interpreter);

		if (add_generated(l, w->spool_fd, dk_path_join(L->bin, eps[i].name), dk_path_join(L->rel_bin, eps[i].name),
				  dk_xasprintf("entry point \"%s\"", eps[i].name), s, strlen(s), 0755, err) < 0) {
			free(s);
			goto done;
		}
		free(s);
	}
	{
		char *di = dk_path_join(L->site, w->dist_info);

		if (add_generated(l, w->spool_fd, dk_path_join(di, "INSTALLER"), dk_path_join(w->dist_info, "INSTALLER"),
				  dk_xstrdup("INSTALLER"), "derrick\n", 8, 0644, err) < 0) {
			free(di);
			goto done;
		}
		/* RECORD lists itself, without hash or size */
		{
			struct item *r = item_add(l);

			r->is_record = 1;
			r->record = dk_path_join(w->dist_info, "RECORD");
		}
		text = record_text(l, &len);
		l->n--;
		free(l->v[l->n].record);
		rc = add_generated(l, w->spool_fd, dk_path_join(di, "RECORD"), dk_path_join(w->dist_info, "RECORD"),
				   dk_xstrdup("the new RECORD"), text, len, 0644, err);
		free(text);
		free(di);
	}
done:
	dk_entry_points_free(eps, neps);
	return rc;
}

/* path lies strictly below the in-layer directory dir ("" is the root). */
static int below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!n)
		return *path != '\0';
	return !strncmp(path, dir, n) && path[n] == '/' && path[n + 1];
}

int dk_wheel_install(const struct dk_wheel *w, const struct dk_wheel_opts *o, struct dk_entries *out,
		     struct dk_err *err)
{
	struct layout L;
	struct items l = { 0 };
	char **dirs = NULL;
	size_t ndirs = 0, adirs = 0;
	int rc = -1;

	if (out->spool_fd != w->spool_fd)
		return dk_fail(err, DK_E_INTERNAL, "wheel %s: installed into another list than it was opened with",
			       w->filename);
	if (layout_init(&L, o, w->dist, err) < 0)
		goto done;
	if (collect(w, &L, &l, err) < 0)
		goto done;
	/* the layer's dest is prefix and site_packages: whatever the names, nothing lands elsewhere */
	for (size_t i = 0; i < l.n; i++) {
		if (!below(l.v[i].path, L.site) && !below(l.v[i].path, L.prefix)) {
			dk_fail(err, DK_E_CORRUPT, "wheel %s: %s would land outside the prefix and site-packages, at /%s",
				w->filename, l.v[i].from, l.v[i].path);
			goto done;
		}
	}
	qsort(l.v, l.n, sizeof(*l.v), item_path_cmp);
	for (size_t i = 1; i < l.n; i++) {
		if (!strcmp(l.v[i - 1].path, l.v[i].path)) {
			dk_fail(err, DK_E_CORRUPT, "wheel %s: %s and %s both install /%s", w->filename,
				l.v[i - 1].from, l.v[i].from, l.v[i].path);
			goto done;
		}
	}
	/* every parent directory, once */
	for (size_t i = 0; i < l.n; i++) {
		char *p = dk_xstrdup(l.v[i].path), *slash;

		while ((slash = strrchr(p, '/'))) {
			*slash = '\0';
			if (ndirs == adirs) {
				adirs = adirs ? 2 * adirs : 64;
				dirs = dk_xrealloc(dirs, adirs * sizeof(*dirs));
			}
			dirs[ndirs++] = dk_xstrdup(p);
		}
		free(p);
	}
	qsort(dirs, ndirs, sizeof(*dirs), str_cmp);
	{
		size_t u = 0;

		for (size_t i = 0; i < ndirs; i++) {
			if (u && !strcmp(dirs[u - 1], dirs[i])) {
				free(dirs[i]);
				continue;
			}
			dirs[u++] = dirs[i];
		}
		ndirs = u;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (bsearch(&l.v[i].path, dirs, ndirs, sizeof(*dirs), str_cmp)) {
			dk_fail(err, DK_E_CORRUPT, "wheel %s: %s installs a file at /%s, where other files need a directory",
				w->filename, l.v[i].from, l.v[i].path);
			goto done;
		}
	}
	for (size_t i = 0; i < ndirs; i++) {
		struct dk_entry *e = dk_entries_add(out);

		e->path = dirs[i];
		dirs[i] = NULL;
		e->type = DK_ENT_DIR;
		e->perm = 0755;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct dk_entry *e = dk_entries_add(out);

		e->path = l.v[i].path;
		l.v[i].path = NULL;
		e->type = DK_ENT_FILE;
		e->perm = l.v[i].perm;
		e->size = l.v[i].size;
		e->spool_off = l.v[i].off;
		e->nlink = 1;
		/* known already: the sha256 RECORD was checked against */
		memcpy(e->content, l.v[i].sha, sizeof(e->content));
	}
	rc = 0;
done:
	for (size_t i = 0; i < ndirs; i++)
		free(dirs[i]);
	free(dirs);
	items_free(&l);
	layout_free(&L);
	return rc;
}

struct owned {
	const char *path;
	size_t idx;     /* in out */
	size_t wheel;
};

static int owned_cmp(const void *a, const void *b)
{
	const struct owned *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static void input_hash(const struct dk_wheel *const *w, size_t n, const struct dk_wheel_opts *o, char out[65])
{
	struct strbuf sb = STRBUF_INIT;
	char d[DK_DIGEST_SIZE];

	sb_addf(&sb, "derrick wheels 1\nprefix %s\nsite_packages %s\ninterpreter %s\npython %s\n",
		o->prefix, o->site_packages, o->interpreter, o->python);
	for (size_t i = 0; i < n; i++)
		sb_addf(&sb, "%s %s\n", w[i]->info.sha256, w[i]->filename);
	dk_sha256_buf(sb.buf, sb.len, d);
	memcpy(out, d + 7, 65);
	sb_release(&sb);
}

int dk_wheels_install(const struct dk_wheel_file *files, size_t n, const struct dk_wheel_opts *o,
		      struct dk_entries *out, struct dk_err *err)
{
	struct dk_wheel **w = dk_xcalloc(n + 1, sizeof(*w));
	size_t *start = dk_xcalloc(n + 1, sizeof(*start));
	struct owned *own = NULL;
	size_t first = out->n, nown;
	int rc = -1;

	for (size_t i = 0; i < n; i++) {
		if (dk_wheel_open(&files[i], out, &w[i], err) < 0)
			goto done;
		if (o->check && o->check(&w[i]->info, o->check_arg, err) < 0)
			goto done;
	}
	for (size_t i = 0; i < n; i++) {
		start[i] = out->n;
		if (dk_wheel_install(w[i], o, out, err) < 0)
			goto done;
		for (size_t j = start[i]; j < out->n; j++)
			out->v[j].owner = (uint32_t)i + 1;
	}
	start[n] = out->n;
	nown = out->n - first;
	own = dk_xmalloc((nown + 1) * sizeof(*own));
	for (size_t i = 0, k = 0; i < n; i++) {
		for (size_t j = start[i]; j < start[i + 1]; j++, k++) {
			own[k].path = out->v[j].path;
			own[k].idx = j;
			own[k].wheel = i;
		}
	}
	qsort(own, nown, sizeof(*own), owned_cmp);
	for (size_t k = 1; k < nown; k++) {
		const struct owned *a = &own[k - 1], *b = &own[k];

		if (strcmp(a->path, b->path))
			continue;
		if (out->v[a->idx].type == DK_ENT_DIR && out->v[b->idx].type == DK_ENT_DIR)
			continue;       /* a directory two packages share (a namespace package) */
		dk_fail(err, DK_E_CORRUPT, "wheels %s and %s both install /%s%s", w[a->wheel]->filename,
			w[b->wheel]->filename, a->path,
			out->v[a->idx].type == out->v[b->idx].type ? "" : " (a file in one, a directory in the other)");
		goto done;
	}
	input_hash((const struct dk_wheel *const *)w, n, o, out->input_hash);
	rc = 0;
done:
	for (size_t i = 0; i < n; i++)
		dk_wheel_free(w[i]);
	free(w);
	free(start);
	free(own);
	return rc;
}
