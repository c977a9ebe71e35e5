/* SPDX-License-Identifier: ISC */
/*
 * proto.c - frame parser and encoders for the cshuttle mux protocol.
 *
 * Pure code: bytes in, structures out.  The parser validates every field
 * against the table below so that the mux never sees a frame whose length
 * does not match its type.  See docs/PROTOCOL.md.
 *
 * Reserved bytes (the header's flags, HELLO's bytes 10-11, OPEN_RESULT's
 * bytes 1-3, a DNS_CONFIG entry's byte 1, a UDP address block's byte 1,
 * the bytes after an IPv4 address in DNS_CONFIG and ROUTES) are written
 * as 0 and refused when they are not: a frame that uses them means
 * something this version does not know (docs/PROTOCOL.md §2, "Reserved
 * bytes").
 */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "proto.h"

/* Where a frame type may appear (`session`) and how long its payload may be. */
#define PROTO_ON_STREAM		0	/* stream must be != 0 */
#define PROTO_ON_SESSION	1	/* stream must be 0 */
#define PROTO_ON_QUERY		2	/* a DNS query id or UDP flow id: 0 spoils
					   that frame only */

struct proto_rule {
	uint8_t		type;
	uint8_t		session;	/* PROTO_ON_* */
	uint16_t	min_len;
	uint16_t	max_len;
	const char	*name;
};

static const struct proto_rule proto_rules[] = {
	{ PROTO_HELLO,		PROTO_ON_SESSION, 20, 256,		   "HELLO" },
	{ PROTO_ERROR,		PROTO_ON_SESSION, 0,  PROTO_MAX_ERROR_TEXT,  "ERROR" },
	{ PROTO_PING,		PROTO_ON_SESSION, 8,  8,		   "PING" },
	{ PROTO_PONG,		PROTO_ON_SESSION, 8,  8,		   "PONG" },
	{ PROTO_OPEN,		PROTO_ON_STREAM,  8,  24,		   "OPEN" },
	{ PROTO_OPEN_RESULT,	PROTO_ON_STREAM,  4,  8,		   "OPEN_RESULT" },
	{ PROTO_DATA,		PROTO_ON_STREAM,  1,  PROTO_MAX_PAYLOAD,	   "DATA" },
	{ PROTO_CREDIT,		PROTO_ON_STREAM,  4,  4,		   "CREDIT" },
	{ PROTO_EOF,		PROTO_ON_STREAM,  0,  0,		   "EOF" },
	{ PROTO_CLOSE,		PROTO_ON_STREAM,  1,  1,		   "CLOSE" },
	{ PROTO_DNS_CONFIG,	PROTO_ON_SESSION, 0,
	    PROTO_DNS_MAX_SERVERS * PROTO_DNS_SERVER_LEN,		   "DNS_CONFIG" },
	{ PROTO_DNS_QUERY,	PROTO_ON_QUERY,   PROTO_DNS_MIN_QUERY,
	    PROTO_DNS_MAX_QUERY,					   "DNS_QUERY" },
	{ PROTO_DNS_ANSWER,	PROTO_ON_QUERY,   1,  PROTO_MAX_PAYLOAD,	   "DNS_ANSWER" },
	{ PROTO_DNS_FAIL,	PROTO_ON_QUERY,   1,  1,		   "DNS_FAIL" },
	{ PROTO_UDP_DATA,	PROTO_ON_QUERY,   PROTO_UDP_ADDR4_LEN,
	    PROTO_MAX_PAYLOAD,						   "UDP_DATA" },
	{ PROTO_UDP_CLOSE,	PROTO_ON_QUERY,   1,  1,		   "UDP_CLOSE" },
	{ PROTO_UDP_DROP,	PROTO_ON_QUERY,   PROTO_UDP_ADDR4_LEN + 1,
	    PROTO_UDP_ADDR6_LEN + 1,					   "UDP_DROP" },
	{ PROTO_ROUTES,		PROTO_ON_SESSION, 0,
	    PROTO_ROUTES_MAX * PROTO_ROUTE_LEN,				   "ROUTES" },
	{ PROTO_HOSTS,		PROTO_ON_SESSION, 0,  PROTO_MAX_PAYLOAD,	   "HOSTS" },
	{ PROTO_HOSTS_SEED,	PROTO_ON_SESSION, 0,  PROTO_SEEDS_MAX_LEN,	   "HOSTS_SEED" },
	{ PROTO_ACK,		PROTO_ON_STREAM,  PROTO_ACK_LEN, PROTO_ACK_LEN,  "ACK" },
	{ PROTO_RESUME,		PROTO_ON_SESSION, 0,
	    PROTO_RESUME_MAX * PROTO_RESUME_ENTRY_LEN,			   "RESUME" },
	{ PROTO_RESUME_END,	PROTO_ON_SESSION, PROTO_RESUME_END_LEN,
	    PROTO_RESUME_END_LEN,					   "RESUME_END" },
	{ PROTO_RESUME_SETUP,	PROTO_ON_SESSION, PROTO_RESUME_SETUP_LEN,
	    PROTO_RESUME_SETUP_LEN,					   "RESUME_SETUP" },
	{ PROTO_RESUME_TOKEN,	PROTO_ON_SESSION, PROTO_SECRET_LEN + 1,
	    PROTO_SECRET_LEN + PROTO_TOKEN_PATH_MAX,			   "RESUME_TOKEN" },
	{ PROTO_ATTACH,		PROTO_ON_SESSION, PROTO_SECRET_LEN + 1,
	    PROTO_SECRET_LEN + PROTO_TOKEN_PATH_MAX,			   "ATTACH" },
	{ PROTO_ATTACHED,	PROTO_ON_SESSION, 1, 1,			   "ATTACHED" },
	{ PROTO_BYE,		PROTO_ON_SESSION, 0, 0,			   "BYE" },
	{ PROTO_BLOCKED,	PROTO_ON_STREAM,  0, 0,			   "BLOCKED" },
};

