/* SPDX-License-Identifier: ISC */
/*
 * options_config.c - what each key of the configuration file means.
 *
 * config.c splits the file into (key, value, line); here each entry goes
 * through the command line's own handler (options_apply()), so a value
 * is checked the same way wherever it is given.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "options_int.h"

/* What the value of a configuration key is. */
enum options_config_type {
	OPTIONS_CONFIG_ONE,	/* one argument, as on the command line */
	OPTIONS_CONFIG_PATH,	/* a file, relative to the file's directory */
	OPTIONS_CONFIG_LIST,	/* items separated by white space or commas,
				 * each one argument; a command-line
				 * occurrence replaces every line of the
				 * key's group */
	OPTIONS_CONFIG_BOOL,	/* true/false..., the option's flag */
	OPTIONS_CONFIG_NOT,	/* true/false..., the flag's inverse */
	OPTIONS_CONFIG_LEVEL,	/* verbose: 0-3 */
};

static const struct options_config_key {
	const char			*name;
	int				 opt;
	enum options_config_type	 type;
} options_config_keys[] = {
	{ "remote",		'r',				OPTIONS_CONFIG_ONE },
	{ "subnet",		OPTIONS_OPT_SUBNET,		OPTIONS_CONFIG_LIST },
	{ "subnets",		OPTIONS_OPT_SUBNET,		OPTIONS_CONFIG_LIST },
	{ "exclude",		'x',				OPTIONS_CONFIG_LIST },
	{ "exclude-from",	'X',				OPTIONS_CONFIG_PATH },
	{ "listen",		'l',				OPTIONS_CONFIG_LIST },
	{ "ssh-cmd",		'e',				OPTIONS_CONFIG_ONE },
	{ "ssh-config",		OPTIONS_OPT_SSH_CONFIG,		OPTIONS_CONFIG_PATH },
	{ "dns",		OPTIONS_OPT_DNS,		OPTIONS_CONFIG_BOOL },
	{ "ns-hosts",		OPTIONS_OPT_NS_HOSTS,		OPTIONS_CONFIG_LIST },
	{ "to-ns",		OPTIONS_OPT_TO_NS,		OPTIONS_CONFIG_LIST },
	{ "dns-domains",	OPTIONS_OPT_DNS_DOMAINS,	OPTIONS_CONFIG_LIST },
	{ "block-leaks",	OPTIONS_OPT_NO_BLOCK_LEAKS,	OPTIONS_CONFIG_NOT },
	{ "no-block-leaks",	OPTIONS_OPT_NO_BLOCK_LEAKS,	OPTIONS_CONFIG_BOOL },
	{ "ipv6",		OPTIONS_OPT_NO_IPV6,		OPTIONS_CONFIG_NOT },
	{ "no-ipv6",		OPTIONS_OPT_NO_IPV6,		OPTIONS_CONFIG_BOOL },
	{ "auto-nets",		'N',				OPTIONS_CONFIG_BOOL },
	{ "auto-hosts",		'H',				OPTIONS_CONFIG_BOOL },
	{ "stub-cache",		OPTIONS_OPT_STUB_CACHE,		OPTIONS_CONFIG_BOOL },
	{ "remote-tmpdir",	OPTIONS_OPT_REMOTE_TMPDIR,	OPTIONS_CONFIG_ONE },
	{ "reconnect",		OPTIONS_OPT_NO_RECONNECT,	OPTIONS_CONFIG_NOT },
	{ "no-reconnect",	OPTIONS_OPT_NO_RECONNECT,	OPTIONS_CONFIG_BOOL },
	{ "alive-interval",	OPTIONS_OPT_ALIVE_INTERVAL,	OPTIONS_CONFIG_ONE },
	{ "alive-timeout",	OPTIONS_OPT_ALIVE_TIMEOUT,	OPTIONS_CONFIG_ONE },
	{ "probe-timeout",	OPTIONS_OPT_PROBE_TIMEOUT,	OPTIONS_CONFIG_ONE },
	{ "resume-grace",	OPTIONS_OPT_RESUME_GRACE,	OPTIONS_CONFIG_ONE },
	{ "daemon",		'D',				OPTIONS_CONFIG_BOOL },
	{ "pidfile",		OPTIONS_OPT_PIDFILE,		OPTIONS_CONFIG_PATH },
	{ "syslog",		OPTIONS_OPT_SYSLOG,		OPTIONS_CONFIG_BOOL },
	{ "user",		OPTIONS_OPT_USER,		OPTIONS_CONFIG_ONE },
	{ "group",		OPTIONS_OPT_GROUP,		OPTIONS_CONFIG_ONE },
	{ "privsep-user",	OPTIONS_OPT_PRIVSEP_USER,	OPTIONS_CONFIG_ONE },
	{ "host-wide",		OPTIONS_OPT_HOST_WIDE,		OPTIONS_CONFIG_BOOL },
	{ "allow-from",		OPTIONS_OPT_ALLOW_FROM,		OPTIONS_CONFIG_LIST },
	{ "verbose",		'v',				OPTIONS_CONFIG_LEVEL },
	{ "quiet",		'q',				OPTIONS_CONFIG_BOOL },
	{ "name",		OPTIONS_OPT_NAME,		OPTIONS_CONFIG_ONE },
	{ "max-streams",	OPTIONS_OPT_MAX_STREAMS,	OPTIONS_CONFIG_ONE },
	{ "udp",		OPTIONS_OPT_NO_UDP,		OPTIONS_CONFIG_NOT },
	{ "no-udp",		OPTIONS_OPT_NO_UDP,		OPTIONS_CONFIG_BOOL },
	{ "udp-timeout",	OPTIONS_OPT_UDP_TIMEOUT,	OPTIONS_CONFIG_ONE },
	{ "max-udp-flows",	OPTIONS_OPT_MAX_UDP_FLOWS,	OPTIONS_CONFIG_ONE },
	{ "tmark",		't',				OPTIONS_CONFIG_ONE },
	{ "buffer-budget",	OPTIONS_OPT_BUFFER_BUDGET,	OPTIONS_CONFIG_ONE },
	/* Read before main.c enters the namespace, like the options. */
	{ "namespace",		OPTIONS_OPT_NAMESPACE,		OPTIONS_CONFIG_ONE },
	{ "namespace-pid",	OPTIONS_OPT_NAMESPACE_PID,	OPTIONS_CONFIG_ONE },
	{ "seed-hosts",		OPTIONS_OPT_SEED_HOSTS,		OPTIONS_CONFIG_LIST },
};

