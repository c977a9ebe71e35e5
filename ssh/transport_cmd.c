/* SPDX-License-Identifier: ISC */
/*
 * transport_cmd.c - the transport through an external command (`-e CMD`,
 * normally ssh), as sshuttle does it.
 *
 * The command gets one end of a socketpair as stdin and stdout (one
 * descriptor for the event loop, and shutdown() gives a clean half-close)
 * and a pipe as stderr.  ssh asks for passwords and host key confirmation
 * on /dev/tty, not on stderr, so capturing stderr costs no interaction;
 * it lets us relay it through the log and quote it when the bootstrap
 * fails (e.g. "Permission denied", or the login shell's "/bin/sh: not
 * found").
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bootstrap.h"
#include "clock.h"
#include "ev.h"
#include "log.h"
#include "phase.h"
#include "remote.h"
#include "sock.h"
#include "spawn.h"
#include "sysdep.h"
#include "transport.h"
#include "tty.h"
#include "words.h"

#define TCMD_BOOT_NOTTY_MS	60000	/* without a terminal nobody is typing */
#define TCMD_EXIT_WAIT_MS	1000	/* for the command to leave after EOF */
#define TCMD_TERM_WAIT_MS	2000	/* after SIGTERM, before SIGKILL */

struct tcmd {
	struct transport	 base;		/* first: the ops cast back to tcmd */
	int			 fd;		/* our end of the socketpair */
	int			 errfd;		/* the command's stderr, -1 at EOF */
	pid_t			 pid;		/* -1 once reaped */
	bool			 wblocked;
	bool			 booting;	/* until the stub runs */
	struct transport_abort	*abort;		/* while opening, else NULL */
	char			 name[64];	/* argv[0], for messages */
	struct bootstrap_remote	 rs;
};

/* Note how the command ended, once it has; block: wait for that. */
static void
tcmd_reap(struct tcmd *c, bool block)
{
	int	status;

	if (c->pid <= 0)
		return;
	if (block ? spawn_wait(c->pid, -1, &status) != 0 : spawn_poll(c->pid, &status) != 1)
		return;
	c->pid = -1;
	c->rs.ended = true;
	if (WIFEXITED(status))
		c->rs.exit_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status)) {
		c->rs.exit_status = -1;
		snprintf(c->rs.exit_signal, sizeof(c->rs.exit_signal), "%s",
		    sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
	}
}

