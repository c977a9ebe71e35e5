/* SPDX-License-Identifier: ISC */
/*
 * tunnel_control.c - what `cshuttle status` sees of the loop: the
 * callbacks control.h asks for, reading the tunnel's state and its
 * cumulative counters (tunnel_stats()).  The control module adds the
 * name, the process and the rates.
 */
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "subnet.h"
#include "tunnel_int.h"

/* The subnets of the rules in place, includes and excludes in order. */
static void
tunnel_control_subnets(const struct tunnel *t, struct control_status *st)
{
	const struct subnet_list	*l;
	size_t				 i;

	if (t->p->fwcfg == NULL || (l = t->p->fwcfg->subnets) == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		if (st->nsubnets == CONTROL_MAX_SUBNETS) {
			st->subnets_omitted = l->n - i;
			return;
		}
		st->subnets[st->nsubnets].exclude = l->v[i].exclude;
		subnet_format(&l->v[i], st->subnets[st->nsubnets].text,
		    sizeof(st->subnets[st->nsubnets].text));
		st->nsubnets++;
	}
}

void
tunnel_control_fill(void *arg, struct control_status *st)
{
	struct tunnel		*t = arg;
	struct tunnel_stats	 ts;
	uint64_t		 now = ev_now();

	snprintf(st->remote, sizeof(st->remote), "%s",
	    t->p->remote != NULL ? t->p->remote : "");
	snprintf(st->transport, sizeof(st->transport), "%s",
	    t->transport_name != NULL ? t->transport_name : "");
	if (t->s != NULL && t->s->ready && !t->s->lost) {
		st->state = CONTROL_STATE_CONNECTED;
		st->has_session = true;
		st->session_s = (now - t->s->up_at) / 1000;
	} else
		st->state = t->ever_up ? CONTROL_STATE_RECONNECTING : CONTROL_STATE_CONNECTING;
	if (st->state == CONTROL_STATE_RECONNECTING) {
		st->attempt = t->tries;
		snprintf(st->last_error, sizeof(st->last_error), "%s", t->attempt_err);
	}
	snprintf(st->last_reason, sizeof(st->last_reason), "%s", t->lost_reason);
	tunnel_control_subnets(t, st);
	tunnel_stats(t, &ts);
	st->reconnects = ts.reconnects;
	st->streams = ts.streams;
	st->streams_waiting = ts.waiting;
	st->streams_total = ts.streams_opened;
	st->streams_failed = ts.streams_failed;
	st->bytes_in = ts.bytes_in;
	st->bytes_out = ts.bytes_out;
	st->has_dns = t->dns != NULL || ts.dns_queries > 0;
	st->dns_queries = ts.dns_queries;
	st->dns_failures = ts.dns_failures;
	if (t->udp != NULL) {
		struct udp_stats	us;

		udp_stats(t->udp, &us);
		st->has_udp = true;
		st->udp_flows = us.flows;
		st->udp_flows_total = us.flows_total;
		st->udp_dgrams_out = us.dgrams_out;
		st->udp_dgrams_in = us.dgrams_in;
		st->udp_dropped_local = us.dropped_local;
		st->udp_dropped_remote = us.dropped_remote;
	}
}

void
tunnel_control_bytes(void *arg, uint64_t *in, uint64_t *out)
{
	struct tunnel		*t = arg;
	struct tunnel_stats	 ts;

	tunnel_stats(t, &ts);
	*in = ts.bytes_in;
	*out = ts.bytes_out;
}
