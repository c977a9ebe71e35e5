/* SPDX-License-Identifier: ISC */
/*
 * tunnel_int.h - what the files of the tunnel share (tunnel.h is the
 * public face): the loop's state, the session's, and the functions one
 * file offers the others.
 *
 * tunnel.c		the loop: set-up and teardown, the before-sleep hook,
 *			signals, the helper's socketpair, the reload's eventfd,
 *			the watchdog and status timers, the setters
 * tunnel_session.c	one session: start, pump, liveness, HELLO, free
 * tunnel_accept.c	the listeners and the outage queue
 * tunnel_dns.c		DNS queries carried by the session
 * tunnel_reconnect.c	after a lost session: the backoff, the worker
 * tunnel_control.c	what `cshuttle status` sees of the loop
 * tunnel_netwatch.c	network changes: probe the session, cut the backoff
 * tunnel_resume.c	a lost session's streams kept and resumed on the next
 *
 * Everything runs in the loop's thread.
 */
#ifndef CSHUTTLE_TUNNEL_INT_H
#define CSHUTTLE_TUNNEL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "control_proto.h"
#include "dns_local.h"
#include "ev.h"
#include "log.h"
#include "mux.h"
#include "netwatch.h"
#include "outage.h"
#include "sigq.h"
#include "supervise.h"
#include "transport.h"
#include "tunnel.h"
#include "udp.h"

#define TUNNEL_DNS_TRACK	DNS_LOCAL_MAX_PENDING

struct session {
	struct transport	*tr;
	struct mux		*mux;
	struct ev_io		 tio;
	bool			 ready;		/* HELLO seen, streams may open */
	bool			 attaching;	/* ATTACH sent, waiting for ATTACHED */
	bool			 resumed;	/* the mux is a kept one, resumed */
	bool			 bye_acked;	/* the PING after our BYE came back */
	bool			 lost;		/* dead: torn down next pass */
	bool			 netchange;	/* lost to a network change: the
						 * next attempt starts at once */
	enum tunnel_end		 why;		/* if it ends the tunnel */
	char			 reason[300];
	uint64_t		 started, up_at;
	uint64_t		 last_input;	/* anything at all from the stub */
	uint64_t		 last_ping;
	uint64_t		 last_wprogress;	/* last write, or nothing to write */
	uint64_t		 last_service;	/* transport housekeeping */
	uint64_t		 ping_seq;
	/* libssh2 requires a write that returned EAGAIN to be repeated
	 * with the same pointer and length: keep that chunk here, apart
	 * from the link queue, which may move when it grows. */
	uint8_t			 pend[TRANSPORT_MAX_WRITE];
	size_t			 pend_off, pend_len;
};

