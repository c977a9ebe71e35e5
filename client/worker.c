/* SPDX-License-Identifier: ISC */
/*
 * worker.c - a job in a thread, reporting through a wake descriptor
 * (worker.h; sysdep.h: an eventfd on Linux, a pipe elsewhere).
 */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "sysdep.h"
#include "worker.h"

int
worker_init(struct worker *w)
{
	memset(w, 0, sizeof(*w));
	return sysdep_wake_open(&w->wake);
}

void
worker_destroy(struct worker *w)
{
	sysdep_wake_close(&w->wake);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	w->fn(w->arg);
	/* The loop wakes up and joins us. */
	sysdep_wake_post(&w->wake);
	return NULL;
}

int
worker_start(struct worker *w, void (*fn)(void *), void *arg)
{
	sigset_t	all, old;
	int		r;

	if (w->running) {
		errno = EBUSY;
		return -1;
	}
	w->fn = fn;
	w->arg = arg;
	/* The thread starts with every signal blocked, whatever this one
	 * has unblocked (sigq's self-pipe): signals are the loop's. */
	sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->th, NULL, worker_main, w);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		errno = r;
		return -1;
	}
	w->running = true;
	return 0;
}

int
worker_fd(const struct worker *w)
{
	return w->wake.rfd;
}

bool
worker_running(const struct worker *w)
{
	return w->running;
}

int
worker_collect(struct worker *w)
{
	if (!w->running || !sysdep_wake_clear(&w->wake))
		return -1;
	(void)pthread_join(w->th, NULL);
	w->running = false;
	return 0;
}

bool
worker_join(struct worker *w, int grace_ms)
{
	struct pollfd	pfd;
	int64_t		deadline = (int64_t)clock_ms() + grace_ms;
	int		left, r;

	if (!w->running)
		return true;
	/* The job posts the wake descriptor as its last act: once it is
	 * readable the join is immediate.  (Waiting on it rather than with
	 * pthread_timedjoin_np(), which macOS lacks.) */
	pfd.fd = w->wake.rfd;
	pfd.events = POLLIN;
	for (;;) {
		left = clock_remaining_ms(deadline);
		if ((r = poll(&pfd, 1, left)) == 1)
			break;
		if (r == 0 || (r == -1 && errno != EINTR) || left == 0)
			return false;
	}
	(void)pthread_join(w->th, NULL);
	w->running = false;
	(void)sysdep_wake_clear(&w->wake);
	return true;
}
