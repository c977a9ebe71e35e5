/*
 * dns_conf.c - nameserver lines of resolv.conf.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns_conf.h"

int
dns_conf_add(struct dns_server *list, size_t *n, size_t max,
    const struct dns_server *s)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if (list[i].family == s->family && list[i].port == s->port &&
		    list[i].scope == s->scope &&
		    memcmp(list[i].addr, s->addr, sizeof(s->addr)) == 0)
			return 0;
	if (*n >= max)
		return -1;
	list[(*n)++] = *s;
	return 0;
}

/* One address word: IPv4, or IPv6 with an optional %scope (an interface
 * name or index).  0, or -1 with a reason. */
static int
dns_conf_addr(const char *word, struct dns_server *s, const char **why)
{
	char		 host[INET6_ADDRSTRLEN + 1];
	const char	*pct;
	char		*end;
	unsigned long	 idx;
	size_t		 hlen;

	memset(s, 0, sizeof(*s));
	s->port = DNS_CONF_PORT;
	if (inet_pton(AF_INET, word, s->addr) == 1) {
		s->family = 4;
		return 0;
	}
	pct = strchr(word, '%');
	hlen = pct != NULL ? (size_t)(pct - word) : strlen(word);
	if (hlen == 0 || hlen >= sizeof(host)) {
		*why = "not an IP address";
		return -1;
	}
	memcpy(host, word, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET6, host, s->addr) != 1) {
		*why = "not an IP address";
		return -1;
	}
	s->family = 6;
	if (pct == NULL)
		return 0;
	/* The scope matters only for link-local addresses; glibc ignores
	 * an unknown one, but then the server cannot be reached. */
	errno = 0;
	idx = strtoul(pct + 1, &end, 10);
	if (pct[1] != '\0' && *end == '\0' && errno == 0 && idx > 0 &&
	    idx <= UINT32_MAX)
		s->scope = (uint32_t)idx;
	else if ((s->scope = if_nametoindex(pct + 1)) == 0) {
		*why = "unknown interface in the scope";
		return -1;
	}
	if (!(s->addr[0] == 0xfe && (s->addr[1] & 0xc0) == 0x80))
		s->scope = 0;
	return 0;
}

void
dns_conf_parse(const char *text, size_t len, struct dns_server *out, size_t max,
    size_t *n, char *note, size_t notelen)
{
	static const char	 kw[] = "nameserver";
	struct dns_server	 s;
	const char		*line = text, *eol, *p, *why;
	char			 word[128];
	size_t			 wl, found = 0, lineno = 0, dropped = 0;
	bool			 noted = false;

	if (notelen > 0)
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
		for (wl = 0; p + wl < eol && p[wl] != ' ' && p[wl] != '\t' &&
		    p[wl] != '\r'; wl++)
			;
		if (wl == 0 || wl >= sizeof(word)) {
			why = wl == 0 ? "no address" : "not an IP address";
			goto bad;
		}
		memcpy(word, p, wl);
		word[wl] = '\0';
		if (dns_conf_addr(word, &s, &why) != 0)
			goto bad;
		found++;
		if (dns_conf_add(out, n, max, &s) != 0)
			dropped++;
		continue;
 bad:
		if (!noted && notelen > 0)
			snprintf(note, notelen, "line %zu: nameserver \"%.*s\": %s",
			    lineno, (int)(wl > 64 ? 64 : wl), p, why);
		noted = true;
	}
	if (dropped > 0 && !noted && notelen > 0)
		snprintf(note, notelen, "more than %zu DNS servers: %zu left out",
		    max, dropped);
	if (found == 0) {
		/* glibc's default when resolv.conf names no server. */
		memset(&s, 0, sizeof(s));
		s.family = 4;
		s.addr[0] = 127;
		s.addr[3] = 1;
		s.port = DNS_CONF_PORT;
		(void)dns_conf_add(out, n, max, &s);
	}
}

void
dns_conf_read(const char *path, struct dns_server *out, size_t max, size_t *n,
    char *note, size_t notelen)
{
	char	*data, why[256];
	size_t	 len = 0;
	ssize_t	 r;
	int	 fd, e = 0;

	if ((data = malloc(DNS_CONF_FILE_MAX)) == NULL) {
		e = ENOMEM;
		goto fallback;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		e = errno;
		goto fallback;
	}
	while (len < DNS_CONF_FILE_MAX) {
		r = read(fd, data + len, DNS_CONF_FILE_MAX - len);
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
	/* Beyond 64 KiB is not a resolv.conf; glibc would read on, we stop. */
	dns_conf_parse(data, len, out, max, n, why, sizeof(why));
	if (notelen > 0)
		snprintf(note, notelen, "%s%s%s", why[0] != '\0' ? path : "",
		    why[0] != '\0' ? ": " : "", why);
	free(data);
	return;
 fallback:
	free(data);
	dns_conf_parse("", 0, out, max, n, NULL, 0);
	if (notelen > 0)
		snprintf(note, notelen, "cannot read %s (%s): using 127.0.0.1",
		    path, strerror(e));
}

const char *
dns_server_text(const struct dns_server *s, char *buf, size_t len)
{
	char	a[INET6_ADDRSTRLEN];

	if (s->family == 4) {
		inet_ntop(AF_INET, s->addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, s->port);
	} else {
		inet_ntop(AF_INET6, s->addr, a, sizeof(a));
		if (s->scope != 0)
			snprintf(buf, len, "[%s%%%u]:%u", a, s->scope, s->port);
		else
			snprintf(buf, len, "[%s]:%u", a, s->port);
	}
	return buf;
}
