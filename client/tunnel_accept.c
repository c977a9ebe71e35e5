/* SPDX-License-Identifier: ISC */
/*
 * tunnel_accept.c - the redirect listeners and the outage queue.
 *
 * The listeners stay quiet until the first session's rules are in place,
 * then accept for the whole run.  What they accept goes into a stream of
 * the live session, or, while there is none, waits in the outage queue
 * (outage.h) until a session works again or its time runs out.  When
 * descriptors run out, accepting pauses for a moment instead of spinning
 * on a connection that stays in the backlog.  A connection that the
 * rules did not redirect is reset at once (listen.h).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "sysdep.h"
#include "tunnel_int.h"

#define TUNNEL_ACCEPT_BATCH	64
#define TUNNEL_EMFILE_PAUSE_MS	200

static void
tunnel_accept_outage_arm(struct tunnel *t)
{
	t->outage_tm.when = outage_next_deadline(&t->oq);
	if (t->outage_tm.when != 0)
		tunnel_timer_add(&t->loop, &t->outage_tm);
}

void
tunnel_accept_outage_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	struct tunnel		*t = tm->arg;
	struct outage_conn	 c;
	unsigned		 n = 0;

	while (outage_pop_expired(&t->oq, ev_now(), &c)) {
		outage_reset(c.fd);
		n++;
	}
	if (n > 0)
		log_warn("%u connection%s reset: no session for %d s", n, n == 1 ? "" : "s",
		    (int)(t->oq.wait_ms / 1000));
	tunnel_accept_outage_arm(t);
}

/* Accepted while there is no working session: wait, or reset when full. */
static void
tunnel_accept_outage_add(struct tunnel *t, int fd, const struct addr *dst)
{
	if (outage_push(&t->oq, fd, dst, ev_now()) != 0) {
		outage_reset(fd);
		if (!t->oq_full_logged)
			log_warn("%d connections wait for the session already: resetting "
			    "new ones until it is back", OUTAGE_MAX_CONNS);
		t->oq_full_logged = true;
		return;
	}
	if (outage_len(&t->oq) == 1)
		tunnel_accept_outage_arm(t);
}

/* The session works: everything that waited goes through it. */
void
tunnel_accept_outage_drain(struct tunnel *t)
{
	struct outage_conn	c;
	unsigned		n = 0;

	while (outage_pop(&t->oq, &c)) {
		(void)mux_stream_open(t->s->mux, c.fd, &c.dst);
		n++;
	}
	ev_timer_del(&t->loop, &t->outage_tm);
	t->oq_full_logged = false;
	if (n > 0)
		log_info("%u connection%s that waited for the session opened", n,
		    n == 1 ? "" : "s");
}

void
tunnel_accept_on(struct tunnel *t)
{
	int	i;

	for (i = 0; i < t->p->listen->n; i++)
		(void)ev_io_set(&t->loop, &t->lio[i], EV_READ);
}

void
tunnel_accept_pause_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	tunnel_accept_on(tm->arg);
}

void
tunnel_accept_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct tunnel		*t = io->arg;
	struct addr		 dst;
	struct mux_stats	 st;
	int			 i, k, fd;
	bool			 live = t->s != NULL && t->s->ready && !t->s->lost;

	for (i = 0; i < TUNNEL_ACCEPT_BATCH; i++) {
		fd = sysdep_accept(io->fd);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Leave the connection in the backlog and stop
				 * accepting for a moment instead of spinning. */
				st.nstreams = 0;
				if (live)
					mux_stats(t->s->mux, &st);
				log_warn("cannot accept: %s (%zu streams open); pausing",
				    strerror(errno), st.nstreams);
				for (k = 0; k < t->p->listen->n; k++)
					(void)ev_io_set(loop, &t->lio[k], 0);
				t->accept_pause.when = ev_now() + TUNNEL_EMFILE_PAUSE_MS;
				tunnel_timer_add(loop, &t->accept_pause);
			}
			return;
		}
		/* Only what the rules redirected: a connection to the
		 * listener itself has nowhere to go but back here. */
		if (listen_accepted(fd, &dst, &t->refused_log, false) != 0) {
			t->refused++;
			outage_reset(fd);
			continue;
		}
		/* TCP_NODELAY comes from the listener (listen.c). */
		if (log_enabled(LOG_LVL_DEBUG)) {
			char a[ADDR_STRLEN];
			log_debug("%s %s", live ? "stream" : "waiting:",
			    addr_format(&dst, true, a, sizeof(a)));
		}
		if (live)
			(void)mux_stream_open(t->s->mux, fd, &dst);
		else
			tunnel_accept_outage_add(t, fd, &dst);
	}
}
