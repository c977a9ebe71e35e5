/* SPDX-License-Identifier: ISC */
/*
 * netwatch.c - rtnetlink notifications and the sleep clock, for noticing
 * a change of the way to the SSH server at once (netwatch.h).
 *
 * The parsers only look at the bytes they are given and skip what they
 * cannot use: the kernel is trusted to speak rtnetlink, but a message of a
 * newer kernel, or one cut short, must not be misread.  Messages are
 * walked here rather than with mnl_nlmsg_ok()/mnl_nlmsg_next(), which
 * compare the length as an int and so accept one above INT_MAX; libmnl's
 * attribute walkers are used inside a message whose length was checked.
 */
#include <sys/socket.h>

#include <net/if.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "netwatch.h"

#define NETWATCH_BUF	32768	/* one read: a burst comes in parts this big */
#define NETWATCH_RCVBUF	(256 * 1024)	/* a flapping link's burst fits */

struct netwatch {
	struct mnl_socket	*ev;		/* the groups' notifications */
	struct mnl_socket	*q;		/* route queries, answered at once */
	unsigned		 seq;
	uint8_t			 buf[NETWATCH_BUF];
};

/* ---- pure ---- */

/* The message at *off of buf[0..len), or NULL when none fits there; *off
 * moves past it.  Its padded length must fit too: libmnl's attribute
 * walkers end at the padded end. */
static const struct nlmsghdr *
netwatch_msg(const void *buf, size_t len, size_t *off)
{
	const struct nlmsghdr	*nlh;
	size_t			 step;

	if (*off > len || len - *off < sizeof(*nlh))
		return NULL;
	nlh = (const struct nlmsghdr *)((const uint8_t *)buf + *off);
	/* The length is checked before it is rounded up: NLMSG_ALIGN() of
	 * one near 4 GiB wraps to 0. */
	if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - *off)
		return NULL;
	step = NLMSG_ALIGN((size_t)nlh->nlmsg_len);
	if (step > len - *off)
		return NULL;
	*off += step;
	return nlh;
}

static void
netwatch_add(struct netwatch_change *c, enum netwatch_kind kind, int ifindex,
    uint8_t family)
{
	size_t	i;

	for (i = 0; i < c->nev; i++)
		if (c->ev[i].kind == kind && c->ev[i].ifindex == ifindex &&
		    c->ev[i].family == family)
			return;
	if (c->nev == NETWATCH_MAX_EVENTS) {
		c->overflow = true;
		return;
	}
	c->ev[c->nev].kind = kind;
	c->ev[c->nev].ifindex = ifindex;
	c->ev[c->nev].family = family;
	c->nev++;
}

static void
netwatch_link(struct netwatch_change *c, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg	*ifi;
	unsigned		 run = IFF_UP | IFF_RUNNING;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (ifi->ifi_index <= 0 || (ifi->ifi_flags & IFF_LOOPBACK) != 0)
		return;
	if (nlh->nlmsg_type == RTM_DELLINK)
		netwatch_add(c, NETWATCH_LINK_GONE, ifi->ifi_index, 0);
	else
		netwatch_add(c, (ifi->ifi_flags & run) == run ? NETWATCH_LINK_UP :
		    NETWATCH_LINK_DOWN, ifi->ifi_index, 0);
}

static void
netwatch_addr(struct netwatch_change *c, const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg	*ifa;
	const struct nlattr	*at;
	struct ifa_cacheinfo	 ci;
	struct addr		 a;
	uint8_t			 family;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family == AF_INET)
		family = ADDR_V4;
	else if (ifa->ifa_family == AF_INET6)
		family = ADDR_V6;
	else
		return;
	if (ifa->ifa_index == 0 || ifa->ifa_index > INT32_MAX)
		return;
	mnl_attr_for_each(at, nlh, sizeof(*ifa)) {
		switch (mnl_attr_get_type(at)) {
		case IFA_ADDRESS:
		case IFA_LOCAL:
			/* Loopback addresses never carry the session. */
			if (mnl_attr_get_payload_len(at) != addr_size(family))
				break;
			addr_set(&a, family, mnl_attr_get_payload(at), 0);
			if (addr_is_loopback(&a))
				return;
			break;
		case IFA_CACHEINFO:
			/* Updated after it was created: the same address with
			 * its lifetimes renewed, no change of the way out. */
			if (nlh->nlmsg_type == RTM_NEWADDR &&
			    mnl_attr_get_payload_len(at) >= sizeof(ci)) {
				memcpy(&ci, mnl_attr_get_payload(at), sizeof(ci));
				if (ci.tstamp != ci.cstamp)
					return;
			}
			break;
		}
	}
	netwatch_add(c, nlh->nlmsg_type == RTM_NEWADDR ? NETWATCH_ADDR_NEW : NETWATCH_ADDR_DEL,
	    (int)ifa->ifa_index, family);
}

