/* SPDX-License-Identifier: ISC */
/*
 * proto.h - the cshuttle wire protocol between client and stub.
 *
 * docs/PROTOCOL.md is the normative description; this header and that
 * document change together.  Everything here is pure: no descriptors, no
 * allocation.  Byte order on the wire is big-endian.
 */
#ifndef CSHUTTLE_PROTO_H
#define CSHUTTLE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define PROTO_VERSION		1
#define PROTO_MAGIC		"CSHUTTLE"	/* 8 bytes, no NUL on the wire */
#define PROTO_MAGIC_LEN		8

#define PROTO_HDR_LEN		8
#define PROTO_MAX_PAYLOAD	32768		/* hard limit for every frame */
#define PROTO_MAX_FRAME		(PROTO_HDR_LEN + PROTO_MAX_PAYLOAD)
#define PROTO_MAX_ERROR_TEXT	512

/* Per-stream credit: a receiver never grants more than this in total. */
#define PROTO_MIN_WINDOW	(4U * 1024)
#define PROTO_MAX_WINDOW	(64U * 1024 * 1024)

/* Frame types.  0x00-0x0f: session (stream 0), 0x10-0x1f: TCP streams,
 * 0x20-0x2f: DNS (query ids, not streams), 0x30-0x3f: UDP (flow ids),
 * 0x40-0x4f: the remote's routes, 0x50-0x5f: the remote's host names,
 * 0x60-0x6f: resuming a session over a new link. */
enum proto_type {
	PROTO_HELLO		= 0x01,
	PROTO_ERROR		= 0x02,
	PROTO_PING		= 0x03,
	PROTO_PONG		= 0x04,
	PROTO_OPEN		= 0x10,
	PROTO_OPEN_RESULT	= 0x11,
	PROTO_DATA		= 0x12,
	PROTO_CREDIT		= 0x13,
	PROTO_EOF		= 0x14,
	PROTO_CLOSE		= 0x15,
	PROTO_DNS_CONFIG	= 0x20,	/* client -> stub, stream 0 */
	PROTO_DNS_QUERY		= 0x21,	/* client -> stub, stream = query id */
	PROTO_DNS_ANSWER	= 0x22,	/* stub -> client, stream = query id */
	PROTO_DNS_FAIL		= 0x23,	/* stub -> client, stream = query id */
	PROTO_UDP_DATA		= 0x30,	/* both, stream = flow id */
	PROTO_UDP_CLOSE		= 0x31,	/* both, stream = flow id */
	PROTO_UDP_DROP		= 0x32,	/* stub -> client, stream = flow id */
	PROTO_ROUTES		= 0x40,	/* stub -> client, stream 0 */
	PROTO_HOSTS		= 0x50,	/* stub -> client, stream 0 */
	PROTO_HOSTS_SEED	= 0x51,	/* client -> stub, stream 0 */
	PROTO_ACK		= 0x60,	/* both, stream id */
	PROTO_RESUME		= 0x61,	/* both, stream 0 */
	PROTO_RESUME_END	= 0x62,	/* both, stream 0 */
	PROTO_RESUME_SETUP	= 0x63,	/* client -> stub, stream 0 */
	PROTO_RESUME_TOKEN	= 0x64,	/* stub -> client, stream 0 */
	PROTO_ATTACH		= 0x65,	/* client -> stub, stream 0 */
	PROTO_ATTACHED		= 0x66,	/* stub -> client, stream 0 */
	PROTO_BYE		= 0x67,	/* client -> stub, stream 0 */
	PROTO_BLOCKED		= 0x70,	/* both, stream id */
};

/* HELLO feature bits.  A frame type outside the base set belongs to a
 * feature (proto_type_feature) and may only be sent when both HELLOs
 * announced that feature; the mux enforces it (docs/PROTOCOL.md §2). */
#define PROTO_FEAT_DNS		(1U << 0)	/* types 0x20-0x2f */
#define PROTO_FEAT_UDP		(1U << 1)	/* types 0x30-0x3f */
/* Explicit initial credit: OPEN and OPEN_RESULT may carry the credit
 * their sender grants for the stream (the long forms); no frame types. */
