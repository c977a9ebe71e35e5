/* SPDX-License-Identifier: ISC */
/*
 * options_args.c - the arguments, assembled: the words of $CSHUTTLE_ARGS,
 * then argv, with every @FILE replaced by its lines; and the files that
 * -s and -X name.
 *
 * The arguments are flattened into one vector before getopt_long() sees
 * them, so an option behaves the same wherever it came from and error
 * messages can name the offending word.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "filecheck.h"
#include "options_int.h"

#define OPTIONS_ARGS_MAX	4096		/* after all expansion */
#define OPTIONS_ARGS_MAX_FILE	(1024 * 1024)	/* @file, -s, -X */

void
options_args_free(struct options_args *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* Append a copy of s[0..len). */
static int
options_args_push(struct options_args *a, const char *s, size_t len,
    char *err, size_t errlen)
{
	char **nv, *copy;
	size_t ncap;

	if (a->n >= OPTIONS_ARGS_MAX)
		return options_fail(err, errlen, "more than %d arguments",
		    OPTIONS_ARGS_MAX);
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
 * Running as root, only a file that root or we alone could have written
 * is read (filecheck.h): it says what is redirected, and an @file may
 * name an ssh command.
 */
static int
options_args_read(const char *what, const char *path, char **out,
    char *err, size_t errlen)
{
	enum filecheck_step step;
	char *data = NULL, why[PATH_MAX + 128];
	size_t len = 0;
	int ret = CSHUTTLE_EXIT_USAGE;

	*out = NULL;
	/* O_NONBLOCK only where a FIFO is refused anyway: a user may well
	 * hand his own cshuttle an @<(...) pipe. */
	if (filecheck_read(path, filecheck_needed(), OPTIONS_ARGS_MAX_FILE,
	    &data, &len, &step, why, sizeof(why)) != 0) {
		if (step == FILECHECK_NOMEM)
			ret = options_nomem(err, errlen);
		else if (step == FILECHECK_OPEN)
			options_fail(err, errlen, "cannot open %s \"%s\": %s",
			    what, path, why);
		else if (step == FILECHECK_CHECK)
			options_fail(err, errlen, "%s \"%s\": %s", what, path,
			    why);
		else
			options_fail(err, errlen, "cannot read %s \"%s\": %s",
			    what, path, why);
		goto out;
	}
	if (len > OPTIONS_ARGS_MAX_FILE) {
		options_fail(err, errlen, "%s \"%s\" is larger than %d "
		    "bytes", what, path, OPTIONS_ARGS_MAX_FILE);
		goto out;
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
	free(data);
	return ret;
}

static int options_args_add(struct options_args *, const char *, size_t, int,
    char *, size_t);

/*
 * Expand "@path": each line is one argument, with surrounding white
 * space trimmed; blank lines and lines starting with '#' are skipped.
 * Lines that are themselves "@file" nest, up to
 * OPTIONS_MAX_ARGFILE_DEPTH files deep.
 */
static int
options_args_file(struct options_args *a, const char *path, int depth,
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
	ret = options_args_read("argument file", full, &data, err, errlen);
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
		if ((ret = options_args_add(a, line, strlen(line), depth,
		    err, errlen)) != 0)
			break;
	}
	free(data);
	return ret;
}

/* Add one argument, expanding it if it names an argument file. */
static int
options_args_add(struct options_args *a, const char *s, size_t len, int depth,
    char *err, size_t errlen)
{
	char *path;
	int ret;

	if (a->dashdash || len == 0 || s[0] != '@') {
		if (len == 2 && s[0] == '-' && s[1] == '-')
			a->dashdash = true;
		return options_args_push(a, s, len, err, errlen);
	}
	if (len == 1)
		return options_fail(err, errlen, "\"@\" needs a file name");
	if ((path = strndup(s + 1, len - 1)) == NULL)
		return options_nomem(err, errlen);
	ret = options_args_file(a, path, depth + 1, err, errlen);
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
options_args_env(struct options_args *a, const char *s, char *err,
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
			if (inword && (ret = options_args_add(a, word, wlen, 0,
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
		ret = options_args_add(a, word, wlen, 0, err, errlen);
 out:
	free(word);
	return ret;
}

int
options_args_build(struct options_args *a, int argc, char **argv, char *err,
    size_t errlen)
{
	const char	*env, *argv0 = argc > 0 ? argv[0] : "cshuttle";
	int		 i, ret;

	/* argv[0] stays first: getopt_long() skips it. */
	if ((ret = options_args_push(a, argv0, strlen(argv0), err, errlen)) != 0)
		return ret;
	if ((env = getenv(OPTIONS_ENV)) != NULL &&
	    (ret = options_args_env(a, env, err, errlen)) != 0)
		return ret;
	/* "--" in $CSHUTTLE_ARGS does not protect the real command line. */
	a->dashdash = false;
	for (i = 1; i < argc; i++)
		if ((ret = options_args_add(a, argv[i], strlen(argv[i]), 0,
		    err, errlen)) != 0)
			return ret;
	return 0;
}

/* -s / -X: white-space separated subnets, '#' to end of line is a comment. */
static int
options_args_subnet_read(struct options *o, const char *path, bool exclude,
    char *err, size_t errlen)
{
	const char *what = exclude ? "exclude file" : "subnet file";
	char *data = NULL, *line, *next, *tok, *save, *hash, why[384];
	size_t from;
	int lineno = 0, ret;

	if ((ret = options_args_read(what, path, &data, err, errlen)) != 0)
		return ret;
	for (line = data; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		for (tok = strtok_r(line, " \t\r\f\v", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t\r\f\v", &save)) {
			from = o->nnames;
			ret = options_subnet(o, tok, exclude, why, sizeof(why));
			if (ret != 0) {
				options_fail(err, errlen, "%s \"%s\" line %d: %s",
				    what, path, lineno, why);
				goto out;
			}
			/* A name's resolution fails later: with the same place. */
			if ((ret = options_name_where(o, from, err, errlen,
			    "%s \"%s\" line %d: ", what, path, lineno)) != 0)
				goto out;
		}
	}
 out:
	free(data);
	return ret;
}

int
options_args_subnet_file(struct options *o, const char *base, const char *arg,
    bool exclude, char *err, size_t errlen)
{
	char *full;
	int ret;

	if (*arg == '\0')
		return options_fail(err, errlen, "%s: empty argument",
		    exclude ? "-X" : "-s");
	if ((full = config_join(base, arg)) == NULL)
		return options_nomem(err, errlen);
	ret = options_args_subnet_read(o, full, exclude, err, errlen);
	free(full);
	return ret;
}
