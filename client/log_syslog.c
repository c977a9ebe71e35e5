/* SPDX-License-Identifier: ISC */
/*
 * log_syslog.c - the syslog sink for log.c (--syslog, -D).
 *
 * Apart from common/log.c because the stub links that file and must not
 * carry libc's syslog code (time zones and all) to every remote.
 */
#include <stddef.h>
#include <syslog.h>

#include "log.h"

static bool	log_syslog_on;

static void
log_syslog_sink(enum log_level lvl, const char *msg)
{
	int	prio;

	switch (lvl) {
	case LOG_LVL_ERROR:
		prio = LOG_ERR;
		break;
	case LOG_LVL_WARN:
		prio = LOG_WARNING;
		break;
	case LOG_LVL_INFO:
		prio = LOG_INFO;
		break;
	default:
		prio = LOG_DEBUG;
		break;
	}
	syslog(prio, "%s", msg);
}

void
log_use_syslog(bool on)
{
	if (on && !log_syslog_on) {
		/* LOG_NDELAY: connect now, while /dev/log is certainly
		 * reachable (before any descriptor limit is reached). */
		openlog("cshuttle", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_set_sink(log_syslog_sink);
	} else if (!on && log_syslog_on) {
		log_set_sink(NULL);
		closelog();
	}
	log_syslog_on = on;
}
