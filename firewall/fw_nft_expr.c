/* SPDX-License-Identifier: ISC */
/*
 * fw_nft_expr.c - the expressions inside one rule (see fw_nft_expr.h).
 *
 * Each rule is the expression list nft itself generates for the same
 * text (see `nft --debug=netlink`), so that `nft list` shows what the
 * planner meant.  Every builder takes `ok` and clears it when an
 * expression cannot be made (no memory, or a plan it cannot express);
 * the caller then drops the whole rule.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "fw_nft_expr.h"

#define FW_NFT_LOOPBACK_IFINDEX	1	/* lo, in every network namespace */


static void
fw_expr_add(struct nftnl_rule *r, struct nftnl_expr *e, bool *ok)
{
	if (e == NULL) {
		*ok = false;
		return;
	}
	nftnl_rule_add_expr(r, e);
}

static void
fw_expr_meta(struct nftnl_rule *r, uint32_t key, bool *ok)
{
	struct nftnl_expr *e;

	if ((e = nftnl_expr_alloc("meta")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	fw_expr_add(r, e, ok);
}

static void
fw_expr_cmp(struct nftnl_rule *r, uint32_t op, const void *data,
    uint32_t len, bool *ok)
{
	struct nftnl_expr *e;

	if ((e = nftnl_expr_alloc("cmp")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	fw_expr_add(r, e, ok);
}

static void
fw_expr_payload(struct nftnl_rule *r, uint32_t base, uint32_t off,
    uint32_t len, bool *ok)
{
	struct nftnl_expr *e;

	if ((e = nftnl_expr_alloc("payload")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	fw_expr_add(r, e, ok);
}

static void
fw_expr_bitwise(struct nftnl_rule *r, const uint8_t *mask, uint32_t len,
    bool *ok)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e;

	if ((e = nftnl_expr_alloc("bitwise")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	fw_expr_add(r, e, ok);
}

static void
fw_expr_fib_local(struct nftnl_rule *r, bool *ok)
{
	struct nftnl_expr *e;
	uint32_t local = RTN_LOCAL;

	if ((e = nftnl_expr_alloc("fib")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT,
		    NFT_FIB_RESULT_ADDRTYPE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	}
	fw_expr_add(r, e, ok);
	fw_expr_cmp(r, NFT_CMP_EQ, &local, sizeof(local), ok);
}

static void
fw_expr_redirect(struct nftnl_rule *r, uint16_t port, bool *ok)
{
	struct nftnl_expr *e;
	uint16_t nport = htons(port);

	if ((e = nftnl_expr_alloc("immediate")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &nport, sizeof(nport));
	}
	fw_expr_add(r, e, ok);
	if ((e = nftnl_expr_alloc("redir")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN,
		    NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_FLAGS,
		    NF_NAT_RANGE_PROTO_SPECIFIED);
	}
	fw_expr_add(r, e, ok);
}

/* meta mark set M (a host-order u32, as the match reads it) */
static void
fw_expr_set_mark(struct nftnl_rule *r, uint32_t mark, bool *ok)
{
	struct nftnl_expr *e;

	if ((e = nftnl_expr_alloc("immediate")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &mark, sizeof(mark));
	}
	fw_expr_add(r, e, ok);
	if ((e = nftnl_expr_alloc("meta")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
	}
	fw_expr_add(r, e, ok);
}

/*
 * tproxy ip|ip6 to [ADDR]:PORT: the address in r1 (left out for a
 * wildcard socket: the packet's own destination address is kept, and
 * the socket lookup finds the wildcard), the port in r2.  The rule has
 * matched the family and l4proto already, as the kernel requires.
 */
static void
fw_expr_tproxy(struct nftnl_rule *r, const struct fw_rule *fr, bool *ok)
{
	struct nftnl_expr *e;
	uint16_t nport = htons(fr->to_port);
	uint32_t len = fr->family == 4 ? 4 : 16;

	if (fr->family != 4 && fr->family != 6) {
		*ok = false;
		return;
	}
	if (!fr->to_any) {
		if ((e = nftnl_expr_alloc("immediate")) != NULL) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
			nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, fr->to_addr, len);
		}
		fw_expr_add(r, e, ok);
	}
	if ((e = nftnl_expr_alloc("immediate")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_2);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &nport, sizeof(nport));
	}
	fw_expr_add(r, e, ok);
	if ((e = nftnl_expr_alloc("tproxy")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_TPROXY_FAMILY,
		    fr->family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
		if (!fr->to_any)
			nftnl_expr_set_u32(e, NFTNL_EXPR_TPROXY_REG_ADDR,
			    NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_TPROXY_REG_PORT, NFT_REG_2);
	}
	fw_expr_add(r, e, ok);
}

static void
fw_expr_verdict(struct nftnl_rule *r, int verdict, bool *ok)
{
	struct nftnl_expr *e;

	if ((e = nftnl_expr_alloc("immediate")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	}
	fw_expr_add(r, e, ok);
}

/* ct direction reply */
static void
fw_expr_ct_reply(struct nftnl_rule *r, bool *ok)
{
	struct nftnl_expr *e;
	uint8_t dir = IP_CT_DIR_REPLY;

	if ((e = nftnl_expr_alloc("ct")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_DIRECTION);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	fw_expr_add(r, e, ok);
	fw_expr_cmp(r, NFT_CMP_EQ, &dir, sizeof(dir), ok);
}

/* limit rate N/second burst B, then log group G snaplen S: a sample of
 * what the next rule rejects reaches the helper. */
static void
fw_expr_log(struct nftnl_rule *r, uint16_t group, bool *ok)
{
	struct nftnl_expr *e;

	if ((e = nftnl_expr_alloc("limit")) != NULL) {
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, FW_LOG_RATE);
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, FW_LOG_BURST);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
	}
	fw_expr_add(r, e, ok);
	if ((e = nftnl_expr_alloc("log")) != NULL) {
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, FW_LOG_SNAPLEN);
	}
	fw_expr_add(r, e, ok);
}

/*
 * In an inet chain the kernel reads an ICMP code as ICMP or ICMPv6 by the
 * packet's family, which the rule has matched already.
 */
static void
fw_expr_reject(struct nftnl_rule *r, const struct fw_rule *fr, bool *ok)
{
	struct nftnl_expr *e;
	uint32_t type = NFT_REJECT_ICMP_UNREACH;
	uint8_t code = 0;

	switch (fr->reject) {
	case FW_REJECT_TCP_RESET:
		if (fr->proto != IPPROTO_TCP)
			*ok = false;
		type = NFT_REJECT_TCP_RST;
		break;
	case FW_REJECT_PORT_UNREACH:
		code = fr->family == 4 ? ICMP_PORT_UNREACH : ICMPV6_PORT_UNREACH;
		break;
	case FW_REJECT_ADMIN:
		code = fr->family == 4 ? ICMP_PKT_FILTERED : ICMPV6_ADM_PROHIBITED;
		break;
	default:
		*ok = false;
	}
	if (fr->family != 4 && fr->family != 6)
		*ok = false;
	if ((e = nftnl_expr_alloc("reject")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
	}
	fw_expr_add(r, e, ok);
}

/*
 * saddr or daddr in addr/prefix, the way nft encodes it (so `nft list`
 * shows "ip daddr 10.16.0.0/12"): a byte-aligned prefix loads and
 * compares just its bytes; any other loads the whole address and masks it
 * first.  A /0 matches every address and needs no expression.
 */
static void
fw_expr_addr(struct nftnl_rule *r, const struct fw_rule *fr, bool source,
    bool *ok)
{
	uint8_t mask[16], val[16];
	uint32_t off, len, i;

	/* iphdr saddr 12, daddr 16; ipv6hdr saddr 8, daddr 24 */
	if (fr->family == 4)
		off = source ? 12 : 16;
	else
		off = source ? 8 : 24;
	if (fr->prefix == 0)
		return;
	memcpy(val, fr->addr, sizeof(val));
	if (fr->prefix % 8 == 0) {
		len = fr->prefix / 8;
		fw_expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, len, ok);
	} else {
		len = fr->family == 4 ? 4 : 16;
		for (i = 0; i < len; i++) {
			if (i < fr->prefix / 8u)
				mask[i] = 0xff;
			else if (i == fr->prefix / 8u)
				mask[i] = (uint8_t)(0xff << (8 - fr->prefix % 8));
			else
				mask[i] = 0;
			val[i] &= mask[i];
		}
		fw_expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, len, ok);
		fw_expr_bitwise(r, mask, len, ok);
	}
	fw_expr_cmp(r, NFT_CMP_EQ, val, len, ok);
}

/* meta skuid U and/or meta skgid G (host-order u32s): a packet without a
 * full socket (a kernel reply, a TIME_WAIT socket) matches neither. */
static void
fw_expr_owner(struct nftnl_rule *r, const struct fw_rule *fr, bool *ok)
{
	if (fr->owner & FW_OWNER_UID) {
		fw_expr_meta(r, NFT_META_SKUID, ok);
		fw_expr_cmp(r, NFT_CMP_EQ, &fr->uid, sizeof(fr->uid), ok);
	}
	if (fr->owner & FW_OWNER_GID) {
		fw_expr_meta(r, NFT_META_SKGID, ok);
		fw_expr_cmp(r, NFT_CMP_EQ, &fr->gid, sizeof(fr->gid), ok);
	}
}

/* ct direction original ct status & dnat == 0: a packet of a connection
 * that no rule redirected.  A packet without conntrack matches neither. */
static void
fw_expr_unredirected(struct nftnl_rule *r, bool *ok)
{
	struct nftnl_expr *e;
	uint8_t dir = IP_CT_DIR_ORIGINAL;
	uint32_t dnat = IPS_DST_NAT, zero = 0;

	if ((e = nftnl_expr_alloc("ct")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_DIRECTION);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	fw_expr_add(r, e, ok);
	fw_expr_cmp(r, NFT_CMP_EQ, &dir, sizeof(dir), ok);
	if ((e = nftnl_expr_alloc("ct")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	fw_expr_add(r, e, ok);
	fw_expr_bitwise(r, (const uint8_t *)&dnat, sizeof(dnat), ok);
	fw_expr_cmp(r, NFT_CMP_EQ, &zero, sizeof(zero), ok);
}

static void
fw_expr_goto(struct nftnl_rule *r, const char *chain, bool *ok)
{
	struct nftnl_expr *e;

	if ((e = nftnl_expr_alloc("immediate")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)NFT_GOTO);
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	}
	fw_expr_add(r, e, ok);
}

/* tcp or udp dport lo-hi (both keep it at offset 2); big-endian data
 * compares in numeric order. */
static void
fw_expr_dport(struct nftnl_rule *r, const struct fw_rule *fr, bool *ok)
{
	uint16_t lo = htons(fr->port_lo), hi = htons(fr->port_hi);

	if (fw_ports_all(fr->port_lo, fr->port_hi))
		return;
	fw_expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, ok);
	if (fr->port_lo == fr->port_hi)
		fw_expr_cmp(r, NFT_CMP_EQ, &lo, sizeof(lo), ok);
	else {
		fw_expr_cmp(r, NFT_CMP_GTE, &lo, sizeof(lo), ok);
		fw_expr_cmp(r, NFT_CMP_LTE, &hi, sizeof(hi), ok);
	}
}

bool
fw_nft_expr_rule(struct nftnl_rule *r, const struct fw_rule *fr, uint16_t port)
{
	uint8_t l4 = fr->proto;
	uint8_t nfproto = fr->family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint32_t oif = FW_NFT_LOOPBACK_IFINDEX;
	bool ok = true;

	if (l4 != 0) {
		fw_expr_meta(r, NFT_META_L4PROTO, &ok);
		fw_expr_cmp(r, NFT_CMP_EQ, &l4, sizeof(l4), &ok);
	}
	if (fr->family != 0) {
		fw_expr_meta(r, NFT_META_NFPROTO, &ok);
		fw_expr_cmp(r, NFT_CMP_EQ, &nfproto, sizeof(nfproto), &ok);
	}
	fw_expr_owner(r, fr, &ok);
	switch (fr->match) {
	case FW_MATCH_LOCAL:
		fw_expr_fib_local(r, &ok);
		break;
	case FW_MATCH_MARK:
		/* The mark is a host-order u32 to nftables. */
		fw_expr_meta(r, NFT_META_MARK, &ok);
		fw_expr_cmp(r, NFT_CMP_EQ, &fr->mark, sizeof(fr->mark), &ok);
		break;
	case FW_MATCH_LOOPBACK:
		fw_expr_meta(r, NFT_META_OIF, &ok);
		fw_expr_cmp(r, NFT_CMP_EQ, &oif, sizeof(oif), &ok);
		break;
	case FW_MATCH_REPLY:
		fw_expr_ct_reply(r, &ok);
		break;
	case FW_MATCH_SOURCE:
		if (fr->family == 0)
			ok = false;
		fw_expr_addr(r, fr, true, &ok);
		break;
	case FW_MATCH_DEST:
	case FW_MATCH_UNREDIRECTED:
		if (fr->family == 0)
			ok = false;
		fw_expr_addr(r, fr, false, &ok);
		/* A port without its protocol would read any header. */
		if (!fw_ports_all(fr->port_lo, fr->port_hi) &&
		    l4 != IPPROTO_TCP && l4 != IPPROTO_UDP)
			ok = false;
		fw_expr_dport(r, fr, &ok);
		if (fr->match == FW_MATCH_UNREDIRECTED)
			fw_expr_unredirected(r, &ok);
		break;
	default:
		ok = false;
	}
	switch (fr->verdict) {
	case FW_VERDICT_REDIRECT:
		fw_expr_redirect(r, fr->to_port != 0 ? fr->to_port : port, &ok);
		break;
	case FW_VERDICT_RETURN:
		fw_expr_verdict(r, NFT_RETURN, &ok);
		break;
	case FW_VERDICT_ACCEPT:
		fw_expr_verdict(r, NF_ACCEPT, &ok);
		break;
	case FW_VERDICT_DROP:
		fw_expr_verdict(r, NF_DROP, &ok);
		break;
	case FW_VERDICT_GOTO:
		if (fr->goto_chain >= FW_NCHAINS)
			ok = false;
		else
			fw_expr_goto(r, fw_chain_name(fr->goto_chain), &ok);
		break;
	case FW_VERDICT_REJECT:
		fw_expr_reject(r, fr, &ok);
		break;
	case FW_VERDICT_LOG:
		fw_expr_log(r, fr->group, &ok);
		break;
	case FW_VERDICT_MARK:
		fw_expr_set_mark(r, fr->set_mark, &ok);
		break;
	case FW_VERDICT_TPROXY:
		if (l4 != IPPROTO_UDP && l4 != IPPROTO_TCP)
			ok = false;
		fw_expr_tproxy(r, fr, &ok);
		fw_expr_set_mark(r, fr->set_mark, &ok);
		fw_expr_verdict(r, NF_ACCEPT, &ok);
		break;
	default:
		ok = false;
	}
	return ok;
}
