/* SPDX-License-Identifier: ISC */
/*
 * autonets.h - -N/--auto-nets: the networks the remote routes (its ROUTES
 * frame, docs/PROTOCOL.md section 6), added to the forwarded subnets.
 *
 * Each session's report replaces the last one.  What is forwarded is
 * chosen again from the report whenever the rules are built (a reload may
 * change the excludes): autonets_filter() keeps a network unless it is
 * the default route, loopback, link-local or multicast, holds the SSH
 * server's address, overlaps one of this host's own connected networks,
 * lies inside an exclude (an include more specific than an exclude would
 * win in the rules: fw_plan.h), is of a family not redirected, or is a
 * user include already.
 */
#ifndef CSHUTTLE_AUTONETS_H
#define CSHUTTLE_AUTONETS_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "proto.h"
#include "subnet.h"

#define AUTONETS_MAX_OWN	128	/* this host's connected networks kept */

struct autonets {
	struct subnet		 got[PROTO_ROUTES_MAX];	/* the last report */
	size_t			 ngot;
	struct subnet		 own[AUTONETS_MAX_OWN];	/* our networks, read
							 * at that report */
	size_t			 nown;
	struct subnet		 used[PROTO_ROUTES_MAX];	/* the choice in place */
	size_t			 nused;
	struct subnet		 next[PROTO_ROUTES_MAX];	/* the last merge's */
	size_t			 nnext;
	bool			 logged;	/* a choice has been logged */
	/* The user's subnets with the chosen ones: merged[cur] is what the
	 * rules in place point to, the other one is built next. */
	struct subnet_list	 merged[2];
	int			 cur;
};

/*
 * Keep of got[0..ngot) what may be forwarded (see above), given the
 * user's subnets, the SSH server's addresses avoid[0..navoid) (ports
 * ignored), our networks own[0..nown) and whether IPv6 is redirected.
 * Duplicates once.  Returns how many are in out[0..max).  Pure.
 */
size_t	autonets_filter(const struct subnet *got, size_t ngot,
	    const struct subnet_list *user, const struct addr *avoid, size_t navoid,
	    const struct subnet *own, size_t nown, bool ipv6, struct subnet *out,
	    size_t max);

/* Take a session's ROUTES frame (NULL: the stub reported none) as the
 * report, and read our own connected networks again (netinfo.h). */
void	autonets_report(struct autonets *an, const struct proto_frame *f);

/*
 * The user's subnets plus the chosen networks, for fw_config.subnets,
 * in the spare list; *changed says whether the choice differs from the
 * one in place.  NULL when out of memory.  Once the rules using it are in
 * place, autonets_commit() makes it the current one, and logs the choice
 * at info level ("auto-nets: ...") the first time and when it changed.
 */
const struct subnet_list *autonets_merge(struct autonets *an,
	    const struct subnet_list *user, const struct addr *avoid, size_t navoid,
	    bool ipv6, bool *changed);
void	autonets_commit(struct autonets *an);
void	autonets_free(struct autonets *an);

#endif
