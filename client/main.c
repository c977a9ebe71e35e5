/*
 * main.c - cshuttle: transparent proxy over SSH.
 *
 * Order of start-up, and why:
 *   1. options (nothing touched yet, so a usage error changes nothing);
 *   2. the firewall helper (sudo may ask for a password: ask before
 *      anything else happens on the terminal);
 *   3. the local listeners (their port names the nftables table);
 *   4. SSH + bootstrap + stub (blocking, bounded by ConnectTimeout);
 *   5. when the stub says HELLO: install the rules, print "connected".
 * Every failure path stops the helper, whose exit removes the table.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootstrap.h"
#include "dns_conf.h"
#include "dns_local.h"
#include "dns_resolve.h"
#include "fw.h"
#include "listen.h"
#include "log.h"
#include "mux.h"
#include "options.h"
#include "sshconfig.h"
#include "transport.h"
#include "tunnel.h"

#define MAIN_PING_INTERVAL_MS	10000
#define MAIN_PING_TIMEOUT_MS	45000
#define MAIN_RESOLVE_MS		10000

struct main_ctx {
	struct fw		*fw;
	struct fw_config	 fwcfg;
	struct dns_local	*dns;
	struct proto_dns_server	 to_ns[OPTIONS_MAX_NS];
};

/* Thousands of concurrent connections need thousands of descriptors. */
static void
main_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			return;
	}
	if (rl.rlim_cur < 4096)
		log_warn("only %llu file descriptors available (ulimit -n): "
		    "concurrent connections are limited to about half that",
		    (unsigned long long)rl.rlim_cur);
}

static bool
main_is_loopback(uint8_t family, const uint8_t *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (family == 4)
		return a[0] == 127;
	return memcmp(a, lo6, 16) == 0;
}

static void
main_listen_spec(const struct options *o, struct listen_spec *ls, bool *prerouting)
{
	int	i;

	memset(ls, 0, sizeof(*ls));
	ls->addr4[0] = 127;
	ls->addr4[3] = 1;
	ls->addr6[15] = 1;
	*prerouting = false;
	/* Without -l: both loopbacks.  With -l: exactly the families the
	 * user named (a bare port already stands for both loopbacks), so
	 * that no family is redirected to an address that does not serve
	 * it. */
	if (o->nlisten == 0) {
		ls->want4 = true;
		ls->want6 = !o->no_ipv6;
	}
	for (i = 0; i < o->nlisten; i++) {
		const struct options_listen *l = &o->listen[i];

		if (l->family == 4) {
			ls->want4 = true;
			memcpy(ls->addr4, l->addr, 4);
		} else if (!o->no_ipv6) {
			ls->want6 = true;
			memcpy(ls->addr6, l->addr, 16);
		}
		if (l->port != 0 && ls->port == 0)
			ls->port = l->port;
		/* Serving other hosts means catching their traffic too. */
		if (!main_is_loopback(l->family, l->addr))
			*prerouting = true;
	}
}

static void
main_exempt_add(struct fw_config *c, uint8_t family, const uint8_t *addr, uint16_t port)
{
	int	i;

	for (i = 0; i < c->nexempt; i++)
		if (c->exempt[i].family == family && c->exempt[i].port == port &&
		    memcmp(c->exempt[i].addr, addr, family == 4 ? 4 : 16) == 0)
			return;
	if (c->nexempt == FW_MAX_EXEMPT)
		return;
	memset(&c->exempt[c->nexempt], 0, sizeof(c->exempt[0]));
	c->exempt[c->nexempt].family = family;
	memcpy(c->exempt[c->nexempt].addr, addr, family == 4 ? 4 : 16);
	c->exempt[c->nexempt].port = port;
	c->nexempt++;
}

/* Exempt every address `host` resolves to, on `port`. */
static void
main_exempt_host(struct fw_config *c, const char *host, int port)
{
	struct dns_addr	 a[FW_MAX_EXEMPT];
	size_t		 n = 0, i;
	char		 err[256];

	if (dns_resolve(host, AF_UNSPEC, MAIN_RESOLVE_MS, a, FW_MAX_EXEMPT, &n,
	    err, sizeof(err)) != 0) {
		log_warn("cannot resolve %s to keep its traffic out of the tunnel: %s",
		    host, err);
		return;
	}
	for (i = 0; i < n; i++)
		main_exempt_add(c, a[i].family, a[i].addr, (uint16_t)port);
}

/*
 * The tunnel's own SSH connection must never be redirected into itself
 * (with 0/0 it would be).  The built-in transport knows the exact peer;
 * for an external ssh we exempt what ssh will connect to: the host, or
 * the first ProxyJump hop, as the ssh configuration resolves it (a hop
 * is usually an alias itself).
 */
