/* SPDX-License-Identifier: ISC */
/*
 * fw_nft.c - nftables batches built with libnftnl, sent with libmnl: the
 * table, its chains and one message per rule in one batch, the socket
 * that owns the table, and the kernel's acks.  What goes inside a rule
 * is fw_nft_expr.c's.
 *
 * Why no `nft` process: the table must be owned (NFT_TABLE_F_OWNER) by a
 * socket that lives exactly as long as the tunnel, which only an
 * in-process netlink socket gives.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "fw_nft.h"
#include "fw_nft_expr.h"
#include "log.h"

#define FW_NFT_MSGMAX		1024	/* bound for one message (largest ~640) */
#define FW_NFT_WHATLEN		224	/* description kept per message */
#define FW_NFT_ACK_TIMEOUT_MS	10000	/* the kernel answers during sendmsg */
#define FW_NFT_RECVBUF		16384
#define FW_NFT_COMMENT		"cshuttle"	/* the table's comment starts so */
#define FW_NFT_COMMENTMAX	64

/*
 * The chains of the table, by FW_CHAIN_* (fw_plan.h); which exist depends
 * on the plan.  A chain without a hook is a regular chain, entered only
 * by a goto from another one.
 */
static const struct fw_chain_def {
	const char	*type;
	const char	*hookname;	/* NULL: a regular chain */
	uint32_t	 hook;
	int32_t		 prio;
} fw_chains[FW_NCHAINS] = {
	[FW_CHAIN_OUTPUT] = { "nat", "output", NF_INET_LOCAL_OUT,
	    FW_NFT_PRIORITY },
	[FW_CHAIN_PREROUTING] = { "nat", "prerouting", NF_INET_PRE_ROUTING,
	    FW_NFT_PRIORITY },
	[FW_CHAIN_LAN] = { "nat", NULL, 0, 0 },
	[FW_CHAIN_LEAK_OUTPUT] = { "filter", "output", NF_INET_LOCAL_OUT,
	    FW_NFT_FILTER_PRIORITY },
	[FW_CHAIN_LEAK_FORWARD] = { "filter", "forward", NF_INET_FORWARD,
	    FW_NFT_FILTER_PRIORITY },
	[FW_CHAIN_LEAK_LAN] = { "filter", NULL, 0, 0 },
	[FW_CHAIN_INPUT] = { "filter", "input", NF_INET_LOCAL_IN,
	    FW_NFT_FILTER_PRIORITY },
	[FW_CHAIN_UDP_OUTPUT] = { "route", "output", NF_INET_LOCAL_OUT,
	    FW_NFT_MANGLE_PRIORITY },
	[FW_CHAIN_UDP_PREROUTING] = { "filter", "prerouting",
	    NF_INET_PRE_ROUTING, FW_NFT_MANGLE_PRIORITY },
	[FW_CHAIN_UDP_LAN] = { "filter", NULL, 0, 0 },
	[FW_CHAIN_UDP_REPLY] = { "filter", "output", NF_INET_LOCAL_OUT,
	    FW_NFT_FILTER_PRIORITY },
};

struct fw_nft {
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint32_t		 seq;
	bool			 have_table;
	bool			 have[FW_NCHAINS];
	uint16_t		 port;
	char			 table[32];
};

/* One batch under construction, with a description of each message. */
struct fw_batch {
	char			*buf;
	struct mnl_nlmsg_batch	*b;
	uint32_t		 seq0;		/* sequence number of BATCH_BEGIN */
	size_t			 nmsg;		/* messages so far, BEGIN included */
	size_t			 maxmsg;
	size_t			 nack;		/* messages that asked for an ack */
	char			(*what)[FW_NFT_WHATLEN];
	bool			 failed;	/* out of memory or room */
	size_t			 err_idx;	/* message the kernel refused */
	int			 err_errno;	/* and why; 0 if none */
};

