/* SPDX-License-Identifier: ISC */
/*
 * reload.h - SIGHUP: read the options again and apply what can change
 * without a new session.
 *
 * Reading them blocks: options_parse() reads the --config file and the
 * -s/-X files, and resolve_options() may wait seconds for a name server.
 * The event loop must not (every connection would stall), so the reload
 * is in two parts, as the reconnect worker (supervise.h) is: a thread
 * parses and resolves, and reports through an eventfd the loop watches;
 * the loop then joins it and applies the result (reload_done): subnets,
 * excludes, DNS capture and leak blocking in one fw_apply, then the
 * verbosity, the alive times and --no-reconnect.  Keys that would need a
 * new session are logged and ignored.  A SIGHUP that comes while the
 * thread runs is remembered, and one more reload follows it.
 *
 * options_parse() uses getopt_long()'s global state: after start-up only
 * this thread calls it, one at a time.
 */
#ifndef CSHUTTLE_RELOAD_H
#define CSHUTTLE_RELOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "worker.h"

#define RELOAD_ERR_MAX		1024

struct options;
struct tunnel;

struct reload {
	int		 argc;		/* what options_parse() reads again */
	char		**argv;
	struct worker	 w;		/* the thread and its eventfd */
	bool		 again;		/* a SIGHUP came while it ran */
	atomic_bool	 cancel;	/* shutdown: ask no more names */
	/* The thread's result, read after the join. */
	struct options	*o;		/* parsed and resolved; NULL on failure */
	char		 err[RELOAD_ERR_MAX];
};

/* 0, or -1 with errno (no eventfd). */
int	reload_init(struct reload *r, int argc, char **argv);
/* Cancels and joins a running thread first (reload_cancel). */
void	reload_destroy(struct reload *r);
int	reload_fd(const struct reload *r);
/*
 * Start the thread on the argv of reload_init(); while one runs, only
 * remember that another must follow.  1 when it started, 0 when it was
 * remembered, -1 with errno when it could not start.
 */
int	reload_start(struct reload *r);
/*
 * After reload_fd() became readable: join the thread and take its
 * result.  0 with *o, parsed and resolved and the caller's from now on,
 * or with *o NULL and the reason in err ("FILE:LINE: problem", "cannot
 * resolve host ..."); *again: a SIGHUP came meanwhile (reload_start()
 * again after applying).  -1 when no thread had finished.
 */
int	reload_collect(struct reload *r, struct options **o, bool *again,
	    char *err, size_t errlen);
/*
 * Stop a running thread: no more names are asked, and it is given
 * grace_ms to finish the one lookup in progress.  true when it ended (or
 * none ran); false when it is still blocked (leave with _exit() then,
 * as for a stuck reconnect worker).
 */
bool	reload_cancel(struct reload *r, int grace_ms);

/* The tunnel's hooks; arg is the struct client (client.h). */
void	reload_hup(void *arg, struct tunnel *t);	/* SIGHUP */
void	reload_done(void *arg, struct tunnel *t);	/* reload_fd() readable */

#endif
