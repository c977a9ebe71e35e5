/* SPDX-License-Identifier: ISC */
/*
 * mux.c - the session half of the mux (see mux.h and docs/PROTOCOL.md):
 * frames out, frames in and their session rules, HELLO and feature bits,
 * DNS, UDP, ROUTES and HOSTS frames, the link queues.  The streams are in mux_stream.c.
 *
 * Flow control, in one paragraph: each side grants the other `window`
 * bytes of credit per stream at open.  DATA consumes credit; the receiver
 * returns credit (CREDIT frames) only for bytes it has written to the
 * stream's socket.  So a stream whose reader stalls can hold at most one
 * window of memory on the receiving side, the sender stops reading that
 * stream's socket when its credit is gone, and the shared link never
 * carries bytes that nobody will take — other streams keep moving.
 *
 * A broken session rule ends the session: mux_fail() records the first
 * cause and mux_in_commit() stops parsing.  Nothing here changes a
 * stream's state: frames for a stream go to mux_stream_frame(), and only
 * the setters in mux_stream.c change a stream's states.
 */
#include <sys/resource.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mux_stream.h"

void
mux_fail(struct mux *m, const char *fmt, ...)
{
	va_list	ap;

	if (m->error[0] != '\0')
		return;		/* keep the first cause */
	va_start(ap, fmt);
	vsnprintf(m->error, sizeof(m->error), fmt, ap);
	va_end(ap);
}

/* ---- frames out ---- */

int
mux_queue(struct mux *m, const uint8_t *frame, int len)
{
	if (len < 0) {
		mux_fail(m, "internal error: frame encoding failed");
		return -1;
	}
	/* No link: what the frame says travels in the RESUME entries. */
	if (m->link == MUX_LINK_DOWN)
		return 0;
	if (buf_append(&m->link_out, frame, (size_t)len) != 0) {
		mux_fail(m, "link output queue overflow (%zu bytes queued)",
		    buf_len(&m->link_out));
		return -1;
	}
	m->stats.frames_out++;
	return 0;
}

/*
 * Resume is agreed once, by the HELLOs of the first link, and holds for
 * the session: a stream keeps what it sends (retx) only from then on.
 */
static void
mux_latch_resume(struct mux *m)
{
	if (m->link == MUX_LINK_UP && m->hello_seen && m->features != 0)
		m->resume = (m->features & m->peer_features & PROTO_FEAT_RESUME) != 0;
}

int
mux_send_hello(struct mux *m, uint32_t features)
{
	struct proto_hello	h;
	struct proto_bounds	ask;
	uint8_t			f[PROTO_HDR_LEN + PROTO_HELLO_BOUNDS_LEN];

	memset(&h, 0, sizeof(h));
	h.version = PROTO_VERSION;
	h.role = m->role;
	h.features = features;
	h.window = m->window;
	/* KiB on the wire; a budget that would not fit asks for the most. */
	ask.budget_kib = m->ask_budget / 1024 >= UINT32_MAX ? UINT32_MAX :
	    (uint32_t)((m->ask_budget + 1023) / 1024);
	ask.max_streams = m->ask_max_streams;
	/* From here on the peer may send the frames of these features. */
	m->features = features;
	mux_latch_resume(m);
	return mux_queue(m, f, proto_put_hello_bounds(f, sizeof(f), &h, &ask));
}

int
mux_send_ping(struct mux *m, uint8_t type, const uint8_t data[8])
{
	uint8_t	f[PROTO_HDR_LEN + 8];

	return mux_queue(m, f, proto_put_ping(f, sizeof(f), type, data));
}

void
mux_send_error(struct mux *m, const char *text)
{
	uint8_t	f[PROTO_HDR_LEN + PROTO_MAX_ERROR_TEXT];

	(void)mux_queue(m, f, proto_put_error(f, sizeof(f), text));
}

int
mux_send_dns(struct mux *m, uint8_t type, uint32_t id, const void *payload, size_t len)
{
	struct proto_frame	 f;
	uint8_t			*p;
	size_t			 need = PROTO_HDR_LEN + len;
	int			 n;

	/* The peer would end the session for a frame of a feature that
	 * either HELLO left out. */
	if (!mux_feature(m, PROTO_FEAT_DNS))
		return -1;
	if (len > PROTO_MAX_PAYLOAD || buf_len(&m->link_out) + need > MUX_DNS_LINK_MAX ||
	    (p = buf_reserve(&m->link_out, need)) == NULL)
		return -1;
	n = proto_put_dns(p, need, type, id, payload, len);
	/* Only what the peer's parser accepts goes out: a bad frame would
	 * fail a query there, or end the session (DNS_CONFIG). */
	if (n != (int)need || proto_parse(p, need, &f) != n || f.bad != 0 ||
	    f.stream != id)
		return -1;
	buf_commit(&m->link_out, need);
	m->stats.frames_out++;
	return 0;
}

