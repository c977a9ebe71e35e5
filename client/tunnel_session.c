/* SPDX-License-Identifier: ISC */
/*
 * tunnel_session.c - a session: one transport and one mux, from the
 * stub's HELLO to the pass after its end.
 *
 * The transport is pumped in the loop's before-sleep hook: write what the
 * mux queued, then read until the transport has nothing more.  Reading
 * after every write matters for libssh2, whose writes pull inbound
 * packets into its own queues where epoll cannot see them; and a write
 * that returned EAGAIN is repeated with the same pointer and length, as
 * libssh2 requires (docs/ARCHITECTURE.md, "Transports").
 *
 * A session is declared dead when nothing at all came from the stub for
 * --alive-timeout (PINGs after --alive-interval of silence keep an idle
 * session talking), when the transport has had data to send without any
 * progress for as long (a wedged libssh2), or when the transport fails
 * (docs/ARCHITECTURE.md, "Sessions and reconnecting"); sooner when the
 * network changed and a probe went unanswered (tunnel_netwatch.c).
 * Finding it dead only marks it: tunnel_reconnect.c tears it down at the
 * start of the next pass.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "phase.h"
#include "tunnel_int.h"

#define TUNNEL_READ_BUDGET	(4U * 1024 * 1024)	/* per pass, for fairness */
#define TUNNEL_SERVICE_MS	100	/* transport housekeeping at most this often */
#define TUNNEL_BYE_SEQ		UINT64_MAX	/* the PING after BYE */
#define TUNNEL_BYE_IDLE_MS	500	/* no byte from the stub for this long */
#define TUNNEL_BYE_MAX_MS	3000	/* the longest wait for its PONG */

void
tunnel_session_lost(struct tunnel *t, enum tunnel_end why, const char *fmt, ...)
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

/* Move queued frames into the transport.  -1 when the transport failed. */
static int
tunnel_session_write(struct tunnel *t)
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
			tunnel_session_lost(t, TUNNEL_END_REMOTE, "connection to the server failed: %s",
			    transport_error(tr));
			return -1;
		}
		s->pend_off += (size_t)n;
		s->last_wprogress = ev_now();
	}
	return 0;
}

/* The session broke: say why, tell the stub (best effort), and end it. */
static void
tunnel_session_protocol_error(struct tunnel *t)
{
	struct session	*s = t->s;

	mux_send_error(s->mux, mux_error(s->mux));
	(void)tunnel_session_write(t);
	tunnel_session_lost(t, TUNNEL_END_PROTOCOL, "%s", mux_error(s->mux));
}

/*
 * Feed the mux from the transport.  -1 when the session is over, 1 when
 * it stopped before the transport ran dry (budget used up, or the mux
 * cannot take more now), 0 when the transport has nothing more.
 */
static int
tunnel_session_read(struct tunnel *t)
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
			tunnel_session_lost(t, TUNNEL_END_REMOTE, "the server closed the connection%s%s",
			    transport_error(tr)[0] ? ": " : "", transport_error(tr));
			return -1;
		}
		if (n < 0) {
			tunnel_session_lost(t, TUNNEL_END_REMOTE, "connection to the server failed: %s",
			    transport_error(tr));
			return -1;
		}
		total += (size_t)n;
		/* Anything from the stub proves the session alive: a PONG may
		 * wait behind megabytes of data on a slow, busy link. */
		s->last_input = ev_now();
		if (mux_in_commit(s->mux, (size_t)n) != 0) {
			tunnel_session_protocol_error(t);
			return -1;
		}
		/* ATTACHED: the rest is the kept session's waiting stub. */
		if (mux_handed_over(s->mux)) {
			tunnel_resume_swap(t);
			if (!t->ended && !s->lost && mux_error(s->mux)[0] != '\0') {
				tunnel_session_protocol_error(t);
				return -1;
			}
		}
		/* A HELLO that ended the tunnel (tunnel_session_hello). */
		if (t->ended || s->lost)
			return -1;
	}
}

