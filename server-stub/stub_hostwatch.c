/* SPDX-License-Identifier: ISC */
/*
 * stub_hostwatch.c - IPv4 neighbour table, DNS messages and the lookups
 * for auto-hosts (see stub_hostwatch.h).
 *
 * The answers are parsed here rather than with the client's DNS code
 * because the stub is libc only; only what a PTR, A or AAAA lookup needs
 * is read, and every offset is checked against the message's length
 * first.
 *
 * Each lookup has its own connected UDP socket: the kernel then drops
 * datagrams from anyone but the server asked, and the random source port
 * adds to the ID what a spoofed answer would have to guess.  A lookup
 * that fails or times out is not retried: the names are a convenience,
 * and the HOSTS frame must not wait for them long.
 */
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "stub_hostwatch.h"
#include "stub_neigh.h"

#define STUB_HOSTWATCH_T_CNAME	5
#define STUB_HOSTWATCH_C_IN	1
#define STUB_HOSTWATCH_JUMPS	16	/* compression pointers per name */

/* Is c a blank between the fields of a /proc/net/arp line? */
static int
stub_hostwatch_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

size_t
stub_hostwatch_arp_parse(const char *text, struct addr *out, size_t max)
{
	const char	*p, *e, *w[3];
	size_t		 wl[3], n = 0, i, k;
	unsigned long	 flags;
	char		 num[16], *end;
	struct addr	 a;

	/* The first line names the columns. */
	if ((p = strchr(text, '\n')) == NULL)
		return 0;
	for (p++; *p != '\0' && n < max; p = *e == '\n' ? e + 1 : e) {
		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		/* IP address, HW type, Flags: the first three words. */
		for (k = 0; k < 3; k++) {
			while (p < e && stub_hostwatch_blank(*p))
				p++;
			w[k] = p;
			while (p < e && !stub_hostwatch_blank(*p))
				p++;
			wl[k] = (size_t)(p - w[k]);
			if (wl[k] == 0)
				break;
		}
		if (k < 3 || wl[2] >= sizeof(num))
			continue;
		memcpy(num, w[2], wl[2]);
		num[wl[2]] = '\0';
		flags = strtoul(num, &end, 16);
		if (*end != '\0' || flags == 0)
			continue;
		/* 169.254/16 names nothing beyond the link. */
		if (addr_parse(&a, w[0], wl[0], 0, 0) != 0 || a.family != ADDR_V4 ||
		    addr_is_loopback(&a) || addr_is_any(&a) ||
		    (a.bytes[0] == 169 && a.bytes[1] == 254))
			continue;
		for (i = 0; i < n && !addr_equal(&out[i], &a); i++)
			;
		if (i == n)
			out[n++] = a;
	}
	return n;
}

int
stub_hostwatch_ptr_name(const struct addr *a, char *buf, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	char			*p = buf;
	int			 i;

	if (len < STUB_HOSTWATCH_PTR_NAME_MAX)
		return -1;
	if (a->family == ADDR_V4) {
		(void)snprintf(buf, len, "%u.%u.%u.%u.in-addr.arpa",
		    a->bytes[3], a->bytes[2], a->bytes[1], a->bytes[0]);
		return 0;
	}
	if (a->family != ADDR_V6)
		return -1;
	for (i = 15; i >= 0; i--) {
		*p++ = hex[a->bytes[i] & 0xf];
		*p++ = '.';
		*p++ = hex[a->bytes[i] >> 4];
		*p++ = '.';
	}
	memcpy(p, "ip6.arpa", sizeof("ip6.arpa"));
	return 0;
}

size_t
stub_hostwatch_query(uint8_t *buf, size_t len, uint16_t id, const char *name,
    uint16_t qtype)
{
	const char	*s, *dot;
	size_t		 off = 12, l;

	if (len < STUB_HOSTWATCH_QUERY_MAX || !proto_host_name_ok(name, strlen(name)))
		return 0;
	memset(buf, 0, 12);
	buf_set_u16(buf, id);
	buf_set_u16(buf + 2, 0x0100);		/* recursion desired */
	buf_set_u16(buf + 4, 1);		/* one question */
	for (s = name; *s != '\0'; s = *dot == '.' ? dot + 1 : dot) {
		if ((dot = strchr(s, '.')) == NULL)
			dot = s + strlen(s);
		l = (size_t)(dot - s);
		buf[off++] = (uint8_t)l;
		memcpy(buf + off, s, l);
		off += l;
	}
	buf[off++] = 0;
	buf_set_u16(buf + off, qtype);
	buf_set_u16(buf + off + 2, STUB_HOSTWATCH_C_IN);
	return off + 4;
}

