/*
 * plan.c - resolve stages, the version and ${VERSION} before any file is
 * read, so a mistake in the spec or the flags fails in milliseconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "derrick/plan.h"
#include "derrick/util.h"

#define LABEL_VERSION "org.opencontainers.image.version"
#define LABEL_REVISION "org.opencontainers.image.revision"

int dk_expand(const char *s, const char *version, const char *where, char **out, struct dk_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = s;

	while (*p) {
		const char *open = strstr(p, "${");
		const char *close;

		if (!open) {
			sb_adds(&sb, p);
			break;
		}
		sb_add(&sb, p, (size_t)(open - p));
		close = strchr(open, '}');
		if (!close) {
			sb_release(&sb);
			return dk_fail(err, DK_E_SPEC, "%s: unterminated \"${\" in \"%s\"", where, s);
		}
		if ((size_t)(close - open) != 9 || strncmp(open, "${VERSION}", 10)) {
			dk_fail(err, DK_E_SPEC, "%s: unknown variable \"%.*s\" (only ${VERSION} is defined)",
				where, (int)(close - open + 1), open);
			sb_release(&sb);
			return -1;
		}
		if (!version) {
			sb_release(&sb);
			return dk_fail(err, DK_E_SPEC,
				       "%s uses ${VERSION} but no version was given (use --version V or --version-from-git)",
				       where);
		}
		sb_adds(&sb, version);
		p = close + 1;
	}
	*out = sb_detach(&sb);
	return 0;
}

static int expand_list(const struct dk_kvlist *in, const char *file, const char *prefix,
		       const char *version, struct dk_kvlist *out, struct dk_err *err)
{
	out->v = dk_xcalloc(in->n + 3, sizeof(*out->v));
	out->n = 0;
	for (size_t i = 0; i < in->n; i++) {
		char *where = dk_xasprintf("%s: %s.%s", file, prefix, in->v[i].key);
		char *val;
		int rc = dk_expand(in->v[i].value, version, where, &val, err);

		free(where);
		if (rc < 0)
			return -1;
		out->v[out->n].key = dk_xstrdup(in->v[i].key);
		out->v[out->n].value = val;
		out->n++;
	}
	return 0;
}

/* Set key to value, replacing an existing entry (the list has room: see expand_list). */
static void kv_set(struct dk_kvlist *l, const char *key, const char *value)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key)) {
			free(l->v[i].value);
			l->v[i].value = dk_xstrdup(value);
			return;
		}
	l->v[l->n].key = dk_xstrdup(key);
	l->v[l->n].value = dk_xstrdup(value);
	l->n++;
}

/* Run argv in dir and return its first line of output; quiet: its stderr goes nowhere. */
static int run_line(const char *dir, char *const argv[], int quiet, char **out, struct dk_err *err)
{
	int pipefd[2], status;
	char buf[512];
	size_t len = 0;
	pid_t pid;

	if (pipe(pipefd) < 0)
		return dk_fail_errno(err, DK_E_EXEC, "pipe");
	pid = fork();
	if (pid < 0)
		return dk_fail_errno(err, DK_E_EXEC, "fork");
	if (pid == 0) {
		close(pipefd[0]);
		dup2(pipefd[1], 1);
		if (quiet) {
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0)
				dup2(null, 2);
		}
		if (chdir(dir) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			break;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !buf[0]) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			return dk_fail(err, DK_E_EXEC, "%s: command not found", argv[0]);
		return dk_fail(err, DK_E_EXEC, "`%s %s` failed in %s (is it a git checkout?)", argv[0], argv[1], dir);
	}
	*out = dk_xstrdup(buf);
	return 0;
}

int dk_git_version(const char *dir, char **version, char **revision, struct dk_err *err)
{
	char *describe[] = { "git", "describe", "--tags", "--always", "--dirty", NULL };
	char *revparse[] = { "git", "rev-parse", "HEAD", NULL };
	char *d;

	if (run_line(dir, describe, 0, &d, err) < 0)
		return dk_err_prefix(err, "--version-from-git");
	if (run_line(dir, revparse, 0, revision, err) < 0) {
		free(d);
		return dk_err_prefix(err, "--version-from-git");
	}
	/* tag v0.1.14 gives version 0.1.14, as setuptools_scm would */
	*version = dk_xstrdup(d[0] == 'v' && d[1] >= '0' && d[1] <= '9' ? d + 1 : d);
	free(d);
	return 0;
}

