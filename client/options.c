/* SPDX-License-Identifier: ISC */
/*
 * options.c - command line, argument files and $CSHUTTLE_ARGS.
 *
 * The arguments are first flattened into one vector ($CSHUTTLE_ARGS
 * words, then argv, with every @FILE replaced by its lines) and only
 * then given to getopt_long(), so an option behaves the same wherever it
 * came from and error messages can name the offending word.
 */
#include <sys/stat.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dns_msg.h"
#include "dns_resolve.h"
#include "options.h"
#include "subnet.h"

#define OPTIONS_MAX_ARGS	4096		/* after all expansion */
#define OPTIONS_MAX_FILE	(1024 * 1024)	/* @file, -s, -X */

/* Long-only options. */
enum {
	OPT_SSH_CONFIG = 256,
	OPT_VERSION,
	OPT_FIREWALL,
	OPT_NO_IPV6,
	OPT_STUB_CACHE,
	OPT_REMOTE_TMPDIR,
	OPT_DNS,
	OPT_NS_HOSTS,
	OPT_TO_NS,
	OPT_DNS_DOMAINS,
	OPT_NO_BLOCK_LEAKS,
	OPT_PIDFILE,
	OPT_SYSLOG,
	OPT_NO_RECONNECT,
	OPT_ALIVE_INTERVAL,
	OPT_ALIVE_TIMEOUT,
	OPT_CONFIG,
	OPT_SUBNET,		/* configuration file only: subnet(s) = ... */
	OPT_END
};

static const char options_short[] = ":r:x:X:s:l:vqe:hD";

static const struct option options_long[] = {
	{ "remote",		required_argument,	NULL, 'r' },
	{ "exclude",		required_argument,	NULL, 'x' },
	{ "exclude-from",	required_argument,	NULL, 'X' },
	{ "subnets",		required_argument,	NULL, 's' },
	{ "listen",		required_argument,	NULL, 'l' },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "ssh-cmd",		required_argument,	NULL, 'e' },
	{ "ssh-config",		required_argument,	NULL, OPT_SSH_CONFIG },
	{ "version",		no_argument,		NULL, OPT_VERSION },
	{ "help",		no_argument,		NULL, 'h' },
	{ "firewall",		no_argument,		NULL, OPT_FIREWALL },
	{ "no-ipv6",		no_argument,		NULL, OPT_NO_IPV6 },
	{ "stub-cache",		no_argument,		NULL, OPT_STUB_CACHE },
	{ "remote-tmpdir",	required_argument,	NULL, OPT_REMOTE_TMPDIR },
	{ "dns",		no_argument,		NULL, OPT_DNS },
	{ "ns-hosts",		required_argument,	NULL, OPT_NS_HOSTS },
	{ "to-ns",		required_argument,	NULL, OPT_TO_NS },
	{ "dns-domains",	required_argument,	NULL, OPT_DNS_DOMAINS },
	{ "no-block-leaks",	no_argument,		NULL, OPT_NO_BLOCK_LEAKS },
	{ "daemon",		no_argument,		NULL, 'D' },
	{ "pidfile",		required_argument,	NULL, OPT_PIDFILE },
	{ "syslog",		no_argument,		NULL, OPT_SYSLOG },
	{ "no-reconnect",	no_argument,		NULL, OPT_NO_RECONNECT },
	{ "alive-interval",	required_argument,	NULL, OPT_ALIVE_INTERVAL },
	{ "alive-timeout",	required_argument,	NULL, OPT_ALIVE_TIMEOUT },
	{ "config",		required_argument,	NULL, OPT_CONFIG },
	{ NULL,			0,			NULL, 0 },
};

/* A growable, NULL-terminated argument vector that owns its strings. */
struct options_argv {
	char		**v;
	size_t		  n;
	size_t		  cap;
	bool		  dashdash;	/* "--" seen: no more @file expansion */
};

/* Parse state that lives only during options_parse(). */
struct options_state {
	int		 listen_port_only;	/* -l PORT given: its port, else -1 */
	int		 nlisten_explicit;
};

int
options_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return CSHUTTLE_EXIT_USAGE;
}

int
options_nomem(char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "out of memory");
	return CSHUTTLE_EXIT_FAIL;
}

/*
 * Relative paths on the command line are taken relative to the working
 * directory of the first options_parse() call: with -D the process moves
 * to "/" after it, and the SIGHUP reload parses the same argv again.
 */
static char options_cwd[PATH_MAX];

static const char *
options_base(void)
{
	if (options_cwd[0] == '\0' &&
	    getcwd(options_cwd, sizeof(options_cwd)) == NULL)
		options_cwd[0] = '\0';
	return options_cwd[0] != '\0' ? options_cwd : NULL;
}

