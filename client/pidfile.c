/* SPDX-License-Identifier: ISC */
/*
 * pidfile.c - --pidfile (pidfile.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidfile.h"

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
