/* SPDX-License-Identifier: ISC */
/*
 * main.c - cshuttle: transparent proxy over SSH.
 *
 * Order of start-up, and why:
 *   1. options (nothing touched yet, so a usage error changes nothing);
 *      a pid file naming a running cshuttle stops us here too;
 *   2. -D: detach now, before any process or socket exists that the
 *      parent would take along; the parent waits for the child's verdict;
 *   3. the firewall helper (sudo may ask for a password: ask before
 *      anything else happens on the terminal);
 *   4. the local listeners (their port names the nftables table);
 *   5. SSH + bootstrap + stub (blocking, bounded by ConnectTimeout; this
 *      first open may ask for passphrases, reconnects never do);
 *   6. when the stub says HELLO: install the rules, print "connected",
 *      then the pid file, READY=1 and the -D parent's release.
 * Every failure path stops the helper, whose exit removes the table.
 *
 * After that the tunnel (tunnel.c) runs until a signal, an unrecoverable
 * loss, or the helper's death.  SIGHUP re-reads the options (the same
 * argv, so the --config file again) and applies what can change without a
 * new session: subnets, excludes, DNS capture and leak blocking in one
 * fw_apply, plus verbosity, the alive times and --no-reconnect.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "pidfile.h"
#include "dns_local.h"
#include "dns_msg.h"
#include "dns_resolve.h"
#include "fw.h"
#include "listen.h"
#include "log.h"
#include "mux.h"
#include "notify.h"
#include "options.h"
#include "resolve.h"
#include "resolv.h"
#include "sshconfig.h"
#include "transport.h"
#include "tunnel.h"

#define MAIN_RESOLVE_MS		10000
#define MAIN_MMAP_THRESHOLD	(256 * 1024)	/* see main_malloc_policy() */

struct main_ctx {
	int			 argc;		/* for SIGHUP's options_parse() */
	char			**argv;
	struct options		*boot;		/* as started: the session's settings */
	struct options		*live;		/* the last good reload (or boot) */
	struct options		*dns_owner;	/* whose dns_domains ctx.dns points to */
	struct sshcfg		*cfg;
	struct fw		*fw;
	struct fw_config	 fwcfg;
	struct listen_spec	 lspec;
	struct listen_socks	 ls;
	struct dns_local	*dns;
	struct addr		 dns_plan[FW_MAX_DNS];	/* what ctx.dns was asked to serve */
	size_t			 ndns_plan;
	struct addr		 to_ns[OPTIONS_MAX_NS];
	char			 bypass_name[2][DNS_MSG_TEXT_MAX + 1];
	char			*bypass[2];	/* the SSH server's names (dns_local) */
	size_t			 nbypass;
	char			 pidfile[PATH_MAX];	/* absolute, "" without */
	bool			 pid_written;
	bool			 up;
	/* for the worker's transport options; a reload changes them */
	pthread_mutex_t		 mu;
	int			 alive_interval_ms, alive_timeout_ms;
};

/*
 * Stream queues grow to a window (4 MiB) while an application reads
 * slowly and are freed when they drain.  glibc's default is to raise its
 * mmap threshold after such a free, so later big queues come from the
 * heap and their pages are never given back: a long-running tunnel's RSS
 * creeps up with every burst.  A fixed threshold keeps big queues in
 * their own mappings (grown by mremap, returned on free).
 */
static void
main_malloc_policy(void)
{
#ifdef M_MMAP_THRESHOLD
	(void)mallopt(M_MMAP_THRESHOLD, MAIN_MMAP_THRESHOLD);
	(void)mallopt(M_TRIM_THRESHOLD, 2 * MAIN_MMAP_THRESHOLD);
#endif
}

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
main_exempt_add(struct fw_config *c, const struct addr *a)
{
	int	i;

	for (i = 0; i < c->nexempt; i++)
		if (addr_same_host(&c->exempt[i], a) && c->exempt[i].port == a->port)
			return;
	if (c->nexempt == FW_MAX_EXEMPT)
		return;
	c->exempt[c->nexempt++] = *a;
}