struct tunnel {
	const struct tunnel_params *p;
	struct ev_loop		 loop;
	struct ev_io		 lio[LISTEN_MAX], sio, fio, wio, rio;
	struct ev_timer		 alive, accept_pause, outage_tm, retry, watchdog, status;
	struct sigq		 sigq;		/* SIGINT, SIGTERM, SIGHUP */
	bool			 sigq_ok;
	bool			 ended;
	enum tunnel_end		 end;
	bool			 ever_up, hup_pending;
	/* what a reload may change */
	struct dns_local	*dns;
	int			 alive_interval_ms, alive_timeout_ms;
	bool			 reconnect;
	/* the current session, NULL between sessions */
	struct session		*s;
	uint32_t		 features;	/* of the last stub that said HELLO */
	/* reconnecting */
	struct supervise	 su;
	bool			 su_ok;
	struct supervise_backoff backoff;
	unsigned		 tries;		/* attempts in this outage */
	bool			 exempt_tried;	/* exemptions just changed: no second time */
	char			 lost_reason[300];
	char			 attempt_err[300];	/* the last failed attempt's */
	struct transport	*dead_tr;	/* for the next worker to free */
	uint64_t		 reconnects;
	bool			 stuck;
	/* for the status: the run so far */
	uint64_t		 started;
	const char		*transport_name;	/* of the last session */
	struct mux_stats	 done;		/* the sessions that ended, summed */
	uint64_t		 dns_queries_done, dns_failures_done;	/* of DNS
						 * modules a reload replaced */
	/* connections waiting for a session */
	struct outage		 oq;
	bool			 oq_full_logged;
	/* connections made to the listener itself, reset at once */
	uint64_t		 refused;
	struct log_limit	 refused_log;
	/* DNS queries sent through the current session, failed at once if it
	 * dies (they would otherwise wait for dns_local's timeout) */
	uint32_t		 dns_ids[TUNNEL_DNS_TRACK];
	size_t			 ndns_ids;
	size_t			 status_streams;
	uint64_t		 trim_bytes;	/* moved by the last status tick */
	bool			 trim_due;	/* traffic since the last malloc_trim */
	uint32_t		 rnd;
	/* UDP through the tunnel, NULL without (udp.h) */
	struct udp		*udp;
	bool			 udp_old_logged;
	/* network changes (tunnel_netwatch.c); nw NULL when rtnetlink
	 * cannot be watched (the sleep clock still is) */
	struct netwatch		*nw;
	struct ev_io		 nwio;
	struct ev_timer		 nw_settle, nw_probe, nw_clock;
	struct netwatch_change	 nw_change;	/* the burst so far */
	struct addr		 nw_dst[NETWATCH_MAX_DST];	/* the server */
	size_t			 nw_ndst;
	struct netwatch_path	 nw_path[NETWATCH_MAX_DST];	/* the way to it,
						 * as of the last look */
	int64_t			 nw_clock_off;	/* boottime - monotonic */
	uint64_t		 nw_slept;	/* ms, to be judged with the burst */
	int			 probe_timeout_ms;
	uint64_t		 probe_at;	/* the probe out, 0: none */
	uint64_t		 probe_seq;	/* its PING's */
	/* resume (tunnel_resume.c): the token of the stub that waits for
	 * us after a lost link, and the streams kept meanwhile */
	unsigned		 resume_grace_s;	/* 0: no resume */
	bool			 token_ok;
	uint8_t			 token_secret[PROTO_SECRET_LEN];
	char			 token_path[PROTO_TOKEN_PATH_MAX + 1];
	struct mux		*kept;		/* detached, NULL: none */
	struct ev_timer		 kept_tm;	/* the grace running out */
	uint64_t		 resumes;
};

/* tunnel.c */
void	tunnel_timer_add(struct ev_loop *loop, struct ev_timer *tm);
/* The tunnel ends for `why` (the first reason wins); the loop stops. */
void	tunnel_end(struct tunnel *t, enum tunnel_end why);
/* STATUS= for the service manager: the streams and reconnects. */
void	tunnel_status(struct tunnel *t);

/* tunnel_session.c */
/* The session is dead: remember why (the first reason wins) and leave
 * the teardown to the next pass.  `why` ends the tunnel when the session
 * is not replaced. */