static const struct proto_rule *
proto_rule_find(uint8_t type)
{
	size_t	i;

	for (i = 0; i < sizeof(proto_rules) / sizeof(proto_rules[0]); i++)
		if (proto_rules[i].type == type)
			return &proto_rules[i];
	return NULL;
}

/*
 * The initial credit of a long-form OPEN or OPEN_RESULT (`base`: the
 * short form's length).  Whether the long form is allowed depends on the
 * HELLOs, which the mux checks; here only its length and range.
 */
static int
proto_check_credit(struct proto_frame *f, size_t base)
{
	if (f->len == base)
		return 0;
	if (f->len != base + PROTO_CREDIT_FIELD_LEN)
		return PROTO_E_LENGTH;
	f->has_credit = true;
	f->credit = buf_get_u32(f->payload + base);
	return f->credit > PROTO_MAX_WINDOW ? PROTO_E_VALUE : 0;
}

/*
 * The address block that starts UDP_DATA and UDP_DROP: its length (8 or
 * 20), or PROTO_E_LENGTH / PROTO_E_VALUE.  The frame's minimum length
 * already guarantees the IPv4 block.
 */
static int
proto_check_udp_addr(struct proto_frame *f)
{
	const uint8_t	*p = f->payload;
	size_t		 alen;

	if (p[0] == PROTO_FAMILY_IPV4)
		alen = 4;
	else if (p[0] == PROTO_FAMILY_IPV6)
		alen = 16;
	else
		return PROTO_E_VALUE;
	if (f->len < 4 + alen)
		return PROTO_E_LENGTH;
	f->u.udp.peer.family = p[0];
	f->u.udp.peer.port = buf_get_u16(p + 2);
	memcpy(f->u.udp.peer.bytes, p + 4, alen);
	if (p[1] != 0 || f->u.udp.peer.port == 0)
		return PROTO_E_VALUE;
	return (int)(4 + alen);
}

/* UDP_DATA, UDP_CLOSE, UDP_DROP (the framing and flow id are good). */
static int
proto_check_udp(struct proto_frame *f)
{
	int	n;

	if (f->type == PROTO_UDP_CLOSE) {
		f->u.udp.reason = f->payload[0];
		return f->u.udp.reason > PROTO_UDP_CLOSE_MAX ? PROTO_E_VALUE : 0;
	}
	if ((n = proto_check_udp_addr(f)) < 0)
		return n;
	if (f->type == PROTO_UDP_DROP) {
		if (f->len != n + 1)
			return PROTO_E_LENGTH;
		f->u.udp.reason = f->payload[n];
		return f->u.udp.reason == 0 || f->u.udp.reason > PROTO_UDP_DROP_MAX ?
		    PROTO_E_VALUE : 0;
	}
	f->u.udp.data = f->payload + n;
	f->u.udp.datalen = (uint16_t)(f->len - n);
	return 0;
}

/* Stream-level checks of a frame whose framing is already known good. */
static int
proto_check_body(struct proto_frame *f)
{
	const uint8_t	*p = f->payload;
	int		 r;

	switch (f->type) {
	case PROTO_OPEN:
		/* Filled by hand rather than with addr_set(): the parser
		 * stays free of anything but libc and buf.h. */
		f->u.open.ipproto = p[1];
		f->u.open.dst.family = p[0];
		f->u.open.dst.port = buf_get_u16(p + 2);
		if (p[0] == PROTO_FAMILY_IPV4) {
			if ((r = proto_check_credit(f, PROTO_OPEN4_LEN)) != 0)
				return r;
			memcpy(f->u.open.dst.bytes, p + 4, 4);
		} else if (p[0] == PROTO_FAMILY_IPV6) {
			if ((r = proto_check_credit(f, PROTO_OPEN6_LEN)) != 0)
				return r;
			memcpy(f->u.open.dst.bytes, p + 4, 16);
		} else
			return PROTO_E_VALUE;
		if (f->u.open.ipproto != 6 || f->u.open.dst.port == 0)
			return PROTO_E_VALUE;
		return 0;
	case PROTO_OPEN_RESULT:
		f->u.status = p[0];
		if ((r = proto_check_credit(f, PROTO_RESULT_LEN)) != 0)
			return r;
		if (f->u.status > PROTO_ST_MAX || p[1] || p[2] || p[3])
			return PROTO_E_VALUE;
		return 0;
	case PROTO_CREDIT:
		f->u.credit = buf_get_u32(p);
		if (f->u.credit == 0 || f->u.credit > PROTO_MAX_WINDOW)
			return PROTO_E_VALUE;
		return 0;
	case PROTO_CLOSE:
		f->u.reason = p[0];
		return 0;
	case PROTO_ACK:
		f->u.ack.received = buf_get_u64(p);
		f->u.ack.flags = p[8];
		return (f->u.ack.flags & ~PROTO_ACK_EOF) != 0 ? PROTO_E_VALUE : 0;
	case PROTO_DNS_FAIL:
		f->u.dns_fail = p[0];
		if (f->u.dns_fail == 0 || f->u.dns_fail > PROTO_DNS_FAIL_MAX)
			return PROTO_E_VALUE;
		return 0;
	case PROTO_UDP_DATA:
	case PROTO_UDP_CLOSE:
	case PROTO_UDP_DROP:
		return proto_check_udp(f);
	default:
		return 0;
	}
}

/* DNS_CONFIG entries; any bad one spoils the frame (and the session). */
static int
proto_check_dns_config(struct proto_frame *f)
{
	const uint8_t	*p = f->payload;
	struct addr	*s;
	size_t		 i;

	if (f->len % PROTO_DNS_SERVER_LEN != 0)
		return PROTO_E_LENGTH;
	f->u.dns_config.n = (uint8_t)(f->len / PROTO_DNS_SERVER_LEN);
	for (i = 0; i < f->u.dns_config.n; i++, p += PROTO_DNS_SERVER_LEN) {
		if ((p[0] != PROTO_FAMILY_IPV4 && p[0] != PROTO_FAMILY_IPV6) ||
		    p[1] != 0 || buf_get_u16(p + 2) == 0)
			return PROTO_E_VALUE;
		/* An IPv4 entry with bytes after its address is not one
		 * this encoder wrote: refuse rather than guess. */
		if (p[0] == PROTO_FAMILY_IPV4 &&
		    memcmp(p + 8, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) != 0)
			return PROTO_E_VALUE;
		s = &f->u.dns_config.s[i];
		addr_set(s, p[0] == PROTO_FAMILY_IPV4 ? ADDR_V4 : ADDR_V6, p + 4,
		    buf_get_u16(p + 2));
	}
	return 0;
}

