/* SPDX-License-Identifier: ISC */
/*
 * test_fw_route.c - the rtnetlink messages of UDP capture's policy
 * routing (firewall/fw_route.c), built and read without a socket: what
 * `ip rule` and `ip route` would send, and which dumped rules a helper
 * takes for a dead instance's; where a reply socket may be bound.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include "fw.h"
#include "fw_route.h"

/* The u8 attribute of type `type` after a header of hdrlen bytes, or
 * the value `none` when it is missing. */
static uint8_t
attr_u8(const struct nlmsghdr *nlh, size_t hdrlen, uint16_t type, uint8_t none)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, hdrlen)
		if (mnl_attr_get_type(a) == type) {
			assert_int_equal(mnl_attr_validate(a, MNL_TYPE_U8), 0);
			return mnl_attr_get_u8(a);
		}
	return none;
}

/* The u32 attribute of type `type` after a header of hdrlen bytes, or
 * the value `none` when it is missing. */
static uint32_t
attr_u32(const struct nlmsghdr *nlh, size_t hdrlen, uint16_t type,
    uint32_t none)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, hdrlen)
		if (mnl_attr_get_type(a) == type) {
			assert_int_equal(mnl_attr_validate(a, MNL_TYPE_U32), 0);
			return mnl_attr_get_u32(a);
		}
	return none;
}

static void
test_rule_msg(void **state)
{
	char buf[FW_ROUTE_MSGMAX];
	const struct fib_rule_hdr *frh;
	struct fw_route_rule r;
	struct nlmsghdr *nlh;
	uint32_t t = fw_tproxy_mark_for_port(12300);
	uint16_t port;

	(void)state;
	assert_int_equal(t, 0x6375300c);
	nlh = fw_route_rule_msg(buf, sizeof(buf), RTM_NEWRULE, AF_INET, t,
	    FW_UDP_RULE_PRIO, FW_ROUTE_PROTO, 7);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWRULE);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK |
	    NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(nlh->nlmsg_seq, 7);
	assert_true(nlh->nlmsg_len <= FW_ROUTE_MSGMAX);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->family, AF_INET);
	assert_int_equal(frh->action, FR_ACT_TO_TBL);
	/* above 255: the table travels in FRA_TABLE only */
	assert_int_equal(frh->table, RT_TABLE_UNSPEC);
	assert_int_equal(frh->dst_len, 0);
	assert_int_equal(frh->src_len, 0);
	assert_int_equal(attr_u32(nlh, sizeof(*frh), FRA_FWMARK, 0), t);
	assert_int_equal(attr_u32(nlh, sizeof(*frh), FRA_FWMASK, 0), 0xffffffffU);
	assert_int_equal(attr_u32(nlh, sizeof(*frh), FRA_TABLE, 0), t);
	assert_int_equal(attr_u32(nlh, sizeof(*frh), FRA_PRIORITY, 0),
	    FW_UDP_RULE_PRIO);
	assert_int_equal(attr_u8(nlh, sizeof(*frh), FRA_PROTOCOL, 0),
	    FW_ROUTE_PROTO);
	/* before the main table, after the local one */
	assert_true(FW_UDP_RULE_PRIO > 0 && FW_UDP_RULE_PRIO < 32766);

	/* a dump shows the same message: it reads back as ours */
	assert_int_equal(fw_route_rule_parse(nlh, &r), 0);
	assert_int_equal(r.family, AF_INET);
	assert_true(r.has_mark);
	assert_int_equal(r.fwmark, t);
	assert_int_equal(r.table, t);
	assert_int_equal(r.priority, FW_UDP_RULE_PRIO);
	assert_int_equal(r.protocol, FW_ROUTE_PROTO);
	assert_true(fw_route_rule_ours(&r, &port));
	assert_int_equal(port, 12300);

	/* delete: the same rule, no CREATE */
	nlh = fw_route_rule_msg(buf, sizeof(buf), RTM_DELRULE, AF_INET6, t,
	    5001, 0, 8);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->family, AF_INET6);
	assert_int_equal(attr_u32(nlh, sizeof(*frh), FRA_PRIORITY, 0), 5001);
	/* protocol 0: none sent (a rule of an older cshuttle has none) */
	assert_int_equal(attr_u8(nlh, sizeof(*frh), FRA_PROTOCOL, 0xee), 0xee);
	/* a table below 256 is in the header too */
	nlh = fw_route_rule_msg(buf, sizeof(buf), RTM_NEWRULE, AF_INET, 100,
	    FW_UDP_RULE_PRIO, FW_ROUTE_PROTO, 9);
	assert_non_null(nlh);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->table, 100);
	assert_int_equal(attr_u32(nlh, sizeof(*frh), FRA_TABLE, 0), 100);

	/* what it refuses to build */
	assert_null(fw_route_rule_msg(buf, sizeof(buf), RTM_NEWROUTE, AF_INET,
	    t, 1, 0, 1));
	assert_null(fw_route_rule_msg(buf, sizeof(buf), RTM_NEWRULE, AF_UNIX,
	    t, 1, 0, 1));
	assert_null(fw_route_rule_msg(buf, sizeof(buf), RTM_NEWRULE, AF_INET,
	    0, 1, 0, 1));
	assert_null(fw_route_rule_msg(buf, 16, RTM_NEWRULE, AF_INET, t, 1, 0, 1));
	/* only a rule is parsed */
	nlh->nlmsg_type = RTM_NEWROUTE;
	assert_int_equal(fw_route_rule_parse(nlh, &r), -1);
}

