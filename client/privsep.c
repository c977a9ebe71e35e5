/* SPDX-License-Identifier: ISC */
/*
 * privsep.c - the two sides of a root run and the broker between them
 * (privsep.h).
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "exitcode.h"
#include "fw.h"
#include "log.h"
#include "notify.h"
#include "privsep.h"
#include "sock.h"
#include "spawn.h"
#include "transport.h"

#define PRIVSEP_RELAY_BUF	(128 * 1024)	/* towards the remote, and each
						 * read from it, in the relay */
#define PRIVSEP_RELAY_DOWN_MAX	(64 * 1024 * 1024)	/* from the remote */
#define PRIVSEP_SEND_TIMEOUT_MS	5000	/* M writing a reply D does not read */
#define PRIVSEP_OPENED_MAX	1024	/* an OPENED message, with room */
#define PRIVSEP_CHILDREN_MAX	4	/* openers, relays, reload readers */
#define PRIVSEP_RELOAD_MAX_S	60	/* a reload reader's whole life */
#define PRIVSEP_REAP_MS		2000	/* children's time to end after D */

/* D's end of the channel; -1 in M and in runs without separation. */
static int	privsep_fd = -1;
static bool	privsep_fallback_said = true;

/* ---- the user ---- */

int
privsep_user(const char *name, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd	*pw;
	char		*end;
	unsigned long	 id;
	bool		 fallback = false;

	if (name != NULL && (strcmp(name, "root") == 0 || strcmp(name, "none") == 0))
		return 1;
	if (name == NULL) {
		if ((pw = getpwnam(PRIVSEP_DEFAULT_USER)) == NULL) {
			fallback = true;
			pw = getpwnam(PRIVSEP_FALLBACK_USER);
		}
		if (pw == NULL) {
			snprintf(err, errlen, "neither %s nor %s exists: name the user "
			    "for the tunnel with --privsep-user", PRIVSEP_DEFAULT_USER,
			    PRIVSEP_FALLBACK_USER);
			return -1;
		}
	} else if ((pw = getpwnam(name)) == NULL) {
		errno = 0;
		id = strtoul(name, &end, 10);
		if (*name < '0' || *name > '9' || *end != '\0' || errno != 0 ||
		    id >= 0xffffffffUL) {
			snprintf(err, errlen, "--privsep-user \"%s\": no such user", name);
			return -1;
		}
		if (id == 0)
			return 1;
		*uid = (uid_t)id;
		*gid = (gid_t)id;
		return 0;
	}
	if (pw->pw_uid == 0)
		return 1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return fallback ? 2 : 0;
}

/* The fallback's warning waits for the first session (privsep_up()):
 * a start that fails says one line, its error. */
void
privsep_warn(int how, const char *name)
{
	if (how == 1)
		log_warn("--privsep-user %s: the whole tunnel runs as root", name);
	else if (how == 2)
		privsep_fallback_said = false;
	else
		privsep_fallback_said = true;
}

static void
privsep_warn_fallback(void)
{
	if (privsep_fallback_said)
		return;
	privsep_fallback_said = true;
	log_warn("there is no user %s: the tunnel runs as %s (create it with "
	    "`useradd --system --no-create-home --shell /usr/sbin/nologin %s`)",
	    PRIVSEP_DEFAULT_USER, PRIVSEP_FALLBACK_USER, PRIVSEP_DEFAULT_USER);
}

/*
 * The terminal stays root's.  A root opener asks for passwords and
 * passphrases on it, so whoever drops must keep no way to read it: its
 * standard input becomes /dev/null, a terminal on standard output or
 * error is reopened for writing only (possible as root alone: the
 * terminal is root's), and a session of its own leaves it no controlling
 * terminal, so neither /dev/tty nor TIOCSTI reaches root's.
 */
