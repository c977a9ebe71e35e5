/* SPDX-License-Identifier: ISC */
/*
 * netinfo.c - interfaces, addresses and default routes over rtnetlink,
 * and the gateway's default LAN sources (netinfo.h).
 *
 * libmnl builds the requests and walks the answers; the handlers below
 * only look at what they were given and skip what they cannot use, so
 * that the unit tests can feed them made-up messages.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "log.h"
#include "netinfo.h"

#define NETINFO_BUF		32768	/* a dump's messages come in parts this big */
#define NETINFO_MAX_HOPS	16	/* next hops of one route looked at */
#define NETINFO_PUBLIC_SHOWN	3	/* public addresses named in the warning */

/* What the handlers take from one route message. */
struct netinfo_route {
	uint8_t		dst_len, type;
	uint32_t	table;
	int		oif[NETINFO_MAX_HOPS];
	size_t		noif;
};

/* ---- pure helpers ---- */

/* Clear the host bits of a (prefix bits kept). */
static void
netinfo_mask(struct addr *a, unsigned prefix)
{
	size_t	n = addr_size(a->family), i;

	for (i = 0; i < n; i++) {
		if (prefix >= 8 * (i + 1))
			continue;
		if (prefix <= 8 * i)
			a->bytes[i] = 0;
		else
			a->bytes[i] &= (uint8_t)(0xff << (8 * (i + 1) - prefix));
	}
	a->port = 0;
	a->scope = 0;
}

/* Is a inside net/prefix? */
static bool
netinfo_in(const struct addr *a, const struct addr *net, unsigned prefix)
{
	struct addr	m = *a;

	if (a->family != net->family)
		return false;
	netinfo_mask(&m, prefix);
	return addr_same_host(&m, net);
}

/* Do two networks share an address (one holds the other)? */
static bool
netinfo_overlap(const struct netinfo_net *a, const struct addr *net, unsigned prefix)
{
	return a->prefix <= prefix ? netinfo_in(net, &a->net, a->prefix) :
	    netinfo_in(&a->net, net, prefix);
}

static bool
netinfo_range(const struct addr *a, const char *net, unsigned prefix)
{
	struct addr	n;

	if (addr_parse(&n, net, (size_t)-1, 0, 0) != 0)
		return false;
	return netinfo_in(a, &n, prefix);
}

bool
netinfo_is_public(const struct addr *a)
{
	static const struct {
		const char	*net;
		unsigned	 prefix;
	} local[] = {
		{ "0.0.0.0", 8 }, { "127.0.0.0", 8 }, { "10.0.0.0", 8 },
		{ "172.16.0.0", 12 }, { "192.168.0.0", 16 }, { "100.64.0.0", 10 },
		{ "169.254.0.0", 16 }, { "192.0.2.0", 24 }, { "198.51.100.0", 24 },
		{ "203.0.113.0", 24 }, { "198.18.0.0", 15 },
		{ "::", 128 }, { "::1", 128 }, { "fe80::", 10 }, { "fc00::", 7 },
		{ "2001:db8::", 32 },
	};
	size_t	i;

	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (netinfo_range(a, local[i].net, local[i].prefix))
			return false;
	return true;
}

static bool
netinfo_linklocal_net(const struct addr *net, unsigned prefix)
{
	return (prefix >= 16 && netinfo_range(net, "169.254.0.0", 16)) ||
	    (prefix >= 10 && netinfo_range(net, "fe80::", 10));
}

/* ---- messages ---- */

static struct netinfo_if *
netinfo_if_get(struct netinfo *ni, int index)
{
	size_t	i;

	for (i = 0; i < ni->nifs; i++)
		if (ni->ifs[i].index == index)
			return &ni->ifs[i];
	if (ni->nifs == NETINFO_MAX_IFS) {
		ni->truncated = true;
		return NULL;
	}
	memset(&ni->ifs[ni->nifs], 0, sizeof(ni->ifs[0]));
	ni->ifs[ni->nifs].index = index;
	return &ni->ifs[ni->nifs++];
}

static void
netinfo_link(struct netinfo *ni, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg	*ifi;
	const struct nlattr	*at;
	struct netinfo_if	*nif;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (ifi->ifi_index <= 0 || (nif = netinfo_if_get(ni, ifi->ifi_index)) == NULL)
		return;
	nif->loopback = (ifi->ifi_flags & IFF_LOOPBACK) != 0;
	mnl_attr_for_each(at, nlh, sizeof(*ifi)) {
		if (mnl_attr_get_type(at) == IFLA_IFNAME &&
		    mnl_attr_validate(at, MNL_TYPE_NUL_STRING) == 0)
			snprintf(nif->name, sizeof(nif->name), "%s",
			    mnl_attr_get_str(at));
	}
}

