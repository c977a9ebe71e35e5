/* SPDX-License-Identifier: ISC */
/*
 * fw_helper.c - the privileged side: `cshuttle --firewall`, or a forked
 * child when the client already runs as root.
 *
 * It learns who its caller is, reads request lines and the descriptors
 * that come with them (fw_proto.h), turns each complete series into a
 * plan (fw_plan.h) scoped to what the caller may touch (fw_policy.h), and
 * commits it as one nftables batch (fw_nft.h).  It holds the netlink
 * socket that owns the table, so the rules live exactly as long as this
 * process: end of input deletes them explicitly, and any other death
 * makes the kernel delete them.  It also marks the client's own sockets
 * (SO_MARK needs CAP_NET_ADMIN) and, with -v, logs what the leak
 * protection blocks (fw_nflog.h).  A caller other than root holds one of
 * its helper slots and is paced (fw_limit.h).  For -H without --dns it
 * keeps a block of names in /etc/hosts (fw_hosts.h), removed when it
 * ends; at its start it removes the blocks of helpers that died with no
 * chance to.  For UDP capture it makes the client's UDP sockets
 * transparent, sets up the policy routing TPROXY needs (fw_route.h; its
 * rule and route are removed on every way out, and those of helpers
 * killed before they could are removed at the next start), and binds
 * reply sockets to carried destinations (UDPREPLY).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fw.h"
#include "fw_hosts.h"
#include "fw_limit.h"
#include "fw_nflog.h"
#include "fw_nft.h"
#include "fw_plan.h"
#include "fw_policy.h"
#include "fw_proto.h"
#include "fw_route.h"
#include "fw_udpsend.h"
#include "log.h"

/* Room for a few pipelined request lines. */
#define FW_HELPER_INBUF		(FW_PROTO_MAXLINE * 8)
/* Descriptors received and not yet taken by a line: a series's worth. */
#define FW_HELPER_MAXQUEUE	(2 * FW_MAX_LISTEN + 2 * FW_MAX_DNS + 2)
#define FW_HELPER_MAXGROUPS	256
#define FW_HELPER_ERRLEN	(FW_PROTO_MAXREPLY - 8)
/* The send channel (fw_udpsend.h): datagrams read per wake-up, so that
 * requests are never kept waiting long, and sources whose check is kept. */
#define FW_HELPER_SEND_BATCH	64
#define FW_HELPER_SEND_CACHE	256	/* a power of two */

struct fw_send_seen {
	struct addr	src;
	uint32_t	gen;		/* h->send_gen when checked; 0: empty */
	bool		ok;
};

struct fw_helper {
	int			 in_fd, out_fd, verbose;
	bool			 in_sock;	/* descriptors can come */
	uid_t			 caller;
	char			 name[FW_POLICY_NAME_MAX + 16];	/* its user name */
	struct fw_policy_grant	 grant;		/* a caller other than root */
	struct fw_limit_slot	 slot;
	struct fw_limit_bucket	 bucket;
	struct fw_limit_bucket	 udp_bucket;	/* UDPREPLY's own */
	int			 queue[FW_HELPER_MAXQUEUE];	/* received */
	int			 nqueue;
	int			 keep[2 * FW_MAX_LISTEN + 2];	/* listeners,
							 * UDP sockets and
							 * port reservations,
							 * for life */
	int			 nkeep;
	int			 dns[2 * FW_MAX_DNS];	/* the rules' DNS listeners */
	int			 ndns;
	int			 newdns[2 * FW_MAX_DNS];	/* the series' */
	int			 nnewdns;
	uint16_t		 port;		/* P, once applied */
	struct fw_req		 req;
	struct fw_nft		*nft;
	struct fw_route		*route;		/* NULL: no UDP capture yet */
	bool			 routed;	/* its rules and routes are in */
	/* The config of the rules in force, for UDPREPLY's check. */
	struct fw_config	 applied;
	struct subnet_list	 applied_subnets;
	bool			 have_applied;
	uint32_t		 send_gen;	/* bumped when applied changes */
	/* UDPSEND: the channel, the raw sockets, the checks kept. */
	int			 send_fd;
	uint8_t			*send_buf;
	struct fw_udpsend	 udpsend;
	struct fw_send_seen	 send_seen[FW_HELPER_SEND_CACHE];
	uint64_t		 send_refused;
	struct fw_nflog		*nflog;
	bool			 nflog_tried;
	const char		*hosts_path;	/* the hosts file */
	char			 hosts_id[FW_HOSTS_ID_MAX];	/* its block */
	bool			 hosts_written;	/* a block may be there */
	char			 buf[FW_HELPER_INBUF];
	size_t			 have;
};

/* SIGTERM seen: end as at end of input, so that our names go too. */
static volatile sig_atomic_t fw_helper_term;

static void
fw_helper_on_term(int sig)
{
	(void)sig;
	fw_helper_term = 1;
}