static void
options_argv_free(struct options_argv *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* Append a copy of s[0..len). */
static int
options_argv_push(struct options_argv *a, const char *s, size_t len,
    char *err, size_t errlen)
{
	char **nv, *copy;
	size_t ncap;

	if (a->n >= OPTIONS_MAX_ARGS)
		return options_fail(err, errlen, "more than %d arguments",
		    OPTIONS_MAX_ARGS);
	if (a->n + 2 > a->cap) {
		ncap = a->cap == 0 ? 32 : a->cap * 2;
		if ((nv = realloc(a->v, ncap * sizeof(*nv))) == NULL)
			return options_nomem(err, errlen);
		a->v = nv;
		a->cap = ncap;
	}
	if ((copy = strndup(s, len)) == NULL)
		return options_nomem(err, errlen);
	a->v[a->n++] = copy;
	a->v[a->n] = NULL;
	return 0;
}

/*
 * Read a whole small text file into a NUL-terminated buffer.  Files with
 * NUL bytes are refused: the rest of the line would silently vanish.
 */
static int
options_read_file(const char *what, const char *path, char **out,
    char *err, size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	ssize_t r;
	int fd = -1, ret = CSHUTTLE_EXIT_USAGE;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		options_fail(err, errlen, "cannot open %s \"%s\": %s", what,
		    path, strerror(errno));
		goto out;
	}
	if ((data = malloc(OPTIONS_MAX_FILE + 1)) == NULL) {
		ret = options_nomem(err, errlen);
		goto out;
	}
	for (;;) {
		r = read(fd, data + len, OPTIONS_MAX_FILE + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			options_fail(err, errlen, "cannot read %s \"%s\": %s",
			    what, path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > OPTIONS_MAX_FILE) {
			options_fail(err, errlen, "%s \"%s\" is larger than %d "
			    "bytes", what, path, OPTIONS_MAX_FILE);
			goto out;
		}
	}
	if (memchr(data, '\0', len) != NULL) {
		options_fail(err, errlen, "%s \"%s\" contains a NUL byte",
		    what, path);
		goto out;
	}
	data[len] = '\0';
	*out = data;
	data = NULL;	/* transferred */
	ret = 0;
 out:
	if (fd != -1)
		close(fd);
	free(data);
	return ret;
}

static int options_add_arg(struct options_argv *, const char *, size_t, int,
    char *, size_t);

/*
 * Expand "@path": each line is one argument, with surrounding white
 * space trimmed; blank lines and lines starting with '#' are skipped.
 * Lines that are themselves "@file" nest, up to
 * OPTIONS_MAX_ARGFILE_DEPTH files deep.
 */
static int
options_argfile(struct options_argv *a, const char *path, int depth,
    char *err, size_t errlen)
{
	char *data = NULL, *full, *line, *next, *end;
	int ret;

	if (depth > OPTIONS_MAX_ARGFILE_DEPTH)
		return options_fail(err, errlen, "argument file \"%s\": @files "
		    "nested more than %d deep", path, OPTIONS_MAX_ARGFILE_DEPTH);
	if (*path == '\0')
		return options_fail(err, errlen, "\"@\" needs a file name");
	if ((full = config_join(options_base(), path)) == NULL)
		return options_nomem(err, errlen);
	ret = options_read_file("argument file", full, &data, err, errlen);
	free(full);
	if (ret != 0)
		return ret;
	for (line = data; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		while (isspace((unsigned char)*line))
			line++;
		end = line + strlen(line);
		while (end > line && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		if ((ret = options_add_arg(a, line, strlen(line), depth,
		    err, errlen)) != 0)
			break;
	}
	free(data);
	return ret;
}

/* Add one argument, expanding it if it names an argument file. */
static int
options_add_arg(struct options_argv *a, const char *s, size_t len, int depth,
    char *err, size_t errlen)
{
	char *path;
	int ret;

	if (a->dashdash || len == 0 || s[0] != '@') {
		if (len == 2 && s[0] == '-' && s[1] == '-')
			a->dashdash = true;
		return options_argv_push(a, s, len, err, errlen);
	}
	if (len == 1)
		return options_fail(err, errlen, "\"@\" needs a file name");
	if ((path = strndup(s + 1, len - 1)) == NULL)
		return options_nomem(err, errlen);
	ret = options_argfile(a, path, depth + 1, err, errlen);
	free(path);
	return ret;
}

/*
 * Split $CSHUTTLE_ARGS into words like a (very) small shell: white space
 * separates, '...' is literal, "..." allows \" and \\ inside, and a
 * backslash outside quotes protects the next character.  No variables,
 * no globbing.
 */
static int
options_env_words(struct options_argv *a, const char *s, char *err,
    size_t errlen)
{
	char *word;
	size_t wlen = 0;
	bool inword = false;
	char quote = '\0';
	int ret = 0;

	if ((word = malloc(strlen(s) + 1)) == NULL)
		return options_nomem(err, errlen);
	for (; *s != '\0'; s++) {
		if (quote == '\'') {
			if (*s == '\'')
				quote = '\0';
			else
				word[wlen++] = *s;
		} else if (quote == '"') {
			if (*s == '"')
				quote = '\0';
			else if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
				word[wlen++] = *++s;
			else
				word[wlen++] = *s;
		} else if (isspace((unsigned char)*s)) {
			if (inword && (ret = options_add_arg(a, word, wlen, 0,
			    err, errlen)) != 0)
				goto out;
			inword = false;
			wlen = 0;
		} else {
			inword = true;
			if (*s == '\'' || *s == '"')
				quote = *s;
			else if (*s == '\\' && s[1] != '\0')
				word[wlen++] = *++s;
			else
				word[wlen++] = *s;
		}
	}
	if (quote != '\0') {
		ret = options_fail(err, errlen, "$%s: unterminated %c quote",
		    OPTIONS_ENV, quote);
		goto out;
	}
	if (inword)
		ret = options_add_arg(a, word, wlen, 0, err, errlen);
 out:
	free(word);
	return ret;
}

/* subnet_resolve_fn through the blocking resolver. */
static int
options_resolve(void *arg, const char *name, struct addr *out, size_t max,
    size_t *n, char *why, size_t whylen)
{
	int	r;

	r = dns_resolve(name, AF_UNSPEC, DNS_RESOLVE_TIMEOUT_MS, out, max, n, why, whylen);
	if (r == DNS_E_NOMEM)
		return SUBNET_E_NOMEM;
	return r != 0 ? -1 : 0;
}

static int
options_subnet(struct options *o, const char *spec, bool exclude,
    char *err, size_t errlen)
{
	int r;

	r = subnet_parse(&o->subnets, spec, exclude, true, err, errlen);
	if (r == 0)
		r = subnet_list_resolve(&o->subnets, options_resolve, NULL, err, errlen);
	if (r == SUBNET_E_NOMEM)
		return options_nomem(err, errlen);
	return r == 0 ? 0 : CSHUTTLE_EXIT_USAGE;
}

/* -s / -X: white-space separated subnets, '#' to end of line is a comment. */
static int
options_subnet_file(struct options *o, const char *path, bool exclude,
    char *err, size_t errlen)
{
	const char *what = exclude ? "exclude file" : "subnet file";
	char *data = NULL, *line, *next, *tok, *save, *hash, why[384];
	int lineno = 0, ret;

	if ((ret = options_read_file(what, path, &data, err, errlen)) != 0)
		return ret;
	for (line = data; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		for (tok = strtok_r(line, " \t\r\f\v", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t\r\f\v", &save)) {
			ret = options_subnet(o, tok, exclude, why, sizeof(why));
			if (ret != 0) {
				options_fail(err, errlen, "%s \"%s\" line %d: %s",
				    what, path, lineno, why);
				goto out;
			}
		}
	}
 out:
	free(data);
	return ret;
}

/* One -l item: "PORT", "IPV4:PORT" or "[IPV6]:PORT". */
static int
options_listen_one(struct options *o, struct options_state *st,
    const char *item, size_t len, char *err, size_t errlen)
{
	struct options_listen l;
	char host[INET6_ADDRSTRLEN + 2], *end;
	const char *colon, *portstr;
	unsigned long port;
	size_t hlen;
	int i;

	memset(&l, 0, sizeof(l));
	if (len == 0)
		return options_fail(err, errlen, "-l: empty listen address");
	if (item[0] == '[') {
		colon = memchr(item, ']', len);
		if (colon == NULL || colon + 1 >= item + len || colon[1] != ':')
			goto bad;
		hlen = (size_t)(colon - item - 1);
		portstr = colon + 2;
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, item + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, l.addr) != 1)
			goto bad;
		l.family = 6;
	} else if ((colon = memchr(item, ':', len)) != NULL) {
		hlen = (size_t)(colon - item);
		portstr = colon + 1;
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, item, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, l.addr) != 1)
			goto bad;
		l.family = 4;
	} else
		portstr = item;

	if ((size_t)(portstr - item) >= len ||
	    !isdigit((unsigned char)*portstr))
		goto bad;
	errno = 0;
	port = strtoul(portstr, &end, 10);
	if (errno != 0 || end != item + len)
		goto bad;
	if (port > 65535)
		return options_fail(err, errlen, "-l \"%.*s\": port must be "
		    "0-65535", (int)len, item);
	l.port = (uint16_t)port;

	if (l.family == 0) {
		if (st->listen_port_only != -1)
			return options_fail(err, errlen, "-l \"%.*s\": a port "
			    "without address was already given", (int)len, item);
		st->listen_port_only = (int)port;
		return 0;
	}
	for (i = 0; i < o->nlisten; i++)
		if (o->listen[i].family == l.family)
			return options_fail(err, errlen, "-l \"%.*s\": only one "
			    "IPv%u listen address is allowed", (int)len, item,
			    l.family);
	o->listen[o->nlisten++] = l;
	st->nlisten_explicit++;
	return 0;
 bad:
	return options_fail(err, errlen, "-l \"%.*s\": expected PORT, "
	    "IPV4:PORT or [IPV6]:PORT", (int)len, item);
}

