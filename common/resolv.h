/* SPDX-License-Identifier: ISC */
/*
 * resolv.h - the `nameserver` lines of resolv.conf, read the way glibc
 * reads them.  One parser for the client (which servers to capture) and
 * the stub (which servers to ask on the remote).
 *
 * Pure apart from reading the file and if_nametoindex() for an IPv6
 * scope, so the parser is unit-tested on text.
 */
#ifndef CSHUTTLE_RESOLV_H
#define CSHUTTLE_RESOLV_H

#include <stddef.h>

#include "addr.h"

#define RESOLV_PATH		"/etc/resolv.conf"
#define RESOLV_FILE_MAX		(64 * 1024)	/* more is not a resolv.conf */
#define RESOLV_PORT		53

/* resolv_parse() flags. */
#define RESOLV_F_DEFAULT	(1U << 0)	/* none found: 127.0.0.1, as glibc */
#define RESOLV_F_NO_LINKLOCAL	(1U << 1)	/* leave fe80::/10 servers out */

/*
 * Append the nameserver addresses of text[0..len) to out[*n..max) (port
 * 53), skipping duplicates.  Like glibc: the keyword starts the line and
 * is followed by blanks, the address is the next word up to a blank, '#'
 * or ';', IPv4 or IPv6 with an optional %scope.  Lines that cannot be
 * used, and servers beyond max, are left out and the first such problem
 * is described in note ("line 3: nameserver \"x\": not an IP address";
 * empty when nothing was left out; note may be NULL).  Returns how many
 * servers the text named (found, whether or not there was room).
 */
size_t	resolv_parse(const char *text, size_t len, unsigned flags, struct addr *out,
	    size_t max, size_t *n, char *note, size_t notelen);

/*
 * Read `path` (at most RESOLV_FILE_MAX bytes) and parse it as above; a
 * note starts with the path.  A missing or unreadable file counts as an
 * empty one (so RESOLV_F_DEFAULT gives 127.0.0.1), with the reason in
 * note.  Never fails.
 */
void	resolv_read(const char *path, unsigned flags, struct addr *out, size_t max,
	    size_t *n, char *note, size_t notelen);

/* Append a to list[0..*n) unless it is there already.  0 when added or
 * present, -1 when the list is full. */
int	resolv_add(struct addr *list, size_t *n, size_t max, const struct addr *a);

#endif
