/* SPDX-License-Identifier: ISC */
/*
 * stub_drive_udp.c - the stub's UDP flows, for stub_drive: datagrams in
 * UDP_DATA frames to UDP echo servers on 127.0.0.1 and ::1, which also
 * tell each sender its source port; what comes back and from where, one
 * source port per flow (endpoint-independent mapping), UDP_DROP for ICMP
 * errors and failed sends, UDP_CLOSE for invalid frames and at the limits
 * (4096 flows; no descriptor left), and that no socket outlives its flow.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "stub_drive.h"

#define DRV_UDP_BIG		40000	/* what the echo server sends for "!" */
#define DRV_UDP_SEEN		64	/* UDP frames recorded between resets */
#define DRV_UDP_LIMIT		4096	/* the stub's flows (STUB_UDP_MAX_FLOWS) */
#define DRV_UDP_MANY		10000	/* first id of the flows that fill the stub */

/* A UDP frame from the stub, as recorded. */
struct drv_udp_rec {
	uint8_t		type;
	uint32_t	id;
	struct addr	peer;
	uint8_t		reason;
	size_t		len;
	uint8_t		data[64];
};

static struct drv_udp_rec	drv_udp_seen[DRV_UDP_SEEN];
static int			drv_udp_nseen;
static struct addr		drv_udp_a, drv_udp_b, drv_udp_c;	/* echo servers */

/*
 * The echo servers, in a child: A and B on 127.0.0.1, C on [::1].  A
 * datagram is sent back as it is, except "?" (answered with "?" and the
 * sender's port, 2 bytes) and "!" (answered with DRV_UDP_BIG bytes, more
 * than one frame carries).
 */
static pid_t
drv_udp_echo(void)
{
	static uint8_t		 buf[65536];
	struct sockaddr_storage	 ss;
	struct pollfd		 pfd[3];
	struct addr		*a[3] = { &drv_udp_a, &drv_udp_b, &drv_udp_c };
	socklen_t		 slen;
	ssize_t			 n;
	size_t			 len;
	pid_t			 pid;
	int			 i, one = 1;

	for (i = 0; i < 3; i++) {
		addr_parse(a[i], i < 2 ? "127.0.0.1" : "::1", (size_t)-1, 0, 0);
		slen = addr_to_sockaddr(a[i], &ss);
		if ((pfd[i].fd = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1 ||
		    (i == 2 && setsockopt(pfd[i].fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one)) == -1) ||
		    bind(pfd[i].fd, (struct sockaddr *)&ss, slen) == -1 ||
		    getsockname(pfd[i].fd, (struct sockaddr *)&ss, &slen) == -1 ||
		    addr_from_sockaddr(a[i], (struct sockaddr *)&ss, slen) != 0)
			drv_fatal("udp echo server %d: %s (run inside `unshare -n` with lo up)",
			    i, strerror(errno));
		pfd[i].events = POLLIN;
	}
	if ((pid = fork()) == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(0);
		for (;;) {
			if (poll(pfd, 3, -1) < 0)
				_exit(1);
			for (i = 0; i < 3; i++) {
				if (!(pfd[i].revents & POLLIN))
					continue;
				slen = sizeof(ss);
				n = recvfrom(pfd[i].fd, buf, sizeof(buf), 0,
				    (struct sockaddr *)&ss, &slen);
				if (n < 0)
					continue;
				len = (size_t)n;
				if (len > 0 && buf[0] == '?') {
					memcpy(buf + 1, ss.ss_family == AF_INET ?
					    (void *)&((struct sockaddr_in *)&ss)->sin_port :
					    (void *)&((struct sockaddr_in6 *)&ss)->sin6_port, 2);
					len = 3;
				} else if (len > 0 && buf[0] == '!') {
					memset(buf, '!', DRV_UDP_BIG);
					len = DRV_UDP_BIG;
				}
				(void)sendto(pfd[i].fd, buf, len, 0, (struct sockaddr *)&ss, slen);
			}
		}
	}
	for (i = 0; i < 3; i++)
		close(pfd[i].fd);
	return pid;
}

