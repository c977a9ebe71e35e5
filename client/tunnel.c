/* SPDX-License-Identifier: ISC */
/*
 * tunnel.c - the client's data path, and the sessions that carry it.
 *
 * One epoll loop carries everything: the redirect listeners, every
 * accepted connection (owned by the mux), the transport to the stub, the
 * signals (signalfd), the firewall helper's pipe, the reconnect worker's
 * eventfd and the timers.  The transport is pumped in the before-sleep
 * hook: write what the mux queued, then read until the transport has
 * nothing more.  Reading after every write matters for libssh2, whose
 * writes pull inbound packets into its own queues where epoll cannot see
 * them (NOTES: "re-read channels after every call").
 *
 * A session is one transport and one mux.  It is declared dead when
 * nothing at all came from the stub for --alive-timeout (PINGs after
 * --alive-interval of silence keep an idle session talking), when the
 * transport has had data to send without any progress for as long (a
 * wedged libssh2, NOTES §2.5), or when the transport fails.  A dead
 * session is torn down at the start of the next loop pass, never inside
 * a callback of the pass that found it (the mux's descriptors must stay
 * valid until the pass ends): its streams are reset, the DNS queries it
 * carried fail at once, and its transport goes to the next worker to be
 * freed there (freeing may wait for ssh to exit).  The listeners and the
 * rules stay; what they accept meanwhile waits in the outage queue.
 */
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns_local.h"
#include "fw.h"
#include "log.h"
#include "mux.h"
#include "notify.h"
#include "outage.h"
#include "supervise.h"
#include "transport.h"
#include "tunnel.h"

#define TUNNEL_ACCEPT_BATCH	64
#define TUNNEL_READ_BUDGET	(4U * 1024 * 1024)	/* per pass, for fairness */
#define TUNNEL_SERVICE_MS	100	/* transport housekeeping at most this often */
#define TUNNEL_EMFILE_PAUSE_MS	200
#define TUNNEL_STATUS_MS	10000	/* STATUS= refresh while streams change */
#define TUNNEL_CANCEL_GRACE_MS	5000	/* for a worker to give up at shutdown:
						 * covers freeing an old ssh (1 s + 2 s) */
#define TUNNEL_DNS_TRACK	DNS_LOCAL_MAX_PENDING

struct session {
	struct transport	*tr;
	struct mux		*mux;
	struct ev_io		 tio;
	bool			 ready;		/* HELLO seen, streams may open */
	bool			 lost;		/* dead: torn down next pass */
	enum tunnel_end		 why;		/* if it ends the tunnel */
	char			 reason[300];
	uint64_t		 started, up_at;
	uint64_t		 last_input;	/* anything at all from the stub */
	uint64_t		 last_ping;
	uint64_t		 last_wprogress;	/* last write, or nothing to write */
	uint64_t		 last_service;	/* transport housekeeping */
	uint64_t		 ping_seq;
	/* libssh2 requires a write that returned EAGAIN to be repeated
	 * with the same pointer and length: keep that chunk here, apart
	 * from the link queue, which may move when it grows. */
	uint8_t			 pend[TRANSPORT_MAX_WRITE];
	size_t			 pend_off, pend_len;
};

struct tunnel {
	const struct tunnel_params *p;
	struct ev_loop		 loop;
	struct ev_io		 lio4, lio6, sio, fio, wio, rio;
	struct ev_timer		 alive, accept_pause, outage_tm, retry, watchdog, status;
	int			 sigfd;
	bool			 ended;
	enum tunnel_end		 end;
	bool			 ever_up, hup_pending;
	/* what a reload may change */
	struct dns_local	*dns;
	int			 alive_interval_ms, alive_timeout_ms;
	bool			 reconnect;
	/* the current session, NULL between sessions */
	struct session		*s;
	uint32_t		 features;	/* of the last stub that said HELLO */
	/* reconnecting */
	struct supervise	 su;
	bool			 su_ok;
	struct supervise_backoff	 backoff;
	unsigned		 tries;		/* attempts in this outage */
	bool			 exempt_tried;	/* exemptions just changed: no second time */
	char			 lost_reason[300];
	struct transport	*dead_tr;	/* for the next worker to free */
	uint64_t		 reconnects;
	bool			 stuck;
	/* connections waiting for a session */
	struct outage		 oq;
	bool			 oq_full_logged;
	/* DNS queries sent through the current session, failed at once if it
	 * dies (they would otherwise wait for dns_local's timeout) */
	uint32_t		 dns_ids[TUNNEL_DNS_TRACK];
	size_t			 ndns_ids;
	size_t			 status_streams;
	uint32_t		 rnd;
};

