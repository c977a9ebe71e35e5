/*
 * tunnel.c - the client's data path.
 *
 * One epoll loop carries everything: the redirect listeners, every
 * accepted connection (owned by the mux), the transport to the stub, the
 * signals (signalfd) and the firewall helper's pipe.  The transport is
 * pumped in the before-sleep hook: write what the mux queued, then read
 * until the transport has nothing more.  Reading after every write
 * matters for libssh2, whose writes pull inbound packets into its own
 * queues where epoll cannot see them (NOTES: "re-read channels after every
 * call").
 */
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns_local.h"
#include "fw.h"
#include "log.h"
#include "mux.h"
#include "transport.h"
#include "tunnel.h"

#define TUNNEL_ACCEPT_BATCH	64
#define TUNNEL_READ_BUDGET	(4U * 1024 * 1024)	/* per pass, for fairness */
#define TUNNEL_EMFILE_PAUSE_MS	200

struct tunnel {
	const struct tunnel_params *p;
	struct ev_loop		 loop;
	struct mux		 mux;
	struct ev_io		 lio4, lio6, tio, sio, fio;
	struct ev_timer		 ping, accept_pause;
	int			 sigfd;
	bool			 ready;		/* rules installed, accepting */
	bool			 ended;
	enum tunnel_end		 end;
	uint64_t		 last_pong;
	uint64_t		 ping_seq;
	/* libssh2 requires a write that returned EAGAIN to be repeated
	 * with the same pointer and length: keep that chunk here, apart
	 * from the link queue, which may move when it grows. */
	uint8_t			 pend[TRANSPORT_MAX_WRITE];
	size_t			 pend_off, pend_len;
};

static void
tunnel_end(struct tunnel *t, enum tunnel_end why)
{
	if (t->ended)
		return;
	t->ended = true;
	t->end = why;
	ev_stop(&t->loop);
}

/* dns_local's way into the tunnel. */
static int
tunnel_dns_send(void *arg, uint32_t id, const uint8_t *q, size_t len)
{
	struct tunnel	*t = arg;

	return mux_send_dns(&t->mux, PROTO_DNS_QUERY, id, q, len);
}

/* DNS_ANSWER / DNS_FAIL from the stub, checked by the mux. */
static void
tunnel_dns(struct mux *m, const struct proto_frame *f, void *arg)
{
	struct tunnel	*t = m->udata;

	if (t->p->dns == NULL) {
		/* We never asked: nothing to answer. */
		log_debug("unexpected %s %u dropped", proto_type_name(f->type), f->stream);
		return;
	}
	if (f->type == PROTO_DNS_ANSWER)
		/* A bad one (empty) fails the check there: SERVFAIL. */
		dns_local_answer(t->p->dns, f->stream, f->payload, f->bad ? 0 : f->len);
	else if (f->type == PROTO_DNS_FAIL)
		dns_local_fail(t->p->dns, f->stream, f->bad ? 0 : f->u.dns_fail);
}

static void
tunnel_hello(struct mux *m, const struct proto_hello *h)
{
	struct tunnel	*t = m->udata;
	char		 err[256];

	log_debug("stub says hello: protocol %u, window %u, features 0x%x",
	    h->version, h->window, h->features);
	t->last_pong = ev_now();
	if (t->p->dns != NULL) {
		/* Before any rule captures DNS that nobody could answer. */
		if (!(h->features & PROTO_FEAT_DNS)) {
			log_error("the remote stub cannot resolve DNS (an older "
			    "cshuttle): run without --dns and --ns-hosts");
			tunnel_end(t, TUNNEL_END_SETUP);
			return;
		}
		/* Right after HELLO, before any query. */
		if (t->p->nto_ns > 0 &&
		    mux_send_dns_config(&t->mux, t->p->to_ns, t->p->nto_ns) != 0) {
			log_error("cannot send the --to-ns servers to the stub");
			tunnel_end(t, TUNNEL_END_SETUP);
			return;
		}
	}
	if (t->p->ready != NULL && t->p->ready(t->p->ready_arg, err, sizeof(err)) != 0) {
		log_error("%s", err);
		tunnel_end(t, TUNNEL_END_SETUP);
		return;
	}
	if (t->p->dns != NULL &&
	    dns_local_start(t->p->dns, &t->loop, tunnel_dns_send, t, err, sizeof(err)) != 0) {
		log_error("%s", err);
		tunnel_end(t, TUNNEL_END_SETUP);
		return;
	}
	t->ready = true;
	if (t->p->listen->fd4 >= 0)
		(void)ev_io_set(&t->loop, &t->lio4, EPOLLIN);
	if (t->p->listen->fd6 >= 0)
		(void)ev_io_set(&t->loop, &t->lio6, EPOLLIN);
	log_info("connected");
}

static void
tunnel_pong(struct mux *m, const uint8_t data[8])
{
	struct tunnel	*t = m->udata;

	t->last_pong = ev_now();
}

static const struct mux_ops tunnel_mux_ops = {
	.hello = tunnel_hello,
	.pong = tunnel_pong,
	.dns = tunnel_dns,
};

