/* SPDX-License-Identifier: ISC */
/*
 * tty.h - asking the user on the controlling terminal (passphrases,
 * unknown host keys).
 */
#ifndef CSHUTTLE_TTY_H
#define CSHUTTLE_TTY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Ask a question on the controlling terminal (/dev/tty) and read one line
 * of answer into buf (NUL-terminated, newline removed).  With echo off the
 * terminal's echo is restored even when a signal interrupts the read.
 * Returns 0, or -1 when there is no terminal or the read failed.
 */
int	tty_prompt(const char *prompt, bool echo, char *buf, size_t len);
/*
 * tty_prompt() that gives up when stop(arg) says so, asked about ten
 * times a second while waiting for the answer (another thread cancels an
 * open that asks: client/tunnel_reconnect.c).  Returns -1 then too, the
 * terminal restored.
 */
int	tty_prompt_cancel(const char *prompt, bool echo, char *buf, size_t len,
	    bool (*stop)(void *arg), void *arg);
/* True when stdin is a terminal and /dev/tty can be opened. */
bool	tty_can_prompt(void);

#endif
