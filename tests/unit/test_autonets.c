/* SPDX-License-Identifier: ISC */
/*
 * test_autonets.c - which of the remote's networks -N forwards
 * (autonets_filter), and the merged list the rules get.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "autonets.h"
#include "subnet.h"

/* One subnet from its text ("10.1.0.0/16"), every port. */
static struct subnet
t_net(const char *text)
{
	struct subnet_list	l;
	struct subnet		s;

	memset(&l, 0, sizeof(l));
	assert_int_equal(subnet_parse(&l, text, false, false, NULL, 0), 0);
	s = l.v[0];
	subnet_list_free(&l);
	return s;
}

static const char *
t_fmt(const struct subnet *s)
{
	static char	buf[64];

	return subnet_format(s, buf, sizeof(buf));
}

static void
test_filter(void **state)
{
	static const char *got_text[] = {
		"10.1.0.0/16",		/* kept */
		"0.0.0.0/0",		/* the default route */
		"::/0",
		"127.0.0.0/8",		/* loopback */
		"169.254.0.0/16",	/* link-local */
		"fe80::/64",
		"224.0.0.0/4",		/* multicast */
		"ff00::/8",
		"203.0.113.0/24",	/* holds the SSH server */
		"192.168.7.0/24",	/* our own LAN */
		"192.168.0.0/16",	/* holds our own LAN */
		"10.2.128.0/17",	/* inside an exclude */
		"10.3.0.0/16",		/* a user include already */
		"fd01::/64",		/* kept */
		"10.1.0.0/16",		/* again: once */
		"10.4.5.0/24",		/* holds an exclude: kept, the exclude wins */
		"198.51.100.7/32",	/* a host route: kept */
	};
	struct subnet		 got[32], own[2], out[32];
	struct subnet_list	 user;
	struct addr		 avoid;
	size_t			 i, n;

	for (i = 0; i < sizeof(got_text) / sizeof(got_text[0]); i++)
		got[i] = t_net(got_text[i]);
	own[0] = t_net("192.168.7.0/24");
	own[1] = t_net("127.0.0.0/8");
	addr_set(&avoid, ADDR_V4, "\xcb\x00\x71\x05", 22);
	memset(&user, 0, sizeof(user));
	assert_int_equal(subnet_parse(&user, "10.2.0.0/16", true, false, NULL, 0), 0);
	assert_int_equal(subnet_parse(&user, "10.3.0.0/16", false, false, NULL, 0), 0);
	assert_int_equal(subnet_parse(&user, "10.4.5.128/25", true, false, NULL, 0), 0);

	n = autonets_filter(got, i, &user, &avoid, 1, own, 2, true, out, 32);
	assert_int_equal(n, 4);
	assert_string_equal(t_fmt(&out[0]), "10.1.0.0/16");
	assert_string_equal(t_fmt(&out[1]), "fd01::/64");
	assert_string_equal(t_fmt(&out[2]), "10.4.5.0/24");
	assert_string_equal(t_fmt(&out[3]), "198.51.100.7/32");

	/* Without IPv6 redirected, no IPv6 network; and the limit holds. */
	n = autonets_filter(got, i, &user, &avoid, 1, own, 2, false, out, 32);
	assert_int_equal(n, 3);
	n = autonets_filter(got, i, &user, &avoid, 1, own, 2, true, out, 1);
	assert_int_equal(n, 1);
	/* Nothing given, nothing kept; no user list is fine. */
	assert_int_equal(autonets_filter(got, 0, NULL, NULL, 0, NULL, 0, true, out, 32), 0);
	n = autonets_filter(got, 1, NULL, NULL, 0, NULL, 0, true, out, 32);
	assert_int_equal(n, 1);
	subnet_list_free(&user);
}

/* The rules get the user's subnets followed by the chosen networks; a
 * merge that chooses the same says so. */
static void
test_merge(void **state)
{
	struct autonets		*an = calloc(1, sizeof(*an));
	struct subnet_list	 user;
	const struct subnet_list *l;
	bool			 changed;

	assert_non_null(an);
	memset(&user, 0, sizeof(user));
	assert_int_equal(subnet_parse(&user, "10.9.0.0/16", false, false, NULL, 0), 0);
	an->got[0] = t_net("10.1.0.0/16");
	an->got[1] = t_net("10.2.0.0/16");
	an->ngot = 2;

	l = autonets_merge(an, &user, NULL, 0, true, &changed);
	assert_non_null(l);
	assert_true(changed);
	assert_int_equal(l->n, 3);
	assert_string_equal(t_fmt(&l->v[0]), "10.9.0.0/16");
	assert_string_equal(t_fmt(&l->v[1]), "10.1.0.0/16");
	assert_string_equal(t_fmt(&l->v[2]), "10.2.0.0/16");
	autonets_commit(an);

	l = autonets_merge(an, &user, NULL, 0, true, &changed);
	assert_false(changed);
	autonets_commit(an);
	assert_int_equal(an->nused, 2);

	/* A merge that is not committed (the rules failed) changes nothing
	 * in place: the next one compares with what is. */
	an->ngot = 1;
	l = autonets_merge(an, &user, NULL, 0, true, &changed);
	assert_true(changed);
	an->ngot = 2;
	l = autonets_merge(an, &user, NULL, 0, true, &changed);
	assert_false(changed);
	assert_int_equal(an->nused, 2);

	/* A new report replaces the last one. */
	an->ngot = 1;
	l = autonets_merge(an, &user, NULL, 0, true, &changed);
	assert_true(changed);
	assert_int_equal(l->n, 2);
	/* The list in place is still whole until the commit. */
	assert_int_equal(an->merged[an->cur].n, 3);
	autonets_commit(an);
	assert_ptr_equal(&an->merged[an->cur], l);

	subnet_list_free(&user);
	autonets_free(an);
	free(an);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
