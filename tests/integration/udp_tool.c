/* SPDX-License-Identifier: ISC */
/*
 * udp_tool.c - the UDP ends of the lab's UDP tests and of the benchmark.
 *
 *	udp_tool echo ADDR PORT [--log FILE] [--ready FILE]
 *	udp_tool ask ADDR PORT [--to ADDR PORT]... [--wait SECS] [--tries N]
 *	    [--data TEXT] [--size N] [--bind ADDR]
 *	udp_tool flows ADDR PORT N [--wait SECS] [--retry MS]
 *	udp_tool blast ADDR PORT [--size S] [--rate PPS] [--seconds T]
 *	    [--run ID] [--no-summary]
 *	udp_tool sink ADDR PORT [--idle SECS] [--log FILE] [--ready FILE]
 *	    [--no-read]
 *
 * The servers (echo, sink) take ADDR "*" for every IPv4 and IPv6 address
 * of the namespace.  They answer from the address a datagram was sent to
 * (IP_PKTINFO), as a client that connected its socket expects: a reply
 * from another address of a multi-address host would be dropped by the
 * client's kernel.
 *
 * echo: answers each datagram with "seen IP PORT\n" (the source it saw)
 * followed by the datagram; logs "src IP PORT dst IP PORT" per datagram.
 *
 * ask: one socket, connected to each destination in turn (ADDR PORT, then
 * every --to), one datagram to each, its echo awaited.  Prints "local IP
 * PORT", then a line per destination: "DST PORT seen IP PORT", "DST PORT
 * timeout", "DST PORT error ENAME" or "DST PORT bad WHY", each ending in
 * "in MS ms".  Exit 0 when every destination answered with its datagram.
 *
 * flows: N sockets at once, each asks the echo service once (unanswered
 * ones again every --retry ms) within --wait seconds; prints "answered A
 * of N, distinct source ports P, ports changed C, resent R, in T s".  Exit
 * 0 when all answered, each from a source port of its own that stayed.
 *
 * blast: numbered datagrams of S bytes at PPS per second (0: as fast as
 * the socket takes them) for T seconds, then an end marker carrying the
 * count, repeated until the sink answers with its summary; prints its own
 * line ("blast: sent ...") and the sink's ("sink: ...").
 *
 * sink: counts the datagrams of each run (received, lost, reordered,
 * duplicated, corrupt: each body is a function of its number; the rate at
 * which they arrived) and prints a summary line,
 * also sent back to the blaster, at its end marker, or after --idle
 * seconds without datagrams.  --no-read: a receiver that never reads
 * (its socket buffer fills, and the kernel drops the rest).
 *
 * libc only, so that the benchmark can build it with cc when no build
 * tree is at hand.  Errors: usage exits 2, failures exit 1.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* recvmmsg, in6_pktinfo */
#endif

#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define UT_MAXDGRAM	65536
#define UT_MAXDST	16
#define UT_TEXTLEN	(INET6_ADDRSTRLEN + IF_NAMESIZE + 8)
#define UT_BATCH	64		/* datagrams per recvmmsg() */
#define UT_RCVBUF	(8 * 1024 * 1024)
#define UT_BLAST_MAGIC	0x43534231U	/* "CSB1": a numbered datagram */
#define UT_END_MAGIC	0x43534245U	/* "CSBE": the end of a run */
#define UT_HDRLEN	16		/* magic, run, 64-bit sequence */
#define UT_SEQ_BITMAP	(1ULL << 27)	/* duplicates are told apart below */

/* One address with its port, either family. */
struct ut_addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
};

/* A server's sockets: one IPv4, one IPv6 (or one of them). */
struct ut_srv {
	int	fd[2];
	int	nfd;
};

static const char *ut_prog = "udp_tool";

static void ut_die(const char *, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
static void ut_usage(void) __attribute__((noreturn));

static void
ut_die(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: ", ut_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
ut_usage(void)
{
	fprintf(stderr,
	    "usage: udp_tool echo ADDR PORT [--log FILE] [--ready FILE]\n"
	    "       udp_tool ask ADDR PORT [--to ADDR PORT]... [--wait SECS] [--tries N]\n"
	    "                [--data TEXT] [--size N] [--bind ADDR]\n"
	    "       udp_tool flows ADDR PORT N [--wait SECS] [--retry MS]\n"
	    "       udp_tool blast ADDR PORT [--size S] [--rate PPS] [--seconds T]\n"
	    "                [--run ID] [--no-summary]\n"
	    "       udp_tool sink ADDR PORT [--idle SECS] [--log FILE] [--ready FILE]\n"
	    "                [--no-read]\n");
	exit(2);
}

/* ---- time, numbers, names ---- */

static uint64_t
ut_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
ut_sleep_until(uint64_t ns)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)(ns / 1000000000ULL);
	ts.tv_nsec = (long)(ns % 1000000000ULL);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static double
ut_number(const char *s, double min, double max, const char *what)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		ut_die("bad %s '%s'", what, s);
	return v;
}

