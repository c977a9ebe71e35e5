/* SPDX-License-Identifier: ISC */
/*
 * test_proto.c - the frame parser and encoders: round trips, every
 * fragment boundary, and malformed input of each class.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "buf.h"
#include "proto.h"

static void
test_roundtrip_all_types(void **state)
{
	uint8_t			 buf[4096], data[8] = "pingpong";
	struct proto_hello	 h = { PROTO_VERSION, PROTO_ROLE_STUB, 0, 1 << 20 };
	struct proto_open	 o4 = { 6, { PROTO_FAMILY_IPV4, { 198, 19, 0, 2 }, 8080, 0 } };
	struct proto_open	 o6 = { 6, { PROTO_FAMILY_IPV6, { 0xfd, 0x5e }, 443, 0 } };
	struct proto_frame	 f;
	size_t			 off = 0;
	int			 n;

	n = proto_put_hello(buf + off, sizeof(buf) - off, &h); assert_int_equal(n, 28); off += n;
	n = proto_put_ping(buf + off, sizeof(buf) - off, PROTO_PING, data); off += n;
	n = proto_put_open(buf + off, sizeof(buf) - off, 7, &o4); assert_int_equal(n, 16); off += n;
	n = proto_put_open(buf + off, sizeof(buf) - off, 9, &o6); assert_int_equal(n, 28); off += n;
	n = proto_put_open_result(buf + off, sizeof(buf) - off, 7, PROTO_ST_REFUSED); off += n;
	n = proto_put_data_hdr(buf + off, sizeof(buf) - off, 7, 5); off += n;
	memcpy(buf + off, "hello", 5); off += 5;
	n = proto_put_credit(buf + off, sizeof(buf) - off, 7, 65536); off += n;
	n = proto_put_eof(buf + off, sizeof(buf) - off, 7); off += n;
	n = proto_put_close(buf + off, sizeof(buf) - off, 9, PROTO_CLOSE_RESET); off += n;
	n = proto_put_error(buf + off, sizeof(buf) - off, "bye"); off += n;

	size_t p = 0;
	n = proto_parse(buf + p, off - p, &f); assert_int_equal(n, 28); p += n;
	assert_int_equal(f.type, PROTO_HELLO);
	assert_int_equal(f.u.hello.role, PROTO_ROLE_STUB);
	assert_int_equal(f.u.hello.window, 1 << 20);
	n = proto_parse(buf + p, off - p, &f); p += n;
	assert_int_equal(f.type, PROTO_PING);
	assert_memory_equal(f.u.ping, data, 8);
	n = proto_parse(buf + p, off - p, &f); p += n;
	assert_int_equal(f.type, PROTO_OPEN); assert_int_equal(f.stream, 7);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.u.open.dst.port, 8080);
	assert_memory_equal(f.u.open.dst.bytes, o4.dst.bytes, 4);
	n = proto_parse(buf + p, off - p, &f); p += n;
	assert_int_equal(f.u.open.dst.family, PROTO_FAMILY_IPV6);
	assert_memory_equal(f.u.open.dst.bytes, o6.dst.bytes, 16);
	n = proto_parse(buf + p, off - p, &f); p += n;
	assert_int_equal(f.type, PROTO_OPEN_RESULT);
	assert_int_equal(f.u.status, PROTO_ST_REFUSED);
	n = proto_parse(buf + p, off - p, &f); p += n;
	assert_int_equal(f.type, PROTO_DATA); assert_int_equal(f.len, 5);
	assert_memory_equal(f.payload, "hello", 5);
	n = proto_parse(buf + p, off - p, &f); p += n;
	assert_int_equal(f.u.credit, 65536);
	n = proto_parse(buf + p, off - p, &f); p += n;
	assert_int_equal(f.type, PROTO_EOF);
	n = proto_parse(buf + p, off - p, &f); p += n;
	assert_int_equal(f.type, PROTO_CLOSE); assert_int_equal(f.stream, 9);
	n = proto_parse(buf + p, off - p, &f); p += n;
	assert_int_equal(f.type, PROTO_ERROR); assert_int_equal(f.len, 3);
	assert_int_equal(p, off);
	assert_int_equal(proto_parse(buf + p, 0, &f), 0);
}

/* Every prefix of a valid frame asks for more bytes; the whole parses. */
static void
test_fragments(void **state)
{
	uint8_t			buf[64];
	struct proto_frame	f;
	struct proto_open	o = { 6, { PROTO_FAMILY_IPV6, { 0xfd }, 22, 0 } };
	int			n, i;

	n = proto_put_open(buf, sizeof(buf), 1, &o);
	for (i = 0; i < n; i++)
		assert_int_equal(proto_parse(buf, (size_t)i, &f), 0);
	assert_int_equal(proto_parse(buf, (size_t)n, &f), n);
	assert_int_equal(f.bad, 0);
}

static void
test_session_errors(void **state)
{
	uint8_t			b[PROTO_MAX_FRAME + 16];
	struct proto_frame	f;

	memset(b, 0, sizeof(b));
	/* reserved flags */
	b[0] = PROTO_DATA; b[1] = 1; b[3] = 1; b[7] = 1;
	assert_int_equal(proto_parse(b, 9, &f), PROTO_E_FLAGS);
	/* above the hard size limit: refused from the header alone */
	b[1] = 0; b[2] = 0x80; b[3] = 0x01;
	assert_int_equal(proto_parse(b, 8, &f), PROTO_E_TOOBIG);
	/* unknown type */
	memset(b, 0, 16); b[0] = 0x7e; b[7] = 1;
	assert_int_equal(proto_parse(b, 8, &f), PROTO_E_TYPE);
	/* stream frame on stream 0, session frame on a stream */
	memset(b, 0, 16); b[0] = PROTO_DATA; b[3] = 1;
	assert_int_equal(proto_parse(b, 9, &f), PROTO_E_STREAM);
	memset(b, 0, 16); b[0] = PROTO_PING; b[3] = 8; b[7] = 3;
	assert_int_equal(proto_parse(b, 16, &f), PROTO_E_STREAM);
	/* session frame with a wrong length */
	memset(b, 0, 16); b[0] = PROTO_PING; b[3] = 4;
	assert_int_equal(proto_parse(b, 12, &f), PROTO_E_LENGTH);
}

static void
test_hello_checks(void **state)
{
	uint8_t			b[64];
	struct proto_hello	h = { PROTO_VERSION, PROTO_ROLE_CLIENT, 0, 65536 };
	struct proto_frame	f;
	int			n;

	n = proto_put_hello(b, sizeof(b), &h);
	b[8] = 'X';
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_MAGIC);
	n = proto_put_hello(b, sizeof(b), &h);
	b[16] = 2;
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VERSION);
	h.window = 100;		/* below PROTO_MIN_WINDOW */
	n = proto_put_hello(b, sizeof(b), &h);
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
}

