/* SPDX-License-Identifier: ISC */
/*
 * rate.c - rates from counter deltas (rate.h).
 */
#include <string.h>

#include "rate.h"

void
rate_init(struct rate *r)
{
	memset(r, 0, sizeof(*r));
}

/* The i-th sample counting back from the newest (0 = newest). */
static unsigned
rate_slot(const struct rate *r, unsigned back)
{
	return (r->head + RATE_SAMPLES - 1 - back) % RATE_SAMPLES;
}

void
rate_sample(struct rate *r, uint64_t now, uint64_t in, uint64_t out)
{
	unsigned	last;

	if (r->n > 0) {
		last = rate_slot(r, 0);
		if (in < r->in[last] || out < r->out[last] || now < r->at[last])
			r->n = 0;
	}
	r->at[r->head] = now;
	r->in[r->head] = in;
	r->out[r->head] = out;
	r->head = (r->head + 1) % RATE_SAMPLES;
	if (r->n < RATE_SAMPLES)
		r->n++;
}

void
rate_get(const struct rate *r, uint64_t now, uint64_t *in_bps, uint64_t *out_bps)
{
	unsigned	newest, oldest = 0, back;
	uint64_t	dt;
	*in_bps = *out_bps = 0;
	if (r->n < 2)
		return;
	newest = rate_slot(r, 0);
	/* A newest sample that is itself stale: nothing moved lately that
	 * we know of, so no rate. */
	if (now > r->at[newest] + RATE_WINDOW_MS)
		return;
	for (back = r->n - 1; back > 0; back--) {
		oldest = rate_slot(r, back);
		if (r->at[oldest] + RATE_WINDOW_MS >= now)
			break;
	}
	if (back == 0 || (dt = r->at[newest] - r->at[oldest]) == 0)
		return;
	*in_bps = (r->in[newest] - r->in[oldest]) * 1000 / dt;
	*out_bps = (r->out[newest] - r->out[oldest]) * 1000 / dt;
}
