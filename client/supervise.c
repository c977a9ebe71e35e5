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
sv_backoff_ms(unsigned failures, uint32_t rnd)
{
	uint64_t	base = SV_BACKOFF_FIRST_MS, span;

	while (failures-- > 0 && base < SV_BACKOFF_MAX_MS)
		base *= 2;
	if (base > SV_BACKOFF_MAX_MS)
		base = SV_BACKOFF_MAX_MS;
	/* [base - 20 %, base + 20 %): rnd / 2^32 of the span above the low end. */
	span = base * 2 * SV_JITTER_PCT / 100;
	return base - base * SV_JITTER_PCT / 100 + ((span * rnd) >> 32);
}

void
sv_backoff_session_end(struct sv_backoff *b, uint64_t lasted_ms)
{
	if (lasted_ms > SV_STABLE_MS)
		b->failures = 0;
}

uint64_t
sv_backoff_next(struct sv_backoff *b, uint32_t rnd)
{
	uint64_t	ms = sv_backoff_ms(b->failures, rnd);

	/* Past the cap, counting on only risks an overflow. */
	if (b->failures < 32)
		b->failures++;
	return ms;
}

int
sv_init(struct sv *sv)
{
	memset(sv, 0, sizeof(*sv));
	if ((sv->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	transport_abort_init(&sv->abort);
	return 0;
}

void
sv_destroy(struct sv *sv)
{
	if (sv->evfd < 0)
		return;
	/* A worker still blocked keeps its abort and descriptor: the
	 * process is about to leave anyway. */
	if (!sv_cancel(sv, 0))
		return;
	transport_abort_destroy(&sv->abort);
	close(sv->evfd);
	sv->evfd = -1;
}

static void *
sv_main(void *arg)
{
	struct sv	*sv = arg;
	uint64_t	 one = 1;

	if (sv->job.old != NULL) {
		sv->job.old->ops->free(sv->job.old);
		sv->job.old = NULL;
	}
	if (!transport_abort_fired(&sv->abort))
		sv->fn(sv->arg, &sv->job, &sv->abort, &sv->res);
	else
		sv->res.fail = TRANSPORT_F_CONNECT;
	/* The loop wakes up and joins us. */
	(void)!write(sv->evfd, &one, sizeof(one));
	return NULL;
}

int
sv_start(struct sv *sv, sv_work_fn *fn, void *arg, const struct sv_job *job)
{
	int	r;

	if (sv->running) {
		errno = EBUSY;
		return -1;
	}
	sv->fn = fn;
	sv->arg = arg;
	sv->job = *job;
	memset(&sv->res, 0, sizeof(sv->res));
	sv->res.fail = TRANSPORT_F_CONNECT;
	/* A fresh abort for this worker: the last one may have fired. */
	transport_abort_destroy(&sv->abort);
	transport_abort_init(&sv->abort);
	if ((r = pthread_create(&sv->th, NULL, sv_main, sv)) != 0) {
		errno = r;
		return -1;
	}
	sv->running = true;
	return 0;
}

int
sv_fd(const struct sv *sv)
{
	return sv->evfd;
}

bool
sv_running(const struct sv *sv)
{
	return sv->running;
}

int
sv_collect(struct sv *sv, struct sv_result *r)
{
	uint64_t	n;

	if (!sv->running || read(sv->evfd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return -1;
	(void)pthread_join(sv->th, NULL);
	sv->running = false;
	*r = sv->res;
	return 0;
}

bool
sv_cancel(struct sv *sv, int grace_ms)
{
	struct timespec	ts;
	uint64_t	n;

	if (!sv->running)
		return true;
	transport_abort_fire(&sv->abort);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += grace_ms / 1000;
	ts.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (pthread_timedjoin_np(sv->th, NULL, &ts) != 0) {
		log_debug("the connecting thread did not stop within %d ms", grace_ms);
		return false;
	}
	sv->running = false;
	(void)!read(sv->evfd, &n, sizeof(n));
	if (sv->res.transport != NULL) {
		sv->res.transport->ops->free(sv->res.transport);
		sv->res.transport = NULL;
	}
	return true;
}