/* Bad contents of a stream frame: framing is kept, the frame is marked. */
static void
test_stream_errors(void **state)
{
	uint8_t			b[64];
	struct proto_frame	f;
	struct proto_open	o = { 6, { 5, { 1, 2, 3, 4 }, 80, 0 } };
	int			n;

	n = proto_put_open(b, sizeof(b), 3, &o);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	o.dst.family = PROTO_FAMILY_IPV4;
	o.dst.port = 0;
	n = proto_put_open(b, sizeof(b), 3, &o);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	n = proto_put_credit(b, sizeof(b), 3, 0);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	n = proto_put_open_result(b, sizeof(b), 3, 200);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	/* EOF with a payload: wrong length, skipped whole */
	memset(b, 0, 16); b[0] = PROTO_EOF; b[3] = 2; b[7] = 3;
	assert_int_equal(proto_parse(b, 10, &f), 10);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	/* zero-length DATA */
	memset(b, 0, 16); b[0] = PROTO_DATA; b[7] = 3;
	assert_int_equal(proto_parse(b, 8, &f), 8);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	/* BLOCKED: no payload, on a stream */
	n = proto_put_blocked(b, sizeof(b), 3);
	assert_int_equal(n, PROTO_HDR_LEN);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_BLOCKED);
	assert_int_equal(f.stream, 3);
	assert_int_equal(f.bad, 0);
	memset(b, 0, 16); b[0] = PROTO_BLOCKED; b[3] = 1; b[7] = 3;
	assert_int_equal(proto_parse(b, 9, &f), 9);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
}

static void
test_encoder_limits(void **state)
{
	uint8_t		b[16];
	char		big[PROTO_MAX_ERROR_TEXT + 50];
	uint8_t		out[PROTO_MAX_FRAME];
	struct proto_frame f;
	int		n;

	assert_int_equal(proto_put_credit(b, 11, 1, 5), PROTO_E_SHORT);
	assert_int_equal(proto_put_eof(b, 7, 1), PROTO_E_SHORT);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = proto_put_error(out, sizeof(out), big);
	assert_int_equal(n, PROTO_HDR_LEN + PROTO_MAX_ERROR_TEXT);
	assert_int_equal(proto_parse(out, (size_t)n, &f), n);
}

static void
test_status_errno(void **state)
{
	assert_int_equal(proto_status_from_errno(ECONNREFUSED), PROTO_ST_REFUSED);
	assert_int_equal(proto_status_from_errno(ETIMEDOUT), PROTO_ST_TIMEDOUT);
	assert_int_equal(proto_status_from_errno(ENETUNREACH), PROTO_ST_NETUNREACH);
	assert_int_equal(proto_status_from_errno(EIO), PROTO_ST_FAILED);
	assert_int_equal(proto_status_to_errno(PROTO_ST_REFUSED), ECONNREFUSED);
	assert_string_equal(proto_status_name(PROTO_ST_HOSTUNREACH), "host unreachable");
}

