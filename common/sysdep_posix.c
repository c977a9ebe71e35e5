/* SPDX-License-Identifier: ISC */
/*
 * sysdep_posix.c - the portable forms of sysdep.h: what macOS gets, and
 * the fallbacks of the others.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "sysdep.h"

void
sysdep_wipe(void *p, size_t n)
{
	/* Through a volatile pointer: a store the compiler must keep. */
	static void *(*volatile wipe)(void *, int, size_t) = memset;

	wipe(p, 0, n);
}

int
sysdep_nosigpipe(int fd)
{
#ifdef SO_NOSIGPIPE
	int	one = 1;

	return setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#else
	(void)fd;
	return 0;
#endif
}

static int
sysdep_posix_flags(int fd, bool nonblock)
{
	int	fl;

	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	if (nonblock && ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1))
		return -1;
	return 0;
}

/* Between accept and fcntl another thread's fork could copy the
 * descriptor into a child: the race every system without accept4 has
 * (macOS).  sudo and the helper close what they are not given
 * (spawn_opts.close_others); the ssh of -e, started by the reconnect
 * worker, could hold such a connection open until it ends. */
/* A new descriptor (or -1) made close-on-exec and non-blocking: it,
 * or -1 with errno and the descriptor closed. */
static int
sysdep_posix_nb(int fd)
{
	int	saved;

	if (fd == -1 || sysdep_posix_flags(fd, true) == 0)
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
sysdep_posix_accept(int lfd)
{
	return sysdep_posix_nb(accept(lfd, NULL, NULL));
}

int
sysdep_posix_socket(int domain, int type, int protocol)
{
	return sysdep_posix_nb(socket(domain, type, protocol));
}

int
sysdep_posix_pipe(int p[2], int flags)
{
	int	saved;

	if (pipe(p) == -1)
		return -1;
	if (sysdep_posix_flags(p[0], flags & SYSDEP_NONBLOCK) == -1 ||
	    sysdep_posix_flags(p[1], flags & SYSDEP_NONBLOCK) == -1) {
		saved = errno;
		close(p[0]);
		close(p[1]);
		errno = saved;
		return -1;
	}
	return 0;
}

int
sysdep_posix_wake_open(struct sysdep_wake *w)
{
	int	p[2];

	w->rfd = w->wfd = -1;
	if (sysdep_posix_pipe(p, SYSDEP_NONBLOCK) == -1)
		return -1;
	w->rfd = p[0];
	w->wfd = p[1];
	return 0;
}

void
sysdep_posix_wake_post(const struct sysdep_wake *w)
{
	uint8_t	b = 1;

	/* A full pipe is posted already. */
	(void)!write(w->wfd, &b, 1);
}

bool
sysdep_posix_wake_clear(const struct sysdep_wake *w)
{
	uint8_t	buf[64];
	bool	posted = false;

	while (read(w->rfd, buf, sizeof(buf)) > 0)
		posted = true;
	return posted;
}

/* The same for both kinds: eventfd's one descriptor or a pipe's two. */
void
sysdep_wake_close(struct sysdep_wake *w)
{
	if (w->rfd >= 0)
		close(w->rfd);
	if (w->wfd >= 0 && w->wfd != w->rfd)
		close(w->wfd);
	w->rfd = w->wfd = -1;
}