static void
tunnel_session_pump(struct tunnel *t)
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
		if (tunnel_session_write(t) < 0)
			return;
		if ((r = tunnel_session_read(t)) < 0)
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
		tunnel_session_protocol_error(t);
		return;
	}
	ev = tr->ops->events(tr);
	(void)ev_io_set(&t->loop, &s->tio, ev);
}

static void
tunnel_session_transport_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	/* The pump in the before-sleep hook does the work. */
}

static int
tunnel_session_tick_ms(const struct tunnel *t)
{
	int	ms = t->alive_interval_ms < t->alive_timeout_ms ? t->alive_interval_ms :
	    t->alive_timeout_ms;

	ms /= 4;
	return ms < 50 ? 50 : ms > 1000 ? 1000 : ms;
}

/* Liveness: PING after silence, dead after alive-timeout without input or
 * without write progress. */
void
tunnel_session_alive_cb(struct ev_loop *loop, struct ev_timer *tm)
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
		tunnel_session_lost(t, TUNNEL_END_REMOTE, "the server stopped answering (nothing "
		    "received for %.1f s)", (double)quiet / 1000);
		return;
	}
	if ((mux_link_len(s->mux) > 0 || s->pend_off < s->pend_len) &&
	    now - s->last_wprogress >= (uint64_t)t->alive_timeout_ms) {
		tunnel_session_lost(t, TUNNEL_END_REMOTE, "the connection to the server is stalled "
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
	tm->when = now + (uint64_t)tunnel_session_tick_ms(t);
	tunnel_timer_add(loop, tm);
}


/*
 * -H: the --seed-hosts, right after the stub's HELLO, and an empty list
 * without any: the stub waits for this frame before it sends HOSTS.  0,
 * or -1 when it cannot be queued.
 */
static int
tunnel_session_seed(struct tunnel *t, struct mux *m)
{
	struct proto_seed	s[PROTO_SEEDS_MAX];
	size_t			i, n = 0;

	for (i = 0; i < t->p->nseed_hosts && n < PROTO_SEEDS_MAX; i++, n++) {
		memset(&s[n], 0, sizeof(s[n]));
		/* options_net.c kept only addresses and valid names. */
		if (addr_parse(&s[n].addr, t->p->seed_hosts[i],
		    strlen(t->p->seed_hosts[i]), 0, 0) != 0)
			s[n].name = t->p->seed_hosts[i];
	}
	if (n > 0)
		log_debug("asking the stub to look up %zu seed hosts", n);
	return mux_send_hosts_seed(m, s, n);
}

static void
tunnel_session_hello(struct mux *m, const struct proto_hello *h)
{
	struct tunnel	*t = mux_udata(m);
	struct session	*s = t->s;

	log_debug("stub says hello: protocol %u, window %u, features 0x%x%s",
	    h->version, h->window, h->features, s->resumed ? " (resumed)" : "");
	s->last_input = ev_now();
	t->features = h->features;
	/* The waiting stub, on the link it took over: set up as a new
	 * session would be (its routes and host names are sent again). */
	if (s->resumed) {
		if (!s->ready)
			tunnel_session_setup(t, m);
		return;
	}
	if (tunnel_resume_hello(t, m))
		return;
	tunnel_session_setup(t, m);
}

void
tunnel_session_setup(struct tunnel *t, struct mux *m)
{
	struct session	*s = t->s;
	bool		 first = !t->ever_up;

	/* The stub waits for us after a lost link (tunnel_resume.c). */
	if (t->resume_grace_s > 0 && t->reconnect && mux_feature(m, PROTO_FEAT_RESUME) &&
	    mux_send_resume_setup(m, t->resume_grace_s) != 0)
		log_warn("cannot ask the stub to wait after a lost link");
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
	if (t->p->auto_hosts && !mux_feature(m, PROTO_FEAT_HOSTS)) {
		log_warn("the remote stub cannot report its host names (an older "
		    "cshuttle): -H adds no names");
		if (t->p->hooks.hosts != NULL)
			t->p->hooks.hosts(t->p->hooks.arg, NULL);
	} else if (t->p->auto_hosts && tunnel_session_seed(t, m) != 0)
		log_warn("cannot send the --seed-hosts to the stub: its host names "
		    "come without them");
	if (t->p->auto_nets) {
		/* The rules wait for the routes: one batch with them. */
		if (mux_feature(m, PROTO_FEAT_ROUTES))
			return;		/* tunnel_session_routes goes on */
		log_warn("the remote stub cannot report its routes (an older "
		    "cshuttle): -N adds no subnets");
		if (t->p->hooks.routes != NULL)
			t->p->hooks.routes(t->p->hooks.arg, NULL);
	}
	tunnel_session_ready(t);
}

/* -N: the stub's routes, right after its HELLO (PROTO_FEAT_ROUTES). */
static void
tunnel_session_routes(struct mux *m, const struct proto_frame *f)
{
	struct tunnel	*t = mux_udata(m);

	if (t->ended || t->s == NULL || t->s->lost || t->s->ready)
		return;
	if (t->p->hooks.routes != NULL)
		t->p->hooks.routes(t->p->hooks.arg, f);
	tunnel_session_ready(t);
}

/* -H: the stub's host names, right after its HELLO (and ROUTES). */
static void
tunnel_session_hosts(struct mux *m, const struct proto_frame *f)
{
	struct tunnel	*t = mux_udata(m);

	if (t->ended || t->s == NULL || t->s->lost || !t->p->auto_hosts)
		return;
	if (t->p->hooks.hosts != NULL)
		t->p->hooks.hosts(t->p->hooks.arg, f);
}

/* The session can carry traffic: the rules (ready), then the listeners. */
void
tunnel_session_ready(struct tunnel *t)
{
	struct session	*s = t->s;
	char		 err[256];
	bool		 first = !t->ever_up;

	if (first)
		phase_mark("the stub said hello");
	if (t->p->hooks.ready != NULL &&
	    t->p->hooks.ready(t->p->hooks.arg, first, err, sizeof(err)) != 0) {
		log_error("%s", err);
		tunnel_end(t, TUNNEL_END_SETUP);
		return;
	}
	if (first)
		phase_mark("the rules are in place");
	if (first && t->dns != NULL &&
	    dns_local_start(t->dns, &t->loop, tunnel_dns_send, t, err, sizeof(err)) != 0) {
		log_error("%s", err);
		tunnel_end(t, TUNNEL_END_SETUP);
		return;
	}
	s->ready = true;
	s->up_at = ev_now();
	if (t->udp != NULL) {
		if (mux_feature(s->mux, PROTO_FEAT_UDP))
			udp_session(t->udp, s->mux);
		else if (!t->udp_old_logged) {
			/* Never with the stub this client uploads; possible
			 * with one an -e command runs from elsewhere. */
			t->udp_old_logged = true;
			log_warn("the remote stub cannot carry UDP (an older cshuttle): "
			    "captured UDP is dropped; run with --no-udp to leave it alone");
		}
	}
	if (first) {
		t->ever_up = true;
		tunnel_accept_on(t);
		log_info("connected");
		phase_done();
	} else {
		t->reconnects++;
		if (s->resumed) {
			struct mux_stats	st;

			mux_stats(s->mux, &st);
			log_info("reconnected to %s (attempt %u): the session resumed, "
			    "%zu connection%s kept", t->p->remote, t->tries, st.nstreams,
			    st.nstreams == 1 ? "" : "s");
		} else
			log_info("reconnected to %s (attempt %u)", t->p->remote, t->tries);
		tunnel_accept_outage_drain(t);
		tunnel_dns_retry(t);
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

/* UDP frames go to the UDP side; a flow outlives no session. */
static void
tunnel_session_udp(struct mux *m, const struct proto_frame *f)
{
	struct tunnel	*t = mux_udata(m);

	if (t->udp != NULL && t->s != NULL && !t->s->lost)
		udp_frame(t->udp, f);
}

static void
tunnel_session_pong(struct mux *m, const uint8_t data[8])
{
	uint64_t	seq = 0;
	int		i;

	/* tunnel_session_read() noted the input already; a network change's
	 * probe wants to know that its own PING came back. */
	for (i = 0; i < 8; i++)
		seq = seq << 8 | data[i];
	if (seq == TUNNEL_BYE_SEQ) {
		struct tunnel	*t = mux_udata(m);

		if (t->s != NULL)
			t->s->bye_acked = true;
		return;
	}
	tunnel_netwatch_pong(mux_udata(m), seq);
}

static const struct mux_ops tunnel_session_mux_ops = {
	.hello = tunnel_session_hello,
	.pong = tunnel_session_pong,
	.dns = tunnel_dns_reply,
	.routes = tunnel_session_routes,
	.hosts = tunnel_session_hosts,
	.udp = tunnel_session_udp,
	.resume = tunnel_resume_frame,
};

void
tunnel_session_service(struct tunnel *t)
{
	struct session	*s = t->s;

	mux_collect(s->mux);
	/* Stderr relaying and reaping need no per-pass syscalls: a
	 * transport's end shows up on its data path anyway. */
	if (ev_now() - s->last_service >= TUNNEL_SERVICE_MS) {
		s->last_service = ev_now();
		s->tr->ops->service(s->tr);
	}
	tunnel_session_pump(t);
	mux_collect(s->mux);
}

/* The stub reports its routes and host names only to a client that
 * wants them; resume costs a copy of what is sent, so only with a grace
 * and a reconnect to resume in. */
uint32_t
tunnel_session_features(const struct tunnel *t)
{
	return PROTO_FEAT_KNOWN &
	    ~(t->resume_grace_s > 0 && t->reconnect ? 0 : PROTO_FEAT_RESUME) &
	    ~(t->udp != NULL ? 0 : PROTO_FEAT_UDP) &
	    ~(t->p->auto_nets ? 0 : PROTO_FEAT_ROUTES) &
	    ~(t->p->auto_hosts ? 0 : PROTO_FEAT_HOSTS);
}

/* Start a session on a transport in data phase.  0, or -1 (the transport
 * is then freed). */
int
tunnel_session_start(struct tunnel *t, struct transport *tr)
{
	struct session	*s;
	uint32_t	 window = t->p->window ? t->p->window : MUX_DEFAULT_WINDOW;
	size_t		 budget;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_error("out of memory");
		tr->ops->free(tr);
		return -1;
	}
	s->tr = tr;
	s->tio.fd = -1;
	t->transport_name = tr->name;
	if ((s->mux = mux_new(&t->loop, PROTO_ROLE_CLIENT, window, &tunnel_session_mux_ops,
	    t)) == NULL) {
		log_error("out of memory");
		tr->ops->free(tr);
		free(s);
		return -1;
	}
	budget = t->p->budget != 0 ? t->p->budget :
	    mux_budget_default(TUNNEL_BUDGET_CAP, TUNNEL_BUDGET_RAM_DIV);
	mux_set_bounds(s->mux, budget, t->p->max_streams != 0 ? t->p->max_streams :
	    mux_max_streams_default(budget));
	mux_ask_bounds(s->mux, t->p->budget, t->p->max_streams);
	if (ev_io_add(&t->loop, &s->tio, tr->ops->fd(tr), EV_READ, tunnel_session_transport_cb,
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
	tunnel_netwatch_session(t);
	if (mux_send_hello(s->mux, tunnel_session_features(t)) != 0) {
		tunnel_session_lost(t, TUNNEL_END_SETUP, "cannot send HELLO");
		return 0;
	}
	t->alive.when = ev_now() + (uint64_t)tunnel_session_tick_ms(t);
	tunnel_timer_add(&t->loop, &t->alive);
	return 0;
}

/* Free the session.  Its transport is returned (the caller decides who
 * frees it). */
struct transport *
tunnel_session_free(struct tunnel *t)
{
	struct session		*s = t->s;
	struct transport	*tr;
	struct mux_stats	 st;

	if (s == NULL)
		return NULL;
	mux_stats(s->mux, &st);
	log_debug("session summary: %llu streams, %llu failed to connect, %llu frames in, "
	    "%llu out; the largest grant to one stream %u KiB, %llu BLOCKED from the "
	    "stub taken, %llu sent",
	    (unsigned long long)st.streams_opened,
	    (unsigned long long)st.streams_failed,
	    (unsigned long long)st.frames_in,
	    (unsigned long long)st.frames_out, st.grant_peak / 1024,
	    (unsigned long long)st.blocked_seen,
	    (unsigned long long)st.blocked_sent);
	/* The status's counters go on over sessions. */
	t->done.streams_opened += st.streams_opened;
	t->done.streams_failed += st.streams_failed;
	t->done.bytes_in += st.bytes_in;
	t->done.bytes_out += st.bytes_out;
	t->done.frames_in += st.frames_in;
	t->done.frames_out += st.frames_out;
	ev_timer_del(&t->loop, &t->alive);
	ev_io_del(&t->loop, &s->tio);
	if (t->udp != NULL)
		udp_session(t->udp, NULL);
	/* Every stream of the session is reset (their peers are gone), or
	 * kept for the next session to resume. */
	if (!tunnel_resume_keep(t))
		mux_free(s->mux);
	tr = s->tr;
	free(s);
	t->s = NULL;
	return tr;
}

/*
 * BYE, then a PING whose PONG proves that the stub has it: bytes written
 * are not bytes delivered (a relay, ssh, sshd may still hold them when
 * the connection closes).  BYE goes right behind the frame the transport
 * has started (mux_send_bye drops the stream data queued after it).  The
 * wait ends half a second after the last byte from the stub, and after
 * TUNNEL_BYE_MAX_MS however busy it is: without the PONG the stub waits
 * out --resume-grace before it exits.
 */
void
tunnel_session_bye(struct tunnel *t)
{
	struct session	*s = t->s;
	struct pollfd	 pfd;
	uint8_t		 data[8];
	uint64_t	 start = ev_now(), now;
	int		 i;

	if (s == NULL || s->lost || !mux_feature(s->mux, PROTO_FEAT_RESUME) ||
	    mux_send_bye(s->mux) != 0)
		return;
	for (i = 0; i < 8; i++)
		data[i] = (uint8_t)(TUNNEL_BYE_SEQ >> (56 - 8 * i));
	(void)mux_send_ping(s->mux, PROTO_PING, data);
	s->last_input = start;
	while (!s->bye_acked && !s->lost) {
		now = ev_now();
		if (now >= start + TUNNEL_BYE_MAX_MS || now >= s->last_input + TUNNEL_BYE_IDLE_MS)
			break;
		if (tunnel_session_write(t) < 0 || tunnel_session_read(t) < 0)
			break;
		if (s->bye_acked)
			break;
		pfd.fd = s->tr->ops->fd(s->tr);
		pfd.events = POLLIN | ((s->tr->ops->events(s->tr) & EV_WRITE) ? POLLOUT : 0);
		(void)poll(&pfd, 1, 20);
	}
	if (s->bye_acked)
		log_debug("told the stub not to wait for this session (BYE)");
	else if (!s->lost)
		log_info("the stub did not confirm that this session ends: it may wait "
		    "for a reconnect (--resume-grace) before it exits");
	else
		log_debug("the session ended before the stub confirmed BYE");
}
