/* SPDX-License-Identifier: ISC */
/*
 * fuzz_fwreq.c - the firewall helper runs as root and reads request
 * lines, and the descriptors that come with them, from an unprivileged
 * process: no sequence may crash it, whatever it accepts for APPLY must
 * be a configuration the rule planner can build (scoped as the helper
 * scopes it) and the client's formatter writes back as the same lines,
 * a MARK it accepts must name a UDP or TCP socket, a UDPREPLY an
 * unbound UDP socket of its address's family and a port, and a UDPSEND a
 * socketpair's datagram end.  Names it accepts
 * for HOSTS must be valid, read back the same from the client's lines,
 * and make a hosts file block that a second update leaves as it is.
 *
 * Descriptors are faked: an input line "@KIND ADDR PORT [listen] [dual]"
 * (KIND tcp, udp, unix, upair: an AF_UNIX datagram socketpair's end,
 * raw or none: not a socket; ADDR "-" for an
 * unbound socket; dual: an IPv6 socket that is not IPV6_V6ONLY) queues
 * what the helper would have found out about the next descriptor, as if
 * it had come with the lines after it.
 *
 * The same bytes also go, whole, to the other readers of outside data in
 * the firewall module: the rewriter of the hosts file (the bytes as the
 * file), the describer of blocked packets (the helper logs
 * what applications and LAN hosts send), the client's parsers of READY
 * and MARK replies, and the policy file's parser (root's file, but a
 * file all the same).
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fw_nflog.h"
#include "fw_plan.h"
#include "fw_hosts.h"
#include "fw_policy.h"
#include "fw_proto.h"

#define FUZZ_MAXFDS	64

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Every descriptor faked so far (by number), and those not yet taken. */
static struct fw_fdinfo	fuzz_fds[FUZZ_MAXFDS];
static int		fuzz_nfds;
static int		fuzz_queue[FUZZ_MAXFDS];
static int		fuzz_nqueue;

/* "@KIND ADDR PORT [listen] [dual]" */
static void
fuzz_fake(const char *line, size_t len)
{
	struct fw_fdinfo	*f;
	char			 buf[128], kind[8], addr[64], w1[8] = "", w2[8] = "";
	unsigned int		 port;

	if (fuzz_nfds == FUZZ_MAXFDS || len >= sizeof(buf))
		return;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (sscanf(buf, "@%7s %63s %u %7s %7s", kind, addr, &port, w1, w2) < 3)
		return;
	f = &fuzz_fds[fuzz_nfds];
	memset(f, 0, sizeof(*f));
	f->fd = 100 + fuzz_nfds;
	if (strcmp(addr, "-") != 0 && addr_parse(&f->local, addr, (size_t)-1, 0,
	    (uint16_t)port) != 0)
		return;
	f->domain = f->local.family == ADDR_V6 ? AF_INET6 : AF_INET;
	if (strcmp(kind, "tcp") == 0) {
		f->type = SOCK_STREAM;
		f->protocol = IPPROTO_TCP;
	} else if (strcmp(kind, "udp") == 0) {
		f->type = SOCK_DGRAM;
		f->protocol = IPPROTO_UDP;
	} else if (strcmp(kind, "unix") == 0) {
		f->domain = AF_UNIX;
		f->type = SOCK_STREAM;
	} else if (strcmp(kind, "upair") == 0) {
		f->domain = AF_UNIX;
		f->type = SOCK_DGRAM;
		f->connected = true;
	} else if (strcmp(kind, "raw") == 0) {
		f->type = SOCK_RAW;
		f->protocol = IPPROTO_RAW;
	} else
		f->domain = AF_UNSPEC;
	f->listening = strcmp(w1, "listen") == 0 || strcmp(w2, "listen") == 0;
	f->v6only = f->domain == AF_INET6 && strcmp(w1, "dual") != 0 &&
	    strcmp(w2, "dual") != 0;
	fuzz_nfds++;
	fuzz_queue[fuzz_nqueue++] = f->fd;
}

static const struct fw_fdinfo *
fuzz_lookup(int fd)
{
	if (fd < 100 || fd >= 100 + fuzz_nfds)
		abort();	/* the parser kept a descriptor it never got */
	return &fuzz_fds[fd - 100];
}

