/*
 * test_delete.c - the "delete" key: its spec checks, the whiteouts it
 * writes (opaque where the layer re-creates the directory), and the tree
 * of lower layers it is checked against: the one a layer is placed on
 * (symlinks.h), made from the layers' maps.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "derrick/delete.h"
#include "derrick/layermap.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/symlinks.h"
#include "derrick/util.h"
#include "tap.h"

#define ONE_LAYER(layer) "{\"stages\":[{\"name\":\"s\",\"layers\":[" layer "]}]}"

static char *parse_error(const char *text)
{
	static char msg[DK_ERR_MAX];
	struct dk_spec s;
	struct dk_err err;

	if (dk_spec_parse(text, "d.json", &s, &err) == 0) {
		dk_spec_free(&s);
		return "parsed";
	}
	snprintf(msg, sizeof(msg), "%s", err.msg);
	return msg;
}

static void check_spec_error(const char *text, const char *want)
{
	const char *got = parse_error(text);

	if (!strstr(got, want))
		CHECK_STR(got, want);
}

static void test_spec(void)
{
	struct dk_spec s;
	struct dk_err err;

	CHECK(dk_spec_parse(ONE_LAYER("{\"source\":\"app\",\"delete\":[\"/etc/app.conf\",\"/opt/old/\"]},"
				      "{\"delete\":[\"/srv/a b\"],\"uid\":5}"), "/p/d.json", &s, &err) == 0);
	CHECK(s.stages[0].layers[0].deletes.n == 2);
	CHECK_STR(s.stages[0].layers[0].deletes.v[0], "etc/app.conf");
	CHECK_STR(s.stages[0].layers[0].deletes.v[1], "opt/old");
	CHECK(!s.stages[0].layers[0].kind->no_input);
	/* alone, it is a layer of its own kind, named by its paths */
	CHECK(s.stages[0].layers[1].kind->no_input);
	CHECK_STR(s.stages[0].layers[1].origin, "/srv/a b");
	CHECK(s.stages[0].layers[1].uid == 5);
	dk_spec_free(&s);

	check_spec_error(ONE_LAYER("{\"delete\":[\"etc\"]}"), "layers[0].delete[0]: must be an absolute path");
	check_spec_error(ONE_LAYER("{\"delete\":[\"/a/../../b\"]}"), "delete[0]: must not contain \"..\"");
	check_spec_error(ONE_LAYER("{\"delete\":[\"/x\",\"//./\"]}"), "delete[1]: cannot delete \"/\"");
	check_spec_error(ONE_LAYER("{\"delete\":[\"/etc/.wh.x\"]}"), "whiteouts");
	check_spec_error(ONE_LAYER("{\"delete\":[\"/.wh..wh..opq\"]}"), "whiteouts");
	check_spec_error(ONE_LAYER("{\"delete\":[\"/etc/x\",\"/etc/x/\"]}"), "delete[1]: \"/etc/x\" is already in delete[0]");
	check_spec_error(ONE_LAYER("{\"delete\":[\"/etc\",\"/etc/x\"]}"), "\"/etc/x\" lies in \"/etc\"");
	check_spec_error(ONE_LAYER("{\"delete\":[\"/etc/x\",\"/etc\"]}"), "\"/etc\" holds \"/etc/x\"");
	/* a sibling with a longer name is no conflict */
	CHECK_STR(parse_error(ONE_LAYER("{\"delete\":[\"/etc\",\"/etc-x\",\"/etc.d\"]}")), "parsed");
	check_spec_error(ONE_LAYER("{\"delete\":\"/etc\"}"), "delete: must be an array of strings");
	check_spec_error(ONE_LAYER("{\"delete\":[1]}"), "delete[0]: must be a string");
	check_spec_error(ONE_LAYER("{\"delete\":[\"/etc\"],\"dest\":\"/x\"}"), "dest does not apply to a layer that only deletes");
	check_spec_error(ONE_LAYER("{\"delete\":[\"/etc\"],\"exclude\":[\"x\"]}"), "not to a layer that only deletes");
	/* an empty list is no layer; beside an input it asks for nothing */
	check_spec_error(ONE_LAYER("{\"delete\":[]}"), "or \"delete\" alone");
	CHECK_STR(parse_error(ONE_LAYER("{\"tar\":\"t.tar\",\"delete\":[]}")), "parsed");
	check_spec_error(ONE_LAYER("{\"source\":\"a\",\"tar\":\"b\",\"delete\":[\"/x\"]}"), "exactly one of");
}

