/* SPDX-License-Identifier: ISC */
/*
 * control.c - the control socket in the event loop (control.h,
 * docs/CONTROL.md).
 *
 * Who may connect is decided twice: by the file system (a directory of
 * this user's that nobody else may write, the socket mode 0600) and by
 * the kernel's word on the peer (SO_PEERCRED: this user or root), so a
 * socket that a wrong mode or a bind mount exposes still answers nobody
 * else.
 *
 * A lock file beside the socket (NAME.lock, held for the process's life)
 * says whether the name is in use: a socket without a lock holder is
 * stale and replaced, which connecting to it could not tell reliably
 * (a tunnel between its bind() and listen() refuses connections too).
 *
 * Each connection gets the greeting, then one reply per request line,
 * in turn: no more input is read while a reply waits to be written, so
 * a connection holds at most one reply (CONTROL_PROTO_MAXREPLY) and
 * CONTROL_PROTO_MAXREQ bytes of input.  A connection that ends is freed
 * after the loop pass (control_collect()), never inside its callback.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "err.h"
#include "ev.h"
#include "log.h"
#include "queue.h"
#include "rate.h"
#include "sysdep.h"

#define CONTROL_BACKLOG		16
#define CONTROL_LOG_MS		10000

struct control_client {
	LIST_ENTRY(control_client) entry;
	struct control		*c;
	struct ev_io		 io;
	int			 fd;
	char			 in[CONTROL_PROTO_MAXREQ];
	size_t			 inlen;
	char			*out;		/* a reply being written, or NULL */
	size_t			 outoff, outlen;
	bool			 closing;	/* after out is written */
	bool			 dead;		/* freed by control_collect() */
	uint64_t		 last;		/* a request read or bytes written */
};

LIST_HEAD(control_clients, control_client);

struct control {
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char			 name[CONTROL_NAME_MAX + 1];
	int			 fd, lockfd;
	uid_t			 owner;		/* who opened it: a root run's data
						 * path runs as another user
						 * (privsep.h), still root's */
	dev_t			 dev;
	ino_t			 ino;
	struct ev_loop		*loop;
	struct ev_io		 lio;
	struct ev_timer		 tick;
	struct control_clients	 clients, dead;
	unsigned		 nclients;
	control_fill_fn		*fill;
	control_bytes_fn	*bytes;
	void			*arg;
	struct rate		 rate;
	uint64_t		 started;
	struct control_status	*st;		/* scratch for one reply */
	struct log_limit	 ll_peer, ll_full;
};

/* ---- where ---- */

/* An existing directory we may keep sockets in: ours, nobody else's to
 * write into, and not a symbolic link. */
