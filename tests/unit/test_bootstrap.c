/* SPDX-License-Identifier: ISC */
/*
 * test_bootstrap.c - the stub bootstrap (script and client side), the
 * external-command transport, and the pure parts of the host key check.
 *
 * The bootstrap runs for real: the program doubles as a fake `ssh`
 * (argv[1] == "--fake-ssh") that ignores the host and hands the remote
 * command to a local shell, so the script runs under dash (/bin/sh) and
 * under `busybox sh`, with fake stub images (shell scripts that answer
 * the probe, remove their file and echo stdin, or misbehave on purpose)
 * and, for the "cc" mode, small C programs the host's compiler builds.
 * Each test gets a private directory holding what stands in for
 * $XDG_RUNTIME_DIR, $TMPDIR, $HOME, $XDG_CACHE_HOME and --remote-tmpdir.
 * The noexec cases need root (a private mount namespace); busybox-static
 * and root are requirements here: their absence fails the test.
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
#include "clock.h"
#include "hostkey.h"
#include "log.h"
#include "remote.h"
#include "stubs.h"
#include "transport.h"
#include "words.h"

#define BUSYBOX		"/bin/busybox"	/* busybox-static */

static char	self_exe[4096];
static int	test_verbose;
/* tmp_root holds all the others (and the captured log); see setup_dirs(). */
static char	tmp_root[256], tmp_xdg[300], tmp_tmp[300], tmp_home[300];
static char	tmp_cache[300], tmp_rdir[300];
static char	*saved_home, *saved_cache;

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

/* ---- fake stub images ---- */

/* What every image that means to run starts with: the bootstrap runs it
 * once with CSHUTTLE_STUB_PROBE set and wants exactly this answer. */
#define PROBE_OK	"[ -n \"$CSHUTTLE_STUB_PROBE\" ] && { echo CSHUTTLE-PROBE-OK; exit 0; }\n"

/* Removes its file when given one (not from the cache), then echoes. */
static const char fake_stub_echo[] = "#!/bin/sh\n" PROBE_OK
    "if [ $# -gt 0 ]; then rm -f \"$1\"; fi\nexec cat\n";
/* Says where it ran from; removes itself. */
static const char img_self[] = "#!/bin/sh\n" PROBE_OK
    "if [ $# -gt 0 ]; then rm -f \"$1\"; echo \"ran $1\"; else echo \"ran cached\"; fi\n";
/* Says where it ran from; stays (the script must not remove it). */
static const char img_keep[] = "#!/bin/sh\n" PROBE_OK "echo \"ran $*\"\n";
/* Does not answer the probe; would run fine otherwise. */
static const char img_noprobe[] = "#!/bin/sh\necho not a stub\necho second line\nexit 3\n";
static const char img_silent[] = "#!/bin/sh\nexit 0\n";
/* An ELF header for a machine that does not exist (e_machine 0xbeef):
 * execve() fails with ENOEXEC, as a stub for the wrong CPU would. */
static const char img_badelf[64] = "\177ELF\2\1\1\0\0\0\0\0\0\0\0\0\2\0\357\276\1\0\0\0";

/* For the "cc" mode: a stub in C, and one that does not compile. */
static const char src_good[] =
    "#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n"
    "int main(int argc, char **argv) {\n"
    "\tif (getenv(\"CSHUTTLE_STUB_PROBE\") != NULL) { puts(\"CSHUTTLE-PROBE-OK\"); return 0; }\n"
    "\tif (argc > 1) unlink(argv[1]);\n"
    "\tprintf(\"compiled stub ran with %d arguments\\n\", argc - 1);\n"
    "\treturn 0;\n}\n";
static const char src_bad[] =
    "int main(void)\n{\n\treturn 0\n}\n";

static struct stub_image fake_image;
static int fake_no_arch;
static const char *fake_data = fake_stub_echo;
static size_t fake_size = sizeof(fake_stub_echo) - 1;

/* --stub-cache and --remote-tmpdir of the next open. */
static struct transport_open_opts boot_opts;

static void
boot_options(bool cache, const char *tmpdir)
{
	memset(&boot_opts, 0, sizeof(boot_opts));
	boot_opts.stub_cache = cache;
	boot_opts.remote_tmpdir = tmpdir;
}

