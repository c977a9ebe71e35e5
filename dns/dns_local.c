/* SPDX-License-Identifier: ISC */
/*
 * dns_local.c - captured DNS, the public face (see dns_local.h): setting
 * up and tearing down, the timer, and the tunnel's answers.  The work is
 * done in dns_listen.c, dns_query.c and dns_fwd.c (see dns_local_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dns_local_int.h"

static const char *
dns_local_reason(uint8_t reason)
{
	switch (reason) {
	case DNS_LOCAL_FAIL_TIMEOUT:
		return "no DNS server answered in time";
	case DNS_LOCAL_FAIL_UNREACHABLE:
		return "the DNS servers are unreachable";
	case DNS_LOCAL_FAIL_NOSERVERS:
		return "no DNS servers";
	case DNS_LOCAL_FAIL_TOOBIG:
		return "answer too big";
	case DNS_LOCAL_FAIL_BADQUERY:
		return "bad query";
	case DNS_LOCAL_FAIL_BUSY:
		return "too many queries";
	default:
		return "unknown failure";
	}
}

struct dns_local *
dns_local_open(const struct dns_local_params *p, char *err, size_t errlen)
{
	struct dns_local	*d;
	struct dns_local_srv	*s;
	uint16_t		 port;
	size_t			 i;
	char			 a[ADDR_STRLEN];
	int			 r;

	if (p->nservers == 0 || p->nservers > DNS_LOCAL_MAX_SERVERS) {
		snprintf(err, errlen, "DNS: invalid set-up");
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->p = *p;
	if (d->p.timeout_ms <= 0)
		d->p.timeout_ms = DNS_LOCAL_TIMEOUT_MS;
	if (d->p.tcp_idle_ms <= 0)
		d->p.tcp_idle_ms = DNS_LOCAL_TCP_IDLE_MS;
	dns_query_init(d);
	TAILQ_INIT(&d->conns);
	SLIST_INIT(&d->dead_conns);
	SLIST_INIT(&d->dead_socks);
	port = p->first_port != 0 ? p->first_port : 12353;
	for (i = 0; i < p->nservers; i++) {
		/* A server left out leaves its slot to the next one. */
		s = &d->srv[d->nsrv];
		memset(s, 0, sizeof(*s));
		s->d = d;
		s->ns = p->servers[i];
		s->ufd = s->tfd = -1;
		s->uio.fd = s->tio.fd = -1;
		addr_format(&s->ns, true, a, sizeof(a));
		if ((s->ns.family == ADDR_V6 && !p->want6) ||
		    (s->ns.family == ADDR_V4 && !p->want4)) {
			log_warn("DNS to %s is not captured: IPv%u is not redirected", a,
			    s->ns.family);
			continue;
		}
		r = dns_listen_open(s, s->ns.family == ADDR_V4 ? p->bind4 : p->bind6,
		    &port, err, errlen);
		if (r < 0) {
			dns_local_close(d);
			return NULL;
		}
		if (r > 0) {
			log_warn("DNS to %s is not captured: this host has no IPv6 "
			    "loopback", a);
			continue;
		}
		log_debug("dns: %s answered on local port %u", a, s->port);
		d->nsrv++;
	}
	if (d->nsrv == 0) {
		snprintf(err, errlen, "no DNS server can be captured");
		dns_local_close(d);
		return NULL;
	}
	return d;
}

size_t
dns_local_count(const struct dns_local *d)
{
	return d->nsrv;
}

const struct addr *
dns_local_server(const struct dns_local *d, size_t i, uint16_t *port)
{
	if (i >= d->nsrv)
		return NULL;
	*port = d->srv[i].port;
	return &d->srv[i].ns;
}

int
dns_local_server_fds(const struct dns_local *d, size_t i, int *ufd, int *tfd)
{
	if (i >= d->nsrv)
		return -1;
	*ufd = d->srv[i].ufd;
	*tfd = d->srv[i].tfd;
	return 0;
}

const struct dns_local_stats *
dns_local_stats(const struct dns_local *d)
{
	return &d->st;
}

void
dns_local_answer(struct dns_local *d, uint32_t id, const uint8_t *a, size_t len)
{
	struct dns_query	*q;

	if (d == NULL || d->closing)
		return;
	if ((q = dns_query_find(d, id)) == NULL || q->local) {
		d->st.late++;
		return;
	}
	dns_query_complete(d, q, a, len);
}

void
dns_local_fail(struct dns_local *d, uint32_t id, uint8_t reason)
{
	struct dns_query	*q;
	char			 name[DNS_MSG_NAME_TEXT_MAX];

	if (d == NULL || d->closing)
		return;
	if ((q = dns_query_find(d, id)) == NULL || q->local) {
		d->st.late++;
		return;
	}
	d->st.remote_fail++;
	dns_local_note(d, DNS_LOCAL_C_REMOTE, LOG_LVL_WARN, "%s: the remote host "
	    "could not resolve it: %s", dns_msg_name_text(&q->qi, name, sizeof(name)),
	    dns_local_reason(reason));
	dns_query_servfail(d, q);
}

