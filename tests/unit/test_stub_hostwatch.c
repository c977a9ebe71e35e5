/* SPDX-License-Identifier: ISC */
/*
 * test_stub_hostwatch.c - the stub's neighbour-table parsers and DNS
 * messages (stub_hostwatch.c, stub_neigh.c): which neighbours count
 * (/proc/net/arp, the rtnetlink dump of the IPv6 ones), the reverse
 * names, the queries' bytes, which answers give a name (PTR) and which
 * give addresses (A, AAAA, for --seed-hosts).
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
#include "stub_neigh.h"

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

/* One record after out[0..n): owner (wire form), type, IN, rdata. */
static size_t
t_rr(uint8_t *out, size_t n, const void *owner, size_t olen, uint16_t type,
    const void *rdata, size_t rdlen)
{
	memcpy(out + n, owner, olen);
	n += olen;
	out[n++] = (uint8_t)(type >> 8);
	out[n++] = (uint8_t)type;
	out[n++] = 0;
	out[n++] = 1;
	memset(out + n, 0, 4);
	n += 4;
	out[n++] = (uint8_t)(rdlen >> 8);
	out[n++] = (uint8_t)rdlen;
	memcpy(out + n, rdata, rdlen);
	return n + rdlen;
}

/* A and AAAA queries for a seed's name, and what their answers give. */
static void
test_addr_answer(void **state)
{
	uint8_t		 q[STUB_HOSTWATCH_QUERY_MAX], m[512];
	struct addr	 out[4], a;
	char		 longname[260];
	size_t		 ql, n, cut;
	int		 i;

	(void)state;
	ql = stub_hostwatch_query(q, sizeof(q), 0xbeef, "Seeded.lab", STUB_HOSTWATCH_T_A);
	assert_int_equal(ql, 0);		/* not a HOSTS name: upper case */
	ql = stub_hostwatch_query(q, sizeof(q), 0xbeef, "seeded.lab", STUB_HOSTWATCH_T_A);
	assert_int_equal(ql, 12 + 12 + 4);
	assert_memory_equal(q, "\xbe\xef\x01\x00\x00\x01\0\0\0\0\0\0", 12);
	assert_memory_equal(q + 12, "\x06seeded\x03lab\x00\x00\x01\x00\x01", 16);
	assert_int_equal(stub_hostwatch_query(q, sizeof(q) - 1, 1, "seeded.lab",
	    STUB_HOSTWATCH_T_A), 0);
	/* The longest name fits. */
	memset(longname, 'a', sizeof(longname));
	for (i = 63; i < 253; i += 64)
		longname[i] = '.';
	longname[253] = '\0';
	assert_int_equal(stub_hostwatch_query(q, sizeof(q), 1, longname,
	    STUB_HOSTWATCH_T_AAAA), STUB_HOSTWATCH_QUERY_MAX);

	/* A CNAME, then two A records of its target, one of another name,
	 * one of the wrong size. */
	ql = stub_hostwatch_query(q, sizeof(q), 0xbeef, "seeded.lab", STUB_HOSTWATCH_T_A);
	memcpy(m, q, ql);
	m[2] |= 0x80;
	m[3] = 0x80;
	m[7] = 5;
	n = t_rr(m, ql, "\xc0\x0c", 2, 5, "\x04real\xc0\x13", 7);
	n = t_rr(m, n, "\x04REAL\xc0\x13", 7, 1, "\xc6\x13\x00\x3c", 4);
	n = t_rr(m, n, "\x05other\xc0\x13", 8, 1, "\xc6\x13\x00\x3d", 4);
	n = t_rr(m, n, "\xc0\x0c", 2, 1, "\xc6\x13\x00\x3e\x00", 5);
	n = t_rr(m, n, "\x04real\xc0\x13", 7, 1, "\xc6\x13\x00\x3f", 4);
	assert_int_equal(stub_hostwatch_addr_answer(m, n, 0xbeef, "seeded.lab",
	    STUB_HOSTWATCH_T_A, out, 4), 2);
	a = t_addr("198.19.0.60");
	assert_true(addr_equal(&out[0], &a));
	a = t_addr("198.19.0.63");
	assert_true(addr_equal(&out[1], &a));
	/* At most max. */
	assert_int_equal(stub_hostwatch_addr_answer(m, n, 0xbeef, "seeded.lab",
	    STUB_HOSTWATCH_T_A, out, 1), 1);
	/* Another id, name or type; an error; every cut. */
	assert_int_equal(stub_hostwatch_addr_answer(m, n, 0xbeee, "seeded.lab",
	    STUB_HOSTWATCH_T_A, out, 4), -1);
	assert_int_equal(stub_hostwatch_addr_answer(m, n, 0xbeef, "seeded.lan",
	    STUB_HOSTWATCH_T_A, out, 4), -1);
	assert_int_equal(stub_hostwatch_addr_answer(m, n, 0xbeef, "seeded.lab",
	    STUB_HOSTWATCH_T_AAAA, out, 4), -1);
	assert_int_equal(stub_hostwatch_addr_answer(m, n, 0xbeef, "seeded.lab",
	    STUB_HOSTWATCH_T_PTR, out, 4), -1);
	m[3] = 0x83;
	assert_int_equal(stub_hostwatch_addr_answer(m, n, 0xbeef, "seeded.lab",
	    STUB_HOSTWATCH_T_A, out, 4), -1);
	m[3] = 0x80;
	for (cut = 0; cut < n; cut++)
		assert_int_equal(stub_hostwatch_addr_answer(m, cut, 0xbeef, "seeded.lab",
		    STUB_HOSTWATCH_T_A, out, 4), -1);
	/* No records: none, not an error. */
	m[7] = 0;
	assert_int_equal(stub_hostwatch_addr_answer(m, ql, 0xbeef, "seeded.lab",
	    STUB_HOSTWATCH_T_A, out, 4), 0);

	/* AAAA, owned by the name itself (case aside). */
	ql = stub_hostwatch_query(q, sizeof(q), 7, "seeded.lab", STUB_HOSTWATCH_T_AAAA);
	memcpy(m, q, ql);
	m[2] |= 0x80;
	m[3] = 0x80;
	m[7] = 1;
	n = t_rr(m, ql, "\x06SEEDED\x03lab\x00", 12, 28,
	    "\xfd\x5e\0\0\0\0\0\x02\0\0\0\0\0\0\0\x3c", 16);
	assert_int_equal(stub_hostwatch_addr_answer(m, n, 7, "seeded.lab",
	    STUB_HOSTWATCH_T_AAAA, out, 4), 1);
	a = t_addr("fd5e:0:0:2::3c");
	assert_true(addr_equal(&out[0], &a));
}