/* A socket on 127.0.0.1 that never reads: datagrams to it vanish
 * without an answer, and without an ICMP error, once its buffer is full. */
static int
drv_udp_sink(struct addr *where)
{
	struct sockaddr_storage	ss;
	socklen_t		slen;
	int			fd;

	addr_parse(where, "127.0.0.1", (size_t)-1, 0, 0);
	slen = addr_to_sockaddr(where, &ss);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, slen) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &slen) == -1 ||
	    addr_from_sockaddr(where, (struct sockaddr *)&ss, slen) != 0)
		drv_fatal("udp sink: %s", strerror(errno));
	return fd;
}

static void
drv_udp_send(uint32_t id, const struct addr *dst, const void *data, size_t len)
{
	static uint8_t	b[PROTO_MAX_FRAME];

	drv_send(b, proto_put_udp_data(b, sizeof(b), id, dst, data, len));
}

static void
drv_udp_str(uint32_t id, const struct addr *dst, const char *text)
{
	drv_udp_send(id, dst, text, strlen(text));
}

static void
drv_udp_close(uint32_t id, uint8_t reason)
{
	uint8_t	b[PROTO_HDR_LEN + 1];

	drv_send(b, proto_put_udp_close(b, sizeof(b), id, reason));
}

/* One frame from the stub: UDP frames are recorded, CREDIT skipped.
 * Returns 1 for a PONG. */
static int
drv_udp_pump(struct proto_frame *f, uint8_t *copy)
{
	struct drv_udp_rec	*r;

	if (!drv_recv(f, 10000, copy))
		drv_fatal("stub closed during the UDP checks");
	if (f->type == PROTO_PONG)
		return 1;
	if (f->type == PROTO_CREDIT)
		return 0;
	if (f->type < PROTO_UDP_DATA || f->type > PROTO_UDP_DROP)
		drv_fatal("unexpected %s on stream %u during the UDP checks",
		    proto_type_name(f->type), f->stream);
	if (f->bad)
		drv_fatal("invalid %s for flow %u: %s", proto_type_name(f->type), f->stream,
		    proto_strerror(f->bad));
	if (drv_udp_nseen == DRV_UDP_SEEN)
		drv_fatal("more UDP frames than expected (the last: %s for flow %u)",
		    proto_type_name(f->type), f->stream);
	r = &drv_udp_seen[drv_udp_nseen++];
	memset(r, 0, sizeof(*r));
	r->type = f->type;
	r->id = f->stream;
	r->peer = f->u.udp.peer;
	r->reason = f->u.udp.reason;
	if (f->type == PROTO_UDP_DATA) {
		r->len = f->u.udp.datalen;
		memcpy(r->data, f->u.udp.data, r->len < sizeof(r->data) ? r->len :
		    sizeof(r->data));
	}
	return 0;
}

/* Everything the stub sends until it has handled all we sent: PING, and
 * the frames up to its PONG. */
static void
drv_udp_sync(struct proto_frame *f, uint8_t *copy)
{
	uint8_t	b[PROTO_HDR_LEN + 8];

	drv_send(b, proto_put_ping(b, sizeof(b), PROTO_PING, (const uint8_t *)"udp-sync"));
	while (!drv_udp_pump(f, copy))
		;
}

static struct drv_udp_rec *
drv_udp_find(uint8_t type, uint32_t id, const void *data, size_t len)
{
	int	i;

	for (i = 0; i < drv_udp_nseen; i++)
		if (drv_udp_seen[i].type == type && drv_udp_seen[i].id == id &&
		    (data == NULL || (drv_udp_seen[i].len == len &&
		    memcmp(drv_udp_seen[i].data, data, len) == 0)))
			return &drv_udp_seen[i];
	return NULL;
}

/* Wait for UDP_DATA on flow id carrying data[0..len) (data NULL: any). */
static struct drv_udp_rec *
drv_udp_wait(struct proto_frame *f, uint8_t *copy, uint32_t id, const void *data,
    size_t len)
{
	struct drv_udp_rec	*r;

	while ((r = drv_udp_find(PROTO_UDP_DATA, id, data, len)) == NULL)
		if (drv_udp_pump(f, copy))
			drv_fatal("no datagram came back on flow %u", id);
	return r;
}

