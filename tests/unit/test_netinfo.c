/* SPDX-License-Identifier: ISC */
/*
 * test_netinfo.c - what netinfo makes of rtnetlink messages (made here
 * with libmnl, as the kernel would send them), and the LAN networks a
 * gateway serves by default: the listening interfaces' own networks,
 * never those of an uplink or of the way to the SSH server, nor one that
 * holds the SSH server or overlaps the uplink's.  And which addresses
 * count as public.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>

#include <errno.h>
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

#include "netinfo.h"

#define IF_LO	1
#define IF_WAN	2	/* the default route */
#define IF_LAN	3
#define IF_LAB	4	/* where the SSH server is */
#define IF_PPP	5

/* A buffer of messages, built one after the other. */
struct msgs {
	char	buf[16384];
	size_t	len;
};

static struct nlmsghdr *
put(struct msgs *m, uint16_t type, unsigned seq)
{
	struct nlmsghdr	*nlh = mnl_nlmsg_put_header(m->buf + m->len);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = 77;
	return nlh;
}

static void
done(struct msgs *m, struct nlmsghdr *nlh)
{
	m->len += NLMSG_ALIGN(nlh->nlmsg_len);
	assert_true(m->len < sizeof(m->buf));
}

static void
link_msg(struct msgs *m, int index, const char *name, unsigned flags)
{
	struct nlmsghdr		*nlh = put(m, RTM_NEWLINK, 1);
	struct ifinfomsg	*ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_index = index;
	ifi->ifi_flags = flags | IFF_UP;
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	done(m, nlh);
}

/* local NULL: IFA_ADDRESS only (IPv6 style); peer: IFA_ADDRESS differs. */
static void
addr_msg(struct msgs *m, int index, const char *address, const char *local,
    unsigned prefix)
{
	struct nlmsghdr		*nlh = put(m, RTM_NEWADDR, 2);
	struct ifaddrmsg	*ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	uint8_t			 b[16];
	int			 af = strchr(address, ':') != NULL ? AF_INET6 : AF_INET;
	size_t			 n = af == AF_INET ? 4 : 16;

	ifa->ifa_family = (uint8_t)af;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_index = (uint32_t)index;
	assert_int_equal(inet_pton(af, address, b), 1);
	mnl_attr_put(nlh, IFA_ADDRESS, n, b);
	if (local != NULL) {
		assert_int_equal(inet_pton(af, local, b), 1);
		mnl_attr_put(nlh, IFA_LOCAL, n, b);
	}
	mnl_attr_put_strz(nlh, IFA_LABEL, "x");
	done(m, nlh);
}

