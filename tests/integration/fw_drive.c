/* SPDX-License-Identifier: ISC */
/*
 * fw_drive.c - drive the firewall module from a shell test.
 *
 *   fw_drive --firewall [-v]...	be the helper (as `cshuttle --firewall`)
 *   fw_drive [-v]...			read commands on stdin, one per line,
 *					and answer each with one line:
 *
 *	start				fw_start()	-> started | error: ...
 *	caller				fw_caller_uid()	-> caller N
 *	port N | fam 4|6|46		the redirect listeners: port and families
 *	laddr ADDR			bind that family's listener to ADDR
 *					instead of 127.0.0.1 / ::1
 *	prerouting 0|1
 *	allow ADDR/PREFIX		a source network served by prerouting
 *	exempt ADDR PORT
 *	inc|exc ADDR/PREFIX [LO HI]
 *	dns ADDR PORT			a captured nameserver, its listeners on
 *					127.0.0.1 or ::1, PORT
 *	leaks 0|1
 *	udp				UDP capture: at the first apply, a UDP
 *					socket beside each listener (same
 *					address and port)
 *	tmark MARK			fw_config.tmark (0x... or decimal): sent
 *					with the first apply only
 *	scope host|caller | user UID | group GID
 *					(default: host, as for root's cshuttle)
 *					build the config		-> ok
 *	clear				empty the config		-> ok
 *	apply				fw_apply()	-> applied | error: ...
 *	mark				fw_mark()	-> mark 0x...
 *	msock 4|6 udp|tcp ADDR PORT	a socket of ours, fw_mark_socket(), then
 *					talk to ADDR PORT through it: send "ping"
 *					(udp) or connect (tcp) and read one line
 *		-> msock mark 0x... nonblock cloexec: <line> | error: ...
 *	urecv				wait up to 3 s for a datagram on the UDP
 *					sockets -> urecv ORIG from PEER: TEXT
 *					(ORIG from IP_ORIGDSTADDR) | urecv none
 *	umark				the UDP sockets' SO_MARK -> umark 0x... ...
 *	uspoof SRC DST PORT		send from the IPv4 UDP socket with source
 *					SRC (IP_PKTINFO) to DST PORT -> sent |
 *					error: ...
 *	usock 4|6 ADDR PORT [peer|TOADDR TOPORT]
 *					fw_udp_reply_socket() bound to ADDR PORT,
 *					then send "REPLY ADDR:PORT" from it to
 *					the last urecv's PEER or to TOADDR TOPORT
 *		-> usock ADDR:PORT mark 0x...: sent | no send | error: ...
 *	alive				poll fw_fd()	-> alive | dead
 *	stop				fw_stop()	-> stopped
 *	quit, or end of input		fw_stop() and exit
 *
 * The listeners are made at the first apply (the helper takes them then,
 * for good) and the DNS listeners by the dns command; the driver serves
 * them itself, one thread each, as cshuttle would: a connection to a
 * redirect listener gets "REDIR <original destination>", a datagram to a
 * DNS listener "DNS <port>", a connection to it "DNS <port> <original
 * destination>" (no-orig(ERRNO) when conntrack has none).
 *
 * The config is parsed here, not with subnet_parse(), so that the test
 * exercises the firewall module alone.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fw.h"

#define DRIVE_MAXSUBNETS	64
#define DRIVE_MAXDNS		16

static struct subnet		subnets[DRIVE_MAXSUBNETS];
static struct subnet_list	list = { .v = subnets, .n = 0, .cap = DRIVE_MAXSUBNETS };
static struct fw_config		cfg;
static uint16_t			want_port;
static bool			want4, want6;
static struct addr		laddr4, laddr6;
static int			lfd[2] = { -1, -1 };	/* IPv4, IPv6 listener */
static struct {
	uint8_t			family;
	uint16_t		port;
	int			ufd, tfd;
} dnsl[DRIVE_MAXDNS];
static int			ndnsl;
static bool			want_udp;
static int			ufd[2] = { -1, -1 };	/* IPv4, IPv6 UDP */
/* The last datagram the UDP sockets got, for urecv. */
static pthread_mutex_t		ulock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		ucond = PTHREAD_COND_INITIALIZER;
static bool			uhave;
static struct addr		uorig, upeer, ulastpeer;
static char			utext[128];

