/* SPDX-License-Identifier: ISC */
/*
 * hostkey.h - OpenSSH-style host key checking for the libssh2 transport.
 *
 * known_hosts files are read as OpenSSH reads them: the UserKnownHostsFile
 * list from the configuration plus the GlobalKnownHostsFile list (read,
 * never written); plain, wildcard (*, ?, !negation) and hashed (|1|) host
 * fields; "[host]:port" names when the port is not 22; @revoked entries;
 * @cert-authority entries are ignored (libssh2 1.10 has no certificate
 * support).  A missing file is an empty one; lines that cannot be parsed
 * are skipped, not fatal.
 *
 * HostKeyAlias: the key is looked up, and recorded, under the alias
 * alone (no port), never under the host name or address.  CheckHostIP:
 * the address's entry ("[addr]:port" when the port is not 22) is checked
 * too, as ssh does: recorded beside a new or known host's, and a key that
 * differs from it is refused, asked about, or warned about, as
 * StrictHostKeyChecking says.
 */
#ifndef CSHUTTLE_HOSTKEY_H
#define CSHUTTLE_HOSTKEY_H

#include <stdbool.h>
#include <stddef.h>

#include <libssh2.h>

#include "sshconfig.h"

enum hostkey_status {
	HOSTKEY_MATCH = 0,	/* recorded for this host */
	HOSTKEY_MISMATCH,	/* the host has a different key of this type */
	HOSTKEY_NOTFOUND,	/* no key of this type recorded for the host */
	HOSTKEY_REVOKED,	/* the key is listed as @revoked */
};

enum hostkey_action {
	HOSTKEY_ACCEPT = 0,	/* go on */
	HOSTKEY_ACCEPT_ADD,	/* record the key in known_hosts, go on */
	HOSTKEY_ASK,		/* ask the user on the terminal */
	HOSTKEY_REFUSE,
};

/* The decision table (pure): what to do with a key given its status, the
 * StrictHostKeyChecking setting and whether a terminal is available. */
enum hostkey_action hostkey_decide(enum hostkey_status st, enum sshcfg_strict strict,
	    bool can_ask);

/*
 * CheckHostIP's table (pure): the address's status `ip` beside the
 * host's `host` (already accepted, or about to be: MATCH or NOTFOUND).
 * HOSTKEY_ACCEPT: nothing to do; HOSTKEY_ACCEPT_ADD: record the address
 * beside the host; HOSTKEY_ASK: the keys differ, confirm on the
 * terminal; HOSTKEY_REFUSE: they differ under strict checking (or the
 * key is revoked for the address).  A difference under
 * StrictHostKeyChecking no is accepted with a warning (*warn set).
 */
enum hostkey_action hostkey_decide_ip(enum hostkey_status host, enum hostkey_status ip,
	    enum sshcfg_strict strict, bool can_ask, bool *warn);

/*
 * The names a key is looked up under (pure): `name` is HostKeyAlias, or
 * hostkey_lookup_name() of HostName and Port; `ipname` is the address's
 * lookup name when CheckHostIP applies (set, an address known, not a
 * loopback one, not the host name itself), else "".
 */
void	hostkey_names(const struct sshcfg *cfg, const char *addr, char *name,
	    size_t namelen, char *ipname, size_t ipnamelen);

/*
 * The status of the key (its type name, as in known_hosts, and its
 * base64) for `name` in the files; `where` gets "file:line" of a
 * mismatch or revocation ("" else).  Unreadable and missing files count
 * as empty.
 */
enum hostkey_status hostkey_lookup(const char *const *files, int nfiles, const char *name,
	    const char *type, const char *b64, char *where, size_t wherelen);

/* "SHA256:<base64 without padding>" of a public key blob, as OpenSSH
 * prints it.  Returns 0, or -1 when out is too small. */
int	hostkey_fingerprint(const unsigned char *blob, size_t len, char *out, size_t outlen);

/* An answer to "continue connecting (yes/no/[fingerprint])?": 1 accept,
 * 0 refuse, -1 not understood (ask again). */
int	hostkey_answer(const char *answer, const char *fingerprint);

/* The name known_hosts records: "host" for port 22, else "[host]:port";
 * lower-cased. */
void	hostkey_lookup_name(const char *host, int port, char *out, size_t outlen);

/* Does a known_hosts host field (comma-separated patterns, or one
 * |1|salt|hash) match `name` (already lower-cased)? */
bool	hostkey_host_matches(const char *field, const char *name);

/*
 * Key types (e.g. "ssh-ed25519,ecdsa-sha2-nistp256") recorded for `name`
 * in the given files, in file order, without duplicates.  out is "" when
 * none.
 */
void	hostkey_known_types(const char *const *files, int nfiles, const char *name,
	    char *out, size_t outlen);

/*
 * Before the handshake: make libssh2 prefer the host key algorithms that
 * known_hosts already has for this host (libssh2 would otherwise pick
 * ECDSA even when only the Ed25519 key is known).
 */
void	hostkey_prefer(LIBSSH2_SESSION *s, const struct sshcfg *cfg);

/*
 * After the handshake: check the server's key and act on the result
 * (asking on /dev/tty or adding to the first UserKnownHostsFile when the
 * configuration says so).  `addr` is the numeric address connected to,
 * for the prompt (may be NULL).  With `batch` nothing is asked (a
 * reconnect, from the worker thread): an unknown key is then refused
 * where a terminal would have been asked.  Returns 0 when the key is
 * accepted, or -1 with a one-line reason in err.
 */
int	hostkey_verify(LIBSSH2_SESSION *s, const struct sshcfg *cfg, const char *addr,
	    bool batch, char *err, size_t errlen);

#endif
