/* SPDX-License-Identifier: ISC */
/*
 * fw_proto.c - parse and produce the helper's request lines; see fw_proto.h.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "fw_plan.h"
#include "fw_proto.h"

#define FW_REQ_SEEN_PORT	(1U << 0)
#define FW_REQ_SEEN_FAMILIES	(1U << 1)
#define FW_REQ_SEEN_PREROUTING	(1U << 2)
#define FW_REQ_SEEN_BLOCKLEAKS	(1U << 3)
#define FW_REQ_SEEN_ANY		(1U << 4)	/* a series has begun */

#define FW_ERRNO_MAX		4095	/* the kernel's own bound on errno */

#define FW_REQ_MAXTOK		8

/* A request line the helper refuses: the reason in err, FW_E_INVAL. */
#define fw_req_fail(err, errlen, ...)	err_set(err, errlen, FW_E_INVAL, __VA_ARGS__)

void
fw_req_init(struct fw_req *req)
{
	memset(req, 0, sizeof(*req));
	req->cfg.subnets = &req->subnets;
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
	fw_req_init(req);
}

/* Decimal, no sign, no leading zero, at most `max`. */
static bool
fw_parse_num(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0') || strlen(s) > 5)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
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
	struct addr a;
	unsigned long prefix, lo, hi;
	int ret;

	memset(&s, 0, sizeof(s));
	if (strcmp(tok[1], "inc") == 0)
		s.exclude = false;
	else if (strcmp(tok[1], "exc") == 0)
		s.exclude = true;
	else
		return fw_req_fail(err, errlen, "SUBNET: expected inc or exc");
	if (!fw_parse_family(tok[2], &s.family))
		return fw_req_fail(err, errlen, "SUBNET: bad family");
	if (!fw_parse_addr(s.family, tok[3], &a))
		return fw_req_fail(err, errlen, "SUBNET: bad IPv%u address",
		    s.family);
	memcpy(s.addr, a.bytes, sizeof(s.addr));
	if (!fw_parse_num(tok[4], (unsigned long)fw_family_maxprefix(s.family),
	    &prefix))
		return fw_req_fail(err, errlen, "SUBNET: bad prefix length");
	s.prefix = (uint8_t)prefix;
	if (!fw_addr_is_network(s.family, s.addr, s.prefix))
		return fw_req_fail(err, errlen,
		    "SUBNET: host bits set in %s/%lu", tok[3], prefix);
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

static int
fw_req_dns(struct fw_req *req, char **tok, char *err, size_t errlen)
{
	struct addr *d;
	unsigned long port;
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
	if (!fw_parse_num(tok[3], 65535, &port) || port == 0) {
		memset(d, 0, sizeof(*d));
		return fw_req_fail(err, errlen, "DNS: bad port");
	}
	d->port = (uint16_t)port;
	if (fw_dns_dup(&req->cfg, req->cfg.ndns)) {
		memset(d, 0, sizeof(*d));
		return fw_req_fail(err, errlen, "DNS: %s given twice", tok[2]);
	}
	req->cfg.ndns++;
	return FW_PROTO_MORE;
}

static int
fw_req_socket(struct fw_req *req, char **tok, char *err, size_t errlen)
{
	if (req->seen != 0)
		return fw_req_fail(err, errlen, "SOCKET inside a series");
	if (strcmp(tok[1], "4") == 0)
		req->sock_family = AF_INET;
	else if (strcmp(tok[1], "6") == 0)
		req->sock_family = AF_INET6;
	else
		return fw_req_fail(err, errlen, "SOCKET: bad family");
	if (strcmp(tok[2], "udp") == 0)
		req->sock_type = SOCK_DGRAM;
	else if (strcmp(tok[2], "tcp") == 0)
		req->sock_type = SOCK_STREAM;
	else
		return fw_req_fail(err, errlen, "SOCKET: expected udp or tcp");
	return FW_PROTO_SOCKET;
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

/* A line of a series (anything but SOCKET). */
static int
fw_req_series(struct fw_req *req, char **tok, int ntok, char *err,
    size_t errlen)
{
	unsigned long v;

	if (strcmp(tok[0], "PORT") == 0 && ntok == 2) {
		if (req->seen & FW_REQ_SEEN_PORT)
			return fw_req_fail(err, errlen, "PORT given twice");
		if (!fw_parse_num(tok[1], 65535, &v) || v == 0)
			return fw_req_fail(err, errlen, "PORT: bad port");
		req->cfg.port = (uint16_t)v;
		req->seen |= FW_REQ_SEEN_PORT;
		return FW_PROTO_MORE;
	}
	if (strcmp(tok[0], "FAMILIES") == 0 && ntok == 2) {
		if (req->seen & FW_REQ_SEEN_FAMILIES)
			return fw_req_fail(err, errlen, "FAMILIES given twice");
		if (strcmp(tok[1], "4") == 0)
			req->cfg.ipv4 = true;
		else if (strcmp(tok[1], "6") == 0)
			req->cfg.ipv6 = true;
		else if (strcmp(tok[1], "46") == 0)
			req->cfg.ipv4 = req->cfg.ipv6 = true;
		else
			return fw_req_fail(err, errlen, "FAMILIES: expected "
			    "4, 6 or 46");
		req->seen |= FW_REQ_SEEN_FAMILIES;
		return FW_PROTO_MORE;
	}
	if (strcmp(tok[0], "PREROUTING") == 0 && ntok == 2) {
		if (req->seen & FW_REQ_SEEN_PREROUTING)
			return fw_req_fail(err, errlen,
			    "PREROUTING given twice");
		if (strcmp(tok[1], "0") == 0)
			req->cfg.prerouting = false;
		else if (strcmp(tok[1], "1") == 0)
			req->cfg.prerouting = true;
		else
			return fw_req_fail(err, errlen,
			    "PREROUTING: expected 0 or 1");
		req->seen |= FW_REQ_SEEN_PREROUTING;
		return FW_PROTO_MORE;
	}
	if (strcmp(tok[0], "EXEMPT") == 0 && ntok == 4)
		return fw_req_exempt(req, tok, err, errlen);
	if (strcmp(tok[0], "SUBNET") == 0 && ntok == 7)
		return fw_req_subnet(req, tok, err, errlen);
	if (strcmp(tok[0], "DNS") == 0 && ntok == 4)
		return fw_req_dns(req, tok, err, errlen);
	if (strcmp(tok[0], "BLOCKLEAKS") == 0 && ntok == 2) {
		if (req->seen & FW_REQ_SEEN_BLOCKLEAKS)
			return fw_req_fail(err, errlen,
			    "BLOCKLEAKS given twice");
		if (strcmp(tok[1], "0") == 0)
			req->cfg.block_leaks = false;
		else if (strcmp(tok[1], "1") == 0)
			req->cfg.block_leaks = true;
		else
			return fw_req_fail(err, errlen,
			    "BLOCKLEAKS: expected 0 or 1");
		req->seen |= FW_REQ_SEEN_BLOCKLEAKS;
		return FW_PROTO_MORE;
	}
	if (strcmp(tok[0], "APPLY") == 0 && ntok == 1) {
		if (!(req->seen & FW_REQ_SEEN_PORT))
			return fw_req_fail(err, errlen, "APPLY without PORT");
		if (!(req->seen & FW_REQ_SEEN_FAMILIES))
			return fw_req_fail(err, errlen,
			    "APPLY without FAMILIES");
		return FW_PROTO_APPLY;
	}
	return fw_req_fail(err, errlen, "unknown request or wrong field count "
	    "(%.16s)", tok[0]);
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

	if (strcmp(tok[0], "SOCKET") == 0 && ntok == 3)
		return fw_req_socket(req, tok, err, errlen);
	if ((r = fw_req_series(req, tok, ntok, err, errlen)) >= 0 &&
	    r != FW_PROTO_APPLY)
		req->seen |= FW_REQ_SEEN_ANY;
	return r;
}

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

int
fw_req_format(const struct fw_config *cfg, char **out, size_t *outlen)
{
	const struct subnet *s;
	uint8_t addr[16];
	char a[ADDR_STRLEN], *buf;
	size_t nsub, cap, len = 0, i;
	int j;

	*out = NULL;
	*outlen = 0;
	nsub = cfg->subnets != NULL ? cfg->subnets->n : 0;
	if (cfg->port == 0 || (!cfg->ipv4 && !cfg->ipv6) || cfg->nexempt < 0 ||
	    cfg->ndns < 0)
		return FW_E_INVAL;
	if (nsub > FW_MAX_SUBNETS || cfg->nexempt > FW_MAX_EXEMPT ||
	    cfg->ndns > FW_MAX_DNS)
		return FW_E_TOOMANY;

	cap = (6 + (size_t)cfg->nexempt + (size_t)cfg->ndns + nsub) *
	    FW_PROTO_MAXLINE + 1;
	if ((buf = malloc(cap)) == NULL)
		return FW_E_NOMEM;
	buf[0] = '\0';
	fw_req_put(buf, cap, &len, "PORT %u\n", cfg->port);
	fw_req_put(buf, cap, &len, "FAMILIES %s\n",
	    cfg->ipv4 && cfg->ipv6 ? "46" : cfg->ipv4 ? "4" : "6");
	fw_req_put(buf, cap, &len, "PREROUTING %d\n", cfg->prerouting ? 1 : 0);
	fw_req_put(buf, cap, &len, "BLOCKLEAKS %d\n", cfg->block_leaks ? 1 : 0);
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
		if (fw_family_maxprefix(s->family) < 0 ||
		    s->prefix > fw_family_maxprefix(s->family))
			goto bad;
		/* subnet.h promises a network address; make sure of it. */
		memcpy(addr, s->addr, sizeof(addr));
		for (j = s->prefix; j < 128; j++)
			addr[j / 8] &= (uint8_t)~(0x80 >> (j % 8));
		if (fw_format_addr(s->family, addr, a, sizeof(a)) == NULL)
			goto bad;
		if (fw_ports_all(s->port_lo, s->port_hi))
			fw_req_put(buf, cap, &len, "SUBNET %s %u %s %u 0 65535\n",
			    s->exclude ? "exc" : "inc", s->family, a, s->prefix);
		else if (s->port_lo <= s->port_hi)
			fw_req_put(buf, cap, &len, "SUBNET %s %u %s %u %u %u\n",
			    s->exclude ? "exc" : "inc", s->family, a, s->prefix,
			    s->port_lo, s->port_hi);
		else
			goto bad;
	}
	for (j = 0; j < cfg->ndns; j++) {
		/* The helper would refuse these; say so before sending. */
		if (cfg->dns[j].port == 0 || fw_dns_dup(cfg, j) ||
		    fw_format_addr(cfg->dns[j].family, cfg->dns[j].bytes, a,
		    sizeof(a)) == NULL)
			goto bad;
		fw_req_put(buf, cap, &len, "DNS %u %s %u\n",
		    cfg->dns[j].family, a, cfg->dns[j].port);
	}
	fw_req_put(buf, cap, &len, "APPLY\n");
	*out = buf;
	*outlen = len;
	return 0;
 bad:
	free(buf);
	return FW_E_INVAL;
}

int
fw_req_format_socket(int family, int type, char *buf, size_t len)
{
	if ((family != AF_INET && family != AF_INET6) ||
	    (type != SOCK_DGRAM && type != SOCK_STREAM))
		return FW_E_INVAL;
	snprintf(buf, len, "SOCKET %d %s\n", family == AF_INET ? 4 : 6,
	    type == SOCK_DGRAM ? "udp" : "tcp");
	return 0;
}

int
fw_reply_socket(const char *line, int *err_no)
{
	unsigned long v;
	const char *p, *sp;
	char num[8];

	*err_no = 0;
	if (strcmp(line, "SOCKET") == 0)
		return 1;
	if (strncmp(line, "NOSOCKET ", 9) != 0)
		return -1;
	p = line + 9;
	if ((sp = strchr(p, ' ')) == NULL)
		sp = p + strlen(p);
	if ((size_t)(sp - p) >= sizeof(num))
		return -1;
	memcpy(num, p, (size_t)(sp - p));
	num[sp - p] = '\0';
	if (!fw_parse_num(num, FW_ERRNO_MAX, &v) || v == 0)
		return -1;
	*err_no = (int)v;
	return 0;
}