/* The plan: a delete list is in the layer's key (tar layers' keys are their bytes) and history. */
static void test_plan(void)
{
	struct dk_spec s;
	struct dk_layer_plans p = { NULL, 0 };
	struct dk_err err;

	CHECK(dk_spec_parse(ONE_LAYER("{\"tar\":\"t.tar\",\"dest\":\"/o\",\"delete\":[\"/a b\",\"/c\"]},"
				      "{\"tar\":\"t.tar\",\"dest\":\"/o\",\"delete\":[\"/a\",\"/b /c\"]},"
				      "{\"tar\":\"t.tar\",\"dest\":\"/o\"},"
				      "{\"delete\":[\"/a b\",\"/c\"]}"), "/p/d.json", &s, &err) == 0);
	for (size_t i = 0; i < 4; i++)
		CHECK(dk_source_plan(&s.stages[0].layers[i], "s", NULL, NULL, &p, &err) == 0);
	CHECK(p.n == 4);
	if (p.n == 4) {
		CHECK_STR(p.v[0].history, "ADD t.tar /o; DELETE /a b /c");
		CHECK_STR(p.v[3].history, "DELETE /a b /c");
		/* the same words, other paths: other keys; no list: no key text, as before */
		CHECK(p.v[0].key_extra && p.v[1].key_extra && strcmp(p.v[0].key_extra, p.v[1].key_extra));
		CHECK(p.v[2].key_extra == NULL);
	}
	dk_layer_plans_free(&p);
	dk_spec_free(&s);
}

static void add(struct dk_entries *l, const char *path, enum dk_etype type, const char *link)
{
	struct dk_entry *e = dk_entries_add(l);

	e->path = dk_xstrdup(path);
	e->type = type;
	e->link = link ? dk_xstrdup(link) : NULL;
}

/* The entries after the whiteouts of `deletes` (a JSON array), "path TYPE" per line, or "error: MSG". */
static char *whiteouts(const char *deletes, const char *const *layer)
{
	char *text = dk_xasprintf(ONE_LAYER("{\"source\":\"x\",\"delete\":%s}"), deletes);
	struct strbuf sb = STRBUF_INIT;
	struct dk_entries l;
	struct dk_spec s;
	struct dk_err err;

	CHECK(dk_spec_parse(text, "/p/d.json", &s, &err) == 0);
	dk_entries_init(&l);
	for (; *layer; layer++)
		add(&l, *layer + 2, (*layer)[0] == 'd' ? DK_ENT_DIR : (*layer)[0] == 'l' ? DK_ENT_SYMLINK : DK_ENT_FILE,
		    (*layer)[0] == 'l' ? "elsewhere" : NULL);
	CHECK(dk_entries_finish(&l, &err) == 0);
	if (dk_delete_whiteouts(&s.stages[0].layers[0], &l, &err) < 0)
		sb_addf(&sb, "error: %s", err.msg);
	else
		for (size_t i = 0; i < l.n; i++)
			sb_addf(&sb, "%s %c\n", l.v[i].path, l.v[i].type == DK_ENT_WHITEOUT ? 'w' : 'e');
	dk_entries_release(&l);
	dk_spec_free(&s);
	free(text);
	return sb_detach(&sb);
}

#define LAYER(...) (const char *const[]){ __VA_ARGS__, NULL }

/* An error only needs to start as `want` says. */
static void check_whiteouts(char *got, const char *want)
{
	if (!strncmp(want, "error: ", 7) && !strncmp(got, want, strlen(want)))
		CHECK(1);
	else
		CHECK_STR(got, want);
	free(got);
}