/* Bytes as netlink has them: host byte order. */
static size_t
t_put32(uint8_t *p, size_t n, uint32_t v)
{
	memcpy(p + n, &v, 4);
	return n + 4;
}

static size_t
t_put16(uint8_t *p, size_t n, uint16_t v)
{
	memcpy(p + n, &v, 2);
	return n + 2;
}

/* One RTM_NEWNEIGH (or other type) message after p[0..n). */
static size_t
t_neigh(uint8_t *p, size_t n, uint16_t type, uint32_t seq, uint8_t family,
    uint16_t state, const char *dst)
{
	struct addr	a;
	size_t		start = n;

	n = t_put32(p, n, 0);			/* length, below */
	n = t_put16(p, n, type);
	n = t_put16(p, n, 2);			/* NLM_F_MULTI */
	n = t_put32(p, n, seq);
	n = t_put32(p, n, 0);
	p[n++] = family;
	p[n++] = 0;
	n = t_put16(p, n, 0);
	n = t_put32(p, n, 3);			/* ifindex */
	n = t_put16(p, n, state);
	p[n++] = 0;
	p[n++] = 1;
	n = t_put16(p, n, 8);			/* NDA_LLADDR, 4 bytes */
	n = t_put16(p, n, 2);
	n = t_put32(p, n, 0x02000000);
	if (dst != NULL) {
		a = t_addr(dst);
		n = t_put16(p, n, (uint16_t)(4 + addr_size(a.family)));
		n = t_put16(p, n, 1);		/* NDA_DST */
		memcpy(p + n, a.bytes, addr_size(a.family));
		n += addr_size(a.family);
	}
	(void)t_put32(p, start, (uint32_t)(n - start));
	return n;
}