/* Each timer has its slot (EV_MAX_TIMERS): running out is a bug. */
static void
tunnel_timer_add(struct ev_loop *loop, struct ev_timer *tm)
{
	if (ev_timer_add(loop, tm) != 0)
		fatal("event loop: no slot for another timer");
}

static int	tunnel_write(struct tunnel *);
static void	tunnel_connect_start(struct tunnel *);

/* A small PRNG for the backoff's jitter (xorshift32, seeded per process). */
static uint32_t
tunnel_random(struct tunnel *t)
{
	uint32_t	x = t->rnd;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return t->rnd = x;
}

static void
tunnel_end(struct tunnel *t, enum tunnel_end why)
{
	if (t->ended)
		return;
	t->ended = true;
	t->end = why;
	ev_stop(&t->loop);
}

static void
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

/*
 * The session is dead: remember why (the first reason wins) and leave the
 * teardown to the next pass.  `why` is what ends the tunnel when the
 * session is not replaced.
 */
static void __attribute__((format(printf, 3, 4)))
tunnel_lost(struct tunnel *t, enum tunnel_end why, const char *fmt, ...)
{
	struct session	*s = t->s;
	va_list		 ap;

	if (s == NULL || s->lost)
		return;
	s->lost = true;
	s->why = why;
	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
}

/* ---- DNS ---- */

static void
tunnel_dns_track(struct tunnel *t, uint32_t id)
{
	/* Full: that query just waits for dns_local's own timeout. */
	if (t->ndns_ids < TUNNEL_DNS_TRACK)
		t->dns_ids[t->ndns_ids++] = id;
}

static void
tunnel_dns_untrack(struct tunnel *t, uint32_t id)
{
	size_t	i;

	for (i = 0; i < t->ndns_ids; i++) {
		if (t->dns_ids[i] == id) {
			t->dns_ids[i] = t->dns_ids[--t->ndns_ids];
			return;
		}
	}
}

/* The session that carried them is gone: SERVFAIL now, not in 10 s. */
static void
tunnel_dns_fail_all(struct tunnel *t)
{
	size_t	i, n = t->ndns_ids;

	t->ndns_ids = 0;
	if (t->dns == NULL)
		return;
	for (i = 0; i < n; i++)
		dns_local_fail(t->dns, t->dns_ids[i], DNS_LOCAL_FAIL_UNREACHABLE);
}

/* dns_local's way into the tunnel: refused (SERVFAIL at once) without a
 * working session. */
static int
tunnel_dns_send(void *arg, uint32_t id, const uint8_t *q, size_t len)
{
	struct tunnel	*t = arg;

	if (t->s == NULL || !t->s->ready || t->s->lost)
		return -1;
	if (mux_send_dns(t->s->mux, PROTO_DNS_QUERY, id, q, len) != 0)
		return -1;
	tunnel_dns_track(t, id);
	return 0;
}

/* DNS_ANSWER / DNS_FAIL from the stub, checked by the mux. */
static void
tunnel_dns(struct mux *m, const struct proto_frame *f, void *arg)
{
	struct tunnel	*t = mux_udata(m);

	if (t->dns == NULL) {
		/* We never asked (or no longer capture): nothing to answer. */
		log_debug("unexpected %s %u dropped", proto_type_name(f->type), f->stream);
		return;
	}
	tunnel_dns_untrack(t, f->stream);
	if (f->type == PROTO_DNS_ANSWER)
		/* A bad one (empty) fails the check there: SERVFAIL. */
		dns_local_answer(t->dns, f->stream, f->payload, f->bad ? 0 : f->len);
	else if (f->type == PROTO_DNS_FAIL)
		dns_local_fail(t->dns, f->stream, f->bad ? 0 : f->u.dns_fail);
}

/* ---- the outage queue ---- */

static void
tunnel_outage_arm(struct tunnel *t)
{
	t->outage_tm.when = outage_next_deadline(&t->oq);
	if (t->outage_tm.when != 0)
		tunnel_timer_add(&t->loop, &t->outage_tm);
}

