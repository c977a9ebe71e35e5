/* SPDX-License-Identifier: ISC */
/*
 * test_spawn.c - the one fork/exec helper (common/spawn.c): a failed exec
 * is reported with errno's text; descriptors land where they are asked
 * to, also when the given ones are 0-2 themselves or the caller's own 0-2
 * are closed; envp replaces the environment; the child starts with
 * default handlers and nothing blocked or ignored; close_others, keep_fd
 * and child_main; parent_death; and spawn_wait()'s timeout kill.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "spawn.h"

/* Everything fd has until EOF (or 5 s), NUL-terminated. */
static size_t
read_all(int fd, char *buf, size_t len)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	size_t		off = 0;
	ssize_t		n;

	while (off + 1 < len && poll(&pfd, 1, 5000) == 1) {
		if ((n = read(fd, buf + off, len - 1 - off)) <= 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	return off;
}

/* No child is left unreaped. */
static void
assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void
test_exec_failure(void **state)
{
	static const char *const missing[] = { "/nonexistent/prog", NULL };
	static const char *const noexec[] = { "/dev/null", NULL };
	static const char *const nopath[] = { "cshuttle-no-such-program", NULL };
	struct spawn_opts	o;
	char			err[256], want[256];

	(void)state;
	spawn_opts_init(&o);
	o.argv = missing;
	assert_int_equal(spawn_start(&o, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "cannot run '/nonexistent/prog': %s", strerror(ENOENT));
	assert_string_equal(err, want);
	o.argv = noexec;
	assert_int_equal(spawn_start(&o, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "cannot run '/dev/null': %s", strerror(EACCES));
	assert_string_equal(err, want);
	o.argv = nopath;
	assert_int_equal(spawn_start(&o, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "cannot run 'cshuttle-no-such-program': %s",
	    strerror(ENOENT));
	assert_string_equal(err, want);
	/* A descriptor that does not exist is a failure to set up. */
	o.argv = missing;
	o.fd[1] = 1000;
	assert_int_equal(spawn_start(&o, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "cannot run '/nonexistent/prog': %s", strerror(EBADF));
	assert_string_equal(err, want);
	/* Nothing to run, and a keep_fd onto 0-2, are refused. */
	spawn_opts_init(&o);
	assert_int_equal(spawn_start(&o, err, sizeof(err)), -1);
	o.argv = missing;
	o.keep_fd = 0;
	o.keep_fd_at = 2;
	assert_int_equal(spawn_start(&o, err, sizeof(err)), -1);
	assert_no_children();
}

/* envp is the child's whole environment; without it the child has ours. */
static void
test_envp(void **state)
{
	static const char *const argv[] = {
		"/bin/sh", "-c", "echo \"${SPAWN_A-unset}:${SPAWN_B-unset}\"", NULL,
	};
	static const char *const env[] = { "SPAWN_A=one", NULL };
	struct spawn_opts	o;
	char			err[256], buf[64];
	int			out[2], i, st;
	pid_t			pid;

	(void)state;
	assert_int_equal(setenv("SPAWN_B", "ours", 1), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(pipe2(out, O_CLOEXEC), 0);
		spawn_opts_init(&o);
		o.argv = argv;
		o.fd[1] = out[1];
		o.envp = i == 0 ? env : NULL;
		if ((pid = spawn_start(&o, err, sizeof(err))) == -1)
			fail_msg("%s", err);
		close(out[1]);
		read_all(out[0], buf, sizeof(buf));
		assert_string_equal(buf, i == 0 ? "one:unset\n" : "unset:ours\n");
		assert_int_equal(spawn_wait(pid, -1, &st), 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		close(out[0]);
	}
	assert_int_equal(unsetenv("SPAWN_B"), 0);
	assert_no_children();
}

/* stdin, stdout and stderr each from a pipe of ours. */
static void
test_fds_placed(void **state)
{
	static const char *const argv[] = {
		"sh", "-c", "read x; echo \"out:$x\"; echo \"err:$x\" >&2", NULL,
	};
	struct spawn_opts	o;
	char			err[256], buf[64];
	int			in[2], out[2], er[2], st;
	pid_t			pid;

	(void)state;
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(er, O_CLOEXEC), 0);
	spawn_opts_init(&o);
	o.argv = argv;
	o.fd[0] = in[0];
	o.fd[1] = out[1];
	o.fd[2] = er[1];
	pid = spawn_start(&o, err, sizeof(err));
	if (pid == -1)
		fail_msg("%s", err);
	close(in[0]);
	close(out[1]);
	close(er[1]);
	assert_int_equal(write(in[1], "hi\n", 3), 3);
	close(in[1]);
	read_all(out[0], buf, sizeof(buf));
	assert_string_equal(buf, "out:hi\n");
	read_all(er[0], buf, sizeof(buf));
	assert_string_equal(buf, "err:hi\n");
	assert_int_equal(spawn_wait(pid, -1, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(out[0]);
	close(er[0]);
}

/*
 * The descriptors given are 0 and 1 themselves, crossed: our 0 must
 * become the child's 1 and our 1 its 0.
 */
static void
test_fds_crossed(void **state)
{
	static const char *const argv[] = { "sh", "-c", "read x; echo \"got $x\"", NULL };
	struct spawn_opts	o;
	char			err[256], buf[64];
	int			in[2], out[2], saved0, saved1;
	pid_t			pid;

	(void)state;
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_true((saved0 = fcntl(0, F_DUPFD_CLOEXEC, 3)) >= 0);
	assert_true((saved1 = fcntl(1, F_DUPFD_CLOEXEC, 3)) >= 0);
	assert_int_equal(dup2(out[1], 0), 0);
	assert_int_equal(dup2(in[0], 1), 1);
	spawn_opts_init(&o);
	o.argv = argv;
	o.fd[0] = 1;
	o.fd[1] = 0;
	o.close_others = true;
	pid = spawn_start(&o, err, sizeof(err));
	assert_int_equal(dup2(saved0, 0), 0);
	assert_int_equal(dup2(saved1, 1), 1);
	close(saved0);
	close(saved1);
	if (pid == -1)
		fail_msg("%s", err);
	close(in[0]);
	close(out[1]);
	assert_int_equal(write(in[1], "x\n", 2), 2);
	close(in[1]);
	read_all(out[0], buf, sizeof(buf));
	assert_string_equal(buf, "got x\n");
	assert_int_equal(spawn_wait(pid, -1, NULL), 0);
	close(out[0]);
}

/*
 * A caller whose own 0-2 are closed: its pipe, /dev/null and the status
 * pipe all land on 0-2, the very numbers the child's must go to.
 * Checked in a child of the test, which may close its 0-2.
 */
static void
test_fds_std_closed(void **state)
{
	static const char *const argv[] = { "sh", "-c", "echo ok; echo bad >&2", NULL };
	struct spawn_opts	o;
	char			err[256], buf[64];
	int			p[2], st;
	pid_t			tester, pid;

	(void)state;
	if ((tester = fork()) == 0) {
		close(0);
		close(1);
		close(2);
		if (pipe(p) != 0 || p[0] != 0 || p[1] != 1)
			_exit(10);
		spawn_opts_init(&o);
		o.argv = argv;
		o.fd[0] = SPAWN_NULL;	/* /dev/null opens at 2 */
		o.fd[1] = p[1];
		o.fd[2] = SPAWN_NULL;
		if ((pid = spawn_start(&o, err, sizeof(err))) == -1)
			_exit(11);
		close(p[1]);
		read_all(p[0], buf, sizeof(buf));
		if (spawn_wait(pid, -1, &st) != 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			_exit(12);
		_exit(strcmp(buf, "ok\n") == 0 ? 0 : 13);
	}
	assert_true(tester > 0);
	assert_int_equal(waitpid(tester, &st, 0), tester);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* "SigBlk:\t0000000000000000" and the like, from /proc/<pid>/status text. */
static unsigned long long
status_mask(const char *text, const char *key)
{
	const char	*p = strstr(text, key);

	assert_non_null(p);
	return strtoull(p + strlen(key), NULL, 16);
}

static void
on_signal(int sig)
{
	(void)sig;
}

static int
child_signals(void *arg)
{
	struct sigaction	sa;
	sigset_t		mask;
	int			sig;

	(void)arg;
	if (sigprocmask(SIG_SETMASK, NULL, &mask) != 0)
		return 2;
	for (sig = 1; sig < 32; sig++) {
		if (sigismember(&mask, sig))
			return 3;
		if (sig != SIGKILL && sig != SIGSTOP &&
		    (sigaction(sig, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL))
			return 4;
	}
	return 0;
}

/* Handlers, ignored signals and the mask of ours reach no child. */
static void
test_signals_reset(void **state)
{
	static const char *const argv[] = { "cat", "/proc/self/status", NULL };
	struct sigaction	sa, old_term, old_pipe;
	struct spawn_opts	o;
	sigset_t		block, old_mask;
	char			err[256], buf[4096];
	int			out[2], st;
	pid_t			pid;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	assert_int_equal(sigaction(SIGTERM, &sa, &old_term), 0);
	sa.sa_handler = SIG_IGN;
	assert_int_equal(sigaction(SIGPIPE, &sa, &old_pipe), 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGHUP);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old_mask), 0);

	/* An exec'd program: nothing blocked, nothing ignored. */
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	spawn_opts_init(&o);
	o.argv = argv;
	o.fd[1] = out[1];
	pid = spawn_start(&o, err, sizeof(err));
	close(out[1]);
	if (pid == -1)
		fail_msg("%s", err);
	read_all(out[0], buf, sizeof(buf));
	close(out[0]);
	assert_int_equal(spawn_wait(pid, -1, NULL), 0);
	assert_int_equal(status_mask(buf, "SigBlk:"), 0);
	assert_int_equal(status_mask(buf, "SigIgn:"), 0);

	/* child_main: default handlers too (exec would not reset them). */
	spawn_opts_init(&o);
	o.child_main = child_signals;
	if ((pid = spawn_start(&o, err, sizeof(err))) == -1)
		fail_msg("%s", err);
	assert_int_equal(spawn_wait(pid, -1, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	/* Ours are as they were. */
	assert_int_equal(sigprocmask(SIG_SETMASK, &old_mask, &block), 0);
	assert_true(sigismember(&block, SIGUSR1));
	assert_int_equal(sigaction(SIGTERM, &old_term, &sa), 0);
	assert_true(sa.sa_handler == on_signal);
	assert_int_equal(sigaction(SIGPIPE, &old_pipe, &sa), 0);
	assert_true(sa.sa_handler == SIG_IGN);
}

struct fds_arg {
	int	at;		/* where keep_fd should be */
	int	leak;		/* a descriptor of the parent without CLOEXEC */
};

/* Exit status: how many descriptors above 2 are open, 100 + n when the
 * parent's non-CLOEXEC one is among them; 200 when keep_fd is missing. */
static int
child_count_fds(void *arg)
{
	const struct fds_arg	*a = arg;
	int			 fd, n = 0;
	bool			 leaked = false;

	if (fcntl(a->at, F_GETFD) == -1)
		return 200;
	for (fd = 3; fd < 1024; fd++) {
		if (fcntl(fd, F_GETFD) == -1)
			continue;
		n++;
		if (fd == a->leak)
			leaked = true;
	}
	return leaked ? 100 + n : n;
}

static void
test_close_others(void **state)
{
	struct spawn_opts	o;
	struct fds_arg		a;
	char			err[256];
	int			sv[2], st;
	pid_t			pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_true((a.leak = dup(sv[0])) >= 0);	/* no CLOEXEC */
	a.at = 3;
	spawn_opts_init(&o);
	o.child_main = child_count_fds;
	o.arg = &a;
	o.keep_fd = sv[1];
	o.keep_fd_at = a.at;
	o.close_others = true;
	if ((pid = spawn_start(&o, err, sizeof(err))) == -1)
		fail_msg("%s", err);
	assert_int_equal(spawn_wait(pid, -1, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);	/* keep_fd_at alone */

	/* Without it the child keeps what the parent has. */
	o.close_others = false;
	if ((pid = spawn_start(&o, err, sizeof(err))) == -1)
		fail_msg("%s", err);
	assert_int_equal(spawn_wait(pid, -1, &st), 0);
	assert_true(WIFEXITED(st));
	assert_true(WEXITSTATUS(st) > 100);
	close(a.leak);
	close(sv[0]);
	close(sv[1]);
}

/* Says hello on fd a->at and waits for the parent's answer. */
static int
child_hello(void *arg)
{
	const struct fds_arg	*a = arg;
	struct pollfd		 pfd = { .fd = a->at, .events = POLLIN };
	char			 c;

	if (write(a->at, "hello", 5) != 5)
		return 1;
	if (poll(&pfd, 1, 3000) != 1 || read(a->at, &c, 1) != 1)
		return 2;
	return c == '!' ? 7 : 3;
}

/*
 * child_main with keep_fd far up (so that spawn's own status pipe must
 * move out of its way too): spawn_start() returns once child_main has
 * started, not when it ends, and its value is the exit status.
 */
static void
test_child_main(void **state)
{
	struct spawn_opts	o;
	struct fds_arg		a;
	char			err[256], buf[16];
	int			sv[2], st;
	int64_t			t0;
	pid_t			pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	a.at = 40;
	a.leak = -1;
	spawn_opts_init(&o);
	o.child_main = child_hello;
	o.arg = &a;
	o.keep_fd = sv[1];
	o.keep_fd_at = a.at;
	t0 = (int64_t)clock_ms();
	if ((pid = spawn_start(&o, err, sizeof(err))) == -1)
		fail_msg("%s", err);
	assert_true((int64_t)clock_ms() - t0 < 2000);
	close(sv[1]);
	assert_int_equal(read(sv[0], buf, 5), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(write(sv[0], "!", 1), 1);
	assert_int_equal(spawn_wait(pid, 5000, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 7);
	/* The child's copies are gone with it. */
	assert_int_equal(read(sv[0], buf, 1), 0);
	close(sv[0]);
}

static int
child_pause(void *arg)
{
	(void)arg;
	/* Every handler is the default: only a signal that kills ends it. */
	(void)pause();
	return 1;
}

/* A child started with parent_death ends with the one that started it. */
static void
test_parent_death(void **state)
{
	struct spawn_opts	o;
	struct pollfd		pfd;
	char			err[256], buf[8];
	int			p[2], st;
	pid_t			middle;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if ((middle = fork()) == 0) {
		close(p[0]);
		spawn_opts_init(&o);
		o.child_main = child_pause;
		o.keep_fd = p[1];
		o.keep_fd_at = 3;
		o.close_others = true;
		o.parent_death = true;
		_exit(spawn_start(&o, err, sizeof(err)) > 0 ? 0 : 1);
	}
	assert_true(middle > 0);
	close(p[1]);
	assert_int_equal(waitpid(middle, &st, 0), middle);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The grandchild held the write end: EOF once SIGTERM ended it. */
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 0);
	close(p[0]);
}

static void
test_wait(void **state)
{
	static const char *const sleeper[] = { "sleep", "30", NULL };
	static const char *const quick[] = { "sh", "-c", "exit 3", NULL };
	struct spawn_opts	o;
	char			err[256], text[64];
	int64_t			t0;
	int			st;
	pid_t			pid;

	(void)state;
	spawn_opts_init(&o);
	o.argv = sleeper;
	if ((pid = spawn_start(&o, err, sizeof(err))) == -1)
		fail_msg("%s", err);
	assert_int_equal(spawn_poll(pid, &st), 0);
	t0 = (int64_t)clock_ms();
	assert_int_equal(spawn_wait(pid, 200, &st), 1);
	assert_true((int64_t)clock_ms() - t0 >= 200);
	assert_true((int64_t)clock_ms() - t0 < 5000);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	spawn_status_text(st, text, sizeof(text));
	assert_non_null(strstr(text, "killed by signal 9"));

	o.argv = quick;
	if ((pid = spawn_start(&o, err, sizeof(err))) == -1)
		fail_msg("%s", err);
	assert_int_equal(spawn_wait(pid, 5000, &st), 0);
	assert_true(WIFEXITED(st));
	assert_string_equal(spawn_status_text(st, text, sizeof(text)),
	    "exited with status 3");

	/* spawn_poll() reaps what has ended. */
	if ((pid = spawn_start(&o, err, sizeof(err))) == -1)
		fail_msg("%s", err);
	t0 = (int64_t)clock_ms();
	while (spawn_poll(pid, &st) == 0 && (int64_t)clock_ms() - t0 < 5000)
		usleep(10 * 1000);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	assert_int_equal(spawn_poll(pid, &st), -1);
	assert_no_children();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_failure),
		cmocka_unit_test(test_fds_placed),
		cmocka_unit_test(test_envp),
		cmocka_unit_test(test_fds_crossed),
		cmocka_unit_test(test_fds_std_closed),
		cmocka_unit_test(test_signals_reset),
		cmocka_unit_test(test_close_others),
		cmocka_unit_test(test_child_main),
		cmocka_unit_test(test_parent_death),
		cmocka_unit_test(test_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
