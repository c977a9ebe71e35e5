/* SPDX-License-Identifier: ISC */
/*
 * ssh_drive.c - drive a transport against a real sshd for
 * bootstrap_test.sh: open it (libssh2, or an external command with
 * --cmd), bootstrap a fake stub (a shell script that answers the
 * bootstrap's probe), and check that bytes round-trip through it in the
 * data phase, or that opening fails the expected way.
 *
 *   ssh_drive [options]
 *     --host H --port P --user U        destination (libssh2)
 *     --identity FILE (repeatable)      IdentityFile
 *     --identities-only                 IdentitiesOnly yes
 *     --known-hosts FILE                UserKnownHostsFile
 *     --strict ask|yes|no|accept-new    StrictHostKeyChecking
 *     --agent SOCK|none                 IdentityAgent (default none)
 *     --cmd CMD --remote R              use transport_cmd_open instead
 *     --stub echo|exit3|noprobe         fake stub (default echo); noprobe is
 *                                       an ELF header for no real machine
 *     --stub-cache                      like cshuttle --stub-cache
 *     --remote-tmpdir DIR               like cshuttle --remote-tmpdir DIR
 *     --mib N                           bytes to echo each way (default 12)
 *     --expect-fail connect|hostkey|auth|remote --match TEXT
 *
 * Exit status 0 when everything went as expected, 1 otherwise (the
 * reason on stderr).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootstrap.h"
#include "clock.h"
#include "log.h"
#include "remote.h"
#include "sshconfig.h"
#include "stubs.h"
#include "transport.h"

/* The bootstrap runs each stub once with CSHUTTLE_STUB_PROBE set first
 * and wants this answer; from the cache a stub runs without a path. */
#define DRIVE_PROBE_OK	"[ -n \"$CSHUTTLE_STUB_PROBE\" ] && { echo CSHUTTLE-PROBE-OK; exit 0; }\n"
#define DRIVE_RM_SELF	"if [ $# -gt 0 ]; then rm -f \"$1\"; fi\n"

/* It speaks up only once the first byte has arrived: the client sends
 * data only after the bootstrap, so the line is surely the stub's own
 * (logged as such), not one of the bootstrap's, whatever the order in
 * which stdout and stderr reach the client.  Then it gives sshd time to
 * pass the line on before the echo, which the driver stops reading at
 * once when it is complete. */
static const char stub_echo[] = "#!/bin/sh\n" DRIVE_PROBE_OK DRIVE_RM_SELF
    "dd bs=1 count=1 2>/dev/null\necho \"fake stub running\" >&2\nsleep 0.3\n"
    "exec cat\n";
static const char stub_exit3[] = "#!/bin/sh\n" DRIVE_PROBE_OK DRIVE_RM_SELF
    "head -c 5\nexit 3\n";
/* A 64-bit ELF header for machine 0xbeef: execve() says ENOEXEC, as for a
 * stub built for another CPU. */
static const char stub_noprobe[64] =
    "\177ELF\2\1\1\0\0\0\0\0\0\0\0\0\2\0\357\276\1\0\0\0";

static struct stub_image	drive_image;

static const struct stub_image *
drive_find(const char *machine)
{
	return &drive_image;
}

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
die(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "ssh_drive: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return 1;
}

