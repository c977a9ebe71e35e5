/* SPDX-License-Identifier: ISC */
/*
 * spawn.c - starting child processes (see spawn.h).
 */
#include <sys/types.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "spawn.h"
#include "sysdep.h"

/* POSIX: the program declares it (glibc does too, with _GNU_SOURCE). */
extern char **environ;

#define SPAWN_POLL_MS	10	/* spawn_wait() looks this often */

void
spawn_opts_init(struct spawn_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->fd[0] = o->fd[1] = o->fd[2] = SPAWN_INHERIT;
	o->keep_fd = -1;
}

static void
spawn_closefrom(int lowfd)
{
	long	max;
	int	fd;

#ifdef __linux__
	if (close_range((unsigned int)lowfd, ~0U, 0) == 0)
		return;
#endif
	if ((max = sysconf(_SC_OPEN_MAX)) < 0 || max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		(void)close(fd);
}

/*
 * Handlers and the mask survive exec (and fork): start from defaults.
 * Handlers first: everything is still blocked (spawn_start()), so a
 * signal that arrives in between meets the default action, never a
 * handler of the parent's.
 */
static void
spawn_reset_signals(void)
{
	sigset_t	none;
	int		sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Report errno to the parent and end the child: never returns. */
static void
spawn_child_fail(int statfd, int err)
{
	(void)!write(statfd, &err, sizeof(err));
	_exit(127);
}

/*
 * The child, between fork and exec: only async-signal-safe calls.  Every
 * descriptor it should end up with may sit at a number another one must
 * move to (a caller whose own 0-2 were closed gets its pipes there, or
 * swaps stdin and stdout), so all of them are first copied to numbers
 * above every target, then put in place.  Every descriptor made here is
 * closed again, so that a child_main sees only what it was given.
 */
static void
spawn_child(const struct spawn_opts *o, pid_t parent, int statfd, int devnull)
{
	int	fds[4], want[4], n = 0, i, low, fd;

#ifdef __linux__
	if (o->parent_death &&
	    (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent))
		_exit(1);
#else
	(void)parent;
#endif
	spawn_reset_signals();
	/* Above every target: 0-2 and keep_fd_at. */
	low = o->keep_fd >= 0 ? o->keep_fd_at + 1 : 3;
	if (statfd < low) {
		if ((fd = fcntl(statfd, F_DUPFD_CLOEXEC, low)) == -1)
			spawn_child_fail(statfd, errno);
		(void)close(statfd);
		statfd = fd;
	}
	for (i = 0; i < 3; i++) {
		if (o->fd[i] == SPAWN_INHERIT)
			continue;
		fds[n] = o->fd[i] == SPAWN_NULL ? devnull : o->fd[i];
		want[n++] = i;
	}
	if (o->keep_fd >= 0) {
		fds[n] = o->keep_fd;
		want[n++] = o->keep_fd_at;
	}
	for (i = 0; i < n; i++)
		if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, low)) == -1)
			spawn_child_fail(statfd, errno);
	/* Before the dup2()s: it may sit at a target number itself. */
	if (devnull != -1)
		(void)close(devnull);
	/* dup2() clears close-on-exec on the copies it makes. */
	for (i = 0; i < n; i++)
		if (dup2(fds[i], want[i]) == -1)
			spawn_child_fail(statfd, errno);
	for (i = 0; i < n; i++)
		(void)close(fds[i]);
	if (o->close_others) {
		/* Everything but 0-2, keep_fd_at and the status pipe. */
		for (i = 3; i < low; i++)
			if (!(o->keep_fd >= 0 && i == o->keep_fd_at))
				(void)close(i);
		for (i = low; i < statfd; i++)
			(void)close(i);
		spawn_closefrom(statfd + 1);
	}
	if (o->argv == NULL) {
		(void)close(statfd);	/* "started" */
		_exit(o->child_main(o->arg));
	}
	/* execvp() takes the environment from environ: an assignment, safe
	 * after fork() where setenv() (which allocates) is not. */
	if (o->envp != NULL)
		environ = (char **)o->envp;
	execvp(o->argv[0], (char *const *)o->argv);
	spawn_child_fail(statfd, errno);
}

pid_t
spawn_start(const struct spawn_opts *o, char *err, size_t errlen)
{
	sigset_t	 all, saved;
	pid_t		 pid, parent = getpid();
	int		 sp[2], devnull = -1, xerr = 0, i, e;
	ssize_t		 n;
	const char	*what = o->argv != NULL ? o->argv[0] : "helper";

	if ((o->argv == NULL && o->child_main == NULL) ||
	    (o->keep_fd >= 0 && o->keep_fd_at <= 2)) {
		snprintf(err, errlen, "spawn: %s", strerror(EINVAL));
		return -1;
	}
	for (i = 0; i < 3; i++) {
		if (o->fd[i] == SPAWN_NULL && devnull == -1 &&
		    (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "/dev/null: %s", strerror(errno));
			return -1;
		}
	}
	if (sysdep_pipe(sp, 0) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		if (devnull != -1)
			close(devnull);
		return -1;
	}
	/* Nothing may reach a handler of ours in the child (see
	 * spawn_reset_signals()); our own mask is back right after. */
	sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &saved);
	if ((pid = fork()) == 0) {
		close(sp[0]);
		spawn_child(o, parent, sp[1], devnull);
	}
	e = errno;
	(void)pthread_sigmask(SIG_SETMASK, &saved, NULL);
	close(sp[1]);
	if (devnull != -1)
		close(devnull);
	if (pid == -1) {
		snprintf(err, errlen, "fork: %s", strerror(e));
		close(sp[0]);
		return -1;
	}
	/* The status pipe closes on a successful exec (or start of
	 * child_main); an errno arrives when it failed. */
	do
		n = read(sp[0], &xerr, sizeof(xerr));
	while (n == -1 && errno == EINTR);
	close(sp[0]);
	if (n == (ssize_t)sizeof(xerr)) {
		snprintf(err, errlen, "cannot run '%s': %s", what, strerror(xerr));
		(void)spawn_wait(pid, -1, NULL);
		return -1;
	}
	return pid;
}

int
spawn_poll(pid_t pid, int *status)
{
	int	st = 0;
	pid_t	r;

	do
		r = waitpid(pid, &st, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	if (r == 0)
		return 0;
	if (status != NULL)
		*status = st;
	return 1;
}

int
spawn_wait(pid_t pid, int timeout_ms, int *status)
{
	struct timespec	 ts = { 0, SPAWN_POLL_MS * 1000 * 1000 };
	int64_t		 deadline;
	int		 st = 0, killed = 0, r;

	if (timeout_ms >= 0) {
		deadline = (int64_t)clock_ms() + timeout_ms;
		while ((r = spawn_poll(pid, &st)) == 0 &&
		    clock_remaining_ms(deadline) > 0)
			nanosleep(&ts, NULL);
		if (r == -1)
			return -1;
		if (r == 0) {
			if (kill(pid, SIGKILL) == -1)
				return -1;
			killed = 1;
		}
	}
	if (timeout_ms < 0 || killed) {
		while (waitpid(pid, &st, 0) == -1)
			if (errno != EINTR)
				return -1;
	}
	if (status != NULL)
		*status = st;
	/* It may have ended on its own just before the signal. */
	return killed && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

const char *
spawn_status_text(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended with wait status %d", status);
	return buf;
}
