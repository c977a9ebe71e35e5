/* SPDX-License-Identifier: ISC */
/*
 * mux_stream.c - the stream half of the mux: each stream's states, its
 * socket, its flow control, and the lists it is on (mux_stream.h).
 *
 * A stream's states change only in mux_stream_set_in(),
 * mux_stream_set_out() and mux_stream_set_conn(), which check each
 * transition and log it; an illegal one is a bug in this file and ends
 * the process.  The transitions happen in these places:
 *
 *   input  OPEN -> EOF_SENT	mux_stream_read(): the socket said EOF
 *   output OPEN -> WAIT_DRAIN	mux_stream_frame(): the peer's EOF
 *   output WAIT_DRAIN -> SHUT	mux_stream_flush(): all written
 *   both   -> CLOSED		mux_stream_kill(): an abort, or the clean
 *				end once input is EOF_SENT and output SHUT
 *   conn   -> UP		mux_stream_connected() (stub),
 *				mux_stream_frame() on OPEN_RESULT (client)
 *
 * A killed stream leaves every list but the garbage list at once and is
 * freed in mux_collect(), after the event pass: never inside its own
 * callback, whose caller may still look at it.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mux_stream.h"
#include "sysdep.h"	/* MSG_NOSIGNAL where send() lacks it */

static void	mux_stream_cb(struct ev_loop *, struct ev_io *, uint32_t);
static void	mux_stream_update(struct mux_stream *);
static int	mux_stream_resend(struct mux_stream *);
static int	mux_stream_read(struct mux_stream *);

/* ---- states ---- */

/* State names, without pointers (nothing for the loader to relocate). */
static const char mux_in_names[][9] = { "OPEN", "EOF_SENT", "CLOSED" };
static const char mux_out_names[][11] = { "OPEN", "WAIT_DRAIN", "SHUT", "CLOSED" };
static const char mux_conn_names[][12] = { "UP", "WAIT_RESULT", "CONNECTING" };

/* The legal next states of each state, as bit masks. */
#define MUX_TO(s)	(1U << (s))
static const uint8_t mux_in_next[] = {
	[MUX_IN_OPEN]		= MUX_TO(MUX_IN_EOF_SENT) | MUX_TO(MUX_IN_CLOSED),
	[MUX_IN_EOF_SENT]	= MUX_TO(MUX_IN_CLOSED),
	[MUX_IN_CLOSED]		= 0,
};
static const uint8_t mux_out_next[] = {
	[MUX_OUT_OPEN]		= MUX_TO(MUX_OUT_WAIT_DRAIN) | MUX_TO(MUX_OUT_CLOSED),
	[MUX_OUT_WAIT_DRAIN]	= MUX_TO(MUX_OUT_SHUT) | MUX_TO(MUX_OUT_CLOSED),
	[MUX_OUT_SHUT]		= MUX_TO(MUX_OUT_CLOSED),
	[MUX_OUT_CLOSED]	= 0,
};
static const uint8_t mux_conn_next[] = {
	[MUX_CONN_UP]		= 0,
	[MUX_CONN_WAIT_RESULT]	= MUX_TO(MUX_CONN_UP),
	[MUX_CONN_CONNECTING]	= MUX_TO(MUX_CONN_UP),
};

/*
 * The one place a transition is checked and logged: `next` (a state of
 * the machine whose names are names[0..], `width` bytes each, and whose
 * legal moves are legal[]) after `cur`.  Returns next.
 */
static unsigned
mux_stream_move(const struct mux_stream *st, const char *what, const char *names,
    size_t width, const uint8_t *legal, unsigned cur, unsigned next)
{
	if (!(legal[cur] & MUX_TO(next)))
		fatal("stream %u: illegal %s transition %s -> %s", st->id, what,
		    names + cur * width, names + next * width);
	log_debug("stream %u: %s %s -> %s", st->id, what, names + cur * width,
	    names + next * width);
	return next;
}

static void
mux_stream_set_in(struct mux_stream *st, enum mux_in next)
{
	st->istate = mux_stream_move(st, "input", mux_in_names[0], sizeof(mux_in_names[0]),
	    mux_in_next, st->istate, next);
}

static void
mux_stream_set_out(struct mux_stream *st, enum mux_out next)
{
	st->ostate = mux_stream_move(st, "output", mux_out_names[0],
	    sizeof(mux_out_names[0]), mux_out_next, st->ostate, next);
}

static void
mux_stream_set_conn(struct mux_stream *st, enum mux_conn next)
{
	st->conn = mux_stream_move(st, "connection", mux_conn_names[0],
	    sizeof(mux_conn_names[0]), mux_conn_next, st->conn, next);
}

/* Killed in this pass, waiting for mux_collect(). */
static bool
mux_stream_dead(const struct mux_stream *st)
{
	return st->istate == MUX_IN_CLOSED;
}

/* The stream's socket, also while it is parked (unregistered). */
static int
mux_stream_fd(const struct mux_stream *st)
{
	return st->parked ? st->parked_fd : st->io.fd;
}

/* ---- the budget ---- */

/* The least credit of a stream: MUX_CREDIT_FLOOR, or the whole window
 * when that is smaller (a window below PROTO_MIN_WINDOW is a test's). */
static uint32_t
mux_floor(const struct mux *m)
{
	return m->window < MUX_CREDIT_FLOOR ? m->window : MUX_CREDIT_FLOOR;
}

