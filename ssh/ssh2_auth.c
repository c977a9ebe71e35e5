/* SPDX-License-Identifier: ISC */
/*
 * ssh2_auth.c - the built-in transport's login (see ssh2_auth.h): public
 * keys (the agent's identities first, then the identity files, as
 * OpenSSH orders them), keyboard-interactive and password.
 *
 * A key file's type, public blob and whether it is encrypted are read
 * without decrypting it, so that IdentitiesOnly can pick agent keys by
 * their blob, an encrypted key is skipped when nobody can type its
 * passphrase, a FIDO key (which libssh2 1.10 cannot use) is not offered,
 * and a failure can say which keys were tried.
 *
 * Passwords and answers never reach a log line; the buffers that held
 * them are wiped, and so are the copies handed to libssh2 for
 * keyboard-interactive (libssh2 frees them itself).
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
#include "prompt.h"
#include "ssh2_auth.h"
#include "sshconfig.h"
#include "transport.h"
#include "tty.h"

#define SSH2_PASSPHRASE_TRIES	3
#define SSH2_KEYFILE_MAX	(64 * 1024)
#define SSH2_BLOB_MAX		8192
#define SSH2_SECRET_MAX		1024		/* a password or an answer */
#define SSH2_RSA_HINT	\
	"; libssh2 1.10 cannot sign with rsa-sha2, which OpenSSH 8.8 and later want for " \
	"RSA keys: use an Ed25519/ECDSA key or `-e ssh`"

/* What we know about one IdentityFile. */
struct ssh2_key {
	const char	*path;
	char		 pub[4096];		/* path + ".pub" when that exists */
	char		 type[64];		/* "ssh-ed25519", "" if unknown */
	unsigned char	 blob[SSH2_BLOB_MAX];	/* public key, for IdentitiesOnly */
	size_t		 bloblen;
	bool		 encrypted;
	bool		 cert;			/* path + "-cert.pub" exists */
};

struct ssh2_tried {
	char	list[512];
	int	n, nrsa;
	char	fido[256];		/* FIDO keys left out */
	char	certs[256];		/* certificates libssh2 cannot present */
};

/* One run of ssh2_auth_run(), for the keyboard-interactive callback
 * too (libssh2 hands it the session's abstract pointer). */
struct ssh2_auth {
	LIBSSH2_SESSION			*s;
	const struct sshcfg		*cfg;
	const struct transport_open_opts *o;
	struct ssh2_tried		 tr;
	enum prompt_via			 via;		/* where questions go */
	int				 npassword, nkbdint;	/* attempts refused */
	bool				 pw_used;	/* -r's password went out */
	bool				 given_refused;	/* ... and was refused */
	bool				 cancelled;	/* the user gave no answer */
	bool				 expired;	/* the password has expired */
	bool				 nobody;	/* a password was wanted, and
							 * nobody could be asked */
};

