/* SPDX-License-Identifier: ISC */
/*
 * fw_route.c - the policy rule and local route of UDP capture, over
 * rtnetlink; see fw_route.h.
 *
 * Why not `ip rule` and `ip route`: the helper runs no programs (it is
 * privileged, and a PATH is the caller's to choose), and netlink tells
 * exactly what failed.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "fw.h"
#include "fw_route.h"
#include "log.h"

#define FW_ROUTE_LO_IFINDEX	1	/* lo, in every network namespace */
#define FW_ROUTE_TIMEOUT_MS	5000	/* the kernel answers at once */
#define FW_ROUTE_MAXADDED	4	/* rule and route, two families */
#define FW_ROUTE_MAXROUTES	64	/* routes of one stale table */

/* What fw_route_add() put in place, to undo. */
struct fw_route_added {
	int		 family;
	uint32_t	 table;
	bool		 rule;
	bool		 route;
};

struct fw_route {
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint32_t		 seq;
	struct fw_route_added	 added[FW_ROUTE_MAXADDED];
	int			 nadded;
};

/* ---- pure: messages ---- */

static bool
fw_route_family_ok(int family)
{
	return family == AF_INET || family == AF_INET6;
}

/* A table of cshuttle's own range, not one --tmark named. */
static bool
fw_route_table_ours(uint32_t table)
{
	return (table & FW_MARK_RANGE_MASK) == FW_TPROXY_MARK_BASE;
}

struct nlmsghdr *
fw_route_rule_msg(void *buf, size_t len, uint16_t type, int family,
    uint32_t table, uint32_t prio, uint8_t proto, uint32_t seq)
{
	struct nlmsghdr		*nlh;
	struct fib_rule_hdr	*frh;

	if (len < FW_ROUTE_MSGMAX || !fw_route_family_ok(family) ||
	    (type != RTM_NEWRULE && type != RTM_DELRULE) || table == 0)
		return NULL;
	memset(buf, 0, FW_ROUTE_MSGMAX);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	/* EXCL: a rule of ours that is already there is someone else's. */
	if (type == RTM_NEWRULE)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_seq = seq;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (uint8_t)family;
	frh->action = FR_ACT_TO_TBL;
	/* A table above 255 does not fit here: FRA_TABLE carries it. */
	frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_FWMARK, table);
	mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffffU);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, prio);
	if (proto != 0)
		mnl_attr_put_u8(nlh, FRA_PROTOCOL, proto);
	return nlh;
}

struct nlmsghdr *
fw_route_route_msg(void *buf, size_t len, uint16_t type, int family,
    uint32_t table, uint32_t seq)
{
	struct nlmsghdr	*nlh;
	struct rtmsg	*rtm;

	if (len < FW_ROUTE_MSGMAX || !fw_route_family_ok(family) ||
	    (type != RTM_NEWROUTE && type != RTM_DELROUTE) || table == 0)
		return NULL;
	memset(buf, 0, FW_ROUTE_MSGMAX);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	/* REPLACE: the same route left by a helper that was killed is
	 * taken over rather than refused.  Not in a table of the caller's
	 * choice (--tmark): its default route may be the host's own, which
	 * must be refused rather than replaced (and removed at exit). */
	if (type == RTM_NEWROUTE)
		nlh->nlmsg_flags |= NLM_F_CREATE | (fw_route_table_ours(table) ?
		    NLM_F_REPLACE : NLM_F_EXCL);
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = 0;		/* default */
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = FW_ROUTE_PROTO;
	rtm->rtm_scope = RT_SCOPE_HOST;
	rtm->rtm_type = RTN_LOCAL;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put_u32(nlh, RTA_OIF, FW_ROUTE_LO_IFINDEX);
	return nlh;
}

