/*
 * scripthint.c - what a package's preinst and postinst would have done,
 * guessed from the commands they call, for the warning that says they
 * were not run.  A guess: the script is read as words, not as shell, so a
 * command named in a string or a branch never taken counts too; a hint
 * names what to check, never claims it is missing.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/deb.h"
#include "derrick/util.h"

#define MAX_NAMES 4     /* alternatives named in one hint; then "..." */

/* What a family of commands leaves behind in a system where the script ran. */
static const struct hint {
	const char *what;
	const char *const cmds[6];
} hints[] = {
	{ "alternatives links", { "update-alternatives" } },
	{ "users or groups", { "adduser", "addgroup", "useradd", "groupadd", "systemd-sysusers" } },
	{ "generated files", { "update-ca-certificates" } },
	{ "ld.so cache", { "ldconfig" } },
	{ "byte-compiled Python", { "py3compile", "pycompile", "py_compile.py", "py_compile" } },
	{ "diversions", { "dpkg-divert" } },
	{ "owners or modes set at install", { "dpkg-statoverride", "chown", "chmod" } },
	{ "services enabled", { "deb-systemd-helper", "update-rc.d", "systemctl", "invoke-rc.d" } },
	{ "debconf answers", { "db_get", "db_set", "db_input" } },
};
#define NHINTS (sizeof(hints) / sizeof(hints[0]))

static int cmd_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int name_char(char c)
{
	return cmd_char(c) || c == '.' || c == '+';
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * The script's text with comments blanked: '#' at the start of a word
 * starts one, to the end of its line (quotes are not followed: a guess).
 */
static char *uncommented(const char *s)
{
	char *t = dk_xstrdup(s);
	int comment = 0;

	for (char *p = t; *p; p++) {
		if (*p == '\n')
			comment = 0;
		else if (*p == '#' && (p == t || blank(p[-1])))
			comment = 1;
		if (comment)
			*p = ' ';
	}
	return t;
}

/*
 * Whether t names the command cmd: as a word of its own or a path's last
 * part (/sbin/ldconfig), not inside a longer name (adduser.conf) or as a
 * directory (/var/cache/ldconfig/).
 */
static int calls(const char *t, const char *cmd)
{
	size_t n = strlen(cmd);

	for (const char *p = strstr(t, cmd); p; p = strstr(p + 1, cmd))
		if ((p == t || !name_char(p[-1])) && !name_char(p[n]) && p[n] != '/')
			return 1;
	return 0;
}

/* The next blank-separated word of t from *p (a "\\\n" is a blank), or NULL at the end. */
static const char *word(const char **p, size_t *len)
{
	const char *s = *p;

	while (*s && (blank(*s) || (*s == '\\' && s[1] == '\n')))
		s++;
	if (!*s)
		return NULL;
	*len = strcspn(s, " \t\r\n");
	*p = s + *len;
	return s;
}

/* ", NAME" for each alternative `update-alternatives --install LINK NAME ...` installs, names made of plain bytes only. */
static void alternatives(const char *t, struct strbuf *sb)
{
	const char *p = t, *w, *name;
	size_t len, nlen, n = 0;

	while ((w = word(&p, &len))) {
		if (len != 9 || strncmp(w, "--install", 9) || !word(&p, &len) || !(name = word(&p, &nlen)))
			continue;
		for (len = 0; len < nlen && name_char(name[len]); len++)
			;
		if (len < nlen)
			continue;       /* "$name", quoted: not known without running the shell */
		if (n++ == MAX_NAMES) {
			sb_addf(sb, " ...");
			return;
		}
		sb_addf(sb, " %.*s", (int)nlen, name);
	}
}

/* "SCRIPT: WHAT (CMD...), WHAT (CMD...)" for one script's text. */
static void one_script(const char *name, const char *text, struct strbuf *sb)
{
	char *t = uncommented(text ? text : "");
	int items = 0;

	sb_addf(sb, "%s: ", name);
	for (size_t i = 0; i < NHINTS; i++) {
		int found = 0;

		for (size_t c = 0; c < sizeof(hints[i].cmds) / sizeof(hints[i].cmds[0]) && hints[i].cmds[c]; c++) {
			if (!calls(t, hints[i].cmds[c]))
				continue;
			if (!found++)
				sb_addf(sb, "%s%s (", items++ ? ", " : "", hints[i].what);
			else
				sb_addf(sb, ", ");
			sb_addf(sb, "%s", hints[i].cmds[c]);
			if (i == 0)
				alternatives(t, sb);
		}
		if (found)
			sb_addf(sb, ")");
	}
	if (!items)
		sb_addf(sb, "what it would have done");
	free(t);
}

char *dk_deb_script_hint(const struct dk_deb *d)
{
	struct strbuf sb = STRBUF_INIT;
	int n = 0;

	if (!(d->scripts & (DK_DEB_PREINST | DK_DEB_POSTINST)))
		return NULL;
	sb_addf(&sb, "maintainer scripts not run, so these may be missing: ");
	if (d->scripts & DK_DEB_PREINST) {
		one_script(dk_deb_script_name(DK_DEB_PREINST), d->preinst, &sb);
		n++;
	}
	if (d->scripts & DK_DEB_POSTINST) {
		if (n)
			sb_addf(&sb, "; ");
		one_script(dk_deb_script_name(DK_DEB_POSTINST), d->postinst, &sb);
	}
	return sb_detach(&sb);
}