static const char *const ssh2_method_names[SSH2_M_COUNT] = {
	[SSH2_M_PUBKEY] = "publickey",
	[SSH2_M_KBDINT] = "keyboard-interactive",
	[SSH2_M_PASSWORD] = "password",
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

	snprintf(k->pub, sizeof(k->pub), "%s-cert.pub", k->path);
	k->cert = stat(k->pub, &st) == 0;
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
ssh2_list_add(char *list, size_t size, const char *what)
{
	size_t	len = strlen(list);

	if (len < size)
		snprintf(list + len, size - len, "%s%s", len ? ", " : "", what);
}

/* libssh2 1.10 knows neither FIDO (sk-*) keys nor certificates. */
static bool
ssh2_type_fido(const char *type)
{
	return strncmp(type, "sk-", 3) == 0;
}

static bool
ssh2_type_cert(const char *type)
{
	size_t	n = strlen(type);

	return n > 21 && strcmp(type + n - 21, "-cert-v01@openssh.com") == 0;
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
		if (ssh2_type_fido(type) || ssh2_type_cert(type)) {
			log_debug("skipping %s: libssh2 1.10 cannot use it", what);
			ssh2_list_add(ssh2_type_fido(type) ? tr->fido : tr->certs,
			    ssh2_type_fido(type) ? sizeof(tr->fido) : sizeof(tr->certs), what);
			continue;
		}
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

	if (ssh2_type_fido(k->type)) {
		log_debug("skipping %s: libssh2 1.10 cannot use FIDO keys", k->path);
		ssh2_list_add(tr->fido, sizeof(tr->fido), k->path);
		return 0;
	}
	if (k->encrypted && !can_ask) {
		log_debug("skipping %s: it is encrypted and there is no terminal to ask "
		    "for its passphrase", k->path);
		return 0;
	}
	/* The key alone may still do; its certificate cannot be shown. */
	if (k->cert)
		ssh2_list_add(tr->certs, sizeof(tr->certs), k->path);
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

/* ---- methods ---- */

static bool
ssh2_list_has(const char *list, const char *item, size_t n)
{
	const char	*p;

	for (p = list; *p != '\0'; p += strcspn(p, ","), p += *p == ',') {
		if (strncmp(p, item, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	}
	return false;
}

int
ssh2_auth_methods(const struct sshcfg *cfg, const char *offered, enum ssh2_method *out)
{
	const char	*order = cfg->preferred_auth != NULL ? cfg->preferred_auth :
	    SSH2_AUTH_ORDER, *p;
	bool		 allowed[SSH2_M_COUNT], seen[SSH2_M_COUNT] = { false };
	size_t		 n;
	int		 m, count = 0;

	allowed[SSH2_M_PUBKEY] = !cfg->no_pubkey;
	allowed[SSH2_M_KBDINT] = !cfg->no_kbdint;
	allowed[SSH2_M_PASSWORD] = !cfg->no_password;
	for (p = order; *p != '\0'; p += n, p += *p == ',') {
		n = strcspn(p, ",");
		for (m = 0; m < SSH2_M_COUNT; m++) {
			if (strlen(ssh2_method_names[m]) != n ||
			    strncmp(p, ssh2_method_names[m], n) != 0)
				continue;
			if (allowed[m] && !seen[m] && ssh2_list_has(offered, p, n))
				out[count++] = (enum ssh2_method)m;
			seen[m] = true;
		}
	}
	return count;
}

bool
ssh2_auth_refuses_ssh_rsa(const char *banner)
{
	const char	*p;
	char		*end;
	long		 major, minor;

	if (banner == NULL || (p = strstr(banner, "OpenSSH_")) == NULL)
		return false;
	major = strtol(p + 8, &end, 10);
	minor = *end == '.' ? strtol(end + 1, NULL, 10) : 0;
	return major > 8 || (major == 8 && minor >= 8);
}

static bool
ssh2_auth_cancelled(const struct ssh2_auth *a)
{
	return a->o->abort != NULL && transport_abort_fired(a->o->abort);
}

/* One answer from the user: 0, or -1 (a->cancelled set). */
static int
ssh2_auth_ask(struct ssh2_auth *a, const char *prompt, bool echo, char *buf, size_t len)
{
	if (a->cancelled || a->via == PROMPT_NONE ||
	    prompt_ask(a->via, prompt, echo, buf, len, a->o->abort) != 0) {
		a->cancelled = true;
		return -1;
	}
	return 0;
}

/* libssh2 calls this with the server's questions; the answers go into
 * buffers libssh2 frees with the session's allocator (malloc here). */
static LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC(ssh2_kbdint_cb)
{
	struct ssh2_auth	*a = *abstract;
	char			 answer[SSH2_SECRET_MAX], name_s[300], instr_s[600];
	char			 text[600], prompt[1600];
	size_t			 len;
	int			 i;

	/* Server text: nothing in it may command the terminal. */
	prompt_sanitize(name, name_len > 0 ? (size_t)name_len : 0, name_s, sizeof(name_s));
	prompt_sanitize(instruction, instruction_len > 0 ? (size_t)instruction_len : 0,
	    instr_s, sizeof(instr_s));
	for (i = 0; i < num_prompts; i++) {
		responses[i].text = NULL;
		responses[i].length = 0;
		answer[0] = '\0';
		prompt_sanitize(prompts[i].text, prompts[i].length, text, sizeof(text));
		/* -r's password answers the one secret question of a round,
		 * once: as "Password:" from PAM. */
		if (a->o->password != NULL && !prompts[i].echo && !a->pw_used) {
			snprintf(answer, sizeof(answer), "%s", a->o->password);
			a->pw_used = true;
		} else {
			/* The round's name and instruction above its first
			 * question, as ssh shows them. */
			snprintf(prompt, sizeof(prompt), "%s%s%s%s%s", i == 0 ? name_s : "",
			    i == 0 && name_s[0] != '\0' ? "\n" : "", i == 0 ? instr_s : "",
			    i == 0 && instr_s[0] != '\0' ? "\n" : "", text);
			if (ssh2_auth_ask(a, prompt, prompts[i].echo != 0, answer,
			    sizeof(answer)) != 0) {
				a->cancelled = true;
				answer[0] = '\0';
			}
		}
		len = strlen(answer);
		if ((responses[i].text = malloc(len + 1)) != NULL) {
			memcpy(responses[i].text, answer, len + 1);
			responses[i].length = (unsigned int)len;
		}
		explicit_bzero(answer, sizeof(answer));
	}
}

/* 1 authenticated, 0 not. */
static int
ssh2_auth_kbdint(struct ssh2_auth *a)
{
	const struct sshcfg	*cfg = a->cfg;
	void			**abs = libssh2_session_abstract(a->s), *saved;
	int			  tries, r, rc = 0;

	if (a->o->password == NULL && a->via == PROMPT_NONE) {
		a->nobody = true;
		return 0;
	}
	saved = *abs;
	*abs = a;
	for (tries = 0; tries < cfg->password_prompts && !ssh2_auth_cancelled(a); tries++) {
		log_debug("trying keyboard-interactive");
		r = libssh2_userauth_keyboard_interactive_ex(a->s, cfg->user,
		    (unsigned int)strlen(cfg->user), ssh2_kbdint_cb);
		if (r == 0) {
			log_debug("authenticated with keyboard-interactive");
			rc = 1;
			break;
		}
		if (a->cancelled || r != LIBSSH2_ERROR_AUTHENTICATION_FAILED)
			break;
		a->nkbdint++;
		/* The given password was refused: asking again changes nothing. */
		if (a->pw_used) {
			a->given_refused = true;
			break;
		}
		if (a->o->password != NULL)
			break;		/* a round that did not ask for it */
	}
	*abs = saved;
	return rc;
}

/* 1 authenticated, 0 not. */
static int
ssh2_auth_password(struct ssh2_auth *a)
{
	const struct sshcfg	*cfg = a->cfg;
	char			 pw[SSH2_SECRET_MAX], prompt[700];
	const char		*again = "";
	int			 tries, r, rc = 0;

	if (a->o->password == NULL && a->via == PROMPT_NONE) {
		a->nobody = true;
		return 0;
	}
	for (tries = 0; tries < cfg->password_prompts && !ssh2_auth_cancelled(a); tries++) {
		if (a->o->password != NULL) {
			if (a->pw_used)
				break;		/* refused already (keyboard-interactive) */
			snprintf(pw, sizeof(pw), "%s", a->o->password);
			a->pw_used = true;
		} else {
			snprintf(prompt, sizeof(prompt), "%s%s@%s's password: ", again, cfg->user,
			    cfg->hostname);
			if (ssh2_auth_ask(a, prompt, false, pw, sizeof(pw)) != 0)
				break;
		}
		log_debug("trying a password");
		r = libssh2_userauth_password_ex(a->s, cfg->user, (unsigned int)strlen(cfg->user),
		    pw, (unsigned int)strlen(pw), NULL);
		explicit_bzero(pw, sizeof(pw));
		if (r == 0) {
			log_debug("authenticated with a password");
			rc = 1;
			break;
		}
		if (r == LIBSSH2_ERROR_PASSWORD_EXPIRED) {
			a->expired = true;
			break;
		}
		if (r != LIBSSH2_ERROR_AUTHENTICATION_FAILED)
			break;
		a->npassword++;
		if (a->o->password != NULL) {
			a->given_refused = true;
			break;
		}
		again = "Permission denied, please try again.\n";
	}
	return rc;
}

/* Why nobody could be asked for a password (a->nobody). */
static const char *
ssh2_auth_nobody(const struct ssh2_auth *a)
{
	if (a->o->unattended)
		return "which a daemon (-D) never asks for";
	if (a->cfg->batch_mode)
		return "and BatchMode forbids asking";
	if (a->o->batch && !a->o->ask_password)
		return "and a reconnect may not ask";
	return "and there is no terminal to ask it on (nor SSH_ASKPASS with a display)";
}

/* What failed, and what might work instead, into err. */
static void
ssh2_auth_explain(const struct ssh2_auth *a, const char *offered, int nmethods,
    char *err, size_t errlen)
{
	const struct sshcfg	*cfg = a->cfg;
	const struct ssh2_tried	*tr = &a->tr;
	char			 tried[700], hint[700];
	const char		*banner = libssh2_session_banner_get(a->s);
	size_t			 len;

	snprintf(tried, sizeof(tried), "%s", tr->list);
	if (a->nkbdint > 0) {
		len = strlen(tried);
		snprintf(tried + len, sizeof(tried) - len, "%skeyboard-interactive (%d %s)",
		    len ? ", " : "", a->nkbdint, a->nkbdint == 1 ? "try" : "tries");
	}
	if (a->npassword > 0) {
		len = strlen(tried);
		snprintf(tried + len, sizeof(tried) - len, "%spassword (%d %s)",
		    len ? ", " : "", a->npassword, a->npassword == 1 ? "try" : "tries");
	}
	hint[0] = '\0';
	if (tr->n > 0 && tr->nrsa == tr->n && a->npassword + a->nkbdint == 0 &&
	    (banner == NULL || ssh2_auth_refuses_ssh_rsa(banner)))
		snprintf(hint, sizeof(hint), "%s", SSH2_RSA_HINT);
	if (tr->certs[0] != '\0') {
		len = strlen(hint);
		snprintf(hint + len, sizeof(hint) - len, "; libssh2 1.10 cannot present "
		    "certificates (%s): use `-e ssh`", tr->certs);
	}
	if (tr->fido[0] != '\0') {
		len = strlen(hint);
		snprintf(hint + len, sizeof(hint) - len, "; libssh2 1.10 cannot use FIDO "
		    "keys (%s left out): use `-e ssh`", tr->fido);
	}

	if (nmethods == 0)
		snprintf(err, errlen, "authentication failed for %s@%s: the server offers "
		    "no method the built-in client may use (it offers: %s; the ssh "
		    "configuration allows:%s%s%s); use `-e ssh` for others", cfg->user,
		    cfg->hostname, offered, !cfg->no_pubkey ? " publickey" : "",
		    !cfg->no_kbdint ? " keyboard-interactive" : "",
		    !cfg->no_password ? " password" : "");
	else if (a->given_refused)
		snprintf(err, errlen, "authentication failed for %s@%s: the password given "
		    "with -r was refused%s%s%s", cfg->user, cfg->hostname,
		    tried[0] ? " (tried: " : "", tried, tried[0] ? ")" : "");
	else if (a->expired)
		snprintf(err, errlen, "authentication failed for %s@%s: the password has "
		    "expired; change it with ssh first", cfg->user, cfg->hostname);
	else if (a->npassword + a->nkbdint > 0)
		snprintf(err, errlen, "authentication failed for %s@%s: permission denied "
		    "(tried: %s)%s", cfg->user, cfg->hostname, tried, hint);
	else if (a->cancelled)
		snprintf(err, errlen, "authentication failed for %s@%s: no password given%s%s%s",
		    cfg->user, cfg->hostname, tried[0] ? " (tried: " : "", tried,
		    tried[0] ? ")" : "");
	else if (a->nobody)
		snprintf(err, errlen, "authentication failed for %s@%s: %s the server wants "
		    "a password (it offers: %s), %s: log in with a key (ssh-agent or "
		    "IdentityFile)%s", cfg->user, cfg->hostname,
		    tr->n == 0 ? "no key to try, and" : "no key was accepted, and", offered,
		    ssh2_auth_nobody(a), hint);
	else if (tr->n == 0)
		snprintf(err, errlen, "authentication failed for %s@%s: no key to try (no "
		    "ssh-agent keys, no IdentityFile found), and no password or "
		    "keyboard-interactive login to fall back on (%s): add a key, or use "
		    "`-e ssh`%s", cfg->user, cfg->hostname,
		    ssh2_list_has(offered, "password", 8) ||
		    ssh2_list_has(offered, "keyboard-interactive", 20) ?
		    "off in the ssh configuration" : "the server offers neither", hint);
	else
		snprintf(err, errlen, "authentication failed for %s@%s (tried: %s)%s",
		    cfg->user, cfg->hostname, tried, hint);
}

int
ssh2_auth_run(LIBSSH2_SESSION *s, const struct sshcfg *cfg,
    const struct transport_open_opts *o, char *err, size_t errlen)
{
	struct ssh2_auth	 a;
	struct ssh2_key		*keys = NULL;
	struct stat		 st;
	enum ssh2_method	 order[SSH2_M_COUNT];
	char			*methods, *offered = NULL, msg[200];
	bool			 can_ask;
	int			 nkeys = 0, nmethods, i, m, rc = SSH2_AUTH_FAILED;

	memset(&a, 0, sizeof(a));
	a.s = s;
	a.cfg = cfg;
	a.o = o;
	methods = libssh2_userauth_list(s, cfg->user, (unsigned int)strlen(cfg->user));
	if (methods == NULL) {
		if (libssh2_userauth_authenticated(s))
			return 0;	/* "none" was accepted */
		ssh2_auth_lasterr(s, msg, sizeof(msg));
		snprintf(err, errlen, "authentication with %s failed: %s", cfg->hostname, msg);
		return SSH2_AUTH_FAILED;
	}
	log_debug("server accepts authentication: %s", methods);
	/* libssh2's buffer lives only until its next call. */
	if ((offered = strdup(methods)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return SSH2_AUTH_FAILED;
	}
	/* Where a password would be asked: decided once, so that every
	 * method asks the same way. */
	can_ask = !o->unattended && !cfg->batch_mode && (!o->batch || o->ask_password);
	a.via = can_ask ? prompt_via() : PROMPT_NONE;
	nmethods = ssh2_auth_methods(cfg, offered, order);
	for (m = 0; m < nmethods && !ssh2_auth_cancelled(&a); m++) {
		switch (order[m]) {
		case SSH2_M_PUBKEY:
			if (keys == NULL &&
			    (keys = calloc(SSHCFG_MAX_IDENTITIES, sizeof(*keys))) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			for (i = 0; i < cfg->nidentity && i < SSHCFG_MAX_IDENTITIES; i++) {
				if (stat(cfg->identity[i], &st) != 0 || !S_ISREG(st.st_mode))
					continue;
				keys[nkeys].path = cfg->identity[i];
				ssh2_key_info(&keys[nkeys]);
				nkeys++;
			}
			if (ssh2_auth_agent(s, cfg, keys, nkeys, &a.tr) == 1) {
				rc = 0;
				goto out;
			}
			for (i = 0; i < nkeys; i++) {
				if (ssh2_auth_file(s, cfg, &keys[i], o->batch, &a.tr) == 1) {
					rc = 0;
					goto out;
				}
			}
			break;
		case SSH2_M_KBDINT:
			if (ssh2_auth_kbdint(&a) == 1) {
				rc = 0;
				goto out;
			}
			break;
		case SSH2_M_PASSWORD:
			if (ssh2_auth_password(&a) == 1) {
				rc = 0;
				goto out;
			}
			break;
		case SSH2_M_COUNT:
			break;
		}
	}
	ssh2_auth_explain(&a, offered, nmethods, err, errlen);
	if (a.npassword + a.nkbdint > 0)
		rc = SSH2_AUTH_REFUSED;
out:
	free(keys);
	free(offered);
	return rc;
}