/* A new series as the helper would start it after `req`'s first. */
static void
fuzz_like(struct fw_req *again, const struct fw_req *req)
{
	int	i;

	fw_req_init(again);
	if (!req->later)
		return;
	again->later = true;
	again->cfg.port = req->cfg.port;
	again->cfg.ipv4 = req->cfg.ipv4;
	again->cfg.ipv6 = req->cfg.ipv6;
	again->cfg.nlisten = req->cfg.nlisten;
	for (i = 0; i < req->cfg.nlisten; i++) {
		again->cfg.listen_fd[i] = req->cfg.listen_fd[i];
		again->cfg.listen[i] = req->cfg.listen[i];
	}
	again->cfg.udp4 = req->cfg.udp4;
	again->cfg.udp6 = req->cfg.udp6;
	again->cfg.nudp = req->cfg.nudp;
	for (i = 0; i < req->cfg.nudp; i++) {
		again->cfg.udp_fd[i] = req->cfg.udp_fd[i];
		again->cfg.udp_listen[i] = req->cfg.udp_listen[i];
	}
}

/*
 * What the helper accepted, formatted as the client would, is accepted
 * again as the same configuration, and formats to the same text.
 */
static void
fuzz_roundtrip(const struct fw_req *req)
{
	const struct fw_config	*cfg = &req->cfg;
	struct fw_fdinfo	 f[FW_PROTO_MAXFDS];
	struct fw_req_text	 t, t2;
	struct fw_req		 again;
	const char		*l, *nl, *end;
	char			 err[256];
	size_t			 i;
	int			 k, r = FW_E_INVAL;

	if (fw_req_format(cfg, !req->later, &t) != 0)
		abort();
	fuzz_like(&again, req);
	for (i = 0; i < t.npart; i++) {
		end = t.buf + t.part[i].off + t.part[i].len;
		for (l = t.buf + t.part[i].off; l < end; l = nl + 1) {
			if ((nl = memchr(l, '\n', (size_t)(end - l))) == NULL)
				abort();
			r = fw_req_line(&again, l, (size_t)(nl - l), err,
			    sizeof(err));
			if (r == FW_PROTO_FDS) {
				if (again.nneed != t.part[i].nfd ||
				    l != t.buf + t.part[i].off)
					abort();
				for (k = 0; k < t.part[i].nfd; k++)
					f[k] = *fuzz_lookup(t.part[i].fd[k]);
				r = fw_req_fds(&again, f, t.part[i].nfd, err,
				    sizeof(err));
			}
			if (r < 0)
				abort();
		}
	}
	if (r != FW_PROTO_APPLY || again.cfg.nexempt != cfg->nexempt ||
	    again.cfg.ndns != cfg->ndns || again.cfg.nallow != cfg->nallow ||
	    again.cfg.port != cfg->port || again.cfg.nudp != cfg->nudp ||
	    again.cfg.udp4 != cfg->udp4 || again.cfg.udp6 != cfg->udp6 ||
	    again.cfg.host_wide != cfg->host_wide ||
	    again.cfg.has_user != cfg->has_user ||
	    again.cfg.has_group != cfg->has_group)
		abort();
	for (k = 0; k < cfg->nexempt; k++)
		if (!addr_equal(&again.cfg.exempt[k], &cfg->exempt[k]))
			abort();
	for (k = 0; k < cfg->ndns; k++)
		if (!addr_equal(&again.cfg.dns[k], &cfg->dns[k]))
			abort();
	if (fw_req_format(&again.cfg, !req->later, &t2) != 0 ||
	    t2.len != t.len || memcmp(t.buf, t2.buf, t.len) != 0)
		abort();
	fw_req_text_free(&t);
	fw_req_text_free(&t2);
	fw_req_clear(&again);
}

/* A made-up judge of other helpers' ids: alive when of even length. */
static bool
fuzz_live(const char *id, void *arg)
{
	(void)arg;
	return strlen(id) % 2 == 0;
}

/*
 * HOSTS: the names are valid, the client's lines for them read back the
 * same, and the block written into the input (as a hosts file) is left
 * as it is by the same update again.
 */