int
dns_local_resend(struct dns_local *d, uint32_t id)
{
	struct dns_query	*q;
	char			 name[DNS_MSG_NAME_TEXT_MAX];

	if (d == NULL || d->closing || (q = dns_query_find(d, id)) == NULL || q->local)
		return -1;
	if (q->wlen == 0 || d->send(d->send_arg, q->id, q->whole, q->wlen) != 0) {
		d->st.remote_fail++;
		dns_local_note(d, DNS_LOCAL_C_REMOTE, LOG_LVL_WARN, "%s: the session "
		    "that carried it was lost: SERVFAIL",
		    dns_msg_name_text(&q->qi, name, sizeof(name)));
		dns_query_servfail(d, q);
		return -1;
	}
	d->st.resent++;
	return 0;
}

static void
dns_local_timer_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	struct dns_local	*d = tm->arg;
	uint64_t		 now = clock_ms();

	dns_fwd_expire(d);
	dns_query_expire(d, now);
	dns_listen_expire(d, now);
}

void
dns_local_tick(struct dns_local *d)
{
	uint64_t	now, when, t;

	if (d == NULL || !d->started)
		return;
	dns_listen_gc(d);
	dns_fwd_gc(d);
	now = clock_ms();
	when = dns_query_next(d);
	if ((t = dns_listen_next(d)) != 0 && (when == 0 || t < when))
		when = t;
	if ((t = dns_fwd_next(d, now)) != 0 && (when == 0 || t < when))
		when = t;
	d->timer.when = when;
	if (when != 0)
		(void)ev_timer_add(d->loop, &d->timer);
}

int
dns_local_start(struct dns_local *d, struct ev_loop *loop, dns_local_send_fn *send,
    void *send_arg, char *err, size_t errlen)
{
	d->loop = loop;
	d->send = send;
	d->send_arg = send_arg;
	d->timer.cb = dns_local_timer_cb;
	d->timer.arg = d;
	if ((d->p.ndomains > 0 || d->p.nbypass > 0) && dns_fwd_start(d, err, errlen) != 0)
		return -1;
	if (dns_listen_start(d, err, errlen) != 0)
		return -1;
	if (ev_timer_add(loop, &d->timer) != 0) {
		snprintf(err, errlen, "cannot add the DNS timer");
		return -1;
	}
	d->started = true;
	return 0;
}

void
dns_local_stop(struct dns_local *d)
{
	if (d == NULL || d->loop == NULL)
		return;
	d->closing = true;
	dns_listen_stop(d);
	dns_fwd_stop(d);
	dns_query_clear(d);
	ev_timer_del(d->loop, &d->timer);
	/* Nothing of ours is in the loop any more. */
	dns_listen_gc(d);
	dns_fwd_gc(d);
	d->started = false;
	d->loop = NULL;
}

void
dns_local_close(struct dns_local *d)
{
	size_t	i;

	if (d == NULL)
		return;
	dns_local_stop(d);
	/* Every slot a server was tried in, whether or not it is served. */
	for (i = 0; i < DNS_LOCAL_MAX_SERVERS; i++)
		if (d->srv[i].d != NULL)
			dns_listen_close(&d->srv[i]);
	dns_query_log_stats(d);
	free(d->hosts);
	free(d);
}

/* A host name as text into wire form: its length, or 0 when it is not
 * a name dns_local_set_hosts takes. */
static size_t
dns_local_wire(const char *name, uint8_t *out)
{
	size_t	o = 0, l;
	char	c;

	for (;;) {
		for (l = 0; (c = name[l]) != '\0' && c != '.'; l++)
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_'))
				return 0;
		if (l == 0 || l > 63 || o + 1 + l + 1 > DNS_MSG_NAME_MAX)
			return 0;
		out[o++] = (uint8_t)l;
		memcpy(out + o, name, l);
		o += l;
		if (name[l] == '\0')
			break;
		name += l + 1;
	}
	out[o++] = 0;
	return o;
}

int
dns_local_set_hosts(struct dns_local *d, const struct dns_local_host *h, size_t n)
{
	struct dns_local_name	*t = NULL;
	size_t			 i, k = 0;

	if (n > DNS_LOCAL_MAX_HOSTS)
		n = DNS_LOCAL_MAX_HOSTS;
	if (n > 0 && (t = calloc(n, sizeof(*t))) == NULL) {
		free(d->hosts);
		d->hosts = NULL;
		d->nhosts = 0;
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (h[i].addr.family != ADDR_V4 && h[i].addr.family != ADDR_V6)
			continue;
		if ((t[k].len = dns_local_wire(h[i].name, t[k].name)) == 0)
			continue;
		t[k].addr = h[i].addr;
		k++;
	}
	free(d->hosts);
	d->hosts = t;
	d->nhosts = k;
	return 0;
}