/* A route; oif 0: none; hops: a multipath route through these. */
static struct nlmsghdr *
route_msg(struct msgs *m, uint16_t type, int af, unsigned dst_len, uint8_t rtype,
    uint32_t table, int oif, const int *hops, size_t nhops)
{
	struct nlmsghdr	*nlh = put(m, type, 3);
	struct rtmsg	*rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct nlattr	*mp;
	struct rtnexthop *nh;
	size_t		 i;

	rtm->rtm_family = (uint8_t)af;
	rtm->rtm_dst_len = (uint8_t)dst_len;
	rtm->rtm_type = rtype;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	if (oif != 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	if (nhops > 0) {
		mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
		for (i = 0; i < nhops; i++) {
			nh = (struct rtnexthop *)((char *)nlh + nlh->nlmsg_len);
			memset(nh, 0, sizeof(*nh));
			nh->rtnh_len = sizeof(*nh);
			nh->rtnh_ifindex = hops[i];
			nlh->nlmsg_len += RTNH_ALIGN(sizeof(*nh));
		}
		mnl_attr_nest_end(nlh, mp);
	}
	done(m, nlh);
	return nlh;
}

static void
done_msg(struct msgs *m, unsigned seq)
{
	struct nlmsghdr	*nlh = put(m, NLMSG_DONE, seq);
	int		*zero = mnl_nlmsg_put_extra_header(nlh, sizeof(int));

	*zero = 0;
	done(m, nlh);
}

/*
 * The host of most tests:
 *   lo   127.0.0.1/8, ::1/128
 *   wan  198.51.100.7/24, 2001:db8:1::7/64, fe80::7/64; both default routes
 *        (the IPv6 one multipath through wan and ppp0)
 *   lan  192.168.7.1/24, fd00:7::1/64, fe80::1/64, 10.9.0.1/16
 *   lab  198.18.0.1/24 (the way to the SSH server, 198.18.0.2)
 *   ppp0 10.64.0.2 peer 10.64.0.1/32
 * plus routes that are no default one (a subnet, an unreachable default
 * in table 100, a default in the local table).
 */
static void
host(struct netinfo *ni)
{
	static struct msgs	m;
	static const int	hops[] = { IF_WAN, IF_PPP };

	memset(&m, 0, sizeof(m));
	link_msg(&m, IF_LO, "lo", IFF_LOOPBACK);
	link_msg(&m, IF_WAN, "wan", 0);
	link_msg(&m, IF_LAN, "lan", 0);
	link_msg(&m, IF_LAB, "lab", 0);
	link_msg(&m, IF_PPP, "ppp0", IFF_POINTOPOINT);
	addr_msg(&m, IF_LO, "127.0.0.1", "127.0.0.1", 8);
	addr_msg(&m, IF_LO, "::1", NULL, 128);
	addr_msg(&m, IF_WAN, "198.51.100.7", "198.51.100.7", 24);
	addr_msg(&m, IF_WAN, "2001:db8:1::7", NULL, 64);
	addr_msg(&m, IF_WAN, "fe80::7", NULL, 64);
	addr_msg(&m, IF_LAN, "192.168.7.1", "192.168.7.1", 24);
	addr_msg(&m, IF_LAN, "fd00:7::1", NULL, 64);
	addr_msg(&m, IF_LAN, "fe80::1", NULL, 64);
	addr_msg(&m, IF_LAN, "10.9.0.1", "10.9.0.1", 16);
	addr_msg(&m, IF_LAB, "198.18.0.1", "198.18.0.1", 24);
	addr_msg(&m, IF_PPP, "10.64.0.1", "10.64.0.2", 32);
	route_msg(&m, RTM_NEWROUTE, AF_INET, 0, RTN_UNICAST, RT_TABLE_MAIN, IF_WAN,
	    NULL, 0);
	route_msg(&m, RTM_NEWROUTE, AF_INET6, 0, RTN_UNICAST, RT_TABLE_MAIN, 0,
	    hops, 2);
	route_msg(&m, RTM_NEWROUTE, AF_INET, 24, RTN_UNICAST, RT_TABLE_MAIN, IF_LAN,
	    NULL, 0);
	route_msg(&m, RTM_NEWROUTE, AF_INET, 0, RTN_UNREACHABLE, 100, 0, NULL, 0);
	route_msg(&m, RTM_NEWROUTE, AF_INET, 0, RTN_UNICAST, RT_TABLE_LOCAL, IF_LAB,
	    NULL, 0);
	route_msg(&m, RTM_NEWROUTE, AF_INET, 0, RTN_BLACKHOLE, RT_TABLE_MAIN, IF_LAB,
	    NULL, 0);
	done_msg(&m, 3);
	memset(ni, 0, sizeof(*ni));
	assert_int_equal(netinfo_parse(ni, m.buf, m.len, 0, 0), 1);
}

static struct addr
ad(const char *s)
{
	struct addr	a;

	assert_int_equal(addr_parse(&a, s, (size_t)-1, 0, 0), 0);
	return a;
}

static void
test_parse(void **state)
{
	static struct netinfo	ni;
	size_t			i;
	char			a[ADDR_STRLEN], b[ADDR_STRLEN];

	(void)state;
	host(&ni);
	assert_int_equal(ni.nifs, 5);
	assert_true(ni.ifs[0].loopback);
	assert_false(ni.ifs[1].loopback);
	assert_string_equal(netinfo_ifname(&ni, IF_LAN), "lan");
	assert_string_equal(netinfo_ifname(&ni, IF_PPP), "ppp0");
	assert_string_equal(netinfo_ifname(&ni, 99), "?");
	assert_int_equal(ni.naddrs, 11);
	/* The network from IFA_ADDRESS, the host's own from IFA_LOCAL. */
	for (i = 0; i < ni.naddrs; i++)
		if (ni.addrs[i].ifindex == IF_PPP)
			break;
	assert_true(i < ni.naddrs);
	assert_string_equal(addr_format(&ni.addrs[i].local, false, a, sizeof(a)),
	    "10.64.0.2");
	assert_string_equal(addr_format(&ni.addrs[i].net, false, b, sizeof(b)),
	    "10.64.0.1");
	assert_int_equal(ni.addrs[i].prefix, 32);
	/* Host bits cleared. */
	assert_string_equal(addr_format(&ni.addrs[5].net, false, a, sizeof(a)),
	    "192.168.7.0");
	assert_string_equal(addr_format(&ni.addrs[5].local, false, a, sizeof(a)),
	    "192.168.7.1");
	assert_string_equal(addr_format(&ni.addrs[8].net, false, a, sizeof(a)),
	    "10.9.0.0");
	assert_string_equal(addr_format(&ni.addrs[6].net, false, a, sizeof(a)),
	    "fd00:7::");
	/* Unicast default routes only, any table but local: wan (both
	 * families, once), ppp0 (a next hop of the IPv6 one). */
	assert_int_equal(ni.nuplink, 2);
	assert_int_equal(ni.uplink[0], IF_WAN);
	assert_int_equal(ni.uplink[1], IF_PPP);
	assert_false(ni.truncated);
}

static void
test_parse_bad(void **state)
{
	static struct netinfo	ni;
	static struct msgs	m;
	struct nlmsghdr		*nlh;
	struct ifaddrmsg	*ifa;
	struct nlmsgerr		*e;
	uint8_t			 six[6] = { 0 };

	(void)state;
	/* Attributes of the wrong size, short messages, unknown types: skipped. */
	memset(&m, 0, sizeof(m));
	nlh = put(&m, RTM_NEWADDR, 2);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 24;
	ifa->ifa_index = 3;
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(six), six);
	done(&m, nlh);
	nlh = put(&m, RTM_NEWADDR, 2);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 33;
	ifa->ifa_index = 3;
	mnl_attr_put(nlh, IFA_ADDRESS, 4, six);
	done(&m, nlh);
	nlh = put(&m, RTM_NEWLINK, 1);
	done(&m, nlh);		/* no ifinfomsg at all */
	nlh = put(&m, RTM_NEWROUTE, 3);
	done(&m, nlh);
	nlh = put(&m, RTM_NEWNEIGH, 3);
	done(&m, nlh);
	memset(&ni, 0, sizeof(ni));
	/* No DONE yet: more to come. */
	assert_int_equal(netinfo_parse(&ni, m.buf, m.len, 0, 0), 0);
	assert_int_equal(ni.naddrs, 0);
	assert_int_equal(ni.nifs, 0);
	assert_int_equal(ni.nuplink, 0);

	/* The kernel refusing the dump. */
	memset(&m, 0, sizeof(m));
	nlh = put(&m, NLMSG_ERROR, 1);
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = -EPERM;
	done(&m, nlh);
	errno = 0;
	assert_int_equal(netinfo_parse(&ni, m.buf, m.len, 0, 0), -1);
	assert_int_equal(errno, EPERM);
	/* Another request's answer. */
	memset(&m, 0, sizeof(m));
	link_msg(&m, 9, "x", 0);
	assert_int_equal(netinfo_parse(&ni, m.buf, m.len, 5, 0), -1);
	assert_int_equal(netinfo_parse(&ni, m.buf, m.len, 1, 78), -1);
	assert_int_equal(netinfo_parse(&ni, m.buf, m.len, 1, 77), 0);
	assert_int_equal(ni.nifs, 1);
}

