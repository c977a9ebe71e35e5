/* SPDX-License-Identifier: ISC */
/*
 * main.c - cshuttle: transparent proxy over SSH.
 *
 * Order of start-up, and why:
 *   1. options, and the host names in them resolved (nothing touched
 *      yet, so a usage error changes nothing; blocking is fine before
 *      the loop); a pid file naming a running cshuttle stops us here too;
 *   2. -D: detach now, before any process or socket exists that the
 *      parent would take along; the parent waits for the child's verdict;
 *   3. the firewall helper (sudo may ask for a password: ask before
 *      anything else happens on the terminal);
 *   4. the local listeners (their port names the nftables table), then
 *      the control socket `cshuttle status` reads (control.h); started
 *      as root, the split here (privsep.h): what follows runs as the
 *      privsep user, and this process stays root to open sessions, read
 *      a reload's files and write the pid file for it;
 *   5. SSH + bootstrap + stub (blocking, bounded by ConnectTimeout; this
 *      first open may ask for passphrases and passwords, a reconnect
 *      for a password only);
 *   6. when the stub says HELLO: install the rules, print "connected",
 *      then the pid file, READY=1 and the -D parent's release.
 * Every failure path stops the helper, whose exit removes the table.
 *
 * After that the tunnel (tunnel.c) runs until a signal, an unrecoverable
 * loss, or the helper's death; SIGHUP reloads the options (reload.h).
 * What the running client holds is in client.h; the SSH server's
 * exemption is exempt.c's, DNS capture dnscap.c's.
 */
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autohosts.h"
#include "autonets.h"
#include "client.h"
#include "control.h"
#include "daemon.h"
#include "dns_local.h"
#include "dnscap.h"
#include "exempt.h"
#include "filecheck.h"
#include "fw.h"
#include "listen.h"
#include "log.h"
#include "phase.h"
#include "mux.h"
#include "netinfo.h"
#include "notify.h"
#include "options.h"
#include "pidfile.h"
#include "privsep.h"
#include "reload.h"
#include "resolve.h"
#include "sshconfig.h"
#include "status.h"
#include "transport.h"
#include "tunnel.h"

#define MAIN_MMAP_THRESHOLD	(256 * 1024)	/* see main_malloc_policy() */
#define MAIN_RELOAD_GRACE_MS	1000	/* for a reload to finish at shutdown */

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

/* Every -l address fits the spec, and every listener the helper. */
_Static_assert(OPTIONS_MAX_LISTEN <= LISTEN_MAX && LISTEN_MAX <= FW_MAX_LISTEN,
    "-l addresses fit the listeners and the helper");

static void
main_listen_spec(const struct options *o, struct listen_spec *ls, bool *prerouting)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	static const uint8_t lo6[16] = { [15] = 1 };
	struct addr	a;
	int	i;

	memset(ls, 0, sizeof(*ls));
	*prerouting = false;
	/* Without -l: both loopbacks.  With -l: exactly the families the
	 * user named (a bare port already stands for both loopbacks), so
	 * that no family is redirected to an address that does not serve
	 * it. */
	if (o->nlisten == 0) {
		addr_set(&a, ADDR_V4, lo4, 0);
		(void)listen_spec_add(ls, &a);
		addr_set(&a, ADDR_V6, lo6, 0);
		if (!o->no_ipv6)
			(void)listen_spec_add(ls, &a);
	}
	ls->port = o->listen_port;
	for (i = 0; i < o->nlisten; i++) {
		const struct addr *l = &o->listen[i];

		if (l->family == ADDR_V6 && o->no_ipv6)
			continue;
		(void)listen_spec_add(ls, l);
		/* Serving other hosts means catching their traffic too. */
		if (!addr_is_loopback(l))
			*prerouting = true;
	}
}

/*
 * Serving other hosts: which of them (netinfo.h).  Nobody at all means
 * no prerouting rules, which the helper would refuse without a source.
 */
static void
main_gateway(struct client *c, const struct options *o)
{
	/* The exemptions are where the SSH connection goes. */
	netinfo_gateway(c->ls.addr, (size_t)c->ls.n, o->allow, o->nallow, c->fwcfg.exempt,
	    (size_t)c->fwcfg.nexempt, c->fwcfg.allow, &c->fwcfg.nallow);
	if (c->fwcfg.nallow == 0)
		c->fwcfg.prerouting = false;
}

