/* SPDX-License-Identifier: ISC */
/*
 * fw_pfctl.h - the pf helper's hands: pfctl(8), run for each change.
 *
 * Why pfctl and not /dev/pf's rule ioctls: pfctl parses the pf.conf text
 * fw_pf.c writes on macOS and FreeBSD alike, while DIOCADDRULE takes a
 * struct pf_rule whose layout differs between the two and between their
 * releases.  Each call runs `pfctl` (the path is the caller's, a fake
 * one in the tests), feeds it what it reads on stdin, and keeps the first
 * line of what it says on stderr for the error.
 *
 *   enable		macOS: `pfctl -E`, keeping the reference token it
 *			prints, released by `pfctl -X TOKEN` (pf goes off only
 *			when no reference is left, so a pf the user had on
 *			stays on); FreeBSD: `pfctl -e` only if `pfctl -s info`
 *			says it is disabled, and `pfctl -d` at release then
 *			unless another cshuttle anchor is still loaded
 *	hooked		the main ruleset reaches cshuttle's anchors
 *			(an `rdr-anchor` line for "cshuttle/" and the wildcard
 *			in `pfctl -s nat`, an `anchor` line for the same in
 *			`pfctl -s rules`); when not,
 *			the error says which lines to add to /etc/pf.conf:
 *			cshuttle never rewrites the main ruleset itself
 *	load		`pfctl -a cshuttle/P -f -`: the whole anchor, replaced
 *			at once
 *	stale		`pfctl -a cshuttle -s Anchors`: each cshuttle/N whose
 *			listener port N nobody listens on any more (a dead
 *			instance's) is flushed
 *	release		`pfctl -a cshuttle/P -F all`, then the enable undone
 */
#ifndef CSHUTTLE_FW_PFCTL_H
#define CSHUTTLE_FW_PFCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FW_PFCTL_TIMEOUT_MS	10000	/* one pfctl run, at most */
#define FW_PFCTL_MAX_OUTPUT	(64 * 1024)

enum fw_pfctl_os {
	FW_PFCTL_MACOS,		/* -E / -X references */
	FW_PFCTL_FREEBSD	/* -e / -d, as the state found says */
};

struct fw_pfctl {
	const char		*path;		/* "pfctl", or a fake */
	enum fw_pfctl_os	 os;
	uint16_t		 port;		/* the instance: anchor cshuttle/port */
	char			 anchor[32];
	char			 token[64];	/* macOS: our reference; "" none */
	bool			 enabled_here;	/* FreeBSD: we turned pf on */
	char			 err[256];	/* why the last call failed */
	char			 errtext[512];	/* the last run's stderr (its start) */
};

void	fw_pfctl_init(struct fw_pfctl *c, const char *path, enum fw_pfctl_os os,
	    uint16_t port);
/* Each: 0, or -1 with the reason in c->err. */
int	fw_pfctl_enable(struct fw_pfctl *c);
int	fw_pfctl_hooked(struct fw_pfctl *c);
int	fw_pfctl_load(struct fw_pfctl *c, const char *rules);
/* alive(port): is an instance listening there?  The number of anchors
 * flushed in *flushed. */
int	fw_pfctl_stale(struct fw_pfctl *c, bool (*alive)(uint16_t port), int *flushed);
/* Best effort, every step tried: 0, or -1 with the first failure. */
int	fw_pfctl_release(struct fw_pfctl *c);

#endif
