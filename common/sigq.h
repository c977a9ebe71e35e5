/* SPDX-License-Identifier: ISC */
/*
 * sigq.h - signals as a readable descriptor, for an event loop.
 *
 * Two ways, the system's first: signalfd (Linux), and a self-pipe that
 * any POSIX system has (macOS, the BSDs): a handler writes the signal's
 * number into a non-blocking pipe whose read end the loop watches.  The
 * caller blocks the signals first (before it starts threads or
 * children, which inherit the mask); sigq_open() leaves them blocked for
 * signalfd and, for the pipe, installs the handlers and unblocks them in
 * the calling thread only, so that they are delivered there.  One sigq
 * per process with the pipe (its handler is process-wide).
 */
#ifndef CSHUTTLE_SIGQ_H
#define CSHUTTLE_SIGQ_H

#include <signal.h>

#define SIGQ_MAX	8	/* signals in one mask */

struct sigq {
	int		 kind;		/* SIGQ_SIGNALFD or SIGQ_PIPE */
	int		 fd;		/* what the loop watches */
	int		 wfd;		/* the pipe's write end */
	int		 nsig;
	int		 signo[SIGQ_MAX];
	struct sigaction old[SIGQ_MAX];	/* the pipe: handlers to restore */
};

/* With `name` ("signalfd", "pipe") or the system's first (NULL): 0,
 * -ENOSYS (not built here), -EBUSY (a pipe sigq is open), -EINVAL (more
 * than SIGQ_MAX signals), or -errno. */
int	sigq_open(struct sigq *q, const sigset_t *mask, const char *name);
const char *sigq_name(const struct sigq *q);
/* The next signal received, 0 when none is waiting, or -errno. */
int	sigq_next(struct sigq *q);
/* Handlers back as they were (the signals stay blocked), descriptors
 * closed. */
void	sigq_close(struct sigq *q);

#endif
