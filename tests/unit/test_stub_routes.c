/* SPDX-License-Identifier: ISC */
/*
 * test_stub_routes.c - the stub's route parsers (stub_routes.c) on /proc
 * text as the kernel writes it: which routes are kept, with what prefix,
 * and that nothing malformed gets through.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stub_routes.h"

/* /proc/net/route prints each address as the 32-bit integer holding it. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define A(le, be)	le
#else
#define A(le, be)	be
#endif

static void
t_expect(const struct stub_routes *r, size_t i, uint8_t family, const char *bytes,
    uint8_t prefix)
{
	struct addr	a;

	assert_true(i < r->n);
	addr_set(&a, family, bytes, 0);
	assert_true(addr_equal(&r->net[i], &a));
	assert_int_equal(r->prefix[i], prefix);
}

static void
test_v4(void **state)
{
	static const char text[] =
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask"
	    "\t\tMTU\tWindow\tIRTT                                                       \n"
	    /* default via 192.0.2.1: left out */
	    "eth0\t00000000\t" A("010200C0", "C0000201") "\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	    /* 192.0.2.0/24 dev eth0 */
	    "eth0\t" A("000200C0", "C0000200") "\t00000000\t0001\t0\t0\t0\t"
	    A("00FFFFFF", "FFFFFF00") "\t0\t0\t0\n"
	    /* 10.1.0.0/16 via 192.0.2.9 */
	    "eth0\t" A("0000010A", "0A010000") "\t" A("090200C0", "C0000209")
	    "\t0003\t0\t0\t100\t" A("0000FFFF", "FFFF0000") "\t0\t0\t0\n"
	    /* the same again (another metric): once */
	    "eth1\t" A("0000010A", "0A010000") "\t00000000\t0001\t0\t0\t200\t"
	    A("0000FFFF", "FFFF0000") "\t0\t0\t0\n"
	    /* a host route, 198.51.100.7/32 */
	    "tun0\t" A("076433C6", "C6336407") "\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0\n"
	    /* unreachable 10.9.0.0/16 (reject): left out */
	    "*\t" A("0000090A", "0A090000") "\t00000000\t0201\t0\t0\t0\t"
	    A("0000FFFF", "FFFF0000") "\t0\t0\t0\n"
	    /* down: left out */
	    "eth2\t" A("0000080A", "0A080000") "\t00000000\t0000\t0\t0\t0\t"
	    A("0000FFFF", "FFFF0000") "\t0\t0\t0\n"
	    /* on lo: left out */
	    "lo\t" A("0000070A", "0A070000") "\t00000000\t0001\t0\t0\t0\t"
	    A("0000FFFF", "FFFF0000") "\t0\t0\t0\n"
	    /* host bits the kernel would not show: cleared */
	    "eth3\t" A("0100060A", "0A060001") "\t00000000\t0001\t0\t0\t0\t"
	    A("0000FFFF", "FFFF0000") "\t0\t0\t0\n"
	    /* garbage */
	    "eth4\tzz\n"
	    "\n";
	struct stub_routes	*r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(stub_routes_parse_v4(r, text), 4);
	assert_int_equal(r->n, 4);
	t_expect(r, 0, ADDR_V4, "\xc0\x00\x02\x00", 24);
	t_expect(r, 1, ADDR_V4, "\x0a\x01\x00\x00", 16);
	t_expect(r, 2, ADDR_V4, "\xc6\x33\x64\x07", 32);
	t_expect(r, 3, ADDR_V4, "\x0a\x06\x00\x00", 16);
	/* Empty text, or a header alone: nothing. */
	assert_int_equal(stub_routes_parse_v4(r, ""), 0);
	assert_int_equal(stub_routes_parse_v4(r, "Iface\tDestination\n"), 0);
	free(r);
}

