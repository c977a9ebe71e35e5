/* SPDX-License-Identifier: ISC */
/*
 * test_dns_resolve.c - the blocking resolver without the network: the
 * only real lookup is of "localhost" (answered from /etc/hosts); numeric
 * addresses and impossible names never reach c-ares.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "dns_resolve.h"

static void
test_localhost(void **state)
{
	struct addr a[8];
	char err[128];
	size_t n;

	assert_int_equal(dns_resolve("localhost", AF_INET, 2000, a, 8, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].family, ADDR_V4);
	assert_memory_equal(a[0].bytes, "\x7f\x00\x00\x01", 4);
	assert_int_equal(a[0].port, 0);
	assert_int_equal(a[0].scope, 0);
}

/* Numeric addresses are answered without any lookup. */
static void
test_numeric(void **state)
{
	struct addr a[8];
	char err[128];
	size_t n;

	assert_int_equal(dns_resolve("192.0.2.7", AF_UNSPEC, 2000, a, 8, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(a[0].bytes, "\xc0\x00\x02\x07", 4);
	assert_int_equal(a[0].port, 0);
	assert_int_equal(dns_resolve("2001:db8::5", AF_UNSPEC, 2000, a, 8, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].family, ADDR_V6);
	assert_int_equal(a[0].bytes[15], 5);
	assert_int_equal(dns_resolve("2001:db8::5", AF_INET, 2000, a, 8, &n,
	    err, sizeof(err)), DNS_E_NOTFOUND);
	assert_int_equal(n, 0);
	assert_int_equal(dns_resolve("192.0.2.7", AF_INET6, 2000, a, 8, &n,
	    err, sizeof(err)), DNS_E_NOTFOUND);
}

/* Impossible names fail before c-ares sees them. */
static void
test_bad_names(void **state)
{
	struct addr a[8];
	char err[128], big[300];
	size_t n;

	assert_int_equal(dns_resolve("a b", AF_UNSPEC, 2000, a, 8, &n, err,
	    sizeof(err)), DNS_E_FAIL);
	assert_string_equal(err, "invalid host name");
	assert_int_equal(n, 0);
	assert_int_equal(dns_resolve("a..b", AF_UNSPEC, 2000, a, 8, &n, err,
	    sizeof(err)), DNS_E_FAIL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(dns_resolve(big, AF_UNSPEC, 2000, a, 8, &n, err,
	    sizeof(err)), DNS_E_FAIL);
	assert_int_equal(dns_resolve("localhost", 12345, 2000, a, 8, &n, err,
	    sizeof(err)), DNS_E_FAIL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_localhost),
		cmocka_unit_test(test_numeric),
		cmocka_unit_test(test_bad_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
