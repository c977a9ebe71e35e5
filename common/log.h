/* SPDX-License-Identifier: ISC */
/*
 * log.h - one logging path for the client, the firewall helper and the stub.
 *
 * Messages go to stderr as "<prog>: <text>" (the stub's stderr reaches
 * the client through SSH), or to syslog (facility daemon) once
 * log_use_syslog() is called.  Levels: error and warn always, info unless
 * quiet, debug with -v, trace with -vv.
 */
#ifndef CSHUTTLE_LOG_H
#define CSHUTTLE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
	LOG_LVL_TRACE,
};

/* Sees every message that is logged, as formatted (without the prefix). */
typedef void	log_hook_fn(enum log_level lvl, const char *msg);

/* prog: prefix for every line (static string).  verbose: -v count
 * (0 = info), or -1 for quiet (errors and warnings only). */
void	log_init(const char *prog, int verbose);
/*
 * true: from now on to syslog (ident "cshuttle", facility daemon); false: back
 * to stderr.  In client/log_syslog.c, which only the client links: the stub
 * stays free of libc's syslog code.
 */
void	log_use_syslog(bool on);
/* Where messages go instead of stderr (NULL: stderr). */
void	log_set_sink(log_hook_fn *sink);
/* One observer at most, besides the sink; NULL removes it.  Called from
 * whichever thread logs. */
void	log_set_hook(log_hook_fn *hook);
int	log_enabled(enum log_level lvl);
void	log_msg(enum log_level lvl, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

/*
 * Rate-limited messages: at most one line per `interval_ms` through each
 * struct log_limit (zeroed before first use), which counts the lines it
 * kept back and says so on the next one that gets through ("(and 3 more
 * like it)").  For causes a remote or the network can repeat at will: a
 * dead server under steady traffic must not flood the terminal.
 */
struct log_limit {
	uint64_t	last;		/* clock_ms() of the last line, 0 = never */
	unsigned long	skipped;	/* lines kept back since */
};

void	log_limited(struct log_limit *ll, uint64_t interval_ms, enum log_level lvl,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * An internal error that must not happen (a broken invariant found after
 * a check, never bad input): log it and exit with CSHUTTLE_EXIT_FATAL.
 */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#define log_error(...)	log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	do { if (log_enabled(LOG_LVL_DEBUG)) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)
#define log_trace(...)	do { if (log_enabled(LOG_LVL_TRACE)) log_msg(LOG_LVL_TRACE, __VA_ARGS__); } while (0)

#endif
