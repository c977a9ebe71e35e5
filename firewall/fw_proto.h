/* SPDX-License-Identifier: ISC */
/*
 * fw_proto.h - the line protocol between the client and the firewall helper.
 *
 * The helper runs as root and trusts nothing it reads, so every field is
 * checked exactly and anything unexpected ends the helper before it
 * changes a rule.
 *
 * Framing: ASCII lines ending in '\n', at most FW_PROTO_MAXLINE bytes
 * including the newline (replies: FW_PROTO_MAXREPLY); fields separated
 * by exactly one space; numbers are decimal, unsigned, without leading
 * zeros.
 *
 * Descriptors travel with SCM_RIGHTS in the same sendmsg() as the line
 * that needs them (a line may share its sendmsg() with lines before or
 * after it that need none).  The helper queues what it receives, in
 * order, and each line that needs descriptors takes the next ones; a
 * missing descriptor, one of the wrong kind, or one left over at APPLY or
 * after MARK, UDPREPLY or UDPSEND is a malformed request.  A helper whose
 * input is not a socket receives none, so those lines fail there.
 *
 * helper -> client, once, at start:
 *	READY <version> <uid>		FW_PROTO_VERSION, and the uid of the
 *					caller it serves; or
 *	ERR <text>			and the helper exits (too many helpers
 *					of this caller, a bad policy file...)
 * client -> helper, a series of lines ending in APPLY:
 *	LISTEN				+ 1 descriptor: a TCP socket in the
 *					LISTEN state, AF_INET or AF_INET6
 *					(IPV6_V6ONLY), the redirect target.
 *					1 to FW_MAX_LISTEN of them, on
 *					distinct addresses (a wildcard
 *					alone in its family), in the first
 *					series and only there.
 *					All share one port P (the socket's,
 *					never a number the client names),
 *					which names the table cshuttle_<P>,
 *					the mark and the nflog group; the
 *					families redirected are theirs
 *	UDP				+ 1 descriptor: a bound, unconnected
 *					UDP socket, AF_INET or AF_INET6
 *					(IPV6_V6ONLY), on the address and
 *					port of one of the LISTEN sockets
 *					given before it, at most one per
 *					LISTEN; in the first series only.
 *					The helper makes it IP_TRANSPARENT
 *					(IPV6_TRANSPARENT), gives it the
 *					mark R (a transparent socket could
 *					send from any address; a refusal is
 *					an ERR, the helper exits) and keeps
 *					it: UDP of that family to the
 *					included subnets is delivered there
 *					(TPROXY).  No UDP line: no UDP
 *					capture
 *	TMARK <mark>			at most once, in the first series
 *					only, with a UDP line: the mark
 *					(1-4294967295, none that
 *					fw_tmark_invalid() refuses) that
 *					replaces T, as the packets' mark and
 *					the routing table's number.  A
 *					caller other than root needs the
 *					policy's "tmark"
 *	PREROUTING 0|1			at most once, default 0; 1 needs an
 *					ALLOW
 *	ALLOW 4|6 <addr> <prefix>	at most FW_MAX_ALLOW; the sources the
 *					prerouting rules serve; addr must be
 *					the network address
 *	EXEMPT 4|6 <addr> <0-65535>	at most FW_MAX_EXEMPT; port 0: all ports
 *	SUBNET inc|exc 4|6 <addr> <prefix> <lo> <hi>
 *					at most FW_MAX_SUBNETS; addr must be
 *					the network address (no host bits);
 *					0 65535 means every port
 *	DNS 4|6 <addr>			+ 2 descriptors: a bound UDP socket and
 *					a listening TCP socket of the same
 *					family, on the same address and port
 *					Q, the local target of that
 *					nameserver; at most FW_MAX_DNS,
 *					distinct addresses, a Q of its own
 *					in its family, none equal to P
 *	BLOCKLEAKS 0|1			at most once, default 0
 *	SCOPE caller|host		at most once; whose locally generated
 *					traffic the rules take: the caller's
 *					sockets (meta skuid) or every local
 *					socket.  Default: host for root,
 *					caller for anyone else
 *	USER <uid> / GROUP <gid>	at most once each, not with SCOPE:
 *					the sockets of that user and/or group
 *	APPLY
 * helper -> client, after APPLY:
 *	OK				the kernel committed the new rules
 *	ERR <text>			the kernel refused the batch; the
 *					previous rules stay, the helper goes on
 * A later series replaces the whole ruleset atomically; P, the families
 * and the listeners stay those of the first.
 *
 * client -> helper, outside a series (never between its first line and
 * APPLY), once rules have been applied:
 *	MARK				+ 1 descriptor: the client's own
 *					AF_INET/AF_INET6 UDP or TCP socket
 * helper -> client:
 *	MARK				SO_MARK is set on it
 *	NOMARK <errno> <text>		it is not; the helper goes on
 * The mark is FW_MARK_BASE | P, never a value the client names, and the
 * helper closes its copy at once.
 *
 * client -> helper, outside a series, once rules with UDP have been
 * applied:
 *	UDPREPLY 4|6 <addr> <port>	+ 1 descriptor: the client's own
 *					unbound AF_INET/AF_INET6 UDP socket
 *					(IPV6_V6ONLY for 6); port 1-65535
 * helper -> client:
 *	UDPREPLY			the socket is IP_TRANSPARENT,
 *					SO_REUSEADDR, has the mark R =
 *					FW_REPLY_MARK_BASE | P and is bound
 *					to addr:port
 *	NOUDPREPLY <errno> <text>	it is not (EINVAL: addr:port is not
 *					a destination the rules carry, or no
 *					rules yet); the helper goes on
 * addr:port must be what the UDP rules carry (fw_plan_udp_carried()),
 * and a unicast address of another host: the helper's host's route to
 * it is of type unicast, or there is none (fw_route_reply_refusal(): not
 * local, broadcast, multicast nor anycast).  Paced separately from the
 * other requests, FW_LIMIT_UDP_RATE a second.
 *
 * client -> helper, outside a series, at most once, once rules with UDP
 * have been applied:
 *	UDPSEND				+ 1 descriptor: one end of an AF_UNIX
 *					SOCK_DGRAM socketpair, the channel
 *					of fw_udpsend.h: the replies whose
 *					UDPREPLY failed with EADDRINUSE,
 *					which the helper sends itself
 * helper -> client:
 *	UDPSEND				the helper reads the channel from now
 *					on, until it ends
 *	NOUDPSEND <errno> <text>	it does not (no rules with UDP yet, a
 *					channel already); the helper goes on
 * Each datagram is checked as UDPREPLY checks its address; one that
 * fails is dropped, and the channel goes on.
 *
 * client -> helper, outside a series, at any time (-H without --dns):
 *	HOST 4|6 <addr> <name>		at most FW_MAX_HOSTS before HOSTS; a
 *					name as fw_hosts_name_ok() wants it
 *	HOSTS				these names replace the helper's block
 *					of /etc/hosts (fw_hosts.h); none:
 *					the block goes
 * helper -> client:
 *	OK				written
 *	ERR <text>			not written (an I/O error); the helper
 *					goes on
 * A series line between HOST and HOSTS is malformed.  A caller other
 * than root needs the policy's "hosts" (fw_policy.h).
 *
 * A malformed line, or one the caller may not send (fw_policy.h), is
 * answered with ERR <text>, after which the helper exits.  End of input
 * makes the helper delete its table and exit 0.  On its way out, however
 * it ends short of SIGKILL (end of input, an ERR, SIGTERM), it also
 * removes the policy routing of UDP capture; after a SIGKILL the next
 * helper to start removes it (fw_route.h).
 *
 * The parser below is pure: the helper finds out what each descriptor is
 * (struct fw_fdinfo) and the parser checks it, so that both can be tested
 * and fuzzed without descriptors.
 */
