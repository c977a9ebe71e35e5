/* SPDX-License-Identifier: ISC */
/*
 * queue.h - the one list implementation: the BSD <sys/queue.h> macros.
 *
 * glibc has <sys/queue.h> and it is used as it is.  musl (the stub's libc,
 * and the libc of remotes that compile the stub) has none, so the subset
 * cshuttle uses is defined below with the same names and meaning: LIST (a
 * doubly linked list with O(1) removal), TAILQ (the same, with a tail for
 * FIFO order) and SLIST (singly linked, for the free-after-the-pass lists).
 * The _SAFE iterators, which glibc's copy lacks, are added for both.
 *
 * Defining QUEUE_OWN before the first include takes the definitions below
 * on glibc too: tests/unit/test_queue.c is built both ways, so the copy
 * musl builds get is tested where the tests run.
 */
#ifndef CSHUTTLE_QUEUE_H
#define CSHUTTLE_QUEUE_H

#if defined(__GLIBC__) && !defined(QUEUE_OWN)
#include <sys/queue.h>
#else

#include <stddef.h>

/* ---- LIST ---- */
#define LIST_HEAD(name, type)						\
	struct name { struct type *lh_first; }
#define LIST_HEAD_INITIALIZER(head)	{ NULL }
#define LIST_ENTRY(type)						\
	struct { struct type *le_next; struct type **le_prev; }
#define LIST_INIT(head)		((head)->lh_first = NULL)
#define LIST_FIRST(head)	((head)->lh_first)
#define LIST_NEXT(elm, field)	((elm)->field.le_next)
#define LIST_EMPTY(head)	((head)->lh_first == NULL)
#define LIST_INSERT_HEAD(head, elm, field) do {				\
	if (((elm)->field.le_next = (head)->lh_first) != NULL)		\
		(head)->lh_first->field.le_prev = &(elm)->field.le_next;\
	(head)->lh_first = (elm);					\
	(elm)->field.le_prev = &(head)->lh_first;			\
} while (0)
#define LIST_REMOVE(elm, field) do {					\
	if ((elm)->field.le_next != NULL)				\
		(elm)->field.le_next->field.le_prev = (elm)->field.le_prev;\
	*(elm)->field.le_prev = (elm)->field.le_next;			\
} while (0)
#define LIST_FOREACH(var, head, field)					\
	for ((var) = (head)->lh_first; (var) != NULL; (var) = (var)->field.le_next)

/* ---- TAILQ ---- */
#define TAILQ_HEAD(name, type)						\
	struct name { struct type *tqh_first; struct type **tqh_last; }
#define TAILQ_HEAD_INITIALIZER(head)	{ NULL, &(head).tqh_first }
#define TAILQ_ENTRY(type)						\
	struct { struct type *tqe_next; struct type **tqe_prev; }
#define TAILQ_INIT(head) do {						\
	(head)->tqh_first = NULL;					\
	(head)->tqh_last = &(head)->tqh_first;				\
} while (0)
#define TAILQ_FIRST(head)	((head)->tqh_first)
#define TAILQ_NEXT(elm, field)	((elm)->field.tqe_next)
#define TAILQ_EMPTY(head)	((head)->tqh_first == NULL)
#define TAILQ_INSERT_HEAD(head, elm, field) do {			\
	if (((elm)->field.tqe_next = (head)->tqh_first) != NULL)	\
		(head)->tqh_first->field.tqe_prev = &(elm)->field.tqe_next;\
	else								\
		(head)->tqh_last = &(elm)->field.tqe_next;		\
	(head)->tqh_first = (elm);					\
	(elm)->field.tqe_prev = &(head)->tqh_first;			\
} while (0)
#define TAILQ_INSERT_TAIL(head, elm, field) do {			\
	(elm)->field.tqe_next = NULL;					\
	(elm)->field.tqe_prev = (head)->tqh_last;			\
	*(head)->tqh_last = (elm);					\
	(head)->tqh_last = &(elm)->field.tqe_next;			\
} while (0)
#define TAILQ_REMOVE(head, elm, field) do {				\
	if ((elm)->field.tqe_next != NULL)				\
		(elm)->field.tqe_next->field.tqe_prev = (elm)->field.tqe_prev;\
	else								\
		(head)->tqh_last = (elm)->field.tqe_prev;		\
	*(elm)->field.tqe_prev = (elm)->field.tqe_next;			\
} while (0)
#define TAILQ_CONCAT(head1, head2, field) do {				\
	if (!TAILQ_EMPTY(head2)) {					\
		*(head1)->tqh_last = (head2)->tqh_first;		\
		(head2)->tqh_first->field.tqe_prev = (head1)->tqh_last;	\
		(head1)->tqh_last = (head2)->tqh_last;			\
		TAILQ_INIT(head2);					\
	}								\
} while (0)
#define TAILQ_FOREACH(var, head, field)					\
	for ((var) = (head)->tqh_first; (var) != NULL; (var) = (var)->field.tqe_next)

/* ---- SLIST ---- */
#define SLIST_HEAD(name, type)						\
	struct name { struct type *slh_first; }
#define SLIST_HEAD_INITIALIZER(head)	{ NULL }
#define SLIST_ENTRY(type)						\
	struct { struct type *sle_next; }
#define SLIST_INIT(head)	((head)->slh_first = NULL)
#define SLIST_FIRST(head)	((head)->slh_first)
#define SLIST_NEXT(elm, field)	((elm)->field.sle_next)
#define SLIST_EMPTY(head)	((head)->slh_first == NULL)
#define SLIST_INSERT_HEAD(head, elm, field) do {			\
	(elm)->field.sle_next = (head)->slh_first;			\
	(head)->slh_first = (elm);					\
} while (0)
#define SLIST_REMOVE_HEAD(head, field) do {				\
	(head)->slh_first = (head)->slh_first->field.sle_next;		\
} while (0)
#define SLIST_FOREACH(var, head, field)					\
	for ((var) = (head)->slh_first; (var) != NULL; (var) = (var)->field.sle_next)

#endif /* !__GLIBC__ || QUEUE_OWN */

/* Iterators that allow removing (and freeing) the current element. */
#ifndef LIST_FOREACH_SAFE
#define LIST_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = LIST_FIRST(head);					\
	    (var) != NULL && ((tvar) = LIST_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif
#ifndef SLIST_FOREACH_SAFE
#define SLIST_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = SLIST_FIRST(head);					\
	    (var) != NULL && ((tvar) = SLIST_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#endif
