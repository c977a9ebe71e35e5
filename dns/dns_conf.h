/*
 * dns_conf.h - the DNS servers this machine's applications ask: the
 * `nameserver` lines of /etc/resolv.conf, read the way glibc reads them.
 *
 * Pure apart from reading the file (and if_nametoindex() for an IPv6
 * scope), so the parser is unit-tested on text.
 */
#ifndef CSHUTTLE_DNS_CONF_H
#define CSHUTTLE_DNS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_CONF_PATH		"/etc/resolv.conf"
#define DNS_CONF_MAX		16	/* servers captured in all */
#define DNS_CONF_FILE_MAX	(64 * 1024)
#define DNS_CONF_PORT		53

struct dns_server {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		addr[16];	/* IPv4 in the first 4 bytes, rest zero */
	uint16_t	port;		/* where applications send: 53 */
	uint32_t	scope;		/* IPv6 link-local: interface index, else 0 */
};

/*
 * Append the `nameserver` addresses of resolv.conf text[0..len) to
 * out[*n..max), skipping duplicates.  Like glibc: the keyword starts the
 * line and is followed by blanks, '#' and ';' lines are comments, the
 * address is the next word (IPv4, or IPv6 with an optional %scope), and a
 * file without any (or without a usable one) means 127.0.0.1.  Lines that
 * cannot be used, and servers beyond max, are left out and described in
 * note (one line, empty when nothing was left out).
 */
void	dns_conf_parse(const char *text, size_t len, struct dns_server *out,
	    size_t max, size_t *n, char *note, size_t notelen);

/*
 * Read `path` (DNS_CONF_PATH normally) and parse it as above; a note
 * starts with the path.  A missing or unreadable file means 127.0.0.1,
 * as for glibc, with the reason in note.  Never fails.
 */
void	dns_conf_read(const char *path, struct dns_server *out, size_t max,
	    size_t *n, char *note, size_t notelen);

/* Append s to list[0..*n) unless it is already there.  0 when added or
 * present, -1 when the list is full. */
int	dns_conf_add(struct dns_server *list, size_t *n, size_t max,
	    const struct dns_server *s);

/* "192.0.2.1:53", "[2001:db8::1]:53", "[fe80::1%2]:53". */
const char *dns_server_text(const struct dns_server *s, char *buf, size_t len);

#endif
