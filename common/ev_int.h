/* SPDX-License-Identifier: ISC */
/*
 * ev_int.h - what ev.c asks of a backend (ev_epoll.c, ev_kqueue.c,
 * ev_poll.c).  A backend only waits and translates; the rules of ev.h
 * (level-triggered, deleted ios skipped for the rest of the pass) are
 * kept by all of them, through ev_dispatch().
 */
#ifndef CSHUTTLE_EV_INT_H
#define CSHUTTLE_EV_INT_H

#include "ev.h"

/* CMake names the backends it builds (CSHUTTLE_EV_BACKENDS); a build
 * without it (the stub's one-file source, compiled on a remote) takes
 * the system's own. */
#if !defined(EV_HAVE_EPOLL) && !defined(EV_HAVE_KQUEUE) && !defined(EV_HAVE_POLL)
#if defined(__linux__)
#define EV_HAVE_EPOLL	1
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
    defined(__NetBSD__) || defined(__DragonFly__)
#define EV_HAVE_KQUEUE	1
#else
#define EV_HAVE_POLL	1
#endif
#endif

struct ev_backend {
	const char	*name;
	int		(*init)(struct ev_loop *);	/* 0 or -errno */
	void		(*close)(struct ev_loop *);
	/* io->fd and io->events are set; 0 or -errno. */
	int		(*add)(struct ev_loop *, struct ev_io *);
	/* From io->events to events; 0 or -errno. */
	int		(*set)(struct ev_loop *, struct ev_io *, uint32_t events);
	/* io->fd is still set; forget: the descriptor is about to close. */
	void		(*del)(struct ev_loop *, struct ev_io *);
	void		(*forget)(struct ev_loop *, struct ev_io *);
	/* Wait at most timeout ms (-1: forever), calling ev_dispatch()
	 * for each event; the number of events, or -errno. */
	int		(*wait)(struct ev_loop *, int timeout);
};

#ifdef EV_HAVE_EPOLL
extern const struct ev_backend ev_backend_epoll;
#endif
#ifdef EV_HAVE_KQUEUE
extern const struct ev_backend ev_backend_kqueue;
#endif
#ifdef EV_HAVE_POLL
extern const struct ev_backend ev_backend_poll;
#endif

/* One event for io: its callback, unless it was deleted this pass or
 * added during it (deleted and added again: the event was its old
 * descriptor's; an io is added with the pass number of the last wait,
 * so one added since cannot have been waited for). */
static inline void
ev_dispatch(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	if (io->fd >= 0 && io->added_pass != loop->pass)
		io->cb(loop, io, revents);
}

#endif
