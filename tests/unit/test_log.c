/* SPDX-License-Identifier: ISC */
/*
 * test_log.c - rate-limited logging (common/log.c, log_limited()): the
 * first line gets through, the next ones within the interval are kept
 * back and counted, the first one after it says how many; each limit
 * counts on its own; a level that is off neither logs nor counts.
 *
 * The interval is made to pass by moving the limit's `last` back, which
 * log.h documents as a clock_ms() value, so no test depends on how fast
 * the machine is; one waits for real.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "log.h"

#define MIN	60000	/* an interval no test run outlasts */

/* What was logged: "<level> <text>\n" per message. */
static char	logged[8192];
static int	nlogged;

static void
sink(enum log_level lvl, const char *msg)
{
	size_t	n = strlen(logged);

	snprintf(logged + n, sizeof(logged) - n, "%d %s\n", (int)lvl, msg);
	nlogged++;
}

static int
setup(void **state)
{
	logged[0] = '\0';
	nlogged = 0;
	log_init("test_log", 0);	/* info and above */
	log_set_sink(sink);
	return 0;
}

static int
teardown(void **state)
{
	log_set_sink(NULL);
	return 0;
}

/* Make the interval of ll pass. */
static void
expire(struct log_limit *ll, uint64_t interval_ms)
{
	ll->last = clock_ms() - interval_ms - 1;
}

static void
test_limited(void **state)
{
	struct log_limit	ll;
	char			want[512];
	uint64_t		before;

	memset(&ll, 0, sizeof(ll));
	before = clock_ms();
	log_limited(&ll, MIN, LOG_LVL_WARN, "server %s is dead", "a");
	snprintf(want, sizeof(want), "%d server a is dead\n", LOG_LVL_WARN);
	assert_string_equal(logged, want);
	assert_true(ll.last >= before && ll.last <= clock_ms());
	assert_int_equal(ll.skipped, 0);

	/* Within the interval: kept back, counted, `last` unchanged. */
	before = ll.last;
	log_limited(&ll, MIN, LOG_LVL_WARN, "server %s is dead", "b");
	log_limited(&ll, MIN, LOG_LVL_WARN, "server %s is dead", "c");
	log_limited(&ll, MIN, LOG_LVL_ERROR, "another text, same limit");
	assert_int_equal(nlogged, 1);
	assert_int_equal(ll.skipped, 3);
	assert_true(ll.last == before);

	/* After it: the next line says how many were kept back. */
	expire(&ll, MIN);
	log_limited(&ll, MIN, LOG_LVL_WARN, "server %s is dead", "d");
	snprintf(want + strlen(want), sizeof(want) - strlen(want),
	    "%d server d is dead (and 3 more like it)\n", LOG_LVL_WARN);
	assert_string_equal(logged, want);
	assert_int_equal(ll.skipped, 0);

	/* The count starts again: none kept back, none mentioned. */
	expire(&ll, MIN);
	log_limited(&ll, MIN, LOG_LVL_WARN, "quiet again");
	snprintf(want + strlen(want), sizeof(want) - strlen(want), "%d quiet again\n",
	    LOG_LVL_WARN);
	assert_string_equal(logged, want);
}

/* Each struct log_limit is a limit of its own. */
static void
test_limits_independent(void **state)
{
	struct log_limit	a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	log_limited(&a, MIN, LOG_LVL_WARN, "a1");
	log_limited(&b, MIN, LOG_LVL_WARN, "b1");
	log_limited(&a, MIN, LOG_LVL_WARN, "a2");
	log_limited(&a, MIN, LOG_LVL_WARN, "a3");
	log_limited(&b, MIN, LOG_LVL_WARN, "b2");
	assert_int_equal(nlogged, 2);
	assert_int_equal(a.skipped, 2);
	assert_int_equal(b.skipped, 1);
	expire(&b, MIN);
	log_limited(&b, MIN, LOG_LVL_WARN, "b3");
	assert_non_null(strstr(logged, "b3 (and 1 more like it)\n"));
	assert_int_equal(a.skipped, 2);
}

/* A level that is off: nothing logged, nothing counted, nothing armed. */
static void
test_limited_level_off(void **state)
{
	struct log_limit	ll;

	memset(&ll, 0, sizeof(ll));
	log_limited(&ll, MIN, LOG_LVL_DEBUG, "not shown");
	log_limited(&ll, MIN, LOG_LVL_DEBUG, "not shown");
	assert_int_equal(nlogged, 0);
	assert_int_equal(ll.skipped, 0);
	assert_true(ll.last == 0);
	/* So the first line at a level that is on gets through. */
	log_limited(&ll, MIN, LOG_LVL_INFO, "shown");
	assert_int_equal(nlogged, 1);
	/* -v turns debug on. */
	log_init(NULL, 1);
	expire(&ll, MIN);
	log_limited(&ll, MIN, LOG_LVL_DEBUG, "now shown");
	assert_int_equal(nlogged, 2);
}

/* A long message is cut, and the count still follows it. */
static void
test_limited_long(void **state)
{
	struct log_limit	ll;
	char			text[1000], *line;

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memset(&ll, 0, sizeof(ll));
	log_limited(&ll, MIN, LOG_LVL_WARN, "%s", text);
	log_limited(&ll, MIN, LOG_LVL_WARN, "%s", text);
	expire(&ll, MIN);
	log_limited(&ll, MIN, LOG_LVL_WARN, "%s", text);
	assert_int_equal(nlogged, 2);
	line = strchr(logged, '\n') + 1;
	assert_non_null(strstr(line, "x (and 1 more like it)\n"));
	assert_true(strlen(line) < 1024);
}

/* For real: after the interval has passed, the next line gets through. */
static void
test_limited_waits(void **state)
{
	struct log_limit	ll;

	memset(&ll, 0, sizeof(ll));
	log_limited(&ll, 20, LOG_LVL_WARN, "one");
	usleep(50 * 1000);
	log_limited(&ll, 20, LOG_LVL_WARN, "two");
	assert_int_equal(nlogged, 2);
	assert_null(strstr(logged, "more like it"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_independent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limited_level_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limited_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limited_waits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
