/* SPDX-License-Identifier: ISC */
/*
 * fw_hosts.h - -H without --dns: the remote's host names in /etc/hosts,
 * written by the helper between marked lines
 *
 *	# cshuttle <id> begin
 *	<address> <name>
 *	...
 *	# cshuttle <id> end
 *
 * where <id> is FW_HOSTS_ID_PREFIX, the helper's pid, '-', and its start
 * time (field 22 of /proc/<pid>/stat, clock ticks since boot): a pid
 * alone could be reused by an unrelated process after a crash.  Each
 * update replaces the helper's own block; the helper removes it when it
 * ends, and any helper that starts removes the blocks whose id names no
 * running process with that start time (a helper killed with its
 * client; its zombie counts as gone).  Blocks of another shape are never
 * touched.
 *
 * The file is rewritten as a whole, under flock(2) on it (helpers take
 * turns; whoever finds it replaced meanwhile takes the new one): read,
 * changed (fw_hosts_rewrite(),
 * pure), written to a temporary file in its directory with its mode and
 * owner, and renamed over it; where the file is a mount point (listed
 * in /proc/self/mountinfo, or rename(2) fails with EBUSY: a container's,
 * or `ip netns exec`'s bind mount of /etc/netns/NAME/hosts) it is
 * rewritten in place instead, and nothing is created beside it.
 */
#ifndef CSHUTTLE_FW_HOSTS_H
#define CSHUTTLE_FW_HOSTS_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

#define FW_HOSTS_PATH		"/etc/hosts"
#define FW_HOSTS_ENV		"CSHUTTLE_HOSTS_FILE"	/* root callers only:
							   tests */
#define FW_MAX_HOSTS		1024	/* names per update */
#define FW_HOSTS_NAME_MAX	253
#define FW_HOSTS_MAX_BYTES	(8 * 1024 * 1024)	/* the file, at most */
#define FW_HOSTS_ID_MAX		32
#define FW_HOSTS_ID_PREFIX	"pid"

struct fw_host {
	struct addr	 addr;		/* ADDR_V4 or ADDR_V6, port 0 */
	char		 name[FW_HOSTS_NAME_MAX + 1];
};

/*
 * A host name as the helper writes it: 1..FW_HOSTS_NAME_MAX bytes of
 * dot-separated labels of 1..63 lower-case letters, digits, '-' or '_'
 * (what the remote's HOSTS frame may carry).  Pure.
 */
bool	fw_hosts_name_ok(const char *name, size_t len);

/* Whether the block of helper `id` is in use; arg as given below. */
typedef bool fw_hosts_live_fn(const char *id, void *arg);

/*
 * The file's text (len bytes) changed: the blocks of `id` and those of
 * the ids `live` says are gone removed, and, when n > 0, a block of `id`
 * with hosts[0..n) appended (after a '\n' when the text does not end in
 * one).  Everything else is kept byte for byte, "\r\n" endings
 * included.  A block ends at the first end line of its id; a begin or
 * end line of an id to remove without its partner is removed alone, so
 * that a second rewrite changes nothing.  *out is
 * malloc'd (NUL-terminated, *outlen bytes before it).  0, or -1 (out of
 * memory, or an address or name that is not valid).  Pure.
 */
int	fw_hosts_rewrite(const char *text, size_t len, const char *id,
	    const struct fw_host *hosts, size_t n, fw_hosts_live_fn *live,
	    void *arg, char **out, size_t *outlen);

/* This process's id, as above.  0, or -1 (no /proc). */
int	fw_hosts_self_id(char *buf, size_t len);
/* fw_hosts_live_fn for real processes (arg unused): the id names a
 * running process with that start time. */
bool	fw_hosts_id_live(const char *id, void *arg);

/*
 * Rewrite the file at path as fw_hosts_rewrite() does with
 * fw_hosts_id_live (nothing is written when nothing changes).  0, or -1
 * with the reason in err.
 */
int	fw_hosts_update(const char *path, const char *id,
	    const struct fw_host *hosts, size_t n, char *err, size_t errlen);

#endif