#define PROTO_FEAT_CREDIT	(1U << 2)
#define PROTO_FEAT_ROUTES	(1U << 3)	/* types 0x40-0x4f */
#define PROTO_FEAT_HOSTS	(1U << 4)	/* types 0x50-0x5f */
/* Streams keep what the peer has not acknowledged and survive a new link
 * (docs/PROTOCOL.md §11). */
#define PROTO_FEAT_RESUME	(1U << 5)	/* types 0x60-0x6f */
/* Windows that grow: a sender out of a stream's credit says so, and the
 * receiver grows that stream's grant (docs/PROTOCOL.md §7). */
#define PROTO_FEAT_GROW		(1U << 6)	/* types 0x70-0x7f */
/* What this build implements. */
#define PROTO_FEAT_KNOWN	(PROTO_FEAT_DNS | PROTO_FEAT_UDP | PROTO_FEAT_CREDIT | \
	    PROTO_FEAT_ROUTES | PROTO_FEAT_HOSTS | PROTO_FEAT_RESUME | PROTO_FEAT_GROW)

#define PROTO_ROLE_CLIENT	0
#define PROTO_ROLE_STUB		1

/* OPEN_RESULT status codes: what the stub's connect() ended with. */
enum proto_status {
	PROTO_ST_OK		= 0,
	PROTO_ST_REFUSED	= 1,
	PROTO_ST_NETUNREACH	= 2,
	PROTO_ST_HOSTUNREACH	= 3,
	PROTO_ST_TIMEDOUT	= 4,
	PROTO_ST_DENIED		= 5,	/* EACCES/EPERM on the remote */
	PROTO_ST_FAILED		= 6,	/* anything else */
	PROTO_ST_BUSY		= 7,	/* the stub's stream limit; sent only
					 * with PROTO_FEAT_CREDIT in both HELLOs */
	PROTO_ST_MAX		= 7,
};

/* CLOSE reasons.  CLOSE always aborts the stream (mirrored as a TCP
 * reset); a stream that ends normally ends with an EOF each way. */
#define PROTO_CLOSE_RESET	0	/* the far socket was reset or failed */
#define PROTO_CLOSE_PROTOCOL	1	/* the peer broke the protocol on this stream */
#define PROTO_CLOSE_RESOURCE	2	/* out of memory or descriptors */

/* Address families on the wire: the same numbers as ADDR_V4 / ADDR_V6. */
#define PROTO_FAMILY_IPV4	4
#define PROTO_FAMILY_IPV6	6

/* DNS frames.  Their stream field carries a query id chosen by the client
 * (nonzero), a namespace of its own: DNS frames use no stream credit. */
#define PROTO_DNS_MIN_QUERY	12		/* a DNS header */
#define PROTO_DNS_MAX_QUERY	4096
#define PROTO_DNS_MAX_SERVERS	8		/* DNS_CONFIG entries */
#define PROTO_DNS_SERVER_LEN	20		/* bytes per DNS_CONFIG entry */

/* DNS_FAIL reasons. */
#define PROTO_DNS_FAIL_TIMEOUT		1	/* no server answered in time */
#define PROTO_DNS_FAIL_UNREACHABLE	2	/* every server refused, or network error */
#define PROTO_DNS_FAIL_NOSERVERS	3	/* the stub has no server to ask */
#define PROTO_DNS_FAIL_TOOBIG		4	/* answer above PROTO_MAX_PAYLOAD */
#define PROTO_DNS_FAIL_BADQUERY		5	/* query shorter than 12 or longer than 4096 */
#define PROTO_DNS_FAIL_BUSY		6	/* too many outstanding queries */
#define PROTO_DNS_FAIL_MAX		6

/* ROUTES: the networks the remote routes, one entry each: family (4 or
 * 6), prefix length, 16 address bytes (IPv4 in the first 4, the rest 0),
 * host bits clear. */
#define PROTO_ROUTE_LEN		18		/* bytes per entry */
#define PROTO_ROUTES_MAX	1024		/* entries per frame */

/* HOSTS: host names of the remote network, one entry each: family (4 or
 * 6), name length, 16 address bytes (IPv4 in the first 4, the rest 0),
 * then the name: lower case, labels of 1-63 letters, digits, '-' or '_'
 * joined by single dots, no final dot (proto_host_name_ok). */
