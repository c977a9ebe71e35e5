/* SPDX-License-Identifier: ISC */
/*
 * hostkey.c - known_hosts checking with OpenSSH's semantics (hostkey.h).
 *
 * The verdict comes from our own reading of the files, because libssh2
 * 1.10's loader gives up on the first line it cannot parse (losing the
 * rest of the file), knows neither wildcards nor @revoked, and falls back
 * from "[host]:port" to plain "host" entries, which OpenSSH does not do.
 * libssh2_knownhost_checkp() still runs as a cross-check, and libssh2
 * formats the lines we add.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "addr.h"
#include "hostkey.h"
#include "log.h"
#include "remote.h"
#include "tty.h"

#define KH_LINE_MAX	8192
#define KH_MAX_FILES	(2 * SSHCFG_MAX_KNOWNHOSTS)	/* user's and global */

struct kh_type {
	int		 hostkey;	/* LIBSSH2_HOSTKEY_TYPE_* */
	const char	*name;		/* key type as in known_hosts, = method name */
	const char	*label;		/* as OpenSSH prints it */
	int		 kbit;		/* LIBSSH2_KNOWNHOST_KEY_* */
};

static const struct kh_type kh_types[] = {
#define KH_T(h, n, l, k)	{ LIBSSH2_HOSTKEY_TYPE_##h, n, l, LIBSSH2_KNOWNHOST_KEY_##k }
	KH_T(ED25519, "ssh-ed25519", "ED25519", ED25519),
	KH_T(ECDSA_256, "ecdsa-sha2-nistp256", "ECDSA", ECDSA_256),
	KH_T(ECDSA_384, "ecdsa-sha2-nistp384", "ECDSA", ECDSA_384),
	KH_T(ECDSA_521, "ecdsa-sha2-nistp521", "ECDSA", ECDSA_521),
	KH_T(RSA, "ssh-rsa", "RSA", SSHRSA),
	KH_T(DSS, "ssh-dss", "DSA", SSHDSS),
#undef KH_T
};

enum kh_marker {
	KH_PLAIN = 0,
	KH_REVOKED,
	KH_OTHER,		/* @cert-authority or unknown: ignored */
};

struct kh_line {
	const char	*file;
	int		 lineno;
	enum kh_marker	 marker;
	const char	*hosts, *type, *key;	/* NUL-terminated fields */
	const char	*raw;			/* the whole line, for libssh2 */
	size_t		 rawlen;
};

typedef void (*kh_cb)(const struct kh_line *, void *);

enum hostkey_action
hostkey_decide(enum hostkey_status st, enum sshcfg_strict strict, bool can_ask)
{
	switch (st) {
	case HOSTKEY_MATCH:
		return HOSTKEY_ACCEPT;
	case HOSTKEY_NOTFOUND:
		switch (strict) {
		case SSHCFG_STRICT_NO:
		case SSHCFG_STRICT_ACCEPT_NEW:
			return HOSTKEY_ACCEPT_ADD;
		case SSHCFG_STRICT_ASK:
			return can_ask ? HOSTKEY_ASK : HOSTKEY_REFUSE;
		case SSHCFG_STRICT_YES:
			return HOSTKEY_REFUSE;
		}
		return HOSTKEY_REFUSE;
	case HOSTKEY_MISMATCH:		/* whatever StrictHostKeyChecking says */
	case HOSTKEY_REVOKED:
		return HOSTKEY_REFUSE;
	}
	return HOSTKEY_REFUSE;
}

enum hostkey_action
hostkey_decide_ip(enum hostkey_status host, enum hostkey_status ip,
    enum sshcfg_strict strict, bool can_ask, bool *warn)
{
	*warn = false;
	if (host != HOSTKEY_MATCH && host != HOSTKEY_NOTFOUND)
		return HOSTKEY_REFUSE;
	switch (ip) {
	case HOSTKEY_MATCH:
		return HOSTKEY_ACCEPT;
	case HOSTKEY_NOTFOUND:
		return HOSTKEY_ACCEPT_ADD;
	case HOSTKEY_REVOKED:
		return HOSTKEY_REFUSE;
	case HOSTKEY_MISMATCH:
		break;
	}
	/* The host's key is right, the address's is not: DNS may lie, or
	 * the address moved.  ssh refuses under strict checking. */
	switch (strict) {
	case SSHCFG_STRICT_ASK:
		return can_ask ? HOSTKEY_ASK : HOSTKEY_REFUSE;
	case SSHCFG_STRICT_NO:
		*warn = true;
		return HOSTKEY_ACCEPT;
	case SSHCFG_STRICT_YES:
	case SSHCFG_STRICT_ACCEPT_NEW:
		return HOSTKEY_REFUSE;
	}
	return HOSTKEY_REFUSE;
}

