/* SPDX-License-Identifier: ISC */
/*
 * options_int.h - what the files of the options module share (options.h
 * lists them); no other module includes it.
 *
 * Errors follow options_parse(): CSHUTTLE_EXIT_USAGE with a one-line
 * message in err for anything the user got wrong, CSHUTTLE_EXIT_FAIL when
 * memory ran out, 0 otherwise.
 */
#ifndef CSHUTTLE_OPTIONS_INT_H
#define CSHUTTLE_OPTIONS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"
#include "options.h"

/* getopt_long()'s values of the long-only options, after every short
 * option's character. */
enum {
	OPTIONS_OPT_SSH_CONFIG = 256,
	OPTIONS_OPT_VERSION,
	OPTIONS_OPT_FIREWALL,
	OPTIONS_OPT_NO_IPV6,
	OPTIONS_OPT_STUB_CACHE,
	OPTIONS_OPT_REMOTE_TMPDIR,
	OPTIONS_OPT_DNS,
	OPTIONS_OPT_NS_HOSTS,
	OPTIONS_OPT_TO_NS,
	OPTIONS_OPT_DNS_DOMAINS,
	OPTIONS_OPT_NO_BLOCK_LEAKS,
	OPTIONS_OPT_PIDFILE,
	OPTIONS_OPT_SYSLOG,
	OPTIONS_OPT_NO_RECONNECT,
	OPTIONS_OPT_ALIVE_INTERVAL,
	OPTIONS_OPT_ALIVE_TIMEOUT,
	OPTIONS_OPT_PROBE_TIMEOUT,
	OPTIONS_OPT_RESUME_GRACE,
	OPTIONS_OPT_CONFIG,
	OPTIONS_OPT_USER,
	OPTIONS_OPT_GROUP,
	OPTIONS_OPT_HOST_WIDE,
	OPTIONS_OPT_ALLOW_FROM,
	OPTIONS_OPT_SUDOERS,
	OPTIONS_OPT_NAME,
	OPTIONS_OPT_PRIVSEP_USER,
	OPTIONS_OPT_MAX_STREAMS,
	OPTIONS_OPT_BUFFER_BUDGET,
	OPTIONS_OPT_NO_UDP,
	OPTIONS_OPT_UDP_TIMEOUT,
	OPTIONS_OPT_MAX_UDP_FLOWS,
	OPTIONS_OPT_SUDOERS_NO_MODIFY,	/* sshuttle's names (options_compat.c */
	OPTIONS_OPT_SUDOERS_USER,	/* for those without a field) */
	OPTIONS_OPT_NO_CMD_DELIMITER,
	OPTIONS_OPT_METHOD,
	OPTIONS_OPT_PYTHON,
	OPTIONS_OPT_REMOTE_SHELL,
	OPTIONS_OPT_SEED_HOSTS,
	OPTIONS_OPT_NO_LATENCY_CONTROL,
	OPTIONS_OPT_LATENCY_BUFFER_SIZE,
	OPTIONS_OPT_WRAP,
	OPTIONS_OPT_HOSTWATCH,
	OPTIONS_OPT_NO_SUDO_PYTHONPATH,
	OPTIONS_OPT_NAMESPACE,
	OPTIONS_OPT_NAMESPACE_PID,
	OPTIONS_OPT_SUBNET,	/* configuration file only: subnet(s) = ... */
	OPTIONS_OPT_END
};

/* A growable, NULL-terminated argument vector that owns its strings. */
struct options_args {
	char		**v;
	size_t		  n;
	size_t		  cap;
	bool		  dashdash;	/* "--" seen: no more @file expansion */
};

/* Parse state that lives only during options_parse(). */
struct options_state {
	int		 listen_port_only;	/* -l PORT given: its port, else -1 */
	int		 nlisten_explicit;
	bool		 in_file;		/* applying the configuration file */
};

/* ---- options.c ---- */

/* A usage error: the message in err, returns CSHUTTLE_EXIT_USAGE. */
#define options_fail(err, errlen, ...) \
	err_set(err, errlen, CSHUTTLE_EXIT_USAGE, __VA_ARGS__)
/* "out of memory" in err, returns CSHUTTLE_EXIT_FAIL. */
int	options_nomem(char *err, size_t errlen);
/* The working directory of the first options_parse() call (NULL when it
 * could not be found): where relative paths on the command line start. */