static void
test_route_oif(void **state)
{
	static struct msgs	m;
	struct nlmsghdr		*nlh;
	static const int	hops[] = { 7, 8 };
	int			oif = -1;

	(void)state;
	memset(&m, 0, sizeof(m));
	nlh = route_msg(&m, RTM_NEWROUTE, AF_INET, 32, RTN_UNICAST, RT_TABLE_MAIN,
	    IF_LAB, NULL, 0);
	assert_int_equal(netinfo_parse_route_oif(nlh, nlh->nlmsg_len, &oif), 0);
	assert_int_equal(oif, IF_LAB);
	memset(&m, 0, sizeof(m));
	nlh = route_msg(&m, RTM_NEWROUTE, AF_INET6, 128, RTN_UNICAST, RT_TABLE_MAIN,
	    0, hops, 2);
	assert_int_equal(netinfo_parse_route_oif(nlh, nlh->nlmsg_len, &oif), 0);
	assert_int_equal(oif, 7);
	memset(&m, 0, sizeof(m));
	nlh = route_msg(&m, RTM_NEWROUTE, AF_INET, 32, RTN_UNREACHABLE, RT_TABLE_MAIN,
	    0, NULL, 0);
	assert_int_equal(netinfo_parse_route_oif(nlh, nlh->nlmsg_len, &oif), -1);
	/* Short, or not a route. */
	assert_int_equal(netinfo_parse_route_oif(nlh, 10, &oif), -1);
	memset(&m, 0, sizeof(m));
	link_msg(&m, 9, "x", 0);
	assert_int_equal(netinfo_parse_route_oif(m.buf, m.len, &oif), -1);
}