void
hostkey_names(const struct sshcfg *cfg, const char *addr, char *name, size_t namelen,
    char *ipname, size_t ipnamelen)
{
	struct addr	a;

	/* ssh looks an alias up as it is: no port. */
	if (cfg->host_key_alias != NULL)
		hostkey_lookup_name(cfg->host_key_alias, 22, name, namelen);
	else
		hostkey_lookup_name(cfg->hostname, cfg->port, name, namelen);
	ipname[0] = '\0';
	if (!cfg->check_host_ip || addr == NULL || *addr == '\0' ||
	    strcasecmp(addr, cfg->hostname) == 0 ||
	    (addr_parse(&a, addr, (size_t)-1, ADDR_P_SCOPE, 0) == 0 && addr_is_loopback(&a)))
		return;
	hostkey_lookup_name(addr, cfg->port, ipname, ipnamelen);
}

/* Standard base64 with padding; returns the length written. */
static size_t
kh_b64(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	if (outlen < 4 * ((len + 2) / 3) + 1 || len > 0x3fffffff)
		return 0;
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

/* Decode standard base64 (padding required); -1 when invalid. */
static int
kh_unb64(const char *in, unsigned char *out, size_t outlen, size_t *n)
{
	size_t	len = strlen(in), pad = 0;
	int	r;

	if (len == 0 || len % 4 != 0 || 3 * (len / 4) > outlen)
		return -1;
	if (in[len - 1] == '=')
		pad++;
	if (in[len - 2] == '=')
		pad++;
	if ((r = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len)) < 0)
		return -1;
	*n = (size_t)r - pad;
	return 0;
}

int
hostkey_fingerprint(const unsigned char *blob, size_t len, char *out, size_t outlen)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;
	char		b64[64];
	size_t		n;

	if (EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return -1;
	if ((n = kh_b64(md, mdlen, b64, sizeof(b64))) == 0)
		return -1;
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	if ((size_t)snprintf(out, outlen, "SHA256:%s", b64) >= outlen)
		return -1;
	return 0;
}

int
hostkey_answer(const char *answer, const char *fingerprint)
{
	char	a[128];
	size_t	n;

	while (*answer == ' ' || *answer == '\t')
		answer++;
	snprintf(a, sizeof(a), "%s", answer);
	n = strlen(a);
	while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t'))
		a[--n] = '\0';
	if (strcasecmp(a, "yes") == 0)
		return 1;
	if (strcasecmp(a, "no") == 0)
		return 0;
	/* A pasted fingerprint must be exact (base64 is case-sensitive). */
	if (strncmp(a, "SHA256:", 7) == 0)
		return strcmp(a, fingerprint) == 0 ? 1 : 0;
	return -1;
}

