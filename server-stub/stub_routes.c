/* SPDX-License-Identifier: ISC */
/*
 * stub_routes.c - the remote's routes from /proc (see stub_routes.h).
 *
 * /proc rather than rtnetlink: two small text files that any kernel
 * since 2.2 has, readable by every user, and a parser a unit test can
 * feed.  /proc/net/route shows the main table only, which is what
 * "the networks this host routes" means for IPv4; /proc/net/ipv6_route
 * shows every table, so the local table's entries are skipped by flag.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "stub_routes.h"

/* Route flags as the kernel prints them (linux/route.h, ipv6_route.h). */
#define STUB_RTF_UP		0x0001U
#define STUB_RTF_REJECT		0x0200U
#define STUB_RTF_ANYCAST	0x00100000U
#define STUB_RTF_LOCAL		0x80000000U

/* One hex digit's value, or -1. */
static int
stub_routes_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A field of 1-8 hex digits: 0 and its value in *v, or -1. */
static int
stub_routes_hex(const char *s, unsigned *v)
{
	size_t	i;
	int	d;

	*v = 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i == 8 || (d = stub_routes_nibble(s[i])) < 0)
			return -1;
		*v = *v << 4 | (unsigned)d;
	}
	return i > 0 ? 0 : -1;
}

/*
 * Split line in place at blanks into at most max fields; how many.
 * By hand, not with sscanf: scanf would bring its number parsers, floats
 * included, into a stub that must stay small.
 */
static size_t
stub_routes_fields(char *line, char **f, size_t max)
{
	size_t	n = 0;

	while (n < max) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0')
			break;
		f[n++] = line;
		while (*line != '\0' && *line != ' ' && *line != '\t')
			line++;
		if (*line != '\0')
			*line++ = '\0';
	}
	return n;
}

/* Keep one route unless it is there already or there is no room. */
static size_t
stub_routes_add(struct stub_routes *r, uint8_t family, const uint8_t *bytes,
    unsigned prefix)
{
	struct addr	a;
	size_t		i;

	addr_set(&a, family, bytes, 0);
	for (i = 0; i < r->n; i++)
		if (r->prefix[i] == prefix && addr_equal(&r->net[i], &a))
			return 0;
	if (r->n == PROTO_ROUTES_MAX)
		return 0;
	r->net[r->n] = a;
	r->prefix[r->n] = (uint8_t)prefix;
	r->n++;
	return 1;
}

/* Clear the host bits past `prefix` (the kernel keeps them clear; a
 * route that had them would fail the ROUTES check and lose every one). */
static void
stub_routes_mask(uint8_t *b, size_t size, unsigned prefix)
{
	size_t	i;

	for (i = prefix / 8; i < size; i++)
		b[i] &= i == prefix / 8 ? (uint8_t)(0xff00U >> (prefix % 8)) : 0;
}

/* The next line of *p into line[0..len) (cut if longer); NULL at the end. */
static const char *
stub_routes_line(const char **p, char *line, size_t len)
{
	const char	*s = *p, *e;
	size_t		 n;

	if (*s == '\0')
		return NULL;
	e = strchr(s, '\n');
	n = e != NULL ? (size_t)(e - s) : strlen(s);
	*p = e != NULL ? e + 1 : s + n;
	if (n >= len)
		n = len - 1;
	memcpy(line, s, n);
	line[n] = '\0';
	return line;
}

size_t
stub_routes_parse_v4(struct stub_routes *r, const char *text)
{
	char		line[256], *f[8];
	unsigned	dst, gw, flags, mask, prefix;
	uint8_t		b[4];
	size_t		added = 0;
	int		first = 1;

	while (stub_routes_line(&text, line, sizeof(line)) != NULL) {
		if (first) {		/* "Iface Destination Gateway ..." */
			first = 0;
			continue;
		}
		/* Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
		if (stub_routes_fields(line, f, 8) != 8 || stub_routes_hex(f[1], &dst) != 0 ||
		    stub_routes_hex(f[2], &gw) != 0 || stub_routes_hex(f[3], &flags) != 0 ||
		    stub_routes_hex(f[7], &mask) != 0)
			continue;
		if (!(flags & STUB_RTF_UP) || (flags & STUB_RTF_REJECT) ||
		    strcmp(f[0], "lo") == 0)
			continue;
		/* The kernel prints each address as the integer that holds
		 * it in memory: its bytes, in memory, are network order. */
		memcpy(b, &mask, 4);
		for (prefix = 0; prefix < 32 && (b[prefix / 8] & (0x80U >> (prefix % 8)));
		    prefix++)
			;
		memcpy(b, &dst, 4);
		if (prefix == 0)
			continue;		/* the default route */
		stub_routes_mask(b, 4, prefix);
		added += stub_routes_add(r, ADDR_V4, b, prefix);
	}
	return added;
}

/* 32 hex digits into 16 bytes: 0, or -1 for anything else. */
static int
stub_routes_hex16(const char *s, uint8_t *b)
{
	unsigned	i;
	int		hi, lo;

	if (strlen(s) != 32)
		return -1;
	for (i = 0; i < 16; i++) {
		if ((hi = stub_routes_nibble(s[2 * i])) < 0 ||
		    (lo = stub_routes_nibble(s[2 * i + 1])) < 0)
			return -1;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

size_t
stub_routes_parse_v6(struct stub_routes *r, const char *text)
{
	char		line[256], *f[10];
	unsigned	plen, splen, metric, ref, use, flags;
	uint8_t		b[16];
	size_t		added = 0;

	while (stub_routes_line(&text, line, sizeof(line)) != NULL) {
		/* dst plen src splen nexthop metric refcnt use flags dev */
		if (stub_routes_fields(line, f, 10) != 10 || stub_routes_hex(f[1], &plen) != 0 ||
		    stub_routes_hex(f[3], &splen) != 0 || stub_routes_hex(f[5], &metric) != 0 ||
		    stub_routes_hex(f[6], &ref) != 0 || stub_routes_hex(f[7], &use) != 0 ||
		    stub_routes_hex(f[8], &flags) != 0)
			continue;
		if (!(flags & STUB_RTF_UP) ||
		    (flags & (STUB_RTF_REJECT | STUB_RTF_ANYCAST | STUB_RTF_LOCAL)) ||
		    strcmp(f[9], "lo") == 0 || plen == 0 || plen > 128 || splen != 0 ||
		    stub_routes_hex16(f[0], b) != 0)
			continue;
		stub_routes_mask(b, 16, plen);
		added += stub_routes_add(r, ADDR_V6, b, plen);
	}
	return added;
}

/* A /proc file into a NUL-terminated buffer (malloc'd), NULL on failure. */
static char *
stub_routes_read(const char *path)
{
	char	*text;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_debug("routes: %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((text = malloc(STUB_ROUTES_FILE_MAX + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	/* /proc files come a page at a time: read to the end. */
	while (len < STUB_ROUTES_FILE_MAX &&
	    (n = read(fd, text + len, STUB_ROUTES_FILE_MAX - len)) != 0) {
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

int
stub_routes_send(struct mux *m)
{
	struct stub_routes	*r;
	char			*text;
	int			 ret;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	if ((text = stub_routes_read("/proc/net/route")) != NULL)
		(void)stub_routes_parse_v4(r, text);
	free(text);
	if ((text = stub_routes_read("/proc/net/ipv6_route")) != NULL)
		(void)stub_routes_parse_v6(r, text);
	free(text);
	log_debug("routes: %zu sent", r->n);
	ret = mux_send_routes(m, r->net, r->prefix, r->n);
	free(r);
	return ret;
}
