/* SPDX-License-Identifier: ISC */
/*
 * sshconfig.c - what OpenSSH's configuration says about one destination:
 * the -r argument taken apart, the keywords we use (sshcfg_apply(), fed
 * by sshconfig_run.c or sshconfig_file.c), and the finished result with
 * defaults, overrides and expanded paths.
 *
 * The authority is `ssh -G`: it applies Match, Include, canonicalisation
 * and ssh's own defaults exactly as the real client would.  Only when
 * ssh is not installed (or the caller asks) do we read the files
 * ourselves, with the subset of ssh_config(5) that matters for making
 * one connection: Host and simple Match blocks, Include, "first value
 * wins", and the keywords of struct sshcfg.
 *
 * Two things ssh -G leaves to us in both modes: it prints IdentityFile
 * with '~' and %-tokens unexpanded (OpenSSH expands them only when it
 * loads the keys), so every path goes through sshcfg_expand().
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sshconfig.h"
#include "sshconfig_priv.h"

/* Values for %-tokens and '~'. */
struct sshcfg_tokens {
	const char	*home;		/* %d, ~ */
	const char	*local_user;	/* %u */
	const char	*user;		/* %r */
	const char	*hostname;	/* %h */
	const char	*alias;		/* %n */
	int		 port;		/* %p */
};

static void
sshcfg_raw_init(struct sshcfg_raw *raw)
{
	memset(raw, 0, sizeof(*raw));
	raw->port = raw->identities_only = raw->strict = -1;
	raw->connect_timeout = -1;
	raw->pubkey_auth = raw->password_auth = raw->kbdint_auth = -1;
	raw->password_prompts = raw->batch_mode = raw->check_host_ip = -1;
}

static void
sshcfg_raw_free(struct sshcfg_raw *raw)
{
	int i;

	free(raw->hostname);
	free(raw->user);
	free(raw->proxy_jump);
	free(raw->proxy_command);
	free(raw->identity_agent);
	for (i = 0; i < raw->nknown_hosts; i++)
		free(raw->known_hosts[i]);
	for (i = 0; i < raw->nidentity; i++)
		free(raw->identity[i]);
	free(raw->preferred_auth);
	free(raw->host_key_alias);
	for (i = 0; i < raw->nglobal_known_hosts; i++)
		free(raw->global_known_hosts[i]);
	memset(raw, 0, sizeof(*raw));
}

static void
sshcfg_remote_free(struct sshcfg_remote *r)
{
	free(r->user);
	free(r->host);
	memset(r, 0, sizeof(*r));
}

static bool
sshcfg_port(const char *s, int *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
		return false;
	*out = (int)v;
	return true;
}

/*
 * "[user@]host[:port]", with "[v6addr]:port" for IPv6 and a bare IPv6
 * address taken whole.  The user is what precedes the last '@', as ssh
 * reads "user@domain@host".
 */
