/* SPDX-License-Identifier: ISC */
/*
 * transport_ssh2.c - the built-in transport: libssh2 in this process.
 *
 * Setup (connect, handshake, host key, authentication (ssh2_auth.c),
 * channel, exec) runs in libssh2's blocking mode bounded by
 * libssh2_session_set_timeout(); the bootstrap and the data phase run
 * non-blocking.
 *
 * Data phase rules (libssh2 1.10; docs/ARCHITECTURE.md, "Transports",
 * gives the outline, these are the details):
 * - Only one packet may be half sent per session: the call that left it
 *   must be repeated before anything else is sent.  A channel write that
 *   returned EAGAIN with the OUTBOUND block direction has done that; so
 *   has a read whose WINDOW_ADJUST went out partly.  Any other send in
 *   between fails in libssh2 with BAD_USE, and a failed WINDOW_ADJUST
 *   leaves libssh2's window accounting different from the server's (data
 *   dropped, or sshd refusing the channel).  So while a write is half
 *   sent, read() and stderr draining wait; while a read's adjustment is
 *   half sent, write() first completes it by reading.  Keepalives wait
 *   for both.  A write that found the window full has nothing on the
 *   wire and does not block reads: the stub may be waiting for us to read.
 * - All reads ask libssh2 for the same length (see ssh2_chan_read()).
 * - libssh2_channel_write() returning 0 means "window full".
 * - 0 from libssh2_channel_read() is EOF only when libssh2_channel_eof().
 * - Every call may leave inbound data queued inside libssh2 (or in our
 *   read-ahead buffer) while the socket is no longer readable: callers
 *   read until TRANSPORT_AGAIN after writing (client/tunnel_session.c does).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>

#include "addr.h"
#include "bootstrap.h"
#include "clock.h"
#include "dns_resolve.h"
#include "ev.h"
#include "hostkey.h"
#include "log.h"
#include "phase.h"
#include "remote.h"
#include "sock.h"
#include "ssh2_auth.h"
#include "sshconfig.h"
#include "transport.h"

#define SSH2_DEFAULT_TIMEOUT_S	30
#define SSH2_MAX_ADDRS		8
/*
 * Our receive window: what sshd may send before we read it.  Not more:
 * when this side is the slower one (libssh2's decryption is bound to one
 * core), whatever the window allows piles up in sshd, and with 16 MiB
 * there sshd itself went to 94 % of a core and downloads to a trickle in
 * one fresh session of three (docs/PERFORMANCE.md).  8 MiB is 160 MB/s
 * at 50 ms, above what the decryption does.
 */
#define SSH2_WINDOW		(8U * 1024 * 1024)
#define SSH2_PACKET		32768
#define SSH2_READ_LEN		32768	/* every channel read asks for this much */
#define SSH2_KEEPALIVE_S	30
#define SSH2_CLOSE_WAIT_MS	1000

struct tssh {
	struct transport	 base;		/* first: the ops cast back */
	int			 fd;
	LIBSSH2_SESSION		*s;
	LIBSSH2_CHANNEL		*ch;
	bool			 wpartial;	/* a channel write is half on the wire */
	bool			 rpartial;	/* a read's WINDOW_ADJUST is half sent */
	bool			 dead;		/* the connection failed */
	bool			 closed;	/* the server closed the channel */
	int64_t			 last_send;	/* for keepalives */
	char			 host[300];	/* for messages */
	struct bootstrap_remote	 rs;
	char			 rbuf[SSH2_READ_LEN];	/* stdout read ahead of the caller */
	size_t			 roff, rlen;
	char			 ebuf[SSH2_READ_LEN];	/* stderr */
};

static void
ssh2_lasterr(struct tssh *t, char *out, size_t outlen)
{
	char	*msg = NULL;
	int	 len = 0;

	if (t->s == NULL || libssh2_session_last_error(t->s, &msg, &len, 0) == 0 || msg == NULL)
		snprintf(out, outlen, "unknown error");
	else
		snprintf(out, outlen, "%s", msg);
}

/* ---- data phase ---- */

