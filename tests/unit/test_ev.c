/* SPDX-License-Identifier: ISC */
/*
 * test_ev.c - the event loop's promises (common/ev.h), on the backend
 * TEST_EV_BACKEND names (tests/evsel.h): tests/unit registers this
 * program once per backend built, so epoll and poll here (kqueue and
 * poll on macOS and the BSDs) keep the same rules: level-triggered
 * events, masks that change, an io deleted by another's callback skipped
 * for the rest of the pass, a descriptor forgotten and closed, hangups,
 * timers and the before-sleep hook.
 */
#include <sys/socket.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ev.h"
#include "evsel.h"

#define T_MANY	300	/* more than one epoll batch, and than poll's first array */

struct t_io {
	struct ev_io	 io;
	int		 calls;
	uint32_t	 last;
	struct ev_io	*kill;		/* deleted by this one's callback */
	int		 fd2;		/* ... and registered in its place */
	struct ev_io	*added;
	struct ev_loop	*loop;
};

static void
t_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct t_io	*t = io->arg;

	t->calls++;
	t->last = revents;
	if (t->kill != NULL) {
		ev_io_del(loop, t->kill);
		t->kill = NULL;
	}
	if (t->added != NULL && t->added->fd < 0)
		assert_int_equal(ev_io_add(loop, t->added, t->fd2, EV_READ, t_cb,
		    t->added->arg), 0);
}

static void
t_pair(int sv[2])
{
	assert_int_equal(test_socketpair_nb(sv), 0);
}

static void
test_names(void **state)
{
	struct ev_loop	loop;

	assert_int_equal(ev_init_backend(&loop, "no-such-backend"), -ENOSYS);
	test_ev_init(&loop);
	assert_string_not_equal(ev_backend_name(&loop), "none");
	ev_close(&loop);
}

/* Readable until read: reported on every pass (level-triggered), with
 * the io and its argument; nothing once drained. */
