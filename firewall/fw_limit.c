/* SPDX-License-Identifier: ISC */
/*
 * fw_limit.c - helper slots and request pacing; see fw_limit.h.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fw_limit.h"

#define FW_LIMIT_RETRIES	8	/* a slot file replaced under us */

void
fw_limit_bucket_init_rate(struct fw_limit_bucket *b, uint64_t now_ms,
    uint32_t burst, uint32_t rate)
{
	b->burst = burst > 0 ? burst : 1;
	b->rate = rate > 0 ? rate : 1;
	b->tokens_milli = (uint64_t)b->burst * 1000;
	b->last_ms = now_ms;
}

void
fw_limit_bucket_init(struct fw_limit_bucket *b, uint64_t now_ms)
{
	fw_limit_bucket_init_rate(b, now_ms, FW_LIMIT_BURST, FW_LIMIT_RATE);
}

uint64_t
fw_limit_bucket_take(struct fw_limit_bucket *b, uint64_t now_ms)
{
	uint64_t	cap, add;

	if (b->rate == 0)	/* never initialised: a bug, but no crash */
		fw_limit_bucket_init(b, now_ms);
	cap = (uint64_t)b->burst * 1000;

	/* rate tokens a second: rate thousandths a ms. */
	if (now_ms > b->last_ms) {
		add = (now_ms - b->last_ms) * b->rate;
		if (now_ms - b->last_ms > cap || b->tokens_milli + add > cap)
			b->tokens_milli = cap;
		else
			b->tokens_milli += add;
		b->last_ms = now_ms;
	}
	if (b->tokens_milli >= 1000) {
		b->tokens_milli -= 1000;
		return 0;
	}
	return (1000 - b->tokens_milli + b->rate - 1) / b->rate;
}

/* dir exists (made with mode), is a directory owned by root, and only
 * root may write it (mode_mask: the bits nobody else may have). */
static int
fw_limit_dir(const char *dir, mode_t mode, mode_t mode_mask, char *err,
    size_t errlen)
{
	struct stat	st;

	if (mkdir(dir, mode) != 0 && errno != EEXIST)
		return err_set(err, errlen, -1, "cannot make %s: %s", dir,
		    strerror(errno));
	if (lstat(dir, &st) != 0)
		return err_set(err, errlen, -1, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & mode_mask))
		return err_set(err, errlen, -1, "%s must be a directory owned "
		    "by root that nobody else may write", dir);
	return 0;
}

int
fw_limit_slot_take(struct fw_limit_slot *s, const char *dir, uid_t uid,
    int max, int *held, char *err, size_t errlen)
{
	struct stat	 a, b;
	char		 parent[PATH_MAX], *slash;
	int		 dfd = -1, fd, n, tries, ret = -1;

	s->fd = -1;
	s->name[0] = '\0';
	*held = 0;
	if (strlen(dir) >= sizeof(parent))
		return err_set(err, errlen, -1, "%s: path too long", dir);
	memcpy(parent, dir, strlen(dir) + 1);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		if (fw_limit_dir(parent, 0755, S_IWGRP | S_IWOTH, err,
		    errlen) != 0)
			return -1;
	}
	if (fw_limit_dir(dir, 0700, S_IRWXG | S_IRWXO, err, errlen) != 0)
		return -1;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return err_set(err, errlen, -1, "%s: %s", dir, strerror(errno));
	for (n = 0; n < max; n++) {
		snprintf(s->name, sizeof(s->name), "%lu.%d",
		    (unsigned long)uid, n);
		for (tries = 0; tries < FW_LIMIT_RETRIES; tries++) {
			if ((fd = openat(dfd, s->name, O_RDWR | O_CREAT |
			    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
				err_set(err, errlen, -1, "%s/%s: %s", dir,
				    s->name, strerror(errno));
				goto out;
			}
			if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
				close(fd);
				if (errno != EWOULDBLOCK) {
					err_set(err, errlen, -1, "flock %s/%s: "
					    "%s", dir, s->name, strerror(errno));
					goto out;
				}
				(*held)++;
				break;	/* held by a running helper */
			}
			/* Still the file of that name?  Its last holder may
			 * have removed it between our open and our lock. */
			if (fstat(fd, &a) == 0 && fstatat(dfd, s->name, &b,
			    AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
			    a.st_ino == b.st_ino) {
				s->fd = fd;
				ret = 0;
				goto out;
			}
			close(fd);
		}
		if (tries == FW_LIMIT_RETRIES) {
			err_set(err, errlen, -1, "%s/%s keeps changing", dir,
			    s->name);
			goto out;
		}
	}
	s->name[0] = '\0';
	ret = 1;
 out:
	close(dfd);
	return ret;
}

void
fw_limit_slot_release(struct fw_limit_slot *s, const char *dir)
{
	char	path[PATH_MAX];

	if (s->fd < 0)
		return;
	/* Removed while still locked: see fw_limit_slot_take(). */
	if (snprintf(path, sizeof(path), "%s/%s", dir, s->name) <
	    (int)sizeof(path))
		(void)unlink(path);
	close(s->fd);
	s->fd = -1;
}
