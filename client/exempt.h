/* SPDX-License-Identifier: ISC */
/*
 * exempt.h - keeping the tunnel's own SSH connection out of the tunnel.
 *
 * With 0/0 the rules would redirect the SSH connection that carries the
 * tunnel into the tunnel itself.  Its destination is exempt from the
 * rules (fw_config.exempt), and with --dns its names are asked locally
 * (dns_local's bypass): once a session is gone nothing else could answer
 * for them, and the reconnect must find the server.
 */
#ifndef CSHUTTLE_EXEMPT_H
#define CSHUTTLE_EXEMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "dns_msg.h"
#include "fw.h"

#define EXEMPT_RESOLVE_MS	10000
#define EXEMPT_MAX_NAMES	2	/* the server and the first ProxyJump hop */

struct sshcfg;
struct transport;

/*
 * Add to c->exempt what the SSH connection goes to, unless it is there:
 * the built-in transport's peer (t, when it has one); else every address
 * the server (or the first ProxyJump hop, as the ssh configuration
 * resolves it) resolves to, on its port.  Resolving blocks for up to
 * EXEMPT_RESOLVE_MS.  quiet: a reconnect checking again, which does not
 * warn about names that do not resolve.
 */
void	exempt_ssh(struct fw_config *c, const struct transport *t,
	    const struct sshcfg *cfg, const char *config_file, bool quiet);

/* The host names (not address literals) of the server and the first
 * ProxyJump hop, normalised; v[] points into name[] for dns_local. */
struct exempt_names {
	char	 name[EXEMPT_MAX_NAMES][DNS_MSG_TEXT_MAX + 1];
	char	*v[EXEMPT_MAX_NAMES];
	size_t	 n;
};

void	exempt_names(struct exempt_names *en, const struct sshcfg *cfg,
	    const char *config_file);

#endif
