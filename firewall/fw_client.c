/* SPDX-License-Identifier: ISC */
/*
 * fw_client.c - the client's end of the firewall helper; see fw.h.
 *
 * One SOCK_STREAM socketpair carries the protocol of fw_proto.h: it is
 * the helper's stdin and stdout when it runs under sudo, and its only
 * descriptor when it is a forked child.  A socket rather than two pipes
 * gives one descriptor to watch for the helper's death (fw_fd) and lets
 * sends use MSG_NOSIGNAL, so a dead helper is an error, not a SIGPIPE.
 * It also carries the marked sockets the helper makes (SCM_RIGHTS), which
 * is why every read is a recvmsg with room for a descriptor.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "fw.h"
#include "fw_plan.h"
#include "fw_proto.h"
#include "spawn.h"

#define FW_SUDO_PROMPT		"[cshuttle] password for %u: "
#define FW_HELPER_FD		3	/* the forked helper's socket */
#define FW_APPLY_TIMEOUT_MS	30000
#define FW_EXIT_WAIT_MS		3000	/* after EOF: time to delete the table */
#define FW_MAX_VERBOSE		3
#define FW_SOCKET_TIMEOUT_MS	5000
#define FW_MAXFDS_PER_READ	4

struct fw {
	int		fd;
	pid_t		pid;
	char		rbuf[FW_PROTO_MAXREPLY];
	size_t		rlen;
	int		passfd;		/* received with the replies, or -1 */
	uint32_t	mark;		/* of the last applied config, or 0 */
};

/* Keep the first descriptor received; no reply carries more than one. */
static void
fw_take_fds(struct fw *fw, struct msghdr *msg)
{
	struct cmsghdr *cm;
	size_t i, nfd;
	int fd;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (fw->passfd < 0)
				fw->passfd = fd;
			else
				close(fd);
		}
	}
}

/* read(2) for the helper's socket, keeping what SCM_RIGHTS brings. */
static ssize_t
fw_recv(struct fw *fw, void *buf, size_t len)
{
	char cbuf[CMSG_SPACE(FW_MAXFDS_PER_READ * sizeof(int))];
	struct msghdr msg;
	struct iovec iov;
	ssize_t r;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	/* CLOEXEC: the client's children (ssh -e ...) must not get it. */
	if ((r = recvmsg(fw->fd, &msg, MSG_CMSG_CLOEXEC)) >= 0)
		fw_take_fds(fw, &msg);
	return r;
}

static void
fw_drop_passfd(struct fw *fw)
{
	if (fw->passfd >= 0) {
		close(fw->passfd);
		fw->passfd = -1;
	}
}

/*
 * Read one reply line into line (NUL-terminated, without '\n').
 * timeout_ms < 0 waits for ever (sudo may be asking for a password).
 */
static int
fw_read_line(struct fw *fw, int timeout_ms, char *line, size_t linelen,
    char *err, size_t errlen)
{
	struct pollfd pfd;
	int64_t deadline = timeout_ms < 0 ? -1 : (int64_t)clock_ms() + timeout_ms;
	char *nl;
	size_t n;
	ssize_t r;
	int pr;

	for (;;) {
		if ((nl = memchr(fw->rbuf, '\n', fw->rlen)) != NULL) {
			n = (size_t)(nl - fw->rbuf);
			snprintf(line, linelen, "%.*s", (int)n, fw->rbuf);
			fw->rlen -= n + 1;
			memmove(fw->rbuf, nl + 1, fw->rlen);
			return 0;
		}
		if (fw->rlen == sizeof(fw->rbuf)) {
			snprintf(err, errlen, "firewall helper: reply too long");
			return -1;
		}
		pfd.fd = fw->fd;
		pfd.events = POLLIN;
		if ((pr = poll(&pfd, 1, clock_remaining_ms(deadline))) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if (pr == 0) {
			snprintf(err, errlen, "firewall helper did not answer");
			return -1;
		}
		r = fw_recv(fw, fw->rbuf + fw->rlen,
		    sizeof(fw->rbuf) - fw->rlen);
		if (r < 0 && (errno == EINTR || errno == EAGAIN ||
		    errno == EWOULDBLOCK))
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "firewall helper exited%s%s",
			    r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
			return -1;
		}
		fw->rlen += (size_t)r;
	}
}