int
fw_route_rule_parse(const struct nlmsghdr *nlh, struct fw_route_rule *r)
{
	const struct fib_rule_hdr	*frh;
	const struct nlattr		*a;

	memset(r, 0, sizeof(*r));
	if (nlh->nlmsg_type != RTM_NEWRULE ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*frh)))
		return -1;
	frh = mnl_nlmsg_get_payload(nlh);
	r->family = frh->family;
	r->action = frh->action;
	r->table = frh->table;
	r->fwmask = 0xffffffffU;
	mnl_attr_for_each(a, nlh, sizeof(*frh)) {
		if (mnl_attr_get_type(a) == FRA_PROTOCOL &&
		    mnl_attr_validate(a, MNL_TYPE_U8) == 0) {
			r->protocol = mnl_attr_get_u8(a);
			continue;
		}
		if (mnl_attr_validate(a, MNL_TYPE_U32) != 0)
			continue;
		switch (mnl_attr_get_type(a)) {
		case FRA_FWMARK:
			r->has_mark = true;
			r->fwmark = mnl_attr_get_u32(a);
			break;
		case FRA_FWMASK:
			r->fwmask = mnl_attr_get_u32(a);
			break;
		case FRA_TABLE:
			r->table = mnl_attr_get_u32(a);
			break;
		case FRA_PRIORITY:
			r->priority = mnl_attr_get_u32(a);
			break;
		}
	}
	return 0;
}

bool
fw_route_rule_ours(const struct fw_route_rule *r, uint16_t *port)
{
	if (!r->has_mark || r->action != FR_ACT_TO_TBL ||
	    r->fwmark != r->table || r->fwmask != 0xffffffffU)
		return false;
	if (fw_route_table_ours(r->table)) {
		if (r->protocol != 0 && r->protocol != FW_ROUTE_PROTO)
			return false;
		*port = (uint16_t)(r->fwmark & 0xffffU);
		return true;
	}
	/* A --tmark's: its number says nothing, the protocol does. */
	if (r->protocol != FW_ROUTE_PROTO || r->priority != FW_UDP_RULE_PRIO)
		return false;
	*port = 0;
	return true;
}

/* ---- the socket ---- */

