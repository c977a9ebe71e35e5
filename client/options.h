/* SPDX-License-Identifier: ISC */
/*
 * options.h - the cshuttle command line (sshuttle-compatible subset).
 *
 * Arguments come from, in order: the words of $CSHUTTLE_ARGS, then
 * argv[1..].  Any argument "@FILE" (before a "--") is replaced by the
 * lines of FILE, one argument per line.
 *
 * With --config FILE (anywhere among them), the configuration file
 * (config.h, cshuttle.conf(5)) is applied first and the arguments on top:
 * an option given as an argument overrides the file's key, and for the
 * lists (subnets, excludes, listen, ns-hosts, to-ns, dns-domains) replaces
 * every value the file gives.
 *
 * Relative paths in arguments are taken relative to the working
 * directory of the first options_parse() call, relative paths in the
 * file relative to the file's directory; ssh_config, pidfile and config
 * are stored absolute.  So options_parse() on the same argv gives the
 * same result after a chdir("/"), which is what SIGHUP's reload does.
 *
 * Parsing never resolves a host name, so it never blocks: a name given
 * as a subnet or to --ns-hosts is kept (struct options_name) until the
 * caller resolves them all with options_resolve() and a resolver of its
 * choice (resolve.h: at start-up, and in the reload's thread).
 *
 * The module's files: options.c (the option table, the getopt loop, what
 * each option does, the host names), options_args.c (assembling the
 * arguments: $CSHUTTLE_ARGS, @files, -s/-X files), options_config.c (what
 * each configuration key means), options_net.c (listen addresses, DNS
 * servers and domains), options_compat.c (sshuttle's options without a
 * cshuttle equivalent), options_usage.c (--help); options_int.h is what
 * they share.
 */
#ifndef CSHUTTLE_OPTIONS_H
#define CSHUTTLE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "exitcode.h"
#include "fw.h"
#include "subnet.h"


#define OPTIONS_MAX_LISTEN	8	/* -l addresses (FW_MAX_LISTEN) */
#define OPTIONS_MAX_ARGFILE_DEPTH 4	/* @file inside @file inside ... */
#define OPTIONS_ENV		"CSHUTTLE_ARGS"
#define OPTIONS_MAX_NS		8	/* --ns-hosts and --to-ns, each */
#define OPTIONS_MAX_DNS_DOMAINS	64
#define OPTIONS_MAX_SEEDS	64	/* --seed-hosts items (PROTO_SEEDS_MAX) */
#define OPTIONS_ALIVE_INTERVAL_MS 5000	/* --alive-interval default */
#define OPTIONS_ALIVE_TIMEOUT_MS 15000	/* --alive-timeout default */
#define OPTIONS_ALIVE_MAX_S	3600	/* both: 1 to this many seconds */
#define OPTIONS_PROBE_TIMEOUT_MS 1500	/* --probe-timeout default */
#define OPTIONS_RESUME_GRACE_S	120	/* --resume-grace default */
#define OPTIONS_RESUME_GRACE_MAX 86400	/* --resume-grace: 0 to this */
#define OPTIONS_PROBE_MIN_MS	100	/* --probe-timeout: 0, or this ... */
#define OPTIONS_PROBE_MAX_S	60	/* ... to this many seconds */
#define OPTIONS_BUDGET_MIN	(64UL * 1024)		/* --buffer-budget range */
#define OPTIONS_BUDGET_MAX	(1024UL * 1024 * 1024 * 1024)
#define OPTIONS_MAX_STREAMS_MAX	16777216		/* --max-streams: 1 to this */
#define OPTIONS_UDP_TIMEOUT_MAX	86400UL			/* --udp-timeout: 1 to this */
#define OPTIONS_UDP_FLOWS_MAX	65536UL			/* --max-udp-flows: 1 to this */
#define OPTIONS_MAX_NOTICES	5	/* options_compat.c's distinct notices */

/* What a host name stands for. */
enum options_name_use {
	OPTIONS_NAME_SUBNET,	/* an unresolved entry of subnets */
	OPTIONS_NAME_NS_HOST,	/* --ns-hosts: its addresses go before
				 * ns_hosts[at] */
	OPTIONS_NAME_LISTEN,	/* -l HOST:PORT: its addresses are listen
				 * addresses, with port `at` */
};

