/* SPDX-License-Identifier: ISC */
/*
 * test_listen.c - only redirected connections are served: the check that
 * tells a connection made to the listener itself from a redirected one
 * (listen_is_direct), and listen_accepted() on a real connection to a
 * loopback listener, which nothing redirected: refused, with one warning
 * per interval however many come.
 */
#include <sys/socket.h>

#include <netinet/in.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_direct),
		cmocka_unit_test(test_accepted_direct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
