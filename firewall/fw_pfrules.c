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

bool
fw_pfrules_port_alive(uint16_t port)
{
	struct sockaddr_in	sin;
	bool			alive;
	int			fd;

	/* Bound without SO_REUSEADDR: EADDRINUSE while anyone listens. */
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return true;	/* cannot tell: leave its anchor alone */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	alive = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 && errno == EADDRINUSE;
	close(fd);
	return alive;
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