static void
config_clear(void)
{
	memset(&cfg, 0, sizeof(cfg));
	list.n = 0;
	cfg.subnets = &list;
	cfg.host_wide = true;	/* root's default, as cshuttle's */
	want_port = 0;
	want4 = want6 = false;
	want_udp = false;
}

/* "ADDR/PREFIX" */
static int
parse_net(char *arg, uint8_t *family, uint8_t *addr, uint8_t *prefix)
{
	struct addr	a;
	char		*slash;

	if (arg == NULL || (slash = strchr(arg, '/')) == NULL)
		return -1;
	*slash = '\0';
	if (addr_parse(&a, arg, (size_t)-1, 0, 0) != 0)
		return -1;
	*family = a.family;
	memcpy(addr, a.bytes, 16);
	*prefix = (uint8_t)atoi(slash + 1);
	return 0;
}

/* "ADDR/PREFIX [LO HI]" */
static int
add_subnet(char *args, bool exclude)
{
	struct subnet *s;
	char *net, *lo, *hi;

	if (list.n == DRIVE_MAXSUBNETS)
		return -1;
	s = &subnets[list.n];
	memset(s, 0, sizeof(*s));
	net = strtok(args, " ");
	lo = strtok(NULL, " ");
	hi = strtok(NULL, " ");
	if (parse_net(net, &s->family, s->addr, &s->prefix) != 0)
		return -1;
	s->port_lo = lo != NULL ? (uint16_t)atoi(lo) : 0;
	s->port_hi = hi != NULL ? (uint16_t)atoi(hi) : 65535;
	s->exclude = exclude;
	list.n++;
	return 0;
}

static int
add_allow(char *args)
{
	struct fw_allow *a;

	if (cfg.nallow == FW_MAX_ALLOW)
		return -1;
	a = &cfg.allow[cfg.nallow];
	memset(a, 0, sizeof(*a));
	if (parse_net(strtok(args, " "), &a->family, a->addr, &a->prefix) != 0)
		return -1;
	cfg.nallow++;
	return 0;
}

static int
add_exempt(char *args)
{
	char *addr, *port;

	if (cfg.nexempt == FW_MAX_EXEMPT)
		return -1;
	addr = strtok(args, " ");
	port = strtok(NULL, " ");
	if (addr == NULL || port == NULL || addr_parse(&cfg.exempt[cfg.nexempt],
	    addr, (size_t)-1, 0, (uint16_t)atoi(port)) != 0)
		return -1;
	cfg.nexempt++;
	return 0;
}

/* The original destination of a redirected connection, as text. */
static void
orig_dst(int fd, int family, char *buf, size_t len)
{
	struct sockaddr_storage	ss;
	struct addr		a;
	socklen_t		sl = sizeof(ss);
	int			r;

	if (family == AF_INET)
		r = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &sl);
	else
		r = getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &sl);
	if (r != 0 || addr_from_sockaddr(&a, (struct sockaddr *)&ss, sl) != 0)
		snprintf(buf, len, "no-orig(%s)", errno == ENOENT ? "ENOENT" :
		    strerror(errno));
	else
		addr_format(&a, true, buf, len);
}

/* A listener served by a thread of its own. */
struct serve {
	int		 fd;
	int		 family;
	bool		 udp;
	bool		 dns;
	uint16_t	 port;
};