#define PROTO_HOST_FIXED	18		/* bytes per entry before the name */
#define PROTO_HOST_NAME_MAX	253
#define PROTO_HOSTS_MAX		1024		/* entries per frame */

/*
 * UDP frames.  Their stream field carries a flow id chosen by the client
 * (nonzero), a namespace of its own like DNS query ids: a flow is one
 * local socket (source address and port), the stub gives it one
 * unconnected socket.  UDP_DATA and UDP_DROP start with an address block:
 * family (4 or 6), a reserved 0, the port (nonzero) and 4 or 16 address
 * bytes; in UDP_DATA the datagram follows (0 bytes allowed).  Client to
 * stub the address is the destination, stub to client the source.
 */
#define PROTO_UDP_ADDR4_LEN	8
#define PROTO_UDP_ADDR6_LEN	20
/* The largest datagram one frame carries, by family. */
#define PROTO_UDP_MAX_DGRAM4	(PROTO_MAX_PAYLOAD - PROTO_UDP_ADDR4_LEN)
#define PROTO_UDP_MAX_DGRAM6	(PROTO_MAX_PAYLOAD - PROTO_UDP_ADDR6_LEN)

/* UDP_CLOSE reasons. */
#define PROTO_UDP_CLOSE_DONE		0	/* idle, or no longer wanted */
#define PROTO_UDP_CLOSE_PROTOCOL	1	/* the peer broke the protocol on this flow */
#define PROTO_UDP_CLOSE_RESOURCE	2	/* no socket, or the flow limit */
#define PROTO_UDP_CLOSE_MAX		2

/* UDP_DROP reasons: datagrams of the flow the remote could not deliver. */
#define PROTO_UDP_DROP_UNREACH		1	/* an ICMP error came back for them */
#define PROTO_UDP_DROP_SEND		2	/* sendto failed (buffer full, no route) */
#define PROTO_UDP_DROP_MAX		2

/* One HOSTS entry, for the encoder. */
struct proto_host {
	struct addr	 addr;		/* ADDR_V4 or ADDR_V6; port and scope unsent */
	const char	*name;
};

/* HOSTS_SEED: what the client asks the stub to look up besides its own
 * sources (--seed-hosts), one entry each: kind (0 a name, 4 an IPv4, 6
 * an IPv6 address), length n, then n bytes: the name (as in HOSTS), or
 * the 4 or 16 address bytes. */
#define PROTO_SEED_NAME		0		/* kind of a name entry */
#define PROTO_SEED_FIXED	2		/* bytes per entry before the data */
#define PROTO_SEEDS_MAX		64		/* entries per frame */
#define PROTO_SEEDS_MAX_LEN	(PROTO_SEEDS_MAX * (PROTO_SEED_FIXED + PROTO_HOST_NAME_MAX))

/* One HOSTS_SEED entry: a name, or (name NULL) an address. */
struct proto_seed {
	struct addr	 addr;		/* ADDR_V4 or ADDR_V6 when name is NULL */
	const char	*name;
};

/* Return codes of the parser and encoders (always negative). */
enum proto_err {
	PROTO_E_SHORT		= -1,	/* encoder: output buffer too small */
	PROTO_E_FLAGS		= -2,	/* session: header flags byte not 0 */
	PROTO_E_TOOBIG		= -3,	/* session: length above PROTO_MAX_PAYLOAD */
	PROTO_E_TYPE		= -4,	/* session: unknown frame type */
	PROTO_E_STREAM		= -5,	/* session: stream id 0 where one is needed, or the reverse */
	PROTO_E_LENGTH		= -6,	/* stream: payload length wrong for type */
	PROTO_E_VALUE		= -7,	/* a field holds an invalid value, or a
					 * reserved byte is not 0 */
	PROTO_E_MAGIC		= -8,	/* session: HELLO magic wrong */
	PROTO_E_VERSION		= -9,	/* session: HELLO version unsupported */
};

/*
 * Resume (PROTO_FEAT_RESUME).  ACK: the DATA bytes of the stream received
 * in all (8) and flags (1).  RESUME: entries of PROTO_RESUME_ENTRY_LEN
 * bytes, one per stream the sender still has: id (4), DATA bytes received
 * (8), the grant: how far in the stream the peer may send (8), flags (1).
 * RESUME_END: the highest stream id the sender has opened or accepted (4).
 */
