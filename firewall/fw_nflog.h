/* SPDX-License-Identifier: ISC */
/*
 * fw_nflog.h - the helper's reader of blocked packets (nfnetlink_log).
 *
 * The leak protection rules send a rate-limited sample of what they
 * reject to nflog group G ("log group G", G = the listener port).  With
 * -v the helper binds that group on its own SOCK_CLOEXEC netlink socket
 * and logs one line per packet, "blocked udp 192.0.2.1:443 (leak
 * protection)", itself limited to FW_NFLOG_RATE lines a second so that a
 * flood cannot fill a log.  The kernel drops the binding with the socket,
 * so nothing outlives the helper.
 */
#ifndef CSHUTTLE_FW_NFLOG_H
#define CSHUTTLE_FW_NFLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FW_NFLOG_RATE		5	/* lines per second, sustained */
#define FW_NFLOG_BURST		20	/* lines at once */
#define FW_NFLOG_COPY		128	/* packet bytes asked for */

struct fw_nflog;

/* Open a socket and bind group; NULL with a reason in err. */
struct fw_nflog	*fw_nflog_open(uint16_t group, char *err, size_t errlen);
int		 fw_nflog_fd(const struct fw_nflog *nl);
/* Read and log whatever is queued; never blocks. */
void		 fw_nflog_read(struct fw_nflog *nl);
/* Log what was suppressed, close the socket (the kernel unbinds). */
void		 fw_nflog_close(struct fw_nflog *nl);

/*
 * "udp 192.0.2.1:443", "tcp [2001:db8::1]:443", "icmpv6 2001:db8::1" for
 * the first len bytes of a packet from its IP header on; with
 * forwarded, " from <source>" is added.  NULL if it is not a readable
 * IPv4 or IPv6 header.  Pure (fuzzed: it reads what local applications
 * and LAN hosts send).
 */
const char	*fw_nflog_describe(const uint8_t *pkt, size_t len,
		    bool forwarded, char *buf, size_t buflen);

#endif