static struct transport *
main_transport(const struct options *o, const struct sshcfg *cfg,
    const struct transport_open_opts *opts, enum transport_fail *fail, char *err,
    size_t errlen)
{
	struct transport_open_opts	 to = *opts;

	to.stub_cache = o->stub_cache;
	to.remote_tmpdir = o->remote_tmpdir;
	to.password = o->remote_password;
	to.unattended = o->daemon;
	to.no_cmd_delimiter = o->no_cmd_delimiter;
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

/* -N: the session's routes (each session's replace the last ones). */
static void
main_routes(void *arg, const struct proto_frame *f)
{
	struct client	*c = arg;

	autonets_report(c->autonets, f);
}

/* -H: the session's host names, used for what the rules in place
 * forward. */
static void
main_hosts(void *arg, const struct proto_frame *f)
{
	struct client	*c = arg;

	autohosts_report(c->autohosts, f);
	autohosts_apply(c->autohosts, c->dns, c->fw, c->fwcfg.subnets,
	    !c->boot->no_ipv6);
}

/*
 * -N: the user's subnets with the remote's networks, in one batch; on a
 * reconnect only when the choice changed.  A failure then leaves the
 * rules as they were, which still work.
 */
static int
main_ready_autonets(struct client *c, bool first, char *err, size_t errlen)
{
	struct fw_config	fc = c->fwcfg;
	bool			changed;

	fc.subnets = autonets_merge(c->autonets, &c->live->subnets, fc.exempt,
	    (size_t)fc.nexempt, !c->boot->no_ipv6, &changed);
	if (fc.subnets == NULL) {
		snprintf(err, errlen, "out of memory");
		return first ? -1 : 0;
	}
	if (!first && !changed)
		return 0;
	if (fw_apply(c->fw, &fc, err, errlen) != 0) {
		if (first)
			return -1;
		log_warn("auto-nets: the rules stay as they were: %s", err);
		return 0;
	}
	autonets_commit(c->autonets);
	c->fwcfg = fc;
	return 0;
}

static int
main_ready(void *arg, bool first, char *err, size_t errlen)
{
	struct client	*c = arg;
	int		 r;

	if (c->autonets != NULL)
		r = main_ready_autonets(c, first, err, errlen);
	else if (!first)
		return 0;	/* the rules outlive sessions: installed once */
	else
		r = fw_apply(c->fw, &c->fwcfg, err, errlen);
	/* -H without --dns: whether the helper may write /etc/hosts is
	 * known at once, not at the remote's first report. */
	if (r == 0 && first && c->autohosts != NULL && c->dns == NULL &&
	    fw_hosts(c->fw, NULL, 0, err, errlen) != 0)
		return -1;
	return r;
}

/* The tunnel works: the pid file, READY=1 and the -D parent's release,
 * each of which says so.  In the main process of a split run too. */
static void
main_announce(struct client *c)
{
	char	err[512];

	c->up = true;
	if (c->pidfile[0] != '\0') {
		if (pidfile_write(c->pidfile, getpid(), err, sizeof(err)) == 0)
			c->pid_written = true;
		else
			log_warn("%s", err);
	}
	notify_send("READY=1");
	daemon_ready();
}

static void
main_up(void *arg, bool first)
{
	struct client	*c = arg;

	if (!first)
		return;
	/* Split: the main process announces it, with its own pid. */
	if (privsep_active()) {
		c->up = true;
		privsep_up();
		return;
	}
	main_announce(c);
}

/* Main thread, before each reconnect: what the worker needs to know. */
static void
main_prepare(void *arg, struct supervise_job *job)
{
	struct client	*c = arg;

	memcpy(job->exempt, c->fwcfg.exempt, sizeof(job->exempt));
	job->nexempt = c->fwcfg.nexempt;
	pthread_mutex_lock(&c->mu);
	job->alive_interval_ms = c->alive_interval_ms;
	job->alive_timeout_ms = c->alive_timeout_ms;
	pthread_mutex_unlock(&c->mu);
}

/* The data path of a split run: the main process opens it (privsep.h). */
static void
main_privsep_connect(const struct supervise_job *job,
    struct transport_abort *abort, struct supervise_result *r)
{
	struct privsep_open	 req;
	struct privsep_opened	*res;

	if ((res = calloc(1, sizeof(*res))) == NULL) {
		r->fail = TRANSPORT_F_CONNECT;
		snprintf(r->err, sizeof(r->err), "out of memory");
		return;
	}
	memset(&req, 0, sizeof(req));
	req.flags = PRIVSEP_OPEN_BATCH | PRIVSEP_OPEN_ASK_PASS |
	    (job->check_exempt ? PRIVSEP_OPEN_CHECK : 0);
	req.alive_interval_ms = (uint32_t)job->alive_interval_ms;
	req.alive_timeout_ms = (uint32_t)job->alive_timeout_ms;
	memcpy(req.exempt, job->exempt, sizeof(req.exempt));
	req.nexempt = job->nexempt;
	r->transport = privsep_open(&req, abort, res);
	if (res->result == PRIVSEP_RES_EXEMPT) {
		r->exempt_changed = true;
		memcpy(r->exempt, res->exempt, sizeof(r->exempt));
		r->nexempt = res->nexempt;
	} else if (r->transport == NULL) {
		r->fail = (enum transport_fail)res->fail;
		snprintf(r->err, sizeof(r->err), "%s", res->err);
	}
	free(res);
}

/* The password of -r user:password@host, for processes that open no
 * session: gone from their memory. */
static void
main_forget_password(struct options *o)
{
	if (o->remote_password == NULL)
		return;
	explicit_bzero(o->remote_password, strlen(o->remote_password));
	free(o->remote_password);
	o->remote_password = NULL;
}

/*
 * In a child of the main process, as root (privsep.h): what
 * main_connect() does for a reconnect, or main() for the first open
 * (then with the exemptions the new session needs computed here, where
 * the ssh configuration can be read).
 */
static struct transport *
main_privsep_open(void *arg, const struct privsep_open *req,
    struct privsep_opened *res)
{
	struct client			*c = arg;
	struct transport_open_opts	 opts;
	struct transport		*t;
	struct fw_config		*fc;
	enum transport_fail		 fail = TRANSPORT_F_NONE;

	/* This child may live on as the session's relay: the listeners
	 * are none of its business. */
	listen_close(&c->ls);
	res->result = PRIVSEP_RES_FAIL;
	if ((fc = calloc(1, sizeof(*fc))) == NULL) {
		res->fail = TRANSPORT_F_CONNECT;
		snprintf(res->err, sizeof(res->err), "out of memory");
		return NULL;
	}
	memcpy(fc->exempt, req->exempt, sizeof(fc->exempt));
	fc->nexempt = req->nexempt;
	if ((req->flags & PRIVSEP_OPEN_CHECK) != 0) {
		exempt_ssh(fc, NULL, c->cfg, c->boot->ssh_config, true);
		if (fc->nexempt != req->nexempt) {
			res->result = PRIVSEP_RES_EXEMPT;
			memcpy(res->exempt, fc->exempt, sizeof(res->exempt));
			res->nexempt = fc->nexempt;
			free(fc);
			return NULL;
		}
	}
	memset(&opts, 0, sizeof(opts));
	opts.alive_interval_ms = (int)req->alive_interval_ms;
	opts.alive_timeout_ms = (int)req->alive_timeout_ms;
	opts.batch = (req->flags & PRIVSEP_OPEN_BATCH) != 0;
	opts.ask_password = (req->flags & PRIVSEP_OPEN_ASK_PASS) != 0;
	t = main_transport(c->boot, c->cfg, &opts, &fail, res->err,
	    sizeof(res->err));
	res->fail = (int)fail;
	/* Logged in or not, this child asks for no other session. */
	main_forget_password(c->boot);
	if (t != NULL && !opts.batch) {
		exempt_ssh(fc, t, c->cfg, c->boot->ssh_config, false);
		memcpy(res->exempt, fc->exempt, sizeof(res->exempt));
		res->nexempt = fc->nexempt;
	}
	free(fc);
	return t;
}

/* The main process: D's first session is up. */
static void
main_privsep_up(void *arg)
{
	/* The next sessions' openers are reconnects, not the start. */
	phase_stop();
	main_announce(arg);
}

/*
 * The main process, just after the split: the control socket and the
 * tunnel's name are D's (we only remove the socket's file at the end,
 * in a directory D may not write).  A child of ours that kept them (a
 * session's relay finishing after D) held the name for a moment past
 * our exit, and a restart found it taken.  The listeners stay open here
 * too, as before (`ss -p` shows the process the user started), and our
 * children end before we do (privsep.c).
 */
static void
main_privsep_parent(void *arg)
{
	struct client	*c = arg;

	control_detach(c->control);
}

/* The main process: SIGHUP's files, read as root. */
static void
main_privsep_reload(void *arg, struct filecheck_files *f)
{
	struct client	*c = arg;
	struct options	*o;
	char		 err[RELOAD_ERR_MAX];

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return;
	filecheck_files_record(f);
	/* Its verdict is D's to find again from the same files. */
	(void)options_parse(o, c->reload.argc, c->reload.argv, err, sizeof(err));
	filecheck_files_record(NULL);
	options_free(o);
	free(o);
}

/*
 * Worker thread: open the next session's transport.  Only what never
 * changes after start-up is read here (c->boot, c->cfg); the rest
 * comes in the job.
 */
static void
main_connect(void *arg, const struct supervise_job *job,
    struct transport_abort *abort, struct supervise_result *r)
{
	struct client			*c = arg;
	struct transport_open_opts	 opts;
	struct fw_config		*fc;

	if (privsep_active()) {
		main_privsep_connect(job, abort, r);
		return;
	}
	/*
	 * The server may resolve to another address now.  Rules that
	 * redirect it would send our own SSH connection into the tunnel
	 * that it is meant to carry: exempt it first (the loop applies
	 * it), then connect.
	 */
	if (job->check_exempt && (fc = calloc(1, sizeof(*fc))) != NULL) {
		memcpy(fc->exempt, job->exempt, sizeof(fc->exempt));
		fc->nexempt = job->nexempt;
		exempt_ssh(fc, NULL, c->cfg, c->boot->ssh_config, true);
		if (fc->nexempt != job->nexempt) {
			r->exempt_changed = true;
			memcpy(r->exempt, fc->exempt, sizeof(r->exempt));
			r->nexempt = fc->nexempt;
			free(fc);
			return;
		}
		free(fc);
	}
	memset(&opts, 0, sizeof(opts));
	opts.alive_interval_ms = job->alive_interval_ms;
	opts.alive_timeout_ms = job->alive_timeout_ms;
	opts.batch = true;
	opts.ask_password = true;	/* when a terminal is there */
	opts.abort = abort;
	r->transport = main_transport(c->boot, c->cfg, &opts, &r->fail, r->err,
	    sizeof(r->err));
}

static int
main_exempt(void *arg, const struct addr *e, int n, char *err, size_t errlen)
{
	struct client		*c = arg;
	struct fw_config	 fc = c->fwcfg;

	memcpy(fc.exempt, e, sizeof(fc.exempt));
	fc.nexempt = n;
	if (fw_apply(c->fw, &fc, err, errlen) != 0)
		return -1;
	c->fwcfg = fc;
	return 0;
}

/* This program's absolute path (what sudo is told to run).  0 or -1. */
static int
main_self(char *self, size_t len)
{
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", self, len - 1)) <= 0)
		return -1;
	self[n] = '\0';
	return 0;
}

/*
 * `cshuttle --firewall [-v|-q]...`, decided before anything else is
 * parsed: the helper runs as root and reads nothing a user could name,
 * no $CSHUTTLE_ARGS, no @file, no -s or -X file, no configuration.
 */
static int
main_firewall(int argc, char **argv)
{
	const char	*p;
	int		 i, verbose = 0;
	bool		 quiet = false;

	for (i = 2; i < argc; i++) {
		p = argv[i];
		if (p[0] != '-' || p[1] == '\0' ||
		    strspn(p + 1, "vq") != strlen(p + 1)) {
			fprintf(stderr, "cshuttle: --firewall takes only -v and "
			    "-q, not \"%.64s\"\n", p);
			return CSHUTTLE_EXIT_USAGE;
		}
		for (p++; *p != '\0'; p++) {
			if (*p == 'v')
				verbose++;
			else
				quiet = true;
		}
	}
	log_init("cshuttle-fw", quiet ? -1 : verbose);
	return fw_helper_main(STDIN_FILENO, STDOUT_FILENO, quiet ? -1 : verbose,
	    false);
}

/* The sudoers rule for this binary that lets user (NULL: the user who
 * ran sudo, or the caller) start its helper: --sudoers, and sshuttle's
 * --sudoers-no-modify [--sudoers-user USER]. */
static int
main_sudoers_rule(const char *user)
{
	struct passwd	*pw;
	char		 self[PATH_MAX], rule[8192], err[PATH_MAX + 128];

	if (user == NULL)
		user = getenv("SUDO_USER");
	if (user == NULL || *user == '\0') {
		if ((pw = getpwuid(getuid())) == NULL) {
			fprintf(stderr, "cshuttle: who are you? (uid %lu has no "
			    "name): give the user\n", (unsigned long)getuid());
			return CSHUTTLE_EXIT_USAGE;
		}
		user = pw->pw_name;
	}
	if (main_self(self, sizeof(self)) != 0) {
		fprintf(stderr, "cshuttle: cannot find my own executable: %s\n",
		    strerror(errno));
		return CSHUTTLE_EXIT_FAIL;
	}
	if (fw_sudoers_rule(user, self, rule, sizeof(rule), err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "cshuttle: %s\n", err);
		return CSHUTTLE_EXIT_USAGE;
	}
	printf("%s\n", rule);
	return CSHUTTLE_EXIT_OK;
}

/*
 * --namespace/--namespace-pid: move into that network namespace before
 * anything else, so the helper forked later, every socket, the DNS
 * capture and ssh all live there.  Root only: the sudo mode's helper
 * would act in a namespace the caller may not own.  An exit status, 0
 * when there is nothing to do.
 */
static int
main_netns(const struct options *o)
{
	int	fd;

	if (o->netns == NULL)
		return 0;
	if (geteuid() != 0) {
		fprintf(stderr, "cshuttle: --namespace and --namespace-pid are "
		    "root's: they act beyond the caller's own network (run "
		    "cshuttle as root)\n");
		return CSHUTTLE_EXIT_USAGE;
	}
	if ((fd = open(o->netns, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "cshuttle: network namespace %s: %s\n",
		    o->netns, strerror(errno));
		return CSHUTTLE_EXIT_USAGE;
	}
	if (setns(fd, CLONE_NEWNET) == -1) {
		fprintf(stderr, "cshuttle: cannot enter network namespace %s: "
		    "%s\n", o->netns, strerror(errno));
		close(fd);
		return CSHUTTLE_EXIT_USAGE;
	}
	close(fd);
	return 0;
}

/* `cshuttle --sudoers [USER]`. */
static int
main_sudoers(int argc, char **argv)
{
	if (argc > 3) {
		fprintf(stderr, "cshuttle: --sudoers takes one user name at most "
		    "(see cshuttle --help)\n");
		return CSHUTTLE_EXIT_USAGE;
	}
	return main_sudoers_rule(argc == 3 ? argv[2] : NULL);
}

/* A user or group given by number. */
static bool
main_id(const char *s, unsigned long *id)
{
	char	*end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*id = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *id < 0xffffffffUL;
}

/*
 * --user and --group: root's, to carry one user's or group's traffic; a
 * helper started through sudo serves its caller alone anyway.  Into fc.
 * 0, or an exit code with the reason in err.
 */
static int
main_owner(const struct options *o, struct fw_config *fc, char *err,
    size_t errlen)
{
	struct passwd	*pw;
	struct group	*gr;
	unsigned long	 id;
	char		 me[64];

	if (o->user == NULL && o->group == NULL)
		return 0;
	if (geteuid() != 0) {
		if ((pw = getpwuid(getuid())) != NULL)
			snprintf(me, sizeof(me), "%s", pw->pw_name);
		else
			snprintf(me, sizeof(me), "uid %lu",
			    (unsigned long)getuid());
		snprintf(err, errlen, "%s is for root: a tunnel started by %s "
		    "carries only %s's traffic", o->user != NULL ? "--user" :
		    "--group", me, me);
		return CSHUTTLE_EXIT_USAGE;
	}
	if (o->user != NULL) {
		if (main_id(o->user, &id))
			fc->user = (uid_t)id;
		else if ((pw = getpwnam(o->user)) != NULL)
			fc->user = pw->pw_uid;
		else {
			snprintf(err, errlen, "--user \"%s\": no such user",
			    o->user);
			return CSHUTTLE_EXIT_USAGE;
		}
		fc->has_user = true;
	}
	if (o->group != NULL) {
		if (main_id(o->group, &id))
			fc->group = (gid_t)id;
		else if ((gr = getgrnam(o->group)) != NULL)
			fc->group = gr->gr_gid;
		else {
			snprintf(err, errlen, "--group \"%s\": no such group",
			    o->group);
			return CSHUTTLE_EXIT_USAGE;
		}
		fc->has_group = true;
	}
	return 0;
}

/*
 * What the rules redirect to and whose traffic they take: the listeners,
 * the allowed sources, the scope.  A root caller (the unit, `sudo
 * cshuttle`) covers every local user unless --user or --group says
 * otherwise; any other caller its own traffic, or, with --host-wide,
 * everyone's if root's policy allows it.
 */
static void
main_fwcfg(struct client *c, const struct options *o)
{
	struct fw_config	*fc = &c->fwcfg;

	for (fc->nlisten = 0; fc->nlisten < c->ls.n; fc->nlisten++)
		fc->listen_fd[fc->nlisten] = c->ls.fd[fc->nlisten];
	for (fc->nudp = 0; fc->nudp < c->ls.nudp; fc->nudp++)
		fc->udp_fd[fc->nudp] = c->ls.udp_fd[fc->nudp];
	fc->port = c->ls.port;
	/* Only with UDP sockets (options.c refuses --tmark with --no-udp;
	 * a host without them gets no UDP capture, nor a mark for it). */
	fc->tmark = fc->nudp > 0 ? o->tmark : 0;
	fc->ipv4 = listen_has(&c->ls, ADDR_V4);
	fc->ipv6 = listen_has(&c->ls, ADDR_V6);
	memcpy(fc->allow, o->allow, sizeof(fc->allow));
	fc->nallow = o->nallow;
	fc->host_wide = o->host_wide || (fw_caller_uid(c->fw) == 0 &&
	    !fc->has_user && !fc->has_group);
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
	struct client			 c;
	struct transport		*t = NULL;
	struct transport_open_opts	 opts;
	enum transport_fail		 fail = TRANSPORT_F_NONE;
	enum tunnel_end			 end;
	char				 err[1024], self[PATH_MAX];
	char				 name[CONTROL_NAME_MAX + 1];
	struct privsep_hooks		 ph;
	struct privsep_open		 preq;
	struct privsep_opened		 pres;
	uid_t				 ps_uid = 0;
	gid_t				 ps_gid = 0;
	bool				 stuck = false, split = false, up;
	bool				 broker = false;
	int				 rc, r, ps_how = 0;

	/* Before any other parsing: see main_firewall(). */
	if (argc >= 2 && strcmp(argv[1], "--firewall") == 0)
		return main_firewall(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "--sudoers") == 0)
		return main_sudoers(argc, argv);
	phase_start();
	memset(&cfg, 0, sizeof(cfg));
	memset(&c, 0, sizeof(c));
	c.reload.w.wake.rfd = c.reload.w.wake.wfd = -1;
	pthread_mutex_init(&c.mu, NULL);
	log_init("cshuttle", 0);
	/* A command of its own, with its own options (status.h). */
	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return status_main(argc - 1, argv + 1);
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
	if (o->sudoers_print) {
		rc = main_sudoers_rule(o->sudoers_user);
		options_free(o);
		free(o);
		return rc;
	}
	if (o->firewall || o->sudoers) {
		fprintf(stderr, "cshuttle: %s must be the first argument (see "
		    "cshuttle --help)\n", o->firewall ? "--firewall" : "--sudoers");
		options_free(o);
		free(o);
		return CSHUTTLE_EXIT_USAGE;
	}
	if ((rc = main_netns(o)) != 0) {
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
	if ((rc = main_owner(o, &c.fwcfg, err, sizeof(err))) != 0) {
		fprintf(stderr, "cshuttle: %s\n", err);
		options_free(o);
		free(o);
		return rc;
	}
	/* Root runs the data path as another user (privsep.h). */
	if (geteuid() == 0) {
		r = privsep_user(o->privsep_user, &ps_uid, &ps_gid, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "cshuttle: %s (see cshuttle --help)\n", err);
			options_free(o);
			free(o);
			return CSHUTTLE_EXIT_USAGE;
		}
		ps_how = r;
		split = r == 0 || r == 2;
	}
	if (o->remote_password != NULL && o->remote_password_argv)
		log_warn("the password in -r is visible to other users (ps): use a key, "
		    "or leave it out to be asked for it");
	/* ssh -G, or our own reader, will believe what it says (a
	 * ProxyCommand runs as us): root checks it as it checks --config. */
	if (o->ssh_config != NULL && filecheck_needed() &&
	    filecheck_path(o->ssh_config, err, sizeof(err)) != 0) {
		fprintf(stderr, "cshuttle: --ssh-config %s: %s\n", o->ssh_config, err);
		options_free(o);
		free(o);
		return CSHUTTLE_EXIT_USAGE;
	}
	c.boot = c.live = c.dns_owner = o;
	c.cfg = &cfg;
	c.alive_interval_ms = o->alive_interval_ms;
	c.alive_timeout_ms = o->alive_timeout_ms;
	main_block_hup();
	log_init("cshuttle", o->quiet ? -1 : o->verbose);
	for (r = 0; r < o->nnotices; r++)
		log_info("%s", o->notices[r]);
	rc = CSHUTTLE_EXIT_FAIL;
	if (reload_init(&c.reload, argc, argv) != 0) {
		fprintf(stderr, "cshuttle: %s\n", strerror(errno));
		goto out;
	}
	/* Refused here, before detaching: the message reaches the user. */
	if (o->pidfile != NULL &&
	    (pidfile_path(o->pidfile, c.pidfile, sizeof(c.pidfile), err, sizeof(err)) != 0 ||
	    pidfile_check(c.pidfile, err, sizeof(err)) != 0)) {
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
	privsep_warn(ps_how, o->privsep_user);
	(void)notify_init();
	signal(SIGPIPE, SIG_IGN);
	main_raise_nofile();
	main_malloc_policy();

	if (main_self(self, sizeof(self)) != 0) {
		log_error("cannot find my own executable: %s", strerror(errno));
		goto out;
	}
	if ((c.fw = fw_start(self, o->verbose, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto out;
	}
	phase_mark("the firewall helper is up");
	if (sshcfg_resolve(&cfg, o->remote, o->ssh_config, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	exempt_names(&c.bypass, &cfg, o->ssh_config);
	main_listen_spec(o, &c.lspec, &c.fwcfg.prerouting);
	c.lspec.udp = !o->no_udp;
	if (listen_open(&c.lspec, &c.ls, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	log_debug("listening on port %u at %d address%s", c.ls.port, c.ls.n,
	    c.ls.n == 1 ? "" : "es");
	phase_mark("listening");
	c.ndns_plan = o->dns || o->nns_hosts > 0 ? dnscap_servers(o, c.dns_plan) : 0;
	if (dnscap_open(&c, o, c.dns_plan, c.ndns_plan, &c.fwcfg, &c.dns, err,
	    sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	/* Before the first session, once the port that may name it is known. */
	control_name_default(o->config, c.ls.port, name, sizeof(name));
	r = control_open(o->name != NULL ? o->name : name, &c.control, err, sizeof(err));
	if (r == CONTROL_E_LIVE) {
		log_error("%s", err);
		goto out;
	}
	if (r != 0)
		log_warn("%s: `cshuttle status` will not see this tunnel", err);
	c.fwcfg.block_leaks = !o->no_block_leaks;
	/* Everything that needs root at start exists: split here. */
	if (split) {
		memset(&ph, 0, sizeof(ph));
		ph.open = main_privsep_open;
		ph.up = main_privsep_up;
		ph.reload = main_privsep_reload;
		ph.parent = main_privsep_parent;
		ph.arg = &c;
		r = privsep_split(ps_uid, ps_gid, c.fw, &ph, &up, err, sizeof(err));
		if (r < 0) {
			log_error("%s", err);
			goto out;
		}
		if (r >= PRIVSEP_SPLIT_M) {
			rc = r - PRIVSEP_SPLIT_M;
			c.up = up;
			broker = true;
			goto out_main;
		}
		/* The sessions are root's opener's to open. */
		main_forget_password(c.boot);
	}
	memset(&opts, 0, sizeof(opts));
	opts.alive_interval_ms = o->alive_interval_ms;
	opts.alive_timeout_ms = o->alive_timeout_ms;
	if (split) {
		memset(&preq, 0, sizeof(preq));
		preq.alive_interval_ms = (uint32_t)o->alive_interval_ms;
		preq.alive_timeout_ms = (uint32_t)o->alive_timeout_ms;
		memcpy(preq.exempt, c.fwcfg.exempt, sizeof(preq.exempt));
		preq.nexempt = c.fwcfg.nexempt;
		t = privsep_open(&preq, NULL, &pres);
		fail = (enum transport_fail)pres.fail;
		snprintf(err, sizeof(err), "%s", pres.err);
	} else
		t = main_transport(o, &cfg, &opts, &fail, err, sizeof(err));
	if (t == NULL) {
		log_error("%s", err);
		if (fail == TRANSPORT_F_AUTH || fail == TRANSPORT_F_HOSTKEY)
			rc = CSHUTTLE_EXIT_REFUSED;
		goto out;
	}

	main_fwcfg(&c, o);
	c.fwcfg.subnets = &o->subnets;
	if (o->auto_nets && (c.autonets = calloc(1, sizeof(*c.autonets))) == NULL) {
		log_error("out of memory");
		goto out;
	}
	if (o->auto_hosts && (c.autohosts = calloc(1, sizeof(*c.autohosts))) == NULL) {
		log_error("out of memory");
		goto out;
	}
	if (split) {
		/* Worked out where the ssh configuration can be read. */
		memcpy(c.fwcfg.exempt, pres.exempt, sizeof(c.fwcfg.exempt));
		c.fwcfg.nexempt = pres.nexempt;
	} else
		exempt_ssh(&c.fwcfg, t, &cfg, o->ssh_config, false);
	if (c.fwcfg.prerouting)
		main_gateway(&c, o);

	memset(&tp, 0, sizeof(tp));
	tp.transport = t;
	t = NULL;	/* the tunnel's now */
	tp.listen = &c.ls;
	tp.fw = c.fw;
	tp.dns = c.dns;
	tp.to_ns = o->to_ns;
	tp.nto_ns = (size_t)o->nto_ns;
	tp.window = MUX_DEFAULT_WINDOW;
	tp.budget = o->buffer_budget;
	tp.max_streams = o->max_streams;
	tp.alive_interval_ms = o->alive_interval_ms;
	tp.alive_timeout_ms = o->alive_timeout_ms;
	tp.probe_timeout_ms = o->probe_timeout_ms;
	tp.resume_grace_s = o->resume_grace_s;
	tp.reconnect = !o->no_reconnect;
	tp.remote = o->remote != NULL ? o->remote : cfg.alias;
	tp.auto_nets = c.autonets != NULL;
	tp.hooks.routes = main_routes;
	tp.auto_hosts = c.autohosts != NULL;
	tp.seed_hosts = o->seed_hosts;
	tp.nseed_hosts = (size_t)o->nseed_hosts;
	tp.hooks.hosts = main_hosts;
	tp.hooks.ready = main_ready;
	tp.hooks.up = main_up;
	tp.hooks.prepare = main_prepare;
	tp.hooks.connect = main_connect;
	tp.hooks.exempt = main_exempt;
	tp.reload_fd = reload_fd(&c.reload);
	tp.control = c.control;
	tp.fwcfg = &c.fwcfg;
	tp.udp_fd = c.ls.udp_fd;
	tp.nudp = c.ls.nudp;
	tp.udp_timeout_s = o->udp_timeout_s;
	tp.max_udp_flows = o->max_udp_flows;
	tp.hooks.reload = reload_hup;
	tp.hooks.reload_done = reload_done;
	tp.hooks.arg = &c;
	end = tunnel_run(&tp, &stuck);
	/* A reload may be waiting for a name server: it gives up. */
	if (!reload_cancel(&c.reload, MAIN_RELOAD_GRACE_MS))
		stuck = true;
	rc = end == TUNNEL_END_SIGNAL ? CSHUTTLE_EXIT_OK :
	    end == TUNNEL_END_REFUSED ? CSHUTTLE_EXIT_REFUSED : CSHUTTLE_EXIT_FAIL;
out:
	if (c.up)
		notify_send("STOPPING=1");
out_main:
	/* Rules first: once the helper is gone nothing is redirected to
	 * listeners that are about to close. */
	fw_stop(c.fw);
	if (t != NULL)
		t->ops->free(t);
	dns_local_close(c.dns);
	listen_close(&c.ls);
	control_close(c.control);
	if (c.pid_written)
		pidfile_remove(c.pidfile, getpid());
	/* A start that failed: the -D parent says why, with our code (the
	 * tunnel's process, which knows the reason, has done so). */
	if (!c.up && !broker)
		daemon_failed(rc);
	sshcfg_free(&cfg);
	/* A worker that would not stop may still use what exit() tears
	 * down (libssh2, OpenSSL): leave without running exit handlers. */
	if (stuck)
		_exit(rc);
	reload_destroy(&c.reload);
	autonets_free(c.autonets);
	free(c.autonets);
	free(c.autohosts);
	/* What reloads left behind, then the options we started with. */
	if (c.dns_owner != NULL && c.dns_owner != o && c.dns_owner != c.live) {
		options_free(c.dns_owner);
		free(c.dns_owner);
	}
	if (c.live != NULL && c.live != o) {
		options_free(c.live);
		free(c.live);
	}
	options_free(o);
	free(o);
	pthread_mutex_destroy(&c.mu);
	return rc;
}
