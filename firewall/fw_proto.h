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
 * helper -> client, once, at start:
 *	READY <version>			FW_PROTO_VERSION; or
 *	ERR <text>			and the helper exits
 * client -> helper, a series of lines ending in APPLY:
 *	PORT <1-65535>			exactly once; the redirect target and
 *					the table name (cshuttle_<port>); it
 *					cannot change in a later series
 *	FAMILIES 4|6|46			exactly once
 *	PREROUTING 0|1			at most once, default 0
 *	EXEMPT 4|6 <addr> <0-65535>	at most FW_MAX_EXEMPT; port 0: all ports
 *	SUBNET inc|exc 4|6 <addr> <prefix> <lo> <hi>
 *					at most FW_MAX_SUBNETS; addr must be
 *					the network address (no host bits);
 *					0 65535 means every port
 *	DNS 4|6 <addr> <1-65535>	at most FW_MAX_DNS, distinct addresses:
 *					a captured nameserver and the local
 *					port its queries are redirected to
 *	BLOCKLEAKS 0|1			at most once, default 0
 *	APPLY
 * helper -> client, after APPLY:
 *	OK				the kernel committed the new rules
 *	ERR <text>			the kernel refused the batch; the
 *					previous rules stay, the helper goes on
 * A later series replaces the whole ruleset atomically.
 *
 * client -> helper, outside a series (never between its first line and
 * APPLY), once rules have been applied:
 *	SOCKET 4|6 udp|tcp		a socket carrying the instance's mark
 * helper -> client:
 *	SOCKET				with the descriptor attached
 *					(SCM_RIGHTS, on the reply's first byte)
 *	NOSOCKET <errno> <text>		none made or passed; the helper goes on
 * The mark is FW_MARK_BASE | the applied port, never a value the client
 * names, so the root helper hands out no mark but its own table's.
 *
 * A malformed line is answered with ERR <text>, after which the helper
 * exits.  End of input makes the helper delete its table and exit 0.
 */
#ifndef CSHUTTLE_FW_PROTO_H
#define CSHUTTLE_FW_PROTO_H

#include <stddef.h>

#include "fw.h"
#include "subnet.h"

#define FW_PROTO_VERSION	1
#define FW_PROTO_MAXLINE	128	/* request bytes, including the '\n' */
#define FW_PROTO_MAXREPLY	512	/* reply bytes, including the '\n' */

#define FW_PROTO_MORE		0	/* line accepted, series goes on */
#define FW_PROTO_APPLY		1	/* APPLY: req->cfg is complete */
#define FW_PROTO_SOCKET		2	/* SOCKET: see req->sock_* */

/* One series of request lines being parsed (helper side). */
struct fw_req {
	struct fw_config	cfg;		/* cfg.subnets points at subnets */
	struct subnet_list	subnets;	/* owned by the request */
	unsigned int		seen;		/* FW_REQ_SEEN_* */
	int			sock_family;	/* FW_PROTO_SOCKET: AF_INET(6) */
	int			sock_type;	/* SOCK_DGRAM or SOCK_STREAM */
};

void	fw_req_init(struct fw_req *req);
/* Free the subnets and start a new series.  Accepts NULL. */
void	fw_req_clear(struct fw_req *req);
/*
 * Feed one line (without its '\n'; len bytes, not NUL-terminated).
 * Returns FW_PROTO_MORE, FW_PROTO_APPLY, FW_PROTO_SOCKET (which leaves
 * the series untouched), or an FW_E_* code with a one-line reason in err.
 */
int	fw_req_line(struct fw_req *req, const char *line, size_t len,
	    char *err, size_t errlen);

/*
 * Client side: the whole series for cfg, APPLY included, as one
 * NUL-terminated string in *out (caller frees), its length in *outlen.
 * 0 or an FW_E_* code.
 */
int	fw_req_format(const struct fw_config *cfg, char **out, size_t *outlen);
/* Client side: the SOCKET line for family/type into buf; 0 or FW_E_INVAL. */
int	fw_req_format_socket(int family, int type, char *buf, size_t len);
/*
 * Client side: parse a reply to SOCKET.  1 for "SOCKET"; 0 for a valid
 * "NOSOCKET <errno> <text>", the errno in *err_no; -1 for anything else.
 */
int	fw_reply_socket(const char *line, int *err_no);

#endif
