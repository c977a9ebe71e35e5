/* SPDX-License-Identifier: ISC */
/*
 * reload.c - SIGHUP's reload: the thread that reads the options again,
 * and what the loop applies of them (reload.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autohosts.h"
#include "autonets.h"
#include "client.h"
#include "dns_local.h"
#include "dnscap.h"
#include "exitcode.h"
#include "fw.h"
#include "log.h"
#include "notify.h"
#include "options.h"
#include "privsep.h"
#include "proto.h"
#include "reload.h"
#include "resolve.h"
#include "tunnel.h"

/* ---- the thread ---- */

int
reload_init(struct reload *r, int argc, char **argv)
{
	memset(r, 0, sizeof(*r));
	r->argc = argc;
	r->argv = argv;
	atomic_init(&r->cancel, false);
	return worker_init(&r->w);
}

void
reload_destroy(struct reload *r)
{
	if (worker_fd(&r->w) < 0)
		return;
	/* A thread still blocked keeps its descriptor: the process is
	 * about to leave anyway. */
	if (!reload_cancel(r, 0))
		return;
	worker_destroy(&r->w);
}

int
reload_fd(const struct reload *r)
{
	return worker_fd(&r->w);
}

static void
reload_main(void *arg)
{
	struct reload		*r = arg;
	struct options		*o;
	struct filecheck_files	*f = NULL;
	int			 rc;

	if ((o = calloc(1, sizeof(*o))) == NULL) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return;
	}
	/* The data path of a root run reads no file itself: the main
	 * process reads them as root, this thread parses what it sent. */
	if (privsep_active()) {
		if ((f = calloc(1, sizeof(*f))) == NULL ||
		    privsep_reload_files(f, r->err, sizeof(r->err)) != 0) {
			if (f == NULL)
				snprintf(r->err, sizeof(r->err), "out of memory");
			filecheck_files_clear(f);
			free(f);
			free(o);
			return;
		}
		filecheck_files_serve(f);
	}
	rc = options_parse(o, r->argc, r->argv, r->err, sizeof(r->err));
	if (f != NULL) {
		filecheck_files_serve(NULL);
		filecheck_files_clear(f);
		free(f);
	}
	if (rc != CSHUTTLE_EXIT_OK ||
	    (rc = resolve_options(o, &r->cancel, r->err, sizeof(r->err))) !=
	    CSHUTTLE_EXIT_OK) {
		options_free(o);
		free(o);
		return;
	}
	r->o = o;
}

int
reload_start(struct reload *r)
{
	if (worker_running(&r->w)) {
		r->again = true;
		return 0;
	}
	r->o = NULL;
	r->err[0] = '\0';
	atomic_store(&r->cancel, false);
	if (worker_start(&r->w, reload_main, r) != 0)
		return -1;
	return 1;
}

int
reload_collect(struct reload *r, struct options **o, bool *again, char *err,
    size_t errlen)
{
	*o = NULL;
	*again = false;
	if (worker_collect(&r->w) != 0)
		return -1;
	*again = r->again;
	r->again = false;
	*o = r->o;
	r->o = NULL;	/* transferred */
	snprintf(err, errlen, "%s", *o == NULL && r->err[0] == '\0' ?
	    "failed" : r->err);
	return 0;
}

bool
reload_cancel(struct reload *r, int grace_ms)
{
	if (!worker_running(&r->w))
		return true;
	atomic_store(&r->cancel, true);
	if (!worker_join(&r->w, grace_ms)) {
		log_debug("the reloading thread did not stop within %d ms", grace_ms);
		return false;
	}
	r->again = false;
	if (r->o != NULL) {
		options_free(r->o);
		free(r->o);
		r->o = NULL;
	}
	return true;
}

/* ---- what changed ---- */

static bool
reload_subnets_equal(const struct subnet_list *a, const struct subnet_list *b,
    bool exclude)
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
reload_str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
reload_ns_equal(const struct addr *a, int na, const struct addr *b, int nb)
{
	int	i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (!addr_equal(&a[i], &b[i]))
			return false;
	return true;
}

static bool
reload_servers_equal(const struct addr *a, const struct addr *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!addr_equal(&a[i], &b[i]))
			return false;
	return true;
}

static bool
reload_domains_equal(const struct options *a, const struct options *b)
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
reload_listen_equal(const struct options *a, const struct options *b)
{
	int	i;

	if (a->nlisten != b->nlisten)
		return false;
	for (i = 0; i < a->nlisten; i++)
		if (!addr_equal(&a->listen[i], &b->listen[i]))
			return false;
	return true;
}

static bool
reload_seeds_equal(const struct options *a, const struct options *b)
{
	int	i;

	if (a->nseed_hosts != b->nseed_hosts)
		return false;
	for (i = 0; i < a->nseed_hosts; i++)
		if (strcmp(a->seed_hosts[i], b->seed_hosts[i]) != 0)
			return false;
	return true;
}