static const char *
ut_errname(int e)
{
	static const struct { int e; const char *name; } names[] = {
		{ ECONNREFUSED, "ECONNREFUSED" }, { EPERM, "EPERM" },
		{ EACCES, "EACCES" }, { ENETUNREACH, "ENETUNREACH" },
		{ EHOSTUNREACH, "EHOSTUNREACH" }, { ENOBUFS, "ENOBUFS" },
		{ EAGAIN, "EAGAIN" }, { EINVAL, "EINVAL" },
		{ EMSGSIZE, "EMSGSIZE" }, { EADDRNOTAVAIL, "EADDRNOTAVAIL" },
		{ ECONNRESET, "ECONNRESET" },
	};
	static char	buf[32];
	size_t		i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].name;
	snprintf(buf, sizeof(buf), "errno%d", e);
	return buf;
}

/* ---- addresses ---- */

/* Parse numeric ADDR and PORT; "*" is the IPv6 wildcard (servers). */
static void
ut_addr_parse(struct ut_addr *a, const char *host, const char *port)
{
	struct addrinfo	hints, *res;
	int		r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_DGRAM;
	if (strcmp(host, "*") == 0) {
		host = "::";
		hints.ai_family = AF_INET6;
	}
	ut_number(port, 0, 65535, "port");
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		ut_die("bad address '%s': %s", host, gai_strerror(r));
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
}

/* "IP PORT" of a socket address, IPv4-mapped IPv6 as IPv4. */
static const char *
ut_addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char		ip[INET6_ADDRSTRLEN];
	unsigned	port = 0;

	strcpy(ip, "?");
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], ip, sizeof(ip));
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		port = ntohs(s6->sin6_port);
	}
	snprintf(buf, len, "%s %u", ip, port);
	return buf;
}

/* ut_addr_text() with the scope of a link-local IPv6 address, as given
 * on the command line ("fe80::1%eth0 53"). */
static const char *
ut_addr_text_scoped(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in6	*s6 = (const void *)ss;
	char				 ifname[IF_NAMESIZE], ip[INET6_ADDRSTRLEN];

	if (ss->ss_family != AF_INET6 || s6->sin6_scope_id == 0 ||
	    if_indextoname(s6->sin6_scope_id, ifname) == NULL)
		return ut_addr_text(ss, buf, len);
	inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
	snprintf(buf, len, "%s%%%s %u", ip, ifname, ntohs(s6->sin6_port));
	return buf;
}

static unsigned
ut_addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)(const void *)ss)->sin6_port);
}

/* ---- servers ---- */

static int
ut_srv_socket(int family, const struct sockaddr *sa, socklen_t len, int rcvbuf)
{
	int	fd, on = 1;

	if ((fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		ut_die("socket: %s", strerror(errno));
	if (rcvbuf > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) == -1)
			ut_die("IPv6 socket options: %s", strerror(errno));
	} else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) == -1)
		ut_die("IP_PKTINFO: %s", strerror(errno));
	if (bind(fd, sa, len) == -1) {
		char	t[UT_TEXTLEN];
		ut_die("bind %s: %s", ut_addr_text((const void *)sa, t, sizeof(t)),
		    strerror(errno));
	}
	return fd;
}

/* The sockets of a server on ADDR ("*": both families) and PORT. */
static void
ut_srv_open(struct ut_srv *s, const char *host, const char *port, int rcvbuf)
{
	struct ut_addr		a;
	struct sockaddr_in	s4;

	s->nfd = 0;
	ut_addr_parse(&a, host, port);
	if (strcmp(host, "*") == 0) {
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_port = htons((uint16_t)ut_addr_port(&a.ss));
		s->fd[s->nfd++] = ut_srv_socket(AF_INET, (void *)&s4, sizeof(s4), rcvbuf);
	}
	s->fd[s->nfd++] = ut_srv_socket(a.ss.ss_family, (void *)&a.ss, a.len, rcvbuf);
}

/* The control message that makes a reply leave from the address the
 * datagram came to, taken from what recvmsg() said (dst). */
struct ut_pktinfo {
	/* Aligned for a struct cmsghdr, which cannot be a member itself:
	 * glibc ends it with a flexible array. */
	union {
		uint64_t	align;
		char		buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} u;
	size_t	len;
	char	dst[UT_TEXTLEN];	/* "IP PORT" of the local end */
};

