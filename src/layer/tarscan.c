/*
 * tarscan.c - a tar header reader as a sink stage (tarscan.h).
 *
 * libarchive reads tars by pulling from a callback; the layer pipeline
 * pushes (decompressors are sinks).  Rather than spool a whole base layer
 * to disk to let libarchive pull it, this stage keeps a 512-byte header
 * buffer and skips everything else, so a layer of any size is scanned in
 * fixed memory in the same pass that checks its diff_id.  What it takes
 * from the formats follows libarchive's reader: sizes in octal or base-256,
 * POSIX types 0-7, GNU 'L'/'K' long names, 'D' dump directories and old
 * sparse headers with extension blocks, pax 'x' records (path, linkpath,
 * size, GNU.sparse.name), and unknown types read as regular files, as
 * POSIX asks.  Symlinks, devices, fifos and directories never have data;
 * a hardlink has data only in a pax archive, again as libarchive decides.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/tarscan.h"
#include "derrick/util.h"

#define BLOCK 512
/* An extended header larger than this is refused, as libarchive does: it only ever holds names. */
#define EXT_MAX ((uint64_t)1 << 20)
/* Sizes above this cannot be a real entry, and rounding them up to a block would overflow. */
#define SIZE_MAX_ENTRY ((uint64_t)1 << 62)

enum state {
	HEADER,         /* collecting a header block */
	SPARSE,         /* collecting an old GNU sparse extension block */
	EXTENDED,       /* collecting the body of an 'L', 'K', 'x' or 'g' header */
	SKIP,           /* skipping contents and padding */
	END,            /* after the end-of-archive block: the rest is ignored */
};

struct scan {
	struct dk_sink base;
	dk_tar_scan_fn fn;
	void *ctx;
	const char *what;
	enum state st;
	unsigned char block[BLOCK];
	size_t have;                    /* bytes of block filled */
	uint64_t left;                  /* SKIP: bytes to skip; EXTENDED: body bytes to collect */
	uint64_t pad;                   /* EXTENDED: padding after the body */
	uint64_t after_sparse;          /* SPARSE: contents to skip once the extension blocks end */
	uint64_t pos, hdr_pos;          /* bytes consumed; where the current header began */
	char ext_type;
	struct strbuf ext;
	/* what extended headers say about the next entry */
	char *long_name, *long_link, *pax_path, *pax_link, *sparse_name;
	int has_size;
	uint64_t pax_size;
	int pax_seen;                   /* the archive has pax headers: hardlinks may carry data */
	struct dk_sink_failure fail;
};

static uint64_t padded(uint64_t n)
{
	return (n + BLOCK - 1) & ~(uint64_t)(BLOCK - 1);
}

/* An octal field (spaces and NULs around it), or GNU's base-256 form (high bit set). */
static int parse_num(const unsigned char *f, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] & 0x40)        /* negative */
			return -1;
		v = f[0] & 0x3f;
		for (i = 1; i < n; i++) {
			if (v >> 56)
				return -1;
			v = v << 8 | f[i];
		}
		*out = v;
		return 0;
	}
	while (i < n && (f[i] == ' ' || f[i] == '\0'))
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -1;
	*out = v;
	return 0;
}

/* The sum of the header with its checksum field as spaces; old writers summed signed chars. */
static int checksum_ok(const unsigned char *b)
{
	uint64_t want;
	unsigned long u = 0;
	long s = 0;

	if (parse_num(b + 148, 8, &want) < 0)
		return 0;
	for (size_t i = 0; i < BLOCK; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : b[i];

		u += c;
		s += (signed char)c;
	}
	return want == u || (int64_t)want == (int64_t)s;
}

static char *field(const unsigned char *f, size_t n)
{
	return dk_xstrndup((const char *)f, strnlen((const char *)f, n));
}

static void forget_next(struct scan *s)
{
	free(s->long_name);
	free(s->long_link);
	free(s->pax_path);
	free(s->pax_link);
	free(s->sparse_name);
	s->long_name = s->long_link = s->pax_path = s->pax_link = s->sparse_name = NULL;
	s->has_size = 0;
}

static void replace(char **slot, const char *v, size_t n)
{
	free(*slot);
	*slot = dk_xstrndup(v, n);
}