static void
tunnel_outage_cb(struct ev_loop *loop, struct ev_timer *tm)
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
	tunnel_outage_arm(t);
}

/* Accepted while there is no working session: wait, or reset when full. */
static void
tunnel_outage_add(struct tunnel *t, int fd, const struct addr *dst)
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
		tunnel_outage_arm(t);
}

/* The session works: everything that waited goes through it. */
static void
tunnel_outage_drain(struct tunnel *t)
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

/* ---- the session ---- */

static void
tunnel_listen_on(struct tunnel *t)
{
	if (t->p->listen->fd4 >= 0)
		(void)ev_io_set(&t->loop, &t->lio4, EV_READ);
	if (t->p->listen->fd6 >= 0)
		(void)ev_io_set(&t->loop, &t->lio6, EV_READ);
}

static void
tunnel_hello(struct mux *m, const struct proto_hello *h)
{
	struct tunnel	*t = mux_udata(m);
	struct session	*s = t->s;
	char		 err[256];
	bool		 first = !t->ever_up;

	log_debug("stub says hello: protocol %u, window %u, features 0x%x",
	    h->version, h->window, h->features);
	s->last_input = ev_now();
	t->features = h->features;
	if (t->dns != NULL) {
		/* Before any rule captures DNS that nobody could answer. */
		if (!mux_feature(m, PROTO_FEAT_DNS)) {
			if (first)
				log_error("the remote stub cannot resolve DNS (an older "
				    "cshuttle): run without --dns and --ns-hosts");
			else
				log_error("cannot reconnect: the remote stub cannot resolve "
				    "DNS (an older cshuttle)");
			tunnel_end(t, TUNNEL_END_SETUP);
			return;
		}
		/* Right after HELLO, before any query. */
		if (t->p->nto_ns > 0 &&
		    mux_send_dns_config(s->mux, t->p->to_ns, t->p->nto_ns) != 0) {
			log_error("cannot send the --to-ns servers to the stub");
			tunnel_end(t, TUNNEL_END_SETUP);
			return;
		}
	}
	if (t->p->hooks.ready != NULL &&
	    t->p->hooks.ready(t->p->hooks.arg, first, err, sizeof(err)) != 0) {
		log_error("%s", err);
		tunnel_end(t, TUNNEL_END_SETUP);
		return;
	}
	if (first && t->dns != NULL &&
	    dns_local_start(t->dns, &t->loop, tunnel_dns_send, t, err, sizeof(err)) != 0) {
		log_error("%s", err);
		tunnel_end(t, TUNNEL_END_SETUP);
		return;
	}
	s->ready = true;
	s->up_at = ev_now();
	if (first) {
		t->ever_up = true;
		tunnel_listen_on(t);
		log_info("connected");
	} else {
		t->reconnects++;
		log_info("reconnected to %s (attempt %u)", t->p->remote, t->tries);
		tunnel_outage_drain(t);
	}
	t->tries = 0;
	t->exempt_tried = false;
	tunnel_status(t);
	if (t->p->hooks.up != NULL)
		t->p->hooks.up(t->p->hooks.arg, first);
	if (first && t->hup_pending) {
		t->hup_pending = false;
		if (t->p->hooks.reload != NULL)
			t->p->hooks.reload(t->p->hooks.arg, t);
	}
}

static void
tunnel_pong(struct mux *m, const uint8_t data[8])
{
	/* tunnel_read() noted the input already. */
}

static const struct mux_ops tunnel_mux_ops = {
	.hello = tunnel_hello,
	.pong = tunnel_pong,
	.dns = tunnel_dns,
};

static void
tunnel_accept_pause_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	tunnel_listen_on(tm->arg);
}

static void
tunnel_accept_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct tunnel		*t = io->arg;
	struct addr		 dst;
	struct mux_stats	 st;
	int			 family = io == &t->lio4 ? AF_INET : AF_INET6;
	int			 i, fd, r, one = 1;
	bool			 live = t->s != NULL && t->s->ready && !t->s->lost;

	for (i = 0; i < TUNNEL_ACCEPT_BATCH; i++) {
		fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
				(void)ev_io_set(loop, &t->lio4, 0);
				(void)ev_io_set(loop, &t->lio6, 0);
				t->accept_pause.when = ev_now() + TUNNEL_EMFILE_PAUSE_MS;
				tunnel_timer_add(loop, &t->accept_pause);
			}
			return;
		}
		if ((r = listen_original_dst(fd, family, &dst)) != 0) {
			/* Not redirected: somebody connected to the
			 * listener directly.  Nothing to forward to. */
			log_debug("connection without an original destination (%s); closed",
			    strerror(-r));
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (log_enabled(LOG_LVL_DEBUG)) {
			char a[ADDR_STRLEN];
			log_debug("%s %s", live ? "stream" : "waiting:",
			    addr_format(&dst, true, a, sizeof(a)));
		}
		if (live)
			(void)mux_stream_open(t->s->mux, fd, &dst);
		else
			tunnel_outage_add(t, fd, &dst);
	}
}