const char *options_base(void);
/* One option that takes an argument, from the command line or the file;
 * relative paths are taken relative to base. */
int	options_apply(struct options *o, struct options_state *st, int opt,
	    const char *arg, const char *base, char *err, size_t errlen);
/* The field behind an option that takes no argument, NULL for others. */
bool	*options_flag(struct options *o, int opt);
/* The list an option belongs to (the file's is replaced by the command
 * line's): -s and subnets for OPTIONS_OPT_SUBNET, -x for -X. */
int	options_group(int opt);
/* One subnet specification (a host name is kept for options_resolve()). */
int	options_subnet(struct options *o, const char *spec, bool exclude,
	    char *err, size_t errlen);
/* Keep a host name for options_resolve(). */
int	options_name_add(struct options *o, const char *name,
	    enum options_name_use use, int at, char *err, size_t errlen);
/* Move the names of `from` from index i0 on to the end of o's, as
 * check_only: the values of a list the command line replaces. */
int	options_name_take(struct options *o, struct options *from, size_t i0,
	    char *err, size_t errlen);
/* Put the formatted text before the `where` of every name from index
 * `from` on: callers that wrap the errors of what they parsed in "FILE:LINE:
 * " say the same for the names it kept. */
int	options_name_where(struct options *o, size_t from, char *err,
	    size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/* ---- options_args.c ---- */

/* argv[0], the words of $CSHUTTLE_ARGS, then argv[1..], every @FILE
 * replaced by its lines.  *a must be zeroed; options_args_free() it
 * whatever the result. */
int	options_args_build(struct options_args *a, int argc, char **argv,
	    char *err, size_t errlen);
void	options_args_free(struct options_args *a);
/* -s / -X FILE (relative to base): the subnets it lists. */
int	options_args_subnet_file(struct options *o, const char *base,
	    const char *arg, bool exclude, char *err, size_t errlen);

/* ---- options_compat.c ---- */

/* Whether opt is one of sshuttle's that options_compat_apply() answers
 * (the long ones without a field of their own). */
bool	options_compat_has(int opt);
/* Its answer: 0 when accepted, maybe with a notice kept in o->notices,
 * else a usage error naming it as sshuttle's and what to use instead.
 * arg is NULL for those without an argument. */
int	options_compat_apply(struct options *o, int opt, const char *arg,
	    char *err, size_t errlen);
/* Keep a notice (a static string) for the caller to log, once. */
void	options_compat_notice(struct options *o, const char *text);

/* ---- options_config.c ---- */

/* Every line of the file, in order, through options_apply(); the first
 * problem stops it ("FILE:LINE: problem").  given[] says which groups the
 * command line gives: those lines are checked, but their values dropped. */
int	options_config_apply(struct options *o, struct options_state *st,
	    const struct config *cfg, const bool *given, char *err, size_t errlen);

/* ---- options_net.c ---- */

/* -l: a comma-separated list of PORT, IPV4[:PORT], [IPV6][:PORT] or
 * HOST:PORT (the name kept for options_resolve()). */
int	options_net_listen(struct options *o, struct options_state *st,
	    const char *arg, char *err, size_t errlen);
/* After all -l: the listeners not given explicitly. */
int	options_net_listen_finish(struct options *o, struct options_state *st,
	    char *err, size_t errlen);
/* --ns-hosts, --to-ns, --dns-domains: comma-separated lists. */
int	options_net_ns_hosts(struct options *o, const char *arg, char *err,
	    size_t errlen);
int	options_net_to_ns(struct options *o, const char *arg, char *err,
	    size_t errlen);
int	options_net_dns_domains(struct options *o, const char *arg, char *err,
	    size_t errlen);
/* --seed-hosts: host names and IP addresses separated by commas or white
 * space (sshuttle's form), each kept once, OPTIONS_MAX_SEEDS at most. */
int	options_net_seed_hosts(struct options *o, const char *arg, char *err,
	    size_t errlen);
/* Append a server to a list of at most OPTIONS_MAX_NS, skipping
 * duplicates; opt names the list in the error. */
int	options_net_ns_add(struct addr *list, int *n, const struct addr *ns,
	    const char *opt, char *err, size_t errlen);

#endif
