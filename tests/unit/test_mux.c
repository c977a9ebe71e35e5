/*
 * test_mux.c - a client mux and a stub mux wired back to back in one
 * process, with socketpairs standing in for the application and the
 * remote server.  Checks the behaviour users see: data both ways,
 * half-close, a stalled reader that does not stall its neighbour and
 * whose memory stays within one window, refused connects, and a peer
 * that overruns its credit losing only its stream.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ev.h"
#include "mux.h"

#define WINDOW	(64 * 1024)

struct pair {
	struct ev_loop	loop;
	struct mux	cli, stub;
	int		server_fd[16];	/* far ends of the stub's "connections" */
	int		nserver;
	int		refuse;
};

static int
t_open(struct mux *m, const struct proto_open *o)
{
	struct pair	*p = m->udata;
	int		 sv[2];

	if (p->refuse)
		return -ECONNREFUSED;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	p->server_fd[p->nserver++] = sv[1];
	return sv[0];
}

static const struct mux_ops cli_ops = { 0 };
static const struct mux_ops stub_ops = { .open = t_open };

/* Move one side's queued frames into the other's input. */
static void
t_move(struct mux *from, struct mux *to)
{
	uint8_t	*dst;
	size_t	 room, n;

	while (buf_len(&from->link_out) > 0 && mux_in_ready(to)) {
		dst = mux_in_space(to, &room);
		n = buf_len(&from->link_out) < room ? buf_len(&from->link_out) : room;
		memcpy(dst, buf_ptr(&from->link_out), n);
		buf_consume(&from->link_out, n);
		assert_int_equal(mux_in_commit(to, n), 0);
	}
	mux_link_drained(from);
}

static void
t_pump(struct pair *p, int rounds)
{
	while (rounds-- > 0) {
		t_move(&p->cli, &p->stub);
		t_move(&p->stub, &p->cli);
		(void)ev_run_once(&p->loop, 0);
		mux_collect(&p->cli);
		mux_collect(&p->stub);
	}
}

static struct pair *
t_setup(void)
{
	struct pair	*p = calloc(1, sizeof(*p));

	assert_non_null(p);
	assert_int_equal(ev_init(&p->loop), 0);
	assert_int_equal(mux_init(&p->cli, &p->loop, PROTO_ROLE_CLIENT, WINDOW, &cli_ops, p), 0);
	assert_int_equal(mux_init(&p->stub, &p->loop, PROTO_ROLE_STUB, WINDOW, &stub_ops, p), 0);
	assert_int_equal(mux_send_hello(&p->cli, 0), 0);
	assert_int_equal(mux_send_hello(&p->stub, 0), 0);
	t_pump(p, 2);
	assert_true(p->cli.hello_seen);
	assert_true(p->stub.hello_seen);
	return p;
}

static void
t_teardown(struct pair *p)
{
	int	i;

	mux_free(&p->cli);
	mux_free(&p->stub);
	for (i = 0; i < p->nserver; i++)
		close(p->server_fd[i]);
	ev_close(&p->loop);
	free(p);
}

/* An application socket whose other end the client mux owns. */
static int
t_connect(struct pair *p)
{
	struct proto_open	dst = { PROTO_FAMILY_IPV4, 6, 80, { 198, 19, 0, 2 } };
	int			sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_non_null(mux_stream_open(&p->cli, sv[0], &dst));
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
	assert_int_equal(p->cli.nstreams, 0);
	assert_int_equal(p->stub.nstreams, 0);
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
	struct mux_stream	*st;
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
	 * far side got stuck after socket buffers plus one window. */
	for (st = p->cli.all; st != NULL; st = st->lnext) {
		assert_true(buf_len(&st->out) <= WINDOW);
	}
	for (st = p->stub.all; st != NULL; st = st->lnext)
		assert_true(buf_len(&st->out) <= WINDOW);
	assert_true(buf_len(&p->cli.link_out) <= MUX_LINK_SOFT + PROTO_MAX_FRAME);
	assert_true(sent_a < total);
	close(app_a);
	close(app_b);
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
	assert_int_equal(p->cli.nstreams, 0);
	assert_int_equal(p->cli.streams_failed, 1);
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
		dst = mux_in_space(&p->cli, &room);
		assert_true(room >= sizeof(hdr) + sizeof(junk));
		memcpy(dst, hdr, sizeof(hdr));
		memcpy(dst + sizeof(hdr), junk, sizeof(junk));
		assert_int_equal(mux_in_commit(&p->cli, sizeof(hdr) + sizeof(junk)), 0);
		if (p->cli.nstreams == 1)
			break;
	}
	assert_string_equal(p->cli.error, "");	/* the session survives */
	assert_int_equal(p->cli.nstreams, 1);	/* stream 2 is still there */
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
	uint8_t		 f[PROTO_HDR_LEN + 4], *dst;
	size_t		 room;
	int		 n;

	n = proto_put_credit(f, sizeof(f), 77, 100);
	dst = mux_in_space(&p->stub, &room);
	memcpy(dst, f, (size_t)n);
	assert_int_equal(mux_in_commit(&p->stub, (size_t)n), -1);
	assert_non_null(strstr(p->stub.error, "never opened"));
	t_teardown(p);
}

/* The spec: ids increase by exactly one; a gap ends the session. */
static void
test_open_id_gap_ends_session(void **state)
{
	struct pair		*p = t_setup();
	struct proto_open	 dst = { PROTO_FAMILY_IPV4, 6, 80, { 198, 19, 0, 2 } };
	uint8_t			 f[PROTO_HDR_LEN + 20], *dst_buf;
	size_t			 room;
	int			 n;

	n = proto_put_open(f, sizeof(f), 3, &dst);
	dst_buf = mux_in_space(&p->stub, &room);
	memcpy(dst_buf, f, (size_t)n);
	assert_int_equal(mux_in_commit(&p->stub, (size_t)n), -1);
	assert_non_null(strstr(p->stub.error, "increase by one"));
	t_teardown(p);
}

/* A frame other than OPEN_RESULT/CLOSE before OPEN_RESULT closes the stream. */
static void
test_frame_before_open_result(void **state)
{
	struct pair		*p = t_setup();
	struct proto_open	 dst = { PROTO_FAMILY_IPV4, 6, 80, { 198, 19, 0, 2 } };
	uint8_t			 f[PROTO_HDR_LEN + 4], *b;
	size_t			 room;
	int			 sv[2], n;
	char			 c;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_non_null(mux_stream_open(&p->cli, sv[0], &dst));
	/* Do not let the stub answer: inject EOF as if it had skipped it. */
	n = proto_put_eof(f, sizeof(f), 1);
	b = mux_in_space(&p->cli, &room);
	memcpy(b, f, (size_t)n);
	assert_int_equal(mux_in_commit(&p->cli, (size_t)n), 0);
	assert_int_equal(p->cli.nstreams, 0);
	mux_collect(&p->cli);
	assert_int_equal(read(sv[1], &c, 1), 0);
	close(sv[1]);
	t_teardown(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_and_half_close),
		cmocka_unit_test(test_stalled_reader_does_not_block_others),
		cmocka_unit_test(test_refused_connect_closes_app_socket),
		cmocka_unit_test(test_credit_overrun_closes_only_that_stream),
		cmocka_unit_test(test_never_opened_stream_ends_session),
		cmocka_unit_test(test_open_id_gap_ends_session),
		cmocka_unit_test(test_frame_before_open_result),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
