/* SPDX-License-Identifier: ISC */
/*
 * outage.c - the queue of connections waiting for a session (outage.h).
 */
#include <sys/socket.h>

#include <string.h>
#include <unistd.h>

#include "outage.h"

void
outage_init(struct outage *q, size_t cap, uint64_t wait_ms)
{
	memset(q, 0, sizeof(*q));
	q->cap = cap == 0 || cap > OUTAGE_MAX_CONNS ? OUTAGE_MAX_CONNS : cap;
	q->wait_ms = wait_ms == 0 ? OUTAGE_MAX_WAIT_MS : wait_ms;
}

int
outage_push(struct outage *q, int fd, const struct addr *dst, uint64_t now)
{
	struct outage_conn	*c;

	if (q->len == q->cap) {
		q->overflow++;
		return -1;
	}
	c = &q->q[(q->head + q->len) % q->cap];
	c->fd = fd;
	c->dst = *dst;
	c->deadline = now + q->wait_ms;
	q->len++;
	q->queued++;
	return 0;
}

static void
outage_take(struct outage *q, struct outage_conn *c)
{
	*c = q->q[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	if (q->len == 0)
		q->head = 0;
}

bool
outage_pop_expired(struct outage *q, uint64_t now, struct outage_conn *c)
{
	if (q->len == 0 || q->q[q->head].deadline > now)
		return false;
	outage_take(q, c);
	q->expired++;
	return true;
}

bool
outage_pop(struct outage *q, struct outage_conn *c)
{
	if (q->len == 0)
		return false;
	outage_take(q, c);
	q->opened++;
	return true;
}

uint64_t
outage_next_deadline(const struct outage *q)
{
	return q->len == 0 ? 0 : q->q[q->head].deadline;
}

size_t
outage_len(const struct outage *q)
{
	return q->len;
}

void
outage_reset(int fd)
{
	struct linger	l = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}
