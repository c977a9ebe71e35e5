/* SPDX-License-Identifier: ISC */
/*
 * daemon.h - -D: detach into the background (--pidfile: pidfile.h).
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

#endif
