/* SPDX-License-Identifier: ISC */
/*
 * test_mux.c - a client mux and a stub mux wired back to back in one
 * process, with socketpairs standing in for the application and the
 * remote server.  Checks the behaviour users see: data both ways,
 * half-close, a stalled reader that does not stall its neighbour and
 * whose memory stays within one window, refused connects, and a peer
 * that overruns its credit losing only its stream.
 *
 * Then every session rule of docs/PROTOCOL.md, with hand-built frames
 * fed to one side: a broken session rule must end the session with a
 * message that names it; a broken stream rule must close that stream
 * only (CLOSE reason PROTOCOL to the peer, the socket closed) while the
 * other streams go on.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ev.h"
#include "evsel.h"
#include "mux.h"
#include "sysdep.h"

#define WINDOW	(64 * 1024)
#define T_RESUME	(PROTO_FEAT_CREDIT | PROTO_FEAT_RESUME)

struct pair {
	struct ev_loop	 loop;
	struct mux	*cli, *stub;
	int		 server_fd[16];	/* far ends of the stub's "connections" */
	int		 nserver;
	int		 refuse;
	int		 opens;		/* seen by t_open */
	int		 byes;		/* BYE frames seen by the stub */
	int		 dns_frames;	/* seen by t_dns */
	int		 routes_frames;	/* seen by t_routes */
	uint16_t	 routes_n;	/* entries of the last one */
	int		 seed_frames;	/* seen by t_seed */
	uint16_t	 seed_n;
	int		 hosts_frames;	/* seen by t_hosts */
	uint16_t	 hosts_n;
	int		 udp_frames;	/* seen by t_udp, either side */
	struct proto_frame udp_last;	/* the last of them (payload not kept) */
	uint8_t		 udp_data[16];	/* and the start of its datagram */
};

static const struct addr t_dst = { ADDR_V4, { 198, 19, 0, 2 }, 80, 0 };

static int
t_open(struct mux *m, const struct proto_open *o)
{
	struct pair	*p = mux_udata(m);
	int		 sv[2];

	p->opens++;
	if (p->refuse)
		return -ECONNREFUSED;
	assert_int_equal(test_socketpair_nb(sv), 0);
	p->server_fd[p->nserver++] = sv[1];
	return sv[0];
}

static void
t_dns(struct mux *m, const struct proto_frame *f, void *arg)
{
	struct pair	*p = arg;

	p->dns_frames++;
}

static void
t_routes(struct mux *m, const struct proto_frame *f)
{
	struct pair	*p = mux_udata(m);

	p->routes_frames++;
	p->routes_n = f->u.routes;
}

static void
t_hosts(struct mux *m, const struct proto_frame *f)
{
	struct pair	*p = mux_udata(m);

	p->hosts_frames++;
	p->hosts_n = f->u.hosts;
}

static void
t_udp(struct mux *m, const struct proto_frame *f)
{
	struct pair	*p = mux_udata(m);

	p->udp_frames++;
	p->udp_last = *f;
	memset(p->udp_data, 0, sizeof(p->udp_data));
	if (f->type == PROTO_UDP_DATA && !f->bad)
		memcpy(p->udp_data, f->u.udp.data, f->u.udp.datalen < sizeof(p->udp_data) ?
		    f->u.udp.datalen : sizeof(p->udp_data));
}

static const struct mux_ops cli_ops = { .routes = t_routes, .hosts = t_hosts,
	.udp = t_udp };

static void
t_seed(struct mux *m, const struct proto_frame *f)
{
	struct pair	*p = mux_udata(m);

	p->seed_frames++;
	p->seed_n = f->u.seeds;
}
static void
t_resume_frame(struct mux *m, const struct proto_frame *f)
{
	struct pair	*p = mux_udata(m);

	if (f->type == PROTO_BYE)
		p->byes++;
}
static const struct mux_ops stub_ops = { .open = t_open, .dns = t_dns,
    .hosts_seed = t_seed, .udp = t_udp, .resume = t_resume_frame };

static struct mux_stats
t_stats(const struct mux *m)
{
	struct mux_stats	st;

	mux_stats(m, &st);
	return st;
}

/* Move one side's queued frames into the other's input. */
static void
t_move(struct mux *from, struct mux *to)
{
	const uint8_t	*src;
	uint8_t		*dst;
	size_t		 len, room, n;

	for (;;) {
		src = mux_link_data(from, &len);
		if (len == 0 || !mux_in_ready(to))
			break;
		dst = mux_in_space(to, &room);
		n = len < room ? len : room;
		memcpy(dst, src, n);
		mux_link_consume(from, n);
		assert_int_equal(mux_in_commit(to, n), 0);
	}
}

static void
t_pump(struct pair *p, int rounds)
{
	while (rounds-- > 0) {
		t_move(p->cli, p->stub);
		t_move(p->stub, p->cli);
		(void)ev_run_once(&p->loop, 0);
		mux_collect(p->cli);
		mux_collect(p->stub);
	}
}

/* Feed one hand-built frame (or several) to m; mux_in_commit's result. */
static int
t_feed(struct mux *m, const uint8_t *f, int n)
{
	uint8_t	*dst;
	size_t	 room;

	assert_true(n > 0);
	dst = mux_in_space(m, &room);
	assert_true((size_t)n <= room);
	memcpy(dst, f, (size_t)n);
	return mux_in_commit(m, (size_t)n);
}

static int
t_feed_hello(struct mux *m, uint8_t role, uint32_t features)
{
	struct proto_hello	h = { PROTO_VERSION, role, features, WINDOW };
	uint8_t			b[PROTO_HDR_LEN + 20];

	return t_feed(m, b, proto_put_hello(b, sizeof(b), &h));
}

/* The reason of a CLOSE that m queued for stream id, or -1 (the queue is
 * left as it is). */
static int
t_close_reason(const struct mux *m, uint32_t id)
{
	struct proto_frame	 f;
	const uint8_t		*p;
	size_t			 len, off = 0;
	int			 n;

	p = mux_link_data(m, &len);
	while (off < len) {
		n = proto_parse(p + off, len - off, &f);
		assert_true(n > 0);
		if (f.type == PROTO_CLOSE && f.stream == id)
			return f.u.reason;
		off += (size_t)n;
	}
	return -1;
}

static struct pair *
t_setup_window(uint32_t window, uint32_t cli_features, uint32_t stub_features)
{
	struct pair	*p = calloc(1, sizeof(*p));

	assert_non_null(p);
	test_ev_init(&p->loop);
	assert_non_null(p->cli = mux_new(&p->loop, PROTO_ROLE_CLIENT, window, &cli_ops, p));
	assert_non_null(p->stub = mux_new(&p->loop, PROTO_ROLE_STUB, window, &stub_ops, p));
	assert_int_equal(mux_send_hello(p->cli, cli_features), 0);
	assert_int_equal(mux_send_hello(p->stub, stub_features), 0);
	t_pump(p, 2);
	assert_true(mux_hello_seen(p->cli));
	assert_true(mux_hello_seen(p->stub));
	return p;
}

static struct pair *
t_setup_with(uint32_t cli_features, uint32_t stub_features)
{
	return t_setup_window(WINDOW, cli_features, stub_features);
}

static struct pair *
t_setup(void)
{
	return t_setup_with(0, 0);
}

/* A pair whose stub mux has not seen the client's HELLO yet: frames are
 * fed to it by hand. */
static struct pair *
t_setup_stub_only(uint32_t stub_features)
{
	struct pair	*p = calloc(1, sizeof(*p));

	assert_non_null(p);
	test_ev_init(&p->loop);
	assert_non_null(p->stub = mux_new(&p->loop, PROTO_ROLE_STUB, WINDOW, &stub_ops, p));
	assert_int_equal(mux_send_hello(p->stub, stub_features), 0);
	mux_link_consume(p->stub, mux_link_len(p->stub));
	return p;
}

static void
t_teardown(struct pair *p)
{
	int	i;

	mux_free(p->cli);
	mux_free(p->stub);
	for (i = 0; i < p->nserver; i++)
		close(p->server_fd[i]);
	ev_close(&p->loop);
	free(p);
}

/* An application socket whose other end the client mux owns. */
static int
t_connect(struct pair *p)
{
	int	sv[2];

	assert_int_equal(test_socketpair_nb(sv), 0);
	assert_non_null(mux_stream_open(p->cli, sv[0], &t_dst));
	t_pump(p, 4);
	return sv[1];
}

static ssize_t
t_read_all(int fd, char *buf, size_t len)
{
	ssize_t	n, total = 0;

	while ((size_t)total < len) {
		n = read(fd, buf + total, len - (size_t)total);
		if (n <= 0)
			return n == 0 ? total : (total > 0 ? total : -1);
		total += n;
	}
	return total;
}

/* The application's end of a stream the client mux closed: gone. */
static void
t_assert_app_closed(int app)
{
	char	c;

	while (read(app, &c, 1) > 0)
		;
	assert_int_equal(read(app, &c, 1), 0);
	assert_int_equal(send(app, "x", 1, MSG_NOSIGNAL), -1);
	assert_int_equal(errno, EPIPE);
}

/* Stream 2 (app_b, the stub's second connection) still carries data. */
static void
t_assert_b_alive(struct pair *p, int app_b)
{
	char	buf[16];

	assert_int_equal(write(p->server_fd[1], "ok", 2), 2);
	t_pump(p, 4);
	assert_int_equal(read(app_b, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "ok", 2);
}

/* Stream 1 (app_a) was closed for a protocol violation, and only it:
 * the session goes on, CLOSE reason PROTOCOL went to the peer, the
 * application's socket is closed, stream 2 (app_b) still carries data. */
static void
t_assert_only_a_closed(struct pair *p, int app_a, int app_b)
{
	assert_string_equal(mux_error(p->cli), "");
	assert_int_equal(t_close_reason(p->cli, 1), PROTO_CLOSE_PROTOCOL);
	assert_int_equal(t_stats(p->cli).nstreams, 1);
	mux_collect(p->cli);
	t_assert_app_closed(app_a);
	t_assert_b_alive(p, app_b);
}

static void
test_data_and_half_close(void **state)
{
	struct pair	*p = t_setup();
	char		 buf[64];
	int		 app = t_connect(p), srv;
	ssize_t		 n;

	assert_int_equal(p->nserver, 1);
	srv = p->server_fd[0];
	assert_int_equal(write(app, "hello", 5), 5);
	assert_int_equal(shutdown(app, SHUT_WR), 0);
	t_pump(p, 6);
	n = t_read_all(srv, buf, sizeof(buf));
	assert_int_equal(n, 5);		/* 5 bytes then EOF: read returned 0 */
	assert_memory_equal(buf, "hello", 5);
	/* The reply still flows after the client's half-close. */
	assert_int_equal(write(srv, "world", 5), 5);
	assert_int_equal(shutdown(srv, SHUT_WR), 0);
	t_pump(p, 6);
	n = t_read_all(app, buf, sizeof(buf));
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "world", 5);
	/* Both directions done: both muxes forgot the stream. */
	t_pump(p, 2);
	assert_int_equal(t_stats(p->cli).nstreams, 0);
	assert_int_equal(t_stats(p->stub).nstreams, 0);
	close(app);
	t_teardown(p);
}

