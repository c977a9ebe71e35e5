/* SPDX-License-Identifier: ISC */
/*
 * bootstrap.h - upload and start the stub through a fresh remote shell.
 *
 * The remote login shell runs bootstrap_command(), which starts /bin/sh
 * with a small POSIX script.  The exchange on the channel's stdin/stdout:
 *
 *   client: CSHUTTLE-CLIENT 2                    (at once, unasked)
 *   remote: CSHUTTLE-BOOT 2 <uname -s> <uname -m> <cc|gcc|clang|->
 *   client: UPLOAD <size> <sha256 hex> <run|cache|cc> <dir|->
 *           or ABORT <reason>
 *   cache:  remote: CSHUTTLE-EXEC <dir> cached   (a valid copy is there)
 *           or      CSHUTTLE-SEND                (then as below)
 *   client: <size bytes: the stub, or its source for "cc">
 *   remote: CSHUTTLE-EXEC <dir>                  or  CSHUTTLE-ERR <reason>
 *   ... from here on stdout/stdin carry the mux byte stream, starting
 *   with the stub's HELLO frame.  CSHUTTLE-NOTE <text> lines may come
 *   before EXEC: warnings for the user.
 *
 * The script stores the body in the first of <dir> (--remote-tmpdir),
 * $XDG_RUNTIME_DIR, $TMPDIR, /tmp, /var/tmp, /dev/shm where it may create
 * and execute files (umask 077, mktemp), checks size and hash, for "cc"
 * compiles it there, runs the stub once in probe mode, and execs it as
 * `stub <path>`; the stub unlinks <path> first, and the script removes
 * its files on every failure, so nothing stays on the remote host.  With
 * "cache" the stub lives in ~/.cache/cshuttle/stub-<sha256> instead and is
 * started without a path.  Lines the login shell prints before
 * CSHUTTLE-BOOT (from rc files) are skipped.  The client's own lines
 * coming back mean that the remote echoes its input instead of running
 * the script: that fails at once (bootstrap_remote.echo).
 */
#ifndef CSHUTTLE_BOOTSTRAP_H
#define CSHUTTLE_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport.h"
#include "remote.h"

#define BOOTSTRAP_VERSION	2
#define BOOTSTRAP_TIMEOUT_MS	30000	/* upload + start, after CSHUTTLE-BOOT */
#define BOOTSTRAP_MAX_JUNK	(64 * 1024)	/* rc-file output tolerated before it */

/*
 * What a transport's service() learns about the remote command while the
 * bootstrap runs; the bootstrap reads it to explain failures.
 */
struct bootstrap_remote {
	struct remote_lines	 err;		/* the remote's stderr, relayed to the log */
	bool		 ended;		/* the remote command has finished */
	int		 exit_status;	/* its exit status, -1 when unknown or killed */
	char		 exit_signal[32];	/* signal name when it was killed, else "" */
	bool		 echo;		/* set by the bootstrap: our own lines came
					 * back (the transport words the hint) */
};

void	bootstrap_remote_init(struct bootstrap_remote *rs);

/* The POSIX sh script (single line; no ', \, ! or newline, so that any
 * login shell, csh and fish included, passes it through unchanged). */
const char *bootstrap_script(void);
/* "exec /bin/sh -c '<script>'": what the login shell is asked to run. */
const char *bootstrap_command(void);
/* The client's first line, "CSHUTTLE-CLIENT 2\n". */
const char *bootstrap_client_line(void);

/*
 * Run the exchange above over t (non-blocking ops; t->ops->service() keeps
 * rs up to date), with the stub_cache and remote_tmpdir of opts (NULL:
 * neither).  boot_ms bounds the wait for CSHUTTLE-BOOT (< 0: no limit,
 * e.g. while ssh may be prompting on the terminal); once it has arrived
 * the rest must finish within BOOTSTRAP_TIMEOUT_MS, or within the boot
 * deadline when that is earlier.  Returns 0 when the stub runs (t is in
 * data phase, nothing of the mux stream consumed), or -1 with *fail
 * (TRANSPORT_F_REMOTE) and a one-line reason in err.
 */
int	bootstrap_run(struct transport *t, struct bootstrap_remote *rs,
	    const struct transport_open_opts *opts, int boot_ms,
	    enum transport_fail *fail, char *err, size_t errlen);

/*
 * Wait (poll) until t's descriptor is ready for what t->ops->events()
 * asks, or the deadline passes, or at most max_ms (< 0: no cap).
 * Returns 1 ready, 0 timeout, -1 error.
 */
int	bootstrap_wait(struct transport *t, int64_t deadline, int max_ms);

/*
 * Replace the embedded stub table (stub_find()/stub_supported()) with
 * another lookup, or restore it with NULL.  The seam tests use to upload
 * small fake stubs.
 */
struct stub_image;
typedef const struct stub_image *(*bootstrap_find_fn)(const char *machine);
void	bootstrap_set_stubs(bootstrap_find_fn find, const char *supported);

/* Pure helpers, exposed for the unit tests. */
int	bootstrap_parse_boot(const char *line, int *version, char *os, size_t oslen,
	    char *machine, size_t mlen, char *cc, size_t cclen);
void	bootstrap_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
