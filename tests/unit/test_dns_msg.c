/* SPDX-License-Identifier: ISC */
/*
 * test_dns_msg.c - the DNS message helpers of the client's DNS capture:
 * question parsing (compression, bad names, EDNS size), --dns-domains
 * syntax and split matching, answer checks, SERVFAIL and truncated
 * replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dns_msg.h"

/* Build a query for `name` (dotted text, no escapes) into m; returns its
 * length.  edns > 0 appends an OPT record announcing that UDP size. */
static size_t
mkquery(uint8_t *m, uint16_t id, const char *name, uint16_t qtype, int edns)
{
	size_t o = 12;
	const char *p = name, *dot;

	memset(m, 0, 12);
	m[0] = (uint8_t)(id >> 8);
	m[1] = (uint8_t)id;
	m[2] = 0x01;		/* RD */
	m[5] = 1;		/* QDCOUNT */
	while (*p != '\0') {
		size_t l;

		dot = strchr(p, '.');
		l = dot != NULL ? (size_t)(dot - p) : strlen(p);
		m[o++] = (uint8_t)l;
		memcpy(m + o, p, l);
		o += l;
		p += l;
		if (*p == '.')
			p++;
	}
	m[o++] = 0;
	m[o++] = (uint8_t)(qtype >> 8);
	m[o++] = (uint8_t)qtype;
	m[o++] = 0;
	m[o++] = 1;		/* IN */
	if (edns > 0) {
		m[11] = 1;	/* ARCOUNT */
		m[o++] = 0;	/* root */
		m[o++] = 0;
		m[o++] = 41;	/* OPT */
		m[o++] = (uint8_t)(edns >> 8);
		m[o++] = (uint8_t)edns;
		memset(m + o, 0, 6);	/* TTL, RDLEN */
		o += 6;
	}
	return o;
}

static void
test_parse(void **state)
{
	struct dns_query_info qi;
	uint8_t m[600];
	char text[DNS_MSG_NAME_TEXT_MAX];
	size_t len;

	len = mkquery(m, 0xbeef, "WWW.Example.COM", 28, 0);
	assert_int_equal(dns_msg_parse_query(m, len, &qi), 0);
	assert_int_equal(qi.id, 0xbeef);
	assert_int_equal(qi.qtype, 28);
	assert_int_equal(qi.qclass, 1);
	assert_int_equal(qi.qend, len);
	assert_int_equal(qi.udp_size, 512);
	assert_int_equal(qi.namelen, 17);
	/* Lower case in the parsed copy, the message untouched. */
	assert_memory_equal(qi.name, "\3www\7example\3com", 17);
	assert_memory_equal(m + 13, "WWW", 3);
	assert_string_equal(dns_msg_name_text(&qi, text, sizeof(text)),
	    "www.example.com");

	/* EDNS: the OPT class is the UDP size; below 512 means 512. */
	len = mkquery(m, 1, "a.b", 1, 1232);
	assert_int_equal(dns_msg_parse_query(m, len, &qi), 0);
	assert_int_equal(qi.udp_size, 1232);
	assert_int_equal(qi.qend, len - 11);
	len = mkquery(m, 1, "a.b", 1, 100);
	assert_int_equal(dns_msg_parse_query(m, len, &qi), 0);
	assert_int_equal(qi.udp_size, 512);
	/* A broken additional section only costs the EDNS size. */
	len = mkquery(m, 1, "a.b", 1, 4096);
	assert_int_equal(dns_msg_parse_query(m, len - 3, &qi), 0);
	assert_int_equal(qi.udp_size, 512);

	/* The root. */
	len = mkquery(m, 2, "", 2, 0);
	assert_int_equal(dns_msg_parse_query(m, len, &qi), 0);
	assert_int_equal(qi.namelen, 1);
	assert_string_equal(dns_msg_name_text(&qi, text, sizeof(text)), ".");

	/* Odd bytes are escaped in messages. */
	len = mkquery(m, 3, "a.b", 1, 0);
	m[13] = '.';
	assert_int_equal(dns_msg_parse_query(m, len, &qi), 0);
	assert_string_equal(dns_msg_name_text(&qi, text, sizeof(text)), "\\..b");
	m[13] = 0x07;
	assert_int_equal(dns_msg_parse_query(m, len, &qi), 0);
	assert_string_equal(dns_msg_name_text(&qi, text, sizeof(text)), "\\007.b");
	/* A small buffer truncates but terminates. */
	len = mkquery(m, 3, "abcdef.b", 1, 0);
	assert_int_equal(dns_msg_parse_query(m, len, &qi), 0);
	assert_string_equal(dns_msg_name_text(&qi, text, 4), "abc");
}