size_t
stub_hostwatch_ptr_query(uint8_t *buf, size_t len, uint16_t id, const struct addr *a)
{
	char	name[STUB_HOSTWATCH_PTR_NAME_MAX];

	if (stub_hostwatch_ptr_name(a, name, sizeof(name)) != 0)
		return 0;
	return stub_hostwatch_query(buf, len, id, name, STUB_HOSTWATCH_T_PTR);
}

/* The name at *off in msg[0..len) as dotted text into out (holding
 * PROTO_HOST_NAME_MAX + 1 bytes), *off moved past it.  Labels holding a
 * dot or NUL, names too long, pointers out of bounds or too many of
 * them: -1. */
static int
stub_hostwatch_name(const uint8_t *msg, size_t len, size_t *off, char *out)
{
	size_t		 p = *off, n = 0, end = 0, i;
	int		 jumps = 0;
	uint8_t		 l;

	for (;;) {
		if (p >= len)
			return -1;
		l = msg[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= len || ++jumps > STUB_HOSTWATCH_JUMPS)
				return -1;
			if (end == 0)
				end = p + 2;
			p = ((size_t)(l & 0x3f) << 8) | msg[p + 1];
			continue;
		}
		if ((l & 0xc0) != 0)
			return -1;
		if (l == 0)
			break;
		if (l > len - p - 1 || n + (n > 0) + l > PROTO_HOST_NAME_MAX)
			return -1;
		if (n > 0)
			out[n++] = '.';
		for (i = 0; i < l; i++) {
			char c = (char)msg[p + 1 + i];

			if (c == '.' || c == '\0')
				return -1;
			out[n++] = c;
		}
		p += 1 + (size_t)l;
	}
	out[n] = '\0';
	*off = end != 0 ? end : p + 1;
	return 0;
}

/* The header and question of an answer to the query (id, want, qtype):
 * 0 with *off past the question and *an the answer count, else -1. */
static int
stub_hostwatch_question(const uint8_t *msg, size_t len, uint16_t id, const char *want,
    uint16_t qtype, size_t *off, size_t *an)
{
	char		got[PROTO_HOST_NAME_MAX + 1];
	uint16_t	flags;

	if (len < 12)
		return -1;
	flags = buf_get_u16(msg + 2);
	/* A response, standard query, not truncated, no error. */
	if (buf_get_u16(msg) != id || (flags & 0x8000) == 0 ||
	    (flags & 0x7800) != 0 || (flags & 0x0200) != 0 || (flags & 0x000f) != 0 ||
	    buf_get_u16(msg + 4) != 1)
		return -1;
	*an = buf_get_u16(msg + 6);
	*off = 12;
	if (stub_hostwatch_name(msg, len, off, got) != 0 || len - *off < 4 ||
	    buf_get_u16(msg + *off) != qtype ||
	    buf_get_u16(msg + *off + 2) != STUB_HOSTWATCH_C_IN ||
	    strcasecmp(got, want) != 0)
		return -1;
	*off += 4;
	return 0;
}

/* The next answer record at *off: its owner into owner, type, class and
 * where its data is (*rd, *rdlen); *off moves past it.  0, or -1. */
static int
stub_hostwatch_record(const uint8_t *msg, size_t len, size_t *off, char *owner,
    uint16_t *type, uint16_t *class, size_t *rd, size_t *rdlen)
{
	if (stub_hostwatch_name(msg, len, off, owner) != 0 || len - *off < 10)
		return -1;
	*type = buf_get_u16(msg + *off);
	*class = buf_get_u16(msg + *off + 2);
	*rdlen = buf_get_u16(msg + *off + 8);
	*off += 10;
	if (*rdlen > len - *off)
		return -1;
	*rd = *off;
	*off += *rdlen;
	return 0;
}

