/* SPDX-License-Identifier: ISC */
/*
 * dns_query.c - captured DNS queries in flight (see dns_local_int.h).
 *
 * A query lives in a hash by id and on one queue in arrival order; every
 * query gets the same timeout, so that queue is also sorted by deadline
 * and the timer only looks at its head.  The id, not the DNS ID, names a
 * query to the tunnel: two programs may well use the same DNS ID at once.
 * Whatever happens to a query, its asker gets an answer: the real one, or
 * a SERVFAIL made from the query, so that its resolver does not wait for
 * a timeout of its own.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dns_local_int.h"

void
dns_query_init(struct dns_local *d)
{
	size_t	i;

	for (i = 0; i < DNS_QUERY_HASH; i++)
		LIST_INIT(&d->hash[i]);
	TAILQ_INIT(&d->queries);
	d->next_id = 1;
}

struct dns_query *
dns_query_find(struct dns_local *d, uint32_t id)
{
	struct dns_query	*q;

	LIST_FOREACH(q, &d->hash[id % DNS_QUERY_HASH], hlink)
		if (q->id == id)
			return q;
	return NULL;
}

void
dns_query_free(struct dns_local *d, struct dns_query *q)
{
	LIST_REMOVE(q, hlink);
	TAILQ_REMOVE(&d->queries, q, olink);
	if (q->conn != NULL)
		dns_listen_conn_detach(q->conn, q);
	d->nqueries--;
	free(q);
}

/* Send the asker its answer: framed on its TCP connection, or over UDP
 * (shortened when it is more than the asker takes). */
static void
dns_query_deliver(struct dns_local *d, const struct dns_query *q, const uint8_t *a,
    size_t len)
{
	uint8_t	tbuf[DNS_LOCAL_QMAX];
	int	n;

	if (q->conn != NULL) {
		dns_listen_conn_send(q->conn, a, len);
		return;
	}
	if (len > q->qi.udp_size) {
		/* The asker retries over TCP, which is captured too. */
		if ((n = dns_msg_truncate(q->q, &q->qi, a, len, tbuf, sizeof(tbuf))) < 0)
			return;
		a = tbuf;
		len = (size_t)n;
		d->st.truncated++;
	}
	dns_listen_udp_send(d, q, a, len);
}

void
dns_query_servfail(struct dns_local *d, struct dns_query *q)
{
	struct dns_listen_conn	*c = q->conn;
	uint8_t			 out[DNS_LOCAL_QMAX];
	int			 n;

	d->st.servfail++;
	n = dns_msg_reply(q->q, &q->qi, DNS_MSG_RCODE_SERVFAIL, out, sizeof(out));
	if (n > 0)
		dns_query_deliver(d, q, out, (size_t)n);
	dns_query_free(d, q);
	if (c != NULL)
		dns_listen_conn_done(c);
}

void
dns_query_complete(struct dns_local *d, struct dns_query *q, const uint8_t *a,
    size_t len)
{
	struct dns_listen_conn	*c = q->conn;
	char			 name[DNS_MSG_NAME_TEXT_MAX];
	int			 r;

	if ((r = dns_msg_check_answer(q->q, &q->qi, a, len)) != 0) {
		d->st.bad_answers++;
		dns_local_note(d, DNS_LOCAL_C_BADANSWER, LOG_LVL_WARN, "%s: bad answer "
		    "from the %s server (%s)", dns_msg_name_text(&q->qi, name,
		    sizeof(name)), q->local ? "local" : "remote", dns_msg_strerror(r));
		dns_query_servfail(d, q);
		return;
	}
	d->st.answered++;
	dns_query_deliver(d, q, a, len);
	dns_query_free(d, q);
	if (c != NULL)
		dns_listen_conn_done(c);
}

/* An answer made here, given at once through a query that is never
 * listed (the asker's address, or its TCP connection, and the question). */
static void
dns_query_reply_now(struct dns_local *d, struct dns_local_srv *s,
    struct dns_listen_conn *c, const struct sockaddr_storage *peer,
    socklen_t peerlen, const union dns_local_pktinfo *dst,
    const struct dns_query_info *qi, const uint8_t *msg, const uint8_t *a,
    size_t len)
{
	struct dns_query	 tmp;

	memset(&tmp, 0, sizeof(tmp));
	tmp.srv = s;
	tmp.conn = c;
	if (peer != NULL)
		memcpy(&tmp.peer, peer, peerlen);
	tmp.peerlen = peerlen;
	if (dst != NULL) {
		tmp.dst = *dst;
		tmp.have_dst = true;
	}
	tmp.qi = *qi;
	memcpy(tmp.q, msg, qi->qend);
	dns_query_deliver(d, &tmp, a, len);
	if (c != NULL)
		dns_listen_conn_done(c);
}