static void
test_parse_bad(void **state)
{
	struct dns_query_info qi;
	uint8_t m[5000], big[300];
	size_t len, i;

	len = mkquery(m, 1, "example.com", 1, 0);
	assert_int_equal(dns_msg_parse_query(m, 11, &qi), DNS_MSG_E_SHORT);
	/* Cut anywhere inside the question. */
	for (i = 12; i < len; i++)
		assert_int_equal(dns_msg_parse_query(m, i, &qi), DNS_MSG_E_SHORT);
	m[2] |= 0x80;
	assert_int_equal(dns_msg_parse_query(m, len, &qi), DNS_MSG_E_NOTQUERY);
	m[2] &= 0x7f;
	m[5] = 2;
	assert_int_equal(dns_msg_parse_query(m, len, &qi), DNS_MSG_E_QDCOUNT);
	m[5] = 0;
	assert_int_equal(dns_msg_parse_query(m, len, &qi), DNS_MSG_E_QDCOUNT);
	m[5] = 1;
	memset(m + len, 0, sizeof(m) - len);
	assert_int_equal(dns_msg_parse_query(m, 4096, &qi), 0);
	assert_int_equal(dns_msg_parse_query(m, 4097, &qi), DNS_MSG_E_LONG);

	/* Label types 01 and 10 do not exist (any more). */
	m[12] = 0x47;
	assert_int_equal(dns_msg_parse_query(m, len, &qi), DNS_MSG_E_NAME);
	m[12] = 0x87;
	assert_int_equal(dns_msg_parse_query(m, len, &qi), DNS_MSG_E_NAME);
	/* Pointers: to itself, forwards, into the header. */
	m[12] = 0xc0;
	m[13] = 12;
	assert_int_equal(dns_msg_parse_query(m, len, &qi), DNS_MSG_E_NAME);
	m[13] = 20;
	assert_int_equal(dns_msg_parse_query(m, len, &qi), DNS_MSG_E_NAME);
	m[13] = 2;
	assert_int_equal(dns_msg_parse_query(m, len, &qi), DNS_MSG_E_NAME);
	/* Pointer cut in half. */
	assert_int_equal(dns_msg_parse_query(m, 13, &qi), DNS_MSG_E_SHORT);

	/* 255 bytes of name are allowed, 256 are not. */
	memset(big, 0, sizeof(big));
	for (i = 0; i < 4; i++)
		memset(big + i * 64, 'a', 63);
	big[63] = big[127] = big[191] = '.';
	big[253] = '\0';	/* labels of 63, 63, 63, 61 -> 255 wire bytes */
	len = mkquery(m, 1, (char *)big, 1, 0);
	assert_int_equal(dns_msg_parse_query(m, len, &qi), 0);
	assert_int_equal(qi.namelen, 255);
	big[253] = 'a';
	big[254] = '\0';
	len = mkquery(m, 1, (char *)big, 1, 0);
	assert_int_equal(dns_msg_parse_query(m, len, &qi), DNS_MSG_E_NAME);
}

