/* SPDX-License-Identifier: ISC */
/*
 * ev.h - a small event loop with monotonic timers.
 *
 * Its users speak in EV_READ and EV_WRITE; which kernel interface waits
 * for them is a backend's business alone (ev_int.h): epoll on Linux,
 * kqueue on macOS and the BSDs, poll(2) anywhere.  CMake chooses which
 * are built (EV_HAVE_*); ev_init() takes the first of them.
 *
 * Descriptors are level-triggered.  A callback may delete any io,
 * including its own: deleted ios are skipped for the rest of the pass,
 * also when added again meanwhile (the events of the pass were the old
 * descriptor's), and their memory must stay valid until the pass ends
 * (owners free in the before-sleep hook).
 */
#ifndef CSHUTTLE_EV_H
#define CSHUTTLE_EV_H

#include <stdint.h>

#include "clock.h"

struct ev_loop;
struct ev_io;

/* Event bits.  EV_ERROR and EV_HUP are only ever reported, whatever the
 * mask asked for. */
#define EV_READ		(1U << 0)
#define EV_WRITE	(1U << 1)
#define EV_ERROR	(1U << 2)	/* an error is pending on the socket */
#define EV_HUP		(1U << 3)	/* both directions are shut */

typedef void	ev_io_cb(struct ev_loop *, struct ev_io *, uint32_t revents);
typedef void	ev_hook_cb(struct ev_loop *, void *arg);

struct ev_io {
	int		 fd;		/* -1 when not registered */
	uint32_t	 events;	/* EV_READ | EV_WRITE, as registered */
	ev_io_cb	*cb;
	void		*arg;
	unsigned	 slot;		/* poll backend: its index there */
	uint64_t	 added_pass;	/* loop->pass when it was last added */
};

struct ev_timer {
	uint64_t	 when;		/* ms on the monotonic clock, 0 = off */
	void		(*cb)(struct ev_loop *, struct ev_timer *);
	void		*arg;
};

#define EV_MAX_TIMERS	16

struct ev_backend;

struct ev_loop {
	const struct ev_backend *ops;
	int		 backend_fd;	/* the epoll or kqueue instance */
	/* The poll backend's registered ios and their struct pollfd. */
	struct ev_io	**pio;
	void		*pfd;
	unsigned	 npoll, cappoll, pdead;
	uint64_t	 pass;		/* waits made; 0 before the first */
	int		 stop;
	int		 nowait;	/* set by the hook: poll without sleeping */
	ev_hook_cb	*before_sleep;	/* runs once per pass, before waiting */
	void		*hook_arg;
	struct ev_timer	*timers[EV_MAX_TIMERS];
	int		 ntimers;
};

/* The loop's clock: clock_ms(). */
static inline uint64_t ev_now(void) { return clock_ms(); }

int	 ev_init(struct ev_loop *loop);	/* 0 or -errno */
/* With the backend of that name ("epoll", "kqueue", "poll"): 0, -errno,
 * or -ENOSYS when it is not built. */
int	 ev_init_backend(struct ev_loop *loop, const char *name);
const char *ev_backend_name(const struct ev_loop *loop);
void	 ev_close(struct ev_loop *loop);

/* Register io for fd with the given mask (0 is allowed).  0 or -errno. */
int	 ev_io_add(struct ev_loop *loop, struct ev_io *io, int fd, uint32_t events,
	    ev_io_cb *cb, void *arg);
/* Change the mask; a no-op when unchanged.  0 or -errno. */
int	 ev_io_set(struct ev_loop *loop, struct ev_io *io, uint32_t events);
/* Unregister (does not close the fd); io->fd becomes -1. */
void	 ev_io_del(struct ev_loop *loop, struct ev_io *io);
/*
 * As ev_io_del() without telling the kernel, for a descriptor the caller
 * closes right after and that no other process holds open: its close
 * takes it out of epoll (which watches the open file, not the number)
 * and kqueue.  One system call less per connection where nothing forks.
 */
void	 ev_io_forget(struct ev_loop *loop, struct ev_io *io);

/* Timers: a handful, re-armed by setting when and calling ev_timer_add
 * again (adding an armed timer only updates it). */
int	 ev_timer_add(struct ev_loop *loop, struct ev_timer *t);
void	 ev_timer_del(struct ev_loop *loop, struct ev_timer *t);

/* One pass: hook, wait (at most max_ms, -1 = timers only), dispatch.
 * Returns the number of io events handled or -errno. */
int	 ev_run_once(struct ev_loop *loop, int max_ms);
/* Run passes until ev_stop(). */
int	 ev_run(struct ev_loop *loop);
static inline void ev_stop(struct ev_loop *loop) { loop->stop = 1; }

#endif
