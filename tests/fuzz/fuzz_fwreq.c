/*
 * fuzz_fwreq.c - the firewall helper runs as root and reads request
 * lines from an unprivileged process: no line sequence may crash it,
 * whatever it accepts for APPLY must be a configuration the rule planner
 * can build, and a SOCKET it accepts must name a family and type it can
 * make.  The same bytes also go, whole, to the two other readers of
 * outside data in the firewall module: the describer of blocked packets
 * (the helper logs what applications and LAN hosts send) and the
 * client's parser of SOCKET replies.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_nflog.h"
#include "fw_plan.h"
#include "fw_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

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