int
mux_send_udp(struct mux *m, uint32_t id, const struct addr *peer, const void *dgram,
    size_t len)
{
	uint8_t	*p;
	size_t	 hdr, need;

	if (!mux_feature(m, PROTO_FEAT_UDP) ||
	    (peer->family != ADDR_V4 && peer->family != ADDR_V6))
		return -1;
	hdr = proto_udp_hdr_size(peer->family);
	need = hdr + len;
	if (need > PROTO_MAX_FRAME || buf_len(&m->link_out) + need > MUX_UDP_LINK_MAX ||
	    (p = buf_reserve(&m->link_out, need)) == NULL)
		return -1;
	/* The encoder refuses what the peer's parser would (id 0, port 0). */
	if (proto_put_udp_hdr(p, need, id, peer, len) != (int)hdr)
		return -1;
	if (len > 0)
		memcpy(p + hdr, dgram, len);
	buf_commit(&m->link_out, need);
	m->stats.frames_out++;
	return 0;
}

/* UDP_CLOSE and UDP_DROP: small frames, bounded as DNS frames are. */
static int
mux_send_udp_small(struct mux *m, const uint8_t *f, int n)
{
	if (!mux_feature(m, PROTO_FEAT_UDP) || n < 0 ||
	    buf_len(&m->link_out) + (size_t)n > MUX_DNS_LINK_MAX ||
	    buf_append(&m->link_out, f, (size_t)n) != 0)
		return -1;
	m->stats.frames_out++;
	return 0;
}

int
mux_send_udp_close(struct mux *m, uint32_t id, uint8_t reason)
{
	uint8_t	f[PROTO_HDR_LEN + 1];

	return mux_send_udp_small(m, f, proto_put_udp_close(f, sizeof(f), id, reason));
}

int
mux_send_udp_drop(struct mux *m, uint32_t id, const struct addr *peer, uint8_t reason)
{
	uint8_t	f[PROTO_HDR_LEN + PROTO_UDP_ADDR6_LEN + 1];

	if (m->role != PROTO_ROLE_STUB)
		return -1;
	return mux_send_udp_small(m, f, proto_put_udp_drop(f, sizeof(f), id, peer, reason));
}

int
mux_send_dns_config(struct mux *m, const struct addr *s, size_t n)
{
	uint8_t	f[PROTO_HDR_LEN + PROTO_DNS_MAX_SERVERS * PROTO_DNS_SERVER_LEN];
	int	len;

	if ((len = proto_put_dns_config(f, sizeof(f), s, n)) < 0)
		return -1;
	return mux_send_dns(m, PROTO_DNS_CONFIG, 0, f + PROTO_HDR_LEN,
	    (size_t)len - PROTO_HDR_LEN);
}

/* A feature of the streams themselves: a resumed session keeps what its
 * first HELLOs agreed, also before the new link's HELLO. */
static bool
mux_agreed(const struct mux *m, uint32_t feat)
{
	if (m->link != MUX_LINK_UP && m->resume)
		return (m->features & m->peer_features & feat) != 0;
	return mux_feature(m, feat);
}

bool
mux_long_forms(const struct mux *m)
{
	return mux_agreed(m, PROTO_FEAT_CREDIT);
}

bool
mux_grows(const struct mux *m)
{
	return mux_agreed(m, PROTO_FEAT_GROW);
}

int
mux_send_result(struct mux *m, uint32_t id, uint8_t status, uint32_t credit)
{
	uint8_t	f[PROTO_HDR_LEN + PROTO_RESULT_LEN + PROTO_CREDIT_FIELD_LEN];

	/* An older client knows neither the long form nor BUSY. */
	if (!mux_long_forms(m))
		return mux_queue(m, f, proto_put_open_result(f, sizeof(f), id,
		    status == PROTO_ST_BUSY ? PROTO_ST_FAILED : status));
	return mux_queue(m, f, proto_put_open_result_credit(f, sizeof(f), id, status,
	    credit));
}