void dk_rfc3339(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The last second of 9999: image dates are RFC 3339, whose years have four digits. */
#define EPOCH_MAX 253402300799LL

/* SOURCE_DATE_EPOCH: anything but a plain non-negative integer is refused. */
static int epoch_from_env(const char *s, int64_t *out, struct dk_err *err)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	/* strtoll would take " 5" and "+5"; a '-' in front is a date before 1970 */
	if (*end || (!(*s >= '0' && *s <= '9') && !(*s == '-' && s[1] >= '0' && s[1] <= '9')))
		return dk_fail(err, DK_E_USAGE, "SOURCE_DATE_EPOCH=\"%s\": expected seconds since 1970 (a non-negative integer)", s);
	if (*s == '-')
		return dk_fail(err, DK_E_USAGE, "SOURCE_DATE_EPOCH=\"%s\": a date before 1970: expected seconds since 1970 "
			       "(a non-negative integer)", s);
	if (errno == ERANGE || v > EPOCH_MAX)
		return dk_fail(err, DK_E_USAGE, "SOURCE_DATE_EPOCH=\"%s\": a date after the year 9999 (the largest is %lld, "
			       "9999-12-31T23:59:59Z)", s, EPOCH_MAX);
	*out = v;
	return 0;
}

/* n digits at *p into *v, advancing *p; 0, or -1 when they are not all digits. */
static int digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : days[m - 1];
}

/* "YYYY-MM-DDTHH:MM:SS" then "Z" or "+HH:MM"/"-HH:MM", whole seconds: 0 and *out, or -1. */
static int parse_rfc3339(const char *s, int64_t *out)
{
	const char *p = s;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	struct tm tm;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d) ||
	    (*p != 'T' && *p != 't') || (p++, digits(&p, 2, &h)) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &sec))
		return -1;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm) - sign * (int64_t)(oh * 3600 + om * 60);
	return 0;
}

int dk_parse_created(const char *s, int64_t *out, struct dk_err *err)
{
	const char *form = "expected RFC 3339 (2024-05-01T12:00:00Z, or with an offset: +02:00) or @SECONDS";
	int64_t v = 0;

	if (s[0] == '@') {
		char *end;

		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (!(s[1] >= '0' && s[1] <= '9') || *end)
			return dk_fail(err, DK_E_USAGE, "--created \"%s\": %s", s, form);
		if (errno == ERANGE)
			v = EPOCH_MAX + 1;
	} else if (parse_rfc3339(s, &v) < 0) {
		return dk_fail(err, DK_E_USAGE, "--created \"%s\": %s", s, form);
	}
	if (v < 0)
		return dk_fail(err, DK_E_USAGE, "--created \"%s\": a date before 1970-01-01T00:00:00Z", s);
	if (v > EPOCH_MAX)
		return dk_fail(err, DK_E_USAGE, "--created \"%s\": a date after the year 9999 (the largest is "
			       "9999-12-31T23:59:59Z, @%lld)", s, EPOCH_MAX);
	*out = v;
	return 0;
}

int dk_created_decide(const char *flag, const char *sde, const char *dir, int64_t *out, const char **from,
		      struct dk_err *err)
{
	char *log[] = { "git", "log", "-1", "--format=%ct", NULL };
	struct dk_err ignored;
	char *line = NULL, *end;
	long long v;

	*out = 0;
	*from = "default";
	if (flag) {
		*from = "--created";
		return dk_parse_created(flag, out, err);
	}
	if (sde && *sde) {
		*from = "SOURCE_DATE_EPOCH";
		return epoch_from_env(sde, out, err);
	}
	/* no git, not a repository, no commit yet: the time stays 0, as before git was asked */
	if (!dir || run_line(dir, log, 1, &line, &ignored) < 0)
		return 0;
	errno = 0;
	v = strtoll(line, &end, 10);
	if (!*end && errno == 0 && v >= 0 && v <= EPOCH_MAX) {
		*out = v;
		*from = "git";
	}
	free(line);
	return 0;
}

static int version_valid(const char *v)
{
	if (!*v)
		return 0;
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return 0;
	return 1;
}

/*
 * A layer with "platforms" is the variant for the platform being built (the
 * best match, as an index entry is chosen), and the platform goes into its
 * build-cache key: its bytes are that platform's.
 */
