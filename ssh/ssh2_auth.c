/* SPDX-License-Identifier: ISC */
/*
 * ssh2_auth.c - public key authentication for the built-in transport
 * (see ssh2_auth.h): the agent's identities first, then the identity
 * files, as OpenSSH orders them.
 *
 * A key file's type, public blob and whether it is encrypted are read
 * without decrypting it, so that IdentitiesOnly can pick agent keys by
 * their blob, an encrypted key is skipped when nobody can type its
 * passphrase, and a failure can say which keys were tried.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>
#include <openssl/evp.h>

#include "buf.h"
#include "log.h"
#include "ssh2_auth.h"
#include "sshconfig.h"
#include "tty.h"

#define SSH2_PASSPHRASE_TRIES	3
#define SSH2_KEYFILE_MAX	(64 * 1024)
#define SSH2_BLOB_MAX		8192
#define SSH2_RSA_HINT	\
	"; libssh2 1.10 cannot sign with rsa-sha2: use an Ed25519/ECDSA key or `-e ssh`"

/* What we know about one IdentityFile. */
struct ssh2_key {
	const char	*path;
	char		 pub[4096];		/* path + ".pub" when that exists */
	char		 type[64];		/* "ssh-ed25519", "" if unknown */
	unsigned char	 blob[SSH2_BLOB_MAX];	/* public key, for IdentitiesOnly */
	size_t		 bloblen;
	bool		 encrypted;
};

struct ssh2_tried {
	char	list[512];
	int	n, nrsa;
};

static void
ssh2_auth_lasterr(LIBSSH2_SESSION *s, char *out, size_t outlen)
{
	char	*msg = NULL;
	int	 len = 0;

	if (libssh2_session_last_error(s, &msg, &len, 0) == 0 || msg == NULL)
		snprintf(out, outlen, "unknown error");
	else
		snprintf(out, outlen, "%s", msg);
}

/* The key type name at the start of a public key blob. */
static void
ssh2_blob_type(const unsigned char *blob, size_t len, char *out, size_t outlen)
{
	uint32_t	n;

	out[0] = '\0';
	if (len < 4 || (n = buf_get_u32(blob)) > len - 4 || n >= outlen)
		return;
	memcpy(out, blob + 4, n);
	out[n] = '\0';
}

/* Base64 without whitespace or with it (PEM bodies); returns the length. */
static int
ssh2_unb64(const char *in, size_t inlen, unsigned char *out, size_t outlen, size_t *n)
{
	char	*clean;
	size_t	 i, m = 0, pad = 0;
	int	 r;

	if ((clean = malloc(inlen + 1)) == NULL)
		return -1;
	for (i = 0; i < inlen; i++)
		if (in[i] != '\n' && in[i] != '\r' && in[i] != ' ' && in[i] != '\t')
			clean[m++] = in[i];
	clean[m] = '\0';
	if (m == 0 || m % 4 != 0 || 3 * (m / 4) > outlen) {
		free(clean);
		return -1;
	}
	pad = (clean[m - 1] == '=') + (clean[m - 2] == '=');
	r = EVP_DecodeBlock(out, (unsigned char *)clean, (int)m);
	free(clean);
	if (r < 0)
		return -1;
	*n = (size_t)r - pad;
	return 0;
}