#define PROTO_ACK_LEN		9
#define PROTO_ACK_EOF		0x01	/* the peer's EOF arrived too */
#define PROTO_RESUME_ENTRY_LEN	21
#define PROTO_RESUME_MAX	(PROTO_MAX_PAYLOAD / PROTO_RESUME_ENTRY_LEN)
#define PROTO_RS_EOF		0x01	/* entry: the peer's EOF arrived */
#define PROTO_RS_UP		0x02	/* entry: the stream is connected here */
#define PROTO_RS_FLAGS		(PROTO_RS_EOF | PROTO_RS_UP)
#define PROTO_RESUME_END_LEN	4
/*
 * Where a session waits for a new link.  RESUME_SETUP: how long the stub
 * waits, seconds (4).  RESUME_TOKEN and ATTACH: a secret of
 * PROTO_SECRET_LEN bytes, then the path of the stub's socket (absolute,
 * printable ASCII, no NUL, at most PROTO_TOKEN_PATH_MAX bytes).
 * ATTACHED: PROTO_ATTACH_* (1).
 */
#define PROTO_RESUME_SETUP_LEN	4
#define PROTO_GRACE_MAX		86400
#define PROTO_SECRET_LEN	16
#define PROTO_TOKEN_PATH_MAX	107
#define PROTO_ATTACH_JOINED	0	/* from the next byte, the waiting stub speaks */
#define PROTO_ATTACH_NOSTUB	1	/* nothing waits there */
#define PROTO_ATTACH_REFUSED	2	/* the secret did not match */
#define PROTO_ATTACH_FAILED	3	/* anything else */
#define PROTO_ATTACH_MAX	3

struct proto_token {
	const uint8_t	*secret;	/* PROTO_SECRET_LEN bytes */
	char		 path[PROTO_TOKEN_PATH_MAX + 1];
};

struct proto_resume {
	uint32_t	id;
	uint64_t	received;
	uint64_t	grant;		/* >= received, by at most PROTO_MAX_WINDOW */
	uint8_t		flags;		/* PROTO_RS_* */
};

/* HELLO payload: 20 bytes, or 28 when a bound is asked for. */
#define PROTO_HELLO_LEN		20
#define PROTO_HELLO_BOUNDS_LEN	28

struct proto_hello {
	uint8_t		version;
	uint8_t		role;
	uint32_t	features;
	uint32_t	window;		/* initial credit granted per stream */
};

/*
 * HELLO bytes 20-27: bounds the sender asks the receiver to apply to
 * itself (0: the receiver's own default).  The client passes the user's
 * --buffer-budget and --max-streams to the stub this way.
 */
struct proto_bounds {
	uint32_t	budget_kib;	/* buffer budget, KiB */
	uint32_t	max_streams;
};

/* OPEN: where the stub connects.  dst.family goes on the wire as the
 * family byte (ADDR_V4 = PROTO_FAMILY_IPV4, ADDR_V6 = PROTO_FAMILY_IPV6),
 * then the port and addr_size() address bytes; the scope is not sent and
 * is 0 in a parsed frame. */
struct proto_open {
	uint8_t		ipproto;	/* 6 = TCP; other values reserved */
	struct addr	dst;
};

/* OPEN and OPEN_RESULT payload lengths: the short forms, and the long
 * forms with the 4-byte initial credit (PROTO_FEAT_CREDIT) at the end. */
#define PROTO_OPEN4_LEN		8
#define PROTO_OPEN6_LEN		20
#define PROTO_RESULT_LEN	4
#define PROTO_CREDIT_FIELD_LEN	4

/*
 * A parsed frame.  `payload` points into the caller's buffer and is valid
 * only until that buffer changes.  When `bad` is non-zero the framing was
 * intact but the frame's contents were not (a PROTO_E_* code that concerns
 * stream `stream` only): the caller closes that stream and goes on.  For
 * DNS_QUERY, DNS_ANSWER and DNS_FAIL `bad` concerns that query only
 * (PROTO_E_STREAM: the query id is 0); DNS_CONFIG is a session frame.
 * The same for the UDP frames and their flow id.
 */
