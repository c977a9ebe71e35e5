/* SPDX-License-Identifier: ISC */
/*
 * words.c - shell-like word splitting and quoting (see words.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"

/* Word splitting for -e CMD. */

struct words {
	char	**v;
	int	  n, cap;
};

static int
words_add(struct words *w, const char *s, size_t len)
{
	char	**nv;

	if (w->n + 2 > w->cap) {
		w->cap = w->cap ? w->cap * 2 : 8;
		if ((nv = realloc(w->v, (size_t)w->cap * sizeof(*nv))) == NULL)
			return -1;
		w->v = nv;
	}
	if ((w->v[w->n] = strndup(s, len)) == NULL)
		return -1;
	w->v[++w->n] = NULL;
	return 0;
}

void
words_free(char **argv)
{
	char	**p;

	if (argv == NULL)
		return;
	for (p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}

int
words_split(const char *s, char ***argvp, int *argcp, char *err, size_t errlen)
{
	struct words	 w = { NULL, 0, 0 };
	char		*word = NULL;
	size_t		 wl = 0;
	int		 in_word = 0;
	char		 q = 0;

	*argvp = NULL;
	*argcp = 0;
	if ((word = malloc(strlen(s) + 1)) == NULL)
		goto nomem;
	for (;; s++) {
		if (q == '\'') {
			if (*s == '\0')
				goto unterminated;
			if (*s == '\'')
				q = 0;
			else
				word[wl++] = *s;
			continue;
		}
		if (q == '"') {
			if (*s == '\0')
				goto unterminated;
			if (*s == '"')
				q = 0;
			else if (*s == '\\' && s[1] != '\0' && strchr("\"\\$`", s[1]) != NULL)
				word[wl++] = *++s;
			else
				word[wl++] = *s;
			continue;
		}
		if (*s == '\0' || *s == ' ' || *s == '\t' || *s == '\n') {
			if (in_word && words_add(&w, word, wl) != 0)
				goto nomem;
			in_word = 0;
			wl = 0;
			if (*s == '\0')
				break;
			continue;
		}
		in_word = 1;
		if (*s == '\'' || *s == '"')
			q = *s;
		else if (*s == '\\') {
			if (s[1] == '\0') {
				snprintf(err, errlen, "trailing backslash in the command");
				goto fail;
			}
			word[wl++] = *++s;
		} else
			word[wl++] = *s;
	}
	free(word);
	if (w.n == 0) {
		snprintf(err, errlen, "the command is empty");
		words_free(w.v);
		return -1;
	}
	*argvp = w.v;
	*argcp = w.n;
	return 0;
unterminated:
	snprintf(err, errlen, "unterminated %c quote in the command", q);
	goto fail;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(word);
	words_free(w.v);
	return -1;
}

int
words_shquote(const char *s, char *out, size_t outlen)
{
	size_t	n = 0;

#define IO_PUT(c) do { if (n + 1 >= outlen) return -1; out[n++] = (c); } while (0)
	IO_PUT('\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			IO_PUT('\'');
			IO_PUT('\\');
			IO_PUT('\'');
			IO_PUT('\'');
		} else
			IO_PUT(*s);
	}
	IO_PUT('\'');
#undef IO_PUT
	out[n] = '\0';
	return 0;
}