/* pax records, "LEN key=value\n"; a malformed one ends the list (libarchive ignores them too). */
static void parse_pax(struct scan *s, const char *p, size_t len)
{
	while (len) {
		size_t rec = 0, i = 0;
		const char *key, *eq, *end;

		while (i < len && p[i] >= '0' && p[i] <= '9' && rec < EXT_MAX)
			rec = rec * 10 + (size_t)(p[i++] - '0');
		if (i == len || p[i] != ' ' || rec <= i + 1 || rec > len || p[rec - 1] != '\n')
			return;
		key = p + i + 1;
		end = p + rec - 1;
		eq = memchr(key, '=', (size_t)(end - key));
		if (eq) {
			size_t klen = (size_t)(eq - key), vlen = (size_t)(end - eq - 1);

			if (klen == 4 && !memcmp(key, "path", 4)) {
				replace(&s->pax_path, eq + 1, vlen);
			} else if (klen == 8 && !memcmp(key, "linkpath", 8)) {
				replace(&s->pax_link, eq + 1, vlen);
			} else if (klen == 15 && !memcmp(key, "GNU.sparse.name", 15)) {
				replace(&s->sparse_name, eq + 1, vlen);
			} else if (klen == 4 && !memcmp(key, "size", 4)) {
				uint64_t v = 0;
				size_t j;

				for (j = 0; j < vlen && eq[1 + j] >= '0' && eq[1 + j] <= '9' && v < SIZE_MAX_ENTRY; j++)
					v = v * 10 + (uint64_t)(eq[1 + j] - '0');
				if (j == vlen && vlen) {
					s->has_size = 1;
					s->pax_size = v;
				}
			}
		}
		p += rec;
		len -= rec;
	}
}

static void extended_done(struct scan *s)
{
	if (s->ext_type == 'L')
		replace(&s->long_name, s->ext.buf, strlen(s->ext.buf));
	else if (s->ext_type == 'K')
		replace(&s->long_link, s->ext.buf, strlen(s->ext.buf));
	else if (s->ext_type == 'x')
		parse_pax(s, s->ext.buf, s->ext.len);
	/* 'g': global records name no entry of their own */
	sb_reset(&s->ext);
	s->left = s->pad;
	s->st = s->left ? SKIP : HEADER;
}

static int bad(struct scan *s, struct dk_err *err, const char *why)
{
	return dk_fail(err, DK_E_CORRUPT, "%s: not a tar stream, or a damaged one: %s at byte %llu", s->what,
		       why, (unsigned long long)s->hdr_pos);
}

static int entry(struct scan *s, char type, uint64_t size, struct dk_err *err)
{
	const unsigned char *b = s->block;
	struct dk_tar_item it;
	char *path = NULL, *link = NULL;
	int rc;

	if (s->sparse_name || s->pax_path || s->long_name) {
		path = dk_xstrdup(s->sparse_name ? s->sparse_name : s->pax_path ? s->pax_path : s->long_name);
	} else if (!memcmp(b + 257, "ustar\0", 6) && b[345]) {
		/* POSIX ustar: prefix "/" name (GNU's "ustar  " has no prefix field) */
		char *prefix = field(b + 345, 155), *name = field(b + 0, 100);

		path = dk_path_join(prefix, name);
		free(prefix);
		free(name);
	} else {
		path = field(b + 0, 100);
	}
	it.path = path;
	it.link = NULL;
	switch (type) {
	case '1':
		it.type = DK_ENT_HARDLINK;
		if (!s->pax_seen)
			size = 0;
		break;
	case '2':
		it.type = DK_ENT_SYMLINK;
		size = 0;
		break;
	case '5':
		it.type = DK_ENT_DIR;
		size = 0;
		break;
	case 'D':       /* a GNU dump directory: a directory with a listing as its data */
		it.type = DK_ENT_DIR;
		break;
	case '3':
	case '4':
	case '6':
		it.type = DK_ENT_FILE;
		size = 0;
		break;
	default:
		it.type = DK_ENT_FILE;
	}
	if (it.type == DK_ENT_HARDLINK || it.type == DK_ENT_SYMLINK) {
		link = s->pax_link ? dk_xstrdup(s->pax_link) : s->long_link ? dk_xstrdup(s->long_link) :
		       field(b + 157, 100);
		it.link = link;
	}
	rc = s->fn(s->ctx, &it, err);
	free(path);
	free(link);
	forget_next(s);
	if (rc)
		return -1;
	if (type == 'S' && b[482]) {
		s->after_sparse = padded(size);
		s->st = SPARSE;
	} else {
		s->left = padded(size);
		s->st = s->left ? SKIP : HEADER;
	}
	return 0;
}

