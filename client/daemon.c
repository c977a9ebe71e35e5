/*
 * daemon.c - detaching and pid files (daemon.h).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

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
			if (len == sizeof(buf) - 1)
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
		if (rc == 0)
			_exit(0);
		if (*msg != '\0')
			fprintf(stderr, "cshuttle: %s\n", msg);
		_exit(rc > 0 && rc < 256 ? (int)rc : 1);
	}
	/* Not a word: the child died (a signal, or a crash). */
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "cshuttle: the background process was killed by signal %d "
		    "before the tunnel was up\n", WTERMSIG(status));
		_exit(1);
	}
	fprintf(stderr, "cshuttle: the background process exited (status %d) before the "
	    "tunnel was up\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	_exit(WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1);
}

int
daemon_detach(char *err, size_t errlen)
{
	pid_t	pid;
	int	p[2], fd;

	if (pipe2(p, O_CLOEXEC) == -1) {
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
		daemon_report("0\n");
}

void
daemon_failed(int rc)
{
	char	line[DAEMON_MSG_MAX + 32];

	if (daemon_fd < 0)
		return;
	pthread_mutex_lock(&daemon_mu);
	snprintf(line, sizeof(line), "%d %s\n", rc != 0 ? rc : 1,
	    daemon_lasterr[0] != '\0' ? daemon_lasterr :
	    "start-up failed (see the system log)");
	pthread_mutex_unlock(&daemon_mu);
	daemon_report(line);
}

/* ---- pid files ---- */

int
pidfile_path(const char *path, char *abs, size_t abslen, char *err, size_t errlen)
{
	char	cwd[PATH_MAX];
	int	n;

	if (path[0] == '/')
		n = snprintf(abs, abslen, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL) {
		snprintf(err, errlen, "pid file %s: cannot find the current directory: %s",
		    path, strerror(errno));
		return -1;
	} else
		n = snprintf(abs, abslen, "%s/%s", cwd, path);
	if (n < 0 || (size_t)n >= abslen) {
		snprintf(err, errlen, "pid file %s: path too long", path);
		return -1;
	}
	return 0;
}

pid_t
pidfile_read(const char *path)
{
	char	 buf[32], *end;
	ssize_t	 n;
	long	 v;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || v <= 0 || v > INT_MAX ||
	    (*end != '\0' && *end != '\n' && *end != ' '))
		return -1;
	return (pid_t)v;
}

static bool
pidfile_comm(pid_t pid, char *out, size_t outlen)
{
	char	path[64];
	ssize_t	n;
	int	fd;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/comm");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, out, outlen - 1);
	close(fd);
	if (n <= 0)
		return false;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return true;
}

bool
pidfile_live(pid_t pid, const char *name)
{
	char	comm[64];

	if (pid <= 0 || (kill(pid, 0) == -1 && errno != EPERM))
		return false;
	/* Alive, but what?  A pid from a stale file may have been reused. */
	if (!pidfile_comm(pid, comm, sizeof(comm)))
		return true;	/* cannot tell: the safe answer */
	return strcmp(comm, "cshuttle") == 0 || (name != NULL && strcmp(comm, name) == 0);
}

int
pidfile_check(const char *path, char *err, size_t errlen)
{
	char	self[64];
	pid_t	pid;

	if ((pid = pidfile_read(path)) <= 0 || pid == getpid())
		return 0;
	if (!pidfile_comm(0, self, sizeof(self)))
		self[0] = '\0';
	if (pidfile_live(pid, self[0] != '\0' ? self : NULL)) {
		snprintf(err, errlen, "pid file %s names a running cshuttle (pid %d)", path,
		    (int)pid);
		return -1;
	}
	return 0;
}

int
pidfile_write(const char *path, pid_t pid, char *err, size_t errlen)
{
	char	tmp[PATH_MAX + 16], line[32];
	int	fd, n;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "pid file %s: path too long", path);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "cannot write the pid file %s: %s", path, strerror(errno));
		return -1;
	}
	n = snprintf(line, sizeof(line), "%d\n", (int)pid);
	if (write(fd, line, (size_t)n) != n || fchmod(fd, 0644) != 0) {
		snprintf(err, errlen, "cannot write the pid file %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot write the pid file %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

void
pidfile_remove(const char *path, pid_t pid)
{
	/* Another instance may have replaced it since: leave that one. */
	if (pidfile_read(path) == pid)
		(void)unlink(path);
}
