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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "fw.h"
#include "fw_plan.h"
#include "fw_proto.h"

#define FW_SUDO_PROMPT		"[cshuttle] password for %u: "
#define FW_HELPER_FD		3	/* the forked helper's socket */
#define FW_APPLY_TIMEOUT_MS	30000
#define FW_EXIT_WAIT_MS		3000	/* after EOF: time to delete the table */
#define FW_KILL_WAIT_MS		2000
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

static int64_t
fw_monotime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
	int64_t deadline = timeout_ms < 0 ? -1 : fw_monotime_ms() + timeout_ms;
	char *nl;
	size_t n;
	ssize_t r;
	int wait, pr;

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
		wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - fw_monotime_ms();

			wait = left > 0 ? (int)left : 0;
		}
		pfd.fd = fw->fd;
		pfd.events = POLLIN;
		if ((pr = poll(&pfd, 1, wait)) < 0) {
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

/* Wait up to ms for pid; true once it is reaped (or is not our child). */
static bool
fw_reap(pid_t pid, int ms)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int64_t deadline = fw_monotime_ms() + ms;
	pid_t r;
	int status;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		if (r < 0 && errno != EINTR)
			return true;
		if (fw_monotime_ms() >= deadline)
			return false;
		nanosleep(&tick, NULL);
	}
}

/* The child must not keep the client's descriptors (listeners, SSH...). */
static void
fw_closefrom(int lowfd)
{
	long max;
	int fd;

	if (close_range((unsigned int)lowfd, ~0U, 0) == 0)
		return;
	if ((max = sysconf(_SC_OPEN_MAX)) < 0 || max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		(void)close(fd);
}

/*
 * Handlers and the blocked mask are inherited; the client may block
 * signals for a signalfd, which would also block the death signal.
 */
static void
fw_reset_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE,
	    SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2 };
	sigset_t none;
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In the child: never returns. */
static void
fw_child(int fd, pid_t parent, const char *self_exe, int verbose)
{
	const char *argv[8 + FW_MAX_VERBOSE];
	int i, n = 0;

	/* Keep the socket away from 0-2 so the dup2()s below are real. */
	if (fd < FW_HELPER_FD && (fd = fcntl(fd, F_DUPFD_CLOEXEC,
	    FW_HELPER_FD)) == -1)
		_exit(127);

	if (geteuid() == 0) {
		/*
		 * Die with the client.  The check after prctl closes the race
		 * with a parent that died before it took effect.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
		    getppid() != parent)
			_exit(1);
		fw_reset_signals();
		if (fd != FW_HELPER_FD && dup2(fd, FW_HELPER_FD) == -1)
			_exit(1);
		fw_closefrom(FW_HELPER_FD + 1);
		/* _exit: the client's atexit handlers and stdio are not ours. */
		_exit(fw_helper_main(FW_HELPER_FD, FW_HELPER_FD, verbose));
	}

	fw_reset_signals();
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1)
		_exit(127);
	fw_closefrom(STDERR_FILENO + 1);
	argv[n++] = "sudo";
	argv[n++] = "-p";
	argv[n++] = FW_SUDO_PROMPT;
	argv[n++] = "--";
	argv[n++] = self_exe;
	argv[n++] = "--firewall";
	for (i = 0; i < verbose && i < FW_MAX_VERBOSE; i++)
		argv[n++] = "-v";
	argv[n] = NULL;
	execvp("sudo", (char *const *)argv);
	dprintf(STDERR_FILENO, "cshuttle: cannot run sudo: %s\n",
	    strerror(errno));
	_exit(127);
}

struct fw *
fw_start(const char *self_exe, int verbose, char *err, size_t errlen)
{
	struct fw *fw;
	char line[FW_PROTO_MAXREPLY], want[32];
	pid_t parent = getpid();
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
	if ((fw->pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		goto fail;
	}
	if (fw->pid == 0) {
		close(sv[0]);
		fw_child(sv[1], parent, self_exe, verbose);
	}
	close(sv[1]);
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
	if (fw->pid > 0 && !fw_reap(fw->pid, FW_EXIT_WAIT_MS)) {
		/*
		 * Killing it loses nothing: the kernel drops the table with
		 * the socket.  Under sudo this may fail (EPERM); the helper
		 * still ends on EOF, we just stop waiting.
		 */
		(void)kill(fw->pid, SIGKILL);
		(void)fw_reap(fw->pid, FW_KILL_WAIT_MS);
	}
	free(fw);
}