static const struct stub_image *
fake_find(const char *machine)
{
	if (fake_no_arch)
		return NULL;
	fake_image.arch = machine;
	fake_image.machines = machine;
	fake_image.data = (const unsigned char *)fake_data;
	fake_image.size = fake_size;
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

/* Fails the test (with the directory's listing) unless path is empty. */
static void
assert_empty_dir(const char *path)
{
	char	cmd[600];
	int	n = dir_entries(path);

	if (n != 0) {
		snprintf(cmd, sizeof(cmd), "ls -la '%s' >&2", path);
		(void)!system(cmd);
		fail_msg("%s: %d entries left, want none", path, n);
	}
}

static void
rm_rf(const char *path)
{
	char	cmd[600];

	if (path[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", path);
	(void)!system(cmd);
}

static void
restore_env(const char *name, char **saved)
{
	if (*saved != NULL)
		setenv(name, *saved, 1);
	else
		unsetenv(name);
	free(*saved);
	*saved = NULL;
}

static int
setup_dirs(void **state)
{
	const char	*v;

	snprintf(tmp_root, sizeof(tmp_root), "/tmp/csboot.XXXXXX");
	if (mkdtemp(tmp_root) == NULL)
		return -1;
	snprintf(tmp_xdg, sizeof(tmp_xdg), "%s/xdg", tmp_root);
	snprintf(tmp_tmp, sizeof(tmp_tmp), "%s/tmp", tmp_root);
	snprintf(tmp_home, sizeof(tmp_home), "%s/home", tmp_root);
	snprintf(tmp_cache, sizeof(tmp_cache), "%s/cache", tmp_root);
	snprintf(tmp_rdir, sizeof(tmp_rdir), "%s/rdir", tmp_root);
	if (mkdir(tmp_xdg, 0700) != 0 || mkdir(tmp_tmp, 0700) != 0 ||
	    mkdir(tmp_home, 0700) != 0 || mkdir(tmp_cache, 0700) != 0 ||
	    mkdir(tmp_rdir, 0700) != 0)
		return -1;
	saved_home = (v = getenv("HOME")) != NULL ? strdup(v) : NULL;
	saved_cache = (v = getenv("XDG_CACHE_HOME")) != NULL ? strdup(v) : NULL;
	setenv("XDG_RUNTIME_DIR", tmp_xdg, 1);
	setenv("TMPDIR", tmp_tmp, 1);
	setenv("HOME", tmp_home, 1);
	unsetenv("XDG_CACHE_HOME");
	bootstrap_set_stubs(fake_find, "fakearch");
	boot_options(false, NULL);
	fake_no_arch = 0;
	fake_data = fake_stub_echo;
	fake_size = sizeof(fake_stub_echo) - 1;
	return 0;
}

static int
teardown_dirs(void **state)
{
	/* The tests check for leftovers themselves; this only cleans up
	 * after a failed one. */
	rm_rf(tmp_root);
	restore_env("HOME", &saved_home);
	restore_env("XDG_CACHE_HOME", &saved_cache);
	unsetenv("FAKE_SSH_ARGS");
	boot_options(false, NULL);
	return 0;
}

static void
need_busybox(void)
{
	if (access(BUSYBOX, X_OK) != 0)
		fail_msg("%s is missing (install busybox-static): the bootstrap must be "
		    "tested under busybox sh", BUSYBOX);
}

static void
need_root(void)
{
	if (geteuid() != 0)
		fail_msg("needs root (noexec mounts in a private mount namespace)");
}

/* The client's log (stderr) of one open, for the messages a user sees. */
static int	cap_saved = -1, cap_fd = -1;
static char	cap_path[400];

static void
capture_begin(void)
{
	snprintf(cap_path, sizeof(cap_path), "%s/log", tmp_root);
	cap_fd = open(cap_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(cap_fd >= 0);
	cap_saved = dup(STDERR_FILENO);
	assert_true(cap_saved >= 0);
	assert_true(dup2(cap_fd, STDERR_FILENO) == STDERR_FILENO);
	/* debug: the bootstrap says where the stub runs at info or debug */
	log_init(NULL, test_verbose ? 2 : 1);
}

static char *
capture_end(void)
{
	char	*buf;
	off_t	 size;
	ssize_t	 n;

	dup2(cap_saved, STDERR_FILENO);
	close(cap_saved);
	log_init(NULL, test_verbose ? 2 : -1);
	size = lseek(cap_fd, 0, SEEK_END);
	assert_true(size >= 0);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	n = pread(cap_fd, buf, (size_t)size, 0);
	assert_int_equal(n, size);
	buf[n] = '\0';
	close(cap_fd);
	unlink(cap_path);
	if (test_verbose)
		fprintf(stderr, "---- client log ----\n%s--------------------\n", buf);
	return buf;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" not found in:\n%s", needle, hay);
}

static void
assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle) != NULL)
		fail_msg("\"%s\" unexpectedly found in:\n%s", needle, hay);
}

static struct transport *
open_fake(const char *mode, const char *remote, enum transport_fail *fail, char *err,
    size_t errlen)
{
	char	cmd[8192];

	snprintf(cmd, sizeof(cmd), "'%s' --fake-ssh %s", self_exe, mode);
	return transport_cmd_open(cmd, remote, NULL, &boot_opts, fail, err, errlen);
}