/* An address attribute of the message's family, or NULL. */
static const void *
netinfo_attr_addr(const struct nlattr *at, uint8_t family)
{
	return mnl_attr_get_payload_len(at) == addr_size(family) ?
	    mnl_attr_get_payload(at) : NULL;
}

static void
netinfo_addr(struct netinfo *ni, const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg	*ifa;
	const struct nlattr	*at;
	const void		*address = NULL, *local = NULL;
	struct netinfo_addr	*na;
	uint8_t			 family;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family == AF_INET && ifa->ifa_prefixlen <= 32)
		family = ADDR_V4;
	else if (ifa->ifa_family == AF_INET6 && ifa->ifa_prefixlen <= 128)
		family = ADDR_V6;
	else
		return;
	mnl_attr_for_each(at, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(at) == IFA_ADDRESS)
			address = netinfo_attr_addr(at, family);
		else if (mnl_attr_get_type(at) == IFA_LOCAL)
			local = netinfo_attr_addr(at, family);
	}
	if (address == NULL)
		address = local;
	if (local == NULL)
		local = address;
	if (address == NULL || ifa->ifa_index == 0)
		return;
	if (ni->naddrs == NETINFO_MAX_ADDRS) {
		ni->truncated = true;
		return;
	}
	na = &ni->addrs[ni->naddrs++];
	memset(na, 0, sizeof(*na));
	na->ifindex = (int)ifa->ifa_index;
	na->prefix = ifa->ifa_prefixlen;
	addr_set(&na->local, family, local, 0);
	addr_set(&na->net, family, address, 0);
	netinfo_mask(&na->net, na->prefix);
}

static void
netinfo_hops(struct netinfo_route *r, const struct nlattr *at)
{
	const struct rtnexthop	*nh = mnl_attr_get_payload(at);
	size_t			 left = mnl_attr_get_payload_len(at), step;

	while (left >= sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) &&
	    nh->rtnh_len <= left) {
		if (r->noif < NETINFO_MAX_HOPS && nh->rtnh_ifindex > 0)
			r->oif[r->noif++] = nh->rtnh_ifindex;
		step = (size_t)RTNH_ALIGN(nh->rtnh_len);
		if (step >= left)
			break;
		left -= step;
		nh = (const struct rtnexthop *)((const char *)nh + step);
	}
}

/* 0 with *r filled, -1 when the message is not a usable route. */
static int
netinfo_route(const struct nlmsghdr *nlh, struct netinfo_route *r)
{
	const struct rtmsg	*rtm;
	const struct nlattr	*at;

	memset(r, 0, sizeof(*r));
	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return -1;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return -1;
	r->dst_len = rtm->rtm_dst_len;
	r->type = rtm->rtm_type;
	r->table = rtm->rtm_table;
	mnl_attr_for_each(at, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(at)) {
		case RTA_TABLE:
			if (mnl_attr_validate(at, MNL_TYPE_U32) == 0)
				r->table = mnl_attr_get_u32(at);
			break;
		case RTA_OIF:
			if (mnl_attr_validate(at, MNL_TYPE_U32) == 0 &&
			    mnl_attr_get_u32(at) > 0 && r->noif < NETINFO_MAX_HOPS)
				r->oif[r->noif++] = (int)mnl_attr_get_u32(at);
			break;
		case RTA_MULTIPATH:
			netinfo_hops(r, at);
			break;
		}
	}
	return 0;
}

static void
netinfo_default_route(struct netinfo *ni, const struct nlmsghdr *nlh)
{
	struct netinfo_route	r;
	size_t			i, j;

	/* Unreachable or blackhole defaults lead nowhere; the local table
	 * holds this host's own addresses. */
	if (netinfo_route(nlh, &r) != 0 || r.dst_len != 0 || r.type != RTN_UNICAST ||
	    r.table == RT_TABLE_LOCAL)
		return;
	for (i = 0; i < r.noif; i++) {
		for (j = 0; j < ni->nuplink; j++)
			if (ni->uplink[j] == r.oif[i])
				break;
		if (j < ni->nuplink)
			continue;
		if (ni->nuplink == NETINFO_MAX_IFS) {
			ni->truncated = true;
			return;
		}
		ni->uplink[ni->nuplink++] = r.oif[i];
	}
}

static int
netinfo_msg_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct netinfo	*ni = arg;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
		netinfo_link(ni, nlh);
		break;
	case RTM_NEWADDR:
		netinfo_addr(ni, nlh);
		break;
	case RTM_NEWROUTE:
		netinfo_default_route(ni, nlh);
		break;
	}
	return MNL_CB_OK;
}