static void
test_v6(void **state)
{
	static const char text[] =
	    /* fd00:1::/64 dev eth0 */
	    "fd000001000000000000000000000000 40 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
	    /* 2001:db8:5::/48 via a gateway */
	    "20010db8000500000000000000000000 30 00000000000000000000000000000000 00 "
	    "fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n"
	    /* link-local: kept here, the client refuses it */
	    "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
	    /* default: left out */
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n"
	    /* a local address (local table): left out */
	    "fd000001000000000000000000000001 80 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000000 00000002 00000000 80200001     eth0\n"
	    /* anycast: left out */
	    "fd000001000000000000000000000000 80 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000000 00000002 00000000 00100001     eth0\n"
	    /* unreachable (reject, on lo): left out */
	    "fd090000000000000000000000000000 40 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000400 00000001 00000000 00200201       lo\n"
	    /* source-specific: left out */
	    "fd0a0000000000000000000000000000 40 fd0b0000000000000000000000000000 40 "
	    "00000000000000000000000000000000 00000400 00000001 00000000 00000001     eth0\n"
	    /* a short address and a bad prefix: left out */
	    "fd0c 40 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000400 00000001 00000000 00000001     eth0\n"
	    "fd0d0000000000000000000000000000 81 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000400 00000001 00000000 00000001     eth0\n"
	    /* the first again: once */
	    "fd000001000000000000000000000000 40 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth1";
	struct stub_routes	*r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(stub_routes_parse_v6(r, text), 3);
	t_expect(r, 0, ADDR_V6, "\xfd\x00\x00\x01\0\0\0\0\0\0\0\0\0\0\0\0", 64);
	t_expect(r, 1, ADDR_V6, "\x20\x01\x0d\xb8\x00\x05\0\0\0\0\0\0\0\0\0\0", 48);
	t_expect(r, 2, ADDR_V6, "\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 64);
	free(r);
}

/* At most PROTO_ROUTES_MAX, and the frame takes them all. */
static void
test_limit(void **state)
{
	struct stub_routes	*r = calloc(1, sizeof(*r));
	char			 line[256];
	size_t			 i;

	assert_non_null(r);
	for (i = 0; i < PROTO_ROUTES_MAX + 10; i++) {
		snprintf(line, sizeof(line), "fd00%04zx000000000000000000000000 40 "
		    "00000000000000000000000000000000 00 00000000000000000000000000000000 "
		    "00000100 00000001 00000000 00000001 eth0\n", i);
		(void)stub_routes_parse_v6(r, line);
	}
	assert_int_equal(r->n, PROTO_ROUTES_MAX);
	free(r);
}

/* The fields are split at blanks by hand: hex fields of 1-8 digits,
 * either case; a line with a field missing or not hex is left out. */
static void
test_fields(void **state)
{
	static const char v4[] =
	    "Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT\n"
	    /* 10.2.0.0/16, lower-case digits, spaces and tabs mixed */
	    " eth0 \t" A("0000020a", "0a020000") "  0 1\t0 0 0 " A("0000ffff", "ffff0000") "\n"
	    /* a mask of 9 digits, a flag that is not hex, a field missing */
	    "eth0\t" A("0000030A", "0A030000") "\t0\t1\t0\t0\t0\t0FFFFFFFF\n"
	    "eth0\t" A("0000040A", "0A040000") "\t0\t1g\t0\t0\t0\t" A("0000FFFF", "FFFF0000") "\n"
	    "eth0\t" A("0000050A", "0A050000") "\t0\t1\t0\t0\t0\n";
	static const char v6[] =
	    /* the prefix length not hex; then a good line with upper case */
	    "fd010000000000000000000000000000 4x 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0\n"
	    "FD020000000000000000000000000000 40 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0\n"
	    /* a digit of the address not hex; a device missing */
	    "fd03000000000000000000000000000g 40 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0\n"
	    "fd040000000000000000000000000000 40 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000100 00000001 00000000 00000001\n";
	struct stub_routes	*r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(stub_routes_parse_v4(r, v4), 1);
	t_expect(r, 0, ADDR_V4, "\x0a\x02\x00\x00", 16);
	assert_int_equal(stub_routes_parse_v6(r, v6), 1);
	t_expect(r, 1, ADDR_V6, "\xfd\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 64);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