/* Write all of out and read back exactly as much, non-blocking both ways. */
static void
roundtrip(struct transport *t, size_t total)
{
	unsigned char	*out, *in;
	size_t		 woff = 0, roff = 0, len;
	ssize_t		 n;
	int64_t		 deadline = (int64_t)clock_ms() + 60000;
	size_t		 i;

	out = malloc(total);
	in = malloc(total);
	assert_non_null(out);
	assert_non_null(in);
	for (i = 0; i < total; i++)
		out[i] = (unsigned char)(i * 7 + (i >> 11));
	while (roff < total) {
		assert_true((int64_t)clock_ms() < deadline);
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

	assert_int_equal(words_split("ssh -F cfg", &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "ssh");
	assert_string_equal(v[2], "cfg");
	assert_null(v[3]);
	words_free(v);

	assert_int_equal(words_split("  a\\ b 'c d' \"e \\\"f\\\" \\x\" g''h ", &v, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0], "a b");
	assert_string_equal(v[1], "c d");
	assert_string_equal(v[2], "e \"f\" \\x");
	assert_string_equal(v[3], "gh");
	words_free(v);

	assert_int_equal(words_split("''", &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "");
	words_free(v);

	assert_int_equal(words_split("ssh 'oops", &v, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unterminated"));
	assert_int_equal(words_split("   ", &v, &n, err, sizeof(err)), -1);
	assert_int_equal(words_split("a\\", &v, &n, err, sizeof(err)), -1);
}

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

static void
test_shquote(void **state)
{
	char	out[64];

	assert_int_equal(words_shquote("a b", out, sizeof(out)), 0);
	assert_string_equal(out, "'a b'");
	assert_int_equal(words_shquote("it's", out, sizeof(out)), 0);
	assert_string_equal(out, "'it'\\''s'");
	assert_int_equal(words_shquote("0123456789", out, 12), -1);
}

static int
parse_boot(const char *line, int *v, char *os, char *m, char *cc)
{
	return bootstrap_parse_boot(line, v, os, 32, m, 32, cc, 8);
}

static void
test_parse_boot(void **state)
{
	char	os[32], m[32], cc[8];
	int	v;

	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux x86_64 cc", &v, os, m, cc), 0);
	assert_int_equal(v, 2);
	assert_string_equal(os, "Linux");
	assert_string_equal(m, "x86_64");
	assert_string_equal(cc, "cc");
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux armv7l - ", &v, os, m, cc), 0);
	assert_string_equal(m, "armv7l");
	assert_string_equal(cc, "-");
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux riscv64 gcc", &v, os, m, cc), 0);
	assert_string_equal(cc, "gcc");
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux mips clang", &v, os, m, cc), 0);
	assert_string_equal(cc, "clang");
	/* Another version parses: the caller reports it as unsupported. */
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 3 Linux x86_64 -", &v, os, m, cc), 0);
	assert_int_equal(v, 3);

	/* The version 1 greeting (no compiler word) and other garbage. */
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 1 Linux x86_64", &v, os, m, cc), -1);
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux", &v, os, m, cc), -1);
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux x86_64 cc extra", &v, os, m, cc),
	    -1);
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux x86_64 tcc", &v, os, m, cc), -1);
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux x86_64 /usr/bin/cc", &v, os, m,
	    cc), -1);
	assert_int_equal(parse_boot("CSHUTTLE-BOOT x Linux x86_64 cc", &v, os, m, cc), -1);
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux x/../y cc", &v, os, m, cc), -1);
	assert_int_equal(parse_boot("hello", &v, os, m, cc), -1);
	/* A word longer than its buffer is refused, not truncated. */
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux "
	    "x123456789012345678901234567890123 cc", &v, os, m, cc), -1);
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
 * return its stdout (malloc'd).  Root only: with `noexec_dir` the child
 * first mounts a noexec tmpfs over that directory in a private mount
 * namespace; with `noexec_all` over /tmp, /var/tmp and /dev/shm, where it
 * then recreates the test's directories (all in /tmp) on the noexec
 * tmpfs.
 */
static char *
run_script(const char *shell, const char *input, size_t inlen, const char *noexec_dir,
    int noexec_all, int *status)
{
	static const char	*const all[] = { "/tmp", "/var/tmp", "/dev/shm" };
	const char		*again[] = { tmp_root, tmp_xdg, tmp_tmp, tmp_rdir };
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
		if (noexec_dir != NULL || noexec_all) {
			if (unshare(CLONE_NEWNS) != 0 ||
			    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
				_exit(99);
			for (i = 0; noexec_all && i < 3; i++)
				if (mount("tmpfs", all[i], "tmpfs", MS_NOEXEC, "mode=1777") != 0)
					_exit(99);
			for (i = 0; noexec_all && i < 4; i++)
				if (mkdir(again[i], 0700) != 0)
					_exit(99);
			if (noexec_dir != NULL &&
			    mount("tmpfs", noexec_dir, "tmpfs", MS_NOEXEC, "mode=0700") != 0)
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
	/* The script may exit before reading it all (errors, cache hits). */
	if (inlen > 0)
		(void)!write(in[1], input, inlen);
	close(in[1]);
	buf = malloc(cap + 1);
	assert_non_null(buf);
	while ((n = read(out[0], buf + len, cap - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(out[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
	if (test_verbose)
		fprintf(stderr, "---- script (%s) ----\n%s--------------------\n", shell, buf);
	if (WIFEXITED(*status) && WEXITSTATUS(*status) >= 98)
		fail_msg("could not set up the script's child (exit %d)", WEXITSTATUS(*status));
	return buf;
}

/*
 * The client's side of the exchange as one input: the UPLOAD line, then
 * `send` bytes of the body (mode run|cache|cc, dir "-" for none).
 */
static char *
upload_input(const void *image, size_t size, const char *hash_override, size_t send,
    const char *mode, const char *dir, size_t *len)
{
	char	hex[65], *in;

	bootstrap_sha256_hex(image, size, hex);
	in = malloc(size + 1024);
	assert_non_null(in);
	snprintf(in, 1024, "UPLOAD %zu %s %s %s\n", size,
	    hash_override ? hash_override : hex, mode, dir);
	*len = strlen(in);
	memcpy(in + *len, image, send);
	*len += send;
	return in;
}

/* Run `image` through the script in `mode` with `dir`; stdout returned. */
static char *
run_upload(const char *shell, const void *image, size_t size, const char *mode,
    const char *dir, const char *noexec_dir, int noexec_all, int *st)
{
	char	*in, *out;
	size_t	 len;

	in = upload_input(image, size, NULL, size, mode, dir, &len);
	out = run_script(shell, in, len, noexec_dir, noexec_all, st);
	free(in);
	return out;
}

static void
assert_exit(int st, int code)
{
	if (!WIFEXITED(st) || WEXITSTATUS(st) != code)
		fail_msg("script status 0x%x, want exit %d", st, code);
}

static void
script_errors(const char *shell)
{
	char	*in, *out, want[2048], boot[128];
	size_t	 len;
	int	 st;

	/* The greeting names the compiler (the host has cc). */
	snprintf(boot, sizeof(boot), "CSHUTTLE-BOOT 2 Linux ");
	out = run_script(shell, "ABORT unsupported architecture x\n",
	    strlen("ABORT unsupported architecture x\n"), NULL, 0, &st);
	assert_true(strncmp(out, boot, strlen(boot)) == 0);
	assert_non_null(strstr(out, " cc\n"));
	/* ABORT: quiet exit 0, nothing left. */
	assert_null(strstr(out, "CSHUTTLE-ERR"));
	assert_exit(st, 0);
	free(out);

	/* Wrong hash. */
	in = upload_input(img_keep, sizeof(img_keep) - 1,
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    sizeof(img_keep) - 1, "run", "-", &len);
	out = run_script(shell, in, len, NULL, 0, &st);
	assert_contains(out, "\nCSHUTTLE-ERR checksum mismatch\n");
	assert_lacks(out, "CSHUTTLE-EXEC");
	assert_exit(st, 1);
	free(out);
	free(in);
	assert_empty_dir(tmp_xdg);

	/* Short upload (the client went away). */
	in = upload_input(img_keep, sizeof(img_keep) - 1, NULL, 5, "run", "-", &len);
	out = run_script(shell, in, len, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR short upload (5 of %zu bytes)\n",
	    sizeof(img_keep) - 1);
	assert_contains(out, want);
	assert_exit(st, 1);
	free(out);
	free(in);
	assert_empty_dir(tmp_xdg);

	/* A size that is not a number. */
	out = run_script(shell, "UPLOAD x abc run -\n", strlen("UPLOAD x abc run -\n"),
	    NULL, 0, &st);
	assert_contains(out, "\nCSHUTTLE-ERR bad upload size\n");
	assert_exit(st, 1);
	free(out);

	/* A good upload runs the image with its own path as argument, from
	 * the first candidate directory, which the EXEC line names. */
	out = run_upload(shell, img_keep, sizeof(img_keep) - 1, "run", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\nran %s/.cshuttle.", tmp_xdg,
	    tmp_xdg);
	assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
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
	need_busybox();
	script_errors("busybox");
}

/* A stub that does not answer the probe is not exec'd, and not left. */
static void
script_probe(const char *shell)
{
	char	*out, k[400];
	int	 st;

	out = run_upload(shell, img_noprobe, sizeof(img_noprobe) - 1, "run", "-", NULL, 0,
	    &st);
	assert_contains(out, "\nCSHUTTLE-ERR the stub cannot start: not a stub\n");
	assert_lacks(out, "CSHUTTLE-EXEC");
	assert_lacks(out, "second line");
	assert_exit(st, 1);
	free(out);
	assert_empty_dir(tmp_xdg);

	out = run_upload(shell, img_silent, sizeof(img_silent) - 1, "run", "-", NULL, 0, &st);
	assert_contains(out, "\nCSHUTTLE-ERR the stub cannot start: no output\n");
	assert_exit(st, 1);
	free(out);
	assert_empty_dir(tmp_xdg);

	/* A binary for another machine: whatever the shell makes of it,
	 * the user learns that the stub cannot start. */
	out = run_upload(shell, img_badelf, sizeof(img_badelf), "run", "-", NULL, 0, &st);
	assert_contains(out, "\nCSHUTTLE-ERR the stub cannot start: ");
	assert_lacks(out, "CSHUTTLE-EXEC");
	assert_exit(st, 1);
	free(out);
	assert_empty_dir(tmp_xdg);

	/* The same in cache mode: nothing stored. */
	setenv("XDG_CACHE_HOME", tmp_cache, 1);
	out = run_upload(shell, img_noprobe, sizeof(img_noprobe) - 1, "cache", "-", NULL, 0,
	    &st);
	assert_contains(out, "\nCSHUTTLE-SEND\nCSHUTTLE-ERR the stub cannot start: not a stub\n");
	assert_exit(st, 1);
	free(out);
	assert_empty_dir(tmp_xdg);
	assert_int_equal(dir_entries(tmp_cache), 1);		/* the cshuttle dir */
	snprintf(k, sizeof(k), "%s/cshuttle", tmp_cache);
	assert_empty_dir(k);
}

static void
test_script_probe_dash(void **state)
{
	script_probe("sh");
}

static void
test_script_probe_busybox(void **state)
{
	need_busybox();
	script_probe("busybox");
}

/* --remote-tmpdir: tried first, checked, "~/" expanded on the remote. */
static void
script_tmpdir(const char *shell)
{
	char	*out, want[2048], dir[400];
	int	 st;

	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", tmp_rdir, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\nran %s/.cshuttle.", tmp_rdir,
	    tmp_rdir);
	assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	assert_empty_dir(tmp_rdir);
	assert_empty_dir(tmp_xdg);

	/* A directory that does not exist is an error that names it. */
	snprintf(dir, sizeof(dir), "%s/nonexistent", tmp_root);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", dir, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR --remote-tmpdir %s is not a writable "
	    "directory\n", dir);
	assert_contains(out, want);
	assert_lacks(out, "CSHUTTLE-EXEC");
	assert_exit(st, 1);
	free(out);
	assert_empty_dir(tmp_xdg);
	assert_empty_dir(tmp_tmp);

	/* A regular file is not a directory either. */
	snprintf(dir, sizeof(dir), "%s/afile", tmp_root);
	assert_int_equal(close(open(dir, O_CREAT | O_WRONLY, 0600)), 0);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", dir, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR --remote-tmpdir %s is not a writable "
	    "directory\n", dir);
	assert_contains(out, want);
	assert_exit(st, 1);
	free(out);
	unlink(dir);

	/* "~/" is the remote user's $HOME. */
	snprintf(dir, sizeof(dir), "%s/rt", tmp_home);
	assert_int_equal(mkdir(dir, 0700), 0);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", "~/rt", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\nran %s/.cshuttle.", dir, dir);
	assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	assert_empty_dir(dir);
	rmdir(dir);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", "~/rt", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR --remote-tmpdir %s is not a writable "
	    "directory\n", dir);
	assert_contains(out, want);
	assert_exit(st, 1);
	free(out);

	/* Spaces in the name survive the UPLOAD line and the quoting. */
	snprintf(dir, sizeof(dir), "%s/my  stub dir", tmp_root);
	assert_int_equal(mkdir(dir, 0700), 0);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", dir, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\nran %s/.cshuttle.", dir, dir);
	assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	assert_empty_dir(dir);
	rmdir(dir);
	assert_empty_dir(tmp_xdg);
	assert_empty_dir(tmp_tmp);
}

static void
test_script_tmpdir_dash(void **state)
{
	script_tmpdir("sh");
}

static void
test_script_tmpdir_busybox(void **state)
{
	need_busybox();
	script_tmpdir("busybox");
}

static void
script_noexec(const char *shell)
{
	char	*out, want[2048];
	int	 st;

	need_root();
	/* $XDG_RUNTIME_DIR is noexec: the stub lands in $TMPDIR. */
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", "-", tmp_xdg, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\nran %s/.cshuttle.", tmp_tmp,
	    tmp_tmp);
	assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	assert_empty_dir(tmp_tmp);

	/* A noexec --remote-tmpdir: on to the usual candidates. */
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", tmp_rdir, tmp_rdir, 0,
	    &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\nran %s/.cshuttle.", tmp_xdg,
	    tmp_xdg);
	assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	assert_empty_dir(tmp_xdg);

	/* Everything noexec: a clear error, nothing left behind. */
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", "-", NULL, 1, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR cannot execute files in %s %s /tmp "
	    "/var/tmp /dev/shm (mounted noexec?); name a directory that allows it with "
	    "--remote-tmpdir\n", tmp_xdg, tmp_tmp);
	assert_contains(out, want);
	assert_exit(st, 1);
	free(out);

	/* ... with --remote-tmpdir named first. */
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", tmp_rdir, NULL, 1, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR cannot execute files in %s %s %s /tmp "
	    "/var/tmp /dev/shm (mounted noexec?); ", tmp_rdir, tmp_xdg, tmp_tmp);
	assert_contains(out, want);
	assert_exit(st, 1);
	free(out);
}

