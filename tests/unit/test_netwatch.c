/* SPDX-License-Identifier: ISC */
/*
 * test_netwatch.c - what netwatch makes of rtnetlink notifications (made
 * here with libmnl, as the kernel sends them), of the kernel's answer to
 * a route query, and what it decides from a burst: probe the session
 * when the way to the server (or its interface) changed, not for a change
 * elsewhere; retry at once when the network may be back; a sleep is a
 * jump of boottime over monotonic.
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

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include <cmocka.h>

#include "netwatch.h"

#define IF_LO	1
#define IF_WLAN	2	/* the way to the server */
#define IF_ETH	3	/* another interface */

struct msgs {
	char	buf[8192];
	size_t	len;
};

static struct nlmsghdr *
put(struct msgs *m, uint16_t type)
{
	struct nlmsghdr	*nlh = mnl_nlmsg_put_header(m->buf + m->len);

	nlh->nlmsg_type = type;
	return nlh;
}

static void
done(struct msgs *m, struct nlmsghdr *nlh)
{
	m->len += NLMSG_ALIGN(nlh->nlmsg_len);
	assert_true(m->len < sizeof(m->buf));
}

static void
link_msg(struct msgs *m, uint16_t type, int index, unsigned flags)
{
	struct nlmsghdr		*nlh = put(m, type);
	struct ifinfomsg	*ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_index = index;
	ifi->ifi_flags = flags;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "x");
	done(m, nlh);
}

/* cstamp, tstamp: IFA_CACHEINFO's, none when both are 0. */
static void
addr_msg_ci(struct msgs *m, uint16_t type, int index, const char *a, uint32_t cstamp,
    uint32_t tstamp)
{
	struct nlmsghdr		*nlh = put(m, type);
	struct ifa_cacheinfo	 ci = { 3600, 7200, cstamp, tstamp };
	struct ifaddrmsg	*ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	uint8_t			 b[16];
	int			 af = strchr(a, ':') != NULL ? AF_INET6 : AF_INET;

	ifa->ifa_family = (uint8_t)af;
	ifa->ifa_prefixlen = af == AF_INET ? 24 : 64;
	ifa->ifa_index = (uint32_t)index;
	assert_int_equal(inet_pton(af, a, b), 1);
	mnl_attr_put(nlh, IFA_ADDRESS, af == AF_INET ? 4 : 16, b);
	if (cstamp != 0 || tstamp != 0)
		mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
	done(m, nlh);
}

static void
addr_msg(struct msgs *m, uint16_t type, int index, const char *a)
{
	addr_msg_ci(m, type, index, a, 0, 0);
}

static void
route_msg(struct msgs *m, uint16_t type, uint8_t table, unsigned flags)
{
	struct nlmsghdr	*nlh = put(m, type);
	struct rtmsg	*rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET;
	rtm->rtm_table = table;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_flags = flags;
	mnl_attr_put_u32(nlh, RTA_OIF, IF_WLAN);
	done(m, nlh);
}

static bool
has(const struct netwatch_change *c, enum netwatch_kind k, int ifindex)
{
	size_t	i;

	for (i = 0; i < c->nev; i++)
		if (c->ev[i].kind == k && c->ev[i].ifindex == ifindex)
			return true;
	return false;
}