void	tunnel_session_lost(struct tunnel *t, enum tunnel_end why, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Start a session on a transport in data phase and make it t->s.  0, or
 * -1 (the transport is then freed). */
int	tunnel_session_start(struct tunnel *t, struct transport *tr);
/* One pass over the live session (t->s, not lost): transport
 * housekeeping, then write and read until neither makes progress. */
void	tunnel_session_service(struct tunnel *t);
/* Free t->s (its streams are reset, its DNS queries fail) and return its
 * transport: the caller decides who frees it.  NULL without a session. */
struct transport *tunnel_session_free(struct tunnel *t);
/* The liveness timer (t->alive). */
void	tunnel_session_alive_cb(struct ev_loop *loop, struct ev_timer *tm);
/* The feature bits our HELLO announces. */
uint32_t tunnel_session_features(const struct tunnel *t);
/* What follows the stub's HELLO on a new session (DNS_CONFIG, seeds,
 * RESUME_SETUP, the routes' wait), then ready. */
void	tunnel_session_setup(struct tunnel *t, struct mux *m);
/* The session can carry traffic: the rules, then the listeners. */
void	tunnel_session_ready(struct tunnel *t);
/* The tunnel ends on purpose: tell the stub not to wait for us (BYE),
 * best effort and briefly. */
void	tunnel_session_bye(struct tunnel *t);

/* tunnel_resume.c */
/* The mux's resume hook (RESUME_TOKEN, ATTACHED). */
void	tunnel_resume_frame(struct mux *m, const struct proto_frame *f);
/* The stub's HELLO on a new session: true when ATTACH went out (the
 * setup waits for ATTACHED), false to go on as a new session (kept
 * streams that cannot be resumed there are reset). */
bool	tunnel_resume_hello(struct tunnel *t, struct mux *m);
/* ATTACHED (joined) came: the session goes on with the kept mux. */
void	tunnel_resume_swap(struct tunnel *t);
/* The session is being freed: keep its streams for a resume (true; the
 * mux is then the tunnel's) or not. */
bool	tunnel_resume_keep(struct tunnel *t);
/* Reset the kept streams (why: for the log, NULL when the tunnel ends
 * and has said why already); nothing when none. */
void	tunnel_resume_drop(struct tunnel *t, const char *why);
/* The grace ran out (t->kept_tm). */
void	tunnel_resume_kept_cb(struct ev_loop *loop, struct ev_timer *tm);

/* tunnel_accept.c */
/* The listeners accept (again). */
void	tunnel_accept_on(struct tunnel *t);
void	tunnel_accept_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents);
/* The pause after EMFILE and friends is over (t->accept_pause). */
void	tunnel_accept_pause_cb(struct ev_loop *loop, struct ev_timer *tm);
/* The oldest waiting connections ran out of time (t->outage_tm). */
void	tunnel_accept_outage_cb(struct ev_loop *loop, struct ev_timer *tm);
/* The session works: open a stream for every waiting connection. */
void	tunnel_accept_outage_drain(struct tunnel *t);

/* tunnel_dns.c */
/* dns_local's send hook (dns_local_start): -1 without a working session. */
int	tunnel_dns_send(void *arg, uint32_t id, const uint8_t *q, size_t len);
/* The mux's DNS_ANSWER / DNS_FAIL handler. */
void	tunnel_dns_reply(struct mux *m, const struct proto_frame *f, void *arg);
/* The session that carried the tracked queries is gone: SERVFAIL them. */
void	tunnel_dns_retry(struct tunnel *t);

/* tunnel_control.c: control.h's callbacks, arg the tunnel */
void	tunnel_control_fill(void *arg, struct control_status *st);
void	tunnel_control_bytes(void *arg, uint64_t *in, uint64_t *out);

/* tunnel_reconnect.c */
/* The session died (t->s->lost): free it, then reconnect or end the
 * tunnel.  Only between loop passes (tunnel.c's before-sleep hook). */
void	tunnel_reconnect_teardown(struct tunnel *t);
/* The backoff is over (t->retry). */
void	tunnel_reconnect_retry_cb(struct ev_loop *loop, struct ev_timer *tm);
/* A backoff is running: end it and try now (the network changed). */
void	tunnel_reconnect_now(struct tunnel *t);
/* The worker is done (its eventfd, t->wio). */
void	tunnel_reconnect_worker_cb(struct ev_loop *loop, struct ev_io *io,
	    uint32_t revents);

/* tunnel_netwatch.c */
/* Watch rtnetlink and the sleep clock (a failure is only a warning). */
void	tunnel_netwatch_start(struct tunnel *t);
void	tunnel_netwatch_stop(struct tunnel *t);
/* A session started (t->s): the way to its server is the one to watch. */
void	tunnel_netwatch_session(struct tunnel *t);
/* A PONG came with this sequence number. */
void	tunnel_netwatch_pong(struct tunnel *t, uint64_t seq);

#endif