int
stub_hostwatch_ptr_answer(const uint8_t *msg, size_t len, uint16_t id,
    const struct addr *a, char *name)
{
	char		 want[STUB_HOSTWATCH_PTR_NAME_MAX];
	char		 got[PROTO_HOST_NAME_MAX + 1];
	size_t		 off, an, rd, rdlen, nl;
	uint16_t	 type, class;

	if (stub_hostwatch_ptr_name(a, want, sizeof(want)) != 0 ||
	    stub_hostwatch_question(msg, len, id, want, STUB_HOSTWATCH_T_PTR, &off,
	    &an) != 0)
		return -1;
	for (; an > 0; an--) {
		if (stub_hostwatch_record(msg, len, &off, got, &type, &class, &rd,
		    &rdlen) != 0)
			return -1;
		if (type != STUB_HOSTWATCH_T_PTR || class != STUB_HOSTWATCH_C_IN ||
		    stub_hostwatch_name(msg, len, &rd, name) != 0)
			continue;
		for (nl = 0; name[nl] != '\0'; nl++)
			name[nl] = (char)tolower((unsigned char)name[nl]);
		if (proto_host_name_ok(name, nl))
			return 0;
	}
	return -1;
}

int
stub_hostwatch_addr_answer(const uint8_t *msg, size_t len, uint16_t id,
    const char *name, uint16_t qtype, struct addr *out, size_t max)
{
	char		 cur[PROTO_HOST_NAME_MAX + 1], got[PROTO_HOST_NAME_MAX + 1];
	size_t		 off, an, rd, rdlen, n = 0, want;
	uint16_t	 type, class;
	uint8_t		 family;

	if (qtype == STUB_HOSTWATCH_T_A)
		family = ADDR_V4;
	else if (qtype == STUB_HOSTWATCH_T_AAAA)
		family = ADDR_V6;
	else
		return -1;
	want = addr_size(family);
	if (strlen(name) > PROTO_HOST_NAME_MAX ||
	    stub_hostwatch_question(msg, len, id, name, qtype, &off, &an) != 0)
		return -1;
	/* Only records of the name asked, or of the name its CNAMEs lead
	 * to, in order: a resolver lists the chain before its end. */
	memcpy(cur, name, strlen(name) + 1);
	for (; an > 0; an--) {
		if (stub_hostwatch_record(msg, len, &off, got, &type, &class, &rd,
		    &rdlen) != 0)
			return -1;
		if (class != STUB_HOSTWATCH_C_IN || strcasecmp(got, cur) != 0)
			continue;
		if (type == STUB_HOSTWATCH_T_CNAME) {
			if (stub_hostwatch_name(msg, len, &rd, got) != 0)
				return -1;
			memcpy(cur, got, strlen(got) + 1);
		} else if (type == qtype && rdlen == want && n < max)
			addr_set(&out[n++], family, msg + rd, 0);
	}
	return (int)n;
}

/* ---- the lookups ---- */

static void	stub_hostwatch_fill(struct stub_hostwatch *w, uint64_t now);

static void
stub_hostwatch_close(struct stub_hostwatch_query *q)
{
	int	fd = q->io.fd;

	if (fd == -1)
		return;
	ev_io_del(q->w->loop, &q->io);
	close(fd);
	q->io.fd = -1;
}

/* Everything gathered goes out; the lookups still running are dropped. */
static void
stub_hostwatch_finish(struct stub_hostwatch *w)
{
	size_t	i;

	for (i = 0; i < STUB_HOSTWATCH_INFLIGHT; i++)
		stub_hostwatch_close(&w->q[i]);
	w->timer.when = 0;
	log_debug("hosts: %zu names sent, %zu of them from %zu of %zu neighbours' "
	    "and %zu of %zu seeds' lookups", w->hosts->n, w->names, w->next,
	    w->ntargets, w->seed_next, w->nseeds);
	if (mux_send_hosts(w->mux, w->hosts->h, w->hosts->n) != 0)
		log_error("cannot send the host names");
	free(w->hosts);
	w->hosts = NULL;
}

