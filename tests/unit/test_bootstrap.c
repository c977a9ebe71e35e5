/*
 * test_bootstrap.c - the stub bootstrap (script and client side), the
 * external-command transport, and the pure parts of the host key check.
 *
 * The bootstrap runs for real: the program doubles as a fake `ssh`
 * (argv[1] == "--fake-ssh") that ignores the host and hands the remote
 * command to a local shell, so the script runs under dash (/bin/sh) and
 * under `busybox sh`, with a fake stub image (a shell script that removes
 * its file and echoes stdin).  Temporary directories stand in for
 * $XDG_RUNTIME_DIR and $TMPDIR; the noexec case needs root (a private
 * mount namespace) and is skipped otherwise.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "bootstrap.h"
#include "hostkey.h"
#include "log.h"
#include "stubs.h"
#include "transport.h"
#include "util_io.h"

#define BUSYBOX		"/bin/busybox"	/* busybox-static */

static char	self_exe[4096];
static char	tmp_xdg[256], tmp_tmp[256];

/* ---- fake ssh ---- */

/*
 * --fake-ssh MODE ARGS... : MODE is "sh" (remote /bin/sh is dash),
 * "busybox" (remote /bin/sh is busybox sh) or "nosh" (there is no
 * /bin/sh).  The last argument is the remote command, run by a "login
 * shell" (dash) as sshd would.  With $FAKE_SSH_ARGS set, the arguments
 * are written there first.
 */
static int
fake_ssh_main(int argc, char **argv)
{
	const char	*mode = argv[2], *cmd = argv[argc - 1], *log = getenv("FAKE_SSH_ARGS");
	const char	*prefix = "exec /bin/sh -c ";
	char		*rewritten;
	FILE		*f;
	int		 i;

	if (log != NULL && (f = fopen(log, "w")) != NULL) {
		for (i = 3; i < argc - 1; i++)
			fprintf(f, "%s\n", argv[i]);
		fclose(f);
	}
	if ((rewritten = malloc(strlen(cmd) + 64)) == NULL)
		return 255;
	if (strcmp(mode, "sh") == 0)
		strcpy(rewritten, cmd);
	else if (strncmp(cmd, prefix, strlen(prefix)) != 0)
		return 255;
	else
		sprintf(rewritten, "exec %s -c %s",
		    strcmp(mode, "busybox") == 0 ? BUSYBOX " sh" : "/nonexistent/sh",
		    cmd + strlen(prefix));
	execl("/bin/sh", "sh", "-c", rewritten, (char *)NULL);
	return 255;
}

/* ---- fake stub table ---- */

static const char fake_stub_echo[] = "#!/bin/sh\nrm -f \"$1\"\nexec cat\n";
static struct stub_image fake_image;
static int fake_no_arch;

static const struct stub_image *
fake_find(const char *machine)
{
	if (fake_no_arch)
		return NULL;
	fake_image.arch = machine;
	fake_image.machines = machine;
	fake_image.data = (const unsigned char *)fake_stub_echo;
	fake_image.size = sizeof(fake_stub_echo) - 1;
	return &fake_image;
}

/* ---- helpers ---- */

static int
dir_entries(const char *path)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int
setup_dirs(void **state)
{
	snprintf(tmp_xdg, sizeof(tmp_xdg), "/tmp/csboot-xdg.XXXXXX");
	snprintf(tmp_tmp, sizeof(tmp_tmp), "/tmp/csboot-tmp.XXXXXX");
	if (mkdtemp(tmp_xdg) == NULL || mkdtemp(tmp_tmp) == NULL)
		return -1;
	setenv("XDG_RUNTIME_DIR", tmp_xdg, 1);
	setenv("TMPDIR", tmp_tmp, 1);
	bootstrap_set_stubs(fake_find, "fakearch");
	fake_no_arch = 0;
	return 0;
}

static int
teardown_dirs(void **state)
{
	/* Empty by the time we get here when the test passed. */
	rmdir(tmp_xdg);
	rmdir(tmp_tmp);
	unsetenv("FAKE_SSH_ARGS");
	return 0;
}

