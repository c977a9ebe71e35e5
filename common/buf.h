/* SPDX-License-Identifier: ISC */
/*
 * buf.h - a byte queue with a hard maximum size.
 *
 * Bytes are appended at the tail and consumed from the head.  Storage is
 * allocated lazily, grows by doubling up to `max`, and is released when
 * the queue empties (so thousands of idle streams cost almost nothing).
 * Every function that could exceed `max` fails instead: that failure is
 * the back-pressure signal.
 */
#ifndef CSHUTTLE_BUF_H
#define CSHUTTLE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t	*data;
	size_t	 off;		/* first unconsumed byte */
	size_t	 len;		/* bytes queued */
	size_t	 cap;		/* allocated */
	size_t	 max;		/* hard limit on len */
	int	 keep;	/* keep storage when empty (long-lived queues) */
};

#define BUF_E_FULL	-1	/* would exceed max */
#define BUF_E_NOMEM	-2

void	 buf_init(struct buf *b, size_t max);
void	 buf_free(struct buf *b);

static inline size_t	 buf_len(const struct buf *b) { return b->len; }
static inline size_t	 buf_room(const struct buf *b) { return b->max - b->len; }
static inline const uint8_t *buf_ptr(const struct buf *b) { return b->data + b->off; }

/*
 * Make n contiguous writable bytes available at the tail and return a
 * pointer to them (valid until the next call on b), or NULL when n
 * exceeds the room left (or memory ran out).  Nothing is queued until
 * buf_commit().
 */
uint8_t	*buf_reserve(struct buf *b, size_t n);
void	 buf_commit(struct buf *b, size_t n);
/* Queue n bytes: 0, BUF_E_FULL or BUF_E_NOMEM. */
int	 buf_append(struct buf *b, const void *p, size_t n);
/* Drop n (<= len) bytes from the head. */
void	 buf_consume(struct buf *b, size_t n);
/* Keep only the first n bytes (n >= len: no change). */
void	 buf_truncate(struct buf *b, size_t n);

/*
 * Big-endian integers, the byte order of every wire format cshuttle
 * reads or writes (its own frames, DNS messages, netlink payloads in
 * network order).  The get/set forms work on bytes the caller has
 * already checked the length of (a parsed header, a reserved area); the
 * put forms append to a queue and fail like buf_append().
 */
static inline uint16_t
buf_get_u16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
buf_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
buf_get_u64(const uint8_t *p)
{
	return (uint64_t)buf_get_u32(p) << 32 | buf_get_u32(p + 4);
}

static inline void
buf_set_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
buf_set_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
buf_set_u64(uint8_t *p, uint64_t v)
{
	buf_set_u32(p, (uint32_t)(v >> 32));
	buf_set_u32(p + 4, (uint32_t)v);
}

static inline int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_append(b, &v, 1);
}

static inline int
buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t	p[2];

	buf_set_u16(p, v);
	return buf_append(b, p, sizeof(p));
}

static inline int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t	p[4];

	buf_set_u32(p, v);
	return buf_append(b, p, sizeof(p));
}

#endif
