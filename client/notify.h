/* SPDX-License-Identifier: ISC */
/*
 * notify.h - readiness, status and watchdog messages to the service
 * manager: systemd's sd_notify protocol, spoken directly (one datagram on
 * an AF_UNIX socket) so that cshuttle needs no libsystemd.
 *
 * Under systemd (Type=notify) the manager passes NOTIFY_SOCKET, and with
 * WatchdogSec= also WATCHDOG_USEC and WATCHDOG_PID.  Outside systemd the
 * variables are unset and every call here does nothing, so callers never
 * need to ask whether they run under a service manager.
 *
 * The state is process-wide; the functions may be called from any thread
 * once notify_init() has returned.
 */
#ifndef CSHUTTLE_NOTIFY_H
#define CSHUTTLE_NOTIFY_H

/* How long notify_send() may wait for room in a full manager queue. */
#define NOTIFY_SEND_TIMEOUT_MS	1000

/*
 * Read NOTIFY_SOCKET (an absolute path, or "@name" for a Linux abstract
 * socket), WATCHDOG_USEC and WATCHDOG_PID, and open the sending socket.
 * Each call replaces the state of the previous one.  Returns 0, also when
 * the variables are unset; -1 (after a warning in the log) when
 * NOTIFY_SOCKET is set but unusable (not absolute, too long, no socket),
 * in which case nothing will be sent.  Malformed WATCHDOG_* values only
 * disable the watchdog, as sd_watchdog_enabled(3) does.  The environment
 * is left as it is: NotifyAccess=main makes the manager ignore children.
 */
int	notify_init(void);

/*
 * Send one datagram whose payload is the formatted text, newline-separated
 * KEY=VALUE assignments such as "READY=1\nSTATUS=connected to pi".
 * Nothing happens when there is no notify socket.  Failures (the manager
 * went away, its queue stayed full for NOTIFY_SEND_TIMEOUT_MS) are logged
 * at debug level and otherwise ignored: a lost WATCHDOG=1 is sent again
 * at the next tick, and the tunnel must not depend on the manager.
 */
void	notify_send(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/*
 * Interval in milliseconds at which to send "WATCHDOG=1": half of
 * WATCHDOG_USEC (at least 1 ms), as sd_watchdog_enabled(3) advises.
 * 0 when there is no watchdog: WATCHDOG_USEC unset, 0 or malformed,
 * WATCHDOG_PID set to another process (or malformed), or no notify socket
 * to send to.
 */
int	notify_watchdog_ms(void);

/*
 * The unprivileged side of a root run (privsep.h) is not the service's
 * main process: from then on notify_send() hands each formatted message
 * to fn, which passes it to the main process, instead of sending it.
 * The watchdog interval stays the one notify_init() computed in the main
 * process before the split.
 */
void	notify_relay(void (*fn)(const char *msg));

#endif