static int header(struct scan *s, struct dk_err *err)
{
	const unsigned char *b = s->block;
	char type = (char)b[156];
	uint64_t size;
	size_t i;

	for (i = 0; i < BLOCK && !b[i]; i++)
		;
	if (i == BLOCK) {
		s->st = END;
		return 0;
	}
	if (!checksum_ok(b))
		return bad(s, err, "bad header checksum");
	if (parse_num(b + 124, 12, &size) < 0 || size > SIZE_MAX_ENTRY)
		return bad(s, err, "bad size field");
	switch (type) {
	case 'L':
	case 'K':
	case 'x':
	case 'g':
		if (size > EXT_MAX)
			return bad(s, err, "extended header over 1 MiB");
		s->pax_seen |= type == 'x' || type == 'g';
		s->ext_type = type;
		s->left = size;
		s->pad = padded(size) - size;
		s->st = EXTENDED;
		if (!size)
			extended_done(s);
		return 0;
	case 'V':       /* a volume label: no entry */
		s->left = padded(size);
		s->st = s->left ? SKIP : HEADER;
		return 0;
	default:
		return entry(s, type, s->has_size ? s->pax_size : size, err);
	}
}

/* An old GNU sparse extension block: its last flag says whether another follows. */
static void sparse_block(struct scan *s)
{
	if (s->block[504])
		return;
	s->left = s->after_sparse;
	s->st = s->left ? SKIP : HEADER;
}

static int scan_write(struct dk_sink *sink, const void *buf, size_t len, struct dk_err *err)
{
	struct scan *s = (struct scan *)sink;
	const unsigned char *p = buf;

	if (s->fail.failed)
		return dk_sink_failed(&s->fail, err);
	while (len) {
		size_t n = len;

		switch (s->st) {
		case END:
			break;
		case SKIP:
		case EXTENDED:
			if (n > s->left)
				n = (size_t)s->left;
			if (s->st == EXTENDED)
				sb_add(&s->ext, p, n);
			s->left -= n;
			if (s->left)
				break;
			if (s->st == EXTENDED)
				extended_done(s);
			else
				s->st = HEADER;
			break;
		case HEADER:
		case SPARSE:
			if (!s->have)
				s->hdr_pos = s->pos;
			if (n > BLOCK - s->have)
				n = BLOCK - s->have;
			memcpy(s->block + s->have, p, n);
			s->have += n;
			if (s->have < BLOCK)
				break;
			s->have = 0;
			if (s->st == SPARSE)
				sparse_block(s);
			else if (header(s, err) < 0)
				return dk_sink_failed(&s->fail, err);
			break;
		}
		p += n;
		len -= n;
		s->pos += n;
	}
	return 0;
}

static int scan_close(struct dk_sink *sink, struct dk_err *err)
{
	struct scan *s = (struct scan *)sink;

	if (s->fail.failed)
		return dk_sink_failed(&s->fail, err);
	/* a stream without the end-of-archive blocks is accepted, one cut inside an entry is not */
	if (s->st != END && (s->st != HEADER || s->have)) {
		s->hdr_pos = s->pos;
		bad(s, err, "it ends inside an entry");
		return dk_sink_failed(&s->fail, err);
	}
	return s->base.next ? dk_sink_close(s->base.next, err) : 0;
}

static void scan_free(struct dk_sink *sink)
{
	struct scan *s = (struct scan *)sink;

	forget_next(s);
	sb_release(&s->ext);
	free(s);
}

static const struct dk_sink_ops scan_ops = { scan_write, scan_close, scan_free };

struct dk_sink *dk_sink_tar_scan(dk_tar_scan_fn fn, void *ctx, const char *what)
{
	struct scan *s = dk_xcalloc(1, sizeof(*s));
	struct strbuf init = STRBUF_INIT;

	s->base.ops = &scan_ops;
	s->fn = fn;
	s->ctx = ctx;
	s->what = what;
	s->ext = init;
	return &s->base;
}
