/* SPDX-License-Identifier: ISC */
/*
 * tty.c - questions on the controlling terminal (see tty.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "sysdep.h"
#include "tty.h"

/*
 * Terminal prompts.  While echo is off a signal must not leave the
 * terminal silent: the usual terminating signals are caught for the
 * duration of the read (without SA_RESTART so read() returns EINTR), the
 * terminal is restored, and the signal is raised again afterwards.
 */
static volatile sig_atomic_t	tty_signal;

static void
tty_catch(int sig)
{
	tty_signal = sig;
}

static const int tty_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
#define TTY_NSIGS	(sizeof(tty_sigs) / sizeof(tty_sigs[0]))
#define TTY_STOP_MS	100	/* how often tty_prompt_cancel() asks stop() */

bool
tty_can_prompt(void)
{
	int	fd;

	if (!isatty(STDIN_FILENO))
		return false;
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1)
		return false;
	close(fd);
	return true;
}

int
tty_prompt(const char *prompt, bool echo, char *buf, size_t len)
{
	return tty_prompt_cancel(prompt, echo, buf, len, NULL, NULL);
}

int
tty_prompt_cancel(const char *prompt, bool echo, char *buf, size_t len,
    bool (*stop)(void *arg), void *arg)
{
	struct sigaction	 sa, old[TTY_NSIGS];
	struct termios		 saved, quiet;
	struct pollfd		 pfd;
	size_t			 i, n = 0;
	ssize_t			 r, w;
	char			 c;
	int			 fd, rc = -1, restore = 0, p;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;

	tty_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_catch;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < TTY_NSIGS; i++)
		sigaction(tty_sigs[i], &sa, &old[i]);

	if (!echo && tcgetattr(fd, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0)
			restore = 1;
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		goto out;
	for (;;) {
		/* In canonical mode the terminal is readable once a whole
		 * line is typed: waiting in slices costs nothing. */
		if (stop != NULL) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			p = poll(&pfd, 1, TTY_STOP_MS);
			if (p == -1 && errno == EINTR && tty_signal == 0)
				continue;
			/* A signal caught in another thread interrupts
			 * nobody's poll here: look at it every slice. */
			if (p == -1 || tty_signal != 0 || stop(arg))
				break;
			if (p == 0)
				continue;
		}
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR && tty_signal == 0)
			continue;
		if (r != 1)
			break;
		if (c == '\n' || c == '\r') {
			rc = 0;
			break;
		}
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = '\0';
out:
	if (restore) {
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
		/* The answer was not echoed: end its line ourselves. */
		w = write(fd, "\n", 1);
		(void)w;
	}
	close(fd);
	for (i = 0; i < TTY_NSIGS; i++)
		sigaction(tty_sigs[i], &old[i], NULL);
	if (tty_signal != 0) {
		rc = -1;
		raise(tty_signal);
	}
	if (rc != 0)
		explicit_bzero(buf, len);
	return rc;
}