/* Echo `total` bytes through the stub with non-blocking reads and writes. */
static int
echo_test(struct transport *t, size_t total)
{
	unsigned char	*out, *in;
	size_t		 woff = 0, roff = 0, len, i;
	ssize_t		 n;
	int64_t		 start = (int64_t)clock_ms(), deadline = start + 120000;
	int		 rc = 1;

	if ((out = malloc(total)) == NULL || (in = malloc(total)) == NULL)
		return die("%s", "out of memory");
	for (i = 0; i < total; i++)
		out[i] = (unsigned char)(i * 131 + (i >> 13));
	while (roff < total) {
		if ((int64_t)clock_ms() > deadline) {
			fprintf(stderr, "ssh_drive: stalled at %zu written, %zu read\n", woff, roff);
			goto out;
		}
		t->ops->service(t);
		while (woff < total) {
			len = total - woff < TRANSPORT_MAX_WRITE ? total - woff : TRANSPORT_MAX_WRITE;
			n = transport_write(t, out + woff, len);
			if (n == TRANSPORT_AGAIN)
				break;
			if (n <= 0) {
				die("write failed: %s", transport_error(t));
				goto out;
			}
			woff += (size_t)n;
		}
		for (;;) {
			n = transport_read(t, in + roff, total - roff);
			if (n == TRANSPORT_AGAIN)
				break;
			if (n <= 0) {
				die("read failed or EOF: %s", transport_error(t));
				goto out;
			}
			roff += (size_t)n;
			if (roff == total)
				break;
		}
		if (roff < total && bootstrap_wait(t, deadline, 1000) < 0) {
			die("poll: %s", strerror(errno));
			goto out;
		}
	}
	if (memcmp(in, out, total) != 0) {
		die("%s", "echoed data differs");
		goto out;
	}
	fprintf(stderr, "ssh_drive: echoed %zu bytes each way in %lld ms\n", total,
	    (long long)((int64_t)clock_ms() - start));
	rc = 0;
out:
	free(out);
	free(in);
	return rc;
}

/* The exit3 stub echoes 5 bytes and exits with status 3. */
static int
exit_test(struct transport *t)
{
	char	buf[16];
	size_t	got = 0;
	ssize_t	n;
	int64_t	deadline = (int64_t)clock_ms() + 30000;

	while ((n = transport_write(t, "hello", 5)) == TRANSPORT_AGAIN)
		(void)bootstrap_wait(t, deadline, 100);
	if (n != 5)
		return die("write failed: %s", transport_error(t));
	for (;;) {
		t->ops->service(t);
		n = transport_read(t, buf + got, sizeof(buf) - got);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (n != TRANSPORT_AGAIN)
			return die("read failed: %s", transport_error(t));
		if ((int64_t)clock_ms() > deadline)
			return die("%s", "no EOF");
		(void)bootstrap_wait(t, deadline, 100);
	}
	if (got != 5 || memcmp(buf, "hello", 5) != 0)
		return die("%s", "wrong echo before EOF");
	if (strstr(transport_error(t), "status 3") == NULL)
		return die("EOF message without the exit status: %s", transport_error(t));
	fprintf(stderr, "ssh_drive: EOF: %s\n", transport_error(t));
	return 0;
}

