/* SPDX-License-Identifier: ISC */
/*
 * mux.c - streams over one link with per-stream credit (see mux.h and
 * docs/PROTOCOL.md).
 *
 * Flow control, in one paragraph: each side grants the other `window`
 * bytes of credit per stream at open.  DATA consumes credit; the receiver
 * returns credit (CREDIT frames) only for bytes it has written to the
 * stream's socket.  So a stream whose reader stalls can hold at most one
 * window of memory on the receiving side, the sender stops reading that
 * stream's socket when its credit is gone, and the shared link never
 * carries bytes that nobody will take — other streams keep moving.
 *
 * Stream states change only through mux_stream_kill() and the EOF/SHUT
 * handling in mux_stream_flush()/mux_stream_read(); streams are freed in
 * mux_collect(), after the event pass, never inside their own callback.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mux.h"

#define MUX_HASH_INIT	256

static void	mux_stream_cb(struct ev_loop *, struct ev_io *, uint32_t);
static void	mux_stream_update(struct mux_stream *);
static void	mux_stream_check_done(struct mux_stream *);

static void __attribute__((format(printf, 2, 3)))
mux_fail(struct mux *m, const char *fmt, ...)
{
	va_list	ap;

	if (m->error[0] != '\0')
		return;		/* keep the first cause */
	va_start(ap, fmt);
	vsnprintf(m->error, sizeof(m->error), fmt, ap);
	va_end(ap);
}

/* The stream's socket, also while it is parked (unregistered). */
static int
mux_stream_fd(const struct mux_stream *st)
{
	return (st->flags & MUX_S_PARKED) ? st->wfd : st->io.fd;
}

/* ---- stream table ---- */

static size_t
mux_slot(const struct mux *m, uint32_t id)
{
	return (id * 2654435761U) & (m->hsize - 1);
}

static struct mux_stream *
mux_lookup(const struct mux *m, uint32_t id)
{
	struct mux_stream	*st;

	for (st = m->hash[mux_slot(m, id)]; st != NULL; st = st->hnext)
		if (st->id == id)
			return st;
	return NULL;
}

static void
mux_hash_grow(struct mux *m)
{
	struct mux_stream	**nh, **oh = m->hash, *st, *next;
	size_t			  i, osize = m->hsize;

	if ((nh = calloc(osize * 2, sizeof(*nh))) == NULL)
		return;		/* longer chains, still correct */
	m->hash = nh;
	m->hsize = osize * 2;
	for (i = 0; i < osize; i++) {
		for (st = oh[i]; st != NULL; st = next) {
			next = st->hnext;
			st->hnext = nh[mux_slot(m, st->id)];
			nh[mux_slot(m, st->id)] = st;
		}
	}
	free(oh);
}

static void
mux_unhash(struct mux *m, struct mux_stream *st)
{
	struct mux_stream	**pp;

	for (pp = &m->hash[mux_slot(m, st->id)]; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == st) {
			*pp = st->hnext;
			st->hnext = NULL;
			return;
		}
	}
}

static struct mux_stream *
mux_stream_new(struct mux *m, uint32_t id)
{
	struct mux_stream	*st;
	size_t			 slot;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->id = id;
	st->mux = m;
	st->io.fd = -1;
	buf_init(&st->out, m->window);
	st->tx_credit = m->peer_window;
	st->rx_avail = m->window;
	if (m->nstreams >= m->hsize * 2)
		mux_hash_grow(m);
	slot = mux_slot(m, id);
	st->hnext = m->hash[slot];
	m->hash[slot] = st;
	st->lnext = m->all;
	if (m->all != NULL)
		m->all->lprev = st;
	m->all = st;
	m->nstreams++;
	return st;
}

static void
mux_link_wait_add(struct mux_stream *st)
{
	struct mux	*m = st->mux;

	if (st->flags & MUX_S_LINK_WAIT)
		return;
	st->flags |= MUX_S_LINK_WAIT;
	st->wprev = NULL;
	st->wnext = m->link_wait;
	if (m->link_wait != NULL)
		m->link_wait->wprev = st;
	m->link_wait = st;
}