static void
test_route_msg(void **state)
{
	char buf[FW_ROUTE_MSGMAX];
	const struct rtmsg *rtm;
	struct nlmsghdr *nlh;
	uint32_t t = fw_tproxy_mark_for_port(1);

	(void)state;
	nlh = fw_route_route_msg(buf, sizeof(buf), RTM_NEWROUTE, AF_INET6, t, 3);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWROUTE);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK |
	    NLM_F_CREATE | NLM_F_REPLACE);
	rtm = mnl_nlmsg_get_payload(nlh);
	/* local default dev lo table T, scope host */
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(rtm->rtm_dst_len, 0);
	assert_int_equal(rtm->rtm_type, RTN_LOCAL);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_HOST);
	assert_int_equal(rtm->rtm_protocol, FW_ROUTE_PROTO);
	assert_int_equal(rtm->rtm_table, RT_TABLE_UNSPEC);
	assert_int_equal(attr_u32(nlh, sizeof(*rtm), RTA_TABLE, 0), t);
	assert_int_equal(attr_u32(nlh, sizeof(*rtm), RTA_OIF, 0), 1);
	assert_int_equal(attr_u32(nlh, sizeof(*rtm), RTA_DST, 0xdead), 0xdead);

	nlh = fw_route_route_msg(buf, sizeof(buf), RTM_DELROUTE, AF_INET, t, 4);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	/* a table of --tmark's: the host's default route there is refused
	 * (EXCL), never replaced; a table below 256 is in the header too */
	nlh = fw_route_route_msg(buf, sizeof(buf), RTM_NEWROUTE, AF_INET, 100,
	    5);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK |
	    NLM_F_CREATE | NLM_F_EXCL);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_table, 100);
	assert_int_equal(attr_u32(nlh, sizeof(*rtm), RTA_TABLE, 0), 100);
	nlh = fw_route_route_msg(buf, sizeof(buf), RTM_NEWROUTE, AF_INET6,
	    0x63740000, 6);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK |
	    NLM_F_CREATE | NLM_F_EXCL);
	assert_null(fw_route_route_msg(buf, sizeof(buf), RTM_NEWRULE, AF_INET,
	    t, 1));
	assert_null(fw_route_route_msg(buf, sizeof(buf), RTM_NEWROUTE, 0, t, 1));
}