static void
test_dns_roundtrip(void **state)
{
	struct addr		 ns[2] = {
		{ .family = ADDR_V4, .port = 53, .bytes = { 192, 0, 2, 53 } },
		{ .family = ADDR_V6, .port = 5353,
		    .bytes = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	};
	uint8_t			 buf[PROTO_MAX_FRAME], msg[PROTO_DNS_MAX_QUERY];
	struct proto_frame	 f;
	int			 n;

	n = proto_put_dns_config(buf, sizeof(buf), ns, 2);
	assert_int_equal(n, PROTO_HDR_LEN + 40);
	assert_int_equal(proto_parse(buf, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_DNS_CONFIG);
	assert_int_equal(f.stream, 0);
	assert_int_equal(f.u.dns_config.n, 2);
	assert_int_equal(f.u.dns_config.s[0].family, ADDR_V4);
	assert_int_equal(f.u.dns_config.s[0].port, 53);
	assert_memory_equal(f.u.dns_config.s[0].bytes, "\xc0\x00\x02\x35\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(f.u.dns_config.s[1].port, 5353);
	assert_memory_equal(f.u.dns_config.s[1].bytes, ns[1].bytes, 16);
	/* Wire layout: family, pad, port, address. */
	assert_memory_equal(buf + 8, "\x04\x00\x00\x35\xc0\x00\x02\x35", 8);
	/* Empty: "use resolv.conf". */
	n = proto_put_dns_config(buf, sizeof(buf), NULL, 0);
	assert_int_equal(proto_parse(buf, (size_t)n, &f), PROTO_HDR_LEN);
	assert_int_equal(f.u.dns_config.n, 0);

	memset(msg, 0x5a, sizeof(msg));
	n = proto_put_dns(buf, sizeof(buf), PROTO_DNS_QUERY, 77, msg, PROTO_DNS_MAX_QUERY);
	assert_int_equal(proto_parse(buf, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_DNS_QUERY);
	assert_int_equal(f.stream, 77);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.len, PROTO_DNS_MAX_QUERY);
	n = proto_put_dns(buf, sizeof(buf), PROTO_DNS_ANSWER, 77, msg, 12);
	assert_int_equal(proto_parse(buf, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_DNS_ANSWER);
	assert_memory_equal(f.payload, msg, 12);
	n = proto_put_dns_fail(buf, sizeof(buf), 78, PROTO_DNS_FAIL_BUSY);
	assert_int_equal(n, PROTO_HDR_LEN + 1);
	assert_int_equal(proto_parse(buf, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_DNS_FAIL);
	assert_int_equal(f.u.dns_fail, PROTO_DNS_FAIL_BUSY);
	assert_int_equal(f.bad, 0);
	assert_string_equal(proto_type_name(PROTO_DNS_FAIL), "DNS_FAIL");
	assert_string_equal(proto_dns_fail_name(PROTO_DNS_FAIL_TIMEOUT), "timeout");
	assert_true((PROTO_FEAT_KNOWN & PROTO_FEAT_DNS) != 0);
}

static void
test_dns_shapes(void **state)
{
	struct addr		 ns[PROTO_DNS_MAX_SERVERS + 1];
	uint8_t			 b[PROTO_MAX_FRAME], m[PROTO_MAX_PAYLOAD];
	struct proto_frame	 f;
	int			 n, i;

	memset(ns, 0, sizeof(ns));
	memset(m, 0x33, sizeof(m));
	for (i = 0; i <= PROTO_DNS_MAX_SERVERS; i++) {
		ns[i].family = ADDR_V4;
		ns[i].port = 53;
	}
	/* Encoder limits. */
	assert_int_equal(proto_put_dns_config(b, sizeof(b), ns, PROTO_DNS_MAX_SERVERS + 1),
	    PROTO_E_VALUE);
	n = proto_put_dns_config(b, sizeof(b), ns, PROTO_DNS_MAX_SERVERS);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	ns[0].family = 5;
	assert_int_equal(proto_put_dns_config(b, sizeof(b), ns, 1), PROTO_E_VALUE);
	ns[0].family = ADDR_V4;
	assert_int_equal(proto_put_dns(b, sizeof(b), PROTO_DATA, 1, "x", 1), PROTO_E_TYPE);
	assert_int_equal(proto_put_dns(b, 20, PROTO_DNS_QUERY, 1, m, 13), PROTO_E_SHORT);
	assert_int_equal(proto_put_dns_fail(b, 8, 1, 1), PROTO_E_SHORT);

	/* DNS_CONFIG is a session frame: every fault ends the session. */
	n = proto_put_dns_config(b, sizeof(b), ns, 1);
	b[7] = 1;					/* on a stream */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_STREAM);
	n = proto_put_dns_config(b, sizeof(b), ns, 1);
	b[9] = 1;					/* pad */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	n = proto_put_dns_config(b, sizeof(b), ns, 1);
	b[10] = b[11] = 0;				/* port 0 */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	n = proto_put_dns_config(b, sizeof(b), ns, 1);
	b[8] = 5;					/* family */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	n = proto_put_dns_config(b, sizeof(b), ns, 1);
	b[27] = 1;					/* IPv4 with a tail */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	n = proto_put_dns_config(b, sizeof(b), ns, 1);
	b[3] = 19;					/* not whole entries */
	assert_int_equal(proto_parse(b, (size_t)n - 1, &f), PROTO_E_LENGTH);
	n = proto_put_dns_config(b, sizeof(b), ns, PROTO_DNS_MAX_SERVERS);
	memset(b + n, 0, 20);
	b[2] = 0;
	b[3] = (PROTO_DNS_MAX_SERVERS + 1) * 20;	/* too many */
	assert_int_equal(proto_parse(b, (size_t)n + 20, &f), PROTO_E_LENGTH);

	/* The others spoil only their query: framing kept, `bad` set. */
	n = proto_put_dns(b, sizeof(b), PROTO_DNS_QUERY, 4, m, 11);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	assert_int_equal(f.stream, 4);
	n = proto_put_dns(b, sizeof(b), PROTO_DNS_QUERY, 4, m, PROTO_DNS_MAX_QUERY + 1);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	n = proto_put_dns(b, sizeof(b), PROTO_DNS_QUERY, 0, m, 20);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_STREAM);
	n = proto_put_dns(b, sizeof(b), PROTO_DNS_ANSWER, 4, m, 0);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	n = proto_put_dns(b, sizeof(b), PROTO_DNS_ANSWER, 4, m, PROTO_MAX_PAYLOAD);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, 0);
	n = proto_put_dns_fail(b, sizeof(b), 4, 0);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	n = proto_put_dns_fail(b, sizeof(b), 4, PROTO_DNS_FAIL_MAX + 1);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	memset(b, 0, 16);
	b[0] = PROTO_DNS_FAIL; b[3] = 2; b[7] = 4; b[8] = 1;
	assert_int_equal(proto_parse(b, 10, &f), 10);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	/* The rest of the DNS range is still unknown. */
	memset(b, 0, 16);
	b[0] = 0x24; b[7] = 1;
	assert_int_equal(proto_parse(b, 8, &f), PROTO_E_TYPE);
}

/* Reserved bytes are sent as 0 and refused when set: in HELLO (a session
 * frame) the session ends, in OPEN_RESULT (a stream frame) the frame is
 * marked bad for its stream.  Bytes after HELLO's 20 are fields of later
 * versions and are ignored. */
static void
test_reserved_bytes(void **state)
{
	uint8_t			b[64];
	struct proto_hello	h = { PROTO_VERSION, PROTO_ROLE_CLIENT, 0, 65536 };
	struct proto_frame	f;
	int			n, i;

	n = proto_put_hello(b, sizeof(b), &h);
	assert_int_equal(b[PROTO_HDR_LEN + 10], 0);
	assert_int_equal(b[PROTO_HDR_LEN + 11], 0);
	for (i = 10; i <= 11; i++) {
		n = proto_put_hello(b, sizeof(b), &h);
		b[PROTO_HDR_LEN + i] = 0x40;
		assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	}
	n = proto_put_hello(b, sizeof(b), &h);
	b[3] = 24;
	memset(b + n, 0xee, 4);
	assert_int_equal(proto_parse(b, (size_t)n + 4, &f), n + 4);
	assert_int_equal(f.u.hello.window, 65536);

	n = proto_put_open_result(b, sizeof(b), 3, PROTO_ST_OK);
	assert_memory_equal(b + PROTO_HDR_LEN, "\0\0\0\0", 4);
	for (i = 1; i <= 3; i++) {
		n = proto_put_open_result(b, sizeof(b), 3, PROTO_ST_OK);
		b[PROTO_HDR_LEN + i] = 1;
		assert_int_equal(proto_parse(b, (size_t)n, &f), n);
		assert_int_equal(f.bad, PROTO_E_VALUE);
	}
}

/* OPEN carries a struct addr; the wire layout is family, ipproto, port,
 * then 4 or 16 address bytes, as before. */
static void
test_open_wire(void **state)
{
	struct proto_open	o4 = { 6, { ADDR_V4, { 198, 19, 0, 2 }, 8080, 0 } };
	struct proto_open	o6 = { 6, { ADDR_V6, { 0xfd, 0x5e, [15] = 9 }, 443, 7 } };
	struct proto_frame	f;
	uint8_t			b[64];
	int			n;

	n = proto_put_open(b, sizeof(b), 0x01020304, &o4);
	assert_int_equal(n, 16);
	assert_memory_equal(b, "\x10\x00\x00\x08\x01\x02\x03\x04"
	    "\x04\x06\x1f\x90\xc6\x13\x00\x02", 16);
	n = proto_put_open(b, sizeof(b), 5, &o6);
	assert_int_equal(n, 28);
	assert_memory_equal(b, "\x10\x00\x00\x14\x00\x00\x00\x05"
	    "\x06\x06\x01\xbb\xfd\x5e\0\0\0\0\0\0\0\0\0\0\0\0\0\x09", 28);
	/* The scope is not on the wire: it parses back as 0. */
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.u.open.ipproto, 6);
	assert_int_equal(f.u.open.dst.family, ADDR_V6);
	assert_int_equal(f.u.open.dst.port, 443);
	assert_int_equal(f.u.open.dst.scope, 0);
	assert_memory_equal(f.u.open.dst.bytes, o6.dst.bytes, 16);
}

/* ACK, RESUME and RESUME_END: what the encoders write, the parser reads
 * back; entries it would refuse are refused by both. */
static void
test_resume_frames(void **state)
{
	struct proto_resume	e[2] = { { 1, 100, 100 + 65536, PROTO_RS_EOF | PROTO_RS_UP },
				    { 7, 0, 4096, 0 } }, got, bad;
	struct proto_frame	f;
	uint8_t			b[128];
	int			n;

	n = proto_put_ack(b, sizeof(b), 3, 0x123456789aULL, PROTO_ACK_EOF);
	assert_int_equal(n, PROTO_HDR_LEN + PROTO_ACK_LEN);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.stream, 3);
	assert_true(f.u.ack.received == 0x123456789aULL);
	assert_int_equal(f.u.ack.flags, PROTO_ACK_EOF);
	b[16] = 0x02;			/* an unknown flag: that stream's problem */
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	assert_int_equal(proto_put_ack(b, sizeof(b), 0, 1, 0), PROTO_E_VALUE);

	n = proto_put_resume(b, sizeof(b), e, 2);
	assert_int_equal(n, PROTO_HDR_LEN + 2 * PROTO_RESUME_ENTRY_LEN);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.u.resumes, 2);
	proto_resume_get(&f, 0, &got);
	assert_int_equal(got.id, 1);
	assert_true(got.received == 100 && got.grant == 100 + 65536);
	assert_int_equal(got.flags, PROTO_RS_EOF | PROTO_RS_UP);
	proto_resume_get(&f, 1, &got);
	assert_int_equal(got.id, 7);
	assert_true(got.grant == 4096);
	/* A grant below what arrived, one too far past it, id 0, an unknown
	 * flag: refused when encoding, and a session error when parsed. */
	bad = e[0];
	bad.grant = 99;
	assert_int_equal(proto_put_resume(b, sizeof(b), &bad, 1), PROTO_E_VALUE);
	bad.grant = 100 + PROTO_MAX_WINDOW + 1;
	assert_int_equal(proto_put_resume(b, sizeof(b), &bad, 1), PROTO_E_VALUE);
	bad = e[0];
	bad.id = 0;
	assert_int_equal(proto_put_resume(b, sizeof(b), &bad, 1), PROTO_E_VALUE);
	n = proto_put_resume(b, sizeof(b), e, 1);
	b[PROTO_HDR_LEN + 20] = 0x04;
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	b[PROTO_HDR_LEN + 20] = 0;
	b[3] = PROTO_RESUME_ENTRY_LEN - 1;	/* not whole entries */
	assert_int_equal(proto_parse(b, (size_t)n - 1, &f), PROTO_E_LENGTH);

	n = proto_put_token(b, sizeof(b), PROTO_ATTACH, (const uint8_t *)"0123456789abcdef",
	    "/tmp/cshuttle-resume-Ab12Cd/s");
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_ATTACH);
	assert_memory_equal(f.u.token.secret, "0123456789abcdef", PROTO_SECRET_LEN);
	assert_string_equal(f.u.token.path, "/tmp/cshuttle-resume-Ab12Cd/s");
	/* Relative, or with a control byte or a space: refused both ways. */
	assert_int_equal(proto_put_token(b, sizeof(b), PROTO_RESUME_TOKEN,
	    (const uint8_t *)"0123456789abcdef", "tmp/s"), PROTO_E_VALUE);
	assert_int_equal(proto_put_token(b, sizeof(b), PROTO_RESUME_TOKEN,
	    (const uint8_t *)"0123456789abcdef", "/tmp/a s"), PROTO_E_VALUE);
	n = proto_put_token(b, sizeof(b), PROTO_RESUME_TOKEN,
	    (const uint8_t *)"0123456789abcdef", "/tmp/x");
	b[PROTO_HDR_LEN + PROTO_SECRET_LEN + 2] = '\n';
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	n = proto_put_resume_setup(b, sizeof(b), 120);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.u.grace_s, 120);
	assert_int_equal(proto_put_resume_setup(b, sizeof(b), 0), PROTO_E_VALUE);
	assert_int_equal(proto_put_resume_setup(b, sizeof(b), PROTO_GRACE_MAX + 1),
	    PROTO_E_VALUE);
	n = proto_put_attached(b, sizeof(b), PROTO_ATTACH_REFUSED);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.u.attached, PROTO_ATTACH_REFUSED);
	b[PROTO_HDR_LEN] = PROTO_ATTACH_MAX + 1;
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	n = proto_put_bye(b, sizeof(b));
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_BYE);

	n = proto_put_resume_end(b, sizeof(b), 42);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_RESUME_END);
	assert_int_equal(f.u.last_id, 42);
}

