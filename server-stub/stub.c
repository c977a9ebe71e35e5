/* SPDX-License-Identifier: ISC */
/*
 * stub.c - the remote end of a cshuttle tunnel.
 *
 * Uploaded by the client and started by the bootstrap script with its own
 * path as argv[1]; it unlinks that file first so nothing stays on the
 * remote host.  It speaks the mux protocol on stdin/stdout and opens the
 * TCP connections the client asks for, forwards its DNS queries to the
 * remote's nameservers (stub_dns.c), carries its UDP flows (stub_udp.c)
 * and reports the remote's routes (stub_routes.c) and host names
 * (stub_hosts.c, stub_hostwatch.c, stub_neigh.c).  One epoll loop, libc
 * only, statically linked.  stderr is the SSH channel's stderr: the client logs
 * what appears there as "remote: ...".
 *
 * The stub exits 0 when stdin ends (the client went away) and 1 when the
 * session breaks (protocol error), after telling the client why.  When
 * the client asked for resume (RESUME_SETUP) and did not say BYE, a lost
 * link is waited for instead, for the grace period, with the streams
 * kept (stub_resume.c); a stub started only to hand its link to such a
 * waiting one (ATTACH) exits once it has.
 *
 * With CSHUTTLE_STUB_PROBE set it only checks that it can run here (the
 * kernel executes it, epoll works), prints STUB_PROBE_OK and exits: the
 * bootstrap runs that first, so a stub that cannot start is reported as
 * such instead of as a session that ended before it began.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "mux.h"
#include "stub_dns.h"
#include "stub_hostwatch.h"
#include "stub_resume.h"
#include "stub_routes.h"
#include "stub_udp.h"

#define STUB_SWEEP_MS	1000
#define STUB_PIPE_SIZE	(1024 * 1024)	/* = the default pipe-max-size */
/* The default budget: the smaller of 64 MiB and 1/16 of the memory (the
 * remote may be a small board); the client may ask for another. */
#define STUB_BUDGET_CAP		(64U * 1024 * 1024)
#define STUB_BUDGET_RAM_DIV	16
#define STUB_PROBE_OK	"CSHUTTLE-PROBE-OK\n"	/* client/bootstrap.c expects it */

struct stub {
	struct ev_loop	 loop;
	struct mux	*mux;
	struct stub_dns	 dns;
	struct stub_hostwatch hosts;
	struct stub_udp	 udp;
	struct stub_resume resume;
	struct ev_io	 in, out;
	struct ev_timer	 sweep;
	int		 exit_code;
	int		 in_eof;
	bool		 link_lost;	/* waiting for a new link (stub_resume) */
	bool		 hosts_started;
	int		 joined;	/* we handed our link over: the connection */
};

static void	stub_link_lost(struct stub *);
static void	stub_nonblock(int);
static void	stub_pipe_size(int);

