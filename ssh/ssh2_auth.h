/* SPDX-License-Identifier: ISC */
/*
 * ssh2_auth.h - logging a libssh2 session in, as ssh would: public keys
 * (the ssh-agent's identities as IdentityAgent and IdentitiesOnly say,
 * then each IdentityFile, asking for passphrases on the terminal unless
 * batch), keyboard-interactive and password, in the order of
 * PreferredAuthentications, each as PubkeyAuthentication,
 * KbdInteractiveAuthentication and PasswordAuthentication allow, with
 * NumberOfPasswordPrompts tries.  Passwords and answers come from -r
 * user:password@host, or from the user (prompt.h); BatchMode, a daemon
 * (unattended) and a reconnect without ask_password never ask.
 * Private to the built-in transport (transport_ssh2.c); the pure helpers
 * are here for the tests.
 */
#ifndef CSHUTTLE_SSH2_AUTH_H
#define CSHUTTLE_SSH2_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <libssh2.h>

struct sshcfg;
struct transport_open_opts;

#define SSH2_AUTH_FAILED	(-1)	/* see ssh2_auth_run() */
#define SSH2_AUTH_REFUSED	(-2)

/* The methods the built-in client knows. */
enum ssh2_method {
	SSH2_M_PUBKEY = 0,
	SSH2_M_KBDINT,
	SSH2_M_PASSWORD,
	SSH2_M_COUNT
};

#define SSH2_AUTH_ORDER	"publickey,keyboard-interactive,password"	/* ssh's, less
							 * what libssh2 lacks */

/*
 * The methods to try, in order, into out (at most SSH2_M_COUNT): those
 * PreferredAuthentications names (SSH2_AUTH_ORDER without it) that the
 * configuration allows and the server offers (`offered`: its comma-
 * separated list).  Returns how many.
 */
int	ssh2_auth_methods(const struct sshcfg *cfg, const char *offered,
	    enum ssh2_method *out);

/* Does the server's banner say OpenSSH 8.8 or later, which refuses RSA
 * signatures made with SHA-1 (all libssh2 1.10 can make)? */
bool	ssh2_auth_refuses_ssh_rsa(const char *banner);

/*
 * Authenticate s (blocking mode, after the host key check) as cfg->user.
 * 0 when the server accepted us (or "none"); SSH2_AUTH_REFUSED when it
 * refused a password or answers we sent (a verdict on them, however the
 * link fares afterwards); SSH2_AUTH_FAILED for anything else, the caller
 * telling a refusal from a broken link by the session's last error.
 * Either failure leaves a one-line reason in err naming what was tried,
 * what libssh2 1.10 cannot do (RSA with rsa-sha2, certificates, FIDO
 * keys: `-e ssh` can), or why nobody could be asked.
 */
int	ssh2_auth_run(LIBSSH2_SESSION *s, const struct sshcfg *cfg,
	    const struct transport_open_opts *o, char *err, size_t errlen);

#endif
