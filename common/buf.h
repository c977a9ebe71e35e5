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

#endif
