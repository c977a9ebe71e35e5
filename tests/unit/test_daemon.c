/* SPDX-License-Identifier: ISC */
/*
 * test_daemon.c - pid files (pidfile.h) (atomic, 0644, refused when they name a live
 * cshuttle, taken over when stale, removed only by their owner) and -D's
 * report from the background process to the waiting parent (exit code and
 * the last error line passed through; "up" is exit 0; a background
 * process that dies without a word is reported too).
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "daemon.h"
#include "pidfile.h"
#include "log.h"

static char	dir[PATH_MAX];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_daemon.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	DIR		*d;
	struct dirent	*e;
	char		 p[PATH_MAX + 300];

	(void)state;
	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	return rmdir(dir);
}

static void
put(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
nfiles(void)
{
	DIR		*d = opendir(dir);
	struct dirent	*e;
	int		 n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
test_write_read(void **state)
{
	char		path[PATH_MAX + 16], err[256];
	struct stat	st;
	mode_t		old;

	(void)state;
	snprintf(path, sizeof(path), "%s/cs.pid", dir);
	assert_int_equal(pidfile_read(path), -1);		/* missing */
	/* 0644 whatever the umask. */
	old = umask(077);
	assert_int_equal(pidfile_write(path, 4242, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(pidfile_read(path), 4242);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* Atomic: no temporary file left beside it; a rewrite replaces. */
	assert_int_equal(nfiles(), 1);
	assert_int_equal(pidfile_write(path, 4343, err, sizeof(err)), 0);
	assert_int_equal(pidfile_read(path), 4343);
	assert_int_equal(nfiles(), 1);
	/* A directory that does not exist: an error naming the file. */
	snprintf(path, sizeof(path), "%s/no/such.pid", dir);
	assert_int_equal(pidfile_write(path, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
}

static void
test_read_garbage(void **state)
{
	char	path[PATH_MAX + 16];

	(void)state;
	snprintf(path, sizeof(path), "%s/g.pid", dir);
	put(path, "");
	assert_int_equal(pidfile_read(path), -1);
	put(path, "abc\n");
	assert_int_equal(pidfile_read(path), -1);
	put(path, "-5\n");
	assert_int_equal(pidfile_read(path), -1);
	put(path, "0\n");
	assert_int_equal(pidfile_read(path), -1);
	put(path, "12x\n");
	assert_int_equal(pidfile_read(path), -1);
	put(path, "99999999999999\n");
	assert_int_equal(pidfile_read(path), -1);
	put(path, "77");
	assert_int_equal(pidfile_read(path), 77);
	put(path, "78\n");
	assert_int_equal(pidfile_read(path), 78);
}

/* A child that sleeps under a given name (its /proc comm). */
static pid_t
sleeper(const char *name)
{
	pid_t	pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_NAME, name);
		for (;;)
			pause();
	}
	usleep(50 * 1000);	/* the name is set */
	return pid;
}

static void
reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void
test_check(void **state)
{
	char	path[PATH_MAX + 16], err[256], line[32];
	pid_t	cs, other, dead;

	(void)state;
	snprintf(path, sizeof(path), "%s/c.pid", dir);
	/* Missing or garbage: fine. */
	assert_int_equal(pidfile_check(path, err, sizeof(err)), 0);
	put(path, "junk\n");
	assert_int_equal(pidfile_check(path, err, sizeof(err)), 0);
	/* A live process called cshuttle: refused, naming file and pid. */
	cs = sleeper("cshuttle");
	snprintf(line, sizeof(line), "%d\n", (int)cs);
	put(path, line);
	assert_true(pidfile_live(cs, NULL));
	assert_int_equal(pidfile_check(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	snprintf(line, sizeof(line), "%d", (int)cs);
	assert_non_null(strstr(err, line));
	/* A live process of another name (a reused pid): stale. */
	other = sleeper("sleepy");
	snprintf(line, sizeof(line), "%d\n", (int)other);
	put(path, line);
	assert_false(pidfile_live(other, NULL));
	assert_true(pidfile_live(other, "sleepy"));
	assert_int_equal(pidfile_check(path, err, sizeof(err)), 0);
	/* A dead pid: stale. */
	dead = sleeper("cshuttle");
	reap(dead);
	snprintf(line, sizeof(line), "%d\n", (int)dead);
	put(path, line);
	assert_false(pidfile_live(dead, NULL));
	assert_int_equal(pidfile_check(path, err, sizeof(err)), 0);
	/* Our own pid (a file left by a process whose pid we got): fine. */
	snprintf(line, sizeof(line), "%d\n", (int)getpid());
	put(path, line);
	assert_int_equal(pidfile_check(path, err, sizeof(err)), 0);
	/* A process with our own name counts as cshuttle (a renamed copy). */
	{
		char	self[64] = "";
		FILE	*f = fopen("/proc/self/comm", "r");
		pid_t	twin;

		assert_non_null(f);
		assert_non_null(fgets(self, sizeof(self), f));
		fclose(f);
		self[strcspn(self, "\n")] = '\0';
		twin = sleeper(self);
		snprintf(line, sizeof(line), "%d\n", (int)twin);
		put(path, line);
		assert_int_equal(pidfile_check(path, err, sizeof(err)), -1);
		reap(twin);
	}
	reap(cs);
	reap(other);
}

static void
test_remove(void **state)
{
	char	path[PATH_MAX + 16], err[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/r.pid", dir);
	assert_int_equal(pidfile_write(path, 1234, err, sizeof(err)), 0);
	/* Not ours (any more): left alone. */
	pidfile_remove(path, 1235);
	assert_int_equal(pidfile_read(path), 1234);
	pidfile_remove(path, 1234);
	assert_int_equal(access(path, F_OK), -1);
	pidfile_remove(path, 1234);	/* gone already: no harm */
}

static void
test_path(void **state)
{
	char	abs[PATH_MAX], cwd[PATH_MAX], want[PATH_MAX + 16], err[256];

	(void)state;
	assert_int_equal(pidfile_path("/run/x.pid", abs, sizeof(abs), err, sizeof(err)), 0);
	assert_string_equal(abs, "/run/x.pid");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(pidfile_path("x.pid", abs, sizeof(abs), err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/x.pid", cwd);
	assert_string_equal(abs, want);
	assert_int_equal(pidfile_path("x.pid", abs, 4, err, sizeof(err)), -1);
}

/*
 * -D: run `how` in a background process of a forked "command"; return
 * the command's exit status, its stderr in out.
 */
enum how { HOW_READY, HOW_FAIL, HOW_DIE };

static int
detach_run(enum how how, char *out, size_t outlen)
{
	int	p[2], status;
	pid_t	cmd;
	ssize_t	n;
	size_t	len = 0;
	char	err[256];

	assert_int_equal(pipe(p), 0);
	cmd = fork();
	assert_true(cmd >= 0);
	if (cmd == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		close(p[1]);
		log_init("test", 0);
		if (daemon_detach(err, sizeof(err)) != 0)
			_exit(99);
		/* The background process: stdio is /dev/null, cwd is /. */
		if (getcwd(err, sizeof(err)) == NULL || strcmp(err, "/") != 0)
			_exit(98);
		if (!daemon_detached())
			_exit(97);
		switch (how) {
		case HOW_READY:
			daemon_ready();
			daemon_failed(5);	/* too late: ignored */
			_exit(0);
		case HOW_FAIL:
			log_error("first problem");
			log_warn("a warning is no error");
			log_error("cannot connect to 192.0.2.1 port 22");
			daemon_failed(3);
			_exit(3);
		case HOW_DIE:
			raise(SIGKILL);
		}
		_exit(96);
	}
	close(p[1]);
	while ((n = read(p[0], out + len, outlen - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(cmd, &status, 0), cmd);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_detach(void **state)
{
	char	out[2048];

	(void)state;
	assert_int_equal(detach_run(HOW_READY, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(detach_run(HOW_FAIL, out, sizeof(out)), 3);
	assert_string_equal(out, "cshuttle: cannot connect to 192.0.2.1 port 22\n");
	assert_int_equal(detach_run(HOW_DIE, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "killed by signal 9"));
	assert_non_null(strstr(out, "before the tunnel was up"));
	/* Not detached: both calls do nothing. */
	daemon_ready();
	daemon_failed(1);
	assert_false(daemon_detached());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_read_garbage),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_detach),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
