/* SPDX-License-Identifier: ISC */
/*
 * test_reload.c - SIGHUP's reload thread (reload.h): the options are
 * parsed and their names resolved off the loop, the result comes through
 * the eventfd, a SIGHUP during a run is remembered, a failure carries
 * the parser's message, and a cancel asks no further name.
 *
 * A dns_resolve() hook answers; for "held.test" it waits until the test
 * lets it go, standing for a name server that takes its time.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns_resolve.h"
#include "options.h"
#include "reload.h"

static pthread_mutex_t	hook_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	hook_cv = PTHREAD_COND_INITIALIZER;
static bool		hook_open;	/* held.test may answer */
static int		hook_waiting;	/* resolvers inside the hold */
static int		hook_calls;

static int
hook(const char *name, int family, int timeout_ms, struct addr *out, size_t max,
    size_t *n, char *err, size_t errlen)
{
	*n = 0;
	pthread_mutex_lock(&hook_mu);
	hook_calls++;
	if (strcmp(name, "held.test") == 0) {
		hook_waiting++;
		pthread_cond_broadcast(&hook_cv);
		while (!hook_open)
			pthread_cond_wait(&hook_cv, &hook_mu);
		hook_waiting--;
	}
	pthread_mutex_unlock(&hook_mu);
	if (strcmp(name, "held.test") == 0 || strcmp(name, "quick.test") == 0) {
		memset(out, 0, sizeof(*out));
		out->family = 4;
		inet_pton(AF_INET, name[0] == 'h' ? "192.0.2.7" : "192.0.2.8",
		    out->bytes);
		*n = 1;
		return 0;
	}
	snprintf(err, errlen, "Domain name not found");
	return DNS_E_NOTFOUND;
}

static void
hook_set(bool open)
{
	pthread_mutex_lock(&hook_mu);
	hook_open = open;
	pthread_cond_broadcast(&hook_cv);
	pthread_mutex_unlock(&hook_mu);
}

/* Until a resolver waits in the hold. */
static void
hook_wait_held(void)
{
	pthread_mutex_lock(&hook_mu);
	while (hook_waiting == 0)
		pthread_cond_wait(&hook_cv, &hook_mu);
	pthread_mutex_unlock(&hook_mu);
}

static int
setup(void **state)
{
	unsetenv(OPTIONS_ENV);
	dns_resolve_set_hook(hook);
	hook_set(false);
	hook_calls = 0;
	return 0;
}

static int
teardown(void **state)
{
	hook_set(true);
	dns_resolve_set_hook(NULL);
	return 0;
}

static bool
readable(int fd, int ms)
{
	struct pollfd	p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* The result comes through the eventfd only once the name is resolved;
 * a second start meanwhile is remembered, not run. */
static void
test_held_name(void **state)
{
	static char	*argv[] = { "cshuttle", "-r", "gw", "10/8", "held.test:443",
	    NULL };
	struct reload	 r;
	struct options	*o;
	char		 err[RELOAD_ERR_MAX], buf[64];
	bool		 again;

	assert_int_equal(reload_init(&r, 5, argv), 0);
	assert_int_equal(reload_collect(&r, &o, &again, err, sizeof(err)), -1);
	assert_int_equal(reload_start(&r), 1);
	hook_wait_held();
	/* Waiting for the name server: nothing to collect yet. */
	assert_false(readable(reload_fd(&r), 50));
	assert_int_equal(reload_start(&r), 0);
	hook_set(true);
	assert_true(readable(reload_fd(&r), 10000));
	assert_int_equal(reload_collect(&r, &o, &again, err, sizeof(err)), 0);
	assert_non_null(o);
	assert_true(again);
	assert_int_equal(o->nnames, 0);
	assert_int_equal(o->subnets.n, 2);
	assert_string_equal(subnet_format(&o->subnets.v[1], buf, sizeof(buf)),
	    "192.0.2.7/32:443");
	options_free(o);
	free(o);

	/* The remembered one, now without a wait. */
	assert_int_equal(reload_start(&r), 1);
	assert_true(readable(reload_fd(&r), 10000));
	assert_int_equal(reload_collect(&r, &o, &again, err, sizeof(err)), 0);
	assert_non_null(o);
	assert_false(again);
	options_free(o);
	free(o);
	reload_destroy(&r);
}

/* A failure carries the message a start would print. */
static void
test_failures(void **state)
{
	static char	*nx[] = { "cshuttle", "-r", "gw", "nx.test", NULL };
	static char	*bad[] = { "cshuttle", "-r", "gw", "10.0.0.0/33", NULL };
	struct reload	 r;
	struct options	*o;
	char		 err[RELOAD_ERR_MAX];
	bool		 again;

	assert_int_equal(reload_init(&r, 4, nx), 0);
	assert_int_equal(reload_start(&r), 1);
	assert_true(readable(reload_fd(&r), 10000));
	assert_int_equal(reload_collect(&r, &o, &again, err, sizeof(err)), 0);
	assert_null(o);
	assert_string_equal(err, "cannot resolve host \"nx.test\": Domain name not "
	    "found");
	reload_destroy(&r);

	assert_int_equal(reload_init(&r, 4, bad), 0);
	assert_int_equal(reload_start(&r), 1);
	assert_true(readable(reload_fd(&r), 10000));
	assert_int_equal(reload_collect(&r, &o, &again, err, sizeof(err)), 0);
	assert_null(o);
	assert_non_null(strstr(err, "bad subnet \"10.0.0.0/33\""));
	reload_destroy(&r);
}

/* A cancel during a lookup: the thread is reported stuck while the lookup
 * lasts, asks no further name after it, and then ends. */
static void
test_cancel(void **state)
{
	static char	*argv[] = { "cshuttle", "-r", "gw", "held.test",
	    "quick.test", NULL };
	struct reload	 r;

	assert_int_equal(reload_init(&r, 5, argv), 0);
	assert_int_equal(reload_start(&r), 1);
	hook_wait_held();
	assert_false(reload_cancel(&r, 50));
	hook_set(true);
	assert_true(reload_cancel(&r, 10000));
	assert_int_equal(hook_calls, 1);
	/* Nothing left to collect. */
	assert_false(readable(reload_fd(&r), 0));
	reload_destroy(&r);
	/* Without a thread: nothing to wait for. */
	assert_int_equal(reload_init(&r, 5, argv), 0);
	assert_true(reload_cancel(&r, 0));
	reload_destroy(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_held_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