static int
stub_open(struct mux *m, const struct proto_open *o)
{
	struct sockaddr_storage	 ss;
	socklen_t		 slen;
	int			 fd, one = 1, err;

	/* The parser accepts only IPv4 and IPv6 destinations. */
	slen = addr_to_sockaddr(&o->dst, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	/* The client side already coalesced what the application wrote;
	 * Nagle here would only add a delay per request. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, slen) == -1 && errno != EINPROGRESS) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/*
 * The client's HELLO: the bounds it asks for (the user's --buffer-budget
 * and --max-streams) replace our defaults, the maximum of streams still
 * within our descriptors; our routes go out when it wants them (-N),
 * and our host names (-H), once their reverse lookups are done.
 */
static void
stub_hello(struct mux *m, const struct proto_hello *h)
{
	struct stub	*s = mux_udata(m);
	size_t		budget;
	uint32_t	max, fds = mux_max_streams_fds();

	if ((budget = mux_peer_ask(m, &max)) == 0)
		budget = mux_budget_default(STUB_BUDGET_CAP, STUB_BUDGET_RAM_DIV);
	if (max == 0)
		max = mux_max_streams_default(budget);
	if (max > fds)
		max = fds;
	mux_set_bounds(m, budget, max);
	log_debug("bounds: a budget of %zu KiB, at most %u streams", budget / 1024, max);
	if (mux_feature(m, PROTO_FEAT_ROUTES) && stub_routes_send(m) != 0)
		log_error("cannot send the routes");
	if (mux_feature(m, PROTO_FEAT_HOSTS)) {
		/* A resumed link: gathered anew, as a new session would. */
		if (s->hosts_started) {
			stub_hostwatch_free(&s->hosts);
			(void)stub_hostwatch_init(&s->hosts, &s->loop, m);
		}
		s->hosts_started = true;
		if (stub_hostwatch_start(&s->hosts) != 0)
			log_error("cannot gather the host names");
	}
}

/* The client's --seed-hosts, right after its HELLO (-H). */
static void
stub_hosts_seed(struct mux *m, const struct proto_frame *f)
{
	stub_hostwatch_seed(&((struct stub *)mux_udata(m))->hosts, f);
}

static void
stub_udp_cb(struct mux *m, const struct proto_frame *f)
{
	stub_udp_frame(&((struct stub *)mux_udata(m))->udp, f);
}

/*
 * RESUME_SETUP: wait for the client after a lost link.  BYE: do not.
 * ATTACH: we are the joiner, a stub started only to hand this link to
 * the one waiting (stub_resume.h).
 */
static void
stub_resume_cb(struct mux *m, const struct proto_frame *f)
{
	struct stub	*s = mux_udata(m);
	int		 status, conn;

	switch (f->type) {
	case PROTO_RESUME_SETUP:
		(void)stub_resume_setup(&s->resume, f->u.grace_s);
		break;
	case PROTO_BYE:
		s->resume.bye = true;
		break;
	case PROTO_ATTACH:
		status = stub_resume_join(f->u.token.secret, f->u.token.path, &conn);
		if (mux_send_attached(m, (uint8_t)status) == 0 &&
		    status == PROTO_ATTACH_JOINED) {
			s->joined = conn;
			ev_stop(&s->loop);
		} else if (status == PROTO_ATTACH_JOINED)
			close(conn);	/* the waiting stub sees a failed attach */
		break;
	}
}

static const struct mux_ops stub_mux_ops = {
	.open = stub_open,
	.hello = stub_hello,
	.dns = stub_dns_frame,
	.hosts_seed = stub_hosts_seed,
	.udp = stub_udp_cb,
	.resume = stub_resume_cb,
};

/* Write what we can of the link queue to stdout. */
static void
stub_flush(struct stub *s)
{
	const uint8_t	*p;
	size_t		 len;
	ssize_t		 n;

	for (;;) {
		p = mux_link_data(s->mux, &len);
		if (len == 0)
			break;
		n = write(STDOUT_FILENO, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* The channel is gone: nobody to talk to. */
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				stub_link_lost(s);
			break;
		}
		mux_link_consume(s->mux, (size_t)n);
	}
}

static void
stub_in_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct stub	*s = io->arg;
	uint8_t		*p;
	size_t		 room;
	ssize_t		 n;

	p = mux_in_space(s->mux, &room);
	if (room == 0)
		return;
	n = read(STDIN_FILENO, p, room);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		stub_link_lost(s);
		return;
	}
	/* A broken session (mux_error) is ended by stub_before_sleep. */
	if (n > 0)
		(void)mux_in_commit(s->mux, (size_t)n);
}

static void
stub_out_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct stub	*s = io->arg;

	/* epoll reports a vanished reader whatever the mask: with nothing
	 * queued, flushing would never see EPIPE and the loop would spin. */
	if (revents & (EV_ERROR | EV_HUP)) {
		stub_link_lost(s);
		return;
	}
	stub_flush(s);
}

static void
stub_sweep_cb(struct ev_loop *loop, struct ev_timer *t)
{
	struct stub	*s = t->arg;
	uint64_t	 now = ev_now();

	mux_sweep(s->mux, now);
	t->when = now + STUB_SWEEP_MS;
}

/* Before sleeping: push output, free closed streams, re-arm the pipes. */
static void
stub_before_sleep(struct ev_loop *loop, void *arg)
{
	struct stub	*s = arg;

	mux_collect(s->mux);
	stub_dns_collect(&s->dns);
	stub_udp_collect(&s->udp);
	stub_flush(s);
	if (mux_error(s->mux)[0] != '\0' && s->exit_code == 0) {
		log_error("%s", mux_error(s->mux));
		mux_send_error(s->mux, mux_error(s->mux));
		s->exit_code = 1;
		ev_stop(loop);
		return;
	}
	if (s->link_lost || s->joined >= 0)
		return;
	(void)ev_io_set(loop, &s->in, mux_in_ready(s->mux) ? EV_READ : 0);
	(void)ev_io_set(loop, &s->out, mux_link_len(s->mux) > 0 ? EV_WRITE : 0);
}

