/* SPDX-License-Identifier: ISC */
/*
 * options_compat.c - sshuttle's options that cshuttle has no option of
 * its own for.  A script written for sshuttle gets an answer for each:
 * accepted where the meaning is the same (--method auto|nft), a notice
 * where the option has no meaning here (the remote side is no Python,
 * every connection has its own flow control), otherwise a usage error
 * that names it as sshuttle's and says what to use instead, never the
 * generic "unknown option".  The options that keep their meaning under
 * another name (-V, --disable-ipv6, --sudoers-no-modify) are plain
 * entries of options.c's table.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options_int.h"

/* What --method accepts and refuses, with the reason. */
static const struct {
	const char	*name;
	const char	*why;		/* NULL: accepted */
} options_compat_methods[] = {
	{ "auto",	NULL },
	{ "nft",	NULL },
	{ "nat",	"sshuttle's iptables method; cshuttle redirects with "
			"nftables: use --method nft (or auto)" },
	/* sshuttle's method for UDP: cshuttle's nftables rules carry UDP
	 * with TPROXY already, so it is the same as nft. */
	{ "tproxy",	NULL },
	/* pf is macOS's and the BSDs' (firewall/fw_pf*.c, not usable
	 * there yet); a Linux build has nftables. */
	{ "pf",		"pf is the firewall of macOS and the BSDs; on Linux "
			"use --method nft (or auto)" },
	{ "ipfw",	"the FreeBSD firewall is not supported; cshuttle runs "
			"on Linux with --method nft" },
	{ "windivert",	"the Windows method is not supported; cshuttle runs "
			"on Linux with --method nft" },
};

static int
options_compat_method(const char *arg, char *err, size_t errlen)
{
	size_t	i;

	for (i = 0; i < sizeof(options_compat_methods) /
	    sizeof(options_compat_methods[0]); i++) {
		if (strcmp(arg, options_compat_methods[i].name) != 0)
			continue;
		if (options_compat_methods[i].why == NULL)
			return 0;
		return options_fail(err, errlen, "--method %s: %s", arg,
		    options_compat_methods[i].why);
	}
	return options_fail(err, errlen, "--method \"%.64s\": expected auto or "
	    "nft", arg);
}

/* The list is short and fixed, so it cannot fill. */
void
options_compat_notice(struct options *o, const char *text)
{
	int	i;

	for (i = 0; i < o->nnotices; i++)
		if (o->notices[i] == text)
			return;
	if (o->nnotices < OPTIONS_MAX_NOTICES)
		o->notices[o->nnotices++] = text;
}

/*
 * --namespace NAME (as `ip netns add NAME` makes it) or --namespace-pid
 * PID: the path of the network namespace to enter, into o->netns.  Only
 * one of them, once: two namespaces cannot both be the one we run in.
 */
static int
options_compat_netns(struct options *o, int opt, const char *arg, char *err,
    size_t errlen)
{
	char	path[128];
	size_t	i;

	if (o->netns != NULL)
		return options_fail(err, errlen, "--namespace and --namespace-pid "
		    "name one network namespace, once");
	if (opt == OPTIONS_OPT_NAMESPACE) {
		/* A name, not a path: it stays under /run/netns. */
		if (arg[0] == '\0' || strchr(arg, '/') != NULL ||
		    strcmp(arg, ".") == 0 || strcmp(arg, "..") == 0 ||
		    strlen(arg) > 64)
			return options_fail(err, errlen, "--namespace %.64s: "
			    "expected the name of a namespace in /run/netns",
			    arg);
		snprintf(path, sizeof(path), "/run/netns/%s", arg);
	} else {
		for (i = 0; arg[i] != '\0'; i++)
			if (arg[i] < '0' || arg[i] > '9')
				break;
		if (i == 0 || arg[i] != '\0' || i > 10 ||
		    strtoul(arg, NULL, 10) == 0)
			return options_fail(err, errlen, "--namespace-pid %.32s: "
			    "expected a process id", arg);
		snprintf(path, sizeof(path), "/proc/%s/ns/net", arg);
	}
	if ((o->netns = strdup(path)) == NULL)
		return options_nomem(err, errlen);
	return 0;
}

bool
options_compat_has(int opt)
{
	switch (opt) {
	case OPTIONS_OPT_METHOD:
	case OPTIONS_OPT_PYTHON:
	case OPTIONS_OPT_REMOTE_SHELL:
	case OPTIONS_OPT_NO_LATENCY_CONTROL:
	case OPTIONS_OPT_LATENCY_BUFFER_SIZE:
	case OPTIONS_OPT_WRAP:
	case OPTIONS_OPT_HOSTWATCH:
	case OPTIONS_OPT_NO_SUDO_PYTHONPATH:
	case OPTIONS_OPT_NAMESPACE:
	case OPTIONS_OPT_NAMESPACE_PID:
		return true;
	}
	return false;
}

int
options_compat_apply(struct options *o, int opt, const char *arg, char *err,
    size_t errlen)
{
	switch (opt) {
	case OPTIONS_OPT_METHOD:
		return options_compat_method(arg, err, errlen);
	case OPTIONS_OPT_PYTHON:
	case OPTIONS_OPT_NO_SUDO_PYTHONPATH:
		options_compat_notice(o, "sshuttle's --python and "
		    "--no-sudo-pythonpath are ignored: no Python runs on either "
		    "side (the remote side is cshuttle's static stub)");
		return 0;
	case OPTIONS_OPT_NO_LATENCY_CONTROL:
	case OPTIONS_OPT_LATENCY_BUFFER_SIZE:
		options_compat_notice(o, "sshuttle's --no-latency-control and "
		    "--latency-buffer-size are ignored: every connection has its "
		    "own flow control, so there is no trade-off to choose");
		return 0;
	case OPTIONS_OPT_WRAP:
		options_compat_notice(o, "sshuttle's --wrap is ignored: it tests "
		    "sshuttle's channel numbering, which cshuttle does not share");
		return 0;
	case OPTIONS_OPT_NAMESPACE:
	case OPTIONS_OPT_NAMESPACE_PID:
		return options_compat_netns(o, opt, arg, err, errlen);
	case OPTIONS_OPT_REMOTE_SHELL:
		return options_fail(err, errlen, "--remote-shell (sshuttle's "
		    "option, for Windows remotes) is not supported: cshuttle's "
		    "stub needs a POSIX /bin/sh on the remote host");
	case OPTIONS_OPT_HOSTWATCH:
		return options_fail(err, errlen, "--hostwatch is sshuttle's "
		    "internal option; cshuttle has no such helper");
	}
	return options_fail(err, errlen, "internal error: option %d", opt);
}
