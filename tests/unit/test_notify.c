/* SPDX-License-Identifier: ISC */
/*
 * test_notify.c - the sd_notify client against real AF_UNIX datagram
 * sockets standing in for systemd: a path socket and an abstract one,
 * the exact bytes of each datagram, the sender's credentials (what
 * NotifyAccess=main checks), the watchdog interval and WATCHDOG_PID, bad
 * addresses, a vanished manager and a manager that stopped reading.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "notify.h"

/* A stand-in for the manager's socket. */
struct mgr {
	int			fd;
	char			dir[64];	/* path sockets: their directory */
	char			env[100];	/* the NOTIFY_SOCKET value */
};

static void
env_clear(void)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

static int
mgr_socket(void)
{
	int	fd, one = 1;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	/* As systemd does: the kernel then attaches the sender's pid. */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	return fd;
}

static void
mgr_path(struct mgr *m)
{
	struct sockaddr_un	sun;

	memset(m, 0, sizeof(*m));
	snprintf(m->dir, sizeof(m->dir), "/tmp/cs-notify-XXXXXX");
	assert_non_null(mkdtemp(m->dir));
	snprintf(m->env, sizeof(m->env), "%s/notify", m->dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", m->env);
	m->fd = mgr_socket();
	assert_int_equal(bind(m->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
}

/* Bound with the exact length, as systemd binds its abstract sockets. */
static void
mgr_abstract(struct mgr *m)
{
	struct sockaddr_un	sun;
	struct timespec		ts;
	size_t			len;

	memset(m, 0, sizeof(*m));
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(m->env, sizeof(m->env), "@cshuttle-test-notify/%ld/%ld",
	    (long)getpid(), (long)ts.tv_nsec);
	len = strlen(m->env);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, m->env + 1, len - 1);
	m->fd = mgr_socket();
	assert_int_equal(bind(m->fd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)), 0);
}

static void
mgr_close(struct mgr *m)
{
	char	path[128];

	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	if (m->dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/notify", m->dir);
		(void)unlink(path);
		assert_int_equal(rmdir(m->dir), 0);
		m->dir[0] = '\0';
	}
}

/*
 * Receive one datagram within timeout_ms.  Returns its length (-1: none)
 * and the sender's pid from SCM_CREDENTIALS.
 */
static ssize_t
mgr_recv(struct mgr *m, char *buf, size_t cap, int timeout_ms, pid_t *pid)
{
	struct pollfd	 pfd = { .fd = m->fd, .events = POLLIN };
	union {
		struct cmsghdr	hdr;
		char		space[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec	 iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr	 mh = { .msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr	*c;
	struct ucred	 uc;
	ssize_t		 n;

	*pid = 0;
	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	n = recvmsg(m->fd, &mh, MSG_DONTWAIT);
	assert_true(n >= 0);
	assert_int_equal(mh.msg_flags & MSG_TRUNC, 0);
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			*pid = uc.pid;
		}
	}
	return n;
}

static void
expect_datagram(struct mgr *m, const char *want)
{
	char	buf[8192];
	pid_t	pid;
	ssize_t	n;

	n = mgr_recv(m, buf, sizeof(buf), 2000, &pid);
	assert_int_equal(n, (ssize_t)strlen(want));	/* no NUL, no newline added */
	assert_memory_equal(buf, want, strlen(want));
	assert_int_equal(pid, getpid());
}

static void
expect_nothing(struct mgr *m)
{
	char	buf[64];
	pid_t	pid;

	assert_int_equal(mgr_recv(m, buf, sizeof(buf), 100, &pid), -1);
}

/* Every socket descriptor of this process must be close-on-exec. */
static void
assert_sockets_cloexec(void)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	int		 fd, nsock = 0;

	assert_non_null(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == dirfd(d) || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
			continue;
		nsock++;
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	}
	closedir(d);
	assert_true(nsock >= 2);	/* the manager's and notify's */
}

static void
test_unset_does_nothing(void **state)
{
	env_clear();
	assert_int_equal(notify_init(), 0);
	notify_send("READY=1");
	assert_int_equal(notify_watchdog_ms(), 0);

	/* Empty is unset too. */
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(notify_init(), 0);
	notify_send("READY=1");

	/* A watchdog without a socket to report to is no watchdog. */
	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(notify_init(), 0);
	assert_int_equal(notify_watchdog_ms(), 0);
	env_clear();
}

static void
test_path_socket(void **state)
{
	struct mgr	m;
	char		big[3001];

	env_clear();
	mgr_path(&m);
	setenv("NOTIFY_SOCKET", m.env, 1);
	assert_int_equal(notify_init(), 0);
	assert_sockets_cloexec();

	notify_send("READY=1\nSTATUS=connected to %s", "pi");
	expect_datagram(&m, "READY=1\nSTATUS=connected to pi");
	/* One call, one datagram: never merged or split. */
	notify_send("STATUS=connected to %s, %d streams, %d reconnects", "pi", 12, 3);
	notify_send("WATCHDOG=1");
	expect_datagram(&m, "STATUS=connected to pi, 12 streams, 3 reconnects");
	expect_datagram(&m, "WATCHDOG=1");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	notify_send("STATUS=%s", big);
	{
		char	want[sizeof(big) + 8];

		snprintf(want, sizeof(want), "STATUS=%s", big);
		expect_datagram(&m, want);
	}
	expect_nothing(&m);

	/* errno is the caller's. */
	errno = EINTR;
	notify_send("STOPPING=1");
	assert_int_equal(errno, EINTR);
	expect_datagram(&m, "STOPPING=1");

	mgr_close(&m);
	env_clear();
	assert_int_equal(notify_init(), 0);
}

static void
test_abstract_socket(void **state)
{
	struct mgr	m;

	env_clear();
	mgr_abstract(&m);
	setenv("NOTIFY_SOCKET", m.env, 1);
	assert_int_equal(notify_init(), 0);
	notify_send("READY=1\nSTATUS=connected to %s", "pi");
	expect_datagram(&m, "READY=1\nSTATUS=connected to pi");
	notify_send("STATUS=reconnecting (attempt %d): %s", 2, "connection refused");
	expect_datagram(&m, "STATUS=reconnecting (attempt 2): connection refused");
	mgr_close(&m);
	env_clear();
	assert_int_equal(notify_init(), 0);
}

static void
test_bad_addresses(void **state)
{
	char	name[200];

	env_clear();
	setenv("WATCHDOG_USEC", "30000000", 1);
	setenv("NOTIFY_SOCKET", "run/notify", 1);		/* relative */
	assert_int_equal(notify_init(), -1);
	assert_int_equal(notify_watchdog_ms(), 0);
	notify_send("READY=1");
	setenv("NOTIFY_SOCKET", "@", 1);			/* no name */
	assert_int_equal(notify_init(), -1);
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);		/* systemd >= 253 */
	assert_int_equal(notify_init(), -1);

	/* sun_path holds 107 path bytes and the NUL. */
	memset(name, 'a', sizeof(name));
	name[0] = '/';
	name[108] = '\0';
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(notify_init(), -1);
	name[107] = '\0';
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(notify_init(), 0);
	/* An abstract name may use all 108 bytes: '@' stands for the NUL. */
	name[0] = '@';
	name[107] = 'a';
	name[108] = '\0';
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(notify_init(), 0);
	name[108] = 'a';
	name[109] = '\0';
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(notify_init(), -1);
	env_clear();
	assert_int_equal(notify_init(), 0);
}

