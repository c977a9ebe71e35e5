/* SPDX-License-Identifier: ISC */
/*
 * test_clock.c - the one clock (common/clock.c): milliseconds that never
 * go back and do advance, and clock_remaining_ms() in the form poll()
 * takes (-1 for no deadline, 0 once passed, capped at INT32_MAX).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"

static void
test_monotonic(void **state)
{
	uint64_t	t0, t, prev;
	int		i;

	t0 = prev = clock_ms();
	for (i = 0; i < 100000; i++) {
		t = clock_ms();
		assert_true(t >= prev);
		prev = t;
	}
	usleep(30 * 1000);
	t = clock_ms();
	assert_true(t - t0 >= 30);
	assert_true(t - t0 < 60 * 1000);
}

static void
test_remaining(void **state)
{
	int64_t	now = (int64_t)clock_ms();
	int	left;

	assert_int_equal(clock_remaining_ms(-1), -1);
	assert_int_equal(clock_remaining_ms(INT64_MIN), -1);
	assert_int_equal(clock_remaining_ms(0), 0);
	assert_int_equal(clock_remaining_ms(now), 0);
	assert_int_equal(clock_remaining_ms(now - 1000), 0);
	left = clock_remaining_ms(now + 10000);
	assert_true(left > 0 && left <= 10000);
	assert_int_equal(clock_remaining_ms(now + (int64_t)INT32_MAX + 1000), INT32_MAX);
	assert_int_equal(clock_remaining_ms(INT64_MAX), INT32_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_monotonic),
		cmocka_unit_test(test_remaining),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
