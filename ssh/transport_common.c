/* SPDX-License-Identifier: ISC */
/*
 * transport_common.c - what both transports share around opening:
 * cancelling an open from another thread, and telling failures worth a
 * retry from those that are not.
 */
#include <sys/socket.h>

#include <string.h>

#include "transport.h"

bool
transport_fail_retryable(enum transport_fail fail)
{
	/* A wrong host key, refused credentials or a remote that cannot run
	 * the stub stay so however often we ask. */
	return fail == TRANSPORT_F_CONNECT || fail == TRANSPORT_F_NONE;
}

void
transport_abort_init(struct transport_abort *a)
{
	pthread_mutex_init(&a->mu, NULL);
	a->fired = false;
	a->fd = -1;
}

void
transport_abort_destroy(struct transport_abort *a)
{
	pthread_mutex_destroy(&a->mu);
}

int
transport_abort_watch(struct transport_abort *a, int fd)
{
	int	rc = 0;

	pthread_mutex_lock(&a->mu);
	if (a->fired)
		rc = -1;
	else
		a->fd = fd;
	pthread_mutex_unlock(&a->mu);
	return rc;
}

void
transport_abort_unwatch(struct transport_abort *a)
{
	pthread_mutex_lock(&a->mu);
	a->fd = -1;
	pthread_mutex_unlock(&a->mu);
}

void
transport_abort_fire(struct transport_abort *a)
{
	pthread_mutex_lock(&a->mu);
	a->fired = true;
	/* Not close(): the owner still closes it, after unwatching. */
	if (a->fd >= 0)
		(void)shutdown(a->fd, SHUT_RDWR);
	pthread_mutex_unlock(&a->mu);
}

bool
transport_abort_fired(struct transport_abort *a)
{
	bool	fired;

	pthread_mutex_lock(&a->mu);
	fired = a->fired;
	pthread_mutex_unlock(&a->mu);
	return fired;
}

/*
 * The bootstrap's messages for what the network did to it (bootstrap.c):
 * the link broke, a deadline passed, or the remote command ended before
 * saying anything about its setup (sshd going down ends sessions so).
 * Everything else it reports is about the remote's setup: no /bin/sh, no
 * stub for its CPU, no directory to run the stub from.
 */
enum transport_fail
transport_boot_fail_kind(enum transport_fail fail, const char *err, bool link_dead)
{
	static const char *const transient[] = {
		"connection lost",
		"timed out",
		"poll:",
		"the remote command ended before the bootstrap started",
		"the remote bootstrap ended unexpectedly",
		"out of memory",
	};
	size_t	i;

	if (fail != TRANSPORT_F_REMOTE)
		return fail;
	if (link_dead)
		return TRANSPORT_F_CONNECT;
	for (i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
		if (strncmp(err, transient[i], strlen(transient[i])) == 0)
			return TRANSPORT_F_CONNECT;
	return fail;
}
