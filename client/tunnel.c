/* SPDX-License-Identifier: ISC */
/*
 * tunnel.c - the client's event loop, which outlives the sessions that
 * carry it.
 *
 * One epoll loop carries everything: the redirect listeners, every
 * accepted connection (owned by the mux), the transport to the stub, the
 * signals (signalfd), the firewall helper's socketpair, the reconnect
 * worker's eventfd, the reload's eventfd, rtnetlink's notifications
 * (tunnel_netwatch.c) and the timers.  The session is
 * served in the before-sleep hook (tunnel_session.c: write, then read
 * after every write, docs/ARCHITECTURE.md "Transports").
 *
 * A dead session is torn down at the start of the next loop pass, in the
 * before-sleep hook, never inside a callback of the pass that found it
 * (the mux's descriptors must stay valid until the pass ends): its
 * streams are reset, the DNS queries it carried fail at once, and its
 * transport goes to the next worker to be freed there (freeing may wait
 * for ssh to exit; tunnel_reconnect.c, docs/ARCHITECTURE.md "Sessions and
 * reconnecting").  The listeners and the rules stay; what they accept
 * meanwhile waits in the outage queue (tunnel_accept.c).
 *
 * tunnel_int.h lists the other files of the tunnel and what each offers.
 */

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "fw.h"
#include "log.h"
#include "notify.h"
#include "tunnel_int.h"

#define TUNNEL_STATUS_MS	10000	/* STATUS= refresh while streams change */
#define TUNNEL_CANCEL_GRACE_MS	5000	/* for a worker to give up at shutdown:
						 * covers freeing an old ssh (1 s + 2 s) */

/* Each timer has its slot (EV_MAX_TIMERS): running out is a bug. */
void
tunnel_timer_add(struct ev_loop *loop, struct ev_timer *tm)
{
	if (ev_timer_add(loop, tm) != 0)
		fatal("event loop: no slot for another timer");
}

void
tunnel_end(struct tunnel *t, enum tunnel_end why)
{
	if (t->ended)
		return;
	t->ended = true;
	t->end = why;
	ev_stop(&t->loop);
}

void
tunnel_status(struct tunnel *t)
{
	struct mux_stats	st;
	size_t			n = 0;

	if (t->s != NULL && t->s->mux != NULL) {
		mux_stats(t->s->mux, &st);
		n = st.nstreams;
	}

	t->status_streams = n;
	notify_send("STATUS=connected to %s, %zu stream%s, %llu reconnect%s", t->p->remote,
	    n, n == 1 ? "" : "s", (unsigned long long)t->reconnects,
	    t->reconnects == 1 ? "" : "s");
}

static void
tunnel_before_sleep(struct ev_loop *loop, void *arg)
{
	struct tunnel	*t = arg;

	if (t->s != NULL && !t->s->lost)
		tunnel_session_service(t);
	/* Here, between passes, nothing of this pass's events still points
	 * into the session. */
	if (t->s != NULL && t->s->lost && !t->ended)
		tunnel_reconnect_teardown(t);
	dns_local_tick(t->dns);
	control_collect(t->p->control);
}

static void
tunnel_signal_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct tunnel	*t = io->arg;
	int		 signo;

	while ((signo = sigq_next(&t->sigq)) > 0) {
		if (signo == SIGINT || signo == SIGTERM) {
			log_info("%s: shutting down", strsignal(signo));
			tunnel_end(t, TUNNEL_END_SIGNAL);
		} else if (signo == SIGHUP) {
			/* Before the first session is up the rules are not in
			 * place yet: a reload must not install them early. */
			if (!t->ever_up)
				t->hup_pending = true;
			else if (t->p->hooks.reload != NULL)
				t->p->hooks.reload(t->p->hooks.arg, t);
		}
	}
}

/* The reload's thread is done (its eventfd, reload.h). */
static void
tunnel_reload_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct tunnel	*t = io->arg;

	t->p->hooks.reload_done(t->p->hooks.arg, t);
}

static void
tunnel_fw_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct tunnel	*t = io->arg;

	log_error("the firewall helper exited: redirect rules are gone");
	ev_io_del(loop, io);
	tunnel_end(t, TUNNEL_END_FIREWALL);
}

