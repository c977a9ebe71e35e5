/* SPDX-License-Identifier: ISC */
/*
 * test_queue.c - the list macros of common/queue.h, as cshuttle uses them:
 * LIST (insert at the head, O(1) removal anywhere), TAILQ (FIFO order,
 * removal anywhere, concatenation) and SLIST (the free-after-the-pass
 * lists), each with its _FOREACH_SAFE iterator freeing as it goes.
 *
 * Built twice: test_queue with glibc's <sys/queue.h>, test_queue_own with
 * QUEUE_OWN defined, which takes queue.h's own definitions (the ones musl
 * builds, the stub among them, get).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "queue.h"

/* Prove which definitions this build tests. */
#if defined(QUEUE_OWN) && defined(_SYS_QUEUE_H_)
#error "QUEUE_OWN is defined, yet glibc's <sys/queue.h> was included"
#endif
#if !defined(QUEUE_OWN) && defined(__GLIBC__) && !defined(_SYS_QUEUE_H_)
#error "glibc's <sys/queue.h> was not included"
#endif

struct item {
	int			 v;
	LIST_ENTRY(item)	 le;
	TAILQ_ENTRY(item)	 te;
	SLIST_ENTRY(item)	 se;
};

LIST_HEAD(item_list, item);
TAILQ_HEAD(item_tailq, item);
SLIST_HEAD(item_slist, item);

static struct item *
item_new(int v)
{
	struct item	*it = calloc(1, sizeof(*it));

	assert_non_null(it);
	it->v = v;
	return it;
}

/* The values of a list in iteration order, as decimal digits. */
static long
list_digits(struct item_list *h)
{
	struct item	*it;
	long		 n = 0;

	LIST_FOREACH(it, h, le)
		n = n * 10 + it->v;
	return n;
}

static long
tailq_digits(struct item_tailq *h)
{
	struct item	*it;
	long		 n = 0;

	TAILQ_FOREACH(it, h, te)
		n = n * 10 + it->v;
	return n;
}

static long
slist_digits(struct item_slist *h)
{
	struct item	*it;
	long		 n = 0;

	SLIST_FOREACH(it, h, se)
		n = n * 10 + it->v;
	return n;
}

static void
test_list(void **state)
{
	struct item_list	 h = LIST_HEAD_INITIALIZER(h), h2;
	struct item		*it[6], *p, *tmp;
	int			 i;

	assert_true(LIST_EMPTY(&h));
	assert_null(LIST_FIRST(&h));
	for (i = 1; i <= 5; i++) {
		it[i] = item_new(i);
		LIST_INSERT_HEAD(&h, it[i], le);
	}
	assert_false(LIST_EMPTY(&h));
	assert_ptr_equal(LIST_FIRST(&h), it[5]);
	assert_ptr_equal(LIST_NEXT(it[5], le), it[4]);
	assert_null(LIST_NEXT(it[1], le));
	assert_int_equal(list_digits(&h), 54321);

	/* Removal from the middle, the tail and the head. */
	LIST_REMOVE(it[3], le);
	assert_int_equal(list_digits(&h), 5421);
	LIST_REMOVE(it[1], le);
	assert_int_equal(list_digits(&h), 542);
	LIST_REMOVE(it[5], le);
	assert_int_equal(list_digits(&h), 42);
	assert_ptr_equal(LIST_FIRST(&h), it[4]);
	/* A removed element goes back in. */
	LIST_INSERT_HEAD(&h, it[3], le);
	assert_int_equal(list_digits(&h), 342);
	free(it[1]);
	free(it[5]);

	/* _SAFE: every element may be removed and freed on the way. */
	LIST_FOREACH_SAFE(p, &h, le, tmp) {
		if (p->v != 4) {
			LIST_REMOVE(p, le);
			free(p);
		}
	}
	assert_int_equal(list_digits(&h), 4);
	LIST_FOREACH_SAFE(p, &h, le, tmp) {
		LIST_REMOVE(p, le);
		free(p);
	}
	assert_true(LIST_EMPTY(&h));

	LIST_INIT(&h2);
	assert_true(LIST_EMPTY(&h2));
	LIST_FOREACH_SAFE(p, &h2, le, tmp)
		fail_msg("an empty list has elements");
}

