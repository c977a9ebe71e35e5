/* SPDX-License-Identifier: ISC */
/*
 * rate.h - the current rate of two growing byte counters (received and
 * sent), from their deltas over the last few seconds.
 *
 * Pure bookkeeping: the caller samples the counters now and then
 * (control.c does, once a second) and asks for the rate whenever it
 * likes.  The rate is the growth between the oldest sample of the window
 * and the newest, divided by the time between them, so a burst shows for
 * about RATE_WINDOW_MS and then fades, and an idle link reads 0.
 */
#ifndef CSHUTTLE_RATE_H
#define CSHUTTLE_RATE_H

#include <stdint.h>

#define RATE_SAMPLES	4	/* kept, one a second: a window of 3 s */
#define RATE_WINDOW_MS	3500	/* older samples do not count */

struct rate {
	uint64_t	at[RATE_SAMPLES];	/* ms on the monotonic clock */
	uint64_t	in[RATE_SAMPLES], out[RATE_SAMPLES];
	unsigned	n, head;		/* samples kept; the next slot */
};

void	rate_init(struct rate *r);
/* The counters' values at time now (ms).  A counter that went backwards
 * (it cannot, but a caller may restart it) starts the window anew. */
void	rate_sample(struct rate *r, uint64_t now, uint64_t in, uint64_t out);
/* Bytes per second in each direction as of now: 0 without two samples
 * in the window. */
void	rate_get(const struct rate *r, uint64_t now, uint64_t *in_bps, uint64_t *out_bps);

#endif
