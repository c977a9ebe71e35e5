/* SPDX-License-Identifier: ISC */
/*
 * resolve.h - the host names of a set of options, resolved.
 *
 * options_parse() keeps every host name it meets (options.h); this is
 * the one place that turns them into addresses, through dns_resolve():
 * main.c at start-up, before the event loop (blocking is fine there), and
 * SIGHUP's reload in its own thread (reload.h), so that a slow name
 * server never stalls the loop.
 */
#ifndef CSHUTTLE_RESOLVE_H
#define CSHUTTLE_RESOLVE_H

#include <stdatomic.h>
#include <stddef.h>

#include "options.h"

/*
 * Resolve every host name in o (options_resolve()), each through
 * dns_resolve() with its default deadline (DNS_RESOLVE_TIMEOUT_MS).
 * cancel (may be NULL): once it is true, the names not asked yet fail at
 * once, so that a shutdown waits for one lookup at most.  Returns
 * options_resolve()'s CSHUTTLE_EXIT_OK, _USAGE ("cannot resolve host ...",
 * as a parse error at that place would read) or _FAIL, the message in err.
 */
int	resolve_options(struct options *o, const atomic_bool *cancel, char *err,
	    size_t errlen);

#endif
