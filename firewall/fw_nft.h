/* SPDX-License-Identifier: ISC */
/*
 * fw_nft.h - install a struct fw_plan as nftables rules (libnftnl/libmnl).
 *
 * One netlink socket, opened SOCK_CLOEXEC, lives as long as the struct
 * fw_nft.  The table "inet cshuttle_<port>" (the chains of fw_plan.h:
 * nat "output", "prerouting" and the regular "lan", filter "leak_output",
 * "leak_forward", the regular "leak_lan" and "input"; for UDP capture
 * route "udp_output", filter "udp_prerouting", the regular "udp_lan" and
 * filter "udp_reply"; each only when the plan has rules for it) is
 * created on it with NFT_TABLE_F_OWNER and a comment naming the mark T
 * of its UDP capture, so
 * the kernel deletes the table as soon as that socket closes, however
 * the process ends.  Every change is one batch:
 * the kernel applies all of it or nothing.  Each change is logged at
 * debug level (-v) before it is made.
 */
#ifndef CSHUTTLE_FW_NFT_H
#define CSHUTTLE_FW_NFT_H

#include <stddef.h>
#include <stdint.h>

#include "fw_plan.h"

#define FW_NFT_TABLE_PREFIX	"cshuttle_"
#define FW_NFT_PRIORITY		-100	/* NF_IP_PRI_NAT_DST */
#define FW_NFT_FILTER_PRIORITY	0	/* NF_IP_PRI_FILTER: after the nat
					   output chain has redirected */
#define FW_NFT_MANGLE_PRIORITY	-150	/* NF_IP_PRI_MANGLE: the UDP marks
					   and tproxy, before nat */

struct fw_nft;

/* Open and bind the socket; NULL with a reason in err. */
struct fw_nft	*fw_nft_open(char *err, size_t errlen);
/*
 * Create the table on the first call; create, flush or delete the chains
 * the plan needs, and replace every rule by the plan's, in one batch.  The port may not change
 * after the first successful call.  0, or -1 with a reason in err (the
 * kernel's error text and the message it refused); on -1 the previous
 * rules are still in force.
 */
int		 fw_nft_apply(struct fw_nft *nft, const struct fw_plan *plan,
		    char *err, size_t errlen);
/* Delete the table if it exists.  0, or -1 with a reason in err. */
int		 fw_nft_delete(struct fw_nft *nft, char *err, size_t errlen);
/*
 * Whether the table of port P (inet cshuttle_<P>) exists, asked on a
 * socket of its own: 1 yes, 0 no, -1 cannot tell (errno).
 */
int		 fw_nft_table_exists(uint16_t port);
/*
 * Whether a running instance uses mark as the mark T of its UDP capture
 * (a --tmark), as the comments of the cshuttle_<P> tables say: 1 yes,
 * 0 no, -1 cannot tell (errno; or a cshuttle table without such a
 * comment: an older cshuttle's.  Every kernel with NFT_TABLE_F_OWNER,
 * 5.12, keeps a table's comment, which came in 5.10).
 */
int		 fw_nft_tmark_alive(uint32_t mark);
/* Close the socket (the kernel then drops the table).  Accepts NULL. */
void		 fw_nft_close(struct fw_nft *nft);

#endif
