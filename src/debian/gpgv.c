/*
 * gpgv.c - signatures checked by gpgv (apt's way): a fixed argument list,
 * no shell, an empty home so no user keyring joins in, and the verdict
 * read from --status-fd, not from its prose.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "derrick/util.h"
#include "gpgv.h"
#include "show.h"

#define GPGV_OUT_MAX (256u << 20)       /* a signed Release is far smaller */

static int put(const char *dir, const char *name, const void *buf, size_t len, struct dk_err *err)
{
	char *path = dk_path_join(dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), rc;

	if (fd < 0) {
		rc = dk_fail_errno(err, DK_E_IO, "create %s", path);
		free(path);
		return rc;
	}
	rc = dk_write_all(fd, buf, len, path, err);
	free(path);
	if (close(fd) < 0 && rc == 0)
		rc = dk_fail_errno(err, DK_E_IO, "close");
	return rc;
}

static int run(const char *prog, char *const argv[], const char *status, const char *log, int *wstatus,
	       struct dk_err *err)
{
	static char *const envp[] = { (char *)"LC_ALL=C", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, status, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	rc = posix_spawnp(&pid, prog, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		errno = rc;
		return dk_fail_errno(err, DK_E_EXEC, "run %s", prog);
	}
	while (waitpid(pid, wstatus, 0) < 0)
		if (errno != EINTR)
			return dk_fail_errno(err, DK_E_EXEC, "wait for %s", prog);
	return 0;
}

/* The status keywords that make a signature unacceptable, as apt counts them. */
static const char *const bad_status[] = { "BADSIG", "ERRSIG", "NO_PUBKEY", "EXPSIG", "EXPKEYSIG", "REVKEYSIG",
					  "NODATA" };

/* gpgv's last complaint on stderr, printable, without its "gpgv: " prefix. */
static void last_line(const char *log, struct strbuf *why)
{
	const char *s = log, *best = NULL;
	char *shown;
	size_t bn = 0;

	while (*s) {
		size_t n = strcspn(s, "\n");

		if (n)
			best = s, bn = n;
		s += n + (s[n] == '\n');
	}
	if (!best) {
		sb_adds(why, "no signature accepted");
		return;
	}
	if (bn > 6 && !strncmp(best, "gpgv: ", 6))
		best += 6, bn -= 6;
	shown = dk_deb_show(best, bn, 200);
	sb_adds(why, shown);
	free(shown);
}

int dk_gpgv_verify(const char *gpgv, const char *keyring, const void *sig, size_t sig_len, const void *data,
		   size_t data_len, char **text, size_t *len, char **fpr, struct dk_err *err)
{
	char *dir = dk_tmp_path("derrick-gpgv-XXXXXX");
	char *home = NULL, *sigf = NULL, *dataf = NULL, *outf = NULL, *statf = NULL, *logf = NULL, *kr = NULL;
	char *status = NULL, *log = NULL;
	size_t slen, llen;
	int wstatus = 0, good = 0, valid = 0, rc = -1;
	struct strbuf why = { 0 };
	const char *prog = gpgv ? gpgv : "gpgv";

	*text = NULL;
	*fpr = NULL;
	if (!mkdtemp(dir)) {
		rc = dk_fail_errno(err, DK_E_IO, "create %s", dir);
		free(dir);
		return rc;
	}
	home = dk_path_join(dir, "home");
	sigf = dk_path_join(dir, "sig");
	dataf = dk_path_join(dir, "data");
	outf = dk_path_join(dir, "out");
	statf = dk_path_join(dir, "status");
	logf = dk_path_join(dir, "log");
	/* a name without '/' would be looked up in gpgv's home */
	kr = strchr(keyring, '/') ? dk_xstrdup(keyring) : dk_xasprintf("./%s", keyring);
	if (access(kr, R_OK) < 0) {
		dk_fail_errno(err, DK_E_NOTFOUND, "keyring %s", keyring);
		goto out;
	}
	if (mkdir(home, 0700) < 0) {
		dk_fail_errno(err, DK_E_IO, "create %s", home);
		goto out;
	}
	if (put(dir, "sig", sig, sig_len, err) < 0 || (data && put(dir, "data", data, data_len, err) < 0))
		goto out;
	{
		/* a detached signature covers data byte for byte: no --output */
		char *argv[] = { (char *)prog, (char *)"--homedir", home, (char *)"--status-fd", (char *)"1",
				 (char *)"--keyring", kr, (char *)"--output", outf, sigf, NULL, NULL };

		if (data) {
			argv[7] = sigf;
			argv[8] = dataf;
			argv[9] = NULL;
		}
		if (run(prog, argv, statf, logf, &wstatus, err) < 0)
			goto out;
	}
	if (dk_read_file(statf, 1u << 20, &status, &slen, err) < 0 ||
	    dk_read_file(logf, 1u << 20, &log, &llen, err) < 0)
		goto out;
	for (const char *s = status; *s;) {
		size_t n = strcspn(s, "\n");
		const char *kw = s + 9;         /* after "[GNUPG:] " */

		if (n > 9 && !strncmp(s, "[GNUPG:] ", 9)) {
			size_t k = strcspn(kw, " \n");

			if (k == 7 && !strncmp(kw, "GOODSIG", 7))
				good = 1;
			if (k == 8 && !strncmp(kw, "VALIDSIG", 8) && !*fpr) {
				valid = 1;
				*fpr = dk_xstrndup(kw + 9, strcspn(kw + 9, " \n"));
			}
			for (size_t i = 0; i < sizeof(bad_status) / sizeof(*bad_status); i++)
				if (strlen(bad_status[i]) == k && !strncmp(kw, bad_status[i], k)) {
					/* the keyword and its first argument (a key id), not the rest */
					size_t w = k + (kw[k] == ' ' ? 1 + strcspn(kw + k + 1, " \n") : 0);

					sb_adds(&why, why.len ? ", " : " [");
					sb_add(&why, kw, w > 60 ? 60 : w);
				}
		}
		s += n + (s[n] == '\n');
	}
	if (good && valid && !why.len && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		if (data) {
			*text = dk_xmalloc(data_len + 1);
			memcpy(*text, data, data_len);
			(*text)[data_len] = '\0';
			*len = data_len;
		} else if (dk_read_file(outf, GPGV_OUT_MAX, text, len, err) < 0) {
			goto out;
		}
		rc = 0;
		goto out;
	}
	{
		struct strbuf line = { 0 };

		last_line(log, &line);
		if (why.len)
			sb_adds(&why, "]");
		dk_fail(err, DK_E_AUTH, "gpgv: %s%s", line.buf, why.len ? why.buf : "");
		sb_release(&line);
	}
out:
	if (rc < 0) {
		free(*fpr);
		*fpr = NULL;
	}
	sb_release(&why);
	free(status);
	free(log);
	dk_rm_rf(dir);
	free(dir);
	free(home);
	free(sigf);
	free(dataf);
	free(outf);
	free(statf);
	free(logf);
	free(kr);
	return rc;
}