static void
ssh2_fatal(struct tssh *t, const char *what, int rc)
{
	char	msg[200];

	ssh2_lasterr(t, msg, sizeof(msg));
	snprintf(t->base.errbuf, sizeof(t->base.errbuf), "%s %.64s: %.120s (%d)", what,
	    t->host, msg, rc);
	t->dead = true;
}

/*
 * Every read on the channel, stdout or stderr, goes through here with
 * the same length.  libssh2 1.10 sizes a window adjustment from the read
 * length; when the WINDOW_ADJUST packet is only partly sent (EAGAIN) the
 * next read resends the packet built the first time but credits its own
 * window with an amount computed from the new length.  Different lengths
 * make libssh2's idea of the window drift from the server's: data dropped
 * as "beyond the window", or a negative adjustment that sshd rejects.
 * A constant length keeps both amounts equal.
 */
static ssize_t
ssh2_chan_read(struct tssh *t, int stream, char *buf)
{
	ssize_t	n;

	n = libssh2_channel_read_ex(t->ch, stream, buf, SSH2_READ_LEN);
	if (n == LIBSSH2_ERROR_EAGAIN)
		t->rpartial = (libssh2_session_block_directions(t->s) &
		    LIBSSH2_SESSION_BLOCK_OUTBOUND) != 0;
	else
		t->rpartial = false;
	return n;
}

/* Record how the remote command ended, once the channel is closed. */
static void
ssh2_note_exit(struct tssh *t)
{
	char	*sig = NULL;
	size_t	 siglen = 0;

	if (t->closed)
		return;
	t->closed = true;
	t->rs.ended = true;
	if (libssh2_channel_get_exit_signal(t->ch, &sig, &siglen, NULL, NULL, NULL, NULL) == 0 &&
	    sig != NULL && siglen > 0) {
		snprintf(t->rs.exit_signal, sizeof(t->rs.exit_signal), "%.*s", (int)siglen, sig);
		t->rs.exit_status = -1;
	} else
		t->rs.exit_status = libssh2_channel_get_exit_status(t->ch);
	if (sig != NULL)
		libssh2_free(t->s, sig);
}

static void
ssh2_drain_stderr(struct tssh *t)
{
	ssize_t	n;

	if (t->dead || t->wpartial)
		return;
	while ((n = ssh2_chan_read(t, SSH_EXTENDED_DATA_STDERR, t->ebuf)) > 0)
		remote_lines_feed(&t->rs.err, t->ebuf, (size_t)n);
}

/* Non-blocking: notice the channel's close (and exit status) after EOF. */
static void
ssh2_poll_close(struct tssh *t)
{
	if (t->dead || t->wpartial || t->rpartial || t->closed || !libssh2_channel_eof(t->ch))
		return;
	if (libssh2_channel_wait_closed(t->ch) == 0)
		ssh2_note_exit(t);
}

static void
ssh2_describe_end(struct tssh *t)
{
	int64_t	deadline = (int64_t)clock_ms() + SSH2_CLOSE_WAIT_MS;
	char	*b = t->base.errbuf;
	size_t	 bl = sizeof(t->base.errbuf);

	/* The exit status follows EOF closely; the session is over anyway,
	 * so a short wait for it costs nothing and explains the end. */
	while (!t->closed && !t->dead && clock_remaining_ms(deadline) > 0) {
		ssh2_drain_stderr(t);
		ssh2_poll_close(t);
		if (!t->closed)
			(void)sock_wait(t->fd, POLLIN, (int64_t)clock_ms() + 20 < deadline ?
			    (int64_t)clock_ms() + 20 : deadline);
	}
	ssh2_drain_stderr(t);
	remote_lines_flush(&t->rs.err);
	if (t->rs.exit_signal[0] != '\0')
		snprintf(b, bl, "the remote stub was killed by signal %s", t->rs.exit_signal);
	else if (t->closed)
		snprintf(b, bl, "the remote stub exited with status %d", t->rs.exit_status);
	else
		snprintf(b, bl, "the remote end closed the channel");
}

