/* SPDX-License-Identifier: ISC */
/*
 * fuzz_fwreq.c - the firewall helper runs as root and reads request
 * lines from an unprivileged process: no line sequence may crash it,
 * whatever it accepts for APPLY must be a configuration the rule planner
 * can build and the client's formatter writes back as the same lines,
 * and a SOCKET it accepts must name a family and type it can make.  The
 * same bytes also go, whole, to the two other readers of outside data in
 * the firewall module: the describer of blocked packets (the helper logs
 * what applications and LAN hosts send) and the client's parser of
 * SOCKET replies.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fw_nflog.h"
#include "fw_plan.h"
#include "fw_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * What the helper accepted, formatted as the client would, is accepted
 * again as the same configuration, and formats to the same text.
 */
static void
fuzz_roundtrip(const struct fw_config *cfg)
{
	struct fw_req	 again;
	char		*text, *text2, err[256];
	const char	*p, *nl;
	size_t		 len, len2;
	int		 i, r = FW_E_INVAL;

	if (fw_req_format(cfg, &text, &len) != 0)
		abort();
	fw_req_init(&again);
	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if ((r = fw_req_line(&again, p, (size_t)(nl - p), err,
		    sizeof(err))) < 0)
			abort();
	if (r != FW_PROTO_APPLY || again.cfg.nexempt != cfg->nexempt ||
	    again.cfg.ndns != cfg->ndns)
		abort();
	for (i = 0; i < cfg->nexempt; i++)
		if (!addr_equal(&again.cfg.exempt[i], &cfg->exempt[i]))
			abort();
	for (i = 0; i < cfg->ndns; i++)
		if (!addr_equal(&again.cfg.dns[i], &cfg->dns[i]))
			abort();
	if (fw_req_format(&again.cfg, &text2, &len2) != 0 || len2 != len ||
	    memcmp(text, text2, len) != 0)
		abort();
	free(text);
	free(text2);
	fw_req_clear(&again);
}

/* Every rule of a plan must be printable for the helper's log. */
static void
fuzz_format(const struct fw_rule *r, size_t n, uint16_t port)
{
	char buf[160];
	size_t i;

	for (i = 0; i < n; i++) {
		fw_rule_format(&r[i], port, buf, sizeof(buf));
		if (strlen(buf) >= sizeof(buf))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_req	 req;
	struct fw_plan	 plan;
	const char	*p = (const char *)data, *end = p + size, *nl;
	char		 err[256], line[FW_PROTO_MAXREPLY];
	int		 r, e;

	fw_req_init(&req);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		r = fw_req_line(&req, p, (size_t)(nl - p), err, sizeof(err));
		if (r < 0)
			break;		/* the helper would exit here */
		if (r == FW_PROTO_APPLY) {
			memset(&plan, 0, sizeof(plan));
			if (fw_plan_build(&req.cfg, &plan) != 0)
				abort();	/* validated input must plan */
			fuzz_format(plan.rules, plan.nrules, plan.port);
			fuzz_format(plan.filter, plan.nfilter, plan.port);
			fw_plan_free(&plan);
			fuzz_roundtrip(&req.cfg);
			fw_req_clear(&req);
		} else if (r == FW_PROTO_SOCKET) {
			if ((req.sock_family != AF_INET &&
			    req.sock_family != AF_INET6) ||
			    (req.sock_type != SOCK_DGRAM &&
			    req.sock_type != SOCK_STREAM) || req.seen != 0)
				abort();
		}
		p = nl + 1;
	}
	fw_req_clear(&req);

	(void)fw_nflog_describe(data, size, size % 2 == 0, err, sizeof(err));
	if (size < sizeof(line)) {
		memcpy(line, data, size);
		line[size] = '\0';
		r = fw_reply_socket(line, &e);
		if (r == 0 && (e <= 0 || e > 4095))
			abort();
	}
	return 0;
}