static void
tunnel_accept_pause_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	struct tunnel	*t = tm->arg;

	if (t->p->listen->fd4 >= 0)
		(void)ev_io_set(loop, &t->lio4, EPOLLIN);
	if (t->p->listen->fd6 >= 0)
		(void)ev_io_set(loop, &t->lio6, EPOLLIN);
}

static void
tunnel_accept_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct tunnel		*t = io->arg;
	struct proto_open	 dst;
	int			 family = io == &t->lio4 ? AF_INET : AF_INET6;
	int			 i, fd, r, one = 1;

	for (i = 0; i < TUNNEL_ACCEPT_BATCH; i++) {
		fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Leave the connection in the backlog and stop
				 * accepting for a moment instead of spinning. */
				log_warn("cannot accept: %s (%zu streams open); pausing",
				    strerror(errno), t->mux.nstreams);
				(void)ev_io_set(loop, &t->lio4, 0);
				(void)ev_io_set(loop, &t->lio6, 0);
				t->accept_pause.when = ev_now() + TUNNEL_EMFILE_PAUSE_MS;
				(void)ev_timer_add(loop, &t->accept_pause);
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
			char a[64];
			inet_ntop(family, dst.addr, a, sizeof(a));
			log_debug("stream %u: %s%s%s:%u", t->mux.last_id + 1,
			    family == AF_INET6 ? "[" : "", a,
			    family == AF_INET6 ? "]" : "", dst.port);
		}
		(void)mux_stream_open(&t->mux, fd, &dst);
	}
}

static int	tunnel_write(struct tunnel *);

/* The session broke: say why, tell the stub (best effort), and end. */
static void
tunnel_protocol_error(struct tunnel *t)
{
	log_error("%s", t->mux.error);
	mux_send_error(&t->mux, t->mux.error);
	(void)tunnel_write(t);
	tunnel_end(t, TUNNEL_END_PROTOCOL);
}

/* Move queued frames into the transport.  -1 when the transport failed. */
static int
tunnel_write(struct tunnel *t)
{
	struct transport	*tr = t->p->transport;
	struct buf		*lo = &t->mux.link_out;
	ssize_t			 n;
	size_t			 moved = 0;

	for (;;) {
		if (t->pend_off == t->pend_len) {
			if (buf_len(lo) == 0)
				break;
			t->pend_len = buf_len(lo) < sizeof(t->pend) ? buf_len(lo) : sizeof(t->pend);
			memcpy(t->pend, buf_ptr(lo), t->pend_len);
			buf_consume(lo, t->pend_len);
			t->pend_off = 0;
			moved = 1;
		}
		n = transport_write(tr, t->pend + t->pend_off, t->pend_len - t->pend_off);
		if (n == TRANSPORT_AGAIN)
			break;
		if (n < 0) {
			log_error("connection to the server failed: %s", transport_error(tr));
			return -1;
		}
		t->pend_off += (size_t)n;
	}
	if (moved)
		mux_link_drained(&t->mux);
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
	struct transport	*tr = t->p->transport;
	uint8_t			*p;
	size_t			 room, total = 0;
	ssize_t			 n;

	for (;;) {
		if (!mux_in_ready(&t->mux) || total >= TUNNEL_READ_BUDGET)
			return 1;
		p = mux_in_space(&t->mux, &room);
		n = transport_read(tr, p, room);
		if (n == TRANSPORT_AGAIN)
			return 0;
		if (n == 0) {
			log_error("the server closed the connection%s%s",
			    transport_error(tr)[0] ? ": " : "", transport_error(tr));
			tunnel_end(t, TUNNEL_END_REMOTE);
			return -1;
		}
		if (n < 0) {
			log_error("connection to the server failed: %s", transport_error(tr));
			tunnel_end(t, TUNNEL_END_REMOTE);
			return -1;
		}
		total += (size_t)n;
		/* Anything from the stub proves the session alive: a PONG may
		 * wait behind megabytes of data on a slow, busy link. */
		t->last_pong = ev_now();
		if (mux_in_commit(&t->mux, (size_t)n) != 0) {
			tunnel_protocol_error(t);
			return -1;
		}
	}
}

static void
tunnel_pump(struct tunnel *t)
{
	struct transport	*tr = t->p->transport;
	uint32_t		 ev;
	int			 i, r = 0;
	bool			 progress = true;

	/* Writes can surface inbound data inside libssh2 and reads queue
	 * replies: alternate until neither makes progress (bounded). */
	for (i = 0; i < 4 && progress && !t->ended; i++) {
		size_t before = buf_len(&t->mux.link_out) + (t->pend_len - t->pend_off);
		uint64_t fin = t->mux.frames_in;

		if (tunnel_write(t) < 0) {
			tunnel_end(t, TUNNEL_END_REMOTE);
			return;
		}
		if ((r = tunnel_read(t)) < 0)
			return;
		progress = t->mux.frames_in != fin ||
		    buf_len(&t->mux.link_out) + (t->pend_len - t->pend_off) < before;
	}
	if (t->ended)
		return;
	/*
	 * Input may be waiting inside the transport (libssh2 drains the
	 * socket into its own queues) where epoll cannot see it: if reading
	 * stopped early, or we gave up while still making progress, come
	 * straight back instead of sleeping until the peer sends again.
	 */
	if ((r == 1 && mux_in_ready(&t->mux)) || progress)
		t->loop.nowait = 1;
	if (t->mux.error[0] != '\0') {
		tunnel_protocol_error(t);
		return;
	}
	ev = tr->ops->events(tr);
	(void)ev_io_set(&t->loop, &t->tio, ev);
}

