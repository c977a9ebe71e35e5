/* SPDX-License-Identifier: ISC */
/*
 * test_addr.c - the one address type (common/addr.c): every form
 * addr_parse() accepts and refuses under each flag, with the error it
 * gives; addr_format() and its round trip through addr_parse(); the
 * sockaddr conversions both ways; equality and the address classes.
 *
 * Scopes by interface name use "lo", which every network namespace has;
 * everything else is numeric.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

#define ALL	(ADDR_P_PORT | ADDR_P_SCOPE | ADDR_P_BRACKET)

/* An address built from text by inet_pton (the reference parser). */
static struct addr
mk(const char *host, uint16_t port, uint32_t scope)
{
	struct addr	a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, host, a.bytes) == 1)
		a.family = ADDR_V4;
	else if (inet_pton(AF_INET6, host, a.bytes) == 1)
		a.family = ADDR_V6;
	else
		fail_msg("bad test address %s", host);
	a.port = port;
	a.scope = scope;
	return a;
}

/* s must parse under flags (defport 7) to want. */
static void
accepts(const char *s, unsigned flags, struct addr want)
{
	struct addr	a;
	char		got[ADDR_STRLEN], exp[ADDR_STRLEN];
	int		r;

	memset(&a, 0xa5, sizeof(a));
	if ((r = addr_parse(&a, s, (size_t)-1, flags, 7)) != 0)
		fail_msg("\"%s\" (flags %#x): refused (%s)", s, flags, addr_strerror(r));
	if (!addr_equal(&a, &want))
		fail_msg("\"%s\" (flags %#x): got %s scope %u, want %s scope %u", s, flags,
		    addr_format(&a, true, got, sizeof(got)), a.scope,
		    addr_format(&want, true, exp, sizeof(exp)), want.scope);
	/* IPv4's unused bytes are zero: addresses compare with memcmp. */
	if (a.family == ADDR_V4)
		assert_memory_equal(a.bytes + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
}

/* s must be refused under flags with err, leaving *a untouched. */
static void
refuses(const char *s, unsigned flags, int err)
{
	struct addr	a, before;
	int		r;

	memset(&a, 0xa5, sizeof(a));
	before = a;
	r = addr_parse(&a, s, (size_t)-1, flags, 7);
	if (r != err)
		fail_msg("\"%s\" (flags %#x): got %d, want %d (%s)", s, flags, r, err,
		    addr_strerror(err));
	assert_memory_equal(&a, &before, sizeof(a));
}

static void
test_parse_v4(void **state)
{
	accepts("192.0.2.1", 0, mk("192.0.2.1", 7, 0));
	accepts("0.0.0.0", 0, mk("0.0.0.0", 7, 0));
	accepts("255.255.255.255", ALL, mk("255.255.255.255", 7, 0));
	/* The port, only with ADDR_P_PORT: 0 to 65535. */
	accepts("192.0.2.1:53", ADDR_P_PORT, mk("192.0.2.1", 53, 0));
	accepts("192.0.2.1:0", ADDR_P_PORT, mk("192.0.2.1", 0, 0));
	accepts("192.0.2.1:65535", ADDR_P_PORT, mk("192.0.2.1", 65535, 0));
	accepts("192.0.2.1:00053", ADDR_P_PORT, mk("192.0.2.1", 53, 0));
	refuses("192.0.2.1:53", 0, ADDR_E_SYNTAX);
	refuses("192.0.2.1:53", ADDR_P_SCOPE | ADDR_P_BRACKET, ADDR_E_SYNTAX);
	refuses("192.0.2.1:", ADDR_P_PORT, ADDR_E_PORT);
	refuses("192.0.2.1:65536", ADDR_P_PORT, ADDR_E_PORT);
	refuses("192.0.2.1:000053", ADDR_P_PORT, ADDR_E_PORT);
	refuses("192.0.2.1:5x", ADDR_P_PORT, ADDR_E_PORT);
	refuses("192.0.2.1:-1", ADDR_P_PORT, ADDR_E_PORT);
	refuses("192.0.2.1:+1", ADDR_P_PORT, ADDR_E_PORT);
	refuses("192.0.2.1: 53", ADDR_P_PORT, ADDR_E_PORT);
	/* Not dotted quads, or not addresses at all. */
	refuses("192.0.2.256", ALL, ADDR_E_SYNTAX);
	refuses("192.0.2", ALL, ADDR_E_SYNTAX);
	refuses("1.2.3.4.5", ALL, ADDR_E_SYNTAX);
	refuses("0x7f.0.0.1", ALL, ADDR_E_SYNTAX);
	refuses(" 192.0.2.1", ALL, ADDR_E_SYNTAX);
	refuses("192.0.2.1 ", ALL, ADDR_E_SYNTAX);
	refuses("0000000000000192.0.2.1", ALL, ADDR_E_SYNTAX);
	refuses("example.org", ALL, ADDR_E_SYNTAX);
	refuses("example.org:53", ALL, ADDR_E_SYNTAX);
	refuses(":53", ALL, ADDR_E_SYNTAX);
	refuses("", ALL, ADDR_E_SYNTAX);
	/* No brackets around IPv4. */
	refuses("[192.0.2.1]", ALL, ADDR_E_SYNTAX);
	refuses("[192.0.2.1]:53", ALL, ADDR_E_SYNTAX);
	/* Two colons make it an IPv6 address, which this is not. */
	refuses("192.0.2.1:5:3", ALL, ADDR_E_SYNTAX);
}

static void
test_parse_v6(void **state)
{
	accepts("2001:db8::1", 0, mk("2001:db8::1", 7, 0));
	accepts("::", 0, mk("::", 7, 0));
	accepts("::1", 0, mk("::1", 7, 0));
	accepts("::ffff:192.0.2.1", 0, mk("::ffff:192.0.2.1", 7, 0));
	accepts("2001:DB8:0:0:0:0:0:1", 0, mk("2001:db8::1", 7, 0));
	/* A bare IPv6 address never carries a port, whatever the flags. */
	accepts("::1:53", ALL, mk("::1:53", 7, 0));
	/* Brackets: with a port under ADDR_P_PORT; alone under either flag. */
	accepts("[2001:db8::1]:53", ADDR_P_PORT, mk("2001:db8::1", 53, 0));
	accepts("[2001:db8::1]:0", ADDR_P_PORT, mk("2001:db8::1", 0, 0));
	accepts("[2001:db8::1]", ADDR_P_BRACKET, mk("2001:db8::1", 7, 0));
	accepts("[2001:db8::1]", ADDR_P_PORT, mk("2001:db8::1", 7, 0));
	refuses("[2001:db8::1]", 0, ADDR_E_SYNTAX);
	refuses("[2001:db8::1]", ADDR_P_SCOPE, ADDR_E_SYNTAX);
	refuses("[2001:db8::1]:53", 0, ADDR_E_SYNTAX);
	refuses("[2001:db8::1]:53", ADDR_P_BRACKET, ADDR_E_SYNTAX);
	refuses("[2001:db8::1]:", ADDR_P_PORT, ADDR_E_PORT);
	refuses("[2001:db8::1]:65536", ADDR_P_PORT, ADDR_E_PORT);
	refuses("[2001:db8::1]:x", ADDR_P_PORT, ADDR_E_PORT);
	refuses("[2001:db8::1]x", ALL, ADDR_E_SYNTAX);
	refuses("[2001:db8::1]x53", ALL, ADDR_E_SYNTAX);
	refuses("[2001:db8::1", ALL, ADDR_E_SYNTAX);
	refuses("2001:db8::1]", ALL, ADDR_E_SYNTAX);
	refuses("[]", ALL, ADDR_E_SYNTAX);
	refuses("[]:53", ALL, ADDR_E_SYNTAX);
	refuses("[[::1]]", ALL, ADDR_E_SYNTAX);
	/* Not IPv6. */
	refuses("2001:db8::g", ALL, ADDR_E_SYNTAX);
	refuses(":::", ALL, ADDR_E_SYNTAX);
	refuses("1:2:3:4:5:6:7:8:9", ALL, ADDR_E_SYNTAX);
	refuses("2001:db8::1::2", ALL, ADDR_E_SYNTAX);
	refuses("2001:db8:0000000000000000000000000000000000000000000::1", ALL, ADDR_E_SYNTAX);
}

static void
test_parse_scope(void **state)
{
	unsigned	lo = if_nametoindex("lo");

	assert_true(lo > 0);
	/* Only with ADDR_P_SCOPE; a number or an interface name. */
	accepts("fe80::1%2", ADDR_P_SCOPE, mk("fe80::1", 7, 2));
	accepts("fe80::1%4294967295", ADDR_P_SCOPE, mk("fe80::1", 7, 4294967295U));
	accepts("fe80::1%lo", ADDR_P_SCOPE, mk("fe80::1", 7, lo));
	accepts("[fe80::1%2]:53", ADDR_P_PORT | ADDR_P_SCOPE, mk("fe80::1", 53, 2));
	accepts("[febf::1%lo]", ADDR_P_BRACKET | ADDR_P_SCOPE, mk("febf::1", 7, lo));
	refuses("fe80::1%2", ADDR_P_PORT | ADDR_P_BRACKET, ADDR_E_SYNTAX);
	refuses("[fe80::1%2]:53", ADDR_P_PORT, ADDR_E_SYNTAX);
	/* A scope means something for link-local addresses only: dropped. */
	accepts("2001:db8::1%2", ADDR_P_SCOPE, mk("2001:db8::1", 7, 0));
	accepts("fec0::1%lo", ADDR_P_SCOPE, mk("fec0::1", 7, 0));
	/* Empty, unknown, index 0 (no interface), too long for a name. */
	refuses("fe80::1%", ADDR_P_SCOPE, ADDR_E_SCOPE);
	refuses("fe80::1%nosuchif0", ADDR_P_SCOPE, ADDR_E_SCOPE);
	refuses("fe80::1%0", ADDR_P_SCOPE, ADDR_E_SCOPE);
	refuses("fe80::1%4294967296", ADDR_P_SCOPE, ADDR_E_SCOPE);
	refuses("fe80::1%abcdefghijklmnopq", ADDR_P_SCOPE, ADDR_E_SCOPE);
	refuses("[fe80::1%]:53", ALL, ADDR_E_SCOPE);
	/* No address before the scope; no scope on IPv4. */
	refuses("%2", ALL, ADDR_E_SYNTAX);
	refuses("[%2]", ALL, ADDR_E_SYNTAX);
	refuses("192.0.2.1%2", ALL, ADDR_E_SYNTAX);
}

/* The length bounds the text: a prefix parses, a NUL inside is refused. */
static void
test_parse_len(void **state)
{
	struct addr	a, want = mk("192.0.2.1", 7, 0);

	assert_int_equal(addr_parse(&a, "192.0.2.1:53", 9, ADDR_P_PORT, 7), 0);
	assert_true(addr_equal(&a, &want));
	want = mk("2001:db8::1", 7, 0);
	assert_int_equal(addr_parse(&a, "[2001:db8::1]:53", 13, ADDR_P_BRACKET, 7), 0);
	assert_true(addr_equal(&a, &want));
	assert_int_equal(addr_parse(&a, "192.0.2.1\0", 10, ALL, 7), ADDR_E_SYNTAX);
	assert_int_equal(addr_parse(&a, "192.0.2.1", 0, ALL, 7), ADDR_E_SYNTAX);
	assert_int_equal(addr_parse(&a, "[::1]:53", 6, ALL, 7), ADDR_E_PORT);
}

static void
test_strerror(void **state)
{
	assert_string_equal(addr_strerror(ADDR_E_SYNTAX), "not an IP address");
	assert_string_equal(addr_strerror(ADDR_E_PORT), "port must be a number from 0 to 65535");
	assert_string_equal(addr_strerror(ADDR_E_SCOPE), "unknown interface in the scope");
	assert_string_equal(addr_strerror(0), "unknown error");
	assert_string_equal(addr_strerror(-99), "unknown error");
}

static void
test_format(void **state)
{
	struct addr	a;
	char		buf[ADDR_STRLEN];

	a = mk("192.0.2.1", 53, 0);
	assert_string_equal(addr_format(&a, false, buf, sizeof(buf)), "192.0.2.1");
	assert_string_equal(addr_format(&a, true, buf, sizeof(buf)), "192.0.2.1:53");
	a = mk("2001:db8::1", 53, 0);
	assert_string_equal(addr_format(&a, false, buf, sizeof(buf)), "2001:db8::1");
	assert_string_equal(addr_format(&a, true, buf, sizeof(buf)), "[2001:db8::1]:53");
	a = mk("fe80::1", 0, 2);
	assert_string_equal(addr_format(&a, false, buf, sizeof(buf)), "fe80::1%2");
	assert_string_equal(addr_format(&a, true, buf, sizeof(buf)), "[fe80::1%2]:0");
	a = mk("::ffff:192.0.2.1", 80, 0);
	assert_string_equal(addr_format(&a, true, buf, sizeof(buf)), "[::ffff:192.0.2.1]:80");
	memset(&a, 0, sizeof(a));
	assert_string_equal(addr_format(&a, true, buf, sizeof(buf)), "(none)");
	a.family = 5;
	assert_string_equal(addr_format(&a, false, buf, sizeof(buf)), "(none)");

	/* The longest text fits ADDR_STRLEN. */
	a = mk("fe80:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, 4294967295U);
	addr_format(&a, true, buf, sizeof(buf));
	assert_string_equal(buf, "[fe80:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535");
	assert_true(strlen(buf) < ADDR_STRLEN);

	/* A short buffer truncates; an empty one is left alone. */
	a = mk("192.0.2.1", 53, 0);
	assert_string_equal(addr_format(&a, true, buf, 5), "192.");
	buf[0] = 'x';
	assert_ptr_equal(addr_format(&a, true, buf, 0), buf);
	assert_int_equal(buf[0], 'x');
}

/* What addr_format writes, addr_parse reads back as the same address. */
static void
test_roundtrip(void **state)
{
	static const struct {
		const char	*host;
		uint16_t	 port;
		uint32_t	 scope;
	} v[] = {
		{ "192.0.2.1", 53, 0 }, { "0.0.0.0", 0, 0 }, { "255.255.255.255", 65535, 0 },
		{ "127.0.0.1", 1, 0 }, { "2001:db8::1", 53, 0 }, { "::", 0, 0 },
		{ "::1", 65535, 0 }, { "::ffff:10.0.0.1", 8080, 0 },
		{ "fe80::1", 22, 3 }, { "febf:1:2:3:4:5:6:7", 443, 4294967295U },
		{ "1:2:3:4:5:6:7:8", 9, 0 },
	};
	struct addr	a, b;
	char		buf[ADDR_STRLEN];
	size_t		i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		a = mk(v[i].host, v[i].port, v[i].scope);
		addr_format(&a, true, buf, sizeof(buf));
		memset(&b, 0, sizeof(b));
		if (addr_parse(&b, buf, (size_t)-1, ADDR_P_PORT | ADDR_P_SCOPE, 7) != 0 ||
		    !addr_equal(&a, &b))
			fail_msg("%s did not read back", buf);
		/* Without the port: the default port, same host. */
		addr_format(&a, false, buf, sizeof(buf));
		assert_int_equal(addr_parse(&b, buf, (size_t)-1, ADDR_P_SCOPE, 7), 0);
		assert_true(addr_same_host(&a, &b));
		assert_int_equal(b.port, 7);
		assert_int_equal(b.scope, a.scope);
	}
}

static void
test_set_size_af(void **state)
{
	static const uint8_t	v4[4] = { 192, 0, 2, 1 };
	struct addr		a, want = mk("192.0.2.1", 53, 0);

	assert_int_equal(addr_size(ADDR_V4), 4);
	assert_int_equal(addr_size(ADDR_V6), 16);
	assert_int_equal(addr_size(0), 0);
	assert_int_equal(addr_size(5), 0);
	assert_int_equal(addr_af(ADDR_V4), AF_INET);
	assert_int_equal(addr_af(ADDR_V6), AF_INET6);
	assert_int_equal(addr_af(0), AF_UNSPEC);
	memset(&a, 0xa5, sizeof(a));
	addr_set(&a, ADDR_V4, v4, 53);
	assert_memory_equal(&a, &want, sizeof(a));
	want = mk("2001:db8::1", 80, 0);
	memset(&a, 0xa5, sizeof(a));
	addr_set(&a, ADDR_V6, want.bytes, 80);
	assert_memory_equal(&a, &want, sizeof(a));
}

static void
test_sockaddr(void **state)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un	 sun;
	struct addr		 a, b;

	a = mk("192.0.2.1", 53, 0);
	assert_int_equal(addr_to_sockaddr(&a, &ss), sizeof(struct sockaddr_in));
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 53);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000201);
	assert_int_equal(addr_from_sockaddr(&b, (struct sockaddr *)&ss, sizeof(*sin)), 0);
	assert_true(addr_equal(&a, &b));
	/* Too short for its family. */
	assert_int_equal(addr_from_sockaddr(&b, (struct sockaddr *)&ss, sizeof(*sin) - 1), -1);

	a = mk("fe80::1", 443, 2);
	assert_int_equal(addr_to_sockaddr(&a, &ss), sizeof(struct sockaddr_in6));
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 443);
	assert_int_equal(sin6->sin6_scope_id, 2);
	assert_memory_equal(&sin6->sin6_addr, a.bytes, 16);
	assert_int_equal(addr_from_sockaddr(&b, (struct sockaddr *)&ss, sizeof(*sin6)), 0);
	assert_true(addr_equal(&a, &b));
	assert_int_equal(addr_from_sockaddr(&b, (struct sockaddr *)&ss, sizeof(*sin6) - 1),
	    -1);

	/* A scope id on a global address is not kept. */
	a = mk("2001:db8::1", 443, 0);
	addr_to_sockaddr(&a, &ss);
	sin6->sin6_scope_id = 9;
	assert_int_equal(addr_from_sockaddr(&b, (struct sockaddr *)&ss, sizeof(*sin6)), 0);
	assert_true(addr_equal(&a, &b));

	/* IPv4-mapped stays IPv6. */
	a = mk("::ffff:192.0.2.1", 80, 0);
	addr_to_sockaddr(&a, &ss);
	assert_int_equal(addr_from_sockaddr(&b, (struct sockaddr *)&ss, sizeof(*sin6)), 0);
	assert_int_equal(b.family, ADDR_V6);
	assert_true(addr_equal(&a, &b));

	/* No family: nothing; another family: refused. */
	memset(&a, 0, sizeof(a));
	assert_int_equal(addr_to_sockaddr(&a, &ss), 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_int_equal(addr_from_sockaddr(&b, (struct sockaddr *)&sun, sizeof(sun)), -1);
}