static int
sshcfg_parse_remote(const char *remote, struct sshcfg_remote *r, char *err,
    size_t errlen)
{
	const char *at, *host, *close, *colon, *p, *portstr = NULL;
	size_t hlen;

	memset(r, 0, sizeof(*r));
	if (remote == NULL || *remote == '\0')
		return sshcfg_fail(err, errlen, "empty remote");
	for (p = remote; *p != '\0'; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return sshcfg_fail(err, errlen, "remote \"%s\": "
			    "unexpected space or control character", remote);
	host = remote;
	if ((at = strrchr(remote, '@')) != NULL) {
		if (at == remote)
			return sshcfg_fail(err, errlen, "remote \"%s\": empty "
			    "user name", remote);
		if ((r->user = strndup(remote, (size_t)(at - remote))) == NULL)
			goto nomem;
		host = at + 1;
	}
	if (*host == '[') {
		if ((close = strchr(host, ']')) == NULL ||
		    (close[1] != '\0' && close[1] != ':')) {
			sshcfg_fail(err, errlen, "remote \"%s\": bad [address]",
			    remote);
			goto fail;
		}
		host++;
		hlen = (size_t)(close - host);
		if (close[1] == ':')
			portstr = close + 2;
	} else if ((colon = strchr(host, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		hlen = (size_t)(colon - host);
		portstr = colon + 1;
	} else
		hlen = strlen(host);	/* no port, or a bare IPv6 address */
	if (hlen == 0) {
		sshcfg_fail(err, errlen, "remote \"%s\": empty host name",
		    remote);
		goto fail;
	}
	/* ssh would take a leading '-' for an option. */
	if (*host == '-') {
		sshcfg_fail(err, errlen, "remote \"%s\": host name must not "
		    "start with '-'", remote);
		goto fail;
	}
	if (portstr != NULL && !sshcfg_port(portstr, &r->port)) {
		sshcfg_fail(err, errlen, "remote \"%s\": port must be 1-65535",
		    remote);
		goto fail;
	}
	if ((r->host = strndup(host, hlen)) == NULL)
		goto nomem;
	return 0;
 nomem:
	sshcfg_fail(err, errlen, "out of memory");
 fail:
	sshcfg_remote_free(r);
	return -1;
}

/* ssh_config time format: 90, 90s, 1m30s, 2h, 1d, 1w; "none" is 0. */
static bool
sshcfg_time(const char *s, int *out)
{
	long long total = 0, v, mult;

	if (strcasecmp(s, "none") == 0) {
		*out = 0;
		return true;
	}
	if (*s == '\0')
		return false;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return false;
		for (v = 0; isdigit((unsigned char)*s); s++) {
			v = v * 10 + (*s - '0');
			if (v > INT_MAX)
				return false;
		}
		switch (*s) {
		case '\0':
			mult = 1;
			break;
		case 's': case 'S':
			mult = 1;
			s++;
			break;
		case 'm': case 'M':
			mult = 60;
			s++;
			break;
		case 'h': case 'H':
			mult = 3600;
			s++;
			break;
		case 'd': case 'D':
			mult = 86400;
			s++;
			break;
		case 'w': case 'W':
			mult = 604800;
			s++;
			break;
		default:
			return false;
		}
		total += v * mult;
		if (total > INT_MAX)
			return false;
	}
	*out = (int)total;
	return true;
}

static int
sshcfg_yesno(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0)
		return 1;
	/* PubkeyAuthentication's kinds of yes (OpenSSH 8.9 on). */
	if (strcasecmp(s, "unbound") == 0 || strcasecmp(s, "host-bound") == 0)
		return 1;
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0)
		return 0;
	return -1;
}

static int
sshcfg_strict(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0)
		return SSHCFG_STRICT_YES;
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "off") == 0)
		return SSHCFG_STRICT_NO;
	if (strcasecmp(s, "accept-new") == 0)
		return SSHCFG_STRICT_ACCEPT_NEW;
	if (strcasecmp(s, "ask") == 0)
		return SSHCFG_STRICT_ASK;
	return -1;
}

/* Set *dst to a copy of v unless a value was already obtained. */
static int
sshcfg_first(char **dst, const char *v, char *why, size_t whylen)
{
	if (*dst != NULL)
		return 0;
	if ((*dst = strdup(v)) == NULL)
		return sshcfg_fail(why, whylen, "out of memory");
	return 0;
}

/* A list of files (UserKnownHostsFile, GlobalKnownHostsFile): the first
 * line wins whole; "none" alone is no file. */
