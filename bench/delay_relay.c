/* SPDX-License-Identifier: ISC */
/*
 * delay_relay.c - a TCP relay that holds every chunk of data for a fixed
 * time in each direction.
 *
 * The benchmark needs a path with a round-trip time, and the kernel it runs
 * on has no netem, so this stands in front of sshd: every connection it
 * accepts is relayed to the target, and whatever one side sends reaches
 * the other DELAY milliseconds later (20 ms round trip with the default).
 *
 *	delay_relay [-d MS] [-c MIB] LISTEN TARGET
 *
 * LISTEN and TARGET are ADDR:PORT or [IPV6]:PORT.  Each direction of a
 * connection is a queue of chunks stamped with the time they were read;
 * a chunk is written once its time plus DELAY has come.  A queue holds at
 * most MIB MiB (default 32): when it is full the relay stops reading that
 * side, so a slow receiver pushes back on the sender through TCP flow
 * control as it would on a real path.  An end of file is passed on (the
 * other side's write half is shut down) once everything before it has
 * been written; an error on either side closes both.
 *
 * One process, one thread, epoll; a timerfd wakes it for the next chunk
 * due.  libc only.
 */

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DR_READ_MAX	(256 * 1024)	/* bytes taken by one read */
#define DR_EVENTS	64
#define DR_CLIENT	0
#define DR_TARGET	1

struct dr_chunk {
	struct dr_chunk	*next;
	uint64_t	 due;		/* CLOCK_MONOTONIC, ns */
	size_t		 len;
	size_t		 off;		/* bytes of it already written */
	unsigned char	 data[];
};

/* One direction: read from end[i], written to end[1 - i]. */
struct dr_dir {
	struct dr_chunk	*head;
	struct dr_chunk	*tail;
	size_t		 queued;	/* bytes in the queue */
	int		 eof;		/* the reading side reached EOF */
	int		 shut;		/* EOF passed on to the writing side */
	int		 blocked;	/* the writing side said EAGAIN */
};

struct dr_pair;

/* What epoll's data.ptr points at: the listener, the timer or an end. */
struct dr_end {
	int		 kind;		/* DR_KIND_* */
	int		 fd;
	int		 side;		/* DR_CLIENT or DR_TARGET */
	uint32_t	 events;	/* as registered with epoll */
	struct dr_pair	*pair;
};

#define DR_KIND_LISTEN	1
#define DR_KIND_TIMER	2
#define DR_KIND_END	3

struct dr_pair {
	struct dr_pair	*next;
	struct dr_end	 end[2];
	struct dr_dir	 dir[2];
	int		 connecting;	/* the target's connect is in progress */
	int		 dead;		/* to be freed after this batch */
};

static int		 dr_epoll = -1;
static int		 dr_timer = -1;
static uint64_t		 dr_delay_ns = 10 * 1000000ULL;
static size_t		 dr_cap = 32 * 1024 * 1024;
static struct sockaddr_storage dr_target;
static socklen_t	 dr_target_len;
static struct dr_pair	*dr_pairs;
static unsigned char	 dr_buf[DR_READ_MAX];

static void
dr_usage(void)
{
	fprintf(stderr, "usage: delay_relay [-d MS] [-c MIB] LISTEN TARGET\n"
	    "  LISTEN, TARGET: ADDR:PORT or [IPV6]:PORT\n");
	exit(2);
}