/* A compressed question is legal when the pointer goes backwards. */
static void
test_compression(void **state)
{
	static const uint8_t ans[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		3, 'W', 'w', 'W', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1,
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
	};
	uint8_t q[64], a[sizeof(ans)];
	struct dns_query_info qi;
	size_t qlen;

	qlen = mkquery(q, 0x1234, "www.example", 1, 0);
	assert_int_equal(dns_msg_parse_query(q, qlen, &qi), 0);
	memcpy(a, ans, sizeof(a));
	assert_int_equal(dns_msg_check_answer(q, &qi, a, sizeof(a)), 0);

	/* The same answer with its question name compressed through a
	 * pointer loop is refused, not followed forever. */
	a[12] = 0xc0;
	a[13] = 29;
	assert_int_equal(dns_msg_check_answer(q, &qi, a, sizeof(a)), DNS_MSG_E_NAME);
}

static void
test_domains(void **state)
{
	char out[DNS_MSG_TEXT_MAX + 1], in[300];
	const char *why;

	assert_int_equal(dns_msg_domain_norm("Corp.Example.", 13, out, sizeof(out),
	    &why), 0);
	assert_string_equal(out, "corp.example");
	assert_int_equal(dns_msg_domain_norm("_tcp.x-1", 8, out, sizeof(out), &why), 0);
	assert_string_equal(out, "_tcp.x-1");
	/* Only len bytes count. */
	assert_int_equal(dns_msg_domain_norm("abc,def", 3, out, sizeof(out), &why), 0);
	assert_string_equal(out, "abc");

	assert_int_equal(dns_msg_domain_norm("", 0, out, sizeof(out), &why), -1);
	assert_non_null(strstr(why, "empty domain"));
	assert_int_equal(dns_msg_domain_norm(".", 1, out, sizeof(out), &why), -1);
	assert_int_equal(dns_msg_domain_norm(".a", 2, out, sizeof(out), &why), -1);
	assert_string_equal(why, "empty label");
	assert_int_equal(dns_msg_domain_norm("a..", 3, out, sizeof(out), &why), -1);
	assert_int_equal(dns_msg_domain_norm("a\\.b", 4, out, sizeof(out), &why), -1);
	assert_int_equal(dns_msg_domain_norm("a\0b", 3, out, sizeof(out), &why), -1);

	memset(in, 'a', sizeof(in));
	assert_int_equal(dns_msg_domain_norm(in, 63, out, sizeof(out), &why), 0);
	assert_int_equal(dns_msg_domain_norm(in, 64, out, sizeof(out), &why), -1);
	assert_non_null(strstr(why, "63"));
	/* 253 characters fit, 254 do not (a final dot excepted). */
	memset(in, 'a', sizeof(in));
	in[63] = in[127] = in[191] = '.';
	assert_int_equal(dns_msg_domain_norm(in, 253, out, sizeof(out), &why), 0);
	in[253] = '.';
	assert_int_equal(dns_msg_domain_norm(in, 254, out, sizeof(out), &why), 0);
	in[253] = 'a';
	assert_int_equal(dns_msg_domain_norm(in, 254, out, sizeof(out), &why), -1);
	/* The output buffer is respected. */
	assert_int_equal(dns_msg_domain_norm("abcdef", 6, out, 4, &why), -1);
}

static bool
under(const char *name, const char *d1, const char *d2)
{
	char *domains[2] = { (char *)d1, (char *)d2 };
	struct dns_query_info qi;
	uint8_t m[600];
	size_t len;

	len = mkquery(m, 9, name, 1, 0);
	assert_int_equal(dns_msg_parse_query(m, len, &qi), 0);
	return dns_msg_name_under(&qi, domains, d1 == NULL ? 0 : d2 == NULL ? 1 : 2);
}

static void
test_split(void **state)
{
	/* No --dns-domains: everything goes through the tunnel. */
	assert_true(under("www.google.com", NULL, NULL));
	assert_true(under("corp.example", "corp.example", NULL));
	assert_true(under("CORP.example", "corp.example", NULL));
	assert_true(under("a.b.corp.example", "corp.example", NULL));
	assert_true(under("x.lab", "corp.example", "lab"));
	assert_false(under("xcorp.example", "corp.example", NULL));
	assert_false(under("corp.example.com", "corp.example", NULL));
	assert_false(under("example", "corp.example", NULL));
	assert_false(under("", "corp.example", NULL));
	assert_false(under("www.google.com", "corp.example", "lab"));
	assert_true(under("_ldap._tcp.corp.example", "corp.example", NULL));
}

