/* SPDX-License-Identifier: ISC */
/*
 * test_resolv.c - the nameserver lines of resolv.conf as glibc reads
 * them, and the 127.0.0.1 default: which DNS servers --dns captures.
 * (The stub's use, without link-local servers, is in test_stub_dns.c.)
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "resolv.h"

static const char *
text(const struct addr *s)
{
	static char buf[4][ADDR_STRLEN];
	static int next;

	return addr_format(s, true, buf[next++ % 4], sizeof(buf[0]));
}

static size_t
parse(const char *conf, struct addr *out, size_t max, char *note, size_t notelen)
{
	size_t n = 0;

	memset(out, 0, max * sizeof(*out));
	(void)resolv_parse(conf, strlen(conf), RESOLV_F_DEFAULT, out, max, &n, note,
	    notelen);
	return n;
}

static void
test_basic(void **state)
{
	struct addr s[16];
	char note[256];

	assert_int_equal(parse(
	    "# generated\n"
	    "; also a comment\n"
	    "search corp.example\n"
	    "nameserver 192.0.2.53\n"
	    "nameserver\t2001:db8::53   # trailing comment\n"
	    "options edns0 ndots:2\n"
	    "nameserver 127.0.0.53\r\n"
	    "nameserver 192.0.2.53\n"		/* twice: once */
	    "nameserver 198.51.100.1 ; x\n"
	    "nameserver 203.0.113.9", s, 16, note, sizeof(note)), 5);
	assert_string_equal(note, "");
	assert_string_equal(text(&s[0]), "192.0.2.53:53");
	assert_int_equal(s[0].family, ADDR_V4);
	assert_int_equal(s[0].scope, 0);
	assert_string_equal(text(&s[1]), "[2001:db8::53]:53");
	assert_int_equal(s[1].family, ADDR_V6);
	assert_string_equal(text(&s[2]), "127.0.0.53:53");
	assert_string_equal(text(&s[3]), "198.51.100.1:53");
	assert_string_equal(text(&s[4]), "203.0.113.9:53");
	/* IPv4 addresses leave the rest of bytes zero. */
	assert_memory_equal(s[0].bytes + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
}

static void
test_not_nameserver(void **state)
{
	struct addr s[4];
	char note[256];

	/* The keyword must start the line and be followed by a blank;
	 * without any usable server glibc asks 127.0.0.1. */
	assert_int_equal(parse(
	    " nameserver 192.0.2.1\n"
	    "nameservers 192.0.2.2\n"
	    "#nameserver 192.0.2.3\n"
	    "NAMESERVER 192.0.2.4\n"
	    "nameserver\n", s, 4, note, sizeof(note)), 1);
	assert_string_equal(text(&s[0]), "127.0.0.1:53");
	assert_string_equal(note, "");
	assert_int_equal(parse("", s, 4, note, sizeof(note)), 1);
	assert_string_equal(text(&s[0]), "127.0.0.1:53");
}

static void
test_bad_lines(void **state)
{
	struct addr s[4];
	char note[256];

	assert_int_equal(parse(
	    "nameserver 192.0.2.1\n"
	    "nameserver ns.example\n"
	    "nameserver 192.0.2.300\n"
	    "nameserver 192.0.2.2\n", s, 4, note, sizeof(note)), 2);
	assert_string_equal(text(&s[1]), "192.0.2.2:53");
	/* The first problem is named, with its line. */
	assert_string_equal(note, "line 2: nameserver \"ns.example\": not an IP address");
	/* Only bad lines: the default. */
	assert_int_equal(parse("nameserver bogus\n", s, 4, note, sizeof(note)), 1);
	assert_string_equal(text(&s[0]), "127.0.0.1:53");
	assert_non_null(strstr(note, "line 1"));
	/* A long word does not overflow anything. */
	{
		char big[400];

		memset(big, 0, sizeof(big));
		strcpy(big, "nameserver ");
		memset(big + 11, '1', 300);
		assert_int_equal(parse(big, s, 4, note, sizeof(note)), 1);
		assert_non_null(strstr(note, "not an IP address"));
	}
}

static void
test_scope(void **state)
{
	struct addr s[4];
	char note[256];
	unsigned lo = if_nametoindex("lo");

	assert_true(lo > 0);
	assert_int_equal(parse(
	    "nameserver fe80::1%lo\n"
	    "nameserver fe80::2%7\n"
	    "nameserver 2001:db8::1%lo\n"	/* scope only for link-local */
	    "nameserver fe80::3%nosuchif0\n", s, 4, note, sizeof(note)), 3);
	assert_int_equal(s[0].scope, lo);
	assert_int_equal(s[1].scope, 7);
	assert_string_equal(text(&s[1]), "[fe80::2%7]:53");
	assert_int_equal(s[2].scope, 0);
	assert_string_equal(note,
	    "line 4: nameserver \"fe80::3%nosuchif0\": unknown interface in the scope");
}

static void
test_limit(void **state)
{
	struct addr s[3];
	char note[256];

	assert_int_equal(parse(
	    "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\n"
	    "nameserver 192.0.2.4\nnameserver 192.0.2.5\n", s, 3, note,
	    sizeof(note)), 3);
	assert_string_equal(note, "more than 3 DNS servers: 2 left out");
	assert_string_equal(text(&s[2]), "192.0.2.3:53");
}

static void
test_add(void **state)
{
	struct addr s[2], a;
	size_t n = 0;

	memset(&a, 0, sizeof(a));
	a.family = ADDR_V4;
	a.port = 53;
	a.bytes[0] = 10;
	assert_int_equal(resolv_add(s, &n, 2, &a), 0);
	assert_int_equal(resolv_add(s, &n, 2, &a), 0);
	assert_int_equal(n, 1);
	a.bytes[3] = 1;
	assert_int_equal(resolv_add(s, &n, 2, &a), 0);
	a.bytes[3] = 2;
	assert_int_equal(resolv_add(s, &n, 2, &a), -1);
	assert_int_equal(n, 2);
}

static void
test_read(void **state)
{
	struct addr s[4];
	char path[] = "/tmp/cshuttle-test-resolv.XXXXXX", note[256];
	size_t n = 0;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "nameserver 192.0.2.7\n", 21), 21);
	close(fd);
	resolv_read(path, RESOLV_F_DEFAULT, s, 4, &n, note, sizeof(note));
	assert_int_equal(n, 1);
	assert_string_equal(text(&s[0]), "192.0.2.7:53");
	assert_string_equal(note, "");
	unlink(path);

	/* Gone: glibc's default, and why. */
	n = 0;
	resolv_read(path, RESOLV_F_DEFAULT, s, 4, &n, note, sizeof(note));
	assert_int_equal(n, 1);
	assert_string_equal(text(&s[0]), "127.0.0.1:53");
	assert_non_null(strstr(note, "No such file or directory"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_not_nameserver),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