static ssize_t
ssh2_read(struct transport *tr, void *buf, size_t len)
{
	struct tssh	*t = (struct tssh *)tr;
	ssize_t		 n;
	bool		 direct;

	if (t->dead)
		return TRANSPORT_ERR;
	if (t->roff < t->rlen) {
		n = (ssize_t)(t->rlen - t->roff < len ? t->rlen - t->roff : len);
		memcpy(buf, t->rbuf + t->roff, (size_t)n);
		t->roff += (size_t)n;
		return n;
	}
	if (t->wpartial)
		return TRANSPORT_AGAIN;
	/* Large reads go straight into the caller's buffer. */
	direct = len >= SSH2_READ_LEN;
	n = ssh2_chan_read(t, 0, direct ? buf : t->rbuf);
	if (n > 0) {
		if (direct)
			return n;
		t->rlen = (size_t)n;
		t->roff = 0;
		return ssh2_read(tr, buf, len);
	}
	if (n == LIBSSH2_ERROR_EAGAIN)
		return TRANSPORT_AGAIN;
	if (n == 0) {
		if (!libssh2_channel_eof(t->ch))
			return TRANSPORT_AGAIN;	/* only stderr or nothing yet */
		ssh2_describe_end(t);
		return 0;
	}
	ssh2_fatal(t, "reading from", (int)n);
	return TRANSPORT_ERR;
}

static ssize_t
ssh2_write(struct transport *tr, const void *buf, size_t len)
{
	struct tssh	*t = (struct tssh *)tr;
	ssize_t		 n;

	if (t->dead)
		return TRANSPORT_ERR;
	/* A read left a WINDOW_ADJUST half sent: finish it first (the read
	 * buffer is empty whenever that happens). */
	if (t->rpartial) {
		n = ssh2_chan_read(t, 0, t->rbuf);
		if (n > 0) {
			t->rlen = (size_t)n;
			t->roff = 0;
		} else if (n != LIBSSH2_ERROR_EAGAIN && n != 0) {
			ssh2_fatal(t, "reading from", (int)n);
			return TRANSPORT_ERR;
		}
		if (t->rpartial)
			return TRANSPORT_AGAIN;
	}
	if (len > TRANSPORT_MAX_WRITE)
		len = TRANSPORT_MAX_WRITE;
	n = libssh2_channel_write(t->ch, buf, len);
	if (n > 0) {
		t->wpartial = false;
		t->last_send = (int64_t)clock_ms();
		return n;
	}
	if (n == 0 || n == LIBSSH2_ERROR_EAGAIN) {
		t->wpartial = n == LIBSSH2_ERROR_EAGAIN &&
		    (libssh2_session_block_directions(t->s) & LIBSSH2_SESSION_BLOCK_OUTBOUND);
		return TRANSPORT_AGAIN;
	}
	t->wpartial = false;
	ssh2_fatal(t, "writing to", (int)n);
	return TRANSPORT_ERR;
}

static int
ssh2_fd(struct transport *tr)
{
	return ((struct tssh *)tr)->fd;
}

