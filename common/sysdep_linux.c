/* SPDX-License-Identifier: ISC */
/*
 * sysdep_linux.c - sysdep.h on Linux: accept4, pipe2, eventfd.
 */
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "sysdep.h"

int
sysdep_accept(int lfd)
{
	return accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int
sysdep_socket(int domain, int type, int protocol)
{
	return socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
}

int
sysdep_pipe(int p[2], int flags)
{
	return pipe2(p, O_CLOEXEC | ((flags & SYSDEP_NONBLOCK) ? O_NONBLOCK : 0));
}

int
sysdep_wake_open(struct sysdep_wake *w)
{
	w->wfd = -1;
	if ((w->rfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	w->wfd = w->rfd;
	return 0;
}

void
sysdep_wake_post(const struct sysdep_wake *w)
{
	uint64_t	one = 1;

	(void)!write(w->wfd, &one, sizeof(one));
}

bool
sysdep_wake_clear(const struct sysdep_wake *w)
{
	uint64_t	n;

	return read(w->rfd, &n, sizeof(n)) == (ssize_t)sizeof(n);
}
