/* SPDX-License-Identifier: ISC */
/*
 * config.c - split the configuration file into (key, value, line).
 *
 * The file is read by root and may be read again on SIGHUP, so it is
 * bounded everywhere (size, line length, number of lines) and refused
 * when someone other than its owner could have put an ssh-cmd in it
 * (filecheck.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "exitcode.h"
#include "filecheck.h"

/* A problem with the file: the message in err, CSHUTTLE_EXIT_USAGE. */
#define config_fail(err, errlen, ...) \
	err_set(err, errlen, CSHUTTLE_EXIT_USAGE, __VA_ARGS__)

static int
config_nomem(char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "out of memory");
	return CSHUTTLE_EXIT_FAIL;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->v[i].key);
		free(c->v[i].value);
	}
	free(c->v);
	free(c->name);
	free(c->dir);
	memset(c, 0, sizeof(*c));
}

static int
config_add(struct config *c, const char *key, size_t klen, const char *value,
    size_t vlen, int line, char *err, size_t errlen)
{
	struct config_entry *nv, *e;

	/* Grow by doubling; CONFIG_MAX_LINES bounds it. */
	if ((c->n & (c->n - 1)) == 0) {
		nv = realloc(c->v, (c->n == 0 ? 1 : c->n * 2) * sizeof(*nv));
		if (nv == NULL)
			return config_nomem(err, errlen);
		c->v = nv;
	}
	e = &c->v[c->n];
	memset(e, 0, sizeof(*e));
	e->line = line;
	if ((e->key = strndup(key, klen)) == NULL)
		return config_nomem(err, errlen);
	if (value != NULL && (e->value = strndup(value, vlen)) == NULL) {
		free(e->key);
		return config_nomem(err, errlen);
	}
	c->n++;
	return 0;
}

static bool
config_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* One line, without its line end: s[0..len). */
static int
config_line(struct config *c, const char *s, size_t len, int lineno,
    char *err, size_t errlen)
{
	const char *key, *value = NULL;
	size_t i, klen, vlen = 0;
	bool eq = false;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return config_fail(err, errlen, "%s:%d: control "
			    "character 0x%02x", c->name, lineno, ch);
	}
	/* A comment starts at '#' first on the line or after white space;
	 * inside a word (a#b) it is part of the word. */
	for (i = 0; i < len; i++)
		if (s[i] == '#' && (i == 0 || config_space(s[i - 1]))) {
			len = i;
			break;
		}
	while (len > 0 && config_space(s[len - 1]))
		len--;
	while (len > 0 && config_space(*s)) {
		s++;
		len--;
	}
	if (len == 0)
		return 0;

	key = s;
	for (klen = 0; klen < len && !config_space(s[klen]) && s[klen] != '=';
	    klen++)
		;
	if (klen == 0)
		return config_fail(err, errlen, "%s:%d: missing key before '='",
		    c->name, lineno);
	for (i = klen; i < len && config_space(s[i]); i++)
		;
	if (i < len && s[i] == '=') {
		eq = true;
		for (i++; i < len && config_space(s[i]); i++)
			;
	}
	if (i < len || eq) {
		value = s + i;
		vlen = len - i;
	}
	return config_add(c, key, klen, value, vlen, lineno, err, errlen);
}

int
config_parse(struct config *c, const char *name, const char *dir,
    const char *text, size_t len, char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *nl;
	size_t llen;
	int lineno = 0, ret;

	memset(c, 0, sizeof(*c));
	if (err != NULL && errlen > 0)
		*err = '\0';
	if ((c->name = strdup(name)) == NULL ||
	    (dir != NULL && (c->dir = strdup(dir)) == NULL))
		return config_nomem(err, errlen);
	if (len > CONFIG_MAX_FILE)
		return config_fail(err, errlen, "%s: larger than %d bytes",
		    name, CONFIG_MAX_FILE);
	/* Editors on other systems like to start with a byte order mark. */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		if (++lineno > CONFIG_MAX_LINES)
			return config_fail(err, errlen, "%s:%d: more than %d "
			    "lines", name, lineno, CONFIG_MAX_LINES);
		nl = memchr(p, '\n', (size_t)(end - p));
		llen = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (llen > 0 && p[llen - 1] == '\r')
			llen--;
		if (llen > CONFIG_MAX_LINE)
			return config_fail(err, errlen, "%s:%d: line longer than "
			    "%d bytes", name, lineno, CONFIG_MAX_LINE);
		if ((ret = config_line(c, p, llen, lineno, err, errlen)) != 0)
			return ret;
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}

char *
config_join(const char *base, const char *path)
{
	char *s;

	if (path[0] == '/' || base == NULL)
		return strdup(path);
	if (asprintf(&s, "%s%s%s", base,
	    base[0] != '\0' && base[strlen(base) - 1] == '/' ? "" : "/",
	    path) == -1)
		return NULL;
	return s;
}

int
config_load(struct config *c, const char *path, const char *base, char *err,
    size_t errlen)
{
	char *full = NULL, *data = NULL, *slash, *dir = NULL, why[PATH_MAX + 128];
	enum filecheck_step step;
	size_t len = 0;
	int ret = CSHUTTLE_EXIT_USAGE;

	memset(c, 0, sizeof(*c));
	if (*path == '\0') {
		ret = config_fail(err, errlen, "--config: empty file name");
		goto out;
	}
	if ((full = config_join(base, path)) == NULL) {
		ret = config_nomem(err, errlen);
		goto out;
	}
	/* Checked, and O_NONBLOCK: a FIFO must not hang start-up.  ssh-cmd
	 * runs as this user: nobody else may choose it.  A longer file is
	 * read one byte too far: config_parse() says so. */
	if (filecheck_read(full, true, CONFIG_MAX_FILE, &data, &len, &step,
	    why, sizeof(why)) != 0) {
		if (step == FILECHECK_NOMEM)
			ret = config_nomem(err, errlen);
		else
			config_fail(err, errlen, "%s: %s", path, why);
		goto out;
	}
	if ((dir = strdup(full)) == NULL) {
		ret = config_nomem(err, errlen);
		goto out;
	}
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	ret = config_parse(c, path, dir, data, len, err, errlen);
 out:
	free(data);
	free(full);
	free(dir);
	return ret;
}