static void
ut_pktinfo_take(struct msghdr *m, int fd, struct ut_pktinfo *pi)
{
	struct cmsghdr		*c;
	struct sockaddr_storage	 local;
	socklen_t		 llen = sizeof(local);
	char			 ip[INET6_ADDRSTRLEN] = "?";
	unsigned		 port = 0;

	pi->len = 0;
	if (getsockname(fd, (void *)&local, &llen) == 0)
		port = ut_addr_port(&local);
	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo	in, out;
			struct cmsghdr		*o = (struct cmsghdr *)(void *)pi->u.buf;

			memcpy(&in, CMSG_DATA(c), sizeof(in));
			inet_ntop(AF_INET, &in.ipi_addr, ip, sizeof(ip));
			memset(&out, 0, sizeof(out));
			out.ipi_spec_dst = in.ipi_addr;
			memset(pi->u.buf, 0, sizeof(pi->u.buf));
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(out));
			memcpy(CMSG_DATA(o), &out, sizeof(out));
			pi->len = CMSG_SPACE(sizeof(out));
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo	in6;
			struct cmsghdr		*o = (struct cmsghdr *)(void *)pi->u.buf;

			memcpy(&in6, CMSG_DATA(c), sizeof(in6));
			inet_ntop(AF_INET6, &in6.ipi6_addr, ip, sizeof(ip));
			memset(pi->u.buf, 0, sizeof(pi->u.buf));
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(in6));
			/* The interface of a link-local address stays; the
			 * kernel picks it for the others. */
			if (!IN6_IS_ADDR_LINKLOCAL(&in6.ipi6_addr))
				in6.ipi6_ifindex = 0;
			memcpy(CMSG_DATA(o), &in6, sizeof(in6));
			pi->len = CMSG_SPACE(sizeof(in6));
		}
	}
	snprintf(pi->dst, sizeof(pi->dst), "%s %u", ip, port);
}

/* Send buf to peer from the local address in pi.  Returns sendmsg()'s. */
static ssize_t
ut_reply(int fd, const struct sockaddr_storage *peer, socklen_t plen,
    struct ut_pktinfo *pi, const void *buf, size_t len)
{
	struct iovec	iov = { (void *)(uintptr_t)buf, len };
	struct msghdr	m;

	memset(&m, 0, sizeof(m));
	m.msg_name = (void *)(uintptr_t)peer;
	m.msg_namelen = plen;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (pi->len > 0) {
		m.msg_control = pi->u.buf;
		m.msg_controllen = pi->len;
	}
	return sendmsg(fd, &m, MSG_DONTWAIT);
}

static void
ut_ready(const char *path)
{
	char	tmp[4096];
	FILE	*f;

	if (path == NULL)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		ut_die("path too long: %s", path);
	if ((f = fopen(tmp, "w")) == NULL)
		ut_die("%s: %s", tmp, strerror(errno));
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) == -1)
		ut_die("%s: %s", path, strerror(errno));
}

static FILE *
ut_log_open(const char *path)
{
	FILE	*f;

	if (path == NULL)
		return NULL;
	if ((f = fopen(path, "a")) == NULL)
		ut_die("%s: %s", path, strerror(errno));
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

/* ---- echo ---- */

static void ut_echo(int, char **) __attribute__((noreturn));
static void ut_sink(int, char **) __attribute__((noreturn));

static void
ut_echo(int argc, char **argv)
{
	static unsigned char	in[UT_MAXDGRAM], out[UT_MAXDGRAM + 64];
	const char		*logpath = NULL, *ready = NULL;
	struct ut_srv		 srv;
	struct pollfd		 pfd[2];
	FILE			*log;
	int			 i;

	if (argc < 3)
		ut_usage();
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			logpath = argv[++i];
		else if (strcmp(argv[i], "--ready") == 0 && i + 1 < argc)
			ready = argv[++i];
		else
			ut_usage();
	}
	ut_srv_open(&srv, argv[1], argv[2], UT_RCVBUF);
	log = ut_log_open(logpath);
	ut_ready(ready);
	for (i = 0; i < srv.nfd; i++) {
		pfd[i].fd = srv.fd[i];
		pfd[i].events = POLLIN;
	}
	for (;;) {
		if (poll(pfd, (nfds_t)srv.nfd, -1) == -1) {
			if (errno == EINTR)
				continue;
			ut_die("poll: %s", strerror(errno));
		}
		for (i = 0; i < srv.nfd; i++) {
			struct sockaddr_storage	peer;
			struct ut_pktinfo	pi;
			char			ctl[256], src[UT_TEXTLEN];
			struct iovec		iov = { in, sizeof(in) };
			struct msghdr		m;
			ssize_t			n;
			int			h;

			if (!(pfd[i].revents & POLLIN))
				continue;
			memset(&m, 0, sizeof(m));
			m.msg_name = &peer;
			m.msg_namelen = sizeof(peer);
			m.msg_iov = &iov;
			m.msg_iovlen = 1;
			m.msg_control = ctl;
			m.msg_controllen = sizeof(ctl);
			if ((n = recvmsg(pfd[i].fd, &m, MSG_DONTWAIT)) == -1)
				continue;
			ut_pktinfo_take(&m, pfd[i].fd, &pi);
			ut_addr_text(&peer, src, sizeof(src));
			if (log != NULL)
				fprintf(log, "src %s dst %s\n", src, pi.dst);
			h = snprintf((char *)out, 64, "seen %s\n", src);
			memcpy(out + h, in, (size_t)n);
			ut_reply(pfd[i].fd, &peer, m.msg_namelen, &pi, out, (size_t)h + (size_t)n);
		}
	}
}

/* ---- ask ---- */

