/*
 * deb822.c - the streaming stanza reader of deb822.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "derrick/deb822.h"
#include "derrick/util.h"
#include "show.h"

#define BLOCK (256 * 1024)

struct dk_deb822_reader {
	char *name;
	int flags;
	int fd;                 /* -1: memory */
	const char *buf;        /* the memory input, or own */
	char *own;              /* fd mode: the buffer */
	size_t cap, len, pos;   /* pos: the first byte not handed out yet */
	unsigned long line;     /* the line number at pos */
	int eof, failed;
	struct dk_deb822_field *fields;
	size_t nfields, fcap;
};

static struct dk_deb822_reader *new_reader(const char *name, int flags)
{
	struct dk_deb822_reader *r = dk_xcalloc(1, sizeof(*r));

	r->name = dk_xstrdup(name ? name : "(input)");
	r->flags = flags;
	r->line = 1;
	r->fd = -1;
	return r;
}

struct dk_deb822_reader *dk_deb822_open_mem(const char *buf, size_t len, const char *name, int flags)
{
	struct dk_deb822_reader *r = new_reader(name, flags);

	r->buf = buf ? buf : "";
	r->len = buf ? len : 0;
	r->eof = 1;
	return r;
}

struct dk_deb822_reader *dk_deb822_open_fd(int fd, const char *name, int flags)
{
	struct dk_deb822_reader *r = new_reader(name, flags);

	r->fd = fd;
	r->buf = "";   /* until the first read: never pointer arithmetic on NULL */
	return r;
}

void dk_deb822_close(struct dk_deb822_reader *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->own);
	free(r->fields);
	free(r);
}