static void
tunnel_watchdog_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	int	ms = notify_watchdog_ms();

	/* The loop runs: that is what the watchdog asks about, not the
	 * session (a reconnecting tunnel is healthy). */
	notify_send("WATCHDOG=1");
	if (ms > 0) {
		tm->when = ev_now() + (uint64_t)ms;
		tunnel_timer_add(loop, tm);
	}
}

static void
tunnel_status_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	struct tunnel		*t = tm->arg;
	struct mux_stats	 st;

	if (t->s != NULL && t->s->ready && !t->s->lost) {
		mux_stats(t->s->mux, &st);
		if (st.nstreams != t->status_streams)
			tunnel_status(t);
		/*
		 * A tick without traffic after some: hand back the heap a
		 * burst left (libssh2 takes a buffer per packet, and a window's
		 * worth of small blocks stays resident until trimmed).
		 */
		if (st.bytes_in + st.bytes_out != t->trim_bytes)
			t->trim_due = true;
		else if (t->trim_due) {
			(void)malloc_trim(0);
			t->trim_due = false;
		}
		t->trim_bytes = st.bytes_in + st.bytes_out;
	}
	tm->when = ev_now() + TUNNEL_STATUS_MS;
	tunnel_timer_add(loop, tm);
}

static void
tunnel_timer_init(struct ev_timer *tm, void (*cb)(struct ev_loop *, struct ev_timer *),
    struct tunnel *t)
{
	tm->when = 0;
	tm->cb = cb;
	tm->arg = t;
}

void
tunnel_set_dns(struct tunnel *t, struct dns_local *dns)
{
	char				 err[256];

	const struct dns_local_stats	*ds;

	if (dns == t->dns)
		return;
	/* Its counters stay in the status's totals. */
	if (t->dns != NULL) {
		ds = dns_local_stats(t->dns);
		t->dns_queries_done += ds->queries_udp + ds->queries_tcp;
		t->dns_failures_done += ds->servfail;
	}
	/* The old module's queries are forgotten; the answers that still
	 * come for them are dropped as unknown (or fail a check). */
	dns_local_stop(t->dns);
	t->ndns_ids = 0;
	t->dns = dns;
	if (dns != NULL && t->ever_up &&
	    dns_local_start(dns, &t->loop, tunnel_dns_send, t, err, sizeof(err)) != 0)
		log_error("%s", err);
}

void
tunnel_set_udp_timeout(struct tunnel *t, unsigned timeout_s)
{
	if (t->udp != NULL)
		udp_set_timeout(t->udp, timeout_s ? timeout_s : UDP_DEFAULT_TIMEOUT_S);
}

void
tunnel_set_alive(struct tunnel *t, int interval_ms, int timeout_ms)
{
	if (interval_ms > 0)
		t->alive_interval_ms = interval_ms;
	if (timeout_ms > 0)
		t->alive_timeout_ms = timeout_ms;
}