static int
sshcfg_files(char **list, int *n, bool *set, const char *key, char **av, int ac,
    char *why, size_t whylen)
{
	int	i;

	if (ac < 1)
		return sshcfg_fail(why, whylen, "%s needs an argument", key);
	if (ac > SSHCFG_MAX_KNOWNHOSTS)
		return sshcfg_fail(why, whylen, "more than %d files for %s",
		    SSHCFG_MAX_KNOWNHOSTS, key);
	if (*set)
		return 0;
	*set = true;
	if (ac == 1 && strcasecmp(av[0], "none") == 0)
		return 0;
	for (i = 0; i < ac; i++) {
		if ((list[i] = strdup(av[i])) == NULL)
			return sshcfg_fail(why, whylen, "out of memory");
		(*n)++;
	}
	return 0;
}

/* A yes/no keyword into *dst, unless a value was already obtained. */
static int
sshcfg_flag(int *dst, const char *key, const char *v, char *why, size_t whylen)
{
	int	x;

	if ((x = sshcfg_yesno(v)) == -1)
		return sshcfg_fail(why, whylen, "%s: expected yes or no, not \"%s\"", key, v);
	if (*dst == -1)
		*dst = x;
	return 0;
}

/* See sshconfig_priv.h. */
int
sshcfg_apply(struct sshcfg_raw *raw, const char *key, char **av, int ac,
    const char *rest, bool from_ssh, char *why, size_t whylen)
{
	const char *v;
	char *end = NULL;
	int x;

	if (strcasecmp(key, "proxycommand") == 0) {
		if (*rest == '\0')
			return sshcfg_fail(why, whylen, "%s needs an argument", key);
		return sshcfg_first(&raw->proxy_command, rest, why, whylen);
	}
	if (strcasecmp(key, "userknownhostsfile") == 0)
		return sshcfg_files(raw->known_hosts, &raw->nknown_hosts,
		    &raw->known_hosts_set, key, av, ac, why, whylen);
	if (strcasecmp(key, "globalknownhostsfile") == 0)
		return sshcfg_files(raw->global_known_hosts, &raw->nglobal_known_hosts,
		    &raw->global_known_hosts_set, key, av, ac, why, whylen);

	/* Everything else takes exactly one value. */
	if (strcasecmp(key, "hostname") != 0 && strcasecmp(key, "user") != 0 &&
	    strcasecmp(key, "port") != 0 && strcasecmp(key, "identityfile") != 0 &&
	    strcasecmp(key, "identitiesonly") != 0 &&
	    strcasecmp(key, "stricthostkeychecking") != 0 &&
	    strcasecmp(key, "connecttimeout") != 0 &&
	    strcasecmp(key, "proxyjump") != 0 &&
	    strcasecmp(key, "identityagent") != 0 &&
	    strcasecmp(key, "pubkeyauthentication") != 0 &&
	    strcasecmp(key, "passwordauthentication") != 0 &&
	    strcasecmp(key, "kbdinteractiveauthentication") != 0 &&
	    strcasecmp(key, "challengeresponseauthentication") != 0 &&
	    strcasecmp(key, "preferredauthentications") != 0 &&
	    strcasecmp(key, "numberofpasswordprompts") != 0 &&
	    strcasecmp(key, "batchmode") != 0 &&
	    strcasecmp(key, "hostkeyalias") != 0 &&
	    strcasecmp(key, "checkhostip") != 0)
		return 0;
	if (from_ssh)
		v = rest;
	else if (ac == 1)
		v = av[0];
	else
		return sshcfg_fail(why, whylen, ac == 0 ? "%s needs an argument" :
		    "%s takes one argument", key);
	if (*v == '\0')
		return sshcfg_fail(why, whylen, "%s needs an argument", key);

	if (strcasecmp(key, "hostname") == 0)
		return sshcfg_first(&raw->hostname, v, why, whylen);
	if (strcasecmp(key, "user") == 0)
		return sshcfg_first(&raw->user, v, why, whylen);
	if (strcasecmp(key, "proxyjump") == 0)
		return sshcfg_first(&raw->proxy_jump, v, why, whylen);
	if (strcasecmp(key, "identityagent") == 0)
		return sshcfg_first(&raw->identity_agent, v, why, whylen);
	if (strcasecmp(key, "preferredauthentications") == 0)
		return sshcfg_first(&raw->preferred_auth, v, why, whylen);
	if (strcasecmp(key, "hostkeyalias") == 0)
		return sshcfg_first(&raw->host_key_alias, v, why, whylen);
	if (strcasecmp(key, "pubkeyauthentication") == 0)
		return sshcfg_flag(&raw->pubkey_auth, key, v, why, whylen);
	if (strcasecmp(key, "passwordauthentication") == 0)
		return sshcfg_flag(&raw->password_auth, key, v, why, whylen);
	/* ChallengeResponseAuthentication is the older name of the same. */
	if (strcasecmp(key, "kbdinteractiveauthentication") == 0 ||
	    strcasecmp(key, "challengeresponseauthentication") == 0)
		return sshcfg_flag(&raw->kbdint_auth, key, v, why, whylen);
	if (strcasecmp(key, "batchmode") == 0)
		return sshcfg_flag(&raw->batch_mode, key, v, why, whylen);
	if (strcasecmp(key, "checkhostip") == 0)
		return sshcfg_flag(&raw->check_host_ip, key, v, why, whylen);
	if (strcasecmp(key, "numberofpasswordprompts") == 0) {
		errno = 0;
		x = isdigit((unsigned char)*v) ? (int)strtol(v, &end, 10) : -1;
		if (x < 0 || errno != 0 || *end != '\0' || x > 1000)
			return sshcfg_fail(why, whylen, "%s: bad number \"%s\"", key, v);
		if (raw->password_prompts == -1)
			raw->password_prompts = x;
		return 0;
	}
	if (strcasecmp(key, "identityfile") == 0) {
		/* Cumulative, as in ssh; the excess is not tried. */
		if (strcasecmp(v, "none") == 0 ||
		    raw->nidentity == SSHCFG_MAX_IDENTITIES)
			return 0;
		if ((raw->identity[raw->nidentity] = strdup(v)) == NULL)
			return sshcfg_fail(why, whylen, "out of memory");
		raw->nidentity++;
		return 0;
	}
	if (strcasecmp(key, "port") == 0) {
		if (!sshcfg_port(v, &x))
			return sshcfg_fail(why, whylen, "bad port \"%s\"", v);
		if (raw->port == -1)
			raw->port = x;
		return 0;
	}
	if (strcasecmp(key, "identitiesonly") == 0) {
		if ((x = sshcfg_yesno(v)) == -1)
			return sshcfg_fail(why, whylen, "%s: expected yes or no, "
			    "not \"%s\"", key, v);
		if (raw->identities_only == -1)
			raw->identities_only = x;
		return 0;
	}
	if (strcasecmp(key, "stricthostkeychecking") == 0) {
		if ((x = sshcfg_strict(v)) == -1)
			return sshcfg_fail(why, whylen, "%s: bad value \"%s\"",
			    key, v);
		if (raw->strict == -1)
			raw->strict = x;
		return 0;
	}
	/* connecttimeout */
	if (!sshcfg_time(v, &x))
		return sshcfg_fail(why, whylen, "%s: bad time \"%s\"", key, v);
	if (raw->connect_timeout == -1)
		raw->connect_timeout = x;
	return 0;
}