static uint32_t
ssh2_events(struct transport *tr)
{
	struct tssh	*t = (struct tssh *)tr;
	int		 d;
	uint32_t	 ev = 0;

	/* A half-sent packet must finish before anything is read, and
	 * libssh2 leaves a stale "blocked inbound" beside it: waiting for
	 * input then would wake at every arriving byte without progress. */
	if (t->wpartial || t->rpartial)
		return EV_WRITE;
	d = libssh2_session_block_directions(t->s);

	if (d & LIBSSH2_SESSION_BLOCK_INBOUND)
		ev |= EV_READ;
	if (d & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		ev |= EV_WRITE;
	return ev != 0 ? ev : EV_READ;
}

static void
ssh2_service(struct transport *tr)
{
	struct tssh	*t = (struct tssh *)tr;
	int		 next = 0;

	if (t->dead || t->wpartial)
		return;
	ssh2_drain_stderr(t);
	ssh2_poll_close(t);
	if (t->rpartial)
		return;
	/*
	 * Keepalives keep NAT and firewall state alive on an idle link (the
	 * mux's ping detects dead peers).  libssh2_keepalive_send() ignores
	 * EAGAIN and would then leave a half-sent packet of its own that
	 * breaks the next channel write, so only send one when the link has
	 * been idle and the socket has room.
	 */
	if ((int64_t)clock_ms() - t->last_send >= SSH2_KEEPALIVE_S * 1000 &&
	    sock_wait(t->fd, POLLOUT, 0) > 0) {
		(void)libssh2_keepalive_send(t->s, &next);
		t->last_send = (int64_t)clock_ms();
	}
}

static void
ssh2_free(struct transport *tr)
{
	struct tssh	*t = (struct tssh *)tr;

	if (t == NULL)
		return;
	if (t->s != NULL) {
		/* A dead socket can make libssh2's goodbyes block or spin:
		 * shut it down first so they fail at once.  With a half-sent
		 * packet nothing else may be sent either. */
		if (t->dead || t->wpartial || t->rpartial)
			shutdown(t->fd, SHUT_RDWR);
		libssh2_session_set_blocking(t->s, 1);
		libssh2_session_set_timeout(t->s, SSH2_CLOSE_WAIT_MS);
		if (t->ch != NULL) {
			if (!t->dead && !t->wpartial && !t->rpartial) {
				(void)libssh2_channel_send_eof(t->ch);
				(void)libssh2_channel_close(t->ch);
			}
			libssh2_channel_free(t->ch);
		}
		if (!t->dead && !t->wpartial && !t->rpartial)
			(void)libssh2_session_disconnect(t->s, "cshuttle: closing");
		libssh2_session_free(t->s);
	}
	if (t->fd != -1)
		close(t->fd);
	remote_lines_flush(&t->rs.err);
	free(t);
}

static const struct transport_ops ssh2_ops = {
	.read = ssh2_read,
	.write = ssh2_write,
	.fd = ssh2_fd,
	.events = ssh2_events,
	.service = ssh2_service,
	.free = ssh2_free,
};

/* ---- connecting ---- */

static void
ssh2_sockopts(int fd, const struct transport_open_opts *o)
{
	int	one = 1, idle = 60, intvl = 15, cnt = 4;
	unsigned int utimeout = 120 * 1000;

	/*
	 * Keepalive probes after --alive-interval of silence, every interval,
	 * giving up after --alive-timeout; and unacknowledged data for
	 * --alive-timeout ends the connection (TCP_USER_TIMEOUT also covers
	 * a link that died while we were sending, which keepalive does not).
	 */
	if (o->alive_interval_ms > 0 && o->alive_timeout_ms > 0) {
		idle = intvl = o->alive_interval_ms < 1000 ? 1 : o->alive_interval_ms / 1000;
		cnt = (o->alive_timeout_ms + intvl * 1000 - 1) / (intvl * 1000);
		if (cnt < 1)
			cnt = 1;
		utimeout = (unsigned int)o->alive_timeout_ms;
	}
	/* Interactive traffic rides on this connection.  Socket buffers are
	 * left to the kernel's autotuning: setting them would cap them at
	 * net.core.{r,w}mem_max, usually far below what autotuning reaches. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &utimeout, sizeof(utimeout));
}

static int
ssh2_connect(struct tssh *t, const struct sshcfg *cfg, const struct transport_open_opts *o,
    int timeout_ms, char *addrstr, size_t addrlen, char *err, size_t errlen)
{
	struct addr		 a[SSH2_MAX_ADDRS];
	struct addr		 peer;
	struct sockaddr_storage	 ss;
	socklen_t		 slen, elen;
	char			 derr[160], last[200] = "no address";
	size_t			 n = 0, i;
	int			 fd, r, soerr;

	if ((r = dns_resolve(cfg->hostname, AF_UNSPEC, timeout_ms, a, SSH2_MAX_ADDRS, &n,
	    derr, sizeof(derr))) != 0 || n == 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", cfg->hostname, derr);
		return -1;
	}
	for (i = 0; i < n; i++) {
		peer = a[i];
		peer.port = (uint16_t)cfg->port;
		slen = addr_to_sockaddr(&peer, &ss);
		addr_format(&peer, false, addrstr, addrlen);
		log_debug("connecting to %s port %d", addrstr, cfg->port);
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1) {
			snprintf(last, sizeof(last), "%s: %s", addrstr, strerror(errno));
			continue;
		}
		/* From here on a cancel shuts this socket down. */
		if (o->abort != NULL && transport_abort_watch(o->abort, fd) != 0) {
			close(fd);
			snprintf(err, errlen, "cancelled");
			return -1;
		}
		soerr = 0;
		if (connect(fd, (struct sockaddr *)&ss, slen) == -1) {
			if (errno != EINPROGRESS)
				soerr = errno;
			else if ((r = sock_wait(fd, POLLOUT, (int64_t)clock_ms() + timeout_ms)) == 0)
				soerr = ETIMEDOUT;
			else if (r < 0)
				soerr = errno;
			else {
				elen = sizeof(soerr);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) == -1)
					soerr = errno;
			}
		}
		if (soerr != 0) {
			snprintf(last, sizeof(last), "%s: %s", addrstr, strerror(soerr));
			log_debug("connect to %s port %d: %s", addrstr, cfg->port, strerror(soerr));
			if (o->abort != NULL)
				transport_abort_unwatch(o->abort);
			close(fd);
			if (o->abort != NULL && transport_abort_fired(o->abort)) {
				snprintf(err, errlen, "cancelled");
				return -1;
			}
			continue;
		}
		ssh2_sockopts(fd, o);
		t->base.peer = peer;
		return fd;
	}
	snprintf(err, errlen, "cannot connect to %s port %d (%s)", cfg->hostname, cfg->port, last);
	return -1;
}