/* A host name given where an address may stand, not resolved yet. */
struct options_name {
	char			*name;
	enum options_name_use	 use;
	int			 at;		/* OPTIONS_NAME_NS_HOST, _LISTEN */
	bool			 check_only;	/* from a list of the file that the
						 * command line replaced: it must
						 * resolve, but is not used */
	char			*where;		/* "" or where it was given, as a
						 * parse error would name it:
						 * "FILE:LINE: ", "subnet file
						 * \"F\" line N: " */
};

struct options {
	char		*remote;	/* -r [user@]host[:port], NULL without one
					 * (a password given as user:pw@ is not
					 * kept here, but in remote_password) */
	char		*remote_password; /* -r user:PASSWORD@host, NULL without */
	bool		 remote_password_argv;	/* ... given on the command line, where
					 * ps shows it */
	char		*name;		/* --name: the tunnel's name for `cshuttle
					 * status`, NULL: the default (control.h) */
	struct subnet_list subnets;	/* includes and excludes (exclude=true):
					 * -x/-X/-s ones in the order given, then
					 * the positional subnets; host names stay
					 * unresolved entries until
					 * options_resolve() */
	struct addr	 listen[OPTIONS_MAX_LISTEN];	/* where the redirected
							 * connections are accepted,
							 * distinct hosts; -l HOST's
							 * addresses after
							 * options_resolve() */
	int		 nlisten;	/* default: 127.0.0.1 and ::1, port 0 */
	uint16_t	 listen_port;	/* the port every listener shares: the
					 * first non-zero one -l gives, 0: pick
					 * a free one */
	struct fw_allow	 allow[FW_MAX_ALLOW];	/* --allow-from: the LAN sources
						 * served (none: netinfo's default) */
	int		 nallow;
	int		 verbose;	/* number of -v */
	bool		 quiet;		/* -q: errors and warnings only */
	char		*ssh_cmd;	/* -e: run this instead of libssh2 */
	char		*ssh_config;	/* --ssh-config FILE */
	bool		 no_ipv6;	/* --no-ipv6: leave IPv6 traffic alone */
	bool		 auto_nets;	/* -N: forward the remote's own networks too */
	bool		 auto_hosts;	/* -H: resolve the remote's host names
					 * (--seed-hosts sets it too) */
	char		**seed_hosts;	/* --seed-hosts: names (lower case, no
					 * final dot) and addresses (canonical
					 * text) the stub looks up; NULL without */
	int		 nseed_hosts;
	bool		 stub_cache;	/* --stub-cache: keep the stub on the remote */
	char		*remote_tmpdir;	/* --remote-tmpdir DIR: try it first */
	bool		 dns;		/* --dns: capture the resolv.conf servers */
	struct addr	 ns_hosts[OPTIONS_MAX_NS];	/* --ns-hosts: capture these too
							 * (the addresses, port 53;
							 * names wait in names) */
	int		 nns_hosts;
	struct addr	 to_ns[OPTIONS_MAX_NS];	/* --to-ns: the remote asks these */
	int		 nto_ns;
	char		**dns_domains;	/* --dns-domains: normalised (lower case,
					 * no final dot); NULL without */
	int		 ndns_domains;
	bool		 no_block_leaks; /* --no-block-leaks */
	bool		 no_udp;	/* --no-udp: carry TCP (and captured DNS) only */
	unsigned	 udp_timeout_s;	/* --udp-timeout, 0: UDP_DEFAULT_TIMEOUT_S */
	unsigned	 max_udp_flows;	/* --max-udp-flows, 0: UDP_DEFAULT_MAX_FLOWS */
	uint32_t	 tmark;		/* -t/--tmark: the mark (and routing table)
					 * of carried UDP, 0: the helper's own
					 * (fw_config.tmark) */
	char		*user;		/* --user USER: only that user's traffic
					 * (root only; a name or a uid, looked
					 * up at start), NULL without */
	char		*group;		/* --group GROUP: likewise */
	bool		 host_wide;	/* --host-wide: every local user's
					 * traffic (root's default) */
	char		*privsep_user;	/* --privsep-user USER: who runs the
					 * data path of a root run (privsep.h);
					 * NULL: "cshuttle", else "nobody" */
	bool		 daemon;	/* -D: detach once the tunnel is up */
	char		*pidfile;	/* --pidfile FILE (absolute), NULL without */
	char		*netns;		/* --namespace NAME (/run/netns/NAME) or
					 * --namespace-pid PID (/proc/PID/ns/net):
					 * the network namespace main() enters
					 * first (root only); NULL without */
	bool		 syslog;	/* --syslog (-D does not set it here) */
	bool		 no_reconnect;	/* --no-reconnect: exit when the session dies */
	int		 alive_interval_ms; /* --alive-interval, in ms */
	int		 alive_timeout_ms; /* --alive-timeout, in ms; > interval */
	int		 probe_timeout_ms; /* --probe-timeout, in ms; 0: no probes */
	unsigned	 resume_grace_s; /* --resume-grace; 0: no resume */
	uint32_t	 max_streams;	/* --max-streams, 0: the default
					 * (mux_max_streams_default) */
	size_t		 buffer_budget;	/* --buffer-budget in bytes, 0: the
					 * default (TUNNEL_BUDGET_CAP) */
	char		*config;	/* --config FILE (absolute), NULL without */
	bool		 firewall;	/* --firewall, not as the first argument
					 * (main.c decides that one first) */
	bool		 sudoers;	/* --sudoers, likewise */
	bool		 sudoers_print;	/* --sudoers-no-modify (sshuttle's): the
					 * caller prints the sudoers rule for
					 * sudoers_user (NULL: as --sudoers) */
	char		*sudoers_user;	/* --sudoers-user USER, NULL without */
	bool		 no_cmd_delimiter; /* --no-cmd-delimiter: no "--" before
					 * the host in -e's command */
	const char	*notices[OPTIONS_MAX_NOTICES];	/* one line each, for the
					 * caller to log: sshuttle's options
					 * that mean nothing here (static
					 * strings) */
	int		 nnotices;
	bool		 show_help;	/* -h: caller prints options_usage() */
	bool		 show_version;	/* --version */
	struct options_name *names;	/* host names to resolve, in the order
					 * given; none after options_resolve() */
	size_t		 nnames;
};

