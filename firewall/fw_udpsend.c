/* SPDX-License-Identifier: ISC */
/*
 * fw_udpsend.c - the helper's send channel (fw_udpsend.h).
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <linux/filter.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "fw_udpsend.h"

static void
fw_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
fw_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool
fw_zero(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return false;
	return true;
}

int
fw_udpsend_encode(uint8_t *hdr, const struct addr *src, const struct addr *dst)
{
	if ((src->family != ADDR_V4 && src->family != ADDR_V6) ||
	    src->family != dst->family || src->port == 0 || dst->port == 0)
		return -1;
	memset(hdr, 0, FW_UDPSEND_HDR);
	hdr[0] = src->family;
	fw_put16(hdr + 2, src->port);
	fw_put16(hdr + 4, dst->port);
	memcpy(hdr + 8, src->bytes, addr_size(src->family));
	memcpy(hdr + 24, dst->bytes, addr_size(dst->family));
	if (dst->family == ADDR_V6) {
		hdr[40] = (uint8_t)(dst->scope >> 24);
		hdr[41] = (uint8_t)(dst->scope >> 16);
		hdr[42] = (uint8_t)(dst->scope >> 8);
		hdr[43] = (uint8_t)dst->scope;
	}
	return 0;
}

int
fw_udpsend_parse(const uint8_t *buf, size_t len, struct addr *src,
    struct addr *dst, const uint8_t **data, size_t *datalen)
{
	size_t	asz;

	if (len < FW_UDPSEND_HDR || len > FW_UDPSEND_MAX)
		return -1;
	if ((buf[0] != ADDR_V4 && buf[0] != ADDR_V6) || buf[1] != 0 ||
	    buf[6] != 0 || buf[7] != 0)
		return -1;
	asz = addr_size(buf[0]);
	/* One spelling per datagram: what the client's encoder writes. */
	if (!fw_zero(buf + 8 + asz, 16 - asz) ||
	    !fw_zero(buf + 24 + asz, 16 - asz) ||
	    (buf[0] == ADDR_V4 && !fw_zero(buf + 40, 4)))
		return -1;
	memset(src, 0, sizeof(*src));
	memset(dst, 0, sizeof(*dst));
	src->family = dst->family = buf[0];
	src->port = fw_get16(buf + 2);
	dst->port = fw_get16(buf + 4);
	if (src->port == 0 || dst->port == 0)
		return -1;
	memcpy(src->bytes, buf + 8, asz);
	memcpy(dst->bytes, buf + 24, asz);
	dst->scope = (uint32_t)buf[40] << 24 | (uint32_t)buf[41] << 16 |
	    (uint32_t)buf[42] << 8 | buf[43];
	*data = buf + FW_UDPSEND_HDR;
	*datalen = len - FW_UDPSEND_HDR;
	return 0;
}

