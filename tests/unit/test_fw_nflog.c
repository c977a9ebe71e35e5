/* SPDX-License-Identifier: ISC */
/*
 * test_fw_nflog.c - the helper's reading of blocked packets for its log
 * (firewall/fw_nflog.c): what a user sees for IPv4 and IPv6, options and
 * extension headers, fragments, and headers that are cut short or not IP
 * at all.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fw_nflog.h"

/* Build an IPv4 or IPv6 header (+ 4 bytes of ports) for describe. */
static size_t
mkpkt(uint8_t *p, const char *src, const char *dst, int proto, int dport)
{
	if (strchr(dst, ':') == NULL) {
		memset(p, 0, 24);
		p[0] = 0x45;
		p[9] = (uint8_t)proto;
		inet_pton(AF_INET, src, p + 12);
		inet_pton(AF_INET, dst, p + 16);
		p[22] = (uint8_t)(dport >> 8);
		p[23] = (uint8_t)dport;
		return 24;
	}
	memset(p, 0, 44);
	p[0] = 0x60;
	p[6] = (uint8_t)proto;
	inet_pton(AF_INET6, src, p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	p[42] = (uint8_t)(dport >> 8);
	p[43] = (uint8_t)dport;
	return 44;
}

static void
test_nflog_describe(void **state)
{
	uint8_t p[128];
	char buf[160];
	size_t n, i;

	n = mkpkt(p, "10.0.0.5", "192.0.2.1", 17, 443);
	assert_string_equal(fw_nflog_describe(p, n, false, buf, sizeof(buf)),
	    "udp 192.0.2.1:443");
	assert_string_equal(fw_nflog_describe(p, n, true, buf, sizeof(buf)),
	    "udp 192.0.2.1:443 from 10.0.0.5");
	/* ports cut off, or a later fragment: no port */
	assert_string_equal(fw_nflog_describe(p, 22, false, buf, sizeof(buf)),
	    "udp 192.0.2.1");
	p[7] = 1;
	assert_string_equal(fw_nflog_describe(p, n, false, buf, sizeof(buf)),
	    "udp 192.0.2.1");
	/* options: the ports move */
	n = mkpkt(p, "10.0.0.5", "192.0.2.1", 6, 0);
	p[0] = 0x46;
	p[26] = 0x01;
	p[27] = 0xbb;
	assert_string_equal(fw_nflog_describe(p, 28, false, buf, sizeof(buf)),
	    "tcp 192.0.2.1:443");
	n = mkpkt(p, "10.0.0.5", "192.0.2.1", 1, 0);
	p[20] = 8;
	assert_string_equal(fw_nflog_describe(p, n, false, buf, sizeof(buf)),
	    "icmp 192.0.2.1 type 8");
	n = mkpkt(p, "10.0.0.5", "192.0.2.1", 47, 0);
	assert_string_equal(fw_nflog_describe(p, n, false, buf, sizeof(buf)),
	    "proto 47 192.0.2.1");

	n = mkpkt(p, "2001:db8::5", "2001:db8::1", 6, 443);
	assert_string_equal(fw_nflog_describe(p, n, false, buf, sizeof(buf)),
	    "tcp [2001:db8::1]:443");
	n = mkpkt(p, "2001:db8::5", "2001:db8::1", 58, 0);
	p[40] = 128;
	assert_string_equal(fw_nflog_describe(p, n, false, buf, sizeof(buf)),
	    "icmpv6 2001:db8::1 type 128");
	/* a hop-by-hop header (8 bytes) before UDP */
	n = mkpkt(p, "2001:db8::5", "2001:db8::1", 0, 0);
	p[40] = 17;
	p[48 + 2] = 0;
	p[48 + 3] = 53;
	assert_string_equal(fw_nflog_describe(p, 52, true, buf, sizeof(buf)),
	    "udp [2001:db8::1]:53 from 2001:db8::5");
	/* a chain of extension headers longer than what was copied */
	n = mkpkt(p, "2001:db8::5", "2001:db8::1", 60, 0);
	p[40] = 60;
	p[41] = 200;
	assert_string_equal(fw_nflog_describe(p, n, false, buf, sizeof(buf)),
	    "ipv6 2001:db8::1");
	/* a later fragment */
	n = mkpkt(p, "2001:db8::5", "2001:db8::1", 44, 0);
	memset(p + 40, 0, 8);
	p[40] = 17;
	p[43] = 0x08;
	assert_string_equal(fw_nflog_describe(p, 56, false, buf, sizeof(buf)),
	    "udp 2001:db8::1");

	/* not an IP header, or too short for one */
	memset(p, 0, sizeof(p));
	assert_null(fw_nflog_describe(p, 40, false, buf, sizeof(buf)));
	n = mkpkt(p, "10.0.0.5", "192.0.2.1", 17, 443);
	assert_null(fw_nflog_describe(p, 19, false, buf, sizeof(buf)));
	p[0] = 0x44;	/* header length 16 */
	assert_null(fw_nflog_describe(p, n, false, buf, sizeof(buf)));
	p[0] = 0x4f;	/* 60, longer than the packet */
	assert_null(fw_nflog_describe(p, n, false, buf, sizeof(buf)));
	n = mkpkt(p, "2001:db8::5", "2001:db8::1", 6, 443);
	assert_null(fw_nflog_describe(p, 39, false, buf, sizeof(buf)));
	assert_null(fw_nflog_describe(p, 0, false, buf, sizeof(buf)));
	/* a tiny buffer truncates, never overflows */
	assert_non_null(fw_nflog_describe(p, n, false, buf, 4));
	assert_int_equal(strlen(buf), 3);
	/* every length of a real header */
	for (i = 0; i <= n; i++)
		(void)fw_nflog_describe(p, i, true, buf, sizeof(buf));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nflog_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