/* The helper as a child of a client that runs as root. */
static int
fw_child_main(void *arg)
{
	const int *verbose = arg;

	return fw_helper_main(FW_HELPER_FD, FW_HELPER_FD, *verbose);
}

/*
 * Start the helper on sv: `sudo cshuttle --firewall` with the socket as
 * its stdin and stdout, or, as root, a child running fw_helper_main() on
 * the socket alone (FW_HELPER_FD), which dies with the client.
 */
static pid_t
fw_spawn(int sv, const char *self_exe, int *verbose, char *err, size_t errlen)
{
	struct spawn_opts o;
	const char *argv[8 + FW_MAX_VERBOSE];
	int i, n = 0;

	spawn_opts_init(&o);
	/* The helper must not keep the client's descriptors (listeners,
	 * SSH...). */
	o.close_others = true;
	if (geteuid() == 0) {
		o.child_main = fw_child_main;
		o.arg = verbose;
		o.keep_fd = sv;
		o.keep_fd_at = FW_HELPER_FD;
		o.parent_death = true;
		return spawn_start(&o, err, errlen);
	}
	argv[n++] = "sudo";
	argv[n++] = "-p";
	argv[n++] = FW_SUDO_PROMPT;
	argv[n++] = "--";
	argv[n++] = self_exe;
	argv[n++] = "--firewall";
	for (i = 0; i < *verbose && i < FW_MAX_VERBOSE; i++)
		argv[n++] = "-v";
	argv[n] = NULL;
	o.argv = argv;
	o.fd[0] = o.fd[1] = sv;
	return spawn_start(&o, err, errlen);
}

