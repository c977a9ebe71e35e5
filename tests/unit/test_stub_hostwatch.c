/* SPDX-License-Identifier: ISC */
/*
 * test_stub_hostwatch.c - the stub's neighbour-table parser and PTR
 * messages (stub_hostwatch.c): which neighbours count, the reverse names,
 * the query's bytes, and which answers give a name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stub_hostwatch.h"

static struct addr
t_addr(const char *s)
{
	struct addr	a;

	assert_int_equal(addr_parse(&a, s, (size_t)-1, 0, 0), 0);
	return a;
}

static void
test_arp(void **state)
{
	static const char text[] =
	    "IP address       HW type     Flags       HW address            Mask     Device\n"
	    "198.19.0.2       0x1         0x2         02:00:00:00:00:02     *        eth1\n"
	    "198.19.0.9       0x1         0x0         00:00:00:00:00:00     *        eth1\n"
	    "10.0.0.1         0x1         0x6         02:00:00:00:00:01     *        eth0\n"
	    "198.19.0.2       0x1         0x2         02:00:00:00:00:02     *        eth2\n"
	    "169.254.1.1      0x1         0x2         02:00:00:00:00:03     *        eth0\n"
	    "127.0.0.1        0x1         0x2         02:00:00:00:00:04     *        lo\n"
	    "bogus            0x1         0x2         02:00:00:00:00:05     *        eth0\n"
	    "10.0.0.7         0x1         zz          02:00:00:00:00:06     *        eth0\n"
	    "10.0.0.8\n"
	    "10.0.0.3\t0x1\t0x2\t02:00:00:00:00:07\t*\teth0";
	struct addr	out[8], a;
	size_t		n;

	(void)state;
	n = stub_hostwatch_arp_parse(text, out, 8);
	assert_int_equal(n, 3);
	a = t_addr("198.19.0.2");
	assert_true(addr_equal(&out[0], &a));
	a = t_addr("10.0.0.1");
	assert_true(addr_equal(&out[1], &a));
	a = t_addr("10.0.0.3");
	assert_true(addr_equal(&out[2], &a));
	/* At most max; the header alone or nothing gives nothing. */
	assert_int_equal(stub_hostwatch_arp_parse(text, out, 1), 1);
	assert_int_equal(stub_hostwatch_arp_parse("IP address HW type Flags\n", out, 8), 0);
	assert_int_equal(stub_hostwatch_arp_parse("", out, 8), 0);
	assert_int_equal(stub_hostwatch_arp_parse("198.19.0.2 0x1 0x2", out, 8), 0);
}

static void
test_ptr_name(void **state)
{
	char		buf[STUB_HOSTWATCH_PTR_NAME_MAX];
	struct addr	a;

	(void)state;
	a = t_addr("198.19.0.2");
	assert_int_equal(stub_hostwatch_ptr_name(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2.0.19.198.in-addr.arpa");
	a = t_addr("2001:db8::abc:1");
	assert_int_equal(stub_hostwatch_ptr_name(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf,
	    "1.0.0.0.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	assert_int_equal(strlen(buf) + 1, STUB_HOSTWATCH_PTR_NAME_MAX);
	assert_int_equal(stub_hostwatch_ptr_name(&a, buf, sizeof(buf) - 1), -1);
	memset(&a, 0, sizeof(a));
	assert_int_equal(stub_hostwatch_ptr_name(&a, buf, sizeof(buf)), -1);
}

/* The answer to q (qlen bytes) with one record of type and rdata. */
static size_t
t_answer(uint8_t *out, const uint8_t *q, size_t qlen, uint16_t type,
    const uint8_t *rdata, size_t rdlen)
{
	size_t	n = qlen;

	memcpy(out, q, qlen);
	out[2] |= 0x80;			/* a response */
	out[3] = 0x80;			/* recursion available, no error */
	out[7] = 1;			/* one answer */
	out[n++] = 0xc0;		/* its name: the question's */
	out[n++] = 12;
	out[n++] = 0;
	out[n++] = (uint8_t)type;
	out[n++] = 0;
	out[n++] = 1;
	memset(out + n, 0, 4);		/* TTL */
	n += 4;
	out[n++] = 0;
	out[n++] = (uint8_t)rdlen;
	memcpy(out + n, rdata, rdlen);
	return n + rdlen;
}

static void
test_ptr(void **state)
{
	static const uint8_t	 rd[] = "\x07LabPriv\x03lab\x08internal";
	static const uint8_t	 bad[] = "\x04la b\x03lab";
	uint8_t			 q[STUB_HOSTWATCH_QUERY_MAX], m[512], loop[2];
	char			 name[PROTO_HOST_NAME_MAX + 1];
	struct addr		 a, b;
	size_t			 ql, n, cut;

	(void)state;
	a = t_addr("198.19.0.2");
	b = t_addr("198.19.0.3");
	ql = stub_hostwatch_ptr_query(q, sizeof(q), 0x1234, &a);
	assert_int_equal(ql, 12 + 25 + 4);
	assert_memory_equal(q, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	assert_memory_equal(q + 12, "\x01" "2\x01" "0\x02" "19\x03" "198\x07" "in-addr\x04" "arpa",
	    24);
	assert_memory_equal(q + ql - 5, "\x00\x00\x0c\x00\x01", 5);
	assert_int_equal(stub_hostwatch_ptr_query(q, sizeof(q) - 1, 1, &a), 0);

	n = t_answer(m, q, ql, 12, rd, sizeof(rd));
	assert_int_equal(stub_hostwatch_ptr_answer(m, n, 0x1234, &a, name), 0);
	assert_string_equal(name, "labpriv.lab.internal");
	/* Another id, another address, an error, not a response. */
	assert_int_equal(stub_hostwatch_ptr_answer(m, n, 0x1235, &a, name), -1);
	assert_int_equal(stub_hostwatch_ptr_answer(m, n, 0x1234, &b, name), -1);
	m[3] = 0x83;
	assert_int_equal(stub_hostwatch_ptr_answer(m, n, 0x1234, &a, name), -1);
	m[3] = 0x80;
	m[2] &= 0x7f;
	assert_int_equal(stub_hostwatch_ptr_answer(m, n, 0x1234, &a, name), -1);
	m[2] |= 0x80;
	/* Every cut is refused. */
	for (cut = 0; cut < n; cut++)
		assert_int_equal(stub_hostwatch_ptr_answer(m, cut, 0x1234, &a, name), -1);
	/* Another type, a name no HOSTS frame carries, a pointer loop. */
	n = t_answer(m, q, ql, 1, (const uint8_t *)"\xc6\x13\x00\x02", 4);
	assert_int_equal(stub_hostwatch_ptr_answer(m, n, 0x1234, &a, name), -1);
	n = t_answer(m, q, ql, 12, bad, sizeof(bad));
	assert_int_equal(stub_hostwatch_ptr_answer(m, n, 0x1234, &a, name), -1);
	loop[0] = 0xc0;		/* a pointer to itself */
	loop[1] = (uint8_t)(ql + 12);
	n = t_answer(m, q, ql, 12, loop, sizeof(loop));
	assert_int_equal(stub_hostwatch_ptr_answer(m, n, 0x1234, &a, name), -1);
	/* A name by pointer into the question: "in-addr.arpa" is a name. */
	n = t_answer(m, q, ql, 12, (const uint8_t *)"\xc0\x17", 2);
	assert_int_equal(stub_hostwatch_ptr_answer(m, n, 0x1234, &a, name), 0);
	assert_string_equal(name, "in-addr.arpa");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_ptr_name),
		cmocka_unit_test(test_ptr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
