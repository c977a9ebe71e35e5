/* SPDX-License-Identifier: ISC */
/*
 * sigq.c - signals as a descriptor (see sigq.h): signalfd where it
 * exists, a self-pipe everywhere.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/signalfd.h>
#endif

#include "sigq.h"
#include "sysdep.h"

#define SIGQ_SIGNALFD	1
#define SIGQ_PIPE	2

/* The pipe's write end, for the handler; -1 while no pipe sigq is open. */
static volatile sig_atomic_t	sigq_wfd = -1;

static void
sigq_handler(int signo)
{
	uint8_t	b = (uint8_t)signo;
	int	saved = errno;
	ssize_t	n;

	/* Full pipe: that signal is waiting already, or hundreds are. */
	n = write(sigq_wfd, &b, 1);
	(void)n;
	errno = saved;
}

static int
sigq_open_pipe(struct sigq *q, const sigset_t *mask)
{
	struct sigaction	sa;
	sigset_t		unblock;
	int			p[2], i;

	if (sigq_wfd != -1)
		return -EBUSY;
	if (sysdep_pipe(p, SYSDEP_NONBLOCK) == -1)
		return -errno;
	q->kind = SIGQ_PIPE;
	q->fd = p[0];
	q->wfd = p[1];
	sigq_wfd = p[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sigq_handler;
	sigfillset(&sa.sa_mask);
	/* No SA_RESTART: the loop's wait returns at once (EINTR). */
	sigemptyset(&unblock);
	for (i = 0; i < q->nsig; i++) {
		(void)sigaction(q->signo[i], &sa, &q->old[i]);
		sigaddset(&unblock, q->signo[i]);
	}
	(void)mask;
	(void)pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
	return 0;
}

#ifdef __linux__
static int
sigq_open_signalfd(struct sigq *q, const sigset_t *mask)
{
	if ((q->fd = signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		return -errno;
	q->kind = SIGQ_SIGNALFD;
	return 0;
}
#endif

int
sigq_open(struct sigq *q, const sigset_t *mask, const char *name)
{
	int	s;

	memset(q, 0, sizeof(*q));
	q->fd = q->wfd = -1;
	for (s = 1; s < NSIG; s++) {
		if (sigismember(mask, s) != 1)
			continue;
		if (q->nsig == SIGQ_MAX)
			return -EINVAL;
		q->signo[q->nsig++] = s;
	}
#ifdef __linux__
	if (name == NULL || strcmp(name, "signalfd") == 0)
		return sigq_open_signalfd(q, mask);
#endif
	if (name == NULL || strcmp(name, "pipe") == 0)
		return sigq_open_pipe(q, mask);
	return -ENOSYS;
}

const char *
sigq_name(const struct sigq *q)
{
	return q->kind == SIGQ_SIGNALFD ? "signalfd" : q->kind == SIGQ_PIPE ? "pipe" : "none";
}

int
sigq_next(struct sigq *q)
{
#ifdef __linux__
	struct signalfd_siginfo	si;
#endif
	uint8_t			b;
	ssize_t			n;

#ifdef __linux__
	if (q->kind == SIGQ_SIGNALFD) {
		if ((n = read(q->fd, &si, sizeof(si))) == (ssize_t)sizeof(si))
			return (int)si.ssi_signo;
		return n == -1 && errno != EAGAIN ? -errno : 0;
	}
#endif
	if ((n = read(q->fd, &b, 1)) == 1)
		return b;
	return n == -1 && errno != EAGAIN ? -errno : 0;
}

void
sigq_close(struct sigq *q)
{
	sigset_t	block;
	int		i;

	if (q->kind == SIGQ_PIPE) {
		/* Blocked again first: no handler may run half-restored. */
		sigemptyset(&block);
		for (i = 0; i < q->nsig; i++)
			sigaddset(&block, q->signo[i]);
		(void)pthread_sigmask(SIG_BLOCK, &block, NULL);
		for (i = 0; i < q->nsig; i++)
			(void)sigaction(q->signo[i], &q->old[i], NULL);
		sigq_wfd = -1;
		close(q->wfd);
	}
	if (q->fd >= 0)
		close(q->fd);
	q->fd = q->wfd = -1;
	q->kind = 0;
}