/* Log the keys whose change needs a new cshuttle; they are ignored. */
static void
reload_restart_keys(const struct options *was, const struct options *now)
{
	const char	*keys[32];
	int		 n = 0, i;

	if (!reload_str_equal(was->remote, now->remote))
		keys[n++] = "remote";
	if (!reload_listen_equal(was, now))
		keys[n++] = "listen";
	if (!reload_str_equal(was->ssh_cmd, now->ssh_cmd))
		keys[n++] = "ssh-cmd";
	if (!reload_str_equal(was->ssh_config, now->ssh_config))
		keys[n++] = "ssh-config";
	if (was->no_ipv6 != now->no_ipv6)
		keys[n++] = "no-ipv6";
	if (was->auto_nets != now->auto_nets)
		keys[n++] = "auto-nets";
	if (was->auto_hosts != now->auto_hosts)
		keys[n++] = "auto-hosts";
	/* The stub gets them once per session: kept as they were. */
	if (!reload_seeds_equal(was, now))
		keys[n++] = "seed-hosts";
	if (!reload_str_equal(was->netns, now->netns))
		keys[n++] = "namespace";
	if (was->stub_cache != now->stub_cache)
		keys[n++] = "stub-cache";
	if (!reload_str_equal(was->remote_tmpdir, now->remote_tmpdir))
		keys[n++] = "remote-tmpdir";
	if (!reload_ns_equal(was->to_ns, was->nto_ns, now->to_ns, now->nto_ns))
		keys[n++] = "to-ns";
	if (was->daemon != now->daemon)
		keys[n++] = "daemon";
	if (!reload_str_equal(was->pidfile, now->pidfile))
		keys[n++] = "pidfile";
	if (was->syslog != now->syslog)
		keys[n++] = "syslog";
	/* Whose traffic, and which hosts: the scope the helper was given. */
	if (!reload_str_equal(was->user, now->user))
		keys[n++] = "user";
	if (!reload_str_equal(was->group, now->group))
		keys[n++] = "group";
	if (was->host_wide != now->host_wide)
		keys[n++] = "host-wide";
	if (was->nallow != now->nallow || memcmp(was->allow, now->allow,
	    (size_t)now->nallow * sizeof(now->allow[0])) != 0)
		keys[n++] = "allow-from";
	if (!reload_str_equal(was->name, now->name))
		keys[n++] = "name";
	/* The stub got them in the HELLO: they hold for the session. */
	if (was->no_udp != now->no_udp)
		keys[n++] = "udp";
	if (was->max_udp_flows != now->max_udp_flows)
		keys[n++] = "max-udp-flows";
	/* The helper's policy routing, set up once. */
	if (was->tmark != now->tmark)
		keys[n++] = "tmark";
	if (was->max_streams != now->max_streams)
		keys[n++] = "max-streams";
	if (was->buffer_budget != now->buffer_budget)
		keys[n++] = "buffer-budget";
	if (!reload_str_equal(was->privsep_user, now->privsep_user))
		keys[n++] = "privsep-user";
	for (i = 0; i < n; i++)
		log_warn("needs a restart: %s", keys[i]);
}

/* ---- applying ---- */

/* Free an options set nobody refers to any more. */
static void
reload_options_drop(struct client *c, struct options *o)
{
	if (o == NULL || o == c->boot || o == c->live || o == c->dns_owner)
		return;
	options_free(o);
	free(o);
}

/*
 * On the loop: make o the running configuration, as far as it can change
 * without a new session.  All of the rules or none of them: on failure
 * the running configuration stays (o is dropped).
 */