static int
privsep_untty(char *err, size_t errlen)
{
	char	path[32];
	int	fd, i;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    dup2(fd, STDIN_FILENO) == -1) {
		snprintf(err, errlen, "/dev/null: %s", strerror(errno));
		return -1;
	}
	close(fd);
	for (i = STDOUT_FILENO; i <= STDERR_FILENO; i++) {
		if (!isatty(i))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", i);
		if ((fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)) == -1)
			fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd == -1 || dup2(fd, i) == -1) {
			snprintf(err, errlen, "cannot reopen descriptor %d: %s", i,
			    strerror(errno));
			return -1;
		}
		close(fd);
	}
	if (setsid() == -1) {
		snprintf(err, errlen, "setsid: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* No capability left in any set, whatever securebits came from above. */
static bool
privsep_no_caps(void)
{
	struct __user_cap_header_struct	hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct	data[_LINUX_CAPABILITY_U32S_3];
	int				i;

	if (syscall(SYS_capget, &hdr, data) != 0)
		return false;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective != 0 || data[i].permitted != 0 ||
		    data[i].inheritable != 0)
			return false;
	return true;
}

int
privsep_drop(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	uid_t	ru, eu, su;
	gid_t	rg, eg, sg;

	if (privsep_untty(err, errlen) != 0)
		return -1;
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		snprintf(err, errlen, "cannot become uid %lu: %s",
		    (unsigned long)uid, strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	/* The kernel does this on the uid change unless fs.suid_dumpable
	 * is 1: then another process of the user could read this one's
	 * memory (a relay's session keys) through ptrace or /proc. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Trust, but verify: a drop that half worked is worse than none. */
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid || setuid(0) != -1 || !privsep_no_caps()) {
		snprintf(err, errlen, "dropping to uid %lu did not hold",
		    (unsigned long)uid);
		return -1;
	}
	return 0;
}

/* ---- sending and receiving, with descriptors ---- */

static int
privsep_send(int fd, const void *buf, size_t len, const int *fds, int nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct cmsghdr	*c;
	ssize_t		 n;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	/* The rest of a long message on a stream socket, without fds. */
	while ((size_t)n < len) {
		ssize_t	m = send(fd, (const char *)buf + n, len - (size_t)n, MSG_NOSIGNAL);

		if (m == -1 && errno == EINTR)
			continue;
		if (m <= 0)
			return -1;
		n += m;
	}
	return 0;
}

/* One recvmsg: bytes into buf, descriptors appended to fds (at most
 * maxfds; more are closed).  What recvmsg returned. */
static ssize_t
privsep_recv(int fd, void *buf, size_t len, int *fds, int *nfds, int maxfds,
    bool *trunc)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct cmsghdr	*c;
	ssize_t		 n;
	size_t		 i, k;
	int		 got;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	*trunc = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < maxfds)
				fds[(*nfds)++] = got;
			else
				close(got);
		}
	}
	return n;
}

