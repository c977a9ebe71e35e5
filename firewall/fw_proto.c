/* SPDX-License-Identifier: ISC */
/*
 * fw_proto.c - parse and produce the helper's request lines; see fw_proto.h.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "fw_plan.h"
#include "fw_proto.h"

#define FW_REQ_SEEN_PREROUTING	(1U << 0)
#define FW_REQ_SEEN_BLOCKLEAKS	(1U << 1)
#define FW_REQ_SEEN_SCOPE	(1U << 2)
#define FW_REQ_SEEN_USER	(1U << 3)
#define FW_REQ_SEEN_GROUP	(1U << 4)
#define FW_REQ_SEEN_ANY		(1U << 5)	/* a series has begun */
#define FW_REQ_SEEN_TMARK	(1U << 6)

#define FW_ERRNO_MAX		4095	/* the kernel's own bound on errno */
#define FW_ID_MAX		4294967294UL	/* uid_t/gid_t, less (uid_t)-1 */

#define FW_REQ_MAXTOK		8

/* A request line the helper refuses: the reason in err, FW_E_INVAL. */
#define fw_req_fail(err, errlen, ...)	err_set(err, errlen, FW_E_INVAL, __VA_ARGS__)

void
fw_req_init(struct fw_req *req)
{
	int	i;

	memset(req, 0, sizeof(*req));
	req->cfg.subnets = &req->subnets;
	req->mark_fd = -1;
	req->reply_fd = -1;
	req->send_fd = -1;
	for (i = 0; i < FW_MAX_LISTEN; i++)
		req->cfg.listen_fd[i] = req->cfg.udp_fd[i] = -1;
	for (i = 0; i < FW_MAX_DNS; i++)
		req->cfg.dns_udp_fd[i] = req->cfg.dns_tcp_fd[i] = -1;
}

void
fw_req_clear(struct fw_req *req)
{
	if (req == NULL)
		return;
	/*
	 * The helper fills the list itself (fw_req_add_subnet), so it also
	 * frees it: the helper does not depend on the client's allocator.
	 */
	free(req->subnets.v);
	free(req->hosts);
	fw_req_init(req);
}

void
fw_req_hosts_done(struct fw_req *req)
{
	free(req->hosts);
	req->hosts = NULL;
	req->nhosts = req->hosts_cap = 0;
}

/* Decimal, no sign, no leading zero, at most `max` (< 2^32). */
static bool
fw_parse_num(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0') || strlen(s) > 10)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = (unsigned long)v;
	return true;
}

static bool
fw_parse_family(const char *s, uint8_t *family)
{
	if (strcmp(s, "4") == 0)
		*family = 4;
	else if (strcmp(s, "6") == 0)
		*family = 6;
	else
		return false;
	return true;
}

/* A bare address (no port, brackets or scope) of the family named. */
static bool
fw_parse_addr(uint8_t family, const char *s, struct addr *a)
{
	struct addr	parsed;

	if (addr_parse(&parsed, s, (size_t)-1, 0, 0) != 0 ||
	    parsed.family != family)
		return false;
	*a = parsed;
	return true;
}

/* The address alone, as fw_parse_addr() reads it. */
static const char *
fw_format_addr(uint8_t family, const uint8_t *bytes, char *buf, size_t len)
{
	struct addr	a;

	if (addr_size(family) == 0)
		return NULL;
	addr_set(&a, family, bytes, 0);
	return addr_format(&a, false, buf, len);
}

/* "4|6 <addr> <prefix>", a network address: SUBNET's and ALLOW's. */
static bool
fw_parse_net(char **tok, uint8_t *family, uint8_t *addr, uint8_t *prefix,
    const char *what, char *err, size_t errlen, int *ret)
{
	struct addr	a;
	unsigned long	p;

	*ret = FW_E_INVAL;
	if (!fw_parse_family(tok[0], family)) {
		fw_req_fail(err, errlen, "%s: bad family", what);
		return false;
	}
	if (!fw_parse_addr(*family, tok[1], &a)) {
		fw_req_fail(err, errlen, "%s: bad IPv%u address", what, *family);
		return false;
	}
	memcpy(addr, a.bytes, 16);
	if (!fw_parse_num(tok[2], (unsigned long)fw_family_maxprefix(*family),
	    &p)) {
		fw_req_fail(err, errlen, "%s: bad prefix length", what);
		return false;
	}
	*prefix = (uint8_t)p;
	if (!fw_addr_is_network(*family, addr, *prefix)) {
		fw_req_fail(err, errlen, "%s: host bits set in %s/%lu", what,
		    tok[1], p);
		return false;
	}
	*ret = 0;
	return true;
}

