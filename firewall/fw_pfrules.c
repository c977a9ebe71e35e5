/* SPDX-License-Identifier: ISC */
/*
 * fw_pfrules.c - the helper's pf rule set (see fw_pfrules.h).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fw_pf.h"
#include "fw_plan.h"
#include "fw_pfrules.h"
#include "log.h"

struct fw_pfrules {
	struct fw_pfctl	 ctl;
	bool		 named;		/* the port, hence the anchor, is known */
	bool		 loaded;	/* the anchor holds our rules */
	bool		 released;	/* flushed, pf's reference given back */
};

/* Can the wildcard address of this family be bound to port?  A TCP
 * socket on any address of the family, a listener on loopback or on a
 * LAN address alike, makes that fail with EADDRINUSE. */
static bool
fw_pfrules_bindable(int family, uint16_t port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 fd, one = 1, ok;

	if ((fd = socket(family, SOCK_STREAM, 0)) == -1)
		return false;	/* cannot tell */
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_any;
		len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		len = sizeof(*sin);
	}
	ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
	close(fd);
	return ok;
}

bool
fw_pfrules_port_alive(uint16_t port)
{
	/* Dead only when both families' wildcards bind: any listener of an
	 * instance is in the way of one of them.  Anything else (EACCES,
	 * no IPv6) counts as alive: its anchor is left alone. */
	return !(fw_pfrules_bindable(AF_INET, port) &&
	    (fw_pfrules_bindable(AF_INET6, port) || errno == EAFNOSUPPORT));
}

struct fw_pfrules *
fw_pfrules_open(const char *pfctl, enum fw_pfctl_os os, char *err, size_t errlen)
{
	struct fw_pfrules	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* The port is not known before the first apply: no anchor yet. */
	fw_pfctl_init(&r->ctl, pfctl, os, 0);
	if (fw_pfctl_enable(&r->ctl) != 0 || fw_pfctl_hooked(&r->ctl) != 0) {
		snprintf(err, errlen, "%s", r->ctl.err);
		(void)fw_pfctl_release(&r->ctl);
		free(r);
		return NULL;
	}
	return r;
}

int
fw_pfrules_apply(struct fw_pfrules *r, const struct fw_config *cfg, char *err, size_t errlen)
{
	char	*text;
	int	 ret, flushed;

	if (!r->named) {
		r->ctl.port = cfg->port;
		(void)fw_pf_anchor(cfg->port, r->ctl.anchor, sizeof(r->ctl.anchor));
		r->named = true;
		if (fw_pfctl_stale(&r->ctl, fw_pfrules_port_alive, &flushed) != 0)
			log_error("pf: stale anchors: %s", r->ctl.err);
		else if (flushed > 0)
			log_info("pf: flushed %d anchor%s of instances that are gone",
			    flushed, flushed == 1 ? "" : "s");
	} else if (cfg->port != r->ctl.port) {
		snprintf(err, errlen, "pf: the listener port changed (%u, then %u)",
		    (unsigned)r->ctl.port, (unsigned)cfg->port);
		return -1;
	}
	if ((ret = fw_pf_render(cfg, &text)) != 0) {
		snprintf(err, errlen, "pf: %s", fw_strerror(ret));
		return -1;
	}
	ret = fw_pfctl_load(&r->ctl, text);
	free(text);
	if (ret != 0) {
		snprintf(err, errlen, "%s", r->ctl.err);
		return -1;
	}
	r->loaded = true;
	return 0;
}

int
fw_pfrules_delete(struct fw_pfrules *r, char *err, size_t errlen)
{
	/* Release flushes the anchor and gives pf's reference back; the
	 * reference goes now too: nothing of ours is left to filter. */
	r->released = true;
	r->loaded = false;
	if (fw_pfctl_release(&r->ctl) != 0) {
		snprintf(err, errlen, "%s", r->ctl.err);
		return -1;
	}
	return 0;
}

void
fw_pfrules_close(struct fw_pfrules *r)
{
	if (r == NULL)
		return;
	if (!r->released && fw_pfctl_release(&r->ctl) != 0)
		log_error("pf: %s", r->ctl.err);
	free(r);
}