static void *
serve_main(void *arg)
{
	struct serve		*s = arg;
	struct sockaddr_storage	 peer;
	socklen_t		 sl;
	char			 buf[512], orig[ADDR_STRLEN + 16], line[600];
	ssize_t			 n;
	int			 c;

	for (;;) {
		sl = sizeof(peer);
		if (s->udp) {
			n = recvfrom(s->fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&peer, &sl);
			if (n < 0)
				continue;
			snprintf(line, sizeof(line), "DNS %u\n", s->port);
			(void)sendto(s->fd, line, strlen(line), 0,
			    (struct sockaddr *)&peer, sl);
			continue;
		}
		if ((c = accept(s->fd, (struct sockaddr *)&peer, &sl)) < 0)
			continue;
		orig_dst(c, s->family, orig, sizeof(orig));
		if (s->dns)
			snprintf(line, sizeof(line), "DNS %u %s\n", s->port, orig);
		else
			snprintf(line, sizeof(line), "REDIR %s\n", orig);
		(void)send(c, line, strlen(line), MSG_NOSIGNAL);
		close(c);
	}
	return NULL;
}

/* Bind (and listen on) a socket at a, port, served by a thread: the
 * descriptor, or -1. */
static int
serve_open(const struct addr *a, uint16_t port, int type, bool dns)
{
	struct sockaddr_storage	 ss;
	struct serve		*s;
	struct addr		 b = *a;
	pthread_t		 t;
	socklen_t		 sl;
	int			 fd, one = 1;

	b.port = port;
	if ((sl = addr_to_sockaddr(&b, &ss)) == 0 ||
	    (fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) != 0) ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->family = ss.ss_family;
	s->udp = type == SOCK_DGRAM;
	s->dns = dns;
	s->port = port;
	if (pthread_create(&t, NULL, serve_main, s) != 0) {
		close(fd);
		free(s);
		return -1;
	}
	(void)pthread_detach(t);
	return fd;
}

static int
add_dns(char *args)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 };
	struct addr *d, lo;
	char *addr, *port;
	int i;

	if (cfg.ndns == FW_MAX_DNS)
		return -1;
	d = &cfg.dns[cfg.ndns];
	addr = strtok(args, " ");
	port = strtok(NULL, " ");
	if (addr == NULL || port == NULL || addr_parse(d, addr, (size_t)-1, 0,
	    (uint16_t)atoi(port)) != 0)
		return -1;
	for (i = 0; i < ndnsl; i++)
		if (dnsl[i].family == d->family && dnsl[i].port == d->port)
			break;
	if (i == ndnsl) {
		if (ndnsl == DRIVE_MAXDNS)
			return -1;
		addr_set(&lo, d->family, d->family == ADDR_V4 ? lo4 : lo6, 0);
		dnsl[i].family = d->family;
		dnsl[i].port = d->port;
		if ((dnsl[i].ufd = serve_open(&lo, d->port, SOCK_DGRAM,
		    true)) < 0 || (dnsl[i].tfd = serve_open(&lo, d->port,
		    SOCK_STREAM, true)) < 0)
			return -1;
		ndnsl++;
	}
	cfg.dns_udp_fd[cfg.ndns] = dnsl[i].ufd;
	cfg.dns_tcp_fd[cfg.ndns] = dnsl[i].tfd;
	cfg.ndns++;
	return 0;
}

/* A UDP socket beside a listener: what the datagrams TPROXY delivers
 * were sent to (IP_ORIGDSTADDR), as cshuttle reads it. */
static void *
udp_main(void *arg)
{
	int			 fd = *(int *)arg;
	char			 buf[128], cbuf[256];
	struct sockaddr_storage	 peer;
	struct msghdr		 msg;
	struct cmsghdr		*cm;
	struct iovec		 iov;
	struct addr		 orig, from;
	ssize_t			 n;

	for (;;) {
		memset(&msg, 0, sizeof(msg));
		memset(&orig, 0, sizeof(orig));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf) - 1;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_name = &peer;
		msg.msg_namelen = sizeof(peer);
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		if ((n = recvmsg(fd, &msg, 0)) < 0)
			continue;
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
		    cm = CMSG_NXTHDR(&msg, cm))
			if ((cm->cmsg_level == SOL_IP &&
			    cm->cmsg_type == IP_ORIGDSTADDR) ||
			    (cm->cmsg_level == SOL_IPV6 &&
			    cm->cmsg_type == IPV6_ORIGDSTADDR))
				(void)addr_from_sockaddr(&orig,
				    (struct sockaddr *)CMSG_DATA(cm),
				    (socklen_t)(cm->cmsg_len - CMSG_LEN(0)));
		if (addr_from_sockaddr(&from, (struct sockaddr *)&peer,
		    msg.msg_namelen) != 0)
			continue;
		pthread_mutex_lock(&ulock);
		uhave = true;
		uorig = orig;
		upeer = from;
		snprintf(utext, sizeof(utext), "%s", buf);
		pthread_cond_signal(&ucond);
		pthread_mutex_unlock(&ulock);
	}
	return NULL;
}

