/* SPDX-License-Identifier: ISC */
/*
 * dns_local_netns.c - the client's captured-DNS path (dns/dns_local.c),
 * end to end on real sockets in a private network namespace, which takes
 * root (an integration test for that reason): queries over UDP and
 * TCP reach the tunnel callback unchanged, answers come back to the
 * asker with its ID, failures and timeouts become SERVFAIL for that
 * query only, a query in flight when the session was lost is sent
 * again whole (EDNS included) through the next one, oversized UDP
 * answers are truncated, pipelined TCP
 * queries are answered in any order, bad queries are dropped, and with
 * --dns-domains other names are forwarded through c-ares to the server
 * the application asked, on sockets from the socket callback.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "dns_local.h"
#include "dns_msg.h"
#include "ev.h"

#define FAKE_NS_PORT	5300		/* the "original" server, 127.0.0.2 */

struct sent {
	uint32_t	id;
	size_t		len;
	uint8_t		q[DNS_MSG_QUERY_MAX];
};

static struct ev_loop	 loop;
static struct dns_local	*dl;
static struct sent	 sent[64];
static int		 nsent;
static int		 send_result;
static int		 nsockets;
static int		 fake_fd = -1;	/* the original server (UDP) */
static struct ev_io	 fake_io;
static int		 fake_queries;

static int
fake_send(void *arg, uint32_t id, const uint8_t *q, size_t len)
{
	if (send_result != 0)
		return send_result;
	assert_true(nsent < 64);
	sent[nsent].id = id;
	sent[nsent].len = len;
	memcpy(sent[nsent].q, q, len);
	nsent++;
	return 0;
}

static int
fake_socket(void *arg, int family, int type)
{
	nsockets++;
	return socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static void
hook(struct ev_loop *l, void *arg)
{
	dns_local_tick(dl);
}

/* Answer every query with one A record 192.0.2.99 (QR, RA set). */
static void
fake_ns_cb(struct ev_loop *l, struct ev_io *io, uint32_t revents)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	uint8_t			 b[600];
	ssize_t			 n;
	static const uint8_t	 rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
				    192, 0, 2, 99 };

	while ((n = recvfrom(fake_fd, b, sizeof(b) - sizeof(rr), MSG_DONTWAIT,
	    (struct sockaddr *)&ss, &sl)) > 12) {
		fake_queries++;
		b[2] |= 0x80;
		b[3] = 0x80;
		b[7] = 1;
		memcpy(b + n, rr, sizeof(rr));
		(void)sendto(fake_fd, b, (size_t)n + sizeof(rr), 0,
		    (struct sockaddr *)&ss, sl);
		sl = sizeof(ss);
	}
}

static size_t
mkquery(uint8_t *m, uint16_t id, const char *name, int edns)
{
	size_t o = 12;
	const char *p = name, *dot;

	memset(m, 0, 12);
	m[0] = (uint8_t)(id >> 8);
	m[1] = (uint8_t)id;
	m[2] = 0x01;
	m[5] = 1;
	while (*p != '\0') {
		size_t l;

		dot = strchr(p, '.');
		l = dot != NULL ? (size_t)(dot - p) : strlen(p);
		m[o++] = (uint8_t)l;
		memcpy(m + o, p, l);
		o += l;
		p += l;
		if (*p == '.')
			p++;
	}
	m[o++] = 0;
	m[o++] = 0;
	m[o++] = 1;
	m[o++] = 0;
	m[o++] = 1;
	if (edns > 0) {
		m[11] = 1;
		m[o++] = 0;
		m[o++] = 0;
		m[o++] = 41;
		m[o++] = (uint8_t)(edns >> 8);
		m[o++] = (uint8_t)edns;
		memset(m + o, 0, 6);
		o += 6;
	}
	return o;
}

/* The answer the "remote" gives: the query with QR set and `extra`
 * bytes of padding records counted in ANCOUNT (contents do not matter). */
static size_t
mkanswer(uint8_t *a, const uint8_t *q, size_t qlen, size_t extra)
{
	memcpy(a, q, qlen);
	a[2] |= 0x80;
	a[3] = 0x80;
	a[11] = 0;		/* no OPT in this answer */
	memset(a + qlen, 0x42, extra);
	return qlen + extra;
}

