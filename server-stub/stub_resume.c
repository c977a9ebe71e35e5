/* SPDX-License-Identifier: ISC */
/*
 * stub_resume.c - the waiting stub's socket and grace period, and the
 * joiner that hands a new link over (stub_resume.h).
 *
 * On the socket, the joiner sends one message: the secret, with its
 * stdin and stdout attached (SCM_RIGHTS).  The waiting stub answers 'Y'
 * or 'N'.  After 'Y' the joiner writes ATTACHED to the client, then 'G'
 * on the connection; only then does the waiting stub write to the link,
 * so that ATTACHED is the joiner's last byte and the waiting stub's HELLO
 * comes after it.  The connection stays open while the link is in use:
 * its end tells the joiner, which sshd needs alive, to exit.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "stub_resume.h"

#define STUB_JOIN_WAIT_MS	5000	/* the joiner's wait for the verdict */

/* For the signal handler: what to remove (async-signal-safe calls only). */
static char	stub_resume_sig_path[PROTO_TOKEN_PATH_MAX + 1];
static char	stub_resume_sig_dir[PROTO_TOKEN_PATH_MAX + 1];

static void
stub_resume_on_signal(int sig)
{
	(void)sig;
	if (stub_resume_sig_path[0] != '\0')
		(void)unlink(stub_resume_sig_path);
	if (stub_resume_sig_dir[0] != '\0')
		(void)rmdir(stub_resume_sig_dir);
	_exit(0);
}

void
stub_resume_init(struct stub_resume *r, struct ev_loop *loop, struct mux *m,
    void (*take)(void *, int, int), void (*expired)(void *), void *arg)
{
	memset(r, 0, sizeof(*r));
	r->loop = loop;
	r->mux = m;
	r->lfd = r->cfd = r->nfd[0] = r->nfd[1] = r->link_conn = -1;
	r->take = take;
	r->expired = expired;
	r->arg = arg;
}

/* Constant time: the time taken says nothing of where they differ. */
static bool
stub_resume_secret_ok(const uint8_t *a, const uint8_t *b)
{
	uint8_t	d = 0;
	size_t	i;

	for (i = 0; i < PROTO_SECRET_LEN; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static void
stub_resume_drop_conn(struct stub_resume *r)
{
	int	i;

	if (r->cfd >= 0) {
		ev_io_del(r->loop, &r->cio);
		close(r->cfd);
	}
	for (i = 0; i < 2; i++)
		if (r->nfd[i] >= 0)
			close(r->nfd[i]);
	r->cfd = r->nfd[0] = r->nfd[1] = -1;
	r->verified = false;
}

int
stub_resume_recv(int fd, const uint8_t secret[PROTO_SECRET_LEN], int nfd[2])
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	uint8_t		 got[PROTO_SECRET_LEN + 1];
	struct iovec	 iov = { got, sizeof(got) };
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	ssize_t		 n;
	size_t		 i, nfds, have = 0;
	int		 fds[2];

	nfd[0] = nfd[1] = -1;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	/* Every descriptor received is ours to close, however many came in
	 * however many headers: keep two only from one header of two. */
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			int	one;

			memcpy(&one, CMSG_DATA(cm) + i * sizeof(int), sizeof(one));
			if (have < 2 && nfds == 2)
				fds[have++] = one;
			else
				(void)close(one);
		}
	}
	if (n != PROTO_SECRET_LEN || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    have != 2 || !stub_resume_secret_ok(got, secret)) {
		for (i = 0; i < have; i++)
			(void)close(fds[i]);
		return 0;
	}
	nfd[0] = fds[0];
	nfd[1] = fds[1];
	return 1;
}

