/* SPDX-License-Identifier: ISC */
/*
 * fw_nflog.c - read the leak protection's nflog group; see fw_nflog.h.
 *
 * nfnetlink_log over libmnl: a NFULNL_MSG_CONFIG per step (bind the
 * protocol families, bind the group, copy mode and queue threshold), each
 * acknowledged, then NFULNL_MSG_PACKET messages whose NFULA_PAYLOAD holds
 * the packet from its IP header on.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>

#include "addr.h"
#include "buf.h"
#include "clock.h"
#include "fw_nflog.h"
#include "log.h"

#define FW_NFLOG_ACK_MS		2000
#define FW_NFLOG_BUFSIZE	65536

struct fw_nflog {
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint32_t		 seq;
	uint16_t		 group;
	/* Token bucket for log lines, in thousandths of a line. */
	int64_t			 tokens;
	int64_t			 last_ms;
	unsigned long		 suppressed;	/* lines not written */
	unsigned long		 lost;		/* ENOBUFS: the kernel dropped */
	char			*buf;
};

static struct nlmsghdr *
fw_nflog_hdr(struct fw_nflog *nl, char *buf, uint8_t family, uint16_t res_id)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return nlh;
}

/* Send one config message and wait for its ack: 0 or an errno. */
static int
fw_nflog_talk(struct fw_nflog *nl, struct nlmsghdr *nlh)
{
	const struct nlmsghdr *r;
	const struct nlmsgerr *e;
	struct pollfd pfd;
	int64_t deadline = (int64_t)clock_ms() + FW_NFLOG_ACK_MS;
	ssize_t n;
	int len, left;

	if (mnl_socket_sendto(nl->nl, nlh, nlh->nlmsg_len) < 0)
		return errno;
	pfd.fd = mnl_socket_get_fd(nl->nl);
	pfd.events = POLLIN;
	for (;;) {
		if ((left = clock_remaining_ms(deadline)) == 0)
			return ETIMEDOUT;
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			return errno;
		n = recv(pfd.fd, nl->buf, FW_NFLOG_BUFSIZE, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == ENOBUFS)
				continue;
			return errno;
		}
		len = (int)n;
		for (r = (const struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(r, len);
		    r = mnl_nlmsg_next(r, &len)) {
			if (r->nlmsg_type != NLMSG_ERROR ||
			    r->nlmsg_seq != nlh->nlmsg_seq ||
			    r->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;	/* a packet already, or stale */
			e = mnl_nlmsg_get_payload(r);
			return -e->error;
		}
	}
}

static int
fw_nflog_cmd(struct fw_nflog *nl, uint8_t family, uint16_t res_id,
    uint8_t command)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nfulnl_msg_config_cmd cmd = { .command = command };

	nlh = fw_nflog_hdr(nl, buf, family, res_id);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	return fw_nflog_talk(nl, nlh);
}