static uint64_t
dr_now(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Parse ADDR:PORT or [IPV6]:PORT, numeric only. */
static int
dr_parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2], *port;
	struct addrinfo hints, *res;
	size_t n;
	int rc;

	n = strlen(spec);
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, spec, n + 1);
	if ((port = strrchr(host, ':')) == NULL)
		return -1;
	*port++ = '\0';
	if (host[0] == '[') {
		n = strlen(host);
		if (n < 3 || host[n - 1] != ']')
			return -1;
		host[n - 1] = '\0';
		memmove(host, host + 1, n - 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "delay_relay: %s: %s\n", spec, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Register, change or drop what epoll watches on an end. */
static int
dr_watch(struct dr_end *e, uint32_t want)
{
	struct epoll_event ev;
	int op;

	if (want == e->events)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.ptr = e;
	if (e->events == 0)
		op = EPOLL_CTL_ADD;
	else if (want == 0)
		op = EPOLL_CTL_DEL;
	else
		op = EPOLL_CTL_MOD;
	if (epoll_ctl(dr_epoll, op, e->fd, &ev) == -1) {
		fprintf(stderr, "delay_relay: epoll_ctl: %s\n", strerror(errno));
		return -1;
	}
	e->events = want;
	return 0;
}

static void
dr_kill(struct dr_pair *p, const char *why, int err)
{
	if (p->dead)
		return;
	if (why != NULL)
		fprintf(stderr, "delay_relay: closing a connection: %s: %s\n",
		    why, strerror(err));
	p->dead = 1;
}

static void
dr_free(struct dr_pair *p)
{
	struct dr_chunk *c, *next;
	int i;

	for (i = 0; i < 2; i++) {
		/* close() drops the descriptor from epoll as well. */
		if (p->end[i].fd != -1)
			close(p->end[i].fd);
		for (c = p->dir[i].head; c != NULL; c = next) {
			next = c->next;
			free(c);
		}
	}
	free(p);
}

static void
dr_nodelay(int fd)
{
	int one = 1;

	/* Chunks must leave when they are due, not when Nagle allows. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		fprintf(stderr, "delay_relay: TCP_NODELAY: %s\n", strerror(errno));
}

static void
dr_accept(int lfd)
{
	struct dr_pair *p;
	int cfd, tfd, i;

	for (;;) {
		cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				fprintf(stderr, "delay_relay: accept: %s\n",
				    strerror(errno));
			return;
		}
		tfd = socket(dr_target.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (tfd == -1) {
			fprintf(stderr, "delay_relay: socket: %s\n",
			    strerror(errno));
			close(cfd);
			continue;
		}
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			fprintf(stderr, "delay_relay: out of memory\n");
			close(cfd);
			close(tfd);
			continue;
		}
		dr_nodelay(cfd);
		dr_nodelay(tfd);
		for (i = 0; i < 2; i++) {
			p->end[i].kind = DR_KIND_END;
			p->end[i].side = i;
			p->end[i].pair = p;
		}
		p->end[DR_CLIENT].fd = cfd;
		p->end[DR_TARGET].fd = tfd;
		p->next = dr_pairs;
		dr_pairs = p;
		if (connect(tfd, (struct sockaddr *)&dr_target,
		    dr_target_len) == -1) {
			if (errno != EINPROGRESS) {
				dr_kill(p, "connect", errno);
				continue;
			}
			p->connecting = 1;
		}
	}
}

/* The target's non-blocking connect finished, one way or the other. */
static void
dr_connected(struct dr_pair *p)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(p->end[DR_TARGET].fd, SOL_SOCKET, SO_ERROR, &err,
	    &len) == -1)
		err = errno;
	if (err != 0) {
		dr_kill(p, "connect", err);
		return;
	}
	p->connecting = 0;
}

/* Read what end I has into the queue of direction I. */
static void
dr_read(struct dr_pair *p, int i)
{
	struct dr_dir *d = &p->dir[i];
	struct dr_chunk *c;
	ssize_t n;

	if (d->eof || d->queued >= dr_cap)
		return;
	n = recv(p->end[i].fd, dr_buf, sizeof(dr_buf), 0);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			dr_kill(p, "read", errno);
		return;
	}
	if (n == 0) {
		d->eof = 1;
		return;
	}
	/* Copied out at its size: a read buffer per chunk would waste the
	 * cap on small reads. */
	if ((c = malloc(sizeof(*c) + (size_t)n)) == NULL) {
		dr_kill(p, "queue", ENOMEM);
		return;
	}
	memcpy(c->data, dr_buf, (size_t)n);
	c->len = (size_t)n;
	c->off = 0;
	c->due = dr_now() + dr_delay_ns;
	c->next = NULL;
	if (d->tail != NULL)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	d->queued += (size_t)n;
}

