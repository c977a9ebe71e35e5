/* SPDX-License-Identifier: ISC */
/*
 * tunnel_netwatch.c - the tunnel's reaction to a change of the network
 * (netwatch.h): probe the live session at once instead of waiting out
 * --alive-timeout, and cut a reconnect's backoff short.
 *
 * Notifications come in bursts (an address removed takes its routes
 * along; a new Wi-Fi brings a link, addresses and routes within a few
 * hundred ms), so they are only collected as they come, and judged once
 * the burst has settled: then the route towards the server is asked for
 * again and compared with the one the session started on.  One probe is
 * out at a time: a PING, and any input from the stub counts as its answer
 * (a PONG may wait behind queued data), except input in the first half of
 * the deadline, which may still be what was on its way before the change.
 * No probe is needed when the address the session went from is gone
 * from this host: its connection is dead, and the session is lost at
 * once.  Either way the next session is tried at once, without backoff.
 *
 * A timer compares CLOCK_BOOTTIME with CLOCK_MONOTONIC once a second: the
 * latter stands still while the machine sleeps, so a jump of their
 * difference means a resume, after which the session is probed too.
 */
#include <sys/socket.h>

#include <net/if.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tunnel_int.h"

#define TUNNEL_NW_SETTLE_MS	200	/* a burst of notifications is over */
#define TUNNEL_NW_CLOCK_MS	1000	/* how often the sleep clock is read */

static void
tunnel_netwatch_off(struct tunnel *t, struct ev_timer *tm)
{
	tm->when = 0;
	ev_timer_del(&t->loop, tm);
}

static void
tunnel_netwatch_ifname(int ifindex, char *buf)
{
	if (if_indextoname((unsigned)ifindex, buf) == NULL)
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
}

/* The addresses the session goes to: the transport's peer when it knows
 * it, else where the exemptions say the SSH connection goes. */
static void
tunnel_netwatch_dsts(struct tunnel *t)
{
	const struct fw_config	*fc = t->p->fwcfg;
	int			 i;

	if (t->s != NULL && t->s->tr->peer.family != 0) {
		t->nw_dst[0] = t->s->tr->peer;
		t->nw_ndst = 1;
		return;
	}
	if (fc == NULL)
		return;		/* the last ones known stay */
	t->nw_ndst = 0;
	for (i = 0; i < fc->nexempt && t->nw_ndst < NETWATCH_MAX_DST; i++)
		t->nw_dst[t->nw_ndst++] = fc->exempt[i];
}

/* The paths to the server now, into p[0..t->nw_ndst).  A query that
 * failed keeps what was known. */
static void
tunnel_netwatch_paths(struct tunnel *t, struct netwatch_path *p)
{
	char	err[128];
	size_t	i;

	for (i = 0; i < t->nw_ndst; i++) {
		if (t->nw == NULL)
			p[i] = t->nw_path[i];
		else if (netwatch_route(t->nw, &t->nw_dst[i], &p[i], err, sizeof(err)) != 0) {
			log_debug("%s", err);
			p[i] = t->nw_path[i];
		}
	}
}

void
tunnel_netwatch_session(struct tunnel *t)
{
	char	a[ADDR_STRLEN], b[80];
	size_t	i;

	t->probe_at = 0;
	tunnel_netwatch_off(t, &t->nw_probe);
	if (t->nw == NULL)
		return;
	tunnel_netwatch_dsts(t);
	memset(t->nw_path, 0, sizeof(t->nw_path));
	tunnel_netwatch_paths(t, t->nw_path);
	for (i = 0; i < t->nw_ndst; i++) {
		netwatch_path_str(&t->nw_path[i], tunnel_netwatch_ifname, b, sizeof(b));
		log_debug("watching the route to %s: %s",
		    addr_format(&t->nw_dst[i], false, a, sizeof(a)), b);
	}
}