/* netinfo_lan() as "net/prefix (ifindex)" joined by spaces. */
static const char *
lan(const struct netinfo *ni, const char *const *listen, const int *avoid_if,
    size_t navoid_if, const char *const *avoid)
{
	static char		out[1024];
	struct addr		l[4], v[4];
	struct netinfo_net	nets[FW_MAX_ALLOW];
	char			a[ADDR_STRLEN];
	size_t			nl = 0, nv = 0, n, i;

	for (nl = 0; listen[nl] != NULL; nl++)
		l[nl] = ad(listen[nl]);
	for (nv = 0; avoid != NULL && avoid[nv] != NULL; nv++)
		v[nv] = ad(avoid[nv]);
	n = netinfo_lan(ni, l, nl, avoid_if, navoid_if, v, nv, nets, FW_MAX_ALLOW);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s/%u (%d)",
		    i > 0 ? " " : "", addr_format(&nets[i].net, false, a, sizeof(a)),
		    nets[i].prefix, nets[i].ifindex);
	return out;
}

#define L(...)	((const char *const[]){ __VA_ARGS__, NULL })

static void
test_lan(void **state)
{
	static struct netinfo	ni;
	static const int	lab[] = { IF_LAB }, lan_if[] = { IF_LAN };

	(void)state;
	host(&ni);
	/* 0.0.0.0: every interface but lo, the uplinks (wan, and ppp0 for
	 * its IPv6 default route) and the way to the SSH server (lab). */
	assert_string_equal(lan(&ni, L("0.0.0.0"), lab, 1, L("198.18.0.2")),
	    "192.168.7.0/24 (3) 10.9.0.0/16 (3)");
	/* Without knowing the way, the SSH server's network still is not
	 * allowed: it holds the server. */
	assert_string_equal(lan(&ni, L("0.0.0.0"), NULL, 0, L("198.18.0.2")),
	    "192.168.7.0/24 (3) 10.9.0.0/16 (3)");
	/* Not knowing either, lab is a LAN like any other. */
	assert_string_equal(lan(&ni, L("0.0.0.0"), NULL, 0, NULL),
	    "192.168.7.0/24 (3) 10.9.0.0/16 (3) 198.18.0.0/24 (4)");
	/* ::, with 0.0.0.0: both families; link-local never. */
	assert_string_equal(lan(&ni, L("::", "0.0.0.0"), lab, 1, NULL),
	    "192.168.7.0/24 (3) fd00:7::/64 (3) 10.9.0.0/16 (3)");
	/* One address: the interfaces that hold it, its family. */
	assert_string_equal(lan(&ni, L("10.9.0.1"), lab, 1, NULL),
	    "192.168.7.0/24 (3) 10.9.0.0/16 (3)");
	assert_string_equal(lan(&ni, L("fd00:7::1"), lab, 1, NULL), "fd00:7::/64 (3)");
	/* On the uplink, on the way to the server, on loopback: nothing. */
	assert_string_equal(lan(&ni, L("198.51.100.7"), lab, 1, NULL), "");
	assert_string_equal(lan(&ni, L("198.18.0.1"), lab, 1, NULL), "");
	assert_string_equal(lan(&ni, L("127.0.0.1", "::1"), NULL, 0, NULL), "");
	assert_string_equal(lan(&ni, L("192.0.2.1"), NULL, 0, NULL), "");
	/* The SSH server behind the LAN interface: that one is out too. */
	assert_string_equal(lan(&ni, L("0.0.0.0"), lan_if, 1, L("192.168.7.20")),
	    "198.18.0.0/24 (4)");
	assert_string_equal(lan(&ni, L("0.0.0.0"), NULL, 0, L("192.168.7.20")),
	    "10.9.0.0/16 (3) 198.18.0.0/24 (4)");
}

