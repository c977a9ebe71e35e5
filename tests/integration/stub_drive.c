/* SPDX-License-Identifier: ISC */
/*
 * stub_drive.c - protocol conformance test for a stub binary.
 *
 *   stub_drive STUB [WRAPPER...]
 *
 * Starts STUB (optionally through a wrapper such as qemu-aarch64) with its
 * stdin/stdout on a socketpair, plays the client side of docs/PROTOCOL.md
 * against it, and checks every answer.  Its TCP peers are an echo server
 * and a closed port on 127.0.0.1: run it inside a private network
 * namespace (`unshare -n`), as ctest does.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

static int	drv_fd = -1;
static uint8_t	drv_in[1 << 20];
static size_t	drv_in_len;
static uint32_t	drv_stub_window;	/* credit the stub grants per stream */

static void __attribute__((format(printf, 1, 2), noreturn))
drv_fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "stub_drive: FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void
drv_ok(const char *what)
{
	printf("ok: %s\n", what);
}

static void
drv_send(const uint8_t *p, int n)
{
	if (n < 0 || write(drv_fd, p, (size_t)n) != n)
		drv_fatal("write to stub: %s", strerror(errno));
}

/* Next frame from the stub within timeout_ms; returns 0 on EOF. */
static int
drv_recv(struct proto_frame *f, int timeout_ms, uint8_t *copy)
{
	struct pollfd	pfd = { drv_fd, POLLIN, 0 };
	ssize_t		n;
	int		r;

	for (;;) {
		r = proto_parse(drv_in, drv_in_len, f);
		if (r < 0)
			drv_fatal("stub sent an invalid frame: %s", proto_strerror(r));
		if (r > 0) {
			memcpy(copy, drv_in, (size_t)r);
			memmove(drv_in, drv_in + r, drv_in_len - (size_t)r);
			drv_in_len -= (size_t)r;
			(void)proto_parse(copy, (size_t)r, f);	/* point into copy */
			return 1;
		}
		if (poll(&pfd, 1, timeout_ms) <= 0)
			drv_fatal("timed out waiting for a frame from the stub");
		n = read(drv_fd, drv_in + drv_in_len, sizeof(drv_in) - drv_in_len);
		if (n == 0)
			return 0;
		if (n < 0)
			drv_fatal("read from stub: %s", strerror(errno));
		drv_in_len += (size_t)n;
	}
}

static void
drv_expect(struct proto_frame *f, uint8_t *copy, uint8_t type, uint32_t stream)
{
	if (!drv_recv(f, 10000, copy))
		drv_fatal("stub closed while %s was expected", proto_type_name(type));
	/* CREDIT may come at any time; skip it. */
	while (f->type == PROTO_CREDIT && type != PROTO_CREDIT)
		if (!drv_recv(f, 10000, copy))
			drv_fatal("stub closed while %s was expected", proto_type_name(type));
	if (f->type != type || f->stream != stream)
		drv_fatal("expected %s on stream %u, got %s on stream %u",
		    proto_type_name(type), stream, proto_type_name(f->type), f->stream);
}

/* A TCP echo server in a child process: echoes until EOF, then closes. */
static pid_t
drv_echo_server(uint16_t *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	char			buf[65536];
	ssize_t			n;
	pid_t			pid;
	int			s, c;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 16) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1)
		drv_fatal("echo server: %s (run inside `unshare -n` with lo up)", strerror(errno));
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) == 0) {
		/* Never outlive the driver, whichever way it ends. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(0);
		for (;;) {
			if ((c = accept(s, NULL, NULL)) == -1)
				_exit(0);
			while ((n = read(c, buf, sizeof(buf))) > 0)
				if (write(c, buf, (size_t)n) != n)
					break;
			close(c);
		}
	}
	close(s);
	return pid;
}

static uint16_t
drv_closed_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			s;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1)
		drv_fatal("closed port: %s", strerror(errno));
	close(s);	/* bound once, never listened: connect is refused */
	return ntohs(sin.sin_port);
}

static pid_t
drv_start_stub(char **argv, const char *copy_path)
{
	int	sv[2];
	pid_t	pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		drv_fatal("socketpair: %s", strerror(errno));
	if ((pid = fork()) == 0) {
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(sv[1]);
	drv_fd = sv[0];
	drv_in_len = 0;
	(void)copy_path;
	return pid;
}

/* Copy the stub to a fresh private file at tmpl (a mkstemp template). */
static void
drv_copy(const char *src, char *path)
{
	static uint8_t	buf[65536];
	ssize_t		r;
	int		in, fd;

	strcpy(path, "/tmp/cshuttle-stubtest.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		drv_fatal("mkstemp: %s", strerror(errno));
	if ((in = open(src, O_RDONLY)) == -1)
		drv_fatal("%s: %s", src, strerror(errno));
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)r) != r)
			drv_fatal("copy: %s", strerror(errno));
	close(in);
	fchmod(fd, 0700);
	close(fd);
}

