/* SPDX-License-Identifier: ISC */
/*
 * ssh2_auth.h - authenticating a libssh2 session with public keys: the
 * ssh-agent's identities (IdentityAgent, IdentitiesOnly), then each
 * IdentityFile, asking for passphrases on the terminal unless batch.
 * Private to the built-in transport (transport_ssh2.c).
 */
#ifndef CSHUTTLE_SSH2_AUTH_H
#define CSHUTTLE_SSH2_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <libssh2.h>

struct sshcfg;

/*
 * Authenticate s (blocking mode, after the host key check) as cfg->user.
 * 0 when the server accepted a key (or "none"), or -1 with a one-line
 * reason in err naming the keys tried.  The caller tells a refusal from
 * a broken link by the session's last error.
 */
int	ssh2_auth_run(LIBSSH2_SESSION *s, const struct sshcfg *cfg, bool batch,
	    char *err, size_t errlen);

#endif