/* A label holding a dot must not pass for two labels. */
static void
test_split_dotted_label(void **state)
{
	char *domains[1] = { "corp.example" };
	struct dns_query_info qi;
	uint8_t m[64];
	size_t len;

	/* Labels "x.corp" and "example": as text, "x.corp.example". */
	len = mkquery(m, 9, "xxxxxx.example", 1, 0);
	memcpy(m + 13, "x.corp", 6);
	assert_int_equal(dns_msg_parse_query(m, len, &qi), 0);
	assert_false(dns_msg_name_under(&qi, domains, 1));
	len = mkquery(m, 9, "a.corp_example", 1, 0);
	m[19] = '.';		/* one label "corp.example" */
	assert_int_equal(dns_msg_parse_query(m, len, &qi), 0);
	assert_false(dns_msg_name_under(&qi, domains, 1));
}

static void
test_answer_check(void **state)
{
	struct dns_query_info qi;
	uint8_t q[64], a[128];
	size_t qlen;

	qlen = mkquery(q, 0x4242, "host.corp", 1, 0);
	assert_int_equal(dns_msg_parse_query(q, qlen, &qi), 0);
	memcpy(a, q, qlen);
	a[2] |= 0x80;
	assert_int_equal(dns_msg_check_answer(q, &qi, a, qlen), 0);
	/* Case may differ (0x20 randomisation). */
	a[13] = 'H';
	assert_int_equal(dns_msg_check_answer(q, &qi, a, qlen), 0);
	assert_int_equal(dns_msg_check_answer(q, &qi, a, 11), DNS_MSG_E_SHORT);
	assert_int_equal(dns_msg_check_answer(q, &qi, a, qlen - 1), DNS_MSG_E_SHORT);
	a[1] ^= 1;
	assert_int_equal(dns_msg_check_answer(q, &qi, a, qlen), DNS_MSG_E_ID);
	a[1] ^= 1;
	a[2] &= 0x7f;
	assert_int_equal(dns_msg_check_answer(q, &qi, a, qlen), DNS_MSG_E_NOTQUERY);
	a[2] |= 0x80;
	a[qlen - 3] = 28;	/* AAAA instead of A */
	assert_int_equal(dns_msg_check_answer(q, &qi, a, qlen), DNS_MSG_E_QUESTION);
	a[qlen - 3] = 1;
	a[14] = 'x';
	assert_int_equal(dns_msg_check_answer(q, &qi, a, qlen), DNS_MSG_E_QUESTION);
	/* Without a question (FORMERR from some servers): accepted. */
	a[5] = 0;
	assert_int_equal(dns_msg_check_answer(q, &qi, a, 12), 0);
}

