/* SPDX-License-Identifier: ISC */
/*
 * fuzz_stub_attach.c - the waiting stub's reading of an attach message
 * (stub_resume_recv, server-stub/stub_resume.c) against whatever a joiner
 * sends on the Unix socket: any bytes, with none, one, two, three or four
 * descriptors in one or two SCM_RIGHTS headers.
 *
 * Invariants: accepted exactly when the bytes are the secret, alone, and
 * exactly two descriptors came (then both are open, close-on-exec);
 * otherwise no descriptor received is left open; never "nothing there"
 * once the joiner has written and shut its end.
 *
 * Input: byte 0's low three bits are how many descriptors to send (at
 * most 4), bit 3 splits them into two headers, bit 4 puts the secret
 * before the rest; the rest (at most 64 bytes) is the message.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub_resume.h"

#define MSG_MAX		64
#define FDS_MAX		4

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t	secret[PROTO_SECRET_LEN] = "0123456789abcdef";

static int
open_fds(void)
{
	int	fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		struct cmsghdr	hdr;
		char		buf[2 * CMSG_SPACE(FDS_MAX * sizeof(int))];
	} ctl;
	uint8_t		 msgbuf[PROTO_SECRET_LEN + MSG_MAX];
	struct iovec	 iov;
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	size_t		 len = 0, nfds, first, i;
	int		 sv[2], send_fds[FDS_MAX], nfd[2], before, r;
	uint8_t		 how;

	if (size < 1)
		return 0;
	how = data[0];
	data++;
	size--;
	if ((nfds = how & 7) > FDS_MAX)
		nfds = FDS_MAX;
	if (how & 16) {
		memcpy(msgbuf, secret, sizeof(secret));
		len = sizeof(secret);
	}
	if (size > MSG_MAX)
		size = MSG_MAX;
	memcpy(msgbuf + len, data, size);
	len += size;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	for (i = 0; i < nfds; i++)
		if ((send_fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
			abort();
	before = open_fds();

	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = msgbuf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0 && len > 0) {
		first = (how & 8) && nfds > 1 ? nfds / 2 : nfds;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(first * sizeof(int));
		if (first < nfds)
			msg.msg_controllen += CMSG_SPACE((nfds - first) * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(first * sizeof(int));
		memcpy(CMSG_DATA(cm), send_fds, first * sizeof(int));
		if (first < nfds) {
			cm = CMSG_NXTHDR(&msg, cm);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN((nfds - first) * sizeof(int));
			memcpy(CMSG_DATA(cm), send_fds + first, (nfds - first) * sizeof(int));
		}
	}
	if (len > 0 && sendmsg(sv[1], &msg, MSG_NOSIGNAL) != (ssize_t)len)
		abort();
	/* What was sent is in flight: the sender's copies can go. */
	for (i = 0; i < nfds; i++)
		close(send_fds[i]);
	before -= (int)nfds;
	shutdown(sv[1], SHUT_WR);

	r = stub_resume_recv(sv[0], secret, nfd);
	if (r == -1)
		abort();
	if (r == 1) {
		/* Only the secret alone, with two descriptors, gets here. */
		if (len != sizeof(secret) || memcmp(msgbuf, secret, len) != 0 ||
		    nfds != 2)
			abort();
		for (i = 0; i < 2; i++)
			if ((fcntl(nfd[i], F_GETFD) & FD_CLOEXEC) == 0)
				abort();
		if (open_fds() != before + 2)
			abort();
		close(nfd[0]);
		close(nfd[1]);
	} else if (nfd[0] != -1 || nfd[1] != -1 || open_fds() != before) {
		abort();
	}
	close(sv[0]);
	close(sv[1]);
	return 0;
}
