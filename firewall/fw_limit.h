/* SPDX-License-Identifier: ISC */
/*
 * fw_limit.h - the bounds on what a caller other than root may ask of the
 * helper: how many helpers run for it at once, and how fast it may send
 * requests.
 *
 * Helpers at once: each helper holds a slot, a lock file
 * FW_LIMIT_DIR/<uid>.<n> (n below the caller's limit) locked with
 * flock() for its whole life.  The directory is made by the helper,
 * owned by root, mode 0700; a slot whose file was removed while it was
 * being taken is taken again, so two helpers never hold the same slot.
 * A helper that ends removes its file; the lock of one that was killed
 * goes with its process, and the file is reused.
 *
 * Requests: a token bucket, FW_LIMIT_BURST requests at once, then
 * FW_LIMIT_RATE a second.  The helper waits for a token instead of
 * failing, so a busy client is slowed down, never broken, and a caller
 * gains nothing by asking faster: not the number of requests over a
 * helper's life is bounded, but their rate.
 */
#ifndef CSHUTTLE_FW_LIMIT_H
#define CSHUTTLE_FW_LIMIT_H

#include <stdint.h>
#include <sys/types.h>

#define FW_LIMIT_DIR		"/run/cshuttle/helper"
#define FW_LIMIT_BURST		20	/* requests (series, MARK) at once */
#define FW_LIMIT_RATE		10	/* then this many a second */
/*
 * UDPREPLY has a bucket of its own, much larger: a client carrying UDP
 * asks for one reply socket per new flow, which a busy client (DNS over
 * the tunnel, QUIC) may need hundreds of times a second.
 */
#define FW_LIMIT_UDP_BURST	500
#define FW_LIMIT_UDP_RATE	500

struct fw_limit_bucket {
	uint64_t	 tokens_milli;	/* thousandths of a request */
	uint64_t	 last_ms;	/* when it was last filled */
	uint32_t	 burst;		/* requests at once */
	uint32_t	 rate;		/* then this many a second */
};

/* A full bucket at time now_ms, FW_LIMIT_BURST and FW_LIMIT_RATE. */
void	fw_limit_bucket_init(struct fw_limit_bucket *b, uint64_t now_ms);
/* The same with a burst and rate of its own (both at least 1). */
void	fw_limit_bucket_init_rate(struct fw_limit_bucket *b, uint64_t now_ms,
	    uint32_t burst, uint32_t rate);
/*
 * Take one token at time now_ms (a monotonic clock in ms): 0 when one
 * was taken, otherwise the milliseconds until one will be there (nothing
 * taken).  Pure.
 */
uint64_t fw_limit_bucket_take(struct fw_limit_bucket *b, uint64_t now_ms);

/* A held slot. */
struct fw_limit_slot {
	int		 fd;		/* the locked file, or -1 */
	char		 name[64];	/* "<uid>.<n>" in FW_LIMIT_DIR */
};

/*
 * Take a free slot among <uid>.0 ... <uid>.<max - 1> in dir (made, if
 * missing, with its parent, owned by root: 0755 for the parent, 0700 for
 * dir).  0; 1 when all of them are held (*held tells how many); -1 with
 * a reason in err.
 */
int	fw_limit_slot_take(struct fw_limit_slot *s, const char *dir, uid_t uid,
	    int max, int *held, char *err, size_t errlen);
/* Remove the slot's file and release it.  Accepts a slot never taken. */
void	fw_limit_slot_release(struct fw_limit_slot *s, const char *dir);

#endif
