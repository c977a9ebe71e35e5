/* SPDX-License-Identifier: ISC */
/*
 * tunnel_reconnect.c - after a lost session: tear it down, wait out the
 * backoff (supervise.h), and let a worker thread open the next transport
 * while the loop goes on.
 *
 * The dead session's transport goes to the next worker to be freed there,
 * since freeing an external ssh may wait for it to exit.  The listeners
 * and the rules stay; what they accept meanwhile waits in the outage
 * queue (tunnel_accept.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "notify.h"
#include "tunnel_int.h"

/* A small PRNG for the backoff's jitter (xorshift32, seeded per process). */
static uint32_t
tunnel_reconnect_random(struct tunnel *t)
{
	uint32_t	x = t->rnd;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return t->rnd = x;
}

static void
tunnel_reconnect_in(struct tunnel *t, uint64_t ms)
{
	t->retry.when = ev_now() + ms;
	tunnel_timer_add(&t->loop, &t->retry);
}

/* The session died (s->lost): reconnect, or end the tunnel. */
void
tunnel_reconnect_teardown(struct tunnel *t)
{
	struct session	*s = t->s;
	enum tunnel_end	 why = s->why;
	uint64_t	 lasted = s->ready ? ev_now() - s->up_at : 0, ms;
	bool		 was_up = s->ready, netchange = s->netchange;
	char		 reason[sizeof(s->reason)];

	snprintf(reason, sizeof(reason), "%s", s->reason);
	if (t->dead_tr != NULL)
		t->dead_tr->ops->free(t->dead_tr);
	t->dead_tr = tunnel_session_free(t);
	/* Never up (the first session before HELLO), or asked not to. */
	if (!t->ever_up || !t->reconnect || why == TUNNEL_END_SETUP) {
		log_error("%s", reason);
		tunnel_end(t, why);
		return;
	}
	if (was_up)
		supervise_backoff_session_end(&t->backoff, lasted);
	/* A network change is the cause, not a struggling server: the new
	 * path is worth a try at once; the backoff counts from the next
	 * failure. */
	ms = netchange ? 0 : supervise_backoff_next(&t->backoff, tunnel_reconnect_random(t));
	snprintf(t->lost_reason, sizeof(t->lost_reason), "%s", reason);
	if (netchange)
		log_warn("session lost: %s; reconnecting now", reason);
	else if (t->tries == 0)
		log_warn("session lost: %s; reconnecting in %.1f s", reason, (double)ms / 1000);
	else
		log_warn("session lost again (attempt %u): %s; reconnecting in %.1f s",
		    t->tries, reason, (double)ms / 1000);
	notify_send("STATUS=reconnecting (attempt %u): %s", t->tries + 1, reason);
	tunnel_reconnect_in(t, ms);
}

static void
tunnel_reconnect_start(struct tunnel *t)
{
	struct supervise_job	job;

	if (t->ended || t->s != NULL || supervise_running(&t->su))
		return;
	memset(&job, 0, sizeof(job));
	job.check_exempt = !t->exempt_tried;
	if (t->p->hooks.prepare != NULL)
		t->p->hooks.prepare(t->p->hooks.arg, &job);
	job.old = t->dead_tr;
	if (!t->exempt_tried)
		t->tries++;
	log_debug("connecting to %s (attempt %u)", t->p->remote, t->tries);
	if (supervise_start(&t->su, t->p->hooks.connect, t->p->hooks.arg, &job) != 0) {
		log_error("cannot reconnect: cannot start a thread: %s", strerror(errno));
		tunnel_end(t, TUNNEL_END_SETUP);
		return;
	}
	t->dead_tr = NULL;	/* the worker frees it */
}

void
tunnel_reconnect_now(struct tunnel *t)
{
	if (t->retry.when == 0)
		return;
	t->retry.when = 0;
	ev_timer_del(&t->loop, &t->retry);
	tunnel_reconnect_start(t);
}

void
tunnel_reconnect_retry_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	tunnel_reconnect_start(tm->arg);
}

void
tunnel_reconnect_worker_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct tunnel		*t = io->arg;
	struct supervise_result	 r;
	char			 err[256];
	uint64_t		 ms;

	if (supervise_collect(&t->su, &r) != 0)
		return;
	if (t->ended) {
		if (r.transport != NULL)
			r.transport->ops->free(r.transport);
		return;
	}
	if (r.transport != NULL) {
		t->exempt_tried = false;
		t->attempt_err[0] = '\0';
		if (tunnel_session_start(t, r.transport) != 0)
			tunnel_end(t, TUNNEL_END_SETUP);
		return;
	}
	if (r.exempt_changed && !t->exempt_tried) {
		/* Keep the SSH connection out of the tunnel, then go again at
		 * once: this was no failed attempt. */
		if (t->p->hooks.exempt(t->p->hooks.arg, r.exempt, r.nexempt, err,
		    sizeof(err)) == 0) {
			log_debug("the SSH server's addresses changed: exemptions updated");
			t->exempt_tried = true;
			tunnel_reconnect_start(t);
			return;
		}
		snprintf(r.err, sizeof(r.err), "%s", err);
		r.fail = TRANSPORT_F_CONNECT;
	}
	t->exempt_tried = false;
	snprintf(t->attempt_err, sizeof(t->attempt_err), "%.*s",
	    (int)sizeof(t->attempt_err) - 1, r.err);
	if (!transport_fail_retryable(r.fail)) {
		log_error("cannot reconnect: %s", r.err);
		tunnel_end(t, r.fail == TRANSPORT_F_AUTH || r.fail == TRANSPORT_F_HOSTKEY ?
		    TUNNEL_END_REFUSED : TUNNEL_END_REMOTE);
		return;
	}
	ms = supervise_backoff_next(&t->backoff, tunnel_reconnect_random(t));
	log_warn("reconnect attempt %u failed: %s; reconnecting in %.1f s", t->tries, r.err,
	    (double)ms / 1000);
	notify_send("STATUS=reconnecting (attempt %u): %s", t->tries + 1, r.err);
	tunnel_reconnect_in(t, ms);
}