struct fw_nft *
fw_nft_open(char *err, size_t errlen)
{
	struct fw_nft *nft;
	int one = 1;

	if ((nft = calloc(1, sizeof(*nft))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/*
	 * CLOEXEC matters: a copy of this socket inherited by some exec'd
	 * program would keep the owned table, and so the redirection,
	 * alive after we are gone.
	 */
	if ((nft->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) ==
	    NULL) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(nft->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "netlink bind: %s", strerror(errno));
		goto fail;
	}
	nft->portid = mnl_socket_get_portid(nft->nl);
	/* Short acks, and the kernel's own words when it refuses something;
	 * both are optional, so failures are ignored. */
	(void)mnl_socket_setsockopt(nft->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nft->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	nft->seq = 1;
	return nft;
 fail:
	fw_nft_close(nft);
	return NULL;
}

void
fw_nft_close(struct fw_nft *nft)
{
	if (nft == NULL)
		return;
	if (nft->nl != NULL)
		mnl_socket_close(nft->nl);
	free(nft);
}

static int
fw_batch_init(struct fw_batch *bt, struct fw_nft *nft, size_t maxmsg)
{
	size_t limit;

	memset(bt, 0, sizeof(*bt));
	bt->maxmsg = maxmsg + 2;	/* BEGIN and END */
	limit = bt->maxmsg * FW_NFT_MSGMAX;
	/*
	 * libmnl lets the message that crosses the limit be written past
	 * it before refusing it, hence the spare message at the end.
	 */
	if ((bt->buf = malloc(limit + FW_NFT_MSGMAX)) == NULL ||
	    (bt->what = calloc(bt->maxmsg, sizeof(*bt->what))) == NULL ||
	    (bt->b = mnl_nlmsg_batch_start(bt->buf, limit)) == NULL)
		return -1;
	bt->seq0 = nft->seq;
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), nft->seq++);
	snprintf(bt->what[0], FW_NFT_WHATLEN, "batch begin");
	bt->nmsg = 1;
	if (!mnl_nlmsg_batch_next(bt->b))
		return -1;
	return 0;
}

static void
fw_batch_free(struct fw_batch *bt)
{
	if (bt->b != NULL)
		mnl_nlmsg_batch_stop(bt->b);
	free(bt->buf);
	free(bt->what);
	memset(bt, 0, sizeof(*bt));
}

/* Start the next message: its header, and its description for errors. */
static struct nlmsghdr *
fw_batch_msg(struct fw_batch *bt, struct fw_nft *nft, uint16_t type,
    uint16_t flags, const char *what)
{
	if (bt->failed || bt->nmsg + 1 >= bt->maxmsg) {
		bt->failed = true;
		return NULL;
	}
	snprintf(bt->what[bt->nmsg], FW_NFT_WHATLEN, "%s", what);
	bt->nmsg++;
	if (flags & NLM_F_ACK)
		bt->nack++;
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type,
	    NFPROTO_INET, flags, nft->seq++);
}

static void
fw_batch_next(struct fw_batch *bt)
{
	if (!bt->failed && !mnl_nlmsg_batch_next(bt->b))
		bt->failed = true;
}

static void
fw_batch_end(struct fw_batch *bt, struct fw_nft *nft)
{
	if (bt->failed || bt->nmsg >= bt->maxmsg) {
		bt->failed = true;
		return;
	}
	snprintf(bt->what[bt->nmsg++], FW_NFT_WHATLEN, "batch end");
	nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), nft->seq++);
	fw_batch_next(bt);
}

/* --- messages --- */

/*
 * The table's comment, which `nft list ruleset` shows too: "cshuttle",
 * and with UDP capture " tmark 0x%08x", the mark T of its policy
 * routing.  A starting helper reads it to tell whether a rule of a
 * --tmark belongs to an instance that still runs (fw_nft_tmark_alive()).
 */
static void
fw_nft_comment(const struct fw_plan *plan, char *buf, size_t len)
{
	if (plan->udp4 || plan->udp6)
		snprintf(buf, len, "%s tmark 0x%08x", FW_NFT_COMMENT,
		    (unsigned int)plan->tproxy_mark);
	else
		snprintf(buf, len, "%s", FW_NFT_COMMENT);
}

/* What a table's comment says: 1 and *mark for "cshuttle tmark 0x...",
 * 0 for "cshuttle" alone, -1 for anything else. */
static int
fw_nft_comment_mark(const char *s, uint32_t *mark)
{
	unsigned int	v;
	int		n = 0;

	if (strcmp(s, FW_NFT_COMMENT) == 0)
		return 0;
	if (sscanf(s, FW_NFT_COMMENT " tmark 0x%8x%n", &v, &n) != 1 ||
	    n != (int)strlen(s))
		return -1;
	*mark = v;
	return 1;
}

