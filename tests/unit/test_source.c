/*
 * test_source.c - the table of layer sources, seen from the spec, the plan
 * and the build: each row is found by its key, keeps its options to itself,
 * plans its layers and reads them into entries.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "derrick/plan.h"
#include "derrick/sink.h"
#include "derrick/source.h"
#include "derrick/spec.h"
#include "derrick/tarw.h"
#include "derrick/util.h"
#include "derrick/walk.h"
#include "tap.h"

#define ONE_LAYER(layer) "{\"stages\":[{\"name\":\"s\",\"layers\":[" layer "]}]}"

static char root[] = "/tmp/dk-source-XXXXXX";

static void test_rows_are_complete(void)
{
	size_t n = 0;

	for (const struct dk_source_kind *const *k = dk_source_kinds; *k; k++, n++) {
		CHECK((*k)->key && (*k)->noun && (*k)->verb && (*k)->opts && (*k)->plan && (*k)->read);
		for (const struct dk_source_kind *const *j = dk_source_kinds; j != k; j++)
			CHECK(strcmp((*j)->key, (*k)->key) != 0);
	}
	CHECK(n >= 2);
}

/*
 * What a row's key takes in a spec: a path, or (a row without input:
 * "delete") a list of image paths, or (a row of members: "wheels") an
 * object whose first input member names the path.  A new string.
 */
static char *input_json(const struct dk_source_kind *k)
{
	/* the members a row's check wants besides its input (debs: where and what to install) */
	static const char *const more[][2] = {
		{ "debs", ",\"sources\":[{\"url\":\"http://m/debian\",\"suite\":\"bookworm\",\"components\":[\"main\"],"
			  "\"trusted\":true}],\"packages\":[\"jq\"]" },
	};

	if (k->members) {
		const struct dk_source_opt *m = k->members;
		const char *extra = "";

		while (m->key && m->type != DK_OPT_SPEC_INPUT)
			m++;
		CHECK(m->key != NULL);
		for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
			if (!strcmp(more[i][0], k->key))
				extra = more[i][1];
		return dk_xasprintf("{\"%s\":\"in\"%s}", m->key ? m->key : "", extra);
	}
	return dk_xstrdup(k->no_input ? "[\"/in\"]" : "\"in\"");
}

/* The spec picks each row by its key, and lists every row's keys when a key is unknown. */
static void test_spec_picks_the_row(void)
{
	struct dk_spec s;
	struct dk_err err;

	for (const struct dk_source_kind *const *k = dk_source_kinds; *k; k++) {
		char *in = input_json(*k);
		char *text = dk_xasprintf(ONE_LAYER("{\"%s\":%s%s}"), (*k)->key, in,
					  (*k)->no_input || (*k)->members ? "" : ",\"dest\":\"/d\"");

		if (dk_spec_parse(text, "/p/d.json", &s, &err) == 0) {
			CHECK(s.stages[0].layers[0].kind == *k);
			/* a row without input reads no file: the spec's directory stands in */
			CHECK_STR(s.stages[0].layers[0].input, (*k)->no_input ? "/p" : "/p/in");
			CHECK_STR(s.stages[0].layers[0].origin, (*k)->no_input ? "/in" : "in");
			dk_spec_free(&s);
		} else {
			/* a row of members that needs more than its input (debs: sources, packages) names the member */
			char *want = dk_xasprintf("stages[0].layers[0].%s.", (*k)->key);

			CHECK((*k)->members && (*k)->check && strstr(err.msg, want));
			free(want);
		}
		free(text);
		free(in);

		CHECK(dk_spec_parse(ONE_LAYER("{\"nope\":1}"), "d.json", &s, &err) < 0);
		CHECK(strstr(err.msg, (*k)->key) != NULL);
		for (const struct dk_source_opt *o = (*k)->opts; o->key; o++)
			CHECK(strstr(err.msg, o->key) != NULL);
	}
}

static int takes(const struct dk_source_kind *k, const char *key)
{
	for (const struct dk_source_opt *o = k->opts; o->key; o++)
		if (!strcmp(o->key, key))
			return 1;
	return 0;
}

/* Option o of kind j, given to kind k, is refused with a message naming j. */
static void check_refused(const struct dk_source_kind *k, const struct dk_source_kind *j,
			  const struct dk_source_opt *o)
{
	char *in = input_json(k);
	char *text = dk_xasprintf(ONE_LAYER("{\"%s\":%s,\"%s\":%s}"), k->key, in, o->key,
				  o->type == DK_OPT_STRINGS ? "[\"x\"]" : "\"x\"");
	char *want = dk_xasprintf("to %s, not to %s", j->noun, k->noun);
	struct dk_spec s;
	struct dk_err err;

	CHECK(dk_spec_parse(text, "d.json", &s, &err) < 0);
	CHECK(strstr(err.msg, want) != NULL);
	free(want);
	free(text);
	free(in);
}