/* Send the probe (the session is up, none is out yet). */
static void
tunnel_netwatch_probe(struct tunnel *t, const char *why)
{
	struct session	*s = t->s;
	uint8_t		 data[8];
	int		 i;

	if (t->probe_timeout_ms == 0) {
		log_debug("network change: %s (no probes: --probe-timeout 0)", why);
		return;
	}
	if (t->probe_at != 0) {
		log_debug("network change: %s (a probe is out already)", why);
		return;
	}
	s->ping_seq++;
	for (i = 0; i < 8; i++)
		data[i] = (uint8_t)(s->ping_seq >> (56 - 8 * i));
	if (mux_send_ping(s->mux, PROTO_PING, data) != 0) {
		log_debug("network change: %s (cannot queue a probe)", why);
		return;
	}
	log_debug("network change: %s; probing the session (%.1f s)", why,
	    (double)t->probe_timeout_ms / 1000);
	t->probe_seq = s->ping_seq;
	t->probe_at = s->last_ping = ev_now();
	t->nw_probe.when = t->probe_at + (uint64_t)t->probe_timeout_ms;
	tunnel_timer_add(&t->loop, &t->nw_probe);
}

void
tunnel_netwatch_pong(struct tunnel *t, uint64_t seq)
{
	if (t->probe_at == 0 || seq < t->probe_seq)
		return;
	log_debug("probe answered in %llu ms: the session carries on",
	    (unsigned long long)(ev_now() - t->probe_at));
	t->probe_at = 0;
	tunnel_netwatch_off(t, &t->nw_probe);
}

/* The probe's deadline (t->nw_probe). */
static void
tunnel_netwatch_probe_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	struct tunnel	*t = tm->arg;
	struct session	*s = t->s;
	uint64_t	 at = t->probe_at, waited = ev_now() - at;

	t->probe_at = 0;
	if (s == NULL || s->lost || at == 0)
		return;
	if (s->last_input >= at + waited / 2) {
		log_debug("probe answered (data came in): the session carries on");
		return;
	}
	log_debug("probe not answered within %.1f s", (double)waited / 1000);
	s->netchange = true;
	tunnel_session_lost(t, TUNNEL_END_REMOTE, "the server did not answer within %.1f s "
	    "after a network change", (double)waited / 1000);
}

/*
 * Has this host lost the address the session's packets leave from?  Then
 * its TCP connection is dead whatever a probe would say, and waiting for
 * one only delays the next session.  bind(2) tells: it fails with
 * EADDRNOTAVAIL for an address the host no longer has (where
 * net.ipv4.ip_nonlocal_bind allows it anyway, the probe decides).
 */
static bool
tunnel_netwatch_addr_gone(const struct addr *a)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	bool			gone;
	int			fd;

	if ((len = addr_to_sockaddr(a, &ss)) == 0)
		return false;
	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	gone = bind(fd, (struct sockaddr *)&ss, len) == -1 && errno == EADDRNOTAVAIL;
	close(fd);
	return gone;
}

/* The session's source addresses (of the paths it started on, old[]) are
 * all gone: which one, for the log, or NULL. */
static const struct addr *
tunnel_netwatch_src_gone(struct tunnel *t, const struct netwatch_path *old,
    const struct netwatch_path *now)
{
	const struct addr	*gone = NULL;
	size_t			 i;

	for (i = 0; i < t->nw_ndst; i++) {
		if (!old[i].ok || old[i].src.family == 0)
			continue;
		if (now[i].ok && addr_equal(&old[i].src, &now[i].src))
			return NULL;
		if (!tunnel_netwatch_addr_gone(&old[i].src))
			return NULL;
		gone = &old[i].src;
	}
	return gone;
}