static void
test_script_noexec_dash(void **state)
{
	script_noexec("sh");
}

static void
test_script_noexec_busybox(void **state)
{
	need_busybox();
	script_noexec("busybox");
}

/* What the cache directory holds: 0 files, or 1 named stub-<hash of img>. */
static void
assert_cache_holds(const char *k, const void *img, size_t size, ino_t *ino)
{
	char		 path[600], hex[65], *data;
	struct stat	 sb;
	FILE		*f;

	bootstrap_sha256_hex(img, size, hex);
	snprintf(path, sizeof(path), "%s/stub-%s", k, hex);
	if (stat(path, &sb) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	assert_true(S_ISREG(sb.st_mode));
	if ((sb.st_mode & 07777) != 0700)
		fail_msg("%s has mode %04o, want 0700", path, (unsigned)(sb.st_mode & 07777));
	assert_int_equal(sb.st_size, size);
	data = malloc(size + 1);
	assert_non_null(data);
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fread(data, 1, size + 1, f), size);
	fclose(f);
	assert_memory_equal(data, img, size);
	free(data);
	if (dir_entries(k) != 1)
		fail_msg("%s: %d entries, want only stub-%s", k, dir_entries(k), hex);
	if (ino != NULL)
		*ino = sb.st_ino;
}