/* -l takes a comma-separated list, and may be repeated. */
static int
options_listen(struct options *o, struct options_state *st, const char *arg,
    char *err, size_t errlen)
{
	const char *p = arg, *comma;
	size_t len;
	int ret;

	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if ((ret = options_listen_one(o, st, p, len, err, errlen)) != 0)
			return ret;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* Fill in the listeners not given explicitly. */
static int
options_listen_finish(struct options *o, struct options_state *st,
    char *err, size_t errlen)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	static const uint8_t lo6[16] = { [15] = 1 };
	bool have4 = false, have6 = false;
	uint16_t port;
	int i;

	for (i = 0; i < o->nlisten; i++) {
		have4 |= o->listen[i].family == 4;
		have6 |= o->listen[i].family == 6;
	}
	if (have6 && o->no_ipv6)
		return options_fail(err, errlen, "--no-ipv6 conflicts with an "
		    "IPv6 -l address");
	/* A bare port applies to the loopback address of each family that
	 * has no explicit address; with explicit addresses only, the
	 * missing family is simply not served. */
	if (st->listen_port_only == -1 && st->nlisten_explicit > 0)
		return 0;
	port = st->listen_port_only == -1 ? 0 : (uint16_t)st->listen_port_only;
	if (!have4) {
		o->listen[o->nlisten].family = 4;
		memcpy(o->listen[o->nlisten].addr, lo4, sizeof(lo4));
		o->listen[o->nlisten++].port = port;
	}
	if (!have6 && !o->no_ipv6) {
		o->listen[o->nlisten].family = 6;
		memcpy(o->listen[o->nlisten].addr, lo6, sizeof(lo6));
		o->listen[o->nlisten++].port = port;
	}
	return 0;
}

static int
options_string(char **dst, const char *opt, const char *arg, char *err,
    size_t errlen)
{
	if (*arg == '\0')
		return options_fail(err, errlen, "%s: empty argument", opt);
	free(*dst);
	if ((*dst = strdup(arg)) == NULL)
		return options_nomem(err, errlen);
	return 0;
}

/*
 * The directory travels to the remote script at the end of one line and
 * is used there quoted, so anything printable goes but a trailing space;
 * "~/" is expanded there.
 */