static void
test_feature_ranges(void **state)
{
	assert_int_equal(proto_type_feature(PROTO_HELLO), 0);
	assert_int_equal(proto_type_feature(PROTO_CLOSE), 0);
	assert_int_equal(proto_type_feature(PROTO_DNS_CONFIG), PROTO_FEAT_DNS);
	assert_int_equal(proto_type_feature(PROTO_DNS_FAIL), PROTO_FEAT_DNS);
	assert_int_equal(proto_type_feature(0x2f), PROTO_FEAT_DNS);
	assert_int_equal(proto_type_feature(0x30), PROTO_FEAT_UDP);
	assert_int_equal(proto_type_feature(0x3f), PROTO_FEAT_UDP);
	assert_int_equal(proto_type_feature(PROTO_ROUTES), PROTO_FEAT_ROUTES);
	assert_int_equal(proto_type_feature(0x4f), PROTO_FEAT_ROUTES);
	/* 0x50-0x5f: auto-hosts (bit 4) since the HOSTS frame. */
	assert_int_equal(proto_type_feature(PROTO_HOSTS), PROTO_FEAT_HOSTS);
	assert_int_equal(proto_type_feature(0x5f), PROTO_FEAT_HOSTS);
	/* 0x60-0x6f: resume (bit 5) since ACK and RESUME. */
	assert_int_equal(proto_type_feature(PROTO_ACK), PROTO_FEAT_RESUME);
	assert_int_equal(proto_type_feature(0x6f), PROTO_FEAT_RESUME);
	/* 0x70-0x7f: windows that grow (bit 6) since BLOCKED. */
	assert_int_equal(proto_type_feature(PROTO_BLOCKED), PROTO_FEAT_GROW);
	assert_int_equal(proto_type_feature(0x7f), PROTO_FEAT_GROW);
	assert_int_equal(proto_type_feature(0x80), 0);
	assert_int_equal(PROTO_FEAT_GROW, 64);
	assert_string_equal(proto_feature_name(PROTO_FEAT_GROW), "GROW");
	assert_int_equal(PROTO_FEAT_RESUME, 32);
	assert_string_equal(proto_feature_name(PROTO_FEAT_RESUME), "RESUME");
	assert_int_equal(PROTO_FEAT_HOSTS, 16);
	assert_string_equal(proto_feature_name(PROTO_FEAT_HOSTS), "HOSTS");
	assert_string_equal(proto_feature_name(PROTO_FEAT_DNS), "DNS");
	assert_string_equal(proto_feature_name(PROTO_FEAT_ROUTES), "ROUTES");
	/* Bit 3: bit 2 is taken by another feature. */
	assert_int_equal(PROTO_FEAT_ROUTES, 8);
}

/* ROUTES: entries of 18 bytes, checked one by one; a bad one ends the
 * session (a session frame), and the encoder writes only good ones. */
