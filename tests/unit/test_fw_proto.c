/* SPDX-License-Identifier: ISC */
/*
 * test_fw_proto.c - the firewall helper's request parser and the client's
 * formatter (firewall/fw_proto.c): round trip and strict validation.  The
 * helper's reading of blocked packets is in test_fw_nflog.c.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fw.h"
#include "fw_plan.h"
#include "fw_proto.h"

/* Feed a NUL-terminated line; returns what fw_req_line returned. */
static int
feed(struct fw_req *req, const char *line)
{
	char err[256];
	int r;

	r = fw_req_line(req, line, strlen(line), err, sizeof(err));
	if (r < 0)
		assert_true(err[0] != '\0');
	return r;
}

/* Feed every line of a formatted request; the result of the last. */
static int
feed_all(struct fw_req *req, const char *text)
{
	const char *p = text, *nl;
	char err[256];
	int r = FW_E_INVAL;

	while ((nl = strchr(p, '\n')) != NULL) {
		r = fw_req_line(req, p, (size_t)(nl - p), err, sizeof(err));
		if (r < 0)
			fail_msg("line \"%.*s\": %s", (int)(nl - p), p, err);
		p = nl + 1;
	}
	assert_string_equal(p, "");
	return r;
}

static void
test_roundtrip(void **state)
{
	struct subnet v[3];
	struct subnet_list list = { .v = v, .n = 3, .cap = 3 };
	struct fw_config cfg;
	struct fw_req req;
	char *text;
	size_t len;

	memset(&cfg, 0, sizeof(cfg));
	memset(v, 0, sizeof(v));
	cfg.port = 12300;
	cfg.ipv4 = true;
	cfg.ipv6 = true;
	cfg.prerouting = true;
	cfg.subnets = &list;
	v[0].family = 4;
	v[0].prefix = 8;
	v[0].addr[0] = 10;
	v[1].family = 4;
	v[1].prefix = 24;
	inet_pton(AF_INET, "10.20.5.0", v[1].addr);
	v[1].exclude = true;
	v[1].port_lo = 8000;
	v[1].port_hi = 9000;
	v[2].family = 6;
	v[2].prefix = 0;
	v[2].port_lo = 0;
	v[2].port_hi = 65535;
	cfg.nexempt = 2;
	assert_int_equal(addr_parse(&cfg.exempt[0], "192.0.2.7", (size_t)-1, 0, 22), 0);
	assert_int_equal(addr_parse(&cfg.exempt[1], "2001:db8::7", (size_t)-1, 0, 2222), 0);
	cfg.block_leaks = true;
	cfg.ndns = 2;
	assert_int_equal(addr_parse(&cfg.dns[0], "127.0.0.53", (size_t)-1, 0, 12353), 0);
	assert_int_equal(addr_parse(&cfg.dns[1], "fd00::53", (size_t)-1, 0, 12354), 0);

	assert_int_equal(fw_req_format(&cfg, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_string_equal(text,
	    "PORT 12300\n"
	    "FAMILIES 46\n"
	    "PREROUTING 1\n"
	    "BLOCKLEAKS 1\n"
	    "EXEMPT 4 192.0.2.7 22\n"
	    "EXEMPT 6 2001:db8::7 2222\n"
	    "SUBNET inc 4 10.0.0.0 8 0 65535\n"
	    "SUBNET exc 4 10.20.5.0 24 8000 9000\n"
	    "SUBNET inc 6 :: 0 0 65535\n"
	    "DNS 4 127.0.0.53 12353\n"
	    "DNS 6 fd00::53 12354\n"
	    "APPLY\n");

	fw_req_init(&req);
	assert_int_equal(feed_all(&req, text), FW_PROTO_APPLY);
	assert_int_equal(req.cfg.port, 12300);
	assert_true(req.cfg.ipv4 && req.cfg.ipv6 && req.cfg.prerouting);
	assert_int_equal(req.cfg.nexempt, 2);
	assert_true(addr_equal(&req.cfg.exempt[0], &cfg.exempt[0]));
	assert_true(addr_equal(&req.cfg.exempt[1], &cfg.exempt[1]));
	assert_true(req.cfg.block_leaks);
	assert_int_equal(req.cfg.ndns, 2);
	assert_true(addr_equal(&req.cfg.dns[0], &cfg.dns[0]));
	assert_true(addr_equal(&req.cfg.dns[1], &cfg.dns[1]));
	assert_ptr_equal(req.cfg.subnets, &req.subnets);
	assert_int_equal(req.subnets.n, 3);
	assert_int_equal(req.subnets.v[0].port_hi, 65535);
	v[0].port_hi = 65535;	/* "every port" is sent as 0 65535 */
	assert_memory_equal(req.subnets.v, v, sizeof(v));
	fw_req_clear(&req);
	assert_int_equal(req.subnets.n, 0);
	assert_int_equal(req.seen, 0);
	free(text);

	/* an address goes without its scope: the helper takes none */
	cfg.exempt[1].scope = 2;
	assert_int_equal(fw_req_format(&cfg, &text, &len), 0);
	assert_non_null(strstr(text, "EXEMPT 6 2001:db8::7 2222\n"));
	free(text);
	cfg.exempt[1].scope = 0;

	/* host bits are cleared before sending */
	list.n = 1;
	v[0].addr[3] = 9;
	cfg.ipv6 = false;
	assert_int_equal(fw_req_format(&cfg, &text, &len), 0);
	assert_non_null(strstr(text, "FAMILIES 4\n"));
	assert_non_null(strstr(text, "SUBNET inc 4 10.0.0.0 8 0 65535\n"));
	free(text);

	/* the helper would refuse these nameservers: so does the client */
	cfg.dns[1] = cfg.dns[0];
	cfg.dns[1].port = 12354;
	assert_int_equal(fw_req_format(&cfg, &text, &len), FW_E_INVAL);
	assert_null(text);
	cfg.ndns = 1;
	cfg.dns[0].port = 0;
	assert_int_equal(fw_req_format(&cfg, &text, &len), FW_E_INVAL);
	cfg.dns[0].port = 53;
	cfg.dns[0].family = 0;
	assert_int_equal(fw_req_format(&cfg, &text, &len), FW_E_INVAL);
	cfg.ndns = FW_MAX_DNS + 1;
	assert_int_equal(fw_req_format(&cfg, &text, &len), FW_E_TOOMANY);
	cfg.ndns = 0;
	cfg.block_leaks = false;
	assert_int_equal(fw_req_format(&cfg, &text, &len), 0);
	assert_non_null(strstr(text, "BLOCKLEAKS 0\n"));
	assert_null(strstr(text, "DNS"));
	free(text);

	cfg.ipv4 = false;
	assert_int_equal(fw_req_format(&cfg, &text, &len), FW_E_INVAL);
	assert_null(text);
}

static void
test_minimal(void **state)
{
	struct fw_req req;

	fw_req_init(&req);
	assert_int_equal(feed(&req, "PORT 1"), FW_PROTO_MORE);
	assert_int_equal(feed(&req, "FAMILIES 6"), FW_PROTO_MORE);
	assert_int_equal(feed(&req, "APPLY"), FW_PROTO_APPLY);
	assert_false(req.cfg.ipv4);
	assert_true(req.cfg.ipv6);
	assert_false(req.cfg.prerouting);
	assert_false(req.cfg.block_leaks);	/* the default */
	assert_int_equal(req.cfg.ndns, 0);
	fw_req_clear(&req);
	/* a new series needs its PORT and FAMILIES again */
	assert_true(feed(&req, "APPLY") < 0);
	fw_req_clear(&req);
}

/* Each of these must be refused on its own, after a valid preamble. */
static void
test_bad_lines(void **state)
{
	static const char *bad[] = {
		"",
		" PORT 1",
		"PORT 1 ",
		"PORT  1",
		"port 1",
		"PORT",
		"PORT 0",
		"PORT 65536",
		"PORT 012",
		"PORT +1",
		"PORT -1",
		"PORT 1x",
		"PORT 99999999999999999999",
		"PORT 1\t",
		"PORT\t1",
		"FAMILIES 64",
		"FAMILIES 4 6",
		"FAMILIES 0",
		"PREROUTING 2",
		"PREROUTING yes",
		"EXEMPT 4 192.0.2.1",
		"EXEMPT 4 192.0.2.1 65536",
		"EXEMPT 4 2001:db8::1 22",
		"EXEMPT 6 192.0.2.1 22",
		"EXEMPT 5 192.0.2.1 22",
		"EXEMPT 4 192.0.2.256 22",
		"EXEMPT 4 192.0.2 22",
		"EXEMPT 4 0x7f.1 22",
		"SUBNET inc 4 10.0.0.0 8 0",
		"SUBNET inc 4 10.0.0.0 8 0 65535 1",
		"SUBNET include 4 10.0.0.0 8 0 65535",
		"SUBNET inc 4 10.0.0.0 33 0 65535",
		"SUBNET inc 6 fd00:: 129 0 65535",
		"SUBNET inc 4 10.0.0.1 8 0 65535",
		"SUBNET inc 4 10.0.0.0/8 8 0 65535",
		"SUBNET inc 6 fd00::1 64 0 65535",
		"SUBNET inc 6 10.0.0.0 8 0 65535",
		"SUBNET inc 4 10.0.0.0 8 9000 8000",
		"SUBNET inc 4 10.0.0.0 8 0 65536",
		"SUBNET inc 4 10.0.0.0 08 0 65535",
		"APPLY now",
		"DELETE",
		"OK",
		"DNS 4 192.0.2.53",
		"DNS 4 192.0.2.53 0",
		"DNS 4 192.0.2.53 65536",
		"DNS 4 192.0.2.53 053",
		"DNS 4 192.0.2.53 53 53",
		"DNS 6 192.0.2.53 53",
		"DNS 4 fd00::53 53",
		"DNS 4 192.0.2.53/32 53",
		"DNS 46 192.0.2.53 53",
		"DNS 4 192.0.2.0 -1",
		"dns 4 192.0.2.53 53",
		"BLOCKLEAKS",
		"BLOCKLEAKS 2",
		"BLOCKLEAKS true",
		"BLOCKLEAKS 1 1",
		"SOCKET 4",
		"SOCKET 4 icmp",
		"SOCKET 4 UDP",
		"SOCKET 5 udp",
		"SOCKET 46 tcp",
		"SOCKET 4 udp 1",
		"SOCKET 4 udp ",
		"SOCKET 6 raw",
		"SOCKET 6 17",
	};
	struct fw_req req;
	char line[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fw_req_init(&req);
		if (strncmp(bad[i], "PORT", 4) != 0)
			assert_int_equal(feed(&req, "PORT 12300"), FW_PROTO_MORE);
		if (feed(&req, bad[i]) >= 0)
			fail_msg("accepted \"%s\"", bad[i]);
		fw_req_clear(&req);
	}

	/* an embedded NUL or a high byte */
	fw_req_init(&req);
	memcpy(line, "PORT 1\0", 7);
	assert_true(fw_req_line(&req, line, 7, NULL, 0) < 0);
	assert_true(feed(&req, "PORT 1\xff") < 0);
	fw_req_clear(&req);
}

static void
test_once_only_and_order(void **state)
{
	struct fw_req req;

	fw_req_init(&req);
	assert_int_equal(feed(&req, "PORT 5"), FW_PROTO_MORE);
	assert_true(feed(&req, "PORT 5") < 0);
	fw_req_clear(&req);

	assert_int_equal(feed(&req, "FAMILIES 4"), FW_PROTO_MORE);
	assert_true(feed(&req, "FAMILIES 4") < 0);
	fw_req_clear(&req);

	assert_int_equal(feed(&req, "PREROUTING 0"), FW_PROTO_MORE);
	assert_true(feed(&req, "PREROUTING 1") < 0);
	fw_req_clear(&req);

	assert_int_equal(feed(&req, "FAMILIES 4"), FW_PROTO_MORE);
	assert_true(feed(&req, "APPLY") < 0);	/* no PORT */
	fw_req_clear(&req);

	assert_int_equal(feed(&req, "PORT 5"), FW_PROTO_MORE);
	assert_true(feed(&req, "APPLY") < 0);	/* no FAMILIES */
	fw_req_clear(&req);

	assert_int_equal(feed(&req, "BLOCKLEAKS 1"), FW_PROTO_MORE);
	assert_true(feed(&req, "BLOCKLEAKS 1") < 0);
	fw_req_clear(&req);

	/* the same nameserver twice, even with another port */
	assert_int_equal(feed(&req, "DNS 6 fd00::53 12353"), FW_PROTO_MORE);
	assert_int_equal(feed(&req, "DNS 4 192.0.2.53 12353"), FW_PROTO_MORE);
	assert_true(feed(&req, "DNS 6 fd00:0::53 12354") < 0);
	assert_int_equal(req.cfg.ndns, 2);
	fw_req_clear(&req);
}

/* SOCKET stands alone: never inside a series, which it leaves alone. */
static void
test_socket_request(void **state)
{
	static const char *first[] = { "PORT 1", "FAMILIES 4", "PREROUTING 0",
	    "BLOCKLEAKS 0", "EXEMPT 4 192.0.2.1 22", "DNS 4 192.0.2.1 53",
	    "SUBNET inc 4 10.0.0.0 8 0 65535" };
	struct fw_req req;
	char buf[32];
	size_t i;
	int e;

	fw_req_init(&req);
	assert_int_equal(feed(&req, "SOCKET 4 udp"), FW_PROTO_SOCKET);
	assert_int_equal(req.sock_family, AF_INET);
	assert_int_equal(req.sock_type, SOCK_DGRAM);
	assert_int_equal(feed(&req, "SOCKET 6 tcp"), FW_PROTO_SOCKET);
	assert_int_equal(req.sock_family, AF_INET6);
	assert_int_equal(req.sock_type, SOCK_STREAM);
	assert_int_equal(req.seen, 0);
	/* a series after it, complete */
	assert_int_equal(feed(&req, "PORT 12300"), FW_PROTO_MORE);
	assert_int_equal(feed(&req, "FAMILIES 4"), FW_PROTO_MORE);
	assert_int_equal(feed(&req, "APPLY"), FW_PROTO_APPLY);
	fw_req_clear(&req);
	assert_int_equal(feed(&req, "SOCKET 4 tcp"), FW_PROTO_SOCKET);

	/* inside a series, whatever its first line */
	for (i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
		fw_req_clear(&req);
		assert_int_equal(feed(&req, first[i]), FW_PROTO_MORE);
		if (feed(&req, "SOCKET 4 udp") >= 0)
			fail_msg("SOCKET accepted after \"%s\"", first[i]);
	}
	fw_req_clear(&req);

	/* the client's side */
	assert_int_equal(fw_req_format_socket(AF_INET, SOCK_DGRAM, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "SOCKET 4 udp\n");
	assert_int_equal(fw_req_format_socket(AF_INET6, SOCK_STREAM, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "SOCKET 6 tcp\n");
	assert_int_equal(fw_req_format_socket(AF_UNIX, SOCK_STREAM, buf,
	    sizeof(buf)), FW_E_INVAL);
	assert_int_equal(fw_req_format_socket(AF_INET, SOCK_RAW, buf,
	    sizeof(buf)), FW_E_INVAL);
	/* and what the helper makes of it */
	fw_req_init(&req);
	buf[strlen(buf) - 1] = '\0';
	assert_int_equal(feed(&req, buf), FW_PROTO_SOCKET);
	fw_req_clear(&req);

	assert_int_equal(fw_reply_socket("SOCKET", &e), 1);
	assert_int_equal(e, 0);
	assert_int_equal(fw_reply_socket("NOSOCKET 1 Operation not permitted",
	    &e), 0);
	assert_int_equal(e, EPERM);
	assert_int_equal(fw_reply_socket("NOSOCKET 88", &e), 0);
	assert_int_equal(e, 88);
	assert_int_equal(fw_reply_socket("NOSOCKET 0 x", &e), -1);
	assert_int_equal(fw_reply_socket("NOSOCKET 4096 x", &e), -1);
	assert_int_equal(fw_reply_socket("NOSOCKET -1 x", &e), -1);
	assert_int_equal(fw_reply_socket("NOSOCKET 99999999 x", &e), -1);
	assert_int_equal(fw_reply_socket("NOSOCKET x", &e), -1);
	assert_int_equal(fw_reply_socket("NOSOCKET ", &e), -1);
	assert_int_equal(fw_reply_socket("SOCKET 1", &e), -1);
	assert_int_equal(fw_reply_socket("OK", &e), -1);
	assert_int_equal(fw_reply_socket("", &e), -1);
}

static void
test_limits(void **state)
{
	struct fw_req req;
	char line[FW_PROTO_MAXLINE + 16];
	int i;

	fw_req_init(&req);
	for (i = 0; i < FW_MAX_EXEMPT; i++)
		assert_int_equal(feed(&req, "EXEMPT 4 192.0.2.1 22"),
		    FW_PROTO_MORE);
	assert_int_equal(feed(&req, "EXEMPT 4 192.0.2.1 22"), FW_E_TOOMANY);
	fw_req_clear(&req);

	for (i = 0; i < FW_MAX_DNS; i++) {
		snprintf(line, sizeof(line), "DNS 4 192.0.2.%d %d", i + 1,
		    12353 + i);
		assert_int_equal(feed(&req, line), FW_PROTO_MORE);
	}
	assert_int_equal(feed(&req, "DNS 4 192.0.2.99 53"), FW_E_TOOMANY);
	fw_req_clear(&req);

	for (i = 0; i < FW_MAX_SUBNETS; i++) {
		snprintf(line, sizeof(line), "SUBNET inc 4 10.%d.%d.0 24 0 "
		    "65535", i / 256, i % 256);
		assert_int_equal(feed(&req, line), FW_PROTO_MORE);
	}
	assert_int_equal(req.subnets.n, FW_MAX_SUBNETS);
	assert_int_equal(feed(&req, "SUBNET exc 4 10.0.0.0 8 0 65535"),
	    FW_E_TOOMANY);
	fw_req_clear(&req);

	/* the longest legal line, and one byte more */
	memset(line, 0, sizeof(line));
	snprintf(line, sizeof(line), "SUBNET inc 6 "
	    "1111:2222:3333:4444:5555:6666:7777:8888 128 65535 65535");
	assert_int_equal(feed(&req, line), FW_PROTO_MORE);
	memset(line, 'A', FW_PROTO_MAXLINE);
	line[FW_PROTO_MAXLINE - 1] = '\0';	/* 127 bytes + '\n' = max */
	assert_int_equal(fw_req_line(&req, line, FW_PROTO_MAXLINE - 1, NULL,
	    0), FW_E_INVAL);	/* legal length, unknown keyword */
	line[FW_PROTO_MAXLINE - 1] = 'A';
	assert_int_equal(fw_req_line(&req, line, FW_PROTO_MAXLINE, NULL, 0),
	    FW_E_INVAL);
	fw_req_clear(&req);
	fw_req_clear(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_once_only_and_order),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_socket_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