struct fw_nflog *
fw_nflog_open(uint16_t group, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct fw_nflog *nl;
	struct nlmsghdr *nlh;
	struct nfulnl_msg_config_mode mode;
	int e;

	if ((nl = calloc(1, sizeof(*nl))) == NULL ||
	    (nl->buf = malloc(FW_NFLOG_BUFSIZE)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	nl->group = group;
	nl->tokens = FW_NFLOG_BURST * 1000;
	nl->last_ms = (int64_t)clock_ms();
	/* CLOEXEC for the same reason as the table's socket. */
	if ((nl->nl = mnl_socket_open2(NETLINK_NETFILTER,
	    SOCK_CLOEXEC | SOCK_NONBLOCK)) == NULL) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(nl->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "netlink bind: %s", strerror(errno));
		goto fail;
	}
	nl->portid = mnl_socket_get_portid(nl->nl);

	/*
	 * Kernels before 3.17 wanted each protocol family bound to
	 * nfnetlink_log; later ones accept and ignore it.
	 */
	if ((e = fw_nflog_cmd(nl, AF_INET, 0, NFULNL_CFG_CMD_PF_BIND)) != 0 ||
	    (e = fw_nflog_cmd(nl, AF_INET6, 0, NFULNL_CFG_CMD_PF_BIND)) != 0)
		log_trace("nflog: binding the protocol families: %s",
		    strerror(e));
	if ((e = fw_nflog_cmd(nl, AF_UNSPEC, group, NFULNL_CFG_CMD_BIND)) != 0) {
		snprintf(err, errlen, "nflog group %u: %s%s", group,
		    strerror(e), e == EBUSY ? " (another program reads it)" :
		    "");
		goto fail;
	}
	/* The headers are enough; and every packet at once, not batched. */
	memset(&mode, 0, sizeof(mode));
	mode.copy_range = htonl(FW_NFLOG_COPY);
	mode.copy_mode = NFULNL_COPY_PACKET;
	nlh = fw_nflog_hdr(nl, buf, AF_UNSPEC, group);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	if ((e = fw_nflog_talk(nl, nlh)) != 0) {
		snprintf(err, errlen, "nflog group %u mode: %s", group,
		    strerror(e));
		goto fail;
	}
	log_debug("reading blocked packets from nflog group %u", group);
	return nl;
 fail:
	fw_nflog_close(nl);
	return NULL;
}

int
fw_nflog_fd(const struct fw_nflog *nl)
{
	return nl != NULL ? mnl_socket_get_fd(nl->nl) : -1;
}

/* May a line be written now?  One token per line. */
static bool
fw_nflog_allow(struct fw_nflog *nl)
{
	int64_t now = (int64_t)clock_ms();

	nl->tokens += (now - nl->last_ms) * FW_NFLOG_RATE;
	nl->last_ms = now;
	if (nl->tokens > FW_NFLOG_BURST * 1000)
		nl->tokens = FW_NFLOG_BURST * 1000;
	if (nl->tokens < 1000)
		return false;
	nl->tokens -= 1000;
	return true;
}

static void
fw_nflog_flush_counts(struct fw_nflog *nl)
{
	if (nl->suppressed > 0)
		log_info("%lu more blocked packet%s not logged (leak "
		    "protection)", nl->suppressed,
		    nl->suppressed == 1 ? "" : "s");
	if (nl->lost > 0)
		log_info("the blocked-packet log overflowed %lu time%s",
		    nl->lost, nl->lost == 1 ? "" : "s");
	nl->suppressed = 0;
	nl->lost = 0;
}

struct fw_nflog_attrs {
	const struct nlattr	*payload;
	bool			 indev;
};

static int
fw_nflog_attr_cb(const struct nlattr *a, void *data)
{
	struct fw_nflog_attrs *at = data;

	switch (mnl_attr_get_type(a)) {
	case NFULA_PAYLOAD:
		at->payload = a;
		break;
	case NFULA_IFINDEX_INDEV:
		at->indev = true;
		break;
	}
	return MNL_CB_OK;
}

static void
fw_nflog_packet(struct fw_nflog *nl, const struct nlmsghdr *nlh)
{
	struct fw_nflog_attrs at;
	char desc[160];

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)))
		return;
	memset(&at, 0, sizeof(at));
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), fw_nflog_attr_cb,
	    &at) < 0 || at.payload == NULL)
		return;
	if (!fw_nflog_allow(nl)) {
		nl->suppressed++;
		return;
	}
	fw_nflog_flush_counts(nl);
	if (fw_nflog_describe(mnl_attr_get_payload(at.payload),
	    mnl_attr_get_payload_len(at.payload), at.indev, desc,
	    sizeof(desc)) == NULL)
		snprintf(desc, sizeof(desc), "a packet");
	log_info("blocked %s (leak protection)", desc);
}

void
fw_nflog_read(struct fw_nflog *nl)
{
	const struct nlmsghdr *nlh;
	ssize_t n;
	int len, i, fd = mnl_socket_get_fd(nl->nl);

	/* Bounded, so that the request socket is served in a flood too. */
	for (i = 0; i < 64; i++) {
		n = recv(fd, nl->buf, FW_NFLOG_BUFSIZE, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				nl->lost++;
				continue;
			}
			return;		/* EAGAIN, or nothing more to do */
		}
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)nl->buf;
		    mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type ==
			    ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
				fw_nflog_packet(nl, nlh);
		}
	}
}