static int
options_config_bool(const char *s, bool *b)
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
	const struct options_config_key	*k = NULL;
	const char			*base;
	char				*words = NULL, *w, *save;
	bool				 b;
	size_t				 i;
	int				 ret = 0;

	for (i = 0; i < sizeof(options_config_keys) / sizeof(options_config_keys[0]); i++)
		if (strcmp(e->key, options_config_keys[i].name) == 0)
			k = &options_config_keys[i];
	if (k == NULL) {
		if (strcmp(e->key, "config") == 0 ||
		    strcmp(e->key, "firewall") == 0 ||
		    strcmp(e->key, "sudoers") == 0 ||
		    strcmp(e->key, "help") == 0 ||
		    strcmp(e->key, "version") == 0)
			return options_fail(why, whylen, "unknown key \"%s\" "
			    "(command line only)", e->key);
		return options_fail(why, whylen, "unknown key \"%.64s\"",
		    e->key);
	}
	if (e->value == NULL && k->type != OPTIONS_CONFIG_BOOL &&
	    k->type != OPTIONS_CONFIG_NOT)
		return options_fail(why, whylen, "%s: missing value", k->name);
	if (e->value != NULL && *e->value == '\0')
		return options_fail(why, whylen, "%s: missing value", k->name);
	/*
	 * The command line's list replaces the file's.  The file's lines
	 * are still checked, into scratch: a broken file is broken whatever
	 * the command line says, so that a reload can never accept a file
	 * that a start without those arguments would refuse.
	 */
	if ((k->type == OPTIONS_CONFIG_LIST || k->type == OPTIONS_CONFIG_LEVEL ||
	    k->opt == 'X' || options_group(k->opt) == OPTIONS_OPT_NAMESPACE) &&
	    given[options_group(k->opt)]) {
		o = scratch;
		st = scratch_st;
	}
	/* Without a directory (text, not a file): the command line's. */
	base = cfg->dir != NULL ? cfg->dir : options_base();

	switch (k->type) {
	case OPTIONS_CONFIG_BOOL:
	case OPTIONS_CONFIG_NOT:
		b = true;
		if (e->value != NULL && options_config_bool(e->value, &b) != 0)
			return options_fail(why, whylen, "%s \"%.64s\": expected "
			    "true or false (yes/no, on/off, 1/0)", k->name,
			    e->value);
		*options_flag(o, k->opt) = k->type == OPTIONS_CONFIG_BOOL ? b : !b;
		return 0;
	case OPTIONS_CONFIG_LEVEL:
		if (strlen(e->value) != 1 || e->value[0] < '0' ||
		    e->value[0] > '3')
			return options_fail(why, whylen, "%s \"%.64s\": expected "
			    "0, 1, 2 or 3", k->name, e->value);
		o->verbose = e->value[0] - '0';
		return 0;
	case OPTIONS_CONFIG_LIST:
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
	case OPTIONS_CONFIG_ONE:
	case OPTIONS_CONFIG_PATH:
		break;
	}
	return options_apply(o, st, k->opt, e->value, base, why, whylen);
}

/* Every line of the file, in order; the first problem stops it. */
int
options_config_apply(struct options *o, struct options_state *st,
    const struct config *cfg, const bool *given, char *err, size_t errlen)
{
	struct options		scratch;
	struct options_state	scratch_st;
	char			why[768];
	size_t			i, from, sfrom;
	int			ret = 0;

	memset(&scratch, 0, sizeof(scratch));
	scratch_st.listen_port_only = -1;
	scratch_st.nlisten_explicit = 0;
	scratch_st.in_file = st->in_file = true;
	for (i = 0; i < cfg->n; i++) {
		from = o->nnames;
		sfrom = scratch.nnames;
		ret = options_config_entry(o, st, &scratch, &scratch_st, cfg,
		    &cfg->v[i], given, why, sizeof(why));
		/* The host names of a replaced list must resolve too. */
		if (ret == 0)
			ret = options_name_take(o, &scratch, sfrom, why,
			    sizeof(why));
		if (ret == 0)
			ret = options_name_where(o, from, why, sizeof(why),
			    "%s:%d: ", cfg->name, cfg->v[i].line);
		if (ret != 0) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "%s:%d: %s", cfg->name,
				    cfg->v[i].line, why);
			break;
		}
	}
	st->in_file = false;
	options_free(&scratch);
	return ret;
}