/* Exempt every address `host` resolves to, on `port`.  quiet: a reconnect
 * checking again (the transport reports a name that does not resolve). */
static void
main_exempt_host(struct fw_config *c, const char *host, int port, bool quiet)
{
	struct addr	 a[FW_MAX_EXEMPT];
	size_t		 n = 0, i;
	char		 err[256];

	if (dns_resolve(host, AF_UNSPEC, MAIN_RESOLVE_MS, a, FW_MAX_EXEMPT, &n,
	    err, sizeof(err)) != 0) {
		if (!quiet)
			log_warn("cannot resolve %s to keep its traffic out of the "
			    "tunnel: %s", host, err);
		return;
	}
	for (i = 0; i < n; i++) {
		a[i].port = (uint16_t)port;
		main_exempt_add(c, &a[i]);
	}
}

/*
 * The tunnel's own SSH connection must never be redirected into itself
 * (with 0/0 it would be).  The built-in transport knows the exact peer;
 * for an external ssh we exempt what ssh will connect to: the host, or
 * the first ProxyJump hop, as the ssh configuration resolves it (a hop
 * is usually an alias itself).  Without a transport (t NULL: a reconnect
 * checks before connecting) every address the server resolves to.
 */
static void
main_exempt_ssh(struct fw_config *c, const struct transport *t, const struct sshcfg *cfg,
    const char *config_file, bool quiet)
{
	struct sshcfg	 hop;
	char		*first, *p, err[256];

	if (t != NULL && t->peer.family != 0) {
		main_exempt_add(c, &t->peer);
		return;
	}
	if (cfg->proxy_jump == NULL) {
		main_exempt_host(c, cfg->hostname, cfg->port, quiet);
		return;
	}
	if ((first = strdup(cfg->proxy_jump)) == NULL)
		return;
	first[strcspn(first, ",")] = '\0';
	p = strncmp(first, "ssh://", 6) == 0 ? first + 6 : first;
	memset(&hop, 0, sizeof(hop));
	if (sshcfg_resolve(&hop, p, config_file, err, sizeof(err)) == 0)
		main_exempt_host(c, hop.hostname, hop.port, quiet);
	else if (!quiet)
		log_warn("cannot resolve the ProxyJump host %s to keep it out of the "
		    "tunnel: %s", p, err);
	sshcfg_free(&hop);
	free(first);
}

/* A host name (not an address literal) to resolve locally, normalised. */
static void
main_dns_bypass_add(struct main_ctx *ctx, const char *host)
{
	uint8_t		 a[16];
	const char	*why;

	if (host == NULL || ctx->nbypass >= 2 || inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1 ||
	    dns_msg_domain_norm(host, strlen(host), ctx->bypass_name[ctx->nbypass],
	    sizeof(ctx->bypass_name[0]), &why) != 0)
		return;
	ctx->bypass[ctx->nbypass] = ctx->bypass_name[ctx->nbypass];
	ctx->nbypass++;
}

/*
 * With --dns the local resolvers are captured; once the session is gone
 * nothing would answer for the SSH server's own name, and a reconnect
 * that resolves it again (the built-in transport, or ssh itself) would
 * never get through.  Its name, and the first ProxyJump hop's, are asked
 * locally: the connection to them goes out directly anyway.
 */
static void
main_dns_bypass(struct main_ctx *ctx, const struct sshcfg *cfg, const char *config_file)
{
	struct sshcfg	 hop;
	char		*first, *p, err[256];

	ctx->nbypass = 0;
	main_dns_bypass_add(ctx, cfg->hostname);
	if (cfg->proxy_jump == NULL || (first = strdup(cfg->proxy_jump)) == NULL)
		return;
	first[strcspn(first, ",")] = '\0';
	p = strncmp(first, "ssh://", 6) == 0 ? first + 6 : first;
	memset(&hop, 0, sizeof(hop));
	if (sshcfg_resolve(&hop, p, config_file, err, sizeof(err)) == 0)
		main_dns_bypass_add(ctx, hop.hostname);
	sshcfg_free(&hop);
	free(first);
}