static void
test_parse(void **state)
{
	struct netwatch_change	c;
	struct msgs		m = { .len = 0 };

	(void)state;
	memset(&c, 0, sizeof(c));
	addr_msg(&m, RTM_DELADDR, IF_WLAN, "198.18.0.1");
	addr_msg(&m, RTM_NEWADDR, IF_WLAN, "198.18.5.1");
	addr_msg(&m, RTM_NEWADDR, IF_WLAN, "198.18.6.1");	/* kept once */
	addr_msg(&m, RTM_NEWADDR, IF_LO, "127.0.0.2");		/* loopback: skipped */
	addr_msg_ci(&m, RTM_NEWADDR, IF_ETH, "fd00::2", 500, 900);	/* a refresh: skipped */
	addr_msg_ci(&m, RTM_DELADDR, IF_ETH, "fd00::3", 500, 900);	/* gone all the same */
	addr_msg(&m, RTM_DELADDR, IF_ETH, "fd00::1");
	link_msg(&m, RTM_NEWLINK, IF_ETH, IFF_UP | IFF_RUNNING);
	link_msg(&m, RTM_NEWLINK, IF_WLAN, IFF_UP);		/* no carrier */
	link_msg(&m, RTM_DELLINK, 9, 0);
	link_msg(&m, RTM_NEWLINK, IF_LO, IFF_UP | IFF_RUNNING | IFF_LOOPBACK);
	route_msg(&m, RTM_DELROUTE, RT_TABLE_MAIN, 0);
	route_msg(&m, RTM_NEWROUTE, RT_TABLE_MAIN, 0);
	assert_int_equal(netwatch_parse(&c, m.buf, m.len), 13);
	assert_int_equal(c.nmsg, 13);
	assert_false(c.overflow);
	assert_true(has(&c, NETWATCH_ADDR_DEL, IF_WLAN));
	assert_true(has(&c, NETWATCH_ADDR_NEW, IF_WLAN));
	assert_true(has(&c, NETWATCH_ADDR_DEL, IF_ETH));
	assert_true(has(&c, NETWATCH_LINK_UP, IF_ETH));
	assert_true(has(&c, NETWATCH_LINK_DOWN, IF_WLAN));
	assert_true(has(&c, NETWATCH_LINK_GONE, 9));
	assert_true(has(&c, NETWATCH_ROUTE, 0));
	assert_false(has(&c, NETWATCH_ADDR_NEW, IF_LO));
	assert_false(has(&c, NETWATCH_LINK_UP, IF_LO));
	assert_false(has(&c, NETWATCH_ADDR_NEW, IF_ETH));
	assert_int_equal(c.nev, 7);
	/* Each address event knows its family. */
	assert_int_equal(c.ev[0].kind, NETWATCH_ADDR_DEL);
	assert_int_equal(c.ev[0].family, ADDR_V4);
	memset(&c, 0, sizeof(c));
	m.len = 0;
	addr_msg_ci(&m, RTM_NEWADDR, IF_ETH, "fd00::2", 500, 500);	/* new */
	netwatch_parse(&c, m.buf, m.len);
	assert_true(has(&c, NETWATCH_ADDR_NEW, IF_ETH));
	assert_int_equal(c.ev[0].family, ADDR_V6);
}

/* The local table and cached routes are no change of routing; short and
 * cut messages are skipped without reading past the buffer. */
static void
test_parse_skip(void **state)
{
	struct netwatch_change	c;
	struct msgs		m = { .len = 0 };
	struct nlmsghdr		*nlh;
	int			 i;

	(void)state;
	memset(&c, 0, sizeof(c));
	route_msg(&m, RTM_NEWROUTE, RT_TABLE_LOCAL, 0);
	route_msg(&m, RTM_NEWROUTE, RT_TABLE_MAIN, RTM_F_CLONED);
	nlh = put(&m, RTM_NEWADDR);	/* no ifaddrmsg */
	done(&m, nlh);
	nlh = put(&m, RTM_NEWLINK);
	done(&m, nlh);
	assert_int_equal(netwatch_parse(&c, m.buf, m.len), 4);
	assert_int_equal(c.nev, 0);
	/* Cut in the middle of the first message: nothing read. */
	assert_int_equal(netwatch_parse(&c, m.buf, 10), 0);
	/* A length past the buffer, or one that would wrap when rounded up
	 * (libmnl's own walker takes it as a negative int): not a message. */
	nlh = (struct nlmsghdr *)m.buf;
	nlh->nlmsg_len = 0xffffffffU;
	assert_int_equal(netwatch_parse(&c, m.buf, m.len), 0);
	nlh->nlmsg_len = 0x80000010U;
	assert_int_equal(netwatch_parse(&c, m.buf, m.len), 0);
	/* A last message whose padding is missing is cut short. */
	nlh->nlmsg_len = 17;
	assert_int_equal(netwatch_parse(&c, m.buf, 17), 0);
	assert_int_equal(netwatch_parse(&c, m.buf, 20), 1);
	/* Too many events: overflow, never more than fit. */
	memset(&c, 0, sizeof(c));
	m.len = 0;
	for (i = 0; i < NETWATCH_MAX_EVENTS + 5; i++)
		link_msg(&m, RTM_NEWLINK, 10 + i, IFF_UP | IFF_RUNNING);
	netwatch_parse(&c, m.buf, m.len);
	assert_true(c.overflow);
	assert_int_equal(c.nev, NETWATCH_MAX_EVENTS);
}

static struct addr
ad(const char *s)
{
	struct addr	a;

	assert_int_equal(addr_parse(&a, s, strlen(s), 0, 0), 0);
	return a;
}