/* Parse an echo's reply: "seen IP PORT\n" and the datagram sent. */
static int
ut_echo_reply(const unsigned char *r, size_t rlen, const unsigned char *sent,
    size_t slen, char *seen, size_t seenlen)
{
	const unsigned char	*nl;
	size_t			 h;

	if (rlen < 5 || memcmp(r, "seen ", 5) != 0 ||
	    (nl = memchr(r, '\n', rlen < 80 ? rlen : 80)) == NULL)
		return -1;
	h = (size_t)(nl - r) + 1;
	if (rlen - h != slen || memcmp(r + h, sent, slen) != 0)
		return -2;
	snprintf(seen, seenlen, "%.*s", (int)(h - 6), (const char *)r + 5);
	return 0;
}

static int
ut_ask(int argc, char **argv)
{
	static unsigned char	sent[UT_MAXDGRAM], got[UT_MAXDGRAM + 64];
	struct ut_addr		dst[UT_MAXDST], from;
	const char		*data = NULL, *bindaddr = NULL;
	double			 wait_s = 2;
	size_t			 size = 0, slen;
	int			 ndst = 0, tries = 1, fd = -1, i, t, ok = 1;

	if (argc < 3)
		ut_usage();
	ut_addr_parse(&dst[ndst++], argv[1], argv[2]);
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--to") == 0 && i + 2 < argc) {
			if (ndst == UT_MAXDST)
				ut_die("at most %d destinations", UT_MAXDST);
			ut_addr_parse(&dst[ndst++], argv[i + 1], argv[i + 2]);
			i += 2;
		} else if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc)
			wait_s = ut_number(argv[++i], 0.01, 3600, "--wait");
		else if (strcmp(argv[i], "--tries") == 0 && i + 1 < argc)
			tries = (int)ut_number(argv[++i], 1, 100, "--tries");
		else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			data = argv[++i];
		else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
			size = (size_t)ut_number(argv[++i], 1, 65000, "--size");
		else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc)
			bindaddr = argv[++i];
		else
			ut_usage();
	}
	if (bindaddr != NULL)
		ut_addr_parse(&from, bindaddr, "0");
	for (i = 0; i < ndst; i++) {
		char		 dtext[UT_TEXTLEN], seen[UT_TEXTLEN], why[64] = "";
		uint64_t	 t0 = ut_now_ns();

		ut_addr_text_scoped(&dst[i].ss, dtext, sizeof(dtext));
		if (fd == -1) {
			if ((fd = socket(dst[i].ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
				ut_die("socket: %s", strerror(errno));
			if (bindaddr != NULL && bind(fd, (void *)&from.ss, from.len) == -1)
				ut_die("bind %s: %s", bindaddr, strerror(errno));
		} else if (dst[i].ss.ss_family != dst[0].ss.ss_family)
			ut_die("one socket, one family: %s", dtext);
		/* Each datagram different, so that a late echo of an
		 * earlier one is not taken for this one's. */
		if (size > 0) {
			slen = size;
			memset(sent, 'u', slen);
			snprintf((char *)sent, slen, "ask %ld %d ", (long)getpid(), i);
		} else {
			slen = (size_t)snprintf((char *)sent, sizeof(sent), "ask %ld %d %s",
			    (long)getpid(), i, data != NULL ? data : "hello");
			if (slen >= sizeof(sent))
				slen = sizeof(sent) - 1;
		}
		if (connect(fd, (void *)&dst[i].ss, dst[i].len) == -1) {
			printf("%s error %s in 0 ms\n", dtext, ut_errname(errno));
			ok = 0;
			continue;
		}
		if (i == 0) {
			struct sockaddr_storage	l;
			socklen_t		llen = sizeof(l);
			char			lt[UT_TEXTLEN];

			if (getsockname(fd, (void *)&l, &llen) == 0)
				printf("local %s\n", ut_addr_text(&l, lt, sizeof(lt)));
		}
		seen[0] = '\0';
		for (t = 0; t < tries && seen[0] == '\0' && why[0] == '\0'; t++) {
			uint64_t	deadline = ut_now_ns() + (uint64_t)(wait_s * 1e9);
			struct pollfd	pfd = { fd, POLLIN, 0 };

			if (send(fd, sent, slen, 0) == -1) {
				snprintf(why, sizeof(why), "error %s", ut_errname(errno));
				break;
			}
			for (;;) {
				uint64_t	now = ut_now_ns();
				ssize_t		n;
				int		r;

				if (now >= deadline)
					break;
				r = poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1);
				if (r == -1 && errno == EINTR)
					continue;
				if (r <= 0)
					break;
				if ((n = recv(fd, got, sizeof(got), MSG_DONTWAIT)) == -1) {
					if (errno == EAGAIN || errno == EINTR)
						continue;
					snprintf(why, sizeof(why), "error %s", ut_errname(errno));
					break;
				}
				r = ut_echo_reply(got, (size_t)n, sent, slen, seen, sizeof(seen));
				if (r == -1) {
					snprintf(why, sizeof(why), "bad reply-not-from-echo");
					break;
				}
				if (r == 0)
					break;
				/* -2: an earlier datagram's echo; wait on. */
			}
		}
		if (seen[0] != '\0')
			printf("%s seen %s", dtext, seen);
		else {
			printf("%s %s", dtext, why[0] != '\0' ? why : "timeout");
			ok = 0;
		}
		printf(" in %llu ms\n", (unsigned long long)((ut_now_ns() - t0) / 1000000));
		fflush(stdout);
	}
	return ok ? 0 : 1;
}

/* ---- flows ---- */

static void
ut_nofile(size_t want)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < want + 16)
		ut_die("%zu sockets need more descriptors than the limit of %llu", want,
		    (unsigned long long)rl.rlim_cur);
}