int
netinfo_parse(struct netinfo *ni, const void *buf, size_t len, unsigned seq,
    unsigned portid)
{
	int	r;

	r = mnl_cb_run(buf, len, seq, portid, netinfo_msg_cb, ni);
	if (r == MNL_CB_ERROR)
		return -1;
	return r == MNL_CB_STOP ? 1 : 0;
}

int
netinfo_parse_route_oif(const void *msg, size_t len, int *oif)
{
	const struct nlmsghdr	*nlh = msg;
	struct netinfo_route	 r;

	if (len < sizeof(*nlh) || !mnl_nlmsg_ok(nlh, (int)len) ||
	    netinfo_route(nlh, &r) != 0 || r.noif == 0)
		return -1;
	*oif = r.oif[0];
	return 0;
}

/* ---- the kernel ---- */

static struct mnl_socket *
netinfo_open(char *err, size_t errlen)
{
	struct mnl_socket	*nl;

	if ((nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)) == NULL) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) != 0) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* One dump of `type`, whose request carries a zeroed header of hdrlen. */
static int
netinfo_dump(struct mnl_socket *nl, struct netinfo *ni, uint16_t type, size_t hdrlen,
    unsigned seq, char *buf, char *err, size_t errlen)
{
	struct nlmsghdr	*nlh;
	unsigned char	*hdr;
	ssize_t		 n;
	int		 r;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	hdr = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	hdr[0] = AF_UNSPEC;	/* the family comes first in each of them */
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		if ((n = mnl_socket_recvfrom(nl, buf, NETINFO_BUF)) <= 0) {
			snprintf(err, errlen, "rtnetlink: %s", n == 0 ?
			    "unexpected end" : strerror(errno));
			return -1;
		}
		r = netinfo_parse(ni, buf, (size_t)n, seq, mnl_socket_get_portid(nl));
		if (r < 0) {
			snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
			return -1;
		}
		if (r == 1)
			return 0;
	}
}

