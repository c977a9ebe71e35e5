/* SPDX-License-Identifier: ISC */
/*
 * ev_epoll.c - the event loop's Linux backend.  The only file that knows
 * epoll: EV_* bits are translated here both ways.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ev_int.h"

#define EV_BATCH	256

static uint32_t
ev_to_epoll(uint32_t events)
{
	return ((events & EV_READ) ? EPOLLIN : 0) | ((events & EV_WRITE) ? EPOLLOUT : 0);
}

static uint32_t
ev_from_epoll(uint32_t e)
{
	return ((e & EPOLLIN) ? EV_READ : 0) | ((e & EPOLLOUT) ? EV_WRITE : 0) |
	    ((e & EPOLLERR) ? EV_ERROR : 0) | ((e & EPOLLHUP) ? EV_HUP : 0);
}

static int
ev_epoll_init(struct ev_loop *loop)
{
	if ((loop->backend_fd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -errno;
	return 0;
}

static void
ev_epoll_close(struct ev_loop *loop)
{
	close(loop->backend_fd);
}

static int
ev_epoll_ctl(struct ev_loop *loop, int op, struct ev_io *io, uint32_t events)
{
	struct epoll_event	ee;

	memset(&ee, 0, sizeof(ee));
	ee.events = ev_to_epoll(events);
	ee.data.ptr = io;
	return epoll_ctl(loop->backend_fd, op, io->fd, &ee) == -1 ? -errno : 0;
}

static int
ev_epoll_add(struct ev_loop *loop, struct ev_io *io)
{
	return ev_epoll_ctl(loop, EPOLL_CTL_ADD, io, io->events);
}

static int
ev_epoll_set(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	return ev_epoll_ctl(loop, EPOLL_CTL_MOD, io, events);
}

static void
ev_epoll_del(struct ev_loop *loop, struct ev_io *io)
{
	(void)epoll_ctl(loop->backend_fd, EPOLL_CTL_DEL, io->fd, NULL);
}

/* epoll watches the open file, not the number: its close takes it out. */
static void
ev_epoll_forget(struct ev_loop *loop, struct ev_io *io)
{
}

static int
ev_epoll_wait(struct ev_loop *loop, int timeout)
{
	struct epoll_event	evs[EV_BATCH];
	int			i, n;

	if ((n = epoll_wait(loop->backend_fd, evs, EV_BATCH, timeout)) == -1)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++)
		ev_dispatch(loop, evs[i].data.ptr, ev_from_epoll(evs[i].events));
	return n;
}

const struct ev_backend ev_backend_epoll = {
	"epoll", ev_epoll_init, ev_epoll_close, ev_epoll_add, ev_epoll_set,
	ev_epoll_del, ev_epoll_forget, ev_epoll_wait
};