static int
control_dir_check(const char *dir, char *err, size_t errlen)
{
	struct stat	st;

	if (lstat(dir, &st) == -1)
		return err_set(err, errlen, -1, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(err, errlen, -1, "%s: not a directory", dir);
	if (st.st_uid != geteuid())
		return err_set(err, errlen, -1, "%s: owned by another user (uid %u)", dir,
		    (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return err_set(err, errlen, -1, "%s: writable by group or others", dir);
	return 0;
}

int
control_dir(char *out, size_t outlen, bool create, char *err, size_t errlen)
{
	const char	*env = getenv(CONTROL_ENV_DIR), *xdg = getenv("XDG_RUNTIME_DIR");
	char		 user[64];
	struct stat	 st;
	int		 n;

	if (env != NULL && *env != '\0') {
		if (env[0] != '/')
			return err_set(err, errlen, -1, "$%s must be an absolute path",
			    CONTROL_ENV_DIR);
		n = snprintf(out, outlen, "%s", env);
	} else if (geteuid() == 0)
		n = snprintf(out, outlen, "%s", CONTROL_ROOT_DIR);
	else if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, outlen, "%s/cshuttle", xdg);
	else {
		/* No session manager told us (sudo, setpriv, cron): the
		 * user's runtime directory when it exists, as logind makes
		 * it, else one of our own in /tmp, as tmux does. */
		snprintf(user, sizeof(user), "/run/user/%u", (unsigned)geteuid());
		if (stat(user, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid())
			n = snprintf(out, outlen, "%s/cshuttle", user);
		else
			n = snprintf(out, outlen, "/tmp/cshuttle-%u", (unsigned)geteuid());
	}
	if (n < 0 || (size_t)n >= outlen)
		return err_set(err, errlen, -1, "the control directory's path is too long");
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	if (!create)
		return 0;
	if (mkdir(out, 0700) == -1 && errno != EEXIST)
		return err_set(err, errlen, -1, "cannot create %s: %s", out, strerror(errno));
	return control_dir_check(out, err, errlen);
}

void
control_name_default(const char *config, unsigned port, char *out, size_t outlen)
{
	const char	*base;
	size_t		 n;
	char		 name[CONTROL_NAME_MAX + 1];

	if (config != NULL) {
		base = strrchr(config, '/') != NULL ? strrchr(config, '/') + 1 : config;
		n = strlen(base);
		if (n > 5 && strcmp(base + n - 5, ".conf") == 0)
			n -= 5;
		if (n > 0 && n <= CONTROL_NAME_MAX) {
			memcpy(name, base, n);
			name[n] = '\0';
			if (control_proto_name_ok(name)) {
				snprintf(out, outlen, "%s", name);
				return;
			}
		}
	}
	snprintf(out, outlen, "%u", port);
}

/* ---- the socket ---- */

static int
control_bind(struct control *c, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	mode_t			old;
	int			r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, c->path, strlen(c->path) + 1);
	/* Mode 0600 from the start: no moment in which another user could
	 * connect.  Only this thread runs now (before the loop's worker). */
	old = umask(0177);
	r = bind(c->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r == -1 && errno == EADDRINUSE) {
		/* We hold the name's lock: whoever made this socket is gone. */
		if (unlink(c->path) == -1 && errno != ENOENT)
			return err_set(err, errlen, -1, "cannot remove the stale %s: %s",
			    c->path, strerror(errno));
		log_debug("replacing the stale control socket %s", c->path);
		old = umask(0177);
		r = bind(c->fd, (struct sockaddr *)&sun, sizeof(sun));
		umask(old);
	}
	if (r == -1)
		return err_set(err, errlen, -1, "cannot bind %s: %s", c->path, strerror(errno));
	return 0;
}

int
control_open(const char *name, struct control **out, char *err, size_t errlen)
{
	struct control	*c;
	struct stat	 st;
	char		 dir[sizeof(c->path)], lock[sizeof(c->path) + 8];
	int		 rc = -1, n;

	*out = NULL;
	if (!control_proto_name_ok(name))
		return err_set(err, errlen, -1, "\"%s\" is not a valid tunnel name", name);
	if (control_dir(dir, sizeof(dir), true, err, errlen) != 0)
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->st = malloc(sizeof(*c->st))) == NULL) {
		if (c != NULL)
			free(c);
		return err_set(err, errlen, -1, "out of memory");
	}
	c->fd = c->lockfd = -1;
	c->lio.fd = -1;
	LIST_INIT(&c->clients);
	LIST_INIT(&c->dead);
	rate_init(&c->rate);
	snprintf(c->name, sizeof(c->name), "%s", name);
	n = snprintf(c->path, sizeof(c->path), "%s/%s%s", dir, name, CONTROL_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(c->path)) {
		err_set(err, errlen, -1, "the control socket's path is too long (%s/%s%s)",
		    dir, name, CONTROL_SUFFIX);
		goto out;
	}
	c->owner = geteuid();
	snprintf(lock, sizeof(lock), "%s/%s.lock", dir, name);
	if ((c->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		err_set(err, errlen, -1, "cannot open %s: %s", lock, strerror(errno));
		goto out;
	}
	if (flock(c->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			rc = err_set(err, errlen, CONTROL_E_LIVE, "a tunnel named \"%s\" is "
			    "running already (%s): give this one another --name", name,
			    c->path);
			goto out;
		}
		err_set(err, errlen, -1, "cannot lock %s: %s", lock, strerror(errno));
		goto out;
	}
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		err_set(err, errlen, -1, "cannot create the control socket: %s",
		    strerror(errno));
		goto out;
	}
	if (control_bind(c, err, errlen) != 0)
		goto out;
	if (listen(c->fd, CONTROL_BACKLOG) == -1 || stat(c->path, &st) == -1) {
		err_set(err, errlen, -1, "cannot listen on %s: %s", c->path, strerror(errno));
		(void)unlink(c->path);
		goto out;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->started = ev_now();
	*out = c;
	c = NULL;	/* transferred */
	rc = 0;
out:
	if (c != NULL) {
		if (c->fd != -1)
			close(c->fd);
		if (c->lockfd != -1)
			close(c->lockfd);
		free(c->st);
		free(c);
	}
	return rc;
}

const char *
control_path(const struct control *c)
{
	return c->path;
}

/* ---- connections ---- */

static void
control_client_events(struct control_client *cl)
{
	/* One reply at a time: input waits while output does. */
	(void)ev_io_set(cl->c->loop, &cl->io, cl->out != NULL ? EV_WRITE : EV_READ);
}

static void
control_client_end(struct control_client *cl)
{
	struct control	*c = cl->c;

	if (cl->dead)
		return;
	cl->dead = true;
	/* Closed now: an event of this pass for the old io is skipped
	 * (ev.h), whatever a new connection's descriptor number is. */
	ev_io_del(c->loop, &cl->io);
	close(cl->fd);
	LIST_REMOVE(cl, entry);
	LIST_INSERT_HEAD(&c->dead, cl, entry);
	c->nclients--;
}

static void
control_client_free(struct control_client *cl)
{
	free(cl->out);
	free(cl);
}

/* Room for one reply (at most CONTROL_PROTO_MAXREPLY), freed once it is
 * written: an idle connection costs little. */
static int
control_client_room(struct control_client *cl)
{
	if (cl->out == NULL && (cl->out = malloc(CONTROL_PROTO_MAXREPLY)) == NULL)
		return -1;
	cl->outoff = cl->outlen = 0;
	return 0;
}

/* Queue a short reply (the greeting, an error line). */
static int
control_client_queue(struct control_client *cl, const char *p, size_t len)
{
	if (control_client_room(cl) != 0)
		return -1;
	memcpy(cl->out, p, len);
	cl->outlen = len;
	return 0;
}

static void
control_fill(struct control *c, struct control_status *st)
{
	uint64_t	in = 0, out = 0;

	memset(st, 0, sizeof(*st));
	if (c->fill != NULL)
		c->fill(c->arg, st);
	snprintf(st->name, sizeof(st->name), "%s", c->name);
	st->pid = (uint64_t)getpid();
	snprintf(st->version, sizeof(st->version), "%s", CSHUTTLE_VERSION);
	st->uptime_s = (ev_now() - c->started) / 1000;
	/* The newest sample first, so that a rate covers up to now. */
	if (c->bytes != NULL) {
		c->bytes(c->arg, &in, &out);
		rate_sample(&c->rate, ev_now(), in, out);
	}
	rate_get(&c->rate, ev_now(), &st->rate_in, &st->rate_out);
}

/* One request line: the reply is queued, or the connection ends. */
static void
control_client_request(struct control_client *cl, const char *line, size_t len)
{
	struct control	*c = cl->c;
	char		 buf[CONTROL_PROTO_MAXLINE];
	int		 r, n;

	r = control_proto_request(line, len);
	if (r == CONTROL_REQ_STATUS) {
		if (control_client_room(cl) != 0) {
			control_client_end(cl);
			return;
		}
		control_fill(c, c->st);
		if ((n = control_proto_format(c->st, cl->out, CONTROL_PROTO_MAXREPLY)) < 0) {
			/* A reply never outgrows the limit (control_proto.h). */
			log_debug("control: cannot format the status: %s",
			    control_proto_strerror(n));
			control_client_end(cl);
			return;
		}
		cl->outlen = (size_t)n;
		return;
	}
	/* Anything else ends the connection, after saying why. */
	n = control_proto_format_error(control_proto_strerror(r), buf, sizeof(buf));
	if (n < 0 || control_client_queue(cl, buf, (size_t)n) != 0) {
		control_client_end(cl);
		return;
	}
	cl->closing = true;
}

/* Handle the complete lines in cl->in, one at a time. */
static void
control_client_lines(struct control_client *cl)
{
	char	*nl;
	size_t	 used;

	while (cl->out == NULL && !cl->dead &&
	    (nl = memchr(cl->in, '\n', cl->inlen)) != NULL) {
		used = (size_t)(nl - cl->in) + 1;
		control_client_request(cl, cl->in, used - 1);
		memmove(cl->in, cl->in + used, cl->inlen - used);
		cl->inlen -= used;
	}
	if (cl->out == NULL && !cl->dead && cl->inlen == sizeof(cl->in))
		control_client_request(cl, cl->in, cl->inlen);	/* too long: refused */
}

static void
control_client_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct control_client	*cl = io->arg;
	ssize_t			 n;

	if (cl->out != NULL) {
		n = send(io->fd, cl->out + cl->outoff, cl->outlen - cl->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			control_client_end(cl);
			return;
		}
		cl->outoff += (size_t)n;
		cl->last = ev_now();
		if (cl->outoff < cl->outlen)
			return;
		if (cl->closing) {
			control_client_end(cl);
			return;
		}
		free(cl->out);
		cl->out = NULL;
		control_client_lines(cl);
	} else if (revents & (EV_READ | EV_HUP | EV_ERROR)) {
		n = recv(io->fd, cl->in + cl->inlen, sizeof(cl->in) - cl->inlen, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)) {
			control_client_end(cl);
			return;
		}
		if (n < 0)
			return;
		cl->inlen += (size_t)n;
		cl->last = ev_now();
		control_client_lines(cl);
	}
	if (!cl->dead)
		control_client_events(cl);
}