static int
drv_udp_count(uint8_t type, uint32_t id)
{
	int	i, n = 0;

	for (i = 0; i < drv_udp_nseen; i++)
		if (drv_udp_seen[i].type == type && drv_udp_seen[i].id == id)
			n++;
	return n;
}

static void
drv_udp_from(const struct drv_udp_rec *r, const struct addr *want, const char *what)
{
	char	a[ADDR_STRLEN], b[ADDR_STRLEN];

	if (!addr_equal(&r->peer, want))
		drv_fatal("%s: from %s, want %s", what, addr_format(&r->peer, true, a, sizeof(a)),
		    addr_format(want, true, b, sizeof(b)));
}

/* The source port the echo server saw for flow id towards dst. */
static uint16_t
drv_udp_port(struct proto_frame *f, uint8_t *copy, uint32_t id, const struct addr *dst)
{
	struct drv_udp_rec	*r;
	uint16_t		 port;

	drv_udp_nseen = 0;
	drv_udp_str(id, dst, "?");
	r = drv_udp_wait(f, copy, id, NULL, 0);
	if (r->len != 3 || r->data[0] != '?')
		drv_fatal("flow %u: not the echo server's answer to '?'", id);
	drv_udp_from(r, dst, "the answer to '?'");
	port = (uint16_t)(r->data[1] << 8 | r->data[2]);
	drv_udp_nseen = 0;
	return port;
}

/* A UDP_DATA frame for flow id whose address block is then spoilt. */
static int
drv_udp_bad(uint8_t *b, uint32_t id, int off, uint8_t val)
{
	int	n = proto_put_udp_data(b, PROTO_MAX_FRAME, id, &drv_udp_a, "bad", 3);

	b[PROTO_HDR_LEN + off] = val;
	return n;
}

/* Open flows first, first + 1, ... (a datagram to echo server A each)
 * until the stub refuses one with UDP_CLOSE 2: how many it opened before
 * that, or max when it refused none. */
static uint32_t
drv_udp_fill(struct proto_frame *f, uint8_t *copy, uint32_t first, uint32_t max)
{
	struct drv_udp_rec	*r;
	uint32_t		 id;

	for (id = first; id < first + max; id++) {
		drv_udp_str(id, &drv_udp_a, "fill");
		for (;;) {
			if ((r = drv_udp_find(PROTO_UDP_CLOSE, id, NULL, 0)) != NULL) {
				if (r->reason != PROTO_UDP_CLOSE_RESOURCE)
					drv_fatal("flow %u closed with reason %u, want 2 "
					    "(resource)", id, r->reason);
				return id - first;
			}
			if (drv_udp_find(PROTO_UDP_DATA, id, "fill", 4) != NULL)
				break;
			if (drv_udp_pump(f, copy))
				drv_fatal("flow %u: neither an answer nor UDP_CLOSE", id);
		}
	}
	return max;
}