static struct transport *
open_fake(const char *mode, const char *remote, enum transport_fail *fail, char *err,
    size_t errlen)
{
	char	cmd[8192];

	snprintf(cmd, sizeof(cmd), "'%s' --fake-ssh %s", self_exe, mode);
	return transport_cmd_open(cmd, remote, NULL, 0, fail, err, errlen);
}

/* Write all of out and read back exactly as much, non-blocking both ways. */
static void
roundtrip(struct transport *t, size_t total)
{
	unsigned char	*out, *in;
	size_t		 woff = 0, roff = 0, len;
	ssize_t		 n;
	int64_t		 deadline = io_now_ms() + 60000;
	size_t		 i;

	out = malloc(total);
	in = malloc(total);
	assert_non_null(out);
	assert_non_null(in);
	for (i = 0; i < total; i++)
		out[i] = (unsigned char)(i * 7 + (i >> 11));
	while (roff < total) {
		assert_true(io_now_ms() < deadline);
		while (woff < total) {
			len = total - woff < TRANSPORT_MAX_WRITE ? total - woff : TRANSPORT_MAX_WRITE;
			n = transport_write(t, out + woff, len);
			if (n == TRANSPORT_AGAIN)
				break;
			assert_true(n > 0);
			woff += (size_t)n;
		}
		for (;;) {
			n = transport_read(t, in + roff, total - roff);
			if (n == TRANSPORT_AGAIN)
				break;
			assert_true(n > 0);
			roff += (size_t)n;
			if (roff == total)
				break;
		}
		t->ops->service(t);
		if (roff < total)
			(void)bootstrap_wait(t, deadline, 100);
	}
	assert_memory_equal(in, out, total);
	free(out);
	free(in);
}

/* ---- pure helpers ---- */

