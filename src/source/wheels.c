/*
 * wheels.c - the "wheels" row: locked Python wheels installed into layers
 * (issue #11).  Its spec key takes an object of typed members; this file
 * checks them and fills in the defaults that follow from one another.
 *
 * Where a wheels layer writes: scripts, data and headers under prefix,
 * packages under site_packages.  The layer's dest is the deepest directory
 * holding both (prefix itself with the default site_packages), so that
 * nothing it writes lies outside the two.  site_packages must not hold
 * prefix (the scripts would land among the packages) nor lie in
 * PREFIX/bin or PREFIX/include (where scripts and headers go).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/util.h"
#include "derrick/wheelsrc.h"

static const struct dk_source_opt wheels_members[] = {
	{ "lock", DK_OPT_SPEC_INPUT },
	{ "requirements", DK_OPT_SPEC_INPUT },
	{ "python", DK_OPT_STRING },
	{ "libc", DK_OPT_STRING },
	{ "prefix", DK_OPT_STRING },
	{ "site_packages", DK_OPT_STRING },
	{ "interpreter", DK_OPT_STRING },
	{ "find_links", DK_OPT_SPEC_PATHS },
	{ "index_url", DK_OPT_STRING },
	{ "split", DK_OPT_STRING },
	{ NULL, 0 }
};

static const struct dk_source_opt no_opts[] = { { NULL, 0 } };

/* A run of 1 to 4 digits at *s; advances *s past it. */
static int digits(const char **s)
{
	size_t n = 0;

	while (isdigit((unsigned char)(*s)[n]))
		n++;
	*s += n;
	return n >= 1 && n <= 4;
}

/* "3.12" or "3.12.4" (CPython 3 only): its "X.Y" as a new string, or NULL. */
static char *python_xy(const char *v)
{
	const char *s = v, *xy_end;

	if (strncmp(s, "3.", 2))
		return NULL;
	s += 2;
	if (!digits(&s))
		return NULL;
	xy_end = s;
	if (*s == '.') {
		s++;
		if (!digits(&s))
			return NULL;
	}
	return *s ? NULL : dk_xstrndup(v, (size_t)(xy_end - v));
}

/* "glibc 2.36" or "musl 1.2". */
static int libc_ok(const char *v)
{
	const char *s = !strncmp(v, "glibc ", 6) ? v + 6 : !strncmp(v, "musl ", 5) ? v + 5 : NULL;

	if (!s || !digits(&s) || *s++ != '.' || !digits(&s))
		return 0;
	return !*s;
}

/* p is d or lies below it (both clean in-layer paths; "" is the root). */
static int under(const char *p, const char *d)
{
	size_t n = strlen(d);

	return !n || (!strncmp(p, d, n) && (!p[n] || p[n] == '/'));
}

/* An absolute image path as an in-layer path ("/usr/local/" -> "usr/local"), or NULL. */
static char *image_path(const char *v)
{
	if (v[0] != '/' || strchr(v, '\n'))
		return NULL;
	return dk_path_clean(v);
}

/* The absolute form of clean in-layer path p. */
static char *absolute(const char *p)
{
	return dk_xasprintf("/%s", p);
}

/* The deepest directory holding both clean paths ("" for the root). */
static char *common_dir(const char *a, const char *b)
{
	size_t last = 0;

	for (size_t n = 0;; n++) {
		/* here a and b agree on their first n bytes */
		if ((!a[n] || a[n] == '/') && (!b[n] || b[n] == '/'))
			last = n;
		if (!a[n] || a[n] != b[n])
			break;
	}
	return dk_xstrndup(a, last);
}

/*
 * Check l's members and fill o; python may be missing when `need_python` is
 * 0 (the spec parser: the base image may say it), and then site_packages
 * and interpreter keep no default.
 */
