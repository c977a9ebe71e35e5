/* SPDX-License-Identifier: ISC */
/*
 * test_udp_flow.c - the client's table of UDP flows: found by local
 * address and by id, ids never reused, the maximum, and which flows are
 * idle (DNS-only flows sooner); how often the reply sockets ask the
 * helper.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "udp_flow.h"
#include "udp_reply.h"

static struct addr
t_addr(const char *text, uint16_t port)
{
	struct addr	a;

	assert_int_equal(addr_parse(&a, text, (size_t)-1, 0, 0), 0);
	a.port = port;
	return a;
}

static void
test_find(void **state)
{
	struct udp_flow_table	 t;
	struct addr		 a = t_addr("10.0.0.1", 5000), b = t_addr("10.0.0.1", 5001);
	struct addr		 c = t_addr("fd00::1", 5000);
	struct udp_flow		*fa, *fb, *fc;

	assert_int_equal(udp_flow_init(&t, 8), 0);
	assert_null(udp_flow_find(&t, &a));
	fa = udp_flow_add(&t, &a, 9000, 100);
	fb = udp_flow_add(&t, &b, 9000, 100);
	fc = udp_flow_add(&t, &c, 9000, 100);
	assert_non_null(fa);
	assert_non_null(fb);
	assert_non_null(fc);
	/* One flow per local socket: address and port, both families. */
	assert_ptr_equal(udp_flow_find(&t, &a), fa);
	assert_ptr_equal(udp_flow_find(&t, &b), fb);
	assert_ptr_equal(udp_flow_find(&t, &c), fc);
	assert_int_not_equal(fa->id, 0);
	assert_int_not_equal(fa->id, fb->id);
	assert_int_not_equal(fb->id, fc->id);
	assert_ptr_equal(udp_flow_by_id(&t, fb->id), fb);
	assert_null(udp_flow_by_id(&t, 12345));
	assert_int_equal(t.n, 3);
	udp_flow_fini(&t);
}

/* A closed flow's id is never given again, so that a frame of it that
 * crossed on the wire cannot reach a new flow. */
static void
test_ids_not_reused(void **state)
{
	struct udp_flow_table	 t;
	struct addr		 a = t_addr("10.0.0.1", 5000);
	struct udp_flow		*f;
	uint32_t		 id;

	assert_int_equal(udp_flow_init(&t, 2), 0);
	f = udp_flow_add(&t, &a, 9000, 0);
	id = f->id;
	udp_flow_remove(&t, f);
	assert_null(udp_flow_find(&t, &a));
	assert_null(udp_flow_by_id(&t, id));
	f = udp_flow_add(&t, &a, 9000, 0);
	assert_non_null(f);
	assert_true(f->id > id);
	/* A session ends: every flow goes, ids go on counting. */
	id = f->id;
	udp_flow_clear(&t);
	assert_int_equal(t.n, 0);
	f = udp_flow_add(&t, &a, 9000, 0);
	assert_true(f->id > id);
	udp_flow_fini(&t);
}

static void
test_maximum(void **state)
{
	struct udp_flow_table	 t;
	struct addr		 a, b;
	int			 i;

	assert_int_equal(udp_flow_init(&t, 3), 0);
	for (i = 0; i < 3; i++) {
		a = t_addr("10.0.0.1", (uint16_t)(6000 + i));
		assert_non_null(udp_flow_add(&t, &a, 9000, 0));
	}
	a = t_addr("10.0.0.1", 7000);
	assert_null(udp_flow_add(&t, &a, 9000, 0));
	assert_int_equal(t.n, 3);
	/* Room again once one goes. */
	b = t_addr("10.0.0.1", 6000);
	udp_flow_remove(&t, udp_flow_find(&t, &b));
	assert_non_null(udp_flow_add(&t, &a, 9000, 0));
	udp_flow_fini(&t);
}

/* Idle flows come out oldest first; a flow that only sent to port 53
 * times out sooner, until it sends anywhere else. */
