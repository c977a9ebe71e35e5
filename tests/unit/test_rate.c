/* SPDX-License-Identifier: ISC */
/*
 * test_rate.c - rates from counter deltas (client/rate.c): the window,
 * a fading burst, an idle link, a counter that starts again.
 */
#include <stdint.h>

#include "rate.h"
#include "testutil.h"

static void
test_rate_steady(void **state)
{
	struct rate	r;
	uint64_t	in, out;
	int		i;

	(void)state;
	rate_init(&r);
	rate_get(&r, 0, &in, &out);
	assert_int_equal(in, 0);
	rate_sample(&r, 1000, 0, 0);
	rate_get(&r, 1000, &in, &out);
	assert_int_equal(in, 0);	/* one sample: no rate yet */
	/* 1 MB/s in, 10 kB/s out, sampled every second. */
	for (i = 1; i <= 10; i++)
		rate_sample(&r, 1000 + 1000 * (uint64_t)i, 1000000 * (uint64_t)i,
		    10000 * (uint64_t)i);
	rate_get(&r, 11000, &in, &out);
	assert_int_equal(in, 1000000);
	assert_int_equal(out, 10000);
}

static void
test_rate_burst_fades(void **state)
{
	struct rate	r;
	uint64_t	in, out;

	(void)state;
	rate_init(&r);
	rate_sample(&r, 0, 0, 0);
	rate_sample(&r, 1000, 3000000, 0);	/* 3 MB in one second */
	rate_get(&r, 1000, &in, &out);
	assert_int_equal(in, 3000000);
	/* Then nothing: the burst averages out over the window, then
	 * leaves it. */
	rate_sample(&r, 2000, 3000000, 0);
	rate_sample(&r, 3000, 3000000, 0);
	rate_get(&r, 3000, &in, &out);
	assert_int_equal(in, 1000000);
	rate_sample(&r, 4000, 3000000, 0);
	rate_sample(&r, 5000, 3000000, 0);
	rate_get(&r, 5000, &in, &out);
	assert_int_equal(in, 0);
}

static void
test_rate_stale(void **state)
{
	struct rate	r;
	uint64_t	in, out;

	(void)state;
	rate_init(&r);
	rate_sample(&r, 0, 0, 0);
	rate_sample(&r, 1000, 1000, 2000);
	rate_get(&r, 1500, &in, &out);
	assert_int_equal(in, 1000);
	assert_int_equal(out, 2000);
	/* Nobody sampled for a long time: no rate, rather than an old one. */
	rate_get(&r, 60000, &in, &out);
	assert_int_equal(in, 0);
	assert_int_equal(out, 0);
	/* Samples out of the window are not used. */
	rate_sample(&r, 60000, 5000, 2000);
	rate_get(&r, 60000, &in, &out);
	assert_int_equal(in, 0);
	rate_sample(&r, 60500, 5500, 2000);
	rate_get(&r, 60500, &in, &out);
	assert_int_equal(in, 1000);
}

static void
test_rate_restart(void **state)
{
	struct rate	r;
	uint64_t	in, out;

	(void)state;
	rate_init(&r);
	rate_sample(&r, 0, 5000, 5000);
	rate_sample(&r, 1000, 6000, 6000);
	/* A counter went back: the window starts again, nothing negative. */
	rate_sample(&r, 2000, 10, 6000);
	rate_get(&r, 2000, &in, &out);
	assert_int_equal(in, 0);
	assert_int_equal(out, 0);
	rate_sample(&r, 3000, 1010, 6500);
	rate_get(&r, 3000, &in, &out);
	assert_int_equal(in, 1000);
	assert_int_equal(out, 500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_steady),
		cmocka_unit_test(test_rate_burst_fades),
		cmocka_unit_test(test_rate_stale),
		cmocka_unit_test(test_rate_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