/* The session broke: say why, tell the stub (best effort), and end it. */
static void
tunnel_protocol_error(struct tunnel *t)
{
	struct session	*s = t->s;

	mux_send_error(s->mux, mux_error(s->mux));
	(void)tunnel_write(t);
	tunnel_lost(t, TUNNEL_END_PROTOCOL, "%s", mux_error(s->mux));
}

/* Move queued frames into the transport.  -1 when the transport failed. */
static int
tunnel_write(struct tunnel *t)
{
	struct session		*s = t->s;
	struct transport	*tr = s->tr;
	const uint8_t		*lo;
	size_t			 lolen;
	ssize_t			 n;

	for (;;) {
		if (s->pend_off == s->pend_len) {
			lo = mux_link_data(s->mux, &lolen);
			if (lolen == 0) {
				/* Nothing waits: the stall clock starts anew. */
				s->last_wprogress = ev_now();
				break;
			}
			s->pend_len = lolen < sizeof(s->pend) ? lolen : sizeof(s->pend);
			memcpy(s->pend, lo, s->pend_len);
			mux_link_consume(s->mux, s->pend_len);
			s->pend_off = 0;
		}
		n = transport_write(tr, s->pend + s->pend_off, s->pend_len - s->pend_off);
		if (n == TRANSPORT_AGAIN)
			break;
		if (n < 0) {
			tunnel_lost(t, TUNNEL_END_REMOTE, "connection to the server failed: %s",
			    transport_error(tr));
			return -1;
		}
		s->pend_off += (size_t)n;
		s->last_wprogress = ev_now();
	}
	return 0;
}

/*
 * Feed the mux from the transport.  -1 when the session is over, 1 when
 * it stopped before the transport ran dry (budget used up, or the mux
 * cannot take more now), 0 when the transport has nothing more.
 */
static int
tunnel_read(struct tunnel *t)
{
	struct session		*s = t->s;
	struct transport	*tr = s->tr;
	uint8_t			*p;
	size_t			 room, total = 0;
	ssize_t			 n;

	for (;;) {
		if (!mux_in_ready(s->mux) || total >= TUNNEL_READ_BUDGET)
			return 1;
		p = mux_in_space(s->mux, &room);
		n = transport_read(tr, p, room);
		if (n == TRANSPORT_AGAIN)
			return 0;
		if (n == 0) {
			tunnel_lost(t, TUNNEL_END_REMOTE, "the server closed the connection%s%s",
			    transport_error(tr)[0] ? ": " : "", transport_error(tr));
			return -1;
		}
		if (n < 0) {
			tunnel_lost(t, TUNNEL_END_REMOTE, "connection to the server failed: %s",
			    transport_error(tr));
			return -1;
		}
		total += (size_t)n;
		/* Anything from the stub proves the session alive: a PONG may
		 * wait behind megabytes of data on a slow, busy link. */
		s->last_input = ev_now();
		if (mux_in_commit(s->mux, (size_t)n) != 0) {
			tunnel_protocol_error(t);
			return -1;
		}
		/* A HELLO that ended the tunnel (tunnel_hello). */
		if (t->ended || s->lost)
			return -1;
	}
}