/* A burst is over: judge it (t->nw_settle). */
static void
tunnel_netwatch_settle_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	struct tunnel		*t = tm->arg;
	struct netwatch_path	 now[NETWATCH_MAX_DST];
	const struct addr	*gone;
	char			 why[300], a[ADDR_STRLEN];
	unsigned		 d;

	if (t->nw_ndst == 0)
		tunnel_netwatch_dsts(t);
	memset(now, 0, sizeof(now));
	tunnel_netwatch_paths(t, now);
	d = netwatch_decide(&t->nw_change, t->nw_path, now, t->nw_ndst,
	    tunnel_netwatch_ifname, why, sizeof(why));
	if (t->nw_slept > 0) {
		d |= NETWATCH_D_PROBE | NETWATCH_D_RETRY;
		snprintf(why, sizeof(why), "resumed after %.0f s of sleep",
		    (double)t->nw_slept / 1000);
	}
	log_trace("%u network notifications: %s", t->nw_change.nmsg,
	    d != 0 ? why : "nothing that concerns the session");
	gone = NULL;
	if ((d & NETWATCH_D_PROBE) && t->probe_timeout_ms != 0 && t->s != NULL &&
	    t->s->ready && !t->s->lost)
		gone = tunnel_netwatch_src_gone(t, t->nw_path, now);
	if (gone != NULL) {
		log_debug("network change: %s", why);
		t->s->netchange = true;
		tunnel_session_lost(t, TUNNEL_END_REMOTE, "this host no longer has the "
		    "address %s the session went from (a network change)",
		    addr_format(gone, false, a, sizeof(a)));
	}
	memcpy(t->nw_path, now, sizeof(t->nw_path));
	memset(&t->nw_change, 0, sizeof(t->nw_change));
	t->nw_slept = 0;
	if (t->s != NULL) {
		/* Before HELLO the session's own deadline applies. */
		if ((d & NETWATCH_D_PROBE) && t->s->ready && !t->s->lost)
			tunnel_netwatch_probe(t, why);
		return;
	}
	if ((d & NETWATCH_D_RETRY) && t->retry.when != 0) {
		log_debug("network change: %s; reconnecting now", why);
		tunnel_reconnect_now(t);
	}
}

static void
tunnel_netwatch_settle(struct tunnel *t)
{
	if (t->nw_settle.when != 0)
		return;
	t->nw_settle.when = ev_now() + TUNNEL_NW_SETTLE_MS;
	tunnel_timer_add(&t->loop, &t->nw_settle);
}

static void
tunnel_netwatch_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct tunnel	*t = io->arg;
	char		 err[128];
	unsigned	 before = t->nw_change.nmsg;

	if (netwatch_read(t->nw, &t->nw_change, err, sizeof(err)) != 0) {
		/* Not worth ending the tunnel for: --alive-timeout still
		 * finds a dead session. */
		log_warn("%s: network changes are no longer watched", err);
		ev_io_del(loop, io);
		return;
	}
	if (t->nw_change.nmsg != before || t->nw_change.overflow)
		tunnel_netwatch_settle(t);
}

/* The sleep clock (t->nw_clock). */
static void
tunnel_netwatch_clock_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	struct tunnel	*t = tm->arg;
	int64_t		 off = netwatch_clock_offset();
	uint64_t	 slept = netwatch_slept(t->nw_clock_off, off);

	t->nw_clock_off = off;
	if (slept > 0) {
		t->nw_slept = slept;
		tunnel_netwatch_settle(t);
	}
	tm->when = ev_now() + TUNNEL_NW_CLOCK_MS;
	tunnel_timer_add(loop, tm);
}

void
tunnel_netwatch_start(struct tunnel *t)
{
	char	err[256];

	t->nw_settle.cb = tunnel_netwatch_settle_cb;
	t->nw_probe.cb = tunnel_netwatch_probe_cb;
	t->nw_clock.cb = tunnel_netwatch_clock_cb;
	t->nw_settle.arg = t->nw_probe.arg = t->nw_clock.arg = t;
	t->nw_clock_off = netwatch_clock_offset();
	t->nw_clock.when = ev_now() + TUNNEL_NW_CLOCK_MS;
	tunnel_timer_add(&t->loop, &t->nw_clock);
	if ((t->nw = netwatch_open(err, sizeof(err))) == NULL) {
		log_warn("%s: a network change is noticed only after --alive-timeout", err);
		return;
	}
	if (ev_io_add(&t->loop, &t->nwio, netwatch_fd(t->nw), EV_READ, tunnel_netwatch_cb,
	    t) != 0) {
		log_warn("cannot watch network changes: a network change is noticed only "
		    "after --alive-timeout");
		netwatch_close(t->nw);
		t->nw = NULL;
	}
}

void
tunnel_netwatch_stop(struct tunnel *t)
{
	if (t->nwio.fd >= 0)
		ev_io_del(&t->loop, &t->nwio);
	tunnel_netwatch_off(t, &t->nw_settle);
	tunnel_netwatch_off(t, &t->nw_probe);
	tunnel_netwatch_off(t, &t->nw_clock);
	netwatch_close(t->nw);
	t->nw = NULL;
}
