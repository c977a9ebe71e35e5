/* SPDX-License-Identifier: ISC */
/*
 * test_supervise.c - reconnecting: the backoff's delays and jitter bounds,
 * its reset after a long session, which failures are retried, and the
 * worker thread: its result comes through the eventfd, and a cancel
 * unblocks a worker stuck on a descriptor at once.
 */
#include <sys/socket.h>

#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervise.h"
#include "transport.h"

static uint64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 1, 2, 4 ... 60 s: the base of each step, with the extremes of rnd. */
static void
test_backoff_steps(void **state)
{
	static const uint64_t base[] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000,
	    60000, 60000 };
	unsigned	i;

	(void)state;
	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		/* rnd 0: exactly -20 %; the largest rnd: just under +20 %. */
		assert_int_equal(supervise_backoff_ms(i, 0), base[i] * 8 / 10);
		assert_true(supervise_backoff_ms(i, UINT32_MAX) < base[i] * 12 / 10);
		assert_true(supervise_backoff_ms(i, UINT32_MAX) >= base[i] * 12 / 10 - 1);
		/* The middle of the range is the base itself. */
		assert_int_equal(supervise_backoff_ms(i, 0x80000000U), base[i]);
	}
	/* Never past the cap plus its jitter, however many failures. */
	assert_true(supervise_backoff_ms(1000, UINT32_MAX) < 72000);
	assert_true(supervise_backoff_ms(UINT32_MAX, UINT32_MAX) < 72000);
}

/* Random jitter stays within +-20 % and actually varies. */
static void
test_backoff_jitter(void **state)
{
	uint64_t	ms, lo = UINT64_MAX, hi = 0;
	uint32_t	x = 12345;
	int		i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		x = x * 1664525U + 1013904223U;
		ms = supervise_backoff_ms(2, x);	/* 4 s */
		assert_true(ms >= 3200 && ms < 4800);
		lo = ms < lo ? ms : lo;
		hi = ms > hi ? ms : hi;
	}
	/* Spread over most of the range, not stuck at one value. */
	assert_true(lo < 3300);
	assert_true(hi > 4700);
}

/* The streak: each delay counts; a session over 60 s starts over, a short
 * one does not. */
static void
test_backoff_streak(void **state)
{
	struct supervise_backoff b = { 0 };

	(void)state;
	assert_int_equal(supervise_backoff_next(&b, 0x80000000U), 1000);
	assert_int_equal(supervise_backoff_next(&b, 0x80000000U), 2000);
	assert_int_equal(supervise_backoff_next(&b, 0x80000000U), 4000);
	/* A session of 10 s: the next delay goes on growing. */
	supervise_backoff_session_end(&b, 10000);
	assert_int_equal(supervise_backoff_next(&b, 0x80000000U), 8000);
	/* Exactly 60 s is not "more than 60 s". */
	supervise_backoff_session_end(&b, 60000);
	assert_int_equal(supervise_backoff_next(&b, 0x80000000U), 16000);
	/* 61 s: back to 1 s. */
	supervise_backoff_session_end(&b, 61000);
	assert_int_equal(supervise_backoff_next(&b, 0x80000000U), 1000);
	assert_int_equal(supervise_backoff_next(&b, 0x80000000U), 2000);
	/* Many failures: at the cap, and the counter does not overflow. */
	for (int i = 0; i < 100; i++)
		(void)supervise_backoff_next(&b, 0x80000000U);
	assert_int_equal(supervise_backoff_next(&b, 0x80000000U), 60000);
}

static void
test_retryable(void **state)
{
	(void)state;
	assert_true(transport_fail_retryable(TRANSPORT_F_CONNECT));
	assert_false(transport_fail_retryable(TRANSPORT_F_HOSTKEY));
	assert_false(transport_fail_retryable(TRANSPORT_F_AUTH));
	assert_false(transport_fail_retryable(TRANSPORT_F_REMOTE));
}

/* The bootstrap calls everything F_REMOTE; what the network did is not. */
static void
test_boot_fail_kind(void **state)
{
	(void)state;
	assert_int_equal(transport_boot_fail_kind(TRANSPORT_F_REMOTE,
	    "connection lost during the bootstrap: x", false), TRANSPORT_F_CONNECT);
	assert_int_equal(transport_boot_fail_kind(TRANSPORT_F_REMOTE,
	    "timed out waiting for the remote shell to start the bootstrap", false),
	    TRANSPORT_F_CONNECT);
	assert_int_equal(transport_boot_fail_kind(TRANSPORT_F_REMOTE,
	    "the remote bootstrap ended unexpectedly (no exit status)", false),
	    TRANSPORT_F_CONNECT);
	assert_int_equal(transport_boot_fail_kind(TRANSPORT_F_REMOTE,
	    "remote has no /bin/sh (exit status 127)", false), TRANSPORT_F_REMOTE);
	assert_int_equal(transport_boot_fail_kind(TRANSPORT_F_REMOTE,
	    "remote architecture 'sparc64' is not supported", false), TRANSPORT_F_REMOTE);
	assert_int_equal(transport_boot_fail_kind(TRANSPORT_F_REMOTE,
	    "remote bootstrap failed (x86_64 stub on x86_64): cannot execute files", false),
	    TRANSPORT_F_REMOTE);
	/* The link died under it: whatever the message. */
	assert_int_equal(transport_boot_fail_kind(TRANSPORT_F_REMOTE,
	    "remote system '' is not supported (only Linux)", true), TRANSPORT_F_CONNECT);
	/* Other kinds pass unchanged. */
	assert_int_equal(transport_boot_fail_kind(TRANSPORT_F_AUTH, "timed out", true),
	    TRANSPORT_F_AUTH);
}