/* True when no bit of b[0..size) past the first `prefix` bits is set. */
static int
proto_host_bits_clear(const uint8_t *b, size_t size, unsigned prefix)
{
	size_t	i;

	for (i = prefix / 8; i < size; i++) {
		uint8_t keep = i == prefix / 8 ? (uint8_t)(0xff00U >> (prefix % 8)) : 0;

		if (b[i] & (uint8_t)~keep)
			return 0;
	}
	return 1;
}

/* One ROUTES entry (PROTO_ROUTE_LEN bytes at p): 0 or PROTO_E_VALUE. */
static int
proto_check_route(const uint8_t *p)
{
	if (p[0] == PROTO_FAMILY_IPV4) {
		if (p[1] > 32 || memcmp(p + 6, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) != 0)
			return PROTO_E_VALUE;
		return proto_host_bits_clear(p + 2, 4, p[1]) ? 0 : PROTO_E_VALUE;
	}
	if (p[0] == PROTO_FAMILY_IPV6 && p[1] <= 128)
		return proto_host_bits_clear(p + 2, 16, p[1]) ? 0 : PROTO_E_VALUE;
	return PROTO_E_VALUE;
}

/* ROUTES entries; any bad one spoils the frame (and the session): the
 * stub writes only what proto_put_routes accepts. */
static int
proto_check_routes(struct proto_frame *f)
{
	size_t	i;
	int	r;

	if (f->len % PROTO_ROUTE_LEN != 0)
		return PROTO_E_LENGTH;
	f->u.routes = (uint16_t)(f->len / PROTO_ROUTE_LEN);
	for (i = 0; i < f->u.routes; i++)
		if ((r = proto_check_route(f->payload + i * PROTO_ROUTE_LEN)) != 0)
			return r;
	return 0;
}

void
proto_route_get(const struct proto_frame *f, size_t i, struct addr *net, uint8_t *prefix)
{
	const uint8_t	*p = f->payload + i * PROTO_ROUTE_LEN;

	addr_set(net, p[0] == PROTO_FAMILY_IPV4 ? ADDR_V4 : ADDR_V6, p + 2, 0);
	*prefix = p[1];
}

int
proto_host_name_ok(const char *name, size_t len)
{
	size_t	i, label = 0;

	if (len == 0 || len > PROTO_HOST_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_') || ++label > 63)
			return 0;
	}
	return label > 0;
}

/* One HOSTS entry at p, avail bytes left: its size, or PROTO_E_LENGTH
 * (cut short) or PROTO_E_VALUE. */
static int
proto_check_host(const uint8_t *p, size_t avail)
{
	if (avail < PROTO_HOST_FIXED || avail - PROTO_HOST_FIXED < p[1])
		return PROTO_E_LENGTH;
	if (p[0] == PROTO_FAMILY_IPV4) {
		if (memcmp(p + 6, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) != 0)
			return PROTO_E_VALUE;
	} else if (p[0] != PROTO_FAMILY_IPV6)
		return PROTO_E_VALUE;
	if (!proto_host_name_ok((const char *)p + PROTO_HOST_FIXED, p[1]))
		return PROTO_E_VALUE;
	return (int)proto_host_size(p[1]);
}

/*
 * The entries of a HOSTS or HOSTS_SEED frame, each checked by entry (its
 * size, or an error), at most max; *n counts those read.  0, or the
 * first error: any bad entry spoils the frame (and the session), as in
 * ROUTES, since the sender writes only what its encoder accepts.
 */
static int
proto_check_entries(const struct proto_frame *f,
    int (*entry)(const uint8_t *, size_t), uint16_t max, uint16_t *n)
{
	size_t	off = 0;
	int	r;

	*n = 0;
	while (off < f->len) {
		if (*n == max)
			return PROTO_E_LENGTH;
		if ((r = entry(f->payload + off, f->len - off)) < 0)
			return r;
		off += (size_t)r;
		(*n)++;
	}
	return 0;
}

/* HOSTS entries (the stub writes only what proto_put_hosts accepts). */
static int
proto_check_hosts(struct proto_frame *f)
{
	return proto_check_entries(f, proto_check_host, PROTO_HOSTS_MAX,
	    &f->u.hosts);
}

int
proto_host_next(const struct proto_frame *f, size_t *off, struct addr *a, char *name)
{
	const uint8_t	*p = f->payload + *off;

	if (*off + PROTO_HOST_FIXED > f->len)
		return 0;
	addr_set(a, p[0] == PROTO_FAMILY_IPV4 ? ADDR_V4 : ADDR_V6, p + 2, 0);
	memcpy(name, p + PROTO_HOST_FIXED, p[1]);
	name[p[1]] = '\0';
	*off += proto_host_size(p[1]);
	return 1;
}

/* ---- HOSTS_SEED ---- */

/* One HOSTS_SEED entry at p, avail bytes left: its size, or
 * PROTO_E_LENGTH (cut short) or PROTO_E_VALUE. */
static int
proto_check_seed(const uint8_t *p, size_t avail)
{
	if (avail < PROTO_SEED_FIXED || avail - PROTO_SEED_FIXED < p[1])
		return PROTO_E_LENGTH;
	if ((p[0] == PROTO_FAMILY_IPV4 && p[1] != 4) ||
	    (p[0] == PROTO_FAMILY_IPV6 && p[1] != 16) ||
	    (p[0] == PROTO_SEED_NAME &&
	    !proto_host_name_ok((const char *)p + PROTO_SEED_FIXED, p[1])) ||
	    (p[0] != PROTO_FAMILY_IPV4 && p[0] != PROTO_FAMILY_IPV6 &&
	    p[0] != PROTO_SEED_NAME))
		return PROTO_E_VALUE;
	return PROTO_SEED_FIXED + p[1];
}

