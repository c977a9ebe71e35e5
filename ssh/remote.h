/* SPDX-License-Identifier: ISC */
/*
 * remote.h - the remote side as the transports see it: the -r argument
 * split into user, host and port, and the remote command's stderr
 * collected into log lines.
 *
 * Functions return 0 on success and -1 on failure with a one-line reason
 * in err.
 */
#ifndef CSHUTTLE_REMOTE_H
#define CSHUTTLE_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Split "[user@]host[:port]" (host may be "[v6addr]" or a bare IPv6
 * address without port).  user and port are "" when absent.
 */
int	remote_split(const char *remote, char *user, size_t ulen, char *host, size_t hlen,
	    char *port, size_t plen, char *err, size_t errlen);

/*
 * Line collector for a remote's stderr: complete lines are logged as
 * "remote: <line>", a partial line is held (bounded) until its newline
 * arrives or remote_lines_flush().  The first and last non-empty lines are
 * kept for error messages.
 */
#define REMOTE_LINE_MAX	512

struct remote_lines {
	char	buf[REMOTE_LINE_MAX];
	size_t	len;
	char	first[REMOTE_LINE_MAX];
	char	last[REMOTE_LINE_MAX];
	char	fingerprint[96];	/* last "SHA256:..." word seen */
	bool	quiet;		/* collect without logging */
	bool	boot;		/* bootstrap running: log at debug level only,
				 * a failure quotes the lines in its message */
};

void	remote_lines_feed(struct remote_lines *l, const char *data, size_t n);
void	remote_lines_flush(struct remote_lines *l);

#endif