/* No room for one more query: SERVFAIL at once. */
static void
dns_query_busy(struct dns_local *d, struct dns_local_srv *s, struct dns_listen_conn *c,
    const struct sockaddr_storage *peer, socklen_t peerlen,
    const union dns_local_pktinfo *dst, const struct dns_query_info *qi,
    const uint8_t *msg)
{
	uint8_t			 out[DNS_LOCAL_QMAX];
	char			 name[DNS_MSG_NAME_TEXT_MAX];
	int			 n;

	d->st.busy++;
	d->st.servfail++;
	dns_local_note(d, DNS_LOCAL_C_BUSY, LOG_LVL_WARN, "%s: %zu queries in flight "
	    "already: SERVFAIL", dns_msg_name_text(qi, name, sizeof(name)),
	    d->nqueries);
	if ((n = dns_msg_reply(msg, qi, DNS_MSG_RCODE_SERVFAIL, out, sizeof(out))) > 0)
		dns_query_reply_now(d, s, c, peer, peerlen, dst, qi, msg, out,
		    (size_t)n);
	else if (c != NULL)
		dns_listen_conn_done(c);
}

/*
 * An A or AAAA query for a name of the hosts table (-H): answered here
 * with the table's addresses.  True when it was.
 */
static bool
dns_query_hosts(struct dns_local *d, struct dns_local_srv *s, struct dns_listen_conn *c,
    const struct sockaddr_storage *peer, socklen_t peerlen,
    const union dns_local_pktinfo *dst, const struct dns_query_info *qi,
    const uint8_t *msg)
{
	uint8_t			 out[DNS_LOCAL_QMAX + DNS_LOCAL_HOST_ADDRS * (12 + 16)];
	uint8_t			 rdata[DNS_LOCAL_HOST_ADDRS * 16];
	uint8_t			 family;
	size_t			 i, n = 0, rdlen;
	bool			 known = false;
	char			 name[DNS_MSG_NAME_TEXT_MAX];
	int			 len;

	if (d->nhosts == 0 || qi->qclass != DNS_MSG_CLASS_IN ||
	    (qi->qtype != DNS_MSG_TYPE_A && qi->qtype != DNS_MSG_TYPE_AAAA))
		return false;
	/* The SSH server's name is always asked here: the remote's view of
	 * it must not steer a reconnect into the tunnel. */
	if (d->p.nbypass > 0 && dns_msg_name_under(qi, d->p.bypass, d->p.nbypass))
		return false;
	family = qi->qtype == DNS_MSG_TYPE_A ? ADDR_V4 : ADDR_V6;
	rdlen = addr_size(family);
	for (i = 0; i < d->nhosts; i++) {
		if (d->hosts[i].len != qi->namelen ||
		    memcmp(d->hosts[i].name, qi->name, qi->namelen) != 0)
			continue;
		known = true;
		if (d->hosts[i].addr.family == family && n < DNS_LOCAL_HOST_ADDRS)
			memcpy(rdata + rdlen * n++, d->hosts[i].addr.bytes, rdlen);
	}
	if (!known)
		return false;
	if ((len = dns_msg_addr_reply(msg, qi, rdata, rdlen, n, DNS_LOCAL_HOST_TTL, out,
	    sizeof(out))) < 0)
		return false;
	d->st.hosts++;
	log_trace("dns: %s type %u answered from the remote's host names (%zu)",
	    dns_msg_name_text(qi, name, sizeof(name)), qi->qtype, n);
	dns_query_reply_now(d, s, c, peer, peerlen, dst, qi, msg, out, (size_t)len);
	return true;
}

