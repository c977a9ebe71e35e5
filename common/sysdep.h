/* SPDX-License-Identifier: ISC */
/*
 * sysdep.h - the calls whose best form is the system's own, one file per
 * system (CMake chooses: sysdep_linux.c, sysdep_bsd.c), each falling
 * back on the portable forms of sysdep_posix.c, which every build has
 * and the tests run everywhere (test_sysdep).
 *
 *   accept, socket	accept4 and socket with SOCK_NONBLOCK | SOCK_CLOEXEC
 *			on Linux and FreeBSD (10 and later); accept or socket,
 *			then fcntl, on macOS
 *   pipe		pipe2(O_CLOEXEC [| O_NONBLOCK]), or pipe and fcntl
 *   wake		a descriptor a thread makes readable for the loop:
 *			eventfd on Linux, a pipe elsewhere
 *   MSG_NOSIGNAL	0 where send() has no such flag (macOS): SIGPIPE is
 *			ignored by the client anyway, the flag only spares
 *			the signal where it exists
 *   explicit_bzero	sysdep_wipe where libc lacks it (macOS; FreeBSD
 *			before 11), as OpenSSH's compatibility layer does
 */
#ifndef CSHUTTLE_SYSDEP_H
#define CSHUTTLE_SYSDEP_H

#include <sys/socket.h>
#if defined(__FreeBSD__)
#include <sys/param.h>		/* __FreeBSD_version */
#endif

#include <stdbool.h>
#include <stddef.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL	0
#endif

/* Clear secrets in a way the compiler may not drop. */
void	sysdep_wipe(void *p, size_t n);
#if !defined(__linux__) && \
    !(defined(__FreeBSD_version) && __FreeBSD_version >= 1100000)
#define explicit_bzero(p, n)	sysdep_wipe((p), (n))
#endif

#define SYSDEP_NONBLOCK	1	/* sysdep_pipe: both ends non-blocking */

/* A wake descriptor: rfd readable after sysdep_wake_post, until
 * sysdep_wake_clear.  With eventfd, rfd == wfd. */
struct sysdep_wake {
	int	rfd;
	int	wfd;
};

/* Writes to a closed peer fail with EPIPE instead of raising SIGPIPE,
 * together with send(MSG_NOSIGNAL): SO_NOSIGPIPE where it exists (macOS,
 * FreeBSD), nothing to do on Linux.  0, or -1 and errno. */
int	sysdep_nosigpipe(int fd);

/* The system's forms.  Each: as the call it stands for (-1 and errno). */
int	sysdep_accept(int lfd);
/* socket(2) with close-on-exec and non-blocking set. */
int	sysdep_socket(int domain, int type, int protocol);
int	sysdep_pipe(int p[2], int flags);
int	sysdep_wake_open(struct sysdep_wake *w);
/* Safe from any thread and from a signal handler. */
void	sysdep_wake_post(const struct sysdep_wake *w);
/* True when it had been posted (and no longer is). */
bool	sysdep_wake_clear(const struct sysdep_wake *w);
void	sysdep_wake_close(struct sysdep_wake *w);

/* The portable forms, which the above fall back on. */
int	sysdep_posix_accept(int lfd);
int	sysdep_posix_socket(int domain, int type, int protocol);
int	sysdep_posix_pipe(int p[2], int flags);
int	sysdep_posix_wake_open(struct sysdep_wake *w);
void	sysdep_posix_wake_post(const struct sysdep_wake *w);
bool	sysdep_posix_wake_clear(const struct sysdep_wake *w);

#endif