/* Write the chunks of direction I that are due to the other end. */
static void
dr_flush(struct dr_pair *p, int i, uint64_t now)
{
	struct dr_dir *d = &p->dir[i];
	int fd = p->end[1 - i].fd;
	struct dr_chunk *c;
	ssize_t n;

	if (p->connecting)
		return;
	while ((c = d->head) != NULL && c->due <= now && !d->blocked) {
		n = send(fd, c->data + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN)
				d->blocked = 1;
			else if (errno != EINTR)
				dr_kill(p, "write", errno);
			if (p->dead)
				return;
			continue;
		}
		c->off += (size_t)n;
		if (c->off < c->len)
			continue;
		d->head = c->next;
		if (d->head == NULL)
			d->tail = NULL;
		d->queued -= c->len;
		free(c);
	}
	if (d->head == NULL && d->eof && !d->shut) {
		/* Everything before the EOF is out: pass the half-close on. */
		if (shutdown(fd, SHUT_WR) == -1 && errno != ENOTCONN) {
			dr_kill(p, "shutdown", errno);
			return;
		}
		d->shut = 1;
	}
}

/* What each end of a live pair must be watched for now. */
static int
dr_rewatch(struct dr_pair *p)
{
	uint32_t want;
	int i;

	for (i = 0; i < 2; i++) {
		want = 0;
		if (i == DR_TARGET && p->connecting) {
			want = EPOLLOUT;
		} else {
			if (!p->dir[i].eof && p->dir[i].queued < dr_cap)
				want |= EPOLLIN;
			if (p->dir[1 - i].blocked)
				want |= EPOLLOUT;
		}
		if (dr_watch(&p->end[i], want) == -1)
			return -1;
	}
	return 0;
}