static void
main_exempt_ssh(struct fw_config *c, const struct transport *t, const struct sshcfg *cfg,
    const char *config_file)
{
	struct sshcfg	 hop;
	char		*first, *p, err[256];

	if (t->peer_family != 0) {
		main_exempt_add(c, t->peer_family, t->peer_addr, t->peer_port);
		return;
	}
	if (cfg->proxy_jump == NULL) {
		main_exempt_host(c, cfg->hostname, cfg->port);
		return;
	}
	if ((first = strdup(cfg->proxy_jump)) == NULL)
		return;
	first[strcspn(first, ",")] = '\0';
	p = strncmp(first, "ssh://", 6) == 0 ? first + 6 : first;
	memset(&hop, 0, sizeof(hop));
	if (sshcfg_resolve(&hop, p, config_file, err, sizeof(err)) == 0)
		main_exempt_host(c, hop.hostname, hop.port);
	else
		log_warn("cannot resolve the ProxyJump host %s to keep it out of the "
		    "tunnel: %s", p, err);
	sshcfg_free(&hop);
	free(first);
}

_Static_assert(OPTIONS_MAX_NS <= PROTO_DNS_MAX_SERVERS, "--to-ns fits DNS_CONFIG");
_Static_assert(FW_MAX_DNS <= DNS_CONF_MAX, "dns_local serves every captured server");

/* Local forwarding sockets carry the mark, so the rules let them pass. */
static int
main_dns_socket(void *arg, int family, int type)
{
	return fw_marked_socket(arg, family, type);
}

/*
 * The captured DNS servers: resolv.conf's with --dns, then --ns-hosts,
 * one per address (the rules match on the address alone), at most
 * FW_MAX_DNS.  Returns how many.
 */
static size_t
main_dns_servers(const struct options *o, struct dns_server *out)
{
	struct dns_server	 all[DNS_CONF_MAX], s;
	char			 note[512], a[80];
	size_t			 n = 0, k = 0, i, j;
	int			 h;

	if (o->dns) {
		dns_conf_read(DNS_CONF_PATH, all, DNS_CONF_MAX, &n, note, sizeof(note));
		if (note[0] != '\0')
			log_warn("%s", note);
	}
	for (h = 0; h < o->nns_hosts; h++) {
		memset(&s, 0, sizeof(s));
		s.family = o->ns_hosts[h].family;
		memcpy(s.addr, o->ns_hosts[h].addr, sizeof(s.addr));
		s.port = DNS_CONF_PORT;
		if (dns_conf_add(all, &n, DNS_CONF_MAX, &s) != 0)
			break;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < k; j++)
			if (out[j].family == all[i].family &&
			    memcmp(out[j].addr, all[i].addr, sizeof(all[i].addr)) == 0)
				break;
		if (j < k)
			continue;
		if (k == FW_MAX_DNS) {
			log_warn("DNS to %s is not captured: at most %d servers are",
			    dns_server_text(&all[i], a, sizeof(a)), FW_MAX_DNS);
			continue;
		}
		out[k++] = all[i];
	}
	return k;
}

/* Listeners for the captured DNS servers, and their rules. */
static int
main_dns_open(const struct options *o, struct main_ctx *ctx,
    const struct listen_spec *lspec, const struct listen_socks *ls,
    char *err, size_t errlen)
{
	struct dns_local_params	 p;
	struct dns_server	 servers[FW_MAX_DNS];
	const struct dns_server	*s;
	uint16_t		 port;
	size_t			 i;
	char			 a[80];
	int			 k;

	memset(&p, 0, sizeof(p));
	p.servers = servers;
	p.nservers = main_dns_servers(o, servers);
	p.domains = o->dns_domains;
	p.ndomains = (size_t)o->ndns_domains;
	p.want4 = ls->fd4 >= 0;
	p.want6 = ls->fd6 >= 0;
	memcpy(p.bind4, lspec->addr4, sizeof(p.bind4));
	memcpy(p.bind6, lspec->addr6, sizeof(p.bind6));
	p.first_port = (uint16_t)(ls->port + 1);
	p.socket = main_dns_socket;
	p.socket_arg = ctx->fw;
	if ((ctx->dns = dns_local_open(&p, err, errlen)) == NULL)
		return -1;
	for (i = 0; i < dns_local_count(ctx->dns); i++) {
		s = dns_local_server(ctx->dns, i, &port);
		ctx->fwcfg.dns[i].family = s->family;
		memcpy(ctx->fwcfg.dns[i].addr, s->addr, sizeof(s->addr));
		ctx->fwcfg.dns[i].port = port;
		log_debug("capturing DNS to %s", dns_server_text(s, a, sizeof(a)));
	}
	ctx->fwcfg.ndns = (int)dns_local_count(ctx->dns);
	for (k = 0; k < o->nto_ns; k++) {
		ctx->to_ns[k].family = o->to_ns[k].family;
		ctx->to_ns[k].port = o->to_ns[k].port;
		memcpy(ctx->to_ns[k].addr, o->to_ns[k].addr, sizeof(ctx->to_ns[k].addr));
	}
	return 0;
}

static int
main_ready(void *arg, char *err, size_t errlen)
{
	struct main_ctx	*ctx = arg;

	return fw_apply(ctx->fw, &ctx->fwcfg, err, errlen);
}