static void
test_routes(void **state)
{
	struct addr		net[3], a;
	uint8_t			prefix[3] = { 16, 64, 32 };
	uint8_t			b[PROTO_HDR_LEN + (PROTO_ROUTES_MAX + 1) * PROTO_ROUTE_LEN];
	uint8_t			p;
	struct proto_frame	f;
	static struct addr	many[PROTO_ROUTES_MAX + 1];
	static uint8_t		manyp[PROTO_ROUTES_MAX + 1];
	int			n;

	addr_set(&net[0], ADDR_V4, "\x0a\x01\0\0", 0);
	addr_set(&net[1], ADDR_V6, "\xfd\x00\0\x01\0\0\0\0\0\0\0\0\0\0\0\0", 0);
	addr_set(&net[2], ADDR_V4, "\xc0\x00\x02\x07", 0);
	n = proto_put_routes(b, sizeof(b), net, prefix, 3);
	assert_int_equal(n, PROTO_HDR_LEN + 3 * PROTO_ROUTE_LEN);
	assert_memory_equal(b, "\x40\0\0\x36\0\0\0\0", 8);
	assert_memory_equal(b + 8, "\x04\x10\x0a\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 18);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_ROUTES);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.u.routes, 3);
	proto_route_get(&f, 1, &a, &p);
	assert_int_equal(a.family, ADDR_V6);
	assert_int_equal(p, 64);
	assert_memory_equal(a.bytes, net[1].bytes, 16);
	proto_route_get(&f, 2, &a, &p);
	assert_int_equal(a.family, ADDR_V4);
	assert_int_equal(p, 32);
	assert_true(addr_equal(&a, &net[2]));
	assert_string_equal(proto_type_name(PROTO_ROUTES), "ROUTES");

	/* Empty is fine: a remote without routes. */
	n = proto_put_routes(b, sizeof(b), NULL, NULL, 0);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.u.routes, 0);

	/* The encoder refuses host bits, long prefixes, other families and
	 * too many entries. */
	prefix[0] = 8;
	assert_int_equal(proto_put_routes(b, sizeof(b), net, prefix, 1), PROTO_E_VALUE);
	prefix[0] = 33;
	assert_int_equal(proto_put_routes(b, sizeof(b), net, prefix, 1), PROTO_E_VALUE);
	prefix[0] = 16;
	net[0].family = 5;
	assert_int_equal(proto_put_routes(b, sizeof(b), net, prefix, 1), PROTO_E_VALUE);
	net[0].family = ADDR_V4;
	assert_int_equal(proto_put_routes(b, sizeof(b), many, manyp, PROTO_ROUTES_MAX + 1),
	    PROTO_E_VALUE);
	for (n = 0; n < PROTO_ROUTES_MAX; n++)
		many[n].family = ADDR_V4;
	n = proto_put_routes(b, sizeof(b), many, manyp, PROTO_ROUTES_MAX);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.u.routes, PROTO_ROUTES_MAX);

	/* The parser: each defect ends the session. */
	n = proto_put_routes(b, sizeof(b), net, prefix, 1);
	b[8 + 2 + 2] = 1;			/* host bit in 10.1.1.0/16 */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	b[8 + 2 + 2] = 0;
	b[8 + 17] = 1;				/* after the IPv4 address */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	b[8 + 17] = 0;
	b[8 + 1] = 33;				/* prefix */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	b[8 + 1] = 16;
	b[8] = 5;				/* family */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	b[8] = 4;
	b[3] = 17;				/* not a multiple of 18 */
	assert_int_equal(proto_parse(b, (size_t)n - 1, &f), PROTO_E_LENGTH);
	b[3] = 18;
	b[7] = 1;				/* on a stream */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_STREAM);
	b[7] = 0;
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	/* More entries than the limit: too long for the type. */
	buf_set_u16(b + 2, (PROTO_ROUTES_MAX + 1) * PROTO_ROUTE_LEN);
	assert_int_equal(proto_parse(b, sizeof(b), &f), PROTO_E_LENGTH);
}

/* The long forms of OPEN and OPEN_RESULT (PROTO_FEAT_CREDIT): the short
 * form and the initial credit after it; HELLO with the asked bounds. */
static void
test_initial_credit_wire(void **state)
{
	struct proto_open	o4 = { 6, { ADDR_V4, { 198, 19, 0, 2 }, 8080, 0 } };
	struct proto_open	o6 = { 6, { ADDR_V6, { 0xfd, 0x5e, [15] = 9 }, 443, 0 } };
	struct proto_hello	h = { PROTO_VERSION, PROTO_ROLE_CLIENT, PROTO_FEAT_KNOWN, 65536 };
	struct proto_bounds	ask = { 4096, 300 }, none = { 0, 0 };
	struct proto_frame	f;
	uint8_t			b[64];
	int			n;

	n = proto_put_open_credit(b, sizeof(b), 7, &o4, 0x10000);
	assert_int_equal(n, 20);
	assert_memory_equal(b, "\x10\x00\x00\x0c\x00\x00\x00\x07"
	    "\x04\x06\x1f\x90\xc6\x13\x00\x02\x00\x01\x00\x00", 20);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, 0);
	assert_true(f.has_credit);
	assert_int_equal(f.credit, 0x10000);
	assert_int_equal(f.u.open.dst.port, 8080);
	n = proto_put_open_credit(b, sizeof(b), 8, &o6, 4096);
	assert_int_equal(n, 32);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.credit, 4096);
	assert_int_equal(f.u.open.dst.bytes[15], 9);
	/* The short form has no credit. */
	n = proto_put_open(b, sizeof(b), 9, &o4);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_false(f.has_credit);
	/* Neither short nor long: a stream error. */
	n = proto_put_open_credit(b, sizeof(b), 7, &o4, 1);
	b[3] = 10;
	assert_int_equal(proto_parse(b, 18, &f), 18);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	/* Above the largest window: refused by the encoder and the parser. */
	assert_int_equal(proto_put_open_credit(b, sizeof(b), 7, &o4, PROTO_MAX_WINDOW + 1),
	    PROTO_E_VALUE);
	n = proto_put_open_credit(b, sizeof(b), 7, &o4, PROTO_MAX_WINDOW);
	b[16] = 0xff;
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);

	n = proto_put_open_result_credit(b, sizeof(b), 7, PROTO_ST_BUSY, 0);
	assert_int_equal(n, 16);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.u.status, PROTO_ST_BUSY);
	assert_true(f.has_credit);
	assert_int_equal(f.credit, 0);
	n = proto_put_open_result_credit(b, sizeof(b), 7, PROTO_ST_OK, 5000);
	b[3] = 6;
	assert_int_equal(proto_parse(b, 14, &f), 14);
	assert_int_equal(f.bad, PROTO_E_LENGTH);

	n = proto_put_hello_bounds(b, sizeof(b), &h, &ask);
	assert_int_equal(n, PROTO_HDR_LEN + PROTO_HELLO_BOUNDS_LEN);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.ask.budget_kib, 4096);
	assert_int_equal(f.ask.max_streams, 300);
	assert_int_equal(f.u.hello.window, 65536);
	assert_int_equal(proto_put_hello_bounds(b, sizeof(b), &h, &none),
	    PROTO_HDR_LEN + PROTO_HELLO_LEN);
	assert_int_equal(proto_parse(b, PROTO_HDR_LEN + PROTO_HELLO_LEN, &f),
	    PROTO_HDR_LEN + PROTO_HELLO_LEN);
	assert_int_equal(f.ask.budget_kib, 0);
	assert_int_equal(f.ask.max_streams, 0);
}

/* HOSTS: entries of 18 bytes and a name, checked one by one; a bad one
 * ends the session, and the encoder writes only good ones. */