static void
privsep_close_fds(int *fds, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * Read one whole length-prefixed message of at most max bytes from a
 * stream socket, collecting descriptors.  Its length, or -1.
 */
static long
privsep_read_msg(int fd, uint8_t **out, size_t max, int *fds, int *nfds,
    int maxfds)
{
	uint8_t	*buf = NULL;
	size_t	 have = 0, want = PRIVSEP_HDR_LEN;
	long	 len;
	ssize_t	 n;
	bool	 trunc;

	*out = NULL;
	if ((buf = malloc(PRIVSEP_HDR_LEN)) == NULL)
		return -1;
	while (have < want) {
		n = privsep_recv(fd, buf + have, want - have, fds, nfds, maxfds,
		    &trunc);
		if (n <= 0)
			goto fail;
		have += (size_t)n;
		if (have == PRIVSEP_HDR_LEN && want == PRIVSEP_HDR_LEN) {
			if ((len = privsep_msg_len(buf, have, max)) <= 0)
				goto fail;
			want = (size_t)len;
			if (want > have) {
				uint8_t	*nb = realloc(buf, want);

				if (nb == NULL)
					goto fail;
				buf = nb;
			}
		}
	}
	*out = buf;
	return (long)want;
 fail:
	free(buf);
	return -1;
}

/* ---- D ---- */

bool
privsep_active(void)
{
	return privsep_fd >= 0;
}

static void
privsep_request(const uint8_t *msg, int len, int fd)
{
	if (len < 0 || privsep_send(privsep_fd, msg, (size_t)len, &fd,
	    fd >= 0 ? 1 : 0) != 0)
		log_debug("privsep: cannot reach the main process: %s",
		    strerror(errno));
}

/* The main process passes on printable text only (a STATUS may quote
 * the remote): control characters become blanks, lines stay lines. */
static void
privsep_notify(const char *text)
{
	uint8_t	msg[PRIVSEP_REQ_MAX];
	char	clean[PRIVSEP_NOTIFY_MAX + 1];
	size_t	i;

	snprintf(clean, sizeof(clean), "%s", text);
	for (i = 0; clean[i] != '\0'; i++)
		if (((unsigned char)clean[i] < 0x20 && clean[i] != '\n') ||
		    clean[i] == 0x7f)
			clean[i] = ' ';
	privsep_request(msg, privsep_build_notify(msg, sizeof(msg), clean), -1);
}

void
privsep_up(void)
{
	uint8_t	msg[PRIVSEP_HDR_LEN];

	privsep_warn_fallback();
	privsep_request(msg, privsep_build_simple(msg, sizeof(msg), PRIVSEP_UP), -1);
}

/* A socketpair whose one end goes to M with the request; the other. */
static int
privsep_ask(const uint8_t *msg, int len)
{
	int	sv[2];

	if (len < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if (privsep_send(privsep_fd, msg, (size_t)len, &sv[1], 1) != 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	return sv[0];
}

struct transport *
privsep_open(const struct privsep_open *req, struct transport_abort *abort,
    struct privsep_opened *res)
{
	struct transport	*t = NULL;
	uint8_t			 msg[PRIVSEP_REQ_MAX], *reply = NULL;
	char			 err[256];
	long			 len;
	int			 s, fds[2], nfds = 0;

	memset(res, 0, sizeof(*res));
	res->result = PRIVSEP_RES_FAIL;
	res->fail = TRANSPORT_F_CONNECT;
	if ((s = privsep_ask(msg, privsep_build_open(msg, sizeof(msg), req))) == -1) {
		snprintf(res->err, sizeof(res->err), "cannot ask the main process "
		    "for a session: %s", strerror(errno));
		return NULL;
	}
	if (abort != NULL && transport_abort_watch(abort, s) != 0) {
		snprintf(res->err, sizeof(res->err), "cancelled");
		goto cancel;
	}
	len = privsep_read_msg(s, &reply, PRIVSEP_OPENED_MAX, fds, &nfds, 2);
	if (abort != NULL)
		transport_abort_unwatch(abort);
	if (abort != NULL && transport_abort_fired(abort)) {
		snprintf(res->err, sizeof(res->err), "cancelled");
		goto cancel;
	}
	if (len < 0) {
		snprintf(res->err, sizeof(res->err), "the privileged process "
		    "opening the session ended without an answer");
		goto out;
	}
	if (privsep_parse_opened(reply, (size_t)len, res, err, sizeof(err)) != 0) {
		memset(res, 0, sizeof(*res));
		res->result = PRIVSEP_RES_FAIL;
		res->fail = TRANSPORT_F_CONNECT;
		snprintf(res->err, sizeof(res->err), "%s", err);
		goto out;
	}
	if (res->result != PRIVSEP_RES_OK)
		goto out;
	if (nfds < 1 || (res->kind == PRIVSEP_KIND_RELAY && nfds != 1)) {
		res->result = PRIVSEP_RES_FAIL;
		res->fail = TRANSPORT_F_CONNECT;
		snprintf(res->err, sizeof(res->err), "privsep: a session without "
		    "its descriptors");
		goto out;
	}
	if (sock_set_nonblock(fds[0]) != 0 || (nfds == 2 &&
	    sock_set_nonblock(fds[1]) != 0) ||
	    (t = transport_cmd_adopt(fds[0], nfds == 2 ? fds[1] : -1,
	    res->kind == PRIVSEP_KIND_RELAY ? "libssh2" : "ssh command")) == NULL) {
		res->result = PRIVSEP_RES_FAIL;
		snprintf(res->err, sizeof(res->err), "out of memory");
		goto out;
	}
	nfds = 0;	/* transferred */
	t->peer = res->peer;
	goto out;
 cancel:
	{
		uint8_t	c[PRIVSEP_HDR_LEN];

		privsep_request(c, privsep_build_simple(c, sizeof(c),
		    PRIVSEP_CANCEL), -1);
	}
 out:
	privsep_close_fds(fds, nfds);
	free(reply);
	close(s);
	return t;
}

int
privsep_reload_files(struct filecheck_files *f, char *err, size_t errlen)
{
	uint8_t	 msg[PRIVSEP_HDR_LEN], *reply = NULL;
	long	 len;
	int	 s, fds[1], nfds = 0, r = -1;

	memset(f, 0, sizeof(*f));
	if ((s = privsep_ask(msg, privsep_build_simple(msg, sizeof(msg),
	    PRIVSEP_RELOAD))) == -1) {
		snprintf(err, errlen, "cannot ask the main process for the "
		    "configuration: %s", strerror(errno));
		return -1;
	}
	if ((len = privsep_read_msg(s, &reply, PRIVSEP_FILES_BYTES, fds, &nfds,
	    0)) < 0)
		snprintf(err, errlen, "the main process did not send the "
		    "configuration");
	else
		r = privsep_parse_files(reply, (size_t)len, f, err, errlen);
	free(reply);
	close(s);
	return r;
}

/* ---- M's children: opening a transport ---- */

/*
 * Copy bytes between the libssh2 channel and D's socket until either
 * ends.  Towards the remote, a write that would block is repeated with
 * the same pointer and length (transport.h), so that buffer is only
 * compacted when no write is pending.  From the remote, reading goes on
 * while D does not read (into a buffer bounded by
 * PRIVSEP_RELAY_DOWN_MAX): libssh2 takes the window adjustments a
 * blocked write waits for from the same input, and D may be waiting for
 * that write to finish before it reads again.  What the remote may send
 * is bounded by the credit D granted anyway.
 */
static void
privsep_relay(struct transport *t, int s)
{
	struct buf	 down;		/* remote -> D */
	uint8_t		*up, *p;	/* D -> remote */
	size_t		 uoff = 0, ulen = 0, upend = 0;
	bool		 t_eof = false, s_eof = false, moved, busy = false;
	struct pollfd	 pfd[2];
	uint32_t	 ev;
	ssize_t		 n;

	buf_init(&down, PRIVSEP_RELAY_DOWN_MAX);
	if ((up = malloc(PRIVSEP_RELAY_BUF)) == NULL || sock_set_nonblock(s) != 0)
		goto out;
	for (;;) {
		moved = false;
		t->ops->service(t);
		if (!t_eof && (p = buf_reserve(&down, PRIVSEP_RELAY_BUF)) != NULL) {
			n = transport_read(t, p, PRIVSEP_RELAY_BUF);
			if (n > 0) {
				buf_commit(&down, (size_t)n);
				moved = true;
			} else if (n == 0 || n == TRANSPORT_ERR) {
				if (n == TRANSPORT_ERR)
					log_debug("relay: %s", transport_error(t));
				t_eof = true;
			}
		}
		if (buf_len(&down) > 0) {
			n = send(s, buf_ptr(&down), buf_len(&down), MSG_NOSIGNAL);
			if (n > 0) {
				buf_consume(&down, (size_t)n);
				moved = true;
			} else if (n == -1 && errno != EAGAIN && errno != EINTR)
				break;
		}
		if (t_eof && buf_len(&down) == 0)
			break;
		if (!s_eof && uoff + ulen < PRIVSEP_RELAY_BUF) {
			n = recv(s, up + uoff + ulen, PRIVSEP_RELAY_BUF - uoff - ulen, 0);
			if (n > 0) {
				ulen += (size_t)n;
				moved = true;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				s_eof = true;
		}
		if (ulen > 0) {
			if (upend == 0)
				upend = ulen < TRANSPORT_MAX_WRITE ? ulen :
				    TRANSPORT_MAX_WRITE;
			n = transport_write(t, up + uoff, upend);
			if (n > 0) {
				uoff += (size_t)n;
				ulen -= (size_t)n;
				upend = 0;
				moved = true;
			} else if (n == TRANSPORT_ERR)
				break;
		}
		if (ulen == 0 && upend == 0)
			uoff = 0;
		else if (upend == 0 && uoff > PRIVSEP_RELAY_BUF / 2) {
			memmove(up, up + uoff, ulen);
			uoff = 0;
		}
		if (s_eof && ulen == 0)
			break;
		if (moved) {
			busy = true;
			continue;
		}
		ev = t->ops->events(t);
		pfd[0].fd = t->ops->fd(t);
		pfd[0].events = (short)(((ev & EV_READ) && buf_room(&down) >=
		    PRIVSEP_RELAY_BUF ? POLLIN : 0) | ((ev & EV_WRITE) ? POLLOUT : 0));
		pfd[1].fd = s;
		pfd[1].events = (short)((!s_eof ? POLLIN : 0) |
		    (buf_len(&down) > 0 ? POLLOUT : 0));
		/*
		 * A second without traffic after some: libssh2 takes a
		 * buffer per packet, and a burst that queued a window's worth
		 * leaves the heap that large (small blocks, under the mmap
		 * threshold) until handed back here.
		 */
		if (poll(pfd, 2, 1000) == 0 && busy) {
			(void)malloc_trim(0);
			busy = false;
		}
	}
 out:
	free(up);
	buf_free(&down);
}

/* The child of M that opens one transport for D and hands it over. */
static void
privsep_open_child(const struct privsep_hooks *h, const struct privsep_open *req,
    int reply, uid_t uid, gid_t gid)
{
	struct privsep_opened	 res;
	struct transport	*t;
	uint8_t			 msg[PRIVSEP_OPENED_MAX];
	char			 err[256];
	pid_t			 pid;
	int			 fds[2], nfds = 0, len, sp[2] = { -1, -1 };

	memset(&res, 0, sizeof(res));
	t = h->open(h->arg, req, &res);
	if (t == NULL && res.result == PRIVSEP_RES_OK)
		res.result = PRIVSEP_RES_FAIL;
	if (t != NULL) {
		res.result = PRIVSEP_RES_OK;
		res.peer = t->peer;
		if (transport_cmd_release(t, &fds[0], &fds[1], &pid) == 0) {
			res.kind = PRIVSEP_KIND_CMD;
			nfds = fds[1] >= 0 ? 2 : 1;
			t = NULL;
		} else {
			res.kind = PRIVSEP_KIND_RELAY;
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
				_exit(CSHUTTLE_EXIT_FAIL);
			fds[0] = sp[1];
			nfds = 1;
		}
	}
	if ((len = privsep_build_opened(msg, sizeof(msg), &res)) < 0 ||
	    privsep_send(reply, msg, (size_t)len, fds, nfds) != 0)
		_exit(CSHUTTLE_EXIT_FAIL);
	close(reply);
	privsep_close_fds(fds, nfds);
	if (res.result != PRIVSEP_RES_OK)
		_exit(CSHUTTLE_EXIT_OK);
	/* Root's part is over: what is left reads what the remote sends. */
	if (privsep_drop(uid, gid, err, sizeof(err)) != 0) {
		log_error("%s", err);
		_exit(CSHUTTLE_EXIT_FAIL);
	}
	if (t == NULL) {
		/* ssh lives on, D talks to it: wait for it to end. */
		(void)spawn_wait(pid, -1, NULL);
		_exit(CSHUTTLE_EXIT_OK);
	}
	privsep_relay(t, sp[0]);
	t->ops->free(t);
	_exit(CSHUTTLE_EXIT_OK);
}

/* ---- M ---- */

struct privsep_parent {
	const struct privsep_hooks *h;
	int		 fd;		/* the channel to D */
	pid_t		 d;		/* D, until reaped */
	int		 dstatus;
	pid_t		 opener;	/* the last open's child, or -1 */
	pid_t		 children[PRIVSEP_CHILDREN_MAX];	/* openers, relays,
							 * reload readers; 0: free */
	uid_t		 uid;
	gid_t		 gid;
	sigset_t	 orig;		/* the mask before the split */
	int		 sigfd;
	bool		 up;
};

/*
 * Signal a child that has dropped to the unprivileged user.  Root may do
 * that only with CAP_KILL, which the unit's bounding set leaves out; a
 * signal sent with the child's user as our effective uid needs no
 * capability (kill(2)), and the one that allows the switch, CAP_SETUID,
 * is there for the drop anyway.
 */
static void
privsep_kill(const struct privsep_parent *m, pid_t pid, int sig)
{
	if (kill(pid, sig) == 0 || errno != EPERM)
		return;
	if (seteuid(m->uid) != 0)
		return;
	(void)kill(pid, sig);
	if (seteuid(0) != 0)
		fatal("cannot return to uid 0 after signalling process %ld", (long)pid);
}

/* A malformed or unexpected request: D is not what it should be. */
static void
privsep_bad(struct privsep_parent *m, const char *why)
{
	log_error("the unprivileged process: %s: stopping it", why);
	if (m->d > 0)
		privsep_kill(m, m->d, SIGKILL);
}

/*
 * A free slot for one more child doing D's bidding, or NULL: D opens one
 * session at a time, and the previous opener may still run as the relay
 * (or ssh's waiter) of a session D just let go, but a D that asks for
 * more cannot make root fork without end.
 */
static pid_t *
privsep_child_slot(struct privsep_parent *m)
{
	size_t	i;

	for (i = 0; i < PRIVSEP_CHILDREN_MAX; i++)
		if (m->children[i] == 0)
			return &m->children[i];
	return NULL;
}

/* Fork a child for a request of D's; in the child, 0 (with M's channel
 * and signal descriptor closed), in M the pid or -1. */
static pid_t
privsep_fork(struct privsep_parent *m, const char *what)
{
	pid_t	*slot, pid;

	if ((slot = privsep_child_slot(m)) == NULL) {
		log_warn("the unprivileged process asks for a %s while %d are "
		    "running: refused", what, PRIVSEP_CHILDREN_MAX);
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(m->sigfd);
		close(m->fd);
		(void)sigprocmask(SIG_SETMASK, &m->orig, NULL);
		return 0;
	}
	*slot = pid;
	return pid;
}

static void
privsep_do_open(struct privsep_parent *m, const struct privsep_open *req,
    int reply)
{
	pid_t	pid;

	/* On failure D sees the end of the reply: a failed open. */
	if ((pid = privsep_fork(m, "session")) == -1)
		return;
	if (pid == 0) {
		privsep_open_child(m->h, req, reply, m->uid, m->gid);
		_exit(CSHUTTLE_EXIT_FAIL);
	}
	m->opener = pid;
}

static void
privsep_do_reload(struct privsep_parent *m, int reply)
{
	struct filecheck_files	*f;
	struct timeval		 tv;
	uint8_t			*msg = NULL;
	long			 len;

	/* In a child: a D that reads its reply slowly stalls that child,
	 * never M's signals, reaping and watchdog. */
	if (privsep_fork(m, "reload") != 0)
		return;
	alarm(PRIVSEP_RELOAD_MAX_S);
	if ((f = calloc(1, sizeof(*f))) == NULL)
		_exit(CSHUTTLE_EXIT_FAIL);
	m->h->reload(m->h->arg, f);
	tv.tv_sec = PRIVSEP_SEND_TIMEOUT_MS / 1000;
	tv.tv_usec = 0;
	(void)setsockopt(reply, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (f->overflow)
		log_error("reload: more than %d files to read", FILECHECK_FILES_MAX);
	else if ((len = privsep_build_files(f, &msg)) < 0)
		log_error("reload: the files read are too large to pass on");
	else if (privsep_send(reply, msg, (size_t)len, NULL, 0) != 0)
		log_error("reload: cannot pass the files on: %s", strerror(errno));
	free(msg);
	filecheck_files_clear(f);
	free(f);
	_exit(CSHUTTLE_EXIT_OK);
}

static void
privsep_request_in(struct privsep_parent *m)
{
	struct privsep_req	*q;
	uint8_t			 buf[PRIVSEP_REQ_MAX + 1];
	char			 err[256];
	ssize_t			 n;
	int			 fds[1], nfds = 0;
	bool			 trunc;

	n = privsep_recv(m->fd, buf, sizeof(buf), fds, &nfds, 1, &trunc);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* D is leaving: its exit status says the rest. */
		close(m->fd);
		m->fd = -1;
		return;
	}
	if ((q = malloc(sizeof(*q))) == NULL) {
		privsep_close_fds(fds, nfds);
		return;
	}
	if (trunc || privsep_parse_req(buf, (size_t)n, q, err, sizeof(err)) != 0) {
		privsep_bad(m, trunc ? "an oversized request" : err);
		goto out;
	}
	if ((q->type == PRIVSEP_OPEN || q->type == PRIVSEP_RELOAD) != (nfds == 1)) {
		privsep_bad(m, "a request with the wrong descriptors");
		goto out;
	}
	switch (q->type) {
	case PRIVSEP_NOTIFY:
		notify_send("%s", q->notify);
		break;
	case PRIVSEP_UP:
		if (!m->up) {
			m->up = true;
			m->h->up(m->h->arg);
		}
		break;
	case PRIVSEP_OPEN:
		privsep_do_open(m, &q->open, fds[0]);
		break;
	case PRIVSEP_CANCEL:
		if (m->opener > 0)
			privsep_kill(m, m->opener, SIGKILL);
		break;
	case PRIVSEP_RELOAD:
		privsep_do_reload(m, fds[0]);
		break;
	default:
		privsep_bad(m, "a request for the other side");
		break;
	}
 out:
	privsep_close_fds(fds, nfds);
	free(q);
}

static void
privsep_signal_in(struct privsep_parent *m)
{
	struct signalfd_siginfo	si;
	pid_t			pid;
	size_t			i;
	int			status;

	while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo != SIGCHLD) {
			if (m->d > 0)
				privsep_kill(m, m->d, (int)si.ssi_signo);
			continue;
		}
		/* Every child of ours: D, openers, relays, the helper. */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == m->d) {
				m->dstatus = status;
				m->d = -1;
			}
			if (pid == m->opener)
				m->opener = -1;
			for (i = 0; i < PRIVSEP_CHILDREN_MAX; i++)
				if (m->children[i] == pid)
					m->children[i] = 0;
		}
	}
}

