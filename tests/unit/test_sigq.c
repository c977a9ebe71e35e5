/* SPDX-License-Identifier: ISC */
/*
 * test_sigq.c - signals as a descriptor (common/sigq.h) through each way
 * this system has: signalfd (Linux) and the self-pipe (everywhere; the
 * one macOS and the BSDs use).  A signal sent to the process makes the descriptor readable
 * and comes out once, in order with the others; closing puts the old
 * handlers back and leaves the signals blocked; the pipe refuses a
 * second open (its handler is process-wide).
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sigq.h"

static void
t_mask(sigset_t *m)
{
	sigemptyset(m);
	sigaddset(m, SIGUSR1);
	sigaddset(m, SIGUSR2);
	assert_int_equal(sigprocmask(SIG_BLOCK, m, NULL), 0);
}

static void
t_wait(const struct sigq *q)
{
	struct pollfd	pfd = { q->fd, POLLIN, 0 };

	assert_int_equal(poll(&pfd, 1, 2000), 1);
}

static void
t_roundtrip(const char *name)
{
	struct sigq		q;
	struct sigaction	sa;
	sigset_t		m, cur;

	t_mask(&m);
	assert_int_equal(sigq_open(&q, &m, name), 0);
	assert_string_equal(sigq_name(&q), name);
	assert_int_equal(sigq_next(&q), 0);
	assert_int_equal(kill(getpid(), SIGUSR1), 0);
	t_wait(&q);
	assert_int_equal(sigq_next(&q), SIGUSR1);
	assert_int_equal(sigq_next(&q), 0);
	assert_int_equal(kill(getpid(), SIGUSR2), 0);
	t_wait(&q);
	assert_int_equal(sigq_next(&q), SIGUSR2);
	assert_int_equal(sigq_next(&q), 0);
	sigq_close(&q);
	/* The default handler again, the signals still blocked. */
	assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_DFL);
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &cur), 0);
	assert_int_equal(sigismember(&cur, SIGUSR1), 1);
}

#ifdef __linux__
static void
test_signalfd(void **state)
{
	t_roundtrip("signalfd");
}
#endif

static void
test_pipe(void **state)
{
	t_roundtrip("pipe");
}

static void
test_refusals(void **state)
{
	struct sigq	q, r;
	sigset_t	m, many;
	int		s;

	t_mask(&m);
	assert_int_equal(sigq_open(&q, &m, "no-such-way"), -ENOSYS);
	assert_int_equal(sigq_open(&q, &m, "pipe"), 0);
	assert_int_equal(sigq_open(&r, &m, "pipe"), -EBUSY);
	sigq_close(&q);
	assert_int_equal(sigq_open(&q, &m, "pipe"), 0);
	sigq_close(&q);
	sigemptyset(&many);
	for (s = 1; s <= SIGQ_MAX + 1; s++)
		sigaddset(&many, s);
	assert_int_equal(sigq_open(&q, &many, NULL), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef __linux__
		cmocka_unit_test(test_signalfd),	/* only Linux has it */
#endif
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