/* ---- open ---- */

static int	ssh2_init_status = -1;

static void
ssh2_init_once(void)
{
	ssh2_init_status = libssh2_init(0);
}

/* Once per process, whichever thread opens first (reconnects open in a
 * worker thread). */
static int
ssh2_global_init(void)
{
	static pthread_once_t	once = PTHREAD_ONCE_INIT;

	(void)pthread_once(&once, ssh2_init_once);
	return ssh2_init_status == 0 ? 0 : -1;
}

/* Did the last libssh2 call fail because the connection itself failed?
 * An authentication or host key step that dies with the link is a network
 * problem, worth a retry, not a verdict on the keys. */
static bool
ssh2_link_failed(struct tssh *t)
{
	int	e;

	if (t->s == NULL)
		return true;
	e = libssh2_session_last_errno(t->s);
	return e == LIBSSH2_ERROR_SOCKET_SEND || e == LIBSSH2_ERROR_SOCKET_RECV ||
	    e == LIBSSH2_ERROR_SOCKET_DISCONNECT || e == LIBSSH2_ERROR_TIMEOUT ||
	    e == LIBSSH2_ERROR_SOCKET_TIMEOUT || e == LIBSSH2_ERROR_BANNER_RECV;
}

struct transport *
transport_ssh2_open(const struct sshcfg *cfg, const struct transport_open_opts *opts,
    enum transport_fail *fail, char *err, size_t errlen)
{
	static const struct transport_open_opts defaults;
	const struct transport_open_opts *o = opts != NULL ? opts : &defaults;
	struct tssh	*t = NULL;
	char		 addr[ADDR_STRLEN], msg[200];
	int		 timeout_ms, r;

