/* SPDX-License-Identifier: ISC */
/*
 * test_listen.c - only redirected connections are served: the check that
 * tells a connection made to the listener itself from a redirected one
 * (listen_is_direct), and listen_accepted() on a real connection to a
 * loopback listener, which nothing redirected: refused, with one warning
 * per interval however many come.  And the listen addresses: several on
 * one port, a wildcard covering its family (listen_spec_add, listen_open).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "listen.h"
#include "log.h"
#include "sock.h"

static struct addr
ad(const char *s, uint16_t port)
{
	struct addr	a;

	assert_int_equal(addr_parse(&a, s, (size_t)-1, 0, port), 0);
	return a;
}

static void
test_is_direct(void **state)
{
	struct addr	lo = ad("127.0.0.1", 12300), lan = ad("192.168.7.1", 12300);
	struct addr	lo6 = ad("::1", 12300), o = ad("10.1.2.3", 80);
	struct addr	o2 = ad("10.1.2.3", 12300), o6 = ad("fd00::5", 443);
	struct addr	dns = ad("192.168.7.53", 53), other = ad("192.168.7.1", 22);
	struct addr	mapped = ad("::ffff:127.0.0.1", 12300);

	(void)state;
	/* Straight to the listener: the original destination is itself. */
	assert_true(listen_is_direct(&lo, &lo));
	assert_true(listen_is_direct(&lan, &lan));
	assert_true(listen_is_direct(&lo6, &lo6));
	/* Redirected: the destination was another host, whatever its port
	 * (the listener's own port number too). */
	assert_false(listen_is_direct(&o, &lo));
	assert_false(listen_is_direct(&o2, &lo));
	assert_false(listen_is_direct(&o6, &lo6));
	/* A captured nameserver: port 53, redirected to the DNS listener. */
	assert_false(listen_is_direct(&dns, &lan));
	/* Another port of the listener's address is not the listener. */
	assert_false(listen_is_direct(&other, &lan));
	/* IPv4-mapped is another family: the listeners are IPv6 only. */
	assert_false(listen_is_direct(&mapped, &lo));
}

static char	captured[8][512];
static int	ncaptured;

static void
capture(enum log_level lvl, const char *msg)
{
	if (lvl != LOG_LVL_WARN || ncaptured == 8)
		return;
	snprintf(captured[ncaptured++], sizeof(captured[0]), "%s", msg);
}

/* Connect to a listener on 127.0.0.1 and accept: the accepted socket. */
static int
connect_direct(int lfd, int *cfd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	int			fd;

	assert_int_equal(getsockname(lfd, (struct sockaddr *)&ss, &len), 0);
	*cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(*cfd >= 0);
	assert_int_equal(connect(*cfd, (struct sockaddr *)&ss, len), 0);
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		usleep(1000);
	}
}

static void
test_accepted_direct(void **state)
{
	struct log_limit	ll;
	struct addr		lo = ad("127.0.0.1", 0), dst;
	int			lfd, cfd, fd, i;

	(void)state;
	memset(&ll, 0, sizeof(ll));
	ncaptured = 0;
	log_init("test_listen", -1);
	log_set_sink(capture);
	assert_int_equal(sock_listen(&lo, SOCK_STREAM, 16, &lfd), 0);
	/*
	 * Nothing redirected this connection: conntrack has either no entry
	 * (ENOENT) or one whose original destination is the listener
	 * itself, or is not there at all.  Refused in every case.
	 */
	for (i = 0; i < 3; i++) {
		fd = connect_direct(lfd, &cfd);
		assert_int_equal(listen_accepted(fd, &dst, &ll, false), -1);
		close(fd);
		close(cfd);
	}
	fd = connect_direct(lfd, &cfd);
	assert_int_equal(listen_accepted(fd, &dst, &ll, true), -1);
	close(fd);
	close(cfd);
	close(lfd);
	log_set_sink(NULL);
	/* Without conntrack in this namespace the kernel cannot say (a
	 * debug line, no warning); with it, one warning for all three. */
	assert_true(ncaptured <= 1);
	if (ncaptured == 1)
		assert_non_null(strstr(captured[0], "refused a connection from "
		    "127.0.0.1 to the listener itself: only redirected connections "
		    "are tunnelled"));
}