static int fw_reply(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Write one reply line; control bytes in error text become '?'. */
static int
fw_reply(int fd, const char *fmt, ...)
{
	char line[FW_PROTO_MAXREPLY];
	size_t len, off = 0, i;
	va_list ap;
	ssize_t n;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	len = strlen(line);
	for (i = 0; i < len; i++) {
		if (line[i] < ' ' || line[i] > '~')
			line[i] = '?';
	}
	line[len++] = '\n';
	while (off < len) {
		if ((n = write(fd, line + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* ERR for a refused request, logged: the helper exits after it. */
static int fw_refuse(struct fw_helper *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fw_refuse(struct fw_helper *h, const char *fmt, ...)
{
	char	 text[FW_HELPER_ERRLEN];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_error("refused: %s", text);
	(void)fw_reply(h->out_fd, "ERR %s", text);
	return -1;
}

static void
fw_close_all(int *fd, int *n)
{
	int	i;

	for (i = 0; i < *n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	*n = 0;
}

/* ---- the caller ---- */

/* A uid as sudo writes it: decimal, nothing else. */
static int
fw_helper_parse_uid(const char *s, uid_t *uid)
{
	unsigned long long	v = 0;
	size_t			i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 10 ||
	    (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v >= 0xffffffffULL)
		return -1;
	*uid = (uid_t)v;
	return 0;
}

/*
 * Who asks: sudo's SUDO_UID, which the credentials of the socket on our
 * input (its creator, the client) must confirm, so that a request piped
 * in by someone else under another user's sudo is refused; without sudo,
 * the socket's peer, or the real uid.  A caller forked by a root client
 * is root, whatever the environment says.  0, or -1 with a reason.
 */
static int
fw_helper_caller(struct fw_helper *h, bool child, char *err, size_t errlen)
{
	struct ucred	 cred;
	struct stat	 st;
	socklen_t	 sl = sizeof(cred);
	const char	*sudo = getenv("SUDO_UID");
	uid_t		 sudo_uid = 0;
	bool		 have_peer = false;

	h->in_sock = fstat(h->in_fd, &st) == 0 && S_ISSOCK(st.st_mode);
	if (child) {
		h->caller = getuid();
		return 0;
	}
	if (sudo != NULL && fw_helper_parse_uid(sudo, &sudo_uid) != 0) {
		snprintf(err, errlen, "SUDO_UID \"%.16s\" is not a uid", sudo);
		return -1;
	}
	if (h->in_sock) {
		if (getsockopt(h->in_fd, SOL_SOCKET, SO_PEERCRED, &cred,
		    &sl) != 0) {
			snprintf(err, errlen, "cannot tell who is at the other "
			    "end of standard input: %s", strerror(errno));
			return -1;
		}
		have_peer = true;
	}
	if (sudo != NULL && have_peer && cred.uid != sudo_uid) {
		snprintf(err, errlen, "the caller is not who sudo says: "
		    "SUDO_UID is %lu, the socket on standard input belongs to "
		    "uid %lu", (unsigned long)sudo_uid, (unsigned long)cred.uid);
		return -1;
	}
	h->caller = sudo != NULL ? sudo_uid : have_peer ? cred.uid : getuid();
	return 0;
}

/* The caller's name, for messages and the policy: its user name, or its
 * number when it has none. */
static struct passwd *
fw_helper_name(struct fw_helper *h)
{
	struct passwd	*pw;

	if ((pw = getpwuid(h->caller)) != NULL)
		snprintf(h->name, sizeof(h->name), "%s", pw->pw_name);
	else
		snprintf(h->name, sizeof(h->name), "%lu",
		    (unsigned long)h->caller);
	return pw;
}

/* What the policy gives the caller, by its name and its groups' names. */
static void
fw_helper_grant(struct fw_helper *h, const struct fw_policy *pol)
{
	struct passwd	*pw;
	struct group	*gr;
	gid_t		 gids[FW_HELPER_MAXGROUPS];
	char		*names[FW_HELPER_MAXGROUPS];
	int		 ngids = FW_HELPER_MAXGROUPS, i, n = 0;

	if ((pw = fw_helper_name(h)) == NULL) {
		fw_policy_grant(pol, h->name, NULL, 0, &h->grant);
		return;
	}
	if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &ngids) < 0)
		ngids = FW_HELPER_MAXGROUPS;	/* the first ones count */
	for (i = 0; i < ngids; i++) {
		if ((gr = getgrgid(gids[i])) == NULL ||
		    (names[n] = strdup(gr->gr_name)) == NULL)
			continue;
		n++;
	}
	fw_policy_grant(pol, h->name, (const char *const *)names, (size_t)n,
	    &h->grant);
	for (i = 0; i < n; i++)
		free(names[i]);
}

/*
 * For a caller other than root, before READY: the policy and a helper
 * slot.  0, or -1 with the reason in err.
 */
static int
fw_helper_limits(struct fw_helper *h, char *err, size_t errlen)
{
	struct fw_policy	pol;
	int			held, r;

	if (fw_policy_load(&pol, FW_POLICY_PATH, err, errlen) != 0)
		return -1;
	fw_helper_grant(h, &pol);
	fw_policy_free(&pol);
	r = fw_limit_slot_take(&h->slot, FW_LIMIT_DIR, h->caller,
	    h->grant.max_helpers, &held, err, errlen);
	if (r == 1)
		snprintf(err, errlen, "too many helpers for user %s (%d "
		    "running): add \"max-helpers %s %d\" to %s", h->name, held,
		    h->name, h->grant.max_helpers * 2, FW_POLICY_PATH);
	if (r != 0)
		return -1;
	log_debug("serving uid %lu (%s), slot %s", (unsigned long)h->caller,
	    h->name, h->slot.name);
	return 0;
}

/* A request of a caller other than root waits for its token. */
static void
fw_helper_pace_in(struct fw_helper *h, struct fw_limit_bucket *b)
{
	uint64_t	wait;

	if (h->caller == 0)
		return;
	while ((wait = fw_limit_bucket_take(b, clock_ms())) > 0)
		(void)poll(NULL, 0, (int)wait);
}

static void
fw_helper_pace(struct fw_helper *h)
{
	fw_helper_pace_in(h, &h->bucket);
}

/* ---- descriptors ---- */

static void
fw_helper_fdinfo(int fd, struct fw_fdinfo *f)
{
	struct sockaddr_storage	ss;
	socklen_t		sl;
	int			v;

	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->domain = AF_UNSPEC;
	sl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &sl) != 0)
		return;		/* not a socket */
	f->domain = v;
	sl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &sl) == 0)
		f->type = v;
	sl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &sl) == 0)
		f->protocol = v;
	sl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &sl) == 0)
		f->listening = v != 0;
	sl = sizeof(v);
	if (f->domain == AF_INET6 && getsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &v, &sl) == 0)
		f->v6only = v != 0;
	sl = sizeof(ss);
	if ((f->domain == AF_INET || f->domain == AF_INET6) &&
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		(void)addr_from_sockaddr(&f->local, (struct sockaddr *)&ss, sl);
	sl = sizeof(ss);
	f->connected = getpeername(fd, (struct sockaddr *)&ss, &sl) == 0;
}