static void
tunnel_pump(struct tunnel *t)
{
	struct session		*s = t->s;
	struct transport	*tr = s->tr;
	struct mux_stats	 st;
	uint32_t		 ev;
	int			 i, r = 0;
	bool			 progress = true;

	/* Writes can surface inbound data inside libssh2 and reads queue
	 * replies: alternate until neither makes progress (bounded). */
	for (i = 0; i < 4 && progress && !t->ended && !s->lost; i++) {
		size_t before = mux_link_len(s->mux) + (s->pend_len - s->pend_off);
		uint64_t fin;

		mux_stats(s->mux, &st);
		fin = st.frames_in;
		if (tunnel_write(t) < 0)
			return;
		if ((r = tunnel_read(t)) < 0)
			return;
		mux_stats(s->mux, &st);
		progress = st.frames_in != fin ||
		    mux_link_len(s->mux) + (s->pend_len - s->pend_off) < before;
	}
	if (t->ended || s->lost)
		return;
	/*
	 * Input may be waiting inside the transport (libssh2 drains the
	 * socket into its own queues) where epoll cannot see it: if reading
	 * stopped early, or we gave up while still making progress, come
	 * straight back instead of sleeping until the peer sends again.
	 */
	if ((r == 1 && mux_in_ready(s->mux)) || progress)
		t->loop.nowait = 1;
	if (mux_error(s->mux)[0] != '\0') {
		tunnel_protocol_error(t);
		return;
	}
	ev = tr->ops->events(tr);
	(void)ev_io_set(&t->loop, &s->tio, ev);
}

static void
tunnel_transport_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	/* The pump in the before-sleep hook does the work. */
}

static int
tunnel_tick_ms(const struct tunnel *t)
{
	int	ms = t->alive_interval_ms < t->alive_timeout_ms ? t->alive_interval_ms :
	    t->alive_timeout_ms;

	ms /= 4;
	return ms < 50 ? 50 : ms > 1000 ? 1000 : ms;
}

/* Liveness: PING after silence, dead after alive-timeout without input or
 * without write progress. */
static void
tunnel_alive_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	struct tunnel	*t = tm->arg;
	struct session	*s = t->s;
	uint64_t	 now = ev_now(), quiet;
	uint8_t		 data[8];
	int		 i;

	if (s == NULL || s->lost)
		return;
	quiet = now - s->last_input;
	if (quiet >= (uint64_t)t->alive_timeout_ms) {
		tunnel_lost(t, TUNNEL_END_REMOTE, "the server stopped answering (nothing "
		    "received for %.1f s)", (double)quiet / 1000);
		return;
	}
	if ((mux_link_len(s->mux) > 0 || s->pend_off < s->pend_len) &&
	    now - s->last_wprogress >= (uint64_t)t->alive_timeout_ms) {
		tunnel_lost(t, TUNNEL_END_REMOTE, "the connection to the server is stalled "
		    "(nothing could be sent for %.1f s)",
		    (double)(now - s->last_wprogress) / 1000);
		return;
	}
	/* Not before HELLO: the stub speaks first. */
	if (s->ready && quiet >= (uint64_t)t->alive_interval_ms &&
	    now - s->last_ping >= (uint64_t)t->alive_interval_ms) {
		s->ping_seq++;
		for (i = 0; i < 8; i++)
			data[i] = (uint8_t)(s->ping_seq >> (56 - 8 * i));
		(void)mux_send_ping(s->mux, PROTO_PING, data);
		s->last_ping = now;
	}
	tm->when = now + (uint64_t)tunnel_tick_ms(t);
	tunnel_timer_add(loop, tm);
}

/* Start a session on a transport in data phase.  0, or -1 (the transport
 * is then freed). */
static int
tunnel_session_start(struct tunnel *t, struct transport *tr)
{
	struct session	*s;
	uint32_t	 window = t->p->window ? t->p->window : MUX_DEFAULT_WINDOW;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_error("out of memory");
		tr->ops->free(tr);
		return -1;
	}
	s->tr = tr;
	s->tio.fd = -1;
	if ((s->mux = mux_new(&t->loop, PROTO_ROLE_CLIENT, window, &tunnel_mux_ops,
	    t)) == NULL) {
		log_error("out of memory");
		tr->ops->free(tr);
		free(s);
		return -1;
	}
	if (ev_io_add(&t->loop, &s->tio, tr->ops->fd(tr), EV_READ, tunnel_transport_cb,
	    t) != 0) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		mux_free(s->mux);
		tr->ops->free(tr);
		free(s);
		return -1;
	}
	/* The stub's HELLO must come within the same deadline. */
	s->started = s->last_input = s->last_ping = s->last_wprogress = ev_now();
	t->s = s;
	if (mux_send_hello(s->mux, PROTO_FEAT_KNOWN) != 0) {
		tunnel_lost(t, TUNNEL_END_SETUP, "cannot send HELLO");
		return 0;
	}
	t->alive.when = ev_now() + (uint64_t)tunnel_tick_ms(t);
	tunnel_timer_add(&t->loop, &t->alive);
	return 0;
}