static void
script_cache(const char *shell)
{
	char	*in, *out, want[2048], k[400], path[600];
	size_t	 len;
	ino_t	 ino, ino2;
	FILE	*f;
	int	 st;

	setenv("XDG_CACHE_HOME", tmp_cache, 1);
	snprintf(k, sizeof(k), "%s/cshuttle", tmp_cache);

	/* An older stub is there: replaced. */
	assert_int_equal(mkdir(k, 0700), 0);
	snprintf(path, sizeof(path), "%s/stub-0123", k);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);

	/* First run: the body is asked for, stored, run without argument. */
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "cache", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-SEND\nCSHUTTLE-EXEC %s\nran cached\n", k);
	assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	assert_cache_holds(k, img_self, sizeof(img_self) - 1, &ino);
	assert_empty_dir(tmp_xdg);
	assert_empty_dir(tmp_tmp);

	/* Second run: only the UPLOAD line; the cached copy runs. */
	in = upload_input(img_self, sizeof(img_self) - 1, NULL, 0, "cache", "-", &len);
	out = run_script(shell, in, len, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s cached\nran cached\n", k);
	assert_contains(out, want);
	assert_lacks(out, "CSHUTTLE-SEND");
	assert_exit(st, 0);
	free(out);
	free(in);
	assert_cache_holds(k, img_self, sizeof(img_self) - 1, &ino2);
	assert_true(ino == ino2);

	/* A corrupted copy (same size, other bytes) is replaced. */
	snprintf(path, sizeof(path), "%s/stub-", k);
	bootstrap_sha256_hex(img_self, sizeof(img_self) - 1, path + strlen(path));
	assert_non_null(f = fopen(path, "r+"));
	assert_int_equal(fseek(f, -2, SEEK_END), 0);
	fputs("X\n", f);
	fclose(f);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "cache", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-SEND\nCSHUTTLE-EXEC %s\nran cached\n", k);
	assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	assert_cache_holds(k, img_self, sizeof(img_self) - 1, NULL);

	/* Another stub (an upgrade): the old one goes. */
	out = run_upload(shell, img_keep, sizeof(img_keep) - 1, "cache", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-SEND\nCSHUTTLE-EXEC %s\nran \n", k);
	assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	assert_cache_holds(k, img_keep, sizeof(img_keep) - 1, NULL);

	/* Without $XDG_CACHE_HOME: ~/.cache. */
	unsetenv("XDG_CACHE_HOME");
	snprintf(k, sizeof(k), "%s/.cache/cshuttle", tmp_home);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "cache", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-SEND\nCSHUTTLE-EXEC %s\nran cached\n", k);
	assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	assert_cache_holds(k, img_self, sizeof(img_self) - 1, NULL);
	assert_empty_dir(tmp_xdg);
	assert_empty_dir(tmp_tmp);
}

static void
test_script_cache_dash(void **state)
{
	script_cache("sh");
}

static void
test_script_cache_busybox(void **state)
{
	need_busybox();
	script_cache("busybox");
}

/* No usable cache: a note, then the body goes to a temp file as usual. */
static void
script_cache_unusable(const char *shell)
{
	char	*out, want[2048], file[400];
	int	 st;

	/* $HOME is a file (not writable even for root): no ~/.cache. */
	snprintf(file, sizeof(file), "%s/homefile", tmp_root);
	assert_int_equal(close(open(file, O_CREAT | O_WRONLY, 0600)), 0);
	setenv("HOME", file, 1);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "cache", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-NOTE cannot keep the stub in "
	    "%s/.cache/cshuttle (not writable, or noexec)\nCSHUTTLE-SEND\n"
	    "CSHUTTLE-EXEC %s\nran %s/.cshuttle.", file, tmp_xdg, tmp_xdg);
	assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	assert_empty_dir(tmp_xdg);
	setenv("HOME", tmp_home, 1);

	/* The note does not stop the --remote-tmpdir checks. */
	setenv("XDG_CACHE_HOME", file, 1);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "cache", "/nonexistent/cs",
	    NULL, 0, &st);
	assert_contains(out, "\nCSHUTTLE-SEND\nCSHUTTLE-ERR --remote-tmpdir /nonexistent/cs "
	    "is not a writable directory\n");
	assert_exit(st, 1);
	free(out);
	unlink(file);

	/* A noexec cache directory. */
	need_root();
	setenv("XDG_CACHE_HOME", tmp_cache, 1);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "cache", tmp_rdir, tmp_cache,
	    0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-NOTE cannot keep the stub in "
	    "%s/cshuttle (not writable, or noexec)\nCSHUTTLE-SEND\n"
	    "CSHUTTLE-EXEC %s\nran %s/.cshuttle.", tmp_cache, tmp_rdir, tmp_rdir);
	assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	assert_empty_dir(tmp_rdir);
	assert_empty_dir(tmp_cache);
	assert_empty_dir(tmp_xdg);
}

