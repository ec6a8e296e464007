/*
 * spec_refused.h - what the unit tests of object-valued layer kinds
 * (test_wheelsrc, test_debsrc) check of a refused spec: DK_E_SPEC, one
 * line, holding the expected text.  Include after tap.h.
 */
#ifndef DERRICK_TEST_SPEC_REFUSED_H
#define DERRICK_TEST_SPEC_REFUSED_H

#include <stdio.h>
#include <string.h>

#include "derrick/spec.h"

/* The message of parsing `text` as /proj/d.json ("" when it parses). */
static const char *parse_error(const char *text)
{
	static struct dk_err err;
	struct dk_spec s;

	memset(&err, 0, sizeof(err));
	if (dk_spec_parse(text, "/proj/d.json", &s, &err) == 0) {
		dk_spec_free(&s);
		return "";
	}
	CHECK(err.code == DK_E_SPEC);
	return err.msg;
}

#define REFUSED(text, want) check_refused(text, want, __LINE__)

static void check_refused(const char *text, const char *want, int line)
{
	const char *msg = parse_error(text);

	if (!strstr(msg, want))
		printf("#   line %d: got \"%s\"\n#     want a message holding \"%s\"\n", line, msg, want);
	CHECK(strstr(msg, want) != NULL);
	CHECK(!strchr(msg, '\n'));
}

#endif
