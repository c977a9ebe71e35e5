/* SPDX-License-Identifier: ISC */
/*
 * fw_client.c - the client's end of the firewall helper; see fw.h.
 *
 * One SOCK_STREAM socketpair carries the protocol of fw_proto.h: it is
 * the helper's stdin and stdout when it runs under sudo, and its only
 * descriptor when it is a forked child.  A socket rather than two pipes
 * gives one descriptor to watch for the helper's death (fw_fd), lets
 * sends use MSG_NOSIGNAL, so a dead helper is an error, not a SIGPIPE,
 * carries the client's own sockets to the helper (SCM_RIGHTS), and tells
 * the helper who made it (SO_PEERCRED), which must be whom sudo names.
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
#define FW_MARK_TIMEOUT_MS	5000
#define FW_MAXFDS_PER_READ	4

struct fw {
	int		fd;
	pid_t		pid;
	char		rbuf[FW_PROTO_MAXREPLY];
	size_t		rlen;
	uid_t		caller;		/* from READY */
	bool		listened;	/* the listeners went with a series */
	uint16_t	port;		/* P of the listeners sent */
	uint32_t	mark;		/* once a series was applied, or 0 */
	/* Answers to requests we stopped waiting for: the helper still
	 * sends them, and each must be read and dropped before the answer
	 * to the next request (fw_reply). */
	unsigned	owed;
};

/* The helper passes no descriptor; one that came anyway is closed. */
static void
fw_drop_fds(struct msghdr *msg)
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
			close(fd);
		}
	}
}

/* read(2) for the helper's socket. */
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
	if ((r = recvmsg(fw->fd, &msg, MSG_CMSG_CLOEXEC)) >= 0)
		fw_drop_fds(&msg);
	return r;
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
			return -2;
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

/*
 * The answer to the request just sent, within timeout_ms: first the
 * answers still owed to requests that timed out (read and dropped), so
 * that a late one is never taken for this one's.  A timeout here leaves
 * this answer owed in turn.  0, or -1 with the reason in err.
 */
static int
fw_reply(struct fw *fw, int timeout_ms, char *line, size_t linelen, char *err,
    size_t errlen)
{
	int	r;

	while (fw->owed > 0) {
		if ((r = fw_read_line(fw, timeout_ms, line, linelen, err, errlen)) != 0) {
			if (r == -2)
				fw->owed++;
			return -1;
		}
		fw->owed--;
	}
	if ((r = fw_read_line(fw, timeout_ms, line, linelen, err, errlen)) == -2)
		fw->owed++;
	return r != 0 ? -1 : 0;
}

/*
 * Send buf[0..len) with the descriptors fd[0..nfd) attached to its first
 * byte.  0, or -1 with errno.
 */
static int
fw_send(struct fw *fw, const char *buf, size_t len, const int *fd, int nfd,
    int timeout_ms)
{
	char cbuf[CMSG_SPACE(FW_PROTO_MAXFDS * sizeof(int))];
	struct pollfd pfd;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	size_t off = 0;
	ssize_t n;

	if (nfd < 0 || nfd > FW_PROTO_MAXFDS) {
		errno = EINVAL;
		return -1;
	}
	while (off < len) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = (char *)buf + off;
		iov.iov_len = len - off;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (off == 0 && nfd > 0) {
			memset(cbuf, 0, sizeof(cbuf));
			msg.msg_control = cbuf;
			msg.msg_controllen = CMSG_SPACE((size_t)nfd * sizeof(int));
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
			memcpy(CMSG_DATA(cm), fd, (size_t)nfd * sizeof(int));
		}
		n = sendmsg(fw->fd, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* The event loop may have made fw_fd non-blocking. */
			pfd.fd = fw->fd;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, timeout_ms);
			continue;
		}
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* The helper as a child of a client that runs as root. */
static int
fw_child_main(void *arg)
{
	const int *verbose = arg;

	return fw_helper_main(FW_HELPER_FD, FW_HELPER_FD, *verbose, true);
}