/* The joiner's message, then (after 'Y') its end of the connection. */
static void
stub_resume_conn_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct stub_resume	*r = io->arg;
	uint8_t			 c;
	ssize_t			 n;
	int			 in, out, conn;

	(void)loop;
	(void)revents;
	if (r->verified) {
		/* 'G': ATTACHED is out, the link is ours.  Anything else:
		 * the joiner failed before it told the client. */
		n = read(r->cfd, &c, 1);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n != 1 || c != 'G') {
			stub_resume_drop_conn(r);
			return;
		}
		in = r->nfd[0];
		out = r->nfd[1];
		conn = r->cfd;
		r->nfd[0] = r->nfd[1] = r->cfd = -1;
		r->verified = false;
		ev_io_del(r->loop, &r->cio);
		r->attaches++;
		log_debug("resume: a new link joined (attach %llu)",
		    (unsigned long long)r->attaches);
		/* The old link and its joiner go first. */
		r->take(r->arg, in, out);
		r->link_conn = conn;
		return;
	}
	switch (stub_resume_recv(r->cfd, r->secret, r->nfd)) {
	case -1:
		return;
	case 0:
		r->refused++;
		log_warn("resume: an attach without the session's secret refused");
		(void)!write(r->cfd, "N", 1);
		stub_resume_drop_conn(r);
		return;
	}
	if (write(r->cfd, "Y", 1) != 1) {
		stub_resume_drop_conn(r);
		return;
	}
	r->verified = true;
}

static void
stub_resume_accept_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct stub_resume	*r = io->arg;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	int			 fd;

	(void)revents;
	if ((fd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return;
	/* One at a time, and only our own user (the directory is 0700
	 * already; this costs nothing). */
	if (r->cfd >= 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    cred.uid != getuid()) {
		close(fd);
		return;
	}
	r->cfd = fd;
	if (ev_io_add(loop, &r->cio, fd, EV_READ, stub_resume_conn_cb, r) != 0) {
		close(fd);
		r->cfd = -1;
	}
}

static void
stub_resume_grace_cb(struct ev_loop *loop, struct ev_timer *t)
{
	struct stub_resume	*r = t->arg;

	(void)loop;
	log_debug("resume: no client came back within %u s", r->grace_ms / 1000);
	r->expired(r->arg);
}

/*
 * getrandom(2) first: a busybox root or a chroot often has no /dev.  It
 * is called through syscall(2) since a remote's own libc (the stub may be
 * compiled there) can predate its wrapper; 16 bytes never come back short
 * once the pool is ready.  /dev/urandom is for kernels before 3.17.
 */
static int
stub_resume_random(uint8_t *p, size_t len)
{
	ssize_t	n;
	size_t	got = 0;
	int	fd;

#ifdef SYS_getrandom
	do
		n = syscall(SYS_getrandom, p, len, 0);
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)len)
		return 0;
#endif
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (got < len && ((n = read(fd, p + got, len - got)) > 0 || errno == EINTR))
		if (n > 0)
			got += (size_t)n;
	close(fd);
	return got == len ? 0 : -1;
}

