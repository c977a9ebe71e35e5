/* SPDX-License-Identifier: ISC */
/*
 * supervise.c - backoff and the reconnect worker (supervise.h).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	if (worker_init(&su->w) != 0)
		return -1;
	transport_abort_init(&su->abort);
	return 0;
}

void
supervise_destroy(struct supervise *su)
{
	if (worker_fd(&su->w) < 0)
		return;
	/* A worker still blocked keeps its abort and descriptor: the
	 * process is about to leave anyway. */
	if (!supervise_cancel(su, 0))
		return;
	transport_abort_destroy(&su->abort);
	worker_destroy(&su->w);
}

static void
supervise_main(void *arg)
{
	struct supervise	*su = arg;

	if (su->job.old != NULL) {
		su->job.old->ops->free(su->job.old);
		su->job.old = NULL;
	}
	if (!transport_abort_fired(&su->abort))
		su->fn(su->arg, &su->job, &su->abort, &su->res);
	else
		su->res.fail = TRANSPORT_F_CONNECT;
}

int
supervise_start(struct supervise *su, supervise_work_fn *fn, void *arg,
    const struct supervise_job *job)
{
	if (worker_running(&su->w)) {
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
	return worker_start(&su->w, supervise_main, su);
}

int
supervise_fd(const struct supervise *su)
{
	return worker_fd(&su->w);
}

bool
supervise_running(const struct supervise *su)
{
	return worker_running(&su->w);
}

int
supervise_collect(struct supervise *su, struct supervise_result *r)
{
	if (worker_collect(&su->w) != 0)
		return -1;
	*r = su->res;
	return 0;
}

bool
supervise_cancel(struct supervise *su, int grace_ms)
{
	if (!worker_running(&su->w))
		return true;
	transport_abort_fire(&su->abort);
	if (!worker_join(&su->w, grace_ms)) {
		log_debug("the connecting thread did not stop within %d ms", grace_ms);
		return false;
	}
	if (su->res.transport != NULL) {
		su->res.transport->ops->free(su->res.transport);
		su->res.transport = NULL;
	}
	return true;
}
