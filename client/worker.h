/* SPDX-License-Identifier: ISC */
/*
 * worker.h - one blocking job at a time, off the event loop.
 *
 * Opening a transport (supervise.c) and reading the options again on
 * SIGHUP (reload.c) may block for seconds; the loop must not.  A worker
 * runs the job in a thread of its own and, when the job returns, makes
 * its wake descriptor readable (sysdep.h); the loop watches that descriptor and then joins
 * the thread with worker_collect().  Jobs must be cancellable by their
 * own means (an abort descriptor, a flag they check): worker_join()
 * only waits a bounded time for one that was told to stop.
 */
#ifndef CSHUTTLE_WORKER_H
#define CSHUTTLE_WORKER_H

#include <pthread.h>
#include <stdbool.h>

#include "sysdep.h"

struct worker {
	pthread_t	 th;
	bool		 running;	/* started, not joined yet */
	struct sysdep_wake wake;	/* readable when the job has returned */
	void		(*fn)(void *arg);
	void		*arg;
};

/* 0, or -1 with errno (no wake descriptor). */
int	worker_init(struct worker *w);
/* Closes the wake descriptor; the worker must not be running. */
void	worker_destroy(struct worker *w);
/* Run fn(arg) in a new thread.  0, or -1 with errno (EBUSY: one runs). */
int	worker_start(struct worker *w, void (*fn)(void *), void *arg);
int	worker_fd(const struct worker *w);
bool	worker_running(const struct worker *w);
/* After worker_fd() became readable: join.  0, or -1 when no job had
 * returned. */
int	worker_collect(struct worker *w);
/*
 * The caller has told the job to stop: wait at most grace_ms for it to
 * return and join it.  true when it did (or none ran); false when it is
 * still blocked (the process must then leave with _exit(): the job may
 * be inside a library that exit handlers tear down).
 */
bool	worker_join(struct worker *w, int grace_ms);

#endif