/* Append s[0..n) to the string being built in buf. */
static bool
sshcfg_cat(char *buf, size_t *len, const char *s, size_t n)
{
	if (*len + n >= SSHCFG_MAX_PATH)
		return false;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
	return true;
}

/*
 * Expand a leading '~' or '~user' and the %-tokens ssh_config(5)
 * defines for paths: %% %d %h %i %L %l %n %p %r %u.  Others (%C, %k...)
 * are left as written.  Returns a new string or NULL (too long, or out
 * of memory).
 */
static char *
sshcfg_expand(const char *in, const struct sshcfg_tokens *tk)
{
	char buf[SSHCFG_MAX_PATH], num[32], host[256], name[256];
	const char *p = in, *v, *slash;
	struct passwd *pw;
	size_t len = 0, nlen;

	buf[0] = '\0';
	if (*p == '~') {
		slash = strchr(p, '/');
		nlen = slash != NULL ? (size_t)(slash - p - 1) : strlen(p + 1);
		if (nlen == 0) {
			if (!sshcfg_cat(buf, &len, tk->home, strlen(tk->home)))
				return NULL;
			p += 1;
		} else if (nlen < sizeof(name)) {
			memcpy(name, p + 1, nlen);
			name[nlen] = '\0';
			if ((pw = getpwnam(name)) != NULL) {
				if (!sshcfg_cat(buf, &len, pw->pw_dir,
				    strlen(pw->pw_dir)))
					return NULL;
				p += 1 + nlen;
			}
		}
	}
	for (; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0') {
			if (!sshcfg_cat(buf, &len, p, 1))
				return NULL;
			continue;
		}
		v = NULL;
		switch (*++p) {
		case '%':
			v = "%";
			break;
		case 'd':
			v = tk->home;
			break;
		case 'h':
			v = tk->hostname;
			break;
		case 'i':
			snprintf(num, sizeof(num), "%u", (unsigned)getuid());
			v = num;
			break;
		case 'l':
		case 'L':
			if (gethostname(host, sizeof(host)) != 0)
				host[0] = '\0';
			host[sizeof(host) - 1] = '\0';
			if (*p == 'L')
				host[strcspn(host, ".")] = '\0';
			v = host;
			break;
		case 'n':
			v = tk->alias;
			break;
		case 'p':
			snprintf(num, sizeof(num), "%d", tk->port);
			v = num;
			break;
		case 'r':
			v = tk->user;
			break;
		case 'u':
			v = tk->local_user;
			break;
		default:
			if (!sshcfg_cat(buf, &len, p - 1, 2))
				return NULL;
			continue;
		}
		if (!sshcfg_cat(buf, &len, v, strlen(v)))
			return NULL;
	}
	return strdup(buf);
}

