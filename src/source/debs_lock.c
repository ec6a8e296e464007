/*
 * debs_lock.c - `derrick lock debs` for one entry: resolve the spec's
 * packages against its sources, for the Debian architecture of every
 * platform, on top of what is installed below the entry on that platform
 * (README "Files below a layer"), and write the lock the build reads.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/deb.h"
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

/*
 * The installed packages below an entry as dpkg status text: the status
 * file, or (a distroless-style base) the stanzas of status.d/, which carry
 * no Status field: each is installed.  *text NULL: none at all.
 */
static int installed_below(const struct dk_source_ctx *ctx, char **text, size_t *len, struct dk_err *err)
{
	struct dk_dir_files d = { NULL, 0 };
	struct strbuf sb = STRBUF_INIT;

	if (dk_source_read_below(ctx, NULL, "var/lib/dpkg/status", DPKG_STATUS_MAX, text, len, err) < 0)
		return -1;
	if (*text)
		return 0;
	if (dk_source_read_dir_below(ctx, NULL, "var/lib/dpkg/status.d", STATUS_D_MAX, &d, err) < 0)
		return -1;
	for (size_t i = 0; i < d.n; i++) {
		size_t n = strlen(d.v[i].name);
		char *status;

		if (n > 8 && !strcmp(d.v[i].name + n - 8, ".md5sums"))
			continue;
		status = dk_deb_field(d.v[i].data, "Status");
		if (!status)
			sb_adds(&sb, "Status: install ok installed\n");
		free(status);
		sb_adds(&sb, d.v[i].data);
		while (sb.len && sb.buf[sb.len - 1] == '\n')
			sb.len--;
		sb_adds(&sb, "\n\n");
	}
	dk_dir_files_free(&d);
	if (sb.len) {
		*len = sb.len;
		*text = sb_detach(&sb);
	}
	sb_release(&sb);
	return 0;
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
		if (installed_below(ctxs[i], &status[na], &status_len[na], err) < 0)
			goto out;
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
	dk_info("%s: %zu package%s for %s", l->origin, lock.n_entries, lock.n_entries == 1 ? "" : "s", names.buf);
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
