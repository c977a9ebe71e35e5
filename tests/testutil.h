/* SPDX-License-Identifier: ISC */
/*
 * testutil.h - what the cmocka programs share: the rule for a program
 * that is not installed.
 *
 * A test that needs an external program fails when it is missing, with
 * one message form, the same as lab_need's in tests/lab/need.sh:
 *
 *   FAIL: needs <tool> (package <pkg>; see tests/lab/packages.txt)
 *
 * It never skips: a skipped check looks like a passed one in a summary
 * (tests/lab/README.md, "Missing tools").  This header includes
 * <cmocka.h> with what it needs; the functions end the running test
 * through fail_msg().
 */
#ifndef CSHUTTLE_TESTUTIL_H
#define CSHUTTLE_TESTUTIL_H

#include <sys/socket.h>

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Is `tool` (a name looked up on $PATH, or a path) an executable? */
static inline int
test_have(const char *tool)
{
	const char	*path, *p, *colon;
	char		 file[PATH_MAX];
	size_t		 n;

	if (strchr(tool, '/') != NULL)
		return access(tool, X_OK) == 0;
	if ((path = getenv("PATH")) == NULL || *path == '\0')
		path = "/usr/bin:/bin";
	for (p = path; ; p = colon + 1) {
		colon = strchr(p, ':');
		n = colon != NULL ? (size_t)(colon - p) : strlen(p);
		/* An empty entry is the current directory, as for execvp(). */
		if (n == 0)
			snprintf(file, sizeof(file), "./%s", tool);
		else
			snprintf(file, sizeof(file), "%.*s/%s", (int)n, p, tool);
		if (access(file, X_OK) == 0)
			return 1;
		if (colon == NULL)
			return 0;
	}
}

/* Fail the running test unless `tool` is installed (Debian `package`). */
static inline void
test_need(const char *tool, const char *package)
{
	if (!test_have(tool))
		fail_msg("FAIL: needs %s (package %s; see tests/lab/packages.txt)",
		    tool, package);
}

/* Fail the running test unless it runs as root; `why` says what for. */
static inline void
test_need_root(const char *why)
{
	if (geteuid() != 0)
		fail_msg("FAIL: needs root (%s)", why);
}

/* A connected AF_UNIX stream pair, both ends non-blocking: socketpair's
 * SOCK_NONBLOCK is Linux's and FreeBSD's, not macOS's.  0 or -1. */
static inline int
test_socketpair_nb(int sv[2])
{
	int	i, fl;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -1;
	for (i = 0; i < 2; i++)
		if ((fl = fcntl(sv[i], F_GETFL)) == -1 ||
		    fcntl(sv[i], F_SETFL, fl | O_NONBLOCK) == -1)
			return -1;
	return 0;
}

#endif