void
hostkey_lookup_name(const char *host, int port, char *out, size_t outlen)
{
	size_t	i;

	if (port == 22 || port <= 0)
		snprintf(out, outlen, "%s", host);
	else
		snprintf(out, outlen, "[%s]:%d", host, port);
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

/* Glob with * and ?, case-insensitive (both sides), as OpenSSH. */
static bool
kh_glob(const char *s, const char *p, size_t plen)
{
	for (; plen > 0; p++, plen--) {
		if (*p == '*') {
			for (;;) {
				if (kh_glob(s, p + 1, plen - 1))
					return true;
				if (*s == '\0')
					return false;
				s++;
			}
		}
		if (*s == '\0')
			return false;
		if (*p != '?' && tolower((unsigned char)*p) != tolower((unsigned char)*s))
			return false;
		s++;
	}
	return *s == '\0';
}

static bool
kh_hashed_matches(const char *field, const char *name)
{
	unsigned char	salt[64], want[64], mac[EVP_MAX_MD_SIZE];
	unsigned int	maclen = 0;
	char		buf[256], *sep;
	size_t		saltlen, wantlen;

	if (snprintf(buf, sizeof(buf), "%s", field + 3) >= (int)sizeof(buf))
		return false;
	if ((sep = strchr(buf, '|')) == NULL)
		return false;
	*sep++ = '\0';
	if (kh_unb64(buf, salt, sizeof(salt), &saltlen) != 0 ||
	    kh_unb64(sep, want, sizeof(want), &wantlen) != 0)
		return false;
	if (HMAC(EVP_sha1(), salt, (int)saltlen, (const unsigned char *)name, strlen(name),
	    mac, &maclen) == NULL)
		return false;
	return maclen == wantlen && memcmp(mac, want, maclen) == 0;
}

bool
hostkey_host_matches(const char *field, const char *name)
{
	const char	*p, *end;
	bool		 positive = false, neg;
	size_t		 len;

	if (strncmp(field, "|1|", 3) == 0)
		return kh_hashed_matches(field, name);
	for (p = field; *p != '\0'; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ",");
		neg = *p == '!';
		len = (size_t)(end - p) - (neg ? 1 : 0);
		if (len == 0)
			continue;
		if (kh_glob(name, neg ? p + 1 : p, len)) {
			if (neg)
				return false;	/* a negated match overrides everything */
			positive = true;
		}
	}
	return positive;
}

/* Call cb for every entry line of file (a missing file has none). */
static void
kh_scan(const char *file, kh_cb cb, void *arg)
{
	struct kh_line	 l;
	FILE		*f;
	char		*line = NULL, *copy = NULL, *p, *fields[4];
	size_t		 cap = 0;
	ssize_t		 n;
	int		 lineno = 0, nf;

	if ((f = fopen(file, "re")) == NULL) {
		if (errno != ENOENT)
			log_debug("cannot read %s: %s", file, strerror(errno));
		return;
	}
	if ((copy = malloc(KH_LINE_MAX)) == NULL)
		goto out;
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (n >= KH_LINE_MAX) {
			log_debug("%s:%d: line too long, ignored", file, lineno);
			continue;
		}
		memcpy(copy, line, (size_t)n + 1);
		for (nf = 0, p = copy; nf < 4; nf++) {
			p += strspn(p, " \t\r\n");
			if (*p == '\0' || (nf == 0 && *p == '#'))
				break;
			fields[nf] = p;
			p += strcspn(p, " \t\r\n");
			if (*p != '\0')
				*p++ = '\0';
		}
		if (nf == 0)
			continue;
		memset(&l, 0, sizeof(l));
		l.file = file;
		l.lineno = lineno;
		l.raw = line;
		l.rawlen = (size_t)n;
		if (fields[0][0] == '@') {
			l.marker = strcmp(fields[0], "@revoked") == 0 ? KH_REVOKED : KH_OTHER;
			if (nf < 4)
				continue;
			l.hosts = fields[1];
			l.type = fields[2];
			l.key = fields[3];
		} else {
			if (nf < 3)
				continue;
			l.hosts = fields[0];
			l.type = fields[1];
			l.key = fields[2];
		}
		cb(&l, arg);
	}
out:
	free(copy);
	free(line);
	fclose(f);
}

struct kh_types_ctx {
	const char	*name;
	char		*out;
	size_t		 outlen;
};

