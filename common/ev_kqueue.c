/* SPDX-License-Identifier: ISC */
/*
 * ev_kqueue.c - the event loop's backend on macOS and the BSDs.
 *
 * EV_READ and EV_WRITE are two filters here (EVFILT_READ, EVFILT_WRITE),
 * each registered while its bit is in the mask, level-triggered (no
 * EV_CLEAR) as ev.h promises.  One io may so come back twice in a batch,
 * once per filter; ev_dispatch skips it once deleted.  EOF on a filter
 * is reported as the event itself (a read then returns 0, a write fails),
 * a pending socket error as EV_ERROR.  Unlike epoll, kqueue reports
 * nothing for an io whose mask is 0: a hangup is seen at its next read.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* <sys/event.h> has an EV_ERROR of its own (a flag of struct kevent):
 * its value kept before ev.h's takes the name. */
enum { KQ_FLAG_ERROR = EV_ERROR };
#undef EV_ERROR

#include "ev_int.h"

#define EV_BATCH	256

static int
ev_kqueue_init(struct ev_loop *loop)
{
	if ((loop->backend_fd = kqueue()) == -1)
		return -errno;
	return 0;
}

static void
ev_kqueue_close(struct ev_loop *loop)
{
	close(loop->backend_fd);
}

/* Bring io's filters from mask `from` to mask `to`.  0 or -errno. */
static int
ev_kqueue_change(struct ev_loop *loop, struct ev_io *io, uint32_t from, uint32_t to)
{
	struct kevent	ch[2];
	int		n = 0;

	if ((from ^ to) & EV_READ)
		EV_SET(&ch[n++], io->fd, EVFILT_READ, (to & EV_READ) ? EV_ADD : EV_DELETE,
		    0, 0, io);
	if ((from ^ to) & EV_WRITE)
		EV_SET(&ch[n++], io->fd, EVFILT_WRITE, (to & EV_WRITE) ? EV_ADD : EV_DELETE,
		    0, 0, io);
	if (n > 0 && kevent(loop->backend_fd, ch, n, NULL, 0, NULL) == -1)
		return -errno;
	return 0;
}

static int
ev_kqueue_add(struct ev_loop *loop, struct ev_io *io)
{
	return ev_kqueue_change(loop, io, 0, io->events);
}

static int
ev_kqueue_set(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	return ev_kqueue_change(loop, io, io->events, events);
}

static void
ev_kqueue_del(struct ev_loop *loop, struct ev_io *io)
{
	(void)ev_kqueue_change(loop, io, io->events, 0);
}

/* A descriptor's close removes its filters. */
static void
ev_kqueue_forget(struct ev_loop *loop, struct ev_io *io)
{
}

static int
ev_kqueue_wait(struct ev_loop *loop, int timeout)
{
	struct kevent	 evs[EV_BATCH];
	struct timespec	 ts, *tsp = NULL;
	uint32_t	 re;
	int		 i, n;

	if (timeout >= 0) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		tsp = &ts;
	}
	if ((n = kevent(loop->backend_fd, NULL, 0, evs, EV_BATCH, tsp)) == -1)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		if (evs[i].flags & KQ_FLAG_ERROR)
			continue;	/* only for changes, which are not batched */
		re = evs[i].filter == EVFILT_READ ? EV_READ : EV_WRITE;
		if ((evs[i].flags & EV_EOF) && evs[i].fflags != 0)
			re |= EV_ERROR;
		ev_dispatch(loop, evs[i].udata, re);
	}
	return n;
}

const struct ev_backend ev_backend_kqueue = {
	"kqueue", ev_kqueue_init, ev_kqueue_close, ev_kqueue_add, ev_kqueue_set,
	ev_kqueue_del, ev_kqueue_forget, ev_kqueue_wait
};
