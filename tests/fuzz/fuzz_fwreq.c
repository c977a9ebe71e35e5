/*
 * fuzz_fwreq.c - the firewall helper runs as root and reads request
 * lines from an unprivileged process: no line sequence may crash it, and
 * whatever it accepts for APPLY must be a configuration the rule planner
 * can build.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_plan.h"
#include "fw_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_req	 req;
	struct fw_plan	 plan;
	const char	*p = (const char *)data, *end = p + size, *nl;
	char		 err[256];
	int		 r;

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
			fw_plan_free(&plan);
			fw_req_clear(&req);
		}
		p = nl + 1;
	}
	fw_req_clear(&req);
	return 0;
}
