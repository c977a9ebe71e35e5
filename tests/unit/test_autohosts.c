/* SPDX-License-Identifier: ISC */
/*
 * test_autohosts.c - which of the remote's host names -H uses
 * (autohosts_filter): only names for forwarded addresses, only valid
 * host names; and the report read from a HOSTS frame.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "autohosts.h"
#include "subnet.h"

static struct dns_local_host
t_host(const char *addr, const char *name)
{
	struct dns_local_host	h;

	assert_int_equal(addr_parse(&h.addr, addr, (size_t)-1, 0, 0), 0);
	h.name = name;
	return h;
}

static void
t_subnets(struct subnet_list *l, const char *const *inc, const char *const *exc)
{
	memset(l, 0, sizeof(*l));
	for (; inc != NULL && *inc != NULL; inc++)
		assert_int_equal(subnet_parse(l, *inc, false, false, NULL, 0), 0);
	for (; exc != NULL && *exc != NULL; exc++)
		assert_int_equal(subnet_parse(l, *exc, true, false, NULL, 0), 0);
}

static void
test_filter(void **state)
{
	static const char *const inc[] = { "198.19.0.0/16", "fd5e:0:0:2::/64",
	    "203.0.113.7:443", NULL };
	static const char *const exc[] = { "198.19.5.0/24", "198.19.6.6", NULL };
	struct dns_local_host	got[12], out[12];
	struct subnet_list	l;
	size_t			n;

	got[0] = t_host("198.19.0.2", "labpriv");		/* kept */
	got[1] = t_host("192.0.2.1", "elsewhere");		/* not forwarded */
	got[2] = t_host("198.19.5.9", "excluded");		/* inside an exclude */
	got[3] = t_host("fd5e:0:0:2::2", "labpriv");		/* kept */
	got[4] = t_host("fd5e:0:0:3::2", "v6-elsewhere");
	got[5] = t_host("198.19.0.3", "Upper");			/* not a host name */
	got[6] = t_host("198.19.0.4", "a..b");
	got[7] = t_host("198.19.0.5", "sp ace");
	got[8] = t_host("203.0.113.7", "web");			/* an include with a port */
	got[9] = t_host("198.19.6.6", "excluded-host");
	got[10] = t_host("198.19.6.7", "next-door");		/* kept */
	got[11] = t_host("127.0.0.1", "localhost-ish");
	t_subnets(&l, inc, exc);
	n = autohosts_filter(got, 12, &l, true, out, 12);
	assert_int_equal(n, 4);
	assert_string_equal(out[0].name, "labpriv");
	assert_int_equal(out[1].addr.family, ADDR_V6);
	assert_string_equal(out[2].name, "web");
	assert_string_equal(out[3].name, "next-door");
	/* Without IPv6, the IPv6 pair goes. */
	assert_int_equal(autohosts_filter(got, 12, &l, false, out, 12), 3);
	/* Bounded by max. */
	assert_int_equal(autohosts_filter(got, 12, &l, true, out, 2), 2);
	subnet_list_free(&l);

	/* An include more specific than an exclude wins; an equal one does
	 * not. */
	{
		static const char *const inc2[] = { "198.19.5.0/25", "198.19.6.0/24",
		    NULL };
		static const char *const exc2[] = { "198.19.0.0/16", "198.19.6.0/24",
		    NULL };

		t_subnets(&l, inc2, exc2);
		n = autohosts_filter(got, 12, &l, true, out, 12);
		assert_int_equal(n, 1);
		assert_string_equal(out[0].name, "excluded");
		subnet_list_free(&l);
	}
	/* No subnets: nothing. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(autohosts_filter(got, 12, &l, true, out, 12), 0);
}

/* A HOSTS frame becomes the report; each one replaces the last. */
static void
test_report(void **state)
{
	struct proto_host	 h[2];
	uint8_t			 b[256];
	struct proto_frame	 f;
	struct autohosts	*ah;
	int			 n;

	ah = calloc(1, sizeof(*ah));
	assert_non_null(ah);
	assert_int_equal(addr_parse(&h[0].addr, "198.19.0.2", (size_t)-1, 0, 0), 0);
	h[0].name = "labpriv";
	assert_int_equal(addr_parse(&h[1].addr, "fd5e:0:0:2::2", (size_t)-1, 0, 0), 0);
	h[1].name = "www.lab.internal";
	n = proto_put_hosts(b, sizeof(b), h, 2);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	autohosts_report(ah, &f);
	assert_int_equal(ah->ngot, 2);
	assert_string_equal(ah->got[0].name, "labpriv");
	assert_true(addr_equal(&ah->got[1].addr, &h[1].addr));
	assert_string_equal(ah->got[1].name, "www.lab.internal");
	autohosts_report(ah, NULL);
	assert_int_equal(ah->ngot, 0);
	free(ah);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