void
drv_udp_checks(struct proto_frame *f, uint8_t *copy, pid_t stub, int fds)
{
	static uint8_t		 b[PROTO_MAX_FRAME], big[PROTO_UDP_MAX_DGRAM4];
	struct drv_udp_rec	*r;
	struct addr		 closed, unroutable, sink;
	struct rlimit		 rl, low;
	uint16_t		 p1, p2;
	uint32_t		 id, n;
	pid_t			 echo;
	int			 sinkfd, i, st;

	echo = drv_udp_echo();
	sinkfd = drv_udp_sink(&sink);
	addr_parse(&closed, "127.0.0.1", (size_t)-1, 0, 0);
	closed.port = drv_closed_udp_port();
	/* Nothing routes it in this namespace: sendto fails at once. */
	addr_parse(&unroutable, "192.0.2.1", (size_t)-1, 0, 9);

	drv_udp_str(1, &drv_udp_a, "hello");
	drv_udp_from(drv_udp_wait(f, copy, 1, "hello", 5), &drv_udp_a, "the echo");
	drv_udp_str(3, &drv_udp_c, "hello6");
	drv_udp_from(drv_udp_wait(f, copy, 3, "hello6", 6), &drv_udp_c, "the IPv6 echo");
	drv_ok("UDP: a datagram through a flow comes back from the address it was "
	    "sent to (IPv4 and IPv6)");

	p1 = drv_udp_port(f, copy, 1, &drv_udp_a);
	if (drv_udp_port(f, copy, 1, &drv_udp_b) != p1)
		drv_fatal("flow 1 reached two servers from two source ports");
	p2 = drv_udp_port(f, copy, 2, &drv_udp_a);
	if (p2 == p1)
		drv_fatal("flows 1 and 2 share source port %u", p1);
	drv_ok("UDP: one flow sends to every destination from one port, two flows "
	    "from two");

	drv_udp_send(1, &drv_udp_a, "", 0);
	drv_udp_from(drv_udp_wait(f, copy, 1, "", 0), &drv_udp_a, "the empty echo");
	memset(big, 'x', sizeof(big));
	drv_udp_nseen = 0;
	drv_udp_send(1, &drv_udp_a, big, PROTO_UDP_MAX_DGRAM4);
	while (!drv_udp_pump(f, copy) && f->type != PROTO_UDP_DATA)
		;
	if (f->type != PROTO_UDP_DATA || f->stream != 1 ||
	    f->u.udp.datalen != PROTO_UDP_MAX_DGRAM4 ||
	    memcmp(f->u.udp.data, big, PROTO_UDP_MAX_DGRAM4) != 0)
		drv_fatal("the %u-byte datagram did not come back whole",
		    PROTO_UDP_MAX_DGRAM4);
	drv_udp_nseen = 0;
	drv_udp_send(3, &drv_udp_c, big, PROTO_UDP_MAX_DGRAM6);
	while (!drv_udp_pump(f, copy) && f->type != PROTO_UDP_DATA)
		;
	if (f->type != PROTO_UDP_DATA || f->stream != 3 ||
	    f->u.udp.datalen != PROTO_UDP_MAX_DGRAM6)
		drv_fatal("the %u-byte IPv6 datagram did not come back whole",
		    PROTO_UDP_MAX_DGRAM6);
	/* The answer to "!" does not fit a frame: the stub drops it, and
	 * the next one comes. */
	drv_udp_nseen = 0;
	drv_udp_str(1, &drv_udp_a, "!");
	drv_udp_str(1, &drv_udp_a, "after the big one");
	r = drv_udp_wait(f, copy, 1, NULL, 0);
	if (r->len != 17 || memcmp(r->data, "after the big one", 17) != 0)
		drv_fatal("a datagram too big for a frame was not dropped");
	drv_ok("UDP: empty datagrams and the largest a frame carries go both ways; a "
	    "larger one is dropped");

	/* A v4 datagram on the v6 flow would fail to send (UDP_DROP 2):
	 * it must be dropped before that, quietly. */
	drv_udp_nseen = 0;
	drv_udp_str(3, &drv_udp_a, "wrong family");
	drv_udp_str(3, &drv_udp_c, "right family");
	drv_udp_wait(f, copy, 3, "right family", 12);
	drv_udp_sync(f, copy);
	if (drv_udp_nseen != 1)
		drv_fatal("a datagram of the other family was not dropped quietly");
	drv_ok("UDP: a datagram of the other family is dropped, the flow goes on");

	/* Nowhere to send: UDP_DROP 2, once a second; the flow goes on. */
	drv_udp_nseen = 0;
	drv_udp_str(2, &unroutable, "x");
	drv_udp_str(2, &unroutable, "x");
	drv_udp_str(2, &drv_udp_a, "still there");
	drv_udp_wait(f, copy, 2, "still there", 11);
	drv_udp_sync(f, copy);
	if (drv_udp_count(PROTO_UDP_DROP, 2) != 1 ||
	    (r = drv_udp_find(PROTO_UDP_DROP, 2, NULL, 0))->reason != PROTO_UDP_DROP_SEND)
		drv_fatal("two unsendable datagrams: %d UDP_DROP, want one with reason 2",
		    drv_udp_count(PROTO_UDP_DROP, 2));
	drv_udp_from(r, &unroutable, "UDP_DROP 2");
	drv_ok("UDP: a datagram that cannot be sent gives one UDP_DROP 2 (send "
	    "failed), the flow goes on");

	/* Port unreachable: each datagram brings an ICMP error, and the
	 * socket's pending error must not cost the datagrams after it. */
	drv_udp_nseen = 0;
	for (i = 0; i < 3; i++)
		drv_udp_str(1, &closed, "nobody");
	drv_udp_str(1, &drv_udp_a, "after the ICMP errors");
	drv_udp_str(3, &drv_udp_c, "another flow");
	drv_udp_wait(f, copy, 1, "after the ICMP errors", 21);
	drv_udp_wait(f, copy, 3, "another flow", 12);
	drv_udp_sync(f, copy);
	if (drv_udp_count(PROTO_UDP_DROP, 1) != 1 ||
	    (r = drv_udp_find(PROTO_UDP_DROP, 1, NULL, 0))->reason != PROTO_UDP_DROP_UNREACH)
		drv_fatal("three datagrams to a closed port: %d UDP_DROP, want one with "
		    "reason 1", drv_udp_count(PROTO_UDP_DROP, 1));
	drv_udp_from(r, &closed, "UDP_DROP 1");
	drv_ok("UDP: a datagram to a closed port gives one UDP_DROP 1 (unreachable); "
	    "its flow and the others go on");

	drv_udp_close(2, PROTO_UDP_CLOSE_DONE);
	if ((n = drv_udp_port(f, copy, 2, &drv_udp_a)) == p2)
		drv_fatal("flow 2 reopened with its old source port %u", p2);
	drv_ok("UDP: after UDP_CLOSE a datagram on the same id opens a new flow (a new "
	    "port)");

	/* Invalid address blocks: UDP_CLOSE 1 for that flow, open or not. */
	drv_udp_nseen = 0;
	drv_send(b, drv_udp_bad(b, 1, 0, 5));		/* family 5 */
	drv_send(b, drv_udp_bad(b, 7, 1, 1));		/* the reserved byte */
	n = (uint32_t)drv_udp_bad(b, 8, 2, 0);		/* port 0 */
	b[PROTO_HDR_LEN + 3] = 0;
	drv_send(b, (int)n);
	n = (uint32_t)drv_udp_bad(b, 9, 0, PROTO_FAMILY_IPV6);	/* 8 of 20 bytes */
	b[3] = PROTO_UDP_ADDR4_LEN;
	drv_send(b, PROTO_HDR_LEN + PROTO_UDP_ADDR4_LEN);
	drv_send(b, proto_put_udp_close(b, PROTO_MAX_FRAME, 3, 0));
	b[PROTO_HDR_LEN] = PROTO_UDP_CLOSE_MAX + 1;	/* reason 3 */
	drv_send(b, PROTO_HDR_LEN + 1);
	n = (uint32_t)drv_udp_bad(b, 1, 0, PROTO_FAMILY_IPV4);	/* flow id 0 */
	memset(b + 4, 0, 4);
	drv_send(b, (int)n);
	drv_udp_sync(f, copy);
	for (id = 1; id <= 9; id++) {
		if (id == 2 || (id > 3 && id < 7))
			continue;
		if ((r = drv_udp_find(PROTO_UDP_CLOSE, id, NULL, 0)) == NULL ||
		    r->reason != PROTO_UDP_CLOSE_PROTOCOL)
			drv_fatal("an invalid UDP frame for flow %u: no UDP_CLOSE 1", id);
	}
	if (drv_udp_nseen != 5)
		drv_fatal("invalid UDP frames: %d answers, want 5 UDP_CLOSE", drv_udp_nseen);
	drv_udp_nseen = 0;
	/* Datagrams that crossed our UDP_CLOSE are dropped, not a new flow. */
	drv_udp_str(1, &drv_udp_a, "crossed");
	drv_udp_str(2, &drv_udp_a, "alive");
	drv_udp_wait(f, copy, 2, "alive", 5);
	drv_udp_sync(f, copy);
	if (drv_udp_nseen != 1)
		drv_fatal("a datagram for a flow the stub closed opened it again");
	drv_ok("UDP: an invalid frame (family, reserved byte, port 0, short IPv6 block, "
	    "UDP_CLOSE reason 3) closes its flow with UDP_CLOSE 1; id 0 is dropped; "
	    "the session and flow 2 go on");

	/* No descriptor left: UDP_CLOSE 2.  A limit just above what the stub
	 * holds now; the flows it allows work, and the next is refused. */
	if (prlimit(stub, RLIMIT_NOFILE, NULL, &rl) != 0)
		drv_fatal("prlimit: %s", strerror(errno));
	/* The soft limit only: raising a hard one back needs privilege. */
	low = rl;
	low.rlim_cur = (rlim_t)drv_fd_count(stub) + 3;
	if (prlimit(stub, RLIMIT_NOFILE, &low, NULL) != 0)
		drv_fatal("prlimit: %s", strerror(errno));
	drv_udp_nseen = 0;
	n = drv_udp_fill(f, copy, 100, 32);
	if (prlimit(stub, RLIMIT_NOFILE, &rl, NULL) != 0)
		drv_fatal("prlimit: %s", strerror(errno));
	if (n == 32)
		drv_fatal("32 flows opened with 3 descriptors to spare");
	/* The refused flow stays refused: the client has forgotten it. */
	drv_udp_nseen = 0;
	drv_udp_str(100 + n, &drv_udp_a, "crossed");
	if (drv_udp_fill(f, copy, 200, 1) != 1)
		drv_fatal("no new flow after the descriptors came back");
	drv_udp_sync(f, copy);
	if (drv_udp_count(PROTO_UDP_DATA, 100 + n) != 0)
		drv_fatal("a datagram for the refused flow %u opened it after all", 100 + n);
	for (id = 100; id < 100 + n; id++)
		drv_udp_close(id, PROTO_UDP_CLOSE_DONE);
	drv_udp_close(200, PROTO_UDP_CLOSE_DONE);
	drv_ok("UDP: without a descriptor for its socket a flow gets UDP_CLOSE 2; "
	    "the flows before it work");

	/* The flow limit.  Only flow 2 is open: fill up to the limit with
	 * quiet flows to the sink, and one more. */
	for (id = DRV_UDP_MANY; id < DRV_UDP_MANY + DRV_UDP_LIMIT - 1; id++)
		drv_udp_send(id, &sink, "", 0);
	drv_udp_nseen = 0;
	drv_udp_send(id, &sink, "", 0);
	drv_udp_sync(f, copy);
	if (drv_udp_nseen != 1 || (r = drv_udp_find(PROTO_UDP_CLOSE, id, NULL, 0)) == NULL ||
	    r->reason != PROTO_UDP_CLOSE_RESOURCE)
		drv_fatal("flow %d of %d: no UDP_CLOSE 2", DRV_UDP_LIMIT + 1, DRV_UDP_LIMIT);
	drv_udp_nseen = 0;
	for (id = DRV_UDP_MANY; id < DRV_UDP_MANY + DRV_UDP_LIMIT - 1; id++)
		drv_udp_close(id, PROTO_UDP_CLOSE_DONE);
	drv_udp_close(2, PROTO_UDP_CLOSE_DONE);
	drv_udp_sync(f, copy);
	if (drv_udp_nseen != 0)
		drv_fatal("UDP_CLOSE was answered");
	drv_ok("UDP: flow 4097 gets UDP_CLOSE 2 (resource)");
	if ((i = drv_fd_count(stub)) != fds)
		drv_fatal("the stub holds %d descriptors after its flows ended, %d before",
		    i, fds);
	drv_ok("UDP: every flow's socket was closed with its flow");

	close(sinkfd);
	kill(echo, SIGTERM);
	waitpid(echo, &st, 0);
}
