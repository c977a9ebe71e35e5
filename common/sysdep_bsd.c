/* SPDX-License-Identifier: ISC */
/*
 * sysdep_bsd.c - sysdep.h on macOS and the BSDs: FreeBSD has accept4 and
 * pipe2 since 10.0; macOS has neither, nor eventfd, and takes the
 * portable forms.
 */
#include <sys/param.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <unistd.h>

#include "sysdep.h"

int
sysdep_accept(int lfd)
{
#if defined(__FreeBSD_version) && __FreeBSD_version >= 1000000
	return accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
	return sysdep_posix_accept(lfd);
#endif
}

int
sysdep_socket(int domain, int type, int protocol)
{
#if defined(__FreeBSD_version) && __FreeBSD_version >= 1000000
	return socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
#else
	return sysdep_posix_socket(domain, type, protocol);
#endif
}

int
sysdep_pipe(int p[2], int flags)
{
#if defined(__FreeBSD_version) && __FreeBSD_version >= 1000000
	return pipe2(p, O_CLOEXEC | ((flags & SYSDEP_NONBLOCK) ? O_NONBLOCK : 0));
#else
	return sysdep_posix_pipe(p, flags);
#endif
}

int
sysdep_wake_open(struct sysdep_wake *w)
{
	return sysdep_posix_wake_open(w);
}

void
sysdep_wake_post(const struct sysdep_wake *w)
{
	sysdep_posix_wake_post(w);
}

bool
sysdep_wake_clear(const struct sysdep_wake *w)
{
	return sysdep_posix_wake_clear(w);
}