static void
netwatch_route_msg(struct netwatch_change *c, const struct nlmsghdr *nlh)
{
	const struct rtmsg	*rtm;
	const struct nlattr	*at;
	uint32_t		 table;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return;
	table = rtm->rtm_table;
	mnl_attr_for_each(at, nlh, sizeof(*rtm)) {
		if (mnl_attr_get_type(at) == RTA_TABLE &&
		    mnl_attr_validate(at, MNL_TYPE_U32) == 0)
			table = mnl_attr_get_u32(at);
	}
	/* The local table follows the addresses, which are watched as such;
	 * a cache entry is no change of routing. */
	if (table == RT_TABLE_LOCAL || (rtm->rtm_flags & RTM_F_CLONED) != 0)
		return;
	netwatch_add(c, NETWATCH_ROUTE, 0, 0);
}

size_t
netwatch_parse(struct netwatch_change *c, const void *buf, size_t len)
{
	const struct nlmsghdr	*nlh;
	size_t			 n = 0, off = 0;

	while ((nlh = netwatch_msg(buf, len, &off)) != NULL) {
		n++;
		c->nmsg++;
		switch (nlh->nlmsg_type) {
		case RTM_NEWLINK:
		case RTM_DELLINK:
			netwatch_link(c, nlh);
			break;
		case RTM_NEWADDR:
		case RTM_DELADDR:
			netwatch_addr(c, nlh);
			break;
		case RTM_NEWROUTE:
		case RTM_DELROUTE:
			netwatch_route_msg(c, nlh);
			break;
		}
	}
	return n;
}

/* An address attribute of the route's family into *a, if it is one. */
static void
netwatch_attr_addr(const struct nlattr *at, uint8_t family, struct addr *a)
{
	if (mnl_attr_get_payload_len(at) == addr_size(family))
		addr_set(a, family, mnl_attr_get_payload(at), 0);
}

int
netwatch_parse_route(const void *msg, size_t len, struct netwatch_path *p)
{
	const struct nlmsghdr	*nlh;
	const struct rtmsg	*rtm;
	const struct nlattr	*at;
	const struct rtnexthop	*nh;
	uint8_t			 family;
	size_t			 off = 0;

	memset(p, 0, sizeof(*p));
	if ((nlh = netwatch_msg(msg, len, &off)) == NULL ||
	    nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return -1;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family == AF_INET)
		family = ADDR_V4;
	else if (rtm->rtm_family == AF_INET6)
		family = ADDR_V6;
	else
		return -1;
	/* Unreachable, prohibit, blackhole: no way out. */
	if (rtm->rtm_type != RTN_UNICAST && rtm->rtm_type != RTN_LOCAL)
		return 0;
	mnl_attr_for_each(at, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(at)) {
		case RTA_OIF:
			if (mnl_attr_validate(at, MNL_TYPE_U32) == 0)
				p->oif = (int)mnl_attr_get_u32(at);
			break;
		case RTA_GATEWAY:
			netwatch_attr_addr(at, family, &p->gw);
			break;
		case RTA_PREFSRC:
			netwatch_attr_addr(at, family, &p->src);
			break;
		case RTA_MULTIPATH:
			/* The first hop stands for the route. */
			nh = mnl_attr_get_payload(at);
			if (p->oif == 0 && mnl_attr_get_payload_len(at) >= sizeof(*nh) &&
			    nh->rtnh_len >= sizeof(*nh) &&
			    nh->rtnh_len <= mnl_attr_get_payload_len(at))
				p->oif = nh->rtnh_ifindex;
			break;
		}
	}
	if (p->oif <= 0) {
		memset(p, 0, sizeof(*p));
		return 0;
	}
	p->ok = true;
	p->family = family;
	return 0;
}

bool
netwatch_path_same(const struct netwatch_path *a, const struct netwatch_path *b)
{
	if (a->ok != b->ok)
		return false;
	if (!a->ok)
		return true;
	return a->oif == b->oif && a->gw.family == b->gw.family &&
	    (a->gw.family == 0 || addr_same_host(&a->gw, &b->gw)) &&
	    a->src.family == b->src.family &&
	    (a->src.family == 0 || addr_same_host(&a->src, &b->src));
}

