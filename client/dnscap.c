/* SPDX-License-Identifier: ISC */
/*
 * dnscap.c - DNS capture (dnscap.h).
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "dns_local.h"
#include "dnscap.h"
#include "fw.h"
#include "listen.h"
#include "log.h"
#include "proto.h"
#include "resolv.h"

_Static_assert(OPTIONS_MAX_NS <= PROTO_DNS_MAX_SERVERS, "--to-ns fits DNS_CONFIG");
_Static_assert(FW_MAX_DNS <= DNS_LOCAL_MAX_SERVERS, "dns_local serves every captured server");

/* Local forwarding sockets carry the mark, so the rules let them pass:
 * ours, marked by the helper (SO_MARK needs a privilege we may lack). */
static int
dnscap_socket(void *arg, int family, int type)
{
	int	fd, e;

	if ((fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (fw_mark_socket(arg, fd) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/*
 * A DNS listener on a LAN address would answer anybody who can reach it:
 * only queries the rules redirected are served.  UDP cannot be checked
 * here (a datagram carries no conntrack entry the socket could read); the
 * helper's input rule drops the rest (docs/ARCHITECTURE.md, LAN gateway).
 */
static int
dnscap_accept(void *arg, int fd)
{
	static struct log_limit	ll;
	struct linger		lg = { .l_onoff = 1, .l_linger = 0 };
	struct addr		dst;

	if (listen_accepted(fd, &dst, &ll, true) == 0)
		return 0;
	/* Reset, not a polite close: nobody should wait for an answer. */
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return -1;
}

/*
 * systemd-resolved: resolv.conf names its stub, which answers from
 * upstream servers that only resolved's own file lists.  Queries that
 * reach resolved some other way (varlink, D-Bus, its 127.0.0.54 proxy)
 * and resolved's own upstream queries go to those: they are captured too,
 * or under 0/0 leak protection would block them and names would stop
 * resolving.  all[0..*n) are resolv.conf's servers.
 */
static void
dnscap_resolved(struct addr *all, size_t *n, size_t max)
{
	static const uint8_t	 stub[4] = { 127, 0, 0, 53 };
	struct addr		 a;
	const char		*path;
	char			 note[512];
	size_t			 i, n0 = *n;

	addr_set(&a, ADDR_V4, stub, RESOLV_PORT);
	for (i = 0; i < *n; i++)
		if (addr_same_host(&all[i], &a))
			break;
	if (i == *n)
		return;
	if ((path = getenv(DNSCAP_RESOLVED_ENV)) == NULL || *path == '\0')
		path = DNSCAP_RESOLVED_PATH;
	resolv_read(path, 0, all, max, n, note, sizeof(note));
	/* Without the file (no resolved at all, a stand-in stub) the stub's
	 * own upstreams are simply not known. */
	if (note[0] != '\0')
		log_debug("%s", note);
	if (*n > n0)
		log_info("resolv.conf names systemd-resolved's stub: capturing "
		    "the upstream servers of %s too", path);
}

size_t
dnscap_servers(const struct options *o, struct addr *out)
{
	struct addr	 all[DNS_LOCAL_MAX_SERVERS], s;
	char		 note[512], a[ADDR_STRLEN];
	size_t		 n = 0, k = 0, i, j;
	int		 h;

	if (o->dns) {
		resolv_read(RESOLV_PATH, RESOLV_F_DEFAULT, all, DNS_LOCAL_MAX_SERVERS, &n,
		    note, sizeof(note));
		if (note[0] != '\0')
			log_warn("%s", note);
		dnscap_resolved(all, &n, DNS_LOCAL_MAX_SERVERS);
	}
	for (h = 0; h < o->nns_hosts; h++) {
		addr_set(&s, o->ns_hosts[h].family, o->ns_hosts[h].bytes, RESOLV_PORT);
		if (resolv_add(all, &n, DNS_LOCAL_MAX_SERVERS, &s) != 0)
			break;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < k; j++)
			if (addr_same_host(&out[j], &all[i]))
				break;
		if (j < k)
			continue;
		if (k == FW_MAX_DNS) {
			log_warn("DNS to %s is not captured: at most %d servers are",
			    addr_format(&all[i], true, a, sizeof(a)), FW_MAX_DNS);
			continue;
		}
		out[k++] = all[i];
	}
	return k;
}
/*
 * The DNS listeners of a family go where its TCP listener is, since the
 * rules redirect both the same way; with several of the family, on its
 * wildcard address: a redirect may land on any of them, and the input
 * rules drop what was not redirected there.  bind: 4 or 16 bytes.
 */
static void
dnscap_bind(const struct listen_socks *ls, uint8_t family, bool *want,
    uint8_t *bind)
{
	size_t	len = family == ADDR_V4 ? 4 : 16;
	int	i, n = 0;

	memset(bind, 0, len);
	for (i = 0; i < ls->n; i++) {
		if (ls->addr[i].family != family)
			continue;
		if (n++ == 0)
			memcpy(bind, ls->addr[i].bytes, len);
		else
			memset(bind, 0, len);
	}
	*want = n > 0;
}

int
dnscap_open(struct client *c, const struct options *o, const struct addr *servers,
    size_t n, struct fw_config *fc, struct dns_local **dnsp, char *err, size_t errlen)
{
	struct dns_local_params	 p;
	const struct addr	*s;
	uint16_t		 port;
	size_t			 i;
	char			 a[ADDR_STRLEN];

	*dnsp = NULL;
	fc->ndns = 0;
	if (!o->dns && o->nns_hosts == 0)
		return 0;
	memset(&p, 0, sizeof(p));
	p.servers = servers;
	p.nservers = n;
	p.domains = o->dns_domains;
	p.ndomains = (size_t)o->ndns_domains;
	dnscap_bind(&c->ls, ADDR_V4, &p.want4, p.bind4);
	dnscap_bind(&c->ls, ADDR_V6, &p.want6, p.bind6);
	p.first_port = (uint16_t)(c->ls.port + 1);
	p.socket = dnscap_socket;
	p.socket_arg = c->fw;
	p.accept = dnscap_accept;
	p.bypass = c->bypass.v;
	p.nbypass = c->bypass.n;
	if ((*dnsp = dns_local_open(&p, err, errlen)) == NULL)
		return -1;
	for (i = 0; i < dns_local_count(*dnsp); i++) {
		s = dns_local_server(*dnsp, i, &port);
		addr_set(&fc->dns[i], s->family, s->bytes, port);
		(void)dns_local_server_fds(*dnsp, i, &fc->dns_udp_fd[i],
		    &fc->dns_tcp_fd[i]);
		log_debug("capturing DNS to %s", addr_format(s, true, a, sizeof(a)));
	}
	fc->ndns = (int)dns_local_count(*dnsp);
	return 0;
}