static void
test_parse_route(void **state)
{
	struct msgs		m = { .len = 0 };
	struct nlmsghdr		*nlh = put(&m, RTM_NEWROUTE);
	struct rtmsg		*rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct netwatch_path	p;
	struct addr		gw = ad("198.18.5.2"), src = ad("198.18.5.1");
	char			s[128];

	(void)state;
	rtm->rtm_family = AF_INET;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_OIF, IF_WLAN);
	mnl_attr_put(nlh, RTA_GATEWAY, 4, gw.bytes);
	mnl_attr_put(nlh, RTA_PREFSRC, 4, src.bytes);
	assert_int_equal(netwatch_parse_route(nlh, nlh->nlmsg_len, &p), 0);
	assert_true(p.ok);
	assert_int_equal(p.family, ADDR_V4);
	assert_int_equal(p.oif, IF_WLAN);
	assert_true(addr_same_host(&p.gw, &gw));
	assert_true(addr_same_host(&p.src, &src));
	netwatch_path_str(&p, NULL, s, sizeof(s));
	assert_string_equal(s, "via 198.18.5.2 dev #2 src 198.18.5.1");
	/* Cut short, or not a route: no path. */
	assert_int_equal(netwatch_parse_route(nlh, 8, &p), -1);
	assert_false(p.ok);
	nlh->nlmsg_type = RTM_NEWADDR;
	assert_int_equal(netwatch_parse_route(nlh, nlh->nlmsg_len, &p), -1);
	/* Unreachable: an answer, without a way out. */
	nlh->nlmsg_type = RTM_NEWROUTE;
	rtm->rtm_type = RTN_UNREACHABLE;
	assert_int_equal(netwatch_parse_route(nlh, nlh->nlmsg_len, &p), 0);
	assert_false(p.ok);
	netwatch_path_str(&p, NULL, s, sizeof(s));
	assert_string_equal(s, "no route");
	/* A gateway of the wrong size is not one. */
	m.len = 0;
	nlh = put(&m, RTM_NEWROUTE);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_OIF, IF_ETH);
	mnl_attr_put(nlh, RTA_GATEWAY, 3, gw.bytes);
	assert_int_equal(netwatch_parse_route(nlh, nlh->nlmsg_len, &p), 0);
	assert_true(p.ok);
	assert_int_equal(p.gw.family, 0);
	netwatch_path_str(&p, NULL, s, sizeof(s));
	assert_string_equal(s, "dev #3");
}

static struct netwatch_path
path(int oif, const char *gw, const char *src)
{
	struct netwatch_path	p;

	memset(&p, 0, sizeof(p));
	p.ok = oif != 0;
	p.family = p.ok ? ADDR_V4 : 0;
	p.oif = oif;
	if (gw != NULL)
		p.gw = ad(gw);
	if (src != NULL)
		p.src = ad(src);
	return p;
}

static void
test_path_same(void **state)
{
	struct netwatch_path	a = path(IF_WLAN, "198.18.0.2", "198.18.0.1"), b = a;

	(void)state;
	assert_true(netwatch_path_same(&a, &b));
	b.src = ad("198.18.5.1");
	assert_false(netwatch_path_same(&a, &b));
	b = path(IF_ETH, "198.18.0.2", "198.18.0.1");
	assert_false(netwatch_path_same(&a, &b));
	b = path(IF_WLAN, NULL, "198.18.0.1");
	assert_false(netwatch_path_same(&a, &b));
	b = path(0, NULL, NULL);
	assert_false(netwatch_path_same(&a, &b));
	a = path(0, NULL, NULL);
	assert_true(netwatch_path_same(&a, &b));
}

