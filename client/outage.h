/* SPDX-License-Identifier: ISC */
/*
 * outage.h - connections accepted while the session is down.
 *
 * Between a lost session and the next one the rules stay in place, so
 * connections keep landing on our listeners.  They wait here, in arrival
 * order, until the new session is up (then they are opened through it),
 * or are reset when a bound is hit: the queue is full (the newcomer), or
 * one waited too long (the oldest first; every entry has the same
 * lifetime, so arrival order is deadline order).
 *
 * Pure bookkeeping: the queue never closes a descriptor itself, callers
 * do (outage_reset() for a reset), so tests can drive it with any
 * numbers.
 */
#ifndef CSHUTTLE_OUTAGE_H
#define CSHUTTLE_OUTAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define OUTAGE_MAX_CONNS	256
#define OUTAGE_MAX_WAIT_MS	30000

struct outage_conn {
	int		 fd;
	struct addr	 dst;		/* the original destination */
	uint64_t	 deadline;	/* ms, monotonic */
};

struct outage {
	struct outage_conn	 q[OUTAGE_MAX_CONNS];
	size_t			 head, len;
	size_t			 cap;		/* <= OUTAGE_MAX_CONNS */
	uint64_t		 wait_ms;
	/* counters, for the logs */
	uint64_t		 queued, opened, overflow, expired;
};

/* cap 0: OUTAGE_MAX_CONNS; wait_ms 0: OUTAGE_MAX_WAIT_MS. */
void	outage_init(struct outage *q, size_t cap, uint64_t wait_ms);
/* Queue a connection accepted at `now`.  0, or -1 when full (the caller
 * resets fd). */
int	outage_push(struct outage *q, int fd, const struct addr *dst, uint64_t now);
/* Take the oldest connection whose deadline has passed by `now`.  true
 * with *c filled, false when there is none. */
bool	outage_pop_expired(struct outage *q, uint64_t now, struct outage_conn *c);
/* Take the oldest connection (draining into a new session).  true with
 * *c filled, false when empty. */
bool	outage_pop(struct outage *q, struct outage_conn *c);
/* The earliest deadline, 0 when empty. */
uint64_t outage_next_deadline(const struct outage *q);
size_t	outage_len(const struct outage *q);

/* Close fd with a reset (SO_LINGER 0): the application sees ECONNRESET at
 * once instead of a connection that goes nowhere. */
void	outage_reset(int fd);

#endif