/* IP_TRANSPARENT, or IPV6_TRANSPARENT: the socket may take packets for,
 * and send from, addresses that are not this host's.  0 or -1. */
static int
fw_helper_transparent(int fd, int domain)
{
	int	one = 1;

	if (domain == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one,
		    sizeof(one));
	return setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one));
}

/* SO_MARK R of port P: what the socket sends goes only where the chain
 * "udp_reply" lets it (fw_plan.h).  0 or -1. */
static int
fw_helper_reply_mark(int fd, uint16_t port)
{
	uint32_t	mark = fw_reply_mark_for_port(port);

	return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
}

/* Queue the descriptors of one message.  -1: more than a series needs. */
static int
fw_helper_take_fds(struct fw_helper *h, struct msghdr *msg)
{
	struct cmsghdr	*cm;
	size_t		 i, nfd;
	int		 fd, ret = 0;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (h->nqueue < FW_HELPER_MAXQUEUE)
				h->queue[h->nqueue++] = fd;
			else {
				close(fd);
				ret = -1;
			}
		}
	}
	if (msg->msg_flags & MSG_CTRUNC)
		ret = -1;
	return ret;
}

/* read(2) of the input, keeping the descriptors that come with it. */
static ssize_t
fw_helper_read(struct fw_helper *h, bool *toomany)
{
	char		 cbuf[CMSG_SPACE(FW_HELPER_MAXQUEUE * sizeof(int))];
	struct msghdr	 msg;
	struct iovec	 iov;
	ssize_t		 r;

	*toomany = false;
	if (!h->in_sock)
		return read(h->in_fd, h->buf + h->have, sizeof(h->buf) - h->have);
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = h->buf + h->have;
	iov.iov_len = sizeof(h->buf) - h->have;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	/* CLOEXEC: nothing this process might run should get them. */
	if ((r = recvmsg(h->in_fd, &msg, MSG_CMSG_CLOEXEC)) >= 0)
		*toomany = fw_helper_take_fds(h, &msg) != 0;
	return r;
}

/* The descriptors a line asked for, checked by the parser.  The result of
 * fw_req_fds(), or -1 when the helper must end (already answered). */
static int
fw_helper_fds(struct fw_helper *h, const char *line, char *err, size_t errlen)
{
	struct fw_fdinfo	info[FW_PROTO_MAXFDS];
	int			n = h->req.nneed, need = h->req.need, i, r;

	if (!h->in_sock)
		return fw_refuse(h, "%.16s: descriptors cannot reach the "
		    "helper: its input is not a socket (sudo with I/O "
		    "logging?)", line);
	if (h->nqueue < n)
		return fw_refuse(h, "%.16s: %d descriptor%s missing", line,
		    n - h->nqueue, n - h->nqueue == 1 ? "" : "s");
	for (i = 0; i < n; i++)
		fw_helper_fdinfo(h->queue[i], &info[i]);
	/* Taken: from now on ours to close, whatever the parser says. */
	memmove(h->queue, h->queue + n, (size_t)(h->nqueue - n) *
	    sizeof(h->queue[0]));
	h->nqueue -= n;
	for (i = 0; i < n; i++) {
		if (need == FW_FD_LISTEN || need == FW_FD_UDP)
			h->keep[h->nkeep++] = info[i].fd;
		else if (need == FW_FD_DNS)
			h->newdns[h->nnewdns++] = info[i].fd;
	}
	if ((r = fw_req_fds(&h->req, info, n, err, errlen)) < 0) {
		if (need == FW_FD_MARK || need == FW_FD_UDPREPLY ||
		    need == FW_FD_UDPSEND)
			close(info[0].fd);
		return fw_refuse(h, "%s", err);
	}
	/*
	 * The client cannot make its socket transparent (TPROXY delivers
	 * only to such a socket): we can.  A transparent socket may also
	 * send from any source address (IP_PKTINFO), so it gets the mark R
	 * of the reply sockets, which confines what it sends as theirs.
	 */
	if (need == FW_FD_UDP && (fw_helper_transparent(info[0].fd,
	    info[0].domain) != 0 || fw_helper_reply_mark(info[0].fd,
	    info[0].local.port) != 0))
		return fw_refuse(h, "UDP: IP%s_TRANSPARENT or SO_MARK: %s",
		    info[0].domain == AF_INET6 ? "V6" : "", strerror(errno));
	return r;
}

/*
 * MARK: set the instance's mark on the client's own socket, then close
 * our copy.  A failure is answered and the helper goes on; -1 only when
 * the reply cannot be written.
 */