static void
test_stalled_reader_does_not_block_others(void **state)
{
	struct pair		*p = t_setup();
	int			 app_a = t_connect(p), app_b = t_connect(p);
	int			 srv_a = p->server_fd[0], srv_b = p->server_fd[1];
	static char		 chunk[16384], sink[65536];
	size_t			 sent_a = 0, sent_b = 0, got_b = 0;
	const size_t		 total = 8 * 1024 * 1024;
	ssize_t			 n;
	int			 rounds;

	memset(chunk, 'x', sizeof(chunk));
	for (rounds = 0; rounds < 20000 && got_b < total; rounds++) {
		/* The far side of A writes as fast as it may; A's app never reads. */
		if ((n = write(srv_a, chunk, sizeof(chunk))) > 0)
			sent_a += (size_t)n;
		if (sent_b < total && (n = write(srv_b, chunk, sizeof(chunk))) > 0)
			sent_b += (size_t)n;
		t_pump(p, 1);
		while ((n = read(app_b, sink, sizeof(sink))) > 0)
			got_b += (size_t)n;
	}
	assert_int_equal(got_b, total);
	/* A is bounded: the client holds at most one window for it, so the
	 * far side got stuck after socket buffers plus one window.  (The
	 * peak: no stream ever held more, not only at the end.) */
	assert_true(t_stats(p->cli).queued_peak <= WINDOW);
	assert_true(t_stats(p->stub).queued_peak <= WINDOW);
	assert_true(mux_link_len(p->cli) <= MUX_LINK_SOFT + PROTO_MAX_FRAME);
	assert_true(sent_a < total);
	close(app_a);
	close(app_b);
	t_teardown(p);
}

/* The far ends of the stub's connections: read what waits, adding it up
 * per connection. */
static void
t_drain_servers(struct pair *p, size_t *got)
{
	static char	sink[65536];
	ssize_t		n;
	int		i;

	for (i = 0; i < p->nserver; i++)
		while ((n = read(p->server_fd[i], sink, sizeof(sink))) > 0)
			got[i] += (size_t)n;
}

/*
 * Streams that found the link full are read as it drains, without an
 * event loop pass (they would otherwise have to be given EV_READ back,
 * two epoll_ctl each per drain): every byte of 16 uploads arrives with
 * the loop run once, at the start.  The link stays near its soft limit,
 * and one pass reads at most MUX_WAKE_PASS this way, the rest left to
 * the next pass (mux_collect), which the loop then runs without sleeping.
 */
static void
test_waiting_streams_read_as_the_link_drains(void **state)
{
	struct pair	*p = t_setup_window(1024 * 1024, 0, 0);
	static char	 chunk[16384];
	size_t		 sent[16] = { 0 }, got[16] = { 0 }, total = 0, moved = 0;
	size_t		 bound = MUX_LINK_SOFT + MUX_READ_FRAMES * PROTO_MAX_FRAME;
	int		 app[16], i, rounds;
	ssize_t		 n;

	memset(chunk, 'u', sizeof(chunk));
	for (i = 0; i < 16; i++)
		app[i] = t_connect(p);
	assert_int_equal(p->nserver, 16);
	for (i = 0; i < 16; i++) {
		while ((n = write(app[i], chunk, sizeof(chunk))) > 0)
			sent[i] += (size_t)n;
		total += sent[i];
	}
	assert_true(total > MUX_LINK_SOFT + MUX_WAKE_PASS);

	/* One pass: the first streams fill the link, the others wait. */
	(void)ev_run_once(&p->loop, 0);
	assert_true(mux_link_len(p->cli) >= MUX_LINK_SOFT);
	assert_true(mux_link_len(p->cli) <= bound);
	assert_true(t_stats(p->cli).link_waits > 0);
	assert_int_equal(t_stats(p->cli).wakeups, 0);

	/* The link drains: waiting streams are read, up to the pass's
	 * bound, and the loop is told not to sleep. */
	p->loop.nowait = 0;
	moved = mux_link_len(p->cli);
	t_move(p->cli, p->stub);
	assert_true(t_stats(p->cli).wakeups > 0);
	assert_true(mux_link_len(p->cli) <= bound);
	t_drain_servers(p, got);
	for (i = 0, n = 0; i < 16; i++)
		n += (ssize_t)got[i];
	assert_true((size_t)n < total);
	assert_true((size_t)n <= moved + MUX_WAKE_PASS + MUX_READ_FRAMES * PROTO_MAX_PAYLOAD);
	assert_int_equal(p->loop.nowait, 1);

	/* Further passes without events: everything arrives. */
	for (rounds = 0; rounds < 100; rounds++) {
		mux_collect(p->cli);
		t_move(p->cli, p->stub);
		t_move(p->stub, p->cli);
		assert_true(mux_link_len(p->cli) <= bound);
		t_drain_servers(p, got);
	}
	for (i = 0; i < 16; i++)
		assert_int_equal(got[i], sent[i]);
	assert_int_equal(t_stats(p->cli).streams_failed, 0);
	for (i = 0; i < 16; i++)
		close(app[i]);
	t_teardown(p);
}

/* BYE on a busy link: it goes right behind the frame the transport has
 * started, the stream data queued after that is dropped, and the stub
 * reads every frame whole.  The streams read nothing more. */
static void
test_bye_goes_ahead_of_queued_data(void **state)
{
	struct pair	*p = t_setup_window(1024 * 1024, T_RESUME, T_RESUME);
	static char	 chunk[16384], sink[65536];
	size_t		 got = 0, queued;
	int		 app;
	ssize_t		 n;

	memset(chunk, 'b', sizeof(chunk));
	app = t_connect(p);
	while (write(app, chunk, sizeof(chunk)) > 0)
		;
	(void)ev_run_once(&p->loop, 0);
	assert_true(mux_link_len(p->cli) > 4 * PROTO_MAX_FRAME);
	/* The transport took part of the first frame. */
	assert_int_equal(t_feed(p->stub, mux_link_data(p->cli, &queued), 1000), 0);
	mux_link_consume(p->cli, 1000);
	assert_int_equal(mux_send_bye(p->cli), 0);
	queued = mux_link_len(p->cli);
	assert_int_equal(queued, PROTO_MAX_FRAME - 1000 + PROTO_HDR_LEN);
	/* The stub reads the rest of the frame and BYE, in sync. */
	mux_collect(p->cli);
	assert_int_equal(mux_link_len(p->cli), queued);
	t_move(p->cli, p->stub);
	assert_string_equal(mux_error(p->stub), "");
	t_pump(p, 2);
	assert_int_equal(mux_link_len(p->cli), 0);
	while ((n = read(p->server_fd[0], sink, sizeof(sink))) > 0)
		got += (size_t)n;
	/* The payload of that one frame, nothing queued after it. */
	assert_int_equal(got, PROTO_MAX_PAYLOAD);
	assert_int_equal(p->byes, 1);
	close(app);
	t_teardown(p);
}

/* BYE after the transport took any number of bytes, the cut inside a
 * header, inside a payload or right at a frame's end: the stub reads
 * whole frames, then BYE, every time. */
static void
test_bye_cut_anywhere(void **state)
{
	/* The first PING is 16 bytes: cuts in it, at its end, in the next
	 * header, in payloads, at frame ends. */
	static const size_t	 cuts[] = { 1, 7, 8, 9, 15, 16, 17, 24, 25, 1000,
	    16 + PROTO_MAX_FRAME - 1, 16 + PROTO_MAX_FRAME, 16 + PROTO_MAX_FRAME + 3,
	    16 + 3 * PROTO_MAX_FRAME + 8, 100000 };
	static char		 chunk[16384];
	size_t			 i, len;
	int			 app;

	memset(chunk, 'c', sizeof(chunk));
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct pair	*p = t_setup_window(1024 * 1024, T_RESUME, T_RESUME);

		app = t_connect(p);
		/* Small frames among the large ones: a PING first, one after
		 * the data. */
		assert_int_equal(mux_send_ping(p->cli, PROTO_PING, (const uint8_t *)"pingpong"), 0);
		while (write(app, chunk, sizeof(chunk)) > 0)
			;
		(void)ev_run_once(&p->loop, 0);
		assert_int_equal(mux_send_ping(p->cli, PROTO_PING, (const uint8_t *)"pongping"), 0);
		assert_true(mux_link_len(p->cli) > cuts[i]);
		/* The transport takes cuts[i] bytes in two pieces. */
		assert_int_equal(t_feed(p->stub, mux_link_data(p->cli, &len),
		    (int)(cuts[i] / 2 + 1)), 0);
		mux_link_consume(p->cli, cuts[i] / 2 + 1);
		if (cuts[i] / 2 + 1 < cuts[i]) {
			assert_int_equal(t_feed(p->stub, mux_link_data(p->cli, &len),
			    (int)(cuts[i] - (cuts[i] / 2 + 1))), 0);
			mux_link_consume(p->cli, cuts[i] - (cuts[i] / 2 + 1));
		}
		assert_int_equal(mux_send_bye(p->cli), 0);
		/* What is left: the rest of one frame at most, and BYE. */
		assert_true(mux_link_len(p->cli) <= PROTO_MAX_FRAME + PROTO_HDR_LEN);
		assert_true(mux_link_len(p->cli) >= PROTO_HDR_LEN);
		t_move(p->cli, p->stub);
		assert_string_equal(mux_error(p->stub), "");
		assert_int_equal(p->byes, 1);
		close(app);
		t_teardown(p);
	}
}

/* Thousands of OPENs in one read: the stub handles MUX_OPEN_PASS per
 * pass and asks for the next pass at once; a PING behind them is
 * answered once they are all handled, in order. */