static void
test_split_words(void **state)
{
	char	**v, err[128];
	int	  n;

	assert_int_equal(io_split_words("ssh -F cfg", &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "ssh");
	assert_string_equal(v[2], "cfg");
	assert_null(v[3]);
	io_free_words(v);

	assert_int_equal(io_split_words("  a\\ b 'c d' \"e \\\"f\\\" \\x\" g''h ", &v, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0], "a b");
	assert_string_equal(v[1], "c d");
	assert_string_equal(v[2], "e \"f\" \\x");
	assert_string_equal(v[3], "gh");
	io_free_words(v);

	assert_int_equal(io_split_words("''", &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "");
	io_free_words(v);

	assert_int_equal(io_split_words("ssh 'oops", &v, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unterminated"));
	assert_int_equal(io_split_words("   ", &v, &n, err, sizeof(err)), -1);
	assert_int_equal(io_split_words("a\\", &v, &n, err, sizeof(err)), -1);
}

static void
test_split_remote(void **state)
{
	char	u[64], h[64], p[16], err[128];

	assert_int_equal(io_split_remote("host", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), 0);
	assert_string_equal(u, "");
	assert_string_equal(h, "host");
	assert_string_equal(p, "");
	assert_int_equal(io_split_remote("me@host:2222", u, sizeof(u), h, sizeof(h), p,
	    sizeof(p), err, sizeof(err)), 0);
	assert_string_equal(u, "me");
	assert_string_equal(h, "host");
	assert_string_equal(p, "2222");
	assert_int_equal(io_split_remote("a@b@[fd00::1]:22", u, sizeof(u), h, sizeof(h), p,
	    sizeof(p), err, sizeof(err)), 0);
	assert_string_equal(u, "a@b");
	assert_string_equal(h, "fd00::1");
	assert_string_equal(p, "22");
	assert_int_equal(io_split_remote("fd00::1", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), 0);
	assert_string_equal(h, "fd00::1");
	assert_string_equal(p, "");
	assert_int_equal(io_split_remote("[::1]", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), 0);
	assert_string_equal(h, "::1");

	assert_int_equal(io_split_remote("host:0", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), -1);
	assert_int_equal(io_split_remote("host:x", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), -1);
	assert_int_equal(io_split_remote("-oProxyCommand=x", u, sizeof(u), h, sizeof(h), p,
	    sizeof(p), err, sizeof(err)), -1);
	assert_int_equal(io_split_remote("@host", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), -1);
	assert_int_equal(io_split_remote("[::1", u, sizeof(u), h, sizeof(h), p, sizeof(p),
	    err, sizeof(err)), -1);
}

static void
test_shquote(void **state)
{
	char	out[64];

	assert_int_equal(io_shquote("a b", out, sizeof(out)), 0);
	assert_string_equal(out, "'a b'");
	assert_int_equal(io_shquote("it's", out, sizeof(out)), 0);
	assert_string_equal(out, "'it'\\''s'");
	assert_int_equal(io_shquote("0123456789", out, 12), -1);
}

static void
test_parse_boot(void **state)
{
	char	os[32], m[32];
	int	v;

	assert_int_equal(bootstrap_parse_boot("CSHUTTLE-BOOT 1 Linux x86_64", &v, os, sizeof(os),
	    m, sizeof(m)), 0);
	assert_int_equal(v, 1);
	assert_string_equal(os, "Linux");
	assert_string_equal(m, "x86_64");
	assert_int_equal(bootstrap_parse_boot("CSHUTTLE-BOOT 2 Linux armv7l ", &v, os,
	    sizeof(os), m, sizeof(m)), 0);
	assert_int_equal(v, 2);
	assert_int_equal(bootstrap_parse_boot("CSHUTTLE-BOOT 1 Linux", &v, os, sizeof(os),
	    m, sizeof(m)), -1);
	assert_int_equal(bootstrap_parse_boot("CSHUTTLE-BOOT 1 Linux x y", &v, os, sizeof(os),
	    m, sizeof(m)), -1);
	assert_int_equal(bootstrap_parse_boot("CSHUTTLE-BOOT x Linux x86_64", &v, os,
	    sizeof(os), m, sizeof(m)), -1);
	assert_int_equal(bootstrap_parse_boot("CSHUTTLE-BOOT 1 Linux x/../y", &v, os,
	    sizeof(os), m, sizeof(m)), -1);
	assert_int_equal(bootstrap_parse_boot("hello", &v, os, sizeof(os), m, sizeof(m)), -1);
}

static void
test_sha256_hex(void **state)
{
	char	hex[65];

	bootstrap_sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_script_is_portable(void **state)
{
	const char	*s = bootstrap_script(), *c = bootstrap_command();

	/* What csh, fish and friends would mangle inside '...'. */
	assert_null(strchr(s, '\''));
	assert_null(strchr(s, '\\'));
	assert_null(strchr(s, '!'));
	assert_null(strchr(s, '\n'));
	assert_true(strncmp(c, "exec /bin/sh -c '", 17) == 0);
	assert_int_equal(strlen(c), strlen(s) + 18);
	assert_int_equal(c[strlen(c) - 1], '\'');
}

/* ---- the script, driven directly ---- */

/*
 * Run the script under `shell` with `input` on stdin (then EOF) and
 * return its stdout (malloc'd).  With `noexec_all` (root only) the child
 * first mounts noexec tmpfs over every candidate directory in a private
 * mount namespace; with `noexec_xdg` only over $XDG_RUNTIME_DIR.
 */
static char *
run_script(const char *shell, const char *input, size_t inlen, int noexec_xdg,
    int noexec_all, int *status)
{
	static const char	*const all[] = { "/tmp", "/var/tmp", "/dev/shm" };
	int			 in[2], out[2];
	pid_t			 pid;
	char			*buf;
	size_t			 len = 0, cap = 65536;
	ssize_t			 n;
	unsigned		 i;

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		if (noexec_xdg || noexec_all) {
			if (unshare(CLONE_NEWNS) != 0 ||
			    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
				_exit(99);
			/* Fresh noexec file systems over every candidate; the
			 * test directories live in /tmp, so recreate them. */
			for (i = 0; noexec_all && i < 3; i++)
				if (mount("tmpfs", all[i], "tmpfs", MS_NOEXEC, "mode=1777") != 0)
					_exit(99);
			if (noexec_all && (mkdir(tmp_xdg, 0700) != 0 || mkdir(tmp_tmp, 0700) != 0))
				_exit(99);
			if (noexec_xdg &&
			    mount("tmpfs", tmp_xdg, "tmpfs", MS_NOEXEC, "mode=0700") != 0)
				_exit(99);
		}
		if (strcmp(shell, "busybox") == 0)
			execl(BUSYBOX, "sh", "-c", bootstrap_script(), (char *)NULL);
		else
			execl("/bin/sh", "sh", "-c", bootstrap_script(), (char *)NULL);
		_exit(98);
	}
	close(in[0]);
	close(out[1]);
	if (inlen > 0)
		assert_int_equal(write(in[1], input, inlen), (ssize_t)inlen);
	close(in[1]);
	buf = malloc(cap + 1);
	assert_non_null(buf);
	while ((n = read(out[0], buf + len, cap - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(out[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
	return buf;
}

static char *
upload_input(const char *image, size_t size, const char *hash_override, size_t send,
    size_t *len)
{
	char	hex[65], *in;

	bootstrap_sha256_hex(image, size, hex);
	in = malloc(size + 256);
	assert_non_null(in);
	snprintf(in, 256, "UPLOAD %zu %s\n", size, hash_override ? hash_override : hex);
	*len = strlen(in);
	memcpy(in + *len, image, send);
	*len += send;
	return in;
}

static void
script_errors(const char *shell)
{
	static const char	 img[] = "#!/bin/sh\necho ran\n";
	char			 boot[128], *in, *out, want[256];
	size_t			 len;
	int			 st;

	snprintf(boot, sizeof(boot), "CSHUTTLE-BOOT 1 Linux ");
	/* ABORT: quiet exit 0, nothing left. */
	out = run_script(shell, "ABORT unsupported architecture x\n",
	    strlen("ABORT unsupported architecture x\n"), 0, 0, &st);
	assert_true(strncmp(out, boot, strlen(boot)) == 0);
	assert_null(strstr(out, "CSHUTTLE-ERR"));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(out);

	/* Wrong hash. */
	in = upload_input(img, sizeof(img) - 1,
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    sizeof(img) - 1, &len);
	out = run_script(shell, in, len, 0, 0, &st);
	assert_non_null(strstr(out, "\nCSHUTTLE-ERR checksum mismatch\n"));
	assert_null(strstr(out, "CSHUTTLE-EXEC"));
	assert_int_equal(WEXITSTATUS(st), 1);
	free(out);
	free(in);
	assert_int_equal(dir_entries(tmp_xdg), 0);

	/* Short upload (the client went away). */
	in = upload_input(img, sizeof(img) - 1, NULL, 5, &len);
	out = run_script(shell, in, len, 0, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR short upload (5 of %zu bytes)\n",
	    sizeof(img) - 1);
	assert_non_null(strstr(out, want));
	free(out);
	free(in);
	assert_int_equal(dir_entries(tmp_xdg), 0);

	/* A good upload runs the image with its own path as argument. */
	in = upload_input(img, sizeof(img) - 1, NULL, sizeof(img) - 1, &len);
	out = run_script(shell, in, len, 0, 0, &st);
	assert_non_null(strstr(out, "\nCSHUTTLE-EXEC\nran\n"));
	free(out);
	free(in);
	/* This image does not remove itself: exactly one file is there. */
	assert_int_equal(dir_entries(tmp_xdg), 1);
	assert_int_equal(system("rm -f \"$XDG_RUNTIME_DIR\"/.cshuttle.*"), 0);
}

static void
test_script_errors_dash(void **state)
{
	script_errors("sh");
}

static void
test_script_errors_busybox(void **state)
{
	if (access(BUSYBOX, X_OK) != 0)
		skip();
	script_errors("busybox");
}

static void
script_noexec(const char *shell)
{
	static const char	 img[] = "#!/bin/sh\necho \"ran $1\"\nrm -f \"$1\"\n";
	char			*in, *out, want[1024];
	size_t			 len;
	int			 st;

	if (geteuid() != 0) {
		skip();
		return;
	}
	in = upload_input(img, sizeof(img) - 1, NULL, sizeof(img) - 1, &len);
	/* $XDG_RUNTIME_DIR is noexec: the stub lands in $TMPDIR. */
	out = run_script(shell, in, len, 1, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC\nran %s/.cshuttle.", tmp_tmp);
	assert_non_null(strstr(out, want));
	free(out);
	assert_int_equal(dir_entries(tmp_tmp), 0);

	/* Everything noexec: a clear error, nothing left behind. */
	out = run_script(shell, in, len, 0, 1, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR cannot execute stub in %s %s /tmp "
	    "/var/tmp /dev/shm\n", tmp_xdg, tmp_tmp);
	assert_non_null(strstr(out, want));
	assert_int_equal(WEXITSTATUS(st), 1);
	free(out);
	free(in);
}

static void
test_script_noexec_dash(void **state)
{
	script_noexec("sh");
}

static void
test_script_noexec_busybox(void **state)
{
	if (access(BUSYBOX, X_OK) != 0)
		skip();
	script_noexec("busybox");
}

/* ---- transport_cmd + bootstrap ---- */

static void
cmd_roundtrip(const char *mode)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512];

	t = open_fake(mode, "user@somewhere:2222", &fail, err, sizeof(err));
	if (t == NULL)
		fail_msg("open failed: %s", err);
	assert_int_equal(fail, TRANSPORT_F_NONE);
	assert_int_equal(t->peer_family, 0);
	roundtrip(t, 100);
	/* The stub removed its file before doing anything else. */
	assert_int_equal(dir_entries(tmp_xdg), 0);
	roundtrip(t, 3 * 1024 * 1024 + 17);
	t->ops->free(t);
	assert_int_equal(dir_entries(tmp_xdg), 0);
	assert_int_equal(dir_entries(tmp_tmp), 0);
}

static void
test_cmd_dash(void **state)
{
	cmd_roundtrip("sh");
}

static void
test_cmd_busybox(void **state)
{
	if (access(BUSYBOX, X_OK) != 0)
		skip();
	cmd_roundtrip("busybox");
}

static void
test_cmd_unknown_arch(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512], want[256];

	fake_no_arch = 1;
	t = open_fake("sh", "somewhere", &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_REMOTE);
	snprintf(want, sizeof(want), "remote architecture '");
	assert_true(strncmp(err, want, strlen(want)) == 0);
	assert_non_null(strstr(err, "' is not supported (supported: fakearch)"));
	assert_int_equal(dir_entries(tmp_xdg), 0);
}

static void
test_cmd_no_bin_sh(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512];

	t = open_fake("nosh", "somewhere", &fail, err, sizeof(err));
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
	char			 err[512], path[300], cmd[8192], buf[1024];
	FILE			*f;
	size_t			 n;

	snprintf(path, sizeof(path), "%s/args", tmp_tmp);
	setenv("FAKE_SSH_ARGS", path, 1);
	snprintf(cmd, sizeof(cmd), "'%s' --fake-ssh sh", self_exe);
	t = transport_cmd_open(cmd, "bob@[fd00::1]:2200", "/etc/my config", 0, &fail, err,
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
}

static void
test_cmd_cannot_run(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512];

	t = transport_cmd_open("/nonexistent/ssh -v", "host", NULL, 0, &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_CONNECT);
	assert_non_null(strstr(err, "cannot run '/nonexistent/ssh'"));
	t = transport_cmd_open("ssh", "-oProxyCommand=x", NULL, 0, &fail, err, sizeof(err));
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
	    "exit 255'", "h", NULL, 0, &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_AUTH);
	assert_non_null(strstr(err, "exit status 255"));
	assert_non_null(strstr(err, "Permission denied"));
	t = transport_cmd_open("sh -c 'echo \"Host key verification failed.\" >&2; exit 255'",
	    "h", NULL, 0, &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_HOSTKEY);
}

/* ---- host keys ---- */

static const char kv_b64[] =
    "AAAAC3NzaC1lZDI1NTE5AAAAIHpbdBmkD8WSR2en9LgxGP8Iu1Odqt8kEjSXxIbQAWY4";
static const char kv_fp[] = "SHA256:/Fki+pIbprywzxxtUJImgd61bhF0/79GVgC924XOAtQ";
/* ssh-keygen -H of "example.org" and "[example.org]:2222" */
static const char kv_hash22[] = "|1|h7ytg/T7sO6w/U0vJQAPoeJ0CO0=|L7nN5e0Ry76u9zC8iB9jZAlPv9w=";
static const char kv_hash2222[] = "|1|Jd3MFO0ddEmCA/lwHCCFaNVkNjo=|uSOSeAI6JaqTvjcEg+RijNqM/QY=";

static void
test_fingerprint(void **state)
{
	unsigned char	blob[128];
	char		fp[80];
	int		n;

	n = EVP_DecodeBlock(blob, (const unsigned char *)kv_b64, (int)strlen(kv_b64));
	assert_true(n >= 51);
	assert_int_equal(hostkey_fingerprint(blob, 51, fp, sizeof(fp)), 0);
	assert_string_equal(fp, kv_fp);
	assert_int_equal(hostkey_fingerprint(blob, 51, fp, 20), -1);
}

static void
test_decide(void **state)
{
	static const enum sshcfg_strict all[] = { SSHCFG_STRICT_ASK, SSHCFG_STRICT_YES,
	    SSHCFG_STRICT_NO, SSHCFG_STRICT_ACCEPT_NEW };
	unsigned	i;

	for (i = 0; i < 4; i++) {
		assert_int_equal(hostkey_decide(HOSTKEY_MATCH, all[i], false), HOSTKEY_ACCEPT);
		assert_int_equal(hostkey_decide(HOSTKEY_MISMATCH, all[i], true), HOSTKEY_REFUSE);
		assert_int_equal(hostkey_decide(HOSTKEY_REVOKED, all[i], true), HOSTKEY_REFUSE);
	}
	assert_int_equal(hostkey_decide(HOSTKEY_NOTFOUND, SSHCFG_STRICT_NO, false),
	    HOSTKEY_ACCEPT_ADD);
	assert_int_equal(hostkey_decide(HOSTKEY_NOTFOUND, SSHCFG_STRICT_ACCEPT_NEW, false),
	    HOSTKEY_ACCEPT_ADD);
	assert_int_equal(hostkey_decide(HOSTKEY_NOTFOUND, SSHCFG_STRICT_ASK, true), HOSTKEY_ASK);
	assert_int_equal(hostkey_decide(HOSTKEY_NOTFOUND, SSHCFG_STRICT_ASK, false),
	    HOSTKEY_REFUSE);
	assert_int_equal(hostkey_decide(HOSTKEY_NOTFOUND, SSHCFG_STRICT_YES, true),
	    HOSTKEY_REFUSE);
}

static void
test_answer(void **state)
{
	assert_int_equal(hostkey_answer("yes", kv_fp), 1);
	assert_int_equal(hostkey_answer(" YES ", kv_fp), 1);
	assert_int_equal(hostkey_answer("no", kv_fp), 0);
	assert_int_equal(hostkey_answer(kv_fp, kv_fp), 1);
	assert_int_equal(hostkey_answer("SHA256:AAAA", kv_fp), 0);
	assert_int_equal(hostkey_answer("y", kv_fp), -1);
	assert_int_equal(hostkey_answer("", kv_fp), -1);
}

static void
test_host_matches(void **state)
{
	char	name[64];

	hostkey_lookup_name("Example.ORG", 22, name, sizeof(name));
	assert_string_equal(name, "example.org");
	assert_true(hostkey_host_matches("foo,example.org,bar", name));
	assert_true(hostkey_host_matches("EXAMPLE.org", name));
	assert_false(hostkey_host_matches("[example.org]:22", name));
	assert_true(hostkey_host_matches("*.org", name));
	assert_true(hostkey_host_matches("exampl?.org", name));
	assert_false(hostkey_host_matches("*.org,!example.*", name));
	assert_false(hostkey_host_matches("example.or", name));
	assert_true(hostkey_host_matches(kv_hash22, name));
	assert_false(hostkey_host_matches(kv_hash2222, name));

	hostkey_lookup_name("example.org", 2222, name, sizeof(name));
	assert_string_equal(name, "[example.org]:2222");
	assert_false(hostkey_host_matches("example.org", name));
	assert_true(hostkey_host_matches("[example.org]:2222", name));
	assert_true(hostkey_host_matches(kv_hash2222, name));
	assert_false(hostkey_host_matches(kv_hash22, name));
	assert_false(hostkey_host_matches("|1|garbage", name));
}

static void
test_known_types(void **state)
{
	char		 path[300], out[256];
	const char	*files[2];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/known_hosts", tmp_tmp);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "# comment\n\n"
	    "other ecdsa-sha2-nistp256 AAAA\n"
	    "@cert-authority example.org ssh-rsa AAAA\n"
	    "@revoked example.org ssh-dss AAAA\n"
	    "%s ssh-ed25519 %s\n"
	    "example.org,alias ecdsa-sha2-nistp384 AAAA\n"
	    "bad line\n"
	    "*.org ssh-ed25519 AAAA\n"
	    "[example.org]:2222 ssh-rsa AAAA", kv_hash22, kv_b64);
	fclose(f);
	files[0] = path;
	files[1] = "/nonexistent/known_hosts";
	hostkey_known_types(files, 2, "example.org", out, sizeof(out));
	assert_string_equal(out, "ssh-ed25519,ecdsa-sha2-nistp384");
	hostkey_known_types(files, 2, "[example.org]:2222", out, sizeof(out));
	assert_string_equal(out, "ssh-rsa");
	hostkey_known_types(files, 2, "nothing", out, sizeof(out));
	assert_string_equal(out, "");
	unlink(path);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_words),
		cmocka_unit_test(test_split_remote),
		cmocka_unit_test(test_shquote),
		cmocka_unit_test(test_parse_boot),
		cmocka_unit_test(test_sha256_hex),
		cmocka_unit_test(test_script_is_portable),
		cmocka_unit_test_setup_teardown(test_script_errors_dash, setup_dirs, teardown_dirs),
		cmocka_unit_test_setup_teardown(test_script_errors_busybox, setup_dirs, teardown_dirs),
		cmocka_unit_test_setup_teardown(test_script_noexec_dash, setup_dirs, teardown_dirs),
		cmocka_unit_test_setup_teardown(test_script_noexec_busybox, setup_dirs, teardown_dirs),
		cmocka_unit_test_setup_teardown(test_cmd_dash, setup_dirs, teardown_dirs),
		cmocka_unit_test_setup_teardown(test_cmd_busybox, setup_dirs, teardown_dirs),
		cmocka_unit_test_setup_teardown(test_cmd_unknown_arch, setup_dirs, teardown_dirs),
		cmocka_unit_test_setup_teardown(test_cmd_no_bin_sh, setup_dirs, teardown_dirs),
		cmocka_unit_test_setup_teardown(test_cmd_argv, setup_dirs, teardown_dirs),
		cmocka_unit_test_setup_teardown(test_cmd_cannot_run, setup_dirs, teardown_dirs),
		cmocka_unit_test_setup_teardown(test_cmd_ssh_failure, setup_dirs, teardown_dirs),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_host_matches),
		cmocka_unit_test_setup_teardown(test_known_types, setup_dirs, teardown_dirs),
	};
	ssize_t	n;

	if (argc >= 3 && strcmp(argv[1], "--fake-ssh") == 0)
		return fake_ssh_main(argc, argv);
	if ((n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1)) <= 0)
		return 1;
	self_exe[n] = '\0';
	signal(SIGPIPE, SIG_IGN);
	log_init("test_bootstrap", getenv("TEST_VERBOSE") ? 2 : -1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
