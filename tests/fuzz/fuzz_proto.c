/* SPDX-License-Identifier: ISC */
/*
 * fuzz_proto.c - the frame parser must never read outside its input and
 * must account for every byte: each accepted frame's length is its header
 * plus its declared payload, and parsing stops or fails cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A parsed ROUTES frame encoded again from its entries. */
static int
fuzz_routes_again(uint8_t *out, size_t cap, const struct proto_frame *f)
{
	static struct addr	net[PROTO_ROUTES_MAX];
	static uint8_t		prefix[PROTO_ROUTES_MAX];
	size_t			i;

	for (i = 0; i < f->u.routes; i++)
		proto_route_get(f, i, &net[i], &prefix[i]);
	return proto_put_routes(out, cap, net, prefix, f->u.routes);
}

/* A parsed HOSTS frame encoded again from its entries. */
static int
fuzz_hosts_again(uint8_t *out, size_t cap, const struct proto_frame *f)
{
	static struct proto_host h[PROTO_HOSTS_MAX];
	static char		names[PROTO_HOSTS_MAX][PROTO_HOST_NAME_MAX + 1];
	size_t			i = 0, off = 0;

	while (proto_host_next(f, &off, &h[i].addr, names[i]) == 1) {
		if (i >= f->u.hosts)
			abort();
		h[i].name = names[i];
		i++;
	}
	if (i != f->u.hosts || off != f->len)
		abort();
	return proto_put_hosts(out, cap, h, i);
}

/* A parsed HOSTS_SEED frame encoded again from its entries. */
static int
fuzz_seeds_again(uint8_t *out, size_t cap, const struct proto_frame *f)
{
	static struct proto_seed s[PROTO_SEEDS_MAX];
	static char		names[PROTO_SEEDS_MAX][PROTO_HOST_NAME_MAX + 1];
	size_t			i = 0, off = 0;

	while (proto_seed_next(f, &off, &s[i].addr, names[i]) == 1) {
		if (i >= f->u.seeds)
			abort();
		s[i].name = names[i][0] != '\0' ? names[i] : NULL;
		i++;
	}
	if (i != f->u.seeds || off != f->len)
		abort();
	return proto_put_hosts_seed(out, cap, s, i);
}

/* A parsed RESUME frame encoded again from its entries. */
static int
fuzz_resume_again(uint8_t *out, size_t cap, const struct proto_frame *f)
{
	static struct proto_resume	e[PROTO_RESUME_MAX];
	size_t				i;

	for (i = 0; i < f->u.resumes; i++) {
		proto_resume_get(f, i, &e[i]);
		if (e[i].id == 0 || e[i].grant < e[i].received)
			abort();
	}
	return proto_put_resume(out, cap, e, f->u.resumes);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_frame	f;
	uint8_t			out[PROTO_MAX_FRAME];
	size_t			off = 0;
	int			r, n;

	while ((r = proto_parse(data + off, size - off, &f)) > 0) {
		if ((size_t)r != (size_t)PROTO_HDR_LEN + f.len || (size_t)r > size - off)
			abort();
		/* Re-encoding a good frame must reproduce its header. */
		if (!f.bad && f.type == PROTO_CREDIT) {
			n = proto_put_credit(out, sizeof(out), f.stream, f.u.credit);
			if (n != r || out[0] != data[off])
				abort();
		}
		/* DNS, ROUTES, HOSTS, HOSTS_SEED, resume and UDP frames: the parser
		 * accepts only what the encoders write, byte for byte
		 * (DNS_CONFIG, ROUTES, HOSTS and HOSTS_SEED from their parsed
		 * entries). */
		n = 0;
		if (!f.bad && (f.type == PROTO_DNS_QUERY || f.type == PROTO_DNS_ANSWER))
			n = proto_put_dns(out, sizeof(out), f.type, f.stream, f.payload, f.len);
		else if (!f.bad && f.type == PROTO_DNS_FAIL)
			n = proto_put_dns_fail(out, sizeof(out), f.stream, f.u.dns_fail);
		else if (f.type == PROTO_DNS_CONFIG)
			n = proto_put_dns_config(out, sizeof(out), f.u.dns_config.s,
			    f.u.dns_config.n);
		else if (f.type == PROTO_ROUTES)
			n = fuzz_routes_again(out, sizeof(out), &f);
		else if (f.type == PROTO_HOSTS)
			n = fuzz_hosts_again(out, sizeof(out), &f);
		else if (f.type == PROTO_HOSTS_SEED)
			n = fuzz_seeds_again(out, sizeof(out), &f);
		/* The resume frames (RESUME from its entries). */
		else if (f.type == PROTO_RESUME)
			n = fuzz_resume_again(out, sizeof(out), &f);
		else if (f.type == PROTO_RESUME_END)
			n = proto_put_resume_end(out, sizeof(out), f.u.last_id);
		else if (f.type == PROTO_RESUME_SETUP)
			n = proto_put_resume_setup(out, sizeof(out), f.u.grace_s);
		else if (f.type == PROTO_RESUME_TOKEN || f.type == PROTO_ATTACH)
			n = proto_put_token(out, sizeof(out), f.type, f.u.token.secret,
			    f.u.token.path);
		else if (f.type == PROTO_ATTACHED)
			n = proto_put_attached(out, sizeof(out), f.u.attached);
		else if (f.type == PROTO_BYE)
			n = proto_put_bye(out, sizeof(out));
		else if (!f.bad && f.type == PROTO_ACK)
			n = proto_put_ack(out, sizeof(out), f.stream, f.u.ack.received,
			    f.u.ack.flags);
		/* The long forms of OPEN_RESULT and OPEN (explicit initial
		 * credit) too; the credit is within the largest window. */
		if (!f.bad && f.type == PROTO_OPEN_RESULT && f.has_credit)
			n = proto_put_open_result_credit(out, sizeof(out), f.stream,
			    f.u.status, f.credit);
		else if (!f.bad && f.type == PROTO_OPEN && f.has_credit)
			n = proto_put_open_credit(out, sizeof(out), f.stream, &f.u.open,
			    f.credit);
		/* UDP frames as well, from their parsed fields. */
		else if (!f.bad && f.type == PROTO_UDP_DATA)
			n = proto_put_udp_data(out, sizeof(out), f.stream, &f.u.udp.peer,
			    f.u.udp.data, f.u.udp.datalen);
		else if (!f.bad && f.type == PROTO_UDP_CLOSE)
			n = proto_put_udp_close(out, sizeof(out), f.stream, f.u.udp.reason);
		else if (!f.bad && f.type == PROTO_UDP_DROP)
			n = proto_put_udp_drop(out, sizeof(out), f.stream, &f.u.udp.peer,
			    f.u.udp.reason);
		if (f.has_credit && f.credit > PROTO_MAX_WINDOW && !f.bad)
			abort();
		if (n != 0 && (n != r || memcmp(out, data + off, (size_t)r) != 0))
			abort();
		if (f.type >= PROTO_DNS_CONFIG && f.type <= PROTO_DNS_FAIL &&
		    (f.stream == 0) != (f.type == PROTO_DNS_CONFIG) &&
		    f.bad != PROTO_E_STREAM)
			abort();
		off += (size_t)r;
	}
	if (off > size)
		abort();
	return 0;
}