static int
drv_wait(pid_t pid)
{
	int	st, i;

	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	drv_fatal("stub did not exit within 10 s");
}

static void
drv_hello(struct proto_frame *f, uint8_t *copy)
{
	/* DNS: the driver sends DNS_CONFIG and queries, which needs the
	 * feature in both HELLOs. */
	struct proto_hello	h = { PROTO_VERSION, PROTO_ROLE_CLIENT, PROTO_FEAT_DNS, 65536 };
	uint8_t			b[64];

	drv_expect(f, copy, PROTO_HELLO, 0);
	if (f->u.hello.role != PROTO_ROLE_STUB)
		drv_fatal("HELLO role %u", f->u.hello.role);
	if (!(f->u.hello.features & PROTO_FEAT_DNS))
		drv_fatal("the stub's HELLO lacks the DNS feature bit");
	drv_stub_window = f->u.hello.window;
	drv_send(b, proto_put_hello(b, sizeof(b), &h));
}

/* ---- DNS ---- */

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
static size_t
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
static pid_t
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

static uint16_t
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

/* Descriptors the process holds (qemu's own included: they are stable). */
static int
drv_fd_count(pid_t pid)
{
	struct dirent	*de;
	char		 path[64];
	DIR		*d;
	int		 n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		drv_fatal("%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
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
static void
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

int
main(int argc, char **argv)
{
	static uint8_t		copy[PROTO_MAX_FRAME], b[PROTO_MAX_FRAME];
	struct proto_frame	f;
	struct proto_open	o;
	struct addr		ns[2];
	char			tmpl[] = "/tmp/cshuttle-stubtest.XXXXXX", *sargv[8];
	uint8_t			ping[8] = "12345678";
	uint16_t		echo_port, closed_port, dns_port;
	pid_t			echo, stub, dns;
	size_t			got = 0;
	int			i, n, status, fds;
	struct stat		sb;

	if (argc < 2) {
		fprintf(stderr, "usage: stub_drive STUB [WRAPPER...]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	echo = drv_echo_server(&echo_port);
	closed_port = drv_closed_port();
	dns = drv_dns_server(&dns_port);
	memset(ns, 0, sizeof(ns));
	ns[0].family = ns[1].family = ADDR_V4;
	ns[0].bytes[0] = ns[1].bytes[0] = 127;
	ns[0].bytes[3] = ns[1].bytes[3] = 1;
	ns[0].port = drv_closed_udp_port();
	ns[1].port = dns_port;

	/* Run a copy, passing its path like the bootstrap does: the stub
	 * must delete it. */
	drv_copy(argv[1], tmpl);
	n = 0;
	for (i = 2; i < argc && n < 5; i++)
		sargv[n++] = argv[i];
	sargv[n++] = tmpl;
	sargv[n++] = tmpl;
	sargv[n] = NULL;
	stub = drv_start_stub(sargv, tmpl);

	drv_hello(&f, copy);
	/* As the client does with --to-ns: right after HELLO. */
	drv_send(b, proto_put_dns_config(b, sizeof(b), ns, 2));
	drv_ok("stub sends HELLO first (with the DNS bit) and accepts ours and DNS_CONFIG");
	fds = drv_fd_count(stub);
	if (stat(tmpl, &sb) == 0) {
		usleep(200000);
		if (stat(tmpl, &sb) == 0)
			drv_fatal("stub did not remove its own file %s", tmpl);
	}
	drv_ok("stub removed its uploaded file");

	drv_send(b, proto_put_ping(b, sizeof(b), PROTO_PING, ping));
	drv_expect(&f, copy, PROTO_PONG, 0);
	if (memcmp(f.u.ping, ping, 8) != 0)
		drv_fatal("PONG does not echo the PING");
	drv_ok("PING answered by PONG");

	memset(&o, 0, sizeof(o));
	o.ipproto = 6;
	o.dst.family = PROTO_FAMILY_IPV4;
	o.dst.bytes[0] = 127;
	o.dst.bytes[3] = 1;
	o.dst.port = echo_port;
	drv_send(b, proto_put_open(b, sizeof(b), 1, &o));
	/* Data before the result: the stub must hold it until connected. */
	n = proto_put_data_hdr(b, sizeof(b), 1, 5);
	memcpy(b + n, "hello", 5);
	drv_send(b, n + 5);
	drv_expect(&f, copy, PROTO_OPEN_RESULT, 1);
	if (f.u.status != PROTO_ST_OK)
		drv_fatal("OPEN to the echo server: %s", proto_status_name(f.u.status));
	drv_ok("OPEN to a listening port succeeds");
	drv_expect(&f, copy, PROTO_DATA, 1);
	if (f.len != 5 || memcmp(f.payload, "hello", 5) != 0)
		drv_fatal("echo mismatch");
	drv_ok("data sent before OPEN_RESULT arrives and comes back");

	/* Half-close: our EOF reaches the server, its EOF comes back. */
	drv_send(b, proto_put_eof(b, sizeof(b), 1));
	drv_expect(&f, copy, PROTO_EOF, 1);
	drv_ok("EOF is passed on and the server's EOF comes back");

	o.dst.port = closed_port;
	drv_send(b, proto_put_open(b, sizeof(b), 2, &o));
	drv_expect(&f, copy, PROTO_OPEN_RESULT, 2);
	if (f.u.status != PROTO_ST_REFUSED)
		drv_fatal("OPEN to a closed port: got '%s', want refused",
		    proto_status_name(f.u.status));
	drv_ok("OPEN to a closed port reports 'connection refused'");

	/* Flow control: 4 MiB echoed through a 64 KiB window. */
	o.dst.port = echo_port;
	drv_send(b, proto_put_open(b, sizeof(b), 3, &o));
	drv_expect(&f, copy, PROTO_OPEN_RESULT, 3);
	{
		size_t sent = 0, total = 4 << 20;
		uint32_t credit = drv_stub_window;	/* what the stub granted us */
		uint32_t unacked = 0;
		while (got < total) {
			while (sent < total && credit >= 16384) {
				n = proto_put_data_hdr(b, sizeof(b), 3, 16384);
				memset(b + n, 'z', 16384);
				drv_send(b, n + 16384);
				sent += 16384;
				credit -= 16384;
			}
			if (!drv_recv(&f, 10000, copy))
				drv_fatal("stub closed during the bulk echo");
			if (f.stream != 3)
				continue;
			if (f.type == PROTO_CREDIT)
				credit += f.u.credit;
			else if (f.type == PROTO_DATA) {
				got += f.len;
				unacked += f.len;
				if (unacked > 65536)
					drv_fatal("stub sent %u bytes beyond our 64 KiB window", unacked);
				if (unacked >= 16384) {
					drv_send(b, proto_put_credit(b, sizeof(b), 3, unacked));
					unacked = 0;
				}
			} else
				drv_fatal("unexpected %s during the bulk echo",
				    proto_type_name(f.type));
		}
	}
	drv_ok("4 MiB echoed with credit flow control, never beyond the window");

	/* A broken stream frame closes that stream only. */
	drv_send(b, proto_put_credit(b, sizeof(b), 3, 0));
	drv_expect(&f, copy, PROTO_CLOSE, 3);
	drv_send(b, proto_put_ping(b, sizeof(b), PROTO_PING, ping));
	drv_expect(&f, copy, PROTO_PONG, 0);
	drv_ok("an invalid stream frame closes that stream, the session lives on");

	/* The echo server serves one connection at a time: stream 3 is gone. */
	drv_dns_checks(&f, copy, echo_port, stub, fds);

	/* A broken session frame ends the session with ERROR, exit 1. */
	memset(b, 0, 8);
	b[0] = 0x7e;
	drv_send(b, 8);
	drv_expect(&f, copy, PROTO_ERROR, 0);
	while (drv_recv(&f, 10000, copy))
		;
	if ((status = drv_wait(stub)) != 1)
		drv_fatal("stub exit status %d after a protocol error, want 1", status);
	drv_ok("an invalid session frame ends the session with ERROR and exit 1");
	close(drv_fd);

	/* Clean exit on EOF. */
	drv_copy(argv[1], tmpl);
	stub = drv_start_stub(sargv, tmpl);
	drv_hello(&f, copy);
	/* No DNS_CONFIG: the stub asks the servers of its resolv.conf (or
	 * 127.0.0.1), which this namespace cannot reach or refuses. */
	n = (int)drv_dns_query(b + 100, 0x0909, "echo");
	drv_dns_send(9, b + 100, (size_t)n);
	drv_expect(&f, copy, PROTO_DNS_FAIL, 9);
	if (f.u.dns_fail != PROTO_DNS_FAIL_UNREACHABLE)
		drv_fatal("query without DNS_CONFIG: DNS_FAIL %s, want unreachable",
		    proto_dns_fail_name(f.u.dns_fail));
	drv_ok("DNS without DNS_CONFIG goes to the remote's resolv.conf servers "
	    "(unreachable here)");
	shutdown(drv_fd, SHUT_WR);
	while (drv_recv(&f, 10000, copy))
		;
	if ((status = drv_wait(stub)) != 0)
		drv_fatal("stub exit status %d on EOF, want 0", status);
	drv_ok("stub exits 0 when its input ends");
	close(drv_fd);

	kill(echo, SIGTERM);
	waitpid(echo, &status, 0);
	kill(dns, SIGTERM);
	waitpid(dns, &status, 0);
	unlink(tmpl);
	printf("stub_drive: all checks passed\n");
	return 0;
}
