/*
 * sshconfig.c - what OpenSSH's configuration says about one destination.
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
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "remote.h"
#include "sshconfig.h"

#define SSHCFG_SSH_TIMEOUT_MS	10000		/* ssh -G may run Match exec */
#define SSHCFG_MAX_OUTPUT	(256 * 1024)	/* ssh -G prints ~6 KiB */
#define SSHCFG_MAX_STDERR	4096
#define SSHCFG_MAX_LINE		8192
#define SSHCFG_MAX_ARGS		64
#define SSHCFG_MAX_DEPTH	16		/* Include nesting, as ssh */
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

/* Values for %-tokens and '~'. */
struct sshcfg_tokens {
	const char	*home;		/* %d, ~ */
	const char	*local_user;	/* %u */
	const char	*user;		/* %r */
	const char	*hostname;	/* %h */
	const char	*alias;		/* %n */
	int		 port;		/* %p */
};

static int __attribute__((format(printf, 3, 4)))
sshcfg_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void
sshcfg_raw_init(struct sshcfg_raw *raw)
{
	memset(raw, 0, sizeof(*raw));
	raw->port = raw->identities_only = raw->strict = -1;
	raw->connect_timeout = -1;
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

/*
 * Apply one "keyword arguments" line.  `av` holds the arguments split on
 * white space (quotes removed when reading a file); `rest` is everything
 * after the keyword as written.  `from_ssh` is set for ssh -G output,
 * where a value is always the whole rest of the line.  Keywords we do
 * not need are ignored.  Returns 0, or -1 with a reason in why.
 */
static int
sshcfg_apply(struct sshcfg_raw *raw, const char *key, char **av, int ac,
    const char *rest, bool from_ssh, char *why, size_t whylen)
{
	const char *v;
	int i, x;

	if (strcasecmp(key, "proxycommand") == 0) {
		if (*rest == '\0')
			return sshcfg_fail(why, whylen, "%s needs an argument", key);
		return sshcfg_first(&raw->proxy_command, rest, why, whylen);
	}
	if (strcasecmp(key, "userknownhostsfile") == 0) {
		if (ac < 1)
			return sshcfg_fail(why, whylen, "%s needs an argument", key);
		if (ac > SSHCFG_MAX_KNOWNHOSTS)
			return sshcfg_fail(why, whylen, "more than %d files for %s",
			    SSHCFG_MAX_KNOWNHOSTS, key);
		if (raw->known_hosts_set)
			return 0;
		raw->known_hosts_set = true;
		if (ac == 1 && strcasecmp(av[0], "none") == 0)
			return 0;
		for (i = 0; i < ac; i++) {
			if ((raw->known_hosts[i] = strdup(av[i])) == NULL)
				return sshcfg_fail(why, whylen, "out of memory");
			raw->nknown_hosts++;
		}
		return 0;
	}

	/* Everything else takes exactly one value. */
	if (strcasecmp(key, "hostname") != 0 && strcasecmp(key, "user") != 0 &&
	    strcasecmp(key, "port") != 0 && strcasecmp(key, "identityfile") != 0 &&
	    strcasecmp(key, "identitiesonly") != 0 &&
	    strcasecmp(key, "stricthostkeychecking") != 0 &&
	    strcasecmp(key, "connecttimeout") != 0 &&
	    strcasecmp(key, "proxyjump") != 0 &&
	    strcasecmp(key, "identityagent") != 0)
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

/* Case-insensitive glob with '*' and '?', as ssh matches host names. */
static bool
sshcfg_glob(const char *s, const char *p)
{
	for (; *p != '\0'; s++, p++) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (*p == '\0')
				return true;
			for (; *s != '\0'; s++)
				if (sshcfg_glob(s, p))
					return true;
			return false;
		}
		if (*s == '\0')
			return false;
		if (*p != '?' && tolower((unsigned char)*p) !=
		    tolower((unsigned char)*s))
			return false;
	}
	return *s == '\0';
}

/*
 * A pattern list matches when some positive pattern matches and no
 * negated ("!pat") one does: a negation vetoes the whole list.
 */
static bool
sshcfg_match_patterns(const char *s, char **pats, int n)
{
	bool hit = false;
	int i;

	for (i = 0; i < n; i++) {
		if (pats[i][0] == '!') {
			if (sshcfg_glob(s, pats[i] + 1))
				return false;
		} else if (sshcfg_glob(s, pats[i]))
			hit = true;
	}
	return hit;
}

