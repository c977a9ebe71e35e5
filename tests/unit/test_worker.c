/* SPDX-License-Identifier: ISC */
/*
 * test_worker.c - one job off the loop (client/worker.h): its end makes
 * the wake descriptor readable and worker_collect() joins it;
 * worker_join() waits at most its grace for a job that is still busy,
 * says so, and joins one that ends within it.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "worker.h"

static void
t_sleep(void *arg)
{
	int		ms = *(int *)arg;
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
test_collect(void **state)
{
	struct worker	w;
	struct pollfd	pfd;
	int		ms = 10;

	assert_int_equal(worker_init(&w), 0);
	assert_int_equal(worker_collect(&w), -1);	/* nothing ran */
	assert_int_equal(worker_start(&w, t_sleep, &ms), 0);
	assert_true(worker_running(&w));
	assert_int_equal(worker_start(&w, t_sleep, &ms), -1);	/* one at a time */
	pfd.fd = worker_fd(&w);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(worker_collect(&w), 0);
	assert_false(worker_running(&w));
	assert_int_equal(poll(&pfd, 1, 0), 0);		/* quiet again */
	worker_destroy(&w);
}

static void
test_join_bounded(void **state)
{
	struct worker	w;
	uint64_t	t0;
	int		ms = 400;

	assert_int_equal(worker_init(&w), 0);
	assert_int_equal(worker_start(&w, t_sleep, &ms), 0);
	t0 = clock_ms();
	assert_false(worker_join(&w, 50));
	assert_true(clock_ms() - t0 >= 40);
	assert_true(worker_running(&w));
	assert_true(worker_join(&w, 5000));
	assert_false(worker_running(&w));
	assert_true(worker_join(&w, 0));		/* nothing left to join */
	worker_destroy(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collect),
		cmocka_unit_test(test_join_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
