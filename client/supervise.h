/* SPDX-License-Identifier: ISC */
/*
 * supervise.h - reconnecting: the backoff between attempts, and the
 * worker thread that opens a new transport while the event loop goes on.
 *
 * Opening a transport blocks (DNS, TCP connect, SSH handshake, the
 * bootstrap), for up to ConnectTimeout plus the bootstrap's deadline.  The
 * loop must not: DNS SERVFAILs, the watchdog, timers and the queue of
 * waiting connections keep running.  So one worker thread at a time runs
 * the blocking open and reports through an eventfd that the loop watches;
 * the loop then joins it and takes the result.  Every blocking call of an
 * open is bounded by the transport's own timeouts, and supervise_cancel()
 * makes them fail at once (transport_abort: the descriptor is shut down), so a
 * worker never outlives a shutdown by more than a moment.
 */
#ifndef CSHUTTLE_SUPERVISE_H
#define CSHUTTLE_SUPERVISE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "fw.h"
#include "transport.h"
#include "worker.h"

#define SUPERVISE_BACKOFF_FIRST_MS	1000
#define SUPERVISE_BACKOFF_MAX_MS	60000
#define SUPERVISE_JITTER_PCT		20	/* +- this much of each delay */
#define SUPERVISE_STABLE_MS		60000	/* a session this long resets
						 * the backoff */
#define SUPERVISE_ERR_MAX		512

/*
 * The delay before the next attempt after `failures` earlier ones in the
 * same streak: 1 s, 2 s, 4 s ... at most 60 s, each moved by up to
 * +-20 % (rnd: a uniformly random 32-bit number), so that many clients
 * that lost the same server do not come back in step.
 */
uint64_t supervise_backoff_ms(unsigned failures, uint32_t rnd);

struct supervise_backoff {
	unsigned	failures;	/* delays used in this streak */
};

/* A session ended after lasting `lasted_ms`: a long one starts a new
 * streak. */
void	 supervise_backoff_session_end(struct supervise_backoff *b,
	    uint64_t lasted_ms);
/* The delay to wait now; counts it. */
uint64_t supervise_backoff_next(struct supervise_backoff *b, uint32_t rnd);

/* What the worker gets (a copy: the loop goes on changing its own). */
struct supervise_job {
	struct transport	*old;		/* the dead session's transport: freed
						 * first, in the worker (freeing may wait
						 * for ssh to exit) */
	bool			 check_exempt;	/* compare the server's addresses with
						 * the exemptions first */
	struct addr		 exempt[FW_MAX_EXEMPT];	/* those in place now */
	int			 nexempt;
	int			 alive_interval_ms;	/* for the transport's keepalives */
	int			 alive_timeout_ms;
};

struct supervise_result {
	struct transport	*transport;	/* NULL on failure */
	enum transport_fail	 fail;
	char			 err[SUPERVISE_ERR_MAX];
	/* No transport: the SSH server resolves to addresses the rules would
	 * redirect into the tunnel itself.  Exempt these, then try again. */
	bool			 exempt_changed;
	struct addr		 exempt[FW_MAX_EXEMPT];
	int			 nexempt;
};

/* Runs in the worker.  Must pass `abort` to the transport open. */
typedef void	supervise_work_fn(void *arg, const struct supervise_job *job,
		    struct transport_abort *abort, struct supervise_result *r);

struct supervise {
	struct worker		 w;		/* the thread and its eventfd */
	struct transport_abort	 abort;
	supervise_work_fn	*fn;
	void			*arg;
	struct supervise_job	 job;
	struct supervise_result	 res;
};

/* 0, or -1 with errno. */
int	supervise_init(struct supervise *su);
/* Cancels and joins a running worker first (see supervise_cancel). */
void	supervise_destroy(struct supervise *su);
/* Start the worker on `job`.  0, or -1 with errno (not started; the job's
 * old transport is then still the caller's). */
int	supervise_start(struct supervise *su, supervise_work_fn *fn, void *arg,
	    const struct supervise_job *job);
int	supervise_fd(const struct supervise *su);
bool	supervise_running(const struct supervise *su);
/* After supervise_fd() became readable: join and take the result.  0, or
 * -1 when no worker had finished. */
int	supervise_collect(struct supervise *su, struct supervise_result *r);
/*
 * Stop a running worker: fire the abort, wait at most grace_ms for it to
 * end, free whatever it opened.  true when it ended (or none ran); false
 * when it is still blocked (the process must then leave with _exit(), not
 * exit(): the worker may be inside a library that exit handlers tear
 * down).
 */
bool	supervise_cancel(struct supervise *su, int grace_ms);

#endif