static void
mux_link_wait_del(struct mux_stream *st)
{
	struct mux	*m = st->mux;

	if (!(st->flags & MUX_S_LINK_WAIT))
		return;
	st->flags &= ~MUX_S_LINK_WAIT;
	if (st->wprev != NULL)
		st->wprev->wnext = st->wnext;
	else
		m->link_wait = st->wnext;
	if (st->wnext != NULL)
		st->wnext->wprev = st->wprev;
	st->wnext = st->wprev = NULL;
}

/* ---- frames out ---- */

static int
mux_queue(struct mux *m, const uint8_t *frame, int len)
{
	if (len < 0) {
		mux_fail(m, "internal error: frame encoding failed");
		return -1;
	}
	if (buf_append(&m->link_out, frame, (size_t)len) != 0) {
		mux_fail(m, "link output queue overflow (%zu bytes queued)",
		    buf_len(&m->link_out));
		return -1;
	}
	m->frames_out++;
	return 0;
}

int
mux_send_hello(struct mux *m, uint32_t features)
{
	struct proto_hello	h;
	uint8_t			f[PROTO_HDR_LEN + 20];

	memset(&h, 0, sizeof(h));
	h.version = PROTO_VERSION;
	h.role = m->role;
	h.features = features;
	h.window = m->window;
	return mux_queue(m, f, proto_put_hello(f, sizeof(f), &h));
}

int
mux_send_ping(struct mux *m, uint8_t type, const uint8_t data[8])
{
	uint8_t	f[PROTO_HDR_LEN + 8];

	return mux_queue(m, f, proto_put_ping(f, sizeof(f), type, data));
}

void
mux_send_error(struct mux *m, const char *text)
{
	uint8_t	f[PROTO_HDR_LEN + PROTO_MAX_ERROR_TEXT];

	(void)mux_queue(m, f, proto_put_error(f, sizeof(f), text));
}

int
mux_send_dns(struct mux *m, uint8_t type, uint32_t id, const void *payload, size_t len)
{
	struct proto_frame	 f;
	uint8_t			*p;
	size_t			 need = PROTO_HDR_LEN + len;
	int			 n;

	if (len > PROTO_MAX_PAYLOAD || buf_len(&m->link_out) + need > MUX_DNS_LINK_MAX ||
	    (p = buf_reserve(&m->link_out, need)) == NULL)
		return -1;
	n = proto_put_dns(p, need, type, id, payload, len);
	/* Only what the peer's parser accepts goes out: a bad frame would
	 * fail a query there, or end the session (DNS_CONFIG). */
	if (n != (int)need || proto_parse(p, need, &f) != n || f.bad != 0 ||
	    f.stream != id)
		return -1;
	buf_commit(&m->link_out, need);
	m->frames_out++;
	return 0;
}

int
mux_send_dns_config(struct mux *m, const struct addr *s, size_t n)
{
	uint8_t	f[PROTO_HDR_LEN + PROTO_DNS_MAX_SERVERS * PROTO_DNS_SERVER_LEN];
	int	len;

	if ((len = proto_put_dns_config(f, sizeof(f), s, n)) < 0)
		return -1;
	return mux_send_dns(m, PROTO_DNS_CONFIG, 0, f + PROTO_HDR_LEN,
	    (size_t)len - PROTO_HDR_LEN);
}

