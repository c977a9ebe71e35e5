/* SPDX-License-Identifier: ISC */
/*
 * tunnel.h - the client's event loop: listeners, streams, the link to the
 * stub, and the sessions that carry it, one after another.
 *
 * The loop outlives sessions.  The first session's transport is opened by
 * the caller (interactively, before the loop); when a session dies the
 * rules and listeners stay, new connections wait in a bounded queue, and
 * a worker thread opens the next transport after a backoff (supervise.h)
 * while the loop goes on serving DNS failures, timers and the watchdog.
 */
#ifndef CSHUTTLE_TUNNEL_H
#define CSHUTTLE_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "fw.h"
#include "listen.h"
#include "proto.h"
#include "supervise.h"

/* The client's default buffer budget: the smaller of 256 MiB and 1/8 of
 * the memory (docs/PROTOCOL.md §6). */
#define TUNNEL_BUDGET_CAP	(256UL * 1024 * 1024)
#define TUNNEL_BUDGET_RAM_DIV	8

struct control;
struct transport;
struct dns_local;
struct tunnel;

struct tunnel_hooks {
	/*
	 * The stub of a session said HELLO.  first: the very first time,
	 * when the rules must be installed; later the rules are in place
	 * already.  0, or -1 with a reason in err (the tunnel then ends).
	 */
	int	(*ready)(void *arg, bool first, char *err, size_t errlen);
	/*
	 * With tunnel_params.auto_nets, before ready: the stub's ROUTES
	 * frame (f, checked; proto_route_get), or NULL when its stub cannot
	 * report them.  ready then applies what it chose.
	 */
	void	(*routes)(void *arg, const struct proto_frame *f);
	/*
	 * With tunnel_params.auto_hosts: the stub's HOSTS frame (f,
	 * checked; proto_host_next), after ready when it came in time, or
	 * NULL when its stub cannot report them.
	 */
	void	(*hosts)(void *arg, const struct proto_frame *f);
	/* The tunnel works (again): after ready, the listeners accepting. */
	void	(*up)(void *arg, bool first);
	/* Main thread, before a worker starts: fill in the job (exemptions). */
	void	(*prepare)(void *arg, struct supervise_job *job);
	/* Worker thread: open a transport (see supervise.h). */
	supervise_work_fn *connect;
	/* A worker found the SSH server at addresses that need exempting:
	 * apply them.  0, or -1 with a reason in err. */
	int	(*exempt)(void *arg, const struct addr *e, int n, char *err,
		    size_t errlen);
	/* SIGHUP (only ever after the first up). */
	void	(*reload)(void *arg, struct tunnel *t);
	/* tunnel_params.reload_fd is readable (the reload's thread is done). */
	void	(*reload_done)(void *arg, struct tunnel *t);
	void	*arg;
};