/* The rtnetlink dump of the IPv6 neighbours. */
static void
test_neigh(void **state)
{
	uint8_t		req[STUB_NEIGH_REQUEST_LEN + 4], m[2048];
	struct addr	out[4], a;
	size_t		n = 0, got = 0, len;
	uint32_t	v32;
	uint16_t	v16;

	(void)state;
	assert_int_equal(stub_neigh_request(req, sizeof(req), 77), 28);
	memcpy(&v32, req, 4);
	assert_int_equal(v32, 28);
	memcpy(&v16, req + 4, 2);
	assert_int_equal(v16, 30);		/* RTM_GETNEIGH */
	memcpy(&v16, req + 6, 2);
	assert_int_equal(v16, 0x301);		/* request, dump */
	memcpy(&v32, req + 8, 4);
	assert_int_equal(v32, 77);
	assert_int_equal(req[16], 10);		/* AF_INET6 */
	assert_int_equal(stub_neigh_request(req, 27, 77), 0);

	n = t_neigh(m, n, 28, 77, 10, 0x02, "fd5e:0:0:2::50");	/* reachable */
	n = t_neigh(m, n, 28, 77, 10, 0x80, "fd5e:0:0:2::51");	/* permanent */
	n = t_neigh(m, n, 28, 77, 10, 0x04, "fd5e:0:0:2::50");	/* again */
	n = t_neigh(m, n, 28, 77, 10, 0x20, "fd5e:0:0:2::52");	/* failed */
	n = t_neigh(m, n, 28, 77, 10, 0x01, "fd5e:0:0:2::53");	/* incomplete */
	n = t_neigh(m, n, 28, 77, 10, 0x40, "ff02::1");		/* noarp */
	n = t_neigh(m, n, 28, 77, 10, 0x80, "ff02::2");		/* multicast */
	n = t_neigh(m, n, 28, 77, 10, 0x02, "fe80::1");		/* link-local */
	n = t_neigh(m, n, 28, 77, 10, 0x02, "::1");
	n = t_neigh(m, n, 28, 77, 10, 0x02, NULL);		/* no NDA_DST */
	n = t_neigh(m, n, 28, 78, 10, 0x02, "fd5e:0:0:2::54");	/* other seq */
	n = t_neigh(m, n, 28, 77, 2, 0x02, "198.19.0.5");	/* IPv4 */
	n = t_neigh(m, n, 29, 77, 10, 0x02, "fd5e:0:0:2::55");	/* DELNEIGH */
	len = n;
	assert_int_equal(stub_neigh_parse(m, len, 77, out, &got, 4), 0);
	assert_int_equal(got, 2);
	a = t_addr("fd5e:0:0:2::50");
	assert_true(addr_equal(&out[0], &a));
	a = t_addr("fd5e:0:0:2::51");
	assert_true(addr_equal(&out[1], &a));
	/* At most max. */
	got = 0;
	assert_int_equal(stub_neigh_parse(m, len, 77, out, &got, 1), 0);
	assert_int_equal(got, 1);
	/* The end: NLMSG_DONE, or an error. */
	n = t_neigh(m, n, 3, 77, 0, 0, NULL);
	got = 0;
	assert_int_equal(stub_neigh_parse(m, n, 77, out, &got, 4), 1);
	assert_int_equal(got, 2);
	got = 0;
	assert_int_equal(stub_neigh_parse(m, t_neigh(m, 0, 2, 77, 0, 0, NULL), 77,
	    out, &got, 4), 1);
	assert_int_equal(got, 0);
	/* A message longer than the datagram, or shorter than its header. */
	n = t_neigh(m, 0, 28, 77, 10, 0x02, "fd5e:0:0:2::50");
	got = 0;
	assert_int_equal(stub_neigh_parse(m, n - 1, 77, out, &got, 4), -1);
	(void)t_put32(m, 0, 8);
	assert_int_equal(stub_neigh_parse(m, n, 77, out, &got, 4), -1);
	assert_int_equal(got, 0);
	/* An attribute longer than its message: the entry is skipped. */
	n = t_neigh(m, 0, 28, 77, 10, 0x02, "fd5e:0:0:2::50");
	(void)t_put16(m, 16 + 12, 200);
	assert_int_equal(stub_neigh_parse(m, n, 77, out, &got, 4), 0);
	assert_int_equal(got, 0);
	/* Trailing bytes shorter than a header are ignored. */
	assert_int_equal(stub_neigh_parse(m, 8, 77, out, &got, 4), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_answer),
		cmocka_unit_test(test_neigh),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_ptr_name),
		cmocka_unit_test(test_ptr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