static void test_whiteouts(void)
{
	/* nothing of the layer there: ".wh.NAME" beside it, and no parent directory entries */
	check_whiteouts(whiteouts("[\"/etc/app.conf\",\"/top\"]", LAYER("d srv", "f srv/x")),
			".wh.top w\netc/.wh.app.conf w\nsrv e\nsrv/x e\n");
	/* the layer makes it a directory, or puts something below it: an opaque whiteout inside */
	check_whiteouts(whiteouts("[\"/etc/app\"]", LAYER("d etc", "d etc/app", "f etc/app/-early", "f etc/app/new")),
			"etc e\netc/app e\netc/app/-early e\netc/app/.wh..wh..opq w\netc/app/new e\n");
	check_whiteouts(whiteouts("[\"/etc/app\"]", LAYER("f etc/app/new")),
			"etc/app/.wh..wh..opq w\netc/app/new e\n");
	/* the layer makes it a file or a symlink: its own entry replaces what is below */
	check_whiteouts(whiteouts("[\"/etc/app\",\"/etc/l\"]", LAYER("f etc/app", "l etc/l")), "etc/app e\netc/l e\n");
	/* "etc-x" and "etc.d" sort between "etc" and "etc/...": they are not below it */
	check_whiteouts(whiteouts("[\"/etc\"]", LAYER("f etc-x", "f etc.d")), ".wh.etc w\netc-x e\netc.d e\n");
	/* a whiteout below a symlink or a file of the same layer would be unpacked through it */
	check_whiteouts(whiteouts("[\"/etc/x\"]", LAYER("l etc")), "error: entry \"etc/.wh.x\" lies below \"etc\", a symlink");
	check_whiteouts(whiteouts("[\"/etc/x/y\"]", LAYER("f etc/x")),
			"error: entry \"etc/x/.wh.y\" lies below \"etc/x\", which the same layer makes a regular file");
}

/* Lay a layer of "T path[ -> link]" records (T: d, f, l, h) over the tree, through its map. */
static void apply(struct dk_symview *t, const char *const *recs)
{
	static const char letters[] = { [DK_ENT_FILE] = 'f', [DK_ENT_DIR] = 'd', [DK_ENT_SYMLINK] = 'l',
					 [DK_ENT_HARDLINK] = 'h' };
	struct dk_layer_map m;

	dk_layer_map_init(&m);
	for (; *recs; recs++) {
		const char *p = *recs + 2, *arrow = strstr(p, " -> ");
		char *path = dk_xstrndup(p, arrow ? (size_t)(arrow - p) : strlen(p));
		enum dk_etype type = DK_ENT_FILE;

		for (size_t i = 0; i < sizeof(letters); i++)
			if (letters[i] == (*recs)[0])
				type = (enum dk_etype)i;
		dk_layer_map_add(&m, path, type, arrow ? arrow + 4 : NULL);
		free(path);
	}
	dk_layer_map_finish(&m);
	dk_symview_apply(t, &m);
	dk_layer_map_release(&m);
}

/* "path=1" for each path the tree has, "path=0" for one it has not */
static char *has(const struct dk_symview *t, const char *const *paths)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *paths; paths++) {
		const char *target;
		char *link;
		int there = dk_symview_has(t, *paths, &link, &target);

		sb_addf(&sb, "%s%s=%d", sb.len ? " " : "", *paths, there);
		free(link);
	}
	return sb_detach(&sb);
}

#define PATHS(...) (const char *const[]){ __VA_ARGS__, NULL }