static bool
kh_list_has(const char *list, const char *item)
{
	size_t		 n = strlen(item);
	const char	*p;

	for (p = list; *p != '\0'; p += strcspn(p, ","), p += *p == ',') {
		if (strncmp(p, item, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	}
	return false;
}

static void
kh_types_cb(const struct kh_line *l, void *arg)
{
	struct kh_types_ctx	*c = arg;
	size_t			 len = strlen(c->out);

	if (l->marker != KH_PLAIN || !hostkey_host_matches(l->hosts, c->name))
		return;
	if (kh_list_has(c->out, l->type))
		return;
	if (len + strlen(l->type) + 2 > c->outlen)
		return;
	snprintf(c->out + len, c->outlen - len, "%s%s", len ? "," : "", l->type);
}

void
hostkey_known_types(const char *const *files, int nfiles, const char *name,
    char *out, size_t outlen)
{
	struct kh_types_ctx	c = { name, out, outlen };
	int			i;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < nfiles; i++)
		kh_scan(files[i], kh_types_cb, &c);
}

/* The user's files, then the global ones (GlobalKnownHostsFile): all
 * read, only the user's first one ever written. */
static int
kh_files(const struct sshcfg *cfg, const char **files)
{
	int	i, n = 0;

	for (i = 0; i < cfg->nknown_hosts && i < SSHCFG_MAX_KNOWNHOSTS; i++)
		files[n++] = cfg->known_hosts[i];
	for (i = 0; i < cfg->nglobal_known_hosts && i < SSHCFG_MAX_KNOWNHOSTS; i++)
		files[n++] = cfg->global_known_hosts[i];
	return n;
}

void
hostkey_prefer(LIBSSH2_SESSION *s, const struct sshcfg *cfg)
{
	const char	*files[KH_MAX_FILES], **algs = NULL;
	char		 name[300], ipname[300], known[512], pref[1024];
	size_t		 len;
	int		 nfiles, nalgs, i;

	hostkey_names(cfg, NULL, name, sizeof(name), ipname, sizeof(ipname));
	nfiles = kh_files(cfg, files);
	hostkey_known_types(files, nfiles, name, known, sizeof(known));
	/* Nothing recorded: prefer Ed25519 as OpenSSH does (libssh2 would
	 * pick ECDSA), so that the key we record is the one ssh shows. */
	if (known[0] == '\0')
		snprintf(known, sizeof(known), "ssh-ed25519");
	if ((nalgs = libssh2_session_supported_algs(s, LIBSSH2_METHOD_HOSTKEY, &algs)) <= 0)
		return;
	/* Known types first (in known_hosts order), then everything else
	 * libssh2 can do, so that a server whose key type changed still
	 * completes the handshake and gets reported. */
	pref[0] = '\0';
	for (i = 0; i < nalgs; i++) {
		if (!kh_list_has(known, algs[i]))
			continue;
		len = strlen(pref);
		snprintf(pref + len, sizeof(pref) - len, "%s%s", len ? "," : "", algs[i]);
	}
	if (pref[0] == '\0')
		goto out;
	for (i = 0; i < nalgs; i++) {
		if (kh_list_has(known, algs[i]))
			continue;
		len = strlen(pref);
		snprintf(pref + len, sizeof(pref) - len, "%s%s", len ? "," : "", algs[i]);
	}
	log_debug("host key types preferred for %s: %s", name, known);
	if (libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY, pref) != 0)
		log_debug("cannot set the host key preference");
out:
	libssh2_free(s, algs);
}

struct kh_check_ctx {
	const char		*name;
	const char		*type;		/* server key type name */
	const char		*b64;		/* server key, base64 */
	LIBSSH2_KNOWNHOSTS	*kh;
	bool			 match, revoked;
	char			 where[300];	/* file:line of a mismatch or revocation */
	char			 other[64];	/* a known key of another type */
};