void
fw_nflog_close(struct fw_nflog *nl)
{
	if (nl == NULL)
		return;
	if (nl->nl != NULL) {
		fw_nflog_flush_counts(nl);
		mnl_socket_close(nl->nl);
	}
	free(nl->buf);
	free(nl);
}

/* --- the packet, for the log line --- */

static bool
fw_nflog_ext(int proto)
{
	return proto == IPPROTO_HOPOPTS || proto == IPPROTO_ROUTING ||
	    proto == IPPROTO_DSTOPTS || proto == IPPROTO_FRAGMENT;
}

static const char *
fw_nflog_proto(int proto, char *buf, size_t len)
{
	switch (proto) {
	case -1:
		return "ipv6";
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	}
	snprintf(buf, len, "proto %d", proto);
	return buf;
}

const char *
fw_nflog_describe(const uint8_t *pkt, size_t len, bool forwarded, char *buf,
    size_t buflen)
{
	struct addr dst, src;
	char dtext[ADDR_STRLEN], stext[ADDR_STRLEN], pname[16];
	const uint8_t *l4 = NULL, *saddr, *daddr;
	size_t off, l4len = 0, hlen;
	uint8_t family;
	int proto, i;
	bool first = true, port;

	if (len < 1 || buflen == 0)
		return NULL;
	switch (pkt[0] >> 4) {
	case 4:
		if (len < 20 || (size_t)(pkt[0] & 0x0f) * 4 < 20 ||
		    (size_t)(pkt[0] & 0x0f) * 4 > len)
			return NULL;
		family = ADDR_V4;
		off = (size_t)(pkt[0] & 0x0f) * 4;
		proto = pkt[9];
		saddr = pkt + 12;
		daddr = pkt + 16;
		/* Only the first fragment has the ports. */
		if ((buf_get_u16(pkt + 6) & 0x1fff) == 0) {
			l4 = pkt + off;
			l4len = len - off;
		}
		break;
	case 6:
		if (len < 40)
			return NULL;
		family = ADDR_V6;
		saddr = pkt + 8;
		daddr = pkt + 24;
		proto = pkt[6];
		off = 40;
		/* Skip a few extension headers, as far as they were copied. */
		for (i = 0; i < 8 && fw_nflog_ext(proto); i++) {
			if (off + 8 > len)
				break;
			if (proto == IPPROTO_FRAGMENT) {
				if ((buf_get_u16(pkt + off + 2) & 0xfff8) != 0)
					first = false;
				hlen = 8;
			} else
				hlen = ((size_t)pkt[off + 1] + 1) * 8;
			proto = pkt[off];
			off += hlen;
		}
		if (fw_nflog_ext(proto))
			proto = -1;	/* the upper protocol is unknown */
		else if (first && off <= len) {
			l4 = pkt + off;
			l4len = len - off;
		}
		break;
	default:
		return NULL;
	}
	port = (proto == IPPROTO_TCP || proto == IPPROTO_UDP) && l4 != NULL &&
	    l4len >= 4;
	addr_set(&dst, family, daddr, port ? buf_get_u16(l4 + 2) : 0);
	addr_set(&src, family, saddr, 0);
	addr_format(&dst, port, dtext, sizeof(dtext));
	addr_format(&src, false, stext, sizeof(stext));
	if (!port && (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) &&
	    l4 != NULL && l4len >= 1)
		snprintf(buf, buflen, "%s %s type %u%s%s",
		    fw_nflog_proto(proto, pname, sizeof(pname)), dtext, l4[0],
		    forwarded ? " from " : "", forwarded ? stext : "");
	else
		snprintf(buf, buflen, "%s %s%s%s",
		    fw_nflog_proto(proto, pname, sizeof(pname)), dtext,
		    forwarded ? " from " : "", forwarded ? stext : "");
	return buf;
}