/* The UDP socket of one family on a, port: -1 on failure. */
static int
udp_open(const struct addr *a, uint16_t port, int *slot)
{
	struct sockaddr_storage	 ss;
	struct addr		 b = *a;
	pthread_t		 t;
	socklen_t		 sl;
	int			 fd, one = 1;

	b.port = port;
	if ((sl = addr_to_sockaddr(&b, &ss)) == 0 ||
	    (fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (setsockopt(fd, ss.ss_family == AF_INET6 ? SOL_IPV6 : SOL_IP,
	    ss.ss_family == AF_INET6 ? IPV6_RECVORIGDSTADDR :
	    IP_RECVORIGDSTADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) != 0) {
		close(fd);
		return -1;
	}
	*slot = fd;
	if (pthread_create(&t, NULL, udp_main, slot) != 0)
		return -1;
	(void)pthread_detach(t);
	return fd;
}

/* urecv: the next datagram, within 3 s. */
static void
udp_recv(void)
{
	struct timespec	ts;
	char		o[ADDR_STRLEN + 8], p[ADDR_STRLEN + 8];
	int		r = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 3;
	pthread_mutex_lock(&ulock);
	while (!uhave && r == 0)
		r = pthread_cond_timedwait(&ucond, &ulock, &ts);
	if (uhave) {
		if (uorig.family == 0)
			snprintf(o, sizeof(o), "no-orig");
		else
			addr_format(&uorig, true, o, sizeof(o));
		printf("urecv %s from %s: %s\n", o, addr_format(&upeer, true, p,
		    sizeof(p)), utext);
		ulastpeer = upeer;
		uhave = false;
	} else
		printf("urecv none\n");
	pthread_mutex_unlock(&ulock);
}

/* usock 4|6 ADDR PORT [peer|TOADDR TOPORT] */
static void
udp_reply(struct fw *fw, char *args)
{
	struct sockaddr_storage	 ss;
	struct addr		 src, to;
	char			*fam, *addr, *port, *toaddr, *toport;
	char			 a[ADDR_STRLEN + 8], msg[ADDR_STRLEN + 16];
	uint32_t		 mark = 0;
	socklen_t		 sl;
	int			 fd, one = 1;

	fam = strtok(args, " ");
	addr = strtok(NULL, " ");
	port = strtok(NULL, " ");
	toaddr = strtok(NULL, " ");
	toport = strtok(NULL, " ");
	if (fam == NULL || addr == NULL || port == NULL ||
	    addr_parse(&src, addr, (size_t)-1, 0, (uint16_t)atoi(port)) != 0) {
		printf("error: usage\n");
		return;
	}
	if ((fd = socket(addr_af(src.family), SOCK_DGRAM | SOCK_CLOEXEC,
	    0)) < 0) {
		printf("error: socket: %s\n", strerror(errno));
		return;
	}
	if (src.family == ADDR_V6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (fw_udp_reply_socket(fw, fd, &src) != 0) {
		printf("error: %s\n", strerror(errno));
		close(fd);
		return;
	}
	sl = sizeof(mark);
	(void)getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &sl);
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    addr_from_sockaddr(&to, (struct sockaddr *)&ss, sl) != 0)
		snprintf(a, sizeof(a), "?");
	else
		addr_format(&to, true, a, sizeof(a));
	printf("usock %s mark 0x%08x: ", a, (unsigned int)mark);
	if (toaddr == NULL) {
		printf("no send\n");
		goto out;
	}
	if (strcmp(toaddr, "peer") == 0)
		to = ulastpeer;
	else if (toport == NULL || addr_parse(&to, toaddr, (size_t)-1, 0,
	    (uint16_t)atoi(toport)) != 0) {
		printf("error: bad destination\n");
		goto out;
	}
	snprintf(msg, sizeof(msg), "REPLY %s", a);
	if ((sl = addr_to_sockaddr(&to, &ss)) == 0 ||
	    sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&ss, sl) < 0)
		printf("error: send: %s\n", strerror(errno));
	else
		printf("sent\n");
 out:
	close(fd);
}