/* The user who opened it, or root; nobody else, whatever the file's
 * mode says. */
static bool
control_peer_ok(int fd, uid_t owner, uid_t *uid)
{
	struct ucred	cred;
	socklen_t	len = sizeof(cred);

	*uid = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    len != sizeof(cred))
		return false;
	*uid = cred.uid;
	return cred.uid == owner || cred.uid == 0;
}

static void
control_accept_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct control		*c = io->arg;
	struct control_client	*cl;
	char			 hello[64];
	uid_t			 uid;
	int			 fd, i, n;

	for (i = 0; i < CONTROL_BACKLOG; i++) {
		if ((fd = sysdep_accept(c->fd)) == -1)
			return;
		if (!control_peer_ok(fd, c->owner, &uid)) {
			log_limited(&c->ll_peer, CONTROL_LOG_MS, LOG_LVL_WARN,
			    "control: connection from uid %d refused", (int)uid);
			close(fd);
			continue;
		}
		if (c->nclients >= CONTROL_MAX_CLIENTS ||
		    (cl = calloc(1, sizeof(*cl))) == NULL) {
			log_limited(&c->ll_full, CONTROL_LOG_MS, LOG_LVL_DEBUG,
			    "control: %d connections already: closing a new one",
			    CONTROL_MAX_CLIENTS);
			n = control_proto_format_error("busy", hello, sizeof(hello));
			if (n > 0)
				(void)send(fd, hello, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		cl->c = c;
		cl->fd = fd;
		cl->io.fd = -1;
		cl->last = ev_now();
		n = control_proto_greeting(hello, sizeof(hello));
		if (n < 0 || control_client_queue(cl, hello, (size_t)n) != 0 ||
		    ev_io_add(loop, &cl->io, fd, EV_WRITE, control_client_cb, cl) != 0) {
			close(fd);
			free(cl->out);
			free(cl);
			continue;
		}
		LIST_INSERT_HEAD(&c->clients, cl, entry);
		c->nclients++;
	}
}

/* Once a second: a rate sample, and the connections that stalled. */
static void
control_tick_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	struct control		*c = tm->arg;
	struct control_client	*cl, *next;
	uint64_t		 now = ev_now(), in = 0, out = 0;

	if (c->bytes != NULL) {
		c->bytes(c->arg, &in, &out);
		rate_sample(&c->rate, now, in, out);
	}
	LIST_FOREACH_SAFE(cl, &c->clients, entry, next) {
		if (cl->out != NULL && now - cl->last >= CONTROL_STALL_MS) {
			log_debug("control: a client does not read its reply: dropped");
			control_client_end(cl);
		} else if (cl->out == NULL && now - cl->last >= CONTROL_IDLE_MS) {
			log_debug("control: an idle client dropped");
			control_client_end(cl);
		}
	}
	tm->when = now + CONTROL_TICK_MS;
	(void)ev_timer_add(loop, tm);
}

