/* SPDX-License-Identifier: ISC */
/*
 * sock.h - small descriptor helpers: listening sockets, non-blocking
 * mode, and a bounded wait for readiness.
 *
 * Errors are returned as -errno (sock_listen) or -1 with errno set.
 */
#ifndef CSHUTTLE_SOCK_H
#define CSHUTTLE_SOCK_H

#include <stdint.h>

#include "addr.h"

/*
 * A non-blocking, close-on-exec socket of `type` (SOCK_STREAM or
 * SOCK_DGRAM) bound to a (IPv6 sockets are IPv6 only), listening with
 * `backlog` when it is a stream socket (SO_REUSEADDR: it may bind over
 * TIME_WAIT).  0 with *fdp set, or -errno.
 */
int	sock_listen(const struct addr *a, int type, int backlog, int *fdp);

/* O_NONBLOCK on.  0, or -1 with errno. */
int	sock_set_nonblock(int fd);

/*
 * Wait until fd is ready for `events` (POLLIN/POLLOUT) or the deadline
 * (a clock_ms() value; < 0: none) passes.  Returns the revents (> 0), 0
 * on timeout, -1 on error.  EINTR is retried.
 */
int	sock_wait(int fd, short events, int64_t deadline);

#endif
