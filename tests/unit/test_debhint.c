/*
 * test_debhint.c - dk_deb_script_hint on scripts written here, for what
 * the suite's real packages (tests/e2e/deb_install.sh) do not call:
 * ldconfig, update-ca-certificates, systemd-sysusers, quoting and line
 * continuations, comments, many alternatives, and packages without the
 * two scripts.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/deb.h"
#include "tap.h"

#define PRE "maintainer scripts not run, so these may be missing: "

static char *hint(unsigned scripts, const char *preinst, const char *postinst)
{
	struct dk_deb d = { .scripts = scripts, .preinst = (char *)preinst, .postinst = (char *)postinst };

	return dk_deb_script_hint(&d);
}

static void check_hint(unsigned scripts, const char *preinst, const char *postinst, const char *want)
{
	char *got = hint(scripts, preinst, postinst);

	if (!got || strcmp(got, want)) {
		printf("#   got  \"%s\"\n#   want \"%s\"\n", got ? got : "(null)", want);
		CHECK(0);
	}
	free(got);
}

static void test_none(void)
{
	CHECK(hint(0, NULL, NULL) == NULL);
	/* prerm, postrm, config and triggers are never run at install: no hint for them */
	CHECK(hint(DK_DEB_PRERM | DK_DEB_POSTRM | DK_DEB_CONFIG | DK_DEB_TRIGGERS, NULL, NULL) == NULL);
}

static void test_kinds(void)
{
	check_hint(DK_DEB_POSTINST, NULL, "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then ldconfig; fi\n",
		   PRE "postinst: ld.so cache (ldconfig)");
	check_hint(DK_DEB_POSTINST, NULL, "/usr/sbin/update-ca-certificates --fresh >/dev/null\n",
		   PRE "postinst: generated files (update-ca-certificates)");
	check_hint(DK_DEB_PREINST, "systemd-sysusers foo.conf||true\n", NULL, PRE "preinst: users or groups (systemd-sysusers)");
	check_hint(DK_DEB_PREINST | DK_DEB_POSTINST, "dpkg-divert --add --rename /bin/x\n",
		   "adduser --system x\nupdate-alternatives --install /usr/bin/editor editor /usr/bin/x 50\n",
		   PRE "preinst: diversions (dpkg-divert); postinst: alternatives links (update-alternatives editor), "
		       "users or groups (adduser)");
	/* both scripts named even when only one is kept (an empty one) */
	check_hint(DK_DEB_PREINST | DK_DEB_POSTINST, "", NULL,
		   PRE "preinst: what it would have done; postinst: what it would have done");
}

static void test_words(void)
{
	/* comments, longer names, directories, files named after a command */
	check_hint(DK_DEB_POSTINST, NULL,
		   "# run ldconfig here? no\necho x # update-alternatives later\nmyldconfig\nldconfig-x\n"
		   "rm -f /var/cache/ldconfig/aux-cache /etc/adduser.conf\n",
		   PRE "postinst: what it would have done");
	/* a '#' inside a word is no comment */
	check_hint(DK_DEB_POSTINST, NULL, "x=a#b ldconfig\n", PRE "postinst: ld.so cache (ldconfig)");
	/* alternatives: the name after the link, across a continuation; quoted or expanded names left out */
	check_hint(DK_DEB_POSTINST, NULL,
		   "update-alternatives --install \\\n  /usr/bin/vi vi /usr/bin/vim 50\n"
		   "update-alternatives --install \"$b/x\" \"$name\" /usr/bin/y 1\n"
		   "update-alternatives --install /a a.1.gz /b 1\n",
		   PRE "postinst: alternatives links (update-alternatives vi a.1.gz)");
	check_hint(DK_DEB_POSTINST, NULL,
		   "update-alternatives --install /a a /b 1\nupdate-alternatives --install /b b /c 1\n"
		   "update-alternatives --install /c c /d 1\nupdate-alternatives --install /d d /e 1\n"
		   "update-alternatives --install /e e /f 1\nupdate-alternatives --install /f f /g 1\n",
		   PRE "postinst: alternatives links (update-alternatives a b c d ...)");
	/* several commands of one kind in table order, and control bytes never reach the line */
	check_hint(DK_DEB_POSTINST, NULL,
		   "chmod 4755 /x\x01\ndpkg-statoverride --add\nupdate-alternatives --install /x \x1b[31m /y 1\n",
		   PRE "postinst: alternatives links (update-alternatives), "
		       "owners or modes set at install (dpkg-statoverride, chmod)");
	check_hint(DK_DEB_POSTINST, NULL, "python3 -m py_compile x.py\n/usr/bin/py3compile -p foo\n",
		   PRE "postinst: byte-compiled Python (py3compile, py_compile)");
}

int main(void)
{
	RUN(test_none);
	RUN(test_kinds);
	RUN(test_words);
	return tap_done();
}
