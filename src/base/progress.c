/*
 * progress.c - live lines for the blobs in flight.  See progress.h.
 *
 * The live block is redrawn from its top: move the cursor up over the
 * lines drawn last time, print a finished line if there is one (it scrolls
 * up and stays), then one line per active blob, each cleared to the end.
 * Everything goes to stderr under one lock, so threads never interleave.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "derrick/progress.h"

#define SLOTS 64

struct slot {
	int used;
	char digest[80];
	uint64_t size, done;
	struct timespec start;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[SLOTS];
static int live;
static int drawn;               /* live lines on the screen now */
static struct timespec last;

void dk_progress_init(int l)
{
	live = l;
}

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* Redraw the live block, with `finished` (or NULL) printed above it. Under the lock. */
static void redraw(const char *finished)
{
	if (live && drawn)
		fprintf(stderr, "\033[%dA", drawn);
	if (finished)
		fprintf(stderr, live ? "%s\033[K\n" : "%s\n", finished);
	drawn = 0;
	for (int i = 0; live && i < SLOTS; i++) {
		double secs = since(&slots[i].start);

		if (!slots[i].used)
			continue;
		fprintf(stderr, "  %-19.19s %8.1f / %.1f MB  %6.1f MB/s\033[K\n", slots[i].digest,
			slots[i].done / 1e6, slots[i].size / 1e6, secs > 0 ? slots[i].done / 1e6 / secs : 0.0);
		drawn++;
	}
	if (live)
		fprintf(stderr, "\033[J");
	fflush(stderr);
	clock_gettime(CLOCK_MONOTONIC, &last);
}

int dk_progress_start(const char *digest, uint64_t size)
{
	int s = -1;

	pthread_mutex_lock(&lock);
	for (int i = 0; i < SLOTS && s < 0; i++)
		if (!slots[i].used)
			s = i;
	if (s >= 0) {
		slots[s].used = 1;
		snprintf(slots[s].digest, sizeof(slots[s].digest), "%s", digest);
		slots[s].size = size;
		slots[s].done = 0;
		clock_gettime(CLOCK_MONOTONIC, &slots[s].start);
		if (live)
			redraw(NULL);
	}
	pthread_mutex_unlock(&lock);
	return s;
}

void dk_progress_update(int s, uint64_t done)
{
	if (s < 0 || !live)
		return;
	pthread_mutex_lock(&lock);
	slots[s].done = done;
	/* at most ten redraws a second: a terminal is not a log */
	if (since(&last) >= 0.1)
		redraw(NULL);
	pthread_mutex_unlock(&lock);
}

static void finished_line(char *buf, size_t n, const char *action, const char *digest, uint64_t size,
			  const char *where)
{
	snprintf(buf, n, "%-9s %s %10.1f kB  %s", action, digest, size / 1e3, where);
}

void dk_progress_done(int s, const char *action, const char *where)
{
	char line[512];

	if (s < 0)
		return;
	pthread_mutex_lock(&lock);
	finished_line(line, sizeof(line), action, slots[s].digest, slots[s].size, where);
	slots[s].used = 0;
	redraw(line);
	pthread_mutex_unlock(&lock);
}

void dk_progress_line(const char *action, const char *digest, uint64_t size, const char *where)
{
	char line[512];

	pthread_mutex_lock(&lock);
	finished_line(line, sizeof(line), action, digest, size, where);
	redraw(line);
	pthread_mutex_unlock(&lock);
}
