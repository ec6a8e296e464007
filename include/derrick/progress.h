/*
 * progress.h - what a push shows while it runs.
 *
 * On a terminal, one live line per blob being transferred (digest, bytes,
 * rate), redrawn in place at most ten times a second, and a permanent line
 * when a blob is done; elsewhere (CI logs) only the permanent lines.  Safe
 * to call from the parallel transfer threads.
 */
#ifndef DERRICK_PROGRESS_H
#define DERRICK_PROGRESS_H

#include <stdint.h>

/* live: draw live lines (a terminal); else only finished lines. */
void dk_progress_init(int live);
/* A blob starts moving; returns its slot for the calls below. */
int dk_progress_start(const char *digest, uint64_t size);
void dk_progress_update(int slot, uint64_t done);
/* The blob is done: "uploaded", "existed", "mounted"; `where` names the destination. */
void dk_progress_done(int slot, const char *action, const char *where);
/* A blob that needed no transfer (existed, mounted): just the finished line. */
void dk_progress_line(const char *action, const char *digest, uint64_t size, const char *where);

#endif