_Static_assert(OPTIONS_MAX_NS <= PROTO_DNS_MAX_SERVERS, "--to-ns fits DNS_CONFIG");
_Static_assert(FW_MAX_DNS <= DNS_LOCAL_MAX_SERVERS, "dns_local serves every captured server");

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
main_dns_servers(const struct options *o, struct addr *out)
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
	}
	for (h = 0; h < o->nns_hosts; h++) {
		addr_set(&s, o->ns_hosts[h].family, o->ns_hosts[h].addr, RESOLV_PORT);
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
 * Listeners for the captured DNS servers, and their entries in *c; the
 * plan (the servers asked for) in ctx for a reload to compare.  *dnsp is
 * NULL when nothing is captured.  0, or -1 with a reason in err.
 */
static int
main_dns_open(const struct options *o, struct main_ctx *ctx, struct fw_config *c,
    struct dns_local **dnsp, char *err, size_t errlen)
{
	struct dns_local_params	 p;
	const struct addr	*s;
	uint16_t		 port;
	size_t			 i;
	char			 a[ADDR_STRLEN];

	*dnsp = NULL;
	c->ndns = 0;
	memset(&p, 0, sizeof(p));
	ctx->ndns_plan = 0;
	if (!o->dns && o->nns_hosts == 0)
		return 0;
	p.servers = ctx->dns_plan;
	p.nservers = ctx->ndns_plan = main_dns_servers(o, ctx->dns_plan);
	p.domains = o->dns_domains;
	p.ndomains = (size_t)o->ndns_domains;
	p.want4 = ctx->ls.fd4 >= 0;
	p.want6 = ctx->ls.fd6 >= 0;
	memcpy(p.bind4, ctx->lspec.addr4, sizeof(p.bind4));
	memcpy(p.bind6, ctx->lspec.addr6, sizeof(p.bind6));
	p.first_port = (uint16_t)(ctx->ls.port + 1);
	p.socket = main_dns_socket;
	p.socket_arg = ctx->fw;
	p.bypass = ctx->bypass;
	p.nbypass = ctx->nbypass;
	if ((*dnsp = dns_local_open(&p, err, errlen)) == NULL)
		return -1;
	for (i = 0; i < dns_local_count(*dnsp); i++) {
		s = dns_local_server(*dnsp, i, &port);
		addr_set(&c->dns[i], s->family, s->bytes, port);
		log_debug("capturing DNS to %s", addr_format(s, true, a, sizeof(a)));
	}
	c->ndns = (int)dns_local_count(*dnsp);
	return 0;
}

static struct transport *
main_transport(const struct options *o, const struct sshcfg *cfg,
    const struct transport_open_opts *opts, enum transport_fail *fail, char *err,
    size_t errlen)
{
	struct transport_open_opts	 to = *opts;

	to.stub_cache = o->stub_cache;
	to.remote_tmpdir = o->remote_tmpdir;
	opts = &to;
	if (o->ssh_cmd != NULL)
		return transport_cmd_open(o->ssh_cmd, o->remote, o->ssh_config, opts,
		    fail, err, errlen);
	if (cfg->proxy_jump != NULL || cfg->proxy_command != NULL) {
		/* Said once, at the first start. */
		if (!opts->batch)
			log_info("the ssh configuration for %s uses %s, which the built-in "
			    "transport cannot do: using the external ssh command",
			    cfg->alias, cfg->proxy_jump != NULL ? "ProxyJump" : "ProxyCommand");
		return transport_cmd_open("ssh", o->remote, o->ssh_config, opts, fail, err,
		    errlen);
	}
	return transport_ssh2_open(cfg, opts, fail, err, errlen);
}

/* ---- the tunnel's hooks ---- */

static int
main_ready(void *arg, bool first, char *err, size_t errlen)
{
	struct main_ctx	*ctx = arg;

	/* The rules outlive sessions: installed once. */
	if (!first)
		return 0;
	return fw_apply(ctx->fw, &ctx->fwcfg, err, errlen);
}

static void
main_up(void *arg, bool first)
{
	struct main_ctx	*ctx = arg;
	char		 err[512];

	if (!first)
		return;
	ctx->up = true;
	if (ctx->pidfile[0] != '\0') {
		if (pidfile_write(ctx->pidfile, getpid(), err, sizeof(err)) == 0)
			ctx->pid_written = true;
		else
			log_warn("%s", err);
	}
	notify_send("READY=1");
	daemon_ready();
}

/* Main thread, before each reconnect: what the worker needs to know. */
static void
main_prepare(void *arg, struct sv_job *job)
{
	struct main_ctx	*ctx = arg;

	memcpy(job->exempt, ctx->fwcfg.exempt, sizeof(job->exempt));
	job->nexempt = ctx->fwcfg.nexempt;
	pthread_mutex_lock(&ctx->mu);
	job->alive_interval_ms = ctx->alive_interval_ms;
	job->alive_timeout_ms = ctx->alive_timeout_ms;
	pthread_mutex_unlock(&ctx->mu);
}

/*
 * Worker thread: open the next session's transport.  Only what never
 * changes after start-up is read here (ctx->boot, ctx->cfg); the rest
 * comes in the job.
 */
static void
main_connect(void *arg, const struct sv_job *job, struct transport_abort *abort,
    struct sv_result *r)
{
	struct main_ctx			*ctx = arg;
	struct transport_open_opts	 opts;
	struct fw_config		*c;

	/*
	 * The server may resolve to another address now.  Rules that
	 * redirect it would send our own SSH connection into the tunnel
	 * that it is meant to carry: exempt it first (the loop applies
	 * it), then connect.
	 */
	if (job->check_exempt && (c = calloc(1, sizeof(*c))) != NULL) {
		memcpy(c->exempt, job->exempt, sizeof(c->exempt));
		c->nexempt = job->nexempt;
		main_exempt_ssh(c, NULL, ctx->cfg, ctx->boot->ssh_config, true);
		if (c->nexempt != job->nexempt) {
			r->exempt_changed = true;
			memcpy(r->exempt, c->exempt, sizeof(r->exempt));
			r->nexempt = c->nexempt;
			free(c);
			return;
		}
		free(c);
	}
	memset(&opts, 0, sizeof(opts));
	opts.alive_interval_ms = job->alive_interval_ms;
	opts.alive_timeout_ms = job->alive_timeout_ms;
	opts.batch = true;
	opts.abort = abort;
	r->transport = main_transport(ctx->boot, ctx->cfg, &opts, &r->fail, r->err,
	    sizeof(r->err));
}

static int
main_exempt(void *arg, const struct addr *e, int n, char *err, size_t errlen)
{
	struct main_ctx		*ctx = arg;
	struct fw_config	 c = ctx->fwcfg;

	memcpy(c.exempt, e, sizeof(c.exempt));
	c.nexempt = n;
	if (fw_apply(ctx->fw, &c, err, errlen) != 0)
		return -1;
	ctx->fwcfg = c;
	return 0;
}

/* ---- SIGHUP ---- */

static bool
main_subnets_equal(const struct subnet_list *a, const struct subnet_list *b, bool exclude)
{
	size_t	i = 0, j = 0;

	/* The includes (or the excludes) of both, in order. */
	for (;;) {
		while (i < a->n && a->v[i].exclude != exclude)
			i++;
		while (j < b->n && b->v[j].exclude != exclude)
			j++;
		if (i == a->n || j == b->n)
			return i == a->n && j == b->n;
		if (a->v[i].family != b->v[j].family || a->v[i].prefix != b->v[j].prefix ||
		    memcmp(a->v[i].addr, b->v[j].addr, 16) != 0 ||
		    a->v[i].port_lo != b->v[j].port_lo || a->v[i].port_hi != b->v[j].port_hi)
			return false;
		i++;
		j++;
	}
}

static bool
main_str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
main_ns_equal(const struct options_ns *a, int na, const struct options_ns *b, int nb)
{
	int	i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].family != b[i].family || a[i].port != b[i].port ||
		    memcmp(a[i].addr, b[i].addr, sizeof(a[i].addr)) != 0)
			return false;
	return true;
}

