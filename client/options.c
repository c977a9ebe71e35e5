/* SPDX-License-Identifier: ISC */
/*
 * options.c - the option table, the getopt loop, what each option does,
 * and the host names kept for options_resolve().
 *
 * The arguments come flattened into one vector (options_args.c); the
 * configuration file's entries go through the same options_apply() as
 * the command line (options_config.c).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control_proto.h"
#include "options_int.h"
#include "subnet.h"

/* -V, -N, -H and -t are sshuttle's, with the meaning sshuttle gives
 * them. */
static const char options_short[] = ":r:x:X:s:l:vqe:hDVNHt:";

static const struct option options_long[] = {
	{ "remote",		required_argument,	NULL, 'r' },
	{ "exclude",		required_argument,	NULL, 'x' },
	{ "exclude-from",	required_argument,	NULL, 'X' },
	{ "subnets",		required_argument,	NULL, 's' },
	{ "listen",		required_argument,	NULL, 'l' },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "ssh-cmd",		required_argument,	NULL, 'e' },
	{ "ssh-config",		required_argument,	NULL, OPTIONS_OPT_SSH_CONFIG },
	{ "version",		no_argument,		NULL, OPTIONS_OPT_VERSION },
	{ "help",		no_argument,		NULL, 'h' },
	{ "firewall",		no_argument,		NULL, OPTIONS_OPT_FIREWALL },
	{ "no-ipv6",		no_argument,		NULL, OPTIONS_OPT_NO_IPV6 },
	{ "stub-cache",		no_argument,		NULL, OPTIONS_OPT_STUB_CACHE },
	{ "remote-tmpdir",	required_argument,	NULL, OPTIONS_OPT_REMOTE_TMPDIR },
	{ "dns",		no_argument,		NULL, OPTIONS_OPT_DNS },
	{ "ns-hosts",		required_argument,	NULL, OPTIONS_OPT_NS_HOSTS },
	{ "to-ns",		required_argument,	NULL, OPTIONS_OPT_TO_NS },
	{ "dns-domains",	required_argument,	NULL, OPTIONS_OPT_DNS_DOMAINS },
	{ "no-block-leaks",	no_argument,		NULL, OPTIONS_OPT_NO_BLOCK_LEAKS },
	{ "daemon",		no_argument,		NULL, 'D' },
	{ "pidfile",		required_argument,	NULL, OPTIONS_OPT_PIDFILE },
	{ "syslog",		no_argument,		NULL, OPTIONS_OPT_SYSLOG },
	{ "no-reconnect",	no_argument,		NULL, OPTIONS_OPT_NO_RECONNECT },
	{ "alive-interval",	required_argument,	NULL, OPTIONS_OPT_ALIVE_INTERVAL },
	{ "alive-timeout",	required_argument,	NULL, OPTIONS_OPT_ALIVE_TIMEOUT },
	{ "probe-timeout",	required_argument,	NULL, OPTIONS_OPT_PROBE_TIMEOUT },
	{ "resume-grace",	required_argument,	NULL, OPTIONS_OPT_RESUME_GRACE },
	{ "config",		required_argument,	NULL, OPTIONS_OPT_CONFIG },
	{ "user",		required_argument,	NULL, OPTIONS_OPT_USER },
	{ "group",		required_argument,	NULL, OPTIONS_OPT_GROUP },
	{ "privsep-user",	required_argument,	NULL, OPTIONS_OPT_PRIVSEP_USER },
	{ "host-wide",		no_argument,		NULL, OPTIONS_OPT_HOST_WIDE },
	{ "allow-from",		required_argument,	NULL, OPTIONS_OPT_ALLOW_FROM },
	{ "sudoers",		no_argument,		NULL, OPTIONS_OPT_SUDOERS },
	{ "name",		required_argument,	NULL, OPTIONS_OPT_NAME },
	{ "max-streams",	required_argument,	NULL, OPTIONS_OPT_MAX_STREAMS },
	{ "buffer-budget",	required_argument,	NULL, OPTIONS_OPT_BUFFER_BUDGET },
	{ "no-udp",		no_argument,		NULL, OPTIONS_OPT_NO_UDP },
	{ "udp-timeout",	required_argument,	NULL, OPTIONS_OPT_UDP_TIMEOUT },
	{ "max-udp-flows",	required_argument,	NULL, OPTIONS_OPT_MAX_UDP_FLOWS },
	/* sshuttle's names, so that its command lines get an answer;
	 * the same value as cshuttle's option where the meaning is. */
	{ "disable-ipv6",	no_argument,		NULL, OPTIONS_OPT_NO_IPV6 },
	{ "sudoers-no-modify",	no_argument,		NULL, OPTIONS_OPT_SUDOERS_NO_MODIFY },
	{ "sudoers-user",	required_argument,	NULL, OPTIONS_OPT_SUDOERS_USER },
	{ "no-cmd-delimiter",	no_argument,		NULL, OPTIONS_OPT_NO_CMD_DELIMITER },
	{ "method",		required_argument,	NULL, OPTIONS_OPT_METHOD },
	{ "python",		required_argument,	NULL, OPTIONS_OPT_PYTHON },
	{ "remote-shell",	required_argument,	NULL, OPTIONS_OPT_REMOTE_SHELL },
	{ "auto-nets",		no_argument,		NULL, 'N' },
	{ "auto-hosts",		no_argument,		NULL, 'H' },
	{ "seed-hosts",		required_argument,	NULL, OPTIONS_OPT_SEED_HOSTS },
	{ "no-latency-control",	no_argument,		NULL, OPTIONS_OPT_NO_LATENCY_CONTROL },
	{ "latency-buffer-size", required_argument,	NULL, OPTIONS_OPT_LATENCY_BUFFER_SIZE },
	{ "wrap",		required_argument,	NULL, OPTIONS_OPT_WRAP },
	{ "hostwatch",		no_argument,		NULL, OPTIONS_OPT_HOSTWATCH },
	{ "no-sudo-pythonpath",	no_argument,		NULL, OPTIONS_OPT_NO_SUDO_PYTHONPATH },
	{ "tmark",		required_argument,	NULL, 't' },
	{ "namespace",		required_argument,	NULL, OPTIONS_OPT_NAMESPACE },
	{ "namespace-pid",	required_argument,	NULL, OPTIONS_OPT_NAMESPACE_PID },
	{ NULL,			0,			NULL, 0 },
};


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