struct proto_frame {
	uint8_t		type;
	uint32_t	stream;
	uint16_t	len;
	const uint8_t	*payload;
	int		bad;
	/* OPEN and OPEN_RESULT in the long form: the initial credit their
	 * sender grants for the stream (0 - PROTO_MAX_WINDOW). */
	bool		has_credit;
	uint32_t	credit;
	struct proto_bounds ask;	/* HELLO of 28 bytes or more; else 0 */
	union {
		struct proto_hello	hello;
		struct proto_open	open;
		uint8_t			status;		/* OPEN_RESULT */
		uint32_t		credit;		/* CREDIT */
		uint8_t			reason;		/* CLOSE */
		uint8_t			ping[8];	/* PING/PONG */
		uint8_t			dns_fail;	/* DNS_FAIL reason */
		struct {
			uint8_t			n;
			/* where the stub sends queries: ADDR_V4 or
			 * ADDR_V6, a nonzero port, scope 0 */
			struct addr		s[PROTO_DNS_MAX_SERVERS];
		} dns_config;				/* DNS_CONFIG */
		uint16_t		routes;		/* ROUTES: entries, each
							 * checked; proto_route_get */
		uint16_t		hosts;		/* HOSTS: entries, each
							 * checked; proto_host_next */
		uint16_t		seeds;		/* HOSTS_SEED: entries, each
							 * checked; proto_seed_next */
		struct {
			uint64_t		received;
			uint8_t			flags;	/* PROTO_ACK_* */
		} ack;					/* ACK */
		uint16_t		resumes;	/* RESUME: entries, each
							 * checked; proto_resume_get */
		uint32_t		last_id;	/* RESUME_END */
		uint32_t		grace_s;	/* RESUME_SETUP */
		struct proto_token	token;		/* RESUME_TOKEN, ATTACH */
		uint8_t			attached;	/* ATTACHED */
		struct {
			struct addr		peer;	/* DATA, DROP: port and
							 * address, scope 0 */
			const uint8_t		*data;	/* DATA: the datagram */
			uint16_t		datalen;
			uint8_t			reason;	/* CLOSE, DROP */
		} udp;
	} u;
};

/*
 * Parse one frame from the start of buf[0..len).
 * Returns the number of bytes the frame occupies (> 0) with *f filled,
 * 0 when more bytes are needed, or a negative PROTO_E_* code when the
 * session cannot continue (framing or a session-level frame is invalid).
 */
int	proto_parse(const uint8_t *buf, size_t len, struct proto_frame *f);

/* A short, static description of a PROTO_E_* code. */
const char *proto_strerror(int err);
/* Name of a frame type for logs ("DATA"), or "unknown". */
const char *proto_type_name(uint8_t type);
/* Name of an OPEN_RESULT status ("connection refused"). */
const char *proto_status_name(uint8_t status);
/* Name of a DNS_FAIL reason ("timeout"). */
const char *proto_dns_fail_name(uint8_t reason);

/* The feature bit a frame type belongs to (PROTO_FEAT_DNS for 0x20-0x2f,
 * PROTO_FEAT_UDP for 0x30-0x3f, PROTO_FEAT_ROUTES for 0x40-0x4f,
 * PROTO_FEAT_HOSTS for 0x50-0x5f, PROTO_FEAT_RESUME for 0x60-0x6f,
 * PROTO_FEAT_GROW for 0x70-0x7f), 0 for the base set. */
static inline uint32_t
proto_type_feature(uint8_t type)
{
	return (type >> 4) == 2 ? PROTO_FEAT_DNS : (type >> 4) == 3 ? PROTO_FEAT_UDP :
	    (type >> 4) == 4 ? PROTO_FEAT_ROUTES : (type >> 4) == 5 ? PROTO_FEAT_HOSTS :
	    (type >> 4) == 6 ? PROTO_FEAT_RESUME : (type >> 4) == 7 ? PROTO_FEAT_GROW : 0;
}