static int
options_remote_tmpdir(struct options *o, const char *arg, char *err, size_t errlen)
{
	const char	*p;

	for (p = arg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return options_fail(err, errlen, "--remote-tmpdir: control "
			    "characters are not allowed");
	if (strlen(arg) > 256)
		return options_fail(err, errlen, "--remote-tmpdir: longer than 256 bytes");
	if (arg[0] != '/' && strncmp(arg, "~/", 2) != 0)
		return options_fail(err, errlen, "--remote-tmpdir \"%s\": must be an "
		    "absolute path or start with ~/", arg);
	/* The remote's `read` would drop them. */
	if (arg[strlen(arg) - 1] == ' ')
		return options_fail(err, errlen, "--remote-tmpdir \"%s\": must not end "
		    "with a space", arg);
	return options_string(&o->remote_tmpdir, "--remote-tmpdir", arg, err, errlen);
}

static int
options_remote(struct options *o, const char *arg, char *err, size_t errlen)
{
	const char *p;

	/* A leading '-' would reach ssh as an option. */
	if (*arg == '-')
		return options_fail(err, errlen, "-r \"%s\": must not start "
		    "with '-'", arg);
	for (p = arg; *p != '\0'; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return options_fail(err, errlen, "-r: unexpected space "
			    "or control character");
	return options_string(&o->remote, "-r", arg, err, errlen);
}

/* Append a server to one of the two lists, skipping duplicates. */
static int
options_ns_add(struct options_ns *list, int *n, const struct options_ns *ns,
    const char *opt, char *err, size_t errlen)
{
	int	i;

	for (i = 0; i < *n; i++)
		if (memcmp(&list[i], ns, sizeof(*ns)) == 0)
			return 0;
	if (*n == OPTIONS_MAX_NS)
		return options_fail(err, errlen, "%s: more than %d servers", opt,
		    OPTIONS_MAX_NS);
	list[(*n)++] = *ns;
	return 0;
}

/*
 * Split a comma-separated list and hand each item to fn; an empty item
 * is an error naming the option.
 */
static int
options_each(struct options *o, const char *opt, const char *arg,
    int (*fn)(struct options *, const char *, char *, size_t),
    char *err, size_t errlen)
{
	const char	*p = arg, *comma;
	char		 item[512];
	size_t		 len;
	int		 ret;

	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0)
			return options_fail(err, errlen, "%s \"%s\": empty item",
			    opt, arg);
		if (len >= sizeof(item))
			return options_fail(err, errlen, "%s: item longer than %zu "
			    "bytes", opt, sizeof(item) - 1);
		memcpy(item, p, len);
		item[len] = '\0';
		if ((ret = fn(o, item, err, errlen)) != 0)
			return ret;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* One --ns-hosts item: an IP address, or a name resolved now. */
static int
options_ns_host(struct options *o, const char *item, char *err, size_t errlen)
{
	struct addr		 a[OPTIONS_MAX_NS];
	struct options_ns	 ns;
	char			 why[256];
	size_t			 n = 0, i;
	int			 r;

	memset(&ns, 0, sizeof(ns));
	ns.port = 53;
	if (inet_pton(AF_INET, item, ns.addr) == 1 ||
	    inet_pton(AF_INET6, item, ns.addr) == 1) {
		ns.family = strchr(item, ':') != NULL ? 6 : 4;
		return options_ns_add(o->ns_hosts, &o->nns_hosts, &ns,
		    "--ns-hosts", err, errlen);
	}
	r = dns_resolve(item, AF_UNSPEC, DNS_RESOLVE_TIMEOUT_MS, a,
	    OPTIONS_MAX_NS, &n, why, sizeof(why));
	if (r == DNS_E_NOMEM)
		return options_nomem(err, errlen);
	if (r != 0)
		return options_fail(err, errlen, "--ns-hosts: cannot resolve host "
		    "\"%s\": %s", item, why);
	for (i = 0; i < n; i++) {
		memset(&ns, 0, sizeof(ns));
		ns.family = a[i].family;
		memcpy(ns.addr, a[i].bytes, sizeof(ns.addr));
		ns.port = 53;
		if ((r = options_ns_add(o->ns_hosts, &o->nns_hosts, &ns,
		    "--ns-hosts", err, errlen)) != 0)
			return r;
	}
	return 0;
}

/* One --to-ns item: IPV4[:PORT], IPV6, or [IPV6][:PORT]. */
static int
options_to_ns_one(struct options *o, const char *item, char *err, size_t errlen)
{
	struct options_ns	 ns;
	char			 host[INET6_ADDRSTRLEN + 1], *end;
	const char		*portstr = NULL, *close;
	unsigned long		 port = 53;
	size_t			 hlen;

	memset(&ns, 0, sizeof(ns));
	if (item[0] == '[') {
		if ((close = strchr(item, ']')) == NULL ||
		    (close[1] != '\0' && close[1] != ':'))
			goto bad;
		hlen = (size_t)(close - item - 1);
		if (close[1] == ':')
			portstr = close + 2;
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, item + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, ns.addr) != 1)
			goto bad;
		ns.family = 6;
	} else if (inet_pton(AF_INET6, item, ns.addr) == 1) {
		ns.family = 6;
	} else {
		close = strchr(item, ':');
		hlen = close != NULL ? (size_t)(close - item) : strlen(item);
		if (close != NULL)
			portstr = close + 1;
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, item, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, ns.addr) != 1)
			goto bad;
		ns.family = 4;
	}
	if (portstr != NULL) {
		if (!isdigit((unsigned char)*portstr))
			goto bad;
		errno = 0;
		port = strtoul(portstr, &end, 10);
		if (errno != 0 || *end != '\0' || port == 0 || port > 65535)
			return options_fail(err, errlen, "--to-ns \"%s\": port "
			    "must be 1-65535", item);
	}
	ns.port = (uint16_t)port;
	return options_ns_add(o->to_ns, &o->nto_ns, &ns, "--to-ns", err, errlen);
 bad:
	return options_fail(err, errlen, "--to-ns \"%s\": expected IPV4[:PORT] "
	    "or [IPV6][:PORT]", item);
}

/* One --dns-domains item, normalised and kept once. */
static int
options_dns_domain(struct options *o, const char *item, char *err, size_t errlen)
{
	char		 norm[DNS_MSG_TEXT_MAX + 1], **nv;
	const char	*why;
	int		 i;

	if (dns_msg_domain_norm(item, strlen(item), norm, sizeof(norm), &why) != 0)
		return options_fail(err, errlen, "--dns-domains \"%s\": %s",
		    item, why);
	for (i = 0; i < o->ndns_domains; i++)
		if (strcmp(o->dns_domains[i], norm) == 0)
			return 0;
	if (o->ndns_domains == OPTIONS_MAX_DNS_DOMAINS)
		return options_fail(err, errlen, "--dns-domains: more than %d "
		    "domains", OPTIONS_MAX_DNS_DOMAINS);
	if ((nv = realloc(o->dns_domains, (size_t)(o->ndns_domains + 1) *
	    sizeof(*nv))) == NULL)
		return options_nomem(err, errlen);
	o->dns_domains = nv;
	if ((nv[o->ndns_domains] = strdup(norm)) == NULL)
		return options_nomem(err, errlen);
	o->ndns_domains++;
	return 0;
}

/*
 * Describe the option getopt_long() just rejected (it returned c, ':' or
 * '?').  glibc leaves optopt = 0 for an unknown or ambiguous long
 * option, the option's value for a long option with a missing or an
 * unwanted argument, and the character for short options.  A short
 * option character we know can only come back as '?' through its long
 * form given "=value".
 */