/* uspoof SRC DST PORT: what a transparent socket could send. */
static void
udp_spoof(char *args)
{
	struct sockaddr_in	 to;
	struct in_pktinfo	*pi;
	struct msghdr		 msg;
	struct cmsghdr		*cm;
	struct iovec		 iov;
	char			 cbuf[CMSG_SPACE(sizeof(*pi))], *src, *dst, *port;

	src = strtok(args, " ");
	dst = strtok(NULL, " ");
	port = strtok(NULL, " ");
	memset(&to, 0, sizeof(to));
	memset(cbuf, 0, sizeof(cbuf));
	to.sin_family = AF_INET;
	if (ufd[0] < 0 || src == NULL || dst == NULL || port == NULL ||
	    inet_pton(AF_INET, dst, &to.sin_addr) != 1) {
		printf("error: usage\n");
		return;
	}
	to.sin_port = htons((uint16_t)atoi(port));
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)"spoof";
	iov.iov_len = 5;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_name = &to;
	msg.msg_namelen = sizeof(to);
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(*pi));
	pi = (struct in_pktinfo *)CMSG_DATA(cm);
	if (inet_pton(AF_INET, src, &pi->ipi_spec_dst) != 1) {
		printf("error: usage\n");
		return;
	}
	if (sendmsg(ufd[0], &msg, 0) < 0)
		printf("error: send: %s\n", strerror(errno));
	else
		printf("sent\n");
}

/* The redirect listeners, made once: later series cannot change them. */
static int
listeners(void)
{
	int	n = 0;

	if (lfd[0] < 0 && lfd[1] < 0) {
		if (want4 && (lfd[0] = serve_open(&laddr4, want_port,
		    SOCK_STREAM, false)) < 0)
			return -1;
		if (want6 && (lfd[1] = serve_open(&laddr6, want_port,
		    SOCK_STREAM, false)) < 0)
			return -1;
	}
	if (want_udp && ufd[0] < 0 && ufd[1] < 0) {
		if (lfd[0] >= 0 && udp_open(&laddr4, want_port, &ufd[0]) < 0)
			return -1;
		if (lfd[1] >= 0 && udp_open(&laddr6, want_port, &ufd[1]) < 0)
			return -1;
	}
	if (lfd[0] >= 0)
		cfg.listen_fd[n++] = lfd[0];
	if (lfd[1] >= 0)
		cfg.listen_fd[n++] = lfd[1];
	cfg.nlisten = n;
	n = 0;
	if (ufd[0] >= 0)
		cfg.udp_fd[n++] = ufd[0];
	if (ufd[1] >= 0)
		cfg.udp_fd[n++] = ufd[1];
	cfg.nudp = n;
	cfg.port = want_port;
	cfg.ipv4 = lfd[0] >= 0;
	cfg.ipv6 = lfd[1] >= 0;
	return 0;
}

/* Wait up to ms for events on fd: 0 when they came. */
static int
wait_fd(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	while ((r = poll(&pfd, 1, ms)) < 0 && errno == EINTR)
		;
	if (r == 0)
		errno = ETIMEDOUT;
	return r > 0 ? 0 : -1;
}