static bool
privsep_children_left(const struct privsep_parent *m)
{
	size_t	i;

	for (i = 0; i < PRIVSEP_CHILDREN_MAX; i++)
		if (m->children[i] != 0)
			return true;
	return false;
}

/*
 * D has ended: so do the children it asked for, before we exit (our exit
 * status says the tunnel is gone).  A relay sees D's end of its socket
 * close and says goodbye to the server, a waiter sees its ssh end; one
 * that takes longer than PRIVSEP_REAP_MS (a server that no longer
 * answers) is killed.
 */
static void
privsep_reap(struct privsep_parent *m)
{
	struct pollfd	pfd;
	int64_t		deadline = (int64_t)clock_ms() + PRIVSEP_REAP_MS;
	int		left;
	size_t		i;

	while (privsep_children_left(m) &&
	    (left = clock_remaining_ms(deadline)) > 0) {
		pfd.fd = m->sigfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left) == -1 && errno != EINTR)
			break;
		/* Signals for D now have no one to go to: dropped. */
		privsep_signal_in(m);
	}
	for (i = 0; i < PRIVSEP_CHILDREN_MAX; i++) {
		if (m->children[i] == 0)
			continue;
		log_debug("process %ld did not end with the tunnel: killed",
		    (long)m->children[i]);
		privsep_kill(m, m->children[i], SIGKILL);
		(void)waitpid(m->children[i], NULL, 0);
		m->children[i] = 0;
	}
}

