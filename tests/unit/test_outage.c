/* SPDX-License-Identifier: ISC */
/*
 * test_outage.c - the queue of connections that wait for a session: at
 * most 256, in arrival order, each for at most 30 s; the newcomer is
 * refused when it is full, the oldest expire first; and a reset really
 * is a reset (the peer sees ECONNRESET, not an orderly close).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "outage.h"

static struct addr
dst(uint16_t port)
{
	struct addr	d;

	memset(&d, 0, sizeof(d));
	d.family = ADDR_V4;
	d.bytes[0] = 10;
	d.port = port;
	return d;
}

static void
test_defaults(void **state)
{
	struct outage		q;
	struct outage_conn	c;
	struct addr		d = dst(1);
	int			i;

	(void)state;
	outage_init(&q, 0, 0);
	assert_int_equal(q.cap, OUTAGE_MAX_CONNS);
	assert_int_equal(q.wait_ms, OUTAGE_MAX_WAIT_MS);
	assert_int_equal(OUTAGE_MAX_CONNS, 256);
	assert_int_equal(OUTAGE_MAX_WAIT_MS, 30000);
	assert_int_equal(outage_next_deadline(&q), 0);
	assert_false(outage_pop(&q, &c));
	assert_false(outage_pop_expired(&q, UINT64_MAX, &c));
	/* 256 fit, the 257th does not and is counted. */
	for (i = 0; i < 256; i++)
		assert_int_equal(outage_push(&q, 100 + i, &d, 1000), 0);
	assert_int_equal(outage_len(&q), 256);
	assert_int_equal(outage_push(&q, 999, &d, 1000), -1);
	assert_int_equal(q.overflow, 1);
	assert_int_equal(outage_len(&q), 256);
	assert_int_equal(outage_next_deadline(&q), 31000);
	/* Oversized caps are clamped. */
	outage_init(&q, 100000, 5);
	assert_int_equal(q.cap, OUTAGE_MAX_CONNS);
	assert_int_equal(q.wait_ms, 5);
}

/* Arrival order out, destinations kept. */
static void
test_drain_order(void **state)
{
	struct outage		q;
	struct outage_conn	c;
	struct addr		d;
	int			i;

	(void)state;
	outage_init(&q, 4, 100);
	for (i = 0; i < 3; i++) {
		d = dst((uint16_t)(8000 + i));
		assert_int_equal(outage_push(&q, 10 + i, &d, (uint64_t)i), 0);
	}
	for (i = 0; i < 3; i++) {
		assert_true(outage_pop(&q, &c));
		assert_int_equal(c.fd, 10 + i);
		assert_int_equal(c.dst.port, 8000 + i);
		assert_int_equal(c.dst.bytes[0], 10);
		assert_int_equal(c.deadline, (uint64_t)i + 100);
	}
	assert_false(outage_pop(&q, &c));
	assert_int_equal(q.opened, 3);
	assert_int_equal(q.queued, 3);
}

/* The oldest expire first, exactly at their deadline, the others stay. */
static void
test_expiry(void **state)
{
	struct outage		q;
	struct outage_conn	c;
	struct addr		d = dst(80);

	(void)state;
	outage_init(&q, 8, 30000);
	assert_int_equal(outage_push(&q, 1, &d, 1000), 0);
	assert_int_equal(outage_push(&q, 2, &d, 2000), 0);
	assert_int_equal(outage_push(&q, 3, &d, 5000), 0);
	assert_int_equal(outage_next_deadline(&q), 31000);
	assert_false(outage_pop_expired(&q, 30999, &c));
	assert_true(outage_pop_expired(&q, 31000, &c));
	assert_int_equal(c.fd, 1);
	assert_false(outage_pop_expired(&q, 31000, &c));
	assert_int_equal(outage_next_deadline(&q), 32000);
	/* Late timer: everything due goes, in order. */
	assert_true(outage_pop_expired(&q, 40000, &c));
	assert_int_equal(c.fd, 2);
	assert_true(outage_pop_expired(&q, 40000, &c));
	assert_int_equal(c.fd, 3);
	assert_false(outage_pop_expired(&q, 40000, &c));
	assert_int_equal(q.expired, 3);
	assert_int_equal(outage_next_deadline(&q), 0);
}

/* The ring wraps around without losing order or entries. */
static void
test_wrap(void **state)
{
	struct outage		q;
	struct outage_conn	c;
	struct addr		d = dst(1);
	int			next_in = 0, next_out = 0, round, i;

	(void)state;
	outage_init(&q, 5, 10);
	for (round = 0; round < 50; round++) {
		/* Fill to 3 or 4, take out 2 or 3: the head moves around. */
		for (i = 0; i < 3 + round % 2 && outage_len(&q) < 5; i++)
			assert_int_equal(outage_push(&q, next_in++, &d, (uint64_t)round), 0);
		for (i = 0; i < 2 + round % 3 && outage_pop(&q, &c); i++)
			assert_int_equal(c.fd, next_out++);
	}
	while (outage_pop(&q, &c))
		assert_int_equal(c.fd, next_out++);
	assert_int_equal(next_in, next_out);
	/* Full again after all that: still exactly five. */
	for (i = 0; i < 5; i++)
		assert_int_equal(outage_push(&q, i, &d, 0), 0);
	assert_int_equal(outage_push(&q, 5, &d, 0), -1);
}

/* outage_reset(): the peer of a TCP connection sees a reset. */
static void
test_reset(void **state)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	char			c;
	int			l, a, b;

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((l = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	assert_true((b = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(b, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_true((a = accept(l, NULL, NULL)) >= 0);
	outage_reset(a);
	errno = 0;
	assert_int_equal(read(b, &c, 1), -1);
	assert_int_equal(errno, ECONNRESET);
	close(b);
	close(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_drain_order),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
