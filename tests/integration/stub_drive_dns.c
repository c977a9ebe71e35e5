/* SPDX-License-Identifier: ISC */
/*
 * stub_drive_dns.c - the stub's DNS forwarder, for stub_drive: queries in
 * DNS_QUERY frames against a fake DNS server whose behaviour the question
 * picks (answer, truncate, lie, stay silent), with a TCP stream echoing
 * alongside; what comes back, how fast, and that nothing leaks.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "stub_drive.h"

#define DRV_DNS_PAD		16	/* bytes the fake server adds to an answer */
#define DRV_DNS_TCP_SIZE	2000	/* its full answer over TCP */
#define DRV_DNS_BIG		40000	/* an answer too big for one frame */
#define DRV_DNS_IDS		4096	/* query ids this driver uses */
#define DRV_ECHO_STREAM		4

struct drv_dns_reply {
	int		count;
	uint8_t		type;
	uint8_t		reason;
	size_t		len;
	uint8_t		*data;
	uint64_t	when;
};

static struct drv_dns_reply	drv_dns[DRV_DNS_IDS];
static uint8_t			drv_echo_buf[4096];
static size_t			drv_echo_len, drv_echo_sent;

static uint64_t
drv_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A query for "<mode>.test" A: the mode tells the fake server what to do. */
size_t
drv_dns_query(uint8_t *q, uint16_t dnsid, const char *mode)
{
	size_t	n = strlen(mode), len = 12;

	memset(q, 0, 12);
	q[0] = (uint8_t)(dnsid >> 8);
	q[1] = (uint8_t)dnsid;
	q[2] = 0x01;			/* RD */
	q[5] = 1;			/* QDCOUNT */
	q[len++] = (uint8_t)n;
	memcpy(q + len, mode, n);
	len += n;
	q[len++] = 4;
	memcpy(q + len, "test", 4);
	len += 4;
	q[len++] = 0;
	q[len++] = 0; q[len++] = 1;	/* A */
	q[len++] = 0; q[len++] = 1;	/* IN */
	return len;
}

/* The fake server's answer to q: q with QR, RA and one answer counted,
 * then a pattern up to `size` bytes in all. */
static void
drv_dns_answer(const uint8_t *q, size_t qlen, uint8_t *out, size_t size)
{
	size_t	i;

	memcpy(out, q, qlen);
	out[2] |= 0x80;
	out[3] |= 0x80;
	out[6] = 0;
	out[7] = 1;
	for (i = qlen; i < size; i++)
		out[i] = (uint8_t)(i * 7 + q[1]);
}

static int
drv_dns_is(const uint8_t *q, size_t len, const char *mode)
{
	size_t	n = strlen(mode);

	return len > 13 + n && q[12] == n && memcmp(q + 13, mode, n) == 0 &&
	    q[13 + n] == 4;
}

