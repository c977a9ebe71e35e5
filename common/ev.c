/* SPDX-License-Identifier: ISC */
/*
 * ev.c - the event loop on epoll (see ev.h).  The only file that knows
 * epoll: EV_* bits are translated here both ways.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"

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

int
ev_init(struct ev_loop *loop)
{
	memset(loop, 0, sizeof(*loop));
	if ((loop->backend = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -errno;
	return 0;
}

void
ev_close(struct ev_loop *loop)
{
	if (loop->backend >= 0)
		close(loop->backend);
	loop->backend = -1;
}

int
ev_io_add(struct ev_loop *loop, struct ev_io *io, int fd, uint32_t events,
    ev_io_cb *cb, void *arg)
{
	struct epoll_event	ee;

	memset(&ee, 0, sizeof(ee));
	ee.events = ev_to_epoll(events);
	ee.data.ptr = io;
	if (epoll_ctl(loop->backend, EPOLL_CTL_ADD, fd, &ee) == -1)
		return -errno;
	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->arg = arg;
	return 0;
}

int
ev_io_set(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct epoll_event	ee;

	if (io->fd < 0 || io->events == events)
		return 0;
	memset(&ee, 0, sizeof(ee));
	ee.events = ev_to_epoll(events);
	ee.data.ptr = io;
	if (epoll_ctl(loop->backend, EPOLL_CTL_MOD, io->fd, &ee) == -1)
		return -errno;
	io->events = events;
	return 0;
}

void
ev_io_del(struct ev_loop *loop, struct ev_io *io)
{
	if (io->fd < 0)
		return;
	(void)epoll_ctl(loop->backend, EPOLL_CTL_DEL, io->fd, NULL);
	io->fd = -1;
	io->events = 0;
}

void
ev_io_forget(struct ev_io *io)
{
	io->fd = -1;
	io->events = 0;
}

int
ev_timer_add(struct ev_loop *loop, struct ev_timer *t)
{
	int	i;

	for (i = 0; i < loop->ntimers; i++)
		if (loop->timers[i] == t)
			return 0;
	if (loop->ntimers == EV_MAX_TIMERS)
		return -ENOSPC;
	loop->timers[loop->ntimers++] = t;
	return 0;
}

void
ev_timer_del(struct ev_loop *loop, struct ev_timer *t)
{
	int	i;

	for (i = 0; i < loop->ntimers; i++) {
		if (loop->timers[i] == t) {
			loop->timers[i] = loop->timers[--loop->ntimers];
			return;
		}
	}
}

static void
ev_run_timers(struct ev_loop *loop, uint64_t now)
{
	struct ev_timer	*t;
	int		 i;

	for (i = 0; i < loop->ntimers; i++) {
		t = loop->timers[i];
		if (t->when != 0 && t->when <= now) {
			t->when = 0;
			/* The callback may re-arm t or change the set; the
			 * worst case is a timer checked on the next pass. */
			t->cb(loop, t);
		}
	}
}

int
ev_run_once(struct ev_loop *loop, int max_ms)
{
	struct epoll_event	 evs[EV_BATCH];
	struct ev_io		*io;
	uint64_t		 now, next = 0;
	int			 i, n, timeout;

	loop->nowait = 0;
	if (loop->before_sleep != NULL)
		loop->before_sleep(loop, loop->hook_arg);
	now = ev_now();
	for (i = 0; i < loop->ntimers; i++)
		if (loop->timers[i]->when != 0 &&
		    (next == 0 || loop->timers[i]->when < next))
			next = loop->timers[i]->when;
	timeout = max_ms;
	if (next != 0) {
		uint64_t d = next > now ? next - now : 0;
		if (timeout < 0 || d < (uint64_t)timeout)
			timeout = (int)(d > 86400000 ? 86400000 : d);
	}
	if (loop->stop)
		return 0;
	/* Work is left that no descriptor will announce (bytes buffered
	 * inside a library): look at the descriptors, but do not sleep. */
	if (loop->nowait)
		timeout = 0;
	n = epoll_wait(loop->backend, evs, EV_BATCH, timeout);
	if (n == -1) {
		if (errno == EINTR)
			n = 0;
		else
			return -errno;
	}
	for (i = 0; i < n; i++) {
		io = evs[i].data.ptr;
		/* Deleted earlier in this pass by another callback. */
		if (io->fd < 0)
			continue;
		io->cb(loop, io, ev_from_epoll(evs[i].events));
	}
	ev_run_timers(loop, ev_now());
	return n;
}

int
ev_run(struct ev_loop *loop)
{
	int	r;

	while (!loop->stop)
		if ((r = ev_run_once(loop, -1)) < 0)
			return r;
	return 0;
}