static void
test_lan_overlap(void **state)
{
	static struct netinfo	ni;
	static struct msgs	m;

	(void)state;
	/* A LAN network that holds the uplink's, or lies inside it, would
	 * let the uplink's hosts in: left out, also when listed twice. */
	memset(&m, 0, sizeof(m));
	link_msg(&m, 2, "wan", 0);
	link_msg(&m, 3, "lan", 0);
	link_msg(&m, 4, "lan2", 0);
	addr_msg(&m, 2, "10.1.0.5", "10.1.0.5", 16);
	addr_msg(&m, 3, "10.2.0.1", "10.2.0.1", 8);
	addr_msg(&m, 3, "10.1.2.1", "10.1.2.1", 24);
	addr_msg(&m, 3, "172.16.0.1", "172.16.0.1", 24);
	addr_msg(&m, 4, "172.16.0.2", "172.16.0.2", 24);
	addr_msg(&m, 4, "0.0.0.0", "0.0.0.0", 0);
	route_msg(&m, RTM_NEWROUTE, AF_INET, 0, RTN_UNICAST, RT_TABLE_MAIN, 2, NULL, 0);
	done_msg(&m, 3);
	memset(&ni, 0, sizeof(ni));
	assert_int_equal(netinfo_parse(&ni, m.buf, m.len, 0, 0), 1);
	assert_string_equal(lan(&ni, L("0.0.0.0"), NULL, 0, NULL), "172.16.0.0/24 (3)");
}

static void
test_public(void **state)
{
	static const char *const priv[] = {
		"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"100.64.0.1", "100.127.255.254", "169.254.1.1", "198.18.5.1",
		"198.19.0.1", "192.0.2.1", "203.0.113.9", "0.0.0.0", "::", "::1",
		"fe80::1", "fd5e::1", "fc00::1", "2001:db8::5", NULL,
	};
	static const char *const pub[] = {
		"8.8.8.8", "172.32.0.1", "100.128.0.1", "192.169.0.1", "1.1.1.1",
		"198.20.0.1", "2001:4860::8888", "2a00::1", NULL,
	};
	size_t	i;

	(void)state;
	for (i = 0; priv[i] != NULL; i++) {
		struct addr a = ad(priv[i]);

		if (netinfo_is_public(&a))
			fail_msg("%s is not public", priv[i]);
	}
	for (i = 0; pub[i] != NULL; i++) {
		struct addr a = ad(pub[i]);

		if (!netinfo_is_public(&a))
			fail_msg("%s is public", pub[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_route_oif),
		cmocka_unit_test(test_lan),
		cmocka_unit_test(test_lan_overlap),
		cmocka_unit_test(test_public),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
