/* SPDX-License-Identifier: ISC */
/*
 * client.h - what the running client holds.
 *
 * main.c fills it at start-up and frees it at shutdown; the tunnel's
 * hooks (main.c), DNS capture (dnscap.c) and SIGHUP's reload (reload.c)
 * use it.  Only the loop's thread touches it, but for the fields that
 * say otherwise.
 */
#ifndef CSHUTTLE_CLIENT_H
#define CSHUTTLE_CLIENT_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "exempt.h"
#include "fw.h"
#include "listen.h"
#include "options.h"
#include "reload.h"

struct autohosts;
struct autonets;
struct control;
struct dns_local;
struct sshcfg;

struct client {
	struct options		*boot;		/* as started: the session's settings;
						 * the reconnect worker reads it */
	struct options		*live;		/* the last good reload (or boot) */
	struct sshcfg		*cfg;		/* the SSH server, as the ssh
						 * configuration says; the worker
						 * reads it */
	struct fw		*fw;
	struct fw_config	 fwcfg;		/* the rules in place (or to be) */
	struct autonets		*autonets;	/* -N: the remote's networks, else
						 * NULL (autonets.h) */
	struct autohosts	*autohosts;	/* -H: the remote's host names, else
						 * NULL (autohosts.h) */
	struct listen_spec	 lspec;
	struct listen_socks	 ls;
	/* DNS capture (dnscap.h) */
	struct dns_local	*dns;		/* NULL: nothing captured */
	struct addr		 dns_plan[FW_MAX_DNS];	/* what dns was asked to serve */
	size_t			 ndns_plan;
	struct options		*dns_owner;	/* whose dns_domains dns points to */
	struct exempt_names	 bypass;	/* asked locally even when captured */
	struct control		*control;	/* `cshuttle status`, NULL without */
	char			 pidfile[PATH_MAX];	/* absolute, "" without */
	bool			 pid_written;
	bool			 up;		/* the first session came up */
	struct reload		 reload;
	/* The alive times for the worker's transports: a reload changes
	 * them, the worker reads them. */
	pthread_mutex_t		 mu;
	int			 alive_interval_ms, alive_timeout_ms;
};

#endif