#ifndef CSHUTTLE_FW_PROTO_H
#define CSHUTTLE_FW_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "fw.h"
#include "fw_hosts.h"
#include "subnet.h"

/* 3: UDP and UDPREPLY, then TMARK (an older helper of version 3 refuses
 * TMARK as an unknown request, which is all a client needs to know).
 * 4: UDPSEND, which an older helper would answer with ERR and exit. */
#define FW_PROTO_VERSION	4
#define FW_PROTO_MAXLINE	320	/* request bytes, including the '\n':
					   HOST with a name of
					   FW_HOSTS_NAME_MAX */
#define FW_PROTO_MAXREPLY	512	/* reply bytes, including the '\n' */
#define FW_PROTO_MAXFDS		2	/* descriptors one line needs, at most */

/* fw_req_line() and fw_req_fds() results besides FW_E_* codes. */
#define FW_PROTO_MORE		0	/* line accepted, series goes on */
#define FW_PROTO_APPLY		1	/* APPLY: req->cfg is complete */
#define FW_PROTO_FDS		2	/* the line needs req->nneed descriptors:
					   call fw_req_fds() */
#define FW_PROTO_MARK		3	/* MARK with its descriptor: req->mark_fd */
#define FW_PROTO_HOSTS		4	/* HOSTS: req->hosts[0..nhosts) is
					   complete; fw_req_hosts_done() after */