/* Free the session.  Its transport is returned (the caller decides who
 * frees it). */
static struct transport *
tunnel_session_free(struct tunnel *t)
{
	struct session		*s = t->s;
	struct transport	*tr;
	struct mux_stats	 st;

	if (s == NULL)
		return NULL;
	mux_stats(s->mux, &st);
	log_debug("session summary: %llu streams, %llu failed to connect, %llu frames in, "
	    "%llu out",
	    (unsigned long long)st.streams_opened,
	    (unsigned long long)st.streams_failed,
	    (unsigned long long)st.frames_in,
	    (unsigned long long)st.frames_out);
	ev_timer_del(&t->loop, &t->alive);
	ev_io_del(&t->loop, &s->tio);
	/* Every stream of the session is reset: their peers are gone. */
	mux_free(s->mux);
	tunnel_dns_fail_all(t);
	tr = s->tr;
	free(s);
	t->s = NULL;
	return tr;
}

static void
tunnel_retry_in(struct tunnel *t, uint64_t ms)
{
	t->retry.when = ev_now() + ms;
	tunnel_timer_add(&t->loop, &t->retry);
}

/* The session died (s->lost): reconnect, or end the tunnel. */
static void
tunnel_session_teardown(struct tunnel *t)
{
	struct session	*s = t->s;
	enum tunnel_end	 why = s->why;
	uint64_t	 lasted = s->ready ? ev_now() - s->up_at : 0, ms;
	bool		 was_up = s->ready;
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
	ms = supervise_backoff_next(&t->backoff, tunnel_random(t));
	snprintf(t->lost_reason, sizeof(t->lost_reason), "%s", reason);
	if (t->tries == 0)
		log_warn("session lost: %s; reconnecting in %.1f s", reason, (double)ms / 1000);
	else
		log_warn("session lost again (attempt %u): %s; reconnecting in %.1f s",
		    t->tries, reason, (double)ms / 1000);
	notify_send("STATUS=reconnecting (attempt %u): %s", t->tries + 1, reason);
	tunnel_retry_in(t, ms);
}

/* ---- reconnecting ---- */

static void
tunnel_retry_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	tunnel_connect_start(tm->arg);
}

static void
tunnel_connect_start(struct tunnel *t)
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

static void
tunnel_worker_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
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
			tunnel_connect_start(t);
			return;
		}
		snprintf(r.err, sizeof(r.err), "%s", err);
		r.fail = TRANSPORT_F_CONNECT;
	}
	t->exempt_tried = false;
	if (!transport_fail_retryable(r.fail)) {
		log_error("cannot reconnect: %s", r.err);
		tunnel_end(t, r.fail == TRANSPORT_F_AUTH || r.fail == TRANSPORT_F_HOSTKEY ?
		    TUNNEL_END_REFUSED : TUNNEL_END_REMOTE);
		return;
	}
	ms = supervise_backoff_next(&t->backoff, tunnel_random(t));
	log_warn("reconnect attempt %u failed: %s; reconnecting in %.1f s", t->tries, r.err,
	    (double)ms / 1000);
	notify_send("STATUS=reconnecting (attempt %u): %s", t->tries + 1, r.err);
	tunnel_retry_in(t, ms);
}

/* ---- the rest of the loop ---- */

static void
tunnel_before_sleep(struct ev_loop *loop, void *arg)
{
	struct tunnel	*t = arg;
	struct session	*s = t->s;

	if (s != NULL && !s->lost) {
		mux_collect(s->mux);
		/* Stderr relaying and reaping need no per-pass syscalls: a
		 * transport's end shows up on its data path anyway. */
		if (ev_now() - s->last_service >= TUNNEL_SERVICE_MS) {
			s->last_service = ev_now();
			s->tr->ops->service(s->tr);
		}
		tunnel_pump(t);
		mux_collect(s->mux);
	}
	/* Here, between passes, nothing of this pass's events still points
	 * into the session. */
	if (t->s != NULL && t->s->lost && !t->ended)
		tunnel_session_teardown(t);
	dns_local_tick(t->dns);
}

