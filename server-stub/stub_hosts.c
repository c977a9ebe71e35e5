/* SPDX-License-Identifier: ISC */
/*
 * stub_hosts.c - the remote's host names from its hosts file (see
 * stub_hosts.h).
 *
 * Read once per session, right after the client's HELLO (by
 * stub_hostwatch.c, which sends the frame): the file is
 * small and local, so reading it in the event loop costs nothing worth a
 * timer.  A name the hosts file gives several addresses goes out once
 * for each.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "stub_hosts.h"

size_t
stub_hosts_add(struct stub_hosts *h, const struct addr *a, const char *name, size_t len)
{
	size_t	i;

	if (!proto_host_name_ok(name, len) || strcmp(name, "localhost") == 0 ||
	    (len > 10 && strcmp(name + len - 10, ".localhost") == 0))
		return 0;
	for (i = 0; i < h->n; i++)
		if (strcmp(h->h[i].name, name) == 0 && addr_equal(&h->h[i].addr, a))
			return 0;
	if (h->n == PROTO_HOSTS_MAX || h->used + len + 1 > sizeof(h->pool) ||
	    h->bytes + proto_host_size(len) > PROTO_MAX_PAYLOAD)
		return 0;
	memcpy(h->pool + h->used, name, len + 1);
	h->h[h->n].addr = *a;
	h->h[h->n].name = h->pool + h->used;
	h->used += len + 1;
	h->bytes += proto_host_size(len);
	h->n++;
	return 1;
}

/* Addresses worth a name on another host. */
static int
stub_hosts_addr_ok(const struct addr *a)
{
	return !addr_is_loopback(a) && !addr_is_any(a) && !addr_is_linklocal(a);
}

/* Is c a blank between the words of a hosts(5) line? */
static int
stub_hosts_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

size_t
stub_hosts_parse(struct stub_hosts *h, const char *text)
{
	const char	*p = text, *e, *w, *hash;
	char		 word[PROTO_HOST_NAME_MAX + 2];
	struct addr	 a;
	size_t		 added = 0, wlen, len, i;
	int		 first;

	for (; *p != '\0'; p = *e == '\n' ? e + 1 : e) {
		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		if ((hash = memchr(p, '#', (size_t)(e - p))) == NULL)
			hash = e;
		/* The words before any comment: the address, then its names. */
		for (w = p, first = 1; w < hash; w += wlen) {
			while (w < hash && stub_hosts_blank(*w))
				w++;
			for (wlen = 0; w + wlen < hash && !stub_hosts_blank(w[wlen]); wlen++)
				;
			if (wlen == 0)
				break;
			if (first) {
				first = 0;
				if (addr_parse(&a, w, wlen, 0, 0) != 0 ||
				    !stub_hosts_addr_ok(&a))
					break;
				continue;
			}
			if ((len = wlen) > PROTO_HOST_NAME_MAX + 1)
				continue;
			for (i = 0; i < len; i++)
				word[i] = (char)tolower((unsigned char)w[i]);
			/* A final dot says the same name. */
			if (len > 1 && word[len - 1] == '.')
				len--;
			word[len] = '\0';
			added += stub_hosts_add(h, &a, word, len);
		}
	}
	return added;
}

char *
stub_hosts_read(const char *path)
{
	char	*text;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_debug("hosts: %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((text = malloc(STUB_HOSTS_FILE_MAX + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (len < STUB_HOSTS_FILE_MAX &&
	    (n = read(fd, text + len, STUB_HOSTS_FILE_MAX - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	return text;
}

struct stub_hosts *
stub_hosts_load(void)
{
	struct stub_hosts	*h;
	char			*text;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((text = stub_hosts_read(STUB_HOSTS_FILE)) != NULL)
		(void)stub_hosts_parse(h, text);
	free(text);
	return h;
}
