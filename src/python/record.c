/*
 * record.c - RECORD (a CSV file, as Python's csv module reads and writes
 * it) and the email-style header blocks of WHEEL and METADATA.  See
 * wheelfmt.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "derrick/wheelfmt.h"

void dk_record_rows_free(struct dk_record_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].path);
		free(rows[i].hash);
		free(rows[i].size);
	}
	free(rows);
}

/*
 * One CSV field from *p (csv's default dialect, not strict: text after a
 * closing quote is kept, as the reader does).  Stops at ',' or the end of
 * the row, which it leaves at *p; *line counts the LFs inside quotes.
 */
static int csv_field(const char **p, const char *end, struct strbuf *out, size_t *line)
{
	const char *s = *p;
	int quoted = 0;

	while (s < end) {
		if (quoted) {
			if (*s == '"' && s + 1 < end && s[1] == '"') {
				sb_addc(out, '"');
				s += 2;
				continue;
			}
			if (*s == '"') {
				quoted = 0;
				s++;
				continue;
			}
			if (*s == '\n')
				(*line)++;
			sb_addc(out, *s++);
			continue;
		}
		if (*s == ',' || *s == '\n' || *s == '\r')
			break;
		if (*s == '"' && out->len == 0) {
			quoted = 1;
			s++;
			continue;
		}
		sb_addc(out, *s++);
	}
	*p = s;
	return quoted ? -1 : 0;
}

int dk_record_parse(const char *text, size_t len, const char *what, struct dk_record_row **rows,
		    size_t *n, struct dk_err *err)
{
	const char *p = text, *end = text + len;
	size_t line = 1, alloc = 0;

	*rows = NULL;
	*n = 0;
	if (memchr(text, '\0', len)) {
		dk_fail(err, DK_E_CORRUPT, "%s: holds a NUL byte", what);
		goto fail;
	}
	while (p < end) {
		struct strbuf f[3] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT };
		size_t nf = 0, start = line;
		int bad = 0;

		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {  /* blank line */
			p += *p == '\r' ? 2 : 1;
			line++;
			continue;
		}
		for (;;) {
			struct strbuf tmp = STRBUF_INIT;

			if (csv_field(&p, end, nf < 3 ? &f[nf] : &tmp, &line) < 0)
				bad = 1;
			sb_release(&tmp);
			nf++;
			if (bad || p >= end || *p != ',')
				break;
			p++;
		}
		if (!bad && p < end) {   /* the row's end: LF, CRLF, or a lone CR (csv takes it too) */
			if (*p == '\r')
				p++;
			if (p < end && *p == '\n')
				p++;
			line++;
		}
		if (bad || nf != 3) {
			for (int i = 0; i < 3; i++)
				sb_release(&f[i]);
			if (bad)
				dk_fail(err, DK_E_CORRUPT, "%s:%zu: a quoted field does not end", what, start);
			else
				dk_fail(err, DK_E_CORRUPT, "%s:%zu: %zu fields, not 3 (path,hash,size)", what, start, nf);
			goto fail;
		}
		if (*n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			*rows = dk_xrealloc(*rows, alloc * sizeof(**rows));
		}
		(*rows)[*n].path = sb_detach(&f[0]);
		(*rows)[*n].hash = sb_detach(&f[1]);
		(*rows)[*n].size = sb_detach(&f[2]);
		(*rows)[*n].line = start;
		(*n)++;
	}
	return 0;
fail:
	dk_record_rows_free(*rows, *n);
	*rows = NULL;
	*n = 0;
	return -1;
}

char *dk_record_hash(const char *hex)
{
	unsigned char sha[32];
	char *b;

	for (int i = 0; i < 32; i++) {
		int hi = hex[2 * i], lo = hex[2 * i + 1];

		sha[i] = (unsigned char)(((hi <= '9' ? hi - '0' : (hi | 0x20) - 'a' + 10) << 4) |
					 (lo <= '9' ? lo - '0' : (lo | 0x20) - 'a' + 10));
	}
	b = dk_base64_encode(sha, 32);
	char *out = dk_xasprintf("sha256=%s", b);

	free(b);
	for (char *c = out + 7; *c; c++) {
		if (*c == '+')
			*c = '-';
		else if (*c == '/')
			*c = '_';
		else if (*c == '=')
			*c = '\0';
	}
	return out;
}

void dk_record_line(struct strbuf *sb, const char *path, const char *hash, uint64_t size)
{
	if (strpbrk(path, ",\"\r\n")) {
		sb_addc(sb, '"');
		for (const char *c = path; *c; c++) {
			if (*c == '"')
				sb_addc(sb, '"');
			sb_addc(sb, *c);
		}
		sb_addc(sb, '"');
	} else {
		sb_adds(sb, path);
	}
	if (hash)
		sb_addf(sb, ",%s,%llu\n", hash, (unsigned long long)size);
	else
		sb_adds(sb, ",,\n");
}

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

char *dk_header_get(const char *text, size_t len, const char *key)
{
	const char *p = text, *end = text + len;
	size_t klen = strlen(key);
	struct strbuf v = STRBUF_INIT;
	int found = 0;
	size_t s, e;
	char *out;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t l = (size_t)(le - p);

		if (l && p[l - 1] == '\r')
			l--;
		if (l == 0)
			break;          /* the end of the headers: the body follows */
		if (blank(*p)) {        /* a folded line continues the header before */
			if (found) {
				sb_addc(&v, ' ');
				sb_add(&v, p, l);
			}
		} else if (found) {
			break;
		} else if (l > klen && p[klen] == ':' && !strncasecmp(p, key, klen)) {
			found = 1;
			sb_add(&v, p + klen + 1, l - klen - 1);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (!found)
		return NULL;
	s = 0;
	e = v.len;
	while (s < e && (blank(v.buf[s]) || v.buf[s] == '\r'))
		s++;
	while (e > s && (blank(v.buf[e - 1]) || v.buf[e - 1] == '\r'))
		e--;
	out = dk_xstrndup(v.buf + s, e - s);
	sb_release(&v);
	return out;
}