/* Which dumped rules are a cshuttle instance's. */
static void
test_ours(void **state)
{
	struct fw_route_rule r;
	uint16_t port = 0;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.action = FR_ACT_TO_TBL;
	r.has_mark = true;
	r.fwmark = r.table = 0x63750000;
	r.fwmask = 0xffffffffU;
	assert_true(fw_route_rule_ours(&r, &port));
	assert_int_equal(port, 0);
	r.fwmark = r.table = 0x6375ffff;
	assert_true(fw_route_rule_ours(&r, &port));
	assert_int_equal(port, 65535);
	/* not ours: the table differs, another range, a partial mask, no
	 * mark, another action */
	r.table = 100;
	assert_false(fw_route_rule_ours(&r, &port));
	r.fwmark = r.table = 0x63760001;	/* R's range */
	assert_false(fw_route_rule_ours(&r, &port));
	r.fwmark = r.table = 0x63740001;
	assert_false(fw_route_rule_ours(&r, &port));
	r.fwmark = r.table = 0x63750001;
	r.fwmask = 0xffff;
	assert_false(fw_route_rule_ours(&r, &port));
	r.fwmask = 0xffffffffU;
	r.has_mark = false;
	assert_false(fw_route_rule_ours(&r, &port));
	r.has_mark = true;
	r.action = FR_ACT_UNREACHABLE;
	assert_false(fw_route_rule_ours(&r, &port));
	/* T's range: of cshuttle's protocol, or none (an older
	 * cshuttle's), not another's */
	r.action = FR_ACT_TO_TBL;
	r.protocol = FW_ROUTE_PROTO;
	assert_true(fw_route_rule_ours(&r, &port));
	assert_int_equal(port, 1);
	r.protocol = RTPROT_BOOT;
	assert_false(fw_route_rule_ours(&r, &port));
	/* a mark of --tmark's names no port: ours only by cshuttle's
	 * protocol, at cshuttle's priority */
	r.fwmark = r.table = 256;
	r.protocol = 0;
	r.priority = FW_UDP_RULE_PRIO;
	assert_false(fw_route_rule_ours(&r, &port));
	r.protocol = FW_ROUTE_PROTO;
	port = 7;
	assert_true(fw_route_rule_ours(&r, &port));
	assert_int_equal(port, 0);
	r.priority = FW_UDP_RULE_PRIO + 1;
	assert_false(fw_route_rule_ours(&r, &port));
	r.priority = FW_UDP_RULE_PRIO;
	r.fwmark = 257;
	assert_false(fw_route_rule_ours(&r, &port));
}

/*
 * A reply socket is bound only to a unicast address of another host: a
 * carried subnet may hold the broadcast address of one of the host's
 * own networks, and a socket bound there (on any port, a privileged one
 * included) would receive what the LAN broadcasts to it.
 */
static void
test_reply_refusal(void **state)
{
	assert_null(fw_route_reply_refusal(RTN_UNICAST));
	assert_null(fw_route_reply_refusal(RTN_UNREACHABLE));	/* no route */
	assert_non_null(fw_route_reply_refusal(RTN_LOCAL));
	assert_non_null(fw_route_reply_refusal(RTN_BROADCAST));
	assert_non_null(fw_route_reply_refusal(RTN_MULTICAST));
	assert_non_null(fw_route_reply_refusal(RTN_ANYCAST));
	/* Another host's, which this one does not reach: as before. */
	assert_null(fw_route_reply_refusal(RTN_BLACKHOLE));
	assert_null(fw_route_reply_refusal(RTN_PROHIBIT));
	assert_non_null(fw_route_reply_refusal(RTN_UNSPEC));
	assert_non_null(fw_route_reply_refusal(-1));		/* cannot tell */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_msg),
		cmocka_unit_test(test_route_msg),
		cmocka_unit_test(test_ours),
		cmocka_unit_test(test_reply_refusal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