/* Same for a comma-separated list ("a,b,!c"), as Match takes them. */
static bool
sshcfg_match_csv(const char *s, const char *csv)
{
	char *copy, *tok, *save, *pats[SSHCFG_MAX_ARGS];
	int n = 0;
	bool r;

	if ((copy = strdup(csv)) == NULL)
		return false;
	for (tok = strtok_r(copy, ",", &save); tok != NULL && n < SSHCFG_MAX_ARGS;
	    tok = strtok_r(NULL, ",", &save))
		pats[n++] = tok;
	r = sshcfg_match_patterns(s, pats, n);
	free(copy);
	return r;
}

/*
 * Evaluate "Match criteria...".  Criteria that need ssh itself (exec,
 * canonical, final, localnetwork, tagged) are taken as not matching, so
 * such a block is skipped rather than applied wrongly.
 */
static int
sshcfg_match(const struct sshcfg_raw *raw, const struct sshcfg_target *t,
    char **av, int ac, bool *active, char *why, size_t whylen)
{
	static const char *const unsupported[] = {
		"canonical", "final", "exec", "localnetwork", "tagged", NULL,
	};
	const char *crit, *subject;
	bool result = true, neg, hit;
	int i, j;

	if (ac == 0)
		return sshcfg_fail(why, whylen, "Match needs criteria");
	for (i = 0; i < ac; i++) {
		crit = av[i];
		if ((neg = crit[0] == '!'))
			crit++;
		if (strcasecmp(crit, "all") == 0) {
			hit = true;
			goto next;
		}
		for (j = 0; unsupported[j] != NULL; j++)
			if (strcasecmp(crit, unsupported[j]) == 0)
				break;
		if (unsupported[j] != NULL) {
			/* Most of these take an argument; skip it. */
			if (strcasecmp(crit, "canonical") != 0 &&
			    strcasecmp(crit, "final") != 0 && i + 1 < ac)
				i++;
			result = false;
			continue;
		}
		if (strcasecmp(crit, "host") == 0)
			subject = raw->hostname != NULL ? raw->hostname :
			    t->remote->host;
		else if (strcasecmp(crit, "originalhost") == 0)
			subject = t->remote->host;
		else if (strcasecmp(crit, "user") == 0)
			subject = t->remote->user != NULL ? t->remote->user :
			    raw->user != NULL ? raw->user : t->local_user;
		else if (strcasecmp(crit, "localuser") == 0)
			subject = t->local_user;
		else
			return sshcfg_fail(why, whylen, "unknown Match criterion "
			    "\"%s\"", crit);
		if (i + 1 >= ac)
			return sshcfg_fail(why, whylen, "Match %s needs an "
			    "argument", crit);
		hit = sshcfg_match_csv(subject, av[++i]);
 next:
		if (hit == neg)
			result = false;
	}
	*active = result;
	return 0;
}

/*
 * Split a configuration line into words in place: white space
 * separates, "..." and '...' group, a backslash protects the next
 * quote, backslash or blank, and a word starting with '#' ends the
 * line.  Returns the word count, or -1 for an unterminated quote or too
 * many words.
 */
static int
sshcfg_split(char *s, char **av, int max)
{
	char *out, quote;
	int ac = 0;

	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0' || *s == '#')
			return ac;
		if (ac == max)
			return -1;
		av[ac++] = out = s;
		quote = '\0';
		for (; *s != '\0'; s++) {
			if (quote == '\0' && isspace((unsigned char)*s))
				break;
			if (*s == '\\' && (s[1] == '"' || s[1] == '\'' ||
			    s[1] == '\\' || s[1] == ' ')) {
				*out++ = *++s;
			} else if (quote == '\0' && (*s == '"' || *s == '\'')) {
				quote = *s;
			} else if (quote != '\0' && *s == quote) {
				quote = '\0';
			} else
				*out++ = *s;
		}
		if (quote != '\0')
			return -1;
		if (*s != '\0')
			s++;
		*out = '\0';
	}
}

static int sshcfg_read_file(struct sshcfg_raw *, const struct sshcfg_target *,
    const char *, bool, int, char *, size_t);