/* ---- the worker ---- */

struct fake {
	int		 fd;		/* the worker blocks reading it */
	bool		 ok;
	struct transport *made;
};

static void
fake_free(struct transport *t)
{
	free(t);
}

static const struct transport_ops fake_ops = { .free = fake_free };

/* Stands for a transport open: registers its descriptor and waits on it. */
static void
fake_work(void *arg, const struct supervise_job *job,
    struct transport_abort *abort, struct supervise_result *r)
{
	struct fake	*f = arg;
	struct pollfd	 p = { .fd = f->fd, .events = POLLIN };
	char		 c;

	/* No cmocka asserts here: they cannot unwind another thread. */
	if (job->nexempt != 3) {
		snprintf(r->err, sizeof(r->err), "the job was not copied");
		return;
	}
	if (transport_abort_watch(abort, f->fd) != 0) {
		snprintf(r->err, sizeof(r->err), "cancelled");
		return;
	}
	/* At most 30 s: a cancel must end this long before. */
	(void)poll(&p, 1, 30000);
	transport_abort_unwatch(abort);
	if (read(f->fd, &c, 1) == 1 && c == 'y') {
		r->transport = calloc(1, sizeof(*r->transport));
		r->transport->ops = &fake_ops;
		f->made = r->transport;
		return;
	}
	r->fail = TRANSPORT_F_AUTH;
	snprintf(r->err, sizeof(r->err), "refused");
}

static bool
readable(int fd, int ms)
{
	struct pollfd	p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void
test_worker_result(void **state)
{
	struct supervise	su;
	struct supervise_job	job;
	struct supervise_result	r;
	struct fake		f;
	int			sp[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(supervise_init(&su), 0);
	memset(&job, 0, sizeof(job));
	job.nexempt = 3;
	memset(&f, 0, sizeof(f));
	f.fd = sp[0];

	/* Success: the transport comes back through supervise_collect. */
	assert_int_equal(supervise_start(&su, fake_work, &f, &job), 0);
	assert_true(supervise_running(&su));
	assert_int_equal(supervise_start(&su, fake_work, &f, &job), -1);	/* one at a time */
	assert_false(readable(supervise_fd(&su), 100));
	assert_int_equal(write(sp[1], "y", 1), 1);
	assert_true(readable(supervise_fd(&su), 5000));
	assert_int_equal(supervise_collect(&su, &r), 0);
	assert_false(supervise_running(&su));
	assert_non_null(r.transport);
	assert_ptr_equal(r.transport, f.made);
	r.transport->ops->free(r.transport);
	assert_int_equal(supervise_collect(&su, &r), -1);

	/* Failure: its kind and message. */
	assert_int_equal(supervise_start(&su, fake_work, &f, &job), 0);
	assert_int_equal(write(sp[1], "n", 1), 1);
	assert_true(readable(supervise_fd(&su), 5000));
	assert_int_equal(supervise_collect(&su, &r), 0);
	assert_null(r.transport);
	assert_int_equal(r.fail, TRANSPORT_F_AUTH);
	assert_string_equal(r.err, "refused");

	supervise_destroy(&su);
	close(sp[0]);
	close(sp[1]);
}

/* A worker blocked on its descriptor ends as soon as it is cancelled. */
static void
test_worker_cancel(void **state)
{
	struct supervise	su;
	struct supervise_job	job;
	struct fake	f;
	uint64_t	t0;
	int		sp[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(supervise_init(&su), 0);
	memset(&job, 0, sizeof(job));
	job.nexempt = 3;
	memset(&f, 0, sizeof(f));
	f.fd = sp[0];
	assert_int_equal(supervise_start(&su, fake_work, &f, &job), 0);
	usleep(100 * 1000);	/* let it block */
	t0 = mono_ms();
	assert_true(supervise_cancel(&su, 5000));
	assert_true(mono_ms() - t0 < 2000);
	assert_false(supervise_running(&su));
	/* And a new worker gets a fresh abort. */
	assert_int_equal(supervise_start(&su, fake_work, &f, &job), 0);
	usleep(50 * 1000);
	assert_true(supervise_running(&su));
	assert_true(supervise_cancel(&su, 5000));
	supervise_destroy(&su);
	close(sp[0]);
	close(sp[1]);
}

/* Nothing running: cancel and destroy are no-ops; a job's old transport
 * is freed by the worker. */
static void
test_worker_old(void **state)
{
	struct supervise	su;
	struct supervise_job	job;
	struct supervise_result	r;
	struct fake		f;
	int			sp[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(supervise_init(&su), 0);
	assert_true(supervise_cancel(&su, 0));
	memset(&job, 0, sizeof(job));
	job.nexempt = 3;
	job.old = calloc(1, sizeof(*job.old));
	job.old->ops = &fake_ops;		/* freed in the worker (ASan checks) */
	memset(&f, 0, sizeof(f));
	f.fd = sp[0];
	assert_int_equal(write(sp[1], "n", 1), 1);
	assert_int_equal(supervise_start(&su, fake_work, &f, &job), 0);
	assert_true(readable(supervise_fd(&su), 5000));
	assert_int_equal(supervise_collect(&su, &r), 0);
	supervise_destroy(&su);
	close(sp[0]);
	close(sp[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_steps),
		cmocka_unit_test(test_backoff_jitter),
		cmocka_unit_test(test_backoff_streak),
		cmocka_unit_test(test_retryable),
		cmocka_unit_test(test_boot_fail_kind),
		cmocka_unit_test(test_worker_result),
		cmocka_unit_test(test_worker_cancel),
		cmocka_unit_test(test_worker_old),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
