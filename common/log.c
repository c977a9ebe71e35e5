/* SPDX-License-Identifier: ISC */
/*
 * log.c - stderr (or syslog) logging with a program prefix.
 *
 * Each message is formatted into one buffer and written with a single
 * write(2) so lines from the client, the helper and the stub never
 * interleave mid-line on a shared terminal.  Nothing here keeps state
 * between calls but the settings, so threads may log at once.  A sink
 * (syslog, log_syslog.c) takes the place of stderr.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "exitcode.h"
#include "log.h"

static const char	*log_prog = "cshuttle";
static int		 log_level = LOG_LVL_INFO;
static log_hook_fn	*log_sink;
static log_hook_fn	*log_hook;

void
log_init(const char *prog, int verbose)
{
	if (prog != NULL)
		log_prog = prog;
	if (verbose < 0)
		log_level = LOG_LVL_WARN;
	else if (verbose > 2)
		log_level = LOG_LVL_TRACE;
	else
		log_level = LOG_LVL_INFO + verbose;
}

void
log_set_sink(log_hook_fn *sink)
{
	log_sink = sink;
}

void
log_set_hook(log_hook_fn *hook)
{
	log_hook = hook;
}

int
log_enabled(enum log_level lvl)
{
	return (int)lvl <= log_level;
}

void
log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char		 line[1024];
	int		 n, m, saved = errno;
	log_hook_fn	*hook = log_hook, *sink = log_sink;

	if (!log_enabled(lvl))
		return;
	n = snprintf(line, sizeof(line), "%s: ", log_prog);
	if (n < 0)
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		m = 0;
	if (hook != NULL)
		hook(lvl, line + n);
	if (sink != NULL) {
		sink(lvl, line + n);
		errno = saved;
		return;
	}
	n += m;
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;	/* truncated: keep the newline */
	line[n++] = '\n';
	/* Best effort: a log line that cannot be written is dropped. */
	(void)!write(STDERR_FILENO, line, (size_t)n);
	errno = saved;
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void
log_limited(struct log_limit *ll, uint64_t interval_ms, enum log_level lvl,
    const char *fmt, ...)
{
	char		 msg[768];
	va_list		 ap;
	uint64_t	 now;

	if (!log_enabled(lvl))
		return;
	now = clock_ms();
	if (ll->last != 0 && now - ll->last < interval_ms) {
		ll->skipped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ll->skipped > 0)
		log_msg(lvl, "%s (and %lu more like it)", msg, ll->skipped);
	else
		log_msg(lvl, "%s", msg);
	ll->last = now;
	ll->skipped = 0;
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(CSHUTTLE_EXIT_FATAL);
}
