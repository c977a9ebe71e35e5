/* SPDX-License-Identifier: ISC */
/*
 * evsel.h - the event loop backend a cmocka program runs on.
 *
 * TEST_EV_BACKEND names one ("epoll", "kqueue", "poll"; see
 * common/ev_int.h), else the system's default is used.  tests/unit
 * registers the programs that drive a loop once per backend built, so
 * every backend passes the same tests.  A backend that is not built
 * fails the test: it never silently runs on another.
 */
#ifndef CSHUTTLE_EVSEL_H
#define CSHUTTLE_EVSEL_H

#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "testutil.h"

static inline void
test_ev_init(struct ev_loop *loop)
{
	const char	*name = getenv("TEST_EV_BACKEND");
	int		 r;

	if ((r = ev_init_backend(loop, name)) != 0)
		fail_msg("event loop backend %s: %s", name != NULL ? name : "(default)",
		    strerror(-r));
	if (name != NULL && strcmp(ev_backend_name(loop), name) != 0)
		fail_msg("asked for %s, running on %s", name, ev_backend_name(loop));
}

#endif
