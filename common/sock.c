/* SPDX-License-Identifier: ISC */
/*
 * sock.c - descriptor helpers (see sock.h).
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "clock.h"
#include "sock.h"
#include "sysdep.h"

int
sock_listen(const struct addr *a, int type, int backlog, int *fdp)
{
	struct sockaddr_storage	 ss;
	socklen_t		 slen;
	int			 fd, one = 1, err;

	if ((slen = addr_to_sockaddr(a, &ss)) == 0)
		return -EAFNOSUPPORT;
	if ((fd = sysdep_socket(ss.ss_family, type, 0)) == -1)
		return -errno;
	/* TCP only: on UDP SO_REUSEADDR would let two programs share the port. */
	if (type == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, slen) == -1 ||
	    (type == SOCK_STREAM && listen(fd, backlog) == -1)) {
		err = errno;
		close(fd);
		return -err;
	}
	*fdp = fd;
	return 0;
}

int
sock_set_nonblock(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	if (fl & O_NONBLOCK)
		return 0;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ? -1 : 0;
}

int
sock_wait(int fd, short events, int64_t deadline)
{
	struct pollfd	pfd;
	int		r;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, clock_remaining_ms(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return r;
		return pfd.revents;
	}
}