static void
stub_hostwatch_read_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct stub_hostwatch_query	*q = io->arg;
	struct stub_hostwatch		*w = q->w;
	struct addr			 a[STUB_HOSTWATCH_ADDRS];
	uint8_t				 msg[512];
	char				 name[PROTO_HOST_NAME_MAX + 1];
	const char			*seed;
	ssize_t				 n;
	int				 i, got;

	(void)loop;
	(void)revents;
	n = recv(io->fd, msg, sizeof(msg), 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n >= 2 && buf_get_u16(msg) != q->id)
		return;		/* not ours: keep waiting */
	/* A 512-byte answer may be cut (MSG_TRUNC is not asked): the
	 * parsers refuse what does not add up. */
	if (n > 0 && q->t.qtype == STUB_HOSTWATCH_T_PTR) {
		if (stub_hostwatch_ptr_answer(msg, (size_t)n, q->id, &q->t.a, name) == 0)
			w->names += stub_hosts_add(w->hosts, &q->t.a, name, strlen(name));
	} else if (n > 0) {
		seed = w->seed_names[q->t.seed];
		got = stub_hostwatch_addr_answer(msg, (size_t)n, q->id, seed, q->t.qtype, a,
		    STUB_HOSTWATCH_ADDRS);
		for (i = 0; i < got; i++)
			w->names += stub_hosts_add(w->hosts, &a[i], seed, strlen(seed));
	}
	stub_hostwatch_close(q);
	stub_hostwatch_fill(w, clock_ms());
}

/* The next lookup to make into *t: the seeds first.  0, or -1 when none
 * is left. */
static int
stub_hostwatch_next(struct stub_hostwatch *w, struct stub_hostwatch_target *t)
{
	if (w->seed_next < w->nseeds) {
		*t = w->seeds[w->seed_next++];
		return 0;
	}
	if (w->next < w->ntargets) {
		memset(t, 0, sizeof(*t));
		t->a = w->targets[w->next++];
		t->qtype = STUB_HOSTWATCH_T_PTR;
		return 0;
	}
	return -1;
}

/* Start lookups while there are free slots and lookups to make; HOSTS
 * goes out when nothing is left to wait for. */
static void
stub_hostwatch_fill(struct stub_hostwatch *w, uint64_t now)
{
	struct stub_hostwatch_query	*q;
	struct sockaddr_storage		 ss;
	const struct addr		*srv;
	uint8_t				 msg[STUB_HOSTWATCH_QUERY_MAX];
	size_t				 i, len, busy = 0;
	socklen_t			 slen;
	int				 fd;

	if (w->hosts == NULL)
		return;
	for (i = 0; i < STUB_HOSTWATCH_INFLIGHT; i++) {
		q = &w->q[i];
		if (q->io.fd != -1 && q->deadline <= now)
			stub_hostwatch_close(q);
		while (q->io.fd == -1 && now < w->end && stub_hostwatch_next(w, &q->t) == 0) {
			srv = &w->servers[w->asked++ % w->nservers];
			q->id = (uint16_t)((now * 2654435761U) ^ (w->asked << 4) ^ (uint64_t)getpid());
			if (q->t.qtype == STUB_HOSTWATCH_T_PTR)
				len = stub_hostwatch_ptr_query(msg, sizeof(msg), q->id, &q->t.a);
			else
				len = stub_hostwatch_query(msg, sizeof(msg), q->id,
				    w->seed_names[q->t.seed], q->t.qtype);
			slen = addr_to_sockaddr(srv, &ss);
			if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0)) == -1)
				continue;
			if (len == 0 || connect(fd, (struct sockaddr *)&ss, slen) == -1 ||
			    send(fd, msg, len, 0) != (ssize_t)len ||
			    ev_io_add(w->loop, &q->io, fd, EV_READ, stub_hostwatch_read_cb,
			    q) != 0) {
				close(fd);
				q->io.fd = -1;
				continue;
			}
			q->deadline = now + STUB_HOSTWATCH_TRY_MS;
		}
		if (q->io.fd != -1) {
			busy++;
			if (w->timer.when == 0 || q->deadline < w->timer.when)
				w->timer.when = q->deadline;
		}
	}
	/* The client's seeds come a round trip after its HELLO: wait for
	 * them too, within the same bound. */
	if ((busy == 0 && w->seeded) || now >= w->end)
		stub_hostwatch_finish(w);
	else if (w->timer.when == 0 || w->end < w->timer.when)
		w->timer.when = w->end;
}

