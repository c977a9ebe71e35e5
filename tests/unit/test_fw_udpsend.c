/* SPDX-License-Identifier: ISC */
/*
 * test_fw_udpsend.c - the helper's send channel (firewall/fw_udpsend.c):
 * the datagram header both ways, what the parser refuses, and the UDP
 * checksum against values computed independently (RFC 768 over the
 * pseudo-header), since on loopback the kernel does not check it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "fw_udpsend.h"

static struct addr
mk(const char *s)
{
	struct addr	a;

	assert_int_equal(addr_parse(&a, s, (size_t)-1, ADDR_P_PORT |
	    ADDR_P_SCOPE, 0), 0);
	return a;
}

static void
test_roundtrip(void **state)
{
	uint8_t		 buf[FW_UDPSEND_HDR + 5];
	struct addr	 s4 = mk("198.19.0.2:7005"), d4 = mk("198.18.0.1:39330");
	struct addr	 s6 = mk("[fd5e:0:0:2::2]:53"), d6 = mk("[fe80::1%1]:5353");
	struct addr	 src, dst;
	const uint8_t	*data;
	size_t		 len;

	(void)state;
	assert_int_equal(fw_udpsend_encode(buf, &s4, &d4), 0);
	memcpy(buf + FW_UDPSEND_HDR, "hello", 5);
	assert_int_equal(fw_udpsend_parse(buf, sizeof(buf), &src, &dst, &data,
	    &len), 0);
	assert_true(addr_equal(&src, &s4));
	assert_true(addr_equal(&dst, &d4));
	assert_int_equal(len, 5);
	assert_memory_equal(data, "hello", 5);

	assert_int_equal(fw_udpsend_encode(buf, &s6, &d6), 0);
	assert_int_equal(fw_udpsend_parse(buf, FW_UDPSEND_HDR, &src, &dst,
	    &data, &len), 0);
	assert_true(addr_equal(&src, &s6));
	assert_int_equal(dst.scope, 1);
	assert_true(addr_equal(&dst, &d6));
	assert_int_equal(len, 0);

	/* What the encoder refuses: mixed families, port 0. */
	assert_int_equal(fw_udpsend_encode(buf, &s4, &d6), -1);
	d4.port = 0;
	assert_int_equal(fw_udpsend_encode(buf, &s4, &d4), -1);
}

static void
test_refused(void **state)
{
	uint8_t		 good[FW_UDPSEND_HDR], b[FW_UDPSEND_HDR];
	struct addr	 s4 = mk("10.1.2.3:53"), d4 = mk("127.0.0.1:4000");
	struct addr	 src, dst;
	const uint8_t	*data;
	size_t		 len, i;
	static const size_t must_be_zero[] = { 1, 6, 7, 12, 23, 28, 39, 40, 43 };

	(void)state;
	assert_int_equal(fw_udpsend_encode(good, &s4, &d4), 0);
	/* too short, too long */
	assert_int_equal(fw_udpsend_parse(good, FW_UDPSEND_HDR - 1, &src, &dst,
	    &data, &len), -1);
	assert_int_equal(fw_udpsend_parse(good, FW_UDPSEND_MAX + 1, &src, &dst,
	    &data, &len), -1);
	/* a family other than 4 and 6 */
	memcpy(b, good, sizeof(b));
	b[0] = 5;
	assert_int_equal(fw_udpsend_parse(b, sizeof(b), &src, &dst, &data,
	    &len), -1);
	/* ports 0 */
	memcpy(b, good, sizeof(b));
	b[2] = b[3] = 0;
	assert_int_equal(fw_udpsend_parse(b, sizeof(b), &src, &dst, &data,
	    &len), -1);
	memcpy(b, good, sizeof(b));
	b[4] = b[5] = 0;
	assert_int_equal(fw_udpsend_parse(b, sizeof(b), &src, &dst, &data,
	    &len), -1);
	/* reserved bytes, the unused address bytes of IPv4, an IPv4 scope */
	for (i = 0; i < sizeof(must_be_zero) / sizeof(must_be_zero[0]); i++) {
		memcpy(b, good, sizeof(b));
		b[must_be_zero[i]] = 1;
		assert_int_equal(fw_udpsend_parse(b, sizeof(b), &src, &dst,
		    &data, &len), -1);
	}
	assert_int_equal(fw_udpsend_parse(good, sizeof(good), &src, &dst,
	    &data, &len), 0);
}

static uint16_t
csum(const char *s, const char *d, const char *payload)
{
	struct addr	src = mk(s), dst = mk(d);
	size_t		n = strlen(payload);
	uint8_t		udp[8] = {
		(uint8_t)(src.port >> 8), (uint8_t)src.port,
		(uint8_t)(dst.port >> 8), (uint8_t)dst.port,
		(uint8_t)((8 + n) >> 8), (uint8_t)(8 + n), 0, 0 };

	return fw_udpsend_checksum(&src, &dst, udp, (const uint8_t *)payload, n);
}

static void
test_checksum(void **state)
{
	(void)state;
	/* Computed with an independent implementation of RFC 768. */
	assert_int_equal(csum("198.19.0.2:7005", "198.18.0.1:39330", "hello"),
	    0x7ad9);
	assert_int_equal(csum("[fd5e:0:0:2::2]:7005", "[fd5e:0:0:1::1]:39330",
	    "hello, world"), 0x0fb7);
	assert_int_equal(csum("10.0.0.1:1", "10.0.0.2:2", ""), 0xebd8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_checksum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
