/* SPDX-License-Identifier: ISC */
/*
 * sshconfig_run.c - asking OpenSSH itself: `ssh -G` applies Match,
 * Include, canonicalisation and ssh's own defaults exactly as the real
 * client would, and prints the result as "keyword value" lines.
 *
 * ssh runs without a shell, with /dev/null as stdin and none of our
 * descriptors; a Match exec in the user's configuration can make it
 * slow or chatty, so both the time and the amount of output are
 * bounded, and on either limit it is killed.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "spawn.h"
#include "sshconfig_priv.h"
#include "sysdep.h"

#define SSHCFG_SSH_TIMEOUT_MS	10000		/* ssh -G may run Match exec */
#define SSHCFG_MAX_OUTPUT	(256 * 1024)	/* ssh -G prints ~6 KiB */
#define SSHCFG_MAX_STDERR	4096

bool
sshcfg_run_find(char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p, *colon;
	size_t dlen;
	int n;

	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = colon + 1) {
		colon = strchr(p, ':');
		dlen = colon != NULL ? (size_t)(colon - p) : strlen(p);
		/* An empty entry means the current directory: not for us. */
		if (dlen > 0) {
			n = snprintf(buf, len, "%.*s/ssh", (int)dlen, p);
			if (n > 0 && (size_t)n < len && access(buf, X_OK) == 0)
				return true;
		}
		if (colon == NULL)
			return false;
	}
}

/*
 * Run `ssh -G` and collect its standard output (NUL-terminated, in
 * *out), its first stderr line being the reason when it fails.
 */
