/*
 * util.c - allocation, strbuf, base64, joins and careful file helpers.
 * See util.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "derrick/util.h"

static dk_oom_handler oom_handler;

void dk_set_oom_handler(dk_oom_handler fn)
{
	oom_handler = fn;
}

void dk_oom(const char *what)
{
	if (oom_handler)
		oom_handler(what);
	abort();
}

void *dk_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		dk_oom(NULL);
	return p;
}

void *dk_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		dk_oom(NULL);
	return p;
}

void *dk_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		dk_oom(NULL);
	return p;
}

char *dk_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		dk_oom(NULL);
	return p;
}

char *dk_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		dk_oom(NULL);
	return p;
}

char *dk_str_printable(char *s)
{
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

char *dk_xasprintf(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	sb_grow(&sb, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(sb.buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb.len = (size_t)n;
	return sb_detach(&sb);
}

/* Written only with '\0' (sb_reset), so it stays the empty string. */
char sb_slopbuf[1];

void sb_grow(struct strbuf *sb, size_t extra)
{
	size_t want = sb->len + extra + 1;

	if (want <= sb->alloc)
		return;
	if (!sb->alloc) {
		sb->buf = NULL;
		sb->alloc = 64;
	}
	while (sb->alloc < want)
		sb->alloc *= 2;
	sb->buf = dk_xrealloc(sb->buf, sb->alloc);
}

void sb_add(struct strbuf *sb, const void *data, size_t len)
{
	sb_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void sb_adds(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_addc(struct strbuf *sb, char c)
{
	sb_add(sb, &c, 1);
}

void sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	sb_grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void sb_join(struct strbuf *sb, const char *sep, const char *s)
{
	if (sb->len)
		sb_adds(sb, sep);
	sb_adds(sb, s);
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->buf[0] = '\0';
}

void sb_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	*sb = (struct strbuf)STRBUF_INIT;
}

char *sb_detach(struct strbuf *sb)
{
	char *p;

	sb_grow(sb, 0);
	sb->buf[sb->len] = '\0';
	p = sb->buf;
	*sb = (struct strbuf)STRBUF_INIT;
	return p;
}

char *dk_base64_encode(const void *data, size_t len)
{
	char *out = dk_xmalloc((len + 2) / 3 * 4 + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

char *dk_base64_decode(const char *s, size_t *len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), padded;
	char *in, *out;
	int got;

	while (n && s[n - 1] == '=')
		n--;
	/* OpenSSL would skip white space at the ends: refuse it like any stray byte */
	if (strlen(s) - n > 2 || n % 4 == 1 || strspn(s, alphabet) != n)
		return NULL;
	/* EVP_DecodeBlock takes whole groups of four: put back the padding */
	padded = (n + 3) / 4 * 4;
	in = dk_xmalloc(padded + 1);
	memcpy(in, s, n);
	memset(in + n, '=', padded - n);
	out = dk_xmalloc(padded / 4 * 3 + 1);
	got = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)in, (int)padded);
	explicit_bzero(in, padded);
	free(in);
	if (got < 0) {
		explicit_bzero(out, padded / 4 * 3 + 1);
		free(out);
		return NULL;
	}
	/* it counts a zero byte for each '=' */
	*len = (size_t)got - (padded - n);
	out[*len] = '\0';
	return out;
}

ssize_t dk_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

