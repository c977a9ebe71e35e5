/* SPDX-License-Identifier: ISC */
/*
 * words.h - command lines as words: splitting (-e CMD, $CSHUTTLE_ARGS)
 * and quoting for a POSIX shell.  0 on success, -1 on failure with a
 * one-line reason in err where the function takes one.
 */
#ifndef CSHUTTLE_WORDS_H
#define CSHUTTLE_WORDS_H

#include <stddef.h>

/*
 * Split a command line into words with simple shell-like rules: blanks
 * separate words; '...' is literal; "..." allows \" \\ \$ \` escapes;
 * outside quotes a backslash escapes the next character.  No expansions.
 * On success *argvp is a NULL-terminated array (free with words_free)
 * holding at least one word.
 */
int	words_split(const char *s, char ***argvp, int *argcp, char *err, size_t errlen);
void	words_free(char **argv);

/* Quote s for a POSIX shell ('...' with embedded quotes as '\'').
 * Returns 0, or -1 when out is too small. */
int	words_shquote(const char *s, char *out, size_t outlen);

#endif