/* Read one more block (fd mode), moving the unread bytes to the front. 0 or -1. */
static int refill(struct dk_deb822_reader *r, struct dk_err *err)
{
	ssize_t n;

	if (r->pos) {
		memmove(r->own, r->own + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->cap - r->len < BLOCK) {
		r->cap = r->cap ? r->cap * 2 : 2 * BLOCK;
		r->own = dk_xrealloc(r->own, r->cap);
	}
	r->buf = r->own;
	n = dk_read(r->fd, r->own + r->len, r->cap - r->len);
	if (n < 0) {
		r->failed = 1;
		return dk_fail_errno(err, DK_E_IO, "%s: read", r->name);
	}
	if (n == 0)
		r->eof = 1;
	r->len += (size_t)n;
	return 0;
}

static int is_blank_line(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return 0;
	return 1;
}

static int fail_at(struct dk_deb822_reader *r, struct dk_err *err, unsigned long line, const char *why,
		   const char *word, size_t wlen)
{
	r->failed = 1;
	if (word) {
		/* the bytes quoted may be anything: the message stays one printable line */
		char *shown = dk_deb_show(word, wlen, 80);

		dk_fail(err, DK_E_CORRUPT, "%s:%lu: %s \"%s\"", r->name, line, why, shown);
		free(shown);
		return -1;
	}
	return dk_fail(err, DK_E_CORRUPT, "%s:%lu: %s", r->name, line, why);
}

static int names_equal(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && strncasecmp(a, b, al) == 0;
}

static void trim_value(struct dk_deb822_field *f)
{
	while (f->value_len && strchr(" \t\r\n", f->value[f->value_len - 1]))
		f->value_len--;
}

/*
 * Split the stanza's lines [start, end) into fields.  0 or -1.
 */
static int parse_fields(struct dk_deb822_reader *r, const char *start, const char *end, unsigned long line,
			struct dk_err *err)
{
	const char *p = start;
	struct dk_deb822_field *cur = NULL;

	r->nfields = 0;
	for (; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *colon, *v;

		if (*p == '#' && (r->flags & DK_DEB822_COMMENTS)) {
			p = le + 1;
			continue;
		}
		if (*p == ' ' || *p == '\t') {
			if (!cur)
				return fail_at(r, err, line, "continuation line before any field", NULL, 0);
			cur->value_len = (size_t)(le - cur->value);
			p = le + 1;
			continue;
		}
		colon = memchr(p, ':', (size_t)(le - p));
		if (!colon)
			return fail_at(r, err, line, "line without a colon (not \"Name: value\")", p, (size_t)(le - p));
		if (colon == p)
			return fail_at(r, err, line, "empty field name", NULL, 0);
		if (*p == '-' || *p == '#')
			return fail_at(r, err, line, "field name starts with '-' or '#'", p, (size_t)(colon - p));
		for (const char *q = p; q < colon; q++)
			if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
				return fail_at(r, err, line, "invalid field name", p, (size_t)(colon - p));
		for (size_t i = 0; i < r->nfields; i++)
			if (names_equal(r->fields[i].name, r->fields[i].name_len, p, (size_t)(colon - p)))
				return fail_at(r, err, line, "field given twice in one stanza:", p, (size_t)(colon - p));
		if (r->nfields == r->fcap) {
			r->fcap = r->fcap ? r->fcap * 2 : 32;
			r->fields = dk_xrealloc(r->fields, r->fcap * sizeof(*r->fields));
		}
		cur = &r->fields[r->nfields++];
		cur->name = p;
		cur->name_len = (size_t)(colon - p);
		cur->line = line;
		for (v = colon + 1; v < le && (*v == ' ' || *v == '\t'); v++)
			;
		cur->value = v;
		cur->value_len = (size_t)(le - v);
		p = le + 1;
	}
	for (size_t i = 0; i < r->nfields; i++)
		trim_value(&r->fields[i]);
	return 0;
}

int dk_deb822_next(struct dk_deb822_reader *r, struct dk_deb822_stanza *st, struct dk_err *err)
{
	size_t scan;
	unsigned long line, first_line;
	int in_stanza;

	if (r->failed)
		return dk_fail(err, DK_E_INTERNAL, "%s: reading on after an error", r->name);
again:
	scan = r->pos;
	line = r->line;
	in_stanza = 0;
	first_line = line;
	for (;;) {
		const char *ls = r->buf + scan;
		const char *nl = scan < r->len ? memchr(ls, '\n', r->len - scan) : NULL;
		const char *le = nl ? nl : r->buf + r->len;
		int blank, comment;

		if (!nl && !r->eof) {
			/* the line may go on in the next block: read more, scan again */
			if (refill(r, err) < 0)
				return -1;
			goto again;
		}
		if (scan == r->len) {
			/* end of input */
			if (!in_stanza) {
				r->pos = r->len;
				r->line = line;
				return 0;
			}
			break;
		}
		blank = is_blank_line(ls, le);
		comment = *ls == '#' && (r->flags & DK_DEB822_COMMENTS);
		if (blank && in_stanza)
			break;
		if (!in_stanza && (blank || comment)) {
			/* between stanzas: skipped */
			r->pos = nl ? (size_t)(nl + 1 - r->buf) : r->len;
			r->line = line + (nl ? 1 : 0);
			scan = r->pos;
			line = r->line;
			continue;
		}
		if (!in_stanza) {
			in_stanza = 1;
			first_line = line;
		}
		scan = nl ? (size_t)(nl + 1 - r->buf) : r->len;
		if (nl)
			line++;
	}
	/* in_stanza: at least one byte was read, so r->buf is set */
	st->raw = r->buf + r->pos;
	st->raw_len = scan - r->pos;
	st->line = first_line;
	if (parse_fields(r, st->raw, st->raw + st->raw_len, first_line, err) < 0)
		return -1;
	st->fields = r->fields;
	st->nfields = r->nfields;
	r->pos = scan;
	r->line = line;
	return 1;
}

int dk_deb822_name_is(const struct dk_deb822_field *f, const char *name)
{
	return names_equal(f->name, f->name_len, name, strlen(name));
}

const struct dk_deb822_field *dk_deb822_get(const struct dk_deb822_stanza *st, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < st->nfields; i++)
		if (names_equal(st->fields[i].name, st->fields[i].name_len, name, nl))
			return &st->fields[i];
	return NULL;
}

char *dk_deb822_folded(const struct dk_deb822_field *f)
{
	char *out = dk_xmalloc(f->value_len + 1), *o = out;

	for (size_t i = 0; i < f->value_len; i++) {
		if (f->value[i] == '\n') {
			while (o > out && (o[-1] == ' ' || o[-1] == '\t' || o[-1] == '\r'))
				o--;
			while (i + 1 < f->value_len && (f->value[i + 1] == ' ' || f->value[i + 1] == '\t'))
				i++;
			*o++ = ' ';
			continue;
		}
		*o++ = f->value[i];
	}
	*o = 0;
	return out;
}