void
tunnel_set_probe_timeout(struct tunnel *t, int timeout_ms)
{
	t->probe_timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

void
tunnel_set_resume_grace(struct tunnel *t, unsigned grace_s)
{
	t->resume_grace_s = grace_s;
	/* The stub of the session in place waits as long from now on. */
	if (grace_s > 0 && t->s != NULL && t->s->ready && !t->s->lost &&
	    mux_feature(t->s->mux, PROTO_FEAT_RESUME))
		(void)mux_send_resume_setup(t->s->mux, grace_s);
}

void
tunnel_set_reconnect(struct tunnel *t, bool on)
{
	t->reconnect = on;
}

uint32_t
tunnel_features(const struct tunnel *t)
{
	return t->features;
}

bool
tunnel_ever_up(const struct tunnel *t)
{
	return t->ever_up;
}

void
tunnel_stats(const struct tunnel *t, struct tunnel_stats *st)
{
	const struct dns_local_stats	*ds;
	struct mux_stats		 ms;

	memset(st, 0, sizeof(*st));
	st->streams_opened = t->done.streams_opened;
	st->streams_failed = t->done.streams_failed;
	st->bytes_in = t->done.bytes_in;
	st->bytes_out = t->done.bytes_out;
	if (t->s != NULL && t->s->mux != NULL) {
		mux_stats(t->s->mux, &ms);
		st->streams_opened += ms.streams_opened;
		st->streams_failed += ms.streams_failed;
		st->bytes_in += ms.bytes_in;
		st->bytes_out += ms.bytes_out;
		st->streams = ms.nstreams;
	}
	st->waiting = outage_len(&t->oq);
	st->dns_queries = t->dns_queries_done;
	st->dns_failures = t->dns_failures_done;
	if (t->dns != NULL) {
		ds = dns_local_stats(t->dns);
		st->dns_queries += ds->queries_udp + ds->queries_tcp;
		st->dns_failures += ds->servfail;
	}
	st->reconnects = t->reconnects;
}

enum tunnel_end
tunnel_run(const struct tunnel_params *p, bool *stuck)
{
	struct tunnel		*t;
	struct outage_conn	 c;
	sigset_t		 mask;
	enum tunnel_end		 end;
	int			 wd, r, i;

	*stuck = false;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		log_error("out of memory");
		p->transport->ops->free(p->transport);
		return TUNNEL_END_SETUP;
	}
	t->p = p;
	t->started = ev_now();
	t->dns = p->dns;
	t->alive_interval_ms = p->alive_interval_ms > 0 ? p->alive_interval_ms : 5000;
	t->alive_timeout_ms = p->alive_timeout_ms > 0 ? p->alive_timeout_ms : 15000;
	t->reconnect = p->reconnect;
	t->probe_timeout_ms = p->probe_timeout_ms > 0 ? p->probe_timeout_ms : 0;
	t->resume_grace_s = p->resume_grace_s;
	t->rnd = (uint32_t)ev_now() ^ ((uint32_t)getpid() << 16) ^ 0x9e3779b9U;
	if (t->rnd == 0)
		t->rnd = 1;
	outage_init(&t->oq, 0, 0);
	for (i = 0; i < LISTEN_MAX; i++)
		t->lio[i].fd = -1;
	t->fio.fd = t->sio.fd = t->wio.fd = t->rio.fd = t->nwio.fd = -1;
	tunnel_timer_init(&t->alive, tunnel_session_alive_cb, t);
	tunnel_timer_init(&t->kept_tm, tunnel_resume_kept_cb, t);
	tunnel_timer_init(&t->accept_pause, tunnel_accept_pause_cb, t);
	tunnel_timer_init(&t->outage_tm, tunnel_accept_outage_cb, t);
	tunnel_timer_init(&t->retry, tunnel_reconnect_retry_cb, t);
	tunnel_timer_init(&t->watchdog, tunnel_watchdog_cb, t);
	tunnel_timer_init(&t->status, tunnel_status_cb, t);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (ev_init(&t->loop) != 0) {
		log_error("cannot initialise the event loop: %s", strerror(errno));
		p->transport->ops->free(p->transport);
		free(t);
		return TUNNEL_END_SETUP;
	}
	/*
	 * Blocked only now, so that children started during set-up (ssh,
	 * sudo) did not inherit a blocked mask; and before the worker thread
	 * exists, which inherits the mask and so leaves every signal to the
	 * signalfd here.
	 */
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	if (supervise_init(&t->su) != 0) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		p->transport->ops->free(p->transport);
		t->end = TUNNEL_END_SETUP;
		goto out;
	}
	t->su_ok = true;
	if ((r = sigq_open(&t->sigq, &mask, NULL)) != 0) {
		errno = -r;
		log_error("cannot set up the event loop: signals: %s", strerror(errno));
		p->transport->ops->free(p->transport);
		t->end = TUNNEL_END_SETUP;
		goto out;
	}
	t->sigq_ok = true;
	if (ev_io_add(&t->loop, &t->sio, t->sigq.fd, EV_READ, tunnel_signal_cb, t) != 0 ||
	    ev_io_add(&t->loop, &t->wio, supervise_fd(&t->su), EV_READ, tunnel_reconnect_worker_cb, t) != 0 ||
	    (p->hooks.reload_done != NULL &&
	    ev_io_add(&t->loop, &t->rio, p->reload_fd, EV_READ, tunnel_reload_cb, t) != 0) ||
	    (p->fw != NULL && fw_fd(p->fw) >= 0 &&
	    ev_io_add(&t->loop, &t->fio, fw_fd(p->fw), EV_READ, tunnel_fw_cb, t) != 0)) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		p->transport->ops->free(p->transport);
		t->end = TUNNEL_END_SETUP;
		goto out;
	}
	/* Listeners stay quiet (mask 0) until the rules are in place. */
	for (i = 0; i < p->listen->n; i++) {
		if (ev_io_add(&t->loop, &t->lio[i], p->listen->fd[i], 0,
		    tunnel_accept_cb, t) != 0) {
			log_error("cannot set up the event loop: %s", strerror(errno));
			p->transport->ops->free(p->transport);
			t->end = TUNNEL_END_SETUP;
			goto out;
		}
	}
	if ((wd = notify_watchdog_ms()) > 0) {
		t->watchdog.when = ev_now() + (uint64_t)wd;
		tunnel_timer_add(&t->loop, &t->watchdog);
	}
	t->status.when = ev_now() + TUNNEL_STATUS_MS;
	tunnel_timer_add(&t->loop, &t->status);
	/* `cshuttle status` sees the tunnel from its first session on. */
	if (p->control != NULL && control_start(p->control, &t->loop, tunnel_control_fill,
	    tunnel_control_bytes, t) != 0) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		p->transport->ops->free(p->transport);
		t->end = TUNNEL_END_SETUP;
		goto out;
	}
	if (p->nudp > 0) {
		struct udp_params	up = { p->udp_timeout_s, p->max_udp_flows };
		char			err[256];

		if ((t->udp = udp_new(&t->loop, p->udp_fd, p->nudp, p->fw, &up, err,
		    sizeof(err))) == NULL) {
			log_error("%s", err);
			p->transport->ops->free(p->transport);
			t->end = TUNNEL_END_SETUP;
			goto out;
		}
	}
	tunnel_netwatch_start(t);
	t->loop.before_sleep = tunnel_before_sleep;
	t->loop.hook_arg = t;

	if (tunnel_session_start(t, p->transport) != 0) {
		t->end = TUNNEL_END_SETUP;
		goto out;
	}
	/* It fails only for a bad epoll descriptor or event buffer. */
	if ((r = ev_run(&t->loop)) < 0)
		fatal("event loop: %s", strerror(-r));
