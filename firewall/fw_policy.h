/* SPDX-License-Identifier: ISC */
/*
 * fw_policy.h - what root allows the helper's callers beyond their own
 * traffic: the policy file /etc/cshuttle/helper.conf.
 *
 * A caller other than root gets rules that take only its own sockets, at
 * most FW_POLICY_MAX_HELPERS_DEFAULT helpers at once.  Lines of the file
 * widen that for a user, or for the members of a group (%name):
 *
 *	allow <user|%group> <keyword>...
 *		lan		PREROUTING 1: serve other hosts (-l on a
 *				non-loopback address, --allow-from)
 *		host-wide	SCOPE host: capture and protect every local
 *				user's traffic (--host-wide)
 *		hosts		HOSTS: write the remote's host names into
 *				/etc/hosts (-H without --dns; fw_hosts.h)
 *		tmark		TMARK: mark carried UDP with a mark of the
 *				caller's choice, which also names the
 *				routing table (--tmark): a mark shared with
 *				the host's own policy routing reaches
 *				beyond the caller's traffic
 *	max-helpers <user|%group> <n>
 *		helpers at once, 1..FW_POLICY_MAX_HELPERS; a user's own line
 *		wins over its groups' lines, the largest of which counts
 *
 * '#' starts a comment; words are separated by blanks.  An unknown
 * keyword or directive is an error naming the line, so that a file
 * written for a later cshuttle (which may know more keywords) is refused
 * rather than half understood.
 *
 * The file must be a regular file owned by root and writable by nobody
 * else, in directories owned by root that nobody else can write: the
 * helper refuses to start otherwise.  A missing file allows nothing more.
 */
#ifndef CSHUTTLE_FW_POLICY_H
#define CSHUTTLE_FW_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#define FW_POLICY_PATH			"/etc/cshuttle/helper.conf"
#define FW_POLICY_MAX_BYTES		(64 * 1024)
#define FW_POLICY_MAX_ENTRIES		1024
#define FW_POLICY_NAME_MAX		64	/* user or group name, bytes */
#define FW_POLICY_MAX_HELPERS_DEFAULT	4
#define FW_POLICY_MAX_HELPERS		256

/* allow keywords (fw_policy_grant.allow bits). */
#define FW_POLICY_LAN		(1U << 0)
#define FW_POLICY_HOST_WIDE	(1U << 1)
#define FW_POLICY_HOSTS		(1U << 2)
#define FW_POLICY_TMARK		(1U << 3)

/* Errors of the parser (pure layer: a negative code, a reason in err). */
#define FW_POLICY_E_SYNTAX	-1
#define FW_POLICY_E_NOMEM	-2

struct fw_policy_entry {
	char		 name[FW_POLICY_NAME_MAX + 1];	/* without the '%' */
	bool		 group;
	unsigned int	 allow;		/* FW_POLICY_* bits */
	int		 max_helpers;	/* 0: not given by this line */
	int		 line;
};

struct fw_policy {
	struct fw_policy_entry	*v;
	size_t			 n;
};

/* What the policy gives one caller. */
struct fw_policy_grant {
	unsigned int	 allow;		/* FW_POLICY_* bits */
	int		 max_helpers;
};

/*
 * Parse the file's text (len bytes, NUL bytes refused); name is used in
 * messages ("NAME:LINE: problem").  0, or FW_POLICY_E_* with the reason
 * in err and *p empty.  Pure.
 */
int	fw_policy_parse(struct fw_policy *p, const char *name, const char *text,
	    size_t len, char *err, size_t errlen);
/*
 * Read and parse the file at path after the ownership and permission
 * checks above.  0 (a missing file gives an empty policy), or -1 with
 * the reason in err.
 */
int	fw_policy_load(struct fw_policy *p, const char *path, char *err,
	    size_t errlen);
/* Accepts NULL and an empty policy. */
void	fw_policy_free(struct fw_policy *p);
/*
 * What the lines naming `user`, or a group among groups[0..ngroups),
 * give.  Pure.
 */
void	fw_policy_grant(const struct fw_policy *p, const char *user,
	    const char *const *groups, size_t ngroups,
	    struct fw_policy_grant *g);
/* The keyword of one FW_POLICY_* bit ("lan", "host-wide", "hosts",
 * "tmark"). */
const char *fw_policy_keyword(unsigned int bit);

#endif