static void
fuzz_hosts(const struct fw_req *req, const uint8_t *data, size_t size)
{
	struct fw_req	 again;
	char		*text, *out, *out2;
	const char	*l, *nl;
	size_t		 len, olen, olen2, i;
	int		 r = FW_E_INVAL;

	if (req->seen != 0 || req->nhosts > FW_MAX_HOSTS)
		abort();
	for (i = 0; i < req->nhosts; i++)
		if ((req->hosts[i].addr.family != ADDR_V4 &&
		    req->hosts[i].addr.family != ADDR_V6) ||
		    !fw_hosts_name_ok(req->hosts[i].name,
		    strlen(req->hosts[i].name)))
			abort();
	if (fw_req_format_hosts(req->hosts, req->nhosts, &text, &len) != 0)
		abort();
	fw_req_init(&again);
	for (l = text; (nl = memchr(l, '\n', len - (size_t)(l - text))) !=
	    NULL; l = nl + 1)
		if ((r = fw_req_line(&again, l, (size_t)(nl - l), NULL, 0)) < 0)
			abort();
	if (r != FW_PROTO_HOSTS || again.nhosts != req->nhosts)
		abort();
	for (i = 0; i < req->nhosts; i++)
		if (!addr_equal(&again.hosts[i].addr, &req->hosts[i].addr) ||
		    strcmp(again.hosts[i].name, req->hosts[i].name) != 0)
			abort();
	fw_req_clear(&again);
	free(text);
	if (fw_hosts_rewrite((const char *)data, size, "pid7-77", req->hosts,
	    req->nhosts, fuzz_live, NULL, &out, &olen) != 0)
		abort();
	if (fw_hosts_rewrite(out, olen, "pid7-77", req->hosts, req->nhosts,
	    fuzz_live, NULL, &out2, &olen2) != 0 || olen2 != olen ||
	    memcmp(out, out2, olen) != 0)
		abort();
	free(out);
	free(out2);
}

/* Every rule of a plan must be printable for the helper's log. */
static void
fuzz_format(const struct fw_rule *r, size_t n, uint16_t port)
{
	char buf[192];
	size_t i;

	for (i = 0; i < n; i++) {
		fw_rule_format(&r[i], port, buf, sizeof(buf));
		if (strlen(buf) >= sizeof(buf))
			abort();
	}
}

/* APPLY: scope it as the helper would for a caller (root when
 * root_caller), plan it, and check every rule of a scoped chain. */