static void
reload_apply(struct client *c, struct tunnel *t, struct options *o)
{
	struct options		*old;
	struct fw_config	 fc;
	struct dns_local	*dns = c->dns;
	struct addr		 plan[FW_MAX_DNS];
	size_t			 nplan;
	char			 err[1024], changed[512];
	bool			 newdns = false, want, netschanged = false, applied = false;

	reload_restart_keys(c->boot, o);

	/* What the rules will be: the new subnets and captured DNS, the
	 * same listeners and exemptions. */
	fc = c->fwcfg;
	fc.subnets = &o->subnets;
	/* -N: the remote's networks, chosen again (the excludes may differ). */
	if (c->autonets != NULL && (fc.subnets = autonets_merge(c->autonets, &o->subnets,
	    fc.exempt, (size_t)fc.nexempt, !c->boot->no_ipv6, &netschanged)) == NULL) {
		log_error("cannot reload: out of memory; the running configuration stays");
		reload_options_drop(c, o);
		return;
	}
	fc.block_leaks = !o->no_block_leaks;
	want = o->dns || o->nns_hosts > 0;
	nplan = want ? dnscap_servers(o, plan) : 0;
	if (want != (c->dns != NULL) || (want && (nplan != c->ndns_plan ||
	    !reload_servers_equal(plan, c->dns_plan, nplan) ||
	    !reload_domains_equal(o, c->dns_owner)))) {
		if (nplan > 0 && tunnel_features(t) != 0 &&
		    !(tunnel_features(t) & PROTO_FEAT_DNS)) {
			log_error("cannot reload: the remote stub cannot resolve DNS (an older "
			    "cshuttle); the running configuration stays");
			reload_options_drop(c, o);
			return;
		}
		if (dnscap_open(c, o, plan, nplan, &fc, &dns, err, sizeof(err)) != 0) {
			log_error("cannot reload: %s; the running configuration stays", err);
			reload_options_drop(c, o);
			return;
		}
		newdns = true;
	}
	/* One batch: all of it or none (and none at all when the rules
	 * would not change). */
	if (newdns || fc.block_leaks != c->fwcfg.block_leaks || netschanged ||
	    !reload_subnets_equal(&c->live->subnets, &o->subnets, false) ||
	    !reload_subnets_equal(&c->live->subnets, &o->subnets, true)) {
		if (fw_apply(c->fw, &fc, err, sizeof(err)) != 0) {
			log_error("cannot reload: %s; the running configuration stays", err);
			if (newdns)
				dns_local_close(dns);
			reload_options_drop(c, o);
			return;
		}
		applied = true;
	}

	changed[0] = '\0';
#define RELOAD_CHANGED(cond, key) do { if (cond) { size_t l_ = strlen(changed); \
	snprintf(changed + l_, sizeof(changed) - l_, "%s%s", l_ ? ", " : "", key); } } while (0)
	RELOAD_CHANGED(!reload_subnets_equal(&c->live->subnets, &o->subnets, false),
	    "subnets");
	RELOAD_CHANGED(!reload_subnets_equal(&c->live->subnets, &o->subnets, true),
	    "excludes");
	RELOAD_CHANGED(newdns, "DNS capture");
	RELOAD_CHANGED(c->live->no_block_leaks != o->no_block_leaks, "leak blocking");
	RELOAD_CHANGED(c->live->verbose != o->verbose || c->live->quiet != o->quiet,
	    "verbosity");
	RELOAD_CHANGED(c->live->alive_interval_ms != o->alive_interval_ms ||
	    c->live->alive_timeout_ms != o->alive_timeout_ms ||
	    c->live->probe_timeout_ms != o->probe_timeout_ms, "alive times");
	RELOAD_CHANGED(c->live->resume_grace_s != o->resume_grace_s, "resume grace");
	RELOAD_CHANGED(c->live->no_reconnect != o->no_reconnect, "reconnect");
#undef RELOAD_CHANGED

	/* Commit. */
	if (c->autonets != NULL) {
		/* Unapplied, the new list only repeats the one in place. */
		if (applied)
			autonets_commit(c->autonets);
		else
			fc.subnets = c->fwcfg.subnets;
	}
	c->fwcfg = fc;
	if (newdns) {
		tunnel_set_dns(t, dns);
		dns_local_close(c->dns);
		c->dns = dns;
		memcpy(c->dns_plan, plan, nplan * sizeof(plan[0]));
		c->ndns_plan = nplan;
		old = c->dns_owner;
		c->dns_owner = o;
		reload_options_drop(c, old);
	}
	/* The subnets or the DNS capture may have changed. */
	if (c->autohosts != NULL)
		autohosts_apply(c->autohosts, c->dns, c->fw, c->fwcfg.subnets,
		    !c->boot->no_ipv6);
	log_init("cshuttle", o->quiet ? -1 : o->verbose);
	tunnel_set_alive(t, o->alive_interval_ms, o->alive_timeout_ms);
	tunnel_set_probe_timeout(t, o->probe_timeout_ms);
	tunnel_set_resume_grace(t, o->resume_grace_s);
	tunnel_set_udp_timeout(t, o->udp_timeout_s);
	tunnel_set_reconnect(t, !o->no_reconnect);
	pthread_mutex_lock(&c->mu);
	c->alive_interval_ms = o->alive_interval_ms;
	c->alive_timeout_ms = o->alive_timeout_ms;
	pthread_mutex_unlock(&c->mu);
	old = c->live;
	c->live = o;
	reload_options_drop(c, old);
	log_info("reloaded: %s", changed[0] != '\0' ? changed : "nothing changed");
}

/* ---- the hooks ---- */

void
reload_hup(void *arg, struct tunnel *t)
{
	struct client	*c = arg;
	int		 r;

	if ((r = reload_start(&c->reload)) == 0) {
		log_info("SIGHUP: a reload is running; another one follows it");
		return;
	}
	log_info("SIGHUP: reloading the configuration");
	notify_send("RELOADING=1");
	if (r < 0) {
		log_error("cannot reload: %s; the running configuration stays",
		    strerror(errno));
		notify_send("READY=1");
	}
}

void
reload_done(void *arg, struct tunnel *t)
{
	struct client	*c = arg;
	struct options	*o;
	char		 err[RELOAD_ERR_MAX];
	bool		 again;

	/* Woken up without a finished thread: nothing to do. */
	if (reload_collect(&c->reload, &o, &again, err, sizeof(err)) != 0)
		return;
	if (o == NULL)
		log_error("cannot reload: %s; the running configuration stays", err);
	else
		reload_apply(c, t, o);
	notify_send("READY=1");
	if (again)
		reload_hup(c, t);
}
