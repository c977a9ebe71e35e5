/* SPDX-License-Identifier: ISC */
/*
 * fw_nft_expr.h - one planned rule (fw_plan.h) as libnftnl expressions;
 * private to fw_nft.c, which wraps them in batch messages.
 */
#ifndef CSHUTTLE_FW_NFT_EXPR_H
#define CSHUTTLE_FW_NFT_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "fw_plan.h"

struct nftnl_rule;

/*
 * Append to r the expressions of fr: the protocol and family matches,
 * the match itself, then the verdict; a redirect without a port of its
 * own goes to `port`.  false when fr cannot be expressed (a planner bug,
 * never input) or memory ran out: r is then to be dropped.
 */
bool	fw_nft_expr_rule(struct nftnl_rule *r, const struct fw_rule *fr, uint16_t port);

#endif