static int
options_bad(const struct options_argv *a, int c, char *err, size_t errlen)
{
	const char *word;
	int n;

	word = optind > 0 && (size_t)optind <= a->n ? a->v[optind - 1] : "";
	n = (int)strcspn(word, "=");
	if (c == ':') {
		if (strncmp(word, "--", 2) == 0)
			return options_fail(err, errlen, "option %.*s needs an "
			    "argument", n, word);
		return options_fail(err, errlen, "option -%c needs an argument",
		    optopt);
	}
	if (optopt == 0)
		return options_fail(err, errlen, "unknown or ambiguous option "
		    "%.*s", n, word);
	if (optopt >= 256 || strchr(options_short + 1, optopt) != NULL)
		return options_fail(err, errlen, "option %.*s takes no argument",
		    n, word);
	return options_fail(err, errlen, "unknown option -%c", optopt);
}

/* SECS for --alive-interval and --alive-timeout: whole seconds. */
static int
options_seconds(int *ms, const char *opt, const char *arg, char *err,
    size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = isdigit((unsigned char)*arg) ? strtoul(arg, &end, 10) : 0;
	if (!isdigit((unsigned char)*arg) || errno != 0 || *end != '\0' ||
	    v < 1 || v > OPTIONS_ALIVE_MAX_S)
		return options_fail(err, errlen, "%s \"%s\": expected whole "
		    "seconds, 1-%d", opt, arg, OPTIONS_ALIVE_MAX_S);
	*ms = (int)v * 1000;
	return 0;
}

/* A path option: relative to base (the command line's or the file's
 * directory), kept absolute so that it still works after -D's chdir. */
static int
options_path(char **dst, const char *opt, const char *base, const char *arg,
    char *err, size_t errlen)
{
	char *full;
	int ret;

	if (*arg == '\0')
		return options_fail(err, errlen, "%s: empty argument", opt);
	if ((full = config_join(base, arg)) == NULL)
		return options_nomem(err, errlen);
	ret = options_string(dst, opt, full, err, errlen);
	free(full);
	return ret;
}

static int
options_subnet_path(struct options *o, const char *base, const char *arg,
    bool exclude, char *err, size_t errlen)
{
	char *full;
	int ret;

	if (*arg == '\0')
		return options_fail(err, errlen, "%s: empty argument",
		    exclude ? "-X" : "-s");
	if ((full = config_join(base, arg)) == NULL)
		return options_nomem(err, errlen);
	ret = options_subnet_file(o, full, exclude, err, errlen);
	free(full);
	return ret;
}

/* The field behind an option that takes no argument, NULL for others. */
static bool *
options_flag(struct options *o, int opt)
{
	switch (opt) {
	case 'q':
		return &o->quiet;
	case 'h':
		return &o->show_help;
	case 'D':
		return &o->daemon;
	case OPT_VERSION:
		return &o->show_version;
	case OPT_FIREWALL:
		return &o->firewall;
	case OPT_NO_IPV6:
		return &o->no_ipv6;
	case OPT_STUB_CACHE:
		return &o->stub_cache;
	case OPT_DNS:
		return &o->dns;
	case OPT_NO_BLOCK_LEAKS:
		return &o->no_block_leaks;
	case OPT_SYSLOG:
		return &o->syslog;
	case OPT_NO_RECONNECT:
		return &o->no_reconnect;
	}
	return NULL;
}

/*
 * One option that takes an argument, from the command line or from the
 * configuration file: the same checks either way.  Relative paths are
 * taken relative to base.
 */
static int
options_apply(struct options *o, struct options_state *st, int opt,
    const char *arg, const char *base, char *err, size_t errlen)
{
	switch (opt) {
	case 'r':
		return options_remote(o, arg, err, errlen);
	case 'x':
		return options_subnet(o, arg, true, err, errlen);
	case 'X':
		return options_subnet_path(o, base, arg, true, err, errlen);
	case 's':
		return options_subnet_path(o, base, arg, false, err, errlen);
	case OPT_SUBNET:
		return options_subnet(o, arg, false, err, errlen);
	case 'l':
		return options_listen(o, st, arg, err, errlen);
	case 'e':
		return options_string(&o->ssh_cmd, "-e", arg, err, errlen);
	case OPT_SSH_CONFIG:
		return options_path(&o->ssh_config, "--ssh-config", base, arg,
		    err, errlen);
	case OPT_REMOTE_TMPDIR:
		return options_remote_tmpdir(o, arg, err, errlen);
	case OPT_NS_HOSTS:
		return options_each(o, "--ns-hosts", arg, options_ns_host,
		    err, errlen);
	case OPT_TO_NS:
		return options_each(o, "--to-ns", arg, options_to_ns_one,
		    err, errlen);
	case OPT_DNS_DOMAINS:
		return options_each(o, "--dns-domains", arg, options_dns_domain,
		    err, errlen);
	case OPT_PIDFILE:
		return options_path(&o->pidfile, "--pidfile", base, arg,
		    err, errlen);
	case OPT_ALIVE_INTERVAL:
		return options_seconds(&o->alive_interval_ms, "--alive-interval",
		    arg, err, errlen);
	case OPT_ALIVE_TIMEOUT:
		return options_seconds(&o->alive_timeout_ms, "--alive-timeout",
		    arg, err, errlen);
	case OPT_CONFIG:
		return options_path(&o->config, "--config", base, arg,
		    err, errlen);
	}
	return options_fail(err, errlen, "internal error: option %d", opt);
}

/*
 * The command-line options that replace a whole list from the file:
 * -s and positional subnets replace subnet/subnets, -x and -X replace
 * exclude/exclude-from, and so on.  Maps an option to its group.
 */
static int
options_group(int opt)
{
	switch (opt) {
	case OPT_SUBNET:
		return 's';
	case 'X':
		return 'x';
	}
	return opt;
}

/* What the value of a configuration key is. */
enum options_key_type {
	OPTIONS_KEY_ONE,	/* one argument, as on the command line */
	OPTIONS_KEY_PATH,	/* a file, relative to the file's directory */
	OPTIONS_KEY_LIST,	/* items separated by white space or commas,
				 * each one argument; a command-line
				 * occurrence replaces every line of the
				 * key's group */
	OPTIONS_KEY_BOOL,	/* true/false..., the option's flag */
	OPTIONS_KEY_NOT,	/* true/false..., the flag's inverse */
	OPTIONS_KEY_LEVEL,	/* verbose: 0-3 */
};