static void
fw_msg_table(struct fw_batch *bt, struct fw_nft *nft, uint16_t type,
    uint16_t flags, const char *what, const char *comment)
{
	struct nftnl_udata_buf *ud = NULL;
	struct nftnl_table *t;
	struct nlmsghdr *nlh;

	if ((t = nftnl_table_alloc()) == NULL) {
		bt->failed = true;
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, nft->table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	if (type == NFT_MSG_NEWTABLE)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, NFT_TABLE_F_OWNER);
	if (comment != NULL) {
		if ((ud = nftnl_udata_buf_alloc(FW_NFT_COMMENTMAX + 8)) == NULL ||
		    !nftnl_udata_put_strz(ud, NFTNL_UDATA_TABLE_COMMENT,
		    comment)) {
			nftnl_udata_buf_free(ud);
			nftnl_table_free(t);
			bt->failed = true;
			return;
		}
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA,
		    nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	if ((nlh = fw_batch_msg(bt, nft, type, flags, what)) != NULL) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		fw_batch_next(bt);
	}
	nftnl_table_free(t);
}

static void
fw_msg_chain(struct fw_batch *bt, struct fw_nft *nft, int ch, bool create)
{
	const struct fw_chain_def *d = &fw_chains[ch];
	const char *name = fw_chain_name(ch);
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;
	char what[FW_NFT_WHATLEN];

	if ((c = nftnl_chain_alloc()) == NULL) {
		bt->failed = true;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, nft->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (create && d->hookname != NULL) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, d->type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, d->hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, d->prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
		snprintf(what, sizeof(what), "add chain inet %s %s { type %s "
		    "hook %s priority %d; policy accept; }", nft->table,
		    name, d->type, d->hookname, (int)d->prio);
	} else if (create)
		snprintf(what, sizeof(what), "add chain inet %s %s", nft->table,
		    name);
	else
		snprintf(what, sizeof(what), "delete chain inet %s %s",
		    nft->table, name);
	log_debug("%s", what);
	if ((nlh = fw_batch_msg(bt, nft, create ? NFT_MSG_NEWCHAIN :
	    NFT_MSG_DELCHAIN, create ? NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK :
	    NLM_F_ACK, what)) != NULL) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		fw_batch_next(bt);
	}
	nftnl_chain_free(c);
}

/* A DELRULE naming only the chain removes all its rules. */
static void
fw_msg_flush(struct fw_batch *bt, struct fw_nft *nft, const char *chain)
{
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	char what[FW_NFT_WHATLEN];

	if ((r = nftnl_rule_alloc()) == NULL) {
		bt->failed = true;
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, nft->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	snprintf(what, sizeof(what), "flush chain inet %s %s", nft->table,
	    chain);
	log_debug("%s", what);
	if ((nlh = fw_batch_msg(bt, nft, NFT_MSG_DELRULE, NLM_F_ACK,
	    what)) != NULL) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		fw_batch_next(bt);
	}
	nftnl_rule_free(r);
}

static void
fw_msg_rule(struct fw_batch *bt, struct fw_nft *nft, const char *chain,
    const struct fw_rule *fr, uint16_t port)
{
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	char desc[176], what[FW_NFT_WHATLEN];
	bool ok;

	if ((r = nftnl_rule_alloc()) == NULL) {
		bt->failed = true;
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, nft->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	ok = fw_nft_expr_rule(r, fr, port);

	fw_rule_format(fr, port, desc, sizeof(desc));
	snprintf(what, sizeof(what), "%s: %s", chain, desc);
	log_debug("%s", what);
	if (!ok)
		bt->failed = true;
	else if ((nlh = fw_batch_msg(bt, nft, NFT_MSG_NEWRULE,
	    NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, what)) != NULL) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		fw_batch_next(bt);
	}
	nftnl_rule_free(r);
}

/* --- sending and acks --- */

/* Make room in the socket buffers for a large batch and its acks. */
static void
fw_nft_bufsizes(struct fw_nft *nft, size_t sendlen, size_t nack)
{
	int fd = mnl_socket_get_fd(nft->nl), v;

	if (sendlen > 65536) {
		v = (int)sendlen + 65536;
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	}
	if (nack > 64) {
		/* An ack costs about a kilobyte of receive buffer. */
		v = (int)(nack * 1024) + 65536;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	}
}