static void
tunnel_signal_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct tunnel			*t = io->arg;
	struct signalfd_siginfo		 si;

	while (read(t->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
			log_info("%s: shutting down", strsignal((int)si.ssi_signo));
			tunnel_end(t, TUNNEL_END_SIGNAL);
		} else if (si.ssi_signo == SIGHUP) {
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
	char	err[256];

	if (dns == t->dns)
		return;
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
tunnel_set_alive(struct tunnel *t, int interval_ms, int timeout_ms)
{
	if (interval_ms > 0)
		t->alive_interval_ms = interval_ms;
	if (timeout_ms > 0)
		t->alive_timeout_ms = timeout_ms;
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

enum tunnel_end
tunnel_run(const struct tunnel_params *p, bool *stuck)
{
	struct tunnel		*t;
	struct outage_conn	 c;
	sigset_t		 mask;
	enum tunnel_end		 end;
	int			 wd, r;

	*stuck = false;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		log_error("out of memory");
		p->transport->ops->free(p->transport);
		return TUNNEL_END_SETUP;
	}
	t->p = p;
	t->sigfd = -1;
	t->dns = p->dns;
	t->alive_interval_ms = p->alive_interval_ms > 0 ? p->alive_interval_ms : 5000;
	t->alive_timeout_ms = p->alive_timeout_ms > 0 ? p->alive_timeout_ms : 15000;
	t->reconnect = p->reconnect;
	t->rnd = (uint32_t)ev_now() ^ ((uint32_t)getpid() << 16) ^ 0x9e3779b9U;
	if (t->rnd == 0)
		t->rnd = 1;
	outage_init(&t->oq, 0, 0);
	t->lio4.fd = t->lio6.fd = t->fio.fd = t->sio.fd = t->wio.fd = t->rio.fd = -1;
	tunnel_timer_init(&t->alive, tunnel_alive_cb, t);
	tunnel_timer_init(&t->accept_pause, tunnel_accept_pause_cb, t);
	tunnel_timer_init(&t->outage_tm, tunnel_outage_cb, t);
	tunnel_timer_init(&t->retry, tunnel_retry_cb, t);
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
	if ((t->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    ev_io_add(&t->loop, &t->sio, t->sigfd, EV_READ, tunnel_signal_cb, t) != 0 ||
	    ev_io_add(&t->loop, &t->wio, supervise_fd(&t->su), EV_READ, tunnel_worker_cb, t) != 0 ||
	    (p->hooks.reload_done != NULL &&
	    ev_io_add(&t->loop, &t->rio, p->reload_fd, EV_READ, tunnel_reload_cb, t) != 0) ||
	    /* Listeners stay quiet (mask 0) until the rules are in place. */
	    (p->listen->fd4 >= 0 &&
	    ev_io_add(&t->loop, &t->lio4, p->listen->fd4, 0, tunnel_accept_cb, t) != 0) ||
	    (p->listen->fd6 >= 0 &&
	    ev_io_add(&t->loop, &t->lio6, p->listen->fd6, 0, tunnel_accept_cb, t) != 0) ||
	    (p->fw != NULL && fw_fd(p->fw) >= 0 &&
	    ev_io_add(&t->loop, &t->fio, fw_fd(p->fw), EV_READ, tunnel_fw_cb, t) != 0)) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		p->transport->ops->free(p->transport);
		t->end = TUNNEL_END_SETUP;
		goto out;
	}
	if ((wd = notify_watchdog_ms()) > 0) {
		t->watchdog.when = ev_now() + (uint64_t)wd;
		tunnel_timer_add(&t->loop, &t->watchdog);
	}
	t->status.when = ev_now() + TUNNEL_STATUS_MS;
	tunnel_timer_add(&t->loop, &t->status);
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
	/* A worker may be blocked in a connect: make it give up. */
	if (t->su_ok && !supervise_cancel(&t->su, TUNNEL_CANCEL_GRACE_MS))
		t->stuck = true;
	if (t->s != NULL) {
		struct transport *tr = tunnel_session_free(t);

		if (tr != NULL)
			tr->ops->free(tr);
	}
	if (t->dead_tr != NULL)
		t->dead_tr->ops->free(t->dead_tr);
	while (outage_pop(&t->oq, &c))
		outage_reset(c.fd);
	/* Out of the loop before it goes; main closes the listeners. */
	dns_local_stop(t->dns);
	if (t->sigfd >= 0)
		close(t->sigfd);
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