int
main(int argc, char **argv)
{
	struct sshcfg		 cfg;
	struct transport	*t;
	enum transport_fail	 fail = TRANSPORT_F_NONE, want = TRANSPORT_F_NONE;
	const char		*cmd = NULL, *remote = NULL, *match = NULL, *stub = "echo";
	struct transport_open_opts opts;
	char			 err[1024], addr[ADDR_STRLEN];
	size_t			 mib = 12;
	int			 i, rc;

	memset(&cfg, 0, sizeof(cfg));
	memset(&opts, 0, sizeof(opts));
	cfg.port = 22;
	cfg.strict = SSHCFG_STRICT_YES;
	cfg.connect_timeout = 5;
	cfg.identity_agent = (char *)"none";
	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--identities-only") == 0) {
			cfg.identities_only = true;
			continue;
		}
		if (strcmp(o, "--stub-cache") == 0) {
			opts.stub_cache = true;
			continue;
		}
		if (v == NULL)
			return die("missing value for %s", o);
		i++;
		if (strcmp(o, "--host") == 0)
			cfg.alias = cfg.hostname = (char *)v;
		else if (strcmp(o, "--port") == 0)
			cfg.port = atoi(v);
		else if (strcmp(o, "--user") == 0)
			cfg.user = (char *)v;
		else if (strcmp(o, "--identity") == 0 && cfg.nidentity < SSHCFG_MAX_IDENTITIES)
			cfg.identity[cfg.nidentity++] = (char *)v;
		else if (strcmp(o, "--known-hosts") == 0 && cfg.nknown_hosts < SSHCFG_MAX_KNOWNHOSTS)
			cfg.known_hosts[cfg.nknown_hosts++] = (char *)v;
		else if (strcmp(o, "--strict") == 0)
			cfg.strict = strcmp(v, "ask") == 0 ? SSHCFG_STRICT_ASK :
			    strcmp(v, "no") == 0 ? SSHCFG_STRICT_NO :
			    strcmp(v, "accept-new") == 0 ? SSHCFG_STRICT_ACCEPT_NEW : SSHCFG_STRICT_YES;
		else if (strcmp(o, "--agent") == 0)
			cfg.identity_agent = (char *)v;
		else if (strcmp(o, "--cmd") == 0)
			cmd = v;
		else if (strcmp(o, "--remote") == 0)
			remote = v;
		else if (strcmp(o, "--stub") == 0)
			stub = v;
		else if (strcmp(o, "--remote-tmpdir") == 0)
			opts.remote_tmpdir = v;
		else if (strcmp(o, "--mib") == 0)
			mib = (size_t)atoi(v);
		else if (strcmp(o, "--match") == 0)
			match = v;
		else if (strcmp(o, "--expect-fail") == 0)
			want = strcmp(v, "connect") == 0 ? TRANSPORT_F_CONNECT :
			    strcmp(v, "hostkey") == 0 ? TRANSPORT_F_HOSTKEY :
			    strcmp(v, "auth") == 0 ? TRANSPORT_F_AUTH : TRANSPORT_F_REMOTE;
		else
			return die("unknown option %s", o);
	}
	signal(SIGPIPE, SIG_IGN);
	log_init("ssh_drive", getenv("DRIVE_VERBOSE") ? atoi(getenv("DRIVE_VERBOSE")) : 0);

	drive_image.arch = "fake";
	drive_image.machines = "any";
	if (strcmp(stub, "exit3") == 0) {
		drive_image.data = (const unsigned char *)stub_exit3;
		drive_image.size = sizeof(stub_exit3) - 1;
	} else if (strcmp(stub, "noprobe") == 0) {
		drive_image.data = (const unsigned char *)stub_noprobe;
		drive_image.size = sizeof(stub_noprobe);
	} else if (strcmp(stub, "echo") == 0) {
		drive_image.data = (const unsigned char *)stub_echo;
		drive_image.size = sizeof(stub_echo) - 1;
	} else
		return die("unknown stub %s", stub);
	bootstrap_set_stubs(drive_find, "any");

	if (cmd != NULL)
		t = transport_cmd_open(cmd, remote ? remote : "localhost", NULL, &opts, &fail,
		    err, sizeof(err));
	else
		t = transport_ssh2_open(&cfg, &opts, &fail, err, sizeof(err));

	if (want != TRANSPORT_F_NONE) {
		if (t != NULL) {
			t->ops->free(t);
			return die("%s", "opened, but a failure was expected");
		}
		fprintf(stderr, "ssh_drive: failed as expected (%d): %s\n", (int)fail, err);
		if (fail != want)
			return die("%s", "wrong failure kind");
		if (match != NULL && strstr(err, match) == NULL)
			return die("message lacks \"%s\"", match);
		return 0;
	}
	if (t == NULL)
		return die("open failed: %s", err);
	if (cmd == NULL) {
		if (t->peer.family != ADDR_V4 && t->peer.family != ADDR_V6) {
			t->ops->free(t);
			return die("%s", "no peer address recorded");
		}
		fprintf(stderr, "ssh_drive: connected to %s port %u\n",
		    addr_format(&t->peer, false, addr, sizeof(addr)), t->peer.port);
	}
	/* A tiny send buffer forces partial packet writes (the EAGAIN rules). */
	if (getenv("DRIVE_SNDBUF") != NULL) {
		int sz = atoi(getenv("DRIVE_SNDBUF"));

		(void)setsockopt(t->ops->fd(t), SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	if (strcmp(stub, "exit3") == 0)
		rc = exit_test(t);
	else
		rc = echo_test(t, mib * 1024 * 1024 + 1234);
	t->ops->free(t);
	return rc;
}
