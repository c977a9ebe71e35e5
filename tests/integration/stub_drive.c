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
 * namespace (`unshare -n`), as ctest does.  The DNS forwarder's checks
 * are in stub_drive_dns.c, the UDP flows' in stub_drive_udp.c.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
#include <unistd.h>

#include "proto.h"
#include "stub_drive.h"

/* Descriptors the stub may need: its 4096 UDP flows and the rest. */
#define DRV_NOFILE	8192

static int	drv_fd = -1;
static uint8_t	drv_in[1 << 20];
static size_t	drv_in_len;
static uint32_t	drv_stub_window;	/* credit the stub grants per stream */

void
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

int
drv_link(void)
{
	return drv_fd;
}

void
drv_ok(const char *what)
{
	printf("ok: %s\n", what);
}

void
drv_send(const uint8_t *p, int n)
{
	if (n < 0 || write(drv_fd, p, (size_t)n) != n)
		drv_fatal("write to stub: %s", strerror(errno));
}

/* Next frame from the stub within timeout_ms; returns 0 on EOF. */
int
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

void
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

pid_t
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
void
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

int
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
	/* DNS and UDP: the driver sends DNS_CONFIG, queries and datagrams,
	 * which needs the features in both HELLOs. */
	struct proto_hello	h = { PROTO_VERSION, PROTO_ROLE_CLIENT,
	    PROTO_FEAT_DNS | PROTO_FEAT_UDP, 65536 };
	uint8_t			b[64];

	drv_expect(f, copy, PROTO_HELLO, 0);
	if (f->u.hello.role != PROTO_ROLE_STUB)
		drv_fatal("HELLO role %u", f->u.hello.role);
	if (!(f->u.hello.features & PROTO_FEAT_DNS))
		drv_fatal("the stub's HELLO lacks the DNS feature bit");
	if (!(f->u.hello.features & PROTO_FEAT_UDP))
		drv_fatal("the stub's HELLO lacks the UDP feature bit");
	drv_stub_window = f->u.hello.window;
	drv_send(b, proto_put_hello(b, sizeof(b), &h));
}

/* Descriptors the process holds (qemu's own included: they are stable). */
int
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
	struct rlimit		rl;

	if (argc < 2) {
		fprintf(stderr, "usage: stub_drive STUB [WRAPPER...]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* The UDP checks fill the stub's 4096 flows, a socket each: the
	 * stub inherits this limit (and raises its soft limit to it). */
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		drv_fatal("getrlimit: %s", strerror(errno));
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < DRV_NOFILE) {
		rl.rlim_cur = rl.rlim_max = DRV_NOFILE;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			drv_fatal("cannot raise RLIMIT_NOFILE to %d for the UDP flow limit: %s",
			    DRV_NOFILE, strerror(errno));
	}
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
	drv_udp_checks(&f, copy, stub, fds);

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

	/* UDP_DROP goes only from the stub to the client. */
	drv_copy(argv[1], tmpl);
	stub = drv_start_stub(sargv, tmpl);
	drv_hello(&f, copy);
	memset(&o, 0, sizeof(o));
	addr_set(&o.dst, ADDR_V4, "\x7f\0\0\x01", closed_port);
	drv_send(b, proto_put_udp_drop(b, sizeof(b), 1, &o.dst, PROTO_UDP_DROP_UNREACH));
	drv_expect(&f, copy, PROTO_ERROR, 0);
	while (drv_recv(&f, 10000, copy))
		;
	if ((status = drv_wait(stub)) != 1)
		drv_fatal("stub exit status %d after UDP_DROP from the client, want 1", status);
	drv_ok("UDP_DROP from the client ends the session with ERROR and exit 1");
	close(drv_fd);

	drv_resume_checks(argv[1], tmpl, sargv, echo_port);

	kill(echo, SIGTERM);
	waitpid(echo, &status, 0);
	kill(dns, SIGTERM);
	waitpid(dns, &status, 0);
	unlink(tmpl);
	printf("stub_drive: all checks passed\n");
	return 0;
}
