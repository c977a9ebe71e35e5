/* SPDX-License-Identifier: ISC */
/*
 * fw_policy.c - the helper's policy file; see fw_policy.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fw_policy.h"

#define FW_POLICY_MAXWORDS	16

static const struct {
	const char	*word;
	unsigned int	 bit;
} fw_policy_keywords[] = {
	{ "lan",	FW_POLICY_LAN },
	{ "host-wide",	FW_POLICY_HOST_WIDE },
	{ "hosts",	FW_POLICY_HOSTS },
	{ "tmark",	FW_POLICY_TMARK },
};

#define FW_POLICY_NKEYWORDS \
	(sizeof(fw_policy_keywords) / sizeof(fw_policy_keywords[0]))

const char *
fw_policy_keyword(unsigned int bit)
{
	size_t	i;

	for (i = 0; i < FW_POLICY_NKEYWORDS; i++)
		if (fw_policy_keywords[i].bit == bit)
			return fw_policy_keywords[i].word;
	return "?";
}

void
fw_policy_free(struct fw_policy *p)
{
	if (p == NULL)
		return;
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

/* A user name, or %group: what sudoers and useradd would take. */
static bool
fw_policy_name(const char *w, struct fw_policy_entry *e)
{
	size_t	i, n;

	e->group = w[0] == '%';
	if (e->group)
		w++;
	n = strlen(w);
	if (n == 0 || n > FW_POLICY_NAME_MAX || w[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' &&
		    w[i] <= 'Z') || (w[i] >= '0' && w[i] <= '9') ||
		    w[i] == '_' || w[i] == '-' || w[i] == '.' ||
		    (w[i] == '$' && i == n - 1)))
			return false;
	memcpy(e->name, w, n + 1);
	return true;
}

/* One line's words into e; a reason in why on error. */
static int
fw_policy_line(char **w, int nw, struct fw_policy_entry *e, char *why,
    size_t whylen)
{
	unsigned long	 n;
	char		*end;
	size_t		 k;
	int		 i;

	if (strcmp(w[0], "allow") != 0 && strcmp(w[0], "max-helpers") != 0)
		return err_set(why, whylen, FW_POLICY_E_SYNTAX, "unknown "
		    "directive \"%.32s\" (known: allow, max-helpers)", w[0]);
	if (nw < 3)
		return err_set(why, whylen, FW_POLICY_E_SYNTAX, "%s: expected "
		    "a user or %%group and %s", w[0], w[0][0] == 'a' ?
		    "keywords" : "a number");
	if (!fw_policy_name(w[1], e))
		return err_set(why, whylen, FW_POLICY_E_SYNTAX, "%s: bad user "
		    "or group name \"%.32s\"", w[0], w[1]);
	if (w[0][0] == 'm') {
		errno = 0;
		n = w[2][0] >= '1' && w[2][0] <= '9' ? strtoul(w[2], &end, 10) :
		    0;
		if (nw != 3 || n == 0 || errno != 0 || *end != '\0' ||
		    n > FW_POLICY_MAX_HELPERS)
			return err_set(why, whylen, FW_POLICY_E_SYNTAX,
			    "max-helpers: expected one number, 1-%d",
			    FW_POLICY_MAX_HELPERS);
		e->max_helpers = (int)n;
		return 0;
	}
	for (i = 2; i < nw; i++) {
		for (k = 0; k < FW_POLICY_NKEYWORDS; k++)
			if (strcmp(w[i], fw_policy_keywords[k].word) == 0)
				break;
		if (k == FW_POLICY_NKEYWORDS)
			return err_set(why, whylen, FW_POLICY_E_SYNTAX,
			    "allow: unknown keyword \"%.32s\" (known: lan, "
			    "host-wide, hosts, tmark)", w[i]);
		e->allow |= fw_policy_keywords[k].bit;
	}
	return 0;
}

