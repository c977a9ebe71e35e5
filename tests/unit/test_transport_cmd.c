/* SPDX-License-Identifier: ISC */
/*
 * test_transport_cmd.c - the external-command transport (-e CMD,
 * ssh/transport_cmd.c): the ssh command line it builds, how it reports a
 * command that cannot run or an ssh that fails, a "remote" that echoes
 * what it is sent, and the bootstrap through it with the remote's /bin/sh
 * being dash, or missing.
 *
 * The "remote" is a directory and `ssh` is this program (tests/bootfake.h).
 * The same under busybox sh, and the stub cache shared by a dash and a
 * busybox session, need busybox-static: they are in
 * tests/integration/bootstrap_script.c.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bootfake.h"
#include "clock.h"
#include "testutil.h"
#include "transport.h"

static void
test_cmd_dash(void **state)
{
	bootfake_cmd_roundtrip("sh");
}

static void
test_cmd_unknown_arch(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512];

	bootfake_set_image(NULL, 0);
	t = bootfake_open("sh", "somewhere", &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_REMOTE);
	/* The remote has cc, but with test stubs the client never compiles. */
	assert_string_equal(err, "remote architecture 'x86_64' is not supported "
	    "(supported: fakearch), and the remote host has no C compiler (cc) to "
	    "build the stub");
	bootfake_assert_empty_dir(bootfake_xdg);
}

/* The stub is uploaded but cannot start: said so, nothing left. */
static void
test_cmd_noprobe(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512];

	bootfake_set_image(bootfake_img_noprobe, bootfake_img_noprobe_len);
	t = bootfake_open("sh", "somewhere", &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_REMOTE);
	assert_string_equal(err, "remote bootstrap failed (x86_64 stub on x86_64): "
	    "the stub cannot start: not a stub");
	bootfake_assert_empty_dir(bootfake_xdg);
	bootfake_assert_empty_dir(bootfake_tmp);
}

static void
test_cmd_tmpdir(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512], want[600], *log;

	bootfake_options(false, bootfake_rdir);
	bootfake_capture_begin();
	t = bootfake_open("sh", "somewhere", &fail, err, sizeof(err));
	log = bootfake_capture_end();
	if (t == NULL)
		fail_msg("open failed: %s", err);
	snprintf(want, sizeof(want), "stub started on the remote host from %s\n", bootfake_rdir);
	bootfake_assert_contains(log, want);
	free(log);
	bootfake_roundtrip(t, 1000);
	t->ops->free(t);
	bootfake_assert_empty_dir(bootfake_rdir);
	bootfake_assert_empty_dir(bootfake_xdg);

	/* A missing one: the reason, nothing left. */
	bootfake_options(false, "/nonexistent/cs dir");
	t = bootfake_open("sh", "somewhere", &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_REMOTE);
	assert_string_equal(err, "remote bootstrap failed (x86_64 stub on x86_64): "
	    "--remote-tmpdir /nonexistent/cs dir is not a writable directory");
	bootfake_assert_empty_dir(bootfake_xdg);
	bootfake_assert_empty_dir(bootfake_tmp);
}

/* No usable cache: a warning, and the stub still starts. */
static void
test_cmd_cache_unusable(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512], want[600], file[400], *log;

	snprintf(file, sizeof(file), "%s/cachefile", bootfake_root);
	assert_int_equal(close(open(file, O_CREAT | O_WRONLY, 0600)), 0);
	setenv("XDG_CACHE_HOME", file, 1);
	bootfake_options(true, NULL);
	bootfake_capture_begin();
	t = bootfake_open("sh", "somewhere", &fail, err, sizeof(err));
	log = bootfake_capture_end();
	if (t == NULL)
		fail_msg("open failed: %s", err);
	snprintf(want, sizeof(want), "remote: cannot keep the stub in %s/cshuttle "
	    "(not writable, or noexec)\n", file);
	bootfake_assert_contains(log, want);
	snprintf(want, sizeof(want), "stub started on the remote host from %s\n", bootfake_xdg);
	bootfake_assert_contains(log, want);
	free(log);
	bootfake_roundtrip(t, 1000);
	t->ops->free(t);
	bootfake_assert_empty_dir(bootfake_xdg);
	unlink(file);
}

