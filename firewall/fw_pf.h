/* SPDX-License-Identifier: ISC */
/*
 * fw_pf.h - the pf backend's rules: the plan of fw_plan.h written as the
 * pf.conf(5) text of one anchor, for `pfctl -a ANCHOR -f -`.
 *
 * Pure (no /dev/pf, no pfctl), so that what it writes for a table of
 * configurations is compared here with golden files
 * (tests/golden/pf/README.md says why each line is there).  pf has no
 * output-hook NAT: a locally originated connection is redirected by
 * routing it to the loopback interface (a `pass out route-to` filter
 * rule), where an `rdr pass on lo0` rule sends it to the listener.  The
 * order of the plan holds: its first match is pf's first `quick` match,
 * and the rdr rules keep the same order (rdr is first-match).
 */
#ifndef CSHUTTLE_FW_PF_H
#define CSHUTTLE_FW_PF_H

#include <stddef.h>

#include "fw.h"
#include "fw_plan.h"

#define FW_PF_ANCHOR_ROOT	"cshuttle"	/* anchors are cshuttle/<port> */
#define FW_PF_LOOPBACK		"lo0"		/* macOS and the BSDs */

/*
 * The anchor's ruleset for cfg (the helper's view: port, listeners, DNS
 * listeners, families filled in), as a NUL-terminated string the caller
 * frees, in *text.  0, an FW_E_* code from the planner, or FW_E_NOMEM.
 */
int	fw_pf_render(const struct fw_config *cfg, char **text);
/* "cshuttle/12300": the anchor of the instance whose listeners have
 * port `port`, into buf. */
const char *fw_pf_anchor(uint16_t port, char *buf, size_t len);

#endif
