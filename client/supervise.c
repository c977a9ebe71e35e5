/* SPDX-License-Identifier: ISC */
/*
 * supervise.c - backoff and the reconnect worker (supervise.h).
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "supervise.h"

uint64_t
supervise_backoff_ms(unsigned failures, uint32_t rnd)
{
	uint64_t	base = SUPERVISE_BACKOFF_FIRST_MS, span;

	while (failures-- > 0 && base < SUPERVISE_BACKOFF_MAX_MS)
		base *= 2;
	if (base > SUPERVISE_BACKOFF_MAX_MS)
		base = SUPERVISE_BACKOFF_MAX_MS;
	/* [base - 20 %, base + 20 %): rnd / 2^32 of the span above the low end. */
	span = base * 2 * SUPERVISE_JITTER_PCT / 100;
	return base - base * SUPERVISE_JITTER_PCT / 100 + ((span * rnd) >> 32);
}

void
supervise_backoff_session_end(struct supervise_backoff *b, uint64_t lasted_ms)
{
	if (lasted_ms > SUPERVISE_STABLE_MS)
		b->failures = 0;
}

uint64_t
supervise_backoff_next(struct supervise_backoff *b, uint32_t rnd)
{
	uint64_t	ms = supervise_backoff_ms(b->failures, rnd);

	/* Past the cap, counting on only risks an overflow. */
	if (b->failures < 32)
		b->failures++;
	return ms;
}

int
supervise_init(struct supervise *su)
{
	memset(su, 0, sizeof(*su));
	if ((su->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	transport_abort_init(&su->abort);
	return 0;
}

void
supervise_destroy(struct supervise *su)
{
	if (su->evfd < 0)
		return;
	/* A worker still blocked keeps its abort and descriptor: the
	 * process is about to leave anyway. */
	if (!supervise_cancel(su, 0))
		return;
	transport_abort_destroy(&su->abort);
	close(su->evfd);
	su->evfd = -1;
}

static void *
supervise_main(void *arg)
{
	struct supervise	*su = arg;
	uint64_t	 one = 1;

	if (su->job.old != NULL) {
		su->job.old->ops->free(su->job.old);
		su->job.old = NULL;
	}
	if (!transport_abort_fired(&su->abort))
		su->fn(su->arg, &su->job, &su->abort, &su->res);
	else
		su->res.fail = TRANSPORT_F_CONNECT;
	/* The loop wakes up and joins us. */
	(void)!write(su->evfd, &one, sizeof(one));
	return NULL;
}

int
supervise_start(struct supervise *su, supervise_work_fn *fn, void *arg,
    const struct supervise_job *job)
{
	int	r;

	if (su->running) {
		errno = EBUSY;
		return -1;
	}
	su->fn = fn;
	su->arg = arg;
	su->job = *job;
	memset(&su->res, 0, sizeof(su->res));
	su->res.fail = TRANSPORT_F_CONNECT;
	/* A fresh abort for this worker: the last one may have fired. */
	transport_abort_destroy(&su->abort);
	transport_abort_init(&su->abort);
	if ((r = pthread_create(&su->th, NULL, supervise_main, su)) != 0) {
		errno = r;
		return -1;
	}
	su->running = true;
	return 0;
}

int
supervise_fd(const struct supervise *su)
{
	return su->evfd;
}

bool
supervise_running(const struct supervise *su)
{
	return su->running;
}

int
supervise_collect(struct supervise *su, struct supervise_result *r)
{
	uint64_t	n;

	if (!su->running || read(su->evfd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return -1;
	(void)pthread_join(su->th, NULL);
	su->running = false;
	*r = su->res;
	return 0;
}

bool
supervise_cancel(struct supervise *su, int grace_ms)
{
	struct timespec	ts;
	uint64_t	n;

	if (!su->running)
		return true;
	transport_abort_fire(&su->abort);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += grace_ms / 1000;
	ts.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (pthread_timedjoin_np(su->th, NULL, &ts) != 0) {
		log_debug("the connecting thread did not stop within %d ms", grace_ms);
		return false;
	}
	su->running = false;
	(void)!read(su->evfd, &n, sizeof(n));
	if (su->res.transport != NULL) {
		su->res.transport->ops->free(su->res.transport);
		su->res.transport = NULL;
	}
	return true;
}