/* Name of one feature bit for messages ("DNS"), or "unknown". */
static inline const char *
proto_feature_name(uint32_t feat)
{
	return feat == PROTO_FEAT_DNS ? "DNS" : feat == PROTO_FEAT_UDP ? "UDP" :
	    feat == PROTO_FEAT_ROUTES ? "ROUTES" : feat == PROTO_FEAT_HOSTS ? "HOSTS" :
	    feat == PROTO_FEAT_RESUME ? "RESUME" : feat == PROTO_FEAT_GROW ? "GROW" :
	    "unknown";
}

/*
 * Encoders write one whole frame into out[0..cap) and return its length,
 * or PROTO_E_SHORT when it does not fit.  Callers reserve space first.
 */
int	proto_put_hello(uint8_t *out, size_t cap, const struct proto_hello *h);
/* HELLO with the asked bounds (PROTO_HELLO_BOUNDS_LEN), the short form
 * when both are 0. */
int	proto_put_hello_bounds(uint8_t *out, size_t cap, const struct proto_hello *h,
	    const struct proto_bounds *ask);
int	proto_put_error(uint8_t *out, size_t cap, const char *text);
int	proto_put_ping(uint8_t *out, size_t cap, uint8_t type, const uint8_t data[8]);
int	proto_put_open(uint8_t *out, size_t cap, uint32_t stream, const struct proto_open *o);
int	proto_put_open_result(uint8_t *out, size_t cap, uint32_t stream, uint8_t status);
/* The long forms (PROTO_FEAT_CREDIT in both HELLOs): the same, then the
 * initial credit the sender grants for the stream (<= PROTO_MAX_WINDOW,
 * else PROTO_E_VALUE). */
int	proto_put_open_credit(uint8_t *out, size_t cap, uint32_t stream,
	    const struct proto_open *o, uint32_t credit);
int	proto_put_open_result_credit(uint8_t *out, size_t cap, uint32_t stream,
	    uint8_t status, uint32_t credit);
int	proto_put_credit(uint8_t *out, size_t cap, uint32_t stream, uint32_t credit);
int	proto_put_eof(uint8_t *out, size_t cap, uint32_t stream);
int	proto_put_close(uint8_t *out, size_t cap, uint32_t stream, uint8_t reason);
int	proto_put_blocked(uint8_t *out, size_t cap, uint32_t stream);
/* Only the header of a DATA frame; the caller places `len` bytes after it. */
int	proto_put_data_hdr(uint8_t *out, size_t cap, uint32_t stream, uint16_t len);
/* DNS_CONFIG with n entries (0..PROTO_DNS_MAX_SERVERS): family, port and
 * address of each (the scope has no place on the wire).  PROTO_E_VALUE
 * for more, or for a family other than ADDR_V4/ADDR_V6. */
int	proto_put_dns_config(uint8_t *out, size_t cap, const struct addr *s, size_t n);
/* DNS_QUERY or DNS_ANSWER carrying the DNS message msg (or any other DNS
 * type with msg as its raw payload; PROTO_E_TYPE for a non-DNS type). */
int	proto_put_dns(uint8_t *out, size_t cap, uint8_t type, uint32_t id,
	    const void *msg, size_t msglen);
int	proto_put_dns_fail(uint8_t *out, size_t cap, uint32_t id, uint8_t reason);
/* UDP_DATA for flow id: the address block of peer (ADDR_V4 or ADDR_V6,
 * nonzero port), then the datagram.  PROTO_E_VALUE for a bad address,
 * PROTO_E_TOOBIG when the datagram does not fit one frame. */
int	proto_put_udp_data(uint8_t *out, size_t cap, uint32_t id, const struct addr *peer,
	    const void *dgram, size_t len);
/* Only the header and address block of a UDP_DATA frame (returns their
 * size, proto_udp_hdr_size), for a datagram of len bytes the caller
 * places after them; cap must hold the whole frame. */
int	proto_put_udp_hdr(uint8_t *out, size_t cap, uint32_t id, const struct addr *peer,
	    size_t len);
#define proto_udp_hdr_size(family) \
	(PROTO_HDR_LEN + ((family) == ADDR_V6 ? PROTO_UDP_ADDR6_LEN : PROTO_UDP_ADDR4_LEN))
int	proto_put_udp_close(uint8_t *out, size_t cap, uint32_t id, uint8_t reason);
int	proto_put_udp_drop(uint8_t *out, size_t cap, uint32_t id, const struct addr *peer,
	    uint8_t reason);
