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
 * The helper serves its caller only: the uid sudo names (SUDO_UID, which
 * the credentials of the socket on its stdin must confirm), or root.  For
 * a caller other than root every rule matches only the caller's own
 * sockets, and what would reach other users or hosts needs root's word in
 * /etc/cshuttle/helper.conf (fw_policy.h).  The client makes its own
 * sockets and passes them (SCM_RIGHTS): the listeners the rules redirect
 * to, its DNS listeners, and the sockets that need the mark.
 *
 * Per instance, everything is derived from the listener port P, which the
 * helper reads from the listening sockets themselves (unique per running
 * cshuttle, as it names the table cshuttle_<P>):
 *	table	inet cshuttle_<P>
 *	mark	FW_MARK_BASE | P	(0x6373xxxx, "cs" in the upper half)
 *	nflog	group P			(blocked-packet log, read with -v)
 * and, when UDP is captured (the client passed UDP sockets):
 *	mark T	FW_TPROXY_MARK_BASE | P	(0x6375xxxx) on the UDP packets to
 *					carry, also the number of the
 *					routing table that delivers them
 *					(an `ip rule fwmark T lookup T`
 *					at FW_UDP_RULE_PRIO, and `local
 *					default dev lo table T`)
 *	mark R	FW_REPLY_MARK_BASE | P	(0x6376xxxx) on the reply sockets
 *					(fw_udp_reply_socket()) and the
 *					helper's raw sockets
 *					(fw_udp_send_channel()), whose
 *					packets may only go to this host or
 *					to the allowed LAN sources
 * With --tmark (fw_config.tmark), the caller's mark replaces T, as the
 * packets' mark and as the routing table's number alike.
 * The rule and route are not owned by the nft table's socket: the helper
 * removes them on its way out, and one that was killed (SIGKILL) leaves
 * them until the next helper starts, which removes those of instances
 * whose table is gone (for a --tmark: whose mark no table's comment
 * names, fw_nft.h).
 */
#ifndef CSHUTTLE_FW_H
#define CSHUTTLE_FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "fw_hosts.h"
#include "subnet.h"

#define FW_MAX_LISTEN	8	/* -l addresses, of both families */
#define FW_MAX_EXEMPT	8
#define FW_MAX_DNS	8
#define FW_MAX_ALLOW	32
#define FW_MARK_BASE	0x63730000U	/* fw_mark() = FW_MARK_BASE | port */
#define FW_TPROXY_MARK_BASE 0x63750000U	/* T: carried UDP, and its table */
#define FW_REPLY_MARK_BASE 0x63760000U	/* R: the reply sockets */
#define FW_MARK_RANGE_MASK 0xffff0000U	/* the range of a mark: its upper half */
/*
 * The priority of the `ip rule fwmark T lookup T`.  It matches only
 * packets with exactly the mark T, so coming early costs nobody anything;
 * it must come before the rules of the other tools that could take those
 * packets first: the main table (32766), wg-quick's (32764-32765) and
 * Tailscale's (5210-5270), and after the local table's rule (0).
 */
#define FW_UDP_RULE_PRIO 5000
#define FW_MAX_VERBOSE	3	/* -v given to the helper under sudo, at most */

/* A source network served through the prerouting rules (--allow-from). */
struct fw_allow {
	uint8_t		 family;	/* 4 or 6 */
	uint8_t		 prefix;
	uint8_t		 addr[16];	/* the network address */
};

