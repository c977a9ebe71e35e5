/* SPDX-License-Identifier: ISC */
/*
 * buf.c - bounded byte queue (see buf.h for the contract).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define BUF_MIN_ALLOC	4096

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}

uint8_t *
buf_reserve(struct buf *b, size_t n)
{
	size_t	 need, ncap;
	uint8_t	*p;

	if (n > b->max - b->len)
		return NULL;
	if (b->off + b->len + n <= b->cap)
		return b->data + b->off + b->len;
	need = b->len + n;
	/* Sliding the live bytes down is cheaper than growing when the
	 * consumed prefix is large enough to make the room. */
	if (need <= b->cap && b->off >= b->cap / 2) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
		return b->data + b->len;
	}
	ncap = b->cap ? b->cap : BUF_MIN_ALLOC;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->max && need <= b->max)
		ncap = b->max < BUF_MIN_ALLOC ? BUF_MIN_ALLOC : b->max;
	if (need <= b->cap) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
		return b->data + b->len;
	}
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	if ((p = realloc(b->data, ncap)) == NULL)
		return NULL;
	b->data = p;
	b->cap = ncap;
	return b->data + b->len;
}

void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	uint8_t	*dst;

	if (n > b->max - b->len)
		return BUF_E_FULL;
	if (n == 0)
		return 0;
	if ((dst = buf_reserve(b, n)) == NULL)
		return BUF_E_NOMEM;
	memcpy(dst, p, n);
	b->len += n;
	return 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = b->len = 0;
		if (b->keep)
			return;
		/* An empty queue gives its memory back: idle streams stay cheap. */
		free(b->data);
		b->data = NULL;
		b->cap = 0;
		return;
	}
	b->off += n;
	b->len -= n;
}

void
buf_truncate(struct buf *b, size_t n)
{
	if (n >= b->len)
		return;
	if (n == 0) {
		buf_consume(b, b->len);
		return;
	}
	b->len = n;
}