/*
 * Fill *o from $CSHUTTLE_ARGS, argv and the --config file.  Returns
 * CSHUTTLE_EXIT_OK, or the exit code the caller should use
 * (CSHUTTLE_EXIT_USAGE for anything the user got wrong, in the file too,
 * CSHUTTLE_EXIT_FAIL when memory ran out) with a one-line message in err,
 * without a program-name prefix; problems in the file read "FILE:LINE:
 * problem" or "FILE: problem".  *o is always safe to pass to
 * options_free(), whatever the result.  The file is not read with
 * --help, --version or --firewall.  Host names are kept, not resolved
 * (o->names).
 */
int	options_parse(struct options *o, int argc, char **argv,
	    char *err, size_t errlen);
/*
 * options_parse() with `text` standing for the configuration file, as if
 * --config named a file with that content (`name` is used in messages and
 * stored in o->config; relative paths in it are taken as on the command
 * line).  For tests and the fuzzer.
 */
int	options_parse_text(struct options *o, const char *name,
	    const char *text, size_t len, int argc, char **argv,
	    char *err, size_t errlen);
/*
 * Resolve every name in o->names with fn (subnet.h's resolver type: at
 * most `max` addresses of a name, 0 or -1 with a reason), in the order
 * given: each subnet name becomes one host subnet per address in its
 * place, each --ns-hosts name its addresses (port 53) in its place,
 * duplicates dropped.  Each distinct name is asked once.  Returns
 * CSHUTTLE_EXIT_OK with o->nnames 0, or CSHUTTLE_EXIT_USAGE with the
 * message a parse error at that place would give ("FILE:LINE: cannot
 * resolve host \"x\": why", "--ns-hosts: more than 8 servers"), or
 * CSHUTTLE_EXIT_FAIL when memory ran out; o is then unchanged.
 */
int	options_resolve(struct options *o, subnet_resolve_fn *fn, void *arg,
	    char *err, size_t errlen);
/* The --help text. */
void	options_usage(FILE *f);
void	options_free(struct options *o);

#endif