static bool
main_servers_equal(const struct addr *a, const struct addr *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!addr_equal(&a[i], &b[i]))
			return false;
	return true;
}

static bool
main_domains_equal(const struct options *a, const struct options *b)
{
	int	i;

	if (a->ndns_domains != b->ndns_domains)
		return false;
	for (i = 0; i < a->ndns_domains; i++)
		if (strcmp(a->dns_domains[i], b->dns_domains[i]) != 0)
			return false;
	return true;
}

static bool
main_listen_equal(const struct options *a, const struct options *b)
{
	int	i;

	if (a->nlisten != b->nlisten)
		return false;
	for (i = 0; i < a->nlisten; i++)
		if (a->listen[i].family != b->listen[i].family ||
		    a->listen[i].port != b->listen[i].port ||
		    memcmp(a->listen[i].addr, b->listen[i].addr, 16) != 0)
			return false;
	return true;
}

/* Log the keys whose change needs a new cshuttle; they are ignored. */
static void
main_restart_keys(const struct options *was, const struct options *now)
{
	const char	*keys[16];
	int		 n = 0, i;

	if (!main_str_equal(was->remote, now->remote))
		keys[n++] = "remote";
	if (!main_listen_equal(was, now))
		keys[n++] = "listen";
	if (!main_str_equal(was->ssh_cmd, now->ssh_cmd))
		keys[n++] = "ssh-cmd";
	if (!main_str_equal(was->ssh_config, now->ssh_config))
		keys[n++] = "ssh-config";
	if (was->no_ipv6 != now->no_ipv6)
		keys[n++] = "no-ipv6";
	if (was->stub_cache != now->stub_cache)
		keys[n++] = "stub-cache";
	if (!main_str_equal(was->remote_tmpdir, now->remote_tmpdir))
		keys[n++] = "remote-tmpdir";
	if (!main_ns_equal(was->to_ns, was->nto_ns, now->to_ns, now->nto_ns))
		keys[n++] = "to-ns";
	if (was->daemon != now->daemon)
		keys[n++] = "daemon";
	if (!main_str_equal(was->pidfile, now->pidfile))
		keys[n++] = "pidfile";
	if (was->syslog != now->syslog)
		keys[n++] = "syslog";
	for (i = 0; i < n; i++)
		log_warn("needs a restart: %s", keys[i]);
}

