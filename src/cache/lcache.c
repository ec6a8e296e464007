/*
 * lcache.c - the local build cache.  See lcache.h for the design.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "derrick/image.h"
#include "derrick/lcache.h"
#include "derrick/log.h"
#include "derrick/util.h"

/* Bump when anything about how a layer is written changes: old entries then never match. */
#define LAYER_FORMAT "derrick-layer-2"

struct dk_lcache {
	char *dir;
	char *layers;
	char *stat;
	char *maps;
	struct dk_blobs blobs;
};

int dk_lcache_open(const char *dir, struct dk_lcache **out, struct dk_err *err)
{
	struct dk_lcache *c = dk_xcalloc(1, sizeof(*c));

	c->dir = dk_xstrdup(dir);
	c->layers = dk_path_join(dir, "layers");
	c->stat = dk_path_join(dir, "stat");
	c->maps = dk_path_join(dir, "maps");
	if (dk_blobs_open(&c->blobs, dir, 1, err) < 0 || dk_mkdir_p(c->layers, 0755, err) < 0 ||
	    dk_mkdir_p(c->stat, 0755, err) < 0 || dk_mkdir_p(c->maps, 0755, err) < 0) {
		dk_err_prefix(err, "build cache %s", dir);
		dk_lcache_close(c);
		return -1;
	}
	*out = c;
	return 0;
}

void dk_lcache_close(struct dk_lcache *c)
{
	if (!c)
		return;
	dk_blobs_close(&c->blobs);
	free(c->dir);
	free(c->layers);
	free(c->stat);
	free(c->maps);
	free(c);
}

const struct dk_blobs *dk_lcache_blobs(const struct dk_lcache *c)
{
	return &c->blobs;
}

/* ------------------------------------------------------------ stat records */

struct record {
	char *path;
	uint64_t ino, size;
	int64_t mtime_ns, ctime_ns;
	unsigned mode;
	char hash[65];
};

struct records {
	struct record *v;
	size_t n;
};

static int cmp_record(const void *a, const void *b)
{
	return strcmp(((const struct record *)a)->path, ((const struct record *)b)->path);
}

static char *records_file(const struct dk_lcache *c, const char *source)
{
	char real[PATH_MAX], id[DK_DIGEST_SIZE];
	const char *p = realpath(source, real) ? real : source;

	dk_sha256_buf(p, strlen(p), id);
	return dk_path_join(c->stat, dk_digest_hex(id));
}

/* Missing or damaged records only cost re-hashing: never an error. */
static void load_records(const char *file, struct records *r)
{
	struct dk_err ignored;
	char *text, *line, *save = NULL;
	size_t len, alloc = 0;

	r->v = NULL;
	r->n = 0;
	if (dk_read_file(file, 1u << 30, &text, &len, &ignored) < 0)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct record rec;
		char *p = line, *end;

		/* ino, size, mtime_ns, ctime_ns (decimal), mode (octal), hash, path; tab-separated */
		rec.ino = strtoull(p, &end, 10);
		if (*end != '\t')
			continue;
		rec.size = strtoull(end + 1, &end, 10);
		if (*end != '\t')
			continue;
		rec.mtime_ns = strtoll(end + 1, &end, 10);
		if (*end != '\t')
			continue;
		rec.ctime_ns = strtoll(end + 1, &end, 10);
		if (*end != '\t')
			continue;
		rec.mode = (unsigned)strtoul(end + 1, &end, 8);
		if (*end != '\t' || strlen(end + 1) < 66 || end[65] != '\t')
			continue;
		memcpy(rec.hash, end + 1, 64);
		rec.hash[64] = '\0';
		if (strspn(rec.hash, "0123456789abcdef") != 64)
			continue;
		rec.path = dk_xstrdup(end + 66);
		if (r->n == alloc) {
			alloc = alloc ? 2 * alloc : 256;
			r->v = dk_xrealloc(r->v, alloc * sizeof(*r->v));
		}
		r->v[r->n++] = rec;
	}
	free(text);
	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), cmp_record);
}

static void free_records(struct records *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].path);
	free(r->v);
}

static const struct record *find_record(const struct records *r, const char *path)
{
	struct record key = { .path = (char *)path };

	return r->n ? bsearch(&key, r->v, r->n, sizeof(*r->v), cmp_record) : NULL;
}

