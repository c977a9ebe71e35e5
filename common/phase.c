/* SPDX-License-Identifier: ISC */
/*
 * phase.c - start-up timing for -v (phase.h).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "clock.h"
#include "log.h"
#include "phase.h"

static uint64_t	phase_t0;	/* 0: not started, or done */

void
phase_start(void)
{
	phase_t0 = clock_ms();
}

void
phase_mark(const char *what, ...)
{
	char	buf[200];
	va_list	ap;

	if (phase_t0 == 0 || !log_enabled(LOG_LVL_DEBUG))
		return;
	va_start(ap, what);
	vsnprintf(buf, sizeof(buf), what, ap);
	va_end(ap);
	log_debug("start-up: %llu ms: %s", (unsigned long long)(clock_ms() - phase_t0), buf);
}

void
phase_done(void)
{
	if (phase_t0 == 0)
		return;
	log_debug("start-up: %llu ms: the first session is ready",
	    (unsigned long long)(clock_ms() - phase_t0));
	phase_t0 = 0;
}

void
phase_stop(void)
{
	phase_t0 = 0;
}