struct fw_route *
fw_route_open(char *err, size_t errlen)
{
	struct fw_route	*rt;
	int		 one = 1;

	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((rt->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(rt->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "route netlink socket: %s",
		    strerror(errno));
		fw_route_close(rt);
		return NULL;
	}
	(void)mnl_socket_setsockopt(rt->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	rt->portid = mnl_socket_get_portid(rt->nl);
	rt->seq = 1;
	return rt;
}

void
fw_route_close(struct fw_route *rt)
{
	if (rt == NULL)
		return;
	if (rt->nl != NULL)
		mnl_socket_close(rt->nl);
	free(rt);
}

/*
 * Send nlh and read the answers to it until its ack, or the end of its
 * dump, passing data messages to cb.  0, or -1 with errno (the kernel's
 * error for a refused request).
 */
static int
fw_route_talk(struct fw_route *rt, struct nlmsghdr *nlh, mnl_cb_t cb,
    void *arg)
{
	char		 buf[MNL_SOCKET_BUFFER_SIZE];
	struct pollfd	 pfd;
	uint32_t	 seq = nlh->nlmsg_seq;
	ssize_t		 n;
	int		 r;

	if (mnl_socket_sendto(rt->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	pfd.fd = mnl_socket_get_fd(rt->nl);
	pfd.events = POLLIN;
	for (;;) {
		if ((r = poll(&pfd, 1, FW_ROUTE_TIMEOUT_MS)) < 0 &&
		    errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			return -1;
		}
		if ((n = mnl_socket_recvfrom(rt->nl, buf, sizeof(buf))) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, rt->portid, cb, arg);
		if (r == MNL_CB_ERROR)
			return -1;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static const char *
fw_route_fam(int family)
{
	return family == AF_INET ? "-4" : "-6";
}

int
fw_route_add(struct fw_route *rt, int family, uint32_t t, char *err,
    size_t errlen)
{
	char			 buf[FW_ROUTE_MSGMAX];
	struct fw_route_added	*a;
	struct nlmsghdr		*nlh;
	bool			 own = fw_route_table_ours(t);

	if (rt->nadded >= FW_ROUTE_MAXADDED) {
		snprintf(err, errlen, "policy routing: too many families");
		return -1;
	}
	a = &rt->added[rt->nadded++];
	memset(a, 0, sizeof(*a));
	a->family = family;
	a->table = t;
	/* The route first: a rule without its table would send the
	 * marked packets on through the next rules. */
	log_debug("ip %s route add local default dev lo table %u",
	    fw_route_fam(family), (unsigned int)t);
	if ((nlh = fw_route_route_msg(buf, sizeof(buf), RTM_NEWROUTE, family,
	    t, rt->seq++)) == NULL || fw_route_talk(rt, nlh, NULL, NULL) != 0) {
		snprintf(err, errlen, "ip %s route add local default dev lo "
		    "table %u: %s%s", fw_route_fam(family), (unsigned int)t,
		    strerror(errno), errno == EEXIST && !own ? " (the table "
		    "of --tmark has a default route already: the host's own, "
		    "or another cshuttle with this --tmark)" : "");
		return -1;
	}
	a->route = true;
	log_debug("ip %s rule add fwmark 0x%08x lookup %u priority %d",
	    fw_route_fam(family), (unsigned int)t, (unsigned int)t,
	    FW_UDP_RULE_PRIO);
	if ((nlh = fw_route_rule_msg(buf, sizeof(buf), RTM_NEWRULE, family, t,
	    FW_UDP_RULE_PRIO, FW_ROUTE_PROTO, rt->seq++)) == NULL ||
	    fw_route_talk(rt, nlh, NULL, NULL) != 0) {
		snprintf(err, errlen, "ip %s rule add fwmark 0x%08x lookup %u: "
		    "%s%s", fw_route_fam(family), (unsigned int)t,
		    (unsigned int)t, strerror(errno), errno != EEXIST ? "" :
		    own ? " (another cshuttle on this port?)" :
		    " (another cshuttle with this --tmark, or a rule of the "
		    "host's own?)");
		return -1;
	}
	a->rule = true;
	return 0;
}

void
fw_route_remove(struct fw_route *rt)
{
	char			 buf[FW_ROUTE_MSGMAX];
	struct fw_route_added	*a;
	struct nlmsghdr		*nlh;

	if (rt == NULL)
		return;
	/* The rule first, the reverse of fw_route_add(). */
	while (rt->nadded > 0) {
		a = &rt->added[--rt->nadded];
		if (a->rule) {
			log_debug("ip %s rule del fwmark 0x%08x lookup %u",
			    fw_route_fam(a->family), (unsigned int)a->table,
			    (unsigned int)a->table);
			if ((nlh = fw_route_rule_msg(buf, sizeof(buf),
			    RTM_DELRULE, a->family, a->table, FW_UDP_RULE_PRIO,
			    FW_ROUTE_PROTO, rt->seq++)) == NULL ||
			    fw_route_talk(rt, nlh, NULL, NULL) != 0)
				log_error("ip %s rule del fwmark 0x%08x: %s",
				    fw_route_fam(a->family),
				    (unsigned int)a->table, strerror(errno));
		}
		if (a->route) {
			log_debug("ip %s route del local default table %u",
			    fw_route_fam(a->family), (unsigned int)a->table);
			if ((nlh = fw_route_route_msg(buf, sizeof(buf),
			    RTM_DELROUTE, a->family, a->table,
			    rt->seq++)) == NULL ||
			    fw_route_talk(rt, nlh, NULL, NULL) != 0)
				log_error("ip %s route del local default table "
				    "%u: %s", fw_route_fam(a->family),
				    (unsigned int)a->table, strerror(errno));
		}
	}
}

/* ---- stale rules ---- */

struct fw_route_stale {
	struct fw_route_rule	 v[FW_ROUTE_MAXSTALE];
	int			 n;
};

static int
fw_route_stale_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct fw_route_stale	*st = arg;
	struct fw_route_rule	 r;
	uint16_t		 port;

	if (fw_route_rule_parse(nlh, &r) == 0 && fw_route_rule_ours(&r, &port) &&
	    st->n < FW_ROUTE_MAXSTALE)
		st->v[st->n++] = r;
	return MNL_CB_OK;
}

/* The routes of one table, copied whole from a dump. */
struct fw_route_tab {
	/* First, and aligned for a struct nlmsghdr (FW_ROUTE_MSGMAX is a
	 * multiple of 4): each message is sent back as it is. */
	union {
		struct nlmsghdr	 hdr;
		char		 buf[FW_ROUTE_MSGMAX];
	}		 msg[FW_ROUTE_MAXROUTES];
	uint32_t	 table;
	uint8_t		 proto;		/* only those of it; 0: all */
	int		 n;
};

static int
fw_route_tab_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct fw_route_tab	*tab = arg;
	const struct rtmsg	*rtm;
	const struct nlattr	*a;
	uint32_t		 table;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) ||
	    nlh->nlmsg_len > FW_ROUTE_MSGMAX)
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	table = rtm->rtm_table;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
		if (mnl_attr_get_type(a) == RTA_TABLE &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			table = mnl_attr_get_u32(a);
	if (table == tab->table && tab->n < FW_ROUTE_MAXROUTES &&
	    (tab->proto == 0 || rtm->rtm_protocol == tab->proto))
		memcpy(tab->msg[tab->n++].buf, nlh, nlh->nlmsg_len);
	return MNL_CB_OK;
}

/* Delete every route of table t in family (of protocol proto, unless
 * 0): what a dump shows, sent back as RTM_DELROUTE, as `ip route flush
 * table t [proto proto]` does. */
static void
fw_route_flush_table(struct fw_route *rt, int family, uint32_t t,
    uint8_t proto)
{
	char			 buf[FW_ROUTE_MSGMAX];
	struct fw_route_tab	*tab;
	struct nlmsghdr		*nlh;
	struct rtmsg		*rtm;
	int			 i;

	if ((tab = calloc(1, sizeof(*tab))) == NULL)
		return;
	tab->table = t;
	tab->proto = proto;
	nlh = mnl_nlmsg_put_header(memset(buf, 0, sizeof(buf)));
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = rt->seq++;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	if (fw_route_talk(rt, nlh, fw_route_tab_cb, tab) != 0)
		log_warn("ip %s route list table %u: %s", fw_route_fam(family),
		    (unsigned int)t, strerror(errno));
	for (i = 0; i < tab->n; i++) {
		nlh = &tab->msg[i].hdr;
		nlh->nlmsg_type = RTM_DELROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = rt->seq++;
		nlh->nlmsg_pid = 0;
		if (fw_route_talk(rt, nlh, NULL, NULL) != 0)
			log_warn("ip %s route flush table %u: %s",
			    fw_route_fam(family), (unsigned int)t,
			    strerror(errno));
	}
	free(tab);
}

int
fw_route_clean_stale(struct fw_route *rt, int (*alive)(uint32_t, void *),
    void *arg, char *err, size_t errlen)
{
	static const int	 fams[2] = { AF_INET, AF_INET6 };
	char			 buf[FW_ROUTE_MSGMAX];
	struct fw_route_stale	*st;
	struct fw_route_rule	*r;
	struct nlmsghdr		*nlh;
	struct fib_rule_hdr	*frh;
	uint16_t		 port = 0;
	int			 f, i, live, ndel = 0;
	bool			 own;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (f = 0; f < 2; f++) {
		nlh = mnl_nlmsg_put_header(memset(buf, 0, sizeof(buf)));
		nlh->nlmsg_type = RTM_GETRULE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = rt->seq++;
		frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
		frh->family = (uint8_t)fams[f];
		if (fw_route_talk(rt, nlh, fw_route_stale_cb, st) != 0 &&
		    errno != EAFNOSUPPORT) {
			snprintf(err, errlen, "ip %s rule list: %s",
			    fw_route_fam(fams[f]), strerror(errno));
			free(st);
			return -1;
		}
	}
	for (i = 0; i < st->n; i++) {
		r = &st->v[i];
		(void)fw_route_rule_ours(r, &port);
		own = fw_route_table_ours(r->table);
		if ((live = alive(r->fwmark, arg)) != 0) {
			log_debug("ip %s rule fwmark 0x%08x: %s, kept",
			    fw_route_fam(r->family), (unsigned int)r->fwmark,
			    live > 0 ? "its instance is running" :
			    "cannot tell whether its instance runs");
			continue;
		}
		if (own)
			log_debug("ip %s rule del fwmark 0x%08x lookup %u "
			    "priority %u (left by a dead instance on port %u)",
			    fw_route_fam(r->family), (unsigned int)r->fwmark,
			    (unsigned int)r->table, (unsigned int)r->priority,
			    port);
		else
			log_debug("ip %s rule del fwmark 0x%08x lookup %u "
			    "priority %u (left by a dead instance with that "
			    "--tmark)", fw_route_fam(r->family),
			    (unsigned int)r->fwmark, (unsigned int)r->table,
			    (unsigned int)r->priority);
		if ((nlh = fw_route_rule_msg(buf, sizeof(buf), RTM_DELRULE,
		    r->family, r->table, r->priority, r->protocol,
		    rt->seq++)) == NULL ||
		    fw_route_talk(rt, nlh, NULL, NULL) != 0) {
			log_warn("ip %s rule del fwmark 0x%08x: %s",
			    fw_route_fam(r->family), (unsigned int)r->fwmark,
			    strerror(errno));
			continue;
		}
		ndel++;
		/* A table of --tmark's may hold routes of the host's own. */
		fw_route_flush_table(rt, r->family, r->table, own ? 0 :
		    FW_ROUTE_PROTO);
	}
	free(st);
	return ndel;
}

static int
fw_route_type_cb(const struct nlmsghdr *nlh, void *arg)
{
	int			*type = arg;
	const struct rtmsg	*rtm;

	if (nlh->nlmsg_type == RTM_NEWROUTE &&
	    nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*rtm))) {
		rtm = mnl_nlmsg_get_payload(nlh);
		*type = rtm->rtm_type;
	}
	return MNL_CB_OK;
}

int
fw_route_type(struct fw_route *rt, int family, const uint8_t *addr)
{
	char		 buf[FW_ROUTE_MSGMAX];
	struct nlmsghdr	*nlh;
	struct rtmsg	*rtm;
	int		 type = -1;
	size_t		 len = family == AF_INET ? 4 : 16;

	if (!fw_route_family_ok(family)) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	nlh = mnl_nlmsg_put_header(memset(buf, 0, sizeof(buf)));
	nlh->nlmsg_type = RTM_GETROUTE;
	/* ACK: the answer, then an ack that ends the exchange. */
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = rt->seq++;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)(len * 8);
	mnl_attr_put(nlh, RTA_DST, len, addr);
	if (fw_route_talk(rt, nlh, fw_route_type_cb, &type) != 0) {
		/* No route at all: certainly not local. */
		if (errno == ENETUNREACH || errno == EHOSTUNREACH)
			return RTN_UNREACHABLE;
		return -1;
	}
	if (type < 0) {
		errno = EPROTO;
		return -1;
	}
	return type;
}

const char *
fw_route_reply_refusal(int type)
{
	switch (type) {
	case RTN_UNICAST:
	/* Another host's, which this one does not reach: as before. */
	case RTN_UNREACHABLE:
	case RTN_BLACKHOLE:
	case RTN_PROHIBIT:
	case RTN_THROW:
		return NULL;
	case RTN_LOCAL:
		return "an address of this host";
	case RTN_BROADCAST:
	case RTN_MULTICAST:
	case RTN_ANYCAST:
		return "a broadcast, multicast or anycast address";
	default:
		return type < 0 ? "cannot tell whether it is an address of "
		    "this host" : "a route of an unknown type";
	}
}