int
mux_send_routes(struct mux *m, const struct addr *net, const uint8_t *prefix, size_t n)
{
	uint8_t	*p;
	size_t	 need = PROTO_HDR_LEN + n * PROTO_ROUTE_LEN;
	int	 len;

	if (!mux_feature(m, PROTO_FEAT_ROUTES) || n > PROTO_ROUTES_MAX ||
	    (p = buf_reserve(&m->link_out, need)) == NULL)
		return -1;
	if ((len = proto_put_routes(p, need, net, prefix, n)) != (int)need)
		return -1;
	buf_commit(&m->link_out, need);
	m->stats.frames_out++;
	return 0;
}

int
mux_send_hosts(struct mux *m, const struct proto_host *h, size_t n)
{
	uint8_t	*p;
	size_t	 i, need = PROTO_HDR_LEN;
	int	 len;

	if (!mux_feature(m, PROTO_FEAT_HOSTS) || n > PROTO_HOSTS_MAX)
		return -1;
	for (i = 0; i < n; i++)
		need += proto_host_size(strlen(h[i].name));
	if (need > PROTO_MAX_FRAME || (p = buf_reserve(&m->link_out, need)) == NULL)
		return -1;
	if ((len = proto_put_hosts(p, need, h, n)) != (int)need)
		return -1;
	buf_commit(&m->link_out, need);
	m->stats.frames_out++;
	return 0;
}

int
mux_send_hosts_seed(struct mux *m, const struct proto_seed *s, size_t n)
{
	uint8_t	f[PROTO_HDR_LEN + PROTO_SEEDS_MAX_LEN];

	if (!mux_feature(m, PROTO_FEAT_HOSTS) || n > PROTO_SEEDS_MAX)
		return -1;
	return mux_queue(m, f, proto_put_hosts_seed(f, sizeof(f), s, n));
}

int
mux_send_simple(struct mux *m, uint8_t type, uint32_t id, uint32_t arg)
{
	uint8_t	f[PROTO_HDR_LEN + 4];
	int	n;

	switch (type) {
	case PROTO_OPEN_RESULT:
		n = proto_put_open_result(f, sizeof(f), id, (uint8_t)arg);
		break;
	case PROTO_CREDIT:
		n = proto_put_credit(f, sizeof(f), id, arg);
		break;
	case PROTO_EOF:
		n = proto_put_eof(f, sizeof(f), id);
		break;
	case PROTO_CLOSE:
		n = proto_put_close(f, sizeof(f), id, (uint8_t)arg);
		break;
	case PROTO_BLOCKED:
		n = proto_put_blocked(f, sizeof(f), id);
		break;
	default:
		n = -1;
		break;
	}
	return mux_queue(m, f, n);
}

/* ---- frames in ---- */

/*
 * A session frame that only the side of role `to` receives, once a
 * session (ROUTES, HOSTS, HOSTS_SEED): true when this one may be taken;
 * false when the session failed.
 */
static bool
mux_once(struct mux *m, const struct proto_frame *f, uint8_t to, bool *seen)
{
	if (m->role != to) {
		mux_fail(m, "protocol error: the %s sent %s",
		    m->role == PROTO_ROLE_CLIENT ? "stub" : "client",
		    proto_type_name(f->type));
		return false;
	}
	if (*seen) {
		mux_fail(m, "protocol error: %s sent twice",
		    proto_type_name(f->type));
		return false;
	}
	*seen = true;
	return true;
}

