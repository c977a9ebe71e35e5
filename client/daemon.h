/*
 * daemon.h - -D (detach into the background) and --pidfile.
 *
 * -D forks before anything else happens.  The parent stays until the
 * child reports over a pipe: "up" (the tunnel works: the parent exits 0)
 * or its failure, the exit code and the one-line error it logged last,
 * which the parent prints on its own stderr and exits with.  So a script
 * running `cshuttle -D ...` sees the same result as with a foreground
 * start, and the tunnel works once the command returns.
 */
#ifndef CSHUTTLE_DAEMON_H
#define CSHUTTLE_DAEMON_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

/*
 * Fork; the parent never returns from here (it waits for the child's
 * report and exits with it).  The child becomes a session leader with
 * stdin, stdout and stderr on /dev/null and "/" as its directory, and
 * returns 0.  -1 with a reason in err when forking failed (nothing
 * changed).
 */
int	daemon_detach(char *err, size_t errlen);
bool	daemon_detached(void);
/* Child: the tunnel is up; the parent exits 0.  Once; no-op otherwise. */
void	daemon_ready(void);
/* Child, before daemon_ready(): start-up failed with exit code rc; the
 * parent prints the last error logged and exits rc.  No-op otherwise. */
void	daemon_failed(int rc);

/*
 * Pid files.  The path is made absolute (the daemon leaves its working
 * directory) into abs, which the other calls take.
 */
int	pidfile_path(const char *path, char *abs, size_t abslen, char *err, size_t errlen);
/* The pid in a pid file: > 0, or -1 (missing, unreadable, garbage). */
pid_t	pidfile_read(const char *path);
/* Is pid a running process called `name` (its /proc comm) or "cshuttle"? */
bool	pidfile_live(pid_t pid, const char *name);
/* 0, or -1 with a reason in err when the file names a live cshuttle
 * other than this process.  A stale file is fine (it gets replaced). */
int	pidfile_check(const char *path, char *err, size_t errlen);
/* Write pid atomically (temporary file, then rename), mode 0644.  0, or -1
 * with a reason in err. */
int	pidfile_write(const char *path, pid_t pid, char *err, size_t errlen);
/* Remove the file if it still names pid. */
void	pidfile_remove(const char *path, pid_t pid);

#endif