static void
tcmd_drain_stderr(struct tcmd *c)
{
	char	buf[4096];
	ssize_t	n;

	while (c->errfd != -1) {
		n = read(c->errfd, buf, sizeof(buf));
		if (n > 0) {
			remote_lines_feed(&c->rs.err, buf, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		remote_lines_flush(&c->rs.err);
		close(c->errfd);
		c->errfd = -1;
	}
}

/* Wait (bounded) for the command to exit, relaying its stderr meanwhile. */
static void
tcmd_wait_exit(struct tcmd *c, int ms)
{
	int64_t	deadline = (int64_t)clock_ms() + ms;

	for (;;) {
		tcmd_drain_stderr(c);
		tcmd_reap(c, false);
		if (c->pid <= 0 || clock_remaining_ms(deadline) == 0)
			break;
		if (c->errfd != -1)
			(void)sock_wait(c->errfd, POLLIN, (int64_t)clock_ms() + 20);
		else
			usleep(20 * 1000);
	}
}

/* Cancelled while opening: nobody waits for a polite exit. */
static void
tcmd_abort_check(struct tcmd *c)
{
	if (c->abort != NULL && c->pid > 0 && transport_abort_fired(c->abort))
		kill(c->pid, SIGKILL);
}

static void
tcmd_describe_end(struct tcmd *c)
{
	const char	*line = c->rs.err.last;

	if (c->rs.exit_signal[0] != '\0')
		snprintf(c->base.errbuf, sizeof(c->base.errbuf), "%.40s was killed by signal %s%s%.150s",
		    c->name, c->rs.exit_signal, line[0] ? ": " : "", line);
	else if (c->rs.ended)
		snprintf(c->base.errbuf, sizeof(c->base.errbuf), "%.40s exited with status %d%s%.150s",
		    c->name, c->rs.exit_status, line[0] ? ": " : "", line);
	else
		snprintf(c->base.errbuf, sizeof(c->base.errbuf), "%s closed its output", c->name);
}

static ssize_t
tcmd_read(struct transport *t, void *buf, size_t len)
{
	struct tcmd	*c = (struct tcmd *)t;
	ssize_t		 n;

	for (;;) {
		n = recv(c->fd, buf, len, 0);
		/*
		 * The bootstrap's first line may still be unread when the
		 * command ends (a remote without /bin/sh): the socketpair
		 * then reports a reset, which means no more than the end.
		 */
		if (n == -1 && errno == ECONNRESET && c->booting)
			n = 0;
		if (n > 0)
			return n;
		if (n == 0) {
			tcmd_abort_check(c);
			tcmd_wait_exit(c, TCMD_EXIT_WAIT_MS);
			tcmd_describe_end(c);
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return TRANSPORT_AGAIN;
		snprintf(t->errbuf, sizeof(t->errbuf), "read from %s: %s", c->name, strerror(errno));
		return TRANSPORT_ERR;
	}
}

static ssize_t
tcmd_write(struct transport *t, const void *buf, size_t len)
{
	struct tcmd	*c = (struct tcmd *)t;
	ssize_t		 n;

	if (len > TRANSPORT_MAX_WRITE)
		len = TRANSPORT_MAX_WRITE;
	for (;;) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0) {
			c->wblocked = false;
			return n > 0 ? n : TRANSPORT_AGAIN;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			c->wblocked = true;
			return TRANSPORT_AGAIN;
		}
		if (errno == EPIPE || errno == ECONNRESET) {
			tcmd_abort_check(c);
			tcmd_wait_exit(c, TCMD_EXIT_WAIT_MS);
			tcmd_describe_end(c);
		} else
			snprintf(t->errbuf, sizeof(t->errbuf), "write to %s: %s", c->name,
			    strerror(errno));
		return TRANSPORT_ERR;
	}
}

static int
tcmd_fd(struct transport *t)
{
	return ((struct tcmd *)t)->fd;
}

static uint32_t
tcmd_events(struct transport *t)
{
	return EV_READ | (((struct tcmd *)t)->wblocked ? EV_WRITE : 0);
}

static void
tcmd_service(struct transport *t)
{
	struct tcmd	*c = (struct tcmd *)t;

	tcmd_drain_stderr(c);
	tcmd_reap(c, false);
}

static void
tcmd_free(struct transport *t)
{
	struct tcmd	*c = (struct tcmd *)t;

	if (c == NULL)
		return;
	/* EOF on its stdin lets ssh end the session itself (the stub exits
	 * when its input ends); only then signals. */
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->pid > 0) {
		tcmd_wait_exit(c, TCMD_EXIT_WAIT_MS);
		if (c->pid > 0) {
			kill(c->pid, SIGTERM);
			tcmd_wait_exit(c, TCMD_TERM_WAIT_MS);
		}
		if (c->pid > 0) {
			kill(c->pid, SIGKILL);
			tcmd_reap(c, true);
		}
	}
	tcmd_drain_stderr(c);
	remote_lines_flush(&c->rs.err);
	if (c->errfd != -1)
		close(c->errfd);
	free(c);
}

static const struct transport_ops tcmd_ops = {
	.read = tcmd_read,
	.write = tcmd_write,
	.fd = tcmd_fd,
	.events = tcmd_events,
	.service = tcmd_service,
	.free = tcmd_free,
};