#define FW_PROTO_UDPREPLY	5	/* UDPREPLY with its descriptor:
					   req->reply_fd, req->reply_src */
#define FW_PROTO_UDPSEND	6	/* UDPSEND with its descriptor:
					   req->send_fd */

/* What a line's descriptors must be (req->need). */
#define FW_FD_NONE		0
#define FW_FD_LISTEN		1	/* LISTEN: one TCP listener */
#define FW_FD_DNS		2	/* DNS: bound UDP, then listening TCP */
#define FW_FD_MARK		3	/* MARK: a UDP or TCP socket */
#define FW_FD_UDP		4	/* UDP: a bound UDP socket on a listener's
					   address and port */
#define FW_FD_UDPREPLY		5	/* UDPREPLY: an unbound UDP socket */
#define FW_FD_UDPSEND		6	/* UDPSEND: a socketpair's end */

/* req->scope: what SCOPE said. */
#define FW_SCOPE_DEFAULT	0	/* no SCOPE line */
#define FW_SCOPE_CALLER		1
#define FW_SCOPE_HOST		2

/* What the helper found out about a received descriptor. */
struct fw_fdinfo {
	int		 fd;		/* stored in the config as it is */
	int		 domain;	/* SO_DOMAIN; AF_UNSPEC: not a socket */
	int		 type;		/* SO_TYPE */
	int		 protocol;	/* SO_PROTOCOL */
	bool		 listening;	/* SO_ACCEPTCONN */
	bool		 v6only;	/* IPV6_V6ONLY (AF_INET6) */
	bool		 connected;	/* getpeername() succeeds */
	struct addr	 local;		/* getsockname(); family 0: unbound or
					   unknown */
};

/* One series of request lines being parsed (helper side). */
struct fw_req {
	struct fw_config	cfg;		/* cfg.subnets points at subnets */
	struct subnet_list	subnets;	/* owned by the request */
	unsigned int		seen;		/* lines given (private bits) */
	int			scope;		/* FW_SCOPE_* */
	bool			later;		/* a series came before this one */
	int			need;		/* FW_FD_*: fw_req_fds() is due */
	int			nneed;		/* and how many it takes */
	int			mark_fd;	/* FW_PROTO_MARK: the socket */
	int			reply_fd;	/* FW_PROTO_UDPREPLY: the socket */
	struct addr		reply_src;	/* and where to bind it */
	int			send_fd;	/* FW_PROTO_UDPSEND: the channel */
	struct fw_host		*hosts;		/* HOST lines so far */
	size_t			 nhosts;
	size_t			 hosts_cap;
};