/* The local user's name and home directory. */
static int
sshcfg_local_user(char *user, size_t ulen, char *home, size_t hlen,
    char *err, size_t errlen)
{
	struct passwd *pw = getpwuid(getuid());
	const char *u = pw != NULL ? pw->pw_name : getenv("USER");
	const char *h = getenv("HOME");

	if (h == NULL || *h == '\0')
		h = pw != NULL ? pw->pw_dir : "/";
	if (u == NULL || *u == '\0')
		return sshcfg_fail(err, errlen, "cannot find the local user "
		    "name (uid %u)", (unsigned)getuid());
	if ((size_t)snprintf(user, ulen, "%s", u) >= ulen ||
	    (size_t)snprintf(home, hlen, "%s", h) >= hlen)
		return sshcfg_fail(err, errlen, "local user name or home "
		    "directory too long");
	return 0;
}

/* Turn raw values into *cfg: defaults, overrides, expansion. */
static int
sshcfg_finish(struct sshcfg *cfg, const struct sshcfg_raw *raw,
    const struct sshcfg_remote *r, bool from_ssh, const char *local_user,
    const char *home, char *err, size_t errlen)
{
	static const char *const def_ids[] = {
		"~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa",
	};
	static const char *const def_kh[] = {
		"~/.ssh/known_hosts", "~/.ssh/known_hosts2",
	};
	static const char *const def_gkh[] = {
		"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2",
	};
	struct sshcfg_tokens tk;
	const char *const *list, *agent, *env;
	int i, n;

	if ((cfg->alias = strdup(r->host)) == NULL)
		goto nomem;
	/* ssh -G has already expanded %h in HostName; the file has not. */
	memset(&tk, 0, sizeof(tk));
	tk.home = home;
	tk.local_user = local_user;
	tk.alias = tk.hostname = r->host;
	tk.user = local_user;
	if (raw->hostname == NULL)
		cfg->hostname = strdup(r->host);
	else if (from_ssh)
		cfg->hostname = strdup(raw->hostname);
	else
		cfg->hostname = sshcfg_expand(raw->hostname, &tk);
	if (cfg->hostname == NULL)
		goto nomem;
	cfg->user = strdup(r->user != NULL ? r->user :
	    raw->user != NULL ? raw->user : local_user);
	if (cfg->user == NULL)
		goto nomem;
	cfg->port = r->port != 0 ? r->port : raw->port != -1 ? raw->port : 22;
	cfg->identities_only = raw->identities_only == 1;
	cfg->strict = raw->strict != -1 ? (enum sshcfg_strict)raw->strict :
	    SSHCFG_STRICT_ASK;
	cfg->connect_timeout = raw->connect_timeout != -1 ?
	    raw->connect_timeout : 0;

	tk.hostname = cfg->hostname;
	tk.user = cfg->user;
	tk.port = cfg->port;

	if (raw->nidentity > 0) {
		list = (const char *const *)raw->identity;
		n = raw->nidentity;
	} else {
		list = def_ids;
		n = (int)(sizeof(def_ids) / sizeof(def_ids[0]));
	}
	for (i = 0; i < n; i++) {
		if ((cfg->identity[i] = sshcfg_expand(list[i], &tk)) == NULL)
			goto nomem;
		cfg->nidentity++;
	}
	if (raw->known_hosts_set) {
		list = (const char *const *)raw->known_hosts;
		n = raw->nknown_hosts;
	} else {
		list = def_kh;
		n = (int)(sizeof(def_kh) / sizeof(def_kh[0]));
	}
	for (i = 0; i < n; i++) {
		if ((cfg->known_hosts[i] = sshcfg_expand(list[i], &tk)) == NULL)
			goto nomem;
		cfg->nknown_hosts++;
	}

	if (raw->global_known_hosts_set) {
		list = (const char *const *)raw->global_known_hosts;
		n = raw->nglobal_known_hosts;
	} else {
		list = def_gkh;
		n = (int)(sizeof(def_gkh) / sizeof(def_gkh[0]));
	}
	for (i = 0; i < n; i++) {
		if ((cfg->global_known_hosts[i] = sshcfg_expand(list[i], &tk)) == NULL)
			goto nomem;
		cfg->nglobal_known_hosts++;
	}
	cfg->no_pubkey = raw->pubkey_auth == 0;
	cfg->no_password = raw->password_auth == 0;
	cfg->no_kbdint = raw->kbdint_auth == 0;
	cfg->batch_mode = raw->batch_mode == 1;
	cfg->check_host_ip = raw->check_host_ip == 1;
	cfg->password_prompts = raw->password_prompts != -1 ? raw->password_prompts : 3;
	if (raw->preferred_auth != NULL &&
	    (cfg->preferred_auth = strdup(raw->preferred_auth)) == NULL)
		goto nomem;
	/* As ssh, "none" is no alias; %-tokens are not expanded in it. */
	if (raw->host_key_alias != NULL && strcasecmp(raw->host_key_alias, "none") != 0 &&
	    (cfg->host_key_alias = strdup(raw->host_key_alias)) == NULL)
		goto nomem;

	if (raw->proxy_jump != NULL && strcasecmp(raw->proxy_jump, "none") != 0 &&
	    (cfg->proxy_jump = strdup(raw->proxy_jump)) == NULL)
		goto nomem;
	if (raw->proxy_command != NULL &&
	    strcasecmp(raw->proxy_command, "none") != 0 &&
	    (cfg->proxy_command = strdup(raw->proxy_command)) == NULL)
		goto nomem;

	/* IdentityAgent: SSH_AUTH_SOCK means the usual variable (NULL
	 * here), $NAME another variable, "none" no agent. */
	if ((agent = raw->identity_agent) != NULL &&
	    strcmp(agent, "SSH_AUTH_SOCK") != 0) {
		if (strcasecmp(agent, "none") == 0)
			cfg->identity_agent = strdup("none");
		else if (agent[0] == '$') {
			env = getenv(agent + 1);
			cfg->identity_agent = strdup(env != NULL && *env != '\0' ?
			    env : "none");
		} else
			cfg->identity_agent = sshcfg_expand(agent, &tk);
		if (cfg->identity_agent == NULL)
			goto nomem;
	}
	return 0;
 nomem:
	return sshcfg_fail(err, errlen, "out of memory or path too long");
}