static void
test_decide(void **state)
{
	struct netwatch_change	c;
	struct netwatch_path	old[2], now[2];
	char			why[200];
	unsigned		d;

	(void)state;
	old[0] = now[0] = path(IF_WLAN, NULL, "198.18.0.1");
	old[1] = now[1] = path(0, NULL, NULL);	/* the server's IPv6: no route */

	/* Nothing at all: nothing to do. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(netwatch_decide(&c, old, now, 2, NULL, why, sizeof(why)), 0);

	/* Routes changed elsewhere, the path did not: nothing. */
	c.ev[c.nev++] = (struct netwatch_event){ NETWATCH_ROUTE, 0, 0 };
	assert_int_equal(netwatch_decide(&c, old, now, 2, NULL, why, sizeof(why)), 0);

	/* An address removed elsewhere: nothing; added elsewhere: a retry
	 * between sessions, no probe. */
	c.ev[c.nev++] = (struct netwatch_event){ NETWATCH_ADDR_DEL, IF_ETH, ADDR_V4 };
	assert_int_equal(netwatch_decide(&c, old, now, 2, NULL, why, sizeof(why)), 0);
	c.ev[c.nev++] = (struct netwatch_event){ NETWATCH_ADDR_NEW, IF_ETH, ADDR_V4 };
	d = netwatch_decide(&c, old, now, 2, NULL, why, sizeof(why));
	assert_int_equal(d, NETWATCH_D_RETRY);
	assert_string_equal(why, "an address was added on #3");

	/* The session's interface lost an address: probe. */
	memset(&c, 0, sizeof(c));
	c.ev[c.nev++] = (struct netwatch_event){ NETWATCH_ADDR_DEL, IF_WLAN, ADDR_V4 };
	d = netwatch_decide(&c, old, now, 2, NULL, why, sizeof(why));
	assert_true(d & NETWATCH_D_PROBE);
	assert_string_equal(why, "an address was removed from #2");

	/* An IPv6 address there, beside an IPv4 session (whose route did not
	 * change): nothing to probe. */
	memset(&c, 0, sizeof(c));
	c.ev[c.nev++] = (struct netwatch_event){ NETWATCH_ADDR_DEL, IF_WLAN, ADDR_V6 };
	assert_int_equal(netwatch_decide(&c, old, now, 2, NULL, why, sizeof(why)), 0);
	c.ev[0].kind = NETWATCH_ADDR_NEW;
	assert_int_equal(netwatch_decide(&c, old, now, 2, NULL, why, sizeof(why)),
	    NETWATCH_D_RETRY);

	/* Its link went down: probe. */
	memset(&c, 0, sizeof(c));
	c.ev[c.nev++] = (struct netwatch_event){ NETWATCH_LINK_DOWN, IF_WLAN, 0 };
	d = netwatch_decide(&c, old, now, 2, NULL, why, sizeof(why));
	assert_int_equal(d, NETWATCH_D_PROBE);
	assert_string_equal(why, "link down: #2");

	/* The path changed (another source): probe and retry, and the
	 * reason says how. */
	memset(&c, 0, sizeof(c));
	c.ev[c.nev++] = (struct netwatch_event){ NETWATCH_ROUTE, 0, 0 };
	now[0] = path(IF_WLAN, "198.18.5.2", "198.18.5.1");
	d = netwatch_decide(&c, old, now, 2, NULL, why, sizeof(why));
	assert_int_equal(d, NETWATCH_D_PROBE | NETWATCH_D_RETRY);
	assert_string_equal(why, "the route to the server changed (dev #2 src 198.18.0.1, "
	    "now via 198.18.5.2 dev #2 src 198.18.5.1)");

	/* Events on the interface the path moved to count too. */
	now[0] = path(IF_ETH, NULL, NULL);
	old[0] = now[0];
	c.nev = 0;
	c.ev[c.nev++] = (struct netwatch_event){ NETWATCH_LINK_UP, IF_ETH, 0 };
	d = netwatch_decide(&c, old, now, 2, NULL, why, sizeof(why));
	assert_int_equal(d, NETWATCH_D_PROBE | NETWATCH_D_RETRY);

	/* Lost notifications: assume the worst. */
	memset(&c, 0, sizeof(c));
	c.overflow = true;
	d = netwatch_decide(&c, old, now, 2, NULL, why, sizeof(why));
	assert_int_equal(d, NETWATCH_D_PROBE | NETWATCH_D_RETRY);
	assert_string_equal(why, "too many network changes at once");

	/* A route back after none: retry. */
	memset(&c, 0, sizeof(c));
	old[0] = path(0, NULL, NULL);
	now[0] = path(IF_WLAN, "10.0.0.1", NULL);
	d = netwatch_decide(&c, old, now, 1, NULL, why, sizeof(why));
	assert_true(d & NETWATCH_D_RETRY);
}

static void
test_slept(void **state)
{
	(void)state;
	assert_int_equal(netwatch_slept(1000, 1000), 0);
	assert_int_equal(netwatch_slept(1000, 1000 + NETWATCH_SLEEP_MS), 0);
	assert_int_equal(netwatch_slept(1000, 1000 + NETWATCH_SLEEP_MS + 1),
	    NETWATCH_SLEEP_MS + 1);
	assert_int_equal(netwatch_slept(5000, 65000), 60000);
	/* Never backwards. */
	assert_int_equal(netwatch_slept(65000, 5000), 0);
	/* This machine is awake: its clocks agree within the threshold. */
	{
		int64_t	a = netwatch_clock_offset(), b = netwatch_clock_offset();

		assert_int_equal(netwatch_slept(a, b), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_skip),
		cmocka_unit_test(test_parse_route),
		cmocka_unit_test(test_path_same),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_slept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