void	fw_req_init(struct fw_req *req);
/* Free the subnets and start afresh, as fw_req_init().  Accepts NULL. */
void	fw_req_clear(struct fw_req *req);
/*
 * After APPLY: start the next series, keeping what the first one fixed
 * (the port, the families and the listeners: LISTEN is refused from now
 * on).
 */
void	fw_req_next(struct fw_req *req);
/*
 * Feed one line (without its '\n'; len bytes, not NUL-terminated).
 * Returns FW_PROTO_MORE, FW_PROTO_APPLY, FW_PROTO_FDS (then
 * fw_req_fds() must come before the next line), or an FW_E_* code with a
 * one-line reason in err.
 */
int	fw_req_line(struct fw_req *req, const char *line, size_t len,
	    char *err, size_t errlen);
/*
 * The descriptors the last line asked for: n of them (req->nneed), in
 * the order received.  They are checked and recorded in req->cfg (or
 * req->mark_fd).  Returns FW_PROTO_MORE, FW_PROTO_MARK, or an FW_E_*
 * code with a one-line reason in err.  Never touches a descriptor.
 */
int	fw_req_fds(struct fw_req *req, const struct fw_fdinfo *fd, int n,
	    char *err, size_t errlen);

/* After FW_PROTO_HOSTS: forget the names, for the next HOST lines. */
void	fw_req_hosts_done(struct fw_req *req);

/* One sendmsg() of a series: text[off..off+len) and its descriptors. */
struct fw_req_part {
	size_t		 off;
	size_t		 len;
	int		 fd[FW_PROTO_MAXFDS];
	int		 nfd;
};

/* A series as the client sends it. */
struct fw_req_text {
	char			*buf;	/* NUL-terminated */
	size_t			 len;
	struct fw_req_part	*part;	/* in order; together all of buf */
	size_t			 npart;
};

/*
 * Client side: the whole series for cfg, APPLY included, with the LISTEN
 * lines when with_listen (the first series), each line that needs
 * descriptors starting a part of its own.  0 or an FW_E_* code;
 * fw_req_text_free() either way.  Touches no descriptor.
 */
int	fw_req_format(const struct fw_config *cfg, bool with_listen,
	    struct fw_req_text *out);
void	fw_req_text_free(struct fw_req_text *t);
/*
 * Client side: the HOST lines for hosts[0..n) and HOSTS, in *out
 * (malloc'd, NUL-terminated, *outlen bytes).  0, or an FW_E_* code (a
 * name or address the helper would refuse, too many, no memory).
 */
int	fw_req_format_hosts(const struct fw_host *hosts, size_t n, char **out,
	    size_t *outlen);
/*
 * Client side: parse the greeting.  0 for "READY <version> <uid>" (or
 * "READY <version>" from an older helper, *uid then (uid_t)-1), with
 * the version in *version; -1 for anything else.
 */
int	fw_reply_ready(const char *line, int *version, uid_t *uid);
/*
 * Client side: parse a reply to MARK.  1 for "MARK"; 0 for a valid
 * "NOMARK <errno> <text>", the errno in *err_no; -1 for anything else.
 */
int	fw_reply_mark(const char *line, int *err_no);
/*
 * Client side: the UDPREPLY line for src (address and port, not 0) in
 * buf.  0, or an FW_E_* code.
 */
int	fw_req_format_udpreply(const struct addr *src, char *buf, size_t len);
/* Client side: parse a reply to UDPREPLY, as fw_reply_mark() does
 * ("UDPREPLY", "NOUDPREPLY <errno> <text>"). */
int	fw_reply_udpreply(const char *line, int *err_no);
/* Client side: parse a reply to UDPSEND ("UDPSEND", "NOUDPSEND <errno>
 * <text>"), as fw_reply_mark() does. */
int	fw_reply_udpsend(const char *line, int *err_no);

#endif