void dk_test_pause(const char *env)
{
	const char *fifo = getenv(env);
	char c = 0;
	int fd;

	if (!fifo || !*fifo || (fd = open(fifo, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	while (c != '\n' && dk_read(fd, &c, 1) == 1)
		;
	close(fd);
}

int dk_write_all(int fd, const void *buf, size_t len, const char *what, struct dk_err *err)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dk_fail_errno(err, DK_E_IO, "write %s", what);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A temporary name next to path, so rename(2) stays on one filesystem. */
static int open_temp_beside(const char *path, char **tmp, struct dk_err *err)
{
	char *dir = dk_dirname(path);
	int fd;

	*tmp = dk_path_join(dir, ".derrick-tmp-XXXXXX");
	free(dir);
	fd = mkstemp(*tmp);
	if (fd < 0) {
		dk_fail_errno(err, DK_E_IO, "create temporary file for %s", path);
		free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

int dk_commit_temp(int fd, char *tmp, const char *path, mode_t mode, struct dk_err *err)
{
	int rc = -1;

	if (fchmod(fd, mode) < 0)
		dk_fail_errno(err, DK_E_IO, "chmod %s", path);
	else if (fsync(fd) < 0)
		dk_fail_errno(err, DK_E_IO, "write %s", path);
	else
		rc = 0;
	if (close(fd) < 0 && rc == 0)
		rc = dk_fail_errno(err, DK_E_IO, "write %s", path);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = dk_fail_errno(err, DK_E_IO, "rename into %s", path);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int dk_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 struct dk_err *err)
{
	char *tmp;
	int fd = open_temp_beside(path, &tmp, err);

	if (fd < 0)
		return -1;
	if (dk_write_all(fd, data, len, path, err) < 0) {
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	return dk_commit_temp(fd, tmp, path, mode, err);
}

int dk_read_file(const char *path, size_t max, char **out, size_t *len, struct dk_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return dk_fail_errno(err, errno == ENOENT ? DK_E_NOTFOUND : DK_E_IO, "open %s", path);
	for (;;) {
		ssize_t n = dk_read(fd, buf, sizeof(buf));

		if (n < 0) {
			dk_fail_errno(err, DK_E_IO, "read %s", path);
			goto fail;
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max) {
			dk_fail(err, DK_E_CORRUPT, "%s: larger than %zu bytes", path, max);
			goto fail;
		}
		sb_add(&sb, buf, (size_t)n);
	}
	close(fd);
	*len = sb.len;
	*out = sb_detach(&sb);
	return 0;
fail:
	close(fd);
	sb_release(&sb);
	return -1;
}

int dk_mkdir_p(const char *path, mode_t mode, struct dk_err *err)
{
	char *p = dk_xstrdup(path);
	char *s = p;
	struct stat st;

	for (;;) {
		char saved;

		while (*s == '/')
			s++;
		while (*s && *s != '/')
			s++;
		saved = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			dk_fail_errno(err, DK_E_IO, "mkdir %s", p);
			free(p);
			return -1;
		}
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
			dk_fail(err, DK_E_IO, "%s: exists and is not a directory", p);
			free(p);
			return -1;
		}
		*s = saved;
		if (!saved)
			break;
	}
	free(p);
	return 0;
}

void dk_rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	d = opendir(path);
	if (d) {
		while ((de = readdir(d))) {
			char *child;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			child = dk_path_join(path, de->d_name);
			dk_rm_rf(child);
			free(child);
		}
		closedir(d);
	}
	rmdir(path);
}

char *dk_tmp_path(const char *name)
{
	const char *dir = getenv("TMPDIR");

	return dk_path_join(dir && *dir ? dir : "/tmp", name);
}

int dk_copy_file_atomic(const char *src, const char *dst, struct dk_err *err)
{
	char buf[1 << 16];
	char *tmp;
	int in, out;

	/* A hard link costs no bytes; the rename keeps dst atomic either way. */
	tmp = dk_xasprintf("%s.derrick-link-%ld", dst, (long)getpid());
	unlink(tmp);
	if (link(src, tmp) == 0) {
		if (rename(tmp, dst) == 0) {
			free(tmp);
			return 0;
		}
		unlink(tmp);
	}
	free(tmp);

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return dk_fail_errno(err, DK_E_IO, "open %s", src);
	out = open_temp_beside(dst, &tmp, err);
	if (out < 0) {
		close(in);
		return -1;
	}
	for (;;) {
		ssize_t n = dk_read(in, buf, sizeof(buf));

		if (n < 0) {
			dk_fail_errno(err, DK_E_IO, "read %s", src);
			goto fail;
		}
		if (n == 0)
			break;
		if (dk_write_all(out, buf, (size_t)n, dst, err) < 0)
			goto fail;
	}
	close(in);
	return dk_commit_temp(out, tmp, dst, 0644, err);
fail:
	close(in);
	close(out);
	unlink(tmp);
	free(tmp);
	return -1;
}

char *dk_path_clean(const char *p)
{
	struct strbuf sb = STRBUF_INIT;

	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 2 && !strncmp(p, "..", 2)) {
			sb_release(&sb);
			return NULL;
		}
		if (len && !(len == 1 && *p == '.')) {
			if (sb.len)
				sb_addc(&sb, '/');
			sb_add(&sb, p, len);
		}
		p += len;
		while (*p == '/')
			p++;
	}
	return sb_detach(&sb);
}

char *dk_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb;
	char *p;

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (!la)
		return dk_xstrdup(b);
	if (!*b)
		return dk_xstrndup(a, la);
	if (a[la - 1] == '/')
		la--;   /* a is "/" */
	lb = strlen(b);
	p = dk_xmalloc(la + 1 + lb + 1);
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

char *dk_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return dk_xstrdup(".");
	if (slash == path)
		return dk_xstrdup("/");
	return dk_xstrndup(path, (size_t)(slash - path));
}