/* Bytes the budget has left; 0 past it (and without a budget). */
static size_t
mux_budget_room(const struct mux *m)
{
	return m->stats.committed < m->budget ? m->budget - m->stats.committed : 0;
}

/* The most a new stream is granted: the window, or with windows that
 * grow a share of it (never below the floor). */
static uint32_t
mux_start_max(const struct mux *m)
{
	uint32_t	max = m->window;

	if (mux_grows(m))
		max /= MUX_START_SHARE;
	return max < mux_floor(m) ? mux_floor(m) : max;
}

/*
 * The initial credit of a new stream: a quarter of what the budget has
 * left, so that the streams after it find some too; at least the floor
 * (a new stream always moves), at most mux_start_max().  Without a
 * budget, mux_start_max().
 */
static uint32_t
mux_budget_initial(const struct mux *m)
{
	size_t	share;

	if (m->budget == 0)
		return mux_start_max(m);
	share = mux_budget_room(m) / 4;
	if (share < mux_floor(m))
		return mux_floor(m);
	return share < mux_start_max(m) ? (uint32_t)share : mux_start_max(m);
}

/*
 * How much a stream's grant grows as credit goes out: with windows that
 * grow, only while the peer reports being held back by it; without, on
 * every return while there is a budget to take it from (the rule before
 * the feature).  At most doubling, up to the window, and within a
 * quarter of the budget's room.
 */
static uint32_t
mux_grow_by(const struct mux_stream *st)
{
	const struct mux	*m = st->mux;
	size_t			 grow, room;

	if (mux_grows(m) ? !st->peer_blocked : m->budget == 0)
		return 0;
	if (st->allot >= m->window)
		return 0;
	grow = m->window - st->allot;
	if (grow > st->allot)
		grow = st->allot;
	if (m->budget != 0) {
		room = mux_budget_room(m) / 4;
		if (grow > room)
			grow = room;
	}
	return (uint32_t)grow;
}

/* The one place a stream's share of the budget changes. */
static void
mux_stream_set_allot(struct mux_stream *st, uint32_t allot)
{
	st->mux->stats.committed -= st->allot;
	st->mux->stats.committed += allot;
	st->allot = allot;
	if (allot > st->mux->stats.grant_peak)
		st->mux->stats.grant_peak = allot;
}

/* The peer has the stream's DATA up to offset `to`: what retx held of it
 * is freed, and leaves the budget. */
static void
mux_stream_release(struct mux_stream *st, uint64_t to)
{
	size_t	n;

	if (to <= st->tx_acked)
		return;
	n = (size_t)(to - st->tx_acked);
	if (n > buf_len(&st->retx))
		n = buf_len(&st->retx);
	buf_consume(&st->retx, n);
	st->mux->stats.retained -= n;
	st->mux->stats.committed -= n;
	st->tx_acked = to;
}

/* ---- stream table ---- */

static size_t
mux_slot(const struct mux *m, uint32_t id)
{
	return (id * 2654435761U) & (m->hsize - 1);
}

struct mux_stream *
mux_stream_lookup(const struct mux *m, uint32_t id)
{
	struct mux_stream	*st;

	LIST_FOREACH(st, &m->hash[mux_slot(m, id)], hentry)
		if (st->id == id)
			return st;
	return NULL;
}

static void
mux_hash_grow(struct mux *m)
{
	struct mux_chain	*nh, *oh = m->hash;
	struct mux_stream	*st;
	size_t			 i, osize = m->hsize;

	if ((nh = calloc(osize * 2, sizeof(*nh))) == NULL)
		return;		/* longer chains, still correct */
	m->hash = nh;
	m->hsize = osize * 2;
	for (i = 0; i < osize; i++) {
		while ((st = LIST_FIRST(&oh[i])) != NULL) {
			LIST_REMOVE(st, hentry);
			LIST_INSERT_HEAD(&nh[mux_slot(m, st->id)], st, hentry);
		}
	}
	free(oh);
}

static struct mux_stream *
mux_stream_new(struct mux *m, uint32_t id, enum mux_conn conn)
{
	struct mux_stream	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->id = id;
	st->istate = MUX_IN_OPEN;
	st->ostate = MUX_OUT_OPEN;
	st->conn = conn;
	st->parked_fd = -1;
	st->mux = m;
	st->io.fd = -1;
	buf_init(&st->out, m->window);
	/* What the peer may still lack is bounded by what it granted. */
	buf_init(&st->retx, PROTO_MAX_WINDOW);
	st->no_resume = !m->resume;
	/* Opened on a resumed link before the peer's RESUME_END: after our
	 * own RESUME entries, so the peer's cannot list it. */
	st->resume_listed = m->link == MUX_LINK_RESUMING;
	/*
	 * Without the long forms each side grants the HELLO window.  With
	 * them the client grants its share in OPEN and may send the floor
	 * before OPEN_RESULT says what the stub grants; the stub grants the
	 * floor until its OPEN_RESULT (mux_stream_connected) and takes what
	 * the OPEN says (mux_stream_accept).
	 */
	if (!mux_long_forms(m)) {
		st->tx_credit = m->peer_window;
		mux_stream_set_allot(st, m->window);
	} else if (conn == MUX_CONN_WAIT_RESULT) {
		st->tx_credit = mux_floor(m);
		mux_stream_set_allot(st, mux_budget_initial(m));
	} else
		mux_stream_set_allot(st, mux_floor(m));
	st->rx_avail = st->allot;
	if (m->stats.nstreams >= m->hsize * 2)
		mux_hash_grow(m);
	LIST_INSERT_HEAD(&m->hash[mux_slot(m, id)], st, hentry);
	LIST_INSERT_HEAD(&m->all, st, lentry);
	m->stats.nstreams++;
	return st;
}

