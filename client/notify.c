/* SPDX-License-Identifier: ISC */
/*
 * notify.c - sd_notify without libsystemd (notify.h).
 *
 * The protocol is one datagram of newline-separated KEY=VALUE lines sent
 * to $NOTIFY_SOCKET.  The manager enables SO_PASSCRED on its end, so the
 * kernel attaches our pid, which is how NotifyAccess=main tells the main
 * process from its children; nothing else identifies the sender.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static struct {
	int			fd;		/* -1: nothing to send to */
	struct sockaddr_un	addr;
	socklen_t		addrlen;
	int			watchdog_ms;
	void			(*relay)(const char *msg);
} notify = { .fd = -1 };

/* Decimal digits only, no sign or blanks: what systemd writes. */
static int
notify_parse_u64(const char *s, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/*
 * Fill the socket address.  An abstract name ("@name") is a NUL byte
 * followed by the name, and its length is exact: the kernel compares
 * addrlen bytes, so the usual sizeof(struct sockaddr_un) would name a
 * different socket padded with NULs.
 */
static int
notify_address(const char *e, struct sockaddr_un *sun, socklen_t *lenp)
{
	size_t	len = strlen(e);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (e[0] == '@') {
		if (len < 2 || len > sizeof(sun->sun_path))	/* '@' becomes the NUL */
			return -1;
		memcpy(sun->sun_path + 1, e + 1, len - 1);
		*lenp = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
		return 0;
	}
	if (e[0] != '/' || len >= sizeof(sun->sun_path))
		return -1;
	memcpy(sun->sun_path, e, len);
	*lenp = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	return 0;
}

static int
notify_watchdog_init(void)
{
	const char	*e;
	uint64_t	 usec, pid;

	if (notify_parse_u64(getenv("WATCHDOG_USEC"), &usec) != 0 || usec == 0)
		return 0;
	/* Set by the manager for the main process; a child that inherited
	 * the environment must not ping on its parent's behalf. */
	if ((e = getenv("WATCHDOG_PID")) != NULL && *e != '\0') {
		if (notify_parse_u64(e, &pid) != 0 || pid != (uint64_t)getpid())
			return 0;
	}
	usec /= 2;
	if (usec / 1000 >= INT_MAX)
		return INT_MAX;
	return usec < 1000 ? 1 : (int)(usec / 1000);
}

int
notify_init(void)
{
	const char	*e;
	struct timeval	 tv;

	if (notify.fd != -1)
		close(notify.fd);
	notify.fd = -1;
	notify.watchdog_ms = 0;

	if ((e = getenv("NOTIFY_SOCKET")) == NULL || *e == '\0')
		return 0;
	if (notify_address(e, &notify.addr, &notify.addrlen) != 0) {
		log_warn("NOTIFY_SOCKET=%s: not an absolute path or an abstract "
		    "socket name (@name) that fits a socket address; "
		    "no readiness notification will be sent", e);
		return -1;
	}
	if ((notify.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("NOTIFY_SOCKET: socket: %s", strerror(errno));
		return -1;
	}
	/*
	 * A datagram to a full queue blocks until there is room.  Bound
	 * that wait: the event loop calls this, and the tunnel matters
	 * more than one status line.  Blocking (not MSG_DONTWAIT) so that
	 * READY=1 survives a briefly busy manager.
	 */
	tv.tv_sec = NOTIFY_SEND_TIMEOUT_MS / 1000;
	tv.tv_usec = (NOTIFY_SEND_TIMEOUT_MS % 1000) * 1000;
	(void)setsockopt(notify.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	notify.watchdog_ms = notify_watchdog_init();
	return 0;
}

void
notify_send(const char *fmt, ...)
{
	va_list	 ap;
	char	*msg = NULL;
	int	 n, saved = errno;

	if (notify.fd == -1)
		return;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		log_debug("notify: out of memory");
		goto out;
	}
	if (notify.relay != NULL)
		notify.relay(msg);
	else if (sendto(notify.fd, msg, (size_t)n, MSG_NOSIGNAL,
	    (struct sockaddr *)&notify.addr, notify.addrlen) != (ssize_t)n)
		log_debug("notify: %s: %s", notify.addr.sun_path[0] != '\0' ?
		    notify.addr.sun_path : "abstract socket", strerror(errno));
 out:
	free(msg);
	errno = saved;
}

void
notify_relay(void (*fn)(const char *msg))
{
	notify.relay = fn;
}

int
notify_watchdog_ms(void)
{
	return notify.fd == -1 ? 0 : notify.watchdog_ms;
}