static void test_below_tree(void)
{
	struct dk_symview *t = dk_symview_new();
	const char *target = NULL;
	char *got, *link;

	apply(t, PATHS("d etc", "f etc/a", "d etc/sub", "f etc/sub/x", "f etc-x", "f etc.d/y", "l bin -> usr/bin",
		       "f usr/bin/sh", "f opt/deep/file", "f tmp/.wh.stale", "h usr/bin/ash -> usr/bin/sh"));
	CHECK_STR(got = has(t, PATHS("etc", "etc/a", "etc/sub", "bin", "usr", "opt", "opt/deep", "nope", "et", "etc/s",
				    "usr/bin/ash", "", "etc/a/below-a-file")),
		  "etc=1 etc/a=1 etc/sub=1 bin=1 usr=1 opt=1 opt/deep=1 nope=0 et=0 etc/s=0 usr/bin/ash=1 =1 "
		  "etc/a/below-a-file=0");
	free(got);
	/* a whiteout in the lowest layer deletes nothing and is no path */
	CHECK_STR(got = has(t, PATHS("tmp/.wh.stale", "tmp/stale")), "tmp/.wh.stale=0 tmp/stale=0");
	free(got);
	/* the symlink in the way is named, not followed; below a file there is none to name */
	CHECK(dk_symview_has(t, "bin/sh", &link, &target) == 0);
	CHECK_STR(link, "bin");
	CHECK_STR(target, "usr/bin");
	free(link);
	CHECK(dk_symview_has(t, "bin/x/y", &link, &target) == 0);
	CHECK_STR(link, "bin");
	free(link);
	CHECK(dk_symview_has(t, "etc/a/b", &link, &target) == 0 && link == NULL);

	/* whiteouts delete from below, opaque ones empty a directory, a file replaces a directory */
	apply(t, PATHS("f etc/.wh.a", "f etc/sub/.wh..wh..opq", "f etc/sub/y", "f opt/deep", "f new"));
	CHECK_STR(got = has(t, PATHS("etc/a", "etc/sub", "etc/sub/x", "etc/sub/y", "opt/deep", "opt/deep/file", "new")),
		  "etc/a=0 etc/sub=1 etc/sub/x=0 etc/sub/y=1 opt/deep=1 opt/deep/file=0 new=1");
	free(got);
	/* deleting "etc" leaves "etc-x" and "etc.d", whose names start alike */
	apply(t, PATHS("f .wh.etc"));
	CHECK_STR(got = has(t, PATHS("etc", "etc/sub", "etc/sub/y", "etc-x", "etc.d/y", "etc.d")),
		  "etc=0 etc/sub=0 etc/sub/y=0 etc-x=1 etc.d/y=1 etc.d=1");
	free(got);
	/* a whiteout applies to the layers below only: the same layer's path stays */
	apply(t, PATHS("f .wh.new", "d new", "f new/x"));
	CHECK_STR(got = has(t, PATHS("new", "new/x")), "new=1 new/x=1");
	free(got);
	/* a directory replaces a symlink: what is below it is the directory's */
	apply(t, PATHS("d bin", "f bin/own"));
	CHECK_STR(got = has(t, PATHS("bin/own", "bin/sh")), "bin/own=1 bin/sh=0");
	free(got);
	/* an opaque whiteout at the root hides every path below */
	apply(t, PATHS("f .wh..wh..opq", "f only"));
	CHECK_STR(got = has(t, PATHS("only", "usr/bin/sh", "bin", "new")), "only=1 usr/bin/sh=0 bin=0 new=0");
	free(got);
	dk_symview_free(t);
}

/* dk_delete_check: a path must be in the tree below, the symlink in the way named. */
static void test_check(void)
{
	struct dk_symview *t = dk_symview_new();
	struct dk_spec s;
	struct dk_err err;

	apply(t, PATHS("l bin -> usr/bin", "f usr/bin/sh", "f opt/implied/file"));
	CHECK(dk_spec_parse(ONE_LAYER("{\"delete\":[\"/usr/bin/sh\",\"/opt/implied\"]},{\"delete\":[\"/bin/sh\"]},"
				      "{\"delete\":[\"/usr/bin/sh\",\"/nope\"]}"), "/p/d.json", &s, &err) == 0);
	CHECK(dk_delete_check(&s.stages[0].layers[0], t, &err) == 0);
	CHECK(dk_delete_check(&s.stages[0].layers[1], t, &err) < 0);
	CHECK(err.code == DK_E_NOTFOUND);
	CHECK(strstr(err.msg, "delete[0]: \"/bin/sh\": no layer below") && strstr(err.msg, "\"/bin\" is a symlink to \"usr/bin\""));
	CHECK(dk_delete_check(&s.stages[0].layers[2], t, &err) < 0);
	CHECK(strstr(err.msg, "delete[1]: \"/nope\": no layer below") != NULL);
	dk_spec_free(&s);
	dk_symview_free(t);
}

int main(void)
{
	RUN(test_spec);
	RUN(test_plan);
	RUN(test_whiteouts);
	RUN(test_below_tree);
	RUN(test_check);
	return tap_done();
}