static void
test_script_cache_unusable_dash(void **state)
{
	script_cache_unusable("sh");
}

static void
test_script_cache_unusable_busybox(void **state)
{
	need_busybox();
	script_cache_unusable("busybox");
}

/* Mode cc: the remote compiles the source it is sent. */
static void
script_cc(const char *shell)
{
	char	*out, want[2048], *line, *eol;
	int	 st;

	out = run_upload(shell, src_good, sizeof(src_good) - 1, "cc", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\ncompiled stub ran with 1 "
	    "arguments\n", tmp_xdg);
	assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	/* The source is gone, the binary removed itself, the compiler's
	 * temporary files ($TMPDIR) are gone. */
	assert_empty_dir(tmp_xdg);
	assert_empty_dir(tmp_tmp);

	out = run_upload(shell, src_good, sizeof(src_good) - 1, "cc", tmp_rdir, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\ncompiled stub ran", tmp_rdir);
	assert_contains(out, want);
	free(out);
	assert_empty_dir(tmp_rdir);

	/* A syntax error: the compiler's error line, nothing left. */
	out = run_upload(shell, src_bad, sizeof(src_bad) - 1, "cc", "-", NULL, 0, &st);
	assert_contains(out, "\nCSHUTTLE-ERR compiling the stub with cc failed: ");
	assert_lacks(out, "CSHUTTLE-EXEC");
	assert_exit(st, 1);
	line = strstr(out, "CSHUTTLE-ERR");
	eol = strchr(line, '\n');
	assert_non_null(eol);
	*eol = '\0';
	/* gcc: ".../.cshuttle.XXXXXX:3:17: error: expected ';' before '}' token" */
	assert_contains(line, "error");
	assert_contains(line, ":3:");
	assert_contains(line, "expected");
	free(out);
	assert_empty_dir(tmp_xdg);
	assert_empty_dir(tmp_tmp);
}

static void
test_script_cc_dash(void **state)
{
	script_cc("sh");
}

static void
test_script_cc_busybox(void **state)
{
	need_busybox();
	script_cc("busybox");
}

/* ---- transport_cmd + bootstrap ---- */

static void
cmd_roundtrip(const char *mode)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512], want[600], *log;

	capture_begin();
	t = open_fake(mode, "user@somewhere:2222", &fail, err, sizeof(err));
	log = capture_end();
	if (t == NULL)
		fail_msg("open failed: %s", err);
	assert_int_equal(fail, TRANSPORT_F_NONE);
	assert_int_equal(t->peer.family, 0);
	snprintf(want, sizeof(want), "uploading the x86_64 stub (%zu bytes)\n",
	    sizeof(fake_stub_echo) - 1);
	assert_contains(log, want);
	snprintf(want, sizeof(want), "stub started on the remote host from %s\n", tmp_xdg);
	assert_contains(log, want);
	free(log);
	roundtrip(t, 100);
	/* The stub removed its file before doing anything else. */
	assert_empty_dir(tmp_xdg);
	roundtrip(t, 3 * 1024 * 1024 + 17);
	t->ops->free(t);
	assert_empty_dir(tmp_xdg);
	assert_empty_dir(tmp_tmp);
}