static void
test_hosts(void **state)
{
	struct proto_host	h[3];
	static struct proto_host many[PROTO_HOSTS_MAX + 1];
	static uint8_t		b[PROTO_MAX_FRAME + 64];
	char			name[PROTO_HOST_NAME_MAX + 1], longname[300];
	struct proto_frame	f;
	struct addr		a;
	size_t			off = 0;
	int			n, i;

	addr_set(&h[0].addr, ADDR_V4, "\xc6\x13\x00\x02", 0);
	h[0].name = "www.lab.internal";
	addr_set(&h[1].addr, ADDR_V6, "\xfd\x5e\0\0\0\0\0\x02\0\0\0\0\0\0\0\x02", 0);
	h[1].name = "priv";
	addr_set(&h[2].addr, ADDR_V4, "\x0a\0\0\x01", 0);
	h[2].name = "a_b-1.x";
	n = proto_put_hosts(b, sizeof(b), h, 3);
	assert_int_equal(n, PROTO_HDR_LEN + 3 * PROTO_HOST_FIXED + 16 + 4 + 7);
	assert_memory_equal(b, "\x50\0\0\x51\0\0\0\0", 8);
	assert_memory_equal(b + 8, "\x04\x10\xc6\x13\x00\x02\0\0\0\0\0\0\0\0\0\0\0\0"
	    "www.lab.internal", 34);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_HOSTS);
	assert_int_equal(f.u.hosts, 3);
	assert_string_equal(proto_type_name(PROTO_HOSTS), "HOSTS");
	for (i = 0; i < 3; i++) {
		assert_int_equal(proto_host_next(&f, &off, &a, name), 1);
		assert_true(addr_equal(&a, &h[i].addr));
		assert_string_equal(name, h[i].name);
	}
	assert_int_equal(proto_host_next(&f, &off, &a, name), 0);

	/* Empty is fine. */
	n = proto_put_hosts(b, sizeof(b), NULL, 0);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.u.hosts, 0);

	/* Names: lower case, labels 1-63, no empty label, at most 253. */
	assert_true(proto_host_name_ok("a", 1));
	assert_false(proto_host_name_ok("", 0));
	assert_false(proto_host_name_ok("A", 1));
	assert_false(proto_host_name_ok("a..b", 4));
	assert_false(proto_host_name_ok(".a", 2));
	assert_false(proto_host_name_ok("a.", 2));
	assert_false(proto_host_name_ok("a b", 3));
	assert_false(proto_host_name_ok("a\nb", 3));
	memset(longname, 'a', sizeof(longname));
	assert_true(proto_host_name_ok(longname, 63));
	assert_false(proto_host_name_ok(longname, 64));
	for (i = 63; i < 300; i += 64)
		longname[i] = '.';
	assert_true(proto_host_name_ok(longname, 253));
	assert_false(proto_host_name_ok(longname, 254));

	/* The encoder refuses bad names, other families, too many entries
	 * and more than one frame holds. */
	h[0].name = "Bad";
	assert_int_equal(proto_put_hosts(b, sizeof(b), h, 1), PROTO_E_VALUE);
	h[0].name = "www.lab.internal";
	h[0].addr.family = 5;
	assert_int_equal(proto_put_hosts(b, sizeof(b), h, 1), PROTO_E_VALUE);
	h[0].addr.family = ADDR_V4;
	for (i = 0; i <= PROTO_HOSTS_MAX; i++) {
		many[i].addr = h[0].addr;
		many[i].name = "x";
	}
	assert_int_equal(proto_put_hosts(b, sizeof(b), many, PROTO_HOSTS_MAX + 1),
	    PROTO_E_VALUE);
	n = proto_put_hosts(b, sizeof(b), many, PROTO_HOSTS_MAX);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.u.hosts, PROTO_HOSTS_MAX);
	longname[253] = '\0';
	for (i = 0; i < 200; i++)
		many[i].name = longname;
	assert_int_equal(proto_put_hosts(b, sizeof(b), many, 200), PROTO_E_TOOBIG);

	/* The parser: each defect ends the session. */
	n = proto_put_hosts(b, sizeof(b), h, 1);
	b[8 + 1 + 2 + 5] = 1;			/* after the IPv4 address */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	b[8 + 1 + 2 + 5] = 0;
	b[8] = 5;				/* family */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	b[8] = 4;
	b[8 + PROTO_HOST_FIXED] = 'W';		/* upper case */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	b[8 + PROTO_HOST_FIXED] = 'w';
	b[8 + 1] = 17;				/* name longer than the frame */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_LENGTH);
	b[8 + 1] = 0;				/* empty name */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	b[8 + 1] = 16;
	b[7] = 1;				/* on a stream */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_STREAM);
	b[7] = 0;
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	/* More than PROTO_HOSTS_MAX entries, each valid. */
	for (i = 0; i < 200; i++)
		many[i].name = "x";
	n = proto_put_hosts(b, sizeof(b), many, PROTO_HOSTS_MAX);
	memcpy(b + n, b + PROTO_HDR_LEN, proto_host_size(1));
	buf_set_u16(b + 2, (uint16_t)((size_t)n - PROTO_HDR_LEN + proto_host_size(1)));
	assert_int_equal(proto_parse(b, (size_t)n + proto_host_size(1), &f),
	    PROTO_E_LENGTH);
}

/* HOSTS_SEED: names and addresses of --seed-hosts, checked one by one
 * like HOSTS; a bad entry ends the session. */
static void
test_hosts_seed(void **state)
{
	struct proto_seed	s[3];
	static struct proto_seed many[PROTO_SEEDS_MAX + 1];
	static uint8_t		b[PROTO_HDR_LEN + PROTO_SEEDS_MAX_LEN + 64];
	char			name[PROTO_HOST_NAME_MAX + 1], longname[254];
	struct proto_frame	f;
	struct addr		a;
	size_t			off = 0;
	int			n, i;

	memset(s, 0, sizeof(s));
	s[0].name = "seeded.lab.internal";
	addr_set(&s[1].addr, ADDR_V4, "\xc6\x13\x00\x33", 0);
	addr_set(&s[2].addr, ADDR_V6, "\xfd\x5e\0\0\0\0\0\x02\0\0\0\0\0\0\0\x33", 0);
	n = proto_put_hosts_seed(b, sizeof(b), s, 3);
	assert_int_equal(n, PROTO_HDR_LEN + 3 * PROTO_SEED_FIXED + 19 + 4 + 16);
	assert_memory_equal(b, "\x51\0\0\x2d\0\0\0\0", 8);
	assert_memory_equal(b + 8, "\x00\x13seeded.lab.internal\x04\x04\xc6\x13\x00\x33"
	    "\x06\x10\xfd\x5e", 31);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_HOSTS_SEED);
	assert_string_equal(proto_type_name(PROTO_HOSTS_SEED), "HOSTS_SEED");
	assert_int_equal(proto_type_feature(PROTO_HOSTS_SEED), PROTO_FEAT_HOSTS);
	assert_int_equal(f.u.seeds, 3);
	assert_int_equal(proto_seed_next(&f, &off, &a, name), 1);
	assert_string_equal(name, "seeded.lab.internal");
	assert_int_equal(a.family, 0);
	for (i = 1; i < 3; i++) {
		assert_int_equal(proto_seed_next(&f, &off, &a, name), 1);
		assert_string_equal(name, "");
		assert_true(addr_equal(&a, &s[i].addr));
	}
	assert_int_equal(proto_seed_next(&f, &off, &a, name), 0);

	/* Empty is fine: the client sends it without --seed-hosts. */
	n = proto_put_hosts_seed(b, sizeof(b), NULL, 0);
	assert_int_equal(n, PROTO_HDR_LEN);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.u.seeds, 0);

	/* The encoder refuses bad names, other families, too many. */
	s[0].name = "Bad";
	assert_int_equal(proto_put_hosts_seed(b, sizeof(b), s, 1), PROTO_E_VALUE);
	s[0].name = NULL;
	s[0].addr.family = 0;
	assert_int_equal(proto_put_hosts_seed(b, sizeof(b), s, 1), PROTO_E_VALUE);
	memset(longname, 'a', sizeof(longname));
	for (i = 63; i < 253; i += 64)
		longname[i] = '.';
	longname[253] = '\0';
	for (i = 0; i <= PROTO_SEEDS_MAX; i++)
		many[i].name = longname;
	assert_int_equal(proto_put_hosts_seed(b, sizeof(b), many, PROTO_SEEDS_MAX + 1),
	    PROTO_E_VALUE);
	/* The most: 64 names of 253 bytes fit the frame's limit. */
	n = proto_put_hosts_seed(b, sizeof(b), many, PROTO_SEEDS_MAX);
	assert_int_equal(n, PROTO_HDR_LEN + PROTO_SEEDS_MAX_LEN);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.u.seeds, PROTO_SEEDS_MAX);
	/* A 65th entry (a short one, within the length limit) is refused. */
	for (i = 0; i < PROTO_SEEDS_MAX; i++)
		many[i].name = "x";
	n = proto_put_hosts_seed(b, sizeof(b), many, PROTO_SEEDS_MAX);
	memcpy(b + n, "\x00\x01y", 3);
	buf_set_u16(b + 2, (uint16_t)((size_t)n - PROTO_HDR_LEN + 3));
	assert_int_equal(proto_parse(b, (size_t)n + 3, &f), PROTO_E_LENGTH);
	/* Longer than the limit. */
	buf_set_u16(b + 2, PROTO_SEEDS_MAX_LEN + 1);
	assert_int_equal(proto_parse(b, PROTO_HDR_LEN + PROTO_SEEDS_MAX_LEN + 1, &f),
	    PROTO_E_LENGTH);

	/* The parser: each defect ends the session. */
	memset(s, 0, sizeof(s));
	s[0].name = "web";
	addr_set(&s[1].addr, ADDR_V4, "\x0a\0\0\x01", 0);
	n = proto_put_hosts_seed(b, sizeof(b), s, 2);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	b[8 + 2] = 'W';				/* upper case */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	b[8 + 2] = 'w';
	b[8] = 5;				/* kind */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	b[8] = 0;
	b[8 + 5] = 6;				/* IPv6 of 4 bytes */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	b[8 + 5] = 4;
	b[8 + 6] = 5;				/* IPv4 of 5 bytes: cut short */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_LENGTH);
	b[8 + 6] = 4;
	b[8 + 1] = 0;				/* empty name */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_VALUE);
	b[8 + 1] = 3;
	b[7] = 1;				/* on a stream */
	assert_int_equal(proto_parse(b, (size_t)n, &f), PROTO_E_STREAM);
	b[7] = 0;
	assert_int_equal(proto_parse(b, (size_t)n - 1, &f), 0);	/* needs more */
	buf_set_u16(b + 2, (uint16_t)(n - PROTO_HDR_LEN - 1));	/* cut */
	assert_int_equal(proto_parse(b, (size_t)n - 1, &f), PROTO_E_LENGTH);
}