	*fail = TRANSPORT_F_CONNECT;
	if (cfg->proxy_jump != NULL || cfg->proxy_command != NULL) {
		snprintf(err, errlen, "the built-in transport cannot use %s: use `-e ssh`",
		    cfg->proxy_jump != NULL ? "ProxyJump" : "ProxyCommand");
		return NULL;
	}
	if (cfg->hostname == NULL || cfg->user == NULL || cfg->port < 1 || cfg->port > 65535) {
		snprintf(err, errlen, "incomplete ssh configuration for the remote host");
		return NULL;
	}
	if (ssh2_global_init() != 0) {
		snprintf(err, errlen, "cannot initialise libssh2");
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->base.ops = &ssh2_ops;
	t->base.name = "libssh2";
	t->fd = -1;
	bootstrap_remote_init(&t->rs);
	snprintf(t->host, sizeof(t->host), "%s", cfg->hostname);
	timeout_ms = 1000 * (cfg->connect_timeout > 0 ? cfg->connect_timeout :
	    SSH2_DEFAULT_TIMEOUT_S);

	if ((t->fd = ssh2_connect(t, cfg, o, timeout_ms, addr, sizeof(addr), err, errlen)) == -1)
		goto fail;
	phase_mark("TCP connection to %s port %d", addr, cfg->port);
	if ((t->s = libssh2_session_init_ex(NULL, NULL, NULL, t)) == NULL) {
		snprintf(err, errlen, "cannot create an SSH session");
		goto fail;
	}
	libssh2_session_set_blocking(t->s, 1);
	libssh2_session_set_timeout(t->s, timeout_ms);
	(void)libssh2_session_banner_set(t->s, "SSH-2.0-cshuttle_" CSHUTTLE_VERSION);
	hostkey_prefer(t->s, cfg);
	if ((r = libssh2_session_handshake(t->s, t->fd)) != 0) {
		ssh2_lasterr(t, msg, sizeof(msg));
		snprintf(err, errlen, "SSH handshake with %s (%s port %d) failed: %s",
		    cfg->hostname, addr, cfg->port, msg);
		t->dead = true;
		goto fail;
	}
	phase_mark("SSH handshake");
	if (hostkey_verify(t->s, cfg, addr, o->batch, err, errlen) != 0) {
		*fail = TRANSPORT_F_HOSTKEY;
		goto fail;
	}
	if ((r = ssh2_auth_run(t->s, cfg, o, err, errlen)) != 0) {
		/* A refused password is a verdict, even if the server hangs
		 * up on us after it (MaxAuthTries). */
		*fail = r != SSH2_AUTH_REFUSED && ssh2_link_failed(t) ? TRANSPORT_F_CONNECT :
		    TRANSPORT_F_AUTH;
		goto fail;
	}
	log_debug("authenticated to %s as %s", cfg->hostname, cfg->user);
	phase_mark("authenticated");

	*fail = TRANSPORT_F_REMOTE;
	t->ch = libssh2_channel_open_ex(t->s, "session", sizeof("session") - 1,
	    SSH2_WINDOW, SSH2_PACKET, NULL, 0);
	if (t->ch == NULL) {
		ssh2_lasterr(t, msg, sizeof(msg));
		snprintf(err, errlen, "cannot open a session channel on %s: %s", cfg->hostname,
		    msg);
		if (ssh2_link_failed(t))
			*fail = TRANSPORT_F_CONNECT;
		goto fail;
	}
	if (libssh2_channel_exec(t->ch, bootstrap_command()) != 0) {
		ssh2_lasterr(t, msg, sizeof(msg));
		snprintf(err, errlen, "%s refused to run the bootstrap command: %s",
		    cfg->hostname, msg);
		if (ssh2_link_failed(t))
			*fail = TRANSPORT_F_CONNECT;
		goto fail;
	}
	libssh2_session_set_blocking(t->s, 0);
	libssh2_keepalive_config(t->s, 0, SSH2_KEEPALIVE_S);
	t->last_send = (int64_t)clock_ms();
	if (bootstrap_run(&t->base, &t->rs, o, BOOTSTRAP_TIMEOUT_MS, fail, err, errlen) != 0) {
		if (t->rs.echo) {
			snprintf(err, errlen, "the remote echoes what it is sent: does "
			    "%s force a command (ForceCommand, command= in "
			    "authorized_keys)?", cfg->hostname);
			goto fail;
		}
		/* A remote command that ended with a status of its own did
		 * so over a working connection: that is about the remote. */
		if (t->dead || !(t->rs.ended && t->rs.exit_status >= 0))
			*fail = transport_boot_fail_kind(*fail, err, t->dead);
		goto fail;
	}
	/* The caller owns the descriptor now: no cancel may touch it. */
	if (o->abort != NULL)
		transport_abort_unwatch(o->abort);
	*fail = TRANSPORT_F_NONE;
	return &t->base;
fail:
	if (o->abort != NULL) {
		transport_abort_unwatch(o->abort);
		if (transport_abort_fired(o->abort))
			snprintf(err, errlen, "cancelled");
	}
	ssh2_free(t ? &t->base : NULL);
	return NULL;
}
