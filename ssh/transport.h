/* SPDX-License-Identifier: ISC */
/*
 * transport.h - the byte pipe between the client's mux and the stub.
 *
 * Two implementations: libssh2 in-process (transport_ssh2.c) and an
 * external command such as `ssh -F cfg` (transport_cmd.c).  Both start a
 * remote `/bin/sh`, run the bootstrap (bootstrap.c) that uploads and
 * starts the stub, and then carry the mux byte stream.
 *
 * Data phase contract (everything non-blocking):
 *   read():  >0 bytes read, 0 end of stream, TRANSPORT_AGAIN, or
 *            TRANSPORT_ERR (message via transport_error()).
 *   write(): >0 bytes taken, TRANSPORT_AGAIN, or TRANSPORT_ERR.  After
 *            TRANSPORT_AGAIN the caller repeats the very same call (same
 *            pointer and length) before writing anything else: libssh2
 *            requires it.  At most TRANSPORT_MAX_WRITE bytes per call.
 *   fd() / events(): what to wait for in the event loop (EV_READ/EV_WRITE)
 *            calling again after TRANSPORT_AGAIN.
 */
#ifndef CSHUTTLE_TRANSPORT_H
#define CSHUTTLE_TRANSPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "ev.h"

#define TRANSPORT_AGAIN		(-1)
#define TRANSPORT_ERR		(-2)
#define TRANSPORT_MAX_WRITE	32768

struct sshcfg;
struct transport;

struct transport_ops {
	ssize_t		(*read)(struct transport *, void *buf, size_t len);
	ssize_t		(*write)(struct transport *, const void *buf, size_t len);
	int		(*fd)(struct transport *);
	uint32_t	(*events)(struct transport *);
	/* Called once per loop pass: drain remote stderr into the log, etc. */
	void		(*service)(struct transport *);
	void		(*free)(struct transport *);
};

struct transport {
	const struct transport_ops *ops;
	const char	*name;		/* what carries the session, for
					 * `cshuttle status`: "libssh2" or
					 * "ssh command" */
	char		 errbuf[256];
	/* Address and port of the TCP connection to the SSH server (for the
	 * firewall exclusion); family 0 when not known (external command). */
	struct addr	 peer;
};

/* Exit-worthy failures carry one of these so main() can pick exit codes. */
enum transport_fail {
	TRANSPORT_F_NONE = 0,
	TRANSPORT_F_CONNECT,		/* could not reach the server */
	TRANSPORT_F_HOSTKEY,		/* unknown or mismatched host key */
	TRANSPORT_F_AUTH,		/* authentication failed */
	TRANSPORT_F_REMOTE,		/* remote side: no /bin/sh, arch, stub start */
};

/* Retried after a lost session; the others stop cshuttle. */
bool	transport_fail_retryable(enum transport_fail fail);

/*
 * Cancelling an open that runs in another thread (reconnects do).  The
 * open registers the descriptor it is blocked on; transport_abort_fire()
 * shuts that descriptor down, so that every blocking call on it (connect,
 * libssh2 in blocking mode, the bootstrap's polls) fails at once, and any
 * later registration fails.  The mutex keeps a descriptor from being
 * closed (and its number reused) while it is being shut down.
 */
struct transport_abort {
	pthread_mutex_t	 mu;
	bool		 fired;
	int		 fd;		/* -1: nothing registered */
};

void	transport_abort_init(struct transport_abort *a);
void	transport_abort_destroy(struct transport_abort *a);
/* 0, or -1 when the abort already fired (the caller gives up). */
int	transport_abort_watch(struct transport_abort *a, int fd);
void	transport_abort_unwatch(struct transport_abort *a);
void	transport_abort_fire(struct transport_abort *a);
bool	transport_abort_fired(struct transport_abort *a);

/*
 * How to open: the defaults (all zero) are the interactive first start.
 * The client fills it from its options; nothing here reads them itself.
 */
struct transport_open_opts {
	int		 alive_interval_ms;	/* 0: the transport's defaults */
	int		 alive_timeout_ms;	/* for TCP keepalive, TCP_USER_TIMEOUT,
						 * ssh's ServerAlive* */
	bool		 batch;			/* never ask anything on the terminal,
						 * bounded waits only (reconnects) */
	bool		 ask_password;		/* batch, yet a password or keyboard-
						 * interactive answers may be asked
						 * for, on a terminal that is there
						 * (or through SSH_ASKPASS): a
						 * reconnect cannot do without */
	bool		 unattended;		/* nobody will ever answer (-D): a
						 * login that needs a password is
						 * refused, also at the first start */
	const char	*password;		/* -r user:PASSWORD@host: the answer
						 * to the password prompts, NULL */
	struct transport_abort *abort;		/* NULL: not cancellable */
	bool		 stub_cache;		/* --stub-cache: keep the stub in the
						 * remote's cache (bootstrap.h) */
	const char	*remote_tmpdir;		/* --remote-tmpdir: tried first for
						 * the stub; NULL: none */
	bool		 no_cmd_delimiter;	/* transport_cmd: no "--" before the
						 * host, for ssh-like commands that
						 * refuse it */
};

/*
 * A failed bootstrap says F_REMOTE for everything; a connection that
 * died or timed out during it is a network problem.  Returns the kind a
 * bootstrap failure with this message (and the transport's own view:
 * `link_dead`) really is.
 */
enum transport_fail transport_boot_fail_kind(enum transport_fail fail, const char *err,
	    bool link_dead);

/*
 * Connect, authenticate, run the bootstrap and start the stub.  Blocks
 * (bounded by ConnectTimeout and internal deadlines) and returns a
 * transport in data phase, or NULL with *fail set and a one-line reason
 * in err.  opts NULL: the defaults.
 */
struct transport *transport_ssh2_open(const struct sshcfg *cfg,
	    const struct transport_open_opts *opts, enum transport_fail *fail,
	    char *err, size_t errlen);
/* The same through `cmd`, e.g. "ssh -F cfg"; `remote` is the -r argument,
 * config_file the --ssh-config one (NULL: none). */
struct transport *transport_cmd_open(const char *cmd, const char *remote,
	    const char *config_file, const struct transport_open_opts *opts,
	    enum transport_fail *fail, char *err, size_t errlen);

/*
 * A root run opens transports in a privileged process and hands them to
 * its unprivileged side (client/privsep.h).  transport_cmd_release()
 * takes a command transport apart: its socket, its stderr pipe and the
 * command's pid become the caller's, and t is freed; -1 (t untouched)
 * when t is not a command transport.  transport_cmd_adopt() wraps a
 * socket carrying the stub's byte stream (and optionally the stderr pipe
 * of the command behind it, relayed to the log) in a transport that owns
 * both; `name` is the transport's name ("libssh2", "ssh command"), a
 * string that outlives it.  NULL when out of memory (the descriptors are
 * then still the caller's).
 */
int	transport_cmd_release(struct transport *t, int *fd, int *errfd, pid_t *pid);
struct transport *transport_cmd_adopt(int fd, int errfd, const char *name);

static inline ssize_t transport_read(struct transport *t, void *b, size_t n) { return t->ops->read(t, b, n); }
static inline ssize_t transport_write(struct transport *t, const void *b, size_t n) { return t->ops->write(t, b, n); }
static inline const char *transport_error(struct transport *t) { return t->errbuf; }

#endif