/*
 * Start the helper on sv: `sudo cshuttle --firewall` with the socket as
 * its stdin and stdout, or, as root, a child running fw_helper_main() on
 * the socket alone (FW_HELPER_FD), which dies with the client.  The
 * sudo command line is the one fw_sudoers_rule() allows.
 */
static pid_t
fw_spawn(int sv, const char *self_exe, int *verbose, char *err, size_t errlen)
{
	struct spawn_opts o;
	const char *argv[8 + FW_MAX_VERBOSE];
	int i, n = 0;

	spawn_opts_init(&o);
	/* The helper must not keep the client's descriptors (listeners,
	 * SSH...): it gets the ones it needs through the socket. */
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
	char line[FW_PROTO_MAXREPLY];
	uid_t uid;
	int sv[2], version;

	if ((fw = calloc(1, sizeof(*fw))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fw->fd = -1;
	fw->pid = -1;
	fw->caller = (uid_t)-1;
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
	if (strncmp(line, "ERR ", 4) == 0) {
		snprintf(err, errlen, "firewall helper: %s", line + 4);
		goto fail;
	}
	if (fw_reply_ready(line, &version, &uid) != 0) {
		snprintf(err, errlen, "firewall helper: unexpected greeting "
		    "\"%.40s\"", line);
		goto fail;
	}
	if (version != FW_PROTO_VERSION || uid == (uid_t)-1) {
		snprintf(err, errlen, "firewall helper speaks protocol %d, not "
		    "%d: the cshuttle that sudo runs is another version",
		    version, FW_PROTO_VERSION);
		goto fail;
	}
	fw->caller = uid;
	return fw;
 fail:
	fw_stop(fw);
	return NULL;
}

uid_t
fw_caller_uid(const struct fw *fw)
{
	return fw != NULL ? fw->caller : (uid_t)-1;
}

/* The port the first listener is bound to: P, the mark's low half. */
static uint16_t
fw_listen_port(const struct fw_config *cfg)
{
	struct sockaddr_storage	ss;
	struct addr		a;
	socklen_t		sl = sizeof(ss);

	if (cfg->nlisten < 1 || getsockname(cfg->listen_fd[0],
	    (struct sockaddr *)&ss, &sl) != 0 ||
	    addr_from_sockaddr(&a, (struct sockaddr *)&ss, sl) != 0)
		return 0;
	return a.port;
}

int
fw_apply(struct fw *fw, const struct fw_config *cfg, char *err,
    size_t errlen)
{
	struct fw_req_text text;
	const struct fw_req_part *p;
	char line[FW_PROTO_MAXREPLY];
	uint16_t port = fw != NULL ? fw->port : 0;
	size_t i;
	int ret = -1, r, e;

	memset(&text, 0, sizeof(text));
	if (fw == NULL || fw->fd < 0) {
		snprintf(err, errlen, "firewall helper not running");
		return -1;
	}
	if (!fw->listened && (port = fw_listen_port(cfg)) == 0) {
		snprintf(err, errlen, "firewall: no listener to redirect to");
		return -1;
	}
	if (cfg->prerouting && cfg->nallow == 0) {
		snprintf(err, errlen, "firewall: serving other hosts (-l on a "
		    "non-loopback address) needs the networks to serve "
		    "(--allow-from)");
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
	if ((r = fw_req_format(cfg, !fw->listened, &text)) != 0) {
		snprintf(err, errlen, "firewall: %s", fw_strerror(r));
		return -1;
	}
	for (i = 0; i < text.npart; i++) {
		p = &text.part[i];
		if (fw_send(fw, text.buf + p->off, p->len, p->fd, p->nfd,
		    FW_APPLY_TIMEOUT_MS) != 0) {
			e = errno;
			/* It may have said why before it left. */
			if (fw_read_line(fw, 1000, line, sizeof(line), err,
			    errlen) == 0 && strncmp(line, "ERR ", 4) == 0)
				snprintf(err, errlen, "%s", line + 4);
			else
				snprintf(err, errlen, "firewall helper exited "
				    "(%s)", strerror(e));
			goto out;
		}
	}
	/* Sent: the helper has them, whatever it answers. */
	fw->listened = true;
	fw->port = port;
	if (fw_reply(fw, FW_APPLY_TIMEOUT_MS, line, sizeof(line), err,
	    errlen) != 0)
		goto out;
	if (strcmp(line, "OK") == 0) {
		fw->mark = fw_mark_for_port(fw->port);
		ret = 0;
	} else if (strncmp(line, "ERR ", 4) == 0)
		snprintf(err, errlen, "%s", line + 4);
	else
		snprintf(err, errlen, "firewall helper: unexpected reply "
		    "\"%.40s\"", line);
 out:
	fw_req_text_free(&text);
	return ret;
}

int
fw_hosts(struct fw *fw, const struct fw_host *hosts, size_t n, char *err,
    size_t errlen)
{
	char	 line[FW_PROTO_MAXREPLY], *text;
	size_t	 len;
	int	 r, e;

	if (fw == NULL || fw->fd < 0) {
		snprintf(err, errlen, "firewall helper not running");
		return -1;
	}
	if ((r = fw_req_format_hosts(hosts, n, &text, &len)) != 0) {
		snprintf(err, errlen, "hosts: %s", fw_strerror(r));
		return -1;
	}
	r = fw_send(fw, text, len, NULL, 0, FW_APPLY_TIMEOUT_MS);
	e = errno;
	free(text);
	if (r != 0) {
		if (fw_read_line(fw, 1000, line, sizeof(line), err,
		    errlen) == 0 && strncmp(line, "ERR ", 4) == 0)
			snprintf(err, errlen, "%s", line + 4);
		else
			snprintf(err, errlen, "firewall helper exited (%s)",
			    strerror(e));
		return -1;
	}
	if (fw_reply(fw, FW_APPLY_TIMEOUT_MS, line, sizeof(line), err,
	    errlen) != 0)
		return -1;
	if (strcmp(line, "OK") == 0)
		return 0;
	if (strncmp(line, "ERR ", 4) == 0)
		snprintf(err, errlen, "%s", line + 4);
	else
		snprintf(err, errlen, "firewall helper: unexpected reply "
		    "\"%.40s\"", line);
	return -1;
}

uint32_t
fw_mark(const struct fw *fw)
{
	return fw != NULL ? fw->mark : 0;
}

/*
 * A request line (NULL: invalid) with descriptor fd, answered by one
 * line that parse reads (fw_reply_mark(), fw_reply_udpreply()).  0, or
 * -1 with errno: the helper's, EPIPE without a helper or an answer,
 * EINVAL without a mark (no UDP capture or --mark) or a request, EPROTO
 * for an answer parse does not know.
 */
static int
fw_fd_request(struct fw *fw, const char *req, int fd,
    int (*parse)(const char *, int *))
{
	char line[FW_PROTO_MAXREPLY], err[FW_PROTO_MAXREPLY];
	int got, e;

	if (fw == NULL || fw->fd < 0) {
		errno = EPIPE;
		return -1;
	}
	if (fw->mark == 0 || fd < 0 || req == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (fw_send(fw, req, strlen(req), &fd, 1, FW_MARK_TIMEOUT_MS) != 0 ||
	    fw_reply(fw, FW_MARK_TIMEOUT_MS, line, sizeof(line), err,
	    sizeof(err)) != 0) {
		errno = EPIPE;
		return -1;
	}
	if ((got = parse(line, &e)) == 1)
		return 0;
	errno = got == 0 ? e : EPROTO;
	return -1;
}

int
fw_mark_socket(struct fw *fw, int fd)
{
	return fw_fd_request(fw, "MARK\n", fd, fw_reply_mark);
}

int
fw_udp_reply_socket(struct fw *fw, int fd, const struct addr *src)
{
	char line[FW_PROTO_MAXREPLY];

	return fw_fd_request(fw, src != NULL && fw_req_format_udpreply(src,
	    line, sizeof(line)) == 0 ? line : NULL, fd, fw_reply_udpreply);
}

int
fw_udp_send_channel(struct fw *fw, int fd)
{
	return fw_fd_request(fw, "UDPSEND\n", fd, fw_reply_udpsend);
}

int
fw_fd(const struct fw *fw)
{
	return fw != NULL ? fw->fd : -1;
}

void
fw_detach(struct fw *fw)
{
	if (fw != NULL && fw->fd >= 0) {
		close(fw->fd);
		fw->fd = -1;
	}
}

void
fw_stop(struct fw *fw)
{
	if (fw == NULL)
		return;
	/* EOF tells the helper to delete the table and exit. */
	if (fw->fd >= 0)
		close(fw->fd);
	/*
	 * Killing it after the wait loses nothing: the kernel drops the
	 * table with the socket.  Under sudo that may fail (EPERM); the
	 * helper still ends on EOF, we just stop waiting.
	 */
	if (fw->pid > 0)
		(void)spawn_wait(fw->pid, FW_EXIT_WAIT_MS, NULL);
	free(fw);
}

/* A word of a sudoers Cmnd: the characters sudoers(5) reads specially
 * escaped, white space refused (it would split the command). */
static int
fw_sudoers_word(const char *w, char *out, size_t outlen)
{
	size_t	i, n = 0;

	for (i = 0; w[i] != '\0'; i++) {
		if ((unsigned char)w[i] <= ' ' || w[i] == 0x7f)
			return -1;
		if (strchr(",:=\\", w[i]) != NULL) {
			if (n + 1 >= outlen)
				return -1;
			out[n++] = '\\';
		}
		if (n + 1 >= outlen)
			return -1;
		out[n++] = w[i];
	}
	out[n] = '\0';
	return 0;
}

int
fw_sudoers_rule(const char *user, const char *self_exe, char *buf,
    size_t len, char *err, size_t errlen)
{
	char	path[4096];
	size_t	i, off = 0;
	int	v, k, r;

	if (self_exe == NULL || self_exe[0] != '/' ||
	    fw_sudoers_word(self_exe, path, sizeof(path)) != 0) {
		snprintf(err, errlen, "a sudoers rule cannot name \"%s\": it "
		    "must be an absolute path without white space",
		    self_exe != NULL ? self_exe : "");
		return -1;
	}
	for (i = 0; user[i] != '\0'; i++)
		if (!((user[i] >= 'a' && user[i] <= 'z') ||
		    (user[i] >= 'A' && user[i] <= 'Z') ||
		    (user[i] >= '0' && user[i] <= '9') || user[i] == '_' ||
		    user[i] == '-' || user[i] == '.' ||
		    (user[i] == '%' && i == 0) || (user[i] == '$' &&
		    user[i + 1] == '\0')))
			break;
	if (i == 0 || user[i] != '\0' || i > 64 || user[0] == '-' ||
	    (user[0] == '%' && user[1] == '\0')) {
		snprintf(err, errlen, "\"%s\" is not a user or %%group name "
		    "for sudoers", user);
		return -1;
	}
	/* One command per -v count fw_spawn() may pass, 0 included. */
	r = snprintf(buf, len, "%s ALL=(root) NOPASSWD:", user);
	for (v = 0; v <= FW_MAX_VERBOSE && r >= 0 && (size_t)r < len - off;
	    v++) {
		off += (size_t)r;
		r = snprintf(buf + off, len - off, "%s %s --firewall",
		    v == 0 ? "" : ",", path);
		for (k = 0; k < v && r >= 0 && (size_t)r < len - off; k++) {
			off += (size_t)r;
			r = snprintf(buf + off, len - off, " -v");
		}
	}
	if (r < 0 || (size_t)r >= len - off) {
		snprintf(err, errlen, "the sudoers rule is too long");
		return -1;
	}
	return 0;
}