/*
 * A record is kept only when any later write must move the file's stat.
 * The kernel stamps ctime from its coarse clock, cut to the filesystem's
 * granularity: a file last changed in the tick the key pass started in
 * could be written again after we read it and keep its ctime (git's "racy
 * clean" entries).  Such a file is hashed again next time.  The
 * granularity shows in the stamp's trailing zeros (whole seconds on a
 * 1 s filesystem; FAT's 2 s look the same, hence 2 s for those).
 */
static int racy(int64_t ctime_ns, int64_t start_ns)
{
	int64_t frac = ctime_ns % 1000000000, g = 1;

	if (frac == 0)
		g = 2000000000;
	else
		while (g < 100000000 && frac % (g * 10) == 0)
			g *= 10;
	return ctime_ns > start_ns - g;
}

static int64_t coarse_now_ns(void)
{
	struct timespec t;

#ifdef CLOCK_REALTIME_COARSE
	/* the clock file stamps come from, so never ahead of a stamp taken after it */
	clock_gettime(CLOCK_REALTIME_COARSE, &t);
#else
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec--;
#endif
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* One line per file whose name can be written in the format (no tab or newline). */
static void save_records(const char *file, const struct dk_entries *l, int64_t start_ns)
{
	struct strbuf sb = STRBUF_INIT;
	struct dk_err ignored;

	for (size_t i = 0; i < l->n; i++) {
		const struct dk_entry *e = &l->v[i];

		if (!e->src || !e->content[0] || strpbrk(e->src, "\t\n") || racy(e->ctime_ns, start_ns))
			continue;
		sb_addf(&sb, "%llu\t%llu\t%lld\t%lld\t%o\t%s\t%s\n", (unsigned long long)e->ino,
			(unsigned long long)e->size, (long long)e->mtime_ns, (long long)e->ctime_ns,
			(unsigned)e->perm, e->content, e->src);
	}
	if (dk_write_file_atomic(file, sb.buf, sb.len, 0644, &ignored) < 0)
		dk_verbose("build cache: %s", ignored.msg);
	sb_release(&sb);
}

/*
 * The content hash of file entry e: from its stat record when its stat did
 * not move (the tar writer then checks it against the bytes it copies),
 * else read, under the tar writer's own checks.
 */
static int content_hash(const struct records *r, struct dk_entry *e, int spool_fd, size_t *hashed,
			struct dk_err *err)
{
	const struct record *rec = e->src ? find_record(r, e->src) : NULL;

	if (rec && rec->ino == (uint64_t)e->ino && rec->size == e->size && rec->mtime_ns == e->mtime_ns &&
	    rec->ctime_ns == e->ctime_ns && rec->mode == (unsigned)e->perm) {
		memcpy(e->content, rec->hash, 65);
		return 0;
	}
	if (dk_tar_hash_content(e, spool_fd, e->content, err) < 0)
		return -1;
	(*hashed)++;
	return 0;
}

/* ------------------------------------------------------------ keys and entries */

int dk_lcache_key(struct dk_lcache *c, const char *source, struct dk_entries *l,
		  const char *options, char key[DK_DIGEST_SIZE], struct dk_err *err)
{
	char *file = records_file(c, source);
	int64_t start_ns = coarse_now_ns();
	struct records recs;
	struct dk_sha256 h;
	size_t hashed = 0;
	int rc = 0;

	load_records(file, &recs);
	dk_sha256_init(&h);
	dk_sha256_update(&h, LAYER_FORMAT "\n", strlen(LAYER_FORMAT) + 1);
	dk_sha256_update(&h, options, strlen(options) + 1);
	if (l->spool_fd >= 0 && l->input_hash[0]) {
		/*
		 * A tar layer: the tar's bytes decide everything.  Its reader hashed
		 * them as it filled the spool; the file itself is not read again, as
		 * it may have changed since.
		 */
		dk_sha256_update(&h, l->input_hash, DK_DIGEST_HEX);
	} else {
		for (size_t i = 0; i < l->n && rc == 0; i++) {
			struct dk_entry *e = &l->v[i];
			char line[128];

			if (e->type == DK_ENT_FILE && (rc = content_hash(&recs, e, l->spool_fd, &hashed, err)) < 0)
				break;
			/* what the tar writer uses: the path, the type, the execute bits, the size, links, content */
			snprintf(line, sizeof(line), "%d %o %llu ", (int)e->type, (unsigned)(e->perm & 0111),
				 (unsigned long long)e->size);
			dk_sha256_update(&h, e->path, strlen(e->path) + 1);
			dk_sha256_update(&h, line, strlen(line));
			if (e->keep_attrs) {    /* kept owners and modes are written: they are part of the key */
				snprintf(line, sizeof(line), "keep %o %u %u ", (unsigned)(e->perm & 07777),
					 (unsigned)e->uid, (unsigned)e->gid);
				dk_sha256_update(&h, line, strlen(line));
			}
			if (e->link)
				dk_sha256_update(&h, e->link, strlen(e->link) + 1);
			dk_sha256_update(&h, e->content, strlen(e->content));
			dk_sha256_update(&h, "\n", 1);
		}
		if (rc == 0 && hashed)
			save_records(file, l, start_ns);
	}
	if (rc == 0) {
		dk_sha256_final(&h, key);
		dk_verbose("build cache: %s: %zu files hashed, key %s", source, hashed, key);
	} else {
		dk_sha256_abort(&h);
	}
	free_records(&recs);
	free(file);
	return rc;
}

void dk_lcache_forget(struct dk_lcache *c, const char *source)
{
	char *file = records_file(c, source);

	if (unlink(file) < 0 && errno != ENOENT)
		dk_verbose("build cache: remove %s: %s", file, strerror(errno));
	free(file);
}

static char *entry_file(const struct dk_lcache *c, const char *key)
{
	return dk_path_join(c->layers, dk_digest_hex(key));
}

/* "inode:size:mtime_ns" of a blob: what tells that it was not written to since we hashed it. */
static char *blob_stat(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return NULL;
	return dk_xasprintf("%llu:%llu:%lld", (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
			    (long long)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
}

/* Mark a file used now, for prune: its atime, so its mtime stays what the blob check compares. */
static void touch_used(const char *path)
{
	struct timespec t[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };

	utimensat(AT_FDCWD, path, t, 0);
}

static int write_entry(const char *file, const struct dk_layer_result *res, const char *verified,
		       struct dk_err *err)
{
	json_t *root = json_object();
	char *text;
	size_t len;
	int rc;

	json_object_set_new(root, "digest", json_string(res->digest));
	json_object_set_new(root, "diff_id", json_string(res->diff_id));
	json_object_set_new(root, "size", json_integer((json_int_t)res->size));
	json_object_set_new(root, "tar_size", json_integer((json_int_t)res->tar_size));
	json_object_set_new(root, "media_type", json_string(res->media_type));
	if (verified)
		json_object_set_new(root, "verified", json_string(verified));
	text = dk_json_dump(root, &len);
	rc = dk_write_file_atomic(file, text, len, 0644, err);
	free(text);
	json_decref(root);
	return rc;
}

/*
 * A hit's blob is checked against its digest, once: the entry then records
 * the blob's inode, size and mtime, and a blob whose stat still matches is
 * not hashed again (a 50 MB layer costs 30 ms to hash: a warm rebuild
 * should not pay that for every unchanged layer).  Anything that writes to
 * the blob moves its mtime and brings the full check back.
 */
int dk_lcache_get(struct dk_lcache *c, const char *key, struct dk_layer_result *res)
{
	char *file = entry_file(c, key), *blob = NULL, *now = NULL;
	json_t *root = json_load_file(file, 0, NULL);
	const char *digest = json_string_value(json_object_get(root, "digest"));
	const char *diff_id = json_string_value(json_object_get(root, "diff_id"));
	const char *verified = json_string_value(json_object_get(root, "verified"));
	const char *mt = json_string_value(json_object_get(root, "media_type"));
	json_int_t size = json_integer_value(json_object_get(root, "size"));
	struct dk_err err;
	int hit = 0, trusted = 0;

	if (dk_digest_valid(digest) && dk_digest_valid(diff_id) && size > 0) {
		blob = dk_blobs_path(&c->blobs, digest);
		now = blob_stat(blob);
		trusted = now && verified && !strcmp(now, verified);
		hit = trusted || dk_blobs_verify(&c->blobs, digest, (uint64_t)size, &err) == 0;
	}
	if (hit) {
		snprintf(res->media_type, sizeof(res->media_type), "%s", mt ? mt : DK_MT_LAYER_GZIP);
		memcpy(res->digest, digest, DK_DIGEST_SIZE);
		memcpy(res->diff_id, diff_id, DK_DIGEST_SIZE);
		res->size = (uint64_t)size;
		res->tar_size = (uint64_t)json_integer_value(json_object_get(root, "tar_size"));
		if (!trusted && now)
			write_entry(file, res, now, &err);
		touch_used(file);
		touch_used(blob);
	} else if (root) {
		dk_warn("build cache: entry %s is damaged or its blob is gone: rebuilding", dk_digest_hex(key));
	}
	json_decref(root);
	free(now);
	free(blob);
	free(file);
	return hit;
}

int dk_lcache_put(struct dk_lcache *c, const char *key, const struct dk_layer_result *res,
		  struct dk_err *err)
{
	char *file = entry_file(c, key), *blob = dk_blobs_path(&c->blobs, res->digest);
	/* the blob was just written and hashed on its way in: its stat is the checked one */
	char *verified = blob_stat(blob);
	int rc = write_entry(file, res, verified, err);

	free(verified);
	free(blob);
	free(file);
	return rc;
}

/* ------------------------------------------------------------ layer maps */

/* A map is the size of a listing of the layer's paths: far below this. */
#define MAP_MAX ((size_t)256 << 20)

static char *map_file(const struct dk_lcache *c, const char *diff_id)
{
	return dk_path_join(c->maps, dk_digest_hex(diff_id));
}

int dk_lcache_has_map(struct dk_lcache *c, const char *diff_id)
{
	char *file = map_file(c, diff_id);
	int has = access(file, F_OK) == 0;

	free(file);
	return has;
}

int dk_lcache_get_map(struct dk_lcache *c, const char *diff_id, char **buf, size_t *len)
{
	char *file = map_file(c, diff_id);
	struct dk_err ignored;
	int hit = dk_read_file(file, MAP_MAX, buf, len, &ignored) == 0;

	if (hit)
		touch_used(file);
	free(file);
	return hit;
}

int dk_lcache_put_map(struct dk_lcache *c, const char *diff_id, const char *buf, size_t len,
		      struct dk_err *err)
{
	char *file = map_file(c, diff_id);
	int rc = dk_write_file_atomic(file, buf, len, 0644, err);

	free(file);
	return rc;
}

/* ------------------------------------------------------------ prune */

struct cfile {
	char *path;
	uint64_t size;
	struct timespec used;
};

static int cmp_used(const void *a, const void *b)
{
	const struct cfile *x = a, *y = b;

	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	if (x->used.tv_nsec != y->used.tv_nsec)
		return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
	return strcmp(x->path, y->path);
}

static void list_dir(const char *dir, struct cfile **v, size_t *n, uint64_t *total)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *p;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		p = dk_path_join(dir, de->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			*v = dk_xrealloc(*v, (*n + 1) * sizeof(**v));
			(*v)[*n].path = p;
			(*v)[*n].size = (uint64_t)st.st_size;
			(*v)[*n].used = st.st_atim;     /* touch_used() marks use in the atime */
			(*n)++;
			*total += (uint64_t)st.st_size;
		} else {
			free(p);
		}
	}
	closedir(d);
}

int dk_lcache_prune(const char *dir, uint64_t max_bytes, uint64_t *freed, struct dk_err *err)
{
	static const char *const subdirs[] = { "blobs/sha256", "layers", "stat", "listings", "maps" };
	struct cfile *v = NULL;
	size_t n = 0;
	uint64_t total = 0;
	struct stat st;

	*freed = 0;
	if (stat(dir, &st) < 0)
		return errno == ENOENT ? 0 : dk_fail_errno(err, DK_E_IO, "cache %s", dir);
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		char *p = dk_path_join(dir, subdirs[i]);

		list_dir(p, &v, &n, &total);
		free(p);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_used);
	for (size_t i = 0; i < n; i++) {
		if (total > max_bytes && unlink(v[i].path) == 0) {
			total -= v[i].size;
			*freed += v[i].size;
		}
		free(v[i].path);
	}
	free(v);
	return 0;
}
