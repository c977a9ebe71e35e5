/* SPDX-License-Identifier: ISC */
/*
 * fw_pfctl.c - running pfctl (see fw_pfctl.h).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fw_pf.h"
#include "fw_pfctl.h"
#include "spawn.h"
#include "sysdep.h"

void
fw_pfctl_init(struct fw_pfctl *c, const char *path, enum fw_pfctl_os os, uint16_t port)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	c->os = os;
	c->port = port;
	(void)fw_pf_anchor(port, c->anchor, sizeof(c->anchor));
}

static int	fw_pfctl_fail(struct fw_pfctl *c, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

static int
fw_pfctl_fail(struct fw_pfctl *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* "pfctl -a cshuttle/12300 -f -", for messages. */
static void
fw_pfctl_cmd(const char *const *argv, char *buf, size_t len)
{
	size_t	off = 0;
	int	i, n;

	buf[0] = '\0';
	for (i = 0; argv[i] != NULL && off < len; i++) {
		n = snprintf(buf + off, len - off, "%s%s", i > 0 ? " " : "",
		    i == 0 ? "pfctl" : argv[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/*
 * Run pfctl with argv[1..] (argv[0] is replaced by c->path), `in` on its
 * stdin (NULL: nothing), its stdout into out (NUL-terminated, at most
 * outlen - 1 bytes kept; out may be NULL).  0 when it exits 0; -1 with
 * "pfctl ARGS: exited with status 1: FIRST LINE OF STDERR" in c->err.
 * Every pipe is served at once: a large ruleset on stdin must not wait
 * for pfctl to be able to write its output.
 */
static int
fw_pfctl_run(struct fw_pfctl *c, const char **argv, const char *in, char *out,
    size_t outlen)
{
	struct spawn_opts	 o;
	struct pollfd		 pfd[3];
	char			 cmd[160], why[200], sbuf[64], sink[4096];
	char			*ebuf = c->errtext;
	int			 inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	size_t			 inlen = in != NULL ? strlen(in) : 0, inoff = 0;
	size_t			 olen = 0, elen = 0;
	int64_t			 deadline;
	ssize_t			 n;
	pid_t			 pid;
	int			 status, i, left, ret = -1;
	char			*nl;

	argv[0] = c->path;
	fw_pfctl_cmd(argv, cmd, sizeof(cmd));
	/* stdin a socket: a pfctl gone before it read everything makes
	 * send() fail with EPIPE, where a pipe would raise SIGPIPE. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, inp) == -1 ||
	    sysdep_nosigpipe(inp[1]) == -1 || pipe(outp) == -1 || pipe(errp) == -1) {
		fw_pfctl_fail(c, "%s: pipe: %s", cmd, strerror(errno));
		goto out;
	}
	spawn_opts_init(&o);
	o.argv = argv;
	o.fd[0] = inp[0];
	o.fd[1] = outp[1];
	o.fd[2] = errp[1];
	o.close_others = true;
	if ((pid = spawn_start(&o, why, sizeof(why))) == -1) {
		fw_pfctl_fail(c, "%s: %s", cmd, why);
		goto out;
	}
	close(inp[0]);
	close(outp[1]);
	close(errp[1]);
	inp[0] = outp[1] = errp[1] = -1;
	(void)fcntl(inp[1], F_SETFL, O_NONBLOCK);
	if (inlen == 0) {
		close(inp[1]);
		inp[1] = -1;
	}
	deadline = (int64_t)clock_ms() + FW_PFCTL_TIMEOUT_MS;
	pfd[0].fd = inp[1];
	pfd[0].events = POLLOUT;
	pfd[1].fd = outp[0];
	pfd[2].fd = errp[0];
	pfd[1].events = pfd[2].events = POLLIN;
	while (pfd[0].fd != -1 || pfd[1].fd != -1 || pfd[2].fd != -1) {
		if ((left = clock_remaining_ms(deadline)) == 0) {
			(void)kill(pid, SIGKILL);
			(void)spawn_wait(pid, -1, NULL);
			fw_pfctl_fail(c, "%s: no answer within %d s", cmd,
			    FW_PFCTL_TIMEOUT_MS / 1000);
			goto out;
		}
		if (poll(pfd, 3, left) == -1) {
			if (errno == EINTR)
				continue;
			fw_pfctl_fail(c, "%s: poll: %s", cmd, strerror(errno));
			(void)spawn_wait(pid, 0, NULL);
			goto out;
		}
		if (pfd[0].fd != -1 && pfd[0].revents != 0) {
			n = send(inp[1], in + inoff, inlen - inoff, MSG_NOSIGNAL);
			if (n > 0)
				inoff += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) || inoff == inlen) {
				close(inp[1]);
				pfd[0].fd = inp[1] = -1;
			}
		}
		for (i = 1; i < 3; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (i == 1 && out != NULL && olen + 1 < outlen)
				n = read(pfd[i].fd, out + olen, outlen - 1 - olen);
			else if (i == 2 && elen + 1 < sizeof(c->errtext))
				n = read(pfd[i].fd, ebuf + elen, sizeof(c->errtext) - 1 - elen);
			else
				n = read(pfd[i].fd, sink, sizeof(sink));	/* past the bound */
			if (n > 0 && i == 1 && out != NULL && olen + 1 < outlen)
				olen += (size_t)n;
			else if (n > 0 && i == 2 && elen + 1 < sizeof(c->errtext))
				elen += (size_t)n;
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				if (i == 1)
					outp[0] = -1;
				else
					errp[0] = -1;
			}
		}
	}
	if (out != NULL)
		out[olen] = '\0';
	ebuf[elen] = '\0';
	if (spawn_wait(pid, FW_PFCTL_TIMEOUT_MS, &status) != 0) {
		fw_pfctl_fail(c, "%s: did not exit", cmd);
		goto out;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		ret = 0;
		goto out;
	}
	nl = strchr(ebuf, '\n');
	fw_pfctl_fail(c, "%s: %s%s%.*s", cmd, spawn_status_text(status, sbuf, sizeof(sbuf)),
	    ebuf[0] != '\0' ? ": " : "", nl != NULL ? (int)(nl - ebuf) : (int)strlen(ebuf),
	    ebuf);
out:
	for (i = 0; i < 2; i++) {
		if (inp[i] != -1)
			close(inp[i]);
		if (outp[i] != -1)
			close(outp[i]);
		if (errp[i] != -1)
			close(errp[i]);
	}
	return ret;
}

int
fw_pfctl_enable(struct fw_pfctl *c)
{
	const char	*info[] = { NULL, "-s", "info", NULL };
	const char	*en[] = { NULL, "-e", NULL };
	const char	*ref[] = { NULL, "-E", NULL };
	char		 out[4096], *t;
	size_t		 n;

	if (c->os == FW_PFCTL_MACOS) {
		if (fw_pfctl_run(c, ref, NULL, NULL, 0) != 0)
			return -1;
		/* "Token : 1234..." on stderr: the reference to give back. */
		if ((t = strstr(c->errtext, "Token : ")) == NULL)
			return fw_pfctl_fail(c, "pfctl -E: no token in its answer");
		t += strlen("Token : ");
		n = strspn(t, "0123456789");
		if (n == 0 || n >= sizeof(c->token))
			return fw_pfctl_fail(c, "pfctl -E: no token in its answer");
		memcpy(c->token, t, n);
		c->token[n] = '\0';
		return 0;
	}
	if (fw_pfctl_run(c, info, NULL, out, sizeof(out)) != 0)
		return -1;
	if (strstr(out, "Status: Enabled") != NULL)
		return 0;
	if (fw_pfctl_run(c, en, NULL, NULL, 0) != 0)
		return -1;
	c->enabled_here = true;
	return 0;
}

/* Does a line of text start with `want` (after blanks)? */
static bool
fw_pfctl_has_line(const char *text, const char *want)
{
	const char	*p = text;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t");
		if (strncmp(p, want, strlen(want)) == 0)
			return true;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return false;
}

int
fw_pfctl_hooked(struct fw_pfctl *c)
{
	const char	*nat[] = { NULL, "-s", "nat", NULL };
	const char	*rules[] = { NULL, "-s", "rules", NULL };
	char		 out[FW_PFCTL_MAX_OUTPUT];
	bool		 rdr, filt;

	if (fw_pfctl_run(c, nat, NULL, out, sizeof(out)) != 0)
		return -1;
	rdr = fw_pfctl_has_line(out, "rdr-anchor \"" FW_PF_ANCHOR_ROOT "/*\"");
	if (fw_pfctl_run(c, rules, NULL, out, sizeof(out)) != 0)
		return -1;
	filt = fw_pfctl_has_line(out, "anchor \"" FW_PF_ANCHOR_ROOT "/*\"");
	if (rdr && filt)
		return 0;
	return fw_pfctl_fail(c, "the main pf ruleset does not reach cshuttle's anchors: add "
	    "%s%s%s to /etc/pf.conf (after its other rdr-anchor and anchor lines) and "
	    "load it with 'pfctl -f /etc/pf.conf'",
	    rdr ? "" : "'rdr-anchor \"" FW_PF_ANCHOR_ROOT "/*\"'",
	    !rdr && !filt ? " and " : "",
	    filt ? "" : "'anchor \"" FW_PF_ANCHOR_ROOT "/*\"'");
}

int
fw_pfctl_load(struct fw_pfctl *c, const char *rules)
{
	const char	*argv[] = { NULL, "-a", c->anchor, "-f", "-", NULL };

	return fw_pfctl_run(c, argv, rules, NULL, 0);
}

static int
fw_pfctl_flush(struct fw_pfctl *c, const char *anchor)
{
	const char	*argv[] = { NULL, "-a", anchor, "-F", "all", NULL };

	return fw_pfctl_run(c, argv, NULL, NULL, 0);
}

int
fw_pfctl_stale(struct fw_pfctl *c, bool (*alive)(uint16_t port), int *flushed)
{
	const char	*argv[] = { NULL, "-a", FW_PF_ANCHOR_ROOT, "-s", "Anchors", NULL };
	char		 out[FW_PFCTL_MAX_OUTPUT], name[32], *p, *end;
	unsigned long	 port;
	size_t		 n;
	int		 ret = 0;

	*flushed = 0;
	if (fw_pfctl_run(c, argv, NULL, out, sizeof(out)) != 0)
		return -1;
	for (p = out; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		p += strspn(p, " \t");
		end = p + strcspn(p, "\n");
		n = strlen(FW_PF_ANCHOR_ROOT "/");
		if ((size_t)(end - p) <= n || strncmp(p, FW_PF_ANCHOR_ROOT "/", n) != 0)
			continue;
		errno = 0;
		port = strtoul(p + n, NULL, 10);
		if (port == 0 || port > 65535 || (uint16_t)port == c->port ||
		    alive((uint16_t)port))
			continue;
		(void)fw_pf_anchor((uint16_t)port, name, sizeof(name));
		if (fw_pfctl_flush(c, name) != 0)
			ret = -1;
		else
			(*flushed)++;
	}
	return ret;
}

int
fw_pfctl_release(struct fw_pfctl *c)
{
	const char	*rel[] = { NULL, "-X", c->token, NULL };
	const char	*dis[] = { NULL, "-d", NULL };
	const char	*list[] = { NULL, "-a", FW_PF_ANCHOR_ROOT, "-s", "Anchors", NULL };
	char		 first[sizeof(c->err)] = "", out[FW_PFCTL_MAX_OUTPUT];

	/* Port 0: no anchor was ever named, none to flush. */
	if (c->port != 0 && fw_pfctl_flush(c, c->anchor) != 0)
		memcpy(first, c->err, sizeof(first));
	if (c->os == FW_PFCTL_MACOS && c->token[0] != '\0') {
		if (fw_pfctl_run(c, rel, NULL, NULL, 0) != 0 && first[0] == '\0')
			memcpy(first, c->err, sizeof(first));
		c->token[0] = '\0';
	} else if (c->os == FW_PFCTL_FREEBSD && c->enabled_here) {
		/* Another instance's anchor still loaded: pf stays on. */
		if (fw_pfctl_run(c, list, NULL, out, sizeof(out)) == 0 &&
		    !fw_pfctl_has_line(out, FW_PF_ANCHOR_ROOT "/") &&
		    fw_pfctl_run(c, dis, NULL, NULL, 0) != 0 && first[0] == '\0')
			memcpy(first, c->err, sizeof(first));
		c->enabled_here = false;
	}
	if (first[0] == '\0')
		return 0;
	memcpy(c->err, first, sizeof(c->err));
	return -1;
}
