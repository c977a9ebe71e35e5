/* SPDX-License-Identifier: ISC */
/*
 * daemon.c - detaching into the background (daemon.h).
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "exitcode.h"
#include "log.h"
#include "sysdep.h"

#define DAEMON_MSG_MAX	1024

static int		 daemon_fd = -1;	/* child: the report pipe */
static bool		 daemon_is;
static pthread_mutex_t	 daemon_mu = PTHREAD_MUTEX_INITIALIZER;
static char		 daemon_lasterr[DAEMON_MSG_MAX];

/* Until the report is sent, remember the last error for the parent. */
static void
daemon_hook(enum log_level lvl, const char *msg)
{
	if (lvl != LOG_LVL_ERROR)
		return;
	pthread_mutex_lock(&daemon_mu);
	snprintf(daemon_lasterr, sizeof(daemon_lasterr), "%s", msg);
	pthread_mutex_unlock(&daemon_mu);
}

/* The parent: relay the child's verdict and leave. */
static void
daemon_parent(int fd, pid_t pid)
{
	char	 buf[DAEMON_MSG_MAX + 32], *end, *msg;
	size_t	 len = 0;
	ssize_t	 n;
	long	 rc;
	int	 status;

	for (;;) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n > 0) {
			len += (size_t)n;
			/* The verdict is one line: a root run's processes
			 * (client/privsep.h) keep copies of the pipe, so
			 * its end may come much later. */
			if (len == sizeof(buf) - 1 || memchr(buf, '\n', len) != NULL)
				break;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		break;
	}
	buf[len] = '\0';
	if (len > 0) {
		rc = strtol(buf, &end, 10);
		msg = end + strspn(end, " ");
		msg[strcspn(msg, "\n")] = '\0';
		if (rc == CSHUTTLE_EXIT_OK)
			_exit(CSHUTTLE_EXIT_OK);
		if (*msg != '\0')
			fprintf(stderr, "cshuttle: %s\n", msg);
		_exit(rc > 0 && rc < 256 ? (int)rc : CSHUTTLE_EXIT_FAIL);
	}
	/* Not a word: the child died (a signal, or a crash). */
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "cshuttle: the background process was killed by signal %d "
		    "before the tunnel was up\n", WTERMSIG(status));
		_exit(CSHUTTLE_EXIT_FAIL);
	}
	fprintf(stderr, "cshuttle: the background process exited (status %d) before the "
	    "tunnel was up\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	_exit(WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) :
	    CSHUTTLE_EXIT_FAIL);
}

int
daemon_detach(char *err, size_t errlen)
{
	pid_t	pid;
	int	p[2], fd;

	if (sysdep_pipe(p, 0) == -1) {
		snprintf(err, errlen, "cannot detach: pipe: %s", strerror(errno));
		return -1;
	}
	/* Nothing buffered may be written twice. */
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "cannot detach: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		daemon_parent(p[0], pid);
	}
	close(p[0]);
	(void)setsid();
	/* Keep no directory busy (a mount point that could not be
	 * unmounted); "/" exists, so this cannot fail. */
	(void)!chdir("/");
	if ((fd = open("/dev/null", O_RDWR | O_NOCTTY)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	daemon_fd = p[1];
	daemon_is = true;
	log_set_hook(daemon_hook);
	return 0;
}

bool
daemon_detached(void)
{
	return daemon_is;
}

static void
daemon_report(const char *text)
{
	size_t	len = strlen(text), off = 0;
	ssize_t	n;

	while (off < len) {
		n = write(daemon_fd, text + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(daemon_fd);
	daemon_fd = -1;
	log_set_hook(NULL);
}

void
daemon_ready(void)
{
	if (daemon_fd >= 0)
		daemon_report("0\n");	/* CSHUTTLE_EXIT_OK */
}

void
daemon_failed(int rc)
{
	char	line[DAEMON_MSG_MAX + 32];

	if (daemon_fd < 0)
		return;
	pthread_mutex_lock(&daemon_mu);
	snprintf(line, sizeof(line), "%d %s\n",
	    rc != CSHUTTLE_EXIT_OK ? rc : CSHUTTLE_EXIT_FAIL,
	    daemon_lasterr[0] != '\0' ? daemon_lasterr :
	    "start-up failed (see the system log)");
	pthread_mutex_unlock(&daemon_mu);
	daemon_report(line);
}