void
dns_query_in(struct dns_local *d, struct dns_local_srv *s, struct dns_listen_conn *c,
    const struct sockaddr_storage *peer, socklen_t peerlen,
    const union dns_local_pktinfo *dst, const uint8_t *msg, size_t len)
{
	struct dns_query_info	 qi;
	struct dns_query	*q;
	char			 name[DNS_MSG_NAME_TEXT_MAX];
	int			 r;

	if ((r = dns_msg_parse_query(msg, len, &qi)) != 0) {
		d->st.bad_queries++;
		dns_local_note(d, DNS_LOCAL_C_BADQUERY, LOG_LVL_DEBUG, "query of %zu "
		    "bytes dropped: %s", len, dns_msg_strerror(r));
		return;
	}
	if (dns_query_hosts(d, s, c, peer, peerlen, dst, &qi, msg))
		return;
	if (d->nqueries >= DNS_LOCAL_MAX_PENDING || (q = calloc(1, sizeof(*q))) == NULL) {
		dns_query_busy(d, s, c, peer, peerlen, dst, &qi, msg);
		return;
	}
	/* Ids: nonzero, unique among queries in flight. */
	do {
		q->id = d->next_id++;
	} while (q->id == 0 || dns_query_find(d, q->id) != NULL);
	q->srv = s;
	q->qi = qi;
	memcpy(q->q, msg, qi.qend);
	if (len <= sizeof(q->whole)) {
		memcpy(q->whole, msg, len);
		q->wlen = len;
	}
	q->deadline = clock_ms() + (uint64_t)d->p.timeout_ms;
	if (c != NULL) {
		q->conn = c;
		dns_listen_conn_attach(c, q);
	} else {
		memcpy(&q->peer, peer, peerlen);
		q->peerlen = peerlen;
		if (dst != NULL) {
			q->dst = *dst;
			q->have_dst = true;
		}
	}
	LIST_INSERT_HEAD(&d->hash[q->id % DNS_QUERY_HASH], q, hlink);
	TAILQ_INSERT_TAIL(&d->queries, q, olink);
	d->nqueries++;

	q->local = !dns_msg_name_under(&qi, d->p.domains, d->p.ndomains) ||
	    (d->p.nbypass > 0 && dns_msg_name_under(&qi, d->p.bypass, d->p.nbypass));
	log_trace("dns: query %u %s type %u %s", q->id,
	    dns_msg_name_text(&qi, name, sizeof(name)), qi.qtype,
	    q->local ? "forwarded locally" : "through the tunnel");
	if (q->local) {
		dns_fwd_query(d, q, msg, len);
		return;
	}
	d->st.tunnelled++;
	if (d->send(d->send_arg, q->id, msg, len) != 0) {
		d->st.busy++;
		dns_local_note(d, DNS_LOCAL_C_BUSY, LOG_LVL_WARN, "%s: the tunnel is "
		    "congested: SERVFAIL", dns_msg_name_text(&qi, name, sizeof(name)));
		dns_query_servfail(d, q);
	}
}

void
dns_query_expire(struct dns_local *d, uint64_t now)
{
	struct dns_query	*q;
	char			 name[DNS_MSG_NAME_TEXT_MAX];

	while ((q = TAILQ_FIRST(&d->queries)) != NULL && q->deadline <= now) {
		d->st.timeouts++;
		dns_local_note(d, DNS_LOCAL_C_TIMEOUT, LOG_LVL_WARN, "%s: no answer in "
		    "%d ms: SERVFAIL", dns_msg_name_text(&q->qi, name, sizeof(name)),
		    d->p.timeout_ms);
		dns_query_servfail(d, q);
	}
}

uint64_t
dns_query_next(const struct dns_local *d)
{
	const struct dns_query	*q = TAILQ_FIRST(&d->queries);

	return q != NULL ? q->deadline : 0;
}

void
dns_query_clear(struct dns_local *d)
{
	struct dns_query	*q;

	while ((q = TAILQ_FIRST(&d->queries)) != NULL)
		dns_query_free(d, q);
}

void
dns_query_log_stats(const struct dns_local *d)
{
	const struct dns_local_stats	*st = &d->st;

	if (log_enabled(LOG_LVL_DEBUG) && st->tcp_direct > 0)
		log_debug("dns: %llu TCP connections to the listener itself closed",
		    (unsigned long long)st->tcp_direct);
	if (log_enabled(LOG_LVL_DEBUG) && st->looped > 0)
		log_debug("dns: %llu forwarded queries came back and were sent "
		    "again", (unsigned long long)st->looped);
	if (log_enabled(LOG_LVL_DEBUG) && st->hosts > 0)
		log_debug("dns: %llu queries answered from the remote's host names",
		    (unsigned long long)st->hosts);
	if (!log_enabled(LOG_LVL_DEBUG) || st->queries_udp + st->queries_tcp == 0)
		return;
	log_debug("dns: %llu queries (%llu UDP, %llu TCP): %llu tunnelled, "
	    "%llu forwarded here, %llu answered, %llu truncated for UDP, "
	    "%llu SERVFAIL (%llu timed out, %llu remote failures, %llu local "
	    "failures, %llu busy, %llu bad answers), %llu bad queries dropped, "
	    "%llu late answers",
	    (unsigned long long)(st->queries_udp + st->queries_tcp),
	    (unsigned long long)st->queries_udp,
	    (unsigned long long)st->queries_tcp,
	    (unsigned long long)st->tunnelled,
	    (unsigned long long)st->forwarded,
	    (unsigned long long)st->answered,
	    (unsigned long long)st->truncated,
	    (unsigned long long)st->servfail,
	    (unsigned long long)st->timeouts,
	    (unsigned long long)st->remote_fail,
	    (unsigned long long)st->local_fail,
	    (unsigned long long)st->busy,
	    (unsigned long long)st->bad_answers,
	    (unsigned long long)st->bad_queries,
	    (unsigned long long)st->late);
}