static void
test_expiry(void **state)
{
	struct udp_flow_table	 t;
	struct addr		 a = t_addr("10.0.0.1", 5000), d = t_addr("10.0.0.1", 5353);
	struct addr		 b = t_addr("10.0.0.2", 5000);
	struct udp_flow		*fa, *fd, *fb;

	assert_int_equal(udp_flow_init(&t, 8), 0);
	fa = udp_flow_add(&t, &a, 443, 1000);
	fd = udp_flow_add(&t, &d, 53, 1000);
	fb = udp_flow_add(&t, &b, 53, 1000);
	assert_true(fd->dns_only);
	assert_false(fa->dns_only);
	/* b sends elsewhere later: no longer DNS-only. */
	udp_flow_touch(&t, fb, 4500, 2000);
	assert_false(fb->dns_only);
	/* Replies do not change it. */
	udp_flow_touch(&t, fd, 0, 1500);
	assert_true(fd->dns_only);
	assert_int_equal(udp_flow_next_expiry(&t, 60000, 10000), 11500);
	assert_null(udp_flow_expired(&t, 11499, 60000, 10000));
	assert_ptr_equal(udp_flow_expired(&t, 11500, 60000, 10000), fd);
	udp_flow_remove(&t, fd);
	assert_null(udp_flow_expired(&t, 60999, 60000, 10000));
	assert_ptr_equal(udp_flow_expired(&t, 61000, 60000, 10000), fa);
	udp_flow_remove(&t, fa);
	assert_null(udp_flow_expired(&t, 61999, 60000, 10000));
	assert_ptr_equal(udp_flow_expired(&t, 62000, 60000, 10000), fb);
	udp_flow_remove(&t, fb);
	assert_int_equal(udp_flow_next_expiry(&t, 60000, 10000), 0);
	udp_flow_fini(&t);
}

/* Many flows: every one found by both keys. */
static void
test_many(void **state)
{
	struct udp_flow_table	 t;
	struct addr		 a;
	struct udp_flow		*f;
	int			 i;

	assert_int_equal(udp_flow_init(&t, 5000), 0);
	for (i = 0; i < 5000; i++) {
		a = t_addr(i % 2 ? "10.0.0.1" : "fd00::1", (uint16_t)(1 + i));
		assert_non_null(udp_flow_add(&t, &a, 9000, (uint64_t)i));
	}
	for (i = 0; i < 5000; i++) {
		a = t_addr(i % 2 ? "10.0.0.1" : "fd00::1", (uint16_t)(1 + i));
		f = udp_flow_find(&t, &a);
		assert_non_null(f);
		assert_ptr_equal(udp_flow_by_id(&t, f->id), f);
	}
	udp_flow_fini(&t);
}

/*
 * Each new remote address and port the stub's datagrams come from is a
 * synchronous request to the helper, which paces an unprivileged caller:
 * a remote that names a new one in every datagram must not hold the
 * client in those requests.  Past the budget a datagram is dropped
 * without asking (here the helper is absent: every request fails, and
 * is counted).
 */
static void
test_reply_budget(void **state)
{
	struct udp_replies	r;
	struct addr		a;
	int			i;

	assert_int_equal(udp_reply_init(&r, NULL), 0);
	r.max = 4 * UDP_REPLY_ASK_MAX;
	for (i = 0; i < 3 * UDP_REPLY_ASK_MAX; i++) {
		a = t_addr("192.0.2.1", (uint16_t)(1 + i));
		assert_int_equal(udp_reply_fd(&r, &a, 1000), -1);
	}
	assert_int_equal(r.refused, UDP_REPLY_ASK_MAX);
	assert_int_equal(r.limited, 2 * UDP_REPLY_ASK_MAX);
	/* A refusal is remembered: no request again for it. */
	a = t_addr("192.0.2.1", 1);
	assert_int_equal(udp_reply_fd(&r, &a, 1000 + UDP_REPLY_ASK_MS), -1);
	assert_int_equal(r.refused, UDP_REPLY_ASK_MAX);
	/* The next period asks again. */
	a = t_addr("192.0.2.1", (uint16_t)(1 + 3 * UDP_REPLY_ASK_MAX));
	assert_int_equal(udp_reply_fd(&r, &a, 1000 + UDP_REPLY_ASK_MS), -1);
	assert_int_equal(r.refused, UDP_REPLY_ASK_MAX + 1);
	udp_reply_fini(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_ids_not_reused),
		cmocka_unit_test(test_maximum),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_reply_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