int
fw_policy_parse(struct fw_policy *p, const char *name, const char *text,
    size_t len, char *err, size_t errlen)
{
	struct fw_policy_entry	 e;
	char			 buf[1024], why[256], *w[FW_POLICY_MAXWORDS], *s;
	size_t			 off = 0, l, cap = 0;
	int			 line = 0, nw, ret;
	void			*nv;

	memset(p, 0, sizeof(*p));
	if (len > FW_POLICY_MAX_BYTES)
		return err_set(err, errlen, FW_POLICY_E_SYNTAX, "%s: larger "
		    "than %d bytes", name, FW_POLICY_MAX_BYTES);
	if (memchr(text, '\0', len) != NULL)
		return err_set(err, errlen, FW_POLICY_E_SYNTAX, "%s: contains a "
		    "NUL byte", name);
	while (off < len) {
		line++;
		for (l = 0; off + l < len && text[off + l] != '\n'; l++)
			;
		if (l >= sizeof(buf)) {
			ret = err_set(err, errlen, FW_POLICY_E_SYNTAX, "%s:%d: "
			    "line too long", name, line);
			goto fail;
		}
		memcpy(buf, text + off, l);
		buf[l] = '\0';
		off += l + 1;
		if ((s = strchr(buf, '#')) != NULL)
			*s = '\0';
		nw = 0;
		for (s = strtok(buf, " \t\r"); s != NULL;
		    s = strtok(NULL, " \t\r")) {
			if (nw == FW_POLICY_MAXWORDS) {
				ret = err_set(err, errlen, FW_POLICY_E_SYNTAX,
				    "%s:%d: too many words", name, line);
				goto fail;
			}
			w[nw++] = s;
		}
		if (nw == 0)
			continue;
		memset(&e, 0, sizeof(e));
		e.line = line;
		if (fw_policy_line(w, nw, &e, why, sizeof(why)) != 0) {
			ret = err_set(err, errlen, FW_POLICY_E_SYNTAX,
			    "%s:%d: %s", name, line, why);
			goto fail;
		}
		if (p->n == FW_POLICY_MAX_ENTRIES) {
			ret = err_set(err, errlen, FW_POLICY_E_SYNTAX, "%s:%d: "
			    "more than %d entries", name, line,
			    FW_POLICY_MAX_ENTRIES);
			goto fail;
		}
		if (p->n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nv = reallocarray(p->v, cap, sizeof(*p->v))) ==
			    NULL) {
				ret = err_set(err, errlen, FW_POLICY_E_NOMEM,
				    "out of memory");
				goto fail;
			}
			p->v = nv;
		}
		p->v[p->n++] = e;
	}
	return 0;
 fail:
	fw_policy_free(p);
	return ret;
}

void
fw_policy_grant(const struct fw_policy *p, const char *user,
    const char *const *groups, size_t ngroups, struct fw_policy_grant *g)
{
	const struct fw_policy_entry	*e;
	size_t				 i, k;
	int				 own = 0, group = 0;
	bool				 match;

	memset(g, 0, sizeof(*g));
	for (i = 0; p != NULL && i < p->n; i++) {
		e = &p->v[i];
		match = false;
		if (!e->group)
			match = strcmp(e->name, user) == 0;
		for (k = 0; e->group && k < ngroups; k++)
			match |= strcmp(e->name, groups[k]) == 0;
		if (!match)
			continue;
		g->allow |= e->allow;
		if (e->max_helpers == 0)
			continue;
		if (!e->group)
			own = e->max_helpers;	/* the last one counts */
		else if (e->max_helpers > group)
			group = e->max_helpers;
	}
	g->max_helpers = own != 0 ? own : group != 0 ? group :
	    FW_POLICY_MAX_HELPERS_DEFAULT;
}

/*
 * Every directory from the root down to the file's: owned by root and
 * writable by nobody else, or whoever may write one could swap the file.
 * canon is a canonical absolute path (realpath()).
 */
static int
fw_policy_check_dirs(const char *canon, char *err, size_t errlen)
{
	char		 dir[PATH_MAX];
	struct stat	 st;
	char		*slash;
	size_t		 n;

	n = strlen(canon);
	if (n >= sizeof(dir))
		return err_set(err, errlen, -1, "%s: path too long", canon);
	memcpy(dir, canon, n + 1);
	while ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash[1] = '\0';	/* "/" itself, last */
		else
			*slash = '\0';
		if (stat(dir, &st) != 0)
			return err_set(err, errlen, -1, "%s: %s", dir,
			    strerror(errno));
		if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
			return err_set(err, errlen, -1, "%s: the directory of "
			    "the helper's policy %s must be owned by root and "
			    "writable by nobody else", dir, canon);
		if (slash == dir)
			break;
	}
	return 0;
}

int
fw_policy_load(struct fw_policy *p, const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	char		 canon[PATH_MAX], *text = NULL;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd, ret = -1;

	memset(p, 0, sizeof(*p));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) ==
	    -1) {
		if (errno == ENOENT)
			return 0;	/* nothing more is allowed */
		return err_set(err, errlen, -1, "cannot open the helper's "
		    "policy %s: %s", path, errno == ELOOP ?
		    "it is a symbolic link" : strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		err_set(err, errlen, -1, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		err_set(err, errlen, -1, "the helper's policy %s must be a "
		    "regular file owned by root and writable by nobody else",
		    path);
		goto out;
	}
	if (realpath(path, canon) == NULL) {
		err_set(err, errlen, -1, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fw_policy_check_dirs(canon, err, errlen) != 0)
		goto out;
	if (st.st_size > FW_POLICY_MAX_BYTES) {
		err_set(err, errlen, -1, "%s: larger than %d bytes", path,
		    FW_POLICY_MAX_BYTES);
		goto out;
	}
	if ((text = malloc(FW_POLICY_MAX_BYTES + 1)) == NULL) {
		err_set(err, errlen, -1, "out of memory");
		goto out;
	}
	for (;;) {
		r = read(fd, text + len, FW_POLICY_MAX_BYTES + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			err_set(err, errlen, -1, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > FW_POLICY_MAX_BYTES) {
			err_set(err, errlen, -1, "%s: larger than %d bytes",
			    path, FW_POLICY_MAX_BYTES);
			goto out;
		}
	}
	if (fw_policy_parse(p, path, text, len, err, errlen) != 0)
		goto out;
	ret = 0;
 out:
	free(text);
	close(fd);
	return ret;
}
