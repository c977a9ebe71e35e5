/* SPDX-License-Identifier: ISC */
/*
 * remote.c - the -r argument and the remote's stderr (see remote.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "remote.h"

static int
remote_copy(char *dst, size_t dlen, const char *src, size_t slen)
{
	if (slen >= dlen)
		return -1;
	memcpy(dst, src, slen);
	dst[slen] = '\0';
	return 0;
}

int
remote_split(const char *remote, char *user, size_t ulen, char *host, size_t hlen,
    char *port, size_t plen, char *err, size_t errlen)
{
	const char	*at, *h, *p = NULL, *end, *c;
	size_t		 i;

	user[0] = host[0] = port[0] = '\0';
	if ((at = strrchr(remote, '@')) != NULL) {
		if (remote_copy(user, ulen, remote, (size_t)(at - remote)) != 0 || at == remote)
			goto bad;
		h = at + 1;
	} else
		h = remote;
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL)
			goto bad;
		if (end[1] == ':')
			p = end + 2;
		else if (end[1] != '\0')
			goto bad;
		h++;
	} else if ((c = strchr(h, ':')) != NULL && strchr(c + 1, ':') == NULL) {
		end = c;
		p = c + 1;
	} else
		end = h + strlen(h);	/* no port, or a bare IPv6 address */
	if (end == h || *h == '-' || remote_copy(host, hlen, h, (size_t)(end - h)) != 0)
		goto bad;
	if (p != NULL) {
		if (*p == '\0' || remote_copy(port, plen, p, strlen(p)) != 0)
			goto bad;
		for (i = 0; port[i] != '\0'; i++)
			if (port[i] < '0' || port[i] > '9')
				goto bad;
		if (atoi(port) < 1 || atoi(port) > 65535)
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid remote '%s' (expected [user@]host[:port])", remote);
	user[0] = host[0] = port[0] = '\0';
	return -1;
}

/* Remote stderr lines. */

static void
remote_lines_emit(struct remote_lines *l)
{
	size_t	 n = l->len, fplen;
	char	*fp;

	while (n > 0 && l->buf[n - 1] == ' ')
		n--;
	l->buf[n] = '\0';
	l->len = 0;
	if (n == 0)
		return;
	if (l->first[0] == '\0')
		memcpy(l->first, l->buf, n + 1);
	memcpy(l->last, l->buf, n + 1);
	/* ssh names the server's key on a line of its own, before the
	 * verdict: keep it so a one-line error can quote it. */
	if ((fp = strstr(l->buf, "SHA256:")) != NULL) {
		fplen = strcspn(fp, " .,;");
		if (fplen >= sizeof(l->fingerprint))
			fplen = sizeof(l->fingerprint) - 1;
		memcpy(l->fingerprint, fp, fplen);
		l->fingerprint[fplen] = '\0';
	}
	if (l->quiet)
		return;
	if (l->boot)
		log_debug("remote: %s", l->buf);
	else
		log_info("remote: %s", l->buf);
}

void
remote_lines_feed(struct remote_lines *l, const char *data, size_t n)
{
	size_t	i;
	char	c;

	for (i = 0; i < n; i++) {
		c = data[i];
		if (c == '\n') {
			remote_lines_emit(l);
			continue;
		}
		if (c == '\r')
			continue;
		/* Control characters could rewrite the user's terminal. */
		if ((unsigned char)c < 0x20 && c != '\t')
			c = '?';
		if (l->len + 1 >= sizeof(l->buf))
			remote_lines_emit(l);
		l->buf[l->len++] = c;
	}
}

void
remote_lines_flush(struct remote_lines *l)
{
	if (l->len > 0)
		remote_lines_emit(l);
}
