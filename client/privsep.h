/* SPDX-License-Identifier: ISC */
/*
 * privsep.h - privilege separation of a root run.
 *
 * Started as root, cshuttle splits after everything that needs root at
 * start-up exists (the firewall helper, listeners, DNS capture sockets,
 * the control socket, the ssh configuration's answers): the process
 * started (the main process, M) stays root and keeps the main pid; its
 * child, the data path (D), drops to the privsep user (setgroups,
 * setresgid, setresuid, no capabilities left, PR_SET_NO_NEW_PRIVS) and
 * runs the tunnel.  M only brokers what needs root over a SOCK_SEQPACKET
 * pair (messages: privsep_msg.h):
 *   - OPEN: a child of M opens the transport as root (root's keys,
 *     known_hosts, agent, prompts on the terminal), then hands it over:
 *     the built-in transport is relayed by that child, which drops to the
 *     privsep user first; `-e ssh`'s socket and stderr pipe go to D, and
 *     the child drops and waits for ssh.  CANCEL kills an open in
 *     progress.
 *   - RELOAD: M reads the options' files again as root and sends their
 *     contents; D parses from them alone (filecheck_files_serve()).
 *   - NOTIFY and UP: M speaks to the service manager (NotifyAccess=main)
 *     and writes the pid file.
 * M keeps no copy of the helper's channel, so the rules go when D ends;
 * it forwards SIGTERM, SIGINT and SIGHUP to D and exits with D's status.
 */
#ifndef CSHUTTLE_PRIVSEP_H
#define CSHUTTLE_PRIVSEP_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "filecheck.h"
#include "privsep_msg.h"

struct fw;
struct transport;
struct transport_abort;

#define PRIVSEP_DEFAULT_USER	"cshuttle"
#define PRIVSEP_FALLBACK_USER	"nobody"

/*
 * Who runs the data path: name as given (--privsep-user), NULL for the
 * default (cshuttle, else nobody).  1 when there is to be no separation
 * ("root", "none", uid 0); 0 with *uid and *gid; 2 likewise, but with
 * the fallback user; -1 with a reason in err (a named user that does not
 * exist: a usage error).  privsep_warn() says what 1 means, once the log
 * goes where it will (-D, --syslog); 2's warning waits for the first
 * session to come up (privsep_up()), so that a start that fails still
 * says one line.
 */
int	privsep_user(const char *name, uid_t *uid, gid_t *gid, char *err,
	    size_t errlen);
void	privsep_warn(int how, const char *name);

/* Become uid/gid for good: no groups, capabilities or new privileges.
 * 0, or -1 with a reason in err (the caller must not go on). */
int	privsep_drop(uid_t uid, gid_t gid, char *err, size_t errlen);

/* What M does for D; arg is the caller's. */
struct privsep_hooks {
	/* In a child of M, as root: open a transport for req.  The
	 * transport, or NULL with res filled in (FAIL or EXEMPT). */
	struct transport *(*open)(void *arg, const struct privsep_open *req,
		    struct privsep_opened *res);
	/* UP: the pid file, READY=1, the -D parent's release. */
	void	(*up)(void *arg);
	/* RELOAD: read the options again, recording the files into f. */
	void	(*reload)(void *arg, struct filecheck_files *f);
	/* In M, just after the fork: let go of what is D's alone (its
	 * control socket), so that no child of M holds it past D's end. */
	void	(*parent)(void *arg);
	void	*arg;
};

/*
 * Fork D.  In D: 0, after the drop, with the channel set up for the
 * functions below (and notify.h relaying through M).  In M: the loop
 * runs until D has ended, and privsep_split() returns D's exit code plus
 * PRIVSEP_SPLIT_M (so the caller can tell the sides apart); *up tells
 * whether D ever said UP.  -1 when the split failed (nothing forked).
 */
#define PRIVSEP_SPLIT_M		1000
int	privsep_split(uid_t uid, gid_t gid, struct fw *fw,
	    const struct privsep_hooks *h, bool *up, char *err, size_t errlen);

/* D: is this the data path of a split run? */
bool	privsep_active(void);
/* D: the first session is up. */
void	privsep_up(void);
/*
 * D: have M open a transport (blocks; abort may cancel it).  The
 * transport, or NULL with res->result FAIL (fail kind and err) or EXEMPT
 * (the exemptions to apply first).  On success res->exempt holds the
 * exemptions M computed for a first open (res->nexempt 0 otherwise).
 */
struct transport *privsep_open(const struct privsep_open *req,
	    struct transport_abort *abort, struct privsep_opened *res);
/* D: the options' files as M read them now.  0, or -1 with err. */
int	privsep_reload_files(struct filecheck_files *f, char *err, size_t errlen);

#endif