/* Watch the link on descriptors 0 and 1.  0, or -1. */
static int
stub_link_watch(struct stub *s)
{
	stub_nonblock(STDIN_FILENO);
	stub_nonblock(STDOUT_FILENO);
	stub_pipe_size(STDIN_FILENO);
	stub_pipe_size(STDOUT_FILENO);
	if (ev_io_add(&s->loop, &s->in, STDIN_FILENO, EV_READ, stub_in_cb, s) != 0 ||
	    ev_io_add(&s->loop, &s->out, STDOUT_FILENO, 0, stub_out_cb, s) != 0) {
		log_error("cannot watch stdin/stdout: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Drop the link: its descriptors become /dev/null (so that no socket
 * takes numbers 0 and 1 meanwhile), the streams wait (mux_detach), the
 * UDP flows close (the client forgets them too).
 */
static void
stub_link_drop(struct stub *s)
{
	int	fd;

	ev_io_del(&s->loop, &s->in);
	ev_io_del(&s->loop, &s->out);
	stub_resume_release(&s->resume);
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	mux_detach(s->mux);
	stub_udp_free(&s->udp);
	stub_udp_init(&s->udp, &s->loop, s->mux);
}

/* The link broke: wait for a new one (stub_resume) or end. */
static void
stub_link_lost(struct stub *s)
{
	if (s->link_lost)
		return;
	(void)mux_in_drain(s->mux);
	if (s->exit_code != 0 || mux_error(s->mux)[0] != '\0' ||
	    !stub_resume_lost(&s->resume)) {
		s->in_eof = 1;
		ev_stop(&s->loop);
		return;
	}
	s->link_lost = true;
	stub_link_drop(s);
}

/* A joiner handed us a new link (stub_resume): the old one, if it still
 * looks alive, is closed, and the session resumes on the new one. */
static void
stub_link_take(void *arg, int in, int out)
{
	struct stub	*s = arg;

	if (!s->link_lost)
		stub_link_drop(s);
	(void)dup2(in, STDIN_FILENO);
	(void)dup2(out, STDOUT_FILENO);
	close(in);
	close(out);
	s->link_lost = false;
	s->in_eof = 0;
	stub_resume_taken(&s->resume);
	if (stub_link_watch(s) != 0 || mux_attach(s->mux, PROTO_FEAT_KNOWN) != 0) {
		s->exit_code = 1;
		ev_stop(&s->loop);
	}
}

static void
stub_grace_expired(void *arg)
{
	struct stub	*s = arg;

	s->in_eof = 1;
	ev_stop(&s->loop);
}

/* The joiner's end: ATTACHED out, then the waiting stub told to take
 * the link, and not another byte (stub_resume_idle). */
static void
stub_joined_exit(struct stub *s)
{
	struct pollfd	pfd = { STDOUT_FILENO, POLLOUT, 0 };
	uint64_t	end = ev_now() + 5000;

	while (mux_link_len(s->mux) > 0 && ev_now() < end && !s->in_eof) {
		stub_flush(s);
		if (mux_link_len(s->mux) > 0)
			(void)poll(&pfd, 1, 100);
	}
	stub_resume_idle(s->joined);
}

static void
stub_nonblock(int fd)
{
	int	fl = fcntl(fd, F_GETFL);

	if (fl != -1)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/*
 * sshd talks to us through pipes of 64 KiB: a full pipe means a wakeup of
 * each side per 64 KiB, and our writes are cut into pieces.  A larger
 * pipe lets a pass hand over all it read.  Best effort: the size is capped
 * by /proc/sys/fs/pipe-max-size, and a socket or tty just says no.
 */
static void
stub_pipe_size(int fd)
{
#ifdef F_SETPIPE_SZ
	(void)fcntl(fd, F_SETPIPE_SZ, STUB_PIPE_SIZE);
#else
	(void)fd;
#endif
}

/* Best effort, bounded: let a final ERROR frame reach the client. */
static void
stub_final_flush(struct stub *s)
{
	uint64_t	end = ev_now() + 2000;

	while (mux_link_len(s->mux) > 0 && ev_now() < end && !s->in_eof) {
		stub_flush(s);
		if (mux_link_len(s->mux) > 0)
			usleep(10000);
	}
}

static int
stub_probe(void)
{
	struct ev_loop	loop;
	int		r;

	if ((r = ev_init(&loop)) != 0) {
		log_error("cannot create an epoll instance: %s", strerror(-r));
		return 1;
	}
	ev_close(&loop);
	return write(STDOUT_FILENO, STUB_PROBE_OK, sizeof(STUB_PROBE_OK) - 1) ==
	    (ssize_t)sizeof(STUB_PROBE_OK) - 1 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct stub	 s;
	struct mux_stats st;
	struct rlimit	 rl;
	const char	*v;

	if (getenv("CSHUTTLE_STUB_PROBE") != NULL) {
		log_init("cshuttle-stub", 0);
		return stub_probe();
	}
	/* The bootstrap passes our own path: remove it before anything
	 * else, so no file outlives this process on the remote host. */
	if (argc > 1)
		(void)unlink(argv[1]);
	log_init("cshuttle-stub", (v = getenv("CSHUTTLE_STUB_VERBOSE")) ? atoi(v) : 0);
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}

	memset(&s, 0, sizeof(s));
	if (ev_init(&s.loop) != 0 ||
	    (s.mux = mux_new(&s.loop, PROTO_ROLE_STUB, MUX_DEFAULT_WINDOW,
	    &stub_mux_ops, &s)) == NULL ||
	    stub_dns_init(&s.dns, &s.loop, s.mux) != 0 ||
	    stub_hostwatch_init(&s.hosts, &s.loop, s.mux) != 0) {
		log_error("cannot initialise: %s", strerror(errno));
		return 1;
	}
	mux_set_dns_arg(s.mux, &s.dns);
	stub_udp_init(&s.udp, &s.loop, s.mux);
	stub_resume_init(&s.resume, &s.loop, s.mux, stub_link_take, stub_grace_expired, &s);
	s.joined = -1;
	if (stub_link_watch(&s) != 0)
		return 1;
	s.sweep.cb = stub_sweep_cb;
	s.sweep.arg = &s;
	s.sweep.when = ev_now() + STUB_SWEEP_MS;
	(void)ev_timer_add(&s.loop, &s.sweep);
	s.loop.before_sleep = stub_before_sleep;
	s.loop.hook_arg = &s;

	if (mux_send_hello(s.mux, PROTO_FEAT_KNOWN) != 0)
		return 1;
	(void)ev_run(&s.loop);
	if (s.joined >= 0)
		stub_joined_exit(&s);

	if (s.exit_code != 0)
		stub_final_flush(&s);
	mux_stats(s.mux, &st);
	log_debug("session ended: %llu streams opened, %llu failed, %llu refused (the "
	    "maximum); dns: %llu queries, "
	    "%llu answers, %llu failed, %llu malformed answers dropped",
	    (unsigned long long)st.streams_opened,
	    (unsigned long long)st.streams_failed,
	    (unsigned long long)st.streams_refused,
	    (unsigned long long)s.dns.queries, (unsigned long long)s.dns.answers,
	    (unsigned long long)s.dns.failures, (unsigned long long)s.dns.malformed);
	log_debug("udp: %llu flows opened, %llu refused, %llu closed as invalid; "
	    "datagrams: %llu sent, %llu received; dropped: %llu send failed, %llu ICMP, "
	    "%llu wrong family, %llu late, %llu link full, %llu too big",
	    (unsigned long long)s.udp.opened, (unsigned long long)s.udp.refused,
	    (unsigned long long)s.udp.bad, (unsigned long long)s.udp.sent,
	    (unsigned long long)s.udp.received, (unsigned long long)s.udp.drop_send,
	    (unsigned long long)s.udp.drop_unreach, (unsigned long long)s.udp.drop_family,
	    (unsigned long long)s.udp.drop_late, (unsigned long long)s.udp.drop_link,
	    (unsigned long long)s.udp.drop_big);
	stub_resume_free(&s.resume);
	stub_udp_free(&s.udp);
	stub_dns_free(&s.dns);
	stub_hostwatch_free(&s.hosts);
	mux_free(s.mux);
	ev_close(&s.loop);
	return s.exit_code;
}
