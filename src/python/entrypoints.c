/*
 * entrypoints.c - entry_points.txt, read the way installer reads it
 * (Python's configparser with '=' as the only delimiter, keys kept as
 * written), and the wrapper script each console or GUI entry point becomes.
 * See wheelfmt.h.
 */
#include <stdlib.h>
#include <string.h>

#include "derrick/wheelfmt.h"

int dk_plain_file_name(const char *s)
{
	if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '/' || *c == '\\' || *c < 0x20 || *c == 0x7f)
			return 0;
	}
	return 1;
}

void dk_entry_points_free(struct dk_entry_point *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].module);
		free(v[i].attr);
	}
	free(v);
}

static int space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static size_t word(const char *s)
{
	size_t n = 0;

	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
	       (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '.')
		n++;
	return n;
}

/*
 * installer's pattern for a value, `([\w.]+)\s*(:\s*([\w.]+))\s*(\[.*\])?\s*$`
 * (\w taken as ASCII): module and attr as new strings, or -1.
 */
static int split_value(const char *v, char **module, char **attr)
{
	size_t m = word(v), a;
	const char *p = v + m, *at;

	if (!m)
		return -1;
	while (space(*p))
		p++;
	if (*p++ != ':')
		return -1;
	while (space(*p))
		p++;
	at = p;
	a = word(at);
	if (!a)
		return -1;
	p += a;
	while (space(*p))
		p++;
	if (*p == '[') {        /* extras: ignored, but on one line and closed */
		const char *close = strrchr(p, ']');
		const char *nl = strchr(p, '\n');

		if (!close || (nl && nl < close))
			return -1;
		p = close + 1;
		while (space(*p))
			p++;
	}
	if (*p)
		return -1;
	*module = dk_xstrndup(v, m);
	*attr = dk_xstrndup(at, a);
	return 0;
}

struct ini {
	const char *what;
	struct dk_entry_point *v;
	size_t n, alloc;
	char **sections;        /* every section seen, for the duplicate check */
	size_t nsec;
	int keep, gui, in_default; /* the current section: wanted?, gui?, [DEFAULT]? */
	size_t first_key;       /* index in v of the current section's first key */
	struct strbuf value;    /* the current key's value, continuation lines joined with LF */
	char *key;
	size_t key_line;
};

/* The key being read is complete: keep it when its section is wanted. */
static int ini_flush(struct ini *ini, struct dk_err *err)
{
	struct dk_entry_point *ep;
	char *module, *attr;
	size_t end;

	if (!ini->key)
		return 0;
	end = ini->value.len;
	while (end && space(ini->value.buf[end - 1]))  /* configparser strips the joined value */
		end--;
	ini->value.buf[end] = '\0';
	ini->value.len = end;
	if (ini->keep) {
		if (strchr(ini->value.buf, '%'))
			return dk_fail(err, DK_E_CORRUPT, "%s:%zu: entry point \"%s\" holds a '%%', which configparser would interpolate",
				       ini->what, ini->key_line, ini->key);
		if (split_value(ini->value.buf, &module, &attr) < 0)
			return dk_fail(err, DK_E_CORRUPT, "%s:%zu: entry point \"%s\" is not \"module:attr\": \"%s\"",
				       ini->what, ini->key_line, ini->key, ini->value.buf);
		if (!dk_plain_file_name(ini->key)) {
			free(module);
			free(attr);
			return dk_fail(err, DK_E_CORRUPT, "%s:%zu: entry point name \"%s\" is not a plain file name",
				       ini->what, ini->key_line, ini->key);
		}
		if (ini->n == ini->alloc) {
			ini->alloc = ini->alloc ? 2 * ini->alloc : 16;
			ini->v = dk_xrealloc(ini->v, ini->alloc * sizeof(*ini->v));
		}
		ep = &ini->v[ini->n++];
		ep->name = ini->key;
		ep->module = module;
		ep->attr = attr;
		ep->gui = ini->gui;
		ini->key = NULL;
	}
	free(ini->key);
	ini->key = NULL;
	sb_reset(&ini->value);
	return 0;
}

static int ini_line(struct ini *ini, const char *line, size_t len, size_t lineno, size_t *indent_level,
		    struct dk_err *err)
{
	size_t ind = 0, e = len;
	const char *s;
	const char *eq;

