/* SPDX-License-Identifier: ISC */
/*
 * prompt.h - asking the user for a password or a keyboard-interactive
 * answer, as ssh does: on the terminal, or through the SSH_ASKPASS
 * program when there is no terminal (or SSH_ASKPASS_REQUIRE says so).
 * For the built-in client's login (ssh2_auth.c).
 *
 * The rules, OpenSSH's: SSH_ASKPASS_REQUIRE=never never runs the
 * program, =force always does, =prefer does when a display is there
 * ($DISPLAY or $WAYLAND_DISPLAY); otherwise the terminal is asked when
 * there is one, and the program when there is none but a display is.
 * The program is $SSH_ASKPASS, else PROMPT_ASKPASS_DEFAULT; it gets the
 * prompt as its argument and prints the answer; a status other than 0
 * means the user cancelled.
 *
 * Answers are never logged, and the buffers that held them are wiped.
 */
#ifndef CSHUTTLE_PROMPT_H
#define CSHUTTLE_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#define PROMPT_ASKPASS_DEFAULT	"/usr/bin/ssh-askpass"
#define PROMPT_ASKPASS_MAX_MS	(5 * 60 * 1000)	/* for the program to answer */

struct transport_abort;

enum prompt_via {
	PROMPT_NONE = 0,	/* nobody to ask */
	PROMPT_TTY,
	PROMPT_ASKPASS,
};

/* Where a question would go now (the environment and the terminal as
 * they are), PROMPT_NONE when nowhere. */
enum prompt_via prompt_via(void);

/*
 * The pure part of prompt_via(): the SSH_ASKPASS_REQUIRE value (NULL:
 * unset), whether a display and a terminal are there, and whether the
 * askpass program can be run.
 */
enum prompt_via prompt_decide(const char *require, bool display, bool tty, bool program);

/*
 * Ask through `via`, the answer into buf (NUL-terminated, the newline
 * removed).  `echo` shows what is typed (a keyboard-interactive prompt
 * may ask for it).  `abort`, when not NULL, is watched: a cancelled open
 * stops waiting for the user.  0, or -1 when nothing was answered
 * (cancelled, no terminal, the program failed); buf is wiped then.
 */
int	prompt_ask(enum prompt_via via, const char *prompt, bool echo, char *buf,
	    size_t len, struct transport_abort *abort);

/* `text` (server-chosen, len bytes) made harmless for a terminal: every
 * byte that is not printable ASCII, newline or tab becomes '?'. */
void	prompt_sanitize(const char *text, size_t len, char *out, size_t outlen);

#endif
