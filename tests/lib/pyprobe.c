/*
 * pyprobe.c - a test program (built by `make check`, not installed, not a
 * derrick command) that shows what src/python/ computes, so that
 * tests/lib/py_oracle.py can put it next to python3-packaging's answers.
 *
 *   pyprobe tags PYTHON LIBC PLATFORM   the ordered tag list, one per line
 *   pyprobe rank PYTHON LIBC PLATFORM   stdin: wheel file names; "RANK NAME" (-1: none)
 *   pyprobe version                     stdin: versions; the normalised form or "invalid"
 *   pyprobe spec                        stdin: "SPECIFIERS<TAB>VERSION"; true, false or error
 *   pyprobe wheel                       stdin: file names; "name version build tags" or "invalid"
 *   pyprobe marker ENV.json             stdin: markers; true, false or "error: ..."
 *
 * ENV.json is a JSON object of marker variables (a missing one is unknown).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "derrick/pymarkers.h"
#include "derrick/pytags.h"
#include "derrick/pyversion.h"
#include "derrick/util.h"

static int target(char **argv, struct dk_pytarget *t)
{
	struct dk_platform plat;
	struct dk_err err;

	if (dk_platform_parse(argv[2], &plat, &err) < 0 || dk_pytarget_init(t, argv[0], argv[1], &plat, &err) < 0) {
		fprintf(stderr, "pyprobe: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* Each line of stdin without its line feed; NULL at the end.  The buffer is reused. */
static char *next_line(char **buf, size_t *cap)
{
	ssize_t n = getline(buf, cap, stdin);

	if (n < 0)
		return NULL;
	if (n > 0 && (*buf)[n - 1] == '\n')
		(*buf)[n - 1] = 0;
	return *buf;
}

static void print_wheel(const char *line)
{
	struct dk_wheelname w;
	struct dk_err err;
	char *tags;

	if (dk_wheelname_parse(line, &w, &err) < 0) {
		printf("invalid\n");
		return;
	}
	tags = dk_wheelname_tags(&w);
	printf("%s %s %s%s%s %s\n", w.name, w.version.text, w.has_build ? w.build_num : "()",
	       w.has_build ? "," : "", w.has_build ? w.build_rest : "", tags);
	free(tags);
	dk_wheelname_free(&w);
}

int main(int argc, char **argv)
{
	char *buf = NULL, *line;
	size_t cap = 0;
	struct dk_err err;

	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "tags") || !strcmp(argv[1], "rank")) {
		struct dk_pytarget t;
		struct dk_pytags tags;

		if (argc != 5 || target(argv + 2, &t) < 0)
			return 2;
		dk_pytags_build(&t, &tags);
		if (!strcmp(argv[1], "tags"))
			for (size_t i = 0; i < tags.n; i++)
				printf("%s\n", tags.tags[i]);
		while (!strcmp(argv[1], "rank") && (line = next_line(&buf, &cap))) {
			struct dk_wheelname w;

			if (dk_wheelname_parse(line, &w, &err) < 0) {
				printf("error %s\n", err.msg);
				continue;
			}
			printf("%ld %s\n", dk_wheelname_rank(&tags, &w), line);
			dk_wheelname_free(&w);
		}
		dk_pytags_free(&tags);
	} else if (!strcmp(argv[1], "version")) {
		while ((line = next_line(&buf, &cap))) {
			struct dk_pyver v;

			if (dk_pyver_parse(line, &v, &err) < 0) {
				printf("invalid\n");
				continue;
			}
			printf("%s\n", v.text);
			dk_pyver_free(&v);
		}
	} else if (!strcmp(argv[1], "spec")) {
		while ((line = next_line(&buf, &cap))) {
			char *tab = strchr(line, '\t');
			int res;

			if (!tab)
				return 2;
			*tab = 0;
			if (dk_pyspecset_check(line, tab + 1, &res, &err) < 0)
				printf("error\n");
			else
				printf("%s\n", res ? "true" : "false");
		}
	} else if (!strcmp(argv[1], "wheel")) {
		while ((line = next_line(&buf, &cap)))
			print_wheel(line);
	} else if (!strcmp(argv[1], "marker") && argc == 3) {
		json_error_t jerr;
		json_t *root = json_load_file(argv[2], 0, &jerr), *v;
		struct dk_pyenv env;
		const char *key;

		if (!json_is_object(root))
			return 2;
		memset(&env, 0, sizeof(env));
		json_object_foreach(root, key, v) {
			int var = dk_pyvar_find(key);

			if (var >= 0 && json_is_string(v))
				env.value[var] = json_string_value(v);
		}
		while ((line = next_line(&buf, &cap))) {
			struct dk_pymarker *m;
			int res;

			if (dk_pymarker_parse(line, &m, &err) < 0) {
				printf("invalid: %s\n", err.msg);
				continue;
			}
			if (dk_pymarker_eval(m, &env, &res, &err) < 0)
				printf("error: %s\n", err.msg);
			else
				printf("%s\n", res ? "true" : "false");
			dk_pymarker_free(m);
		}
		json_decref(root);
	} else {
		return 2;
	}
	free(buf);
	return 0;
}