static void
fuzz_plan(const struct fw_req *req, bool root_caller)
{
	struct fw_config	 cfg = req->cfg;
	struct fw_plan		 plan;
	size_t			 i;
	int			 ch;
	bool			 scoped;

	if (!cfg.has_user && !cfg.has_group && req->scope != FW_SCOPE_HOST &&
	    !(req->scope == FW_SCOPE_DEFAULT && root_caller)) {
		cfg.has_user = true;
		cfg.user = 1001;
	}
	scoped = cfg.has_user || cfg.has_group;
	memset(&plan, 0, sizeof(plan));
	if (fw_plan_build(&cfg, &plan) != 0)
		abort();	/* validated input must plan */
	for (ch = 0; ch < FW_NCHAINS; ch++) {
		fuzz_format(plan.chain[ch], plan.nchain[ch], plan.port);
		for (i = 0; i < plan.nchain[ch]; i++) {
			/* the output side is scoped, every rule of it; the
			 * rest never */
			if ((ch == FW_CHAIN_OUTPUT ||
			    ch == FW_CHAIN_LEAK_OUTPUT ||
			    ch == FW_CHAIN_UDP_OUTPUT) &&
			    scoped != (plan.chain[ch][i].owner != 0))
				abort();
			if (ch != FW_CHAIN_OUTPUT &&
			    ch != FW_CHAIN_LEAK_OUTPUT &&
			    ch != FW_CHAIN_UDP_OUTPUT &&
			    plan.chain[ch][i].owner != 0)
				abort();
		}
	}
	if (cfg.prerouting && plan.nchain[FW_CHAIN_PREROUTING] !=
	    (size_t)cfg.nallow)
		abort();
	/* UDP capture exactly for the families with a UDP socket */
	if ((plan.nchain[FW_CHAIN_UDP_OUTPUT] > 0) != (cfg.udp4 || cfg.udp6) ||
	    (plan.nchain[FW_CHAIN_UDP_REPLY] > 0) != (cfg.udp4 || cfg.udp6))
		abort();
	fw_plan_free(&plan);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_req		 req;
	struct fw_policy	 pol;
	struct fw_policy_grant	 g;
	struct fw_fdinfo	 f[FW_PROTO_MAXFDS];
	const char		*p = (const char *)data, *end = p + size, *nl;
	static const char *const groups[] = { "staff", "wheel" };
	char			 err[256], line[FW_PROTO_MAXREPLY], *text;
	size_t			 tlen;
	uid_t			 uid;
	int			 r, e, v, k;

	fuzz_nfds = fuzz_nqueue = 0;
	fw_req_init(&req);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (nl > p && p[0] == '@') {
			fuzz_fake(p, (size_t)(nl - p));
			p = nl + 1;
			continue;
		}
		r = fw_req_line(&req, p, (size_t)(nl - p), err, sizeof(err));
		if (r == FW_PROTO_FDS) {
			if (req.nneed > fuzz_nqueue || req.nneed < 1 ||
			    req.nneed > FW_PROTO_MAXFDS)
				break;		/* missing: the helper exits */
			for (k = 0; k < req.nneed; k++)
				f[k] = *fuzz_lookup(fuzz_queue[k]);
			fuzz_nqueue -= k;
			memmove(fuzz_queue, fuzz_queue + k,
			    (size_t)fuzz_nqueue * sizeof(int));
			r = fw_req_fds(&req, f, k, err, sizeof(err));
		}
		if (r < 0)
			break;		/* the helper would exit here */
		if (r == FW_PROTO_MARK) {
			if (fuzz_nqueue > 0)
				break;	/* one too many: it exits */
			f[0] = *fuzz_lookup(req.mark_fd);
			if ((f[0].domain != AF_INET && f[0].domain != AF_INET6) ||
			    (f[0].protocol != IPPROTO_UDP &&
			    f[0].protocol != IPPROTO_TCP) || req.seen != 0)
				abort();
			req.mark_fd = -1;
		} else if (r == FW_PROTO_UDPREPLY) {
			if (fuzz_nqueue > 0)
				break;
			f[0] = *fuzz_lookup(req.reply_fd);
			if (f[0].domain != (req.reply_src.family == ADDR_V4 ?
			    AF_INET : AF_INET6) || f[0].protocol != IPPROTO_UDP ||
			    f[0].local.port != 0 || req.reply_src.port == 0 ||
			    req.seen != 0)
				abort();
			(void)fw_plan_udp_carried(&req.cfg, &req.reply_src);
			req.reply_fd = -1;
		} else if (r == FW_PROTO_UDPSEND) {
			if (fuzz_nqueue > 0)
				break;
			f[0] = *fuzz_lookup(req.send_fd);
			if (f[0].domain != AF_UNIX || f[0].type != SOCK_DGRAM ||
			    !f[0].connected || req.seen != 0)
				abort();
			req.send_fd = -1;
		} else if (r == FW_PROTO_HOSTS) {
			fuzz_hosts(&req, data, size);
			fw_req_hosts_done(&req);
		} else if (r == FW_PROTO_APPLY) {
			if (fuzz_nqueue > 0)
				break;
			if (req.cfg.nlisten < 1 || req.cfg.port == 0)
				abort();
			fuzz_roundtrip(&req);
			fuzz_plan(&req, size % 2 == 0);
			fw_req_next(&req);
		}
		p = nl + 1;
	}
	fw_req_clear(&req);

	if (fw_hosts_rewrite((const char *)data, size, "pid8-8", NULL, 0,
	    fuzz_live, NULL, &text, &tlen) != 0 || tlen > size)
		abort();
	free(text);
	(void)fw_nflog_describe(data, size, size % 2 == 0, err, sizeof(err));
	if (size < sizeof(line)) {
		memcpy(line, data, size);
		line[size] = '\0';
		r = fw_reply_mark(line, &e);
		if (r == 0 && (e <= 0 || e > 4095))
			abort();
		r = fw_reply_udpreply(line, &e);
		if (r == 0 && (e <= 0 || e > 4095))
			abort();
		if (fw_reply_ready(line, &v, &uid) == 0 && v <= 0)
			abort();
	}
	if (fw_policy_parse(&pol, "fuzz", (const char *)data, size, err,
	    sizeof(err)) == 0) {
		fw_policy_grant(&pol, "alice", groups, 2, &g);
		if (g.max_helpers < 1 || g.max_helpers > FW_POLICY_MAX_HELPERS)
			abort();
		fw_policy_free(&pol);
	}
	return 0;
}
