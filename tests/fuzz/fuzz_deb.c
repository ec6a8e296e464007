/*
 * fuzz_deb.c - Debian packages: the first byte picks what the rest is.
 *   0: a whole .deb (ar, debian-binary, control.tar, data.tar in any
 *      compression), read into entries, then its database entries made
 *      both ways (a base status, and status.d) and the list finished;
 *   1: a base dpkg status merged with one package's stanza;
 *   2: a postinst (and the same text as preinst) whose hint is asked for.
 * A hint is always one printable line.
 */
#include "fuzz.h"

#include "derrick/deb.h"
#include "derrick/dpkgdb.h"
#include "derrick/entry.h"

static const char base_status[] = "Package: base\nStatus: install ok installed\nArchitecture: amd64\n"
				  "Version: 1\n\nPackage: zz\nVersion: 2\n";

static void check_hint(const struct dk_deb *d)
{
	char *h = dk_deb_script_hint(d);

	if (!h != !(d->scripts & (DK_DEB_PREINST | DK_DEB_POSTINST)))
		abort();
	for (const char *c = h; c && *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			abort();
	free(h);
}

static void whole(const uint8_t *data, size_t size)
{
	struct dk_entries l;
	struct dk_deb d;
	struct dk_err err;

	dk_entries_init(&l);
	if (dk_deb_read_mem(data, size, "fuzz.deb", &l, &d, &err) == 0) {
		const struct dk_deb *dp = &d;
		struct dk_entries db;

		/* a package read must give database files that make a valid layer */
		dk_entries_init(&db);
		if (dk_dpkgdb_entries(base_status, sizeof(base_status) - 1, &dp, 1, &db, &err) < 0 ||
		    dk_entries_finish(&db, &err) < 0)
			abort();
		dk_entries_release(&db);
		dk_entries_init(&db);
		if (dk_dpkgdb_entries(NULL, 0, &dp, 1, &db, &err) < 0 || dk_entries_finish(&db, &err) < 0)
			abort();
		dk_entries_release(&db);
		dk_entries_finish(&l, &err);
		check_hint(&d);
	}
	dk_deb_release(&d);
	dk_entries_release(&l);
}

static void status(const uint8_t *data, size_t size)
{
	char control[] = "Package: seed\nVersion: 1.0\nArchitecture: amd64\nDescription: x\n y\n";
	char *paths[] = { "/.", "/etc" };
	struct dk_deb_conffile conf = { "/etc/x", "d41d8cd98f00b204e9800998ecf8427e" };
	struct dk_deb d = {
		.package = "seed", .version = "1.0", .architecture = "amd64",
		.control = control, .control_len = sizeof(control) - 1,
		.conffiles = &conf, .nconffiles = 1, .paths = paths, .npaths = 2,
	};
	const struct dk_deb *dp = &d;
	struct dk_entries db;
	struct dk_err err;

	dk_entries_init(&db);
	if (dk_dpkgdb_entries((const char *)data, size, &dp, 1, &db, &err) == 0 && dk_entries_finish(&db, &err) < 0)
		abort();
	dk_entries_release(&db);
}

static void script(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct dk_deb d = { .scripts = DK_DEB_PREINST | DK_DEB_POSTINST };

	memcpy(text, data, size);
	text[size] = '\0';
	d.preinst = d.postinst = text;
	check_hint(&d);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] == 0)
		whole(data + 1, size - 1);
	else if (data[0] == 1)
		status(data + 1, size - 1);
	else if (data[0] == 2)
		script(data + 1, size - 1);
	return 0;
}
