/* SPDX-License-Identifier: ISC */
/*
 * test_remote.c - the remote side as the transports see it (ssh/remote.c):
 * the -r argument split into user, host and port, and the remote's stderr
 * collected into log lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "remote.h"

static void
test_split_remote(void **state)
{
	char	u[64], h[64], p[16], err[128];

	assert_int_equal(remote_split("host", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), 0);
	assert_string_equal(u, "");
	assert_string_equal(h, "host");
	assert_string_equal(p, "");
	assert_int_equal(remote_split("me@host:2222", u, sizeof(u), h, sizeof(h), p,
	    sizeof(p), err, sizeof(err)), 0);
	assert_string_equal(u, "me");
	assert_string_equal(h, "host");
	assert_string_equal(p, "2222");
	assert_int_equal(remote_split("a@b@[fd00::1]:22", u, sizeof(u), h, sizeof(h), p,
	    sizeof(p), err, sizeof(err)), 0);
	assert_string_equal(u, "a@b");
	assert_string_equal(h, "fd00::1");
	assert_string_equal(p, "22");
	assert_int_equal(remote_split("fd00::1", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), 0);
	assert_string_equal(h, "fd00::1");
	assert_string_equal(p, "");
	assert_int_equal(remote_split("[::1]", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), 0);
	assert_string_equal(h, "::1");

	assert_int_equal(remote_split("host:0", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), -1);
	assert_int_equal(remote_split("host:x", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), -1);
	assert_int_equal(remote_split("-oProxyCommand=x", u, sizeof(u), h, sizeof(h), p,
	    sizeof(p), err, sizeof(err)), -1);
	assert_int_equal(remote_split("@host", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), -1);
	assert_int_equal(remote_split("[::1", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), -1);
}

/* What remote_lines logged: one "<level> <text>\n" per message. */
static char	logged[4096];

static void
sink(enum log_level lvl, const char *msg)
{
	size_t	n = strlen(logged);

	snprintf(logged + n, sizeof(logged) - n, "%d %s\n", (int)lvl, msg);
}

static int
setup_log(void **state)
{
	logged[0] = '\0';
	log_init("test_remote", 0);
	log_set_sink(sink);
	return 0;
}

static int
teardown_log(void **state)
{
	log_set_sink(NULL);
	log_init("test_remote", -1);
	return 0;
}

static void
feed(struct remote_lines *l, const char *s)
{
	remote_lines_feed(l, s, strlen(s));
}

/* Complete lines are logged at info as "remote: ...", in any pieces. */
static void
test_lines(void **state)
{
	struct remote_lines	l;
	char			want[128];

	memset(&l, 0, sizeof(l));
	feed(&l, "hel");
	assert_string_equal(logged, "");
	feed(&l, "lo\nwor");
	feed(&l, "ld\n");
	snprintf(want, sizeof(want), "%d remote: hello\n%d remote: world\n", LOG_LVL_INFO,
	    LOG_LVL_INFO);
	assert_string_equal(logged, want);
	assert_string_equal(l.first, "hello");
	assert_string_equal(l.last, "world");

	/* A partial line waits for its newline, or for the flush. */
	logged[0] = '\0';
	feed(&l, "no newline");
	assert_string_equal(logged, "");
	remote_lines_flush(&l);
	snprintf(want, sizeof(want), "%d remote: no newline\n", LOG_LVL_INFO);
	assert_string_equal(logged, want);
	assert_string_equal(l.first, "hello");
	assert_string_equal(l.last, "no newline");
	/* Nothing held: a second flush says nothing. */
	remote_lines_flush(&l);
	assert_string_equal(logged, want);
}

/* What reaches the terminal: no control characters, no \r, no trailing
 * blanks, no empty lines. */
static void
test_lines_cleaned(void **state)
{
	struct remote_lines	l;
	char			want[128];

	memset(&l, 0, sizeof(l));
	feed(&l, "\n   \n\r\n");
	assert_string_equal(logged, "");
	assert_string_equal(l.first, "");
	feed(&l, "a\033[2Jb\tc\r\n");
	feed(&l, "trailing   \n");
	snprintf(want, sizeof(want), "%d remote: a?[2Jb\tc\n%d remote: trailing\n",
	    LOG_LVL_INFO, LOG_LVL_INFO);
	assert_string_equal(logged, want);
	assert_string_equal(l.first, "a?[2Jb\tc");
	assert_string_equal(l.last, "trailing");
}

/* A line longer than the buffer comes out in pieces, none lost. */
static void
test_lines_long(void **state)
{
	struct remote_lines	l;
	char			line[700], want[1400];

	memset(&l, 0, sizeof(l));
	memset(line, 'x', 600);
	line[600] = '\n';
	line[601] = '\0';
	feed(&l, line);
	snprintf(want, sizeof(want), "%d remote: %.*s\n%d remote: %.*s\n", LOG_LVL_INFO,
	    REMOTE_LINE_MAX - 1, line, LOG_LVL_INFO, 600 - (REMOTE_LINE_MAX - 1), line);
	assert_string_equal(logged, want);
	assert_int_equal(strlen(l.first), REMOTE_LINE_MAX - 1);
	assert_int_equal(strlen(l.last), 600 - (REMOTE_LINE_MAX - 1));
}

/* The last "SHA256:..." word is kept for error messages. */
static void
test_lines_fingerprint(void **state)
{
	struct remote_lines	l;

	memset(&l, 0, sizeof(l));
	feed(&l, "ED25519 key fingerprint is SHA256:old.\n");
	assert_string_equal(l.fingerprint, "SHA256:old");
	feed(&l, "The fingerprint for the ED25519 key sent by the remote host is\n"
	    "SHA256:/Fki+pIbprywzxxtUJImgd61bhF0/79GVgC924XOAtQ.\n"
	    "Host key verification failed.\n");
	assert_string_equal(l.fingerprint, "SHA256:/Fki+pIbprywzxxtUJImgd61bhF0/79GVgC924XOAtQ");
	assert_string_equal(l.last, "Host key verification failed.");
}

/* quiet: collected, never logged; boot: logged at debug level only. */
static void
test_lines_quiet_boot(void **state)
{
	struct remote_lines	l;
	char			want[128];

	memset(&l, 0, sizeof(l));
	l.quiet = true;
	feed(&l, "secret\n");
	assert_string_equal(logged, "");
	assert_string_equal(l.first, "secret");

	memset(&l, 0, sizeof(l));
	l.boot = true;
	feed(&l, "during the bootstrap\n");
	assert_string_equal(logged, "");
	assert_string_equal(l.last, "during the bootstrap");
	log_init(NULL, 1);
	feed(&l, "with -v\n");
	snprintf(want, sizeof(want), "%d remote: with -v\n", LOG_LVL_DEBUG);
	assert_string_equal(logged, want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_remote),
		cmocka_unit_test_setup_teardown(test_lines, setup_log, teardown_log),
		cmocka_unit_test_setup_teardown(test_lines_cleaned, setup_log, teardown_log),
		cmocka_unit_test_setup_teardown(test_lines_long, setup_log, teardown_log),
		cmocka_unit_test_setup_teardown(test_lines_fingerprint, setup_log, teardown_log),
		cmocka_unit_test_setup_teardown(test_lines_quiet_boot, setup_log, teardown_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