static int resolve_opts(const struct dk_spec_layer *l, const char *file, const char *base_python,
			const char *base_libc, int need_python, struct dk_wheels_opts *o, struct dk_err *err)
{
	const char *python = dk_spec_opt_value(l, "python"), *libc = dk_spec_opt_value(l, "libc");
	const char *prefix = dk_spec_opt_value(l, "prefix"), *sp = dk_spec_opt_value(l, "site_packages");
	const char *interp = dk_spec_opt_value(l, "interpreter"), *split = dk_spec_opt_value(l, "split");
	char *pf = NULL, *spc = NULL, *bin = NULL, *inc = NULL;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	o->lock = dk_spec_opt_value(l, "lock");
	o->requirements = dk_spec_opt_value(l, "requirements");
	o->find_links = dk_spec_opt_list(l, "find_links");
	o->index_url = dk_spec_opt_value(l, "index_url");
	if (python && !(o->python_xy = python_xy(python))) {
		dk_source_bad_member(err, file, l, "python", "\"%s\": expected a CPython version \"3.Y\" or \"3.Y.Z\"", python);
		goto out;
	}
	if (!python && base_python && !(o->python_xy = python_xy(base_python))) {
		dk_source_bad_member(err, file, l, "python", "not given, and the base image's PYTHON_VERSION \"%s\" is no "
			   "CPython version \"3.Y\" or \"3.Y.Z\": set it", base_python);
		goto out;
	}
	if (!o->python_xy && need_python) {
		dk_source_bad_member(err, file, l, "python", "not given, and the base image sets no PYTHON_VERSION: "
			   "set it (\"3.12\")");
		goto out;
	}
	o->python = o->python_xy ? dk_xstrdup(python ? python : base_python) : NULL;
	if (libc && !libc_ok(libc)) {
		dk_source_bad_member(err, file, l, "libc", "\"%s\": expected \"glibc X.Y\" or \"musl X.Y\"", libc);
		goto out;
	}
	o->libc = libc ? dk_xstrdup(libc) : base_libc ? dk_xstrdup(base_libc) : NULL;
	if (!(pf = image_path(prefix ? prefix : DK_WHEELS_DEFAULT_PREFIX))) {
		dk_source_bad_member(err, file, l, "prefix", "\"%s\": expected an absolute path in the image without \"..\"",
			   prefix);
		goto out;
	}
	o->prefix = absolute(pf);
	if (sp) {
		bin = dk_path_join(pf, "bin");
		inc = dk_path_join(pf, "include");
		if (!(spc = image_path(sp))) {
			dk_source_bad_member(err, file, l, "site_packages",
				   "\"%s\": expected an absolute path in the image without \"..\"", sp);
			goto out;
		}
		if (under(pf, spc)) {
			dk_source_bad_member(err, file, l, "site_packages", "\"%s\" holds the prefix %s: the scripts and data "
				   "would land among the packages", sp, o->prefix);
			goto out;
		}
		if (under(spc, bin) || under(spc, inc)) {
			dk_source_bad_member(err, file, l, "site_packages", "\"%s\" lies in %s/%s, where the scripts and headers go",
				   sp, *pf ? o->prefix : "", under(spc, bin) ? "bin" : "include");
			goto out;
		}
		o->site_packages = absolute(spc);
	} else if (o->python_xy) {
		o->site_packages = dk_xasprintf("%s/lib/python%s/site-packages", *pf ? o->prefix : "", o->python_xy);
	}
	if (interp && (interp[0] != '/' || strchr(interp, '\n'))) {
		dk_source_bad_member(err, file, l, "interpreter", "\"%s\": expected an absolute path in the image", interp);
		goto out;
	}
	if (interp)
		o->interpreter = dk_xstrdup(interp);
	else if (o->python_xy) {
		o->interpreter = dk_xasprintf("%s/bin/python%s", *pf ? o->prefix : "", o->python_xy);
	}
	if (split && strcmp(split, "auto") && strcmp(split, "none")) {
		dk_source_bad_member(err, file, l, "split", "\"%s\": expected \"auto\" or \"none\"", split);
		goto out;
	}
	o->split = !split || !strcmp(split, "auto");
	if (o->index_url && strncmp(o->index_url, "https://", 8) && strncmp(o->index_url, "http://", 7)) {
		dk_source_bad_member(err, file, l, "index_url", "expected an http:// or https:// URL");
		goto out;
	}
	rc = 0;
out:
	free(pf);
	free(spc);
	free(bin);
	free(inc);
	return rc;
}

int dk_wheels_opts(const struct dk_spec_layer *l, const char *spec_file, const char *base_python,
		   const char *base_libc, struct dk_wheels_opts *o, struct dk_err *err)
{
	return resolve_opts(l, spec_file, base_python, base_libc, 1, o, err);
}

void dk_wheels_opts_free(struct dk_wheels_opts *o)
{
	free(o->python);
	free(o->python_xy);
	free(o->libc);
	free(o->prefix);
	free(o->site_packages);
	free(o->interpreter);
	memset(o, 0, sizeof(*o));
}

/* The members, checked as far as the spec alone allows; the dest holds prefix and site_packages. */
static int wheels_check(struct dk_spec_layer *l, const char *spec_file, struct dk_err *err)
{
	struct dk_wheels_opts o;
	int rc = resolve_opts(l, spec_file, NULL, NULL, 0, &o, err);

	if (rc == 0) {
		char *pf = dk_path_clean(o.prefix);
		char *sp = o.site_packages ? dk_path_clean(o.site_packages) : dk_xstrdup(pf);

		free(l->dest);
		l->dest = common_dir(pf, sp);
		l->dest_is_dir = 1;
		free(pf);
		free(sp);
	}
	dk_wheels_opts_free(&o);
	return rc;
}

const struct dk_source_kind dk_source_wheels = {
	.key = "wheels",
	.hint = "an object naming a lock file",
	.noun = "wheels from a lock",
	.verb = "WHEELS",
	.opts = no_opts,
	.members = wheels_members,
	.check = wheels_check,
	.plan = dk_wheels_plan,
	.needs_base = 1,
	.key_from_plan = 1,
	.read = dk_wheels_read,
	.below = dk_wheels_below,
};