static void
test_equal(void **state)
{
	struct addr	a = mk("192.0.2.1", 53, 0), b;

	b = a;
	assert_true(addr_equal(&a, &b));
	assert_true(addr_same_host(&a, &b));
	b.port = 54;
	assert_false(addr_equal(&a, &b));
	assert_true(addr_same_host(&a, &b));
	b = mk("192.0.2.2", 53, 0);
	assert_false(addr_equal(&a, &b));
	assert_false(addr_same_host(&a, &b));
	/* The same bytes as IPv4-mapped IPv6 are another address. */
	b = mk("::ffff:192.0.2.1", 53, 0);
	assert_false(addr_same_host(&a, &b));
	a = mk("fe80::1", 53, 2);
	b = mk("fe80::1", 53, 3);
	assert_false(addr_equal(&a, &b));
	assert_true(addr_same_host(&a, &b));
	/* Only the family's bytes count. */
	a = mk("192.0.2.1", 53, 0);
	b = a;
	b.bytes[4] = 1;
	assert_true(addr_equal(&a, &b));
}

static void
test_classes(void **state)
{
	struct addr	a;

	a = mk("127.0.0.1", 0, 0);
	assert_true(addr_is_loopback(&a));
	a = mk("127.255.0.9", 0, 0);
	assert_true(addr_is_loopback(&a));
	a = mk("128.0.0.1", 0, 0);
	assert_false(addr_is_loopback(&a));
	a = mk("::1", 0, 0);
	assert_true(addr_is_loopback(&a));
	a = mk("::2", 0, 0);
	assert_false(addr_is_loopback(&a));
	a = mk("::ffff:127.0.0.1", 0, 0);
	assert_false(addr_is_loopback(&a));

	a = mk("0.0.0.0", 53, 0);
	assert_true(addr_is_any(&a));
	a = mk("::", 53, 0);
	assert_true(addr_is_any(&a));
	a = mk("0.0.0.1", 0, 0);
	assert_false(addr_is_any(&a));
	a = mk("::1", 0, 0);
	assert_false(addr_is_any(&a));

	a = mk("fe80::1", 0, 0);
	assert_true(addr_is_linklocal(&a));
	a = mk("febf:ffff::1", 0, 0);
	assert_true(addr_is_linklocal(&a));
	a = mk("fec0::1", 0, 0);
	assert_false(addr_is_linklocal(&a));
	a = mk("fe7f::1", 0, 0);
	assert_false(addr_is_linklocal(&a));
	a = mk("169.254.1.1", 0, 0);
	assert_false(addr_is_linklocal(&a));

	/* No family: none of them. */
	memset(&a, 0, sizeof(a));
	assert_false(addr_is_loopback(&a));
	assert_false(addr_is_any(&a));
	assert_false(addr_is_linklocal(&a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_scope),
		cmocka_unit_test(test_parse_len),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_set_size_af),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