static void
netwatch_ifname(netwatch_ifname_fn *name, int ifindex, char buf[IF_NAMESIZE])
{
	if (name != NULL)
		name(ifindex, buf);
	else
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
}

void
netwatch_path_str(const struct netwatch_path *p, netwatch_ifname_fn *name, char *out,
    size_t outlen)
{
	char	gw[ADDR_STRLEN], src[ADDR_STRLEN], dev[IF_NAMESIZE];

	if (!p->ok) {
		snprintf(out, outlen, "no route");
		return;
	}
	netwatch_ifname(name, p->oif, dev);
	snprintf(out, outlen, "%s%s%sdev %s%s%s",
	    p->gw.family != 0 ? "via " : "",
	    p->gw.family != 0 ? addr_format(&p->gw, false, gw, sizeof(gw)) : "",
	    p->gw.family != 0 ? " " : "", dev,
	    p->src.family != 0 ? " src " : "",
	    p->src.family != 0 ? addr_format(&p->src, false, src, sizeof(src)) : "");
}

/* Did (or does) one of the paths go out through ifindex, of this family
 * (0: any)?  An IPv6 address that comes and goes beside an IPv4 session
 * changes nothing for it (a changed route would show). */
static bool
netwatch_uses(const struct netwatch_path *old, const struct netwatch_path *now, size_t n,
    int ifindex, uint8_t family)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (old[i].ok && old[i].oif == ifindex &&
		    (family == 0 || old[i].family == family))
			return true;
		if (now[i].ok && now[i].oif == ifindex &&
		    (family == 0 || now[i].family == family))
			return true;
	}
	return false;
}

unsigned
netwatch_decide(const struct netwatch_change *c, const struct netwatch_path *old,
    const struct netwatch_path *now, size_t n, netwatch_ifname_fn *name, char *why,
    size_t whylen)
{
	static const char *const what[] = {
		[NETWATCH_ADDR_NEW] = "an address was added on",
		[NETWATCH_ADDR_DEL] = "an address was removed from",
		[NETWATCH_LINK_UP] = "link up:",
		[NETWATCH_LINK_DOWN] = "link down:",
		[NETWATCH_LINK_GONE] = "link removed:",
	};
	char		a[80], b[80], dev[IF_NAMESIZE];
	unsigned	d = 0;
	size_t		i;
	bool		said = false;

	if (whylen > 0)
		why[0] = '\0';
	for (i = 0; i < n; i++) {
		if (netwatch_path_same(&old[i], &now[i]))
			continue;
		d |= NETWATCH_D_PROBE | NETWATCH_D_RETRY;
		if (!said) {
			netwatch_path_str(&old[i], name, a, sizeof(a));
			netwatch_path_str(&now[i], name, b, sizeof(b));
			snprintf(why, whylen, "the route to the server changed (%s, now %s)", a, b);
			said = true;
		}
	}
	if (c->overflow) {
		d |= NETWATCH_D_PROBE | NETWATCH_D_RETRY;
		if (!said) {
			snprintf(why, whylen, "too many network changes at once");
			said = true;
		}
	}
	for (i = 0; i < c->nev; i++) {
		const struct netwatch_event *e = &c->ev[i];

		if (e->kind == NETWATCH_ROUTE)
			continue;
		if (e->kind == NETWATCH_ADDR_NEW || e->kind == NETWATCH_LINK_UP)
			d |= NETWATCH_D_RETRY;
		if (!netwatch_uses(old, now, n, e->ifindex, e->family))
			continue;
		d |= NETWATCH_D_PROBE;
		if (!said && (size_t)e->kind < sizeof(what) / sizeof(what[0])) {
			netwatch_ifname(name, e->ifindex, dev);
			snprintf(why, whylen, "%s %s", what[e->kind], dev);
			said = true;
		}
	}
	if (d != 0 && !said) {
		/* A retry for a change elsewhere. */
		for (i = 0; i < c->nev; i++)
			if (c->ev[i].kind == NETWATCH_ADDR_NEW || c->ev[i].kind == NETWATCH_LINK_UP)
				break;
		if (i < c->nev) {
			netwatch_ifname(name, c->ev[i].ifindex, dev);
			snprintf(why, whylen, "%s %s", what[c->ev[i].kind], dev);
		}
	}
	return d;
}