/* Arm the timer for the earliest chunk due that can be written. */
static int
dr_arm(void)
{
	struct itimerspec its;
	struct dr_pair *p;
	uint64_t next = 0;
	int i;

	for (p = dr_pairs; p != NULL; p = p->next) {
		if (p->connecting)
			continue;
		for (i = 0; i < 2; i++) {
			if (p->dir[i].head == NULL || p->dir[i].blocked)
				continue;
			if (next == 0 || p->dir[i].head->due < next)
				next = p->dir[i].head->due;
		}
	}
	/* A zero it_value disarms the timer: nothing is waiting. */
	memset(&its, 0, sizeof(its));
	if (next != 0) {
		its.it_value.tv_sec = (time_t)(next / 1000000000ULL);
		its.it_value.tv_nsec = (long)(next % 1000000000ULL);
	}
	if (timerfd_settime(dr_timer, TFD_TIMER_ABSTIME, &its, NULL) == -1) {
		fprintf(stderr, "delay_relay: timerfd_settime: %s\n",
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
dr_event(struct dr_end *e, uint32_t ev)
{
	struct dr_pair *p = e->pair;
	int i = e->side;

	if (p->dead)
		return;
	if (i == DR_TARGET && p->connecting) {
		dr_connected(p);
		return;
	}
	if (ev & EPOLLERR) {
		socklen_t len = sizeof(int);
		int err = 0;

		/* A reset: nothing queued for this side can be delivered. */
		if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		dr_kill(p, "socket error", err != 0 ? err : ECONNRESET);
		return;
	}
	if (ev & EPOLLOUT)
		p->dir[1 - i].blocked = 0;
	/* A hang-up or an error shows up as EOF or an error from recv. */
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
		dr_read(p, i);
}

int
main(int argc, char *argv[])
{
	struct epoll_event evs[DR_EVENTS];
	struct dr_end lend, tend;
	struct dr_pair *p, **pp;
	struct sockaddr_storage lss;
	socklen_t llen;
	uint64_t now, tick;
	long v;
	char *ep;
	int ch, lfd, n, k, one = 1;

	while ((ch = getopt(argc, argv, "c:d:")) != -1) {
		switch (ch) {
		case 'c':
			v = strtol(optarg, &ep, 10);
			if (*optarg == '\0' || *ep != '\0' || v < 1 || v > 4096)
				dr_usage();
			dr_cap = (size_t)v * 1024 * 1024;
			break;
		case 'd':
			v = strtol(optarg, &ep, 10);
			if (*optarg == '\0' || *ep != '\0' || v < 0 || v > 60000)
				dr_usage();
			dr_delay_ns = (uint64_t)v * 1000000ULL;
			break;
		default:
			dr_usage();
		}
	}
	if (argc - optind != 2)
		dr_usage();
	if (dr_parse_addr(argv[optind], &lss, &llen) == -1 ||
	    dr_parse_addr(argv[optind + 1], &dr_target, &dr_target_len) == -1)
		dr_usage();
	/* send() has MSG_NOSIGNAL; this covers shutdown and the rest. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		perror("delay_relay: signal");
		return 1;
	}

	lfd = socket(lss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd == -1) {
		perror("delay_relay: socket");
		return 1;
	}
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(lfd, (struct sockaddr *)&lss, llen) == -1 ||
	    listen(lfd, 128) == -1) {
		fprintf(stderr, "delay_relay: %s: %s\n", argv[optind],
		    strerror(errno));
		return 1;
	}
	if ((dr_epoll = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (dr_timer = timerfd_create(CLOCK_MONOTONIC,
	    TFD_NONBLOCK | TFD_CLOEXEC)) == -1) {
		perror("delay_relay: epoll/timerfd");
		return 1;
	}
	memset(&lend, 0, sizeof(lend));
	lend.kind = DR_KIND_LISTEN;
	lend.fd = lfd;
	memset(&tend, 0, sizeof(tend));
	tend.kind = DR_KIND_TIMER;
	tend.fd = dr_timer;
	if (dr_watch(&lend, EPOLLIN) == -1 || dr_watch(&tend, EPOLLIN) == -1)
		return 1;
	fprintf(stderr, "delay_relay: %s -> %s, %llu ms each way, "
	    "queue cap %zu MiB\n", argv[optind], argv[optind + 1],
	    (unsigned long long)(dr_delay_ns / 1000000), dr_cap >> 20);

	for (;;) {
		n = epoll_wait(dr_epoll, evs, DR_EVENTS, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			perror("delay_relay: epoll_wait");
			return 1;
		}
		for (k = 0; k < n; k++) {
			struct dr_end *e = evs[k].data.ptr;

			if (e->kind == DR_KIND_LISTEN)
				dr_accept(lfd);
			else if (e->kind == DR_KIND_TIMER) {
				/* Only the wake-up matters, not the count. */
				if (read(dr_timer, &tick, sizeof(tick)) == -1 &&
				    errno != EAGAIN)
					perror("delay_relay: timerfd read");
			} else
				dr_event(e, evs[k].events);
		}
		/* Every pair, every time: there are a handful (one per SSH
		 * connection), and this keeps the timer logic in one place. */
		now = dr_now();
		for (pp = &dr_pairs; (p = *pp) != NULL;) {
			if (!p->dead) {
				dr_flush(p, DR_CLIENT, now);
				dr_flush(p, DR_TARGET, now);
			}
			if (!p->dead && p->dir[0].shut && p->dir[1].shut)
				p->dead = 1;	/* both halves closed: done */
			if (!p->dead && dr_rewatch(p) == -1)
				p->dead = 1;
			if (p->dead) {
				*pp = p->next;
				dr_free(p);
				continue;
			}
			pp = &p->next;
		}
		if (dr_arm() == -1)
			return 1;
	}
}