static struct transport *
main_transport(const struct options *o, const struct sshcfg *cfg, enum transport_fail *fail,
    char *err, size_t errlen)
{
	if (o->ssh_cmd != NULL)
		return transport_cmd_open(o->ssh_cmd, o->remote, o->ssh_config,
		    o->verbose, fail, err, errlen);
	if (cfg->proxy_jump != NULL || cfg->proxy_command != NULL) {
		log_info("the ssh configuration for %s uses %s, which the built-in "
		    "transport cannot do: using the external ssh command",
		    cfg->alias, cfg->proxy_jump != NULL ? "ProxyJump" : "ProxyCommand");
		return transport_cmd_open("ssh", o->remote, o->ssh_config,
		    o->verbose, fail, err, errlen);
	}
	return transport_ssh2_open(cfg, o->verbose, fail, err, errlen);
}

int
main(int argc, char **argv)
{
	struct options		 o;
	struct sshcfg		 cfg;
	struct listen_spec	 lspec;
	struct listen_socks	 ls = { -1, -1, 0 };
	struct tunnel_params	 tp;
	struct main_ctx		 ctx;
	struct transport	*t = NULL;
	enum transport_fail	 fail = TRANSPORT_F_NONE;
	enum tunnel_end		 end;
	char			 err[1024], self[PATH_MAX];
	ssize_t			 n;
	int			 rc;

	memset(&cfg, 0, sizeof(cfg));
	memset(&ctx, 0, sizeof(ctx));
	log_init("cshuttle", 0);
	if ((rc = options_parse(&o, argc, argv, err, sizeof(err))) != CSHUTTLE_EXIT_OK) {
		/* One line, naming the problem. */
		fprintf(stderr, "cshuttle: %s%s\n", err,
		    rc == CSHUTTLE_EXIT_USAGE ? " (see cshuttle --help)" : "");
		options_free(&o);
		return rc;
	}
	if (o.show_help) {
		options_usage(stdout);
		options_free(&o);
		return CSHUTTLE_EXIT_OK;
	}
	if (o.show_version) {
		printf("cshuttle %s\n", CSHUTTLE_VERSION);
		options_free(&o);
		return CSHUTTLE_EXIT_OK;
	}
	if (o.firewall) {
		log_init("cshuttle-fw", o.quiet ? -1 : o.verbose);
		rc = fw_helper_main(STDIN_FILENO, STDOUT_FILENO, o.verbose);
		options_free(&o);
		return rc;
	}
	log_init("cshuttle", o.quiet ? -1 : o.verbose);
	signal(SIGPIPE, SIG_IGN);
	main_raise_nofile();
	bootstrap_set_options(o.stub_cache, o.remote_tmpdir);

	rc = CSHUTTLE_EXIT_FAIL;
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		log_error("cannot find my own executable: %s", strerror(errno));
		goto out;
	}
	self[n] = '\0';
	if ((ctx.fw = fw_start(self, o.verbose, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto out;
	}
	if (sshcfg_resolve(&cfg, o.remote, o.ssh_config, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	main_listen_spec(&o, &lspec, &ctx.fwcfg.prerouting);
	if (listen_open(&lspec, &ls, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	log_debug("listening on port %u (IPv4 %s, IPv6 %s)", ls.port,
	    ls.fd4 >= 0 ? "yes" : "no", ls.fd6 >= 0 ? "yes" : "no");
	if ((o.dns || o.nns_hosts > 0) &&
	    main_dns_open(&o, &ctx, &lspec, &ls, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	ctx.fwcfg.block_leaks = !o.no_block_leaks;
	if ((t = main_transport(&o, &cfg, &fail, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto out;
	}

	ctx.fwcfg.port = ls.port;
	ctx.fwcfg.ipv4 = ls.fd4 >= 0;
	ctx.fwcfg.ipv6 = ls.fd6 >= 0;
	ctx.fwcfg.subnets = &o.subnets;
	main_exempt_ssh(&ctx.fwcfg, t, &cfg, o.ssh_config);

	memset(&tp, 0, sizeof(tp));
	tp.transport = t;
	tp.listen = &ls;
	tp.fw = ctx.fw;
	tp.ready = main_ready;
	tp.ready_arg = &ctx;
	tp.dns = ctx.dns;
	tp.to_ns = ctx.to_ns;
	tp.nto_ns = (size_t)o.nto_ns;
	tp.window = MUX_DEFAULT_WINDOW;
	tp.ping_interval_ms = MAIN_PING_INTERVAL_MS;
	tp.ping_timeout_ms = MAIN_PING_TIMEOUT_MS;
	end = tunnel_run(&tp);
	rc = end == TUNNEL_END_SIGNAL ? CSHUTTLE_EXIT_OK : CSHUTTLE_EXIT_FAIL;
out:
	/* Rules first: once the helper is gone nothing is redirected to
	 * listeners that are about to close. */
	fw_stop(ctx.fw);
	if (t != NULL)
		t->ops->free(t);
	dns_local_close(ctx.dns);
	listen_close(&ls);
	sshcfg_free(&cfg);
	options_free(&o);
	return rc;
}
