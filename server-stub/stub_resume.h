/* SPDX-License-Identifier: ISC */
/*
 * stub_resume.h - where a stub waits for a new link when its SSH session
 * is lost (docs/PROTOCOL.md section 11).
 *
 * After RESUME_SETUP the stub makes a private directory (mkdtemp: 0700)
 * under $TMPDIR or /tmp, listens on a Unix socket in it and sends the
 * client RESUME_TOKEN: a random secret and the socket's path.  When the
 * link is lost it keeps its streams for the grace period.  The client's
 * next session starts a fresh stub and sends it ATTACH with the token;
 * that stub (the joiner, stub_resume_join) connects to the socket,
 * passes the secret and its own stdin and stdout (SCM_RIGHTS), and once
 * the secret is accepted tells the client ATTACHED.  The waiting stub
 * then takes those descriptors as its link.  The joiner stays, idle,
 * until that link is given up: sshd stops writing to a session whose
 * command has exited, so it must not exit first.  The socket and
 * the directory are removed when the stub ends, also on SIGTERM, SIGHUP
 * and SIGINT; only SIGKILL leaves them.
 */
#ifndef CSHUTTLE_STUB_RESUME_H
#define CSHUTTLE_STUB_RESUME_H

#include <stdbool.h>
#include <stdint.h>

#include "ev.h"
#include "mux.h"
#include "proto.h"

struct stub_resume {
	struct ev_loop	*loop;
	struct mux	*mux;
	bool		 armed;		/* RESUME_TOKEN sent */
	bool		 bye;		/* the client ends on purpose */
	bool		 waiting;	/* the link is lost: grace running */
	uint32_t	 grace_ms;
	uint8_t		 secret[PROTO_SECRET_LEN];
	char		 dir[PROTO_TOKEN_PATH_MAX + 1];
	char		 path[PROTO_TOKEN_PATH_MAX + 1];
	int		 lfd;		/* the listening socket */
	struct ev_io	 lio;
	struct ev_timer	 grace;
	/* An attach in progress: the joiner's connection and descriptors;
	 * taken once it closes the connection after our 'Y'. */
	int		 cfd;
	struct ev_io	 cio;
	int		 nfd[2];
	bool		 verified;
	int		 link_conn;	/* the joiner of the link in use */
	/* The stub's: take these descriptors as the link (stdin, stdout);
	 * the grace ran out. */
	void		(*take)(void *arg, int in, int out);
	void		(*expired)(void *arg);
	void		*arg;
	uint64_t	 attaches, refused;
};

void	stub_resume_init(struct stub_resume *r, struct ev_loop *loop, struct mux *m,
	    void (*take)(void *, int, int), void (*expired)(void *), void *arg);
/* RESUME_SETUP: make the socket and send RESUME_TOKEN.  0, or -1 (logged;
 * the session goes on without resume). */
int	stub_resume_setup(struct stub_resume *r, uint32_t grace_s);
/* The link is lost: true when the stub waits (the grace runs), false when
 * it should end. */
bool	stub_resume_lost(struct stub_resume *r);
/* A new link was taken: the grace stops. */
void	stub_resume_taken(struct stub_resume *r);
/* The link in use is given up: its joiner may go. */
void	stub_resume_release(struct stub_resume *r);
/* Remove the socket and the directory; close everything. */
void	stub_resume_free(struct stub_resume *r);

/*
 * The waiting stub's side of an attach: read the joiner's message from fd
 * (non-blocking).  1 when it is the secret, alone, with exactly two
 * descriptors, then in nfd[]; 0 when it is anything else, every
 * descriptor it carried closed; -1 when nothing is there yet.
 */
int	stub_resume_recv(int fd, const uint8_t secret[PROTO_SECRET_LEN], int nfd[2]);

/*
 * The joiner: hand our stdin and stdout to the stub waiting at path,
 * proving secret.  PROTO_ATTACH_JOINED when it accepted them, with the
 * connection in *conn: send ATTACHED, flush it, then stub_resume_idle.
 * Else another PROTO_ATTACH_* status.
 */
int	stub_resume_join(const uint8_t secret[PROTO_SECRET_LEN], const char *path,
	    int *conn);
/* The joiner after ATTACHED: tell the waiting stub to go on, let go of
 * the link, wait until the waiting stub gives it up, exit. */
void	stub_resume_idle(int conn) __attribute__((noreturn));

#endif