/* "Include pattern...": relative patterns live in ~/.ssh or /etc/ssh. */
static int
sshcfg_include(struct sshcfg_raw *raw, const struct sshcfg_target *t,
    char **av, int ac, int depth, const char *where, char *err, size_t errlen)
{
	char pat[SSHCFG_MAX_PATH];
	glob_t g;
	size_t k;
	int i, r, n;

	if (ac == 0)
		return sshcfg_fail(err, errlen, "%s: Include needs an argument",
		    where);
	for (i = 0; i < ac; i++) {
		if (strncmp(av[i], "~/", 2) == 0)
			n = snprintf(pat, sizeof(pat), "%s/%s", t->home, av[i] + 2);
		else if (av[i][0] == '/')
			n = snprintf(pat, sizeof(pat), "%s", av[i]);
		else if (t->user_file)
			n = snprintf(pat, sizeof(pat), "%s/.ssh/%s", t->home, av[i]);
		else
			n = snprintf(pat, sizeof(pat), "/etc/ssh/%s", av[i]);
		if (n < 0 || (size_t)n >= sizeof(pat))
			return sshcfg_fail(err, errlen, "%s: Include path too "
			    "long", where);
		memset(&g, 0, sizeof(g));
		r = glob(pat, 0, NULL, &g);
		if (r == GLOB_NOMATCH)
			continue;
		if (r != 0) {
			globfree(&g);
			return sshcfg_fail(err, errlen, "%s: Include \"%s\": glob "
			    "failed", where, av[i]);
		}
		for (k = 0; k < g.gl_pathc; k++) {
			if (sshcfg_read_file(raw, t, g.gl_pathv[k], true,
			    depth + 1, err, errlen) != 0) {
				globfree(&g);
				return -1;
			}
		}
		globfree(&g);
	}
	return 0;
}

/*
 * One "Keyword arguments" line of a file.  Host and Match set *active;
 * other lines count only while it is true.
 */
static int
sshcfg_line(struct sshcfg_raw *raw, const struct sshcfg_target *t,
    const char *key, const char *rest, int depth, const char *where,
    bool *active, char *err, size_t errlen)
{
	char copy[SSHCFG_MAX_LINE + 1], *av[SSHCFG_MAX_ARGS], why[512];
	int ac;

	/* `rest` stays intact for ProxyCommand; the words come from a copy. */
	snprintf(copy, sizeof(copy), "%s", rest);
	if ((ac = sshcfg_split(copy, av, SSHCFG_MAX_ARGS)) < 0)
		return sshcfg_fail(err, errlen, "%s: unterminated quote or too "
		    "many arguments", where);
	if (strcasecmp(key, "host") == 0) {
		if (ac == 0)
			return sshcfg_fail(err, errlen, "%s: Host needs a "
			    "pattern", where);
		*active = sshcfg_match_patterns(t->remote->host, av, ac);
		return 0;
	}
	if (strcasecmp(key, "match") == 0) {
		if (sshcfg_match(raw, t, av, ac, active, why, sizeof(why)) != 0)
			return sshcfg_fail(err, errlen, "%s: %s", where, why);
		return 0;
	}
	if (!*active)
		return 0;
	if (strcasecmp(key, "include") == 0)
		return sshcfg_include(raw, t, av, ac, depth, where, err, errlen);
	if (sshcfg_apply(raw, key, av, ac, rest, false, why, sizeof(why)) != 0)
		return sshcfg_fail(err, errlen, "%s: %s", where, why);
	return 0;
}

/*
 * Read one file.  Options before the first Host/Match line apply to
 * every host; a Host or Match line decides whether the lines up to the
 * next one apply.  A missing file is an error only when `must_exist`.
 */
static int
sshcfg_read_file(struct sshcfg_raw *raw, const struct sshcfg_target *t,
    const char *path, bool must_exist, int depth, char *err, size_t errlen)
{
	char *line = NULL, *p, *key, *rest, *end;
	char where[SSHCFG_MAX_PATH + 64];
	size_t cap = 0, keylen;
	ssize_t len;
	FILE *f;
	bool active = true;
	int lineno = 0, ret = -1;

	if (depth > SSHCFG_MAX_DEPTH)
		return sshcfg_fail(err, errlen, "ssh config %s: Include nested "
		    "more than %d deep", path, SSHCFG_MAX_DEPTH);
	if ((f = fopen(path, "re")) == NULL) {
		if (!must_exist && errno == ENOENT)
			return 0;
		return sshcfg_fail(err, errlen, "cannot open ssh config %s: %s",
		    path, strerror(errno));
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		snprintf(where, sizeof(where), "ssh config %s line %d", path,
		    lineno);
		if (len > SSHCFG_MAX_LINE) {
			sshcfg_fail(err, errlen, "%s: line too long", where);
			goto out;
		}
		if ((size_t)len != strlen(line)) {
			sshcfg_fail(err, errlen, "%s: NUL byte", where);
			goto out;
		}
		for (p = line; isspace((unsigned char)*p); p++)
			;
		if (*p == '\0' || *p == '#')
			continue;
		/* "Key value", "Key=value" or "Key = value". */
		key = p;
		while (*p != '\0' && *p != '=' && !isspace((unsigned char)*p))
			p++;
		keylen = (size_t)(p - key);
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '=')
			p++;
		while (isspace((unsigned char)*p))
			p++;
		rest = p;
		end = rest + strlen(rest);
		while (end > rest && isspace((unsigned char)end[-1]))
			*--end = '\0';
		key[keylen] = '\0';	/* after rest was found: may be the '=' */
		if (keylen == 0) {
			sshcfg_fail(err, errlen, "%s: missing keyword", where);
			goto out;
		}
		if (sshcfg_line(raw, t, key, rest, depth, where, &active,
		    err, errlen) != 0)
			goto out;
	}
	if (ferror(f)) {
		sshcfg_fail(err, errlen, "cannot read ssh config %s: %s", path,
		    strerror(errno));
		goto out;
	}
	ret = 0;
 out:
	free(line);
	fclose(f);
	return ret;
}