static int
sshcfg_run_output(const char *ssh, const struct sshcfg_remote *r,
    const char *config_file, char **out, char *err, size_t errlen)
{
	struct spawn_opts o;
	const char *argv[12];
	char portstr[8], errbuf[SSHCFG_MAX_STDERR + 1], scratch[512];
	char why[256], *obuf = NULL;
	struct pollfd pfd[2];
	size_t olen = 0, elen = 0;
	int64_t deadline;
	ssize_t n;
	pid_t pid = -1;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int ac = 0, i, status, left, rc, ret = -1;

	*out = NULL;
	argv[ac++] = ssh;
	argv[ac++] = "-G";
	if (config_file != NULL) {
		argv[ac++] = "-F";
		argv[ac++] = config_file;
	}
	if (r->user != NULL) {
		argv[ac++] = "-l";
		argv[ac++] = r->user;
	}
	if (r->port != 0) {
		snprintf(portstr, sizeof(portstr), "%d", r->port);
		argv[ac++] = "-p";
		argv[ac++] = portstr;
	}
	argv[ac++] = "--";
	argv[ac++] = r->host;
	argv[ac] = NULL;

	if ((obuf = malloc(SSHCFG_MAX_OUTPUT + 1)) == NULL) {
		sshcfg_fail(err, errlen, "out of memory");
		goto out;
	}
	if (sysdep_pipe(outp, 0) == -1 || sysdep_pipe(errp, 0) == -1) {
		sshcfg_fail(err, errlen, "ssh -G: %s", strerror(errno));
		goto out;
	}
	spawn_opts_init(&o);
	o.argv = argv;
	o.fd[0] = SPAWN_NULL;
	o.fd[1] = outp[1];
	o.fd[2] = errp[1];
	o.close_others = true;
	if ((pid = spawn_start(&o, why, sizeof(why))) == -1) {
		sshcfg_fail(err, errlen, "ssh -G: %s", why);
		goto out;
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;

	deadline = (int64_t)clock_ms() + SSHCFG_SSH_TIMEOUT_MS;
	pfd[0].fd = outp[0];
	pfd[1].fd = errp[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (pfd[0].fd != -1 || pfd[1].fd != -1) {
		if ((left = clock_remaining_ms(deadline)) == 0) {
			sshcfg_fail(err, errlen, "ssh -G: no answer within %d s",
			    SSHCFG_SSH_TIMEOUT_MS / 1000);
			goto out;
		}
		if (poll(pfd, 2, left) == -1) {
			if (errno == EINTR)
				continue;
			sshcfg_fail(err, errlen, "ssh -G: poll: %s",
			    strerror(errno));
			goto out;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (i == 0)
				n = read(pfd[0].fd, obuf + olen,
				    SSHCFG_MAX_OUTPUT + 1 - olen);
			else if (elen < SSHCFG_MAX_STDERR)
				n = read(pfd[1].fd, errbuf + elen,
				    SSHCFG_MAX_STDERR - elen);
			else	/* keep draining so ssh never blocks */
				n = read(pfd[1].fd, scratch, sizeof(scratch));
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				pfd[i].fd = -1;	/* closed below */
				continue;
			}
			if (i == 0) {
				olen += (size_t)n;
				if (olen > SSHCFG_MAX_OUTPUT) {
					sshcfg_fail(err, errlen, "ssh -G: more "
					    "than %d bytes of output",
					    SSHCFG_MAX_OUTPUT);
					goto out;
				}
			} else if (elen < SSHCFG_MAX_STDERR)
				elen += (size_t)n;
		}
	}
	errbuf[elen] = '\0';
	/* Its output has ended; so must ssh, within the same bound. */
	rc = spawn_wait(pid, clock_remaining_ms(deadline), &status);
	pid = -1;
	if (rc != 0) {
		if (rc == 1)
			sshcfg_fail(err, errlen, "ssh -G: no answer within %d s",
			    SSHCFG_SSH_TIMEOUT_MS / 1000);
		else
			sshcfg_fail(err, errlen, "ssh -G: waitpid: %s",
			    strerror(errno));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errbuf[strcspn(errbuf, "\r\n")] = '\0';
		if (*errbuf != '\0')
			sshcfg_fail(err, errlen, "ssh -G: %s", errbuf);
		else
			sshcfg_fail(err, errlen, "ssh -G %s",
			    spawn_status_text(status, why, sizeof(why)));
		goto out;
	}
	if (memchr(obuf, '\0', olen) != NULL) {
		sshcfg_fail(err, errlen, "ssh -G: NUL byte in output");
		goto out;
	}
	obuf[olen] = '\0';
	*out = obuf;
	obuf = NULL;	/* transferred */
	ret = 0;
 out:
	if (pid > 0)
		(void)spawn_wait(pid, 0, NULL);
	for (i = 0; i < 2; i++) {
		if (outp[i] != -1)
			close(outp[i]);
		if (errp[i] != -1)
			close(errp[i]);
	}
	free(obuf);
	return ret;
}

/* Feed ssh -G's "key value" lines to sshcfg_apply(). */
static int
sshcfg_run_parse(struct sshcfg_raw *raw, char *text, char *err, size_t errlen)
{
	char *line, *next, *sp, *av[SSHCFG_MAX_ARGS], *copy, *tok, *save;
	char why[512];
	int ac, r;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		if ((copy = strdup(sp)) == NULL)
			return sshcfg_fail(err, errlen, "out of memory");
		ac = 0;
		for (tok = strtok_r(copy, " ", &save); tok != NULL &&
		    ac < SSHCFG_MAX_ARGS; tok = strtok_r(NULL, " ", &save))
			av[ac++] = tok;
		r = sshcfg_apply(raw, line, av, ac, sp, true, why, sizeof(why));
		free(copy);
		if (r != 0)
			return sshcfg_fail(err, errlen, "ssh -G: %s", why);
	}
	return 0;
}

int
sshcfg_run(const char *ssh, const struct sshcfg_remote *r,
    const char *config_file, struct sshcfg_raw *raw, char *err, size_t errlen)
{
	char	*text = NULL;
	int	 ret;

	if ((ret = sshcfg_run_output(ssh, r, config_file, &text, err, errlen)) == 0)
		ret = sshcfg_run_parse(raw, text, err, errlen);
	free(text);
	return ret;
}
