/* SPDX-License-Identifier: ISC */
/*
 * prompt.c - passwords and keyboard-interactive answers from the user
 * (prompt.h): the terminal through common/tty.h, or the SSH_ASKPASS
 * program started through common/spawn.h.
 *
 * Both waits are cancellable, since a reconnect asks from the worker
 * thread and the loop must be able to stop it at once (SIGTERM): the
 * terminal is polled in slices (tty_prompt_cancel()), the program's pipe
 * likewise, and a cancelled program is killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "prompt.h"
#include "spawn.h"
#include "sysdep.h"
#include "transport.h"
#include "tty.h"

#define PROMPT_SLICE_MS		100

enum prompt_via
prompt_decide(const char *require, bool display, bool tty, bool program)
{
	if (require != NULL && strcasecmp(require, "never") == 0)
		return tty ? PROMPT_TTY : PROMPT_NONE;
	if (require != NULL && strcasecmp(require, "force") == 0)
		return program ? PROMPT_ASKPASS : PROMPT_NONE;
	if (require != NULL && strcasecmp(require, "prefer") == 0 && display && program)
		return PROMPT_ASKPASS;
	if (tty)
		return PROMPT_TTY;
	return display && program ? PROMPT_ASKPASS : PROMPT_NONE;
}

static const char *
prompt_program(void)
{
	const char	*p = getenv("SSH_ASKPASS");

	return p != NULL && *p != '\0' ? p : PROMPT_ASKPASS_DEFAULT;
}

static bool
prompt_runnable(const char *prog)
{
	/* A bare name is looked up on $PATH when it is run. */
	return strchr(prog, '/') == NULL || access(prog, X_OK) == 0;
}

enum prompt_via
prompt_via(void)
{
	const char	*d = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");

	return prompt_decide(getenv("SSH_ASKPASS_REQUIRE"),
	    (d != NULL && *d != '\0') || (w != NULL && *w != '\0'), tty_can_prompt(),
	    prompt_runnable(prompt_program()));
}

void
prompt_sanitize(const char *text, size_t len, char *out, size_t outlen)
{
	size_t	i;

	if (outlen == 0)
		return;
	for (i = 0; i < len && i + 1 < outlen; i++)
		out[i] = (text[i] >= 0x20 && text[i] < 0x7f) || text[i] == '\n' ||
		    text[i] == '\t' ? text[i] : '?';
	out[i] = '\0';
}

static bool
prompt_stop(void *arg)
{
	return arg != NULL && transport_abort_fired(arg);
}

/* The SSH_ASKPASS program: its first line of output is the answer. */
static int
prompt_askpass(const char *prompt, char *buf, size_t len, struct transport_abort *abort)
{
	struct spawn_opts	 o;
	struct pollfd		 pfd;
	const char		*argv[3];
	char			 why[256];
	uint64_t		 deadline = clock_ms() + PROMPT_ASKPASS_MAX_MS;
	size_t			 n = 0;
	ssize_t			 r;
	pid_t			 pid;
	int			 p[2], status = -1, rc = -1, ok = 0;

	if (sysdep_pipe(p, 0) == -1)
		return -1;
	argv[0] = prompt_program();
	argv[1] = prompt;
	argv[2] = NULL;
	spawn_opts_init(&o);
	o.argv = argv;
	o.fd[0] = SPAWN_NULL;
	o.fd[1] = p[1];
	o.close_others = true;
	pid = spawn_start(&o, why, sizeof(why));
	close(p[1]);
	if (pid == -1) {
		log_warn("%s", why);
		close(p[0]);
		return -1;
	}
	for (;;) {
		if (prompt_stop(abort) || clock_ms() >= deadline)
			break;
		pfd.fd = p[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, PROMPT_SLICE_MS) <= 0)
			continue;
		if ((r = read(p[0], buf + n, len - 1 - n)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		if (r == 0) {
			ok = 1;
			break;
		}
		n += (size_t)r;
		if (n == len - 1) {
			ok = 1;		/* as long an answer as we take */
			break;
		}
	}
	close(p[0]);
	/* Done or given up: a program still waiting for the user goes. */
	if (spawn_wait(pid, ok ? 5000 : 0, &status) == 0 && ok && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		rc = 0;
	}
	if (rc != 0)
		explicit_bzero(buf, len);
	return rc;
}

int
prompt_ask(enum prompt_via via, const char *prompt, bool echo, char *buf, size_t len,
    struct transport_abort *abort)
{
	if (len == 0)
		return -1;
	buf[0] = '\0';
	switch (via) {
	case PROMPT_TTY:
		return tty_prompt_cancel(prompt, echo, buf, len, prompt_stop, abort);
	case PROMPT_ASKPASS:
		return prompt_askpass(prompt, buf, len, abort);
	case PROMPT_NONE:
		break;
	}
	return -1;
}