int
netinfo_read(struct netinfo *ni, char *err, size_t errlen)
{
	struct mnl_socket	*nl;
	char			*buf;
	int			 r = -1;

	memset(ni, 0, sizeof(*ni));
	if ((buf = malloc(NETINFO_BUF)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((nl = netinfo_open(err, errlen)) == NULL)
		goto out;
	if (netinfo_dump(nl, ni, RTM_GETLINK, sizeof(struct ifinfomsg), 1, buf,
	    err, errlen) != 0 ||
	    netinfo_dump(nl, ni, RTM_GETADDR, sizeof(struct ifaddrmsg), 2, buf,
	    err, errlen) != 0 ||
	    netinfo_dump(nl, ni, RTM_GETROUTE, sizeof(struct rtmsg), 3, buf,
	    err, errlen) != 0)
		goto out;
	r = 0;
 out:
	if (nl != NULL)
		mnl_socket_close(nl);
	free(buf);
	return r;
}

int
netinfo_route_oif(const struct addr *dst, int *oif, char *err, size_t errlen)
{
	struct mnl_socket	*nl;
	struct nlmsghdr		*nlh;
	struct rtmsg		*rtm;
	const struct nlmsgerr	*e;
	char			*buf;
	ssize_t			 n;
	int			 r = -1;

	/* A link-local address names its interface itself. */
	if (dst->scope != 0) {
		*oif = (int)dst->scope;
		return 0;
	}
	if ((buf = malloc(NETINFO_BUF)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((nl = netinfo_open(err, errlen)) == NULL)
		goto out;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = 1;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)addr_af(dst->family);
	rtm->rtm_dst_len = (uint8_t)(8 * addr_size(dst->family));
	mnl_attr_put(nlh, RTA_DST, addr_size(dst->family), dst->bytes);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ||
	    (n = mnl_socket_recvfrom(nl, buf, NETINFO_BUF)) < 0) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		goto out;
	}
	nlh = (struct nlmsghdr *)buf;
	if (n >= (ssize_t)sizeof(*nlh) && mnl_nlmsg_ok(nlh, (int)n) &&
	    nlh->nlmsg_type == NLMSG_ERROR &&
	    mnl_nlmsg_get_payload_len(nlh) >= sizeof(*e)) {
		e = mnl_nlmsg_get_payload(nlh);
		snprintf(err, errlen, "%s", strerror(-e->error));
		goto out;
	}
	if (netinfo_parse_route_oif(buf, (size_t)n, oif) != 0) {
		snprintf(err, errlen, "no route");
		goto out;
	}
	r = 0;
 out:
	if (nl != NULL)
		mnl_socket_close(nl);
	free(buf);
	return r;
}

/* ---- the choice ---- */

const char *
netinfo_ifname(const struct netinfo *ni, int index)
{
	size_t	i;

	for (i = 0; i < ni->nifs; i++)
		if (ni->ifs[i].index == index && ni->ifs[i].name[0] != '\0')
			return ni->ifs[i].name;
	return "?";
}

static bool
netinfo_int_in(int v, const int *set, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}

static bool
netinfo_if_loopback(const struct netinfo *ni, int index)
{
	size_t	i;

	for (i = 0; i < ni->nifs; i++)
		if (ni->ifs[i].index == index)
			return ni->ifs[i].loopback;
	return false;
}

/* The world outside: an uplink, or the way to the SSH server. */
static bool
netinfo_if_outward(const struct netinfo *ni, int index, const int *avoid_if,
    size_t navoid_if)
{
	return netinfo_int_in(index, ni->uplink, ni->nuplink) ||
	    netinfo_int_in(index, avoid_if, navoid_if);
}

/* Does a listener on listen[] take what reaches address a's interface? */
static bool
netinfo_listens(const struct netinfo *ni, const struct netinfo_addr *a,
    const struct addr *listen, size_t nlisten)
{
	size_t	i, j;

	for (i = 0; i < nlisten; i++) {
		if (listen[i].family != a->net.family || addr_is_loopback(&listen[i]))
			continue;
		if (addr_is_any(&listen[i]))
			return true;
		/* The interfaces that hold the listen address. */
		for (j = 0; j < ni->naddrs; j++)
			if (ni->addrs[j].ifindex == a->ifindex &&
			    addr_same_host(&ni->addrs[j].local, &listen[i]))
				return true;
	}
	return false;
}

/* Does net/prefix overlap a network of the world outside? */
static bool
netinfo_outward_overlap(const struct netinfo *ni, const struct netinfo_net *net,
    const int *avoid_if, size_t navoid_if)
{
	const struct netinfo_addr	*b;
	size_t				 j;

	for (j = 0; j < ni->naddrs; j++) {
		b = &ni->addrs[j];
		if (b->prefix == 0 || netinfo_linklocal_net(&b->net, b->prefix) ||
		    !netinfo_if_outward(ni, b->ifindex, avoid_if, navoid_if))
			continue;
		if (netinfo_overlap(net, &b->net, b->prefix))
			return true;
	}
	return false;
}

size_t
netinfo_lan(const struct netinfo *ni, const struct addr *listen, size_t nlisten,
    const int *avoid_if, size_t navoid_if, const struct addr *avoid, size_t navoid,
    struct netinfo_net *out, size_t max)
{
	const struct netinfo_addr	*a;
	size_t				 n = 0, i, k;

	for (i = 0; i < ni->naddrs && n < max; i++) {
		a = &ni->addrs[i];
		if (a->prefix == 0 || netinfo_linklocal_net(&a->net, a->prefix) ||
		    addr_is_loopback(&a->net) || netinfo_if_loopback(ni, a->ifindex) ||
		    netinfo_if_outward(ni, a->ifindex, avoid_if, navoid_if) ||
		    !netinfo_listens(ni, a, listen, nlisten))
			continue;
		out[n].net = a->net;
		out[n].prefix = a->prefix;
		out[n].ifindex = a->ifindex;
		if (netinfo_outward_overlap(ni, &out[n], avoid_if, navoid_if))
			continue;
		for (k = 0; k < navoid; k++)
			if (netinfo_in(&avoid[k], &out[n].net, out[n].prefix))
				break;
		if (k < navoid)
			continue;
		for (k = 0; k < n; k++)
			if (out[k].prefix == out[n].prefix &&
			    addr_same_host(&out[k].net, &out[n].net))
				break;
		if (k == n)
			n++;
	}
	return n;
}

/* ---- the gateway ---- */

static void
netinfo_fmt_net(const struct addr *net, unsigned prefix, char *buf, size_t len)
{
	char	a[ADDR_STRLEN];

	snprintf(buf, len, "%s/%u", addr_format(net, false, a, sizeof(a)), prefix);
}

/* Append ", s" (or s) to list[len]. */
static void
netinfo_list_add(char *list, size_t len, const char *s)
{
	size_t	used = strlen(list);

	if (used < len)
		snprintf(list + used, len - used, "%s%s", used > 0 ? ", " : "", s);
}

/* A warning for each listen address that hosts elsewhere may reach. */
static void
netinfo_warn_public(const struct netinfo *ni, const struct addr *listen, size_t nlisten)
{
	char	list[512], a[ADDR_STRLEN];
	size_t	i, j, shown;

	for (i = 0; i < nlisten; i++) {
		if (addr_is_loopback(&listen[i]))
			continue;
		if (!addr_is_any(&listen[i])) {
			if (netinfo_is_public(&listen[i]))
				log_warn("the gateway listens on the public address %s: "
				    "hosts beyond the local networks may reach it",
				    addr_format(&listen[i], false, a, sizeof(a)));
			continue;
		}
		list[0] = '\0';
		for (j = shown = 0; j < ni->naddrs; j++) {
			if (ni->addrs[j].local.family != listen[i].family ||
			    netinfo_if_loopback(ni, ni->addrs[j].ifindex) ||
			    !netinfo_is_public(&ni->addrs[j].local))
				continue;
			if (shown++ < NETINFO_PUBLIC_SHOWN)
				netinfo_list_add(list, sizeof(list), addr_format(
				    &ni->addrs[j].local, false, a, sizeof(a)));
		}
		if (shown > 0)
			log_warn("the gateway listens on %s, which includes the public "
			    "address%s %s%s: hosts beyond the local networks may reach it",
			    addr_format(&listen[i], false, a, sizeof(a)),
			    shown == 1 ? "" : "es", list, shown > NETINFO_PUBLIC_SHOWN ?
			    ", ..." : "");
	}
}

void
netinfo_gateway(const struct addr *listen, size_t nlisten, const struct fw_allow *given,
    int ngiven, const struct addr *ssh, size_t nssh, struct fw_allow *allow, int *nallow)
{
	struct netinfo		*ni = NULL;
	struct netinfo_net	 nets[FW_MAX_ALLOW];
	struct addr		 a;
	int			 avoid_if[FW_MAX_EXEMPT];
	size_t			 navoid_if = 0, n, i;
	char			 err[256], list[1024], one[ADDR_STRLEN + 32 + IF_NAMESIZE];

	*nallow = 0;
	list[0] = '\0';
	if ((ni = calloc(1, sizeof(*ni))) == NULL || netinfo_read(ni, err, sizeof(err)) != 0) {
		log_warn("cannot read this host's networks: %s", ni == NULL ?
		    "out of memory" : err);
		if (ni != NULL)
			memset(ni, 0, sizeof(*ni));
	}
	if (ni != NULL) {
		if (ni->truncated)
			log_debug("more interfaces, addresses or routes than fit: "
			    "some left out");
		netinfo_warn_public(ni, listen, nlisten);
	}
	if (ngiven > 0) {
		for (i = 0; i < (size_t)ngiven && i < FW_MAX_ALLOW; i++) {
			allow[i] = given[i];
			addr_set(&a, given[i].family, given[i].addr, 0);
			netinfo_fmt_net(&a, given[i].prefix, one, sizeof(one));
			netinfo_list_add(list, sizeof(list), one);
		}
		*nallow = (int)i;
		log_info("LAN sources allowed: %s (--allow-from)", list);
		goto out;
	}
	if (ni == NULL)
		goto none;
	/* The way to the SSH server is nobody's LAN either. */
	for (i = 0; i < nssh && navoid_if < FW_MAX_EXEMPT; i++)
		if (netinfo_route_oif(&ssh[i], &avoid_if[navoid_if], err, sizeof(err)) == 0)
			navoid_if++;
		else
			log_debug("no route to %s: %s", addr_format(&ssh[i], false, one,
			    sizeof(one)), err);
	n = netinfo_lan(ni, listen, nlisten, avoid_if, navoid_if, ssh, nssh, nets,
	    FW_MAX_ALLOW);
	for (i = 0; i < n; i++) {
		memset(&allow[i], 0, sizeof(allow[i]));
		allow[i].family = nets[i].net.family;
		allow[i].prefix = nets[i].prefix;
		memcpy(allow[i].addr, nets[i].net.bytes, addr_size(nets[i].net.family));
		netinfo_fmt_net(&nets[i].net, nets[i].prefix, one, sizeof(one));
		snprintf(one + strlen(one), sizeof(one) - strlen(one), " (%s)",
		    netinfo_ifname(ni, nets[i].ifindex));
		netinfo_list_add(list, sizeof(list), one);
	}
	*nallow = (int)n;
	if (n > 0) {
		log_info("LAN sources allowed: %s", list);
		goto out;
	}
 none:
	log_warn("nobody can use the gateway: name networks with --allow-from "
	    "(the networks of the interfaces with a default route, or towards "
	    "the SSH server, are never allowed by default)");
 out:
	free(ni);
}