struct tunnel_params {
	struct transport	*transport;	/* the first session's; the tunnel owns
						 * and frees it from here on */
	struct listen_socks	*listen;
	struct fw		*fw;		/* watched: the tunnel ends if the helper dies */
	struct dns_local	*dns;		/* --dns / --ns-hosts, else NULL: needs
						 * a stub with PROTO_FEAT_DNS */
	const struct addr	*to_ns;		/* --to-ns: sent as DNS_CONFIG */
	size_t			 nto_ns;
	unsigned		 window;	/* per-stream credit we grant */
	/* --buffer-budget and --max-streams, 0: the defaults.  Given ones
	 * are asked of the stub too (HELLO); the stub has its own defaults. */
	size_t			 budget;
	uint32_t		 max_streams;
	int			 alive_interval_ms;	/* PING after this much silence */
	int			 alive_timeout_ms;	/* dead after this long without input */
	int			 probe_timeout_ms;	/* after a network change: dead when
						 * nothing came this long after a
						 * PING; 0: no probes */
	bool			 reconnect;	/* false: a lost session ends the tunnel */
	bool			 auto_nets;	/* -N: ask each stub for its routes
						 * (hooks.routes) */
	bool			 auto_hosts;	/* -H: and for its host names
						 * (hooks.hosts) */
	char *const		*seed_hosts;	/* --seed-hosts (options.h's form):
						 * sent as HOSTS_SEED with -H */
	size_t			 nseed_hosts;
	const char		*remote;	/* for messages: "reconnected to HOST" */
	int			 reload_fd;	/* watched for hooks.reload_done (only
						 * with that hook) */
	struct control		*control;	/* served for `cshuttle status`
						 * (control.h), or NULL */
	/* UDP (udp.h): the transparent sockets beside the listeners, which
	 * the rules' TPROXY delivers to; nudp 0: no UDP (--no-udp). */
	const int		*udp_fd;
	int			 nudp;
	unsigned		 udp_timeout_s;	/* 0: the defaults */
	unsigned		 resume_grace_s;	/* --resume-grace, 0: no resume */
	unsigned		 max_udp_flows;
	const struct fw_config	*fwcfg;		/* the rules in place, for the status
						 * (a reload changes it between
						 * passes), or NULL */
	struct tunnel_hooks	 hooks;
};

enum tunnel_end {
	TUNNEL_END_SIGNAL = 0,		/* SIGINT/SIGTERM: clean exit */
	TUNNEL_END_REMOTE,		/* the session went away (and was not, or
					 * could not be, replaced) */
	TUNNEL_END_PROTOCOL,		/* the session broke (protocol error) */
	TUNNEL_END_SETUP,		/* could not start (ready callback, resources) */
	TUNNEL_END_FIREWALL,		/* the firewall helper died */
	TUNNEL_END_REFUSED,		/* a reconnect was refused: host key or
					 * authentication (not retried) */
};

/*
 * Runs until the tunnel ends; the reason is logged.  The caller still
 * owns (and frees) listen, fw and dns.  *stuck is set when a worker could
 * not be stopped: leave with _exit() then (see supervise_cancel).
 */
enum tunnel_end tunnel_run(const struct tunnel_params *p, bool *stuck);

/* For the reload hook.  Another DNS module (the old one is stopped, not
 * closed: that stays the caller's); NULL turns DNS capture off. */
void	tunnel_set_dns(struct tunnel *t, struct dns_local *dns);
void	tunnel_set_alive(struct tunnel *t, int interval_ms, int timeout_ms);
/* --probe-timeout (0: no probes); a probe that is out keeps its deadline. */
void	tunnel_set_probe_timeout(struct tunnel *t, int timeout_ms);
/* --udp-timeout (0: the default); open flows follow it. */
void	tunnel_set_udp_timeout(struct tunnel *t, unsigned timeout_s);
void	tunnel_set_reconnect(struct tunnel *t, bool on);
/* --resume-grace (0: off): for the next session, and the stub in place. */
void	tunnel_set_resume_grace(struct tunnel *t, unsigned grace_s);
/* What the stub of the current session can do (0 without a session). */
uint32_t tunnel_features(const struct tunnel *t);
bool	tunnel_ever_up(const struct tunnel *t);

/* The run so far: counters cumulative over every session (and every DNS
 * module a reload replaced), the rest as of now. */
struct tunnel_stats {
	uint64_t	streams_opened;		/* streams, ever */
	uint64_t	streams_failed;		/* the remote could not connect */
	uint64_t	bytes_in, bytes_out;	/* stream data received / sent */
	size_t		streams;		/* open now */
	size_t		waiting;		/* accepted, waiting for a session */
	uint64_t	dns_queries;		/* captured queries (UDP and TCP) */
	uint64_t	dns_failures;		/* answered with a made-up SERVFAIL */
	uint64_t	reconnects;		/* sessions after the first */
};
void	tunnel_stats(const struct tunnel *t, struct tunnel_stats *st);

#endif