/* The ones' complement sum of n bytes, added to sum (RFC 1071). */
static uint32_t
fw_csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i + 1 < n; i += 2) {
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (n & 1) {
		sum += (uint32_t)p[n - 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

uint16_t
fw_udpsend_checksum(const struct addr *src, const struct addr *dst,
    const uint8_t *udp, const uint8_t *data, size_t datalen)
{
	uint8_t		pseudo[8];
	uint32_t	sum = 0, ulen = (uint32_t)(8 + datalen);
	size_t		asz = addr_size(src->family);
	uint16_t	c;

	sum = fw_csum_add(sum, src->bytes, asz);
	sum = fw_csum_add(sum, dst->bytes, asz);
	/* IPv4: zero, protocol, length (16 bits); IPv6: length (32 bits),
	 * three zeros, next header.  Both sum the same. */
	memset(pseudo, 0, sizeof(pseudo));
	pseudo[0] = (uint8_t)(ulen >> 24);
	pseudo[1] = (uint8_t)(ulen >> 16);
	pseudo[2] = (uint8_t)(ulen >> 8);
	pseudo[3] = (uint8_t)ulen;
	pseudo[7] = IPPROTO_UDP;
	sum = fw_csum_add(sum, pseudo, sizeof(pseudo));
	sum = fw_csum_add(sum, udp, 8);
	/* An odd header length never splits a pair: 8 is even. */
	sum = fw_csum_add(sum, data, datalen);
	c = (uint16_t)~sum;
	return c == 0 ? 0xffff : c;
}

void
fw_udpsend_init(struct fw_udpsend *s, uint32_t mark)
{
	memset(s, 0, sizeof(*s));
	s->fd4 = s->fd6 = -1;
	s->mark = mark;
}

void
fw_udpsend_close(struct fw_udpsend *s)
{
	if (s->fd4 >= 0)
		close(s->fd4);
	if (s->fd6 >= 0)
		close(s->fd6);
	s->fd4 = s->fd6 = -1;
}

/*
 * A raw UDP socket that sends from any address with the mark R and
 * receives nothing.  Raw, not IPPROTO_RAW: the kernel still builds the
 * IP header and fragments what the path cannot take in one piece.  A raw
 * UDP socket is handed a copy of every UDP datagram this host receives;
 * the filter drops them before they are queued.
 */
static int
fw_udpsend_open(int af, uint32_t mark)
{
	struct sock_filter	drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog	prog = { 1, &drop };
	int			fd, one = 1, small = 1;

	if ((fd = socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_UDP)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0 ||
	    (af == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one,
	    sizeof(one)) : setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT,
	    &one, sizeof(one))) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	return fd;
}

int
fw_udpsend_send(struct fw_udpsend *s, const struct addr *src,
    const struct addr *dst, const uint8_t *data, size_t datalen)
{
	union {
		char		buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr	align;
	}			 cbuf;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct in_pktinfo	 pi;
	struct in6_pktinfo	 pi6;
	struct msghdr		 msg;
	struct iovec		 iov[2];
	struct cmsghdr		*cm;
	uint8_t			 udp[8];
	uint16_t		 sum;
	int			*fdp = src->family == ADDR_V4 ? &s->fd4 : &s->fd6;
	int			 af = src->family == ADDR_V4 ? AF_INET : AF_INET6;

	if (src->family != dst->family || datalen > FW_UDPSEND_MAXDATA) {
		errno = EINVAL;
		return -1;
	}
	if (*fdp < 0 && (*fdp = fw_udpsend_open(af, s->mark)) < 0) {
		s->failed++;
		return -1;
	}
	fw_put16(udp, src->port);
	fw_put16(udp + 2, dst->port);
	fw_put16(udp + 4, (uint16_t)(8 + datalen));
	fw_put16(udp + 6, 0);
	sum = fw_udpsend_checksum(src, dst, udp, data, datalen);
	fw_put16(udp + 6, sum);

	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	iov[0].iov_base = udp;
	iov[0].iov_len = sizeof(udp);
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = datalen;
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	msg.msg_control = cbuf.buf;
	cm = (struct cmsghdr *)cbuf.buf;
	/* The port of a raw socket's address is not the UDP port: 0. */
	if (af == AF_INET) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, dst->bytes, 4);
		msg.msg_name = &sin;
		msg.msg_namelen = sizeof(sin);
		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi_spec_dst, src->bytes, 4);
		msg.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, dst->bytes, 16);
		sin6.sin6_scope_id = dst->scope;
		msg.msg_name = &sin6;
		msg.msg_namelen = sizeof(sin6);
		memset(&pi6, 0, sizeof(pi6));
		memcpy(&pi6.ipi6_addr, src->bytes, 16);
		msg.msg_controllen = CMSG_SPACE(sizeof(pi6));
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi6));
		memcpy(CMSG_DATA(cm), &pi6, sizeof(pi6));
	}
	if (sendmsg(*fdp, &msg, MSG_DONTWAIT) == -1) {
		s->failed++;
		return -1;
	}
	s->sent++;
	return 0;
}
