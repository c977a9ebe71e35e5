/* SPDX-License-Identifier: ISC */
/*
 * test_sysdep.c - the system-dependent calls (common/sysdep.h) in both
 * forms this build has: the system's own (accept4, pipe2, eventfd here)
 * and the portable one macOS uses (accept and fcntl, pipe and fcntl, a
 * pipe to wake).  Each must give the same descriptors: close-on-exec,
 * non-blocking where asked, and a wake that is readable once posted,
 * from another thread too, and quiet once cleared.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sysdep.h"

struct forms {
	int	(*socket)(int, int, int);
	int	(*accept)(int);
	int	(*pipe)(int[2], int);
	int	(*wake_open)(struct sysdep_wake *);
	void	(*wake_post)(const struct sysdep_wake *);
	bool	(*wake_clear)(const struct sysdep_wake *);
};

static const struct forms SYSTEM = { sysdep_socket, sysdep_accept, sysdep_pipe, sysdep_wake_open,
	sysdep_wake_post, sysdep_wake_clear };
static const struct forms POSIX = { sysdep_posix_socket, sysdep_posix_accept, sysdep_posix_pipe,
	sysdep_posix_wake_open, sysdep_posix_wake_post, sysdep_posix_wake_clear };

static void
t_flags(int fd, bool nonblock)
{
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0, nonblock);
}

static void
t_accept(const struct forms *f)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			l, c, a;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* The listener from the socket form: close-on-exec, non-blocking. */
	assert_true((l = f->socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	t_flags(l, true);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	/* Nothing waiting: EAGAIN, not a block. */
	assert_int_equal(f->accept(l), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	assert_true((c = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_true((a = f->accept(l)) >= 0);
	t_flags(a, true);
	close(a);
	close(c);
	close(l);
}

static void
t_pipe(const struct forms *f)
{
	int	p[2];

	assert_int_equal(f->pipe(p, 0), 0);
	t_flags(p[0], false);
	t_flags(p[1], false);
	close(p[0]);
	close(p[1]);
	assert_int_equal(f->pipe(p, SYSDEP_NONBLOCK), 0);
	t_flags(p[0], true);
	t_flags(p[1], true);
	assert_int_equal(write(p[1], "x", 1), 1);
	close(p[0]);
	close(p[1]);
}

static void *
t_poster(void *arg)
{
	const struct forms	**fw = arg;
	const struct sysdep_wake *w = (const struct sysdep_wake *)fw[1];

	fw[0]->wake_post(w);
	return NULL;
}

static bool
t_readable(int fd, int ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };

	return poll(&pfd, 1, ms) == 1;
}

static void
t_wake(const struct forms *f)
{
	struct sysdep_wake	 w;
	const void		*arg[2] = { f, &w };
	pthread_t		 th;

	assert_int_equal(f->wake_open(&w), 0);
	t_flags(w.rfd, true);
	assert_false(t_readable(w.rfd, 0));
	assert_false(f->wake_clear(&w));
	f->wake_post(&w);
	f->wake_post(&w);
	assert_true(t_readable(w.rfd, 0));
	assert_true(f->wake_clear(&w));
	assert_false(t_readable(w.rfd, 0));
	assert_int_equal(pthread_create(&th, NULL, t_poster, arg), 0);
	assert_true(t_readable(w.rfd, 2000));
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(f->wake_clear(&w));
	sysdep_wake_close(&w);
	assert_int_equal(w.rfd, -1);
}

static void
test_system_forms(void **state)
{
	t_accept(&SYSTEM);
	t_pipe(&SYSTEM);
	t_wake(&SYSTEM);
}

static void
test_posix_forms(void **state)
{
	t_accept(&POSIX);
	t_pipe(&POSIX);
	t_wake(&POSIX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system_forms),
		cmocka_unit_test(test_posix_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