static int
fw_req_add_subnet(struct fw_req *req, const struct subnet *s)
{
	struct subnet_list *l = &req->subnets;
	struct subnet *nv;
	size_t ncap;

	if (l->n >= FW_MAX_SUBNETS)
		return FW_E_TOOMANY;
	if (l->n == l->cap) {
		ncap = l->cap == 0 ? 16 : l->cap * 2;
		if (ncap > FW_MAX_SUBNETS)
			ncap = FW_MAX_SUBNETS;
		if ((nv = reallocarray(l->v, ncap, sizeof(*nv))) == NULL)
			return FW_E_NOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = *s;
	return 0;
}

static int
fw_req_subnet(struct fw_req *req, char **tok, char *err, size_t errlen)
{
	struct subnet s;
	unsigned long lo, hi;
	int ret;

	memset(&s, 0, sizeof(s));
	if (strcmp(tok[1], "inc") == 0)
		s.exclude = false;
	else if (strcmp(tok[1], "exc") == 0)
		s.exclude = true;
	else
		return fw_req_fail(err, errlen, "SUBNET: expected inc or exc");
	if (!fw_parse_net(tok + 2, &s.family, s.addr, &s.prefix, "SUBNET",
	    err, errlen, &ret))
		return ret;
	if (!fw_parse_num(tok[5], 65535, &lo) ||
	    !fw_parse_num(tok[6], 65535, &hi) || lo > hi)
		return fw_req_fail(err, errlen, "SUBNET: bad port range");
	s.port_lo = (uint16_t)lo;
	s.port_hi = (uint16_t)hi;
	if ((ret = fw_req_add_subnet(req, &s)) != 0) {
		snprintf(err, errlen, "SUBNET: %s", fw_strerror(ret));
		return ret;
	}
	return FW_PROTO_MORE;
}

static int
fw_req_allow(struct fw_req *req, char **tok, char *err, size_t errlen)
{
	struct fw_allow	a;
	int		ret;

	if (req->cfg.nallow >= FW_MAX_ALLOW) {
		snprintf(err, errlen, "ALLOW: more than %d", FW_MAX_ALLOW);
		return FW_E_TOOMANY;
	}
	memset(&a, 0, sizeof(a));
	if (!fw_parse_net(tok + 1, &a.family, a.addr, &a.prefix, "ALLOW", err,
	    errlen, &ret))
		return ret;
	req->cfg.allow[req->cfg.nallow++] = a;
	return FW_PROTO_MORE;
}

static int
fw_req_exempt(struct fw_req *req, char **tok, char *err, size_t errlen)
{
	struct addr *e;
	unsigned long port;
	uint8_t family;

	if (req->cfg.nexempt >= FW_MAX_EXEMPT) {
		snprintf(err, errlen, "EXEMPT: more than %d", FW_MAX_EXEMPT);
		return FW_E_TOOMANY;
	}
	e = &req->cfg.exempt[req->cfg.nexempt];
	if (!fw_parse_family(tok[1], &family))
		return fw_req_fail(err, errlen, "EXEMPT: bad family");
	if (!fw_parse_addr(family, tok[2], e))
		return fw_req_fail(err, errlen, "EXEMPT: bad IPv%u address",
		    family);
	if (!fw_parse_num(tok[3], 65535, &port)) {
		memset(e, 0, sizeof(*e));
		return fw_req_fail(err, errlen, "EXEMPT: bad port");
	}
	e->port = (uint16_t)port;
	req->cfg.nexempt++;
	return FW_PROTO_MORE;
}

/* DNS 4|6 <addr>: the address now, its port Q with the descriptors. */
static int
fw_req_dns(struct fw_req *req, char **tok, char *err, size_t errlen)
{
	struct addr *d;
	uint8_t family;

	if (req->cfg.ndns >= FW_MAX_DNS) {
		snprintf(err, errlen, "DNS: more than %d", FW_MAX_DNS);
		return FW_E_TOOMANY;
	}
	d = &req->cfg.dns[req->cfg.ndns];
	if (!fw_parse_family(tok[1], &family))
		return fw_req_fail(err, errlen, "DNS: bad family");
	if (!fw_parse_addr(family, tok[2], d))
		return fw_req_fail(err, errlen, "DNS: bad IPv%u address",
		    family);
	if (fw_dns_dup(&req->cfg, req->cfg.ndns)) {
		memset(d, 0, sizeof(*d));
		return fw_req_fail(err, errlen, "DNS: %s given twice", tok[2]);
	}
	req->need = FW_FD_DNS;
	req->nneed = 2;
	return FW_PROTO_FDS;
}

static int
fw_req_listen(struct fw_req *req, char *err, size_t errlen)
{
	if (req->later)
		return fw_req_fail(err, errlen, "LISTEN: only in the first "
		    "series (the port cannot change)");
	if (req->cfg.nlisten >= FW_MAX_LISTEN) {
		snprintf(err, errlen, "LISTEN: more than %d", FW_MAX_LISTEN);
		return FW_E_TOOMANY;
	}
	req->need = FW_FD_LISTEN;
	req->nneed = 1;
	return FW_PROTO_FDS;
}

static int
fw_req_udp(struct fw_req *req, char *err, size_t errlen)
{
	if (req->later)
		return fw_req_fail(err, errlen, "UDP: only in the first series "
		    "(the sockets cannot change)");
	if (req->cfg.nlisten == 0)
		return fw_req_fail(err, errlen, "UDP before LISTEN");
	if (req->cfg.nudp >= req->cfg.nlisten)
		return fw_req_fail(err, errlen, "UDP: more than one per LISTEN");
	req->need = FW_FD_UDP;
	req->nneed = 1;
	return FW_PROTO_FDS;
}

/* TMARK <mark>: the caller's mark T, in the first series only. */
static int
fw_req_tmark(struct fw_req *req, const char *v, char *err, size_t errlen)
{
	unsigned long	 mark;
	const char	*why;

	if (req->later)
		return fw_req_fail(err, errlen, "TMARK: only in the first series "
		    "(the policy routing cannot change)");
	if (req->seen & FW_REQ_SEEN_TMARK)
		return fw_req_fail(err, errlen, "TMARK given twice");
	if (!fw_parse_num(v, 0xffffffffUL, &mark))
		return fw_req_fail(err, errlen, "TMARK: bad mark");
	if ((why = fw_tmark_invalid((uint32_t)mark)) != NULL)
		return fw_req_fail(err, errlen, "TMARK %lu: %s", mark, why);
	req->cfg.tmark = (uint32_t)mark;
	req->seen |= FW_REQ_SEEN_TMARK;
	return FW_PROTO_MORE;
}

/* UDPREPLY 4|6 <addr> <port>: the address now, the socket next. */
static int
fw_req_udpreply(struct fw_req *req, char **tok, char *err, size_t errlen)
{
	unsigned long	port;
	uint8_t		family;

	if (req->seen != 0)
		return fw_req_fail(err, errlen, "UDPREPLY inside a series");
	if (!fw_parse_family(tok[1], &family))
		return fw_req_fail(err, errlen, "UDPREPLY: bad family");
	if (!fw_parse_addr(family, tok[2], &req->reply_src))
		return fw_req_fail(err, errlen, "UDPREPLY: bad IPv%u address",
		    family);
	if (!fw_parse_num(tok[3], 65535, &port) || port == 0) {
		memset(&req->reply_src, 0, sizeof(req->reply_src));
		return fw_req_fail(err, errlen, "UDPREPLY: bad port");
	}
	req->reply_src.port = (uint16_t)port;
	req->need = FW_FD_UDPREPLY;
	req->nneed = 1;
	return FW_PROTO_FDS;
}

/* USER <uid> / GROUP <gid>. */
static int
fw_req_owner(struct fw_req *req, char **tok, char *err, size_t errlen)
{
	bool		 user = strcmp(tok[0], "USER") == 0;
	unsigned int	 bit = user ? FW_REQ_SEEN_USER : FW_REQ_SEEN_GROUP;
	unsigned long	 id;

	if (req->seen & bit)
		return fw_req_fail(err, errlen, "%s given twice", tok[0]);
	if (req->seen & FW_REQ_SEEN_SCOPE)
		return fw_req_fail(err, errlen, "%s and SCOPE exclude each "
		    "other", tok[0]);
	if (!fw_parse_num(tok[1], FW_ID_MAX, &id))
		return fw_req_fail(err, errlen, "%s: bad %s", tok[0],
		    user ? "uid" : "gid");
	if (user) {
		req->cfg.has_user = true;
		req->cfg.user = (uid_t)id;
	} else {
		req->cfg.has_group = true;
		req->cfg.group = (gid_t)id;
	}
	req->seen |= bit;
	return FW_PROTO_MORE;
}

static int
fw_req_scope(struct fw_req *req, const char *what, char *err, size_t errlen)
{
	if (req->seen & FW_REQ_SEEN_SCOPE)
		return fw_req_fail(err, errlen, "SCOPE given twice");
	if (req->seen & (FW_REQ_SEEN_USER | FW_REQ_SEEN_GROUP))
		return fw_req_fail(err, errlen, "%s and SCOPE exclude each "
		    "other", req->seen & FW_REQ_SEEN_USER ? "USER" : "GROUP");
	if (strcmp(what, "caller") == 0)
		req->scope = FW_SCOPE_CALLER;
	else if (strcmp(what, "host") == 0)
		req->scope = FW_SCOPE_HOST;
	else
		return fw_req_fail(err, errlen, "SCOPE: expected caller or "
		    "host");
	req->cfg.host_wide = req->scope == FW_SCOPE_HOST;
	req->seen |= FW_REQ_SEEN_SCOPE;
	return FW_PROTO_MORE;
}

/* "0" or "1" for the once-only flags. */
static int
fw_req_flag(struct fw_req *req, const char *name, const char *v,
    unsigned int bit, bool *flag, char *err, size_t errlen)
{
	if (req->seen & bit)
		return fw_req_fail(err, errlen, "%s given twice", name);
	if (strcmp(v, "0") == 0)
		*flag = false;
	else if (strcmp(v, "1") == 0)
		*flag = true;
	else
		return fw_req_fail(err, errlen, "%s: expected 0 or 1", name);
	req->seen |= bit;
	return FW_PROTO_MORE;
}

/* What a complete series must have. */
static int
fw_req_apply(struct fw_req *req, char *err, size_t errlen)
{
	int	i, j;

	if (req->cfg.nlisten == 0)
		return fw_req_fail(err, errlen, "APPLY without LISTEN");
	if (req->cfg.prerouting && req->cfg.nallow == 0)
		return fw_req_fail(err, errlen, "PREROUTING 1 without ALLOW");
	if (req->cfg.tmark != 0 && req->cfg.nudp == 0)
		return fw_req_fail(err, errlen, "TMARK without UDP");
	for (i = 0; i < req->cfg.ndns; i++) {
		if (req->cfg.dns[i].port == req->cfg.port)
			return fw_req_fail(err, errlen, "DNS: the listener's "
			    "port %u is the redirect port", req->cfg.port);
		for (j = 0; j < i; j++)
			if (req->cfg.dns[j].family == req->cfg.dns[i].family &&
			    req->cfg.dns[j].port == req->cfg.dns[i].port)
				return fw_req_fail(err, errlen, "DNS: port %u "
				    "serves two nameservers of a family",
				    req->cfg.dns[i].port);
	}
	return FW_PROTO_APPLY;
}

/* HOST 4|6 <addr> <name>, outside a series. */
static int
fw_req_host(struct fw_req *req, char **tok, char *err, size_t errlen)
{
	struct fw_host	*h, *nv;
	size_t		 ncap;
	uint8_t		 family;

	if (req->seen != 0)
		return fw_req_fail(err, errlen, "HOST inside a series");
	if (req->nhosts >= FW_MAX_HOSTS) {
		snprintf(err, errlen, "HOST: more than %d", FW_MAX_HOSTS);
		return FW_E_TOOMANY;
	}
	if (req->nhosts == req->hosts_cap) {
		ncap = req->hosts_cap == 0 ? 16 : req->hosts_cap * 2;
		if (ncap > FW_MAX_HOSTS)
			ncap = FW_MAX_HOSTS;
		if ((nv = reallocarray(req->hosts, ncap, sizeof(*nv))) == NULL) {
			snprintf(err, errlen, "HOST: out of memory");
			return FW_E_NOMEM;
		}
		req->hosts = nv;
		req->hosts_cap = ncap;
	}
	h = &req->hosts[req->nhosts];
	memset(h, 0, sizeof(*h));
	if (!fw_parse_family(tok[1], &family))
		return fw_req_fail(err, errlen, "HOST: bad family");
	if (!fw_parse_addr(family, tok[2], &h->addr))
		return fw_req_fail(err, errlen, "HOST: bad IPv%u address",
		    family);
	if (!fw_hosts_name_ok(tok[3], strlen(tok[3])))
		return fw_req_fail(err, errlen, "HOST: bad host name");
	memcpy(h->name, tok[3], strlen(tok[3]) + 1);
	req->nhosts++;
	return FW_PROTO_MORE;
}

void
fw_req_next(struct fw_req *req)
{
	struct fw_config	keep = req->cfg;
	int			i;

	fw_req_clear(req);
	req->later = true;
	req->cfg.port = keep.port;
	req->cfg.ipv4 = keep.ipv4;
	req->cfg.ipv6 = keep.ipv6;
	req->cfg.nlisten = keep.nlisten;
	for (i = 0; i < keep.nlisten && i < FW_MAX_LISTEN; i++) {
		req->cfg.listen_fd[i] = keep.listen_fd[i];
		req->cfg.listen[i] = keep.listen[i];
	}
	req->cfg.udp4 = keep.udp4;
	req->cfg.udp6 = keep.udp6;
	req->cfg.nudp = keep.nudp;
	req->cfg.tmark = keep.tmark;
	for (i = 0; i < keep.nudp && i < FW_MAX_LISTEN; i++) {
		req->cfg.udp_fd[i] = keep.udp_fd[i];
		req->cfg.udp_listen[i] = keep.udp_listen[i];
	}
}

/* Split on single spaces; only printable ASCII is accepted. */
static int
fw_req_split(char *buf, char **tok, int maxtok)
{
	int n = 0;
	char *p = buf;

	for (;;) {
		if (n == maxtok || *p == '\0' || *p == ' ')
			return -1;	/* too many fields, or an empty one */
		tok[n++] = p;
		while (*p != '\0' && *p != ' ')
			p++;
		if (*p == '\0')
			return n;
		*p++ = '\0';
	}
}

/* A line of a series (anything but MARK). */
static int
fw_req_series(struct fw_req *req, char **tok, int ntok, char *err,
    size_t errlen)
{
	const char	*k = tok[0];

	if (strcmp(k, "LISTEN") == 0 && ntok == 1)
		return fw_req_listen(req, err, errlen);
	if (strcmp(k, "UDP") == 0 && ntok == 1)
		return fw_req_udp(req, err, errlen);
	if (strcmp(k, "TMARK") == 0 && ntok == 2)
		return fw_req_tmark(req, tok[1], err, errlen);
	if (strcmp(k, "PREROUTING") == 0 && ntok == 2)
		return fw_req_flag(req, k, tok[1], FW_REQ_SEEN_PREROUTING,
		    &req->cfg.prerouting, err, errlen);
	if (strcmp(k, "ALLOW") == 0 && ntok == 4)
		return fw_req_allow(req, tok, err, errlen);
	if (strcmp(k, "EXEMPT") == 0 && ntok == 4)
		return fw_req_exempt(req, tok, err, errlen);
	if (strcmp(k, "SUBNET") == 0 && ntok == 7)
		return fw_req_subnet(req, tok, err, errlen);
	if (strcmp(k, "DNS") == 0 && ntok == 3)
		return fw_req_dns(req, tok, err, errlen);
	if (strcmp(k, "BLOCKLEAKS") == 0 && ntok == 2)
		return fw_req_flag(req, k, tok[1], FW_REQ_SEEN_BLOCKLEAKS,
		    &req->cfg.block_leaks, err, errlen);
	if (strcmp(k, "SCOPE") == 0 && ntok == 2)
		return fw_req_scope(req, tok[1], err, errlen);
	if ((strcmp(k, "USER") == 0 || strcmp(k, "GROUP") == 0) && ntok == 2)
		return fw_req_owner(req, tok, err, errlen);
	if (strcmp(k, "APPLY") == 0 && ntok == 1)
		return fw_req_apply(req, err, errlen);
	return fw_req_fail(err, errlen, "unknown request or wrong field count "
	    "(%.16s)", k);
}

int
fw_req_line(struct fw_req *req, const char *line, size_t len, char *err,
    size_t errlen)
{
	char buf[FW_PROTO_MAXLINE], *tok[FW_REQ_MAXTOK];
	size_t i;
	int ntok, r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (req->need != FW_FD_NONE)
		return fw_req_fail(err, errlen, "the previous line's "
		    "descriptors are missing");
	if (len >= sizeof(buf))
		return fw_req_fail(err, errlen, "request line too long");
	for (i = 0; i < len; i++) {
		if (line[i] < ' ' || line[i] > '~')
			return fw_req_fail(err, errlen,
			    "request line has a control or non-ASCII byte");
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	if ((ntok = fw_req_split(buf, tok, FW_REQ_MAXTOK)) < 0)
		return fw_req_fail(err, errlen, "malformed request line");

	if (strcmp(tok[0], "MARK") == 0 && ntok == 1) {
		if (req->seen != 0)
			return fw_req_fail(err, errlen, "MARK inside a series");
		req->need = FW_FD_MARK;
		req->nneed = 1;
		return FW_PROTO_FDS;
	}
	if (strcmp(tok[0], "UDPREPLY") == 0 && ntok == 4)
		return fw_req_udpreply(req, tok, err, errlen);
	if (strcmp(tok[0], "UDPSEND") == 0 && ntok == 1) {
		if (req->seen != 0)
			return fw_req_fail(err, errlen, "UDPSEND inside a series");
		req->need = FW_FD_UDPSEND;
		req->nneed = 1;
		return FW_PROTO_FDS;
	}
	if (strcmp(tok[0], "HOST") == 0 && ntok == 4)
		return fw_req_host(req, tok, err, errlen);
	if (strcmp(tok[0], "HOSTS") == 0 && ntok == 1) {
		if (req->seen != 0)
			return fw_req_fail(err, errlen, "HOSTS inside a series");
		return FW_PROTO_HOSTS;
	}
	if (req->nhosts > 0)
		return fw_req_fail(err, errlen, "%.16s between HOST and HOSTS",
		    tok[0]);
	if ((r = fw_req_series(req, tok, ntok, err, errlen)) >= 0 &&
	    r != FW_PROTO_APPLY)
		req->seen |= FW_REQ_SEEN_ANY;
	return r;
}

/* ---- descriptors ---- */

static uint8_t
fw_fd_family(const struct fw_fdinfo *f)
{
	if (f->domain == AF_INET && f->local.family == ADDR_V4)
		return ADDR_V4;
	if (f->domain == AF_INET6 && f->local.family == ADDR_V6)
		return ADDR_V6;
	return 0;
}

/*
 * An inet socket of the type and protocol given, bound (a port), and
 * IPV6_V6ONLY when it is IPv6: an IPv6 socket that also took IPv4 would
 * escape the rules of the IPv4 family.  NULL, or what is wrong.
 */
static const char *
fw_fd_check(const struct fw_fdinfo *f, int type, int protocol, bool listening)
{
	if (f->domain != AF_INET && f->domain != AF_INET6)
		return "not an IPv4 or IPv6 socket";
	if (f->type != type || f->protocol != protocol)
		return type == SOCK_STREAM ? "not a TCP socket" :
		    "not a UDP socket";
	if (fw_fd_family(f) == 0 || f->local.port == 0)
		return "the socket is not bound";
	if (f->domain == AF_INET6 && !f->v6only)
		return "an IPv6 socket must be IPV6_V6ONLY";
	if (listening && !f->listening)
		return "the socket is not listening";
	return NULL;
}

static int
fw_req_fds_listen(struct fw_req *req, const struct fw_fdinfo *f, char *err,
    size_t errlen)
{
	struct fw_config	*c = &req->cfg;
	const char		*why;
	int			 i;

	if ((why = fw_fd_check(f, SOCK_STREAM, IPPROTO_TCP, true)) != NULL)
		return fw_req_fail(err, errlen, "LISTEN: %s", why);
	/* A wildcard takes its family's every address: nothing else of the
	 * family could bind the port beside it. */
	for (i = 0; i < c->nlisten; i++) {
		if (c->listen[i].family == f->local.family &&
		    (addr_same_host(&c->listen[i], &f->local) ||
		    addr_is_any(&c->listen[i]) || addr_is_any(&f->local)))
			return fw_req_fail(err, errlen, "LISTEN: two IPv%u "
			    "listeners on one address", f->local.family);
		if (c->listen[i].port != f->local.port)
			return fw_req_fail(err, errlen, "LISTEN: the listeners "
			    "are on ports %u and %u, not one", c->listen[i].port,
			    f->local.port);
	}
	c->listen_fd[c->nlisten] = f->fd;
	c->listen[c->nlisten] = f->local;
	c->listen[c->nlisten].scope = 0;
	c->nlisten++;
	c->port = f->local.port;
	if (f->local.family == ADDR_V4)
		c->ipv4 = true;
	else
		c->ipv6 = true;
	return FW_PROTO_MORE;
}

static int
fw_req_fds_udp(struct fw_req *req, const struct fw_fdinfo *f, char *err,
    size_t errlen)
{
	struct fw_config	*c = &req->cfg;
	struct addr		 local = f->local;
	const char		*why;
	int			 i;

	if ((why = fw_fd_check(f, SOCK_DGRAM, IPPROTO_UDP, false)) != NULL)
		return fw_req_fail(err, errlen, "UDP: %s", why);
	if (f->connected)
		return fw_req_fail(err, errlen, "UDP: the socket is connected");
	local.scope = 0;
	for (i = 0; i < c->nlisten; i++)
		if (addr_equal(&c->listen[i], &local))
			break;
	if (i == c->nlisten)
		return fw_req_fail(err, errlen, "UDP: not on the address and "
		    "port of a LISTEN socket");
	for (i = 0; i < c->nudp; i++)
		if (addr_equal(&c->udp_listen[i], &local))
			return fw_req_fail(err, errlen, "UDP: two sockets on "
			    "one listener's address");
	c->udp_fd[c->nudp] = f->fd;
	c->udp_listen[c->nudp] = local;
	c->nudp++;
	if (local.family == ADDR_V4)
		c->udp4 = true;
	else
		c->udp6 = true;
	return FW_PROTO_MORE;
}

/* The reply socket: ours to bind, so unbound, of the family named. */
static int
fw_req_fds_udpreply(struct fw_req *req, const struct fw_fdinfo *f,
    char *err, size_t errlen)
{
	int	af = req->reply_src.family == ADDR_V4 ? AF_INET : AF_INET6;

	if (f->domain != af)
		return fw_req_fail(err, errlen, "UDPREPLY: not an IPv%u socket",
		    req->reply_src.family);
	if (f->type != SOCK_DGRAM || f->protocol != IPPROTO_UDP)
		return fw_req_fail(err, errlen, "UDPREPLY: not a UDP socket");
	if (f->local.port != 0 || f->connected)
		return fw_req_fail(err, errlen, "UDPREPLY: the socket is bound "
		    "or connected already");
	if (f->domain == AF_INET6 && !f->v6only)
		return fw_req_fail(err, errlen, "UDPREPLY: an IPv6 socket must "
		    "be IPV6_V6ONLY");
	req->reply_fd = f->fd;
	return FW_PROTO_UDPREPLY;
}

static int
fw_req_fds_dns(struct fw_req *req, const struct fw_fdinfo *f, char *err,
    size_t errlen)
{
	struct fw_config	*c = &req->cfg;
	struct addr		*d = &c->dns[c->ndns];
	const char		*why;

	if ((why = fw_fd_check(&f[0], SOCK_DGRAM, IPPROTO_UDP, false)) != NULL)
		return fw_req_fail(err, errlen, "DNS: UDP descriptor: %s", why);
	if ((why = fw_fd_check(&f[1], SOCK_STREAM, IPPROTO_TCP, true)) != NULL)
		return fw_req_fail(err, errlen, "DNS: TCP descriptor: %s", why);
	if (f[0].local.family != d->family)
		return fw_req_fail(err, errlen, "DNS: an IPv%u listener for an "
		    "IPv%u nameserver", f[0].local.family, d->family);
	if (!addr_equal(&f[0].local, &f[1].local))
		return fw_req_fail(err, errlen, "DNS: the UDP and TCP "
		    "listeners are not on one address and port");
	c->dns_udp_fd[c->ndns] = f[0].fd;
	c->dns_tcp_fd[c->ndns] = f[1].fd;
	c->dns_listen[c->ndns] = f[0].local;
	c->dns_listen[c->ndns].scope = 0;
	d->port = f[0].local.port;
	c->ndns++;
	return FW_PROTO_MORE;
}

int
fw_req_fds(struct fw_req *req, const struct fw_fdinfo *f, int n, char *err,
    size_t errlen)
{
	int		 need = req->need, r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (need == FW_FD_NONE || n != req->nneed)
		return fw_req_fail(err, errlen, "%d descriptor%s where %d "
		    "%s expected", n, n == 1 ? "" : "s", req->nneed,
		    req->nneed == 1 ? "was" : "were");
	req->need = FW_FD_NONE;
	req->nneed = 0;
	switch (need) {
	case FW_FD_LISTEN:
		r = fw_req_fds_listen(req, f, err, errlen);
		break;
	case FW_FD_DNS:
		r = fw_req_fds_dns(req, f, err, errlen);
		break;
	case FW_FD_UDP:
		r = fw_req_fds_udp(req, f, err, errlen);
		break;
	case FW_FD_UDPREPLY:
		return fw_req_fds_udpreply(req, f, err, errlen);
	case FW_FD_UDPSEND:
		/* One end of the client's socketpair (fw_udpsend.h). */
		if (f->domain != AF_UNIX || f->type != SOCK_DGRAM)
			return fw_req_fail(err, errlen, "UDPSEND: not an AF_UNIX "
			    "datagram socket");
		if (!f->connected)
			return fw_req_fail(err, errlen, "UDPSEND: not a "
			    "socketpair's end");
		req->send_fd = f->fd;
		return FW_PROTO_UDPSEND;
	default:	/* FW_FD_MARK: bound or not, but UDP or TCP */
		if (f->domain != AF_INET && f->domain != AF_INET6)
			return fw_req_fail(err, errlen, "MARK: not an IPv4 or "
			    "IPv6 socket");
		if (!(f->type == SOCK_DGRAM && f->protocol == IPPROTO_UDP) &&
		    !(f->type == SOCK_STREAM && f->protocol == IPPROTO_TCP))
			return fw_req_fail(err, errlen, "MARK: not a UDP or TCP "
			    "socket");
		req->mark_fd = f->fd;
		return FW_PROTO_MARK;
	}
	if (r >= 0)
		req->seen |= FW_REQ_SEEN_ANY;
	return r;
}

/* ---- the client's side ---- */

/* Append one formatted line; the buffer was sized for the worst case. */
static void fw_req_put(char *out, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
fw_req_put(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(out + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (r > 0)
		*len += (size_t)r < cap - *len ? (size_t)r : cap - *len - 1;
}

/* Close the current part at len and open one for the next line, which
 * carries the descriptors given (nfd of them). */
static void
fw_req_cut(struct fw_req_text *t, size_t len, const int *fd, int nfd)
{
	struct fw_req_part	*p = &t->part[t->npart - 1];
	int			 i;

	p->len = len - p->off;
	if (p->len == 0 && p->nfd == 0)
		t->npart--;	/* nothing in it yet: reuse it */
	p = &t->part[t->npart++];
	memset(p, 0, sizeof(*p));
	p->off = len;
	for (i = 0; i < nfd; i++)
		p->fd[i] = fd[i];
	p->nfd = nfd;
}

/* The ALLOW and SUBNET networks, masked as subnet.h promises. */
static int
fw_req_put_net(char *buf, size_t cap, size_t *len, const char *head,
    uint8_t family, const uint8_t *addr, uint8_t prefix)
{
	uint8_t	masked[16];
	char	a[ADDR_STRLEN];
	int	j;

	if (fw_family_maxprefix(family) < 0 ||
	    prefix > fw_family_maxprefix(family))
		return FW_E_INVAL;
	memcpy(masked, addr, sizeof(masked));
	for (j = prefix; j < 128; j++)
		masked[j / 8] &= (uint8_t)~(0x80 >> (j % 8));
	if (fw_format_addr(family, masked, a, sizeof(a)) == NULL)
		return FW_E_INVAL;
	fw_req_put(buf, cap, len, "%s %u %s %u", head, family, a, prefix);
	return 0;
}

/* The checks the helper would make, before anything is sent. */
static int
fw_req_format_check(const struct fw_config *cfg, bool with_listen, size_t nsub)
{
	int	i;

	if (cfg->nexempt < 0 || cfg->ndns < 0 || cfg->nallow < 0 ||
	    cfg->nlisten < 0)
		return FW_E_INVAL;
	if (nsub > FW_MAX_SUBNETS || cfg->nexempt > FW_MAX_EXEMPT ||
	    cfg->ndns > FW_MAX_DNS || cfg->nallow > FW_MAX_ALLOW ||
	    cfg->nlisten > FW_MAX_LISTEN)
		return FW_E_TOOMANY;
	if (with_listen && cfg->nlisten == 0)
		return FW_E_INVAL;
	for (i = 0; with_listen && i < cfg->nlisten; i++)
		if (cfg->listen_fd[i] < 0)
			return FW_E_INVAL;
	if (cfg->nudp < 0 || (with_listen && cfg->nudp > cfg->nlisten))
		return FW_E_INVAL;
	for (i = 0; with_listen && i < cfg->nudp; i++)
		if (cfg->udp_fd[i] < 0)
			return FW_E_INVAL;
	if (with_listen && cfg->tmark != 0 && (cfg->nudp == 0 ||
	    fw_tmark_invalid(cfg->tmark) != NULL))
		return FW_E_INVAL;
	if (cfg->prerouting && cfg->nallow == 0)
		return FW_E_INVAL;
	if (cfg->host_wide && (cfg->has_user || cfg->has_group))
		return FW_E_INVAL;
	if ((cfg->has_user && cfg->user == (uid_t)-1) ||
	    (cfg->has_group && cfg->group == (gid_t)-1))
		return FW_E_INVAL;
	for (i = 0; i < cfg->ndns; i++)
		if (cfg->dns_udp_fd[i] < 0 || cfg->dns_tcp_fd[i] < 0 ||
		    addr_size(cfg->dns[i].family) == 0 || fw_dns_dup(cfg, i))
			return FW_E_INVAL;
	return 0;
}

void
fw_req_text_free(struct fw_req_text *t)
{
	if (t == NULL)
		return;
	free(t->buf);
	free(t->part);
	memset(t, 0, sizeof(*t));
}

int
fw_req_format(const struct fw_config *cfg, bool with_listen,
    struct fw_req_text *out)
{
	const struct subnet *s;
	char a[ADDR_STRLEN], *buf;
	size_t nsub, nlines, cap, len = 0, i;
	int fds[FW_PROTO_MAXFDS], j, ret;

	memset(out, 0, sizeof(*out));
	nsub = cfg->subnets != NULL ? cfg->subnets->n : 0;
	if ((ret = fw_req_format_check(cfg, with_listen, nsub)) != 0)
		return ret;

	/* LISTENs, TMARK, PREROUTING, BLOCKLEAKS, SCOPE or USER and GROUP,
	 * APPLY: 8 at most; then the lists. */
	nlines = 8 + (size_t)cfg->nallow + (size_t)cfg->nexempt +
	    (size_t)cfg->ndns + nsub + (size_t)cfg->nudp;
	cap = nlines * FW_PROTO_MAXLINE + 1;
	if ((buf = malloc(cap)) == NULL ||
	    (out->part = calloc(nlines + 1, sizeof(*out->part))) == NULL) {
		free(buf);
		return FW_E_NOMEM;
	}
	out->buf = buf;
	out->npart = 1;
	buf[0] = '\0';
	for (j = 0; with_listen && j < cfg->nlisten; j++) {
		fw_req_cut(out, len, &cfg->listen_fd[j], 1);
		fw_req_put(buf, cap, &len, "LISTEN\n");
	}
	for (j = 0; with_listen && j < cfg->nudp; j++) {
		fw_req_cut(out, len, &cfg->udp_fd[j], 1);
		fw_req_put(buf, cap, &len, "UDP\n");
	}
	fw_req_cut(out, len, NULL, 0);
	if (with_listen && cfg->tmark != 0)
		fw_req_put(buf, cap, &len, "TMARK %lu\n",
		    (unsigned long)cfg->tmark);
	fw_req_put(buf, cap, &len, "PREROUTING %d\n", cfg->prerouting ? 1 : 0);
	for (j = 0; j < cfg->nallow; j++) {
		if (fw_req_put_net(buf, cap, &len, "ALLOW",
		    cfg->allow[j].family, cfg->allow[j].addr,
		    cfg->allow[j].prefix) != 0)
			goto bad;
		fw_req_put(buf, cap, &len, "\n");
	}
	fw_req_put(buf, cap, &len, "BLOCKLEAKS %d\n", cfg->block_leaks ? 1 : 0);
	if (cfg->has_user)
		fw_req_put(buf, cap, &len, "USER %lu\n",
		    (unsigned long)cfg->user);
	if (cfg->has_group)
		fw_req_put(buf, cap, &len, "GROUP %lu\n",
		    (unsigned long)cfg->group);
	if (!cfg->has_user && !cfg->has_group)
		fw_req_put(buf, cap, &len, "SCOPE %s\n", cfg->host_wide ?
		    "host" : "caller");
	for (j = 0; j < cfg->nexempt; j++) {
		/* Bytes and family only: the helper takes no scope. */
		if (fw_format_addr(cfg->exempt[j].family,
		    cfg->exempt[j].bytes, a, sizeof(a)) == NULL)
			goto bad;
		fw_req_put(buf, cap, &len, "EXEMPT %u %s %u\n",
		    cfg->exempt[j].family, a, cfg->exempt[j].port);
	}
	for (i = 0; i < nsub; i++) {
		s = &cfg->subnets->v[i];
		if (s->port_lo > s->port_hi && !fw_ports_all(s->port_lo,
		    s->port_hi))
			goto bad;
		if (fw_req_put_net(buf, cap, &len, s->exclude ? "SUBNET exc" :
		    "SUBNET inc", s->family, s->addr, s->prefix) != 0)
			goto bad;
		if (fw_ports_all(s->port_lo, s->port_hi))
			fw_req_put(buf, cap, &len, " 0 65535\n");
		else
			fw_req_put(buf, cap, &len, " %u %u\n", s->port_lo,
			    s->port_hi);
	}
	for (j = 0; j < cfg->ndns; j++) {
		if (fw_format_addr(cfg->dns[j].family, cfg->dns[j].bytes, a,
		    sizeof(a)) == NULL)
			goto bad;
		fds[0] = cfg->dns_udp_fd[j];
		fds[1] = cfg->dns_tcp_fd[j];
		fw_req_cut(out, len, fds, 2);
		fw_req_put(buf, cap, &len, "DNS %u %s\n", cfg->dns[j].family, a);
	}
	fw_req_put(buf, cap, &len, "APPLY\n");
	out->part[out->npart - 1].len = len - out->part[out->npart - 1].off;
	out->len = len;
	return 0;
 bad:
	fw_req_text_free(out);
	return FW_E_INVAL;
}

int
fw_req_format_hosts(const struct fw_host *hosts, size_t n, char **out,
    size_t *outlen)
{
	char	a[ADDR_STRLEN], *buf;
	size_t	cap, len = 0, i;

	*out = NULL;
	*outlen = 0;
	if (n > FW_MAX_HOSTS)
		return FW_E_TOOMANY;
	for (i = 0; i < n; i++)
		if ((hosts[i].addr.family != ADDR_V4 &&
		    hosts[i].addr.family != ADDR_V6) ||
		    !fw_hosts_name_ok(hosts[i].name, strlen(hosts[i].name)))
			return FW_E_INVAL;
	cap = (n + 1) * FW_PROTO_MAXLINE + 1;
	if ((buf = malloc(cap)) == NULL)
		return FW_E_NOMEM;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (fw_format_addr(hosts[i].addr.family, hosts[i].addr.bytes,
		    a, sizeof(a)) == NULL) {
			free(buf);
			return FW_E_INVAL;
		}
		fw_req_put(buf, cap, &len, "HOST %u %s %s\n",
		    hosts[i].addr.family, a, hosts[i].name);
	}
	fw_req_put(buf, cap, &len, "HOSTS\n");
	*out = buf;
	*outlen = len;
	return 0;
}

/* "<number>" at *p up to a space or the end; advances *p past it. */
static bool
fw_reply_num(const char **p, unsigned long max, unsigned long *v)
{
	const char	*sp;
	char		 num[12];

	if ((sp = strchr(*p, ' ')) == NULL)
		sp = *p + strlen(*p);
	if ((size_t)(sp - *p) >= sizeof(num))
		return false;
	memcpy(num, *p, (size_t)(sp - *p));
	num[sp - *p] = '\0';
	if (!fw_parse_num(num, max, v))
		return false;
	*p = *sp == ' ' ? sp + 1 : sp;
	return true;
}

int
fw_reply_ready(const char *line, int *version, uid_t *uid)
{
	const char	*p = line + 6;
	unsigned long	 v, u;

	*version = 0;
	*uid = (uid_t)-1;
	if (strncmp(line, "READY ", 6) != 0 || !fw_reply_num(&p, 9999, &v) ||
	    v == 0)
		return -1;
	if (*p != '\0') {
		/* the number ended in a space: a uid must follow */
		if (!fw_reply_num(&p, FW_ID_MAX, &u) || *p != '\0')
			return -1;
		*uid = (uid_t)u;
	} else if (p[-1] == ' ')
		return -1;
	*version = (int)v;
	return 0;
}

/* "<yes>", or "<no> <errno> <text>" with the errno in *err_no. */
static int
fw_reply_status(const char *line, const char *yes, const char *no,
    int *err_no)
{
	const char	*p;
	size_t		 nl = strlen(no);
	unsigned long	 v;

	*err_no = 0;
	if (strcmp(line, yes) == 0)
		return 1;
	if (strncmp(line, no, nl) != 0 || line[nl] != ' ')
		return -1;
	p = line + nl + 1;
	if (!fw_reply_num(&p, FW_ERRNO_MAX, &v) || v == 0)
		return -1;
	*err_no = (int)v;
	return 0;
}

int
fw_reply_mark(const char *line, int *err_no)
{
	return fw_reply_status(line, "MARK", "NOMARK", err_no);
}

int
fw_reply_udpreply(const char *line, int *err_no)
{
	return fw_reply_status(line, "UDPREPLY", "NOUDPREPLY", err_no);
}

int
fw_reply_udpsend(const char *line, int *err_no)
{
	return fw_reply_status(line, "UDPSEND", "NOUDPSEND", err_no);
}

int
fw_req_format_udpreply(const struct addr *src, char *buf, size_t len)
{
	char	a[ADDR_STRLEN];
	int	r;

	if ((src->family != ADDR_V4 && src->family != ADDR_V6) ||
	    src->port == 0)
		return FW_E_INVAL;
	if (fw_format_addr(src->family, src->bytes, a, sizeof(a)) == NULL)
		return FW_E_INVAL;
	r = snprintf(buf, len, "UDPREPLY %u %s %u\n", src->family, a,
	    src->port);
	if (r < 0 || (size_t)r >= len)
		return FW_E_INVAL;
	return 0;
}
