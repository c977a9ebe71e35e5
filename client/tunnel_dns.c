/* SPDX-License-Identifier: ISC */
/*
 * tunnel_dns.c - captured DNS queries carried by the session.
 *
 * dns_local hands each query to tunnel_dns_send(), which sends it through
 * the working session or refuses it (SERVFAIL at once).  The queries in
 * flight are remembered: when the session is lost they are held, and
 * asked again through the next session as soon as it is up (the stub that
 * had them may be gone, or may have lost the answer with the link); those
 * the next session does not come in time for meet dns_local's own
 * timeout.  An answer that comes twice (the old stub's, resumed, and the
 * new question's) finds the query gone the second time, and is dropped.
 */
#include "log.h"
#include "tunnel_int.h"

static void
tunnel_dns_track(struct tunnel *t, uint32_t id)
{
	/* Full: that query just waits for dns_local's own timeout. */
	if (t->ndns_ids < TUNNEL_DNS_TRACK)
		t->dns_ids[t->ndns_ids++] = id;
}

static void
tunnel_dns_untrack(struct tunnel *t, uint32_t id)
{
	size_t	i;

	for (i = 0; i < t->ndns_ids; i++) {
		if (t->dns_ids[i] == id) {
			t->dns_ids[i] = t->dns_ids[--t->ndns_ids];
			return;
		}
	}
}

/*
 * A new session is up: ask the queries that were in flight when the last
 * one was lost again through it.  They are still the tracked ones (no
 * query is sent between sessions); each one sent again is tracked anew
 * in place, at an index never past the one being read.
 */
void
tunnel_dns_retry(struct tunnel *t)
{
	size_t	i, n = t->ndns_ids, sent = 0;

	t->ndns_ids = 0;
	if (t->dns == NULL)
		return;
	for (i = 0; i < n; i++)
		if (dns_local_resend(t->dns, t->dns_ids[i]) == 0)
			sent++;
	if (sent > 0)
		log_debug("dns: %zu quer%s in flight at the loss asked again", sent,
		    sent == 1 ? "y" : "ies");
}

/* dns_local's way into the tunnel: refused (SERVFAIL at once) without a
 * working session. */
int
tunnel_dns_send(void *arg, uint32_t id, const uint8_t *q, size_t len)
{
	struct tunnel	*t = arg;

	if (t->s == NULL || !t->s->ready || t->s->lost)
		return -1;
	if (mux_send_dns(t->s->mux, PROTO_DNS_QUERY, id, q, len) != 0)
		return -1;
	tunnel_dns_track(t, id);
	return 0;
}

/* DNS_ANSWER / DNS_FAIL from the stub, checked by the mux. */
void
tunnel_dns_reply(struct mux *m, const struct proto_frame *f, void *arg)
{
	struct tunnel	*t = mux_udata(m);

	if (t->dns == NULL) {
		/* We never asked (or no longer capture): nothing to answer. */
		log_debug("unexpected %s %u dropped", proto_type_name(f->type), f->stream);
		return;
	}
	tunnel_dns_untrack(t, f->stream);
	if (f->type == PROTO_DNS_ANSWER)
		/* A bad one (empty) fails the check there: SERVFAIL. */
		dns_local_answer(t->dns, f->stream, f->payload, f->bad ? 0 : f->len);
	else if (f->type == PROTO_DNS_FAIL)
		dns_local_fail(t->dns, f->stream, f->bad ? 0 : f->u.dns_fail);
}