/* The first executable `ssh` on $PATH, into buf. */
static bool
sshcfg_find_ssh(char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p, *colon;
	size_t dlen;
	int n;

	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = colon + 1) {
		colon = strchr(p, ':');
		dlen = colon != NULL ? (size_t)(colon - p) : strlen(p);
		/* An empty entry means the current directory: not for us. */
		if (dlen > 0) {
			n = snprintf(buf, len, "%.*s/ssh", (int)dlen, p);
			if (n > 0 && (size_t)n < len && access(buf, X_OK) == 0)
				return true;
		}
		if (colon == NULL)
			return false;
	}
}

/*
 * Run `ssh -G` and collect its standard output (NUL-terminated, in
 * *out).  No shell is involved, stdin is /dev/null, and both the time
 * and the amount of output are bounded; on either limit the child is
 * killed.
 */
static int
sshcfg_run_ssh(const char *ssh, const struct sshcfg_remote *r,
    const char *config_file, char **out, char *err, size_t errlen)
{
	const char *argv[12];
	char portstr[8], errbuf[SSHCFG_MAX_STDERR + 1], scratch[512];
	char *obuf = NULL;
	struct pollfd pfd[2];
	sigset_t mask;
	size_t olen = 0, elen = 0;
	long long deadline;
	ssize_t n;
	pid_t pid = -1;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, devnull = -1;
	int ac = 0, i, status, left, ret = -1;

	*out = NULL;
	argv[ac++] = ssh;
	argv[ac++] = "-G";
	if (config_file != NULL) {
		argv[ac++] = "-F";
		argv[ac++] = config_file;
	}
	if (r->user != NULL) {
		argv[ac++] = "-l";
		argv[ac++] = r->user;
	}
	if (r->port != 0) {
		snprintf(portstr, sizeof(portstr), "%d", r->port);
		argv[ac++] = "-p";
		argv[ac++] = portstr;
	}
	argv[ac++] = "--";
	argv[ac++] = r->host;
	argv[ac] = NULL;

	if ((obuf = malloc(SSHCFG_MAX_OUTPUT + 1)) == NULL) {
		sshcfg_fail(err, errlen, "out of memory");
		goto out;
	}
	if (pipe2(outp, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1 ||
	    (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		sshcfg_fail(err, errlen, "ssh -G: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) == -1) {
		sshcfg_fail(err, errlen, "ssh -G: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* Child: only async-signal-safe calls from here on.  The
		 * caller may block signals for its event loop; ssh should
		 * not inherit that, nor descriptors that lack O_CLOEXEC. */
		sigemptyset(&mask);
		sigprocmask(SIG_SETMASK, &mask, NULL);
		if (dup2(devnull, 0) == -1 || dup2(outp[1], 1) == -1 ||
		    dup2(errp[1], 2) == -1)
			_exit(127);
		(void)close_range(3, ~0U, 0);
		execv(ssh, (char *const *)argv);
		(void)!write(2, "exec failed\n", 12);
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;

	deadline = (int64_t)clock_ms() + SSHCFG_SSH_TIMEOUT_MS;
	pfd[0].fd = outp[0];
	pfd[1].fd = errp[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (pfd[0].fd != -1 || pfd[1].fd != -1) {
		if ((left = (int)(deadline - (int64_t)clock_ms())) <= 0) {
			sshcfg_fail(err, errlen, "ssh -G: no answer within %d s",
			    SSHCFG_SSH_TIMEOUT_MS / 1000);
			goto out;
		}
		if (poll(pfd, 2, left) == -1) {
			if (errno == EINTR)
				continue;
			sshcfg_fail(err, errlen, "ssh -G: poll: %s",
			    strerror(errno));
			goto out;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (i == 0)
				n = read(pfd[0].fd, obuf + olen,
				    SSHCFG_MAX_OUTPUT + 1 - olen);
			else if (elen < SSHCFG_MAX_STDERR)
				n = read(pfd[1].fd, errbuf + elen,
				    SSHCFG_MAX_STDERR - elen);
			else	/* keep draining so ssh never blocks */
				n = read(pfd[1].fd, scratch, sizeof(scratch));
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				pfd[i].fd = -1;	/* closed below */
				continue;
			}
			if (i == 0) {
				olen += (size_t)n;
				if (olen > SSHCFG_MAX_OUTPUT) {
					sshcfg_fail(err, errlen, "ssh -G: more "
					    "than %d bytes of output",
					    SSHCFG_MAX_OUTPUT);
					goto out;
				}
			} else if (elen < SSHCFG_MAX_STDERR)
				elen += (size_t)n;
		}
	}
	errbuf[elen] = '\0';
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			sshcfg_fail(err, errlen, "ssh -G: waitpid: %s",
			    strerror(errno));
			pid = -1;
			goto out;
		}
	}
	pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errbuf[strcspn(errbuf, "\r\n")] = '\0';
		if (*errbuf != '\0')
			sshcfg_fail(err, errlen, "ssh -G: %s", errbuf);
		else if (WIFEXITED(status))
			sshcfg_fail(err, errlen, "ssh -G exited with status %d",
			    WEXITSTATUS(status));
		else
			sshcfg_fail(err, errlen, "ssh -G killed by signal %d",
			    WTERMSIG(status));
		goto out;
	}
	if (memchr(obuf, '\0', olen) != NULL) {
		sshcfg_fail(err, errlen, "ssh -G: NUL byte in output");
		goto out;
	}
	obuf[olen] = '\0';
	*out = obuf;
	obuf = NULL;	/* transferred */
	ret = 0;
 out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	}
	for (i = 0; i < 2; i++) {
		if (outp[i] != -1)
			close(outp[i]);
		if (errp[i] != -1)
			close(errp[i]);
	}
	if (devnull != -1)
		close(devnull);
	free(obuf);
	return ret;
}

/* Feed ssh -G's "key value" lines to sshcfg_apply(). */
static int
sshcfg_parse_ssh_output(struct sshcfg_raw *raw, char *text, char *err,
    size_t errlen)
{
	char *line, *next, *sp, *av[SSHCFG_MAX_ARGS], *copy, *tok, *save;
	char why[512];
	int ac, r;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		if ((copy = strdup(sp)) == NULL)
			return sshcfg_fail(err, errlen, "out of memory");
		ac = 0;
		for (tok = strtok_r(copy, " ", &save); tok != NULL &&
		    ac < SSHCFG_MAX_ARGS; tok = strtok_r(NULL, " ", &save))
			av[ac++] = tok;
		r = sshcfg_apply(raw, line, av, ac, sp, true, why, sizeof(why));
		free(copy);
		if (r != 0)
			return sshcfg_fail(err, errlen, "ssh -G: %s", why);
	}
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
	char path[SSHCFG_MAX_PATH + 16], *text = NULL;
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

	from_ssh = !(flags & SSHCFG_F_NO_SSH) && sshcfg_find_ssh(ssh, sizeof(ssh));
	if (from_ssh) {
		if (sshcfg_run_ssh(ssh, &r, config_file, &text, err, errlen) != 0 ||
		    sshcfg_parse_ssh_output(&raw, text, err, errlen) != 0)
			goto out;
	} else {
		memset(&t, 0, sizeof(t));
		t.remote = &r;
		t.local_user = user;
		t.home = home;
		if (config_file != NULL) {
			t.user_file = true;
			if (sshcfg_read_file(&raw, &t, config_file, true, 0,
			    err, errlen) != 0)
				goto out;
		} else {
			/* As ssh: the user's file first, so it wins. */
			snprintf(path, sizeof(path), "%s/.ssh/config", home);
			t.user_file = true;
			if (sshcfg_read_file(&raw, &t, path, false, 0,
			    err, errlen) != 0)
				goto out;
			t.user_file = false;
			if (sshcfg_read_file(&raw, &t, "/etc/ssh/ssh_config",
			    false, 0, err, errlen) != 0)
				goto out;
		}
	}
	ret = sshcfg_finish(cfg, &raw, &r, from_ssh, user, home, err, errlen);
 out:
	if (ret != 0)
		sshcfg_free(cfg);
	free(text);
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
	memset(cfg, 0, sizeof(*cfg));
}