/* Does the user's command already set this ssh option (-o Key=..., -oKey ...)? */
static bool
tcmd_sets(char **words, int nwords, const char *key)
{
	size_t	klen = strlen(key);
	int	i;

	for (i = 1; i < nwords; i++) {
		const char *w = words[i];

		if (strncmp(w, "-o", 2) == 0 && w[2] != '\0')
			w += 2;
		else if (strcmp(w, "-o") == 0 && i + 1 < nwords)
			w = words[++i];
		else
			continue;
		while (*w == ' ' || *w == '\t')
			w++;
		if (strncasecmp(w, key, klen) == 0 &&
		    (w[klen] == '=' || w[klen] == ' ' || w[klen] == '\t'))
			return true;
	}
	return false;
}

/*
 * argv for the command: CMD words [-o ServerAlive...] [-o BatchMode=yes]
 * [-F file] [-l user] [-p port] -- host remote-command
 */
static char **
tcmd_argv(const char *cmd, const char *remote, const char *config_file,
    const struct transport_open_opts *o, char *err, size_t errlen)
{
	char	**words = NULL, **argv = NULL;
	char	  user[256], host[256], port[16], opt[64];
	int	  nwords, n = 0, i, ival, cnt;

	if (remote_split(remote, user, sizeof(user), host, sizeof(host), port, sizeof(port),
	    err, errlen) != 0)
		return NULL;
	if (words_split(cmd, &words, &nwords, err, errlen) != 0)
		return NULL;
	if ((argv = calloc((size_t)nwords + 16, sizeof(*argv))) == NULL)
		goto nomem;
#define TCMD_ADD(s) do { if ((argv[n++] = strdup(s)) == NULL) goto nomem; } while (0)
	/*
	 * ssh notices a dead server by itself after --alive-timeout (it
	 * exits, and we see the session end), unless the user's command
	 * says otherwise.  ssh takes the first value it gets, so these come
	 * after the user's words; the check keeps the command line honest.
	 */
	if (o->alive_interval_ms > 0 && o->alive_timeout_ms > 0) {
		ival = o->alive_interval_ms < 1000 ? 1 : o->alive_interval_ms / 1000;
		cnt = (o->alive_timeout_ms + ival * 1000 - 1) / (ival * 1000);
		if (cnt < 1)
			cnt = 1;
		if (!tcmd_sets(words, nwords, "ServerAliveInterval")) {
			snprintf(opt, sizeof(opt), "ServerAliveInterval=%d", ival);
			TCMD_ADD("-o");
			TCMD_ADD(opt);
		}
		if (!tcmd_sets(words, nwords, "ServerAliveCountMax")) {
			snprintf(opt, sizeof(opt), "ServerAliveCountMax=%d", cnt);
			TCMD_ADD("-o");
			TCMD_ADD(opt);
		}
	}
	/* A reconnect happens unattended: ssh must not wait for a password. */
	if (o->batch && !tcmd_sets(words, nwords, "BatchMode")) {
		TCMD_ADD("-o");
		TCMD_ADD("BatchMode=yes");
	}
	/* The user's words first: argv[0] is the command. */
	memmove(argv + nwords, argv, (size_t)n * sizeof(*argv));
	for (i = 0; i < nwords; i++) {
		argv[i] = words[i];
		words[i] = NULL;	/* transferred */
	}
	n += nwords;
	if (config_file != NULL) {
		TCMD_ADD("-F");
		TCMD_ADD(config_file);
	}
	if (user[0] != '\0') {
		TCMD_ADD("-l");
		TCMD_ADD(user);
	}
	if (port[0] != '\0') {
		TCMD_ADD("-p");
		TCMD_ADD(port);
	}
	/* "--": the host and the remote command are never taken as options
	 * (options.c refuses a -r starting with '-' for commands that do
	 * not take it). */
	if (!o->no_cmd_delimiter)
		TCMD_ADD("--");
	TCMD_ADD(host);
	TCMD_ADD(bootstrap_command());
#undef TCMD_ADD
	argv[n] = NULL;
	words_free(words);
	return argv;
nomem:
	snprintf(err, errlen, "out of memory");
	words_free(words);
	words_free(argv);
	return NULL;
}