/* HOSTS_SEED entries (the client writes only what proto_put_hosts_seed
 * accepts). */
static int
proto_check_hosts_seed(struct proto_frame *f)
{
	return proto_check_entries(f, proto_check_seed, PROTO_SEEDS_MAX,
	    &f->u.seeds);
}

int
proto_seed_next(const struct proto_frame *f, size_t *off, struct addr *a, char *name)
{
	const uint8_t	*p = f->payload + *off;

	if (*off + PROTO_SEED_FIXED > f->len)
		return 0;
	memset(a, 0, sizeof(*a));
	name[0] = '\0';
	if (p[0] == PROTO_SEED_NAME) {
		memcpy(name, p + PROTO_SEED_FIXED, p[1]);
		name[p[1]] = '\0';
	} else
		addr_set(a, p[0] == PROTO_FAMILY_IPV4 ? ADDR_V4 : ADDR_V6,
		    p + PROTO_SEED_FIXED, 0);
	*off += PROTO_SEED_FIXED + (size_t)p[1];
	return 1;
}

/* A socket path a token may carry: absolute, printable, no NUL. */
static int
proto_token_path_ok(const uint8_t *p, size_t len)
{
	size_t	i;

	if (len == 0 || len > PROTO_TOKEN_PATH_MAX || p[0] != '/')
		return 0;
	for (i = 0; i < len; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return 0;
	return 1;
}

/* One RESUME entry, as proto_put_resume writes it. */
static int
proto_check_resume_entry(const struct proto_resume *e)
{
	if (e->id == 0 || (e->flags & ~PROTO_RS_FLAGS) != 0 || e->grant < e->received ||
	    e->grant - e->received > PROTO_MAX_WINDOW)
		return PROTO_E_VALUE;
	return 0;
}

void
proto_resume_get(const struct proto_frame *f, size_t i, struct proto_resume *e)
{
	const uint8_t	*p = f->payload + i * PROTO_RESUME_ENTRY_LEN;

	e->id = buf_get_u32(p);
	e->received = buf_get_u64(p + 4);
	e->grant = buf_get_u64(p + 12);
	e->flags = p[20];
}

/* RESUME: whole entries, each valid; a bad one spoils the session. */
static int
proto_check_resumes(struct proto_frame *f)
{
	struct proto_resume	e;
	size_t			i;

	if (f->len % PROTO_RESUME_ENTRY_LEN != 0)
		return PROTO_E_LENGTH;
	f->u.resumes = (uint16_t)(f->len / PROTO_RESUME_ENTRY_LEN);
	for (i = 0; i < f->u.resumes; i++) {
		proto_resume_get(f, i, &e);
		if (proto_check_resume_entry(&e) != 0)
			return PROTO_E_VALUE;
	}
	return 0;
}

int
proto_parse(const uint8_t *buf, size_t len, struct proto_frame *f)
{
	const struct proto_rule	*r;
	const uint8_t		*p;
	int			 r2;

	if (len < PROTO_HDR_LEN)
		return 0;
	memset(f, 0, sizeof(*f));
	f->type = buf[0];
	f->len = buf_get_u16(buf + 2);
	f->stream = buf_get_u32(buf + 4);
	if (buf[1] != 0)
		return PROTO_E_FLAGS;
	if (f->len > PROTO_MAX_PAYLOAD)
		return PROTO_E_TOOBIG;
	if ((r = proto_rule_find(f->type)) == NULL)
		return PROTO_E_TYPE;
	if (r->session != PROTO_ON_QUERY &&
	    (r->session == PROTO_ON_SESSION) != (f->stream == 0))
		return PROTO_E_STREAM;
	if (len < (size_t)PROTO_HDR_LEN + f->len)
		return 0;
	f->payload = p = buf + PROTO_HDR_LEN;

	/* A DNS or UDP frame without a query or flow id cannot be
	 * answered; the framing is intact, so only this frame is lost. */
	if (r->session == PROTO_ON_QUERY && f->stream == 0) {
		f->bad = PROTO_E_STREAM;
		return PROTO_HDR_LEN + f->len;
	}
	if (f->len < r->min_len || f->len > r->max_len) {
		/* A session frame with a wrong length cannot be skipped
		 * safely: its meaning is unknown. */
		if (r->session == PROTO_ON_SESSION)
			return PROTO_E_LENGTH;
		f->bad = PROTO_E_LENGTH;
		return PROTO_HDR_LEN + f->len;
	}

	switch (f->type) {
	case PROTO_HELLO:
		if (memcmp(p, PROTO_MAGIC, PROTO_MAGIC_LEN) != 0)
			return PROTO_E_MAGIC;
		f->u.hello.version = p[8];
		f->u.hello.role = p[9];
		f->u.hello.features = buf_get_u32(p + 12);
		f->u.hello.window = buf_get_u32(p + 16);
		if (f->len >= PROTO_HELLO_BOUNDS_LEN) {
			f->ask.budget_kib = buf_get_u32(p + 20);
			f->ask.max_streams = buf_get_u32(p + 24);
		}
		/* The version first: another version may give the rest of
		 * the frame another meaning.  Bytes 20-27 are the asked
		 * bounds when all 8 are there; bytes after them are fields
		 * of later versions, ignored; p[10..11] are reserved. */
		if (f->u.hello.version != PROTO_VERSION)
			return PROTO_E_VERSION;
		if (p[10] != 0 || p[11] != 0 || f->u.hello.role > PROTO_ROLE_STUB ||
		    f->u.hello.window < PROTO_MIN_WINDOW ||
		    f->u.hello.window > PROTO_MAX_WINDOW)
			return PROTO_E_VALUE;
		break;
	case PROTO_PING:
	case PROTO_PONG:
		memcpy(f->u.ping, p, 8);
		break;
	case PROTO_DNS_CONFIG:
		if ((r2 = proto_check_dns_config(f)) != 0)
			return r2;
		break;
	case PROTO_ROUTES:
		if ((r2 = proto_check_routes(f)) != 0)
			return r2;
		break;
	case PROTO_HOSTS:
		if ((r2 = proto_check_hosts(f)) != 0)
			return r2;
		break;
	case PROTO_HOSTS_SEED:
		if ((r2 = proto_check_hosts_seed(f)) != 0)
			return r2;
		break;
	case PROTO_RESUME:
		if ((r2 = proto_check_resumes(f)) != 0)
			return r2;
		break;
	case PROTO_RESUME_END:
		f->u.last_id = buf_get_u32(p);
		break;
	case PROTO_RESUME_SETUP:
		f->u.grace_s = buf_get_u32(p);
		if (f->u.grace_s == 0 || f->u.grace_s > PROTO_GRACE_MAX)
			return PROTO_E_VALUE;
		break;
	case PROTO_RESUME_TOKEN:
	case PROTO_ATTACH:
		if (!proto_token_path_ok(p + PROTO_SECRET_LEN, f->len - PROTO_SECRET_LEN))
			return PROTO_E_VALUE;
		f->u.token.secret = p;
		memcpy(f->u.token.path, p + PROTO_SECRET_LEN, f->len - PROTO_SECRET_LEN);
		f->u.token.path[f->len - PROTO_SECRET_LEN] = '\0';
		break;
	case PROTO_ATTACHED:
		f->u.attached = p[0];
		if (f->u.attached > PROTO_ATTACH_MAX)
			return PROTO_E_VALUE;
		break;
	default:
		f->bad = proto_check_body(f);
		break;
	}
	return PROTO_HDR_LEN + f->len;
}

const char *
proto_strerror(int err)
{
	switch (err) {
	case PROTO_E_SHORT:	return "output buffer too small";
	case PROTO_E_FLAGS:	return "reserved frame flags set";
	case PROTO_E_TOOBIG:	return "frame longer than the protocol limit";
	case PROTO_E_TYPE:	return "unknown frame type";
	case PROTO_E_STREAM:	return "frame on the wrong stream id";
	case PROTO_E_LENGTH:	return "frame length wrong for its type";
	case PROTO_E_VALUE:	return "invalid field value";
	case PROTO_E_MAGIC:	return "peer is not a cshuttle peer (bad HELLO magic)";
	case PROTO_E_VERSION:	return "unsupported protocol version";
	default:		return "unknown protocol error";
	}
}

const char *
proto_type_name(uint8_t type)
{
	const struct proto_rule	*r = proto_rule_find(type);

	return r != NULL ? r->name : "unknown";
}

const char *
proto_status_name(uint8_t status)
{
	switch (status) {
	case PROTO_ST_OK:		return "connected";
	case PROTO_ST_REFUSED:		return "connection refused";
	case PROTO_ST_NETUNREACH:	return "network unreachable";
	case PROTO_ST_HOSTUNREACH:	return "host unreachable";
	case PROTO_ST_TIMEDOUT:		return "connection timed out";
	case PROTO_ST_DENIED:		return "permission denied";
	case PROTO_ST_BUSY:		return "the remote's stream limit is reached";
	default:			return "connection failed";
	}
}

const char *
proto_udp_drop_name(uint8_t reason)
{
	switch (reason) {
	case PROTO_UDP_DROP_UNREACH:	return "unreachable";
	case PROTO_UDP_DROP_SEND:	return "send failed";
	default:			return "unknown";
	}
}

const char *
proto_dns_fail_name(uint8_t reason)
{
	switch (reason) {
	case PROTO_DNS_FAIL_TIMEOUT:		return "timeout";
	case PROTO_DNS_FAIL_UNREACHABLE:	return "servers unreachable";
	case PROTO_DNS_FAIL_NOSERVERS:		return "no servers";
	case PROTO_DNS_FAIL_TOOBIG:		return "answer too big";
	case PROTO_DNS_FAIL_BADQUERY:		return "bad query";
	case PROTO_DNS_FAIL_BUSY:		return "busy";
	default:				return "failed";
	}
}

uint8_t
proto_status_from_errno(int err)
{
	switch (err) {
	case 0:			return PROTO_ST_OK;
	case ECONNREFUSED:	return PROTO_ST_REFUSED;
	case ENETUNREACH:	return PROTO_ST_NETUNREACH;
	case EHOSTUNREACH:	return PROTO_ST_HOSTUNREACH;
	case ETIMEDOUT:		return PROTO_ST_TIMEDOUT;
	case EACCES:
	case EPERM:		return PROTO_ST_DENIED;
	default:		return PROTO_ST_FAILED;
	}
}

int
proto_status_to_errno(uint8_t status)
{
	switch (status) {
	case PROTO_ST_OK:		return 0;
	case PROTO_ST_REFUSED:		return ECONNREFUSED;
	case PROTO_ST_NETUNREACH:	return ENETUNREACH;
	case PROTO_ST_HOSTUNREACH:	return EHOSTUNREACH;
	case PROTO_ST_TIMEDOUT:		return ETIMEDOUT;
	case PROTO_ST_DENIED:		return EACCES;
	default:			return ECONNABORTED;
	}
}

/* Header for a frame with `len` payload bytes; PROTO_E_SHORT if it won't fit. */
static int
proto_put_hdr(uint8_t *out, size_t cap, uint8_t type, uint32_t stream, size_t len)
{
	if (len > PROTO_MAX_PAYLOAD || cap < PROTO_HDR_LEN + len)
		return PROTO_E_SHORT;
	out[0] = type;
	out[1] = 0;
	buf_set_u16(out + 2, (uint16_t)len);
	buf_set_u32(out + 4, stream);
	return PROTO_HDR_LEN + (int)len;
}

int
proto_put_hello(uint8_t *out, size_t cap, const struct proto_hello *h)
{
	return proto_put_hello_bounds(out, cap, h, NULL);
}

int
proto_put_hello_bounds(uint8_t *out, size_t cap, const struct proto_hello *h,
    const struct proto_bounds *ask)
{
	bool	bounds = ask != NULL && (ask->budget_kib != 0 || ask->max_streams != 0);
	int	n;

	/* The short form unless a bound is asked for: what every earlier
	 * version sent. */
	if ((n = proto_put_hdr(out, cap, PROTO_HELLO, 0,
	    bounds ? PROTO_HELLO_BOUNDS_LEN : PROTO_HELLO_LEN)) < 0)
		return n;
	memcpy(out + 8, PROTO_MAGIC, PROTO_MAGIC_LEN);
	out[16] = h->version;
	out[17] = h->role;
	out[18] = out[19] = 0;
	buf_set_u32(out + 20, h->features);
	buf_set_u32(out + 24, h->window);
	if (bounds) {
		buf_set_u32(out + 28, ask->budget_kib);
		buf_set_u32(out + 32, ask->max_streams);
	}
	return n;
}

int
proto_put_error(uint8_t *out, size_t cap, const char *text)
{
	size_t	len = strlen(text);
	int	n;

	if (len > PROTO_MAX_ERROR_TEXT)
		len = PROTO_MAX_ERROR_TEXT;
	if ((n = proto_put_hdr(out, cap, PROTO_ERROR, 0, len)) < 0)
		return n;
	memcpy(out + PROTO_HDR_LEN, text, len);
	return n;
}

int
proto_put_ping(uint8_t *out, size_t cap, uint8_t type, const uint8_t data[8])
{
	int	n;

	if (type != PROTO_PING && type != PROTO_PONG)
		return PROTO_E_TYPE;
	if ((n = proto_put_hdr(out, cap, type, 0, 8)) < 0)
		return n;
	memcpy(out + PROTO_HDR_LEN, data, 8);
	return n;
}

int
proto_put_open(uint8_t *out, size_t cap, uint32_t stream, const struct proto_open *o)
{
	size_t	alen = o->dst.family == PROTO_FAMILY_IPV6 ? 16 : 4;
	int	n;

	if ((n = proto_put_hdr(out, cap, PROTO_OPEN, stream, 4 + alen)) < 0)
		return n;
	out[8] = o->dst.family;
	out[9] = o->ipproto;
	buf_set_u16(out + 10, o->dst.port);
	memcpy(out + 12, o->dst.bytes, alen);
	return n;
}

int
proto_put_open_result(uint8_t *out, size_t cap, uint32_t stream, uint8_t status)
{
	int	n;

	if ((n = proto_put_hdr(out, cap, PROTO_OPEN_RESULT, stream, 4)) < 0)
		return n;
	out[8] = status;
	out[9] = out[10] = out[11] = 0;
	return n;
}

int
proto_put_open_credit(uint8_t *out, size_t cap, uint32_t stream, const struct proto_open *o,
    uint32_t credit)
{
	size_t	alen = o->dst.family == PROTO_FAMILY_IPV6 ? 16 : 4;
	int	n;

	if (credit > PROTO_MAX_WINDOW)
		return PROTO_E_VALUE;
	if (cap < PROTO_HDR_LEN + 4 + alen + PROTO_CREDIT_FIELD_LEN)
		return PROTO_E_SHORT;
	if ((n = proto_put_open(out, cap, stream, o)) < 0)
		return n;
	buf_set_u16(out + 2, (uint16_t)(n - PROTO_HDR_LEN + PROTO_CREDIT_FIELD_LEN));
	buf_set_u32(out + n, credit);
	return n + PROTO_CREDIT_FIELD_LEN;
}

int
proto_put_open_result_credit(uint8_t *out, size_t cap, uint32_t stream, uint8_t status,
    uint32_t credit)
{
	int	n;

	if (credit > PROTO_MAX_WINDOW)
		return PROTO_E_VALUE;
	if ((n = proto_put_hdr(out, cap, PROTO_OPEN_RESULT, stream,
	    PROTO_RESULT_LEN + PROTO_CREDIT_FIELD_LEN)) < 0)
		return n;
	out[8] = status;
	out[9] = out[10] = out[11] = 0;
	buf_set_u32(out + 12, credit);
	return n;
}

int
proto_put_credit(uint8_t *out, size_t cap, uint32_t stream, uint32_t credit)
{
	int	n;

	if ((n = proto_put_hdr(out, cap, PROTO_CREDIT, stream, 4)) < 0)
		return n;
	buf_set_u32(out + 8, credit);
	return n;
}

int
proto_put_eof(uint8_t *out, size_t cap, uint32_t stream)
{
	return proto_put_hdr(out, cap, PROTO_EOF, stream, 0);
}

int
proto_put_blocked(uint8_t *out, size_t cap, uint32_t stream)
{
	return proto_put_hdr(out, cap, PROTO_BLOCKED, stream, 0);
}

int
proto_put_close(uint8_t *out, size_t cap, uint32_t stream, uint8_t reason)
{
	int	n;

	if ((n = proto_put_hdr(out, cap, PROTO_CLOSE, stream, 1)) < 0)
		return n;
	out[8] = reason;
	return n;
}

int
proto_put_ack(uint8_t *out, size_t cap, uint32_t id, uint64_t received, uint8_t flags)
{
	int	n;

	if (id == 0 || (flags & ~PROTO_ACK_EOF) != 0)
		return PROTO_E_VALUE;
	if ((n = proto_put_hdr(out, cap, PROTO_ACK, id, PROTO_ACK_LEN)) < 0)
		return n;
	buf_set_u64(out + 8, received);
	out[16] = flags;
	return n;
}

int
proto_put_resume(uint8_t *out, size_t cap, const struct proto_resume *e, size_t n)
{
	uint8_t	*p;
	size_t	 i;
	int	 len;

	if (n > PROTO_RESUME_MAX)
		return PROTO_E_VALUE;
	for (i = 0; i < n; i++)
		if (proto_check_resume_entry(&e[i]) != 0)
			return PROTO_E_VALUE;
	if ((len = proto_put_hdr(out, cap, PROTO_RESUME, 0,
	    n * PROTO_RESUME_ENTRY_LEN)) < 0)
		return len;
	for (i = 0, p = out + PROTO_HDR_LEN; i < n; i++, p += PROTO_RESUME_ENTRY_LEN) {
		buf_set_u32(p, e[i].id);
		buf_set_u64(p + 4, e[i].received);
		buf_set_u64(p + 12, e[i].grant);
		p[20] = e[i].flags;
	}
	return len;
}

int
proto_put_resume_end(uint8_t *out, size_t cap, uint32_t last_id)
{
	int	n;

	if ((n = proto_put_hdr(out, cap, PROTO_RESUME_END, 0, PROTO_RESUME_END_LEN)) < 0)
		return n;
	buf_set_u32(out + 8, last_id);
	return n;
}

int
proto_put_resume_setup(uint8_t *out, size_t cap, uint32_t grace_s)
{
	int	n;

	if (grace_s == 0 || grace_s > PROTO_GRACE_MAX)
		return PROTO_E_VALUE;
	if ((n = proto_put_hdr(out, cap, PROTO_RESUME_SETUP, 0, PROTO_RESUME_SETUP_LEN)) < 0)
		return n;
	buf_set_u32(out + 8, grace_s);
	return n;
}

int
proto_put_token(uint8_t *out, size_t cap, uint8_t type,
    const uint8_t secret[PROTO_SECRET_LEN], const char *path)
{
	size_t	plen = strlen(path);
	int	n;

	if ((type != PROTO_RESUME_TOKEN && type != PROTO_ATTACH) ||
	    !proto_token_path_ok((const uint8_t *)path, plen))
		return PROTO_E_VALUE;
	if ((n = proto_put_hdr(out, cap, type, 0, PROTO_SECRET_LEN + plen)) < 0)
		return n;
	memcpy(out + PROTO_HDR_LEN, secret, PROTO_SECRET_LEN);
	memcpy(out + PROTO_HDR_LEN + PROTO_SECRET_LEN, path, plen);
	return n;
}

int
proto_put_attached(uint8_t *out, size_t cap, uint8_t status)
{
	int	n;

	if (status > PROTO_ATTACH_MAX)
		return PROTO_E_VALUE;
	if ((n = proto_put_hdr(out, cap, PROTO_ATTACHED, 0, 1)) < 0)
		return n;
	out[8] = status;
	return n;
}

int
proto_put_bye(uint8_t *out, size_t cap)
{
	return proto_put_hdr(out, cap, PROTO_BYE, 0, 0);
}

int
proto_put_data_hdr(uint8_t *out, size_t cap, uint32_t stream, uint16_t len)
{
	if (len == 0 || cap < PROTO_HDR_LEN)
		return PROTO_E_SHORT;
	out[0] = PROTO_DATA;
	out[1] = 0;
	buf_set_u16(out + 2, len);
	buf_set_u32(out + 4, stream);
	return PROTO_HDR_LEN;
}

/* The UDP address block of peer at p: its length, or PROTO_E_VALUE. */
static int
proto_put_udp_addr(uint8_t *p, const struct addr *peer)
{
	size_t	alen;

	if (peer->family == ADDR_V4)
		alen = 4;
	else if (peer->family == ADDR_V6)
		alen = 16;
	else
		return PROTO_E_VALUE;
	if (peer->port == 0)
		return PROTO_E_VALUE;
	p[0] = peer->family;
	p[1] = 0;
	buf_set_u16(p + 2, peer->port);
	memcpy(p + 4, peer->bytes, alen);
	return (int)(4 + alen);
}

int
proto_put_udp_hdr(uint8_t *out, size_t cap, uint32_t id, const struct addr *peer,
    size_t len)
{
	size_t	alen = peer->family == ADDR_V6 ? PROTO_UDP_ADDR6_LEN : PROTO_UDP_ADDR4_LEN;
	int	n;

	if (id == 0)
		return PROTO_E_VALUE;
	if (len > PROTO_MAX_PAYLOAD - alen)
		return PROTO_E_TOOBIG;
	if (cap < PROTO_HDR_LEN + alen)
		return PROTO_E_SHORT;
	if (proto_put_udp_addr(out + PROTO_HDR_LEN, peer) < 0)
		return PROTO_E_VALUE;
	if ((n = proto_put_hdr(out, cap, PROTO_UDP_DATA, id, alen + len)) < 0)
		return n;
	return (int)(PROTO_HDR_LEN + alen);
}

int
proto_put_udp_data(uint8_t *out, size_t cap, uint32_t id, const struct addr *peer,
    const void *dgram, size_t len)
{
	int	n;

	if ((n = proto_put_udp_hdr(out, cap, id, peer, len)) < 0)
		return n;
	if (cap - (size_t)n < len)
		return PROTO_E_SHORT;
	if (len > 0)
		memcpy(out + n, dgram, len);
	return n + (int)len;
}

int
proto_put_udp_close(uint8_t *out, size_t cap, uint32_t id, uint8_t reason)
{
	int	n;

	if (id == 0 || reason > PROTO_UDP_CLOSE_MAX)
		return PROTO_E_VALUE;
	if ((n = proto_put_hdr(out, cap, PROTO_UDP_CLOSE, id, 1)) < 0)
		return n;
	out[8] = reason;
	return n;
}

int
proto_put_udp_drop(uint8_t *out, size_t cap, uint32_t id, const struct addr *peer,
    uint8_t reason)
{
	uint8_t	blk[PROTO_UDP_ADDR6_LEN];
	int	alen, n;

	if (id == 0 || reason == 0 || reason > PROTO_UDP_DROP_MAX)
		return PROTO_E_VALUE;
	if ((alen = proto_put_udp_addr(blk, peer)) < 0)
		return alen;
	if ((n = proto_put_hdr(out, cap, PROTO_UDP_DROP, id, (size_t)alen + 1)) < 0)
		return n;
	memcpy(out + PROTO_HDR_LEN, blk, (size_t)alen);
	out[PROTO_HDR_LEN + alen] = reason;
	return n;
}

int
proto_put_dns_config(uint8_t *out, size_t cap, const struct addr *s, size_t n)
{
	uint8_t	*p;
	size_t	 i;
	int	 len;

	if (n > PROTO_DNS_MAX_SERVERS)
		return PROTO_E_VALUE;
	for (i = 0; i < n; i++)
		if (s[i].family != ADDR_V4 && s[i].family != ADDR_V6)
			return PROTO_E_VALUE;
	if ((len = proto_put_hdr(out, cap, PROTO_DNS_CONFIG, 0,
	    n * PROTO_DNS_SERVER_LEN)) < 0)
		return len;
	for (i = 0, p = out + PROTO_HDR_LEN; i < n; i++, p += PROTO_DNS_SERVER_LEN) {
		memset(p, 0, PROTO_DNS_SERVER_LEN);
		p[0] = s[i].family == ADDR_V4 ? PROTO_FAMILY_IPV4 : PROTO_FAMILY_IPV6;
		buf_set_u16(p + 2, s[i].port);
		memcpy(p + 4, s[i].bytes, addr_size(s[i].family));
	}
	return len;
}

int
proto_put_dns(uint8_t *out, size_t cap, uint8_t type, uint32_t id,
    const void *msg, size_t msglen)
{
	int	n;

	if (type < PROTO_DNS_CONFIG || type > PROTO_DNS_FAIL)
		return PROTO_E_TYPE;
	if ((n = proto_put_hdr(out, cap, type, id, msglen)) < 0)
		return n;
	if (msglen > 0)
		memcpy(out + PROTO_HDR_LEN, msg, msglen);
	return n;
}

int
proto_put_dns_fail(uint8_t *out, size_t cap, uint32_t id, uint8_t reason)
{
	int	n;

	if ((n = proto_put_hdr(out, cap, PROTO_DNS_FAIL, id, 1)) < 0)
		return n;
	out[8] = reason;
	return n;
}

int
proto_put_routes(uint8_t *out, size_t cap, const struct addr *net, const uint8_t *prefix,
    size_t n)
{
	uint8_t	*p;
	size_t	 i;
	int	 len;

	if (n > PROTO_ROUTES_MAX)
		return PROTO_E_VALUE;
	if ((len = proto_put_hdr(out, cap, PROTO_ROUTES, 0, n * PROTO_ROUTE_LEN)) < 0)
		return len;
	for (i = 0, p = out + PROTO_HDR_LEN; i < n; i++, p += PROTO_ROUTE_LEN) {
		if (net[i].family != ADDR_V4 && net[i].family != ADDR_V6)
			return PROTO_E_VALUE;
		memset(p, 0, PROTO_ROUTE_LEN);
		p[0] = net[i].family == ADDR_V4 ? PROTO_FAMILY_IPV4 : PROTO_FAMILY_IPV6;
		p[1] = prefix[i];
		memcpy(p + 2, net[i].bytes, addr_size(net[i].family));
		if (proto_check_route(p) != 0)
			return PROTO_E_VALUE;
	}
	return len;
}

int
proto_put_hosts(uint8_t *out, size_t cap, const struct proto_host *h, size_t n)
{
	uint8_t	*p;
	size_t	 i, total = 0, nl;
	int	 len;

	if (n > PROTO_HOSTS_MAX)
		return PROTO_E_VALUE;
	for (i = 0; i < n; i++) {
		nl = strlen(h[i].name);
		if ((h[i].addr.family != ADDR_V4 && h[i].addr.family != ADDR_V6) ||
		    !proto_host_name_ok(h[i].name, nl))
			return PROTO_E_VALUE;
		total += proto_host_size(nl);
	}
	if (total > PROTO_MAX_PAYLOAD)
		return PROTO_E_TOOBIG;
	if ((len = proto_put_hdr(out, cap, PROTO_HOSTS, 0, total)) < 0)
		return len;
	for (i = 0, p = out + PROTO_HDR_LEN; i < n; i++) {
		nl = strlen(h[i].name);
		memset(p, 0, PROTO_HOST_FIXED);
		p[0] = h[i].addr.family == ADDR_V4 ? PROTO_FAMILY_IPV4 : PROTO_FAMILY_IPV6;
		p[1] = (uint8_t)nl;
		memcpy(p + 2, h[i].addr.bytes, addr_size(h[i].addr.family));
		memcpy(p + PROTO_HOST_FIXED, h[i].name, nl);
		p += proto_host_size(nl);
	}
	return len;
}

int
proto_put_hosts_seed(uint8_t *out, size_t cap, const struct proto_seed *s, size_t n)
{
	uint8_t	*p;
	size_t	 i, total = 0, dl;
	int	 len;

	if (n > PROTO_SEEDS_MAX)
		return PROTO_E_VALUE;
	for (i = 0; i < n; i++) {
		if (s[i].name != NULL)
			dl = strlen(s[i].name);
		else if (s[i].addr.family == ADDR_V4 || s[i].addr.family == ADDR_V6)
			dl = addr_size(s[i].addr.family);
		else
			return PROTO_E_VALUE;
		if (s[i].name != NULL && !proto_host_name_ok(s[i].name, dl))
			return PROTO_E_VALUE;
		total += PROTO_SEED_FIXED + dl;
	}
	if ((len = proto_put_hdr(out, cap, PROTO_HOSTS_SEED, 0, total)) < 0)
		return len;
	for (i = 0, p = out + PROTO_HDR_LEN; i < n; i++) {
		if (s[i].name != NULL) {
			p[0] = PROTO_SEED_NAME;
			p[1] = (uint8_t)strlen(s[i].name);
			memcpy(p + PROTO_SEED_FIXED, s[i].name, p[1]);
		} else {
			p[0] = s[i].addr.family == ADDR_V4 ? PROTO_FAMILY_IPV4 :
			    PROTO_FAMILY_IPV6;
			p[1] = (uint8_t)addr_size(s[i].addr.family);
			memcpy(p + PROTO_SEED_FIXED, s[i].addr.bytes, p[1]);
		}
		p += PROTO_SEED_FIXED + p[1];
	}
	return len;
}
