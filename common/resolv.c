/* SPDX-License-Identifier: ISC */
/*
 * resolv.c - nameserver lines of resolv.conf (see resolv.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resolv.h"

int
resolv_add(struct addr *list, size_t *n, size_t max, const struct addr *a)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if (addr_equal(&list[i], a))
			return 0;
	if (*n >= max)
		return -1;
	list[(*n)++] = *a;
	return 0;
}

size_t
resolv_parse(const char *text, size_t len, unsigned flags, struct addr *out,
    size_t max, size_t *n, char *note, size_t notelen)
{
	static const char	 kw[] = "nameserver";
	struct addr		 a;
	const char		*line = text, *eol, *p, *why;
	size_t			 wl, found = 0, lineno = 0, dropped = 0;
	bool			 noted = false;
	int			 r;

	if (note != NULL && notelen > 0)
		note[0] = '\0';
	while (line < text + len) {
		lineno++;
		eol = memchr(line, '\n', (size_t)(text + len - line));
		if (eol == NULL)
			eol = text + len;
		p = line;
		line = eol + 1;
		if ((size_t)(eol - p) <= sizeof(kw) - 1 ||
		    memcmp(p, kw, sizeof(kw) - 1) != 0 ||
		    (p[sizeof(kw) - 1] != ' ' && p[sizeof(kw) - 1] != '\t'))
			continue;
		p += sizeof(kw) - 1;
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		/* glibc cuts the word at the first of ";# \t\n". */
		for (wl = 0; p + wl < eol && strchr(" \t\r#;", p[wl]) == NULL &&
		    p[wl] != '\0'; wl++)
			;
		if (wl == 0) {
			why = "no address";
			goto bad;
		}
		if ((r = addr_parse(&a, p, wl, ADDR_P_SCOPE, RESOLV_PORT)) != 0) {
			why = addr_strerror(r);
			goto bad;
		}
		if ((flags & RESOLV_F_NO_LINKLOCAL) && addr_is_linklocal(&a))
			continue;
		found++;
		if (resolv_add(out, n, max, &a) != 0)
			dropped++;
		continue;
 bad:
		if (!noted && note != NULL && notelen > 0)
			snprintf(note, notelen, "line %zu: nameserver \"%.*s\": %s",
			    lineno, (int)(wl > 64 ? 64 : wl), p, why);
		noted = true;
	}
	if (dropped > 0 && !noted && note != NULL && notelen > 0)
		snprintf(note, notelen, "more than %zu DNS servers: %zu left out",
		    max, dropped);
	if (found == 0 && (flags & RESOLV_F_DEFAULT)) {
		/* glibc's default when resolv.conf names no server. */
		static const uint8_t	lo[4] = { 127, 0, 0, 1 };

		addr_set(&a, ADDR_V4, lo, RESOLV_PORT);
		(void)resolv_add(out, n, max, &a);
	}
	return found;
}

void
resolv_read(const char *path, unsigned flags, struct addr *out, size_t max,
    size_t *n, char *note, size_t notelen)
{
	char	*data, why[256];
	size_t	 len = 0;
	ssize_t	 r;
	int	 fd, e = 0;

	if ((data = malloc(RESOLV_FILE_MAX)) == NULL) {
		e = ENOMEM;
		goto fallback;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		e = errno;
		goto fallback;
	}
	while (len < RESOLV_FILE_MAX) {
		r = read(fd, data + len, RESOLV_FILE_MAX - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			e = r == -1 ? errno : 0;
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	if (e != 0)
		goto fallback;
	(void)resolv_parse(data, len, flags, out, max, n, why, sizeof(why));
	if (note != NULL && notelen > 0)
		snprintf(note, notelen, "%s%s%s", why[0] != '\0' ? path : "",
		    why[0] != '\0' ? ": " : "", why);
	free(data);
	return;
 fallback:
	free(data);
	(void)resolv_parse("", 0, flags, out, max, n, NULL, 0);
	if (note != NULL && notelen > 0)
		snprintf(note, notelen, "cannot read %s (%s)%s", path, strerror(e),
		    (flags & RESOLV_F_DEFAULT) ? ": using 127.0.0.1" : "");
}