static int
fw_helper_mark(struct fw_helper *h)
{
	uint32_t	mark = fw_mark_for_port(h->port);
	int		fd = h->req.mark_fd, e;

	h->req.mark_fd = -1;
	fw_helper_pace(h);
	if (h->port == 0) {
		close(fd);
		log_error("mark asked for before any rules");
		return fw_reply(h->out_fd, "NOMARK %d no rules applied yet",
		    EINVAL);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0) {
		e = errno;
		close(fd);
		log_error("mark: %s", strerror(e));
		return fw_reply(h->out_fd, "NOMARK %d %s", e, strerror(e));
	}
	close(fd);
	log_trace("marked a socket with 0x%08x", (unsigned int)mark);
	return fw_reply(h->out_fd, "MARK");
}

/* Forget the config of the rules in force. */
static void
fw_helper_forget(struct fw_helper *h)
{
	free(h->applied_subnets.v);
	memset(&h->applied_subnets, 0, sizeof(h->applied_subnets));
	memset(&h->applied, 0, sizeof(h->applied));
	h->have_applied = false;
	h->send_gen++;
}

/* Keep a copy of c, the config of the rules just committed. */
static void
fw_helper_remember(struct fw_helper *h, const struct fw_config *c)
{
	size_t	n = c->subnets != NULL ? c->subnets->n : 0;

	fw_helper_forget(h);
	if (n > 0 && (h->applied_subnets.v = calloc(n,
	    sizeof(*h->applied_subnets.v))) == NULL) {
		log_error("udp replies: out of memory");
		return;
	}
	if (n > 0)
		memcpy(h->applied_subnets.v, c->subnets->v,
		    n * sizeof(*h->applied_subnets.v));
	h->applied_subnets.n = h->applied_subnets.cap = n;
	h->applied = *c;
	h->applied.subnets = &h->applied_subnets;
	h->have_applied = true;
	h->send_gen++;
}

/*
 * UDPREPLY: bind the client's socket to a destination the rules carry,
 * as the reply socket of that flow.  The checks keep it from becoming a
 * way around our privileges: only a unicast address the rules carry,
 * not this host's (no local service's port can be taken) nor one of a
 * broadcast (nothing meant for others is received), and the mark R,
 * whose packets "udp_reply" lets go only to this host or the LAN
 * sources.  A refusal is answered and the helper goes on; -1 only when
 * the reply cannot be written.
 */
static int
fw_helper_udpreply(struct fw_helper *h)
{
	struct sockaddr_storage	 ss;
	struct addr		 src = h->req.reply_src;
	socklen_t		 sl;
	char			 a[ADDR_STRLEN];
	const char		*why = NULL;
	int			 fd = h->req.reply_fd, one = 1, e = EINVAL;

	h->req.reply_fd = -1;
	fw_helper_pace_in(h, &h->udp_bucket);
	addr_format(&src, true, a, sizeof(a));
	if (h->port == 0 || !h->have_applied)
		why = "no rules applied yet";
	else if (!fw_plan_udp_carried(&h->applied, &src))
		why = "not a destination the rules carry";
	else if (h->route == NULL)
		why = "no UDP capture";
	else
		why = fw_route_reply_refusal(fw_route_type(h->route,
		    addr_af(src.family), src.bytes));
	if (why == NULL) {
		sl = addr_to_sockaddr(&src, &ss);
		if (fw_helper_transparent(fd, addr_af(src.family)) != 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one)) != 0 ||
		    fw_helper_reply_mark(fd, h->port) != 0 ||
		    bind(fd, (struct sockaddr *)&ss, sl) != 0) {
			e = errno;
			why = strerror(e);
		}
	}
	close(fd);
	if (why != NULL) {
		log_debug("udp reply socket on %s refused: %s", a, why);
		return fw_reply(h->out_fd, "NOUDPREPLY %d %s", e, why);
	}
	log_trace("udp reply socket on %s", a);
	return fw_reply(h->out_fd, "UDPREPLY");
}

/*
 * UDPSEND: from now on, read the client's send channel and send its
 * replies from their source address (fw_udpsend.h).  A refusal is
 * answered and the helper goes on; -1 only when the reply cannot be
 * written.
 */
static int
fw_helper_udpsend(struct fw_helper *h)
{
	int	fd = h->req.send_fd;
	const char *why = NULL;

	h->req.send_fd = -1;
	fw_helper_pace(h);
	if (h->port == 0 || !h->have_applied || h->route == NULL)
		why = "no rules with UDP applied yet";
	else if (h->send_fd >= 0)
		why = "a send channel is open already";
	else if (h->send_buf == NULL &&
	    (h->send_buf = malloc(FW_UDPSEND_MAX)) == NULL)
		why = "out of memory";
	if (why != NULL) {
		close(fd);
		log_debug("udp send channel refused: %s", why);
		return fw_reply(h->out_fd, "NOUDPSEND %d %s", EINVAL, why);
	}
	h->send_fd = fd;
	fw_udpsend_init(&h->udpsend, fw_reply_mark_for_port(h->port));
	log_debug("udp send channel open");
	return fw_reply(h->out_fd, "UDPSEND");
}

/* May a reply leave from src?  UDPREPLY's checks, kept per source until
 * the rules change: the route check is a netlink round trip. */
static bool
fw_helper_send_ok(struct fw_helper *h, const struct addr *src)
{
	struct fw_send_seen	*e;
	uint32_t		 x = 2166136261U, gen = h->send_gen | 1;
	size_t			 i;

	for (i = 0; i < addr_size(src->family); i++)
		x = (x ^ src->bytes[i]) * 16777619U;
	x = (x ^ src->port) * 16777619U;
	e = &h->send_seen[x & (FW_HELPER_SEND_CACHE - 1)];
	if (e->gen == gen && addr_equal(&e->src, src))
		return e->ok;
	e->src = *src;
	e->gen = gen;
	e->ok = h->have_applied && h->route != NULL &&
	    fw_plan_udp_carried(&h->applied, src) &&
	    fw_route_reply_refusal(fw_route_type(h->route,
	    addr_af(src->family), src->bytes)) == NULL;
	return e->ok;
}