int
control_start(struct control *c, struct ev_loop *loop, control_fill_fn *fill,
    control_bytes_fn *bytes, void *arg)
{
	int	r;

	c->loop = loop;
	c->fill = fill;
	c->bytes = bytes;
	c->arg = arg;
	if ((r = ev_io_add(loop, &c->lio, c->fd, EV_READ, control_accept_cb, c)) != 0)
		return r;
	c->tick.cb = control_tick_cb;
	c->tick.arg = c;
	c->tick.when = ev_now() + CONTROL_TICK_MS;
	if ((r = ev_timer_add(loop, &c->tick)) != 0) {
		ev_io_del(loop, &c->lio);
		return r;
	}
	return 0;
}

void
control_collect(struct control *c)
{
	struct control_client	*cl;

	if (c == NULL)
		return;
	while ((cl = LIST_FIRST(&c->dead)) != NULL) {
		LIST_REMOVE(cl, entry);
		control_client_free(cl);
	}
}

void
control_stop(struct control *c)
{
	struct control_client	*cl;

	if (c == NULL || c->loop == NULL)
		return;
	while ((cl = LIST_FIRST(&c->clients)) != NULL)
		control_client_end(cl);
	control_collect(c);
	if (c->lio.fd != -1)
		ev_io_del(c->loop, &c->lio);
	ev_timer_del(c->loop, &c->tick);
	c->loop = NULL;
}

void
control_close(struct control *c)
{
	struct stat	st;

	if (c == NULL)
		return;
	control_stop(c);
	/* Another tunnel may have taken the name since (it can, once we
	 * no longer hold the lock; not before): remove only our own. */
	if (stat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
		(void)unlink(c->path);
	if (c->fd != -1)
		close(c->fd);
	if (c->lockfd != -1)
		close(c->lockfd);
	free(c->st);
	free(c);
}

void
control_detach(struct control *c)
{
	/* Never started here: no loop to leave.  The lock belongs to the
	 * open file, which the other process shares: it keeps it alone. */
	if (c == NULL)
		return;
	close(c->fd);
	close(c->lockfd);
	c->fd = c->lockfd = -1;
}
