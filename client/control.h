/* SPDX-License-Identifier: ISC */
/*
 * control.h - a running tunnel's control socket, which `cshuttle status`
 * reads (docs/CONTROL.md; the lines are control_proto.h's).
 *
 * One AF_UNIX stream socket per tunnel, DIR/NAME.sock, where DIR is
 * $CSHUTTLE_RUNTIME_DIR if set, else /run/cshuttle for root and
 * $XDG_RUNTIME_DIR/cshuttle for other users (control_dir()).  The
 * directory must belong to the user and be writable by nobody else; the
 * socket is mode 0600, and every connection's peer (SO_PEERCRED) must be
 * the same user or root, or it is closed at once.
 *
 * The socket is made at start-up, before the first session: a stale one
 * (nobody accepts on it) is replaced, a live one means that a tunnel of
 * that name runs already.  The event loop serves it without ever
 * blocking: non-blocking descriptors, requests and replies of bounded
 * size, at most CONTROL_MAX_CLIENTS connections, and a connection that
 * does not take its reply within CONTROL_STALL_MS (or stays idle for
 * CONTROL_IDLE_MS) is dropped.
 *
 * Functions return 0 or -1 with a one-line reason in err, unless they
 * say otherwise.
 */
#ifndef CSHUTTLE_CONTROL_H
#define CSHUTTLE_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control_proto.h"

#define CONTROL_ENV_DIR		"CSHUTTLE_RUNTIME_DIR"
#define CONTROL_ROOT_DIR	"/run/cshuttle"
#define CONTROL_SUFFIX		".sock"
#define CONTROL_MAX_CLIENTS	8
#define CONTROL_STALL_MS	5000	/* a reply not taken: dropped */
#define CONTROL_IDLE_MS		60000	/* no request: dropped */
#define CONTROL_TICK_MS		1000	/* rate samples and the checks above */

#define CONTROL_E_LIVE		(-2)	/* control_open(): the name is in use */

struct control;
struct ev_loop;

/*
 * Everything the status shows but the name, the process and the rates,
 * which the control module adds itself; called on the loop for each
 * request.
 */
typedef void control_fill_fn(void *arg, struct control_status *st);
/* The byte counters the rates come from (received, sent). */
typedef void control_bytes_fn(void *arg, uint64_t *in, uint64_t *out);

/*
 * The directory of the control sockets into out.  With `create` (a
 * tunnel's), a missing one is made, mode 0700 (its last component
 * only), and then checked: a directory (not a symbolic link) owned by
 * this user and not writable by group or others.  Without (`cshuttle
 * status`), only the path: the reader checks each socket's peer.
 */
int	control_dir(char *out, size_t outlen, bool create, char *err, size_t errlen);

/*
 * The name a tunnel gets without --name: the profile of a --config file
 * (/etc/cshuttle/NAME.conf gives NAME) when that is a valid name, else
 * the listener port.
 */
void	control_name_default(const char *config, unsigned port, char *out, size_t outlen);

/*
 * Make the socket for tunnel `name` in control_dir().  0 with *out set;
 * CONTROL_E_LIVE when a tunnel of that name answers on it; -1 for
 * anything else.  Either failure leaves a reason in err.
 */
int	control_open(const char *name, struct control **out, char *err, size_t errlen);
const char *control_path(const struct control *c);

/* Serve the socket in loop from now on (until control_stop()).  0, or
 * -errno when the loop cannot take it. */
int	control_start(struct control *c, struct ev_loop *loop, control_fill_fn *fill,
	    control_bytes_fn *bytes, void *arg);
/* From the loop's before-sleep hook: free the connections that ended in
 * the pass.  Accepts NULL. */
void	control_collect(struct control *c);
/* Leave the loop: every connection closed.  Accepts NULL and a module
 * never started. */
void	control_stop(struct control *c);
/* Stop, close and remove the socket (only if it is still ours).
 * Accepts NULL. */
void	control_close(struct control *c);
/* After a fork, in the process that does not serve the socket: close
 * its descriptors (the socket and the name's lock stay with the other
 * process) and remember the socket, which control_close() still removes
 * (it may be the only one allowed to).  Accepts NULL. */
void	control_detach(struct control *c);

#endif