/* The channel is readable: send what it holds, a batch at most. */
static void
fw_helper_send_read(struct fw_helper *h)
{
	struct addr	 src, dst;
	const uint8_t	*data;
	size_t		 datalen;
	ssize_t		 n;
	int		 i;
	char		 a[ADDR_STRLEN];

	for (i = 0; i < FW_HELPER_SEND_BATCH; i++) {
		n = recv(h->send_fd, h->send_buf, FW_UDPSEND_MAX,
		    MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_debug("udp send channel: %s",
				    strerror(errno));
			return;
		}
		/* MSG_TRUNC: n is the datagram's length, which the parser
		 * refuses when it is longer than the buffer. */
		if (fw_udpsend_parse(h->send_buf, (size_t)n, &src, &dst,
		    &data, &datalen) != 0) {
			h->send_refused++;
			continue;
		}
		if (!fw_helper_send_ok(h, &src)) {
			h->send_refused++;
			log_trace("udp send from %s refused",
			    addr_format(&src, true, a, sizeof(a)));
			continue;
		}
		/* A failure is the datagram's alone (as a full socket
		 * buffer is to a UDP sender): counted, not reported. */
		(void)fw_udpsend_send(&h->udpsend, &src, &dst, data, datalen);
	}
}

/* ---- a series ---- */

/*
 * A caller other than root must hold the port P on the loopback address
 * of each family (where the output rules send connections), or nobody
 * else may hold it there: otherwise it could take the table name
 * cshuttle_<P> that the holder of P needs.  Where its listeners do not
 * cover it (a listener on another address), the helper binds P there
 * itself, for its whole life.  0, or -1 (answered).
 */