static void
stub_hostwatch_timer_cb(struct ev_loop *loop, struct ev_timer *t)
{
	(void)loop;
	stub_hostwatch_fill(t->arg, clock_ms());
}

int
stub_hostwatch_init(struct stub_hostwatch *w, struct ev_loop *loop, struct mux *m)
{
	size_t	i;

	memset(w, 0, sizeof(*w));
	w->loop = loop;
	w->mux = m;
	for (i = 0; i < STUB_HOSTWATCH_INFLIGHT; i++) {
		w->q[i].w = w;
		w->q[i].io.fd = -1;
	}
	w->timer.cb = stub_hostwatch_timer_cb;
	w->timer.arg = w;
	return ev_timer_add(loop, &w->timer) == 0 ? 0 : -1;
}

int
stub_hostwatch_start(struct stub_hostwatch *w)
{
	char	*text;

	if (w->hosts != NULL || (w->hosts = stub_hosts_load()) == NULL)
		return -1;
	if ((text = stub_hosts_read(STUB_HOSTWATCH_ARP_FILE)) != NULL)
		w->ntargets = stub_hostwatch_arp_parse(text, w->targets,
		    STUB_HOSTWATCH_LOOKUPS);
	free(text);
	w->ntargets = stub_neigh_read6(w->targets, w->ntargets, STUB_HOSTWATCH_LOOKUPS);
	resolv_read(RESOLV_PATH, RESOLV_F_DEFAULT | RESOLV_F_NO_LINKLOCAL, w->servers,
	    STUB_HOSTWATCH_SERVERS, &w->nservers, NULL, 0);
	if (w->nservers == 0)
		w->ntargets = 0;
	w->end = clock_ms() + STUB_HOSTWATCH_WAIT_MS;
	log_debug("hosts: %zu neighbours to look up", w->ntargets);
	stub_hostwatch_fill(w, clock_ms());
	return 0;
}

void
stub_hostwatch_seed(struct stub_hostwatch *w, const struct proto_frame *f)
{
	struct stub_hostwatch_target	*t;
	struct addr			 a;
	char				 name[PROTO_HOST_NAME_MAX + 1];
	size_t				 off = 0, names = 0;

	if (w->hosts == NULL) {
		log_debug("hosts: the client's seeds came after HOSTS: ignored");
		return;
	}
	while (proto_seed_next(f, &off, &a, name) &&
	    w->nservers > 0 && w->nseeds + 2 <= sizeof(w->seeds) / sizeof(w->seeds[0])) {
		t = &w->seeds[w->nseeds];
		memset(t, 0, 2 * sizeof(*t));
		if (name[0] == '\0') {
			if (addr_is_loopback(&a) || addr_is_any(&a))
				continue;
			t->a = a;
			t->qtype = STUB_HOSTWATCH_T_PTR;
			w->nseeds++;
			continue;
		}
		/* proto_parse allows no more names than seed_names holds. */
		memcpy(w->seed_names[names], name, sizeof(name));
		t[0].qtype = STUB_HOSTWATCH_T_A;
		t[1].qtype = STUB_HOSTWATCH_T_AAAA;
		t[0].seed = t[1].seed = (uint16_t)names++;
		w->nseeds += 2;
	}
	w->seeded = 1;
	log_debug("hosts: %zu seed lookups", w->nseeds);
	stub_hostwatch_fill(w, clock_ms());
}

void
stub_hostwatch_free(struct stub_hostwatch *w)
{
	size_t	i;

	for (i = 0; i < STUB_HOSTWATCH_INFLIGHT; i++)
		stub_hostwatch_close(&w->q[i]);
	free(w->hosts);
	w->hosts = NULL;
	w->timer.when = 0;
	if (w->loop != NULL)
		ev_timer_del(w->loop, &w->timer);
}