int
sshcfg_resolve_ex(struct sshcfg *cfg, const char *remote,
    const char *config_file, unsigned int flags, char *err, size_t errlen)
{
	struct sshcfg_remote r;
	struct sshcfg_raw raw;
	struct sshcfg_target t;
	char ssh[SSHCFG_MAX_PATH], user[256], home[SSHCFG_MAX_PATH];
	char path[SSHCFG_MAX_PATH + 16];
	bool from_ssh;
	int ret = -1;

	memset(cfg, 0, sizeof(*cfg));
	sshcfg_raw_init(&raw);
	if (err != NULL && errlen > 0)
		*err = '\0';
	if (sshcfg_parse_remote(remote, &r, err, errlen) != 0)
		return -1;
	if (sshcfg_local_user(user, sizeof(user), home, sizeof(home),
	    err, errlen) != 0)
		goto out;

	from_ssh = !(flags & SSHCFG_F_NO_SSH) && sshcfg_run_find(ssh, sizeof(ssh));
	if (from_ssh) {
		if (sshcfg_run(ssh, &r, config_file, &raw, err, errlen) != 0)
			goto out;
	} else {
		memset(&t, 0, sizeof(t));
		t.remote = &r;
		t.local_user = user;
		t.home = home;
		if (config_file != NULL) {
			t.user_file = true;
			if (sshcfg_file_read(&raw, &t, config_file, true, 0,
			    err, errlen) != 0)
				goto out;
		} else {
			/* As ssh: the user's file first, so it wins. */
			snprintf(path, sizeof(path), "%s/.ssh/config", home);
			t.user_file = true;
			if (sshcfg_file_read(&raw, &t, path, false, 0,
			    err, errlen) != 0)
				goto out;
			t.user_file = false;
			if (sshcfg_file_read(&raw, &t, "/etc/ssh/ssh_config",
			    false, 0, err, errlen) != 0)
				goto out;
		}
	}
	ret = sshcfg_finish(cfg, &raw, &r, from_ssh, user, home, err, errlen);
 out:
	if (ret != 0)
		sshcfg_free(cfg);
	sshcfg_raw_free(&raw);
	sshcfg_remote_free(&r);
	return ret;
}

int
sshcfg_resolve(struct sshcfg *cfg, const char *remote, const char *config_file,
    char *err, size_t errlen)
{
	return sshcfg_resolve_ex(cfg, remote, config_file, 0, err, errlen);
}

void
sshcfg_free(struct sshcfg *cfg)
{
	int i;

	if (cfg == NULL)
		return;
	free(cfg->alias);
	free(cfg->hostname);
	free(cfg->user);
	for (i = 0; i < cfg->nidentity; i++)
		free(cfg->identity[i]);
	for (i = 0; i < cfg->nknown_hosts; i++)
		free(cfg->known_hosts[i]);
	free(cfg->proxy_jump);
	free(cfg->proxy_command);
	free(cfg->identity_agent);
	free(cfg->preferred_auth);
	free(cfg->host_key_alias);
	for (i = 0; i < cfg->nglobal_known_hosts; i++)
		free(cfg->global_known_hosts[i]);
	memset(cfg, 0, sizeof(*cfg));
}