static void
test_read_level_triggered(void **state)
{
	struct ev_loop	loop;
	struct t_io	t = { 0 };
	int		sv[2];
	char		c;

	test_ev_init(&loop);
	t_pair(sv);
	assert_int_equal(ev_io_add(&loop, &t.io, sv[0], EV_READ, t_cb, &t), 0);
	assert_int_equal(ev_run_once(&loop, 0), 0);
	assert_int_equal(t.calls, 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(ev_run_once(&loop, 1000), 1);
	assert_int_equal(t.calls, 1);
	assert_true(t.last & EV_READ);
	assert_false(t.last & EV_WRITE);
	assert_int_equal(ev_run_once(&loop, 1000), 1);
	assert_int_equal(t.calls, 2);
	assert_int_equal(read(sv[0], &c, 1), 1);
	assert_int_equal(ev_run_once(&loop, 0), 0);
	assert_int_equal(t.calls, 2);
	ev_io_del(&loop, &t.io);
	assert_int_equal(t.io.fd, -1);
	ev_close(&loop);
	close(sv[0]);
	close(sv[1]);
}

/* The mask decides: write readiness only while EV_WRITE is in it. */
static void
test_mask_changes(void **state)
{
	struct ev_loop	loop;
	struct t_io	t = { 0 };
	int		sv[2];

	test_ev_init(&loop);
	t_pair(sv);
	assert_int_equal(ev_io_add(&loop, &t.io, sv[0], 0, t_cb, &t), 0);
	assert_int_equal(ev_run_once(&loop, 0), 0);
	assert_int_equal(ev_io_set(&loop, &t.io, EV_WRITE), 0);
	assert_int_equal(t.io.events, EV_WRITE);
	assert_int_equal(ev_run_once(&loop, 1000), 1);
	assert_true(t.last & EV_WRITE);
	assert_false(t.last & EV_READ);
	assert_int_equal(ev_io_set(&loop, &t.io, EV_READ), 0);
	assert_int_equal(ev_run_once(&loop, 0), 0);
	assert_int_equal(t.calls, 1);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(ev_io_set(&loop, &t.io, EV_READ | EV_WRITE), 0);
	assert_int_equal(ev_run_once(&loop, 1000) >= 1, 1);
	/* kqueue reports the two filters apart: both bits were seen. */
	assert_true(t.calls >= 2);
	assert_int_equal(ev_io_set(&loop, &t.io, 0), 0);
	t.calls = 0;
	assert_int_equal(ev_run_once(&loop, 0), 0);
	assert_int_equal(t.calls, 0);
	ev_io_del(&loop, &t.io);
	ev_close(&loop);
	close(sv[0]);
	close(sv[1]);
}

/* A callback deletes another ready io: that one is not called in this
 * pass (its memory may be freed after the pass), nor later; and one it
 * adds waits for the next pass. */
static void
test_delete_from_a_callback(void **state)
{
	struct ev_loop	loop;
	struct t_io	a = { 0 }, b = { 0 }, c = { 0 };
	int		sa[2], sb[2], sc[2];

	test_ev_init(&loop);
	t_pair(sa);
	t_pair(sb);
	t_pair(sc);
	assert_int_equal(write(sa[1], "x", 1), 1);
	assert_int_equal(write(sb[1], "x", 1), 1);
	assert_int_equal(write(sc[1], "x", 1), 1);
	assert_int_equal(ev_io_add(&loop, &a.io, sa[0], EV_READ, t_cb, &a), 0);
	assert_int_equal(ev_io_add(&loop, &b.io, sb[0], EV_READ, t_cb, &b), 0);
	/* Whichever runs first removes the other. */
	a.kill = &b.io;
	b.kill = &a.io;
	c.io.fd = -1;
	a.added = b.added = &c.io;
	a.fd2 = b.fd2 = sc[0];
	c.io.arg = &c;
	assert_true(ev_run_once(&loop, 1000) >= 1);
	assert_int_equal(a.calls + b.calls, 1);
	assert_int_equal(c.calls, 0);
	assert_int_equal(c.io.fd, sc[0]);
	a.added = b.added = NULL;
	assert_true(ev_run_once(&loop, 1000) >= 1);
	assert_int_equal(a.calls + b.calls, 2);
	assert_int_equal(c.calls, 1);
	ev_io_del(&loop, a.io.fd >= 0 ? &a.io : &b.io);
	ev_io_del(&loop, &c.io);
	assert_int_equal(ev_run_once(&loop, 0), 0);
	ev_close(&loop);
	close(sa[0]);
	close(sa[1]);
	close(sb[0]);
	close(sb[1]);
	close(sc[0]);
	close(sc[1]);
}

/* An io deleted and added again (another descriptor) by a callback
 * while its old descriptor's event waits in the same pass: that event
 * is not delivered to it; the new descriptor's come next pass. */
static void
test_readd_in_a_pass(void **state)
{
	struct ev_loop	loop;
	struct t_io	a = { 0 }, b = { 0 };
	int		sa[2], sb[2], sc[2], pass;

	test_ev_init(&loop);
	t_pair(sa);
	t_pair(sb);
	t_pair(sc);
	assert_int_equal(write(sa[1], "x", 1), 1);
	assert_int_equal(write(sb[1], "x", 1), 1);
	assert_int_equal(write(sc[1], "x", 1), 1);
	assert_int_equal(ev_io_add(&loop, &a.io, sa[0], EV_READ, t_cb, &a), 0);
	assert_int_equal(ev_io_add(&loop, &b.io, sb[0], EV_READ, t_cb, &b), 0);
	/* Whichever runs first moves the other to sc[0]. */
	a.kill = &b.io;
	a.added = &b.io;
	a.fd2 = sc[0];
	b.kill = &a.io;
	b.added = &a.io;
	b.fd2 = sc[0];
	assert_true(ev_run_once(&loop, 1000) >= 1);
	assert_int_equal(a.calls + b.calls, 1);
	/* The moved one is on sc[0] now, and called from the next pass. */
	a.kill = b.kill = NULL;
	a.added = b.added = NULL;
	for (pass = 0; pass < 3; pass++)
		assert_true(ev_run_once(&loop, 1000) >= 1);
	assert_true(a.calls >= 1 && b.calls >= 1);
	assert_true(a.io.fd == sc[0] || b.io.fd == sc[0]);
	ev_io_del(&loop, &a.io);
	ev_io_del(&loop, &b.io);
	ev_close(&loop);
	close(sa[0]);
	close(sa[1]);
	close(sb[0]);
	close(sb[1]);
	close(sc[0]);
	close(sc[1]);
}

/* Forgotten, then closed: never reported again, and the number can be
 * registered anew. */
static void
test_forget_then_close(void **state)
{
	struct ev_loop	loop;
	struct t_io	t = { 0 }, u = { 0 };
	int		sv[2], sw[2];

	test_ev_init(&loop);
	t_pair(sv);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(ev_io_add(&loop, &t.io, sv[0], EV_READ, t_cb, &t), 0);
	ev_io_forget(&loop, &t.io);
	assert_int_equal(t.io.fd, -1);
	close(sv[0]);
	assert_int_equal(ev_run_once(&loop, 0), 0);
	assert_int_equal(t.calls, 0);
	/* The same number, most likely, for a new socket. */
	t_pair(sw);
	assert_int_equal(write(sw[1], "y", 1), 1);
	assert_int_equal(ev_io_add(&loop, &u.io, sw[0], EV_READ, t_cb, &u), 0);
	assert_int_equal(ev_run_once(&loop, 1000), 1);
	assert_int_equal(u.calls, 1);
	assert_int_equal(t.calls, 0);
	ev_io_del(&loop, &u.io);
	ev_close(&loop);
	close(sv[1]);
	close(sw[0]);
	close(sw[1]);
}

/* The peer goes: a reader sees EOF as EV_READ (a read returns 0).  With
 * an empty mask, epoll and poll still report the hangup (EV_HUP);
 * kqueue reports nothing until the io asks again (ev_kqueue.c). */
static void
test_hangup(void **state)
{
	struct ev_loop	loop;
	struct t_io	r = { 0 }, z = { 0 };
	int		sv[2], sw[2];
	char		c;

	test_ev_init(&loop);
	t_pair(sv);
	t_pair(sw);
	assert_int_equal(ev_io_add(&loop, &r.io, sv[0], EV_READ, t_cb, &r), 0);
	assert_int_equal(ev_io_add(&loop, &z.io, sw[0], 0, t_cb, &z), 0);
	close(sv[1]);
	close(sw[1]);
	assert_true(ev_run_once(&loop, 1000) >= 1);
	assert_int_equal(r.calls, 1);
	assert_true(r.last & EV_READ);
	assert_int_equal(read(sv[0], &c, 1), 0);
	if (strcmp(ev_backend_name(&loop), "kqueue") == 0) {
		assert_int_equal(z.calls, 0);
	} else {
		assert_int_equal(z.calls, 1);
		assert_true(z.last & EV_HUP);
		assert_false(z.last & (EV_READ | EV_WRITE));
	}
	ev_io_del(&loop, &r.io);
	ev_io_del(&loop, &z.io);
	ev_close(&loop);
	close(sv[0]);
	close(sw[0]);
}

/* Hundreds of ready descriptors, deleted and added back in bulk: each
 * reported once per pass, even past one batch of the backend. */
static void
test_many(void **state)
{
	static struct t_io	t[T_MANY];
	static int		sv[T_MANY][2];
	struct ev_loop		loop;
	int			i, round, total = 0;

	test_ev_init(&loop);
	for (i = 0; i < T_MANY; i++) {
		t_pair(sv[i]);
		assert_int_equal(write(sv[i][1], "x", 1), 1);
	}
	for (round = 0; round < 2; round++) {
		memset(t, 0, sizeof(t));
		for (i = 0; i < T_MANY; i++)
			assert_int_equal(ev_io_add(&loop, &t[i].io, sv[i][0], EV_READ, t_cb,
			    &t[i]), 0);
		/* Passes until every io was seen (a batch may cut a pass). */
		for (total = 0; total < T_MANY; total++) {
			for (i = 0; i < T_MANY; i++)
				if (t[i].calls == 0)
					break;
			if (i == T_MANY)
				break;
			assert_true(ev_run_once(&loop, 1000) > 0);
		}
		for (i = 0; i < T_MANY; i++) {
			assert_true(t[i].calls >= 1);
			if (i % 2 == 0) {
				ev_io_del(&loop, &t[i].io);
				continue;
			}
			/* Forgotten: closed at once, a new socket for the
			 * next round. */
			ev_io_forget(&loop, &t[i].io);
			close(sv[i][0]);
			close(sv[i][1]);
			t_pair(sv[i]);
			assert_int_equal(write(sv[i][1], "x", 1), 1);
		}
		assert_int_equal(ev_run_once(&loop, 0), 0);
	}
	ev_close(&loop);
	for (i = 0; i < T_MANY; i++) {
		close(sv[i][0]);
		close(sv[i][1]);
	}
}

static int	 hook_calls;

static void
t_hook(struct ev_loop *loop, void *arg)
{
	hook_calls++;
	if (hook_calls < 3)
		loop->nowait = 1;
}

static void
t_timer_cb(struct ev_loop *loop, struct ev_timer *t)
{
	int	*fired = t->arg;

	(*fired)++;
	ev_stop(loop);
}

/* The hook runs once per pass and may ask for a pass without sleep; a
 * timer ends a wait that no descriptor would. */
static void
test_hook_and_timer(void **state)
{
	struct ev_loop	loop;
	struct ev_timer	tm;
	uint64_t	t0;
	int		fired = 0;

	test_ev_init(&loop);
	loop.before_sleep = t_hook;
	hook_calls = 0;
	t0 = ev_now();
	assert_int_equal(ev_run_once(&loop, 5000), 0);
	assert_int_equal(ev_run_once(&loop, 5000), 0);
	assert_true(ev_now() - t0 < 1000);
	assert_int_equal(hook_calls, 2);
	memset(&tm, 0, sizeof(tm));
	tm.cb = t_timer_cb;
	tm.arg = &fired;
	tm.when = ev_now() + 50;
	assert_int_equal(ev_timer_add(&loop, &tm), 0);
	t0 = ev_now();
	assert_int_equal(ev_run(&loop), 0);
	assert_int_equal(fired, 1);
	assert_true(ev_now() - t0 >= 40);
	assert_true(ev_now() - t0 < 2000);
	ev_timer_del(&loop, &tm);
	ev_close(&loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_read_level_triggered),
		cmocka_unit_test(test_mask_changes),
		cmocka_unit_test(test_delete_from_a_callback),
		cmocka_unit_test(test_readd_in_a_pass),
		cmocka_unit_test(test_forget_then_close),
		cmocka_unit_test(test_hangup),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_hook_and_timer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