int
stub_resume_setup(struct stub_resume *r, uint32_t grace_s)
{
	struct sockaddr_un	 sun;
	struct sigaction	 sa;
	const char		*tmp = getenv("TMPDIR");
	int			 n;

	if (r->armed) {
		r->grace_ms = grace_s * 1000;
		return 0;
	}
	/* Not $XDG_RUNTIME_DIR: it goes with the user's last session. */
	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 64)
		tmp = "/tmp";
	n = snprintf(r->dir, sizeof(r->dir), "%s/cshuttle-resume-XXXXXX", tmp);
	if (n < 0 || (size_t)n >= sizeof(r->dir) || mkdtemp(r->dir) == NULL) {
		log_error("resume: cannot make a directory under %s: %s", tmp,
		    strerror(errno));
		r->dir[0] = '\0';
		return -1;
	}
	/* The directory's name is at most 64 + 23 bytes: this fits. */
	if (strlen(r->dir) + 2 >= sizeof(r->path)) {
		stub_resume_free(r);
		return -1;
	}
	memcpy(r->path, r->dir, strlen(r->dir));
	memcpy(r->path + strlen(r->dir), "/s", 3);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, r->path, strlen(r->path));
	if (stub_resume_random(r->secret, sizeof(r->secret)) != 0) {
		log_error("resume: no random bytes for the secret (getrandom, /dev/urandom)");
		stub_resume_free(r);
		return -1;
	}
	if ((r->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(r->lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(r->lfd, 4) != 0 ||
	    ev_io_add(r->loop, &r->lio, r->lfd, EV_READ, stub_resume_accept_cb, r) != 0) {
		log_error("resume: cannot listen on %s: %s", r->path, strerror(errno));
		stub_resume_free(r);
		return -1;
	}
	memcpy(stub_resume_sig_path, r->path, sizeof(r->path));
	memcpy(stub_resume_sig_dir, r->dir, sizeof(r->dir));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stub_resume_on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	r->grace_ms = grace_s * 1000;
	r->grace.cb = stub_resume_grace_cb;
	r->grace.arg = r;
	if (mux_send_token(r->mux, PROTO_RESUME_TOKEN, r->secret, r->path) != 0) {
		stub_resume_free(r);
		return -1;
	}
	r->armed = true;
	log_debug("resume: waiting at %s for %u s after a lost link", r->path, grace_s);
	return 0;
}

bool
stub_resume_lost(struct stub_resume *r)
{
	if (!r->armed || r->bye)
		return false;
	if (!r->waiting) {
		r->waiting = true;
		r->grace.when = ev_now() + r->grace_ms;
		(void)ev_timer_add(r->loop, &r->grace);
		log_debug("resume: link lost; waiting %u s for the client", r->grace_ms / 1000);
	}
	return true;
}

void
stub_resume_taken(struct stub_resume *r)
{
	r->waiting = false;
	ev_timer_del(r->loop, &r->grace);
}

void
stub_resume_release(struct stub_resume *r)
{
	if (r->link_conn >= 0)
		close(r->link_conn);
	r->link_conn = -1;
}

void
stub_resume_free(struct stub_resume *r)
{
	stub_resume_drop_conn(r);
	stub_resume_release(r);
	if (r->lfd >= 0) {
		ev_io_del(r->loop, &r->lio);
		close(r->lfd);
		r->lfd = -1;
	}
	if (r->path[0] != '\0')
		(void)unlink(r->path);
	if (r->dir[0] != '\0')
		(void)rmdir(r->dir);
	r->path[0] = r->dir[0] = '\0';
	stub_resume_sig_path[0] = stub_resume_sig_dir[0] = '\0';
	ev_timer_del(r->loop, &r->grace);
	r->armed = false;
}

int
stub_resume_join(const uint8_t secret[PROTO_SECRET_LEN], const char *path, int *conn)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	struct sockaddr_un	 sun;
	struct iovec		 iov = { (void *)secret, PROTO_SECRET_LEN };
	struct msghdr		 msg;
	struct cmsghdr		*cm;
	struct pollfd		 pfd;
	int			 fd, fds[2] = { STDIN_FILENO, STDOUT_FILENO };
	char			 c = 0;

	*conn = -1;
	if (strlen(path) >= sizeof(sun.sun_path))
		return PROTO_ATTACH_NOSTUB;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return PROTO_ATTACH_FAILED;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		log_debug("resume: %s: %s", path, strerror(errno));
		close(fd);
		return PROTO_ATTACH_NOSTUB;
	}
	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) != PROTO_SECRET_LEN ||
	    poll(&pfd, 1, STUB_JOIN_WAIT_MS) != 1 || read(fd, &c, 1) != 1 || c != 'Y') {
		close(fd);
		return c == 'N' ? PROTO_ATTACH_REFUSED : PROTO_ATTACH_FAILED;
	}
	*conn = fd;
	return PROTO_ATTACH_JOINED;
}

void
stub_resume_idle(int conn)
{
	char	c;
	int	fd;

	/* Our copies of the link would keep its ends open. */
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	if (write(conn, "G", 1) == 1)
		for (;;) {
			ssize_t	n = read(conn, &c, 1);

			if (n == 0 || (n < 0 && errno != EINTR))
				break;
		}
	_exit(0);
}
