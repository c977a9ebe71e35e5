/* SPDX-License-Identifier: ISC */
/*
 * exempt.c - keeping the tunnel's own SSH connection out of the tunnel
 * (exempt.h).
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_msg.h"
#include "dns_resolve.h"
#include "exempt.h"
#include "fw.h"
#include "log.h"
#include "sshconfig.h"
#include "transport.h"

static void
exempt_add(struct fw_config *c, const struct addr *a)
{
	int	i;

	for (i = 0; i < c->nexempt; i++)
		if (addr_same_host(&c->exempt[i], a) && c->exempt[i].port == a->port)
			return;
	if (c->nexempt == FW_MAX_EXEMPT)
		return;
	c->exempt[c->nexempt++] = *a;
}

/* Exempt every address `host` resolves to, on `port`. */
static void
exempt_host(struct fw_config *c, const char *host, int port, bool quiet)
{
	struct addr	 a[FW_MAX_EXEMPT];
	size_t		 n = 0, i;
	char		 err[256];

	if (dns_resolve(host, AF_UNSPEC, EXEMPT_RESOLVE_MS, a, FW_MAX_EXEMPT, &n,
	    err, sizeof(err)) != 0) {
		if (!quiet)
			log_warn("cannot resolve %s to keep its traffic out of the "
			    "tunnel: %s", host, err);
		return;
	}
	for (i = 0; i < n; i++) {
		a[i].port = (uint16_t)port;
		exempt_add(c, &a[i]);
	}
}

/*
 * The first ProxyJump hop (usually an alias itself) as the ssh
 * configuration resolves it: 0 with *hop filled, or -1 with a reason in
 * err; sshcfg_free(hop) either way.  Its name as written goes to `name`.
 */
static int
exempt_first_hop(const struct sshcfg *cfg, const char *config_file,
    struct sshcfg *hop, char *name, size_t namelen, char *err, size_t errlen)
{
	char	*first, *p;
	int	 r;

	memset(hop, 0, sizeof(*hop));
	name[0] = '\0';
	if ((first = strdup(cfg->proxy_jump)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	first[strcspn(first, ",")] = '\0';
	p = strncmp(first, "ssh://", 6) == 0 ? first + 6 : first;
	snprintf(name, namelen, "%s", p);
	r = sshcfg_resolve(hop, p, config_file, err, errlen);
	free(first);
	return r == 0 ? 0 : -1;
}

/*
 * The built-in transport knows the exact peer; for an external ssh we
 * exempt what ssh will connect to: the host, or the first ProxyJump hop.
 * Without a transport (a reconnect checks before connecting) every
 * address the server resolves to.
 */
void
exempt_ssh(struct fw_config *c, const struct transport *t, const struct sshcfg *cfg,
    const char *config_file, bool quiet)
{
	struct sshcfg	 hop;
	char		 name[256], err[256];

	if (t != NULL && t->peer.family != 0) {
		exempt_add(c, &t->peer);
		return;
	}
	if (cfg->proxy_jump == NULL) {
		exempt_host(c, cfg->hostname, cfg->port, quiet);
		return;
	}
	if (exempt_first_hop(cfg, config_file, &hop, name, sizeof(name), err,
	    sizeof(err)) == 0)
		exempt_host(c, hop.hostname, hop.port, quiet);
	else if (!quiet)
		log_warn("cannot resolve the ProxyJump host %s to keep it out of the "
		    "tunnel: %s", name, err);
	sshcfg_free(&hop);
}

/* A host name (not an address literal) to resolve locally, normalised. */
static void
exempt_name_add(struct exempt_names *en, const char *host)
{
	struct addr	 a;
	const char	*why;

	if (host == NULL || en->n >= EXEMPT_MAX_NAMES ||
	    addr_parse(&a, host, (size_t)-1, 0, 0) == 0 ||
	    dns_msg_domain_norm(host, strlen(host), en->name[en->n],
	    sizeof(en->name[0]), &why) != 0)
		return;
	en->v[en->n] = en->name[en->n];
	en->n++;
}

void
exempt_names(struct exempt_names *en, const struct sshcfg *cfg,
    const char *config_file)
{
	struct sshcfg	 hop;
	char		 name[256], err[256];

	en->n = 0;
	exempt_name_add(en, cfg->hostname);
	if (cfg->proxy_jump == NULL)
		return;
	if (exempt_first_hop(cfg, config_file, &hop, name, sizeof(name), err,
	    sizeof(err)) == 0)
		exempt_name_add(en, hop.hostname);
	sshcfg_free(&hop);
}