static int
watchdog_with(const char *usec, const char *pid)
{
	if (usec != NULL)
		setenv("WATCHDOG_USEC", usec, 1);
	else
		unsetenv("WATCHDOG_USEC");
	if (pid != NULL)
		setenv("WATCHDOG_PID", pid, 1);
	else
		unsetenv("WATCHDOG_PID");
	assert_int_equal(notify_init(), 0);
	return notify_watchdog_ms();
}

static void
test_watchdog(void **state)
{
	struct mgr	m;
	char		self[32], other[32];

	env_clear();
	mgr_path(&m);
	setenv("NOTIFY_SOCKET", m.env, 1);
	snprintf(self, sizeof(self), "%ld", (long)getpid());
	snprintf(other, sizeof(other), "%ld", (long)getppid());

	/* WatchdogSec=30 -> WATCHDOG_USEC=30000000 -> every 15 s. */
	assert_int_equal(watchdog_with("30000000", NULL), 15000);
	assert_int_equal(watchdog_with("30000000", self), 15000);
	assert_int_equal(watchdog_with("30000000", ""), 15000);
	assert_int_equal(watchdog_with("3000000", self), 1500);
	assert_int_equal(watchdog_with("4000", NULL), 2);
	/* Never 0 while a watchdog runs. */
	assert_int_equal(watchdog_with("1", NULL), 1);
	assert_int_equal(watchdog_with("2999", NULL), 1);
	/* Huge values saturate. */
	assert_int_equal(watchdog_with("18446744073709551615", NULL), INT_MAX);
	assert_int_equal(watchdog_with("4294967296000", NULL), INT_MAX);

	/* The watchdog belongs to another process (we inherited it). */
	assert_int_equal(watchdog_with("30000000", other), 0);
	assert_int_equal(watchdog_with("30000000", "1"), 0);
	assert_int_equal(watchdog_with("30000000", "12x"), 0);
	assert_int_equal(watchdog_with("30000000", "-1"), 0);

	/* No watchdog, or a malformed one. */
	assert_int_equal(watchdog_with(NULL, NULL), 0);
	assert_int_equal(watchdog_with(NULL, self), 0);
	assert_int_equal(watchdog_with("0", NULL), 0);
	assert_int_equal(watchdog_with("abc", NULL), 0);
	assert_int_equal(watchdog_with("-5", NULL), 0);
	assert_int_equal(watchdog_with(" 5", NULL), 0);
	assert_int_equal(watchdog_with("5s", NULL), 0);
	assert_int_equal(watchdog_with("99999999999999999999999", NULL), 0);

	/* The socket keeps working whatever the watchdog says. */
	assert_int_equal(watchdog_with("30000000", other), 0);
	notify_send("WATCHDOG=1");
	expect_datagram(&m, "WATCHDOG=1");

	mgr_close(&m);
	env_clear();
	assert_int_equal(notify_init(), 0);
}