struct fw_config {
	/*
	 * The TCP listeners the redirect rules send connections to (bound,
	 * listening, AF_INET or AF_INET6, all on one port P).  Sent with the
	 * first fw_apply() only: the helper keeps them for its whole life,
	 * so P, and with it the table's name, stays the caller's.  The
	 * families redirected are theirs.
	 */
	int			 listen_fd[FW_MAX_LISTEN];
	int			 nlisten;
	/*
	 * UDP capture: bound, unconnected UDP sockets on the address and
	 * port of a listener (at most one per listener, IPV6_V6ONLY for
	 * IPv6, IP_RECVORIGDSTADDR / IPV6_RECVORIGDSTADDR set by the client),
	 * sent with the first fw_apply() only.  The helper makes them
	 * IP_TRANSPARENT and delivers there (TPROXY) the UDP of their
	 * family to the included subnets.  It also gives them the mark R:
	 * what they send is confined as the reply sockets' is (answer
	 * from fw_udp_reply_socket() sockets, not from these).  nudp == 0:
	 * no UDP capture (--no-udp).
	 */
	int			 udp_fd[FW_MAX_LISTEN];
	int			 nudp;
	/*
	 * --tmark: the mark of carried UDP and the number of its routing
	 * table, in place of T = FW_TPROXY_MARK_BASE | P; 0: T.  Sent with
	 * the first fw_apply() only, and only with UDP sockets; a value
	 * fw_tmark_invalid() refuses is never sent.  A caller other than
	 * root needs the policy's "tmark" (fw_policy.h).
	 */
	uint32_t		 tmark;
	bool			 prerouting;	/* also serve other hosts (-l on a
						   non-loopback address) */
	/* The sources the prerouting rules serve; prerouting needs one. */
	struct fw_allow		 allow[FW_MAX_ALLOW];
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
	 * are redirected to the local port Q of cshuttle's DNS listeners for
	 * it, dns_udp_fd[i] (bound UDP) and dns_tcp_fd[i] (listening TCP),
	 * both on Q, of the nameserver's family.  The helper takes Q from
	 * the sockets: dns[i].port is informative.  Addresses must be
	 * distinct; the scope is not used.
	 */
	struct addr		 dns[FW_MAX_DNS];
	int			 dns_udp_fd[FW_MAX_DNS];
	int			 dns_tcp_fd[FW_MAX_DNS];
	int			 ndns;
	/*
	 * Leak protection (default true in the client; --no-block-leaks
	 * clears it).  Takes effect only when 0.0.0.0/0 and/or ::/0 is an
	 * include (every port) of an enabled family: then UDP of that family
	 * that is not captured DNS is rejected, and with 0/0 but not ::/0,
	 * all IPv6 is rejected, so applications fall back to IPv4 at once.
	 * With UDP capture for the family (udp_fd), the UDP it carries, any
	 * port 53 included, goes through the tunnel instead (fw_plan.h).
	 */
	bool			 block_leaks;
	/*
	 * Whose locally generated traffic the rules take.  host_wide: every
	 * local socket (SCOPE host; root's default, policy "host-wide" for
	 * anyone else).  has_user / has_group (root only, --user, --group):
	 * the sockets of that uid and/or gid.  None of them: the caller's own
	 * sockets (SCOPE caller).  The prerouting rules are never scoped.
	 */
	bool			 host_wide;
	bool			 has_user;
	uid_t			 user;
	bool			 has_group;
	gid_t			 group;
	/*
	 * Derived from the descriptors, by the helper's parser: the port P,
	 * the families redirected, where each listener is bound (port P) and
	 * where each DNS listener pair is (port Q).  The client need not set
	 * them.
	 */
	uint16_t		 port;
	bool			 ipv4;
	bool			 ipv6;
	struct addr		 listen[FW_MAX_LISTEN];
	struct addr		 dns_listen[FW_MAX_DNS];
	/* Where each UDP socket is bound (port P), and the families whose
	 * UDP is captured. */
	struct addr		 udp_listen[FW_MAX_LISTEN];
	bool			 udp4;
	bool			 udp6;
};

struct fw;

/*
 * Start the helper and read its greeting, which names the caller it
 * serves.  NULL with a one-line reason in err on failure (the helper's
 * own ERR text when it refused to start: too many helpers, a bad policy
 * file).
 */
struct fw *fw_start(const char *self_exe, int verbose, char *err, size_t errlen);
/* The uid the helper serves (from its READY line). */
uid_t	   fw_caller_uid(const struct fw *fw);
/*
 * Install (or atomically replace) the rules; returns once the kernel has
 * committed them.  The first call sends cfg's listeners, later calls
 * never do (they cannot change).  The descriptors are the caller's: the
 * helper gets copies.  0, or -1 with a reason in err (the helper's text
 * for a refusal, naming the policy line that would allow it).
 */
int	   fw_apply(struct fw *fw, const struct fw_config *cfg, char *err, size_t errlen);
/*
 * The mark carried by cshuttle's own DNS forwarding sockets: packets with
 * it are never redirected or blocked.  FW_MARK_BASE | P once rules have
 * been applied; 0 before.
 */
uint32_t   fw_mark(const struct fw *fw);
/* The same, for a given listener port (no helper needed). */
uint32_t   fw_mark_for_port(uint16_t port);
/* The mark T of carried UDP (also its routing table) for port P. */
uint32_t   fw_tproxy_mark_for_port(uint16_t port);
/*
 * Why mark cannot be a --tmark (a static text), or NULL when it can:
 * 0; a table number the kernel keeps for itself (253 default, 254 main,
 * 255 local); a mark in one of cshuttle's own ranges (M, T, R: those of
 * FW_MARK_BASE, FW_TPROXY_MARK_BASE and FW_REPLY_MARK_BASE).
 */
