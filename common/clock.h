/* SPDX-License-Identifier: ISC */
/*
 * clock.h - the one clock: milliseconds on CLOCK_MONOTONIC.
 *
 * Every deadline, timer and rate limit in cshuttle is measured here, so
 * that a change of the wall clock never fires or delays one.
 */
#ifndef CSHUTTLE_CLOCK_H
#define CSHUTTLE_CLOCK_H

#include <stdint.h>

/* Monotonic milliseconds (they do not advance while the system sleeps). */
uint64_t clock_ms(void);

/*
 * Milliseconds left until `deadline` (a clock_ms() value), never
 * negative, at most INT32_MAX; -1 when deadline < 0 ("no deadline"): the
 * form poll() takes as its timeout.
 */
int	 clock_remaining_ms(int64_t deadline);

#endif