/* The kernel's own message from an extended ack, if it sent one. */
static const char *
fw_nft_extack(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	const char *end = (const char *)nlh + nlh->nlmsg_len;
	size_t off;
	int left;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += MNL_ALIGN(e->msg.nlmsg_len) - sizeof(e->msg);
	a = (const struct nlattr *)((const char *)e + off);
	while ((const char *)a < end) {
		left = (int)(end - (const char *)a);
		if (!mnl_attr_ok(a, left))
			break;
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			return mnl_attr_get_str(a);
		a = mnl_attr_next(a);
	}
	return NULL;
}

/*
 * Read one ack per message that asked for one, stopping at the first
 * error, which is reported with the description of the message it
 * concerns.  The kernel processes the batch inside sendmsg, so every
 * answer is already queued; whatever is left after an error is drained
 * so that the next batch starts clean.
 */
static int
fw_nft_acks(struct fw_nft *nft, struct fw_batch *bt, char *err, size_t errlen)
{
	char buf[FW_NFT_RECVBUF];
	const struct nlmsghdr *nlh;
	const struct nlmsgerr *e;
	const char *ext;
	struct pollfd pfd;
	size_t acked = 0, idx;
	ssize_t n;
	int len, ret = -1, fd = mnl_socket_get_fd(nft->nl);

	pfd.fd = fd;
	pfd.events = POLLIN;
	while (acked < bt->nack) {
		pfd.revents = 0;
		n = poll(&pfd, 1, FW_NFT_ACK_TIMEOUT_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "no answer from the kernel: %s",
			    n == 0 ? "timed out" : strerror(errno));
			goto out;
		}
		if ((n = mnl_socket_recvfrom(nft->nl, buf, sizeof(buf))) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "netlink receive: %s",
			    strerror(errno));
			goto out;
		}
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		    nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_pid != nft->portid ||
			    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;
			/* Unsigned arithmetic also rejects seq < seq0. */
			idx = (size_t)(nlh->nlmsg_seq - bt->seq0);
			if (idx >= bt->nmsg)
				continue;	/* from an earlier batch */
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error == 0) {
				acked++;
				continue;
			}
			ext = fw_nft_extack(nlh);
			bt->err_idx = idx;
			bt->err_errno = -e->error;
			/* nfnetlink checks CAP_NET_ADMIN on the batch header. */
			if (idx == 0)
				snprintf(err, errlen, "kernel refused the batch: "
				    "%s%s", strerror(-e->error),
				    -e->error == EPERM ? " (the firewall needs "
				    "root or CAP_NET_ADMIN)" : "");
			else
				snprintf(err, errlen, "kernel refused \"%s\": "
				    "%s%s%s", bt->what[idx], strerror(-e->error),
				    ext != NULL ? ": " : "",
				    ext != NULL ? ext : "");
			goto out;
		}
	}
	ret = 0;
 out:
	if (ret != 0) {
		for (;;) {
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
		}
	}
	return ret;
}

static int
fw_nft_commit(struct fw_nft *nft, struct fw_batch *bt, char *err,
    size_t errlen)
{
	size_t len;

	fw_batch_end(bt, nft);
	if (bt->failed) {
		snprintf(err, errlen, "cannot build the netlink batch "
		    "(out of memory or too large)");
		return -1;
	}
	len = mnl_nlmsg_batch_size(bt->b);
	fw_nft_bufsizes(nft, len, bt->nack);
	if (mnl_socket_sendto(nft->nl, mnl_nlmsg_batch_head(bt->b), len) < 0) {
		snprintf(err, errlen, "netlink send (%zu bytes): %s", len,
		    strerror(errno));
		return -1;
	}
	return fw_nft_acks(nft, bt, err, errlen);
}