static int
fw_helper_reserve(struct fw_helper *h, const struct fw_config *c)
{
	static const uint8_t	 lo4[4] = { 127, 0, 0, 1 };
	static const uint8_t	 lo6[16] = { [15] = 1 };
	struct sockaddr_storage	 ss;
	struct addr		 lo;
	socklen_t		 sl;
	char			 a[ADDR_STRLEN];
	int			 fam, i, fd, one = 1;
	bool			 covered;

	for (fam = ADDR_V4; fam <= ADDR_V6; fam += ADDR_V6 - ADDR_V4) {
		addr_set(&lo, (uint8_t)fam, fam == ADDR_V4 ? lo4 : lo6, c->port);
		covered = false;
		for (i = 0; i < c->nlisten; i++)
			covered |= c->listen[i].family == fam &&
			    (addr_is_any(&c->listen[i]) ||
			    addr_same_host(&c->listen[i], &lo));
		if (covered)
			continue;
		sl = addr_to_sockaddr(&lo, &ss);
		if ((fd = socket(addr_af(lo.family), SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1)
			continue;	/* no IPv6 here */
		if (fam == ADDR_V6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		/* Over the TIME_WAIT of an earlier tunnel on P, never over a
		 * listener (nor a socket bound without it). */
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, sl) == 0) {
			h->keep[h->nkeep++] = fd;
			continue;
		}
		close(fd);
		if (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)
			continue;	/* no such loopback address */
		return fw_refuse(h, "LISTEN: port %u on %s is %s: the table "
		    "cshuttle_%u cannot be yours", c->port,
		    addr_format(&lo, false, a, sizeof(a)), errno == EADDRINUSE ?
		    "held by another socket" : strerror(errno), c->port);
	}
	return 0;
}

/* What the caller may ask, and whose sockets the rules take.  0, or -1
 * (answered). */
static int
fw_helper_scope(struct fw_helper *h, struct fw_config *c)
{
	const char	*n = h->name;

	if (h->caller != 0) {
		if (c->has_user || c->has_group)
			return fw_refuse(h, "%s is for root: a tunnel started "
			    "by %s carries only %s's traffic", c->has_user ?
			    "USER" : "GROUP", n, n);
		if (c->prerouting && !(h->grant.allow & FW_POLICY_LAN))
			return fw_refuse(h, "PREROUTING 1 (serving other "
			    "hosts) is not allowed for user %s: add \"allow %s "
			    "%s\" to %s", n, n,
			    fw_policy_keyword(FW_POLICY_LAN), FW_POLICY_PATH);
		if (c->tmark != 0 && !(h->grant.allow & FW_POLICY_TMARK))
			return fw_refuse(h, "TMARK (a mark of the caller's "
			    "choice for carried UDP, and its routing table) is "
			    "not allowed for user %s: add \"allow %s %s\" to %s",
			    n, n, fw_policy_keyword(FW_POLICY_TMARK),
			    FW_POLICY_PATH);
		if (h->req.scope == FW_SCOPE_HOST &&
		    !(h->grant.allow & FW_POLICY_HOST_WIDE))
			return fw_refuse(h, "SCOPE host (every local user's "
			    "traffic) is not allowed for user %s: add \"allow "
			    "%s %s\" to %s", n, n,
			    fw_policy_keyword(FW_POLICY_HOST_WIDE),
			    FW_POLICY_PATH);
		if (!h->req.later && fw_helper_reserve(h, c) != 0)
			return -1;
	}
	if (c->has_user || c->has_group)
		return 0;
	if (h->req.scope == FW_SCOPE_HOST ||
	    (h->req.scope == FW_SCOPE_DEFAULT && h->caller == 0))
		c->host_wide = true;
	else {
		c->host_wide = false;
		c->has_user = true;
		c->user = h->caller;
	}
	return 0;
}

/*
 * With -v, read the blocked packets once there is a group to read: the
 * plan's log group, which is the port.  Before OK is sent, so that the
 * log is ready when the client learns that the rules are.
 */
static void
fw_helper_nflog(struct fw_helper *h, const struct fw_plan *plan)
{
	char err[FW_PROTO_MAXREPLY];

	if (h->verbose <= 0 || h->nflog_tried ||
	    plan->nchain[FW_CHAIN_LEAK_OUTPUT] == 0)
		return;
	h->nflog_tried = true;
	if ((h->nflog = fw_nflog_open(plan->log_group, err, sizeof(err))) ==
	    NULL)
		log_warn("blocked packets will not be logged: %s", err);
}

/*
 * The first series with UDP capture (or the first to succeed after it,
 * if the kernel refused that one): the table first, without the UDP
 * marks, so that port P is ours (a table cshuttle_<P> exists) before
 * the policy routing of P appears (a starting helper would take that
 * for a dead instance's otherwise); then the routing, so that no
 * packet is marked before it can be delivered.  0; 1 when the kernel
 * refused the table (err, the helper goes on); -1 when the routing
 * failed (err, the helper ends, removing what it added).
 */
static int
fw_helper_route(struct fw_helper *h, struct fw_plan *plan, char *err,
    size_t errlen)
{
	struct fw_rule	*held = plan->chain[FW_CHAIN_UDP_OUTPUT];
	size_t		 nheld = plan->nchain[FW_CHAIN_UDP_OUTPUT];
	int		 r;

	plan->chain[FW_CHAIN_UDP_OUTPUT] = NULL;
	plan->nchain[FW_CHAIN_UDP_OUTPUT] = 0;
	r = fw_nft_apply(h->nft, plan, err, errlen);
	plan->chain[FW_CHAIN_UDP_OUTPUT] = held;
	plan->nchain[FW_CHAIN_UDP_OUTPUT] = nheld;
	if (r != 0)
		return 1;
	if (h->route == NULL && (h->route = fw_route_open(err, errlen)) ==
	    NULL)
		return -1;
	if ((plan->udp4 && fw_route_add(h->route, AF_INET, plan->tproxy_mark,
	    err, errlen) != 0) || (plan->udp6 && fw_route_add(h->route,
	    AF_INET6, plan->tproxy_mark, err, errlen) != 0))
		return -1;
	/* For good: the UDP sockets, hence the families, cannot change. */
	h->routed = true;
	return 0;
}

/* One complete series: check, plan and commit it.  -1 ends the helper. */
static int
fw_helper_apply(struct fw_helper *h)
{
	struct fw_config *c = &h->req.cfg;
	struct fw_plan plan;
	char err[FW_HELPER_ERRLEN];
	int ret;

	if (h->nqueue > 0)
		return fw_refuse(h, "APPLY: %d descriptor%s too many",
		    h->nqueue, h->nqueue == 1 ? "" : "s");
	fw_helper_pace(h);
	if (fw_helper_scope(h, c) != 0)
		return -1;
	if ((ret = fw_plan_build(c, &plan)) != 0) {
		fw_plan_free(&plan);
		return fw_refuse(h, "%s", fw_strerror(ret));
	}
	if (!h->routed && (plan.udp4 || plan.udp6) &&
	    (ret = fw_helper_route(h, &plan, err, sizeof(err))) != 0) {
		fw_plan_free(&plan);
		if (ret < 0)
			return fw_refuse(h, "%s", err);
		log_error("%s", err);
		fw_close_all(h->newdns, &h->nnewdns);
		return fw_reply(h->out_fd, "ERR %s", err);
	}
	if (fw_nft_apply(h->nft, &plan, err, sizeof(err)) != 0) {
		/* Nothing changed: the batch is all or nothing. */
		log_error("%s", err);
		fw_close_all(h->newdns, &h->nnewdns);
		ret = fw_reply(h->out_fd, "ERR %s", err);
	} else {
		h->port = plan.port;
		/* The old rules' DNS listeners are no longer needed. */
		fw_close_all(h->dns, &h->ndns);
		memcpy(h->dns, h->newdns, (size_t)h->nnewdns * sizeof(int));
		h->ndns = h->nnewdns;
		h->nnewdns = 0;
		fw_helper_remember(h, c);
		fw_helper_nflog(h, &plan);
		ret = fw_reply(h->out_fd, "OK");
	}
	fw_plan_free(&plan);
	return ret;
}

/*
 * HOSTS: the names replace our block of the hosts file.  A caller other
 * than root needs the policy's word; an I/O error is answered and the
 * helper goes on.  -1 only when it must end (answered).
 */
static int
fw_helper_hosts(struct fw_helper *h)
{
	const char	*n = h->name;
	char		 err[FW_HELPER_ERRLEN];
	int		 ret;

	fw_helper_pace(h);
	if (h->caller != 0 && !(h->grant.allow & FW_POLICY_HOSTS)) {
		fw_req_hosts_done(&h->req);
		return fw_refuse(h, "HOSTS (writing %s) is not allowed for user "
		    "%s: add \"allow %s %s\" to %s", h->hosts_path, n, n,
		    fw_policy_keyword(FW_POLICY_HOSTS), FW_POLICY_PATH);
	}
	if (h->hosts_id[0] == '\0') {
		fw_req_hosts_done(&h->req);
		log_error("hosts: no id for this process (no /proc?)");
		return fw_reply(h->out_fd, "ERR cannot name a block of %s: "
		    "/proc is missing", h->hosts_path);
	}
	if (h->req.nhosts > 0)
		h->hosts_written = true;
	if (fw_hosts_update(h->hosts_path, h->hosts_id, h->req.hosts,
	    h->req.nhosts, err, sizeof(err)) != 0) {
		log_error("hosts: %s", err);
		ret = fw_reply(h->out_fd, "ERR %s", err);
	} else {
		log_debug("hosts: %zu names in %s", h->req.nhosts,
		    h->hosts_path);
		ret = fw_reply(h->out_fd, "OK");
	}
	fw_req_hosts_done(&h->req);
	return ret;
}

/*
 * At the start, without a word to the client: the blocks of helpers that
 * are gone (and a leftover of ours: none can be there) are removed.
 * Only a helper that can write the file tries.
 */
static void
fw_helper_hosts_init(struct fw_helper *h)
{
	const char	*env = getenv(FW_HOSTS_ENV);
	char		 err[FW_HELPER_ERRLEN];

	/* Another file for tests, but only for a caller who could write
	 * /etc/hosts anyway. */
	h->hosts_path = h->caller == 0 && env != NULL && env[0] == '/' ?
	    env : FW_HOSTS_PATH;
	if (fw_hosts_self_id(h->hosts_id, sizeof(h->hosts_id)) != 0) {
		h->hosts_id[0] = '\0';
		return;
	}
	if (geteuid() != 0 || access(h->hosts_path, F_OK) != 0)
		return;
	if (fw_hosts_update(h->hosts_path, h->hosts_id, NULL, 0, err,
	    sizeof(err)) != 0)
		log_warn("hosts: stale blocks not removed: %s", err);
}

/*
 * Whether the instance whose UDP capture uses mark T still runs
 * (fw_route.h): for T of port P, whether P's table exists; for a
 * --tmark, whether a table's comment names it.
 */
static int
fw_helper_alive(uint32_t mark, void *arg)
{
	(void)arg;
	if ((mark & FW_MARK_RANGE_MASK) == FW_TPROXY_MARK_BASE)
		return fw_nft_table_exists((uint16_t)(mark & 0xffffU));
	return fw_nft_tmark_alive(mark);
}

/*
 * At the start: the policy routing of instances whose helper was killed
 * before it could remove it (a SIGKILL gives no chance).  Only a
 * privileged helper can.  The socket is closed again: a helper without
 * UDP capture never needs it.
 */
static void
fw_helper_route_init(void)
{
	struct fw_route	*rt;
	char		 err[FW_HELPER_ERRLEN];
	int		 n;

	if (geteuid() != 0)
		return;
	if ((rt = fw_route_open(err, sizeof(err))) == NULL) {
		log_warn("stale policy routing not looked for: %s", err);
		return;
	}
	if ((n = fw_route_clean_stale(rt, fw_helper_alive, NULL, err,
	    sizeof(err))) < 0)
		log_warn("stale policy routing not removed: %s", err);
	else if (n > 0)
		log_debug("removed %d policy rule%s of dead instances", n,
		    n == 1 ? "" : "s");
	fw_route_close(rt);
}

/* One line.  -1 ends the helper (answered). */
static int
fw_helper_line(struct fw_helper *h, const char *line, size_t len)
{
	char	err[FW_HELPER_ERRLEN], word[16];
	int	r, *fdp;

	if ((r = fw_req_line(&h->req, line, len, err, sizeof(err))) < 0)
		return fw_refuse(h, "%s", err);
	if (r == FW_PROTO_FDS) {
		snprintf(word, sizeof(word), "%.*s", (int)strcspn(line, " "),
		    line);
		if ((r = fw_helper_fds(h, word, err, sizeof(err))) < 0)
			return -1;
	}
	if (r == FW_PROTO_MARK || r == FW_PROTO_UDPREPLY) {
		/* One descriptor, of a request outside a series. */
		fdp = r == FW_PROTO_MARK ? &h->req.mark_fd : &h->req.reply_fd;
		if (h->nqueue > 0) {
			close(*fdp);
			*fdp = -1;
			return fw_refuse(h, "%s: %d descriptor%s too many",
			    r == FW_PROTO_MARK ? "MARK" : "UDPREPLY", h->nqueue,
			    h->nqueue == 1 ? "" : "s");
		}
		return r == FW_PROTO_MARK ? fw_helper_mark(h) :
		    fw_helper_udpreply(h);
	}
	if (r == FW_PROTO_UDPSEND) {
		if (h->nqueue > 0) {
			close(h->req.send_fd);
			h->req.send_fd = -1;
			return fw_refuse(h, "UDPSEND: %d descriptor%s too many",
			    h->nqueue, h->nqueue == 1 ? "" : "s");
		}
		return fw_helper_udpsend(h);
	}
	if (r == FW_PROTO_HOSTS)
		return fw_helper_hosts(h);
	if (r == FW_PROTO_APPLY) {
		if (fw_helper_apply(h) != 0)
			return -1;
		fw_req_next(&h->req);
	}
	return 0;
}

/* Read and handle lines until end of input.  0 at EOF, -1 otherwise. */
static int
fw_helper_loop(struct fw_helper *h)
{
	struct pollfd pfd[3];
	char *nl;
	size_t linelen;
	ssize_t n;
	int npfd;
	bool toomany;

	for (;;) {
		if ((nl = memchr(h->buf, '\n', h->have)) != NULL) {
			linelen = (size_t)(nl - h->buf);
			*nl = '\0';
			if (fw_helper_line(h, h->buf, linelen) != 0)
				return -1;
			h->have -= linelen + 1;
			memmove(h->buf, nl + 1, h->have);
			continue;
		}
		if (h->have >= FW_PROTO_MAXLINE)
			return fw_refuse(h, "request line too long");
		pfd[0].fd = h->in_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = fw_nflog_fd(h->nflog);
		pfd[1].events = POLLIN;
		pfd[2].fd = h->send_fd;
		pfd[2].events = POLLIN;
		pfd[0].revents = pfd[1].revents = pfd[2].revents = 0;
		/* A negative descriptor is left out by poll(2). */
		npfd = 3;
		if (fw_helper_term) {
			log_trace("SIGTERM");
			return 0;
		}
		if (poll(pfd, (nfds_t)npfd, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			return -1;
		}
		if (pfd[1].fd >= 0 && pfd[1].revents != 0)
			fw_nflog_read(h->nflog);
		if (pfd[2].fd >= 0 && pfd[2].revents != 0) {
			if (pfd[2].revents & POLLIN)
				fw_helper_send_read(h);
			else {
				/* The client's end is gone. */
				close(h->send_fd);
				h->send_fd = -1;
			}
		}
		if (pfd[0].revents == 0)
			continue;
		n = fw_helper_read(h, &toomany);
		if (toomany)
			return fw_refuse(h, "more descriptors than a series "
			    "needs");
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			log_error("read: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			log_trace("end of input");
			return 0;
		}
		h->have += (size_t)n;
	}
}

int
fw_helper_main(int in_fd, int out_fd, int verbose, bool child)
{
	struct fw_helper *h;
	struct sigaction sa;
	char err[FW_HELPER_ERRLEN];
	int rc = 1;

	/*
	 * A terminal's ^C reaches the client and us alike; the client decides
	 * when the rules go, by closing our input.  A dead client shows up as
	 * EOF or EPIPE (and, for a forked helper, SIGTERM, below).
	 */
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * SIGTERM (also what a forked helper gets when its client dies)
	 * ends it as end of input does, removing what it put in place; not
	 * SA_RESTART, so that it interrupts the wait for input.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fw_helper_on_term;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	log_init("cshuttle-fw", verbose);
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		(void)fw_reply(out_fd, "ERR out of memory");
		return 1;
	}
	h->in_fd = in_fd;
	h->out_fd = out_fd;
	h->verbose = verbose;
	h->slot.fd = -1;
	h->send_fd = -1;
	fw_udpsend_init(&h->udpsend, 0);
	fw_req_init(&h->req);
	/* Paced whatever the privileges (fw_helper_pace() paces every caller
	 * other than root). */
	fw_limit_bucket_init(&h->bucket, clock_ms());
	fw_limit_bucket_init_rate(&h->udp_bucket, clock_ms(),
	    FW_LIMIT_UDP_BURST, FW_LIMIT_UDP_RATE);

	if (fw_helper_caller(h, child, err, sizeof(err)) != 0) {
		(void)fw_refuse(h, "%s", err);
		goto out;
	}
	if ((h->nft = fw_nft_open(err, sizeof(err))) == NULL) {
		log_error("%s", err);
		(void)fw_reply(out_fd, "ERR %s", err);
		goto out;
	}
	/* A helper without privileges can change nothing: nothing to bound. */
	if (h->caller != 0 && geteuid() != 0)
		(void)fw_helper_name(h);
	else if (h->caller != 0 && fw_helper_limits(h, err, sizeof(err)) != 0) {
		(void)fw_refuse(h, "%s", err);
		goto out;
	}
	fw_helper_hosts_init(h);
	fw_helper_route_init();
	if (fw_reply(out_fd, "READY %d %lu", FW_PROTO_VERSION,
	    (unsigned long)h->caller) != 0)
		goto out;
	log_trace("helper ready (pid %ld)", (long)getpid());

	if (fw_helper_loop(h) != 0)
		goto out;
	/* Input is gone: remove the rules ourselves rather than by closing. */
	if (fw_nft_delete(h->nft, err, sizeof(err)) != 0)
		log_error("%s", err);
	else
		rc = 0;
 out:
	/* Whatever ended us: our names go with us. */
	if (h->hosts_written && fw_hosts_update(h->hosts_path, h->hosts_id,
	    NULL, 0, err, sizeof(err)) != 0)
		log_error("hosts: %s", err);
	fw_req_clear(&h->req);
	fw_nflog_close(h->nflog);
	/* The table first (closing its owner socket drops it, if the end
	 * of input did not), so no packet is marked for a route that is
	 * gone; then the routing, which nothing else would remove. */
	fw_nft_close(h->nft);
	fw_route_remove(h->route);
	fw_route_close(h->route);
	fw_helper_forget(h);
	fw_close_all(h->queue, &h->nqueue);
	fw_close_all(h->keep, &h->nkeep);
	fw_close_all(h->dns, &h->ndns);
	fw_close_all(h->newdns, &h->nnewdns);
	if (h->req.mark_fd >= 0)
		close(h->req.mark_fd);
	if (h->req.reply_fd >= 0)
		close(h->req.reply_fd);
	if (h->req.send_fd >= 0)
		close(h->req.send_fd);
	if (h->send_fd >= 0) {
		log_debug("udp send channel: %llu sent, %llu refused, %llu "
		    "failed", (unsigned long long)h->udpsend.sent,
		    (unsigned long long)h->send_refused,
		    (unsigned long long)h->udpsend.failed);
		close(h->send_fd);
	}
	fw_udpsend_close(&h->udpsend);
	free(h->send_buf);
	fw_limit_slot_release(&h->slot, FW_LIMIT_DIR);
	free(h);
	return rc;
}