struct fw *
fw_start(const char *self_exe, int verbose, char *err, size_t errlen)
{
	struct fw *fw;
	char line[FW_PROTO_MAXREPLY], want[32];
	int sv[2];

	if ((fw = calloc(1, sizeof(*fw))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fw->fd = -1;
	fw->pid = -1;
	fw->passfd = -1;
	if (geteuid() != 0 && (self_exe == NULL || *self_exe != '/')) {
		snprintf(err, errlen, "firewall: need the absolute path of "
		    "cshuttle to run it with sudo");
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		goto fail;
	}
	fw->pid = fw_spawn(sv[1], self_exe, &verbose, line, sizeof(line));
	close(sv[1]);
	if (fw->pid == -1) {
		snprintf(err, errlen, "firewall helper: %s", line);
		close(sv[0]);
		goto fail;
	}
	fw->fd = sv[0];

	if (fw_read_line(fw, -1, line, sizeof(line), err, errlen) != 0) {
		if (geteuid() != 0)
			snprintf(err, errlen, "firewall helper did not start "
			    "(sudo refused, or `cshuttle --firewall` failed)");
		goto fail;
	}
	snprintf(want, sizeof(want), "READY %d", FW_PROTO_VERSION);
	if (strcmp(line, want) != 0) {
		if (strncmp(line, "ERR ", 4) == 0)
			snprintf(err, errlen, "firewall helper: %s", line + 4);
		else
			snprintf(err, errlen, "firewall helper: unexpected "
			    "greeting \"%.40s\"", line);
		goto fail;
	}
	return fw;
 fail:
	fw_stop(fw);
	return NULL;
}

int
fw_apply(struct fw *fw, const struct fw_config *cfg, char *err,
    size_t errlen)
{
	char *req = NULL, line[FW_PROTO_MAXREPLY];
	size_t len, off = 0;
	ssize_t n;
	int ret = -1, r;

	if (fw == NULL || fw->fd < 0) {
		snprintf(err, errlen, "firewall helper not running");
		return -1;
	}
	if (!cfg->ipv4 && !cfg->ipv6) {
		snprintf(err, errlen, "firewall: no address family to redirect");
		return -1;
	}
	for (r = 0; r < cfg->ndns && r < FW_MAX_DNS; r++) {
		if (fw_dns_dup(cfg, r)) {
			snprintf(err, errlen, "firewall: nameserver %s listed "
			    "twice", addr_format(&cfg->dns[r], false, line,
			    sizeof(line)));
			return -1;
		}
	}
	if ((r = fw_req_format(cfg, &req, &len)) != 0) {
		snprintf(err, errlen, "firewall: %s", fw_strerror(r));
		return -1;
	}
	while (off < len) {
		n = send(fw->fd, req + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* The event loop may have made fw_fd non-blocking. */
			struct pollfd pfd = { .fd = fw->fd, .events = POLLOUT };

			(void)poll(&pfd, 1, FW_APPLY_TIMEOUT_MS);
			continue;
		}
		if (n < 0) {
			int e = errno;

			/* It may have said why before it left. */
			if (fw_read_line(fw, 1000, line, sizeof(line), err,
			    errlen) == 0 && strncmp(line, "ERR ", 4) == 0)
				snprintf(err, errlen, "%s", line + 4);
			else
				snprintf(err, errlen, "firewall helper exited "
				    "(%s)", strerror(e));
			goto out;
		}
		off += (size_t)n;
	}
	if (fw_read_line(fw, FW_APPLY_TIMEOUT_MS, line, sizeof(line), err,
	    errlen) != 0)
		goto out;
	fw_drop_passfd(fw);	/* never sent with OK; be safe */
	if (strcmp(line, "OK") == 0) {
		fw->mark = fw_mark_for_port(cfg->port);
		ret = 0;
	} else if (strncmp(line, "ERR ", 4) == 0)
		snprintf(err, errlen, "%s", line + 4);
	else
		snprintf(err, errlen, "firewall helper: unexpected reply "
		    "\"%.40s\"", line);
 out:
	free(req);
	return ret;
}

uint32_t
fw_mark(const struct fw *fw)
{
	return fw != NULL ? fw->mark : 0;
}

int
fw_marked_socket(struct fw *fw, int family, int type)
{
	char req[32], line[FW_PROTO_MAXREPLY], err[FW_PROTO_MAXREPLY];
	struct pollfd pfd;
	size_t len, off = 0;
	ssize_t n;
	int fd, e, got, want_type = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	socklen_t sl;

	if (fw == NULL || fw->fd < 0) {
		errno = EPIPE;
		return -1;
	}
	if (fw->mark == 0 || fw_req_format_socket(family, want_type, req,
	    sizeof(req)) != 0) {
		errno = EINVAL;
		return -1;
	}
	len = strlen(req);
	while (off < len) {
		n = send(fw->fd, req + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			pfd.fd = fw->fd;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, FW_SOCKET_TIMEOUT_MS);
			continue;
		}
		if (n < 0) {
			errno = EPIPE;
			return -1;
		}
		off += (size_t)n;
	}
	fw_drop_passfd(fw);
	if (fw_read_line(fw, FW_SOCKET_TIMEOUT_MS, line, sizeof(line), err,
	    sizeof(err)) != 0) {
		fw_drop_passfd(fw);
		errno = EPIPE;
		return -1;
	}
	got = fw_reply_socket(line, &e);
	fd = fw->passfd;
	fw->passfd = -1;
	if (got != 1) {
		if (fd >= 0)
			close(fd);
		errno = got == 0 ? e : EPROTO;
		return -1;
	}
	/* The helper is trusted, but a wrong descriptor would be a bad bug. */
	sl = sizeof(got);
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &got, &sl) != 0 ||
	    got != want_type || (sl = sizeof(e), getsockopt(fd, SOL_SOCKET,
	    SO_DOMAIN, &e, &sl) != 0) || e != family) {
		if (fd >= 0)
			close(fd);
		errno = EPROTO;
		return -1;
	}
	return fd;
}

int
fw_fd(const struct fw *fw)
{
	return fw != NULL ? fw->fd : -1;
}

void
fw_stop(struct fw *fw)
{
	if (fw == NULL)
		return;
	/* EOF tells the helper to delete the table and exit. */
	if (fw->fd >= 0)
		close(fw->fd);
	fw_drop_passfd(fw);
	/*
	 * Killing it after the wait loses nothing: the kernel drops the
	 * table with the socket.  Under sudo that may fail (EPERM); the
	 * helper still ends on EOF, we just stop waiting.
	 */
	if (fw->pid > 0)
		(void)spawn_wait(fw->pid, FW_EXIT_WAIT_MS, NULL);
	free(fw);
}