static int64_t
netwatch_ms(clockid_t id)
{
	struct timespec	ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
netwatch_clock_offset(void)
{
	int64_t	mono = netwatch_ms(CLOCK_MONOTONIC);

	return netwatch_ms(CLOCK_BOOTTIME) - mono;
}

uint64_t
netwatch_slept(int64_t before, int64_t now)
{
	/* Both clocks run alike while awake; only sleep parts them. */
	if (now - before > NETWATCH_SLEEP_MS)
		return (uint64_t)(now - before);
	return 0;
}

/* ---- the kernel ---- */

static struct mnl_socket *
netwatch_socket(unsigned groups, char *err, size_t errlen)
{
	struct mnl_socket	*nl;

	if ((nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK)) == NULL) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		return NULL;
	}
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) != 0) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

struct netwatch *
netwatch_open(char *err, size_t errlen)
{
	struct netwatch	*nw;
	int		 sz = NETWATCH_RCVBUF;

	if ((nw = calloc(1, sizeof(*nw))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((nw->ev = netwatch_socket(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
	    RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE, err, errlen)) == NULL ||
	    (nw->q = netwatch_socket(0, err, errlen)) == NULL) {
		netwatch_close(nw);
		return NULL;
	}
	/* Best effort: a lost burst is noticed (ENOBUFS) and taken as a
	 * change anyway. */
	(void)setsockopt(mnl_socket_get_fd(nw->ev), SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return nw;
}

void
netwatch_close(struct netwatch *nw)
{
	if (nw == NULL)
		return;
	if (nw->ev != NULL)
		mnl_socket_close(nw->ev);
	if (nw->q != NULL)
		mnl_socket_close(nw->q);
	free(nw);
}

int
netwatch_fd(const struct netwatch *nw)
{
	return mnl_socket_get_fd(nw->ev);
}

int
netwatch_read(struct netwatch *nw, struct netwatch_change *c, char *err, size_t errlen)
{
	ssize_t	n;

	for (;;) {
		n = recv(mnl_socket_get_fd(nw->ev), nw->buf, sizeof(nw->buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == ENOBUFS) {
			c->overflow = true;
			continue;
		}
		if (n <= 0) {
			snprintf(err, errlen, "rtnetlink: %s", n == 0 ? "closed" :
			    strerror(errno));
			return -1;
		}
		(void)netwatch_parse(c, nw->buf, (size_t)n);
	}
}

int
netwatch_route(struct netwatch *nw, const struct addr *dst, struct netwatch_path *p,
    char *err, size_t errlen)
{
	struct nlmsghdr		*nlh;
	const struct nlmsghdr	*r;
	struct rtmsg		*rtm;
	const struct nlmsgerr	*e;
	ssize_t			 n;
	unsigned		 seq = ++nw->seq;
	size_t			 off;

	memset(p, 0, sizeof(*p));
	nlh = mnl_nlmsg_put_header(nw->buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)addr_af(dst->family);
	rtm->rtm_dst_len = (uint8_t)(8 * addr_size(dst->family));
	mnl_attr_put(nlh, RTA_DST, addr_size(dst->family), dst->bytes);
	if (dst->scope != 0)
		mnl_attr_put_u32(nlh, RTA_OIF, dst->scope);
	if (mnl_socket_sendto(nw->q, nlh, nlh->nlmsg_len) < 0) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		return -1;
	}
	/* The kernel answers inside the send: the answer is queued by now.
	 * Older answers (a query that gave up) are skipped by their seq. */
	for (;;) {
		n = recv(mnl_socket_get_fd(nw->q), nw->buf, sizeof(nw->buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "rtnetlink: %s", n == 0 ? "closed" :
			    errno == EAGAIN ? "no answer" : strerror(errno));
			return -1;
		}
		off = 0;
		while ((r = netwatch_msg(nw->buf, (size_t)n, &off)) != NULL) {
			if (r->nlmsg_seq != seq)
				continue;
			if (r->nlmsg_type == NLMSG_ERROR) {
				/* ENETUNREACH and friends: no route, which is
				 * an answer. */
				if (mnl_nlmsg_get_payload_len(r) < sizeof(*e)) {
					snprintf(err, errlen, "rtnetlink: short error");
					return -1;
				}
				return 0;
			}
			(void)netwatch_parse_route(r, (size_t)r->nlmsg_len, p);
			return 0;
		}
	}
}