int dk_plan_entry(const struct dk_spec_layer *l, const char *stage, struct dk_plan *plan, struct dk_err *err)
{
	const struct dk_spec_layer *best = NULL;
	size_t first = plan->layers.n;
	int best_rank = 0;
	char want[100];

	if (!l->n_variants)
		return dk_source_plan(l, stage, &plan->platform, plan->ctx, &plan->layers, err);
	for (size_t i = 0; i < l->n_variants; i++) {
		int rank = dk_platform_match(&plan->platform, &l->variants[i].platform);

		if (rank > best_rank) {
			best = &l->variants[i];
			best_rank = rank;
		}
	}
	dk_platform_format(&plan->platform, want, sizeof(want));
	if (!best) {
		struct strbuf has = STRBUF_INIT;

		for (size_t i = 0; i < l->n_variants; i++) {
			char p[100];

			dk_platform_format(&l->variants[i].platform, p, sizeof(p));
			sb_join(&has, ", ", p);
		}
		dk_fail(err, DK_E_SPEC, "%s: %s.platforms has no entry for %s, a platform being built (it has %s)",
			plan->spec->path, l->where, want, has.buf);
		sb_release(&has);
		return -1;
	}
	if (dk_source_plan(best, stage, &plan->platform, plan->ctx, &plan->layers, err) < 0)
		return -1;
	for (size_t i = first; i < plan->layers.n; i++) {
		struct dk_layer_plan *lp = &plan->layers.v[i];
		char *key = lp->key_extra ? dk_xasprintf("platform=%s %s", want, lp->key_extra) :
			    dk_xasprintf("platform=%s", want);

		free(lp->key_extra);
		lp->key_extra = key;
	}
	return 0;
}

int dk_plan_make(const struct dk_spec *spec, const struct dk_plan_opts *o, struct dk_plan *plan,
		 struct dk_err *err)
{
	memset(plan, 0, sizeof(*plan));
	plan->spec = spec;
	plan->platform = o->platform;
	plan->epoch = o->epoch;
	plan->ctx = o->ctx;
	plan->n_stages = spec->n_stages;
	if (o->target) {
		long i = dk_spec_stage_index(spec, o->target);

		if (i < 0) {
			struct strbuf names = STRBUF_INIT;

			for (size_t j = 0; j < spec->n_stages; j++)
				sb_join(&names, ", ", spec->stages[j].name);
			dk_fail(err, DK_E_USAGE, "--target %s: no such stage in %s (stages: %s)",
				o->target, spec->path, names.buf);
			sb_release(&names);
			return -1;
		}
		plan->n_stages = (size_t)i + 1;
	}
	if (o->version && o->version_from_git)
		return dk_fail(err, DK_E_USAGE, "--version and --version-from-git exclude each other");
	if (o->version) {
		if (!version_valid(o->version))
			return dk_fail(err, DK_E_USAGE, "--version: must be non-empty printable text");
		plan->version = dk_xstrdup(o->version);
	} else if (o->version_from_git) {
		if (dk_git_version(spec->dir, &plan->version, &plan->revision, err) < 0)
			return -1;
	}
	if (expand_list(&spec->config.env, spec->path, "config.env", plan->version, &plan->env, err) < 0 ||
	    expand_list(&spec->config.labels, spec->path, "config.labels", plan->version, &plan->labels, err) < 0 ||
	    expand_list(&spec->annotations, spec->path, "annotations", plan->version, &plan->annotations, err) < 0) {
		dk_plan_free(plan);
		return -1;
	}
	if (plan->version) {
		kv_set(&plan->labels, LABEL_VERSION, plan->version);
		kv_set(&plan->annotations, LABEL_VERSION, plan->version);
	}
	if (plan->revision) {
		kv_set(&plan->labels, LABEL_REVISION, plan->revision);
		kv_set(&plan->annotations, LABEL_REVISION, plan->revision);
	}
	for (size_t i = 0; i < plan->n_stages; i++) {
		const struct dk_spec_stage *st = &spec->stages[i];

		for (size_t j = 0; j < st->n_layers; j++)
			if (dk_plan_entry(&st->layers[j], st->name, plan, err) < 0) {
				dk_plan_free(plan);
				return -1;
			}
	}
	return 0;
}

void dk_plan_free(struct dk_plan *plan)
{
	free(plan->version);
	free(plan->revision);
	dk_kvlist_free(&plan->env);
	dk_kvlist_free(&plan->labels);
	dk_kvlist_free(&plan->annotations);
	dk_layer_plans_free(&plan->layers);
	memset(plan, 0, sizeof(*plan));
}
