/* SPDX-License-Identifier: ISC */
/*
 * fw_pfrules.h - the helper's rule set on pf: what fw_nft.h is on Linux,
 * with the same four calls, made of fw_pf.c (the text) and fw_pfctl.c
 * (pfctl).
 *
 *   open	pf enabled by reference (macOS) or as found (FreeBSD); the
 *		main ruleset must reach cshuttle's anchors, else an error
 *		that names the lines to add to /etc/pf.conf
 *   apply	the first time: the instance's port becomes its anchor,
 *		and anchors left by dead instances (no listener on their
 *		port any more) are flushed; every time: the whole anchor
 *		replaced at once by `pfctl -f`, so a refused ruleset leaves
 *		the one before it in force
 *   delete	the anchor flushed (end of input)
 *   close	the anchor flushed if still there, pf's reference given
 *		back
 */
#ifndef CSHUTTLE_FW_PFRULES_H
#define CSHUTTLE_FW_PFRULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw.h"
#include "fw_pfctl.h"

struct fw_pfrules;

/* pfctl: its path ("/sbin/pfctl"); NULL with a reason in err. */
struct fw_pfrules *fw_pfrules_open(const char *pfctl, enum fw_pfctl_os os, char *err,
		    size_t errlen);
/* 0, or -1 with a reason (pfctl's own words) in err; the rules before
 * stay in force. */
int		 fw_pfrules_apply(struct fw_pfrules *r, const struct fw_config *cfg,
		    char *err, size_t errlen);
int		 fw_pfrules_delete(struct fw_pfrules *r, char *err, size_t errlen);
void		 fw_pfrules_close(struct fw_pfrules *r);
/* Is a TCP socket of this host bound to port, on any address?  (A live
 * instance's listener; the stale anchors' test.)  When it cannot tell,
 * true. */
bool		 fw_pfrules_port_alive(uint16_t port);

#endif
