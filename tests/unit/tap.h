/*
 * tap.h - the smallest test harness that does the job.
 *
 * Each test is a plain function; tap_run() runs it and prints one TAP line
 * ("ok N - name" or "not ok N - name").  CHECK() records a failed condition
 * with its file and line and lets the test go on, so one run shows every
 * broken expectation.  tests/run counts the TAP lines of every program.
 */
#ifndef DERRICK_TAP_H
#define DERRICK_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count, tap_failures, tap_case_failed;

static inline void tap_check(int ok, const char *what, const char *file, int line)
{
	if (!ok) {
		fprintf(stdout, "#   failed: %s (%s:%d)\n", what, file, line);
		tap_case_failed = 1;
	}
}

static inline void tap_check_str(const char *got, const char *want, const char *what,
				 const char *file, int line)
{
	if (!got || !want || strcmp(got, want) != 0) {
		fprintf(stdout, "#   failed: %s (%s:%d)\n#     got:  %s%s%s\n#     want: %s%s%s\n",
			what, file, line, got ? "\"" : "", got ? got : "NULL", got ? "\"" : "",
			want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
		tap_case_failed = 1;
	}
}

#define CHECK(cond) tap_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_STR(got, want) tap_check_str((got), (want), #got, __FILE__, __LINE__)

static inline void tap_run(const char *name, void (*fn)(void))
{
	tap_case_failed = 0;
	fn();
	tap_count++;
	if (tap_case_failed)
		tap_failures++;
	printf("%s %d - %s\n", tap_case_failed ? "not ok" : "ok", tap_count, name);
	fflush(stdout);
}

#define RUN(fn) tap_run(#fn, fn)

/* The exit status of a test program: non-zero when any case failed. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failures ? 1 : 0;
}

#endif