/* A kind's option given to another kind is refused, naming the kind it belongs to. */
static void test_foreign_options_are_refused(void)
{
	size_t tried = 0;

	for (const struct dk_source_kind *const *k = dk_source_kinds; *k; k++)
		for (const struct dk_source_kind *const *j = dk_source_kinds; *j; j++)
			for (const struct dk_source_opt *o = (*j)->opts; o->key; o++)
				if (!takes(*k, o->key)) {
					check_refused(*k, *j, o);
					tried++;
				}
	CHECK(tried > 0);
}

static void put(const char *rel, const char *content)
{
	char *p = dk_path_join(root, rel);
	char *dir = dk_dirname(p);
	struct dk_err err;
	int fd;

	CHECK(dk_mkdir_p(dir, 0700, &err) == 0);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, content, strlen(content)) == (ssize_t)strlen(content));
	close(fd);
	free(dir);
	free(p);
}

/* tree/ as a tar at root/tree.tar, written by the layer writer. */
static void make_tar(void)
{
	char *tree = dk_path_join(root, "tree"), *out = dk_path_join(root, "tree.tar");
	struct dk_tar_opts o = { 0, 0, 0, -1, -1 };
	struct dk_entries l;
	struct dk_walk_stats st;
	struct dk_err err;
	struct dk_sink *s;
	int fd;

	dk_entries_init(&l);
	CHECK(dk_walk(tree, "", NULL, NULL, &l, &st, &err) == 0);
	CHECK(dk_entries_finish(&l, &err) == 0);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	s = dk_sink_fd(fd, out);
	CHECK(dk_tar_write(&l, &o, s, &err) == 0);
	dk_sink_free(s);
	close(fd);
	dk_entries_release(&l);
	free(out);
	free(tree);
}

/* The paths of a planned layer's entries, read through the table: "a b c". */
static char *read_paths(const struct dk_layer_plan *lp)
{
	struct dk_entries l;
	struct dk_err err;
	struct strbuf sb = STRBUF_INIT;
	char *moves = NULL;

	dk_entries_init(&l);
	if (dk_source_read(lp, "d.json", NULL, &l, &moves, &err) < 0)
		sb_addf(&sb, "error: %s", err.msg);
	for (size_t i = 0; i < l.n; i++)
		sb_addf(&sb, "%s%s", i ? " " : "", l.v[i].path);
	dk_entries_release(&l);
	free(moves);
	return sb_detach(&sb);
}

/* The plan lists every layer with its stage and history; each row reads its layer. */
static void test_plan_and_read(void)
{
	static const char *text =
		"{\"stages\":["
		"{\"name\":\"one\",\"layers\":[{\"source\":\"tree\",\"dest\":\"/app\",\"exclude\":[\"*.log\"]}]},"
		"{\"name\":\"two\",\"layers\":[{\"source\":\"tree/a.txt\",\"dest\":\"/etc/\"},"
		"                             {\"tar\":\"tree.tar\",\"dest\":\"/opt\"}]}]}";
	char *spec_path = dk_path_join(root, "d.json");
	struct dk_plan_opts o;
	struct dk_spec s;
	struct dk_plan p;
	struct dk_err err;
	char *got;

	put("tree/a.txt", "a");
	put("tree/a.log", "log");
	put("tree/sub/b.txt", "b");
	make_tar();
	memset(&o, 0, sizeof(o));
	CHECK(dk_spec_parse(text, spec_path, &s, &err) == 0);
	CHECK(dk_plan_make(&s, &o, &p, &err) == 0);
	CHECK(p.layers.n == 3);
	if (p.layers.n == 3) {
		CHECK_STR(p.layers.v[0].stage, "one");
		CHECK_STR(p.layers.v[0].history, "COPY tree /app");
		CHECK_STR(p.layers.v[1].stage, "two");
		CHECK_STR(p.layers.v[1].history, "COPY tree/a.txt /etc");
		CHECK_STR(p.layers.v[2].history, "ADD tree.tar /opt");
		CHECK(strcmp(p.layers.v[2].input, s.stages[1].layers[1].input) == 0);
		CHECK_STR(got = read_paths(&p.layers.v[0]), "app app/a.txt app/sub app/sub/b.txt");
		free(got);
		CHECK_STR(got = read_paths(&p.layers.v[1]), "etc etc/a.txt");
		free(got);
		CHECK_STR(got = read_paths(&p.layers.v[2]), "opt opt/a.log opt/a.txt opt/sub opt/sub/b.txt");
		free(got);
	}
	dk_plan_free(&p);
	dk_spec_free(&s);
	free(spec_path);
}

int main(void)
{
	if (!mkdtemp(root))
		return 1;
	RUN(test_rows_are_complete);
	RUN(test_spec_picks_the_row);
	RUN(test_foreign_options_are_refused);
	RUN(test_plan_and_read);
	dk_rm_rf(root);
	return tap_done();
}