/* "4|6 udp|tcp ADDR PORT": one exchange through a marked socket. */
static void
marked_socket(struct fw *fw, char *args)
{
	struct sockaddr_storage ss;
	char *fam, *proto, *addr, *port, reply[256];
	socklen_t sl;
	uint32_t mark = 0;
	ssize_t n;
	int fd, af, type, e, fl, fdfl;

	fam = strtok(args, " ");
	proto = strtok(NULL, " ");
	addr = strtok(NULL, " ");
	port = strtok(NULL, " ");
	if (fam == NULL || proto == NULL) {
		printf("error: usage\n");
		return;
	}
	af = strcmp(fam, "6") == 0 ? AF_INET6 : AF_INET;
	type = strcmp(proto, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
	if ((fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		printf("error: socket: %s\n", strerror(errno));
		return;
	}
	if (fw_mark_socket(fw, fd) != 0) {
		printf("error: %s\n", strerror(errno));
		close(fd);
		return;
	}
	sl = sizeof(mark);
	(void)getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &sl);
	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	printf("msock mark 0x%08x%s%s: ", (unsigned int)mark,
	    fl >= 0 && (fl & O_NONBLOCK) ? " nonblock" : "",
	    fdfl >= 0 && (fdfl & FD_CLOEXEC) ? " cloexec" : "");
	if (addr == NULL || port == NULL) {
		printf("no exchange\n");
		goto out;
	}
	memset(&ss, 0, sizeof(ss));
	if (af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(port));
		e = inet_pton(AF_INET, addr, &sin->sin_addr);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)atoi(port));
		e = inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		sl = sizeof(*sin6);
	}
	if (e != 1) {
		printf("error: bad address\n");
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0 &&
	    errno != EINPROGRESS) {
		printf("error: connect: %s\n", strerror(errno));
		goto out;
	}
	if (type == SOCK_STREAM) {
		sl = sizeof(e);
		if (wait_fd(fd, POLLOUT, 3000) != 0 || getsockopt(fd,
		    SOL_SOCKET, SO_ERROR, &e, &sl) != 0 || (errno = e) != 0) {
			printf("error: connect: %s\n", strerror(errno));
			goto out;
		}
	} else if (send(fd, "ping\n", 5, 0) != 5) {
		printf("error: send: %s\n", strerror(errno));
		goto out;
	}
	if (wait_fd(fd, POLLIN, 3000) != 0 ||
	    (n = recv(fd, reply, sizeof(reply) - 1, 0)) < 0) {
		printf("error: recv: %s\n", strerror(errno));
		goto out;
	}
	reply[n] = '\0';
	reply[strcspn(reply, "\r\n")] = '\0';
	printf("%s\n", reply);
 out:
	close(fd);
}

static const char *
helper_state(const struct fw *fw)
{
	struct pollfd pfd;

	pfd.fd = fw_fd(fw);
	pfd.events = POLLIN;
	if (pfd.fd < 0)
		return "dead";
	/* The helper never speaks unasked: readable means EOF. */
	return poll(&pfd, 1, 0) == 0 ? "alive" : "dead";
}

/* The commands that only build the config; false for any other. */
static bool
config_command(const char *cmd, char *args)
{
	struct addr	a;
	int		r = 0;

	if (strcmp(cmd, "port") == 0)
		want_port = (uint16_t)atoi(args);
	else if (strcmp(cmd, "fam") == 0) {
		want4 = strchr(args, '4') != NULL;
		want6 = strchr(args, '6') != NULL;
	} else if (strcmp(cmd, "laddr") == 0) {
		if ((r = addr_parse(&a, args, (size_t)-1, 0, 0)) == 0)
			*(a.family == ADDR_V4 ? &laddr4 : &laddr6) = a;
	} else if (strcmp(cmd, "prerouting") == 0)
		cfg.prerouting = atoi(args) != 0;
	else if (strcmp(cmd, "allow") == 0)
		r = add_allow(args);
	else if (strcmp(cmd, "exempt") == 0)
		r = add_exempt(args);
	else if (strcmp(cmd, "inc") == 0 || strcmp(cmd, "exc") == 0)
		r = add_subnet(args, cmd[0] == 'e');
	else if (strcmp(cmd, "dns") == 0)
		r = add_dns(args);
	else if (strcmp(cmd, "leaks") == 0)
		cfg.block_leaks = atoi(args) != 0;
	else if (strcmp(cmd, "udp") == 0)
		want_udp = true;
	else if (strcmp(cmd, "tmark") == 0)
		cfg.tmark = (uint32_t)strtoul(args, NULL, 0);
	else if (strcmp(cmd, "scope") == 0)
		cfg.host_wide = strcmp(args, "host") == 0;
	else if (strcmp(cmd, "user") == 0) {
		cfg.host_wide = false;
		cfg.has_user = true;
		cfg.user = (uid_t)atol(args);
	} else if (strcmp(cmd, "group") == 0) {
		cfg.host_wide = false;
		cfg.has_group = true;
		cfg.group = (gid_t)atol(args);
	} else if (strcmp(cmd, "clear") == 0)
		config_clear();
	else
		return false;
	printf("%s\n", r == 0 ? "ok" : "error: bad arguments");
	return true;
}

