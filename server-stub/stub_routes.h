/* SPDX-License-Identifier: ISC */
/*
 * stub_routes.h - the remote's routes, for the client's auto-nets (-N):
 * read from /proc/net/route and /proc/net/ipv6_route and sent once per
 * session as a ROUTES frame (docs/PROTOCOL.md section 6).
 *
 * The parsers are pure (text in, entries out) for the unit tests.  They
 * keep routes that lead somewhere: up, not reject, not local or anycast,
 * not on the loopback device, not the default route, not source-specific;
 * duplicates once.  The client decides which of them it forwards.
 */
#ifndef CSHUTTLE_STUB_ROUTES_H
#define CSHUTTLE_STUB_ROUTES_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "mux.h"
#include "proto.h"

#define STUB_ROUTES_FILE_MAX	(256U * 1024)	/* bytes read of each /proc file */

struct stub_routes {
	struct addr	net[PROTO_ROUTES_MAX];	/* host bits clear, port 0 */
	uint8_t		prefix[PROTO_ROUTES_MAX];
	size_t		n;
};

/* Add the routes of /proc/net/route text (header line first; addresses
 * as the kernel prints them, in this host's byte order) to r, as long as
 * there is room.  Malformed lines are skipped.  Returns how many were
 * added. */
size_t	stub_routes_parse_v4(struct stub_routes *r, const char *text);
/* The same for /proc/net/ipv6_route text (no header). */
size_t	stub_routes_parse_v6(struct stub_routes *r, const char *text);
/* Read both files and send ROUTES on m (an empty one when there are no
 * routes or the files cannot be read; logged at debug level).  0, or -1
 * when the frame could not be queued. */
int	stub_routes_send(struct mux *m);

#endif
