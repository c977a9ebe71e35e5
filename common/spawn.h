/* SPDX-License-Identifier: ISC */
/*
 * spawn.h - the one way cshuttle starts another process: `ssh -G`, the
 * external ssh of `-e`, sudo for the firewall helper, and the helper
 * itself when cshuttle runs as root.
 *
 * The child starts clean whatever the caller did to itself: every signal
 * handler back to default, no signal blocked (the client blocks signals
 * for its event loop and ignores SIGPIPE; both survive exec), and only
 * the descriptors it is given.  No handler of the caller's ever runs in
 * the child: signals stay blocked from before the fork until the
 * handlers are reset.  A failed exec is reported to the caller by
 * spawn_start() itself, with errno's reason, through a close-on-exec
 * status pipe, rather than as an exit status to be guessed at later.
 */
#ifndef CSHUTTLE_SPAWN_H
#define CSHUTTLE_SPAWN_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#define SPAWN_INHERIT	(-1)	/* the child keeps the parent's descriptor */
#define SPAWN_NULL	(-2)	/* /dev/null */

struct spawn_opts {
	/* argv[0] is a path, or a name looked up in $PATH.  NULL: run
	 * child_main instead of exec. */
	const char *const *argv;
	int	(*child_main)(void *arg);	/* its value is the exit status;
						 * the child then _exit()s, so
						 * stdio buffers are not flushed */
	void	*arg;
	int	 fd[3];		/* the child's 0, 1, 2: a descriptor of ours
				 * (any number, 0-2 included, the same one
				 * more than once), SPAWN_INHERIT or SPAWN_NULL */
	int	 keep_fd;	/* one more descriptor, at number keep_fd_at
				 * (> 2) in the child; -1: none */
	int	 keep_fd_at;
	bool	 close_others;	/* close every descriptor above 2 (and
				 * keep_fd_at), not only close-on-exec ones */
	const char *const *envp; /* the child's whole environment, NULL-
				 * terminated; NULL: ours */
	bool	 parent_death;	/* SIGTERM to the child when the thread that
				 * started it ends (Linux; a setuid exec
				 * drops it); a parent already gone makes it
				 * exit 1 */
};

/* Zero everything but the descriptors: fd[] = SPAWN_INHERIT, keep_fd -1. */
void	spawn_opts_init(struct spawn_opts *o);

/*
 * Start the child.  Returns its pid (> 0), or -1 with a one-line reason
 * in err ("cannot run 'ssh': No such file or directory", "fork: ...");
 * a child that could not be set up has been reaped by then.  The
 * caller's descriptors are never closed here, and the copies the child
 * gets lose close-on-exec.  Safe to call from any thread.
 */
pid_t	spawn_start(const struct spawn_opts *o, char *err, size_t errlen);

/*
 * Reap pid, waiting at most timeout_ms (< 0: as long as it takes); a
 * child still running then is killed (SIGKILL) and reaped.  Returns 0
 * with the waitpid() status in *status (may be NULL), 1 when it had to
 * be killed, -1 on error (errno; EPERM when it could not be killed: it
 * is then left running and unreaped).
 */
int	spawn_wait(pid_t pid, int timeout_ms, int *status);

/*
 * Reap pid if it has ended, without waiting: 1 with the waitpid()
 * status in *status (may be NULL), 0 while it runs, -1 on error (errno).
 */
int	spawn_poll(pid_t pid, int *status);

/* "exited with status 3", "killed by signal 9 (Killed)". */
const char *spawn_status_text(int status, char *buf, size_t len);

#endif