/* Classify an ssh failure (exit status 255) from what it printed last. */
static enum transport_fail
tcmd_ssh_failure(const struct tcmd *c)
{
	const char	*l = c->rs.err.last;

	if (strstr(l, "Permission denied") != NULL || strstr(l, "Too many authentication") != NULL)
		return TRANSPORT_F_AUTH;
	if (strstr(l, "Host key verification failed") != NULL ||
	    strstr(l, "host key") != NULL || strstr(l, "HOST IDENTIFICATION") != NULL)
		return TRANSPORT_F_HOSTKEY;
	return TRANSPORT_F_CONNECT;
}

/*
 * glibc's malloc gives a large block its own mapping until its dynamic
 * threshold has grown past it: OpenSSH's ssh, whose channel and packet
 * buffers grow and shrink by megabytes, then maps and faults them in
 * anew for much of the first 100 MiB of a session (40,727 minor faults
 * against none once warm: docs/PERFORMANCE.md, "Cold first transfer").
 * A fixed threshold from the start, as cshuttle sets its own, unless the
 * user has set GLIBC_TUNABLES; other C libraries ignore the variable.
 * (A high trim threshold as well took the faults from 29,000 to 3,000
 * but kept 7 MiB more resident in ssh for no faster transfer.)
 */
#define TCMD_TUNABLES	"GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4194304"

/* Our environment and TCMD_TUNABLES, for the command; NULL when the
 * user set GLIBC_TUNABLES (the command gets ours as it is) or out of
 * memory.  Free the array alone. */
static const char **
tcmd_env(void)
{
	const char	**env;
	size_t		  n = 0, i;

	if (getenv("GLIBC_TUNABLES") != NULL)
		return NULL;
	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		env[i] = environ[i];
	env[n] = TCMD_TUNABLES;
	return env;
}

/*
 * Start the command with one end of a socketpair as its stdin and stdout
 * and a pipe as its stderr; our ends go to c, non-blocking.
 */