const char *
options_base(void)
{
	if (options_cwd[0] == '\0' &&
	    getcwd(options_cwd, sizeof(options_cwd)) == NULL)
		options_cwd[0] = '\0';
	return options_cwd[0] != '\0' ? options_cwd : NULL;
}

/* ---- host names ---- */

static void
options_names_free(struct options *o)
{
	size_t	i;

	for (i = 0; i < o->nnames; i++) {
		free(o->names[i].name);
		free(o->names[i].where);
	}
	free(o->names);
	o->names = NULL;
	o->nnames = 0;
}

/* Room for one more name.  0, or CSHUTTLE_EXIT_FAIL. */
static int
options_names_grow(struct options *o, char *err, size_t errlen)
{
	struct options_name	*nv;

	if ((nv = realloc(o->names, (o->nnames + 1) * sizeof(*nv))) == NULL)
		return options_nomem(err, errlen);
	o->names = nv;
	memset(&nv[o->nnames], 0, sizeof(*nv));
	return 0;
}

int
options_name_add(struct options *o, const char *name, enum options_name_use use,
    int at, char *err, size_t errlen)
{
	struct options_name	*n;
	int			 ret;

	if ((ret = options_names_grow(o, err, errlen)) != 0)
		return ret;
	n = &o->names[o->nnames];
	if ((n->name = strdup(name)) == NULL)
		return options_nomem(err, errlen);
	n->use = use;
	n->at = at;
	o->nnames++;
	return 0;
}

int
options_name_take(struct options *o, struct options *from, size_t i0,
    char *err, size_t errlen)
{
	size_t	i;
	int	ret;

	for (i = i0; i < from->nnames; i++) {
		if ((ret = options_names_grow(o, err, errlen)) != 0)
			return ret;
		o->names[o->nnames] = from->names[i];
		o->names[o->nnames++].check_only = true;
		from->names[i].name = from->names[i].where = NULL;	/* transferred */
	}
	from->nnames = i0;
	return 0;
}

int
options_name_where(struct options *o, size_t from, char *err, size_t errlen,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*prefix, *where;
	int	 r;

	if (from >= o->nnames)
		return 0;
	va_start(ap, fmt);
	r = vasprintf(&prefix, fmt, ap);
	va_end(ap);
	if (r == -1)
		return options_nomem(err, errlen);
	for (; from < o->nnames; from++) {
		if (asprintf(&where, "%s%s", prefix, o->names[from].where != NULL ?
		    o->names[from].where : "") == -1) {
			free(prefix);
			return options_nomem(err, errlen);
		}
		free(o->names[from].where);
		o->names[from].where = where;
	}
	free(prefix);
	return 0;
}

/* A --ns-hosts name that counts (not one of a replaced list). */
static bool
options_has_ns_names(const struct options *o)
{
	size_t	i;

	for (i = 0; i < o->nnames; i++)
		if (o->names[i].use == OPTIONS_NAME_NS_HOST && !o->names[i].check_only)
			return true;
	return false;
}

/* ---- the options ---- */