/* The manager went away (restarted, or a stale variable). */
static void
test_manager_gone(void **state)
{
	struct mgr	m;

	env_clear();
	mgr_path(&m);
	setenv("NOTIFY_SOCKET", m.env, 1);
	assert_int_equal(notify_init(), 0);
	mgr_close(&m);
	errno = 0;
	notify_send("READY=1");
	assert_int_equal(errno, 0);

	mgr_abstract(&m);
	setenv("NOTIFY_SOCKET", m.env, 1);
	assert_int_equal(notify_init(), 0);
	mgr_close(&m);
	notify_send("READY=1");
	env_clear();
	assert_int_equal(notify_init(), 0);
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A manager that stops reading: once its queue is full a send waits, but
 * at most about NOTIFY_SEND_TIMEOUT_MS, so the event loop keeps going.
 */
static void
test_manager_stalled(void **state)
{
	struct mgr	m;
	int64_t		t0, took = 0;
	int		i, sent = 0;

	env_clear();
	mgr_abstract(&m);
	setenv("NOTIFY_SOCKET", m.env, 1);
	assert_int_equal(notify_init(), 0);
	for (i = 0; i < 20000; i++) {
		t0 = now_ms();
		notify_send("STATUS=message %d", i);
		took = now_ms() - t0;
		if (took >= NOTIFY_SEND_TIMEOUT_MS / 2)
			break;
		sent++;
	}
	print_message("queue full after %d datagrams; that send waited %lld ms\n",
	    sent, (long long)took);
	assert_true(took >= NOTIFY_SEND_TIMEOUT_MS / 2);
	assert_true(took < NOTIFY_SEND_TIMEOUT_MS + 1000);
	/* What was queued arrives intact, in order. */
	expect_datagram(&m, "STATUS=message 0");
	expect_datagram(&m, "STATUS=message 1");
	mgr_close(&m);
	env_clear();
	assert_int_equal(notify_init(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_does_nothing),
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_watchdog),
		cmocka_unit_test(test_manager_gone),
		cmocka_unit_test(test_manager_stalled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