static char *
ssh2_slurp(const char *path, size_t *len)
{
	char	*buf;
	ssize_t	 n;
	size_t	 off = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if ((buf = malloc(SSH2_KEYFILE_MAX + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (off < SSH2_KEYFILE_MAX && (n = read(fd, buf + off, SSH2_KEYFILE_MAX - off)) > 0)
		off += (size_t)n;
	close(fd);
	buf[off] = '\0';
	*len = off;
	return buf;
}

/*
 * Learn a key file's type, public blob and whether it is encrypted
 * without decrypting it: OpenSSH-format keys keep the public key in
 * clear; PEM keys say "ENCRYPTED"; a .pub file beside wins.
 */
static void
ssh2_key_info(struct ssh2_key *k)
{
	static const char	 beg[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	static const char	 end[] = "-----END OPENSSH PRIVATE KEY-----";
	unsigned char		*raw = NULL, *p;
	char			*text, *b, *e, *sp;
	size_t			 len, rawlen, left, i;
	uint32_t		 n;
	struct stat		 st;

	snprintf(k->pub, sizeof(k->pub), "%s.pub", k->path);
	if (stat(k->pub, &st) != 0)
		k->pub[0] = '\0';
	if ((text = ssh2_slurp(k->path, &len)) == NULL)
		return;
	if ((b = strstr(text, beg)) != NULL && (e = strstr(b, end)) != NULL) {
		b += sizeof(beg) - 1;
		if ((raw = malloc(SSH2_KEYFILE_MAX)) != NULL &&
		    ssh2_unb64(b, (size_t)(e - b), raw, SSH2_KEYFILE_MAX, &rawlen) == 0 &&
		    rawlen > 15 && memcmp(raw, "openssh-key-v1", 15) == 0) {
			/* ciphername, kdfname, kdfoptions, nkeys, first public key */
			p = raw + 15;
			left = rawlen - 15;
			for (i = 0; i < 3; i++) {
				if (left < 4 || (n = buf_get_u32(p)) > left - 4)
					goto done;
				if (i == 0)
					k->encrypted = !(n == 4 && memcmp(p + 4, "none", 4) == 0);
				p += 4 + n;
				left -= 4 + n;
			}
			if (left < 8)
				goto done;
			p += 4;
			left -= 4;
			if ((n = buf_get_u32(p)) <= left - 4 && n <= sizeof(k->blob)) {
				memcpy(k->blob, p + 4, n);
				k->bloblen = n;
				ssh2_blob_type(k->blob, n, k->type, sizeof(k->type));
			}
		}
	} else {
		if (strstr(text, "ENCRYPTED") != NULL)
			k->encrypted = true;
		if (strstr(text, "BEGIN RSA PRIVATE KEY") != NULL)
			snprintf(k->type, sizeof(k->type), "ssh-rsa");
		else if (strstr(text, "BEGIN EC PRIVATE KEY") != NULL)
			snprintf(k->type, sizeof(k->type), "ecdsa");
		else if (strstr(text, "BEGIN DSA PRIVATE KEY") != NULL)
			snprintf(k->type, sizeof(k->type), "ssh-dss");
	}
done:
	free(raw);
	explicit_bzero(text, len);
	free(text);
	if (k->pub[0] == '\0' || (text = ssh2_slurp(k->pub, &len)) == NULL)
		return;
	/* "type base64 [comment]" */
	if ((sp = strchr(text, ' ')) != NULL) {
		*sp++ = '\0';
		b = sp;
		sp = b + strcspn(b, " \r\n");
		if (ssh2_unb64(b, (size_t)(sp - b), k->blob, sizeof(k->blob), &k->bloblen) == 0)
			ssh2_blob_type(k->blob, k->bloblen, k->type, sizeof(k->type));
		else
			k->bloblen = 0;
	}
	free(text);
}

static void
ssh2_tried_add(struct ssh2_tried *tr, const char *what, const char *type)
{
	size_t	len = strlen(tr->list);

	tr->n++;
	if (strcmp(type, "ssh-rsa") == 0)
		tr->nrsa++;
	if (len < sizeof(tr->list))
		snprintf(tr->list + len, sizeof(tr->list) - len, "%s%s", len ? ", " : "", what);
}

static bool
ssh2_key_wanted(const struct ssh2_key *keys, int nkeys, const unsigned char *blob, size_t len)
{
	int	i;

	for (i = 0; i < nkeys; i++)
		if (keys[i].bloblen == len && memcmp(keys[i].blob, blob, len) == 0)
			return true;
	return false;
}

/* 1 authenticated, 0 not (go on with files). */
static int
ssh2_auth_agent(LIBSSH2_SESSION *s, const struct sshcfg *cfg, const struct ssh2_key *keys,
    int nkeys, struct ssh2_tried *tr)
{
	LIBSSH2_AGENT			*agent;
	struct libssh2_agent_publickey	*id = NULL, *prev = NULL;
	const char			*path = NULL, *ia = cfg->identity_agent;
	char				 type[64], what[160], pathbuf[4096];
	int				 rc = 0;

	if (ia != NULL && strcmp(ia, "none") == 0)
		return 0;
	if (ia != NULL && strcmp(ia, "SSH_AUTH_SOCK") != 0) {
		if (ia[0] == '$')
			path = getenv(ia + 1);
		else if (strncmp(ia, "~/", 2) == 0 && getenv("HOME") != NULL) {
			snprintf(pathbuf, sizeof(pathbuf), "%s%s", getenv("HOME"), ia + 1);
			path = pathbuf;
		} else
			path = ia;
		if (path == NULL || *path == '\0')
			return 0;
	} else if (getenv("SSH_AUTH_SOCK") == NULL)
		return 0;
	if ((agent = libssh2_agent_init(s)) == NULL)
		return 0;
	if (path != NULL)
		libssh2_agent_set_identity_path(agent, path);
	if (libssh2_agent_connect(agent) != 0) {
		log_debug("cannot reach the ssh-agent%s%s", path ? " at " : "", path ? path : "");
		goto out;
	}
	if (libssh2_agent_list_identities(agent) != 0) {
		log_debug("cannot list the ssh-agent's keys");
		goto disconnect;
	}
	/* Every identity in turn: RSA ones fail against OpenSSH >= 8.8 with
	 * libssh2 1.10 (no rsa-sha2 signatures), the next may work. */
	while (libssh2_agent_get_identity(agent, &id, prev) == 0) {
		prev = id;
		if (cfg->identities_only && !ssh2_key_wanted(keys, nkeys, id->blob, id->blob_len))
			continue;
		ssh2_blob_type(id->blob, id->blob_len, type, sizeof(type));
		snprintf(what, sizeof(what), "agent key %s (%s)", id->comment && *id->comment ?
		    id->comment : "-", type);
		log_debug("trying %s", what);
		ssh2_tried_add(tr, what, type);
		if (libssh2_agent_userauth(agent, cfg->user, id) == 0) {
			log_debug("authenticated with %s", what);
			rc = 1;
			break;
		}
	}
disconnect:
	libssh2_agent_disconnect(agent);
out:
	libssh2_agent_free(agent);
	return rc;
}

/* 1 authenticated, 0 not. */
static int
ssh2_auth_file(LIBSSH2_SESSION *s, const struct sshcfg *cfg, const struct ssh2_key *k,
    bool batch, struct ssh2_tried *tr)
{
	char	pass[512], prompt[4200];
	int	r, tries, rc = 0;
	bool	asked = false, can_ask = !batch && tty_can_prompt();

	if (k->encrypted && !can_ask) {
		log_debug("skipping %s: it is encrypted and there is no terminal to ask "
		    "for its passphrase", k->path);
		return 0;
	}
	ssh2_tried_add(tr, k->path, k->type);
	pass[0] = '\0';
	for (tries = 0; tries < SSH2_PASSPHRASE_TRIES; tries++) {
		if (k->encrypted || asked) {
			snprintf(prompt, sizeof(prompt), "Enter passphrase for key '%s': ",
			    k->path);
			if (tty_prompt(prompt, false, pass, sizeof(pass)) != 0 ||
			    pass[0] == '\0')
				break;
		}
		log_debug("trying key file %s", k->path);
		r = libssh2_userauth_publickey_fromfile_ex(s, cfg->user,
		    (unsigned int)strlen(cfg->user), k->pub[0] ? k->pub : NULL, k->path, pass);
		if (r == 0) {
			log_debug("authenticated with %s", k->path);
			rc = 1;
			break;
		}
		/* LIBSSH2_ERROR_FILE: the file could not be read or decrypted
		 * (wrong passphrase, or an encryption we did not detect). */
		if (r != LIBSSH2_ERROR_FILE || !can_ask)
			break;
		asked = true;
	}
	explicit_bzero(pass, sizeof(pass));
	return rc;
}

int
ssh2_auth_run(LIBSSH2_SESSION *s, const struct sshcfg *cfg, bool batch, char *err,
    size_t errlen)
{
	struct ssh2_key		*keys = NULL;
	struct ssh2_tried	 tr;
	struct stat		 st;
	char			*methods, msg[200];
	int			 nkeys = 0, i, rc = -1;

	memset(&tr, 0, sizeof(tr));
	methods = libssh2_userauth_list(s, cfg->user, (unsigned int)strlen(cfg->user));
	if (methods == NULL) {
		if (libssh2_userauth_authenticated(s))
			return 0;	/* "none" was accepted */
		ssh2_auth_lasterr(s, msg, sizeof(msg));
		snprintf(err, errlen, "authentication with %s failed: %s", cfg->hostname, msg);
		return -1;
	}
	log_debug("server accepts authentication: %s", methods);
	if (strstr(methods, "publickey") == NULL) {
		snprintf(err, errlen, "authentication failed for %s@%s: the server does not "
		    "accept public keys (it offers: %s); use `-e ssh` for other methods",
		    cfg->user, cfg->hostname, methods);
		return -1;
	}
	if ((keys = calloc(SSHCFG_MAX_IDENTITIES, sizeof(*keys))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < cfg->nidentity && i < SSHCFG_MAX_IDENTITIES; i++) {
		if (stat(cfg->identity[i], &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		keys[nkeys].path = cfg->identity[i];
		ssh2_key_info(&keys[nkeys]);
		nkeys++;
	}
	if (ssh2_auth_agent(s, cfg, keys, nkeys, &tr) == 1) {
		rc = 0;
		goto out;
	}
	for (i = 0; i < nkeys; i++) {
		if (ssh2_auth_file(s, cfg, &keys[i], batch, &tr) == 1) {
			rc = 0;
			goto out;
		}
	}
	if (tr.n == 0)
		snprintf(err, errlen, "authentication failed for %s@%s: no key to try (no "
		    "ssh-agent keys, no IdentityFile found)", cfg->user, cfg->hostname);
	else
		snprintf(err, errlen, "authentication failed for %s@%s (tried: %s)%s",
		    cfg->user, cfg->hostname, tr.list, tr.nrsa == tr.n ? SSH2_RSA_HINT : "");
out:
	free(keys);
	return rc;
}
