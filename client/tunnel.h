/*
 * tunnel.h - the client's event loop: listeners, streams and the link to
 * the stub, from the stub's HELLO until the session ends.
 */
#ifndef CSHUTTLE_TUNNEL_H
#define CSHUTTLE_TUNNEL_H

#include <stdbool.h>

#include "listen.h"
#include "proto.h"

struct transport;
struct fw;
struct dns_local;

/* Called once the stub has said HELLO: install the firewall rules.
 * Returns 0, or -1 with a reason in err (the tunnel then ends). */
typedef int tunnel_ready_cb(void *arg, char *err, size_t errlen);

struct tunnel_params {
	struct transport	*transport;
	struct listen_socks	*listen;
	struct fw		*fw;		/* watched: the tunnel ends if the helper dies */
	tunnel_ready_cb		*ready;
	void			*ready_arg;
	struct dns_local	*dns;		/* --dns / --ns-hosts, else NULL: needs
						 * a stub with PROTO_FEAT_DNS */
	const struct proto_dns_server *to_ns;	/* --to-ns: sent as DNS_CONFIG */
	size_t			 nto_ns;
	unsigned		 window;	/* per-stream credit we grant */
	int			 ping_interval_ms;
	int			 ping_timeout_ms;
};

enum tunnel_end {
	TUNNEL_END_SIGNAL = 0,		/* SIGINT/SIGTERM: clean exit */
	TUNNEL_END_REMOTE,		/* the SSH session or the stub went away */
	TUNNEL_END_PROTOCOL,		/* the session broke (protocol error) */
	TUNNEL_END_SETUP,		/* could not start (ready callback, resources) */
	TUNNEL_END_FIREWALL,		/* the firewall helper died */
};

/* Runs until the session ends; the reason is logged.  The caller still
 * owns (and frees) transport, listen and fw. */
enum tunnel_end tunnel_run(const struct tunnel_params *p);

#endif