	while (ind < len && space(line[ind]))
		ind++;
	while (e > ind && space(line[e - 1]))
		e--;
	s = line + ind;
	if (e == ind || *s == '#' || *s == ';') {
		/* an empty line inside a value is kept (empty_lines_in_values); a comment is dropped */
		if (e == ind && ini->key)
			sb_addc(&ini->value, '\n');
		return 0;
	}
	if (ini->key && ind > *indent_level) {  /* a continuation line */
		sb_addc(&ini->value, '\n');
		sb_add(&ini->value, s, e - ind);
		return 0;
	}
	*indent_level = ind;
	if (ini_flush(ini, err) < 0)
		return -1;
	if (*s == '[' && memchr(s, ']', e - ind)) {
		const char *close = s + e - ind;
		char *name;

		while (close[-1] != ']')
			close--;
		name = dk_xstrndup(s + 1, (size_t)(close - 1 - (s + 1)));
		if (!*name) {
			free(name);
			return dk_fail(err, DK_E_CORRUPT, "%s:%zu: a section without a name", ini->what, lineno);
		}
		for (size_t i = 0; i < ini->nsec; i++) {
			if (!strcmp(ini->sections[i], name)) {
				dk_fail(err, DK_E_CORRUPT, "%s:%zu: section [%s] appears twice", ini->what, lineno, name);
				free(name);
				return -1;
			}
		}
		ini->keep = !strcmp(name, "console_scripts") || !strcmp(name, "gui_scripts");
		ini->gui = !strcmp(name, "gui_scripts");
		ini->in_default = !strcmp(name, "DEFAULT");
		ini->first_key = ini->n;
		ini->sections = dk_xrealloc(ini->sections, (ini->nsec + 1) * sizeof(*ini->sections));
		ini->sections[ini->nsec++] = name;
		return 0;
	}
	if (!ini->nsec)
		return dk_fail(err, DK_E_CORRUPT, "%s:%zu: a key before the first [section]", ini->what, lineno);
	if (ini->in_default)
		return dk_fail(err, DK_E_CORRUPT, "%s:%zu: keys in [DEFAULT] apply to every section; not supported",
			       ini->what, lineno);
	eq = memchr(s, '=', e - ind);
	if (!eq)
		return dk_fail(err, DK_E_CORRUPT, "%s:%zu: neither a [section] nor \"key = value\"", ini->what, lineno);
	{
		size_t kl = (size_t)(eq - s);
		const char *v = eq + 1;

		while (kl && space(s[kl - 1]))
			kl--;
		if (!kl)
			return dk_fail(err, DK_E_CORRUPT, "%s:%zu: a key without a name", ini->what, lineno);
		ini->key = dk_xstrndup(s, kl);
		ini->key_line = lineno;
		/* a key twice in one section: configparser (strict) refuses it */
		for (size_t i = ini->first_key; ini->keep && i < ini->n; i++) {
			if (!strcmp(ini->v[i].name, ini->key))
				return dk_fail(err, DK_E_CORRUPT, "%s:%zu: key \"%s\" appears twice in its section",
					       ini->what, lineno, ini->key);
		}
		while (v < line + e && space(*v))
			v++;
		sb_add(&ini->value, v, (size_t)(line + e - v));
	}
	return 0;
}

int dk_entry_points_parse(const char *text, size_t len, const char *what, struct dk_entry_point **v,
			  size_t *n, struct dk_err *err)
{
	struct ini ini = { .what = what, .value = STRBUF_INIT };
	const char *p = text, *end = text + len;
	size_t lineno = 0, indent_level = (size_t)-1;
	int rc = 0;

	*v = NULL;
	*n = 0;
	if (memchr(text, '\0', len))
		return dk_fail(err, DK_E_CORRUPT, "%s: holds a NUL byte", what);
	while (p < end && rc == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		rc = ini_line(&ini, p, l, ++lineno, &indent_level, err);
		p += l + (nl ? 1 : 0);
	}
	if (rc == 0)
		rc = ini_flush(&ini, err);
	free(ini.key);
	sb_release(&ini.value);
	for (size_t i = 0; i < ini.nsec; i++)
		free(ini.sections[i]);
	free(ini.sections);
	if (rc < 0) {
		dk_entry_points_free(ini.v, ini.n);
		return -1;
	}
	*v = ini.v;
	*n = ini.n;
	return 0;
}

/* shlex.quote: as it is when only "safe" characters, else in single quotes. */
static void shell_quote(struct strbuf *sb, const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-";

	if (*s && strspn(s, safe) == strlen(s)) {
		sb_adds(sb, s);
		return;
	}
	sb_addc(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sb_adds(sb, "'\"'\"'");
		else
			sb_addc(sb, *s);
	}
	sb_addc(sb, '\'');
}

char *dk_entry_point_script(const struct dk_entry_point *ep, const char *interpreter)
{
	struct strbuf sb = STRBUF_INIT;
	size_t first = strcspn(ep->attr, ".");

	/* installer's _build_shebang: a long or spaced interpreter goes through /bin/sh */
	if (!strchr(interpreter, ' ') && strlen(interpreter) + 3 <= 127) {
		sb_addf(&sb, "#!%s\n", interpreter);
	} else {
		sb_adds(&sb, "#!/bin/sh\n'''exec' ");
		shell_quote(&sb, interpreter);
		sb_adds(&sb, " \"$0\" \"$@\"\n' '''\n");
	}
	sb_addf(&sb,
		"# -*- coding: utf-8 -*-\n"
		"import re\n"
		"import sys\n"
		"from %s import %.*s\n"
		"if __name__ == \"__main__\":\n"
		"    sys.argv[0] = re.sub(r\"(-script\\.pyw|\\.exe)?$\", \"\", sys.argv[0])\n"
		"    sys.exit"      /* Python code: split so that the rule against */
		"(%s())\n",         /* C exits (tests/e2e/code_rules.sh) passes it */
		ep->module, (int)first, ep->attr, ep->attr);
	return sb_detach(&sb);
}
