/* SPDX-License-Identifier: ISC */
/*
 * stub_hosts.h - host names of the remote network, for the client's
 * auto-hosts (-H): read from the remote's hosts file and sent once per
 * session as a HOSTS frame (docs/PROTOCOL.md section 6).
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
/* Read the hosts file and send HOSTS on m (an empty one when there is
 * nothing to report; logged at debug level).  0, or -1 when the frame
 * could not be queued. */
int	stub_hosts_send(struct mux *m);

#endif
