/*
 * util_io.h - small descriptor, terminal and string helpers shared by the
 * transports, the bootstrap and the host key check.
 *
 * Conventions: functions return 0 on success and -1 on failure (with a
 * one-line reason in err when they take one).  Times are milliseconds on
 * the monotonic clock.
 */
#ifndef CSHUTTLE_UTIL_IO_H
#define CSHUTTLE_UTIL_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t	io_now_ms(void);
/* Milliseconds left until `deadline` (never negative); -1 when deadline < 0
 * ("no deadline"), suitable as a poll() timeout. */
int	io_remaining_ms(int64_t deadline);

int	io_set_nonblock(int fd);

/*
 * Wait until fd is ready for `events` (POLLIN/POLLOUT) or the deadline
 * passes.  Returns the revents (> 0), 0 on timeout, -1 on error.  EINTR is
 * retried.
 */
int	io_poll(int fd, short events, int64_t deadline);

/*
 * Ask a question on the controlling terminal (/dev/tty) and read one line
 * of answer into buf (NUL-terminated, newline removed).  With echo off the
 * terminal's echo is restored even when a signal interrupts the read.
 * Returns 0, or -1 when there is no terminal or the read failed.
 */
int	io_tty_prompt(const char *prompt, bool echo, char *buf, size_t len);
/* True when stdin is a terminal and /dev/tty can be opened. */
bool	io_can_prompt(void);

/*
 * Split a command line into words with simple shell-like rules: blanks
 * separate words; '...' is literal; "..." allows \" \\ \$ \` escapes;
 * outside quotes a backslash escapes the next character.  No expansions.
 * On success *argvp is a NULL-terminated array (free with io_free_words)
 * holding at least one word.
 */
int	io_split_words(const char *s, char ***argvp, int *argcp, char *err, size_t errlen);
void	io_free_words(char **argv);

/*
 * Split "[user@]host[:port]" (host may be "[v6addr]" or a bare IPv6
 * address without port).  user and port are "" when absent.
 */
int	io_split_remote(const char *remote, char *user, size_t ulen, char *host, size_t hlen,
	    char *port, size_t plen, char *err, size_t errlen);

/* Quote s for a POSIX shell ('...' with embedded quotes as '\'').
 * Returns 0, or -1 when out is too small. */
int	io_shquote(const char *s, char *out, size_t outlen);

/*
 * Line collector for a remote's stderr: complete lines are logged as
 * "remote: <line>", a partial line is held (bounded) until its newline
 * arrives or io_lines_flush().  The first and last non-empty lines are
 * kept for error messages.
 */
#define IO_LINE_MAX	512

struct io_lines {
	char	buf[IO_LINE_MAX];
	size_t	len;
	char	first[IO_LINE_MAX];
	char	last[IO_LINE_MAX];
	char	fingerprint[96];	/* last "SHA256:..." word seen */
	bool	quiet;		/* collect without logging */
	bool	boot;		/* bootstrap running: log at debug level only,
				 * a failure quotes the lines in its message */
};

void	io_lines_feed(struct io_lines *l, const char *data, size_t n);
void	io_lines_flush(struct io_lines *l);

#endif
