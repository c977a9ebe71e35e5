/* SPDX-License-Identifier: ISC */
/*
 * sshconfig_priv.h - what the parts of the ssh configuration resolver
 * share, private to ssh/sshconfig*.c: the values found before defaults
 * and expansion, and the two ways of finding them.  `ssh -G`
 * (sshconfig_run.c) is the authority; our own reader of the files
 * (sshconfig_file.c) stands in when there is no ssh.  Both feed
 * sshcfg_apply(); sshconfig.c turns the result into a struct sshcfg.
 *
 * Functions return 0, or -1 with a one-line reason in err.
 */
#ifndef CSHUTTLE_SSHCONFIG_PRIV_H
#define CSHUTTLE_SSHCONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "sshconfig.h"

#define SSHCFG_MAX_LINE		8192
#define SSHCFG_MAX_ARGS		64
#define SSHCFG_MAX_PATH		4096

/* Values as found, before defaults and expansion; -1 / NULL = unset. */
struct sshcfg_raw {
	char		*hostname;
	char		*user;
	char		*proxy_jump;
	char		*proxy_command;
	char		*identity_agent;
	int		 port;
	int		 identities_only;
	int		 strict;
	int		 connect_timeout;
	bool		 known_hosts_set;
	char		*known_hosts[SSHCFG_MAX_KNOWNHOSTS];
	int		 nknown_hosts;
	char		*identity[SSHCFG_MAX_IDENTITIES];
	int		 nidentity;
	int		 pubkey_auth, password_auth, kbdint_auth;
	char		*preferred_auth;
	int		 password_prompts;
	int		 batch_mode;
	char		*host_key_alias;
	bool		 global_known_hosts_set;
	char		*global_known_hosts[SSHCFG_MAX_KNOWNHOSTS];
	int		 nglobal_known_hosts;
	int		 check_host_ip;
};

/* The -r argument taken apart. */
struct sshcfg_remote {
	char		*user;		/* NULL when not given */
	char		*host;
	int		 port;		/* 0 when not given */
};

/* What the file reader matches Host and Match lines against. */
struct sshcfg_target {
	const struct sshcfg_remote *remote;
	const char	*local_user;
	const char	*home;
	bool		 user_file;	/* relative Include: ~/.ssh, else /etc/ssh */
};

/* sshconfig.c */

/* Format the reason into err (if any) and return -1. */
#define sshcfg_fail(err, errlen, ...)	err_set(err, errlen, -1, __VA_ARGS__)
/*
 * Apply one "keyword arguments" line.  `av` holds the arguments split on
 * white space (quotes removed when reading a file); `rest` is everything
 * after the keyword as written.  `from_ssh` is set for ssh -G output,
 * where a value is always the whole rest of the line.  The first value
 * obtained wins; keywords we do not need are ignored.  Returns 0, or -1
 * with a reason in why.
 */
int	sshcfg_apply(struct sshcfg_raw *raw, const char *key, char **av, int ac,
	    const char *rest, bool from_ssh, char *why, size_t whylen);

/* sshconfig_file.c */

/*
 * Read one file into raw.  Options before the first Host/Match line
 * apply to every host; a Host or Match line decides whether the lines up
 * to the next one apply.  A missing file is an error only when
 * `must_exist`.  depth counts Include nesting (0 for a top-level file).
 * Errors read "ssh config FILE line N: ...".
 */
int	sshcfg_file_read(struct sshcfg_raw *raw, const struct sshcfg_target *t,
	    const char *path, bool must_exist, int depth, char *err, size_t errlen);

/* sshconfig_run.c */

/* The first executable `ssh` on $PATH into buf; false when there is none. */
bool	sshcfg_run_find(char *buf, size_t len);
/*
 * Run `ssh -G` (the program at path ssh) for r and apply what it prints
 * to raw.  Bounded in time and output; errors start with "ssh -G".
 */
int	sshcfg_run(const char *ssh, const struct sshcfg_remote *r,
	    const char *config_file, struct sshcfg_raw *raw, char *err, size_t errlen);

#endif