int
main(int argc, char **argv)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 };
	struct fw *fw = NULL;
	char line[512], err[512], self[PATH_MAX], *args;
	ssize_t n;
	int i, verbose = 0;
	bool helper = false;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--firewall") == 0)
			helper = true;
		else if (strcmp(argv[i], "-v") == 0)
			verbose++;
		else {
			fprintf(stderr, "usage: fw_drive [--firewall] [-v]...\n");
			return 2;
		}
	}
	if (helper)
		return fw_helper_main(STDIN_FILENO, STDOUT_FILENO, verbose,
		    false);

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0) {
		perror("readlink");
		return 1;
	}
	self[n] = '\0';
	setvbuf(stdout, NULL, _IOLBF, 0);
	addr_set(&laddr4, ADDR_V4, lo4, 0);
	addr_set(&laddr6, ADDR_V6, lo6, 0);
	config_clear();

	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		args = strchr(line, ' ');
		if (args != NULL)
			*args++ = '\0';
		else
			args = line + strlen(line);

		if (config_command(line, args))
			continue;
		if (strcmp(line, "start") == 0) {
			if (fw != NULL)
				printf("error: already started\n");
			else if ((fw = fw_start(self, verbose, err,
			    sizeof(err))) == NULL)
				printf("error: %s\n", err);
			else
				printf("started\n");
		} else if (strcmp(line, "caller") == 0) {
			printf("caller %ld\n", (long)fw_caller_uid(fw));
		} else if (strcmp(line, "mark") == 0) {
			printf("mark 0x%08x\n", (unsigned int)fw_mark(fw));
		} else if (strcmp(line, "msock") == 0) {
			marked_socket(fw, args);
		} else if (strcmp(line, "urecv") == 0) {
			udp_recv();
		} else if (strcmp(line, "uspoof") == 0) {
			udp_spoof(args);
		} else if (strcmp(line, "umark") == 0) {
			printf("umark");
			for (i = 0; i < 2; i++) {
				uint32_t m = 0;
				socklen_t ml = sizeof(m);

				if (ufd[i] >= 0 && getsockopt(ufd[i],
				    SOL_SOCKET, SO_MARK, &m, &ml) == 0)
					printf(" 0x%08x", (unsigned int)m);
			}
			printf("\n");
		} else if (strcmp(line, "usock") == 0) {
			udp_reply(fw, args);
		} else if (strcmp(line, "apply") == 0) {
			if (listeners() != 0)
				printf("error: cannot listen: %s\n",
				    strerror(errno));
			else if (fw_apply(fw, &cfg, err, sizeof(err)) != 0)
				printf("error: %s\n", err);
			else
				printf("applied\n");
		} else if (strcmp(line, "alive") == 0) {
			printf("%s\n", helper_state(fw));
		} else if (strcmp(line, "stop") == 0) {
			fw_stop(fw);
			fw = NULL;
			printf("stopped\n");
		} else if (strcmp(line, "quit") == 0) {
			break;
		} else
			printf("error: unknown command %s\n", line);
	}
	fw_stop(fw);
	return 0;
}