static void
test_cmd_dash(void **state)
{
	cmd_roundtrip("sh");
}

static void
test_cmd_busybox(void **state)
{
	need_busybox();
	cmd_roundtrip("busybox");
}

static void
test_cmd_unknown_arch(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512];

	fake_no_arch = 1;
	t = open_fake("sh", "somewhere", &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_REMOTE);
	/* The remote has cc, but with test stubs the client never compiles. */
	assert_string_equal(err, "remote architecture 'x86_64' is not supported "
	    "(supported: fakearch), and the remote host has no C compiler (cc) to "
	    "build the stub");
	assert_empty_dir(tmp_xdg);
}

/* The stub is uploaded but cannot start: said so, nothing left. */
static void
test_cmd_noprobe(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512];

	fake_data = img_noprobe;
	fake_size = sizeof(img_noprobe) - 1;
	t = open_fake("sh", "somewhere", &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_REMOTE);
	assert_string_equal(err, "remote bootstrap failed (x86_64 stub on x86_64): "
	    "the stub cannot start: not a stub");
	assert_empty_dir(tmp_xdg);
	assert_empty_dir(tmp_tmp);
}

static void
test_cmd_tmpdir(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512], want[600], *log;

	boot_options(false, tmp_rdir);
	capture_begin();
	t = open_fake("sh", "somewhere", &fail, err, sizeof(err));
	log = capture_end();
	if (t == NULL)
		fail_msg("open failed: %s", err);
	snprintf(want, sizeof(want), "stub started on the remote host from %s\n", tmp_rdir);
	assert_contains(log, want);
	free(log);
	roundtrip(t, 1000);
	t->ops->free(t);
	assert_empty_dir(tmp_rdir);
	assert_empty_dir(tmp_xdg);

	/* A missing one: the reason, nothing left. */
	boot_options(false, "/nonexistent/cs dir");
	t = open_fake("sh", "somewhere", &fail, err, sizeof(err));
	assert_null(t);
	assert_int_equal(fail, TRANSPORT_F_REMOTE);
	assert_string_equal(err, "remote bootstrap failed (x86_64 stub on x86_64): "
	    "--remote-tmpdir /nonexistent/cs dir is not a writable directory");
	assert_empty_dir(tmp_xdg);
	assert_empty_dir(tmp_tmp);
}