/* Free an options set nobody refers to any more. */
static void
main_options_drop(struct main_ctx *ctx, struct options *o)
{
	if (o == NULL || o == ctx->boot || o == ctx->live || o == ctx->dns_owner)
		return;
	options_free(o);
	free(o);
}

static void
main_reload(void *arg, struct tunnel *t)
{
	struct main_ctx		*ctx = arg;
	struct options		*o, *old;
	struct fw_config	 c;
	struct dns_local	*dns = ctx->dns, *olddns = ctx->dns;
	struct addr		 plan[FW_MAX_DNS], oldplan[FW_MAX_DNS];
	size_t			 nplan, noldplan = ctx->ndns_plan;
	char			 err[1024], changed[512];
	bool			 newdns = false, want;
	int			 rc;

	log_info("SIGHUP: reloading the configuration");
	notify_send("RELOADING=1");
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		log_error("cannot reload: out of memory; the running configuration stays");
		goto done;
	}
	if ((rc = options_parse(o, ctx->argc, ctx->argv, err, sizeof(err))) !=
	    CSHUTTLE_EXIT_OK ||
	    (rc = resolve_options(o, NULL, err, sizeof(err))) != CSHUTTLE_EXIT_OK) {
		log_error("cannot reload: %s; the running configuration stays", err);
		options_free(o);
		free(o);
		goto done;
	}
	main_restart_keys(ctx->boot, o);

	/* What the rules will be: the new subnets and captured DNS, the
	 * same listeners and exemptions. */
	c = ctx->fwcfg;
	c.subnets = &o->subnets;
	c.block_leaks = !o->no_block_leaks;
	memcpy(oldplan, ctx->dns_plan, sizeof(oldplan));
	want = o->dns || o->nns_hosts > 0;
	nplan = want ? main_dns_servers(o, plan) : 0;
	if (want != (olddns != NULL) || (want && (nplan != noldplan ||
	    !main_servers_equal(plan, oldplan, nplan) ||
	    !main_domains_equal(o, ctx->dns_owner)))) {
		if (nplan > 0 && tunnel_features(t) != 0 &&
		    !(tunnel_features(t) & PROTO_FEAT_DNS)) {
			log_error("cannot reload: the remote stub cannot resolve DNS (an older "
			    "cshuttle); the running configuration stays");
			main_options_drop(ctx, o);
			goto done;
		}
		if (main_dns_open(o, ctx, &c, &dns, err, sizeof(err)) != 0) {
			log_error("cannot reload: %s; the running configuration stays", err);
			memcpy(ctx->dns_plan, oldplan, sizeof(oldplan));
			ctx->ndns_plan = noldplan;
			main_options_drop(ctx, o);
			goto done;
		}
		newdns = true;
	}
	/* One batch: all of it or none (and none at all when the rules
	 * would not change). */
	if ((newdns || c.block_leaks != ctx->fwcfg.block_leaks ||
	    !main_subnets_equal(&ctx->live->subnets, &o->subnets, false) ||
	    !main_subnets_equal(&ctx->live->subnets, &o->subnets, true)) &&
	    fw_apply(ctx->fw, &c, err, sizeof(err)) != 0) {
		log_error("cannot reload: %s; the running configuration stays", err);
		if (newdns) {
			dns_local_close(dns);
			memcpy(ctx->dns_plan, oldplan, sizeof(oldplan));
			ctx->ndns_plan = noldplan;
		}
		main_options_drop(ctx, o);
		goto done;
	}

	changed[0] = '\0';
