/* SPDX-License-Identifier: ISC */
/*
 * sshconfig_file.c - our own reader of ssh_config(5) files, for when
 * OpenSSH is not installed (or the caller asks): the subset that matters
 * for making one connection.  Host and simple Match blocks (all, host,
 * originalhost, user, localuser), Include with globs and ssh's nesting
 * limit, quoting as ssh splits words, and "first value wins" through
 * sshcfg_apply().
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sshconfig_priv.h"

#define SSHCFG_MAX_DEPTH	16		/* Include nesting, as ssh */

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
			if (sshcfg_file_read(raw, t, g.gl_pathv[k], true,
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

/* See sshconfig_priv.h. */
int
sshcfg_file_read(struct sshcfg_raw *raw, const struct sshcfg_target *t,
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