/* Duplicates and the addresses a wildcard covers are dropped. */
static void
test_spec_add(void **state)
{
	struct listen_spec	sp;
	struct addr		a;
	int			i;

	memset(&sp, 0, sizeof(sp));
	a = ad("127.0.0.1", 5);
	assert_int_equal(listen_spec_add(&sp, &a), 0);
	assert_int_equal(sp.addr[0].port, 0);
	a = ad("127.0.0.1", 0);
	assert_int_equal(listen_spec_add(&sp, &a), 0);
	a = ad("::1", 0);
	assert_int_equal(listen_spec_add(&sp, &a), 0);
	a = ad("10.0.0.1", 0);
	assert_int_equal(listen_spec_add(&sp, &a), 0);
	assert_int_equal(sp.n, 3);
	/* 0.0.0.0 takes the place of every IPv4 address, not of ::1. */
	a = ad("0.0.0.0", 0);
	assert_int_equal(listen_spec_add(&sp, &a), 0);
	assert_int_equal(sp.n, 2);
	assert_int_equal(sp.addr[0].family, ADDR_V6);
	assert_true(addr_is_any(&sp.addr[1]));
	a = ad("192.168.1.1", 0);
	assert_int_equal(listen_spec_add(&sp, &a), 0);
	assert_int_equal(sp.n, 2);
	/* Full. */
	memset(&sp, 0, sizeof(sp));
	for (i = 0; i < LISTEN_MAX; i++) {
		a = ad("127.0.0.1", 0);
		a.bytes[3] = (uint8_t)(i + 1);
		assert_int_equal(listen_spec_add(&sp, &a), 0);
	}
	a = ad("127.0.0.100", 0);
	assert_int_equal(listen_spec_add(&sp, &a), -1);
}

/* Several addresses share the one port; with port 0, the first from
 * LISTEN_DEFAULT_PORT on which every address binds. */
static void
test_open_several(void **state)
{
	struct listen_spec	sp;
	struct listen_socks	ls, ls2;
	struct addr		a;
	char			err[256];
	socklen_t		len;
	int			i, fd, cfd, nodelay = 0;

	memset(&sp, 0, sizeof(sp));
	a = ad("127.0.0.1", 0);
	(void)listen_spec_add(&sp, &a);
	a = ad("127.0.0.2", 0);
	(void)listen_spec_add(&sp, &a);
	memset(&ls, 0, sizeof(ls));
	if (listen_open(&sp, &ls, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(ls.n, 2);
	assert_true(ls.port >= LISTEN_DEFAULT_PORT);
	for (i = 0; i < ls.n; i++)
		assert_int_equal(ls.addr[i].port, ls.port);
	assert_true(listen_has(&ls, ADDR_V4));
	/* What they accept has TCP_NODELAY already (set on the listener). */
	fd = connect_direct(ls.fd[0], &cfd);
	len = sizeof(nodelay);
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
	assert_int_equal(nodelay, 1);
	close(fd);
	close(cfd);
	/* Another tunnel on 127.0.0.2 alone moves on to the next port. */
	memset(&sp, 0, sizeof(sp));
	a = ad("127.0.0.2", 0);
	(void)listen_spec_add(&sp, &a);
	memset(&ls2, 0, sizeof(ls2));
	if (listen_open(&sp, &ls2, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_not_equal(ls2.port, ls.port);
	listen_close(&ls2);
	/* A given port that is taken is an error. */
	sp.port = ls.port;
	assert_int_equal(listen_open(&sp, &ls2, err, sizeof(err)), -1);
	listen_close(&ls2);
	assert_int_equal(ls2.n, 0);
	listen_close(&ls);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_direct),
		cmocka_unit_test(test_accepted_direct),
		cmocka_unit_test(test_spec_add),
		cmocka_unit_test(test_open_several),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