static void
spin_ms(int ms)
{
	uint64_t end = clock_ms() + (uint64_t)ms;

	while (clock_ms() < end)
		ev_run_once(&loop, 5);
}

/* Run the loop until fd has a datagram/bytes or ms pass; returns the
 * length read or -1. */
static ssize_t
wait_recv(int fd, uint8_t *buf, size_t len, int ms)
{
	uint64_t end = clock_ms() + (uint64_t)ms;
	ssize_t n;

	do {
		ev_run_once(&loop, 5);
		if ((n = recv(fd, buf, len, MSG_DONTWAIT)) >= 0)
			return n;
	} while (clock_ms() < end);
	return -1;
}

static int
wait_sent(int want, int ms)
{
	uint64_t end = clock_ms() + (uint64_t)ms;

	while (nsent < want && clock_ms() < end)
		ev_run_once(&loop, 5);
	return nsent;
}

static int
udp_client(uint16_t port)
{
	struct sockaddr_in sin;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static int
tcp_client(uint16_t port)
{
	struct sockaddr_in sin;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* Private network namespace with lo up: nothing leaves this test. */
static int
group_setup(void **state)
{
	struct ifreq ifr;
	int fd;

	if (unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "FAIL: needs root (a private network namespace: %s)\n",
		    strerror(errno));
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
		return -1;
	close(fd);
	return 0;
}

/* One captured server, 127.0.0.2:5300, optionally split on corp.example. */
static int
open_dl(int ndomains, int timeout_ms)
{
	static char *domains[] = { "corp.example" };
	struct dns_local_params p;
	struct addr ns;
	struct sockaddr_in sin;
	char err[256];

	memset(&ns, 0, sizeof(ns));
	ns.family = ADDR_V4;
	ns.bytes[0] = 127;
	ns.bytes[3] = 2;
	ns.port = FAKE_NS_PORT;
	memset(&p, 0, sizeof(p));
	p.servers = &ns;
	p.nservers = 1;
	p.domains = domains;
	p.ndomains = (size_t)ndomains;
	p.want4 = true;
	p.bind4[0] = 127;
	p.bind4[3] = 1;
	p.first_port = 12353;
	p.timeout_ms = timeout_ms;
	p.tcp_idle_ms = 400;
	p.socket = fake_socket;
	nsent = send_result = nsockets = fake_queries = 0;
	if (ev_init(&loop) != 0)
		return -1;
	loop.before_sleep = hook;
	dl = dns_local_open(&p, err, sizeof(err));
	if (dl == NULL) {
		fprintf(stderr, "dns_local_open: %s\n", err);
		return -1;
	}
	if (dns_local_start(dl, &loop, fake_send, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "dns_local_start: %s\n", err);
		return -1;
	}
	fake_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(FAKE_NS_PORT);
	sin.sin_addr.s_addr = htonl(0x7f000002);
	if (bind(fake_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    ev_io_add(&loop, &fake_io, fake_fd, EV_READ, fake_ns_cb, NULL) != 0)
		return -1;
	return 0;
}

static int
setup_tunnel(void **state)
{
	return open_dl(0, 500);
}

static int
setup_split(void **state)
{
	return open_dl(1, 3000);
}

static int
teardown(void **state)
{
	dns_local_stop(dl);
	dns_local_close(dl);
	dl = NULL;
	ev_io_del(&loop, &fake_io);
	close(fake_fd);
	fake_fd = -1;
	ev_close(&loop);
	return 0;
}

static uint16_t
port0(void)
{
	uint16_t port = 0;

	assert_non_null(dns_local_server(dl, 0, &port));
	assert_int_equal(dns_local_count(dl), 1);
	return port;
}

static void
test_udp_tunnel(void **state)
{
	uint8_t q[512], a[2048], r[2048];
	size_t qlen, alen;
	ssize_t n;
	int fd = udp_client(port0());

	/* The first free port from 12353. */
	assert_int_equal(port0(), 12353);
	qlen = mkquery(q, 0x1111, "www.example.com", 0);
	assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	assert_int_equal(wait_sent(1, 1000), 1);
	/* Through the tunnel byte for byte, under a nonzero id. */
	assert_int_equal(sent[0].len, qlen);
	assert_memory_equal(sent[0].q, q, qlen);
	assert_true(sent[0].id != 0);

	alen = mkanswer(a, q, qlen, 40);
	dns_local_answer(dl, sent[0].id, a, alen);
	n = wait_recv(fd, r, sizeof(r), 1000);
	assert_int_equal(n, (ssize_t)alen);
	assert_memory_equal(r, a, alen);
	assert_int_equal(dns_local_stats(dl)->answered, 1);

	/* A second answer for the same id is late, and goes nowhere. */
	dns_local_answer(dl, sent[0].id, a, alen);
	assert_int_equal(dns_local_stats(dl)->late, 1);
	assert_int_equal(wait_recv(fd, r, sizeof(r), 100), -1);

	/* Two queries in flight at once get different ids. */
	qlen = mkquery(q, 0x2222, "a.example", 0);
	send(fd, q, qlen, 0);
	qlen = mkquery(q, 0x2222, "b.example", 0);
	send(fd, q, qlen, 0);
	assert_int_equal(wait_sent(3, 1000), 3);
	assert_true(sent[1].id != sent[2].id);
	/* Answered in reverse order, each reaches the asker. */
	alen = mkanswer(a, sent[2].q, sent[2].len, 0);
	dns_local_answer(dl, sent[2].id, a, alen);
	assert_int_equal(wait_recv(fd, r, sizeof(r), 1000), (ssize_t)alen);
	assert_int_equal(r[13], 'b');
	alen = mkanswer(a, sent[1].q, sent[1].len, 0);
	dns_local_answer(dl, sent[1].id, a, alen);
	assert_int_equal(wait_recv(fd, r, sizeof(r), 1000), (ssize_t)alen);
	assert_int_equal(r[13], 'a');
	close(fd);
}

static void
expect_servfail(const uint8_t *r, ssize_t n, const uint8_t *q, size_t qend)
{
	assert_int_equal(n, (ssize_t)qend);
	assert_int_equal(r[0], q[0]);
	assert_int_equal(r[1], q[1]);
	assert_int_equal(r[2], 0x81);		/* QR, RD */
	assert_int_equal(r[3] & 0x8f, 0x82);	/* RA, SERVFAIL */
	assert_memory_equal(r + 12, q + 12, qend - 12);
}

static void
test_udp_failures(void **state)
{
	uint8_t q[512], a[2048], r[2048];
	size_t qlen, alen;
	ssize_t n;
	uint64_t t0;
	int fd = udp_client(port0());

	/* The stub could not resolve it. */
	qlen = mkquery(q, 0x3333, "nx.example", 0);
	send(fd, q, qlen, 0);
	assert_int_equal(wait_sent(1, 1000), 1);
	dns_local_fail(dl, sent[0].id, DNS_LOCAL_FAIL_TIMEOUT);
	n = wait_recv(fd, r, sizeof(r), 1000);
	expect_servfail(r, n, q, qlen);

	/* A lying answer (another question) is dropped: SERVFAIL. */
	send(fd, q, qlen, 0);
	assert_int_equal(wait_sent(2, 1000), 2);
	alen = mkanswer(a, q, qlen, 0);
	a[14] = 'Z';
	dns_local_answer(dl, sent[1].id, a, alen);
	n = wait_recv(fd, r, sizeof(r), 1000);
	expect_servfail(r, n, q, qlen);
	assert_int_equal(dns_local_stats(dl)->bad_answers, 1);

	/* No answer at all: SERVFAIL after the timeout (500 ms here). */
	t0 = clock_ms();
	send(fd, q, qlen, 0);
	n = wait_recv(fd, r, sizeof(r), 3000);
	expect_servfail(r, n, q, qlen);
	assert_true(clock_ms() - t0 >= 450);
	assert_int_equal(dns_local_stats(dl)->timeouts, 1);

	/* The tunnel refuses it (link full): SERVFAIL at once. */
	send_result = -1;
	send(fd, q, qlen, 0);
	n = wait_recv(fd, r, sizeof(r), 300);
	expect_servfail(r, n, q, qlen);
	assert_int_equal(dns_local_stats(dl)->busy, 1);
	send_result = 0;

	/* Bad queries are dropped without a word, and counted. */
	send(fd, q, 11, 0);
	q[2] |= 0x80;		/* an answer, not a query */
	send(fd, q, qlen, 0);
	q[2] &= 0x7f;
	q[5] = 2;		/* two questions */
	send(fd, q, qlen, 0);
	q[5] = 1;
	assert_int_equal(wait_recv(fd, r, sizeof(r), 200), -1);
	assert_int_equal(dns_local_stats(dl)->bad_queries, 3);
	assert_int_equal(nsent, 3);
	/* ...and the next good one works. */
	send(fd, q, qlen, 0);
	assert_int_equal(wait_sent(4, 1000), 4);
	alen = mkanswer(a, q, qlen, 0);
	dns_local_answer(dl, sent[3].id, a, alen);
	assert_int_equal(wait_recv(fd, r, sizeof(r), 1000), (ssize_t)alen);
	close(fd);
}

static void
test_udp_truncation(void **state)
{
	uint8_t q[512], a[4096], r[4096];
	size_t qlen, alen;
	ssize_t n;
	int fd = udp_client(port0());

	/* No EDNS: 512 bytes at most; a bigger answer becomes TC. */
	qlen = mkquery(q, 0x4444, "big.example", 0);
	send(fd, q, qlen, 0);
	assert_int_equal(wait_sent(1, 1000), 1);
	alen = mkanswer(a, q, qlen, 1500);
	a[7] = 30;
	dns_local_answer(dl, sent[0].id, a, alen);
	n = wait_recv(fd, r, sizeof(r), 1000);
	assert_int_equal(n, (ssize_t)qlen);
	assert_true(r[2] & 0x02);		/* TC */
	assert_int_equal(r[7], 0);		/* no records */
	assert_int_equal(dns_local_stats(dl)->truncated, 1);

	/* EDNS 4096: the whole answer. */
	qlen = mkquery(q, 0x4445, "big.example", 4096);
	send(fd, q, qlen, 0);
	assert_int_equal(wait_sent(2, 1000), 2);
	alen = mkanswer(a, q, qlen - 11, 1500);
	dns_local_answer(dl, sent[1].id, a, alen);
	n = wait_recv(fd, r, sizeof(r), 1000);
	assert_int_equal(n, (ssize_t)alen);
	assert_false(r[2] & 0x02);
	close(fd);
}

static ssize_t
tcp_read_msg(int fd, uint8_t *buf, size_t len, int ms)
{
	uint8_t hdr[2];
	size_t want, got = 0;
	uint64_t end = clock_ms() + (uint64_t)ms;
	ssize_t n;

	while (got < 2 && clock_ms() < end) {
		ev_run_once(&loop, 5);
		if ((n = recv(fd, hdr + got, 2 - got, MSG_DONTWAIT)) > 0)
			got += (size_t)n;
		else if (n == 0)
			return -2;
	}
	if (got < 2)
		return -1;
	want = ((size_t)hdr[0] << 8) | hdr[1];
	assert_true(want <= len);
	got = 0;
	while (got < want && clock_ms() < end) {
		ev_run_once(&loop, 5);
		if ((n = recv(fd, buf + got, want - got, MSG_DONTWAIT)) > 0)
			got += (size_t)n;
	}
	return got == want ? (ssize_t)want : -1;
}

static void
test_tcp(void **state)
{
	uint8_t q[3][128], wire[1024], a[2048], r[2048];
	size_t qlen[3], wlen = 0, alen;
	ssize_t n;
	int fd = tcp_client(port0()), i;

	/* Three pipelined queries in one write. */
	for (i = 0; i < 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "q%d.example", i);
		qlen[i] = mkquery(q[i], (uint16_t)(0x5000 + i), name, 0);
		wire[wlen++] = 0;
		wire[wlen++] = (uint8_t)qlen[i];
		memcpy(wire + wlen, q[i], qlen[i]);
		wlen += qlen[i];
	}
	/* Split mid-frame, to exercise reassembly. */
	assert_int_equal(send(fd, wire, 7, 0), 7);
	spin_ms(30);
	assert_int_equal(send(fd, wire + 7, wlen - 7, 0), (ssize_t)(wlen - 7));
	assert_int_equal(wait_sent(3, 1000), 3);
	for (i = 0; i < 3; i++)
		assert_memory_equal(sent[i].q, q[i], qlen[i]);

	/* Answers out of order; a big one is not truncated over TCP. */
	alen = mkanswer(a, q[2], qlen[2], 1500);
	dns_local_answer(dl, sent[2].id, a, alen);
	n = tcp_read_msg(fd, r, sizeof(r), 1000);
	assert_int_equal(n, (ssize_t)alen);
	assert_int_equal(r[1], 2);
	dns_local_fail(dl, sent[0].id, DNS_LOCAL_FAIL_UNREACHABLE);
	n = tcp_read_msg(fd, r, sizeof(r), 1000);
	expect_servfail(r, n, q[0], qlen[0]);

	/* Half-close: the last answer still arrives, then the end. */
	shutdown(fd, SHUT_WR);
	spin_ms(30);
	alen = mkanswer(a, q[1], qlen[1], 0);
	dns_local_answer(dl, sent[1].id, a, alen);
	n = tcp_read_msg(fd, r, sizeof(r), 1000);
	assert_int_equal(n, (ssize_t)alen);
	assert_int_equal(tcp_read_msg(fd, r, sizeof(r), 1000), -2);
	close(fd);

	/* A length outside 12..4096 breaks the framing: closed. */
	fd = tcp_client(port0());
	wire[0] = 0x20;
	wire[1] = 0x00;
	send(fd, wire, 2, 0);
	assert_int_equal(tcp_read_msg(fd, r, sizeof(r), 1000), -2);
	close(fd);

	/* An idle connection is closed (400 ms in this test). */
	fd = tcp_client(port0());
	assert_int_equal(tcp_read_msg(fd, r, sizeof(r), 2000), -2);
	close(fd);
}

/* More than DNS_LOCAL_TCP_PIPELINE queries on one connection: the rest
 * wait in the kernel until answers make room. */
static void
test_tcp_pipeline_bound(void **state)
{
	uint8_t q[128], wire[20 * 64], a[256], r[256];
	size_t qlen, wlen = 0, alen;
	int fd = tcp_client(port0()), i;

	for (i = 0; i < 20; i++) {
		qlen = mkquery(q, (uint16_t)i, "p.example", 0);
		wire[wlen++] = 0;
		wire[wlen++] = (uint8_t)qlen;
		memcpy(wire + wlen, q, qlen);
		wlen += qlen;
	}
	assert_int_equal(send(fd, wire, wlen, 0), (ssize_t)wlen);
	spin_ms(100);
	assert_int_equal(nsent, DNS_LOCAL_TCP_PIPELINE);
	for (i = 0; i < 20; i++) {
		/* Each answer lets one more query in. */
		int want = 16 + i > 20 ? 20 : 16 + i;

		assert_int_equal(wait_sent(want, 1000), want);
		alen = mkanswer(a, sent[i].q, sent[i].len, 0);
		dns_local_answer(dl, sent[i].id, a, alen);
		assert_int_equal(tcp_read_msg(fd, r, sizeof(r), 1000), (ssize_t)alen);
		assert_int_equal(r[1], i);
	}
	assert_int_equal(nsent, 20);
	close(fd);
}

static void
test_split(void **state)
{
	uint8_t q[512], a[2048], r[2048];
	size_t qlen, alen;
	ssize_t n;
	int fd = udp_client(port0());

	/* Under --dns-domains: through the tunnel. */
	qlen = mkquery(q, 0x6001, "host.CORP.example", 0);
	send(fd, q, qlen, 0);
	assert_int_equal(wait_sent(1, 1000), 1);
	alen = mkanswer(a, q, qlen, 0);
	dns_local_answer(dl, sent[0].id, a, alen);
	assert_int_equal(wait_recv(fd, r, sizeof(r), 1000), (ssize_t)alen);
	assert_int_equal(fake_queries, 0);

	/* Elsewhere: asked from here, of the server the application
	 * chose, on a socket from the callback; the answer carries the
	 * application's ID whatever ID went on the wire. */
	qlen = mkquery(q, 0x6002, "www.elsewhere.test", 0);
	send(fd, q, qlen, 0);
	n = wait_recv(fd, r, sizeof(r), 3000);
	assert_int_equal(n, (ssize_t)qlen + 16);
	assert_int_equal(r[0], 0x60);
	assert_int_equal(r[1], 0x02);
	assert_int_equal(r[7], 1);
	assert_memory_equal(r + qlen + 12, "\xc0\x00\x02\x63", 4);
	assert_int_equal(fake_queries, 1);
	assert_true(nsockets >= 1);
	assert_int_equal(nsent, 1);
	assert_int_equal(dns_local_stats(dl)->forwarded, 1);

	/* Same ID from two askers at once: both answered. */
	{
		int fd2 = udp_client(port0());

		qlen = mkquery(q, 0x7777, "one.elsewhere.test", 0);
		send(fd, q, qlen, 0);
		qlen = mkquery(q, 0x7777, "two.elsewhere.test", 0);
		send(fd2, q, qlen, 0);
		n = wait_recv(fd, r, sizeof(r), 3000);
		assert_true(n > 12);
		assert_memory_equal(r + 13, "one", 3);
		n = wait_recv(fd2, r, sizeof(r), 3000);
		assert_true(n > 12);
		assert_memory_equal(r + 13, "two", 3);
		close(fd2);
	}

	/* The original server is gone: SERVFAIL, quickly (refused). */
	ev_io_del(&loop, &fake_io);
	close(fake_fd);
	fake_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	qlen = mkquery(q, 0x6003, "www.elsewhere.test", 0);
	send(fd, q, qlen, 0);
	n = wait_recv(fd, r, sizeof(r), 2500);
	expect_servfail(r, n, q, qlen);
	assert_int_equal(dns_local_stats(dl)->local_fail, 1);
	close(fd);
}

/* A session lost with a query in flight: dns_local_resend sends the very
 * same bytes again, EDNS included, under the same id; the answer reaches
 * the asker once; a query no longer in flight is not sent; one that
 * cannot be sent again is answered SERVFAIL. */
static void
test_udp_resend(void **state)
{
	uint8_t q[512], a[2048], r[2048];
	size_t qlen, alen;
	ssize_t n;
	int fd = udp_client(port0());

	qlen = mkquery(q, 0x4242, "again.example", 4096);
	send(fd, q, qlen, 0);
	assert_int_equal(wait_sent(1, 1000), 1);
	assert_int_equal(dns_local_resend(dl, sent[0].id), 0);
	assert_int_equal(nsent, 2);
	assert_int_equal(sent[1].id, sent[0].id);
	assert_int_equal(sent[1].len, sent[0].len);
	assert_memory_equal(sent[1].q, sent[0].q, sent[0].len);
	assert_int_equal(dns_local_stats(dl)->resent, 1);
	alen = mkanswer(a, q, qlen, 0);
	dns_local_answer(dl, sent[1].id, a, alen);
	n = wait_recv(fd, r, sizeof(r), 1000);
	assert_int_equal(n, (ssize_t)alen);
	assert_int_equal(r[0], 0x42);
	assert_int_equal(r[1], 0x42);
	/* Answered: nothing left to send again, and a second answer (the
	 * old stub's) is late. */
	assert_int_equal(dns_local_resend(dl, sent[1].id), -1);
	assert_int_equal(nsent, 2);
	dns_local_answer(dl, sent[1].id, a, alen);
	assert_int_equal(wait_recv(fd, r, sizeof(r), 200), -1);

	/* The next session cannot take it: SERVFAIL at once. */
	send(fd, q, qlen, 0);
	assert_int_equal(wait_sent(3, 1000), 3);
	send_result = -1;
	assert_int_equal(dns_local_resend(dl, sent[2].id), -1);
	send_result = 0;
	n = wait_recv(fd, r, sizeof(r), 1000);
	expect_servfail(r, n, q, qlen - 11);	/* header and question */
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udp_tunnel, setup_tunnel, teardown),
		cmocka_unit_test_setup_teardown(test_udp_failures, setup_tunnel, teardown),
		cmocka_unit_test_setup_teardown(test_udp_resend, setup_tunnel, teardown),
		cmocka_unit_test_setup_teardown(test_udp_truncation, setup_tunnel, teardown),
		cmocka_unit_test_setup_teardown(test_tcp, setup_tunnel, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_pipeline_bound, setup_tunnel,
		    teardown),
		cmocka_unit_test_setup_teardown(test_split, setup_split, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
