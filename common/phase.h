/* SPDX-License-Identifier: ISC */
/*
 * phase.h - how long cshuttle's start took, step by step, for -v.
 *
 * phase_start() at the top of main() sets the origin; each phase_mark()
 * then logs (debug) "start-up: N ms: WHAT", N counted from that origin,
 * until phase_done() logs the total, "start-up: N ms: the first session is
 * ready".  The origin is a CLOCK_MONOTONIC
 * value in this process's memory, so a child forked later (the
 * unprivileged tunnel of a root run) counts from the same moment, and
 * each process's lines read as one time line.  Reconnects are not start:
 * after phase_done() marks say nothing.
 */
#ifndef CSHUTTLE_PHASE_H
#define CSHUTTLE_PHASE_H

void	phase_start(void);
/* WHAT is a printf format. */
void	phase_mark(const char *what, ...) __attribute__((format(printf, 1, 2)));
/* The first session is ready: log the total, and stop. */
void	phase_done(void);
/* Stop without a word (a process that does not see the end). */
void	phase_stop(void);

#endif
