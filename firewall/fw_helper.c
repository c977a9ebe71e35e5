/* SPDX-License-Identifier: ISC */
/*
 * fw_helper.c - the privileged side: `cshuttle --firewall`, or a forked
 * child when the client already runs as root.
 *
 * It reads request lines (fw_proto.h), turns each complete series into a
 * plan (fw_plan.h) and commits it as one nftables batch (fw_nft.h).  It
 * holds the netlink socket that owns the table, so the rules live exactly
 * as long as this process: end of input deletes them explicitly, and any
 * other death makes the kernel delete them.  It also makes the client's
 * marked sockets (SO_MARK needs CAP_NET_ADMIN) and, with -v, logs what
 * the leak protection blocks (fw_nflog.h).
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fw.h"
#include "fw_nflog.h"
#include "fw_nft.h"
#include "fw_plan.h"
#include "fw_proto.h"
#include "log.h"

/* Room for a few pipelined request lines. */
#define FW_HELPER_INBUF		(FW_PROTO_MAXLINE * 8)

static int fw_reply(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Write one reply line; control bytes in error text become '?'. */
static int
fw_reply(int fd, const char *fmt, ...)
{
	char line[FW_PROTO_MAXREPLY];
	size_t len, off = 0, i;
	va_list ap;
	ssize_t n;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	len = strlen(line);
	for (i = 0; i < len; i++) {
		if (line[i] < ' ' || line[i] > '~')
			line[i] = '?';
	}
	line[len++] = '\n';
	while (off < len) {
		if ((n = write(fd, line + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/*
 * SOCKET: make a socket with our mark and pass it on the reply's first
 * byte.  A failure is answered and the helper goes on; -1 only when the
 * reply cannot be written.
 */
static int
fw_helper_socket(int out_fd, uint16_t applied_port, int family, int type)
{
	char line[] = "SOCKET\n";
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	uint32_t mark = fw_mark_for_port(applied_port);
	ssize_t n;
	int s, e;

	if (applied_port == 0) {
		log_error("socket asked for before any rules");
		return fw_reply(out_fd, "NOSOCKET %d no rules applied yet",
		    EINVAL);
	}
	if ((s = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		e = errno;
		if (s >= 0)
			close(s);
		log_error("marked socket: %s", strerror(e));
		return fw_reply(out_fd, "NOSOCKET %d %s", e, strerror(e));
	}
	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = line;
	iov.iov_len = sizeof(line) - 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &s, sizeof(int));
	do
		n = sendmsg(out_fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	e = errno;
	close(s);
	if (n == (ssize_t)iov.iov_len) {
		log_trace("passed a %s socket with mark 0x%08x",
		    type == SOCK_DGRAM ? "udp" : "tcp", (unsigned int)mark);
		return 0;
	}
	if (n >= 0)
		return -1;	/* half a line: the stream is out of step */
	/* Not a socket: sudo interposed a pipe (I/O logging). */
	if (e == ENOTSOCK || e == EOPNOTSUPP) {
		log_error("cannot pass a socket: the helper's output is not a "
		    "socket (sudo I/O logging?)");
		return fw_reply(out_fd, "NOSOCKET %d the helper's output is "
		    "not a socket", e);
	}
	return -1;
}

/*
 * With -v, read the blocked packets once there is a group to read: the
 * plan's log group, which is the port.  Before OK is sent, so that the
 * log is ready when the client learns that the rules are.
 */
static void
fw_helper_nflog(struct fw_nflog **nflog, const struct fw_plan *plan,
    int verbose, bool *tried)
{
	char err[FW_PROTO_MAXREPLY];

	if (verbose <= 0 || *tried || plan->nfilter == 0)
		return;
	*tried = true;
	if ((*nflog = fw_nflog_open(plan->log_group, err, sizeof(err))) == NULL)
		log_warn("blocked packets will not be logged: %s", err);
}

/* One complete series: plan it and commit it.  -1 ends the helper. */
static int
fw_helper_apply(struct fw_nft *nft, const struct fw_req *req,
    uint16_t *applied_port, int out_fd, struct fw_nflog **nflog, int verbose,
    bool *nflog_tried)
{
	struct fw_plan plan;
	char err[FW_PROTO_MAXREPLY - 8];
	int ret;

	if (*applied_port != 0 && req->cfg.port != *applied_port) {
		log_error("refusing a port change %u -> %u",
		    *applied_port, req->cfg.port);
		(void)fw_reply(out_fd, "ERR the port cannot change from %u",
		    *applied_port);
		return -1;
	}
	if ((ret = fw_plan_build(&req->cfg, &plan)) != 0) {
		log_error("bad request: %s", fw_strerror(ret));
		(void)fw_reply(out_fd, "ERR %s", fw_strerror(ret));
		fw_plan_free(&plan);
		return -1;
	}
	if (fw_nft_apply(nft, &plan, err, sizeof(err)) != 0) {
		/* Nothing changed: the batch is all or nothing. */
		log_error("%s", err);
		ret = fw_reply(out_fd, "ERR %s", err);
	} else {
		*applied_port = plan.port;
		fw_helper_nflog(nflog, &plan, verbose, nflog_tried);
		ret = fw_reply(out_fd, "OK");
	}
	fw_plan_free(&plan);
	return ret;
}

int
fw_helper_main(int in_fd, int out_fd, int verbose)
{
	struct fw_nft *nft = NULL;
	struct fw_nflog *nflog = NULL;
	struct fw_req req;
	struct pollfd pfd[2];
	char buf[FW_HELPER_INBUF], err[FW_PROTO_MAXREPLY - 8], *nl;
	uint16_t applied_port = 0;
	size_t have = 0, linelen;
	ssize_t n;
	int r, rc = 1, readerr = 0, npfd;
	bool nflog_tried = false;

	/*
	 * A terminal's ^C reaches the client and us alike; the client decides
	 * when the rules go, by closing our input.  A dead client shows up as
	 * EOF or EPIPE, not as a signal.
	 */
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	log_init("cshuttle-fw", verbose);
	fw_req_init(&req);

	if ((nft = fw_nft_open(err, sizeof(err))) == NULL) {
		log_error("%s", err);
		(void)fw_reply(out_fd, "ERR %s", err);
		goto out;
	}
	if (fw_reply(out_fd, "READY %d", FW_PROTO_VERSION) != 0)
		goto out;
	log_trace("helper ready (pid %ld)", (long)getpid());

	for (;;) {
		if ((nl = memchr(buf, '\n', have)) == NULL) {
			if (have >= FW_PROTO_MAXLINE) {
				(void)fw_reply(out_fd,
				    "ERR request line too long");
				log_error("bad request: line too long");
				goto out;
			}
			pfd[0].fd = in_fd;
			pfd[0].events = POLLIN;
			pfd[1].fd = fw_nflog_fd(nflog);
			pfd[1].events = POLLIN;
			pfd[0].revents = pfd[1].revents = 0;
			npfd = nflog != NULL ? 2 : 1;
			if (poll(pfd, (nfds_t)npfd, -1) < 0) {
				if (errno == EINTR)
					continue;
				log_error("poll: %s", strerror(errno));
				readerr = errno;
				break;
			}
			if (npfd == 2 && pfd[1].revents != 0)
				fw_nflog_read(nflog);
			if (pfd[0].revents == 0)
				continue;
			n = read(in_fd, buf + have, sizeof(buf) - have);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				if (n < 0) {
					readerr = errno;
					log_error("read: %s", strerror(errno));
				} else
					log_trace("end of input");
				break;
			}
			have += (size_t)n;
			continue;
		}
		linelen = (size_t)(nl - buf);
		r = fw_req_line(&req, buf, linelen, err, sizeof(err));
		have -= linelen + 1;
		memmove(buf, nl + 1, have);
		if (r < 0) {
			log_error("bad request: %s", err);
			(void)fw_reply(out_fd, "ERR %s", err);
			goto out;
		}
		if (r == FW_PROTO_SOCKET) {
			if (fw_helper_socket(out_fd, applied_port,
			    req.sock_family, req.sock_type) != 0)
				goto out;
		} else if (r == FW_PROTO_APPLY) {
			if (fw_helper_apply(nft, &req, &applied_port,
			    out_fd, &nflog, verbose, &nflog_tried) != 0)
				goto out;
			fw_req_clear(&req);
		}
	}

	/* Input is gone: remove the rules ourselves rather than by closing. */
	if (fw_nft_delete(nft, err, sizeof(err)) != 0)
		log_error("%s", err);
	else if (readerr == 0)
		rc = 0;
 out:
	fw_req_clear(&req);
	fw_nflog_close(nflog);
	fw_nft_close(nft);
	return rc;
}