static void
kh_check_cb(const struct kh_line *l, void *arg)
{
	struct kh_check_ctx	*c = arg;
	bool			 same_key;

	if (l->marker == KH_PLAIN && c->kh != NULL &&
	    libssh2_knownhost_readline(c->kh, l->raw, l->rawlen, LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0)
		log_trace("%s:%d: libssh2 cannot parse this known_hosts line", l->file, l->lineno);
	if (l->marker == KH_OTHER || !hostkey_host_matches(l->hosts, c->name))
		return;
	same_key = strcmp(l->key, c->b64) == 0;
	if (l->marker == KH_REVOKED) {
		if (same_key && !c->revoked) {
			c->revoked = true;
			snprintf(c->where, sizeof(c->where), "%s:%d", l->file, l->lineno);
		}
		return;
	}
	if (strcmp(l->type, c->type) != 0) {
		if (c->other[0] == '\0')
			snprintf(c->other, sizeof(c->other), "%s", l->type);
		return;
	}
	if (same_key)
		c->match = true;
	else if (c->where[0] == '\0' && !c->revoked)
		snprintf(c->where, sizeof(c->where), "%s:%d", l->file, l->lineno);
}

/* What the files say about `name` and this key (c filled in). */
static enum hostkey_status
kh_status(const struct kh_check_ctx *c)
{
	if (c->revoked)
		return HOSTKEY_REVOKED;
	if (c->match)
		return HOSTKEY_MATCH;
	if (c->where[0] != '\0')
		return HOSTKEY_MISMATCH;
	return HOSTKEY_NOTFOUND;
}

enum hostkey_status
hostkey_lookup(const char *const *files, int nfiles, const char *name, const char *type,
    const char *b64, char *where, size_t wherelen)
{
	struct kh_check_ctx	c;
	int			i;

	memset(&c, 0, sizeof(c));
	c.name = name;
	c.type = type;
	c.b64 = b64;
	for (i = 0; i < nfiles; i++)
		kh_scan(files[i], kh_check_cb, &c);
	if (wherelen > 0)
		snprintf(where, wherelen, "%s", c.where);
	return kh_status(&c);
}

/* Append one entry to a known_hosts file, creating it (and its directory). */
static int
kh_append(LIBSSH2_SESSION *s, const char *file, const char *name, const char *key,
    size_t keylen, int kbit, char *err, size_t errlen)
{
	LIBSSH2_KNOWNHOSTS		*kh;
	struct libssh2_knownhost	*e = NULL;
	struct stat			 st;
	char				 line[KH_LINE_MAX], dir[4096], *slash, last = '\n';
	size_t				 len = 0;
	int				 fd = -1, rc = -1;

	if ((kh = libssh2_knownhost_init(s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (libssh2_knownhost_addc(kh, name, NULL, key, keylen, NULL, 0,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kbit, &e) != 0 ||
	    libssh2_knownhost_writeline(kh, e, line, sizeof(line), &len,
	    LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0 || len == 0) {
		snprintf(err, errlen, "cannot format the known_hosts entry");
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s", file);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %.200s: %s", dir, strerror(errno));
			goto out;
		}
	}
	if ((fd = open(file, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "cannot open %s: %s", file, strerror(errno));
		goto out;
	}
	/* Never glue our entry to a last line without its newline. */
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n' && write(fd, "\n", 1) != 1)
		goto werr;
	if (line[len - 1] != '\n' && len + 1 < sizeof(line))
		line[len++] = '\n';
	if (write(fd, line, len) != (ssize_t)len)
		goto werr;
	rc = 0;
	goto out;
werr:
	snprintf(err, errlen, "cannot write %s: %s", file, strerror(errno));
out:
	if (fd != -1)
		close(fd);
	libssh2_knownhost_free(kh);
	return rc;
}

/* Record the key in the user's first known_hosts file under `field`
 * (the host's name, the address's, or both: "name,ip").  A failure is a
 * warning: the key was accepted. */
static void
kh_record(LIBSSH2_SESSION *s, const struct sshcfg *cfg, const char *field,
    const char *key, size_t keylen, const struct kh_type *kt, const char *fp)
{
	char	aerr[256];

	if (cfg->nknown_hosts == 0) {
		log_warn("host key for %s (%s %s) accepted but not recorded: no "
		    "known_hosts file", field, kt->label, fp);
		return;
	}
	if (kh_append(s, cfg->known_hosts[0], field, key, keylen, kt->kbit, aerr,
	    sizeof(aerr)) != 0) {
		log_warn("host key for %s accepted but not recorded: %s", field, aerr);
		return;
	}
	log_info("added host key for %s (%s %s) to %s", field, kt->label, fp,
	    cfg->known_hosts[0]);
}

/* yes/no on the terminal: 1 yes, 0 no or no answer. */
static int
kh_confirm(const char *question, const char *fp)
{
	char	answer[128];
	int	r;

	for (;;) {
		if (tty_prompt(question, true, answer, sizeof(answer)) != 0)
			return 0;
		if ((r = hostkey_answer(answer, fp)) >= 0)
			return r;
		question = "Please type 'yes', 'no' or the fingerprint: ";
	}
}

int
hostkey_verify(LIBSSH2_SESSION *s, const struct sshcfg *cfg, const char *addr,
    bool batch, char *err, size_t errlen)
{
	const struct kh_type		*kt = NULL;
	struct kh_check_ctx		 c;
	struct libssh2_knownhost	*ext = NULL;
	enum hostkey_status		 st, ipst = HOSTKEY_NOTFOUND;
	enum hostkey_action		 act, ipact = HOSTKEY_ACCEPT;
	const char			*key, *files[KH_MAX_FILES];
	char				 name[300], ipname[300], ipwhere[300], fp[80];
	char				 *b64 = NULL, prompt[1400], both[620], spoof[700];
	size_t				 keylen = 0, i;
	int				 type = 0, nfiles, r, rc = -1;
	bool				 can_ask = !batch && tty_can_prompt(), warn = false;

	if ((key = libssh2_session_hostkey(s, &keylen, &type)) == NULL || keylen == 0) {
		snprintf(err, errlen, "the server sent no host key");
		return -1;
	}
	for (i = 0; i < sizeof(kh_types) / sizeof(kh_types[0]); i++)
		if (kh_types[i].hostkey == type)
			kt = &kh_types[i];
	hostkey_names(cfg, addr, name, sizeof(name), ipname, sizeof(ipname));
	if (hostkey_fingerprint((const unsigned char *)key, keylen, fp, sizeof(fp)) != 0) {
		snprintf(err, errlen, "cannot compute the host key fingerprint");
		return -1;
	}
	if (kt == NULL) {
		snprintf(err, errlen, "host key for %s has an unsupported type (%s)", name, fp);
		return -1;
	}
	if ((b64 = malloc(4 * (keylen + 2) / 3 + 4)) == NULL ||
	    kh_b64((const unsigned char *)key, keylen, b64, 4 * (keylen + 2) / 3 + 4) == 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}

	memset(&c, 0, sizeof(c));
	c.name = name;
	c.type = kt->name;
	c.b64 = b64;
	c.kh = libssh2_knownhost_init(s);
	nfiles = kh_files(cfg, files);
	for (r = 0; r < nfiles; r++)
		kh_scan(files[r], kh_check_cb, &c);
	st = kh_status(&c);
	/* Cross-check with libssh2's own matcher (exact and hashed names;
	 * the name is passed pre-formatted so it does not fall back from
	 * [host]:port to host).  It can only make us stricter. */
	if (c.kh != NULL && st == HOSTKEY_NOTFOUND &&
	    libssh2_knownhost_checkp(c.kh, name, -1, key, keylen,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kt->kbit, &ext) ==
	    LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
		st = HOSTKEY_MISMATCH;
		snprintf(c.where, sizeof(c.where), "known_hosts");
	}
	if (c.kh != NULL)
		libssh2_knownhost_free(c.kh);
	/* CheckHostIP: what the files say about the address, too. */
	if (ipname[0] != '\0')
		ipst = hostkey_lookup(files, nfiles, ipname, kt->name, b64, ipwhere,
		    sizeof(ipwhere));

	act = hostkey_decide(st, cfg->strict, can_ask);
	log_debug("host key for %s: %s %s, %s", name, kt->label, fp,
	    st == HOSTKEY_MATCH ? "known" : st == HOSTKEY_MISMATCH ? "CHANGED" :
	    st == HOSTKEY_REVOKED ? "REVOKED" : "not known");
	if (ipname[0] != '\0')
		log_debug("host key for the address %s: %s", ipname,
		    ipst == HOSTKEY_MATCH ? "known" : ipst == HOSTKEY_MISMATCH ? "different" :
		    ipst == HOSTKEY_REVOKED ? "REVOKED" : "not known");

	switch (act) {
	case HOSTKEY_ACCEPT:
	case HOSTKEY_ACCEPT_ADD:
		break;
	case HOSTKEY_REFUSE:
		if (st == HOSTKEY_REVOKED)
			snprintf(err, errlen, "host key for %s is marked as revoked in %s (%s %s)",
			    name, c.where, kt->label, fp);
		else if (st == HOSTKEY_MISMATCH) {
			/* As ssh: a host key and an address key that change
			 * together may be DNS spoofing, or a real move. */
			spoof[0] = '\0';
			if (ipname[0] != '\0' && ipst != HOSTKEY_MISMATCH)
				snprintf(spoof, sizeof(spoof), "; the key for the IP address %s %s, "
				    "which may mean DNS spoofing", ipname,
				    ipst == HOSTKEY_MATCH ? "is unchanged" : "is not known");
			else if (ipname[0] != '\0')
				snprintf(spoof, sizeof(spoof), "; the key for the IP address %s "
				    "differs too (%s)", ipname, ipwhere);
			snprintf(err, errlen, "host key for %s has changed (%s %s): possible "
			    "man-in-the-middle attack; if the change is expected, remove the old "
			    "key (%s)%s", name, kt->label, fp, c.where, spoof);
		} else if (cfg->strict == SSHCFG_STRICT_YES)
			snprintf(err, errlen, "host key for %s is not known (%s %s) and "
			    "StrictHostKeyChecking is yes", name, kt->label, fp);
		else
			snprintf(err, errlen, "host key for %s is not known (%s %s) and there is "
			    "no terminal to confirm it: add it to %s, or set StrictHostKeyChecking "
			    "accept-new", name, kt->label, fp,
			    cfg->nknown_hosts > 0 ? cfg->known_hosts[0] : "known_hosts");
		goto out;
	case HOSTKEY_ASK:
		snprintf(prompt, sizeof(prompt),
		    "The authenticity of host '%s%s%s%s' can't be established.\n"
		    "%s key fingerprint is %s.\n%s%s%s"
		    "Are you sure you want to continue connecting (yes/no/[fingerprint])? ",
		    name, addr ? " (" : "", addr ? addr : "", addr ? ")" : "", kt->label, fp,
		    c.other[0] ? "Keys of another type (" : "", c.other,
		    c.other[0] ? ") are already known for this host.\n" : "");
		if (!kh_confirm(prompt, fp)) {
			snprintf(err, errlen, "host key for %s (%s %s) was not accepted",
			    name, kt->label, fp);
			goto out;
		}
		break;
	}

	/* The host's key is good (or accepted): now the address's. */
	if (ipname[0] != '\0') {
		ipact = hostkey_decide_ip(st, ipst, cfg->strict, can_ask, &warn);
		snprintf(prompt, sizeof(prompt), "the %s host key for %s differs from the key "
		    "for the IP address %s (%s)", kt->label, name, ipname, ipwhere);
		if (ipact == HOSTKEY_REFUSE) {
			snprintf(err, errlen, "%s%s", prompt, ipst == HOSTKEY_REVOKED ?
			    ": that key is revoked for the address" :
			    ", and StrictHostKeyChecking is not off: remove the address's old "
			    "key if the change is expected");
			goto out;
		}
		if (ipact == HOSTKEY_ASK) {
			snprintf(prompt + strlen(prompt), sizeof(prompt) - strlen(prompt),
			    ".\nAre you sure you want to continue connecting (yes/no)? ");
			prompt[0] = 'T';
			if (!kh_confirm(prompt, fp)) {
				snprintf(err, errlen, "host key for %s (%s %s) was not accepted: it "
				    "differs from the key for the IP address %s", name, kt->label, fp,
				    ipname);
				goto out;
			}
		}
		if (warn)
			log_warn("%s", prompt);
	}
	rc = 0;
	/* Recorded only in the user's first file, under the alias when
	 * there is one; with CheckHostIP a new host is recorded with its
	 * address on the same line, as ssh writes it. */
	if (act == HOSTKEY_ACCEPT_ADD || act == HOSTKEY_ASK) {
		if (ipact == HOSTKEY_ACCEPT_ADD) {
			snprintf(both, sizeof(both), "%s,%s", name, ipname);
			kh_record(s, cfg, both, key, keylen, kt, fp);
		} else
			kh_record(s, cfg, name, key, keylen, kt, fp);
	} else if (ipact == HOSTKEY_ACCEPT_ADD)
		kh_record(s, cfg, ipname, key, keylen, kt, fp);
out:
	free(b64);
	return rc;
}