/* Name of a UDP_DROP reason ("unreachable"). */
const char *proto_udp_drop_name(uint8_t reason);
/* ROUTES with n entries (0..PROTO_ROUTES_MAX): family, network address
 * and prefix of each (port and scope have no place on the wire).
 * PROTO_E_VALUE for more, for a family other than ADDR_V4/ADDR_V6, a
 * prefix too long for it or host bits set. */
int	proto_put_routes(uint8_t *out, size_t cap, const struct addr *net,
	    const uint8_t *prefix, size_t n);
/* Entry i (< f->u.routes) of a parsed ROUTES frame: the network (port 0)
 * and its prefix length. */
void	proto_route_get(const struct proto_frame *f, size_t i, struct addr *net,
	    uint8_t *prefix);
/* HOSTS with n entries (0..PROTO_HOSTS_MAX).  PROTO_E_VALUE for more,
 * for a family other than ADDR_V4/ADDR_V6 or a name that fails
 * proto_host_name_ok; PROTO_E_TOOBIG when they do not fit in one frame
 * (proto_host_size tells what each takes). */
int	proto_put_hosts(uint8_t *out, size_t cap, const struct proto_host *h, size_t n);
/* Bytes a HOSTS entry with this name takes. */
#define proto_host_size(namelen)	(PROTO_HOST_FIXED + (size_t)(namelen))
/* The entry of a parsed HOSTS frame at *off (start with 0): its address
 * (port 0) and NUL-terminated name (PROTO_HOST_NAME_MAX + 1 bytes fit
 * any); *off moves past it.  1, or 0 after the last one. */
int	proto_host_next(const struct proto_frame *f, size_t *off, struct addr *a,
	    char *name);
/* True when name[0..len) is a host name HOSTS may carry (see above). */
int	proto_host_name_ok(const char *name, size_t len);

/* HOSTS_SEED with n entries (0..PROTO_SEEDS_MAX).  PROTO_E_VALUE for
 * more, for a name that fails proto_host_name_ok, or an address entry of
 * another family. */
int	proto_put_hosts_seed(uint8_t *out, size_t cap, const struct proto_seed *s,
	    size_t n);
/* The entry of a parsed HOSTS_SEED frame at *off (start with 0): a name
 * into name (PROTO_HOST_NAME_MAX + 1 bytes) with a->family 0, or an
 * address into a (port 0) with name "".  *off moves past it.  1, or 0
 * after the last one. */
int	proto_seed_next(const struct proto_frame *f, size_t *off, struct addr *a,
	    char *name);

/* ACK for stream id: received DATA bytes in all, flags PROTO_ACK_*. */
int	proto_put_ack(uint8_t *out, size_t cap, uint32_t id, uint64_t received,
	    uint8_t flags);
/* RESUME with n entries (0..PROTO_RESUME_MAX).  PROTO_E_VALUE for more,
 * or for an entry proto_parse would refuse (id 0, unknown flags, a grant
 * below what was received or more than PROTO_MAX_WINDOW past it). */
int	proto_put_resume(uint8_t *out, size_t cap, const struct proto_resume *e,
	    size_t n);
/* Entry i (< f->u.resumes) of a parsed RESUME frame. */
void	proto_resume_get(const struct proto_frame *f, size_t i, struct proto_resume *e);
int	proto_put_resume_end(uint8_t *out, size_t cap, uint32_t last_id);
/* RESUME_SETUP (1..PROTO_GRACE_MAX seconds), RESUME_TOKEN or ATTACH
 * (type; PROTO_E_VALUE for a path proto_parse would refuse), ATTACHED
 * (status PROTO_ATTACH_*), BYE. */
int	proto_put_resume_setup(uint8_t *out, size_t cap, uint32_t grace_s);
int	proto_put_token(uint8_t *out, size_t cap, uint8_t type,
	    const uint8_t secret[PROTO_SECRET_LEN], const char *path);
int	proto_put_attached(uint8_t *out, size_t cap, uint8_t status);
int	proto_put_bye(uint8_t *out, size_t cap);

/* errno value from a connect() failure -> OPEN_RESULT status, and back. */
uint8_t	proto_status_from_errno(int err);
int	proto_status_to_errno(uint8_t status);

#endif
