/* SPDX-License-Identifier: ISC */
/*
 * config.h - the configuration file (--config FILE, cshuttle.conf(5)).
 *
 * This module only reads the syntax: it turns the file into a list of
 * (key, value, line) entries.  What the keys mean is options_config.c's
 * business, which feeds each entry through the same handlers as the
 * command line.  Its errors are exit codes (exitcode.h), as options.h's.
 *
 * Syntax, one setting per line:
 *	key = value
 *	key value
 *	key			(a boolean key alone means true)
 * White space around the key, '=' and the value is ignored.  '#' at the
 * start of a line or after white space starts a comment that runs to the
 * end of the line.  Blank lines are skipped, a CR before the LF is
 * dropped, and a UTF-8 byte order mark at the start is skipped.  Other
 * control characters (tab aside) are an error.
 */
#ifndef CSHUTTLE_CONFIG_H
#define CSHUTTLE_CONFIG_H

#include <stddef.h>

#define CONFIG_MAX_LINE		4096		/* bytes, without the line end */
#define CONFIG_MAX_LINES	10000
#define CONFIG_MAX_FILE		(1024 * 1024)	/* bytes */

struct config_entry {
	char		*key;
	char		*value;		/* NULL: the key stood alone; "" after
					 * a '=' with nothing behind it */
	int		 line;		/* 1-based */
};

struct config {
	char			*name;	/* the path as given, for messages */
	char			*dir;	/* its directory, absolute when the
					 * path was opened through config_load() */
	struct config_entry	*v;
	size_t			 n;
};

/*
 * Read and split the file at `path`.  Relative `path`s are taken relative
 * to `base` (a directory; NULL: the working directory).  The file must be
 * a regular file that neither the group nor others may write and that
 * belongs to root or to the effective user, in a directory of which the
 * same holds (filecheck.h): its ssh-cmd is run as that user.
 *
 * Returns 0, or CSHUTTLE_EXIT_USAGE with "FILE: problem" or
 * "FILE:LINE: problem" in err, or CSHUTTLE_EXIT_FAIL when memory ran
 * out.  *c is always safe to pass to config_free().
 */
int	config_load(struct config *c, const char *path, const char *base,
	    char *err, size_t errlen);

/*
 * Split `len` bytes of text as config_load() does; `name` is used in
 * messages and `dir` (may be NULL) is stored as the file's directory.
 * Same results as config_load().
 */
int	config_parse(struct config *c, const char *name, const char *dir,
	    const char *text, size_t len, char *err, size_t errlen);

void	config_free(struct config *c);

/* A new string: base "/" path, or path itself when it is absolute or
 * base is NULL.  NULL when memory ran out. */
char	*config_join(const char *base, const char *path);

#endif