static void
tunnel_before_sleep(struct ev_loop *loop, void *arg)
{
	struct tunnel	*t = arg;

	mux_collect(&t->mux);
	t->p->transport->ops->service(t->p->transport);
	tunnel_pump(t);
	mux_collect(&t->mux);
	dns_local_tick(t->p->dns);
}

static void
tunnel_transport_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	/* The pump in the before-sleep hook does the work. */
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
		}
	}
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
tunnel_ping_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	struct tunnel	*t = tm->arg;
	uint64_t	 now = ev_now();
	uint8_t		 data[8];
	int		 i;

	if (now - t->last_pong > (uint64_t)t->p->ping_timeout_ms) {
		log_error("the server stopped answering (nothing received for %llu ms)",
		    (unsigned long long)(now - t->last_pong));
		tunnel_end(t, TUNNEL_END_REMOTE);
		return;
	}
	t->ping_seq++;
	for (i = 0; i < 8; i++)
		data[i] = (uint8_t)(t->ping_seq >> (56 - 8 * i));
	(void)mux_send_ping(&t->mux, PROTO_PING, data);
	tm->when = now + (uint64_t)t->p->ping_interval_ms;
}

enum tunnel_end
tunnel_run(const struct tunnel_params *p)
{
	struct tunnel	*t;
	sigset_t	 mask;
	enum tunnel_end	 end;
	uint32_t	 window = p->window ? p->window : MUX_DEFAULT_WINDOW;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		log_error("out of memory");
		return TUNNEL_END_SETUP;
	}
	t->p = p;
	t->sigfd = -1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (ev_init(&t->loop) != 0 ||
	    mux_init(&t->mux, &t->loop, PROTO_ROLE_CLIENT, window, &tunnel_mux_ops, t) != 0) {
		log_error("cannot initialise the event loop: %s", strerror(errno));
		free(t);
		return TUNNEL_END_SETUP;
	}
	/* Blocked only now, so that children started during set-up
	 * (ssh, sudo) did not inherit a blocked mask. */
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((t->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    ev_io_add(&t->loop, &t->sio, t->sigfd, EPOLLIN, tunnel_signal_cb, t) != 0 ||
	    ev_io_add(&t->loop, &t->tio, p->transport->ops->fd(p->transport), EPOLLIN,
	    tunnel_transport_cb, t) != 0) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		t->end = TUNNEL_END_SETUP;
		goto out;
	}
	t->lio4.fd = t->lio6.fd = t->fio.fd = -1;
	/* Listeners stay quiet (mask 0) until the rules are in place. */
	if ((p->listen->fd4 >= 0 &&
	    ev_io_add(&t->loop, &t->lio4, p->listen->fd4, 0, tunnel_accept_cb, t) != 0) ||
	    (p->listen->fd6 >= 0 &&
	    ev_io_add(&t->loop, &t->lio6, p->listen->fd6, 0, tunnel_accept_cb, t) != 0) ||
	    (p->fw != NULL && fw_fd(p->fw) >= 0 &&
	    ev_io_add(&t->loop, &t->fio, fw_fd(p->fw), EPOLLIN, tunnel_fw_cb, t) != 0)) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		t->end = TUNNEL_END_SETUP;
		goto out;
	}
	/* The stub's HELLO must come within the same deadline. */
	t->last_pong = ev_now();
	t->ping.cb = tunnel_ping_cb;
	t->ping.arg = t;
	t->ping.when = ev_now() + (uint64_t)p->ping_interval_ms;
	t->accept_pause.cb = tunnel_accept_pause_cb;
	t->accept_pause.arg = t;
	if (p->ping_interval_ms > 0)
		(void)ev_timer_add(&t->loop, &t->ping);
	t->loop.before_sleep = tunnel_before_sleep;
	t->loop.hook_arg = t;

	if (mux_send_hello(&t->mux, PROTO_FEAT_KNOWN) != 0) {
		t->end = TUNNEL_END_SETUP;
		goto out;
	}
	(void)ev_run(&t->loop);
out:
	end = t->end;
	log_debug("session summary: %llu streams, %llu failed to connect, %llu frames in, %llu out",
	    (unsigned long long)t->mux.streams_opened,
	    (unsigned long long)t->mux.streams_failed,
	    (unsigned long long)t->mux.frames_in,
	    (unsigned long long)t->mux.frames_out);
	/* Out of the loop before it goes; main closes the listeners. */
	dns_local_stop(p->dns);
	mux_free(&t->mux);
	if (t->sigfd >= 0)
		close(t->sigfd);
	(void)sigprocmask(SIG_UNBLOCK, &mask, NULL);
	ev_close(&t->loop);
	free(t);
	return end;
}