static pid_t
tcmd_spawn(struct tcmd *c, char **argv, char *err, size_t errlen)
{
	struct spawn_opts	o;
	const char		**env;
	pid_t			pid;
	int			sv[2] = { -1, -1 }, ep[2] = { -1, -1 };

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "cannot create pipes: %s", strerror(errno));
		return -1;
	}
	if (sysdep_pipe(ep, 0) == -1) {
		snprintf(err, errlen, "cannot create pipes: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	spawn_opts_init(&o);
	o.argv = (const char *const *)argv;
	o.fd[0] = o.fd[1] = sv[1];
	o.fd[2] = ep[1];
	env = tcmd_env();
	o.envp = env;
	pid = spawn_start(&o, err, errlen);
	free(env);
	close(sv[1]);
	close(ep[1]);
	if (pid == -1) {
		close(sv[0]);
		close(ep[0]);
		return -1;
	}
	c->fd = sv[0];
	c->errfd = ep[0];
	(void)sock_set_nonblock(c->fd);
	(void)sock_set_nonblock(c->errfd);
	return pid;
}

struct transport *
transport_cmd_open(const char *cmd, const char *remote, const char *config_file,
    const struct transport_open_opts *opts, enum transport_fail *fail, char *err,
    size_t errlen)
{
	static const struct transport_open_opts defaults;
	const struct transport_open_opts *o = opts != NULL ? opts : &defaults;
	struct tcmd	*c = NULL;
	char		**argv = NULL;
	int		  i;
	bool		  watched = false;

	*fail = TRANSPORT_F_CONNECT;
	/* ssh takes no password from us; said once, at the first start. */
	if (o->password != NULL && !o->batch)
		log_warn("the password in -r is for the built-in client only: %s asks for "
		    "it itself", cmd);
	if ((argv = tcmd_argv(cmd, remote, config_file, o, err, errlen)) == NULL)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	c->base.ops = &tcmd_ops;
	c->base.name = "ssh command";
	c->fd = c->errfd = -1;
	c->pid = -1;
	c->booting = true;
	snprintf(c->name, sizeof(c->name), "%s", argv[0]);
	bootstrap_remote_init(&c->rs);

	if (log_enabled(LOG_LVL_DEBUG)) {
		char	line[512];
		size_t	off = 0;

		/* The last word is the bootstrap script: not worth a log line. */
		line[0] = '\0';
		for (i = 0; argv[i + 1] != NULL && off < sizeof(line); i++)
			off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s",
			    i ? " " : "", argv[i]);
		log_debug("running %s <bootstrap>", line);
	}
	phase_mark("ssh to run");
	if ((c->pid = tcmd_spawn(c, argv, err, errlen)) == -1)
		goto fail;
	/* A cancel shuts our end down: the bootstrap sees the end at once,
	 * and tcmd_free() makes ssh go. */
	if (o->abort != NULL) {
		if (transport_abort_watch(o->abort, c->fd) != 0) {
			snprintf(err, errlen, "cancelled");
			goto fail;
		}
		watched = true;
		c->abort = o->abort;
	}

	if (bootstrap_run(&c->base, &c->rs, o, !o->batch && tty_can_prompt() ? -1 :
	    TCMD_BOOT_NOTTY_MS, fail, err, errlen) != 0) {
		if (c->rs.echo) {
			snprintf(err, errlen, "the remote echoes what it is sent: is -e "
			    "running ssh?");
			goto fail;
		}
		tcmd_service(&c->base);
		/*
		 * ssh's own failures (255: it lost or never had the
		 * connection) are sorted below.  A remote command that
		 * ended with a status of its own did so over a working
		 * connection: that is about the remote.  The rest by what
		 * the bootstrap says.
		 */
		if (!(c->rs.ended && c->rs.exit_status >= 0 && c->rs.exit_status != 255))
			*fail = transport_boot_fail_kind(*fail, err, false);
		if (c->rs.ended && c->rs.exit_status == 255) {
			*fail = tcmd_ssh_failure(c);
			snprintf(err, errlen, "%s failed (exit status 255)%s%s%s%s%s", c->name,
			    c->rs.err.last[0] ? ": " : "", c->rs.err.last,
			    *fail == TRANSPORT_F_HOSTKEY && c->rs.err.fingerprint[0] ?
			    " (the server's key is " : "",
			    *fail == TRANSPORT_F_HOSTKEY ? c->rs.err.fingerprint : "",
			    *fail == TRANSPORT_F_HOSTKEY && c->rs.err.fingerprint[0] ? ")" : "");
		}
		goto fail;
	}
	if (watched)
		transport_abort_unwatch(o->abort);
	c->abort = NULL;
	c->booting = false;
	*fail = TRANSPORT_F_NONE;
	words_free(argv);
	return &c->base;
fail:
	if (watched) {
		transport_abort_unwatch(o->abort);
		if (transport_abort_fired(o->abort)) {
			snprintf(err, errlen, "cancelled");
			tcmd_abort_check(c);
		}
	}
	words_free(argv);
	tcmd_free(c ? &c->base : NULL);
	return NULL;
}

int
transport_cmd_release(struct transport *t, int *fd, int *errfd, pid_t *pid)
{
	struct tcmd	*c = (struct tcmd *)t;

	if (t == NULL || t->ops != &tcmd_ops)
		return -1;
	*fd = c->fd;
	*errfd = c->errfd;
	*pid = c->pid;
	remote_lines_flush(&c->rs.err);
	free(c);
	return 0;
}

struct transport *
transport_cmd_adopt(int fd, int errfd, const char *name)
{
	struct tcmd	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base.ops = &tcmd_ops;
	c->base.name = name;
	c->fd = fd;
	c->errfd = errfd;
	c->pid = -1;	/* not ours: whoever started it waits for it */
	snprintf(c->name, sizeof(c->name), "%s", name);
	bootstrap_remote_init(&c->rs);
	return &c->base;
}
