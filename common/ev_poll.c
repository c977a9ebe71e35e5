/* SPDX-License-Identifier: ISC */
/*
 * ev_poll.c - the event loop on poll(2): POSIX, so it runs wherever the
 * client does; the fallback where neither epoll nor kqueue is built, and
 * the backend the event loop's tests also run on here.
 *
 * The registered ios live in two parallel arrays (their struct pollfd
 * for poll, the ios for dispatch); io->slot is each one's index.  A
 * deleted io leaves a hole (fd -1, which poll skips), filled by
 * ev_poll_compact before the next wait, never while a pass dispatches:
 * callbacks add and delete ios, and the dispatch walks by index.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>

#include "ev_int.h"

static uint32_t
ev_from_poll(short e)
{
	return ((e & POLLIN) ? EV_READ : 0) | ((e & POLLOUT) ? EV_WRITE : 0) |
	    ((e & (POLLERR | POLLNVAL)) ? EV_ERROR : 0) | ((e & POLLHUP) ? EV_HUP : 0);
}

static short
ev_to_poll(uint32_t events)
{
	return (short)(((events & EV_READ) ? POLLIN : 0) | ((events & EV_WRITE) ? POLLOUT : 0));
}

static int
ev_poll_init(struct ev_loop *loop)
{
	loop->backend_fd = -1;
	return 0;
}

static void
ev_poll_close(struct ev_loop *loop)
{
	free(loop->pio);
	free(loop->pfd);
	loop->pio = NULL;
	loop->pfd = NULL;
	loop->npoll = loop->cappoll = loop->pdead = 0;
}

static int
ev_poll_add(struct ev_loop *loop, struct ev_io *io)
{
	struct pollfd	 *pfd;
	struct ev_io	**pio;
	unsigned	  cap;

	if (loop->npoll == loop->cappoll) {
		/* Descriptors are ints: the arrays never approach SIZE_MAX. */
		cap = loop->cappoll == 0 ? 16 : loop->cappoll * 2;
		if (cap > INT_MAX || (pfd = realloc(loop->pfd, cap * sizeof(*pfd))) == NULL)
			return -ENOMEM;
		loop->pfd = pfd;
		if ((pio = realloc(loop->pio, cap * sizeof(*pio))) == NULL)
			return -ENOMEM;
		loop->pio = pio;
		loop->cappoll = cap;
	}
	pfd = loop->pfd;
	io->slot = loop->npoll++;
	pfd[io->slot].fd = io->fd;
	pfd[io->slot].events = ev_to_poll(io->events);
	pfd[io->slot].revents = 0;
	loop->pio[io->slot] = io;
	return 0;
}

static int
ev_poll_set(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct pollfd	*pfd = loop->pfd;

	pfd[io->slot].events = ev_to_poll(events);
	return 0;
}

static void
ev_poll_del(struct ev_loop *loop, struct ev_io *io)
{
	struct pollfd	*pfd = loop->pfd;

	pfd[io->slot].fd = -1;
	pfd[io->slot].revents = 0;
	loop->pio[io->slot] = NULL;
	loop->pdead++;
}

static void
ev_poll_compact(struct ev_loop *loop)
{
	struct pollfd	*pfd = loop->pfd;
	unsigned	 i, j;

	for (i = j = 0; i < loop->npoll; i++) {
		if (loop->pio[i] == NULL)
			continue;
		pfd[j] = pfd[i];
		loop->pio[j] = loop->pio[i];
		loop->pio[j]->slot = j;
		j++;
	}
	loop->npoll = j;
	loop->pdead = 0;
}

static int
ev_poll_wait(struct ev_loop *loop, int timeout)
{
	struct pollfd	*pfd;
	unsigned	 i, n;
	short		 re;
	int		 r, handled = 0;

	if (loop->pdead > 0)
		ev_poll_compact(loop);
	if ((r = poll(loop->pfd, loop->npoll, timeout)) == -1)
		return errno == EINTR ? 0 : -errno;
	/* Only the ios that poll saw: those added by callbacks wait for
	 * the next pass, as with the other backends. */
	n = loop->npoll;
	for (i = 0; i < n && r > 0; i++) {
		pfd = loop->pfd;	/* a callback's add may move it */
		if ((re = pfd[i].revents) == 0)
			continue;
		pfd[i].revents = 0;
		r--;
		if (loop->pio[i] == NULL)
			continue;
		handled++;
		ev_dispatch(loop, loop->pio[i], ev_from_poll(re));
	}
	return handled;
}

const struct ev_backend ev_backend_poll = {
	"poll", ev_poll_init, ev_poll_close, ev_poll_add, ev_poll_set,
	ev_poll_del, ev_poll_del, ev_poll_wait
};
