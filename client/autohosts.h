/* SPDX-License-Identifier: ISC */
/*
 * autohosts.h - -H/--auto-hosts: host names of the remote network (its
 * HOSTS frame, docs/PROTOCOL.md section 6), made resolvable here.
 *
 * Each session's report replaces the last one.  What is used is chosen
 * again from the report whenever the forwarded subnets may have changed
 * (a session's rules, a reload): autohosts_filter() keeps a pair only
 * when its name is a valid host name and its address is forwarded, that
 * is lies inside an include and not inside a more or equally specific
 * exclude (ports aside), and is not IPv6 when IPv6 is not redirected.  A
 * remote therefore cannot name anything outside the subnets.  The DNS
 * capture (--dns) answers for the names kept (dns_local_set_hosts);
 * without it, the firewall helper writes them into /etc/hosts
 * (fw_hosts(), firewall/fw_hosts.h).
 */
#ifndef CSHUTTLE_AUTOHOSTS_H
#define CSHUTTLE_AUTOHOSTS_H

#include <stdbool.h>
#include <stddef.h>

#include "dns_local.h"
#include "fw.h"
#include "proto.h"
#include "subnet.h"

struct autohosts {
	struct dns_local_host	 got[PROTO_HOSTS_MAX];	/* the last report */
	size_t			 ngot;
	char			 names[PROTO_HOSTS_MAX][PROTO_HOST_NAME_MAX + 1];
	struct dns_local_host	 used[PROTO_HOSTS_MAX];	/* the choice in place */
	size_t			 nused;
	char			 used_names[PROTO_HOSTS_MAX][PROTO_HOST_NAME_MAX + 1];
	bool			 logged;	/* a choice has been logged */
};

/* Keep of got[0..ngot) what may be used (see above), given the
 * forwarded subnets.  Returns how many are in out[0..max).  Pure. */
size_t	autohosts_filter(const struct dns_local_host *got, size_t ngot,
	    const struct subnet_list *subnets, bool ipv6, struct dns_local_host *out,
	    size_t max);

/* Take a session's HOSTS frame (NULL: the stub reported none) as the
 * report. */
void	autohosts_report(struct autohosts *ah, const struct proto_frame *f);

/*
 * Choose from the report with the forwarded subnets and hand the choice
 * to d, or when d is NULL to fw's hosts file block (the first time and
 * when it changed; both NULL: nothing is used).  Logs the choice at info
 * level ("auto-hosts: ...") the first time and when it changed.
 */
void	autohosts_apply(struct autohosts *ah, struct dns_local *d,
	    struct fw *fw, const struct subnet_list *subnets, bool ipv6);

#endif
