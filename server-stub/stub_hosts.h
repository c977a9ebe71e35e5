/* SPDX-License-Identifier: ISC */
/*
 * stub_hosts.h - host names of the remote network, for the client's
 * auto-hosts (-H): read from the remote's hosts file, joined by the
 * reverse lookups of stub_hostwatch.h and sent once per session as a
 * HOSTS frame (docs/PROTOCOL.md section 6).
 *
 * The parser is pure (text in, entries out) for the unit tests.  It keeps
 * pairs a HOSTS frame may carry: names proto_host_name_ok accepts once
 * lower-cased, addresses that are not loopback, unspecified or
 * link-local, "localhost" names left out; each pair once; as many as fit
 * in one frame.  The client decides which of them it uses.
 */
#ifndef CSHUTTLE_STUB_HOSTS_H
#define CSHUTTLE_STUB_HOSTS_H

#include <stddef.h>

#include "addr.h"
#include "mux.h"
#include "proto.h"

#define STUB_HOSTS_FILE		"/etc/hosts"
#define STUB_HOSTS_FILE_MAX	(1024U * 1024)	/* bytes read of it */

struct stub_hosts {
	struct proto_host	 h[PROTO_HOSTS_MAX];	/* names point into pool */
	size_t			 n;
	size_t			 bytes;		/* the entries' size on the wire */
	char			 pool[PROTO_MAX_PAYLOAD];
	size_t			 used;
};

/* Add the pairs of hosts(5) text to h, as long as there is room (in
 * h[] and in one frame).  Malformed lines and names are skipped.
 * Returns how many were added. */
size_t	stub_hosts_parse(struct stub_hosts *h, const char *text);
/* Keep the pair (a, name[0..len)), name NUL-terminated and lower case,
 * unless it is there already, one a HOSTS frame cannot carry, a
 * "localhost" name, or there is no room.  1 when kept, else 0. */
size_t	stub_hosts_add(struct stub_hosts *h, const struct addr *a, const char *name,
	    size_t len);
/* The first STUB_HOSTS_FILE_MAX bytes of the file at path, NUL-terminated
 * (malloc'd); NULL when it cannot be read (logged at debug level). */
char	*stub_hosts_read(const char *path);
/* The pairs of the hosts file (malloc'd, empty when the file cannot be
 * read), or NULL when out of memory. */
struct stub_hosts *stub_hosts_load(void);

#endif