/* -H: the answer made here for a name of the hosts table. */
static void
test_addr_reply(void **state)
{
	struct dns_query_info qi;
	uint8_t q[64], out[512];
	static const uint8_t rd[8] = { 198, 19, 0, 2, 198, 19, 0, 3 };
	size_t qlen;
	int n;

	qlen = mkquery(q, 0x1234, "www.lab.internal", DNS_MSG_TYPE_A, 1232);
	q[2] = 0x01;		/* RD */
	assert_int_equal(dns_msg_parse_query(q, qlen, &qi), 0);
	n = dns_msg_addr_reply(q, &qi, rd, 4, 2, 60, out, sizeof(out));
	assert_int_equal(n, (int)qi.qend + 2 * 16);
	assert_int_equal(out[2], 0x85);		/* QR, AA, RD */
	assert_int_equal(out[3], 0x80);		/* RA, NOERROR */
	assert_memory_equal(out + 4, "\0\1\0\2\0\0\0\0", 8);
	assert_memory_equal(out + 12, q + 12, qi.qend - 12);
	/* Name pointer, A, IN, TTL 60, 4 bytes, the address. */
	assert_memory_equal(out + qi.qend, "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xc6\x13\0\2",
	    16);
	assert_memory_equal(out + qi.qend + 28, "\xc6\x13\0\3", 4);
	assert_int_equal(dns_msg_check_answer(q, &qi, out, (size_t)n), 0);
	/* No address of the type: the name exists, no records. */
	n = dns_msg_addr_reply(q, &qi, rd, 4, 0, 60, out, sizeof(out));
	assert_int_equal(n, (int)qi.qend);
	assert_int_equal(out[3], 0x80);
	assert_memory_equal(out + 6, "\0\0", 2);
	/* Too small. */
	assert_int_equal(dns_msg_addr_reply(q, &qi, rd, 4, 2, 60, out, qi.qend + 31),
	    DNS_MSG_E_SPACE);
	assert_int_equal(dns_msg_addr_reply(q, &qi, rd, 4, 2, 60, out, qi.qend + 32),
	    (int)qi.qend + 32);
}

static void
test_replies(void **state)
{
	struct dns_query_info qi;
	uint8_t q[64], out[128], a[2000];
	size_t qlen;
	int n;

	qlen = mkquery(q, 0xabcd, "gone.example", 1, 1232);
	q[2] = 0x01;		/* RD */
	q[3] = 0x10;		/* CD */
	assert_int_equal(dns_msg_parse_query(q, qlen, &qi), 0);
	n = dns_msg_reply(q, &qi, DNS_MSG_RCODE_SERVFAIL, out, sizeof(out));
	assert_int_equal(n, (int)qi.qend);
	assert_int_equal(out[0], 0xab);
	assert_int_equal(out[1], 0xcd);
	assert_int_equal(out[2], 0x81);		/* QR, opcode 0, RD */
	assert_int_equal(out[3], 0x92);		/* RA, CD, SERVFAIL */
	assert_memory_equal(out + 4, "\0\1\0\0\0\0\0\0", 8);
	assert_memory_equal(out + 12, q + 12, qi.qend - 12);
	/* The reply is a valid answer to the query. */
	assert_int_equal(dns_msg_check_answer(q, &qi, out, (size_t)n), 0);
	/* RD clear stays clear; the opcode is kept. */
	q[2] = 0x10;		/* opcode 2 (STATUS), no RD */
	assert_int_equal(dns_msg_parse_query(q, qlen, &qi), 0);
	n = dns_msg_reply(q, &qi, DNS_MSG_RCODE_SERVFAIL, out, sizeof(out));
	assert_int_equal(out[2], 0x90);
	assert_int_equal(dns_msg_reply(q, &qi, 2, out, qi.qend - 1), DNS_MSG_E_SPACE);

	/* Truncation keeps the answer's header, sets TC, drops records. */
	memset(a, 0x55, sizeof(a));
	memcpy(a, q, qi.qend);
	a[2] = 0x85;		/* QR AA RD */
	a[3] = 0x83;		/* RA NXDOMAIN */
	a[7] = 9;		/* ANCOUNT */
	n = dns_msg_truncate(q, &qi, a, sizeof(a), out, sizeof(out));
	assert_int_equal(n, (int)qi.qend);
	assert_int_equal(out[2], 0x87);
	assert_int_equal(out[3], 0x83);
	assert_memory_equal(out + 4, "\0\1\0\0\0\0\0\0", 8);
	assert_memory_equal(out + 12, q + 12, qi.qend - 12);
	assert_int_equal(dns_msg_truncate(q, &qi, a, sizeof(a), out, 12),
	    DNS_MSG_E_SPACE);
}

static void
test_strerror(void **state)
{
	int e;

	for (e = -8; e <= 0; e++)
		assert_string_not_equal(dns_msg_strerror(e), "unknown error");
	assert_string_equal(dns_msg_strerror(-99), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_compression),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_dotted_label),
		cmocka_unit_test(test_answer_check),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_addr_reply),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