static void
mux_on_session_frame(struct mux *m, const struct proto_frame *f)
{
	char	 text[PROTO_MAX_ERROR_TEXT + 1];
	size_t	 i;

	switch (f->type) {
	case PROTO_HELLO:
		if (m->hello_seen) {
			mux_fail(m, "protocol error: second HELLO");
			return;
		}
		if (f->u.hello.role == m->role) {
			mux_fail(m, "protocol error: peer claims our own role");
			return;
		}
		if (m->link == MUX_LINK_RESUMING &&
		    !(f->u.hello.features & m->features & PROTO_FEAT_RESUME)) {
			mux_fail(m, "the new link cannot resume the session (no RESUME "
			    "in the %s HELLO)", (m->features & PROTO_FEAT_RESUME) ?
			    "peer's" : "our");
			return;
		}
		if (m->link == MUX_LINK_RESUMING && f->u.hello.window != m->peer_window) {
			mux_fail(m, "protocol error: the window changed on resume");
			return;
		}
		m->hello_seen = true;
		m->peer_window = f->u.hello.window;
		m->peer_features = f->u.hello.features;
		m->peer_ask = f->ask;
		mux_latch_resume(m);
		if (m->ops->hello != NULL)
			m->ops->hello(m, &f->u.hello);
		break;
	case PROTO_ERROR:
		for (i = 0; i < f->len; i++) {
			uint8_t c = f->payload[i];
			text[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		}
		text[f->len] = '\0';
		mux_fail(m, "remote error: %s", text);
		break;
	case PROTO_PING:
		(void)mux_send_ping(m, PROTO_PONG, f->u.ping);
		break;
	case PROTO_PONG:
		if (m->ops->pong != NULL)
			m->ops->pong(m, f->u.ping);
		break;
	case PROTO_ROUTES:
		if (mux_once(m, f, PROTO_ROLE_CLIENT, &m->routes_seen) &&
		    m->ops->routes != NULL)
			m->ops->routes(m, f);
		break;
	case PROTO_HOSTS:
		if (mux_once(m, f, PROTO_ROLE_CLIENT, &m->hosts_seen) &&
		    m->ops->hosts != NULL)
			m->ops->hosts(m, f);
		break;
	case PROTO_HOSTS_SEED:
		if (mux_once(m, f, PROTO_ROLE_STUB, &m->hosts_seed_seen) &&
		    m->ops->hosts_seed != NULL)
			m->ops->hosts_seed(m, f);
		break;
	case PROTO_RESUME:
		for (i = 0; i < f->u.resumes && m->error[0] == '\0'; i++) {
			struct proto_resume	e;

			proto_resume_get(f, i, &e);
			mux_stream_resume_entry(m, &e);
		}
		break;
	case PROTO_RESUME_END:
		mux_stream_resume_end(m, f->u.last_id);
		break;
	case PROTO_RESUME_SETUP:
	case PROTO_ATTACH:
	case PROTO_BYE:
	case PROTO_RESUME_TOKEN:
	case PROTO_ATTACHED:
		if ((m->role == PROTO_ROLE_STUB) != (f->type == PROTO_RESUME_SETUP ||
		    f->type == PROTO_ATTACH || f->type == PROTO_BYE)) {
			mux_fail(m, "protocol error: the %s sent %s",
			    m->role == PROTO_ROLE_CLIENT ? "client" : "stub",
			    proto_type_name(f->type));
			return;
		}
		if (m->ops->resume != NULL)
			m->ops->resume(m, f);
		if (f->type == PROTO_ATTACHED && f->u.attached == PROTO_ATTACH_JOINED)
			m->handed_over = true;
		break;
	}
}

/* DNS frames: their ids are queries, not streams; see mux_ops.dns. */
static void
mux_on_dns(struct mux *m, const struct proto_frame *f)
{
	bool	to_stub = f->type == PROTO_DNS_CONFIG || f->type == PROTO_DNS_QUERY;

	if (m->ops->dns == NULL) {
		mux_fail(m, "protocol error: unexpected %s (DNS is not enabled here)",
		    proto_type_name(f->type));
		return;
	}
	if (to_stub != (m->role == PROTO_ROLE_STUB)) {
		mux_fail(m, "protocol error: the %s sent %s",
		    m->role == PROTO_ROLE_STUB ? "client" : "stub", proto_type_name(f->type));
		return;
	}
	switch (f->type) {
	case PROTO_DNS_CONFIG:
		/* The server list must not change under queries in flight. */
		if (m->dns_config_seen || m->dns_query_seen) {
			mux_fail(m, "protocol error: DNS_CONFIG %s",
			    m->dns_config_seen ? "sent twice" : "after DNS_QUERY");
			return;
		}
		m->dns_config_seen = true;
		break;
	case PROTO_DNS_QUERY:
		m->dns_query_seen = true;
		break;
	}
	if (f->bad == PROTO_E_STREAM) {
		/* Nothing can be answered without an id: drop it. */
		log_debug("%s without a query id dropped", proto_type_name(f->type));
		return;
	}
	m->ops->dns(m, f, m->dns_arg);
}

/* UDP frames: their ids are flows, not streams; see mux_ops.udp. */
static void
mux_on_udp(struct mux *m, const struct proto_frame *f)
{
	if (m->ops->udp == NULL) {
		mux_fail(m, "protocol error: unexpected %s (UDP is not enabled here)",
		    proto_type_name(f->type));
		return;
	}
	if (f->type == PROTO_UDP_DROP && m->role == PROTO_ROLE_STUB) {
		mux_fail(m, "protocol error: the client sent UDP_DROP");
		return;
	}
	if (f->bad == PROTO_E_STREAM) {
		log_debug("%s without a flow id dropped", proto_type_name(f->type));
		return;
	}
	m->ops->udp(m, f);
}

/*
 * A frame of a feature (types 0x20-0x3f) needs that feature in both
 * HELLOs: the receiver announced what it accepts, the sender what it may
 * send.  False (the session failing) when either is missing.
 */
static bool
mux_feature_ok(struct mux *m, const struct proto_frame *f)
{
	uint32_t	feat = proto_type_feature(f->type);

	if ((m->features & m->peer_features & feat) == feat)
		return true;
	mux_fail(m, "protocol error: %s without the %s feature in %s HELLO",
	    proto_type_name(f->type), proto_feature_name(feat),
	    (m->features & feat) ? "the peer's" : "our");
	return false;
}

static void
mux_dispatch(struct mux *m, const struct proto_frame *f)
{
	struct mux_stream	*st;

	m->stats.frames_in++;
	if (!m->hello_seen && f->type != PROTO_HELLO && f->type != PROTO_ERROR) {
		mux_fail(m, "protocol error: %s before HELLO", proto_type_name(f->type));
		return;
	}
	if (!mux_feature_ok(m, f))
		return;
	/* A new link starts with HELLO, RESUME entries and RESUME_END; those
	 * come on no other. */
	if ((f->type == PROTO_RESUME || f->type == PROTO_RESUME_END) !=
	    (m->link == MUX_LINK_RESUMING) && f->type != PROTO_ERROR &&
	    f->type != PROTO_HELLO) {
		mux_fail(m, "protocol error: %s %s", proto_type_name(f->type),
		    m->link == MUX_LINK_RESUMING ? "before RESUME_END on a resumed link" :
		    "outside a resume");
		return;
	}
	if (f->type >= PROTO_DNS_CONFIG && f->type <= PROTO_DNS_FAIL) {
		mux_on_dns(m, f);
		return;
	}
	if (f->type >= PROTO_UDP_DATA && f->type <= PROTO_UDP_DROP) {
		mux_on_udp(m, f);
		return;
	}
	if (f->stream == 0) {
		mux_on_session_frame(m, f);
		return;
	}
	if (f->type == PROTO_OPEN) {
		if (m->role != PROTO_ROLE_STUB)
			mux_fail(m, "protocol error: the stub sent OPEN");
		else if (f->stream != m->last_id + 1)
			mux_fail(m, "protocol error: OPEN for stream %u after %u (ids "
			    "increase by one)", f->stream, m->last_id);
		else {
			m->last_id = f->stream;
			mux_stream_accept(m, f);
		}
		return;
	}
	if ((st = mux_stream_lookup(m, f->stream)) == NULL) {
		/* Frames for a stream that one side already closed are
		 * expected (they crossed on the wire); never-opened ids
		 * mean the peer is confused. */
		if (f->stream > m->last_id)
			mux_fail(m, "protocol error: %s for stream %u that was never opened",
			    proto_type_name(f->type), f->stream);
		return;
	}
	mux_stream_frame(st, f);
}

uint8_t *
mux_in_space(struct mux *m, size_t *len)
{
	*len = MUX_IN_MAX - m->in_len;
	return m->in + m->in_len;
}

int
mux_in_commit(struct mux *m, size_t n)
{
	struct proto_frame	f;
	size_t			off = 0;
	int			r;

	m->in_len += n;
	m->in_more = false;
	while (m->error[0] == '\0' && !m->handed_over &&
	    (r = proto_parse(m->in + off, m->in_len - off, &f)) != 0) {
		if (r < 0) {
			mux_fail(m, "protocol error from the peer: %s (frame type 0x%02x)",
			    proto_strerror(r), m->in[off]);
			break;
		}
		/* Past the pass's OPENs: the rest waits (mux_collect). */
		if (f.type == PROTO_OPEN && m->opens_pass >= MUX_OPEN_PASS &&
		    !m->in_drain) {
			m->in_more = true;
			m->loop->nowait = 1;
			break;
		}
		if (f.type == PROTO_OPEN)
			m->opens_pass++;
		mux_dispatch(m, &f);
		off += (size_t)r;
	}
	if (off > 0) {
		memmove(m->in, m->in + off, m->in_len - off);
		m->in_len -= off;
	}
	return m->error[0] == '\0' ? 0 : -1;
}

int
mux_in_drain(struct mux *m)
{
	int	r;

	m->in_drain = true;
	r = mux_in_commit(m, 0);
	m->in_drain = false;
	return r;
}

const uint8_t *
mux_in_rest(const struct mux *m, size_t *len)
{
	*len = m->in_len;
	return m->in;
}

bool
mux_handed_over(const struct mux *m)
{
	return m->handed_over;
}

bool
mux_in_ready(const struct mux *m)
{
	/* Each input byte produces at most about one byte of replies
	 * (PONG for PING), so a whole input buffer must still fit. */
	return !m->handed_over && buf_len(&m->link_out) + MUX_IN_MAX < MUX_LINK_MAX &&
	    m->in_len < MUX_IN_MAX;
}

/* ---- link output ---- */

const uint8_t *
mux_link_data(const struct mux *m, size_t *len)
{
	*len = buf_len(&m->link_out);
	return buf_ptr(&m->link_out);
}

size_t
mux_link_len(const struct mux *m)
{
	return buf_len(&m->link_out);
}

void
mux_link_consume(struct mux *m, size_t n)
{
	size_t	take;

	/* Frame by frame, so that out_head_rest knows where the next one
	 * starts: a few headers per call, frames being up to 32 KiB. */
	while (n > 0 && buf_len(&m->link_out) > 0) {
		if (m->out_head_rest == 0)
			m->out_head_rest = PROTO_HDR_LEN +
			    buf_get_u16(buf_ptr(&m->link_out) + 2);
		take = n < m->out_head_rest ? n : m->out_head_rest;
		buf_consume(&m->link_out, take);
		m->out_head_rest -= take;
		n -= take;
	}
	/* Half the soft limit: a stream woken now has room for a burst
	 * of frames rather than one before it waits again. */
	if (buf_len(&m->link_out) < MUX_LINK_SOFT / 2)
		mux_stream_wake(m);
}

/* ---- resume ---- */

bool
mux_resumable(const struct mux *m)
{
	return m->resume;
}

int
mux_send_resume_setup(struct mux *m, uint32_t grace_s)
{
	uint8_t	f[PROTO_HDR_LEN + PROTO_RESUME_SETUP_LEN];

	if (!mux_feature(m, PROTO_FEAT_RESUME) || m->role != PROTO_ROLE_CLIENT)
		return -1;
	return mux_queue(m, f, proto_put_resume_setup(f, sizeof(f), grace_s));
}

int
mux_send_token(struct mux *m, uint8_t type, const uint8_t *secret, const char *path)
{
	uint8_t	f[PROTO_HDR_LEN + PROTO_SECRET_LEN + PROTO_TOKEN_PATH_MAX];

	if (!mux_feature(m, PROTO_FEAT_RESUME) ||
	    (type == PROTO_ATTACH) != (m->role == PROTO_ROLE_CLIENT))
		return -1;
	return mux_queue(m, f, proto_put_token(f, sizeof(f), type, secret, path));
}

int
mux_send_attached(struct mux *m, uint8_t status)
{
	uint8_t	f[PROTO_HDR_LEN + 1];

	if (!mux_feature(m, PROTO_FEAT_RESUME) || m->role != PROTO_ROLE_STUB)
		return -1;
	return mux_queue(m, f, proto_put_attached(f, sizeof(f), status));
}

int
mux_send_bye(struct mux *m)
{
	uint8_t	f[PROTO_HDR_LEN];

	if (!mux_feature(m, PROTO_FEAT_RESUME) || m->role != PROTO_ROLE_CLIENT)
		return -1;
	buf_truncate(&m->link_out, m->out_head_rest);
	m->ending = true;
	return mux_queue(m, f, proto_put_bye(f, sizeof(f)));
}

bool
mux_resuming(const struct mux *m)
{
	return m->link != MUX_LINK_UP;
}

void
mux_detach(struct mux *m)
{
	if (m->link == MUX_LINK_DOWN)
		return;
	m->link = MUX_LINK_DOWN;
	/* Half-sent frames and half-read ones belong to the lost link. */
	buf_consume(&m->link_out, buf_len(&m->link_out));
	m->out_head_rest = 0;
	m->in_len = 0;
	m->in_more = false;
	m->hello_seen = false;
	m->routes_seen = m->hosts_seen = m->hosts_seed_seen = false;
	m->dns_config_seen = m->dns_query_seen = false;
	mux_stream_update_all(m);
}

int
mux_attach(struct mux *m, uint32_t features)
{
	if (!m->resume || m->link != MUX_LINK_DOWN || !(features & PROTO_FEAT_RESUME)) {
		mux_fail(m, "internal error: mux_attach without a resumable, detached session");
		return -1;
	}
	if (m->error[0] != '\0')
		return -1;
	m->link = MUX_LINK_RESUMING;
	m->stats.resumes++;
	if (mux_send_hello(m, features) != 0)
		return -1;
	return mux_stream_resume_send(m);
}

/* ---- the session object ---- */

struct mux *
mux_new(struct ev_loop *loop, uint8_t role, uint32_t window, const struct mux_ops *ops,
    void *udata)
{
	struct mux	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->loop = loop;
	m->ops = ops;
	m->udata = udata;
	m->role = role;
	m->window = window;
	m->dns_arg = udata;
	m->peer_window = PROTO_MIN_WINDOW;
	buf_init(&m->link_out, MUX_LINK_MAX);
	m->link_out.keep = 1;
	LIST_INIT(&m->all);
	TAILQ_INIT(&m->link_wait);
	SLIST_INIT(&m->garbage);
	m->hsize = MUX_HASH_INIT;
	/* calloc: every chain starts empty (a NULL head). */
	if ((m->in = malloc(MUX_IN_MAX)) == NULL ||
	    (m->hash = calloc(m->hsize, sizeof(*m->hash))) == NULL) {
		free(m->in);
		free(m);
		return NULL;
	}
	return m;
}

void
mux_free(struct mux *m)
{
	if (m == NULL)
		return;
	mux_stream_free_all(m);
	free(m->hash);
	free(m->in);
	buf_free(&m->link_out);
	free(m);
}

void *
mux_udata(const struct mux *m)
{
	return m->udata;
}

void
mux_set_bounds(struct mux *m, size_t budget, uint32_t max_streams)
{
	m->budget = budget;
	m->max_streams = max_streams;
}

void
mux_ask_bounds(struct mux *m, size_t budget, uint32_t max_streams)
{
	m->ask_budget = budget;
	m->ask_max_streams = max_streams;
}

size_t
mux_budget_default(size_t cap, unsigned ram_div)
{
	long	pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	size_t	part;

	if (pages <= 0 || psize <= 0 || ram_div == 0)
		return cap;
	part = (size_t)pages / ram_div * (size_t)psize;
	return part < cap ? part : cap;
}

uint32_t
mux_max_streams_fds(void)
{
	struct rlimit	rl;
	uint64_t	n;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return UINT32_MAX;
	n = rl.rlim_cur > MUX_FD_RESERVE ? rl.rlim_cur - MUX_FD_RESERVE : 1;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

uint32_t
mux_max_streams_default(size_t budget)
{
	uint32_t	n = mux_max_streams_fds();
	size_t		b = budget / MUX_CREDIT_FLOOR;

	if (budget != 0 && b < n)
		n = b > 0 ? (uint32_t)b : 1;
	return n;
}

size_t
mux_peer_ask(const struct mux *m, uint32_t *max_streams)
{
	*max_streams = m->peer_ask.max_streams;
	return (size_t)m->peer_ask.budget_kib * 1024;
}

void
mux_set_dns_arg(struct mux *m, void *arg)
{
	m->dns_arg = arg;
}

const char *
mux_error(const struct mux *m)
{
	return m->error;
}

void
mux_stats(const struct mux *m, struct mux_stats *st)
{
	*st = m->stats;
}

void
mux_stats_restart(struct mux *m)
{
	m->stats.frames_in = m->stats.frames_out = 0;
	m->stats.streams_opened = m->stats.streams_failed = 0;
	m->stats.streams_refused = 0;
	m->stats.bytes_in = m->stats.bytes_out = 0;
	m->stats.blocked_sent = m->stats.blocked_seen = 0;
}

bool
mux_hello_seen(const struct mux *m)
{
	return m->hello_seen;
}

bool
mux_feature(const struct mux *m, uint32_t feat)
{
	return m->hello_seen && (m->features & m->peer_features & feat) == feat;
}