/* ---- the link-wait queue ---- */

static void
mux_link_wait_add(struct mux_stream *st)
{
	if (st->link_waiting)
		return;
	st->link_waiting = true;
	TAILQ_INSERT_TAIL(&st->mux->link_wait, st, wentry);
	st->mux->nwaiting++;
	st->mux->stats.link_waits++;
}

static void
mux_link_wait_del(struct mux_stream *st)
{
	if (!st->link_waiting)
		return;
	st->link_waiting = false;
	TAILQ_REMOVE(&st->mux->link_wait, st, wentry);
	st->mux->nwaiting--;
}

/*
 * The link drained below half its soft limit.  The waiting streams are
 * read here, in arrival order, rather than given back EV_READ: arming
 * every waiter cost two epoll_ctl per waiter per drain, since most of
 * them found the link full again before their turn.  A stream that
 * fills it rejoins the tail without a system call; one whose socket ran
 * dry takes EV_READ again (mux_stream_update).  The count keeps a pass
 * from coming back to a stream; MUX_WAKE_PASS bounds what one loop pass
 * reads this way, and the rest are served by mux_collect() on the next
 * pass, which the loop then runs without sleeping.
 */
void
mux_stream_wake(struct mux *m)
{
	struct mux_stream	*st;
	size_t			 n = m->nwaiting, before;

	/* After BYE the session only waits for its PONG. */
	if (m->ending)
		return;
	while (n-- > 0 && buf_len(&m->link_out) < MUX_LINK_SOFT &&
	    m->wake_read < MUX_WAKE_PASS && (st = TAILQ_FIRST(&m->link_wait)) != NULL) {
		mux_link_wait_del(st);
		m->stats.wakeups++;
		/* Everything it queued counts, a CLOSE of one that died too:
		 * the link queue only grows in here. */
		before = buf_len(&m->link_out);
		if (mux_stream_read(st) == 0)
			mux_stream_update(st);
		m->wake_read += buf_len(&m->link_out) - before;
	}
	if (m->nwaiting > 0 && m->wake_read >= MUX_WAKE_PASS)
		m->loop->nowait = 1;
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

	if (mux_stream_dead(st))
		return;
	if (close_reason >= 0)
		(void)mux_send_simple(m, PROTO_CLOSE, st->id, (uint32_t)close_reason);
	/* The stub never forks (server-stub/): the close below is the
	 * socket's last, and takes it out of epoll.  The client does fork
	 * (ssh, the helper), and a child could hold it for a moment. */
	if (m->role == PROTO_ROLE_STUB && fd >= 0)
		ev_io_forget(st->mux->loop, &st->io);
	else
		ev_io_del(m->loop, &st->io);
	m->stats.queued -= buf_len(&st->out);		/* discarded */
	mux_stream_set_allot(st, 0);
	mux_stream_release(st, st->tx_off);
	if (fd >= 0) {
		if (rst)
			(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	st->parked = false;
	st->parked_fd = -1;
	mux_stream_set_in(st, MUX_IN_CLOSED);
	mux_stream_set_out(st, MUX_OUT_CLOSED);
	mux_link_wait_del(st);
	LIST_REMOVE(st, hentry);
	LIST_REMOVE(st, lentry);
	m->stats.nstreams--;
	SLIST_INSERT_HEAD(&m->garbage, st, gentry);
	log_trace("stream %u closed%s (in %llu, out %llu bytes)", st->id,
	    rst ? " with reset" : "", (unsigned long long)st->bytes_in,
	    (unsigned long long)st->bytes_out);
}

void
mux_collect(struct mux *m)
{
	struct mux_stream	*st;

	while ((st = SLIST_FIRST(&m->garbage)) != NULL) {
		SLIST_REMOVE_HEAD(&m->garbage, gentry);
		buf_free(&st->out);
		buf_free(&st->retx);
		free(st);
	}
	/* A new pass: the OPENs and the streams the last one left waiting. */
	m->opens_pass = 0;
	if (m->in_more)
		(void)mux_in_commit(m, 0);
	m->wake_read = 0;
	if (m->nwaiting > 0 && buf_len(&m->link_out) < MUX_LINK_SOFT / 2) {
		mux_stream_wake(m);
		/* Called after the caller's flush, perhaps: come back at
		 * once to send what they gave. */
		if (m->wake_read > 0)
			m->loop->nowait = 1;
	}
}

void
mux_stream_free_all(struct mux *m)
{
	struct mux_stream	*st;

	/* Deferred OPENs die with the session: no connection is started
	 * by the collect below. */
	m->in_more = false;
	m->in_len = 0;
	while ((st = LIST_FIRST(&m->all)) != NULL)
		mux_stream_kill(st, -1, true);
	mux_collect(m);
}

/* Both directions are finished and flushed: a clean close. */
static void
mux_stream_check_done(struct mux_stream *st)
{
	/* With resume, the stream is kept until the peer has our EOF: a
	 * link lost before that would otherwise lose the end. */
	if (st->istate == MUX_IN_EOF_SENT && st->ostate == MUX_OUT_SHUT &&
	    (!st->mux->resume || st->eof_acked))
		mux_stream_kill(st, -1, false);
}

/* ---- socket side ---- */

/* Resume: tell the peer how much of the stream arrived (and whether its
 * EOF did).  0, or -1 (the session failed). */
static int
mux_stream_ack(struct mux_stream *st, uint8_t flags)
{
	uint8_t	f[PROTO_HDR_LEN + PROTO_ACK_LEN];

	if (!st->mux->resume)
		return 0;
	return mux_queue(st->mux, f, proto_put_ack(f, sizeof(f), st->id, st->rx_off, flags));
}

/*
 * n bytes went to the socket.  Credit goes back in batches of a quarter
 * of the stream's grant: fewer frames, and the sender never stalls while
 * three quarters are still open.  The budget acts here, on credit that
 * comes back (what was granted is never revoked): past it the grant
 * shrinks towards the floor by what is returned short; below it the grant
 * grows by up to a quarter of the room, at most doubling, up to the window.
 */
static void
mux_stream_give_credit(struct mux_stream *st, size_t n)
{
	struct mux	*m = st->mux;
	size_t		 over;
	uint32_t	 inc, cut = 0, grow = 0;

	st->rx_consumed += (uint32_t)n;
	/* After the peer's EOF it sends nothing more: no credit, and only
	 * what is still queued counts against the budget. */
	if (st->ostate != MUX_OUT_OPEN) {
		st->rx_avail = st->rx_consumed = 0;
		mux_stream_set_allot(st, (uint32_t)buf_len(&st->out));
		return;
	}
	/*
	 * A grant that grows for a blocked peer goes out at once, with what
	 * was written since the last CREDIT.  Nothing else skips the
	 * quarter: answering every BLOCKED with what little there is would
	 * have the peer send in small pieces, each after a round trip (when
	 * the grant is all at the peer or in flight, a BLOCKED means the
	 * path, not the window, is the limit).
	 */
	over = m->budget != 0 && m->stats.committed > m->budget ?
	    m->stats.committed - m->budget : 0;
	if (over == 0)
		grow = mux_grow_by(st);
	if (!(grow > 0 && mux_grows(m)) &&
	    (st->rx_consumed < st->allot / 4 || st->rx_consumed == 0))
		return;
	inc = st->rx_consumed;
	if (over > 0) {
		cut = st->allot > mux_floor(m) ? st->allot - mux_floor(m) : 0;
		if (cut > inc)
			cut = inc;
		if (cut > over)
			cut = (uint32_t)over;
	}
	inc = inc - cut + grow;
	/* What arrived first, so that the peer frees it before the credit
	 * lets it send more. */
	if (inc > 0 && mux_stream_ack(st, 0) != 0)
		return;
	if (inc > 0 && mux_send_simple(m, PROTO_CREDIT, st->id, inc) != 0)
		return;
	if (inc > 0)
		st->peer_blocked = false;
	st->rx_avail += inc;
	st->rx_consumed = 0;
	mux_stream_set_allot(st, st->allot - cut + grow);
}

/* Windows that grow: tell the peer, once per wait for credit.  Advice
 * only: a BLOCKED that finds the link full is not sent. */
static void
mux_stream_say_blocked(struct mux_stream *st)
{
	if (!mux_grows(st->mux) || st->blocked_sent)
		return;
	if (mux_send_simple(st->mux, PROTO_BLOCKED, st->id, 0) == 0) {
		st->blocked_sent = true;
		st->mux->stats.blocked_sent++;
	}
}

/* Write queued peer data to the socket.  Returns -1 if the stream died. */
static int
mux_stream_flush(struct mux_stream *st)
{
	struct mux	*m = st->mux;
	ssize_t		 n;
	size_t		 total = 0;

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
		m->stats.queued -= (size_t)n;
		total += (size_t)n;
	}
	if (total > 0)
		mux_stream_give_credit(st, total);
	if (buf_len(&st->out) == 0 && st->ostate == MUX_OUT_WAIT_DRAIN) {
		(void)shutdown(mux_stream_fd(st), SHUT_WR);
		mux_stream_set_out(st, MUX_OUT_SHUT);
		mux_stream_check_done(st);
		if (mux_stream_dead(st))
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
	ssize_t		 n = 0;
	int		 i;

	/* Nothing goes out without a link, nor before a resend is done
	 * (EV_HUP comes whatever the mask says), nor after BYE. */
	if (m->link != MUX_LINK_UP || st->resend_off != st->tx_off || m->ending)
		return 0;
	for (i = 0; i < MUX_READ_FRAMES; i++) {
		if (st->istate != MUX_IN_OPEN || st->tx_credit == 0)
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
		n = recv(mux_stream_fd(st), p + PROTO_HDR_LEN, want, 0);
		if (n <= 0)
			break;
		(void)proto_put_data_hdr(p, PROTO_HDR_LEN, st->id, (uint16_t)n);
		if (m->resume && !st->no_resume) {
			/* Kept until the peer acknowledges it. */
			if (buf_append(&st->retx, p + PROTO_HDR_LEN, (size_t)n) != 0) {
				mux_stream_kill(st, PROTO_CLOSE_RESOURCE, true);
				return -1;
			}
			m->stats.retained += (size_t)n;
			m->stats.committed += (size_t)n;
		}
		st->tx_off += (uint64_t)n;
		st->resend_off = st->tx_off;
		buf_commit(&m->link_out, PROTO_HDR_LEN + (size_t)n);
		m->stats.frames_out++;
		st->tx_credit -= (uint32_t)n;
		st->bytes_out += (uint64_t)n;
		m->stats.bytes_out += (uint64_t)n;
		/* The credit ran out with the socket still giving: the
		 * peer's grant, not the application, holds us back. */
		if (st->tx_credit == 0 && (size_t)n == want)
			mux_stream_say_blocked(st);
		/* A short read drained the socket: the next recv would only
		 * say EAGAIN. */
		if ((size_t)n < want)
			return 0;
	}
	if (n > 0)
		return 0;
	if (n == 0) {
		mux_stream_set_in(st, MUX_IN_EOF_SENT);
		if (mux_send_simple(m, PROTO_EOF, st->id, 0) != 0)
			return -1;
		mux_stream_check_done(st);
		return mux_stream_dead(st) ? -1 : 0;
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
	uint32_t	 grant;
	int		 err = 0;

	if (getsockopt(st->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	if (err != 0) {
		(void)mux_send_result(m, st->id, proto_status_from_errno(err), 0);
		log_debug("stream %u: connect: %s", st->id, strerror(err));
		m->stats.streams_failed++;
		/* The client resets its side when it reads the result. */
		mux_stream_kill(st, -1, false);
		return;
	}
	/* Our grant, from the budget as it is now; the floor granted until
	 * here is part of it. */
	if (mux_long_forms(m)) {
		grant = mux_budget_initial(m);
		st->rx_avail += grant - st->allot;
		mux_stream_set_allot(st, grant);
	}
	(void)mux_send_result(m, st->id, PROTO_ST_OK, st->allot);
	mux_stream_set_conn(st, MUX_CONN_UP);
	/* The EOF that came while connecting is acknowledged only now:
	 * nothing may precede OPEN_RESULT. */
	if (st->ostate != MUX_OUT_OPEN && mux_stream_ack(st, PROTO_ACK_EOF) != 0)
		return;
	/* DATA and EOF that came before the connection was up. */
	(void)mux_stream_flush(st);
}

static void
mux_stream_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct mux_stream	*st = io->arg;
	socklen_t		 len = sizeof(int);
	int			 err = 0;

	if (st->conn == MUX_CONN_CONNECTING) {
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
	if ((revents & EV_HUP) && !mux_stream_dead(st) && !(io->events & EV_READ)) {
		/*
		 * EV_HUP is reported whatever the mask says.  With both
		 * directions shut but unread data we cannot take yet (no
		 * credit), level-triggered epoll would spin: park the fd
		 * until credit arrives.
		 */
		st->parked_fd = io->fd;
		ev_io_del(loop, io);
		st->parked = true;
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
	if (st->conn == MUX_CONN_CONNECTING)
		return EV_WRITE;
	if (st->istate == MUX_IN_OPEN && st->tx_credit > 0 &&
	    st->mux->link == MUX_LINK_UP && st->resend_off == st->tx_off) {
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

	if (mux_stream_dead(st))
		return;
	if (m->link == MUX_LINK_UP && (st->resend_off < st->tx_off || st->eof_resend) &&
	    mux_stream_resend(st) != 0)
		return;
	ev = mux_stream_events(st, &wait);
	if (wait)
		mux_link_wait_add(st);
	if (st->parked) {
		if (!(ev & EV_READ))
			return;
		if (ev_io_add(m->loop, &st->io, st->parked_fd, ev, mux_stream_cb, st) != 0) {
			/* Still parked: the kill closes parked_fd. */
			mux_stream_kill(st, PROTO_CLOSE_RESOURCE, false);
			return;
		}
		st->parked = false;
		st->parked_fd = -1;
		return;
	}
	if (ev_io_set(m->loop, &st->io, ev) != 0)
		mux_stream_kill(st, PROTO_CLOSE_RESOURCE, true);
}

/* ---- frames in ---- */

void
mux_stream_accept(struct mux *m, const struct proto_frame *f)
{
	struct mux_stream	*st;
	const char		*why = NULL;
	int			 fd;

	if (f->bad)
		why = proto_strerror(f->bad);
	else if (f->has_credit != mux_long_forms(m))
		why = f->has_credit ? "initial credit without PROTO_FEAT_CREDIT" :
		    "no initial credit with PROTO_FEAT_CREDIT";
	else if (f->has_credit && (f->credit < MUX_CREDIT_FLOOR || f->credit > m->peer_window))
		why = "initial credit outside the floor and the window";
	if (why != NULL) {
		log_warn("stream %u: invalid OPEN: %s; closing the stream", f->stream, why);
		(void)mux_send_simple(m, PROTO_CLOSE, f->stream, PROTO_CLOSE_PROTOCOL);
		return;
	}
	if (m->max_streams != 0 && m->stats.nstreams >= m->max_streams) {
		m->stats.streams_refused++;
		log_limited(&m->ll_refused, MUX_REFUSED_LOG_MS, LOG_LVL_WARN,
		    "%zu streams open, the maximum: refused a new one", m->stats.nstreams);
		(void)mux_send_result(m, f->stream, PROTO_ST_BUSY, 0);
		return;
	}
	if ((fd = m->ops->open(m, &f->u.open)) < 0) {
		m->stats.streams_failed++;
		(void)mux_send_result(m, f->stream, proto_status_from_errno(-fd), 0);
		return;
	}
	if ((st = mux_stream_new(m, f->stream, MUX_CONN_CONNECTING)) == NULL) {
		close(fd);
		(void)mux_send_result(m, f->stream, PROTO_ST_FAILED, 0);
		return;
	}
	if (f->has_credit)
		st->tx_credit = f->credit;
	m->stats.streams_opened++;
	st->deadline = ev_now() + MUX_CONNECT_TIMEOUT_MS;
	if (ev_io_add(m->loop, &st->io, fd, EV_WRITE, mux_stream_cb, st) != 0) {
		close(fd);
		(void)mux_send_result(m, f->stream, PROTO_ST_FAILED, 0);
		mux_stream_kill(st, -1, false);
	}
}

/* DATA from the peer: straight to the socket when possible, else queued. */
static void
mux_stream_data(struct mux_stream *st, const struct proto_frame *f)
{
	struct mux	*m = st->mux;
	ssize_t		 n = 0;

	st->rx_avail -= f->len;
	st->rx_off += f->len;
	st->bytes_in += f->len;
	m->stats.bytes_in += f->len;
	/* Straight to the socket when nothing is queued: saves a copy and
	 * an event-loop pass on the common path. */
	if (buf_len(&st->out) == 0 && st->conn != MUX_CONN_CONNECTING) {
		n = send(mux_stream_fd(st), f->payload, f->len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				mux_stream_kill(st, PROTO_CLOSE_RESET, true);
				return;
			}
			n = 0;
		}
	}
	if ((size_t)n < f->len) {
		if (buf_append(&st->out, f->payload + n, f->len - (size_t)n) != 0) {
			mux_stream_kill(st, PROTO_CLOSE_RESOURCE, true);
			return;
		}
		m->stats.queued += f->len - (size_t)n;
		if (buf_len(&st->out) > m->stats.queued_peak)
			m->stats.queued_peak = buf_len(&st->out);
	}
	if (n > 0)
		mux_stream_give_credit(st, (size_t)n);
	mux_stream_update(st);
}

void
mux_stream_frame(struct mux_stream *st, const struct proto_frame *f)
{
	struct mux	*m = st->mux;
	const char	*why = NULL;

	if (f->bad) {
		why = proto_strerror(f->bad);
		goto violation;
	}
	if (st->conn == MUX_CONN_WAIT_RESULT && f->type != PROTO_OPEN_RESULT &&
	    f->type != PROTO_CLOSE) {
		why = "frame before OPEN_RESULT";
		goto violation;
	}
	switch (f->type) {
	case PROTO_OPEN_RESULT:
		if (st->conn != MUX_CONN_WAIT_RESULT) {
			why = "unexpected OPEN_RESULT";
			goto violation;
		}
		if (f->has_credit != mux_long_forms(m)) {
			why = f->has_credit ? "initial credit without PROTO_FEAT_CREDIT" :
			    "no initial credit with PROTO_FEAT_CREDIT";
			goto violation;
		}
		if (f->u.status != PROTO_ST_OK) {
			log_debug("stream %u: remote connect failed: %s", st->id,
			    proto_status_name(f->u.status));
			m->stats.streams_failed++;
			mux_stream_kill(st, -1, true);
			return;
		}
		/* The floor we could send early is part of the grant. */
		if (f->has_credit) {
			if (f->credit < MUX_CREDIT_FLOOR || f->credit > m->peer_window) {
				why = "initial credit outside the floor and the window";
				goto violation;
			}
			st->tx_credit += f->credit - mux_floor(m);
			st->blocked_sent = false;
		}
		mux_stream_set_conn(st, MUX_CONN_UP);
		break;
	case PROTO_DATA:
		if (st->ostate != MUX_OUT_OPEN) {
			why = "DATA after EOF";
			goto violation;
		}
		if (f->len > st->rx_avail) {
			why = "DATA beyond the granted credit";
			goto violation;
		}
		mux_stream_data(st, f);
		return;
	case PROTO_CREDIT:
		if ((uint64_t)st->tx_credit + f->u.credit > m->peer_window) {
			why = "CREDIT beyond the window";
			goto violation;
		}
		st->tx_credit += f->u.credit;
		st->blocked_sent = false;
		break;
	case PROTO_BLOCKED:
		if (st->ostate != MUX_OUT_OPEN) {
			why = "BLOCKED after EOF";
			goto violation;
		}
		/*
		 * Our grant holds the sender back only if what arrived is
		 * being written: a long queue means an application that
		 * reads slowly here, which more credit would only buffer.
		 */
		if (buf_len(&st->out) <= st->allot / 4) {
			st->peer_blocked = true;
			m->stats.blocked_seen++;
			mux_stream_give_credit(st, 0);
			if (mux_stream_dead(st))
				return;
		}
		break;
	case PROTO_EOF:
		if (st->ostate != MUX_OUT_OPEN) {
			why = "duplicate EOF";
			goto violation;
		}
		mux_stream_set_out(st, MUX_OUT_WAIT_DRAIN);
		/* While connecting, after OPEN_RESULT (mux_stream_connected). */
		if (st->conn != MUX_CONN_CONNECTING && mux_stream_ack(st, PROTO_ACK_EOF) != 0)
			return;
		/* While connecting, mux_stream_connected() flushes. */
		if (st->conn != MUX_CONN_CONNECTING && mux_stream_flush(st) < 0)
			return;
		break;
	case PROTO_ACK:
		if (f->u.ack.received < st->tx_acked || f->u.ack.received > st->tx_off) {
			why = "ACK outside what was sent";
			goto violation;
		}
		if ((f->u.ack.flags & PROTO_ACK_EOF) &&
		    (st->istate != MUX_IN_EOF_SENT || f->u.ack.received != st->tx_off)) {
			why = "ACK of an EOF not sent";
			goto violation;
		}
		if (!st->no_resume)
			mux_stream_release(st, f->u.ack.received);
		if (f->u.ack.flags & PROTO_ACK_EOF) {
			st->eof_acked = true;
			mux_stream_check_done(st);
			if (mux_stream_dead(st))
				return;
		}
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

/* ---- public stream operations ---- */

struct mux_stream *
mux_stream_open(struct mux *m, int fd, const struct addr *dst)
{
	struct mux_stream	*st;
	struct proto_open	 o;
	struct linger		 lg = { 1, 0 };
	uint8_t			 f[PROTO_HDR_LEN + PROTO_OPEN6_LEN + PROTO_CREDIT_FIELD_LEN];
	bool			 wait;
	int			 n;

	if (m->max_streams != 0 && m->stats.nstreams >= m->max_streams) {
		m->stats.streams_refused++;
		log_limited(&m->ll_refused, MUX_REFUSED_LOG_MS, LOG_LVL_WARN,
		    "%zu streams open, the maximum (--max-streams): connection reset",
		    m->stats.nstreams);
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		return NULL;
	}
	if (m->last_id == UINT32_MAX) {
		log_warn("stream ids exhausted for this session; connection refused");
		close(fd);
		return NULL;
	}
	if ((st = mux_stream_new(m, m->last_id + 1, MUX_CONN_WAIT_RESULT)) == NULL) {
		log_warn("out of memory for a new stream");
		close(fd);
		return NULL;
	}
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
	memset(&o, 0, sizeof(o));
	o.ipproto = IPPROTO_TCP;
	o.dst = *dst;
	n = mux_long_forms(m) ? proto_put_open_credit(f, sizeof(f), st->id, &o, st->allot) :
	    proto_put_open(f, sizeof(f), st->id, &o);
	if (mux_queue(m, f, n) != 0) {
		mux_stream_kill(st, -1, true);
		return NULL;
	}
	/* Only an id that went out on the wire is used up: the ids the
	 * stub sees increase by exactly one. */
	m->last_id++;
	m->stats.streams_opened++;
	/*
	 * What the application sent already (most clients speak first, and
	 * their request is often in by the time we accept) goes out with
	 * OPEN, in the same write to the link: one packet to the stub, not
	 * two, and no wakeup for it.  The credit is the floor until
	 * OPEN_RESULT, so this reads at most that.
	 */
	if (mux_stream_read(st) < 0)
		return NULL;
	mux_stream_update(st);
	return st;
}

void
mux_sweep(struct mux *m, uint64_t now)
{
	struct mux_stream	*st, *next;

	LIST_FOREACH_SAFE(st, &m->all, lentry, next) {
		if (st->conn == MUX_CONN_CONNECTING && st->deadline <= now) {
			log_debug("stream %u: connect timed out", st->id);
			m->stats.streams_failed++;
			(void)mux_send_result(m, st->id, PROTO_ST_TIMEDOUT, 0);
			mux_stream_kill(st, -1, false);
		}
	}
}

/* ---- resume (docs/PROTOCOL.md §11) ---- */

/*
 * After a resume: DATA again from resend_off (what the peer said it has)
 * up to tx_off, out of retx, as far as the link queue takes it; then our
 * EOF if the peer lacks it.  The stream waits for the link like a reader
 * meanwhile, and reads its socket only when this is done.  0, or -1 when
 * the session failed.
 */
static int
mux_stream_resend(struct mux_stream *st)
{
	struct mux	*m = st->mux;
	uint8_t		*p;
	size_t		 n, at;

	while (st->resend_off < st->tx_off) {
		if (buf_len(&m->link_out) >= MUX_LINK_SOFT) {
			mux_link_wait_add(st);
			return 0;
		}
		at = (size_t)(st->resend_off - st->tx_acked);
		n = (size_t)(st->tx_off - st->resend_off);
		if (n > PROTO_MAX_PAYLOAD)
			n = PROTO_MAX_PAYLOAD;
		if ((p = buf_reserve(&m->link_out, PROTO_HDR_LEN + n)) == NULL) {
			mux_fail(m, "out of memory for the link output queue");
			return -1;
		}
		(void)proto_put_data_hdr(p, PROTO_HDR_LEN, st->id, (uint16_t)n);
		memcpy(p + PROTO_HDR_LEN, buf_ptr(&st->retx) + at, n);
		buf_commit(&m->link_out, PROTO_HDR_LEN + n);
		m->stats.frames_out++;
		m->stats.bytes_resent += n;
		st->resend_off += n;
	}
	if (st->eof_resend) {
		st->eof_resend = false;
		if (mux_send_simple(m, PROTO_EOF, st->id, 0) != 0)
			return -1;
	}
	return 0;
}

int
mux_stream_resume_send(struct mux *m)
{
	struct proto_resume	 e[64];
	struct mux_stream	*st, *tmp;
	uint8_t			 f[PROTO_HDR_LEN + sizeof(e) / sizeof(e[0]) *
				    PROTO_RESUME_ENTRY_LEN];
	size_t			 n = 0;

	LIST_FOREACH_SAFE(st, &m->all, lentry, tmp) {
		/* It kept nothing to send again: it cannot go on. */
		if (st->no_resume) {
			mux_stream_kill(st, -1, true);
			continue;
		}
		st->resume_listed = false;
		e[n].id = st->id;
		e[n].received = st->rx_off;
		e[n].grant = st->rx_off + st->rx_avail;
		e[n].flags = (st->ostate != MUX_OUT_OPEN ? PROTO_RS_EOF : 0) |
		    (st->conn == MUX_CONN_UP ? PROTO_RS_UP : 0);
		if (++n == sizeof(e) / sizeof(e[0])) {
			if (mux_queue(m, f, proto_put_resume(f, sizeof(f), e, n)) != 0)
				return -1;
			n = 0;
		}
	}
	if (n > 0 && mux_queue(m, f, proto_put_resume(f, sizeof(f), e, n)) != 0)
		return -1;
	return mux_queue(m, f, proto_put_resume_end(f, sizeof(f), m->last_id));
}

void
mux_stream_resume_entry(struct mux *m, const struct proto_resume *e)
{
	struct mux_stream	*st;
	const char		*why = NULL;

	/* Gone here since: the peer learns it from our own entries. */
	if ((st = mux_stream_lookup(m, e->id)) == NULL || mux_stream_dead(st))
		return;
	if (st->resume_listed)
		why = "listed twice";
	else if (e->received < st->tx_acked || e->received > st->tx_off)
		why = "received bytes that were never sent, or acknowledged less";
	else if (e->grant < st->tx_off)
		why = "grant below what it already allowed";
	else if ((e->flags & PROTO_RS_EOF) &&
	    (st->istate != MUX_IN_EOF_SENT || e->received != st->tx_off))
		why = "an EOF that was not sent";
	if (why != NULL) {
		log_warn("stream %u: protocol violation by the peer on resume: %s; "
		    "closing the stream", st->id, why);
		mux_stream_kill(st, PROTO_CLOSE_PROTOCOL, true);
		return;
	}
	st->resume_listed = true;
	mux_stream_release(st, e->received);
	st->resend_off = e->received;
	st->tx_credit = (uint32_t)(e->grant - st->tx_off);
	/* A BLOCKED may have been lost with the old link: say it again. */
	st->blocked_sent = false;
	if (e->flags & PROTO_RS_EOF)
		st->eof_acked = true;
	else
		st->eof_resend = st->istate == MUX_IN_EOF_SENT;
	/* Its OPEN_RESULT was lost with the old link. */
	if (st->conn == MUX_CONN_WAIT_RESULT && (e->flags & PROTO_RS_UP))
		mux_stream_set_conn(st, MUX_CONN_UP);
	if (st->resend_off < st->tx_off || st->eof_resend)
		log_trace("stream %u: resuming at %llu of %llu bytes sent%s", st->id,
		    (unsigned long long)st->resend_off, (unsigned long long)st->tx_off,
		    st->eof_resend ? ", then EOF" : "");
}

void
mux_stream_resume_end(struct mux *m, uint32_t peer_last_id)
{
	struct mux_stream	*st, *tmp;

	/*
	 * The client opens streams, so its last id is at least the stub's;
	 * OPENs lost with the old link leave the stub behind, and those ids
	 * are skipped (the client resets those streams below).
	 */
	if (m->role == PROTO_ROLE_STUB ? peer_last_id < m->last_id :
	    peer_last_id > m->last_id) {
		mux_fail(m, "protocol error: RESUME_END with stream id %u against %u",
		    peer_last_id, m->last_id);
		return;
	}
	if (m->role == PROTO_ROLE_STUB)
		m->last_id = peer_last_id;
	m->link = MUX_LINK_UP;
	LIST_FOREACH_SAFE(st, &m->all, lentry, tmp) {
		if (st->resume_listed) {
			st->resume_listed = false;
			continue;
		}
		/*
		 * The peer no longer has it.  With both EOFs through, it
		 * ended there normally (it is freed only once our EOF is
		 * in): only the acknowledgement was lost.  Anything else
		 * was reset there, or never opened.
		 */
		if (st->istate == MUX_IN_EOF_SENT && st->ostate != MUX_OUT_OPEN) {
			mux_stream_release(st, st->tx_off);
			st->eof_acked = true;
			st->resend_off = st->tx_off;
			mux_stream_check_done(st);
		} else
			mux_stream_kill(st, -1, true);
	}
	mux_stream_update_all(m);
}

void
mux_stream_update_all(struct mux *m)
{
	struct mux_stream	*st, *tmp;

	LIST_FOREACH_SAFE(st, &m->all, lentry, tmp)
		mux_stream_update(st);
}