static int
privsep_parent_main(struct privsep_parent *m)
{
	struct pollfd	pfd[2];
	int		rc;

	while (m->d > 0) {
		pfd[0].fd = m->sigfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = m->fd;
		pfd[1].events = POLLIN;
		if (poll(pfd, m->fd >= 0 ? 2 : 1, -1) == -1 && errno != EINTR)
			break;
		if (pfd[0].revents != 0)
			privsep_signal_in(m);
		if (m->fd >= 0 && pfd[1].revents != 0)
			privsep_request_in(m);
	}
	if (m->fd >= 0)
		close(m->fd);
	privsep_reap(m);
	close(m->sigfd);
	(void)sigprocmask(SIG_SETMASK, &m->orig, NULL);
	if (WIFEXITED(m->dstatus))
		rc = WEXITSTATUS(m->dstatus);
	else {
		log_error("the tunnel's process was killed by signal %d",
		    WIFSIGNALED(m->dstatus) ? WTERMSIG(m->dstatus) : 0);
		rc = CSHUTTLE_EXIT_FAIL;
	}
	return rc;
}

int
privsep_split(uid_t uid, gid_t gid, struct fw *fw,
    const struct privsep_hooks *h, bool *up, char *err, size_t errlen)
{
	struct privsep_parent	m;
	sigset_t		set;
	int			sv[2], rc;
	pid_t			pid, mpid = getpid();

	memset(&m, 0, sizeof(m));
	m.h = h;
	m.uid = uid;
	m.gid = gid;
	m.opener = -1;
	*up = false;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	/* Blocked before the fork: a signal in between is forwarded, not
	 * lost and not fatal to M. */
	(void)sigprocmask(SIG_BLOCK, &set, &m.orig);
	if ((m.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1 ||
	    (pid = fork()) == -1) {
		snprintf(err, errlen, "cannot start the unprivileged process: %s",
		    strerror(errno));
		if (m.sigfd != -1)
			close(m.sigfd);
		(void)sigprocmask(SIG_SETMASK, &m.orig, NULL);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(m.sigfd);
		close(sv[0]);
		(void)sigprocmask(SIG_SETMASK, &m.orig, NULL);
		if (privsep_drop(uid, gid, err, errlen) != 0)
			fatal("%s", err);
		/* After the drop, which clears it: D does not outlive M. */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		if (getppid() != mpid)
			fatal("the main process is gone");
		privsep_fd = sv[1];
		notify_relay(privsep_notify);
		log_debug("the tunnel runs as uid %lu", (unsigned long)uid);
		return 0;
	}
	close(sv[1]);
	if (h->parent != NULL)
		h->parent(h->arg);
	/* Orphans of ours (ssh after its opener was killed) are reaped
	 * here too, not by init. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	/* The helper's channel is D's alone: its end removes the rules. */
	fw_detach(fw);
	m.fd = sv[0];
	m.d = pid;
	rc = privsep_parent_main(&m);
	*up = m.up;
	return PRIVSEP_SPLIT_M + rc;
}
