/* SPDX-License-Identifier: ISC */
/*
 * ev.c - the event loop (see ev.h): the ios' bookkeeping, the timers and
 * the pass; waiting is the backend's (ev_epoll.c, ev_kqueue.c,
 * ev_poll.c).
 */
#include <errno.h>
#include <string.h>

#include "ev_int.h"

/* The built backends, the system's best first. */
static const struct ev_backend *const ev_backends[] = {
#ifdef EV_HAVE_EPOLL
	&ev_backend_epoll,
#endif
#ifdef EV_HAVE_KQUEUE
	&ev_backend_kqueue,
#endif
#ifdef EV_HAVE_POLL
	&ev_backend_poll,
#endif
	NULL
};

int
ev_init_backend(struct ev_loop *loop, const char *name)
{
	const struct ev_backend	*b = NULL;
	size_t			 i;
	int			 r;

	memset(loop, 0, sizeof(*loop));
	loop->backend_fd = -1;
	for (i = 0; ev_backends[i] != NULL && b == NULL; i++)
		if (name == NULL || strcmp(ev_backends[i]->name, name) == 0)
			b = ev_backends[i];
	if (b == NULL)
		return -ENOSYS;
	if ((r = b->init(loop)) != 0)
		return r;
	loop->ops = b;
	return 0;
}

int
ev_init(struct ev_loop *loop)
{
	return ev_init_backend(loop, NULL);
}

const char *
ev_backend_name(const struct ev_loop *loop)
{
	return loop->ops != NULL ? loop->ops->name : "none";
}

void
ev_close(struct ev_loop *loop)
{
	if (loop->ops != NULL)
		loop->ops->close(loop);
	loop->ops = NULL;
	loop->backend_fd = -1;
}

int
ev_io_add(struct ev_loop *loop, struct ev_io *io, int fd, uint32_t events,
    ev_io_cb *cb, void *arg)
{
	int	r;

	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->arg = arg;
	/* Added while the last wait's events are dispatched: they are not
	 * this descriptor's (ev_dispatch). */
	io->added_pass = loop->pass;
	if ((r = loop->ops->add(loop, io)) != 0) {
		io->fd = -1;
		io->events = 0;
	}
	return r;
}

int
ev_io_set(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	int	r;

	if (io->fd < 0 || io->events == events)
		return 0;
	if ((r = loop->ops->set(loop, io, events)) != 0)
		return r;
	io->events = events;
	return 0;
}

void
ev_io_del(struct ev_loop *loop, struct ev_io *io)
{
	if (io->fd < 0)
		return;
	loop->ops->del(loop, io);
	io->fd = -1;
	io->events = 0;
}

void
ev_io_forget(struct ev_loop *loop, struct ev_io *io)
{
	if (io->fd < 0)
		return;
	loop->ops->forget(loop, io);
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
	uint64_t	now, next = 0;
	int		i, n, timeout;

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
	loop->pass++;
	if ((n = loop->ops->wait(loop, timeout)) < 0)
		return n;
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
