/*
 * log.h - the one piece of global state: how much to say on stderr.
 */
#ifndef DERRICK_LOG_H
#define DERRICK_LOG_H

enum dk_log_level {
	DK_LOG_QUIET = 0,   /* errors only (the CLI prints those) */
	DK_LOG_NORMAL = 1,  /* warnings and progress */
	DK_LOG_VERBOSE = 2, /* -v: what is being done, step by step */
};

void dk_log_set_level(enum dk_log_level level);
enum dk_log_level dk_log_get_level(void);

void dk_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dk_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dk_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
