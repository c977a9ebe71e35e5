/* SPDX-License-Identifier: ISC */
/*
 * fw.h - the firewall: nftables redirect rules owned by a small helper.
 *
 * The client never touches netlink itself.  fw_start() starts the helper
 * (a forked child when running as root, `sudo cshuttle --firewall`
 * otherwise); the helper opens one SOCK_CLOEXEC netfilter socket, creates
 * one table with NFT_TABLE_F_OWNER on it, and exits when its input
 * closes, so the kernel removes the table when either process dies.
 *
 * Per instance, everything is derived from the listener port P (unique
 * per running cshuttle, as it names the table cshuttle_<P>):
 *	table	inet cshuttle_<P>
 *	mark	FW_MARK_BASE | P	(0x6373xxxx, "cs" in the upper half)
 *	nflog	group P			(blocked-packet log, read with -v)
 */
#ifndef CSHUTTLE_FW_H
#define CSHUTTLE_FW_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "subnet.h"

#define FW_MAX_EXEMPT	8
#define FW_MAX_DNS	8
#define FW_MAX_ALLOW	32
#define FW_MARK_BASE	0x63730000U	/* fw_mark() = FW_MARK_BASE | port */

/* A source network allowed through the prerouting rules. */
struct fw_allow {
	uint8_t		family, prefix;	/* ADDR_V4 or ADDR_V6; prefix length */
	uint8_t		addr[16];	/* IPv4: the first 4 bytes */
};

struct fw_config {
	uint16_t		 port;		/* local listener port: redirect target */
	bool			 ipv4;		/* redirect IPv4 (listener on 127.0.0.1 / -l addr) */
	bool			 ipv6;		/* redirect IPv6 (listener on ::1 / -l addr) */
	bool			 prerouting;	/* also serve other hosts (-l on a non-loopback address) */
	struct fw_allow		 allow[FW_MAX_ALLOW];	/* the sources prerouting serves */
	int			 nallow;
	const struct subnet_list *subnets;	/* includes and excludes */
	/*
	 * TCP destinations that must never be redirected (the SSH
	 * connection): address and port, port 0 for every port.  The
	 * scope is not used.
	 */
	struct addr		 exempt[FW_MAX_EXEMPT];
	int			 nexempt;
	/*
	 * The captured nameservers: UDP and TCP to the address, port 53,
	 * are redirected to `port` here, the local port of cshuttle's DNS
	 * listener for it (on 127.0.0.1 or ::1, or the address of the
	 * incoming interface in prerouting).  Addresses must be distinct;
	 * the scope is not used.
	 */
	struct addr		 dns[FW_MAX_DNS];
	int			 ndns;
	/*
	 * Leak protection (default true in the client; --no-block-leaks
	 * clears it).  Takes effect only when 0.0.0.0/0 and/or ::/0 is an
	 * include (every port) of an enabled family: then UDP of that family
	 * that is not captured DNS is rejected, and with 0/0 but not ::/0,
	 * all IPv6 is rejected, so applications fall back to IPv4 at once.
	 */
	bool			 block_leaks;
};

struct fw;

/* Start the helper.  NULL with a one-line reason in err on failure. */
struct fw *fw_start(const char *self_exe, int verbose, char *err, size_t errlen);
/* Install (or atomically replace) the rules; returns once the kernel has
 * committed them.  0, or -1 with a reason in err. */
int	   fw_apply(struct fw *fw, const struct fw_config *cfg, char *err, size_t errlen);
/*
 * The mark carried by cshuttle's own DNS forwarding sockets: packets with
 * it are never redirected or blocked.  FW_MARK_BASE | port of the config
 * last applied; 0 before the first successful fw_apply().
 */
uint32_t   fw_mark(const struct fw *fw);
/* The same, for a given listener port (no helper needed). */
uint32_t   fw_mark_for_port(uint16_t port);
/*
 * A socket (AF_INET/AF_INET6, SOCK_DGRAM or SOCK_STREAM, with
 * SOCK_NONBLOCK|SOCK_CLOEXEC) that carries fw_mark(), created by the
 * helper (SO_MARK needs CAP_NET_ADMIN, which the client may lack) and
 * passed over the helper's socketpair with SCM_RIGHTS.  -1 with errno on
 * failure: EINVAL for a bad family or type or before the first
 * fw_apply(), EPIPE if the helper is gone, otherwise the helper's errno
 * (EPERM: the helper lacks CAP_NET_ADMIN; ENOTSOCK: sudo interposed a
 * pipe, e.g. with I/O logging).  Synchronous: the helper answers at once.
 */
int	   fw_marked_socket(struct fw *fw, int family, int type);
/* Descriptor that becomes readable if the helper dies (for the event loop). */
int	   fw_fd(const struct fw *fw);
/* Remove the rules, end the helper and wait for it.  Accepts NULL. */
void	   fw_stop(struct fw *fw);

/* The helper's entry point (`cshuttle --firewall`): requests on in_fd,
 * replies on out_fd.  Returns the process exit code. */
int	   fw_helper_main(int in_fd, int out_fd, int verbose);

#endif