#define MAIN_CHANGED(cond, key) do { if (cond) { size_t l_ = strlen(changed); \
	snprintf(changed + l_, sizeof(changed) - l_, "%s%s", l_ ? ", " : "", key); } } while (0)
	MAIN_CHANGED(!main_subnets_equal(&ctx->live->subnets, &o->subnets, false), "subnets");
	MAIN_CHANGED(!main_subnets_equal(&ctx->live->subnets, &o->subnets, true), "excludes");
	MAIN_CHANGED(newdns, "DNS capture");
	MAIN_CHANGED(ctx->live->no_block_leaks != o->no_block_leaks, "leak blocking");
	MAIN_CHANGED(ctx->live->verbose != o->verbose || ctx->live->quiet != o->quiet,
	    "verbosity");
	MAIN_CHANGED(ctx->live->alive_interval_ms != o->alive_interval_ms ||
	    ctx->live->alive_timeout_ms != o->alive_timeout_ms, "alive times");
	MAIN_CHANGED(ctx->live->no_reconnect != o->no_reconnect, "reconnect");
#undef MAIN_CHANGED

	/* Commit. */
	ctx->fwcfg = c;
	if (newdns) {
		tunnel_set_dns(t, dns);
		dns_local_close(olddns);
		ctx->dns = dns;
		old = ctx->dns_owner;
		ctx->dns_owner = o;
		main_options_drop(ctx, old);
	}
	log_init("cshuttle", o->quiet ? -1 : o->verbose);
	tunnel_set_alive(t, o->alive_interval_ms, o->alive_timeout_ms);
	tunnel_set_reconnect(t, !o->no_reconnect);
	pthread_mutex_lock(&ctx->mu);
	ctx->alive_interval_ms = o->alive_interval_ms;
	ctx->alive_timeout_ms = o->alive_timeout_ms;
	pthread_mutex_unlock(&ctx->mu);
	old = ctx->live;
	ctx->live = o;
	main_options_drop(ctx, old);
	log_info("reloaded: %s", changed[0] != '\0' ? changed : "nothing changed");
done:
	notify_send("READY=1");
}

/* SIGHUP waits (blocked) for the loop, which reloads; until then it must
 * neither kill us nor reach the children we start (they reset it). */