static const struct options_key {
	const char		*name;
	int			 opt;
	enum options_key_type	 type;
} options_keys[] = {
	{ "remote",		'r',			OPTIONS_KEY_ONE },
	{ "subnet",		OPT_SUBNET,		OPTIONS_KEY_LIST },
	{ "subnets",		OPT_SUBNET,		OPTIONS_KEY_LIST },
	{ "exclude",		'x',			OPTIONS_KEY_LIST },
	{ "exclude-from",	'X',			OPTIONS_KEY_PATH },
	{ "listen",		'l',			OPTIONS_KEY_LIST },
	{ "ssh-cmd",		'e',			OPTIONS_KEY_ONE },
	{ "ssh-config",		OPT_SSH_CONFIG,		OPTIONS_KEY_PATH },
	{ "dns",		OPT_DNS,		OPTIONS_KEY_BOOL },
	{ "ns-hosts",		OPT_NS_HOSTS,		OPTIONS_KEY_LIST },
	{ "to-ns",		OPT_TO_NS,		OPTIONS_KEY_LIST },
	{ "dns-domains",	OPT_DNS_DOMAINS,	OPTIONS_KEY_LIST },
	{ "block-leaks",	OPT_NO_BLOCK_LEAKS,	OPTIONS_KEY_NOT },
	{ "no-block-leaks",	OPT_NO_BLOCK_LEAKS,	OPTIONS_KEY_BOOL },
	{ "ipv6",		OPT_NO_IPV6,		OPTIONS_KEY_NOT },
	{ "no-ipv6",		OPT_NO_IPV6,		OPTIONS_KEY_BOOL },
	{ "stub-cache",		OPT_STUB_CACHE,		OPTIONS_KEY_BOOL },
	{ "remote-tmpdir",	OPT_REMOTE_TMPDIR,	OPTIONS_KEY_ONE },
	{ "reconnect",		OPT_NO_RECONNECT,	OPTIONS_KEY_NOT },
	{ "no-reconnect",	OPT_NO_RECONNECT,	OPTIONS_KEY_BOOL },
	{ "alive-interval",	OPT_ALIVE_INTERVAL,	OPTIONS_KEY_ONE },
	{ "alive-timeout",	OPT_ALIVE_TIMEOUT,	OPTIONS_KEY_ONE },
	{ "daemon",		'D',			OPTIONS_KEY_BOOL },
	{ "pidfile",		OPT_PIDFILE,		OPTIONS_KEY_PATH },
	{ "syslog",		OPT_SYSLOG,		OPTIONS_KEY_BOOL },
	{ "verbose",		'v',			OPTIONS_KEY_LEVEL },
	{ "quiet",		'q',			OPTIONS_KEY_BOOL },
};

static int
options_bool(const char *s, bool *b)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -1;
}

/* One key = value line; problems go to why, without the FILE:LINE. */
static int
options_config_entry(struct options *o, struct options_state *st,
    struct options *scratch, struct options_state *scratch_st,
    const struct config *cfg, const struct config_entry *e,
    const bool *given, char *why, size_t whylen)
{
	const struct options_key	*k = NULL;
	const char			*base;
	char				*words = NULL, *w, *save;
	bool				 b;
	size_t				 i;
	int				 ret = 0;

	for (i = 0; i < sizeof(options_keys) / sizeof(options_keys[0]); i++)
		if (strcmp(e->key, options_keys[i].name) == 0)
			k = &options_keys[i];
	if (k == NULL) {
		if (strcmp(e->key, "config") == 0 ||
		    strcmp(e->key, "firewall") == 0 ||
		    strcmp(e->key, "help") == 0 ||
		    strcmp(e->key, "version") == 0)
			return options_fail(why, whylen, "unknown key \"%s\" "
			    "(command line only)", e->key);
		return options_fail(why, whylen, "unknown key \"%.64s\"",
		    e->key);
	}
	if (e->value == NULL && k->type != OPTIONS_KEY_BOOL &&
	    k->type != OPTIONS_KEY_NOT)
		return options_fail(why, whylen, "%s: missing value", k->name);
	if (e->value != NULL && *e->value == '\0')
		return options_fail(why, whylen, "%s: missing value", k->name);
	/*
	 * The command line's list replaces the file's.  The file's lines
	 * are still checked, into scratch: a broken file is broken whatever
	 * the command line says, so that a reload can never accept a file
	 * that a start without those arguments would refuse.
	 */
	if ((k->type == OPTIONS_KEY_LIST || k->type == OPTIONS_KEY_LEVEL ||
	    k->opt == 'X') && given[options_group(k->opt)]) {
		o = scratch;
		st = scratch_st;
	}
	/* Without a directory (text, not a file): the command line's. */
	base = cfg->dir != NULL ? cfg->dir : options_base();

	switch (k->type) {
	case OPTIONS_KEY_BOOL:
	case OPTIONS_KEY_NOT:
		b = true;
		if (e->value != NULL && options_bool(e->value, &b) != 0)
			return options_fail(why, whylen, "%s \"%.64s\": expected "
			    "true or false (yes/no, on/off, 1/0)", k->name,
			    e->value);
		*options_flag(o, k->opt) = k->type == OPTIONS_KEY_BOOL ? b : !b;
		return 0;
	case OPTIONS_KEY_LEVEL:
		if (strlen(e->value) != 1 || e->value[0] < '0' ||
		    e->value[0] > '3')
			return options_fail(why, whylen, "%s \"%.64s\": expected "
			    "0, 1, 2 or 3", k->name, e->value);
		o->verbose = e->value[0] - '0';
		return 0;
	case OPTIONS_KEY_LIST:
		/* No item of any list has a comma or a space: "a, b" is
		 * two items, as are "a b" and "a,b". */
		if ((words = strdup(e->value)) == NULL)
			return options_nomem(why, whylen);
		i = 0;
		for (w = strtok_r(words, " \t,", &save); w != NULL;
		    w = strtok_r(NULL, " \t,", &save), i++)
			if ((ret = options_apply(o, st, k->opt, w, base,
			    why, whylen)) != 0)
				break;
		free(words);
		if (ret == 0 && i == 0)
			return options_fail(why, whylen, "%s: missing value",
			    k->name);
		return ret;
	case OPTIONS_KEY_ONE:
	case OPTIONS_KEY_PATH:
		break;
	}
	return options_apply(o, st, k->opt, e->value, base, why, whylen);
}

