/* SPDX-License-Identifier: ISC */
/*
 * sshconfig.h - what OpenSSH's configuration says about one destination.
 *
 * Resolved with `ssh -G` when OpenSSH is installed (so Match, Include,
 * tokens and defaults behave exactly as ssh's), otherwise by reading the
 * configuration file directly.
 */
#ifndef CSHUTTLE_SSHCONFIG_H
#define CSHUTTLE_SSHCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define SSHCFG_MAX_IDENTITIES	16
#define SSHCFG_MAX_KNOWNHOSTS	8

enum sshcfg_strict {
	SSHCFG_STRICT_ASK = 0,		/* OpenSSH default */
	SSHCFG_STRICT_YES,
	SSHCFG_STRICT_NO,
	SSHCFG_STRICT_ACCEPT_NEW,
};

struct sshcfg {
	char		*alias;		/* what the user typed after -r (no user@/:port) */
	char		*hostname;	/* HostName, or the alias */
	char		*user;		/* User, or the local user name */
	int		 port;		/* Port, default 22 */
	char		*identity[SSHCFG_MAX_IDENTITIES];	/* IdentityFile, ~ expanded */
	int		 nidentity;
	bool		 identities_only;
	char		*known_hosts[SSHCFG_MAX_KNOWNHOSTS];	/* UserKnownHostsFile, ~ expanded */
	int		 nknown_hosts;
	enum sshcfg_strict strict;
	int		 connect_timeout;	/* seconds, 0 = none */
	char		*proxy_jump;	/* non-NULL: libssh2 cannot do it */
	char		*proxy_command;	/* likewise */
	char		*identity_agent;	/* IdentityAgent, NULL = $SSH_AUTH_SOCK; "none" disables */
	/* authentication; as for the rest, zero is OpenSSH's default */
	bool		 no_pubkey;		/* PubkeyAuthentication no */
	bool		 no_password;		/* PasswordAuthentication no */
	bool		 no_kbdint;		/* KbdInteractiveAuthentication no */
	char		*preferred_auth;	/* PreferredAuthentications as written,
						 * NULL: OpenSSH's order */
	int		 password_prompts;	/* NumberOfPasswordPrompts (resolved: 3
						 * unless set; 0 in a struct made by
						 * hand: no password asked) */
	bool		 batch_mode;		/* BatchMode: never ask (no) */
	/* host keys */
	char		*host_key_alias;	/* HostKeyAlias, NULL */
	char		*global_known_hosts[SSHCFG_MAX_KNOWNHOSTS];	/* GlobalKnownHostsFile,
						 * ~ expanded; read, never written
						 * (resolved: /etc/ssh/ssh_known_hosts
						 * and ..._hosts2 unless set) */
	int		 nglobal_known_hosts;
	bool		 check_host_ip;		/* CheckHostIP (no, as OpenSSH 8.5 on) */
};

/*
 * Resolve the configuration for the -r argument `remote`
 * ("[user@]host[:port]").  `config_file` is --ssh-config (NULL for the
 * default ~/.ssh/config).  Command-line user/port override the file.
 * Returns 0, or -1 with a one-line reason in err.
 */
int	sshcfg_resolve(struct sshcfg *cfg, const char *remote, const char *config_file,
	    char *err, size_t errlen);
void	sshcfg_free(struct sshcfg *cfg);

#define SSHCFG_F_NO_SSH		(1U << 0)	/* never run ssh -G: read the file(s) */

/*
 * sshcfg_resolve() with flags.  Without `ssh` on PATH, or with
 * SSHCFG_F_NO_SSH, the configuration is read directly: `config_file`
 * alone when given, else ~/.ssh/config then /etc/ssh/ssh_config.  That
 * reader knows Host, Match (all, host, originalhost, user, localuser),
 * Include and the keywords of struct sshcfg; it reports errors as
 * "ssh config FILE line N: ...".
 */
int	sshcfg_resolve_ex(struct sshcfg *cfg, const char *remote,
	    const char *config_file, unsigned int flags, char *err, size_t errlen);

#endif