/* UDP frames: UDP_DATA with the address block and the datagram, IPv4
 * and IPv6, UDP_CLOSE, UDP_DROP; the exact bytes of each. */
static void
test_udp_roundtrip(void **state)
{
	static uint8_t		 b[PROTO_MAX_FRAME], d[PROTO_UDP_MAX_DGRAM4];
	struct addr		 v4, v6;
	struct proto_frame	 f;
	int			 n, i;

	addr_set(&v4, ADDR_V4, "\xc6\x13\0\x02", 5353);
	addr_set(&v6, ADDR_V6, "\xfd\x5e\0\0\0\0\0\0\0\0\0\0\0\0\0\x09", 443);
	n = proto_put_udp_data(b, sizeof(b), 0x01020304, &v4, "hi", 2);
	assert_int_equal(n, PROTO_HDR_LEN + PROTO_UDP_ADDR4_LEN + 2);
	assert_memory_equal(b, "\x30\0\0\x0a\x01\x02\x03\x04"
	    "\x04\x00\x14\xe9\xc6\x13\x00\x02hi", 18);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_UDP_DATA);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.stream, 0x01020304);
	assert_true(addr_equal(&f.u.udp.peer, &v4));
	assert_int_equal(f.u.udp.datalen, 2);
	assert_memory_equal(f.u.udp.data, "hi", 2);

	n = proto_put_udp_data(b, sizeof(b), 7, &v6, "", 0);
	assert_int_equal(n, PROTO_HDR_LEN + PROTO_UDP_ADDR6_LEN);
	assert_memory_equal(b, "\x30\0\0\x14\0\0\0\x07\x06\x00\x01\xbb", 12);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, 0);
	assert_true(addr_equal(&f.u.udp.peer, &v6));
	assert_int_equal(f.u.udp.datalen, 0);

	/* The largest datagram of each family fills one frame exactly. */
	for (i = 0; i < (int)sizeof(d); i++)
		d[i] = (uint8_t)i;
	n = proto_put_udp_data(b, sizeof(b), 9, &v4, d, PROTO_UDP_MAX_DGRAM4);
	assert_int_equal(n, PROTO_MAX_FRAME);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.u.udp.datalen, PROTO_UDP_MAX_DGRAM4);
	assert_memory_equal(f.u.udp.data, d, PROTO_UDP_MAX_DGRAM4);
	n = proto_put_udp_data(b, sizeof(b), 9, &v6, d, PROTO_UDP_MAX_DGRAM6);
	assert_int_equal(n, PROTO_MAX_FRAME);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.u.udp.datalen, PROTO_UDP_MAX_DGRAM6);
	/* The header alone, for a datagram placed after it. */
	n = proto_put_udp_hdr(b, sizeof(b), 9, &v6, 100);
	assert_int_equal(n, proto_udp_hdr_size(ADDR_V6));
	assert_int_equal(proto_parse(b, (size_t)n + 100, &f), n + 100);
	assert_int_equal(f.u.udp.datalen, 100);

	n = proto_put_udp_close(b, sizeof(b), 5, PROTO_UDP_CLOSE_RESOURCE);
	assert_memory_equal(b, "\x31\0\0\x01\0\0\0\x05\x02", 9);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_UDP_CLOSE);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.u.udp.reason, PROTO_UDP_CLOSE_RESOURCE);

	n = proto_put_udp_drop(b, sizeof(b), 5, &v4, PROTO_UDP_DROP_UNREACH);
	assert_int_equal(n, PROTO_HDR_LEN + PROTO_UDP_ADDR4_LEN + 1);
	assert_memory_equal(b, "\x32\0\0\x09\0\0\0\x05\x04\0\x14\xe9\xc6\x13\0\x02\x01", 17);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.type, PROTO_UDP_DROP);
	assert_int_equal(f.bad, 0);
	assert_true(addr_equal(&f.u.udp.peer, &v4));
	assert_int_equal(f.u.udp.reason, PROTO_UDP_DROP_UNREACH);
	n = proto_put_udp_drop(b, sizeof(b), 5, &v6, PROTO_UDP_DROP_SEND);
	assert_int_equal(n, PROTO_HDR_LEN + PROTO_UDP_ADDR6_LEN + 1);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, 0);
	assert_true(addr_equal(&f.u.udp.peer, &v6));
	assert_int_equal(f.u.udp.reason, PROTO_UDP_DROP_SEND);

	assert_string_equal(proto_type_name(PROTO_UDP_DATA), "UDP_DATA");
	assert_string_equal(proto_type_name(PROTO_UDP_CLOSE), "UDP_CLOSE");
	assert_string_equal(proto_type_name(PROTO_UDP_DROP), "UDP_DROP");
	assert_string_equal(proto_udp_drop_name(PROTO_UDP_DROP_UNREACH), "unreachable");
	assert_string_equal(proto_feature_name(PROTO_FEAT_UDP), "UDP");
	assert_true((PROTO_FEAT_KNOWN & PROTO_FEAT_UDP) != 0);
}