static void
test_cmd_cache(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512], want[600], k[400], *log;
	ino_t			 ino, ino2;
	int			 i;

	setenv("XDG_CACHE_HOME", tmp_cache, 1);
	snprintf(k, sizeof(k), "%s/cshuttle", tmp_cache);
	boot_options(true, NULL);
	for (i = 0; i < 2; i++) {
		capture_begin();
		t = open_fake(i == 0 ? "sh" : "busybox", "somewhere", &fail, err, sizeof(err));
		log = capture_end();
		if (t == NULL)
			fail_msg("open %d failed: %s", i, err);
		if (i == 0) {
			snprintf(want, sizeof(want), "uploading the x86_64 stub (%zu bytes) "
			    "into the remote cache\n", sizeof(fake_stub_echo) - 1);
			assert_contains(log, want);
			assert_lacks(log, "using the cached");
		} else {
			snprintf(want, sizeof(want), "using the cached x86_64 stub in %s\n", k);
			assert_contains(log, want);
			assert_lacks(log, "uploading");
		}
		snprintf(want, sizeof(want), "stub started on the remote host from %s\n", k);
		assert_contains(log, want);
		free(log);
		roundtrip(t, 64 * 1024 + 3);
		t->ops->free(t);
		assert_cache_holds(k, fake_stub_echo, sizeof(fake_stub_echo) - 1,
		    i == 0 ? &ino : &ino2);
	}
	/* The second session ran the very file the first one stored. */
	assert_true(ino == ino2);
	assert_empty_dir(tmp_xdg);
	assert_empty_dir(tmp_tmp);
}

/* No usable cache: a warning, and the stub still starts. */
static void
test_cmd_cache_unusable(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512], want[600], file[400], *log;

	snprintf(file, sizeof(file), "%s/cachefile", tmp_root);
	assert_int_equal(close(open(file, O_CREAT | O_WRONLY, 0600)), 0);
	setenv("XDG_CACHE_HOME", file, 1);
	boot_options(true, NULL);
	capture_begin();
	t = open_fake("sh", "somewhere", &fail, err, sizeof(err));
	log = capture_end();
	if (t == NULL)
		fail_msg("open failed: %s", err);
	snprintf(want, sizeof(want), "remote: cannot keep the stub in %s/cshuttle "
	    "(not writable, or noexec)\n", file);
	assert_contains(log, want);
	snprintf(want, sizeof(want), "stub started on the remote host from %s\n", tmp_xdg);
	assert_contains(log, want);
	free(log);
	roundtrip(t, 1000);
	t->ops->free(t);
	assert_empty_dir(tmp_xdg);
	unlink(file);
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
	char			 err[512], path[400], cmd[8192], buf[1024];
	FILE			*f;
	size_t			 n;

	snprintf(path, sizeof(path), "%s/args", tmp_root);
	setenv("FAKE_SSH_ARGS", path, 1);
	snprintf(cmd, sizeof(cmd), "'%s' --fake-ssh sh", self_exe);
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
	char		 path[400], out[256];
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
#define DIRS(f)	cmocka_unit_test_setup_teardown(f, setup_dirs, teardown_dirs)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_words),
		cmocka_unit_test(test_split_remote),
		cmocka_unit_test(test_shquote),
		cmocka_unit_test(test_parse_boot),
		cmocka_unit_test(test_sha256_hex),
		cmocka_unit_test(test_script_is_portable),
		DIRS(test_script_errors_dash),
		DIRS(test_script_errors_busybox),
		DIRS(test_script_probe_dash),
		DIRS(test_script_probe_busybox),
		DIRS(test_script_tmpdir_dash),
		DIRS(test_script_tmpdir_busybox),
		DIRS(test_script_noexec_dash),
		DIRS(test_script_noexec_busybox),
		DIRS(test_script_cache_dash),
		DIRS(test_script_cache_busybox),
		DIRS(test_script_cache_unusable_dash),
		DIRS(test_script_cache_unusable_busybox),
		DIRS(test_script_cc_dash),
		DIRS(test_script_cc_busybox),
		DIRS(test_cmd_dash),
		DIRS(test_cmd_busybox),
		DIRS(test_cmd_unknown_arch),
		DIRS(test_cmd_noprobe),
		DIRS(test_cmd_tmpdir),
		DIRS(test_cmd_cache),
		DIRS(test_cmd_cache_unusable),
		DIRS(test_cmd_no_bin_sh),
		DIRS(test_cmd_argv),
		DIRS(test_cmd_cannot_run),
		DIRS(test_cmd_ssh_failure),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_host_matches),
		DIRS(test_known_types),
	};
#undef DIRS
	ssize_t	n;

	if (argc >= 3 && strcmp(argv[1], "--fake-ssh") == 0)
		return fake_ssh_main(argc, argv);
	if ((n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1)) <= 0)
		return 1;
	self_exe[n] = '\0';
	signal(SIGPIPE, SIG_IGN);
	test_verbose = getenv("TEST_VERBOSE") != NULL;
	log_init("test_bootstrap", test_verbose ? 2 : -1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