static int
mux_send_simple(struct mux *m, uint8_t type, uint32_t id, uint32_t arg)
{
	uint8_t	f[PROTO_HDR_LEN + 4];
	int	n;

	switch (type) {
	case PROTO_OPEN_RESULT:
		n = proto_put_open_result(f, sizeof(f), id, (uint8_t)arg);
		break;
	case PROTO_CREDIT:
		n = proto_put_credit(f, sizeof(f), id, arg);
		break;
	case PROTO_EOF:
		n = proto_put_eof(f, sizeof(f), id);
		break;
	case PROTO_CLOSE:
		n = proto_put_close(f, sizeof(f), id, (uint8_t)arg);
		break;
	default:
		n = -1;
		break;
	}
	return mux_queue(m, f, n);
}

/* ---- stream lifetime ---- */

/*
 * End a stream now.  `close_reason` >= 0 sends CLOSE with that reason
 * (the peer still knows the stream); `rst` aborts the socket so the
 * local application sees a reset rather than a clean end.
 */
static void
mux_stream_kill(struct mux_stream *st, int close_reason, bool rst)
{
	struct mux	*m = st->mux;
	struct linger	 lg = { 1, 0 };
	int		 fd = mux_stream_fd(st);

	if (st->flags & MUX_S_DEAD)
		return;
	if (close_reason >= 0)
		(void)mux_send_simple(m, PROTO_CLOSE, st->id, (uint32_t)close_reason);
	ev_io_del(m->loop, &st->io);
	if (fd >= 0) {
		if (rst)
			(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	st->flags |= MUX_S_DEAD;
	mux_link_wait_del(st);
	mux_unhash(m, st);
	if (st->lprev != NULL)
		st->lprev->lnext = st->lnext;
	else
		m->all = st->lnext;
	if (st->lnext != NULL)
		st->lnext->lprev = st->lprev;
	m->nstreams--;
	st->gnext = m->garbage;
	m->garbage = st;
	log_trace("stream %u closed%s (in %llu, out %llu bytes)", st->id,
	    rst ? " with reset" : "", (unsigned long long)st->bytes_in,
	    (unsigned long long)st->bytes_out);
}

void
mux_collect(struct mux *m)
{
	struct mux_stream	*st;

	while ((st = m->garbage) != NULL) {
		m->garbage = st->gnext;
		buf_free(&st->out);
		free(st);
	}
}

/* Both directions are finished and flushed: a clean close. */
static void
mux_stream_check_done(struct mux_stream *st)
{
	if ((st->flags & (MUX_S_RD_EOF | MUX_S_WR_SHUT | MUX_S_DEAD)) ==
	    (MUX_S_RD_EOF | MUX_S_WR_SHUT))
		mux_stream_kill(st, -1, false);
}

/* ---- socket side ---- */

static void
mux_stream_give_credit(struct mux_stream *st, size_t n)
{
	st->rx_consumed += (uint32_t)n;
	/* Return credit in batches of a quarter window: fewer frames, and
	 * the sender never stalls while three quarters are still open. */
	if (st->rx_consumed >= st->mux->window / 4 &&
	    !(st->flags & MUX_S_PEER_EOF)) {
		if (mux_send_simple(st->mux, PROTO_CREDIT, st->id, st->rx_consumed) == 0) {
			st->rx_avail += st->rx_consumed;
			st->rx_consumed = 0;
		}
	}
}

/* Write queued peer data to the socket.  Returns -1 if the stream died. */
static int
mux_stream_flush(struct mux_stream *st)
{
	ssize_t	n;
	size_t	total = 0;

	while (buf_len(&st->out) > 0) {
		n = send(mux_stream_fd(st), buf_ptr(&st->out), buf_len(&st->out), MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			log_trace("stream %u: write: %s", st->id, strerror(errno));
			mux_stream_kill(st, PROTO_CLOSE_RESET, true);
			return -1;
		}
		buf_consume(&st->out, (size_t)n);
		total += (size_t)n;
	}
	if (total > 0)
		mux_stream_give_credit(st, total);
	if (buf_len(&st->out) == 0 && (st->flags & MUX_S_PEER_EOF) &&
	    !(st->flags & MUX_S_WR_SHUT)) {
		(void)shutdown(mux_stream_fd(st), SHUT_WR);
		st->flags |= MUX_S_WR_SHUT;
		mux_stream_check_done(st);
		if (st->flags & MUX_S_DEAD)
			return -1;
	}
	return 0;
}

/*
 * Read the socket into DATA frames: up to MUX_READ_FRAMES full frames per
 * event, so a busy stream fills the link queue in large writes rather than
 * one frame per loop pass.  -1 if the stream died.
 */
static int
mux_stream_read(struct mux_stream *st)
{
	struct mux	*m = st->mux;
	uint8_t		*p;
	size_t		 want;
	ssize_t		 n;
	int		 i;

	for (i = 0; i < MUX_READ_FRAMES; i++) {
		if (st->flags & (MUX_S_RD_EOF | MUX_S_DEAD) || st->tx_credit == 0)
			return 0;
		if (buf_len(&m->link_out) >= MUX_LINK_SOFT) {
			mux_link_wait_add(st);
			return 0;
		}
		want = st->tx_credit < PROTO_MAX_PAYLOAD ? st->tx_credit : PROTO_MAX_PAYLOAD;
		if ((p = buf_reserve(&m->link_out, PROTO_HDR_LEN + want)) == NULL) {
			mux_fail(m, "out of memory for the link output queue");
			return 0;
		}
		n = recv(st->io.fd, p + PROTO_HDR_LEN, want, 0);
		if (n <= 0)
			break;
		(void)proto_put_data_hdr(p, PROTO_HDR_LEN, st->id, (uint16_t)n);
		buf_commit(&m->link_out, PROTO_HDR_LEN + (size_t)n);
		m->frames_out++;
		st->tx_credit -= (uint32_t)n;
		st->bytes_out += (uint64_t)n;
		/* A short read drained the socket: the next recv would only
		 * say EAGAIN. */
		if ((size_t)n < want)
			return 0;
	}
	if (n > 0)
		return 0;
	if (n == 0) {
		st->flags |= MUX_S_RD_EOF;
		if (mux_send_simple(m, PROTO_EOF, st->id, 0) != 0)
			return -1;
		mux_stream_check_done(st);
		return (st->flags & MUX_S_DEAD) ? -1 : 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	log_trace("stream %u: read: %s", st->id, strerror(errno));
	mux_stream_kill(st, PROTO_CLOSE_RESET, true);
	return -1;
}

/* Stub: the non-blocking connect() finished, one way or the other. */
static void
mux_stream_connected(struct mux_stream *st)
{
	struct mux	*m = st->mux;
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	if (getsockopt(st->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	(void)mux_send_simple(m, PROTO_OPEN_RESULT, st->id, proto_status_from_errno(err));
	if (err != 0) {
		log_debug("stream %u: connect: %s", st->id, strerror(err));
		m->streams_failed++;
		/* The client resets its side when it reads the result. */
		mux_stream_kill(st, -1, false);
		return;
	}
	st->flags &= ~MUX_S_CONNECTING;
	(void)mux_stream_flush(st);
}

static void
mux_stream_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct mux_stream	*st = io->arg;
	socklen_t		 len = sizeof(int);
	int			 err = 0;

	if (st->flags & MUX_S_CONNECTING) {
		mux_stream_connected(st);
		goto out;
	}
	if ((revents & EV_ERROR) &&
	    getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
		log_trace("stream %u: socket error: %s", st->id, strerror(err));
		mux_stream_kill(st, PROTO_CLOSE_RESET, true);
		return;
	}
	if ((revents & EV_WRITE) && mux_stream_flush(st) < 0)
		return;
	if ((revents & (EV_READ | EV_HUP)) && mux_stream_read(st) < 0)
		return;
	if ((revents & EV_HUP) && !(st->flags & MUX_S_DEAD) &&
	    !(io->events & EV_READ)) {
		/*
		 * EV_HUP is reported whatever the mask says.  With both
		 * directions shut but unread data we cannot take yet (no
		 * credit), level-triggered epoll would spin: park the fd
		 * until credit arrives.
		 */
		st->wfd = io->fd;
		ev_io_del(loop, io);
		io->fd = -1;
		st->flags |= MUX_S_PARKED;
	}
out:
	mux_stream_update(st);
}

/*
 * The events a stream can act on now.  *wait is set when it would read
 * but the link queue is full: it then belongs on the link-wait list.
 */
static uint32_t
mux_stream_events(const struct mux_stream *st, bool *wait)
{
	uint32_t	ev = 0;

	*wait = false;
	if (st->flags & MUX_S_CONNECTING)
		return EV_WRITE;
	if (!(st->flags & MUX_S_RD_EOF) && st->tx_credit > 0) {
		if (buf_len(&st->mux->link_out) < MUX_LINK_SOFT)
			ev |= EV_READ;
		else
			*wait = true;
	}
	if (buf_len(&st->out) > 0)
		ev |= EV_WRITE;
	return ev;
}

/* Register exactly the events the stream can act on now. */
static void
mux_stream_update(struct mux_stream *st)
{
	struct mux	*m = st->mux;
	uint32_t	 ev;
	bool		 wait;

	if (st->flags & MUX_S_DEAD)
		return;
	ev = mux_stream_events(st, &wait);
	if (wait)
		mux_link_wait_add(st);
	if (st->flags & MUX_S_PARKED) {
		if (!(ev & EV_READ))
			return;
		st->flags &= ~MUX_S_PARKED;
		if (ev_io_add(m->loop, &st->io, st->wfd, ev, mux_stream_cb, st) != 0) {
			close(st->wfd);
			st->flags |= MUX_S_RD_EOF | MUX_S_WR_SHUT;
			mux_stream_kill(st, PROTO_CLOSE_RESOURCE, false);
		}
		return;
	}
	if (ev_io_set(m->loop, &st->io, ev) != 0)
		mux_stream_kill(st, PROTO_CLOSE_RESOURCE, true);
}

void
mux_link_drained(struct mux *m)
{
	struct mux_stream	*st, *next;

	if (buf_len(&m->link_out) >= MUX_LINK_SOFT / 2)
		return;
	/* Detach the list first: a stream may join it again below. */
	st = m->link_wait;
	m->link_wait = NULL;
	for (; st != NULL; st = next) {
		next = st->wnext;
		st->wnext = st->wprev = NULL;
		st->flags &= ~MUX_S_LINK_WAIT;
		mux_stream_update(st);
	}
}

/* ---- frames in ---- */

static void
mux_on_open(struct mux *m, const struct proto_frame *f)
{
	struct mux_stream	*st;
	int			 fd;

	if (f->bad) {
		log_warn("stream %u: invalid OPEN: %s; closing the stream", f->stream,
		    proto_strerror(f->bad));
		(void)mux_send_simple(m, PROTO_CLOSE, f->stream, PROTO_CLOSE_PROTOCOL);
		return;
	}
	if ((fd = m->ops->open(m, &f->u.open)) < 0) {
		m->streams_failed++;
		(void)mux_send_simple(m, PROTO_OPEN_RESULT, f->stream,
		    proto_status_from_errno(-fd));
		return;
	}
	if ((st = mux_stream_new(m, f->stream)) == NULL) {
		close(fd);
		(void)mux_send_simple(m, PROTO_OPEN_RESULT, f->stream, PROTO_ST_FAILED);
		return;
	}
	m->streams_opened++;
	st->flags |= MUX_S_CONNECTING;
	st->deadline = ev_now() + MUX_CONNECT_TIMEOUT_MS;
	if (ev_io_add(m->loop, &st->io, fd, EV_WRITE, mux_stream_cb, st) != 0) {
		close(fd);
		(void)mux_send_simple(m, PROTO_OPEN_RESULT, f->stream, PROTO_ST_FAILED);
		mux_stream_kill(st, -1, false);
	}
}

/* A frame for a stream we have: DATA, CREDIT, EOF, CLOSE, OPEN_RESULT. */
static void
mux_on_stream_frame(struct mux *m, struct mux_stream *st, const struct proto_frame *f)
{
	const char	*why = NULL;
	ssize_t		 n = 0;

	if (f->bad) {
		why = proto_strerror(f->bad);
		goto violation;
	}
	if ((st->flags & MUX_S_PENDING) && f->type != PROTO_OPEN_RESULT &&
	    f->type != PROTO_CLOSE) {
		why = "frame before OPEN_RESULT";
		goto violation;
	}
	switch (f->type) {
	case PROTO_OPEN_RESULT:
		if (!(st->flags & MUX_S_PENDING)) {
			why = "unexpected OPEN_RESULT";
			goto violation;
		}
		st->flags &= ~MUX_S_PENDING;
		if (f->u.status != PROTO_ST_OK) {
			log_debug("stream %u: remote connect failed: %s", st->id,
			    proto_status_name(f->u.status));
			m->streams_failed++;
			mux_stream_kill(st, -1, true);
			return;
		}
		break;
	case PROTO_DATA:
		if (st->flags & MUX_S_PEER_EOF) {
			why = "DATA after EOF";
			goto violation;
		}
		if (f->len > st->rx_avail) {
			why = "DATA beyond the granted credit";
			goto violation;
		}
		st->rx_avail -= f->len;
		st->bytes_in += f->len;
		/* Straight to the socket when nothing is queued: saves a
		 * copy and an event-loop pass on the common path. */
		if (buf_len(&st->out) == 0 && !(st->flags & MUX_S_CONNECTING)) {
			n = send(mux_stream_fd(st), f->payload, f->len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
					mux_stream_kill(st, PROTO_CLOSE_RESET, true);
					return;
				}
				n = 0;
			}
		}
		if ((size_t)n < f->len &&
		    buf_append(&st->out, f->payload + n, f->len - (size_t)n) != 0) {
			mux_stream_kill(st, PROTO_CLOSE_RESOURCE, true);
			return;
		}
		if (n > 0)
			mux_stream_give_credit(st, (size_t)n);
		break;
	case PROTO_CREDIT:
		if ((uint64_t)st->tx_credit + f->u.credit > m->peer_window) {
			why = "CREDIT beyond the window";
			goto violation;
		}
		st->tx_credit += f->u.credit;
		break;
	case PROTO_EOF:
		if (st->flags & MUX_S_PEER_EOF) {
			why = "duplicate EOF";
			goto violation;
		}
		st->flags |= MUX_S_PEER_EOF;
		if (!(st->flags & MUX_S_CONNECTING) && mux_stream_flush(st) < 0)
			return;
		break;
	case PROTO_CLOSE:
		log_trace("stream %u: peer closed it (reason %u)", st->id, f->u.reason);
		mux_stream_kill(st, -1, true);
		return;
	}
	mux_stream_update(st);
	return;
violation:
	log_warn("stream %u: protocol violation by the peer: %s; closing the stream",
	    st->id, why);
	mux_stream_kill(st, PROTO_CLOSE_PROTOCOL, true);
}

static void
mux_on_session_frame(struct mux *m, const struct proto_frame *f)
{
	char	 text[PROTO_MAX_ERROR_TEXT + 1];
	size_t	 i;

	switch (f->type) {
	case PROTO_HELLO:
		if (m->hello_seen) {
			mux_fail(m, "protocol error: second HELLO");
			return;
		}
		if (f->u.hello.role == m->role) {
			mux_fail(m, "protocol error: peer claims our own role");
			return;
		}
		m->hello_seen = true;
		m->peer_window = f->u.hello.window;
		if (m->ops->hello != NULL)
			m->ops->hello(m, &f->u.hello);
		break;
	case PROTO_ERROR:
		for (i = 0; i < f->len; i++) {
			uint8_t c = f->payload[i];
			text[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		}
		text[f->len] = '\0';
		mux_fail(m, "remote error: %s", text);
		break;
	case PROTO_PING:
		(void)mux_send_ping(m, PROTO_PONG, f->u.ping);
		break;
	case PROTO_PONG:
		if (m->ops->pong != NULL)
			m->ops->pong(m, f->u.ping);
		break;
	}
}

/* DNS frames: their ids are queries, not streams; see mux_ops.dns. */
static void
mux_on_dns(struct mux *m, const struct proto_frame *f)
{
	bool	to_stub = f->type == PROTO_DNS_CONFIG || f->type == PROTO_DNS_QUERY;

	if (m->ops->dns == NULL) {
		mux_fail(m, "protocol error: unexpected %s (DNS is not enabled here)",
		    proto_type_name(f->type));
		return;
	}
	if (to_stub != (m->role == PROTO_ROLE_STUB)) {
		mux_fail(m, "protocol error: the %s sent %s",
		    m->role == PROTO_ROLE_STUB ? "client" : "stub", proto_type_name(f->type));
		return;
	}
	switch (f->type) {
	case PROTO_DNS_CONFIG:
		/* The server list must not change under queries in flight. */
		if (m->dns_config_seen || m->dns_query_seen) {
			mux_fail(m, "protocol error: DNS_CONFIG %s",
			    m->dns_config_seen ? "sent twice" : "after DNS_QUERY");
			return;
		}
		m->dns_config_seen = true;
		break;
	case PROTO_DNS_QUERY:
		m->dns_query_seen = true;
		break;
	}
	if (f->bad == PROTO_E_STREAM) {
		/* Nothing can be answered without an id: drop it. */
		log_debug("%s without a query id dropped", proto_type_name(f->type));
		return;
	}
	m->ops->dns(m, f, m->dns_arg);
}

static void
mux_dispatch(struct mux *m, const struct proto_frame *f)
{
	struct mux_stream	*st;

	m->frames_in++;
	if (!m->hello_seen && f->type != PROTO_HELLO && f->type != PROTO_ERROR) {
		mux_fail(m, "protocol error: %s before HELLO", proto_type_name(f->type));
		return;
	}
	if (f->type >= PROTO_DNS_CONFIG && f->type <= PROTO_DNS_FAIL) {
		mux_on_dns(m, f);
		return;
	}
	if (f->stream == 0) {
		mux_on_session_frame(m, f);
		return;
	}
	if (f->type == PROTO_OPEN) {
		if (m->role != PROTO_ROLE_STUB)
			mux_fail(m, "protocol error: the stub sent OPEN");
		else if (f->stream != m->last_id + 1)
			mux_fail(m, "protocol error: OPEN for stream %u after %u (ids "
			    "increase by one)", f->stream, m->last_id);
		else {
			m->last_id = f->stream;
			mux_on_open(m, f);
		}
		return;
	}
	if ((st = mux_lookup(m, f->stream)) == NULL) {
		/* Frames for a stream that one side already closed are
		 * expected (they crossed on the wire); never-opened ids
		 * mean the peer is confused. */
		if (f->stream > m->last_id)
			mux_fail(m, "protocol error: %s for stream %u that was never opened",
			    proto_type_name(f->type), f->stream);
		return;
	}
	mux_on_stream_frame(m, st, f);
}

uint8_t *
mux_in_space(struct mux *m, size_t *len)
{
	*len = MUX_IN_MAX - m->in_len;
	return m->in + m->in_len;
}

int
mux_in_commit(struct mux *m, size_t n)
{
	struct proto_frame	f;
	size_t			off = 0;
	int			r;

	m->in_len += n;
	while (m->error[0] == '\0' &&
	    (r = proto_parse(m->in + off, m->in_len - off, &f)) != 0) {
		if (r < 0) {
			mux_fail(m, "protocol error from the peer: %s (frame type 0x%02x)",
			    proto_strerror(r), m->in[off]);
			break;
		}
		mux_dispatch(m, &f);
		off += (size_t)r;
	}
	if (off > 0) {
		memmove(m->in, m->in + off, m->in_len - off);
		m->in_len -= off;
	}
	return m->error[0] == '\0' ? 0 : -1;
}

bool
mux_in_ready(const struct mux *m)
{
	/* Each input byte produces at most about one byte of replies
	 * (PONG for PING), so a whole input buffer must still fit. */
	return buf_len(&m->link_out) + MUX_IN_MAX < MUX_LINK_MAX &&
	    m->in_len < MUX_IN_MAX;
}

/* ---- public stream operations ---- */

struct mux_stream *
mux_stream_open(struct mux *m, int fd, const struct proto_open *dst)
{
	struct mux_stream	*st;
	uint8_t			 f[PROTO_HDR_LEN + 20];
	bool			 wait;

	if (m->last_id == UINT32_MAX) {
		log_warn("stream ids exhausted for this session; connection refused");
		close(fd);
		return NULL;
	}
	if ((st = mux_stream_new(m, m->last_id + 1)) == NULL) {
		log_warn("out of memory for a new stream");
		close(fd);
		return NULL;
	}
	st->flags |= MUX_S_PENDING;
	/* Added with the events it wants (DATA may follow OPEN before the
	 * result): one epoll_ctl per new connection, not an add and a mod;
	 * mux_stream_update() below puts it on the link-wait list if need be. */
	if (ev_io_add(m->loop, &st->io, fd, mux_stream_events(st, &wait),
	    mux_stream_cb, st) != 0) {
		log_warn("cannot watch a new connection: %s", strerror(errno));
		close(fd);
		mux_stream_kill(st, -1, false);
		return NULL;
	}
	if (mux_queue(m, f, proto_put_open(f, sizeof(f), st->id, dst)) != 0) {
		mux_stream_kill(st, -1, true);
		return NULL;
	}
	/* Only an id that went out on the wire is used up: the ids the
	 * stub sees increase by exactly one. */
	m->last_id++;
	m->streams_opened++;
	mux_stream_update(st);
	return st;
}

void
mux_sweep(struct mux *m, uint64_t now)
{
	struct mux_stream	*st, *next;

	for (st = m->all; st != NULL; st = next) {
		next = st->lnext;
		if ((st->flags & MUX_S_CONNECTING) && st->deadline <= now) {
			log_debug("stream %u: connect timed out", st->id);
			m->streams_failed++;
			(void)mux_send_simple(m, PROTO_OPEN_RESULT, st->id, PROTO_ST_TIMEDOUT);
			mux_stream_kill(st, -1, false);
		}
	}
}

int
mux_init(struct mux *m, struct ev_loop *loop, uint8_t role, uint32_t window,
    const struct mux_ops *ops, void *udata)
{
	memset(m, 0, sizeof(*m));
	m->loop = loop;
	m->ops = ops;
	m->udata = udata;
	m->role = role;
	m->window = window;
	m->dns_arg = udata;
	m->peer_window = PROTO_MIN_WINDOW;
	buf_init(&m->link_out, MUX_LINK_MAX);
	m->link_out.keep = 1;
	m->hsize = MUX_HASH_INIT;
	if ((m->hash = calloc(m->hsize, sizeof(*m->hash))) == NULL ||
	    (m->in = malloc(MUX_IN_MAX)) == NULL) {
		free(m->hash);
		m->hash = NULL;
		return -1;
	}
	return 0;
}

void
mux_free(struct mux *m)
{
	while (m->all != NULL)
		mux_stream_kill(m->all, -1, true);
	mux_collect(m);
	free(m->hash);
	free(m->in);
	buf_free(&m->link_out);
	m->hash = NULL;
	m->in = NULL;
}