static void
test_opens_are_handled_in_batches(void **state)
{
	struct pair		*p = t_setup_stub_only(0);
	struct proto_open	 o = { 6, { ADDR_V4, { 198, 19, 0, 2 }, 80, 0 } };
	static uint8_t		 f[300 * (PROTO_HDR_LEN + 20) + PROTO_HDR_LEN + 8];
	uint8_t			 ping[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct proto_frame	 pf;
	const uint8_t		*q;
	size_t			 len, off = 0;
	int			 i, n, passes = 0;

	assert_int_equal(t_feed_hello(p->stub, PROTO_ROLE_CLIENT, 0), 0);
	p->refuse = 1;
	for (i = 1; i <= 300; i++) {
		assert_true((n = proto_put_open(f + off, sizeof(f) - off, (uint32_t)i, &o)) > 0);
		off += (size_t)n;
	}
	assert_true((n = proto_put_ping(f + off, sizeof(f) - off, PROTO_PING, ping)) > 0);
	off += (size_t)n;
	p->loop.nowait = 0;
	assert_int_equal(t_feed(p->stub, f, (int)off), 0);
	assert_int_equal(p->opens, MUX_OPEN_PASS);
	assert_int_equal(p->loop.nowait, 1);
	while (p->opens < 300) {
		assert_true(++passes < 300 / MUX_OPEN_PASS + 2);
		p->loop.nowait = 0;
		mux_collect(p->stub);
		assert_true(p->opens <= MUX_OPEN_PASS * (passes + 1));
	}
	mux_collect(p->stub);
	assert_string_equal(mux_error(p->stub), "");
	/* 300 failed OPEN_RESULTs, then the PONG. */
	q = mux_link_data(p->stub, &len);
	for (off = 0, i = 0; off < len; off += (size_t)n, i++) {
		assert_true((n = proto_parse(q + off, len - off, &pf)) > 0);
		if (i < 300)
			assert_int_equal(pf.type, PROTO_OPEN_RESULT);
		else
			assert_int_equal(pf.type, PROTO_PONG);
	}
	assert_int_equal(i, 301);

	/* The link ends behind a batch: the rest is handled at once. */
	for (off = 0, i = 301; i <= 400; i++) {
		assert_true((n = proto_put_open(f + off, sizeof(f) - off, (uint32_t)i, &o)) > 0);
		off += (size_t)n;
	}
	assert_int_equal(t_feed(p->stub, f, (int)off), 0);
	assert_int_equal(p->opens, 300 + MUX_OPEN_PASS);
	assert_int_equal(mux_in_drain(p->stub), 0);
	assert_int_equal(p->opens, 400);
	t_teardown(p);
}

static void
test_refused_connect_closes_app_socket(void **state)
{
	struct pair	*p = t_setup();
	char		 c;
	int		 app;

	p->refuse = 1;
	app = t_connect(p);
	t_pump(p, 4);
	assert_int_equal(read(app, &c, 1), 0);	/* closed by the client mux */
	assert_int_equal(t_stats(p->cli).nstreams, 0);
	assert_int_equal(t_stats(p->cli).streams_failed, 1);
	close(app);
	t_teardown(p);
}

static void
test_credit_overrun_closes_only_that_stream(void **state)
{
	struct pair	*p = t_setup();
	int		 app_a = t_connect(p), app_b = t_connect(p);
	uint8_t		 hdr[PROTO_HDR_LEN], *dst;
	static uint8_t	 junk[PROTO_MAX_PAYLOAD];
	size_t		 room;
	char		 buf[16];
	int		 i;

	/* Pretend to be a stub that ignores credit on stream 1: 2 MiB of
	 * DATA without waiting for CREDIT, far more than the application's
	 * socket buffer plus one window can take. */
	for (i = 0; i < 64; i++) {
		(void)proto_put_data_hdr(hdr, sizeof(hdr), 1, PROTO_MAX_PAYLOAD);
		dst = mux_in_space(p->cli, &room);
		assert_true(room >= sizeof(hdr) + sizeof(junk));
		memcpy(dst, hdr, sizeof(hdr));
		memcpy(dst + sizeof(hdr), junk, sizeof(junk));
		assert_int_equal(mux_in_commit(p->cli, sizeof(hdr) + sizeof(junk)), 0);
		if (t_stats(p->cli).nstreams == 1)
			break;
	}
	assert_string_equal(mux_error(p->cli), "");	/* the session survives */
	assert_int_equal(t_stats(p->cli).nstreams, 1);	/* stream 2 is still there */
	t_pump(p, 4);
	assert_int_equal(write(p->server_fd[1], "ok", 2), 2);
	t_pump(p, 4);
	assert_int_equal(read(app_b, buf, sizeof(buf)), 2);
	close(app_a);
	close(app_b);
	t_teardown(p);
}

static void
test_never_opened_stream_ends_session(void **state)
{
	struct pair	*p = t_setup();
	uint8_t		 f[PROTO_HDR_LEN + 4];

	assert_int_equal(t_feed(p->stub, f, proto_put_credit(f, sizeof(f), 77, 100)), -1);
	assert_non_null(strstr(mux_error(p->stub), "never opened"));
	t_teardown(p);
}

/* The spec: ids increase by exactly one; a gap ends the session. */
static void
test_open_id_gap_ends_session(void **state)
{
	struct pair		*p = t_setup();
	struct proto_open	 o = { 6, { ADDR_V4, { 198, 19, 0, 2 }, 80, 0 } };
	uint8_t			 f[PROTO_HDR_LEN + 20];

	assert_int_equal(t_feed(p->stub, f, proto_put_open(f, sizeof(f), 3, &o)), -1);
	assert_non_null(strstr(mux_error(p->stub), "increase by one"));
	t_teardown(p);
}

/* ... and an id used before (here the last one) ends it too. */
static void
test_open_id_reuse_ends_session(void **state)
{
	struct pair		*p = t_setup();
	struct proto_open	 o = { 6, { ADDR_V4, { 198, 19, 0, 2 }, 80, 0 } };
	uint8_t			 f[PROTO_HDR_LEN + 20];
	int			 app = t_connect(p);

	assert_int_equal(t_stats(p->stub).nstreams, 1);
	assert_int_equal(t_feed(p->stub, f, proto_put_open(f, sizeof(f), 1, &o)), -1);
	assert_non_null(strstr(mux_error(p->stub), "OPEN for stream 1 after 1"));
	close(app);
	t_teardown(p);
}

/* A frame other than OPEN_RESULT/CLOSE before OPEN_RESULT closes the stream. */
static void
test_frame_before_open_result(void **state)
{
	struct pair	*p = t_setup();
	uint8_t		 f[PROTO_HDR_LEN + 4];
	int		 sv[2];
	char		 c;

	assert_int_equal(test_socketpair_nb(sv), 0);
	assert_non_null(mux_stream_open(p->cli, sv[0], &t_dst));
	/* Do not let the stub answer: inject EOF as if it had skipped it. */
	assert_int_equal(t_feed(p->cli, f, proto_put_eof(f, sizeof(f), 1)), 0);
	assert_int_equal(t_stats(p->cli).nstreams, 0);
	mux_collect(p->cli);
	assert_int_equal(read(sv[1], &c, 1), 0);
	close(sv[1]);
	t_teardown(p);
}

/* ---- session rules ---- */

static void
test_second_hello_ends_session(void **state)
{
	struct pair	*p = t_setup();

	assert_int_equal(t_feed_hello(p->stub, PROTO_ROLE_CLIENT, 0), -1);
	assert_string_equal(mux_error(p->stub), "protocol error: second HELLO");
	t_teardown(p);
}

static void
test_hello_with_our_role_ends_session(void **state)
{
	struct pair	*p = t_setup_stub_only(0);

	assert_int_equal(t_feed_hello(p->stub, PROTO_ROLE_STUB, 0), -1);
	assert_string_equal(mux_error(p->stub), "protocol error: peer claims our own role");
	assert_false(mux_hello_seen(p->stub));
	t_teardown(p);
}

static void
test_frame_before_hello_ends_session(void **state)
{
	struct pair		*p = t_setup_stub_only(0);
	struct proto_open	 o = { 6, { ADDR_V4, { 198, 19, 0, 2 }, 80, 0 } };
	uint8_t			 f[PROTO_HDR_LEN + 20];

	assert_int_equal(t_feed(p->stub, f, proto_put_ping(f, sizeof(f), PROTO_PING,
	    (const uint8_t *)"12345678")), -1);
	assert_string_equal(mux_error(p->stub), "protocol error: PING before HELLO");
	t_teardown(p);

	p = t_setup_stub_only(0);
	assert_int_equal(t_feed(p->stub, f, proto_put_open(f, sizeof(f), 1, &o)), -1);
	assert_string_equal(mux_error(p->stub), "protocol error: OPEN before HELLO");
	assert_int_equal(p->nserver, 0);
	t_teardown(p);

	/* ERROR is the exception: a peer that fails at once says why. */
	p = t_setup_stub_only(0);
	assert_int_equal(t_feed(p->stub, f, proto_put_error(f, sizeof(f), "bye")), -1);
	assert_string_equal(mux_error(p->stub), "remote error: bye");
	t_teardown(p);
}

static void
test_data_after_eof_closes_stream(void **state)
{
	struct pair	*p = t_setup();
	int		 app_a = t_connect(p), app_b = t_connect(p);
	uint8_t		 f[PROTO_HDR_LEN + 8];
	int		 n;

	assert_int_equal(t_feed(p->cli, f, proto_put_eof(f, sizeof(f), 1)), 0);
	n = proto_put_data_hdr(f, sizeof(f), 1, 1);
	f[n] = 'x';
	assert_int_equal(t_feed(p->cli, f, n + 1), 0);
	assert_int_equal(t_close_reason(p->cli, 2), -1);
	t_assert_only_a_closed(p, app_a, app_b);
	/* The stub got the CLOSE and forgot stream 1 as well. */
	assert_int_equal(t_stats(p->stub).nstreams, 1);
	close(app_a);
	close(app_b);
	t_teardown(p);
}

static void
test_duplicate_eof_closes_stream(void **state)
{
	struct pair	*p = t_setup();
	int		 app_a = t_connect(p), app_b = t_connect(p);
	uint8_t		 f[PROTO_HDR_LEN];

	assert_int_equal(t_feed(p->cli, f, proto_put_eof(f, sizeof(f), 1)), 0);
	assert_int_equal(t_close_reason(p->cli, 1), -1);	/* one EOF is fine */
	assert_int_equal(t_feed(p->cli, f, proto_put_eof(f, sizeof(f), 1)), 0);
	t_assert_only_a_closed(p, app_a, app_b);
	close(app_a);
	close(app_b);
	t_teardown(p);
}

static void
test_credit_beyond_window_closes_stream(void **state)
{
	struct pair	*p = t_setup();
	int		 app_a = t_connect(p), app_b = t_connect(p);
	uint8_t		 f[PROTO_HDR_LEN + 4];

	/* Nothing was sent on stream 1: its whole window is still open, and
	 * one more byte of credit would exceed it. */
	assert_int_equal(t_feed(p->cli, f, proto_put_credit(f, sizeof(f), 1, 1)), 0);
	t_assert_only_a_closed(p, app_a, app_b);
	close(app_a);
	close(app_b);
	t_teardown(p);
}

/* A reserved byte set in a session frame ends the session: HELLO's
 * bytes 10-11 as much as the header's flags. */
static void
test_reserved_byte_session_frame(void **state)
{
	struct pair		*p = t_setup_stub_only(0);
	struct proto_hello	 h = { PROTO_VERSION, PROTO_ROLE_CLIENT, 0, WINDOW };
	uint8_t			 f[PROTO_HDR_LEN + 20];
	int			 n;

	n = proto_put_hello(f, sizeof(f), &h);
	f[PROTO_HDR_LEN + 11] = 1;
	assert_int_equal(t_feed(p->stub, f, n), -1);
	assert_non_null(strstr(mux_error(p->stub), "invalid field value (frame type 0x01)"));
	assert_false(mux_hello_seen(p->stub));
	t_teardown(p);

	p = t_setup();
	n = proto_put_ping(f, sizeof(f), PROTO_PING, (const uint8_t *)"12345678");
	f[1] = 0x80;
	assert_int_equal(t_feed(p->stub, f, n), -1);
	assert_non_null(strstr(mux_error(p->stub), "reserved frame flags set"));
	t_teardown(p);
}

/* A reserved byte set in a stream frame closes that stream only: here an
 * otherwise good OPEN_RESULT for a stream that waits for it. */
static void
test_reserved_byte_stream_frame(void **state)
{
	struct pair	*p = t_setup();
	int		 app_a = t_connect(p), app_b = t_connect(p), sv[2];
	uint8_t		 f[PROTO_HDR_LEN + 4];
	int		 n;

	assert_int_equal(test_socketpair_nb(sv), 0);
	assert_non_null(mux_stream_open(p->cli, sv[0], &t_dst));	/* stream 3 */
	n = proto_put_open_result(f, sizeof(f), 3, PROTO_ST_OK);
	f[PROTO_HDR_LEN + 3] = 1;
	assert_int_equal(t_feed(p->cli, f, n), 0);
	assert_string_equal(mux_error(p->cli), "");
	assert_int_equal(t_close_reason(p->cli, 3), PROTO_CLOSE_PROTOCOL);
	assert_int_equal(t_stats(p->cli).nstreams, 2);
	mux_collect(p->cli);
	t_assert_app_closed(sv[1]);
	t_assert_b_alive(p, app_b);
	close(sv[1]);
	close(app_a);
	close(app_b);
	t_teardown(p);
}

/* DNS frames need PROTO_FEAT_DNS in both HELLOs: the receiver's (what it
 * accepts) and the sender's (what it may send). */
static void
test_dns_needs_the_feature_on_both_sides(void **state)
{
	static const uint8_t	 q[12] = { 0x12, 0x34, 0x01 };
	struct pair		*p;
	uint8_t			 f[PROTO_HDR_LEN + 12];
	int			 n;

	n = proto_put_dns(f, sizeof(f), PROTO_DNS_QUERY, 1, q, sizeof(q));

	/* The sender (the client) did not announce it. */
	p = t_setup_stub_only(PROTO_FEAT_DNS);
	assert_int_equal(t_feed_hello(p->stub, PROTO_ROLE_CLIENT, 0), 0);
	assert_false(mux_feature(p->stub, PROTO_FEAT_DNS));
	assert_int_equal(t_feed(p->stub, f, n), -1);
	assert_string_equal(mux_error(p->stub), "protocol error: DNS_QUERY without the "
	    "DNS feature in the peer's HELLO");
	assert_int_equal(p->dns_frames, 0);
	t_teardown(p);

	/* The receiver (the stub) did not announce it. */
	p = t_setup_stub_only(0);
	assert_int_equal(t_feed_hello(p->stub, PROTO_ROLE_CLIENT, PROTO_FEAT_DNS), 0);
	assert_int_equal(t_feed(p->stub, f, n), -1);
	assert_string_equal(mux_error(p->stub), "protocol error: DNS_QUERY without the "
	    "DNS feature in our HELLO");
	assert_int_equal(p->dns_frames, 0);
	t_teardown(p);

	/* Both did: the query reaches the handler. */
	p = t_setup_stub_only(PROTO_FEAT_DNS);
	assert_int_equal(t_feed_hello(p->stub, PROTO_ROLE_CLIENT, PROTO_FEAT_DNS), 0);
	assert_true(mux_feature(p->stub, PROTO_FEAT_DNS));
	assert_int_equal(t_feed(p->stub, f, n), 0);
	assert_int_equal(p->dns_frames, 1);
	t_teardown(p);
}

/* A DNS frame is never sent where it would end the session. */
static void
test_send_dns_refused_without_the_feature(void **state)
{
	static const uint8_t	 q[12] = { 0x12, 0x34, 0x01 };
	struct pair		*p;

	/* Before the peer's HELLO nothing is known. */
	p = calloc(1, sizeof(*p));
	assert_non_null(p);
	test_ev_init(&p->loop);
	assert_non_null(p->cli = mux_new(&p->loop, PROTO_ROLE_CLIENT, WINDOW, &cli_ops, p));
	assert_int_equal(mux_send_hello(p->cli, PROTO_FEAT_DNS), 0);
	assert_int_equal(mux_send_dns(p->cli, PROTO_DNS_QUERY, 1, q, sizeof(q)), -1);
	t_teardown(p);

	/* The stub lacks it; we have it. */
	p = t_setup_with(PROTO_FEAT_DNS, 0);
	assert_false(mux_feature(p->cli, PROTO_FEAT_DNS));
	assert_int_equal(mux_send_dns(p->cli, PROTO_DNS_QUERY, 1, q, sizeof(q)), -1);
	assert_int_equal(mux_send_dns_config(p->cli, NULL, 0), -1);
	assert_int_equal(mux_link_len(p->cli), 0);
	assert_string_equal(mux_error(p->cli), "");
	t_teardown(p);

	/* We lack it; the stub has it. */
	p = t_setup_with(0, PROTO_FEAT_DNS);
	assert_int_equal(mux_send_dns(p->cli, PROTO_DNS_QUERY, 1, q, sizeof(q)), -1);
	assert_int_equal(mux_link_len(p->cli), 0);
	t_teardown(p);

	/* Both: it goes, and arrives. */
	p = t_setup_with(PROTO_FEAT_DNS, PROTO_FEAT_DNS);
	assert_true(mux_feature(p->cli, PROTO_FEAT_DNS));
	assert_int_equal(mux_send_dns(p->cli, PROTO_DNS_QUERY, 1, q, sizeof(q)), 0);
	t_pump(p, 1);
	assert_int_equal(p->dns_frames, 1);
	t_teardown(p);
}

/* ---- explicit initial credit, the budget, the maximum of streams ---- */

/* A pair that negotiated the long forms of OPEN and OPEN_RESULT. */
static struct pair *
t_setup_credit(void)
{
	struct pair	*p = t_setup_with(PROTO_FEAT_CREDIT, PROTO_FEAT_CREDIT);

	assert_true(mux_feature(p->cli, PROTO_FEAT_CREDIT));
	assert_true(mux_feature(p->stub, PROTO_FEAT_CREDIT));
	return p;
}

/* With the long forms, data flows both ways as before, and the client's
 * early bytes (before OPEN_RESULT, within the floor) arrive. */
static void
test_long_forms_carry_data(void **state)
{
	struct pair	*p = t_setup_credit();
	char		 buf[64];
	int		 sv[2];

	assert_int_equal(test_socketpair_nb(sv), 0);
	assert_int_equal(write(sv[1], "early", 5), 5);
	assert_non_null(mux_stream_open(p->cli, sv[0], &t_dst));
	t_pump(p, 6);
	assert_int_equal(t_read_all(p->server_fd[0], buf, 5), 5);
	assert_memory_equal(buf, "early", 5);
	assert_int_equal(write(p->server_fd[0], "reply", 5), 5);
	t_pump(p, 4);
	assert_int_equal(read(sv[1], buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "reply", 5);
	assert_int_equal(t_stats(p->cli).streams_failed, 0);
	assert_int_equal(t_stats(p->cli).committed, WINDOW);	/* no budget: the window */
	close(sv[1]);
	t_teardown(p);
}

/*
 * Download through the stub's connection `srv` (its far end writes
 * `total` bytes, the application end `app` reads them as they come,
 * checking order): every byte arrives, and the client's committed
 * credit stays within `bound` throughout.
 */
static void
t_download(struct pair *p, int srv, int app, size_t total, size_t bound)
{
	static char	chunk[16384], sink[65536];
	size_t		sent = 0, got = 0, i;
	ssize_t		n;
	int		rounds;

	for (rounds = 0; rounds < 20000 && got < total; rounds++) {
		if (sent < total) {
			for (i = 0; i < sizeof(chunk); i++)
				chunk[i] = (char)((sent + i) % 251);
			if ((n = write(p->server_fd[srv], chunk, sizeof(chunk) <
			    total - sent ? sizeof(chunk) : total - sent)) > 0)
				sent += (size_t)n;
		}
		t_pump(p, 1);
		while ((n = read(app, sink, sizeof(sink))) > 0) {
			for (i = 0; i < (size_t)n; i++)
				assert_int_equal((unsigned char)sink[i], (got + i) % 251);
			got += (size_t)n;
		}
		assert_true(t_stats(p->cli).committed <= bound);
	}
	assert_int_equal(got, total);
}

/*
 * A small budget on the client and stalled readers: the credit granted
 * across all streams stays within the budget plus the floor per stream,
 * and a stream opened while the others hold the budget still carries
 * its data, all of it, in order.
 */
static void
test_budget_bounds_stalled_readers(void **state)
{
	struct pair	*p = t_setup_credit();
	const size_t	 budget = 2 * WINDOW, total = 1024 * 1024;
	static char	 chunk[16384];
	size_t		 i;
	int		 app[9], active, rounds;

	mux_set_bounds(p->cli, budget, 0);
	for (i = 0; i < 8; i++)
		app[i] = t_connect(p);
	/* The far sides of the stalled streams write until they are stuck. */
	memset(chunk, 's', sizeof(chunk));
	for (rounds = 0; rounds < 200; rounds++) {
		for (i = 0; i < 8; i++)
			if (write(p->server_fd[i], chunk, sizeof(chunk)) < 0)
				assert_int_equal(errno, EAGAIN);
		t_pump(p, 1);
		assert_true(t_stats(p->cli).committed <= budget + 8 * MUX_CREDIT_FLOOR);
	}
	active = t_connect(p);
	app[8] = active;
	t_download(p, 8, active, total, budget + 9 * MUX_CREDIT_FLOOR);
	assert_int_equal(t_stats(p->cli).nstreams, 9);
	for (i = 0; i < 9; i++)
		close(app[i]);
	t_teardown(p);
}

/* Past the budget, credit that comes back shrinks a stream's grant
 * towards the floor; it is never taken back. */
static void
test_budget_shrinks_returned_credit(void **state)
{
	struct pair	*p = t_setup_credit();
	static char	 chunk[16384], sink[65536];
	int		 app = t_connect(p), rounds;
	size_t		 before;

	assert_int_equal(t_stats(p->cli).committed, WINDOW);
	mux_set_bounds(p->cli, MUX_CREDIT_FLOOR, 0);
	memset(chunk, 'x', sizeof(chunk));
	for (rounds = 0; rounds < 50; rounds++) {
		if (write(p->server_fd[0], chunk, sizeof(chunk)) < 0)
			assert_int_equal(errno, EAGAIN);
		t_pump(p, 1);
		while (read(app, sink, sizeof(sink)) > 0)
			;
	}
	before = t_stats(p->cli).committed;
	assert_true(before <= WINDOW);
	assert_int_equal(before, MUX_CREDIT_FLOOR);
	close(app);
	t_teardown(p);
}

/* A pair that negotiated the long forms and windows that grow. */
static struct pair *
t_setup_grow(void)
{
	struct pair	*p = t_setup_with(PROTO_FEAT_CREDIT | PROTO_FEAT_GROW,
			    PROTO_FEAT_CREDIT | PROTO_FEAT_GROW);

	assert_true(mux_feature(p->cli, PROTO_FEAT_GROW));
	return p;
}

/*
 * Windows that grow: a stream starts at a quarter of the window; a
 * sender out of credit says BLOCKED, and while the application takes
 * what arrives the grant doubles, up to the window and no further.
 */
static void
test_grow_when_blocked(void **state)
{
	struct pair	*p = t_setup_grow();
	int		 app = t_connect(p);

	assert_int_equal(t_stats(p->cli).committed, WINDOW / MUX_START_SHARE);
	t_download(p, 0, app, 1024 * 1024, WINDOW);
	assert_true(t_stats(p->stub).blocked_sent > 0);
	assert_true(t_stats(p->cli).blocked_seen > 0);
	assert_int_equal(t_stats(p->cli).grant_peak, WINDOW);
	assert_int_equal(t_stats(p->cli).committed, WINDOW);
	assert_int_equal(t_stats(p->cli).streams_failed, 0);
	close(app);
	t_teardown(p);
}

/* Without the feature on both sides: no BLOCKED, and the grant is the
 * window from the start, as before it. */
static void
test_grow_needs_the_feature(void **state)
{
	struct pair	*p = t_setup_with(PROTO_FEAT_CREDIT | PROTO_FEAT_GROW,
			    PROTO_FEAT_CREDIT);
	int		 app = t_connect(p);
	uint8_t		 f[PROTO_HDR_LEN];

	assert_int_equal(t_stats(p->cli).committed, WINDOW);
	t_download(p, 0, app, 256 * 1024, WINDOW);
	assert_int_equal(t_stats(p->stub).blocked_sent, 0);
	assert_int_equal(t_stats(p->cli).blocked_seen, 0);
	close(app);
	/* A BLOCKED anyway ends the session, naming the feature. */
	assert_int_equal(t_feed(p->cli, f, proto_put_blocked(f, sizeof(f), 1)), -1);
	assert_non_null(strstr(mux_error(p->cli), "BLOCKED without the GROW feature"));
	t_teardown(p);
}

/* A reader that does not keep up: BLOCKED finds a long queue here, and
 * the grant stays where it started (more would only be buffered). */
static void
test_no_growth_for_a_slow_reader(void **state)
{
	struct pair	*p = t_setup_grow();
	static char	 chunk[16384];
	int		 app, sv[2], small = 4096, rounds;

	assert_int_equal(test_socketpair_nb(sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_non_null(mux_stream_open(p->cli, sv[0], &t_dst));
	t_pump(p, 4);
	app = sv[1];
	memset(chunk, 'r', sizeof(chunk));
	for (rounds = 0; rounds < 100; rounds++) {
		if (write(p->server_fd[0], chunk, sizeof(chunk)) < 0)
			assert_int_equal(errno, EAGAIN);
		t_pump(p, 1);
	}
	assert_true(t_stats(p->stub).blocked_sent > 0);
	assert_int_equal(t_stats(p->cli).blocked_seen, 0);
	assert_int_equal(t_stats(p->cli).grant_peak, WINDOW / MUX_START_SHARE);
	close(app);
	t_teardown(p);
}

/* With a budget, growth takes at most a quarter of its room a step: the
 * credit granted stays within the budget (plus the floor a stream). */
static void
test_grow_within_the_budget(void **state)
{
	struct pair	*p = t_setup_grow();
	const size_t	 budget = WINDOW / 2;
	int		 app;

	mux_set_bounds(p->cli, budget, 0);
	app = t_connect(p);
	t_download(p, 0, app, 1024 * 1024, budget + MUX_CREDIT_FLOOR);
	assert_true(t_stats(p->cli).blocked_seen > 0);
	assert_true(t_stats(p->cli).grant_peak < WINDOW);
	close(app);
	t_teardown(p);
}

/* BLOCKED after the sender's EOF: that stream closes, the others go on. */
static void
test_blocked_after_eof_closes_stream(void **state)
{
	struct pair	*p = t_setup_grow();
	int		 app_a = t_connect(p), app_b = t_connect(p);
	uint8_t		 f[PROTO_HDR_LEN];

	assert_int_equal(t_feed(p->cli, f, proto_put_eof(f, sizeof(f), 1)), 0);
	assert_int_equal(t_feed(p->cli, f, proto_put_blocked(f, sizeof(f), 1)), 0);
	t_assert_only_a_closed(p, app_a, app_b);
	close(app_a);
	close(app_b);
	t_teardown(p);
}

/* The client's maximum: the connection past it is reset and counted. */
static void
test_max_streams_client(void **state)
{
	struct pair	*p = t_setup_credit();
	int		 a, b, sv[2];
	char		 c;

	mux_set_bounds(p->cli, 0, 2);
	a = t_connect(p);
	b = t_connect(p);
	assert_int_equal(test_socketpair_nb(sv), 0);
	assert_null(mux_stream_open(p->cli, sv[0], &t_dst));
	assert_int_equal(read(sv[1], &c, 1), 0);
	assert_int_equal(t_stats(p->cli).streams_refused, 1);
	assert_int_equal(t_stats(p->cli).nstreams, 2);
	assert_int_equal(p->nserver, 2);
	close(sv[1]);
	close(a);
	t_teardown(p);
	(void)b;
}

/* The stub's maximum: the OPEN past it gets an error result (BUSY with
 * the long forms, "other failure" for an older client), the others go on. */
static void
test_max_streams_stub(void **state)
{
	struct pair	*p;
	int		 a, b, pass;
	char		 c;

	for (pass = 0; pass < 2; pass++) {
		p = pass == 0 ? t_setup_credit() : t_setup();
		mux_set_bounds(p->stub, 0, 1);
		a = t_connect(p);
		b = t_connect(p);
		t_pump(p, 4);
		assert_int_equal(read(b, &c, 1), 0);	/* closed by the client mux */
		assert_int_equal(t_stats(p->stub).streams_refused, 1);
		assert_int_equal(t_stats(p->cli).streams_failed, 1);
		assert_int_equal(t_stats(p->cli).nstreams, 1);
		assert_int_equal(write(p->server_fd[0], "ok", 2), 2);
		t_pump(p, 4);
		assert_int_equal(read(a, &c, 1), 1);
		close(a);
		close(b);
		t_teardown(p);
	}
}

/* The long forms only with the feature in both HELLOs, the short forms
 * only without it; an initial credit outside the floor and the window:
 * each closes that stream (CLOSE reason PROTOCOL), the session goes on. */
static void
test_initial_credit_rules(void **state)
{
	struct proto_open	 o = { 6, { ADDR_V4, { 198, 19, 0, 2 }, 80, 0 } };
	struct pair		*p;
	uint8_t			 f[PROTO_HDR_LEN + 24];
	int			 sv[2], n;

	p = t_setup_with(PROTO_FEAT_CREDIT, 0);
	n = proto_put_open_credit(f, sizeof(f), 1, &o, WINDOW);
	assert_int_equal(t_feed(p->stub, f, n), 0);
	assert_int_equal(t_close_reason(p->stub, 1), PROTO_CLOSE_PROTOCOL);
	t_teardown(p);

	p = t_setup_credit();
	n = proto_put_open(f, sizeof(f), 1, &o);
	assert_int_equal(t_feed(p->stub, f, n), 0);
	assert_int_equal(t_close_reason(p->stub, 1), PROTO_CLOSE_PROTOCOL);
	n = proto_put_open_credit(f, sizeof(f), 2, &o, MUX_CREDIT_FLOOR - 1);
	assert_int_equal(t_feed(p->stub, f, n), 0);
	assert_int_equal(t_close_reason(p->stub, 2), PROTO_CLOSE_PROTOCOL);
	n = proto_put_open_credit(f, sizeof(f), 3, &o, WINDOW + 1);
	assert_int_equal(t_feed(p->stub, f, n), 0);
	assert_int_equal(t_close_reason(p->stub, 3), PROTO_CLOSE_PROTOCOL);
	assert_string_equal(mux_error(p->stub), "");
	assert_int_equal(t_stats(p->stub).nstreams, 0);

	/* The client: a short OPEN_RESULT, then one granting too much. */
	assert_int_equal(test_socketpair_nb(sv), 0);
	assert_non_null(mux_stream_open(p->cli, sv[0], &t_dst));	/* stream 1 */
	n = proto_put_open_result(f, sizeof(f), 1, PROTO_ST_OK);
	assert_int_equal(t_feed(p->cli, f, n), 0);
	assert_int_equal(t_close_reason(p->cli, 1), PROTO_CLOSE_PROTOCOL);
	mux_collect(p->cli);
	t_assert_app_closed(sv[1]);
	close(sv[1]);
	assert_int_equal(test_socketpair_nb(sv), 0);
	assert_non_null(mux_stream_open(p->cli, sv[0], &t_dst));	/* stream 2 */
	n = proto_put_open_result_credit(f, sizeof(f), 2, PROTO_ST_OK, WINDOW + 1);
	assert_int_equal(t_feed(p->cli, f, n), 0);
	assert_int_equal(t_close_reason(p->cli, 2), PROTO_CLOSE_PROTOCOL);
	assert_string_equal(mux_error(p->cli), "");
	mux_collect(p->cli);
	t_assert_app_closed(sv[1]);
	close(sv[1]);
	t_teardown(p);
}

/* The bounds the client's HELLO asks for reach the stub; none asked: 0. */
static void
test_hello_asks_bounds(void **state)
{
	struct pair	*p = calloc(1, sizeof(*p));
	uint32_t	 max;

	assert_non_null(p);
	test_ev_init(&p->loop);
	assert_non_null(p->cli = mux_new(&p->loop, PROTO_ROLE_CLIENT, WINDOW, &cli_ops, p));
	assert_non_null(p->stub = mux_new(&p->loop, PROTO_ROLE_STUB, WINDOW, &stub_ops, p));
	mux_ask_bounds(p->cli, 3 * 1024 * 1024, 50);
	assert_int_equal(mux_send_hello(p->cli, PROTO_FEAT_KNOWN), 0);
	assert_int_equal(mux_send_hello(p->stub, PROTO_FEAT_KNOWN), 0);
	t_pump(p, 2);
	assert_int_equal(mux_peer_ask(p->stub, &max), 3 * 1024 * 1024);
	assert_int_equal(max, 50);
	assert_int_equal(mux_peer_ask(p->cli, &max), 0);
	assert_int_equal(max, 0);
	t_teardown(p);
}

/* ROUTES: only when both HELLOs have the feature, only from the stub,
 * only once. */
static void
test_routes(void **state)
{
	struct pair	*p;
	struct addr	 net;
	uint8_t		 prefix = 16, f[PROTO_HDR_LEN + PROTO_ROUTE_LEN];
	int		 n;

	addr_set(&net, ADDR_V4, "\x0a\x01\0\0", 0);
	n = proto_put_routes(f, sizeof(f), &net, &prefix, 1);

	/* The client did not ask: the stub does not send them. */
	p = t_setup_with(PROTO_FEAT_DNS, PROTO_FEAT_ROUTES);
	assert_int_equal(mux_send_routes(p->stub, &net, &prefix, 1), -1);
	assert_int_equal(mux_link_len(p->stub), 0);
	/* And a stub that sends them anyway ends the session. */
	assert_int_equal(t_feed(p->cli, f, n), -1);
	assert_string_equal(mux_error(p->cli), "protocol error: ROUTES without the "
	    "ROUTES feature in our HELLO");
	assert_int_equal(p->routes_frames, 0);
	t_teardown(p);

	/* Both: they arrive, once. */
	p = t_setup_with(PROTO_FEAT_ROUTES, PROTO_FEAT_ROUTES);
	assert_int_equal(mux_send_routes(p->stub, &net, &prefix, 1), 0);
	t_pump(p, 1);
	assert_int_equal(p->routes_frames, 1);
	assert_int_equal(p->routes_n, 1);
	assert_int_equal(t_feed(p->cli, f, n), -1);
	assert_string_equal(mux_error(p->cli), "protocol error: ROUTES sent twice");
	assert_int_equal(p->routes_frames, 1);
	/* The client never sends them. */
	assert_int_equal(t_feed(p->stub, f, n), -1);
	assert_string_equal(mux_error(p->stub), "protocol error: the client sent ROUTES");
	t_teardown(p);
}

/* HOSTS: the same rules as ROUTES, under its own feature bit. */
static void
test_hosts(void **state)
{
	struct pair		*p;
	struct proto_host	 h;
	uint8_t			 f[PROTO_HDR_LEN + PROTO_HOST_FIXED + 8];
	int			 n;

	addr_set(&h.addr, ADDR_V4, "\xc6\x13\0\x02", 0);
	h.name = "labpriv";
	n = proto_put_hosts(f, sizeof(f), &h, 1);
	assert_true(n > 0);

	/* The client did not ask: the stub does not send them. */
	p = t_setup_with(PROTO_FEAT_ROUTES, PROTO_FEAT_ROUTES | PROTO_FEAT_HOSTS);
	assert_int_equal(mux_send_hosts(p->stub, &h, 1), -1);
	assert_int_equal(mux_link_len(p->stub), 0);
	assert_int_equal(t_feed(p->cli, f, n), -1);
	assert_string_equal(mux_error(p->cli), "protocol error: HOSTS without the "
	    "HOSTS feature in our HELLO");
	assert_int_equal(p->hosts_frames, 0);
	t_teardown(p);

	/* Both: they arrive, once. */
	p = t_setup_with(PROTO_FEAT_HOSTS, PROTO_FEAT_HOSTS);
	assert_int_equal(mux_send_hosts(p->stub, &h, 1), 0);
	t_pump(p, 1);
	assert_int_equal(p->hosts_frames, 1);
	assert_int_equal(p->hosts_n, 1);
	assert_int_equal(t_feed(p->cli, f, n), -1);
	assert_string_equal(mux_error(p->cli), "protocol error: HOSTS sent twice");
	assert_int_equal(p->hosts_frames, 1);
	assert_int_equal(t_feed(p->stub, f, n), -1);
	assert_string_equal(mux_error(p->stub), "protocol error: the client sent HOSTS");
	t_teardown(p);
}

/* HOSTS_SEED: the other way, under the same bit; once. */
static void
test_hosts_seed(void **state)
{
	struct pair		*p;
	struct proto_seed	 s;
	uint8_t			 f[PROTO_HDR_LEN + 32];
	int			 n;

	memset(&s, 0, sizeof(s));
	s.name = "seeded.lab";
	n = proto_put_hosts_seed(f, sizeof(f), &s, 1);
	assert_true(n > 0);

	/* The stub did not announce it: the client does not send it, and
	 * a client that sends it anyway ends the session. */
	p = t_setup_with(PROTO_FEAT_HOSTS, PROTO_FEAT_ROUTES);
	assert_int_equal(mux_send_hosts_seed(p->cli, &s, 1), -1);
	assert_int_equal(mux_link_len(p->cli), 0);
	assert_int_equal(t_feed(p->stub, f, n), -1);
	assert_string_equal(mux_error(p->stub), "protocol error: HOSTS_SEED without "
	    "the HOSTS feature in our HELLO");
	t_teardown(p);

	/* Both: it arrives, once. */
	p = t_setup_with(PROTO_FEAT_HOSTS, PROTO_FEAT_HOSTS);
	assert_int_equal(mux_send_hosts_seed(p->cli, &s, 1), 0);
	t_pump(p, 1);
	assert_int_equal(p->seed_frames, 1);
	assert_int_equal(p->seed_n, 1);
	assert_int_equal(t_feed(p->stub, f, n), -1);
	assert_string_equal(mux_error(p->stub), "protocol error: HOSTS_SEED sent twice");
	assert_int_equal(p->seed_frames, 1);
	/* The stub never sends it. */
	assert_int_equal(t_feed(p->cli, f, n), -1);
	assert_string_equal(mux_error(p->cli), "protocol error: the stub sent HOSTS_SEED");
	t_teardown(p);
}

/* ---- UDP ---- */

/* UDP frames need PROTO_FEAT_UDP in both HELLOs, like DNS frames. */
static void
test_udp_needs_the_feature_on_both_sides(void **state)
{
	struct pair	*p;
	uint8_t		 f[PROTO_HDR_LEN + PROTO_UDP_ADDR4_LEN + 2];
	int		 n;

	n = proto_put_udp_data(f, sizeof(f), 1, &t_dst, "hi", 2);

	p = t_setup_stub_only(PROTO_FEAT_UDP);
	assert_int_equal(t_feed_hello(p->stub, PROTO_ROLE_CLIENT, PROTO_FEAT_DNS), 0);
	assert_int_equal(t_feed(p->stub, f, n), -1);
	assert_string_equal(mux_error(p->stub), "protocol error: UDP_DATA without the "
	    "UDP feature in the peer's HELLO");
	t_teardown(p);

	p = t_setup_stub_only(PROTO_FEAT_DNS);
	assert_int_equal(t_feed_hello(p->stub, PROTO_ROLE_CLIENT, PROTO_FEAT_UDP), 0);
	assert_int_equal(t_feed(p->stub, f, n), -1);
	assert_string_equal(mux_error(p->stub), "protocol error: UDP_DATA without the "
	    "UDP feature in our HELLO");
	assert_int_equal(p->udp_frames, 0);
	t_teardown(p);

	p = t_setup_stub_only(PROTO_FEAT_UDP);
	assert_int_equal(t_feed_hello(p->stub, PROTO_ROLE_CLIENT, PROTO_FEAT_UDP), 0);
	assert_true(mux_feature(p->stub, PROTO_FEAT_UDP));
	assert_int_equal(t_feed(p->stub, f, n), 0);
	assert_int_equal(p->udp_frames, 1);
	assert_int_equal(p->udp_last.type, PROTO_UDP_DATA);
	assert_int_equal(p->udp_last.stream, 1);
	assert_true(addr_equal(&p->udp_last.u.udp.peer, &t_dst));
	assert_memory_equal(p->udp_data, "hi", 2);
	t_teardown(p);

	/* Neither side sends what the other would refuse. */
	p = t_setup_with(PROTO_FEAT_UDP, 0);
	assert_int_equal(mux_send_udp(p->cli, 1, &t_dst, "hi", 2), -1);
	assert_int_equal(mux_send_udp_close(p->cli, 1, PROTO_UDP_CLOSE_DONE), -1);
	assert_int_equal(mux_send_udp(p->stub, 1, &t_dst, "hi", 2), -1);
	assert_int_equal(mux_send_udp_drop(p->stub, 1, &t_dst, PROTO_UDP_DROP_SEND), -1);
	assert_int_equal(mux_link_len(p->cli), 0);
	assert_int_equal(mux_link_len(p->stub), 0);
	t_teardown(p);
}

/* Both ways through a pair; UDP_DROP only from the stub. */
static void
test_udp_frames_both_ways(void **state)
{
	struct pair	*p = t_setup_with(PROTO_FEAT_UDP, PROTO_FEAT_UDP);
	uint8_t		 f[PROTO_HDR_LEN + PROTO_UDP_ADDR4_LEN + 1];
	int		 n;

	assert_int_equal(mux_send_udp(p->cli, 5, &t_dst, "query", 5), 0);
	t_pump(p, 1);
	assert_int_equal(p->udp_frames, 1);
	assert_int_equal(p->udp_last.stream, 5);
	assert_int_equal(p->udp_last.bad, 0);
	assert_memory_equal(p->udp_data, "query", 5);
	assert_int_equal(mux_send_udp(p->stub, 5, &t_dst, "", 0), 0);
	assert_int_equal(mux_send_udp_drop(p->stub, 5, &t_dst, PROTO_UDP_DROP_UNREACH), 0);
	assert_int_equal(mux_send_udp_close(p->stub, 5, PROTO_UDP_CLOSE_RESOURCE), 0);
	t_pump(p, 1);
	assert_int_equal(p->udp_frames, 4);
	assert_int_equal(p->udp_last.type, PROTO_UDP_CLOSE);
	assert_int_equal(p->udp_last.u.udp.reason, PROTO_UDP_CLOSE_RESOURCE);
	assert_string_equal(mux_error(p->cli), "");

	/* The client has no UDP_DROP to send; one it sends anyway ends the
	 * session. */
	assert_int_equal(mux_send_udp_drop(p->cli, 5, &t_dst, PROTO_UDP_DROP_SEND), -1);
	n = proto_put_udp_drop(f, sizeof(f), 5, &t_dst, PROTO_UDP_DROP_SEND);
	assert_int_equal(t_feed(p->stub, f, n), -1);
	assert_string_equal(mux_error(p->stub), "protocol error: the client sent UDP_DROP");
	assert_int_equal(p->udp_frames, 4);
	t_teardown(p);
}

/* A bad UDP frame reaches ops.udp with f->bad (the receiver closes that
 * flow); one without a flow id is dropped; the session goes on. */
static void
test_udp_bad_frame_reaches_the_handler(void **state)
{
	struct pair	*p = t_setup_with(PROTO_FEAT_UDP, PROTO_FEAT_UDP);
	uint8_t		 f[PROTO_HDR_LEN + PROTO_UDP_ADDR4_LEN + 1];
	int		 n;

	n = proto_put_udp_data(f, sizeof(f), 9, &t_dst, "x", 1);
	f[PROTO_HDR_LEN + 1] = 1;		/* the reserved byte */
	assert_int_equal(t_feed(p->stub, f, n), 0);
	assert_int_equal(p->udp_frames, 1);
	assert_int_equal(p->udp_last.stream, 9);
	assert_int_equal(p->udp_last.bad, PROTO_E_VALUE);
	n = proto_put_udp_close(f, sizeof(f), 9, 0);
	f[PROTO_HDR_LEN] = 7;			/* no such reason */
	assert_int_equal(t_feed(p->stub, f, n), 0);
	assert_int_equal(p->udp_frames, 2);
	assert_int_equal(p->udp_last.bad, PROTO_E_VALUE);
	n = proto_put_udp_data(f, sizeof(f), 9, &t_dst, "x", 1);
	memset(f + 4, 0, 4);			/* flow id 0 */
	assert_int_equal(t_feed(p->stub, f, n), 0);
	assert_int_equal(p->udp_frames, 2);
	assert_string_equal(mux_error(p->stub), "");
	t_teardown(p);
}

/* UDP never waits: datagrams are refused once the link holds
 * MUX_UDP_LINK_MAX, and never larger than a frame; UDP_CLOSE still goes. */
static void
test_udp_link_bound(void **state)
{
	static uint8_t	 d[PROTO_UDP_MAX_DGRAM4 + 1];
	struct pair	*p = t_setup_with(PROTO_FEAT_UDP, PROTO_FEAT_UDP);
	size_t		 len;
	int		 n = 0;

	assert_int_equal(mux_send_udp(p->stub, 1, &t_dst, d, sizeof(d)), -1);
	assert_int_equal(mux_link_len(p->stub), 0);
	while (mux_send_udp(p->stub, 1, &t_dst, d, PROTO_UDP_MAX_DGRAM4) == 0)
		n++;
	len = mux_link_len(p->stub);
	assert_int_equal(len, (size_t)n * PROTO_MAX_FRAME);
	assert_true(len <= MUX_UDP_LINK_MAX);
	assert_true(len + PROTO_MAX_FRAME > MUX_UDP_LINK_MAX);
	/* A small datagram may still fit; then nothing does. */
	while (mux_send_udp(p->stub, 1, &t_dst, "", 0) == 0)
		;
	assert_true(mux_link_len(p->stub) <= MUX_UDP_LINK_MAX);
	assert_int_equal(mux_send_udp_close(p->stub, 1, PROTO_UDP_CLOSE_DONE), 0);
	assert_int_equal(mux_send_udp_drop(p->stub, 1, &t_dst, PROTO_UDP_DROP_SEND), 0);
	assert_string_equal(mux_error(p->stub), "");
	/* Room again once the link drains. */
	mux_link_consume(p->stub, mux_link_len(p->stub));
	assert_int_equal(mux_send_udp(p->stub, 1, &t_dst, d, PROTO_UDP_MAX_DGRAM4), 0);
	t_teardown(p);
}

/* ---- resume (docs/PROTOCOL.md §11) ---- */


/*
 * The link breaks: `cli_keep` bytes of what the client had queued reach
 * the stub and `stub_keep` of the stub's reach the client (a frame may be
 * cut in two); the rest is lost.  Both sides then detach.
 */
static void
t_break(struct pair *p, size_t cli_keep, size_t stub_keep)
{
	struct mux	*from[2] = { p->cli, p->stub }, *to[2] = { p->stub, p->cli };
	size_t		 keep[2] = { cli_keep, stub_keep };
	const uint8_t	*src;
	uint8_t		*dst;
	size_t		 len, room;
	int		 i;

	for (i = 0; i < 2; i++) {
		src = mux_link_data(from[i], &len);
		dst = mux_in_space(to[i], &room);
		if (keep[i] > len)
			keep[i] = len;
		if (keep[i] > room)
			keep[i] = room;
		memcpy(dst, src, keep[i]);
		mux_link_consume(from[i], keep[i]);
		assert_int_equal(mux_in_commit(to[i], keep[i]), 0);
	}
	mux_detach(p->cli);
	mux_detach(p->stub);
	assert_true(mux_resuming(p->cli));
	assert_int_equal(mux_link_len(p->cli), 0);
	assert_int_equal(mux_link_len(p->stub), 0);
}

static void
t_attach(struct pair *p)
{
	assert_int_equal(mux_attach(p->cli, T_RESUME), 0);
	assert_int_equal(mux_attach(p->stub, T_RESUME), 0);
	t_pump(p, 2);
	assert_false(mux_resuming(p->cli));
	assert_false(mux_resuming(p->stub));
}

/* The byte at offset off of a test flow: no short period, so a lost,
 * repeated or misplaced block shows. */
static uint8_t
t_pattern(uint64_t off, uint8_t seed)
{
	return (uint8_t)((off ^ (off >> 7) ^ (off >> 15)) * 31 + seed);
}

struct t_flow {
	int		wfd, rfd;
	uint64_t	sent, got, total;
	uint8_t		seed;
	bool		shut, eof;
};

/* Write what the socket takes, read and check what arrived. */
static void
t_flow_step(struct t_flow *f)
{
	uint8_t	buf[16384];
	size_t	i, n;
	ssize_t	r;

	while (f->sent < f->total) {
		n = f->total - f->sent < sizeof(buf) ? (size_t)(f->total - f->sent) :
		    sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = t_pattern(f->sent + i, f->seed);
		if ((r = write(f->wfd, buf, n)) <= 0)
			break;
		f->sent += (uint64_t)r;
	}
	if (f->sent == f->total && !f->shut) {
		assert_int_equal(shutdown(f->wfd, SHUT_WR), 0);
		f->shut = true;
	}
	while (!f->eof && (r = read(f->rfd, buf, sizeof(buf))) >= 0) {
		if (r == 0) {
			f->eof = true;
			break;
		}
		for (i = 0; i < (size_t)r; i++)
			if (buf[i] != t_pattern(f->got + i, f->seed))
				fail_msg("byte %llu of flow %u is wrong",
				    (unsigned long long)(f->got + i), f->seed);
		f->got += (uint64_t)r;
	}
	if (!f->eof)
		assert_int_equal(errno, EAGAIN);
}

/* 1 MiB each way through one stream while the link breaks twice, each
 * time with frames cut in the middle: every byte arrives once, in order,
 * then both EOFs, and nothing is kept afterwards. */
static void
test_resume_bulk_both_ways(void **state)
{
	struct pair	*p = t_setup_with(T_RESUME, T_RESUME);
	struct t_flow	 up, down;
	int		 app, i;

	assert_true(mux_resumable(p->cli));
	assert_true(mux_resumable(p->stub));
	app = t_connect(p);
	memset(&up, 0, sizeof(up));
	memset(&down, 0, sizeof(down));
	up.wfd = app;
	up.rfd = p->server_fd[0];
	up.seed = 1;
	down.wfd = p->server_fd[0];
	down.rfd = app;
	down.seed = 2;
	up.total = down.total = 1024 * 1024;
	for (i = 0; i < 20000 && !(up.eof && down.eof); i++) {
		t_flow_step(&up);
		t_flow_step(&down);
		t_pump(p, 1);
		assert_true(t_stats(p->cli).retained <= WINDOW);
		assert_true(t_stats(p->stub).retained <= WINDOW);
		if (i == 3 || i == 9) {
			t_break(p, 1000 + (size_t)i * 100, 33333);
			/* Down: the sockets are still served, nothing moves. */
			t_flow_step(&up);
			t_flow_step(&down);
			t_pump(p, 3);
			assert_int_equal(mux_link_len(p->cli), 0);
			t_attach(p);
		}
	}
	assert_true(up.eof && down.eof);
	assert_true(i > 10);
	assert_int_equal(up.got, up.total);
	assert_int_equal(down.got, down.total);
	t_pump(p, 4);
	assert_int_equal(t_stats(p->cli).nstreams, 0);
	assert_int_equal(t_stats(p->stub).nstreams, 0);
	assert_int_equal(t_stats(p->cli).retained, 0);
	assert_int_equal(t_stats(p->stub).retained, 0);
	assert_int_equal(t_stats(p->cli).resumes, 2);
	assert_true(t_stats(p->cli).bytes_resent + t_stats(p->stub).bytes_resent > 0);
	close(app);
	t_teardown(p);
}

/* A short exchange with both EOFs, the link breaking after each of the
 * first rounds in turn (so also after one side has freed the stream and
 * only its last ACK is lost): both ends see the data and a clean end. */
static void
test_resume_at_every_step_of_a_close(void **state)
{
	int	k;

	for (k = 0; k < 10; k++) {
		struct pair	*p = t_setup_with(T_RESUME, T_RESUME);
		char		 buf[16];
		int		 app = t_connect(p), srv = p->server_fd[0], j;

		assert_int_equal(write(app, "ping", 4), 4);
		assert_int_equal(shutdown(app, SHUT_WR), 0);
		assert_int_equal(write(srv, "pong", 4), 4);
		assert_int_equal(shutdown(srv, SHUT_WR), 0);
		for (j = 0; j < k; j++)
			t_pump(p, 1);
		t_break(p, 0, 0);
		t_attach(p);
		t_pump(p, 8);
		assert_int_equal(t_read_all(srv, buf, sizeof(buf)), 4);
		assert_memory_equal(buf, "ping", 4);
		assert_int_equal(t_read_all(app, buf, sizeof(buf)), 4);
		assert_memory_equal(buf, "pong", 4);
		assert_int_equal(t_stats(p->cli).nstreams, 0);
		assert_int_equal(t_stats(p->stub).nstreams, 0);
		close(app);
		t_teardown(p);
	}
}

/* The stub reset a stream and its CLOSE was lost with the link: after
 * the resume the client resets it too; the other stream carries on. */
static void
test_resume_lost_close_resets(void **state)
{
	struct pair	*p = t_setup_with(T_RESUME, T_RESUME);
	int		 app_a = t_connect(p), app_b = t_connect(p);

	assert_int_equal(p->nserver, 2);
	close(p->server_fd[0]);
	p->server_fd[0] = -1;
	assert_int_equal(write(app_a, "data", 4), 4);
	/* The DATA reaches the stub, whose write fails: CLOSE queued. */
	(void)ev_run_once(&p->loop, 0);
	t_move(p->cli, p->stub);
	assert_int_equal(t_close_reason(p->stub, 1), PROTO_CLOSE_RESET);
	t_break(p, 0, 0);
	t_attach(p);
	t_pump(p, 4);
	t_assert_app_closed(app_a);
	assert_int_equal(t_stats(p->cli).nstreams, 1);
	t_assert_b_alive(p, app_b);
	p->server_fd[0] = dup(p->server_fd[1]);	/* for t_teardown */
	close(app_a);
	close(app_b);
	t_teardown(p);
}

/* A connection accepted while the link is down: its OPEN is lost, so it
 * is reset on resume, and the stub skips its id: the next one works. */
static void
test_resume_lost_open(void **state)
{
	struct pair	*p = t_setup_with(T_RESUME, T_RESUME);
	int		 sv[2], app;
	char		 buf[8];

	t_break(p, 0, 0);
	assert_int_equal(test_socketpair_nb(sv), 0);
	assert_non_null(mux_stream_open(p->cli, sv[0], &t_dst));
	t_attach(p);
	t_pump(p, 2);
	t_assert_app_closed(sv[1]);
	close(sv[1]);
	assert_int_equal(p->nserver, 0);
	app = t_connect(p);
	assert_int_equal(p->nserver, 1);
	assert_int_equal(write(app, "hi", 2), 2);
	t_pump(p, 4);
	assert_int_equal(read(p->server_fd[0], buf, sizeof(buf)), 2);
	close(app);
	t_teardown(p);
}

/* Resume needs the feature in both first HELLOs; its frames come only on
 * a resumed link, and a resumed link must announce it again. */
static void
test_resume_rules(void **state)
{
	struct pair	*p = t_setup_with(T_RESUME, PROTO_FEAT_CREDIT);
	uint8_t		 f[64];

	assert_false(mux_resumable(p->cli));
	mux_detach(p->cli);
	assert_int_equal(mux_attach(p->cli, T_RESUME), -1);
	t_teardown(p);

	p = t_setup_with(T_RESUME, T_RESUME);
	assert_int_equal(t_feed(p->stub, f, proto_put_resume_end(f, sizeof(f), 0)), -1);
	assert_non_null(strstr(mux_error(p->stub), "outside a resume"));
	t_teardown(p);

	p = t_setup_with(T_RESUME, T_RESUME);
	mux_detach(p->stub);
	assert_int_equal(mux_attach(p->stub, T_RESUME), 0);
	assert_int_equal(t_feed_hello(p->stub, PROTO_ROLE_CLIENT, PROTO_FEAT_CREDIT), -1);
	assert_non_null(strstr(mux_error(p->stub), "cannot resume"));
	t_teardown(p);
}

/* With resume, a stream whose EOF reaches the stub while it connects:
 * the stub acknowledges that EOF only after OPEN_RESULT (nothing may
 * precede it), and the exchange ends cleanly. */
static void
test_resume_eof_before_open_result(void **state)
{
	struct pair	*p = t_setup_with(T_RESUME, T_RESUME);
	int		 sv[2];
	char		 buf[8];

	assert_int_equal(test_socketpair_nb(sv), 0);
	assert_non_null(mux_stream_open(p->cli, sv[0], &t_dst));
	assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
	/* OPEN and EOF reach the stub together, before it is connected. */
	(void)ev_run_once(&p->loop, 0);
	t_move(p->cli, p->stub);
	t_pump(p, 6);
	assert_int_equal(t_close_reason(p->stub, 1), -1);
	assert_int_equal(p->nserver, 1);
	assert_int_equal(t_read_all(p->server_fd[0], buf, sizeof(buf)), 0);
	/* The answer still comes back: the client did not close it. */
	assert_int_equal(write(p->server_fd[0], "ok", 2), 2);
	assert_int_equal(shutdown(p->server_fd[0], SHUT_WR), 0);
	t_pump(p, 6);
	assert_int_equal(t_read_all(sv[1], buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "ok", 2);
	assert_int_equal(t_stats(p->cli).nstreams, 0);
	assert_int_equal(t_stats(p->stub).nstreams, 0);
	close(sv[1]);
	t_teardown(p);
}

/* A connection accepted on the new link before the peer's RESUME_END
 * (the client drains its waiting connections at the resumed HELLO) is
 * not one the peer failed to list: it works. */
static void
test_resume_open_while_resuming(void **state)
{
	struct pair	*p = t_setup_with(T_RESUME, T_RESUME);
	int		 old = t_connect(p), sv[2];
	char		 buf[8];

	t_break(p, 0, 0);
	assert_int_equal(mux_attach(p->cli, T_RESUME), 0);
	assert_int_equal(test_socketpair_nb(sv), 0);
	assert_non_null(mux_stream_open(p->cli, sv[0], &t_dst));
	assert_int_equal(mux_attach(p->stub, T_RESUME), 0);
	t_pump(p, 6);
	assert_false(mux_resuming(p->cli));
	assert_int_equal(t_stats(p->cli).nstreams, 2);
	assert_int_equal(p->nserver, 2);
	assert_int_equal(write(sv[1], "new", 3), 3);
	t_pump(p, 4);
	assert_int_equal(read(p->server_fd[1], buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "new", 3);
	close(sv[1]);
	close(old);
	t_teardown(p);
}

/* An entry claiming bytes that were never sent closes that stream. */
static void
test_resume_bad_entry_closes_stream(void **state)
{
	struct pair		*p = t_setup_with(T_RESUME, T_RESUME);
	struct proto_resume	 e = { 1, 999999, 999999 + 4096, 0 };
	uint8_t			 f[64];
	int			 app = t_connect(p);

	mux_detach(p->stub);
	assert_int_equal(mux_attach(p->stub, T_RESUME), 0);
	assert_int_equal(t_feed_hello(p->stub, PROTO_ROLE_CLIENT, T_RESUME), 0);
	assert_int_equal(t_feed(p->stub, f, proto_put_resume(f, sizeof(f), &e, 1)), 0);
	assert_int_equal(t_close_reason(p->stub, 1), PROTO_CLOSE_PROTOCOL);
	assert_int_equal(t_feed(p->stub, f, proto_put_resume_end(f, sizeof(f), 1)), 0);
	assert_false(mux_resuming(p->stub));
	close(app);
	t_teardown(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_and_half_close),
		cmocka_unit_test(test_hosts_seed),
		cmocka_unit_test(test_stalled_reader_does_not_block_others),
		cmocka_unit_test(test_waiting_streams_read_as_the_link_drains),
		cmocka_unit_test(test_bye_goes_ahead_of_queued_data),
		cmocka_unit_test(test_bye_cut_anywhere),
		cmocka_unit_test(test_opens_are_handled_in_batches),
		cmocka_unit_test(test_refused_connect_closes_app_socket),
		cmocka_unit_test(test_credit_overrun_closes_only_that_stream),
		cmocka_unit_test(test_never_opened_stream_ends_session),
		cmocka_unit_test(test_open_id_gap_ends_session),
		cmocka_unit_test(test_open_id_reuse_ends_session),
		cmocka_unit_test(test_frame_before_open_result),
		cmocka_unit_test(test_second_hello_ends_session),
		cmocka_unit_test(test_hello_with_our_role_ends_session),
		cmocka_unit_test(test_frame_before_hello_ends_session),
		cmocka_unit_test(test_data_after_eof_closes_stream),
		cmocka_unit_test(test_duplicate_eof_closes_stream),
		cmocka_unit_test(test_credit_beyond_window_closes_stream),
		cmocka_unit_test(test_reserved_byte_session_frame),
		cmocka_unit_test(test_reserved_byte_stream_frame),
		cmocka_unit_test(test_dns_needs_the_feature_on_both_sides),
		cmocka_unit_test(test_send_dns_refused_without_the_feature),
		cmocka_unit_test(test_long_forms_carry_data),
		cmocka_unit_test(test_budget_bounds_stalled_readers),
		cmocka_unit_test(test_budget_shrinks_returned_credit),
		cmocka_unit_test(test_grow_when_blocked),
		cmocka_unit_test(test_grow_needs_the_feature),
		cmocka_unit_test(test_no_growth_for_a_slow_reader),
		cmocka_unit_test(test_grow_within_the_budget),
		cmocka_unit_test(test_blocked_after_eof_closes_stream),
		cmocka_unit_test(test_max_streams_client),
		cmocka_unit_test(test_max_streams_stub),
		cmocka_unit_test(test_initial_credit_rules),
		cmocka_unit_test(test_hello_asks_bounds),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_udp_needs_the_feature_on_both_sides),
		cmocka_unit_test(test_udp_frames_both_ways),
		cmocka_unit_test(test_udp_bad_frame_reaches_the_handler),
		cmocka_unit_test(test_udp_link_bound),
		cmocka_unit_test(test_resume_bulk_both_ways),
		cmocka_unit_test(test_resume_at_every_step_of_a_close),
		cmocka_unit_test(test_resume_lost_close_resets),
		cmocka_unit_test(test_resume_lost_open),
		cmocka_unit_test(test_resume_rules),
		cmocka_unit_test(test_resume_bad_entry_closes_stream),
		cmocka_unit_test(test_resume_eof_before_open_result),
		cmocka_unit_test(test_resume_open_while_resuming),
	};
	/* As the client does: where send() has no MSG_NOSIGNAL (macOS), a
	 * write to a closed socket is then EPIPE, not the end of us. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
