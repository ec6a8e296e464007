/*
 * debs_lock.c - `derrick lock debs` for one entry: resolve the spec's
 * packages against its sources, for the Debian architecture of every
 * platform, on top of what each platform's base image has installed, and
 * write the lock the build reads.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "derrick/debarch.h"
#include "derrick/deblock.h"
#include "derrick/debsrc.h"
#include "derrick/log.h"
#include "derrick/platform.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/util.h"

/* A dpkg status larger than this is not read, nor a status.d/ file larger than the second. */
#define DPKG_STATUS_MAX (64u << 20)
#define STATUS_D_MAX (1u << 20)

/* A field of a stanza: "Name:" at the start of a line, in any case (deb822). */
static int has_field(const char *data, size_t len, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = data; p && p + n < data + len;) {
		if (!strncasecmp(p, name, n) && p[n] == ':')
			return 1;
		p = memchr(p, '\n', (size_t)(data + len - p));
		p = p ? p + 1 : NULL;
	}
	return 0;
}

/*
 * One file of a distroless-style base's var/lib/dpkg/status.d/: the
 * control stanza of a package that is there (PKG.md5sums are its sums),
 * added to the status text the resolver reads, as installed.
 */
static int status_d_file(void *arg, const char *name, const char *data, size_t len, struct dk_err *err)
{
	struct strbuf *sb = arg;
	size_t n = strlen(name);

	(void)err;
	if (name[0] == '.' || (n > 8 && !strcmp(name + n - 8, ".md5sums")))
		return 0;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (!len)
		return 0;
	if (!has_field(data, len, "Status"))
		sb_adds(sb, "Status: install ok installed\n");
	sb_add(sb, data, len);
	sb_adds(sb, "\n\n");
	return 0;
}

/*
 * The base's dpkg database as status text: 1 with *data and *len (the
 * status file, else the stanzas of status.d/), 0 when it has neither.
 */
static int base_status(const struct dk_source_ctx *ctx, char **data, size_t *len, struct dk_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	int has;

	*data = NULL;
	*len = 0;
	if (!ctx || !ctx->read_file)
		return 0;
	has = ctx->read_file(ctx->arg, "var/lib/dpkg/status", DPKG_STATUS_MAX, data, len, err);
	if (has < 0)
		return dk_err_prefix(err, "/var/lib/dpkg/status");
	if (has || !ctx->each_file)
		return has;
	if (ctx->each_file(ctx->arg, "var/lib/dpkg/status.d", STATUS_D_MAX, status_d_file, &sb, err) < 0) {
		sb_release(&sb);
		return dk_err_prefix(err, "/var/lib/dpkg/status.d");
	}
	if (!sb.len) {
		sb_release(&sb);
		return 0;
	}
	*len = sb.len;
	*data = sb_detach(&sb);
	return 1;
}

int dk_debs_lock(const struct dk_spec_layer *l, const struct dk_platform *plats,
		 const struct dk_source_ctx *const *ctxs, size_t n, struct dk_err *err)
{
	const char *file = n && ctxs[0] && ctxs[0]->spec_file ? ctxs[0]->spec_file : "spec";
	struct dk_debs_opts o;
	struct dk_deb_lock lock;
	struct dk_deb_lock_input in;
	struct dk_deb_repo_opts ro;
	const char **archs = dk_xcalloc(n + 1, sizeof(*archs));
	char **status = dk_xcalloc(n + 1, sizeof(*status));
	size_t *status_len = dk_xcalloc(n + 1, sizeof(*status_len)), na = 0;
	struct strbuf names = STRBUF_INIT;
	int rc = -1;

	memset(&lock, 0, sizeof(lock));
	memset(&in, 0, sizeof(in));
	memset(&ro, 0, sizeof(ro));
	if (dk_debs_opts(l, file, &o, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *arch = dk_deb_arch(&plats[i]);
		char plat[100];
		size_t k;
		int has;

		dk_platform_format(&plats[i], plat, sizeof(plat));
		if (!arch) {
			dk_fail(err, DK_E_USAGE, "%s: %s.%s: Debian has no architecture for %s", file, l->where,
				l->kind->key, plat);
			goto out;
		}
		/* two platforms of one Debian architecture (amd64 and amd64/v3) resolve alike: the first decides */
		for (k = 0; k < na && strcmp(archs[k], arch); k++)
			;
		if (k < na)
			continue;
		has = base_status(ctxs[i], &status[na], &status_len[na], err);
		if (has < 0) {
			dk_err_prefix(err, "%s: the base image's", plat);
			goto out;
		}
		archs[na++] = arch;
		sb_join(&names, ", ", arch);
	}
	in.srcs = o.srcs;
	in.n_srcs = o.n_srcs;
	in.keyrings = (const char *const *)o.keyrings;
	in.packages = (const char *const *)o.packages->v;
	in.n_packages = o.packages->n;
	in.archs = archs;
	in.n_archs = na;
	in.base_status = (const char *const *)status;
	in.base_status_len = status_len;
	ro.cache = n && ctxs[0] ? ctxs[0]->blobs : NULL;
	ro.reg = n && ctxs[0] ? ctxs[0]->reg : NULL;
	if (dk_deb_lock_make(&in, &ro, &lock, err) < 0) {
		dk_err_prefix(err, "%s: %s.%s", file, l->where, l->kind->key);
		goto out;
	}
	if (dk_deb_lock_write(o.lock, &lock, err) < 0)
		goto out;
	dk_info("%s: %zu package%s for %s", o.lock, lock.n_entries, lock.n_entries == 1 ? "" : "s", names.buf);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(status[i]);
	free(status);
	free(status_len);
	free(archs);
	sb_release(&names);
	dk_deb_lock_free(&lock);
	dk_debs_opts_free(&o);
	return rc;
}