static int
ut_flows(int argc, char **argv)
{
	struct ut_addr	 dst;
	struct pollfd	*pfd;
	unsigned	*port;
	unsigned char	 got[512];
	char		 msg[64], seen[UT_TEXTLEN];
	double		 wait_s = 10, retry_ms = 500;
	uint64_t	 t0, deadline, next_retry;
	size_t		 n, i, answered = 0, changed = 0, resent = 0, distinct = 0;
	int		 a;

	if (argc < 4)
		ut_usage();
	ut_addr_parse(&dst, argv[1], argv[2]);
	n = (size_t)ut_number(argv[3], 1, 100000, "N");
	for (a = 4; a < argc; a++) {
		if (strcmp(argv[a], "--wait") == 0 && a + 1 < argc)
			wait_s = ut_number(argv[++a], 0.1, 3600, "--wait");
		else if (strcmp(argv[a], "--retry") == 0 && a + 1 < argc)
			retry_ms = ut_number(argv[++a], 10, 60000, "--retry");
		else
			ut_usage();
	}
	ut_nofile(n);
	if ((pfd = calloc(n, sizeof(*pfd))) == NULL ||
	    (port = calloc(n, sizeof(*port))) == NULL)
		ut_die("out of memory");
	for (i = 0; i < n; i++) {
		pfd[i].fd = socket(dst.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (pfd[i].fd == -1)
			ut_die("socket %zu: %s", i, strerror(errno));
		if (connect(pfd[i].fd, (void *)&dst.ss, dst.len) == -1)
			ut_die("connect: %s", strerror(errno));
		pfd[i].events = POLLIN;
	}
	t0 = ut_now_ns();
	deadline = t0 + (uint64_t)(wait_s * 1e9);
	next_retry = 0;
	while (answered < n) {
		uint64_t	now = ut_now_ns(), wake;
		int		r;

		if (now >= deadline)
			break;
		if (now >= next_retry) {
			/* The first round opens every flow; later rounds
			 * ask again the ones still without an answer. */
			for (i = 0; i < n; i++) {
				size_t	len;

				if (port[i] != 0)
					continue;
				len = (size_t)snprintf(msg, sizeof(msg), "flow %ld %zu",
				    (long)getpid(), i);
				/* A refusal is an answer of sorts: asked
				 * again, and counted as not answered. */
				if (send(pfd[i].fd, msg, len, 0) == -1 && errno != EAGAIN &&
				    errno != ENOBUFS && errno != ECONNREFUSED && errno != EPERM)
					ut_die("send: %s", strerror(errno));
				if (next_retry != 0)
					resent++;
			}
			next_retry = now + (uint64_t)(retry_ms * 1e6);
		}
		now = ut_now_ns();
		wake = next_retry < deadline ? next_retry : deadline;
		r = poll(pfd, (nfds_t)n, wake > now ? (int)((wake - now) / 1000000) + 1 : 0);
		if (r == -1 && errno != EINTR)
			ut_die("poll: %s", strerror(errno));
		for (i = 0; r > 0 && i < n; i++) {
			ssize_t		len;
			unsigned	p;
			char		*sp;

			if (!(pfd[i].revents & (POLLIN | POLLERR)))
				continue;
			while ((len = recv(pfd[i].fd, got, sizeof(got) - 1, 0)) >= 0) {
				got[len] = '\0';
				snprintf(msg, sizeof(msg), "flow %ld %zu", (long)getpid(), i);
				if (ut_echo_reply(got, (size_t)len, (unsigned char *)msg,
				    strlen(msg), seen, sizeof(seen)) != 0)
					continue;
				sp = strrchr(seen, ' ');
				p = sp != NULL ? (unsigned)strtoul(sp + 1, NULL, 10) : 0;
				if (port[i] == 0) {
					port[i] = p;
					answered++;
				} else if (port[i] != p)
					changed++;
			}
		}
	}
	/* Distinct ports: sort a copy. */
	{
		unsigned	*s = calloc(n, sizeof(*s));
		size_t		 k = 0, j;

		if (s == NULL)
			ut_die("out of memory");
		for (i = 0; i < n; i++)
			if (port[i] != 0)
				s[k++] = port[i];
		for (i = 1; i < k; i++) {	/* insertion sort: N is small */
			unsigned	v = s[i];
			for (j = i; j > 0 && s[j - 1] > v; j--)
				s[j] = s[j - 1];
			s[j] = v;
		}
		for (i = 0; i < k; i++)
			if (i == 0 || s[i] != s[i - 1])
				distinct++;
		free(s);
	}
	printf("answered %zu of %zu, distinct source ports %zu, ports changed %zu, "
	    "resent %zu, in %.2f s\n", answered, n, distinct, changed, resent,
	    (double)(ut_now_ns() - t0) / 1e9);
	for (i = 0; i < n; i++)
		close(pfd[i].fd);
	free(pfd);
	free(port);
	return answered == n && distinct == n && changed == 0 ? 0 : 1;
}

/* ---- blast ---- */

static void
ut_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
ut_put64(unsigned char *p, uint64_t v)
{
	ut_put32(p, (uint32_t)(v >> 32));
	ut_put32(p + 4, (uint32_t)v);
}

static uint32_t
ut_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
ut_get64(const unsigned char *p)
{
	return (uint64_t)ut_get32(p) << 32 | ut_get32(p + 4);
}

/* The body of numbered datagram seq, so that the sink can check it. */
static void
ut_fill(unsigned char *buf, size_t size, uint64_t seq)
{
	size_t	i;

	for (i = UT_HDRLEN; i < size; i++)
		buf[i] = (unsigned char)(seq + i);
}

static bool
ut_body_ok(const unsigned char *buf, size_t size, uint64_t seq)
{
	size_t	i;

	for (i = UT_HDRLEN; i < size; i++)
		if (buf[i] != (unsigned char)(seq + i))
			return false;
	return true;
}

static int
ut_blast(int argc, char **argv)
{
	static unsigned char	buf[UT_MAXDGRAM];
	struct ut_addr		dst;
	double			rate = 1000, secs = 5;
	size_t			size = 100;
	uint32_t		run;
	uint64_t		sent = 0, errs = 0, t0, t_end, interval = 0, t_sent;
	bool			summary = true, got_summary = false;
	int			fd, a, k, sndbuf = 4 * 1024 * 1024;

	if (argc < 3)
		ut_usage();
	ut_addr_parse(&dst, argv[1], argv[2]);
	run = (uint32_t)getpid() ^ (uint32_t)time(NULL) << 8;
	for (a = 3; a < argc; a++) {
		if (strcmp(argv[a], "--size") == 0 && a + 1 < argc)
			size = (size_t)ut_number(argv[++a], UT_HDRLEN, 65000, "--size");
		else if (strcmp(argv[a], "--rate") == 0 && a + 1 < argc)
			rate = ut_number(argv[++a], 0, 1e8, "--rate");
		else if (strcmp(argv[a], "--seconds") == 0 && a + 1 < argc)
			secs = ut_number(argv[++a], 0.01, 3600, "--seconds");
		else if (strcmp(argv[a], "--run") == 0 && a + 1 < argc)
			run = (uint32_t)ut_number(argv[++a], 0, 4294967295.0, "--run");
		else if (strcmp(argv[a], "--no-summary") == 0)
			summary = false;
		else
			ut_usage();
	}
	if ((fd = socket(dst.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		ut_die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (connect(fd, (void *)&dst.ss, dst.len) == -1)
		ut_die("connect: %s", strerror(errno));
	memset(buf, 'b', size);
	ut_put32(buf, UT_BLAST_MAGIC);
	ut_put32(buf + 4, run);
	if (rate > 0)
		interval = (uint64_t)(1e9 / rate);
	t0 = ut_now_ns();
	t_end = t0 + (uint64_t)(secs * 1e9);
	for (;;) {
		uint64_t	now = ut_now_ns(), due;

		if (now >= t_end)
			break;
		/* How many should have gone by now: catch up in a burst
		 * after a late wake-up rather than drift. */
		due = interval > 0 ? (now - t0) / interval + 1 : sent + errs + 1;
		while (sent + errs < due) {
			ut_put64(buf + 8, sent + errs);
			ut_fill(buf, size, sent + errs);
			if (send(fd, buf, size, 0) == -1) {
				if (errno != ENOBUFS && errno != EAGAIN &&
				    errno != ECONNREFUSED && errno != EPERM)
					ut_die("send: %s", strerror(errno));
				errs++;
			} else
				sent++;
			if (interval == 0)
				break;
		}
		if (interval > 0)
			ut_sleep_until(t0 + (sent + errs) * interval);
	}
	t_sent = ut_now_ns() - t0;
	printf("blast: run %u: sent %llu datagrams of %zu bytes in %.2f s: %.0f pps, "
	    "%.1f Mbit/s offered; send errors %llu\n", run, (unsigned long long)sent, size,
	    (double)t_sent / 1e9, (double)sent * 1e9 / (double)t_sent,
	    (double)sent * (double)size * 8 * 1e3 / (double)t_sent,
	    (unsigned long long)errs);
	fflush(stdout);
	/* The end marker, again until the sink's summary comes back: it
	 * and the summary are datagrams too. */
	ut_put32(buf, UT_END_MAGIC);
	ut_put64(buf + 8, sent + errs);
	/* A tunnel may still be working through a backlog of the run:
	 * up to 10 s for the marker to come through it. */
	for (k = 0; k < (summary ? 20 : 3) && !got_summary; k++) {
		struct pollfd	pfd = { fd, POLLIN, 0 };
		uint64_t	deadline;

		send(fd, buf, UT_HDRLEN, 0);
		deadline = ut_now_ns() + (summary ? 500000000ULL : 20000000ULL);
		while (summary) {
			uint64_t	now = ut_now_ns();
			unsigned char	r[1024];
			ssize_t		n;

			if (now >= deadline ||
			    poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1) <= 0)
				break;
			if ((n = recv(fd, r, sizeof(r) - 1, MSG_DONTWAIT)) <= 0)
				continue;
			r[n] = '\0';
			if (strncmp((char *)r, "sink: ", 6) == 0) {
				printf("%s", (char *)r);
				got_summary = true;
				break;
			}
		}
	}
	if (summary && !got_summary)
		printf("sink: no summary\n");
	close(fd);
	return sent > 0 && (got_summary || !summary) ? 0 : 1;
}

/* ---- sink ---- */

struct ut_run {
	bool		 active;
	uint32_t	 id;
	uint64_t	 unique, dups, reordered, corrupt, bytes, max_seq;
	uint64_t	 first_ns, last_ns;
	unsigned char	*seen;		/* bitmap of sequence numbers */
	size_t		 seenlen;	/* bytes */
};

/* Mark seq in the run's bitmap; false when it was there already.  Past
 * UT_SEQ_BITMAP nothing is marked (and nothing called a duplicate). */
static bool
ut_run_mark(struct ut_run *r, uint64_t seq)
{
	size_t	byte;

	if (seq >= UT_SEQ_BITMAP)
		return true;
	byte = (size_t)(seq / 8);
	if (byte >= r->seenlen) {
		size_t		 nlen = r->seenlen ? r->seenlen : 4096;
		unsigned char	*p;

		while (nlen <= byte)
			nlen *= 2;
		if ((p = realloc(r->seen, nlen)) == NULL)
			ut_die("out of memory");
		memset(p + r->seenlen, 0, nlen - r->seenlen);
		r->seen = p;
		r->seenlen = nlen;
	}
	if (r->seen[byte] & (1U << (seq % 8)))
		return false;
	r->seen[byte] |= (unsigned char)(1U << (seq % 8));
	return true;
}

/* The summary of run r; total is what the blaster sent (0: unknown, then
 * what the highest number says). */
static void
ut_run_summary(const struct ut_run *r, uint64_t total, char *buf, size_t len)
{
	double		secs = (double)(r->last_ns - r->first_ns) / 1e9;
	uint64_t	n = total ? total : r->max_seq + 1;
	uint64_t	lost = n > r->unique ? n - r->unique : 0;

	snprintf(buf, len, "sink: run %u: received %llu of %llu%s (lost %llu, %.2f %%), "
	    "reordered %llu, duplicates %llu, corrupt %llu, %llu bytes in %.2f s: "
	    "%.0f pps, %.1f Mbit/s\n",
	    r->id, (unsigned long long)r->unique, (unsigned long long)n,
	    total ? "" : " or more", (unsigned long long)lost,
	    n ? 100.0 * (double)lost / (double)n : 0.0, (unsigned long long)r->reordered,
	    (unsigned long long)r->dups, (unsigned long long)r->corrupt,
	    (unsigned long long)r->bytes, secs,
	    secs > 0 ? (double)r->unique / secs : 0.0,
	    secs > 0 ? (double)r->bytes * 8 / secs / 1e6 : 0.0);
}

static void
ut_run_reset(struct ut_run *r, uint32_t id)
{
	free(r->seen);
	memset(r, 0, sizeof(*r));
	r->active = true;
	r->id = id;
}

static void
ut_sink(int argc, char **argv)
{
	static unsigned char	bufs[UT_BATCH][2048];
	struct mmsghdr		msgs[UT_BATCH];
	struct iovec		iov[UT_BATCH];
	struct sockaddr_storage	peers[UT_BATCH];
	char			ctls[UT_BATCH][256];
	const char		*logpath = NULL, *ready = NULL;
	struct ut_srv		 srv;
	struct ut_run		 run;
	struct pollfd		 pfd[2];
	uint32_t		 done_id = 0;
	bool			 done_any = false, noread = false;
	double			 idle_s = 3;
	char			 line[512];
	FILE			*log;
	int			 i, k;

	if (argc < 3)
		ut_usage();
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			logpath = argv[++i];
		else if (strcmp(argv[i], "--ready") == 0 && i + 1 < argc)
			ready = argv[++i];
		else if (strcmp(argv[i], "--idle") == 0 && i + 1 < argc)
			idle_s = ut_number(argv[++i], 0.1, 3600, "--idle");
		else if (strcmp(argv[i], "--no-read") == 0)
			noread = true;
		else
			ut_usage();
	}
	/* A receiver that never reads gets the kernel's smallest buffer. */
	ut_srv_open(&srv, argv[1], argv[2], noread ? 1 : UT_RCVBUF);
	log = ut_log_open(logpath);
	ut_ready(ready);
	if (noread)
		for (;;)
			pause();
	memset(&run, 0, sizeof(run));
	for (i = 0; i < srv.nfd; i++) {
		pfd[i].fd = srv.fd[i];
		pfd[i].events = POLLIN;
	}
	for (;;) {
		int	r, timeout = -1;

		if (run.active) {
			uint64_t	idle_end = run.last_ns + (uint64_t)(idle_s * 1e9);
			uint64_t	now = ut_now_ns();

			if (now >= idle_end) {
				/* No end marker: what arrived is all we know. */
				ut_run_summary(&run, 0, line, sizeof(line));
				fputs(line, stdout);
				fflush(stdout);
				if (log != NULL)
					fputs(line, log);
				run.active = false;
				continue;
			}
			timeout = (int)((idle_end - now) / 1000000) + 1;
		}
		r = poll(pfd, (nfds_t)srv.nfd, timeout);
		if (r == -1 && errno != EINTR)
			ut_die("poll: %s", strerror(errno));
		for (i = 0; r > 0 && i < srv.nfd; i++) {
			int	n;

			if (!(pfd[i].revents & POLLIN))
				continue;
			for (k = 0; k < UT_BATCH; k++) {
				iov[k].iov_base = bufs[k];
				iov[k].iov_len = sizeof(bufs[k]);
				memset(&msgs[k], 0, sizeof(msgs[k]));
				msgs[k].msg_hdr.msg_name = &peers[k];
				msgs[k].msg_hdr.msg_namelen = sizeof(peers[k]);
				msgs[k].msg_hdr.msg_iov = &iov[k];
				msgs[k].msg_hdr.msg_iovlen = 1;
				msgs[k].msg_hdr.msg_control = ctls[k];
				msgs[k].msg_hdr.msg_controllen = sizeof(ctls[k]);
			}
			n = recvmmsg(pfd[i].fd, msgs, UT_BATCH, MSG_DONTWAIT, NULL);
			if (n <= 0)
				continue;
			for (k = 0; k < n; k++) {
				const unsigned char	*d = bufs[k];
				size_t			 len = msgs[k].msg_len;
				uint32_t		 magic, id;
				uint64_t		 seq, now = ut_now_ns();

				if (len < UT_HDRLEN)
					continue;
				magic = ut_get32(d);
				id = ut_get32(d + 4);
				seq = ut_get64(d + 8);
				if (magic == UT_END_MAGIC) {
					struct ut_pktinfo	pi;

					if (run.active && run.id == id) {
						ut_run_summary(&run, seq, line, sizeof(line));
						fputs(line, stdout);
						fflush(stdout);
						if (log != NULL)
							fputs(line, log);
						run.active = false;
						done_id = id;
						done_any = true;
					} else if (!done_any || done_id != id) {
						/* Nothing of this run came. */
						struct ut_run	none;

						memset(&none, 0, sizeof(none));
						none.id = id;
						none.max_seq = seq ? seq - 1 : 0;
						ut_run_summary(&none, seq, line, sizeof(line));
						fputs(line, stdout);
						fflush(stdout);
						done_id = id;
						done_any = true;
					}
					/* Every copy of the marker gets the
					 * summary: an earlier answer may be lost. */
					ut_pktinfo_take(&msgs[k].msg_hdr, pfd[i].fd, &pi);
					ut_reply(pfd[i].fd, &peers[k], msgs[k].msg_hdr.msg_namelen,
					    &pi, line, strlen(line));
					continue;
				}
				if (magic != UT_BLAST_MAGIC)
					continue;
				if (!run.active || run.id != id) {
					if (done_any && done_id == id)
						continue;	/* a straggler */
					if (run.active) {
						ut_run_summary(&run, 0, line, sizeof(line));
						fputs(line, stdout);
						fflush(stdout);
					}
					ut_run_reset(&run, id);
					run.first_ns = now;
				}
				run.last_ns = now;
				if (!ut_body_ok(d, len, seq)) {
					run.corrupt++;
					continue;
				}
				if (!ut_run_mark(&run, seq)) {
					run.dups++;
					continue;
				}
				if (run.unique > 0 && seq < run.max_seq)
					run.reordered++;
				if (seq > run.max_seq)
					run.max_seq = seq;
				run.unique++;
				run.bytes += len;
			}
		}
	}
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		ut_usage();
	if (strcmp(argv[1], "echo") == 0)
		ut_echo(argc - 1, argv + 1);
	if (strcmp(argv[1], "ask") == 0)
		return ut_ask(argc - 1, argv + 1);
	if (strcmp(argv[1], "flows") == 0)
		return ut_flows(argc - 1, argv + 1);
	if (strcmp(argv[1], "blast") == 0)
		return ut_blast(argc - 1, argv + 1);
	if (strcmp(argv[1], "sink") == 0)
		ut_sink(argc - 1, argv + 1);
	ut_usage();
}