static void
test_tailq(void **state)
{
	struct item_tailq	 h = TAILQ_HEAD_INITIALIZER(h), h2;
	struct item		*it[8], *p, *tmp;
	int			 i;

	assert_true(TAILQ_EMPTY(&h));
	assert_null(TAILQ_FIRST(&h));
	for (i = 1; i <= 7; i++)
		it[i] = item_new(i);
	/* Arrival order at the tail; the head insert goes first. */
	TAILQ_INSERT_TAIL(&h, it[2], te);
	TAILQ_INSERT_TAIL(&h, it[3], te);
	TAILQ_INSERT_HEAD(&h, it[1], te);
	TAILQ_INSERT_TAIL(&h, it[4], te);
	assert_int_equal(tailq_digits(&h), 1234);
	assert_ptr_equal(TAILQ_FIRST(&h), it[1]);
	assert_ptr_equal(TAILQ_NEXT(it[1], te), it[2]);
	assert_null(TAILQ_NEXT(it[4], te));

	/* Removing the tail keeps the tail pointer right for the next insert. */
	TAILQ_REMOVE(&h, it[4], te);
	TAILQ_INSERT_TAIL(&h, it[5], te);
	assert_int_equal(tailq_digits(&h), 1235);
	TAILQ_REMOVE(&h, it[2], te);
	TAILQ_REMOVE(&h, it[1], te);
	assert_int_equal(tailq_digits(&h), 35);
	assert_ptr_equal(TAILQ_FIRST(&h), it[3]);
	/* Everything out, then in again: the empty queue is whole. */
	TAILQ_REMOVE(&h, it[3], te);
	TAILQ_REMOVE(&h, it[5], te);
	assert_true(TAILQ_EMPTY(&h));
	TAILQ_INSERT_TAIL(&h, it[1], te);
	TAILQ_INSERT_TAIL(&h, it[2], te);
	assert_int_equal(tailq_digits(&h), 12);
	/* Inserting at the head of an empty queue sets its tail too. */
	TAILQ_INIT(&h2);
	TAILQ_INSERT_HEAD(&h2, it[4], te);
	TAILQ_INSERT_TAIL(&h2, it[5], te);
	assert_int_equal(tailq_digits(&h2), 45);

	/* CONCAT moves all of the second queue to the end of the first and
	 * leaves it empty; an empty second queue changes nothing. */
	TAILQ_CONCAT(&h, &h2, te);
	assert_int_equal(tailq_digits(&h), 1245);
	assert_true(TAILQ_EMPTY(&h2));
	TAILQ_CONCAT(&h, &h2, te);
	assert_int_equal(tailq_digits(&h), 1245);
	TAILQ_INSERT_TAIL(&h, it[3], te);
	assert_int_equal(tailq_digits(&h), 12453);
	TAILQ_INSERT_TAIL(&h2, it[6], te);
	TAILQ_INSERT_TAIL(&h2, it[7], te);
	TAILQ_CONCAT(&h, &h2, te);
	assert_int_equal(tailq_digits(&h), 1245367);
	assert_true(TAILQ_EMPTY(&h2));
	/* The emptied queue is whole: usable again. */
	p = item_new(8);
	TAILQ_INSERT_TAIL(&h2, p, te);
	assert_int_equal(tailq_digits(&h2), 8);
	TAILQ_REMOVE(&h2, p, te);
	free(p);
	assert_true(TAILQ_EMPTY(&h2));
	/* ... and the moved elements link back to the first queue's tail. */
	TAILQ_REMOVE(&h, it[7], te);
	TAILQ_INSERT_TAIL(&h, it[7], te);
	assert_int_equal(tailq_digits(&h), 1245367);

	/* _SAFE, freeing as it goes. */
	TAILQ_FOREACH_SAFE(p, &h, te, tmp) {
		if (p->v % 2 == 0) {
			TAILQ_REMOVE(&h, p, te);
			free(p);
		}
	}
	assert_int_equal(tailq_digits(&h), 1537);
	TAILQ_FOREACH_SAFE(p, &h, te, tmp) {
		TAILQ_REMOVE(&h, p, te);
		free(p);
	}
	assert_true(TAILQ_EMPTY(&h));
}

static void
test_slist(void **state)
{
	struct item_slist	 h = SLIST_HEAD_INITIALIZER(h), h2;
	struct item		*it[5], *p, *tmp;
	int			 i;

	assert_true(SLIST_EMPTY(&h));
	assert_null(SLIST_FIRST(&h));
	for (i = 1; i <= 4; i++) {
		it[i] = item_new(i);
		SLIST_INSERT_HEAD(&h, it[i], se);
	}
	assert_int_equal(slist_digits(&h), 4321);
	assert_ptr_equal(SLIST_FIRST(&h), it[4]);
	assert_ptr_equal(SLIST_NEXT(it[4], se), it[3]);
	assert_null(SLIST_NEXT(it[1], se));

	/* The free-after-the-pass pattern: pop the head until empty. */
	SLIST_REMOVE_HEAD(&h, se);
	assert_int_equal(slist_digits(&h), 321);
	free(it[4]);
	while ((p = SLIST_FIRST(&h)) != NULL && p->v != 1) {
		SLIST_REMOVE_HEAD(&h, se);
		free(p);
	}
	assert_int_equal(slist_digits(&h), 1);

	/* _SAFE frees every element, the head being the last reference. */
	SLIST_INIT(&h2);
	p = item_new(8);
	SLIST_INSERT_HEAD(&h2, p, se);
	p = item_new(9);
	SLIST_INSERT_HEAD(&h2, p, se);	/* the macros evaluate elm more than once */
	assert_int_equal(slist_digits(&h2), 98);
	SLIST_FOREACH_SAFE(p, &h2, se, tmp)
		free(p);
	SLIST_INIT(&h2);
	assert_true(SLIST_EMPTY(&h2));
	SLIST_FOREACH_SAFE(p, &h, se, tmp)
		free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_tailq),
		cmocka_unit_test(test_slist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