static int
drv_full(int fd, uint8_t *p, size_t len, int wr)
{
	ssize_t	n;

	while (len > 0) {
		n = wr ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One TCP client of the fake server: a length-prefixed query, an answer. */
static void
drv_dns_tcp_client(int c)
{
	static uint8_t	q[65536], a[DRV_DNS_BIG + 2];
	struct timeval	tv = { 3, 0 };
	size_t		qlen;

	(void)setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (drv_full(c, q, 2, 0) != 0)
		return;
	qlen = (size_t)q[0] << 8 | q[1];
	if (qlen < 12 || drv_full(c, q, qlen, 0) != 0)
		return;
	if (drv_dns_is(q, qlen, "tc")) {
		a[0] = DRV_DNS_TCP_SIZE >> 8;
		a[1] = DRV_DNS_TCP_SIZE & 0xff;
		drv_dns_answer(q, qlen, a + 2, DRV_DNS_TCP_SIZE);
		(void)drv_full(c, a, DRV_DNS_TCP_SIZE + 2, 1);
	} else if (drv_dns_is(q, qlen, "tcbig")) {
		a[0] = DRV_DNS_BIG >> 8;
		a[1] = DRV_DNS_BIG & 0xff;
		drv_dns_answer(q, qlen, a + 2, DRV_DNS_BIG);
		/* The stub may hang up after the length: that is fine. */
		(void)drv_full(c, a, DRV_DNS_BIG + 2, 1);
	}
}

/*
 * A DNS server on 127.0.0.1 (UDP and TCP on one port), in a child.  The
 * first label of the question picks its behaviour: echo (answer), tc
 * (truncated over UDP, full over TCP), tcbig (truncated, then too big for
 * a frame over TCP), liar (a wrong ID, garbage and the query itself before
 * the answer), silent (nothing).
 */
pid_t
drv_dns_server(uint16_t *port)
{
	static uint8_t		q[65536], a[65536];
	struct sockaddr_in	sin, from;
	socklen_t		len = sizeof(sin), flen;
	struct pollfd		pfd[2];
	ssize_t			n;
	size_t			qlen;
	pid_t			pid;
	int			u, t, c, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((u = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(u, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(u, (struct sockaddr *)&sin, &len) == -1 ||
	    (t = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(t, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(t, 16) == -1)
		drv_fatal("dns server: %s", strerror(errno));
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(0);
		pfd[0].fd = u;
		pfd[1].fd = t;
		pfd[0].events = pfd[1].events = POLLIN;
		for (;;) {
			if (poll(pfd, 2, -1) < 0)
				_exit(1);
			if (pfd[1].revents & POLLIN) {
				if ((c = accept(t, NULL, NULL)) >= 0) {
					drv_dns_tcp_client(c);
					close(c);
				}
			}
			if (!(pfd[0].revents & POLLIN))
				continue;
			flen = sizeof(from);
			n = recvfrom(u, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
			if (n < 12)
				continue;
			qlen = (size_t)n;
			if (drv_dns_is(q, qlen, "echo")) {
				drv_dns_answer(q, qlen, a, qlen + DRV_DNS_PAD);
				(void)sendto(u, a, qlen + DRV_DNS_PAD, 0,
				    (struct sockaddr *)&from, flen);
			} else if (drv_dns_is(q, qlen, "tc") || drv_dns_is(q, qlen, "tcbig")) {
				memcpy(a, q, 12);
				a[2] |= 0x82;	/* QR, TC */
				(void)sendto(u, a, 12, 0, (struct sockaddr *)&from, flen);
			} else if (drv_dns_is(q, qlen, "liar")) {
				drv_dns_answer(q, qlen, a, qlen + DRV_DNS_PAD);
				a[0] ^= 0x5a;	/* another query's ID */
				(void)sendto(u, a, qlen + DRV_DNS_PAD, 0,
				    (struct sockaddr *)&from, flen);
				(void)sendto(u, "\x12\x34\xff", 3, 0,
				    (struct sockaddr *)&from, flen);
				/* The right ID without QR: the query, reflected. */
				(void)sendto(u, q, qlen, 0, (struct sockaddr *)&from, flen);
				drv_dns_answer(q, qlen, a, qlen + DRV_DNS_PAD);
				(void)sendto(u, a, qlen + DRV_DNS_PAD, 0,
				    (struct sockaddr *)&from, flen);
			}
		}
	}
	close(u);
	close(t);
	return pid;
}

uint16_t
drv_closed_udp_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			s;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1)
		drv_fatal("closed udp port: %s", strerror(errno));
	close(s);	/* nobody there: datagrams draw ICMP port unreachable */
	return ntohs(sin.sin_port);
}

/* One frame during the DNS checks: replies are filed by query id, echo
 * data collected; anything else is a failure. */
static void
drv_pump(struct proto_frame *f, uint8_t *copy, int timeout_ms)
{
	struct drv_dns_reply	*r;

	if (!drv_recv(f, timeout_ms, copy))
		drv_fatal("stub closed during the DNS checks");
	switch (f->type) {
	case PROTO_DNS_ANSWER:
	case PROTO_DNS_FAIL:
		if (f->bad || f->stream >= DRV_DNS_IDS)
			drv_fatal("invalid %s for query %u", proto_type_name(f->type), f->stream);
		r = &drv_dns[f->stream];
		if (r->count++ > 0)
			drv_fatal("a second reply (%s) for query %u",
			    proto_type_name(f->type), f->stream);
		r->type = f->type;
		r->reason = f->type == PROTO_DNS_FAIL ? f->u.dns_fail : 0;
		r->len = f->len;
		if ((r->data = malloc(f->len)) == NULL)
			drv_fatal("out of memory");
		memcpy(r->data, f->payload, f->len);
		r->when = drv_now();
		break;
	case PROTO_DATA:
		if (f->stream != DRV_ECHO_STREAM || drv_echo_len + f->len > sizeof(drv_echo_buf))
			drv_fatal("unexpected DATA on stream %u", f->stream);
		memcpy(drv_echo_buf + drv_echo_len, f->payload, f->len);
		drv_echo_len += f->len;
		break;
	case PROTO_CREDIT:
		break;
	default:
		drv_fatal("unexpected %s on stream %u during the DNS checks",
		    proto_type_name(f->type), f->stream);
	}
}

static struct drv_dns_reply *
drv_dns_wait(uint32_t id, struct proto_frame *f, uint8_t *copy, int timeout_ms)
{
	uint64_t	end = drv_now() + (uint64_t)timeout_ms;

	while (drv_dns[id].count == 0) {
		if (drv_now() >= end)
			drv_fatal("no reply to DNS query %u within %d ms", id, timeout_ms);
		drv_pump(f, copy, (int)(end - drv_now()) + 1);
	}
	return &drv_dns[id];
}

void
drv_dns_send(uint32_t id, const uint8_t *q, size_t len)
{
	static uint8_t	b[PROTO_MAX_FRAME];

	drv_send(b, proto_put_dns(b, sizeof(b), PROTO_DNS_QUERY, id, q, len));
}

static void
drv_expect_fail(uint32_t id, struct proto_frame *f, uint8_t *copy, uint8_t reason,
    int timeout_ms)
{
	struct drv_dns_reply	*r = drv_dns_wait(id, f, copy, timeout_ms);

	if (r->type != PROTO_DNS_FAIL || r->reason != reason)
		drv_fatal("query %u: got %s (%s), want DNS_FAIL %s", id,
		    proto_type_name(r->type),
		    r->type == PROTO_DNS_FAIL ? proto_dns_fail_name(r->reason) : "answer",
		    proto_dns_fail_name(reason));
}

/* A line through the echo stream: the session must carry streams and
 * queries side by side. */
static void
drv_echo_send(const char *text)
{
	uint8_t	b[64];
	size_t	len = strlen(text);
	int	n = proto_put_data_hdr(b, sizeof(b), DRV_ECHO_STREAM, (uint16_t)len);

	memcpy(b + n, text, len);
	drv_send(b, n + (int)len);
	drv_echo_sent += len;
}

/*
 * The DNS forwarder, against DNS_CONFIG [closed UDP port, fake server]:
 * every query first meets the refusing server and must go on to the next.
 */
void
drv_dns_checks(struct proto_frame *f, uint8_t *copy, uint16_t echo_port, pid_t stub,
    int fds)
{
	static uint8_t		q[8192], want[DRV_DNS_BIG];
	struct proto_open	o;
	struct drv_dns_reply	*r;
	uint64_t		t0, t;
	size_t			len;
	uint32_t		id;
	int			n;

	memset(&o, 0, sizeof(o));
	o.ipproto = 6;
	o.dst.family = PROTO_FAMILY_IPV4;
	o.dst.bytes[0] = 127;
	o.dst.bytes[3] = 1;
	o.dst.port = echo_port;
	drv_send(q, proto_put_open(q, sizeof(q), DRV_ECHO_STREAM, &o));
	drv_expect(f, copy, PROTO_OPEN_RESULT, DRV_ECHO_STREAM);
	if (f->u.status != PROTO_ST_OK)
		drv_fatal("OPEN for the DNS-time echo: %s", proto_status_name(f->u.status));
	drv_echo_send("before the queries\n");

	/* Sent first, failed last: its 2 * 2 s run under the other checks. */
	t0 = drv_now();
	drv_dns_send(1, q, drv_dns_query(q, 0x0101, "silent"));

	len = drv_dns_query(q, 0xbeef, "echo");
	t = drv_now();
	drv_dns_send(2, q, len);
	r = drv_dns_wait(2, f, copy, 5000);
	drv_dns_answer(q, len, want, len + DRV_DNS_PAD);
	if (r->type != PROTO_DNS_ANSWER || r->len != len + DRV_DNS_PAD ||
	    memcmp(r->data, want, r->len) != 0)
		drv_fatal("query 2: the answer is not the server's, byte for byte");
	if (r->when - t > 1500)
		drv_fatal("query 2: %llu ms; the refusing first server cost a timeout",
		    (unsigned long long)(r->when - t));
	drv_ok("DNS: the answer comes back byte for byte with the query's ID, from "
	    "the second server when the first refuses");
	drv_echo_send("after an answer\n");

	len = drv_dns_query(q, 0x7c7c, "tc");
	drv_dns_send(3, q, len);
	r = drv_dns_wait(3, f, copy, 5000);
	drv_dns_answer(q, len, want, DRV_DNS_TCP_SIZE);
	if (r->type != PROTO_DNS_ANSWER || r->len != DRV_DNS_TCP_SIZE ||
	    memcmp(r->data, want, r->len) != 0)
		drv_fatal("query 3: the answer is not the full TCP answer");
	drv_ok("DNS: a truncated UDP answer is fetched again over TCP, whole");

	len = drv_dns_query(q, 0x4242, "liar");
	drv_dns_send(4, q, len);
	r = drv_dns_wait(4, f, copy, 5000);
	drv_dns_answer(q, len, want, len + DRV_DNS_PAD);
	if (r->type != PROTO_DNS_ANSWER || r->len != len + DRV_DNS_PAD ||
	    memcmp(r->data, want, r->len) != 0)
		drv_fatal("query 4: a wrong-ID, garbage or non-answer datagram got through");
	drv_ok("DNS: datagrams with a wrong ID, garbage or no QR bit are ignored; "
	    "the answer after them wins");
	drv_echo_send("after the liar\n");

	drv_dns_send(5, q, drv_dns_query(q, 0x5555, "tcbig"));
	drv_expect_fail(5, f, copy, PROTO_DNS_FAIL_TOOBIG, 5000);
	drv_ok("DNS: an answer larger than a frame fails the query as 'too big'");

	len = drv_dns_query(q, 0x0606, "echo");
	drv_dns_send(6, q, 11);
	drv_expect_fail(6, f, copy, PROTO_DNS_FAIL_BADQUERY, 5000);
	memset(q + len, 0, PROTO_DNS_MAX_QUERY + 1 - len);
	drv_dns_send(7, q, PROTO_DNS_MAX_QUERY + 1);
	drv_expect_fail(7, f, copy, PROTO_DNS_FAIL_BADQUERY, 5000);
	drv_ok("DNS: queries of 11 and 4097 bytes fail as 'bad query', the session lives");

	/* Query 1 is still out: a second query 1 must be dropped, not
	 * answered in its place. */
	drv_dns_send(1, q, drv_dns_query(q, 0x0101, "echo"));

	/* Fill the stub up to its bound; one more is refused at once. */
	for (id = 1000; id < 1000 + 511; id++)
		drv_dns_send(id, q, drv_dns_query(q, (uint16_t)id, "silent"));
	drv_dns_send(2000, q, drv_dns_query(q, 2000, "echo"));
	drv_expect_fail(2000, f, copy, PROTO_DNS_FAIL_BUSY, 5000);
	drv_ok("DNS: the 513th outstanding query fails as 'busy'");
	drv_echo_send("while 512 queries wait\n");

	drv_expect_fail(1, f, copy, PROTO_DNS_FAIL_TIMEOUT, 12000);
	t = drv_dns[1].when - t0;
	if (t < 3500 || t > 8500)
		drv_fatal("query 1 failed after %llu ms, want 2 rounds of 2 s",
		    (unsigned long long)t);
	for (id = 1000; id < 1000 + 511; id++)
		drv_expect_fail(id, f, copy, PROTO_DNS_FAIL_TIMEOUT, 12000);
	drv_ok("DNS: with no answer the query fails as 'timeout' after two rounds; "
	    "its duplicate was dropped");

	while (drv_echo_len < drv_echo_sent)
		drv_pump(f, copy, 10000);
	drv_echo_buf[drv_echo_len] = '\0';
	if (strcmp((char *)drv_echo_buf, "before the queries\nafter an answer\n"
	    "after the liar\nwhile 512 queries wait\n") != 0)
		drv_fatal("the echo stream mangled its data during the DNS checks");
	drv_send(q, proto_put_eof(q, sizeof(q), DRV_ECHO_STREAM));
	drv_expect(f, copy, PROTO_EOF, DRV_ECHO_STREAM);
	drv_ok("DNS: a TCP stream kept echoing throughout");
	if ((n = drv_fd_count(stub)) != fds)
		drv_fatal("the stub holds %d descriptors after its queries ended, %d before",
		    n, fds);
	drv_ok("DNS: every socket of the 520 queries was closed");
	for (n = 0; n < DRV_DNS_IDS; n++)
		free(drv_dns[n].data);
	memset(drv_dns, 0, sizeof(drv_dns));
}