const char *fw_tmark_invalid(uint32_t mark);
/* The mark R of the reply sockets for port P. */
uint32_t   fw_reply_mark_for_port(uint16_t port);
/*
 * Have the helper set fw_mark() on fd (SO_MARK needs CAP_NET_ADMIN, which
 * the client may lack): fd must be the caller's own AF_INET/AF_INET6
 * SOCK_DGRAM or SOCK_STREAM socket, which the helper gets a copy of and
 * closes; the caller keeps fd.  0, or -1 with errno: EINVAL before the
 * first fw_apply(), EPIPE if the helper is gone, otherwise the helper's
 * errno (EPERM: the helper lacks CAP_NET_ADMIN; ENOTSOCK: the helper's
 * input is not a socket, as under sudo with I/O logging).  Synchronous:
 * the helper answers at once (it may pace a caller that asks very often).
 */
int	   fw_mark_socket(struct fw *fw, int fd);
/*
 * A socket to answer a carried UDP flow from its original destination:
 * fd must be the caller's own unbound AF_INET/AF_INET6 SOCK_DGRAM socket
 * (IPV6_V6ONLY for IPv6) of src's family.  The helper checks that src
 * (address and port) is a destination the current rules carry, then
 * sets IP_TRANSPARENT (IPV6_TRANSPARENT), SO_REUSEADDR and SO_MARK R on
 * its copy and binds it to src; the caller keeps fd, now bound there, and
 * sends the replies with sendto().  Its packets may only go to this host
 * or to the allowed sources of the prerouting rules (a rule drops the
 * rest).  0, or -1 with errno: EINVAL before the first fw_apply() or for
 * a source the rules do not carry, EPIPE if the helper is gone,
 * otherwise the helper's errno.  Synchronous, like fw_mark_socket().
 */
int	   fw_udp_reply_socket(struct fw *fw, int fd, const struct addr *src);
/*
 * The send channel, for the replies whose fw_udp_reply_socket() failed
 * with EADDRINUSE (a local program has the port on the wildcard
 * address): fd is one end of the caller's AF_UNIX SOCK_DGRAM
 * socketpair; the helper keeps its copy and sends each datagram written
 * to the other end (fw_udpsend.h) from its source address.  At most once,
 * after a fw_apply() with UDP.  0, or -1 with errno as for
 * fw_udp_reply_socket().  Synchronous.
 */
int	   fw_udp_send_channel(struct fw *fw, int fd);
/*
 * -H without --dns: hosts[0..n) (valid names, addresses the caller has
 * checked are forwarded) replace the helper's block of /etc/hosts
 * (fw_hosts.h); n == 0 removes it.  The block goes when the helper does.
 * Synchronous.  0, or -1 with a reason in err: the helper's text, which
 * for a caller other than root without the policy's "hosts" names the
 * line to add (the helper then exits, as for any refusal).
 */
int	   fw_hosts(struct fw *fw, const struct fw_host *hosts, size_t n,
	    char *err, size_t errlen);
/* Descriptor that becomes readable if the helper dies (for the event loop). */
int	   fw_fd(const struct fw *fw);
/*
 * Close this process's end of the helper's channel, leaving the helper
 * to the process that still has it (the unprivileged side of a root
 * run, client/privsep.h): the rules go when that one's copy closes.
 * fw_stop() afterwards only waits for the helper.
 */
void	   fw_detach(struct fw *fw);
/* Remove the rules, end the helper and wait for it.  Accepts NULL. */
void	   fw_stop(struct fw *fw);

/*
 * The sudoers line that lets `user` (a user name, or %group) run this
 * helper as fw_start() does, for the cshuttle at the absolute path
 * self_exe: one command per number of -v fw_start() may pass.  0, or -1
 * with a reason in err (a name or path sudoers cannot express).
 */
int	   fw_sudoers_rule(const char *user, const char *self_exe, char *buf,
	    size_t len, char *err, size_t errlen);

/*
 * The helper's entry point: requests on in_fd, replies on out_fd.
 * child: forked by a client that runs as root, which is the caller;
 * otherwise (`cshuttle --firewall`) the caller is SUDO_UID, checked
 * against the credentials of in_fd when it is a socket, or the real uid.
 * Returns the process exit code.
 */
int	   fw_helper_main(int in_fd, int out_fd, int verbose, bool child);

#endif