out:
	end = t->end;
	if (t->refused > 0)
		log_debug("%llu connection%s to the listener itself refused",
		    (unsigned long long)t->refused, t->refused == 1 ? "" : "s");
	/* A worker may be blocked in a connect: make it give up. */
	if (t->su_ok && !supervise_cancel(&t->su, TUNNEL_CANCEL_GRACE_MS))
		t->stuck = true;
	if (t->s != NULL) {
		struct transport *tr;

		/* On purpose: the stub need not wait for us. */
		t->ended = true;
		tunnel_session_bye(t);
		if ((tr = tunnel_session_free(t)) != NULL)
			tr->ops->free(tr);
	}
	tunnel_resume_drop(t, NULL);
	if (t->dead_tr != NULL)
		t->dead_tr->ops->free(t->dead_tr);
	while (outage_pop(&t->oq, &c))
		outage_reset(c.fd);
	/* Out of the loop before it goes; main closes the listeners and
	 * the control socket. */
	dns_local_stop(t->dns);
	udp_free(t->udp);
	t->udp = NULL;
	tunnel_netwatch_stop(t);
	control_stop(p->control);
	if (t->sigq_ok)
		sigq_close(&t->sigq);
	if (t->su_ok && !t->stuck)
		supervise_destroy(&t->su);
	/* The signals stay blocked: one more SIGTERM during the clean-up
	 * must not cut it short (the exit code would say "killed"). */
	ev_close(&t->loop);
	*stuck = t->stuck;
	if (!t->stuck)
		free(t);
	return end;
}
