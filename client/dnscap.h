/* SPDX-License-Identifier: ISC */
/*
 * dnscap.h - DNS capture: which servers are captured (--dns: those of
 * resolv.conf, and systemd-resolved's upstreams; --ns-hosts), and the local listeners that answer for them
 * (dns_local) with their entries in the rules.
 */
#ifndef CSHUTTLE_DNSCAP_H
#define CSHUTTLE_DNSCAP_H

#include <stddef.h>

#include "fw.h"
#include "options.h"

struct client;
struct dns_local;

/* systemd-resolved's list of its upstream servers, and the variable that
 * names another file (tests). */
#define DNSCAP_RESOLVED_PATH	"/run/systemd/resolve/resolv.conf"
#define DNSCAP_RESOLVED_ENV	"CSHUTTLE_RESOLVED_CONF"

/*
 * The servers o captures: resolv.conf's with --dns (when it names
 * systemd-resolved's stub 127.0.0.53, followed by the upstream servers
 * of DNSCAP_RESOLVED_PATH, or of the file $CSHUTTLE_RESOLVED_CONF
 * names), then --ns-hosts, one
 * per address (the rules match on the address alone), at most FW_MAX_DNS
 * (the rest is logged).  Returns how many are in out.
 */
size_t	dnscap_servers(const struct options *o, struct addr *out);

/*
 * Listeners for `servers` (n of them, from dnscap_servers()), for o's
 * --dns-domains, next to c's redirect listeners and passing the SSH
 * server's names (c->bypass) to the local resolver; their entries go to
 * fc->dns, their descriptors to fc->dns_udp_fd and fc->dns_tcp_fd.
 * *dnsp is NULL when o captures nothing.  o's domains must
 * outlive *dnsp.  0, or -1 with a reason in err.
 */
int	dnscap_open(struct client *c, const struct options *o,
	    const struct addr *servers, size_t n, struct fw_config *fc,
	    struct dns_local **dnsp, char *err, size_t errlen);

#endif