/* A UDP frame with bad contents keeps the framing and spoils its flow
 * only (f.bad, the whole frame consumed); the encoders write none. */
static void
test_udp_bad(void **state)
{
	static uint8_t		 b[PROTO_MAX_FRAME + 32], d[PROTO_UDP_MAX_DGRAM4 + 1];
	struct addr		 v4, v6;
	struct proto_frame	 f;
	int			 n;

	addr_set(&v4, ADDR_V4, "\xc6\x13\0\x02", 53);
	addr_set(&v6, ADDR_V6, "\xfd\x5e\0\0\0\0\0\0\0\0\0\0\0\0\0\x09", 53);

	/* Flow id 0. */
	n = proto_put_udp_data(b, sizeof(b), 1, &v4, "x", 1);
	memset(b + 4, 0, 4);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_STREAM);
	n = proto_put_udp_close(b, sizeof(b), 1, 0);
	memset(b + 4, 0, 4);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_STREAM);
	/* The address block: family, reserved byte, port 0. */
	n = proto_put_udp_data(b, sizeof(b), 3, &v4, "x", 1);
	b[PROTO_HDR_LEN] = 5;
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	assert_int_equal(f.stream, 3);
	n = proto_put_udp_data(b, sizeof(b), 3, &v4, "x", 1);
	b[PROTO_HDR_LEN + 1] = 1;
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	n = proto_put_udp_data(b, sizeof(b), 3, &v6, "x", 1);
	b[PROTO_HDR_LEN + 2] = b[PROTO_HDR_LEN + 3] = 0;
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	n = proto_put_udp_drop(b, sizeof(b), 3, &v4, PROTO_UDP_DROP_SEND);
	b[PROTO_HDR_LEN + 1] = 0x80;
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	/* Too short: for any block, and for an IPv6 one (8 and 19 bytes). */
	n = proto_put_udp_data(b, sizeof(b), 3, &v4, "", 0);
	b[3] = PROTO_UDP_ADDR4_LEN - 1;
	assert_int_equal(proto_parse(b, (size_t)n - 1, &f), n - 1);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	n = proto_put_udp_data(b, sizeof(b), 3, &v6, "", 0);
	b[3] = PROTO_UDP_ADDR4_LEN;
	assert_int_equal(proto_parse(b, PROTO_HDR_LEN + PROTO_UDP_ADDR4_LEN, &f),
	    PROTO_HDR_LEN + PROTO_UDP_ADDR4_LEN);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	b[3] = PROTO_UDP_ADDR6_LEN - 1;
	assert_int_equal(proto_parse(b, (size_t)n - 1, &f), n - 1);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	/* UDP_DROP: exactly the block and the reason byte; reasons 1-2. */
	n = proto_put_udp_drop(b, sizeof(b), 3, &v4, PROTO_UDP_DROP_SEND);
	b[3]++;
	b[n] = 0;
	assert_int_equal(proto_parse(b, (size_t)n + 1, &f), n + 1);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	n = proto_put_udp_drop(b, sizeof(b), 3, &v6, PROTO_UDP_DROP_SEND);
	b[3]--;
	assert_int_equal(proto_parse(b, (size_t)n - 1, &f), n - 1);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	b[3] = PROTO_UDP_ADDR6_LEN + 2;			/* above the longest */
	assert_int_equal(proto_parse(b, (size_t)n + 1, &f), n + 1);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	n = proto_put_udp_drop(b, sizeof(b), 3, &v4, PROTO_UDP_DROP_SEND);
	b[n - 1] = 0;
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	b[n - 1] = PROTO_UDP_DROP_MAX + 1;
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	/* UDP_CLOSE: 1 byte, reasons 0-2. */
	n = proto_put_udp_close(b, sizeof(b), 3, 0);
	b[PROTO_HDR_LEN] = PROTO_UDP_CLOSE_MAX + 1;
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.bad, PROTO_E_VALUE);
	b[3] = 2;
	assert_int_equal(proto_parse(b, (size_t)n + 1, &f), n + 1);
	assert_int_equal(f.bad, PROTO_E_LENGTH);
	/* The rest of the UDP range is still unknown. */
	memset(b, 0, 16);
	b[0] = 0x33; b[7] = 1;
	assert_int_equal(proto_parse(b, 8, &f), PROTO_E_TYPE);

	/* Encoders: a datagram one byte too big for its frame, a bad
	 * address, id 0, a reason out of range, too little room. */
	assert_int_equal(proto_put_udp_data(b, sizeof(b), 3, &v4, d,
	    PROTO_UDP_MAX_DGRAM4 + 1), PROTO_E_TOOBIG);
	assert_int_equal(proto_put_udp_data(b, sizeof(b), 3, &v6, d,
	    PROTO_UDP_MAX_DGRAM6 + 1), PROTO_E_TOOBIG);
	assert_int_equal(proto_put_udp_data(b, sizeof(b), 0, &v4, "x", 1), PROTO_E_VALUE);
	v4.port = 0;
	assert_int_equal(proto_put_udp_data(b, sizeof(b), 3, &v4, "x", 1), PROTO_E_VALUE);
	assert_int_equal(proto_put_udp_drop(b, sizeof(b), 3, &v4, 1), PROTO_E_VALUE);
	v4.port = 53;
	v4.family = 5;
	assert_int_equal(proto_put_udp_data(b, sizeof(b), 3, &v4, "x", 1), PROTO_E_VALUE);
	v4.family = ADDR_V4;
	assert_int_equal(proto_put_udp_data(b, PROTO_HDR_LEN + PROTO_UDP_ADDR4_LEN, 3, &v4,
	    "x", 1), PROTO_E_SHORT);
	assert_int_equal(proto_put_udp_close(b, sizeof(b), 0, 0), PROTO_E_VALUE);
	assert_int_equal(proto_put_udp_close(b, sizeof(b), 3, PROTO_UDP_CLOSE_MAX + 1),
	    PROTO_E_VALUE);
	assert_int_equal(proto_put_udp_close(b, PROTO_HDR_LEN, 3, 0), PROTO_E_SHORT);
	assert_int_equal(proto_put_udp_drop(b, sizeof(b), 0, &v4, 1), PROTO_E_VALUE);
	assert_int_equal(proto_put_udp_drop(b, sizeof(b), 3, &v4, 0), PROTO_E_VALUE);
	assert_int_equal(proto_put_udp_drop(b, sizeof(b), 3, &v4, PROTO_UDP_DROP_MAX + 1),
	    PROTO_E_VALUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all_types),
		cmocka_unit_test(test_hosts_seed),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_session_errors),
		cmocka_unit_test(test_hello_checks),
		cmocka_unit_test(test_stream_errors),
		cmocka_unit_test(test_encoder_limits),
		cmocka_unit_test(test_status_errno),
		cmocka_unit_test(test_dns_roundtrip),
		cmocka_unit_test(test_dns_shapes),
		cmocka_unit_test(test_reserved_bytes),
		cmocka_unit_test(test_open_wire),
		cmocka_unit_test(test_initial_credit_wire),
		cmocka_unit_test(test_feature_ranges),
		cmocka_unit_test(test_resume_frames),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_udp_roundtrip),
		cmocka_unit_test(test_udp_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