static void
main_block_hup(void)
{
	sigset_t	hup;

	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &hup, NULL);
}

int
main(int argc, char **argv)
{
	struct options			*o = NULL;
	struct sshcfg			 cfg;
	struct tunnel_params		 tp;
	struct main_ctx			 ctx;
	struct transport		*t = NULL;
	struct transport_open_opts	 opts;
	enum transport_fail		 fail = TRANSPORT_F_NONE;
	enum tunnel_end			 end;
	char				 err[1024], self[PATH_MAX];
	ssize_t				 n;
	bool				 stuck = false;
	int				 rc, k;

	memset(&cfg, 0, sizeof(cfg));
	memset(&ctx, 0, sizeof(ctx));
	ctx.ls.fd4 = ctx.ls.fd6 = -1;
	ctx.argc = argc;
	ctx.argv = argv;
	pthread_mutex_init(&ctx.mu, NULL);
	log_init("cshuttle", 0);
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		fprintf(stderr, "cshuttle: out of memory\n");
		return CSHUTTLE_EXIT_FAIL;
	}
	if ((rc = options_parse(o, argc, argv, err, sizeof(err))) != CSHUTTLE_EXIT_OK) {
		/* One line, naming the problem. */
		fprintf(stderr, "cshuttle: %s%s\n", err,
		    rc == CSHUTTLE_EXIT_USAGE ? " (see cshuttle --help)" : "");
		options_free(o);
		free(o);
		return rc;
	}
	if (o->show_help) {
		options_usage(stdout);
		options_free(o);
		free(o);
		return CSHUTTLE_EXIT_OK;
	}
	if (o->show_version) {
		printf("cshuttle %s\n", CSHUTTLE_VERSION);
		options_free(o);
		free(o);
		return CSHUTTLE_EXIT_OK;
	}
	if (o->firewall) {
		log_init("cshuttle-fw", o->quiet ? -1 : o->verbose);
		rc = fw_helper_main(STDIN_FILENO, STDOUT_FILENO, o->verbose);
		options_free(o);
		free(o);
		return rc;
	}
	/* Host names, as a user error, before anything is touched. */
	if ((rc = resolve_options(o, NULL, err, sizeof(err))) != CSHUTTLE_EXIT_OK) {
		fprintf(stderr, "cshuttle: %s%s\n", err,
		    rc == CSHUTTLE_EXIT_USAGE ? " (see cshuttle --help)" : "");
		options_free(o);
		free(o);
		return rc;
	}
	ctx.boot = ctx.live = ctx.dns_owner = o;
	ctx.cfg = &cfg;
	ctx.alive_interval_ms = o->alive_interval_ms;
	ctx.alive_timeout_ms = o->alive_timeout_ms;
	main_block_hup();
	log_init("cshuttle", o->quiet ? -1 : o->verbose);
	rc = CSHUTTLE_EXIT_FAIL;
	/* Refused here, before detaching: the message reaches the user. */
	if (o->pidfile != NULL &&
	    (pidfile_path(o->pidfile, ctx.pidfile, sizeof(ctx.pidfile), err, sizeof(err)) != 0 ||
	    pidfile_check(ctx.pidfile, err, sizeof(err)) != 0)) {
		fprintf(stderr, "cshuttle: %s\n", err);
		goto out;
	}
	if (o->daemon && daemon_detach(err, sizeof(err)) != 0) {
		fprintf(stderr, "cshuttle: %s\n", err);
		goto out;
	}
	/* -D implies --syslog: its stderr is /dev/null now. */
	if (o->syslog || o->daemon)
		log_use_syslog(true);
	(void)notify_init();
	signal(SIGPIPE, SIG_IGN);
	main_raise_nofile();
	main_malloc_policy();

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		log_error("cannot find my own executable: %s", strerror(errno));
		goto out;
	}
	self[n] = '\0';
	if ((ctx.fw = fw_start(self, o->verbose, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto out;
	}
	if (sshcfg_resolve(&cfg, o->remote, o->ssh_config, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	main_dns_bypass(&ctx, &cfg, o->ssh_config);
	main_listen_spec(o, &ctx.lspec, &ctx.fwcfg.prerouting);
	if (listen_open(&ctx.lspec, &ctx.ls, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	log_debug("listening on port %u (IPv4 %s, IPv6 %s)", ctx.ls.port,
	    ctx.ls.fd4 >= 0 ? "yes" : "no", ctx.ls.fd6 >= 0 ? "yes" : "no");
	if (main_dns_open(o, &ctx, &ctx.fwcfg, &ctx.dns, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	for (k = 0; k < o->nto_ns; k++)
		addr_set(&ctx.to_ns[k], o->to_ns[k].family, o->to_ns[k].addr,
		    o->to_ns[k].port);
	ctx.fwcfg.block_leaks = !o->no_block_leaks;
	memset(&opts, 0, sizeof(opts));
	opts.alive_interval_ms = o->alive_interval_ms;
	opts.alive_timeout_ms = o->alive_timeout_ms;
	if ((t = main_transport(o, &cfg, &opts, &fail, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		if (fail == TRANSPORT_F_AUTH || fail == TRANSPORT_F_HOSTKEY)
			rc = CSHUTTLE_EXIT_REFUSED;
		goto out;
	}

	ctx.fwcfg.port = ctx.ls.port;
	ctx.fwcfg.ipv4 = ctx.ls.fd4 >= 0;
	ctx.fwcfg.ipv6 = ctx.ls.fd6 >= 0;
	ctx.fwcfg.subnets = &o->subnets;
	main_exempt_ssh(&ctx.fwcfg, t, &cfg, o->ssh_config, false);

	memset(&tp, 0, sizeof(tp));
	tp.transport = t;
	t = NULL;	/* the tunnel's now */
	tp.listen = &ctx.ls;
	tp.fw = ctx.fw;
	tp.dns = ctx.dns;
	tp.to_ns = ctx.to_ns;
	tp.nto_ns = (size_t)o->nto_ns;
	tp.window = MUX_DEFAULT_WINDOW;
	tp.alive_interval_ms = o->alive_interval_ms;
	tp.alive_timeout_ms = o->alive_timeout_ms;
	tp.reconnect = !o->no_reconnect;
	tp.remote = o->remote != NULL ? o->remote : cfg.alias;
	tp.hooks.ready = main_ready;
	tp.hooks.up = main_up;
	tp.hooks.prepare = main_prepare;
	tp.hooks.connect = main_connect;
	tp.hooks.exempt = main_exempt;
	tp.hooks.reload = main_reload;
	tp.hooks.arg = &ctx;
	end = tunnel_run(&tp, &stuck);
	rc = end == TUNNEL_END_SIGNAL ? CSHUTTLE_EXIT_OK :
	    end == TUNNEL_END_REFUSED ? CSHUTTLE_EXIT_REFUSED : CSHUTTLE_EXIT_FAIL;
out:
	if (ctx.up)
		notify_send("STOPPING=1");
	/* Rules first: once the helper is gone nothing is redirected to
	 * listeners that are about to close. */
	fw_stop(ctx.fw);
	if (t != NULL)
		t->ops->free(t);
	dns_local_close(ctx.dns);
	listen_close(&ctx.ls);
	if (ctx.pid_written)
		pidfile_remove(ctx.pidfile, getpid());
	/* A start that failed: the -D parent says why, with our code. */
	if (!ctx.up)
		daemon_failed(rc);
	sshcfg_free(&cfg);
	/* A worker that would not stop may still use what exit() tears
	 * down (libssh2, OpenSSL): leave without running exit handlers. */
	if (stuck)
		_exit(rc);
	/* What reloads left behind, then the options we started with. */
	if (ctx.dns_owner != NULL && ctx.dns_owner != o && ctx.dns_owner != ctx.live) {
		options_free(ctx.dns_owner);
		free(ctx.dns_owner);
	}
	if (ctx.live != NULL && ctx.live != o) {
		options_free(ctx.live);
		free(ctx.live);
	}
	options_free(o);
	free(o);
	pthread_mutex_destroy(&ctx.mu);
	return rc;
}
