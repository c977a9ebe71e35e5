/*
 * fw_helper.c - the privileged side: `cshuttle --firewall`, or a forked
 * child when the client already runs as root.
 *
 * It reads request lines (fw_proto.h), turns each complete series into a
 * plan (fw_plan.h) and commits it as one nftables batch (fw_nft.h).  It
 * holds the netlink socket that owns the table, so the rules live exactly
 * as long as this process: end of input deletes them explicitly, and any
 * other death makes the kernel delete them.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fw.h"
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

/* One complete series: plan it and commit it.  -1 ends the helper. */
static int
fw_helper_apply(struct fw_nft *nft, const struct fw_req *req,
    uint16_t *applied_port, int out_fd)
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
		ret = fw_reply(out_fd, "OK");
	}
	fw_plan_free(&plan);
	return ret;
}

int
fw_helper_main(int in_fd, int out_fd, int verbose)
{
	struct fw_nft *nft = NULL;
	struct fw_req req;
	char buf[FW_HELPER_INBUF], err[FW_PROTO_MAXREPLY - 8], *nl;
	uint16_t applied_port = 0;
	size_t have = 0, linelen;
	ssize_t n;
	int r, rc = 1, readerr = 0;

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
			n = read(in_fd, buf + have, sizeof(buf) - have);
			if (n < 0 && errno == EINTR)
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
		if (r == FW_PROTO_APPLY) {
			if (fw_helper_apply(nft, &req, &applied_port,
			    out_fd) != 0)
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
	fw_nft_close(nft);
	return rc;
}