int
options_subnet(struct options *o, const char *spec, bool exclude, char *err,
    size_t errlen)
{
	const struct subnet	*s;
	int			 r;

	r = subnet_parse(&o->subnets, spec, exclude, true, err, errlen);
	if (r == SUBNET_E_NOMEM)
		return options_nomem(err, errlen);
	if (r != 0)
		return CSHUTTLE_EXIT_USAGE;
	s = &o->subnets.v[o->subnets.n - 1];
	if (s->name == 0)
		return 0;
	return options_name_add(o, o->subnets.names[s->name - 1],
	    OPTIONS_NAME_SUBNET, 0, err, errlen);
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

/*
 * -r [user[:password]@]host[:port].  A password (sshuttle's syntax) is
 * taken out of the user part and kept apart, so that no message, status
 * or ssh command line shows it.
 */
static int
options_remote(struct options *o, const struct options_state *st, const char *arg,
    char *err, size_t errlen)
{
	const char	*p, *at, *colon;
	char		*pw, *rest;
	int		 ret;

	/* A leading '-' would reach ssh as an option. */
	if (*arg == '-')
		return options_fail(err, errlen, "-r \"%s\": must not start "
		    "with '-'", arg);
	for (p = arg; *p != '\0'; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return options_fail(err, errlen, "-r: unexpected space "
			    "or control character");
	if ((at = strrchr(arg, '@')) == NULL ||
	    (colon = memchr(arg, ':', (size_t)(at - arg))) == NULL)
		return options_string(&o->remote, "-r", arg, err, errlen);
	if (colon == arg)
		return options_fail(err, errlen, "-r: empty user name before the password");
	if (colon + 1 == at)
		return options_fail(err, errlen, "-r: empty password after \"user:\"");
	if ((pw = strndup(colon + 1, (size_t)(at - colon - 1))) == NULL ||
	    asprintf(&rest, "%.*s%s", (int)(colon - arg), arg, at) == -1) {
		free(pw);
		return options_nomem(err, errlen);
	}
	if (o->remote_password != NULL)
		explicit_bzero(o->remote_password, strlen(o->remote_password));
	free(o->remote_password);
	o->remote_password = pw;
	o->remote_password_argv = !st->in_file;
	ret = options_string(&o->remote, "-r", rest, err, errlen);
	free(rest);
	return ret;
}

/* --name: what `cshuttle status` calls the tunnel (control_proto.h). */
static int
options_name(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (!control_proto_name_ok(arg))
		return options_fail(err, errlen, "--name \"%.80s\": 1 to %d letters, digits "
		    "and ._@+- (not first: . or -)", arg, CONTROL_NAME_MAX);
	return options_string(&o->name, "--name", arg, err, errlen);
}

/*
 * An unknown or an ambiguous long option: getopt_long() says neither
 * which, nor the candidates.  A prefix of several names is ambiguous
 * unless they all stand for the same option (--no-ipv6, --disable-ipv6),
 * as getopt_long() decides it.
 */
static int
options_unknown(const char *word, int n, char *err, size_t errlen)
{
	const struct option	*p, *first = NULL;
	const char		*name = word;
	char			 list[512];
	size_t			 len, used = 0;
	bool			 ambiguous = false;

	if (strncmp(name, "--", 2) == 0)
		name += 2;
	len = (size_t)n - (size_t)(name - word);
	list[0] = '\0';
	for (p = options_long; p->name != NULL; p++) {
		if (len == 0 || strncmp(p->name, name, len) != 0)
			continue;
		if (first == NULL)
			first = p;
		else if (p->has_arg != first->has_arg || p->val != first->val)
			ambiguous = true;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used,
			    "%s--%s", used > 0 ? ", " : "", p->name);
	}
	if (ambiguous)
		return options_fail(err, errlen, "ambiguous option %.*s: %s", n,
		    word, list);
	return options_fail(err, errlen, "unknown option %.*s", n, word);
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
options_bad(const struct options_args *a, int c, char *err, size_t errlen)
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
		return options_unknown(word, n, err, errlen);
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

/*
 * --probe-timeout SECS: seconds with up to three decimals (a probe waits
 * for a round trip, which a whole second would overstate), 0 for none,
 * else OPTIONS_PROBE_MIN_MS to OPTIONS_PROBE_MAX_S.
 */
static int
options_probe_timeout(struct options *o, const char *arg, char *err, size_t errlen)
{
	unsigned long	v = 0;
	const char	*p = arg;
	int		 frac = 0, scale = 1000;

	while (isdigit((unsigned char)*p) && v <= OPTIONS_PROBE_MAX_S)
		v = v * 10 + (unsigned long)(*p++ - '0');
	if (*p == '.' && p > arg) {
		for (p++; isdigit((unsigned char)*p) && scale > 1; p++) {
			scale /= 10;
			frac += (*p - '0') * scale;
		}
	}
	if (p == arg || *p != '\0' || v > OPTIONS_PROBE_MAX_S ||
	    v * 1000 + (unsigned long)frac > OPTIONS_PROBE_MAX_S * 1000UL ||
	    (v * 1000 + (unsigned long)frac != 0 &&
	    v * 1000 + (unsigned long)frac < OPTIONS_PROBE_MIN_MS))
		return options_fail(err, errlen, "--probe-timeout \"%s\": expected "
		    "seconds, 0 (no probes) or %.1f-%d", arg,
		    (double)OPTIONS_PROBE_MIN_MS / 1000, OPTIONS_PROBE_MAX_S);
	o->probe_timeout_ms = (int)(v * 1000) + frac;
	return 0;
}

/* --max-streams N: 1 to OPTIONS_MAX_STREAMS_MAX. */
static int
options_max_streams(struct options *o, const char *arg, char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = isdigit((unsigned char)*arg) ? strtoul(arg, &end, 10) : 0;
	if (!isdigit((unsigned char)*arg) || errno != 0 || *end != '\0' ||
	    v < 1 || v > OPTIONS_MAX_STREAMS_MAX)
		return options_fail(err, errlen, "--max-streams \"%s\": expected a "
		    "number, 1-%d", arg, OPTIONS_MAX_STREAMS_MAX);
	o->max_streams = (uint32_t)v;
	return 0;
}

/* --udp-timeout SECS, --max-udp-flows N and --resume-grace SECS: whole
 * numbers, min to max. */
static int
options_uint(unsigned *out, const char *opt, unsigned long min, unsigned long max,
    const char *arg, char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = isdigit((unsigned char)*arg) ? strtoul(arg, &end, 10) : 0;
	if (!isdigit((unsigned char)*arg) || errno != 0 || *end != '\0' ||
	    v < min || v > max)
		return options_fail(err, errlen, "%s \"%s\": expected a whole "
		    "number, %lu-%lu", opt, arg, min, max);
	*out = (unsigned)v;
	return 0;
}

/*
 * -t/--tmark MARK (sshuttle's TPROXY mark): 0x and hexadecimal, as
 * sshuttle writes it, or decimal; 1 to 0xffffffff, and a routing table
 * number the kernel does not keep for itself, outside cshuttle's own
 * marks (fw_tmark_invalid()).
 */
static int
options_tmark(struct options *o, const char *arg, char *err, size_t errlen)
{
	unsigned long long	 v;
	const char		*digits = arg, *why;
	char			*end;
	int			 base = 10;

	if (arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X')) {
		digits = arg + 2;
		base = 16;
	}
	errno = 0;
	v = isxdigit((unsigned char)*digits) ? strtoull(digits, &end, base) : 0;
	if (!isxdigit((unsigned char)*digits) || errno != 0 || *end != '\0' ||
	    v < 1 || v > 0xffffffffULL)
		return options_fail(err, errlen, "-t/--tmark \"%.32s\": expected "
		    "a mark, 0x1-0xffffffff (or in decimal)", arg);
	if ((why = fw_tmark_invalid((uint32_t)v)) != NULL)
		return options_fail(err, errlen, "-t/--tmark %.32s: the mark "
		    "is also the number of the routing table, and %s", arg, why);
	o->tmark = (uint32_t)v;
	return 0;
}

/* --buffer-budget SIZE: bytes, or with K, M or G (powers of 1024; an
 * optional B or iB after them), 64K to 1024G. */
static int
options_buffer_budget(struct options *o, const char *arg, char *err, size_t errlen)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	errno = 0;
	v = isdigit((unsigned char)*arg) ? strtoull(arg, &end, 10) : 0;
	if (!isdigit((unsigned char)*arg) || errno != 0)
		goto bad;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (shift != 0 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
		end += strlen(end);
	if (*end != '\0' || v > (OPTIONS_BUDGET_MAX >> shift) ||
	    (v << shift) < OPTIONS_BUDGET_MIN)
		goto bad;
	o->buffer_budget = (size_t)(v << shift);
	return 0;
bad:
	return options_fail(err, errlen, "--buffer-budget \"%s\": expected a size "
	    "such as 64M (K, M or G), 64K-1024G", arg);
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

/* --user and --group: a name or a number, looked up at start (main.c),
 * so that parsing never waits for a user database. */
static int
options_account(char **dst, const char *opt, const char *arg, char *err,
    size_t errlen)
{
	const char	*p;

	for (p = arg; *p != '\0'; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p) ||
		    *p == ':' || *p == ',')
			return options_fail(err, errlen, "%s \"%s\": not a "
			    "name or a number", opt, arg);
	if (strlen(arg) > 64)
		return options_fail(err, errlen, "%s: longer than 64 bytes", opt);
	return options_string(dst, opt, arg, err, errlen);
}

/*
 * --allow-from NET[,NET...]: networks as subnets are written, without
 * ports or host names (the prerouting rules match sources, not
 * destinations).
 */
static int
options_allow_from(struct options *o, const char *arg, char *err, size_t errlen)
{
	struct subnet_list	 l;
	struct fw_allow		*a;
	const struct subnet	*s;
	char			*words, *w, *save, why[256];
	int			 r, ret = 0;

	if (*arg == '\0')
		return options_fail(err, errlen, "--allow-from: empty argument");
	if ((words = strdup(arg)) == NULL)
		return options_nomem(err, errlen);
	for (w = strtok_r(words, ",", &save); w != NULL && ret == 0;
	    w = strtok_r(NULL, ",", &save)) {
		memset(&l, 0, sizeof(l));
		r = subnet_parse(&l, w, false, false, why, sizeof(why));
		if (r == SUBNET_E_NOMEM)
			ret = options_nomem(err, errlen);
		else if (r != 0 || l.n != 1 || l.v[0].port_lo != 0 ||
		    (l.v[0].port_hi != 0 && l.v[0].port_hi != 65535))
			ret = options_fail(err, errlen, "--allow-from \"%s\": "
			    "expected a network, IP[/PREFIX] (no port, no host "
			    "name)", w);
		else if (o->nallow == FW_MAX_ALLOW)
			ret = options_fail(err, errlen, "--allow-from: more than "
			    "%d networks", FW_MAX_ALLOW);
		else {
			s = &l.v[0];
			a = &o->allow[o->nallow++];
			memset(a, 0, sizeof(*a));
			a->family = s->family;
			a->prefix = s->prefix;
			memcpy(a->addr, s->addr, sizeof(a->addr));
		}
		subnet_list_free(&l);
	}
	free(words);
	return ret;
}

/* The field behind an option that takes no argument, NULL for others. */
bool *
options_flag(struct options *o, int opt)
{
	switch (opt) {
	case 'q':
		return &o->quiet;
	case 'h':
		return &o->show_help;
	case 'D':
		return &o->daemon;
	case 'V':
	case OPTIONS_OPT_VERSION:
		return &o->show_version;
	case OPTIONS_OPT_FIREWALL:
		return &o->firewall;
	case OPTIONS_OPT_SUDOERS:
		return &o->sudoers;
	case OPTIONS_OPT_SUDOERS_NO_MODIFY:
		return &o->sudoers_print;
	case OPTIONS_OPT_NO_CMD_DELIMITER:
		return &o->no_cmd_delimiter;
	case OPTIONS_OPT_HOST_WIDE:
		return &o->host_wide;
	case OPTIONS_OPT_NO_IPV6:
		return &o->no_ipv6;
	case 'N':
		return &o->auto_nets;
	case 'H':
		return &o->auto_hosts;
	case OPTIONS_OPT_STUB_CACHE:
		return &o->stub_cache;
	case OPTIONS_OPT_DNS:
		return &o->dns;
	case OPTIONS_OPT_NO_BLOCK_LEAKS:
		return &o->no_block_leaks;
	case OPTIONS_OPT_NO_UDP:
		return &o->no_udp;
	case OPTIONS_OPT_SYSLOG:
		return &o->syslog;
	case OPTIONS_OPT_NO_RECONNECT:
		return &o->no_reconnect;
	}
	return NULL;
}

/*
 * One option that takes an argument, from the command line or from the
 * configuration file: the same checks either way.  Relative paths are
 * taken relative to base.
 */
int
options_apply(struct options *o, struct options_state *st, int opt,
    const char *arg, const char *base, char *err, size_t errlen)
{
	switch (opt) {
	case 'r':
		return options_remote(o, st, arg, err, errlen);
	case 'x':
		return options_subnet(o, arg, true, err, errlen);
	case 'X':
		return options_args_subnet_file(o, base, arg, true, err, errlen);
	case 's':
		return options_args_subnet_file(o, base, arg, false, err, errlen);
	case OPTIONS_OPT_SUBNET:
		return options_subnet(o, arg, false, err, errlen);
	case 'l':
		return options_net_listen(o, st, arg, err, errlen);
	case 'e':
		return options_string(&o->ssh_cmd, "-e", arg, err, errlen);
	case OPTIONS_OPT_SSH_CONFIG:
		return options_path(&o->ssh_config, "--ssh-config", base, arg,
		    err, errlen);
	case OPTIONS_OPT_REMOTE_TMPDIR:
		return options_remote_tmpdir(o, arg, err, errlen);
	case OPTIONS_OPT_NS_HOSTS:
		return options_net_ns_hosts(o, arg, err, errlen);
	case OPTIONS_OPT_TO_NS:
		return options_net_to_ns(o, arg, err, errlen);
	case OPTIONS_OPT_DNS_DOMAINS:
		return options_net_dns_domains(o, arg, err, errlen);
	case OPTIONS_OPT_SEED_HOSTS:
		return options_net_seed_hosts(o, arg, err, errlen);
	case OPTIONS_OPT_PIDFILE:
		return options_path(&o->pidfile, "--pidfile", base, arg,
		    err, errlen);
	case OPTIONS_OPT_ALIVE_INTERVAL:
		return options_seconds(&o->alive_interval_ms, "--alive-interval",
		    arg, err, errlen);
	case OPTIONS_OPT_ALIVE_TIMEOUT:
		return options_seconds(&o->alive_timeout_ms, "--alive-timeout",
		    arg, err, errlen);
	case OPTIONS_OPT_PROBE_TIMEOUT:
		return options_probe_timeout(o, arg, err, errlen);
	case OPTIONS_OPT_CONFIG:
		return options_path(&o->config, "--config", base, arg,
		    err, errlen);
	case OPTIONS_OPT_USER:
		return options_account(&o->user, "--user", arg, err, errlen);
	case OPTIONS_OPT_GROUP:
		return options_account(&o->group, "--group", arg, err, errlen);
	case OPTIONS_OPT_PRIVSEP_USER:
		return options_account(&o->privsep_user, "--privsep-user", arg,
		    err, errlen);
	case OPTIONS_OPT_ALLOW_FROM:
		return options_allow_from(o, arg, err, errlen);
	case OPTIONS_OPT_NAME:
		return options_name(o, arg, err, errlen);
	case OPTIONS_OPT_MAX_STREAMS:
		return options_max_streams(o, arg, err, errlen);
	case OPTIONS_OPT_BUFFER_BUDGET:
		return options_buffer_budget(o, arg, err, errlen);
	case OPTIONS_OPT_RESUME_GRACE:
		return options_uint(&o->resume_grace_s, "--resume-grace", 0,
		    OPTIONS_RESUME_GRACE_MAX, arg, err, errlen);
	case OPTIONS_OPT_UDP_TIMEOUT:
		return options_uint(&o->udp_timeout_s, "--udp-timeout", 1,
		    OPTIONS_UDP_TIMEOUT_MAX, arg, err, errlen);
	case OPTIONS_OPT_MAX_UDP_FLOWS:
		return options_uint(&o->max_udp_flows, "--max-udp-flows", 1,
		    OPTIONS_UDP_FLOWS_MAX, arg, err, errlen);
	case OPTIONS_OPT_SUDOERS_USER:
		return options_account(&o->sudoers_user, "--sudoers-user", arg,
		    err, errlen);
	case 't':
		return options_tmark(o, arg, err, errlen);
	}
	if (options_compat_has(opt))
		return options_compat_apply(o, opt, arg, err, errlen);
	return options_fail(err, errlen, "internal error: option %d", opt);
}

/*
 * The command-line options that replace a whole list from the file:
 * -s and positional subnets replace subnet/subnets, -x and -X replace
 * exclude/exclude-from, and so on.  Maps an option to its group.
 */
int
options_group(int opt)
{
	switch (opt) {
	case OPTIONS_OPT_SUBNET:
		return 's';
	case 'X':
		return 'x';
	/* One namespace: either option replaces the file's key. */
	case OPTIONS_OPT_NAMESPACE_PID:
		return OPTIONS_OPT_NAMESPACE;
	}
	return opt;
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
	struct options_args a;
	struct options_state st;
	struct config cfg;
	bool given[OPTIONS_OPT_END], *flag, skipcfg = false;
	const char *cfgpath = NULL;
	int c, includes = 0, ret = 0;
	size_t k;

	memset(o, 0, sizeof(*o));
	memset(&a, 0, sizeof(a));
	memset(&cfg, 0, sizeof(cfg));
	memset(given, 0, sizeof(given));
	o->alive_interval_ms = OPTIONS_ALIVE_INTERVAL_MS;
	o->alive_timeout_ms = OPTIONS_ALIVE_TIMEOUT_MS;
	o->probe_timeout_ms = OPTIONS_PROBE_TIMEOUT_MS;
	o->resume_grace_s = OPTIONS_RESUME_GRACE_S;
	st.listen_port_only = -1;
	st.nlisten_explicit = 0;
	st.in_file = false;
	if (err != NULL && errlen > 0)
		*err = '\0';
	(void)options_base();

	if ((ret = options_args_build(&a, argc, argv, err, errlen)) != 0)
		goto out;

	/* Pass 1.  optind = 0 makes glibc forget any earlier scan
	 * completely; the vector it permutes is ours and scans the same
	 * way again. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long((int)a.n, a.v, options_short, options_long,
	    NULL)) != -1) {
		if (c < 0 || c >= OPTIONS_OPT_END || c == ':' || c == '?') {
			ret = options_bad(&a, c, err, errlen);
			goto out;
		}
		given[options_group(c)] = true;
		if (c == OPTIONS_OPT_CONFIG)
			cfgpath = optarg;
		/* Neither needs the file, nor should fail because of it. */
		if (c == 'h' || c == 'V' || c == OPTIONS_OPT_VERSION ||
		    c == OPTIONS_OPT_FIREWALL || c == OPTIONS_OPT_SUDOERS ||
		    c == OPTIONS_OPT_SUDOERS_NO_MODIFY)
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
			ret = options_config_apply(o, &st, &cfg, given, err, errlen);
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
		else if (c == OPTIONS_OPT_CONFIG && text != NULL)
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
	/* As in sshuttle: the seeds are for the names -H gathers. */
	if (o->nseed_hosts > 0)
		o->auto_hosts = true;
	if ((ret = options_net_listen_finish(o, &st, err, errlen)) != 0)
		goto out;
	if (o->sudoers_user != NULL && !o->sudoers_print) {
		ret = options_fail(err, errlen, "--sudoers-user needs "
		    "--sudoers-no-modify (or: cshuttle --sudoers USER)");
		goto out;
	}
	if (o->firewall || o->sudoers || o->sudoers_print)
		goto out;
	if (o->host_wide && (o->user != NULL || o->group != NULL)) {
		ret = options_fail(err, errlen, "--host-wide and %s exclude each "
		    "other", o->user != NULL ? "--user" : "--group");
		goto out;
	}
	if (o->remote == NULL) {
		ret = options_fail(err, errlen, "missing -r/--remote "
		    "[user@]host[:port]");
		goto out;
	}
	/* A host name counts: it resolves to one address at least. */
	for (k = 0; k < o->subnets.n; k++)
		includes += !o->subnets.v[k].exclude;
	/* -N alone is enough, as in sshuttle: the remote names them. */
	if (includes == 0 && !o->auto_nets) {
		ret = options_fail(err, errlen, "no subnets to forward: give at "
		    "least one, e.g. 0/0");
		goto out;
	}
	/* Both only change how captured DNS is handled. */
	if (!o->dns && o->nns_hosts == 0 && !options_has_ns_names(o) &&
	    (o->nto_ns > 0 || o->ndns_domains > 0)) {
		ret = options_fail(err, errlen, "%s needs --dns or --ns-hosts",
		    o->nto_ns > 0 ? "--to-ns" : "--dns-domains");
		goto out;
	}
	/* It marks carried UDP: without UDP there is nothing to mark. */
	if (o->tmark != 0 && o->no_udp) {
		ret = options_fail(err, errlen, "--tmark needs UDP (it marks the "
		    "UDP carried through the tunnel): leave out --no-udp");
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
	options_args_free(&a);
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

/* ---- resolving ---- */

/* What options_resolve() got for each distinct name. */
struct options_answer {
	const char	*name;
	struct addr	*a;		/* SUBNET_MAX_ADDRS */
	size_t		 n;
};

struct options_answers {
	struct options_answer	*v;
	size_t			 n;
	subnet_resolve_fn	*fn;
	void			*arg;
};

static const struct options_answer *
options_answer(const struct options_answers *l, const char *name)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

/* subnet_resolve_fn over the answers: each name is asked only once. */
static int
options_answer_lookup(void *arg, const char *name, struct addr *out, size_t max,
    size_t *n, char *why, size_t whylen)
{
	const struct options_answers	*l = arg;
	const struct options_answer	*a;

	/* Every subnet name is in o->names; asking is only a fallback. */
	if ((a = options_answer(l, name)) == NULL)
		return l->fn(l->arg, name, out, max, n, why, whylen);
	*n = a->n < max ? a->n : max;
	memcpy(out, a->a, *n * sizeof(*out));
	return 0;
}

/* Ask for every distinct name, in the order given: the first that fails
 * is the one a parser that resolved on the way would have met first. */
static int
options_ask(const struct options *o, struct options_answers *l, char *err,
    size_t errlen)
{
	const struct options_name	*nm;
	struct options_answer		*a;
	char				 why[256];
	size_t				 i;
	int				 r;

	for (i = 0; i < o->nnames; i++) {
		nm = &o->names[i];
		if (options_answer(l, nm->name) != NULL)
			continue;
		a = &l->v[l->n];
		if ((a->a = calloc(SUBNET_MAX_ADDRS, sizeof(*a->a))) == NULL)
			return options_nomem(err, errlen);
		a->name = nm->name;
		l->n++;
		why[0] = '\0';
		r = l->fn(l->arg, nm->name, a->a, SUBNET_MAX_ADDRS, &a->n, why,
		    sizeof(why));
		if (r == SUBNET_E_NOMEM)
			return options_nomem(err, errlen);
		if (r != 0 || a->n == 0)
			return options_fail(err, errlen, "%s%scannot resolve host "
			    "\"%s\": %s", nm->where != NULL ? nm->where : "",
			    nm->use == OPTIONS_NAME_NS_HOST ? "--ns-hosts: " :
			    nm->use == OPTIONS_NAME_LISTEN ? "-l: " : "",
			    nm->name, why[0] != '\0' ? why : "no address");
	}
	return 0;
}

/* --ns-hosts: each name's addresses where the name stood, among the
 * addresses given, duplicates dropped. */
static int
options_ns_merge(const struct options *o, const struct options_answers *l,
    struct addr *ns, int *nns, char *err, size_t errlen)
{
	const struct options_name	*nm, *last = NULL;
	const struct options_answer	*a;
	struct addr			 one;
	char				 why[128];
	size_t				 i, k;
	int				 at;

	*nns = 0;
	for (at = 0; at <= o->nns_hosts; at++) {
		for (i = 0; i < o->nnames; i++) {
			nm = &o->names[i];
			if (nm->use != OPTIONS_NAME_NS_HOST || nm->check_only ||
			    nm->at != at || (a = options_answer(l, nm->name)) == NULL)
				continue;
			last = nm;
			for (k = 0; k < a->n && k < OPTIONS_MAX_NS; k++) {
				addr_set(&one, a->a[k].family, a->a[k].bytes, 53);
				if (options_net_ns_add(ns, nns, &one, "--ns-hosts",
				    why, sizeof(why)) != 0)
					goto full;
			}
		}
		if (at < o->nns_hosts && options_net_ns_add(ns, nns,
		    &o->ns_hosts[at], "--ns-hosts", why, sizeof(why)) != 0)
			goto full;
	}
	return 0;
 full:
	/* Only a name's addresses can have filled the list. */
	return options_fail(err, errlen, "%s%s", last != NULL && last->where != NULL ?
	    last->where : "", why);
}

/* -l HOST:PORT: each name's addresses after the addresses given (IPv4
 * alone with --no-ipv6), with the name's port, each host once. */
static int
options_listen_merge(const struct options *o, const struct options_answers *l,
    struct addr *listen, int *nlisten, char *err, size_t errlen)
{
	const struct options_name	*nm;
	const struct options_answer	*a;
	size_t				 i, k;
	int				 j, used;

	memcpy(listen, o->listen, sizeof(o->listen));
	*nlisten = o->nlisten;
	for (i = 0; i < o->nnames; i++) {
		nm = &o->names[i];
		if (nm->use != OPTIONS_NAME_LISTEN || nm->check_only ||
		    (a = options_answer(l, nm->name)) == NULL)
			continue;
		for (k = 0, used = 0; k < a->n; k++) {
			if (a->a[k].family == ADDR_V6 && o->no_ipv6)
				continue;
			used++;
			for (j = 0; j < *nlisten; j++)
				if (addr_same_host(&listen[j], &a->a[k]))
					break;
			if (j < *nlisten)
				continue;
			if (*nlisten == OPTIONS_MAX_LISTEN)
				return options_fail(err, errlen, "%s-l: more than %d "
				    "listen addresses", nm->where != NULL ?
				    nm->where : "", OPTIONS_MAX_LISTEN);
			addr_set(&listen[(*nlisten)++], a->a[k].family,
			    a->a[k].bytes, (uint16_t)nm->at);
		}
		if (used == 0)
			return options_fail(err, errlen, "%s-l: host \"%s\" has no "
			    "IPv4 address (--no-ipv6)", nm->where != NULL ?
			    nm->where : "", nm->name);
	}
	return 0;
}

int
options_resolve(struct options *o, subnet_resolve_fn *fn, void *arg, char *err,
    size_t errlen)
{
	struct options_answers	 l;
	struct addr		 ns[OPTIONS_MAX_NS], listen[OPTIONS_MAX_LISTEN];
	size_t			 i;
	int			 nns, nlisten, r, ret;

	if (err != NULL && errlen > 0)
		*err = '\0';
	if (o->nnames == 0 && !subnet_list_has_names(&o->subnets))
		return CSHUTTLE_EXIT_OK;
	memset(&l, 0, sizeof(l));
	l.fn = fn;
	l.arg = arg;
	if ((l.v = calloc(o->nnames + 1, sizeof(*l.v))) == NULL)
		return options_nomem(err, errlen);
	if ((ret = options_ask(o, &l, err, errlen)) != 0 ||
	    (ret = options_ns_merge(o, &l, ns, &nns, err, errlen)) != 0 ||
	    (ret = options_listen_merge(o, &l, listen, &nlisten, err, errlen)) != 0)
		goto out;
	/* Last: it changes nothing when it fails. */
	r = subnet_list_resolve(&o->subnets, options_answer_lookup, &l, err, errlen);
	if (r != 0) {
		ret = r == SUBNET_E_NOMEM ? options_nomem(err, errlen) :
		    CSHUTTLE_EXIT_USAGE;
		goto out;
	}
	memcpy(o->ns_hosts, ns, sizeof(ns));
	o->nns_hosts = nns;
	memcpy(o->listen, listen, sizeof(listen));
	o->nlisten = nlisten;
	options_names_free(o);
 out:
	for (i = 0; i < l.n; i++)
		free(l.v[i].a);
	free(l.v);
	return ret;
}

void
options_free(struct options *o)
{
	int	i;

	if (o == NULL)
		return;
	free(o->remote);
	if (o->remote_password != NULL)
		explicit_bzero(o->remote_password, strlen(o->remote_password));
	free(o->remote_password);
	free(o->name);
	free(o->ssh_cmd);
	free(o->ssh_config);
	free(o->remote_tmpdir);
	free(o->pidfile);
	free(o->netns);
	free(o->config);
	free(o->user);
	free(o->privsep_user);
	free(o->group);
	free(o->sudoers_user);
	for (i = 0; i < o->ndns_domains; i++)
		free(o->dns_domains[i]);
	free(o->dns_domains);
	for (i = 0; i < o->nseed_hosts; i++)
		free(o->seed_hosts[i]);
	free(o->seed_hosts);
	subnet_list_free(&o->subnets);
	options_names_free(o);
	memset(o, 0, sizeof(*o));
}