static void fw_nft_hint(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append a hint to the error text. */
static void
fw_nft_hint(char *err, size_t errlen, const char *fmt, ...)
{
	size_t l = strnlen(err, errlen);
	va_list ap;

	if (l + 1 >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + l, errlen - l, fmt, ap);
	va_end(ap);
}

int
fw_nft_apply(struct fw_nft *nft, const struct fw_plan *plan, char *err,
    size_t errlen)
{
	struct fw_batch bt;
	char what[FW_NFT_WHATLEN], comment[FW_NFT_COMMENTMAX];
	size_t i, nmsg, nrules;
	bool new_table = !nft->have_table, want[FW_NCHAINS];
	int ret = -1, ch;

	if (nft->have_table && plan->port != nft->port) {
		snprintf(err, errlen, "the port cannot change from %u to %u",
		    nft->port, plan->port);
		return -1;
	}
	if (plan->port == 0) {
		snprintf(err, errlen, "no port");
		return -1;
	}
	if (new_table)
		snprintf(nft->table, sizeof(nft->table), "%s%u",
		    FW_NFT_TABLE_PREFIX, plan->port);
	nrules = 0;
	for (ch = 0; ch < FW_NCHAINS; ch++) {
		want[ch] = plan->nchain[ch] > 0;
		nrules += plan->nchain[ch];
	}

	/* table, per chain (new or flush, delete), the rules */
	nmsg = 1 + 2 * FW_NCHAINS + nrules;
	if (fw_batch_init(&bt, nft, nmsg) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}

	if (new_table) {
		/* EXCL: never adopt a table someone else left behind. */
		fw_nft_comment(plan, comment, sizeof(comment));
		snprintf(what, sizeof(what), "add table inet %s (owner)",
		    nft->table);
		log_debug("%s, comment \"%s\"", what, comment);
		fw_msg_table(&bt, nft, NFT_MSG_NEWTABLE,
		    NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, what, comment);
	}
	/*
	 * Every chain that exists is emptied before any is deleted (a chain
	 * must be empty, and no goto may point at it), and every chain the
	 * plan needs exists before the first rule (a goto needs its target).
	 */
	for (ch = 0; ch < FW_NCHAINS; ch++)
		if (nft->have[ch])
			fw_msg_flush(&bt, nft, fw_chain_name(ch));
	for (ch = 0; ch < FW_NCHAINS; ch++)
		if (nft->have[ch] && !want[ch])
			fw_msg_chain(&bt, nft, ch, false);
	for (ch = 0; ch < FW_NCHAINS; ch++)
		if (!nft->have[ch] && want[ch])
			fw_msg_chain(&bt, nft, ch, true);
	for (ch = 0; ch < FW_NCHAINS; ch++)
		for (i = 0; i < plan->nchain[ch]; i++)
			fw_msg_rule(&bt, nft, fw_chain_name(ch),
			    &plan->chain[ch][i], plan->port);

	if ((ret = fw_nft_commit(nft, &bt, err, errlen)) != 0) {
		/* Message 1 is the new table: it exists or is owned already. */
		if (new_table && bt.err_idx == 1 && bt.err_errno == EEXIST)
			fw_nft_hint(err, errlen, " (is another cshuttle using "
			    "port %u?)", plan->port);
		else if (new_table && bt.err_idx == 1 && bt.err_errno == EPERM)
			fw_nft_hint(err, errlen, " (not privileged, or another "
			    "cshuttle owns the table for port %u)", plan->port);
		goto out;
	}
	nft->have_table = true;
	for (ch = 0; ch < FW_NCHAINS; ch++)
		nft->have[ch] = want[ch];
	nft->port = plan->port;
 out:
	fw_batch_free(&bt);
	return ret;
}

int
fw_nft_delete(struct fw_nft *nft, char *err, size_t errlen)
{
	struct fw_batch bt;
	char what[FW_NFT_WHATLEN];
	int ret = -1;

	if (!nft->have_table)
		return 0;
	if (fw_batch_init(&bt, nft, 1) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(what, sizeof(what), "delete table inet %s", nft->table);
	log_debug("%s", what);
	fw_msg_table(&bt, nft, NFT_MSG_DELTABLE, NLM_F_ACK, what, NULL);
	if ((ret = fw_nft_commit(nft, &bt, err, errlen)) == 0) {
		nft->have_table = false;
		memset(nft->have, 0, sizeof(nft->have));
	}
 out:
	fw_batch_free(&bt);
	return ret;
}

/*
 * Send nlh (of sequence number 1), a question about the tables, on a
 * netlink socket of its own, and pass the data messages of the answer
 * to cb until its ack or the end of its dump.  1: answered; 0: the
 * kernel refused it (errno is its error); -1: no answer (errno).
 */
static int
fw_nft_ask(struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	char			 buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket	*nl;
	struct pollfd		 pfd;
	uint32_t		 portid;
	ssize_t			 n;
	int			 r, ret = -1, e;

	if ((nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	pfd.fd = mnl_socket_get_fd(nl);
	pfd.events = POLLIN;
	for (;;) {
		if ((r = poll(&pfd, 1, FW_NFT_ACK_TIMEOUT_MS)) < 0 &&
		    errno == EINTR)
			continue;
		if (r <= 0 || (n = mnl_socket_recvfrom(nl, buf,
		    sizeof(buf))) < 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			goto out;
		}
		r = mnl_cb_run(buf, (size_t)n, 1, portid, cb, arg);
		if (r == MNL_CB_ERROR) {
			ret = 0;
			goto out;
		}
		if (r == MNL_CB_STOP) {
			ret = 1;
			goto out;
		}
	}
 out:
	e = errno;
	mnl_socket_close(nl);
	errno = e;
	return ret;
}

int
fw_nft_table_exists(uint16_t port)
{
	char			 buf[MNL_SOCKET_BUFFER_SIZE], name[32];
	struct nftnl_table	*t;
	struct nlmsghdr		*nlh;
	int			 r;

	snprintf(name, sizeof(name), "%s%u", FW_NFT_TABLE_PREFIX, port);
	if ((t = nftnl_table_alloc()) == NULL)
		return -1;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
	    NLM_F_ACK, 1);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	/* The table comes first, then the ack; or an error. */
	if ((r = fw_nft_ask(nlh, NULL, NULL)) == 0)
		return errno == ENOENT ? 0 : -1;
	return r;
}

/* What fw_nft_tmark_alive() found in the dump of the tables. */
struct fw_nft_marks {
	uint32_t	 mark;		/* wanted */
	bool		 found;		/* a table whose comment names it */
	bool		 unknown;	/* a cshuttle_ table without a comment
					   of ours (an older cshuttle's) */
};

static int
fw_nft_marks_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct fw_nft_marks	*m = arg;
	struct nftnl_table	*t;
	const struct nftnl_udata *a;
	const char		*name, *data;
	uint32_t		 len = 0, mark = 0;
	int			 r = -1;

	if ((t = nftnl_table_alloc()) == NULL)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, t) < 0 ||
	    (name = nftnl_table_get_str(t, NFTNL_TABLE_NAME)) == NULL ||
	    strncmp(name, FW_NFT_TABLE_PREFIX,
	    strlen(FW_NFT_TABLE_PREFIX)) != 0) {
		nftnl_table_free(t);
		return MNL_CB_OK;
	}
	data = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
	/* The comment is a NUL-terminated string of its type; anything
	 * that would reach past the data ends the walk. */
	nftnl_udata_for_each_data(data, len, a) {
		if ((const char *)a + 2 > data + len ||
		    (const char *)nftnl_udata_get(a) + nftnl_udata_len(a) >
		    data + len)
			break;
		if (nftnl_udata_type(a) == NFTNL_UDATA_TABLE_COMMENT &&
		    nftnl_udata_len(a) > 0 && nftnl_udata_len(a) <=
		    FW_NFT_COMMENTMAX && ((const char *)nftnl_udata_get(a))
		    [nftnl_udata_len(a) - 1] == '\0')
			r = fw_nft_comment_mark(nftnl_udata_get(a), &mark);
	}
	if (r < 0)
		m->unknown = true;
	else if (r > 0 && mark == m->mark)
		m->found = true;
	nftnl_table_free(t);
	return MNL_CB_OK;
}

int
fw_nft_tmark_alive(uint32_t mark)
{
	char			 buf[MNL_SOCKET_BUFFER_SIZE];
	struct fw_nft_marks	 m;
	struct nlmsghdr		*nlh;

	memset(&m, 0, sizeof(m));
	m.mark = mark;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
	    NLM_F_DUMP, 1);
	if (fw_nft_ask(nlh, fw_nft_marks_cb, &m) != 1)
		return -1;
	return m.found ? 1 : m.unknown ? -1 : 0;
}