static void
test_cmd_no_bin_sh(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512];

	t = bootfake_open("nosh", "somewhere", &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_REMOTE);
	if (strncmp(err, "remote has no /bin/sh (exit status 127): ", 41) != 0 ||
	    strstr(err, "/nonexistent/sh") == NULL)
		fail_msg("unexpected message: %s", err);
}

static void
test_cmd_argv(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	struct transport_open_opts o;
	char			 err[512], path[400], cmd[8192], buf[1024];
	FILE			*f;
	size_t			 n;

	snprintf(path, sizeof(path), "%s/args", bootfake_root);
	setenv("FAKE_SSH_ARGS", path, 1);
	bootfake_ssh_cmd("sh", cmd, sizeof(cmd));
	t = transport_cmd_open(cmd, "bob@[fd00::1]:2200", "/etc/my config", NULL, &fail, err,
	    sizeof(err));
	if (t == NULL)
		fail_msg("open failed: %s", err);
	t->ops->free(t);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	assert_string_equal(buf, "-F\n/etc/my config\n-l\nbob\n-p\n2200\n--\nfd00::1\n");

	/* --no-cmd-delimiter (sshuttle's): the same without "--". */
	memset(&o, 0, sizeof(o));
	o.no_cmd_delimiter = true;
	t = transport_cmd_open(cmd, "bob@[fd00::1]:2200", NULL, &o, &fail, err,
	    sizeof(err));
	if (t == NULL)
		fail_msg("open failed: %s", err);
	t->ops->free(t);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	assert_string_equal(buf, "-l\nbob\n-p\n2200\nfd00::1\n");
}

static void
test_cmd_cannot_run(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512];

	t = transport_cmd_open("/nonexistent/ssh -v", "host", NULL, NULL, &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_CONNECT);
	assert_non_null(strstr(err, "cannot run '/nonexistent/ssh'"));
	t = transport_cmd_open("ssh", "-oProxyCommand=x", NULL, NULL, &fail, err,
	    sizeof(err));
	assert_null(t);
}

static void
test_cmd_ssh_failure(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512];

	/* What ssh does when the key is refused: message, exit 255. */
	t = transport_cmd_open("sh -c 'echo \"me@h: Permission denied (publickey).\" >&2; "
	    "exit 255'", "h", NULL, NULL, &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_AUTH);
	assert_non_null(strstr(err, "exit status 255"));
	assert_non_null(strstr(err, "Permission denied"));
	t = transport_cmd_open("sh -c 'echo \"Host key verification failed.\" >&2; exit 255'",
	    "h", NULL, NULL, &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_HOSTKEY);
}

/* Open through `cmd`, which echoes: fails at once, saying so. */
static void
echo_fails(const char *cmd)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512];
	uint64_t		 start = clock_ms();

	t = transport_cmd_open(cmd, "h", NULL, NULL, &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_REMOTE);
	assert_string_equal(err, "the remote echoes what it is sent: is -e running ssh?");
	if (clock_ms() - start > 5000)
		fail_msg("%s: found out after %llu ms", cmd,
		    (unsigned long long)(clock_ms() - start));
}

/*
 * A command that ignores the remote command and echoes its input, and a
 * terminal's echo (ssh -tt) while the remote side has not read anything
 * yet: both give the client's first line back, and the open fails at
 * once instead of after a minute of waiting for the bootstrap.
 */
static void
test_cmd_echo(void **state)
{
	echo_fails("sh -c 'exec cat' --");
	test_need("script", "bsdutils");
	echo_fails("sh -c 'exec script -qfec \"exec sleep 20\" /dev/null' --");
}

int
main(int argc, char **argv)
{
#define DIRS(f)	cmocka_unit_test_setup_teardown(f, bootfake_setup, bootfake_teardown)
	const struct CMUnitTest tests[] = {
		DIRS(test_cmd_dash),
		DIRS(test_cmd_unknown_arch),
		DIRS(test_cmd_noprobe),
		DIRS(test_cmd_tmpdir),
		DIRS(test_cmd_cache_unusable),
		DIRS(test_cmd_no_bin_sh),
		DIRS(test_cmd_argv),
		DIRS(test_cmd_cannot_run),
		DIRS(test_cmd_ssh_failure),
		DIRS(test_cmd_echo),
	};
#undef DIRS
	int	status;

	if (bootfake_main(argc, argv, "test_transport_cmd", &status))
		return status;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