/* Every line of the file, in order; the first problem stops it. */
static int
options_config(struct options *o, struct options_state *st,
    const struct config *cfg, const bool *given, char *err, size_t errlen)
{
	struct options		scratch;
	struct options_state	scratch_st;
	char			why[768];
	size_t			i;
	int			ret = 0;

	memset(&scratch, 0, sizeof(scratch));
	scratch_st.listen_port_only = -1;
	scratch_st.nlisten_explicit = 0;
	for (i = 0; i < cfg->n; i++) {
		ret = options_config_entry(o, st, &scratch, &scratch_st, cfg,
		    &cfg->v[i], given, why, sizeof(why));
		if (ret != 0) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "%s:%d: %s", cfg->name,
				    cfg->v[i].line, why);
			break;
		}
	}
	options_free(&scratch);
	return ret;
}

/*
 * Both entry points.  The command line is scanned twice: first only to
 * find --config and which lists it gives, then, after the file has been
 * applied, for real, so that each of its options overrides the file.
 * text != NULL stands for the file's contents (tests, the fuzzer).
 */
static int
options_parse_all(struct options *o, int argc, char **argv, const char *name,
    const char *text, size_t textlen, char *err, size_t errlen)
{
	struct options_argv a;
	struct options_state st;
	struct config cfg;
	bool given[OPT_END], *flag, skipcfg = false;
	const char *env, *cfgpath = NULL;
	int c, i, includes = 0, ret = 0;
	size_t k;

	memset(o, 0, sizeof(*o));
	memset(&a, 0, sizeof(a));
	memset(&cfg, 0, sizeof(cfg));
	memset(given, 0, sizeof(given));
	o->alive_interval_ms = OPTIONS_ALIVE_INTERVAL_MS;
	o->alive_timeout_ms = OPTIONS_ALIVE_TIMEOUT_MS;
	st.listen_port_only = -1;
	st.nlisten_explicit = 0;
	if (err != NULL && errlen > 0)
		*err = '\0';
	(void)options_base();

	/* argv[0] stays first: getopt_long() skips it. */
	if ((ret = options_argv_push(&a, argc > 0 ? argv[0] : "cshuttle",
	    strlen(argc > 0 ? argv[0] : "cshuttle"), err, errlen)) != 0)
		goto out;
	if ((env = getenv(OPTIONS_ENV)) != NULL &&
	    (ret = options_env_words(&a, env, err, errlen)) != 0)
		goto out;
	/* "--" in $CSHUTTLE_ARGS does not protect the real command line. */
	a.dashdash = false;
	for (i = 1; i < argc; i++)
		if ((ret = options_add_arg(&a, argv[i], strlen(argv[i]), 0,
		    err, errlen)) != 0)
			goto out;

	/* Pass 1.  optind = 0 makes glibc forget any earlier scan
	 * completely; the vector it permutes is ours and scans the same
	 * way again. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long((int)a.n, a.v, options_short, options_long,
	    NULL)) != -1) {
		if (c < 0 || c >= OPT_END || c == ':' || c == '?') {
			ret = options_bad(&a, c, err, errlen);
			goto out;
		}
		given[options_group(c)] = true;
		if (c == OPT_CONFIG)
			cfgpath = optarg;
		/* Neither needs the file, nor should fail because of it. */
		if (c == 'h' || c == OPT_VERSION || c == OPT_FIREWALL)
			skipcfg = true;
	}
	if ((size_t)optind < a.n)
		given['s'] = true;	/* positional subnets */

	if (!skipcfg && (text != NULL || cfgpath != NULL)) {
		if (text != NULL) {
			ret = config_parse(&cfg, name, NULL, text, textlen,
			    err, errlen);
			if (ret == 0 && (o->config = strdup(name)) == NULL)
				ret = options_nomem(err, errlen);
		} else
			ret = config_load(&cfg, cfgpath, options_base(),
			    err, errlen);
		if (ret == 0)
			ret = options_config(o, &st, &cfg, given, err, errlen);
		if (ret != 0)
			goto out;
	}

	/* Pass 2: the command line, over the file. */
	optind = 0;
	while ((c = getopt_long((int)a.n, a.v, options_short, options_long,
	    NULL)) != -1) {
		if (c == 'v')
			o->verbose++;	/* the file's "verbose" was skipped */
		else if ((flag = options_flag(o, c)) != NULL)
			*flag = true;
		else if (c == OPT_CONFIG && text != NULL)
			;	/* the text stands for the file */
		else if ((ret = options_apply(o, &st, c, optarg, options_base(),
		    err, errlen)) != 0)
			goto out;
	}
	for (k = (size_t)optind; k < a.n; k++)
		if ((ret = options_subnet(o, a.v[k], false, err, errlen)) != 0)
			goto out;

	if (o->show_help || o->show_version)
		goto out;
	if ((ret = options_listen_finish(o, &st, err, errlen)) != 0)
		goto out;
	if (o->firewall)
		goto out;
	if (o->remote == NULL) {
		ret = options_fail(err, errlen, "missing -r/--remote "
		    "[user@]host[:port]");
		goto out;
	}
	for (k = 0; k < o->subnets.n; k++)
		includes += !o->subnets.v[k].exclude;
	if (includes == 0) {
		ret = options_fail(err, errlen, "no subnets to forward: give at "
		    "least one, e.g. 0/0");
		goto out;
	}
	/* Both only change how captured DNS is handled. */
	if (!o->dns && o->nns_hosts == 0 && (o->nto_ns > 0 || o->ndns_domains > 0)) {
		ret = options_fail(err, errlen, "%s needs --dns or --ns-hosts",
		    o->nto_ns > 0 ? "--to-ns" : "--dns-domains");
		goto out;
	}
	/* Otherwise silence alone would end every session. */
	if (o->alive_interval_ms >= o->alive_timeout_ms) {
		ret = options_fail(err, errlen, "--alive-interval (%d s) must be "
		    "shorter than --alive-timeout (%d s)",
		    o->alive_interval_ms / 1000, o->alive_timeout_ms / 1000);
		goto out;
	}
 out:
	config_free(&cfg);
	options_argv_free(&a);
	return ret;
}

int
options_parse(struct options *o, int argc, char **argv, char *err,
    size_t errlen)
{
	return options_parse_all(o, argc, argv, NULL, NULL, 0, err, errlen);
}

int
options_parse_text(struct options *o, const char *name, const char *text,
    size_t len, int argc, char **argv, char *err, size_t errlen)
{
	return options_parse_all(o, argc, argv, name, text, len, err, errlen);
}

void
options_usage(FILE *f)
{
	fputs(
"usage: cshuttle [options] -r [user@]host[:port] SUBNET...\n"
"       cshuttle [options] --config FILE [SUBNET...]\n"
"       cshuttle --firewall\n"
"\n"
"Forward TCP connections to SUBNETs through an SSH server.\n"
"\n"
"SUBNET is one of\n"
"  IPV4[/PREFIX][:PORTS]       10.0.0.0/8, 192.168.1.5, 10.0.0.0/8:8000-9000\n"
"  IPV6[/PREFIX]               fd00::/64, ::/0\n"
"  [IPV6[/PREFIX]]:PORTS       [fd00::1]:443, [fd00::/64]:80-90\n"
"  HOSTNAME[:PORTS]            every IPv4 and IPv6 address of the name\n"
"PORTS is PORT or LOW-HIGH (1-65535).  Prefixes are read as `ip route`\n"
"reads them: 10/8 is 10.0.0.0/8, 0/0 every IPv4 address, ::/0 every IPv6\n"
"address.  Host bits are cleared: 10.1.2.3/8 means 10.0.0.0/8.\n"
"\n"
"Options:\n"
"  -r, --remote [USER@]HOST[:PORT]\n"
"                        the SSH server (required)\n"
"  -x, --exclude SUBNET  do not forward SUBNET (repeatable)\n"
"  -X, --exclude-from FILE\n"
"                        exclude the subnets listed in FILE\n"
"  -s, --subnets FILE    forward the subnets listed in FILE\n"
"                        (in both files: separated by white space,\n"
"                        '#' starts a comment)\n"
"  -l, --listen [IP:]PORT\n"
"                        accept redirected connections on PORT (0: pick a\n"
"                        free one) at IP, written [IPV6]:PORT for IPv6;\n"
"                        a bare PORT means 127.0.0.1 and ::1; repeat or\n"
"                        separate with commas for one IPv4 and one IPv6\n"
"                        address (default: 127.0.0.1 and ::1, port 0)\n"
"  -e, --ssh-cmd CMD     run CMD (e.g. \"ssh -F cfg\") instead of the\n"
"                        built-in SSH client\n"
"      --ssh-config FILE read this OpenSSH client configuration instead of\n"
"                        ~/.ssh/config\n"
"      --no-ipv6         do not redirect IPv6 traffic\n"
"      --dns             capture DNS requests to the servers in\n"
"                        /etc/resolv.conf and resolve them on the remote host\n"
"      --ns-hosts IP[,IP...]\n"
"                        capture DNS requests to these servers too (host\n"
"                        names are resolved at start)\n"
"      --to-ns IP[:PORT][,...]\n"
"                        the remote host asks these servers (at most 8;\n"
"                        [IPV6]:PORT for IPv6) instead of those in its own\n"
"                        /etc/resolv.conf\n"
"      --dns-domains DOMAIN[,DOMAIN...]\n"
"                        tunnel only names equal to or under these domains;\n"
"                        other names go to the original server from here\n"
"      --no-block-leaks  with 0/0 or ::/0, do not block the UDP and IPv6\n"
"                        traffic that would bypass the tunnel\n"
"      --stub-cache      keep the stub in the remote user's cache directory\n"
"                        (~/.cache/cshuttle) and skip the upload next time\n"
"      --remote-tmpdir DIR\n"
"                        on the remote host, run the stub from DIR (an\n"
"                        absolute path or ~/PATH) before trying\n"
"                        $XDG_RUNTIME_DIR, $TMPDIR, /tmp, /var/tmp, /dev/shm\n"
"  -D, --daemon          run in the background once the tunnel is up\n"
"      --pidfile FILE    write the process id to FILE once the tunnel is up\n"
"      --syslog          log to syslog instead of standard error\n"
"      --no-reconnect    exit when the SSH session is lost instead of\n"
"                        reconnecting\n"
"      --alive-interval SECS\n"
"                        ping the remote host after SECS of silence\n"
"                        (1-3600, default 5)\n"
"      --alive-timeout SECS\n"
"                        the session is lost after SECS without a word from\n"
"                        the remote host (1-3600, default 15)\n"
"      --config FILE     read settings from FILE first (cshuttle.conf(5));\n"
"                        the command line overrides them\n"
"  -v, --verbose         more messages (repeat for more)\n"
"  -q, --quiet           only errors and warnings\n"
"  -h, --help            show this help and exit\n"
"      --version         show the version and exit\n"
"      --firewall        internal: run as the firewall helper\n"
"\n"
"An argument @FILE is replaced by the lines of FILE, one argument per\n"
"line (blank lines and lines starting with '#' are skipped).  The words\n"
"of $CSHUTTLE_ARGS (quotes allowed) come before the command line.\n"
"\n"
"Exit status: 0 success, 1 runtime failure (SSH, remote or firewall),\n"
"2 usage error, 3 refused by the SSH server (host key or authentication),\n"
"99 internal error.\n", f);
}

void
options_free(struct options *o)
{
	int	i;

	if (o == NULL)
		return;
	free(o->remote);
	free(o->ssh_cmd);
	free(o->ssh_config);
	free(o->remote_tmpdir);
	free(o->pidfile);
	free(o->config);
	for (i = 0; i < o->ndns_domains; i++)
		free(o->dns_domains[i]);
	free(o->dns_domains);
	subnet_list_free(&o->subnets);
	memset(o, 0, sizeof(*o));
}
